"""The executor interface: how a recipe's per-batch work is spread over processes or machines.

The curate driver (`luban.data.curate`) reads files into batches, cuts the recipe into segments
at every global operator (dedup), and hands each segment to an executor:

    results = executor.run(specs, batches)   # specs: list[OpSpec], batches: Iterable[list[Record]]
    for res in results: ...                  # BatchResult per input batch, IN INPUT ORDER

An executor MUST:
- build the operators from `specs` itself, once per worker (`build_ops(specs)`), never receive live
  operator objects: specs are small, picklable, and the same on every machine;
- apply them to each batch with `run_batch(ops, batch)`, which is the one place that defines what
  applying a recipe segment means (order, rejected records, statistics); an executor only decides
  where that call runs;
- yield one `BatchResult` per input batch, in the input order, so every executor gives the same
  output for the same recipe (the Ray executor's test compares it with the local one);
- keep memory bounded: pull batches from the iterator lazily, a few per worker at a time.

`BatchResult.stats` holds the statistics of THIS batch only (fresh operators per batch or the delta
since the previous batch); the driver adds them up. Records are plain dicts (see
`luban.data.records`); fields starting with `_` (e.g. `_minhash`) are scratch and must be passed
through unchanged, since the driver takes a global operator's keys from them (and spills the rest).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from luban.data import records as R
from luban.data.ops.base import OpStats
from luban.data.ops.registry import OpSpec, build


@dataclass
class BatchResult:
    kept: list[R.Record]
    rejected: list[R.Record]
    stats: dict[str, OpStats] = field(default_factory=dict)  # by OpSpec.label


class Executor(Protocol):
    def run(self, specs: list[OpSpec], batches: Iterable[list[R.Record]]) -> Iterator[BatchResult]:
        """Apply the operators of `specs` in order to every batch; yield results in input order."""
        ...

    def close(self) -> None:
        """Release workers (processes, a Ray connection)."""
        ...


def build_ops(specs: list[OpSpec]) -> list[Any]:
    return [build(s) for s in specs]


def run_batch(ops: list[Any], batch: list[R.Record]) -> BatchResult:
    """Apply `ops` in order to one batch; the stats returned are this batch's only."""
    before = {op.label: _copy(op.stats) for op in ops}
    rejected: list[R.Record] = []
    kept = batch
    for op in ops:
        if not kept:
            break
        kept, dropped = op.process(kept)
        rejected.extend(dropped)
    stats = {}
    for op in ops:
        delta = _copy(op.stats)
        prev = before[op.label]
        delta.seen -= prev.seen
        delta.kept -= prev.kept
        delta.modified -= prev.modified
        delta.reasons.subtract(prev.reasons)
        delta.tags.subtract(prev.tags)
        delta.reasons = +delta.reasons
        delta.tags = +delta.tags
        stats[op.label] = delta
    return BatchResult(kept=kept, rejected=rejected, stats=stats)


def _copy(s: OpStats) -> OpStats:
    out = OpStats()
    out.merge(s)
    return out
