"""export_gguf: llama.cpp's converter on a tiny model, with the GPT-2 pre-tokenizer fallback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from luban.compress.gguf_export import export_gguf, find_converter, hf_pre_tokenizer
from luban.core.errors import UsageError


def test_converter_location_is_required(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LLAMA_CPP_DIR", raising=False)
    with pytest.raises(UsageError, match="LLAMA_CPP_DIR"):
        find_converter()
    with pytest.raises(UsageError, match="no convert_hf_to_gguf.py"):
        find_converter(tmp_path)


def test_fallback_is_what_transformers_applies(tiny_model_dir: Path, tiny_llama_dir: Path, tmp_path: Path) -> None:
    assert hf_pre_tokenizer(tiny_model_dir) == "qwen2"  # transformers 5 imposes Qwen2's split on qwen2 models
    assert hf_pre_tokenizer(tiny_llama_dir) == "gpt-2"  # tokenizer.json's byte-level GPT-2 regex
    assert hf_pre_tokenizer(tmp_path) == ""


@pytest.mark.skipif(not os.environ.get("LLAMA_CPP_DIR"),
                    reason="needs llama.cpp's convert_hf_to_gguf.py (not on PyPI): set LLAMA_CPP_DIR to a "
                           "llama.cpp checkout or an unpacked llama-cpp-python sdist (its vendor/llama.cpp)")
def test_tiny_model_converts_to_gguf(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "tiny.gguf"
    stats = export_gguf(tiny_model_dir, out, "f32")
    data = out.read_bytes()
    assert data[:4] == b"GGUF"
    assert b"qwen2" in data[:4096] and b"tokenizer.chat_template" in data
    assert stats["pre_tokenizer_fallback"] == "qwen2" and stats["bytes"] == len(data)
