"""Backends by name. Adding one is one new module and one line here.

Entries are "module:Class" strings so that an optional backend's heavy library (onnxruntime,
llama_cpp) is imported only when a model actually uses it. Every class is built as `Class(spec)`
from a `ModelSpec` and must satisfy `luban.serve.backends.base.Backend`.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from luban.core.errors import UsageError
from luban.serve.backends.base import Backend, ModelSpec

BACKENDS: dict[str, str] = {
    "hf": "luban.serve.backends.hf:HFBackend",
    "onnx": "luban.serve.backends.onnx:OnnxBackend",
    "llamacpp": "luban.serve.backends.llamacpp:LlamaCppBackend",
    "remote": "luban.serve.backends.remote:RemoteBackend",
}


def detect_backend(source: str) -> str:
    """Guess the backend from the source: an URL is remote, a .gguf is llama.cpp, *.onnx is ONNX."""
    if source.startswith(("http://", "https://")):
        return "remote"
    p = Path(source)
    if p.suffix == ".gguf" or (p.is_dir() and any(p.glob("*.gguf"))):
        return "llamacpp"
    if p.is_dir() and any(p.glob("*.onnx")):
        return "onnx"
    return "hf"


def create_backend(spec: ModelSpec) -> Backend:
    """Instantiate (not load) the backend named in `spec.backend`."""
    if spec.backend not in BACKENDS:
        raise UsageError(f"unknown serving backend '{spec.backend}'", f"use one of: {', '.join(BACKENDS)}")
    module_name, _, cls_name = BACKENDS[spec.backend].partition(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    backend: Backend = cls(spec)
    return backend
