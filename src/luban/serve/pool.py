"""The models one server serves: load them all, find one by the request's `model` field.

`model` is a served id ("qwen-support") or "base:adapter" for a LoRA adapter loaded into that base.
"""

from __future__ import annotations

from luban.serve.backends.base import Backend, ModelSpec
from luban.serve.backends.registry import create_backend
from luban.serve.errors import model_not_found


class ModelPool:
    def __init__(self, specs: list[ModelSpec]) -> None:
        self.specs = specs
        self.backends: dict[str, Backend] = {}
        self.ready = False

    def load_all(self) -> None:
        """Instantiate and load every backend (blocking); `ready` turns true at the end."""
        for spec in self.specs:
            backend = create_backend(spec)
            backend.load()
            self.backends[spec.model_id] = backend
        self.ready = True

    def resolve(self, model: str) -> tuple[Backend, str | None]:
        """(backend, adapter name or None); raises the OpenAI 404 for unknown models."""
        if model in self.backends:
            return self.backends[model], None
        base, sep, adapter = model.rpartition(":")
        if sep and base in self.backends and adapter in self.backends[base].capabilities.adapters:
            return self.backends[base], adapter
        raise model_not_found(model)

    def model_ids(self) -> list[str]:
        ids: list[str] = []
        for mid, backend in self.backends.items():
            ids.append(mid)
            ids += [f"{mid}:{a}" for a in backend.capabilities.adapters]
        return ids

    async def aclose(self) -> None:
        for backend in self.backends.values():
            await backend.aclose()
