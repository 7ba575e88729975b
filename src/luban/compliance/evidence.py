"""Evidence the platform produced itself: lineage, data scans, lexicons and banks, audit chains, ledgers.

Each function reads; none changes anything. The checks (checks.py) turn these facts into items.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from luban.audit import open_store
from luban.audit.query import Filter, find
from luban.audit.signing import Signer
from luban.audit.verify import verify_chain
from luban.core.artifact import Artifact
from luban.core.lineage import Node, lineage
from luban.core.shards import has_split, read_split
from luban.core.workspace import Workspace
from luban.guard.categories import SLUGS, appendix_code
from luban.guard.policy import Policy
from luban.guard.scanners.lexicon import lexicon_path, read_lexicon

# columns of a curated dataset's splits (the format is core's; the names are the data layer's)
SOURCE, TEXT, OPERATOR = "source", "text", "operator"
SAFETY_OPERATORS = ("safety",)


@dataclass
class Lineage:
    models: list[str] = field(default_factory=list)
    datasets: list[Artifact] = field(default_factory=list)
    files: list[tuple[str, str | None]] = field(default_factory=list)  # (path, sha256)
    missing: list[str] = field(default_factory=list)  # artifacts named in lineage but removed


def training_lineage(ws: Workspace, models: list[str], extra: list[str]) -> Lineage:
    """The datasets and raw files the deployed models came from (every dataset in their lineage)."""
    out = Lineage()
    seen: set[str] = set()
    for ref in models:
        tree = lineage(ws, ref)
        out.models.append(f"{tree.label} ({(tree.id or '')[:12]})")
        for node in tree.walk():
            _visit(ws, node, out, seen)
    for ref in extra:
        art = ws.locate(ref)
        if art.id not in seen:
            seen.add(art.id)
            out.datasets.append(art)
            for node in lineage(ws, art).walk():
                _visit(ws, node, out, seen)
    return out


def _visit(ws: Workspace, node: Node, out: Lineage, seen: set[str]) -> None:
    if node.type == "file" and (node.path, node.sha256) not in out.files:
        out.files.append((node.path or "?", node.sha256))
    elif node.type == "missing":
        out.missing.append(node.label)
    elif node.type == "artifact" and node.kind == "dataset" and node.id and node.id not in seen:
        seen.add(node.id)
        out.datasets.append(ws.locate(node.id))


def untraced(ws: Workspace, datasets: list[Artifact]) -> list[str]:
    """Datasets with no raw source file (with a hash) anywhere below them."""
    bad = []
    for art in datasets:
        if not any(n.type == "file" and n.sha256 for n in lineage(ws, art).walk()):
            bad.append(art.name or art.short_id)
    return bad


def operators(art: Artifact) -> list[str]:
    """The operators a curated dataset's recipe ran (names, in order)."""
    process = art.manifest.producer.config.get("process") or []
    names = []
    for step in process:
        names.append(step if isinstance(step, str) else next(iter(step)) if isinstance(step, dict) and step else "?")
    return names


def harmful_share(ws: Workspace, art: Artifact) -> dict[str, tuple[int, int]]:
    """Per raw source: (records the safety operator rejected, records read). Empty without a rejected split."""
    readable = ws.open(art)
    if not has_split(readable, "rejected"):
        return {}
    rejected = read_split(readable, "rejected")
    total: Counter[str] = Counter()
    harmful: Counter[str] = Counter()
    if SOURCE in rejected.column_names:
        ops = rejected.column(OPERATOR).to_pylist() if OPERATOR in rejected.column_names else [None] * rejected.num_rows
        for src, op in zip(rejected.column(SOURCE).to_pylist(), ops):
            total[src] += 1
            if op and str(op).split("#")[0] in SAFETY_OPERATORS:
                harmful[src] += 1
    if has_split(readable, "train"):
        kept = read_split(readable, "train")
        if SOURCE in kept.column_names:
            total.update(kept.column(SOURCE).to_pylist())
    return {src: (harmful[src], n) for src, n in total.items()}


def sample_texts(ws: Workspace, art: Artifact, n: int, seed: int = 0) -> list[str]:
    """Up to `n` training texts of a dataset, sampled at random (fixed seed: the report can be re-run)."""
    readable = ws.open(art)
    if not has_split(readable, "train"):
        return []
    table = read_split(readable, "train")
    column = TEXT if TEXT in table.column_names else next(
        (c for c in ("prompt", "messages", "question") if c in table.column_names), None)
    if column is None:
        return []
    rows = table.column(column).to_pylist()
    picked = random.Random(seed).sample(range(len(rows)), min(n, len(rows)))
    return [r if isinstance(r, str) else str(r) for r in (rows[i] for i in sorted(picked))]


def scan_sample(policy: Policy, texts: list[str]) -> dict[str, int]:
    """How many sampled texts the policy would block, mask, flag or pass."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts[policy.scan(text, stage="input").action] += 1
    return dict(counts)


def lexicon_terms(policy: Policy) -> tuple[int, Counter[str]]:
    """Distinct terms of the policy's lexicons, and terms per Appendix A code ("?" for unmapped)."""
    names: list[str] = []
    for entry in [*policy.spec.input, *policy.spec.output]:
        if isinstance(entry, dict) and "lexicon" in entry:
            names.extend((entry["lexicon"] or {}).get("lexicons", ["zh", "en"]))
        elif entry == "lexicon":
            names.extend(["zh", "en"])
    terms: dict[str, str] = {}
    base = policy.path.parent if policy.path else None
    for name in dict.fromkeys(names):
        path = lexicon_path(str(base / name) if base and (base / name).is_file() else name)
        for term, category, _risk in read_lexicon(Path(path)):
            terms.setdefault(term, appendix_code(category) or SLUGS.get(category) or "?")
    return len(terms), Counter(terms.values())


def bank_counts(items: list[Any]) -> tuple[int, Counter[str]]:
    return len(items), Counter(getattr(it, "code", "?") for it in items)


@dataclass
class AuditFacts:
    chains: int = 0
    records: int = 0
    calls: int = 0
    blocked: int = 0
    oldest: float | None = None
    problems: list[str] = field(default_factory=list)


def audit_facts(ws: Workspace) -> AuditFacts:
    folder = ws.root / "audit"
    facts = AuditFacts()
    if not (folder / "audit.db").exists() and not _shared_audit():
        return facts
    store = open_store(folder)
    key = Signer(folder).public_key
    for chain in store.chains():
        report = verify_chain(store, chain, key, folder)
        facts.chains += 1
        facts.records += report.records
        facts.problems += [f"{chain}: {p}" for p in report.problems[:1]]
    first = next(find(store, Filter(), limit=1), None)
    facts.oldest = first["ts"] if first else None
    facts.calls = store.count() - sum(1 for _ in find(store, Filter(kind="stage")))
    facts.blocked = sum(1 for _ in find(store, Filter(action="blocked")))
    return facts


def _shared_audit() -> bool:
    import os

    return bool(os.environ.get("LUBAN_AUDIT_URL"))
