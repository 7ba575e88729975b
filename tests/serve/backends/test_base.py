"""The backend contract lives in the `Backend` Protocol: pass-through and occupancy are methods of it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from luban.core.errors import UsageError
from luban.serve.backends.base import Backend, ModelSpec, Occupancy
from luban.serve.backends.registry import BACKENDS


def test_every_registered_backend_subclasses_the_protocol() -> None:
    for name in BACKENDS:
        cls = BACKENDS.get(name)
        assert isinstance(cls, type) and Backend in cls.__mro__, name  # explicit: mypy checks each one


def test_only_the_remote_backend_passes_requests_through(tiny_model_dir: Path) -> None:
    remote = BACKENDS.get("remote")(ModelSpec("r", "http://127.0.0.1:9/v1#m", "remote"))
    assert remote.passes_through() and remote.occupancy() is None
    hf = BACKENDS.get("hf")(ModelSpec("h", str(tiny_model_dir), "hf"))
    assert not hf.passes_through()
    with pytest.raises(UsageError, match="model 'h' generates here and passes no request through"):
        asyncio.run(hf.forward("chat/completions", {}))


def test_hf_occupancy_comes_from_its_engine(tiny_model_dir: Path) -> None:
    hf = BACKENDS.get("hf")(ModelSpec("h", str(tiny_model_dir), "hf", {"device": "cpu"}))
    assert hf.occupancy() is None  # not loaded: no engine yet
    hf.load()
    try:
        assert hf.occupancy() == Occupancy(running=0, waiting=0, steps=0)
    finally:
        asyncio.run(hf.aclose())


def test_llamacpp_reports_its_queue_without_loading() -> None:
    backend = BACKENDS.get("llamacpp")(ModelSpec("g", "x.gguf", "llamacpp"))
    assert backend.occupancy() == Occupancy(running=0, waiting=0, steps=0)
