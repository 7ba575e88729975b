"""The default curation recipe, and how a recipe's operators are cut into executor segments.

The default is deliberately the published rules with their published thresholds (each operator
cites its source): clean, then quality, then dedup (before PII masking, which would hide
differences), then PII masking and the safety lexicon.
"""

from __future__ import annotations

from typing import Any

from luban.data.ops.base import GlobalOperator
from luban.data.ops.registry import OpSpec, operator_class

DEFAULT_PROCESS: list[dict[str, Any]] = [
    {"fix_mojibake": {}},
    {"strip_html": {}},
    {"nfkc": {}},
    {"whitespace": {}},
    {"language": {}},
    {"length": {"min_chars": 20}},
    {"gopher_quality": {}},
    {"gopher_repetition": {}},
    {"exact_dedup": {}},
    {"minhash_dedup": {}},
    {"pii": {"action": "mask"}},
    {"safety": {"action": "drop", "min_risk": "high"}},
]


def segments(specs: list[OpSpec]) -> list[tuple[list[OpSpec], OpSpec | None]]:
    """Cut after every global operator: [(per-batch specs ending with the global one, global spec)]."""
    out: list[tuple[list[OpSpec], OpSpec | None]] = []
    current: list[OpSpec] = []
    for spec in specs:
        current.append(spec)
        if issubclass(operator_class(spec.name), GlobalOperator):
            out.append((current, spec))
            current = []
    if current or not out:
        out.append((current, None))
    return out
