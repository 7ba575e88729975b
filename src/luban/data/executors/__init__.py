"""Executors run a recipe's per-batch operators: `local` (processes on this machine), `ray` (Ray Data).

Registered by name in `EXECUTORS`; a recipe's `executor:` may also name a "module:Class" of its own
package. Every class is built as `Class(workers=N)` and must satisfy `luban.data.executors.base.Executor`.
"""

from __future__ import annotations

from collections.abc import Callable

from luban.core.registry import Registry
from luban.data.executors.base import Executor

EXECUTORS: Registry[Callable[..., Executor]] = Registry("executor", {
    "local": "luban.data.executors.local:LocalExecutor",
    "ray": "luban.data.executors.ray:RayExecutor",
})


def get_executor(kind: str, workers: int) -> Executor:
    """The executor named `kind` ("local", "ray" or "module:Class") using `workers` parallel workers."""
    return EXECUTORS.get(kind)(workers=workers)
