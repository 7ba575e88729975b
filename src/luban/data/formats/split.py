"""Seeded train/validation/test splits.

With two or more splits, rows are shuffled with `random.Random(seed)` and cut at the cumulative fractions, so the same seed
and the same records give the same splits on every machine, and the sizes are exact
(`round(n * cumulative fraction)`), never off by a sampling accident.
"""

from __future__ import annotations

import random
from typing import TypeVar

from luban.core.errors import ConfigError

T = TypeVar("T")


def check_fractions(splits: dict[str, float]) -> dict[str, float]:
    """Fractions must be positive and sum to 1; `rejected` is reserved for records that failed."""
    if not splits:
        raise ConfigError("splits is empty", "give at least one split, e.g. {train: 1.0}")
    if "rejected" in splits:
        raise ConfigError("'rejected' is a reserved split name", "name the split differently")
    bad = [k for k, v in splits.items() if v <= 0]
    if bad:
        raise ConfigError(f"split '{bad[0]}' has a fraction <= 0", "give every split a positive fraction")
    total = sum(splits.values())
    if abs(total - 1.0) > 1e-6:
        raise ConfigError(f"split fractions sum to {total:g}, not 1", "e.g. {train: 0.9, validation: 0.1}")
    return splits


def split_rows(rows: list[T], splits: dict[str, float], seed: int) -> dict[str, list[T]]:
    """Shuffle `rows` with `seed` and cut them into the named splits (in the order given)."""
    check_fractions(splits)
    if len(splits) == 1:  # nothing to cut: keep the input order, which is easier to check against the source
        return {next(iter(splits)): list(rows)}
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    out: dict[str, list[T]] = {}
    start, cum = 0, 0.0
    for name, frac in splits.items():
        cum += frac
        end = round(len(rows) * cum)
        out[name] = [rows[i] for i in order[start:end]]
        start = end
    return out
