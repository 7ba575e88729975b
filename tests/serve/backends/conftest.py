"""Fixtures for backend tests: exported variants of the session's tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_onnx_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny Qwen2 model exported to ONNX with its KV cache (a few seconds)."""
    pytest.importorskip("onnxruntime")
    from luban.compress.onnx_export import export_onnx

    out = tmp_path_factory.mktemp("tiny-onnx")
    export_onnx(tiny_model_dir, out)
    return out
