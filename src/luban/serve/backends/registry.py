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
    "llama-server": "luban.serve.backends.llamaserver:LlamaServerBackend",
    "remote": "luban.serve.backends.remote:RemoteBackend",
}, base=Backend)


def detect_backend(source: str) -> str:
    """Guess the backend from the source: an URL is remote, a .gguf (or a folder with one) is llama.cpp's
    own `llama-server` as a supervised child (parallel slots; `llamacpp` runs it in-process one request
    at a time), *.onnx is ONNX, anything else transformers."""
    if source.startswith(("http://", "https://")):
        return "remote"
    p = Path(source)
    if p.suffix == ".gguf" or (p.is_dir() and any(p.glob("*.gguf"))):
        return "llama-server"
    if p.is_dir() and any(p.glob("*.onnx")):
        return "onnx"
    return "hf"


def create_backend(spec: ModelSpec) -> Backend:
    """Instantiate (not load) the backend named in `spec.backend` (a name above, or "module:Class")."""
    return BACKENDS.get(spec.backend)(spec)
