"""The local executor: batches spread over worker processes on this machine (both cores by default).

Workers are forked once and build their operators once (pool initializer); batches travel by
pickle. At most `2 * workers` batches are in flight, so reading stays ahead of the workers without
loading the whole corpus. With one worker, or a single batch, work runs in this process: starting
processes costs more than it saves on small inputs.
"""

from __future__ import annotations

import multiprocessing as mp
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import chain
from typing import Any

from luban.data import records as R
from luban.data.executors.base import BatchResult, build_ops, run_batch
from luban.data.ops.registry import OpSpec

_worker_ops: list[Any] = []


def _init(specs: list[OpSpec]) -> None:
    global _worker_ops
    _worker_ops = build_ops(specs)


def _work(batch: list[R.Record]) -> BatchResult:
    return run_batch(_worker_ops, batch)


class LocalExecutor:
    def __init__(self, workers: int = 2) -> None:
        self.workers = max(1, workers)

    def run(self, specs: list[OpSpec], batches: Iterable[list[R.Record]]) -> Iterator[BatchResult]:
        it = iter(batches)
        first = next(it, None)
        if first is None:
            return
        second = next(it, None)
        if self.workers == 1 or second is None:
            ops = build_ops(specs)
            for batch in chain([first], [] if second is None else [second], it):
                yield run_batch(ops, batch)
            return
        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
        with ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_init, initargs=(specs,)) as pool:
            window: deque[Future[BatchResult]] = deque()
            for batch in chain([first, second], it):
                window.append(pool.submit(_work, batch))
                if len(window) >= 2 * self.workers:
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()

    def close(self) -> None:
        pass
