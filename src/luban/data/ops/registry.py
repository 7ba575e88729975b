"""Operators by name, as a recipe's `process:` list names them. Adding one is one line here.

Entries are "module:Class", imported only when a recipe uses them, so an operator with a heavy
dependency (OpenCC, jieba) costs nothing until named. A recipe may also name a "module:Class" of
its own package (`- mypkg.ops:Shout: {}`): no change to Luban needed.
"""

from __future__ import annotations

import difflib
import inspect
from dataclasses import dataclass, field
from typing import Any

from luban.core.errors import ConfigError
from luban.core.registry import Registry
from luban.data.ops.base import Operator

OPERATORS: Registry[type[Operator]] = Registry("data operator", {
    # cleaning mappers
    "fix_mojibake": "luban.data.ops.clean.mojibake:FixMojibake",
    "nfkc": "luban.data.ops.clean.unicode:NFKC",
    "whitespace": "luban.data.ops.clean.unicode:Whitespace",
    "strip_html": "luban.data.ops.clean.html:StripHTML",
    "opencc": "luban.data.ops.clean.chinese:OpenCC",
    "normalize_links": "luban.data.ops.clean.links:NormalizeLinks",
    # quality filters
    "length": "luban.data.ops.quality.length:Length",
    "language": "luban.data.ops.quality.language:Language",
    "gopher_quality": "luban.data.ops.quality.gopher:GopherQuality",
    "gopher_repetition": "luban.data.ops.quality.repetition:GopherRepetition",
    "c4": "luban.data.ops.quality.c4:C4",
    "fineweb": "luban.data.ops.quality.fineweb:FineWeb",
    # deduplication
    "exact_dedup": "luban.data.ops.dedup.exact:ExactDedup",
    "minhash_dedup": "luban.data.ops.dedup.minhash:MinHashDedup",
    "substring_dedup": "luban.data.ops.dedup.substring:SubstringDedup",
    # desensitization and safety
    "pii": "luban.data.ops.pii:PII",
    "safety": "luban.data.ops.safety:Safety",
}, base=Operator)


@dataclass(frozen=True)
class OpSpec:
    """One step of a recipe: the operator's name, its arguments and its label in the stats."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)
    label: str = ""


def operator_class(name: str) -> type[Operator]:
    """The class of operator `name` (or "module:Class"); unknown names are ConfigErrors with a did-you-mean."""
    return OPERATORS.get(name)


def build(spec: OpSpec) -> Any:
    """Instantiate the operator of `spec`; a bad argument is a ConfigError naming the valid ones."""
    cls = operator_class(spec.name)
    params = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    for key in spec.args:
        if key not in params:
            close = difflib.get_close_matches(key, params, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"valid arguments: {', '.join(params) or 'none'}"
            raise ConfigError(f"operator '{spec.name}' has no argument '{key}'", hint)
    try:
        op = cls(**spec.args)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"operator '{spec.name}': {e}", "fix its arguments in the recipe") from None
    op.label = spec.label or spec.name
    return op


def parse_process(process: list[Any]) -> list[OpSpec]:
    """A recipe's `process:` list (`- name: {args}` or `- name`) -> OpSpecs with unique labels."""
    specs: list[OpSpec] = []
    counts: dict[str, int] = {}
    for i, item in enumerate(process):
        args: dict[str, Any]
        if isinstance(item, str):
            name, args = item, {}
        elif isinstance(item, dict) and len(item) == 1:
            name, args = next(iter(item.items()))
            args = args or {}
        else:
            raise ConfigError(f"process[{i}] must be '- operator_name: {{args}}', got {item!r}")
        if not isinstance(args, dict):
            raise ConfigError(f"process[{i}] ({name}): arguments must be a mapping, got {args!r}")
        operator_class(name)  # fail early on an unknown name
        counts[name] = counts.get(name, 0) + 1
        label = name if counts[name] == 1 else f"{name}#{counts[name]}"
        specs.append(OpSpec(name=name, args=dict(args), label=label))
    return specs
