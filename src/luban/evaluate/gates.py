"""Gates: thresholds on a report's metrics that decide whether a solution spec may go on.

    gates: {exact_match: ">= 0.8", safety.refusal: ">= 0.95", latency_p50_ms: "<= 50"}

A gate names a metric the way a person would; `resolve` finds it in the report's results.json, in order:
the exact dotted key; `metrics.<name>`; `models.model.<name>` (evaluate.qa); `<stage-kind>.<rest>` where the
report's stage is `evaluate.<stage-kind>` (`safety.refusal` on an evaluate.safety report); else the one key
ending in `.<name>`, one under `metrics.` preferred (`exact_match` finds `metrics.acme_qa.exact_match` when
no other task has one). A name
that matches nothing, or several keys, is a one-line error listing what the report holds.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from luban.core.errors import LubanError, UsageError

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq, "!=": operator.ne}
_EXPR = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(%?)\s*$")
_SKIP = {"items", "target", "artifact"}  # per-item rows and identities are not metrics


class GateFailed(LubanError):
    """A gate missed: the run stops before any later stage."""


@dataclass(frozen=True)
class Gate:
    metric: str
    op: str
    threshold: float

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.threshold:g}"


@dataclass(frozen=True)
class GateResult:
    gate: Gate
    key: str  # where the value was found in results.json
    value: float
    passed: bool

    @property
    def margin(self) -> float:
        """How far the value is from the threshold: positive on the passing side, negative when it missed."""
        if self.gate.op in (">=", ">"):
            return self.value - self.gate.threshold
        if self.gate.op in ("<=", "<"):
            return self.gate.threshold - self.value
        return 0.0 if self.passed else -abs(self.value - self.gate.threshold)

    def describe(self) -> str:
        verdict = "passed" if self.passed else f"missed by {abs(self.margin):.4g}"
        return f"{self.gate.metric} = {self.value:.4g}, needs {self.gate.op} {self.gate.threshold:g}: {verdict}"

    def as_dict(self) -> dict[str, Any]:
        return {"metric": self.gate.metric, "key": self.key, "op": self.gate.op, "threshold": self.gate.threshold,
                "value": self.value, "passed": self.passed, "margin": self.margin}


def parse_gate(metric: str, expr: str | float | int) -> Gate:
    """`">= 0.8"` (also `"<= 50"`, `"> 0.9"`, `"== 1"`, `">= 95%"`); a bare number means `>=`."""
    if isinstance(expr, bool):
        raise UsageError(f"gate {metric}: {expr!r} is not a condition", 'write it as ">= 0.8" or "<= 50"')
    if isinstance(expr, int | float):
        return Gate(metric, ">=", float(expr))
    m = _EXPR.match(str(expr))
    if not m:
        raise UsageError(f"gate {metric}: cannot read {expr!r}", 'write an operator and a number: ">= 0.8", "<= 50"')
    value = float(m.group(2)) / (100 if m.group(3) else 1)
    return Gate(metric, m.group(1), value)


def parse_gates(gates: dict[str, str | float | int]) -> list[Gate]:
    return [parse_gate(k, v) for k, v in gates.items()]


def flatten(results: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Every numeric leaf of a results.json as a dotted key (per-item lists left out)."""
    out: dict[str, float] = {}
    for key, value in results.items():
        if key in _SKIP:
            continue
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, dotted + "."))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[dotted] = float(value)
    return out


def resolve(name: str, results: dict[str, Any], stage: str | None = None) -> str:
    """The dotted key of `name` in `results` (see the module's docstring for the order)."""
    flat = flatten(results)
    candidates = [name, f"metrics.{name}", f"models.model.{name}"]
    if stage and "." in name:
        kind = stage.rsplit(".", 1)[-1]
        head, rest = name.split(".", 1)
        if head == kind:
            candidates += [rest, f"metrics.{rest}", f"models.model.{rest}"]
    for c in candidates:
        if c in flat:
            return c
    ends = [k for k in flat if k.endswith("." + name)]
    top = [k for k in ends if k.startswith("metrics.")]  # a report's summary wins over its details
    if len(ends) == 1 or len(top) == 1:
        return ends[0] if len(ends) == 1 else top[0]
    names = sorted(k.removeprefix("metrics.") for k in flat if k.startswith("metrics.")) or sorted(flat)
    shown = ", ".join(names[:40]) + (" ..." if len(names) > 40 else "")
    if len(ends) > 1:
        raise UsageError(f"gate on '{name}' is ambiguous: the report holds {', '.join(sorted(ends))}",
                         "name one of them in full")
    raise UsageError(f"gate on '{name}': the report has no such metric",
                     f"available: {shown or 'none (the report holds no numbers)'}")


def check_gates(gates: dict[str, str | float | int] | list[Gate], results: dict[str, Any],
                stage: str | None = None) -> list[GateResult]:
    """Each gate against `results` (a report's results.json, or a flat {metric: value} dict)."""
    parsed = parse_gates(gates) if isinstance(gates, dict) else gates
    out = []
    for g in parsed:
        key = resolve(g.metric, results, stage)
        value = flatten(results)[key]
        passed = not math.isnan(value) and _OPS[g.op](value, g.threshold)
        out.append(GateResult(g, key, value, passed))
    return out


def raise_on_failure(results: list[GateResult], where: str = "") -> None:
    """GateFailed naming every missed gate and by how much."""
    missed = [r for r in results if not r.passed]
    if missed:
        raise GateFailed(f"{where + ': ' if where else ''}gate failed: " + "; ".join(r.describe() for r in missed),
                         "improve the model or change the gate; `luban run --ignore-gates` goes on and records it")
