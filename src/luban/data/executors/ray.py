"""The Ray executor: a recipe's per-batch operators on Ray Data, on one machine or a cluster.

    luban data curate recipe.yaml --executor ray        # RAY_ADDRESS picks a cluster, else a local one

Design choices:
- Ray Data does the scheduling, we do not: each window of batches becomes a Ray dataset of one row
  per batch (`from_items`, one block each) and `map_batches` runs `run_batch` on it as Ray tasks,
  `workers` at a time. `run_batch` is the same function the local executor calls, so the output
  is the same by construction — the test checks it on a real local Ray instance;
- batches and results travel as pickled bytes: records are plain dicts and `_` scratch fields
  (MinHash signatures) must come back unchanged, which a typed Arrow round trip would not promise;
- operators are built once per Ray worker process (cached by the pickled specs) — building a
  dedup operator's permutations per batch would cost more than the batch;
- memory stays bounded: only `4 * workers` batches are pulled from the readers at a time, and
  results are yielded in input order, as the executor interface requires;
- `ray` is an optional extra, imported here only; when this executor started Ray it shuts it down.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

import pyarrow as pa

from luban.core.errors import UsageError
from luban.data import records as R
from luban.data.executors.base import BatchResult, build_ops, run_batch
from luban.data.ops.registry import OpSpec

_ops_cache: dict[bytes, list[Any]] = {}


def _apply(table: pa.Table, specs: bytes) -> pa.Table:
    """Ray task body: run the recipe segment on each pickled batch of `table`."""
    ops = _ops_cache.get(specs)
    if ops is None:
        ops = _ops_cache[specs] = build_ops(pickle.loads(specs))
    results = [pickle.dumps(run_batch(ops, pickle.loads(b)), protocol=5) for b in table.column("batch").to_pylist()]
    return pa.table({"i": table.column("i"), "result": pa.array(results, type=pa.binary())})


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UsageError("the ray executor needs Ray", "pip install 'luban[ray]'") from None
    return ray


class RayExecutor:
    def __init__(self, workers: int = 2, address: str | None = None) -> None:
        self.workers = max(1, workers)
        self._ray = _import_ray()
        self._started = False
        if not self._ray.is_initialized():
            address = address or os.environ.get("RAY_ADDRESS")
            local = {} if address else {"num_cpus": self.workers}
            self._ray.init(address=address, include_dashboard=False, log_to_driver=False,
                           configure_logging=False, **local)
            self._started = True
        ctx = self._ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True
        ctx.enable_progress_bars = False

    def run(self, specs: list[OpSpec], batches: Iterable[list[R.Record]]) -> Iterator[BatchResult]:
        blob = pickle.dumps(specs)
        it = iter(batches)
        while window := list(islice(it, 4 * self.workers)):
            rows = [{"i": i, "batch": pickle.dumps(b, protocol=5)} for i, b in enumerate(window)]
            ds = self._ray.data.from_items(rows, override_num_blocks=len(rows))
            out = ds.map_batches(_apply, fn_kwargs={"specs": blob}, batch_size=1, batch_format="pyarrow",
                                 compute=self._ray.data.TaskPoolStrategy(size=self.workers), num_cpus=1).take_all()
            for row in sorted(out, key=lambda r: r["i"]):
                yield pickle.loads(row["result"])

    def close(self) -> None:
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()
            self._started = False
