"""Backends by name. Adding one is one new module and one line here.

Entries are "module:Class" strings so that an optional backend's heavy library (onnxruntime,
llama_cpp) is imported only when a model actually uses it. Every class is built as `Class(spec)`
from a `ModelSpec` and must satisfy `luban.serve.backends.base.Backend`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from luban.core.registry import Registry
from luban.serve.backends.base import Backend, ModelSpec

BACKENDS: Registry[Callable[[ModelSpec], Backend]] = Registry("serving backend", {
    "hf": "luban.serve.backends.hf:HFBackend",
    "onnx": "luban.serve.backends.onnx:OnnxBackend",
    "llamacpp": "luban.serve.backends.llamacpp:LlamaCppBackend",
    "remote": "luban.serve.backends.remote:RemoteBackend",
}, base=Backend)


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
    """Instantiate (not load) the backend named in `spec.backend` (a name above, or "module:Class")."""
    return BACKENDS.get(spec.backend)(spec)
