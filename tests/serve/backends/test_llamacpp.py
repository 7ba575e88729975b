"""GGUF backend: template rendering and UTF-8 streaming here; end to end only with llama-cpp-python.

llama-cpp-python (extra `gguf`) compiles llama.cpp from source at install time; the end-to-end test
also needs llama.cpp's converter (LLAMA_CPP_DIR). Each skip says which of the two is missing.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest

from luban.core.errors import NotFoundError, UsageError
from luban.serve.backends.base import ModelSpec
from luban.serve.backends.llamacpp import GGUFTemplate, LlamaCppBackend, Utf8Stream, find_gguf

HAVE_LLAMA_CPP = importlib.util.find_spec("llama_cpp") is not None
MSG = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "X100保修多久？"}]


def test_gguf_template_renders_like_the_hf_tokenizer(tiny_model_dir: Path, tiny_llama_dir: Path) -> None:
    from transformers import AutoTokenizer

    from luban.serve.backends.chat import render_with_tools

    tools = [{"type": "function", "function": {"name": "warranty", "parameters": {"type": "object"}}}]
    for folder in (tiny_model_dir, tiny_llama_dir):
        tok = AutoTokenizer.from_pretrained(folder)
        gguf = GGUFTemplate(tok.chat_template, tok.bos_token or "", tok.eos_token or "")
        assert render_with_tools(gguf, MSG, None) == render_with_tools(tok, MSG, None)
        assert render_with_tools(gguf, MSG, tools) == render_with_tools(tok, MSG, tools)


def test_utf8_stream_holds_back_a_split_character() -> None:
    s = Utf8Stream()
    raw = "保修".encode()
    assert s.add(raw[:2]) == ""
    assert s.add(raw[2:4]) == "保"
    assert s.add(raw[4:]) == "修"
    assert s.add(b"\xe4") == "" and s.flush() == "\ufffd"


def test_find_gguf(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="gguf"):
        find_gguf(tmp_path)
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    assert find_gguf(tmp_path) == tmp_path / "m.gguf"


@pytest.mark.skipif(HAVE_LLAMA_CPP, reason="llama-cpp-python is installed")
def test_missing_extra_is_a_one_line_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"luban\[gguf\]"):
        LlamaCppBackend(ModelSpec("m", str(tmp_path / "m.gguf"), "llamacpp")).load()


END_TO_END_SKIP = (
    "llama-cpp-python (extra gguf) is not installed: `make gguf` compiles llama.cpp (about 10 minutes on 2 "
    "cores)" if not HAVE_LLAMA_CPP else
    "converting to GGUF needs llama.cpp's convert_hf_to_gguf.py: set LLAMA_CPP_DIR"
    if not os.environ.get("LLAMA_CPP_DIR") else "")


@pytest.mark.slow
@pytest.mark.skipif(bool(END_TO_END_SKIP), reason=END_TO_END_SKIP or "runs")
def test_serve_a_gguf_of_the_tiny_model(tiny_model_dir: Path, tmp_path: Path, start_server: Any) -> None:
    import openai
    from transformers import AutoTokenizer

    from luban.compress.gguf_export import export_gguf

    gguf = tmp_path / "tiny.gguf"
    export_gguf(tiny_model_dir, gguf, "f32")
    srv = start_server([str(gguf), "--name", "tiny-gguf"])
    client = openai.OpenAI(base_url=srv.url + "/v1", api_key="none", max_retries=0, timeout=60)
    r = client.chat.completions.create(model="tiny-gguf", messages=MSG, max_tokens=6, temperature=0)
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    prompt = tok.apply_chat_template(MSG, tokenize=False, add_generation_prompt=True)
    assert r.usage.prompt_tokens == len(tok(prompt, add_special_tokens=False).input_ids)
    assert 1 <= r.usage.completion_tokens <= 6 and r.choices[0].finish_reason in ("stop", "length")
    chunks = list(client.chat.completions.create(model="tiny-gguf", messages=MSG, max_tokens=6, temperature=0,
                                                 stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == r.choices[0].message.content
    js = client.chat.completions.create(model="tiny-gguf", messages=MSG, max_tokens=12, temperature=0,
                                        response_format={"type": "json_object"})
    assert (js.choices[0].message.content or "").lstrip().startswith("{")  # the llama.cpp grammar holds
