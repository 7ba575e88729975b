"""Executors run a recipe's per-batch operators: `local` (processes on this machine), `ray` (Ray Data)."""

from __future__ import annotations

from luban.core.errors import ConfigError
from luban.data.executors.base import Executor


def get_executor(kind: str, workers: int) -> Executor:
    """The executor named `kind` ("local" or "ray") using `workers` parallel workers."""
    if kind == "local":
        from luban.data.executors.local import LocalExecutor

        return LocalExecutor(workers=workers)
    if kind == "ray":
        from luban.data.executors.ray import RayExecutor  # type: ignore[import-not-found,unused-ignore]

        return RayExecutor(workers=workers)  # type: ignore[no-any-return,unused-ignore]
    raise ConfigError(f"unknown executor '{kind}'", "use 'local' or 'ray'")
