"""`luban data report NAME`: what curation did to a dataset, as an HTML page and a JSON summary.

The summary is built from the dataset's own manifest stats (the funnel per operator and reason, and
what each operator found: its tags, e.g. PII per type, lexicon hits per category, records per language,
collected the same way for every operator, a user's own included) and its splits (length histograms,
language mix, duplicate clusters).
The result is a `report` artifact whose parent is the dataset, so lineage shows which data a
report describes.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict
from typing import Any

import numpy as np

from luban.core.artifact import Artifact, artifact_parent
from luban.core.errors import UsageError
from luban.core.shards import read_split, split_names
from luban.core.workspace import Workspace

BINS = [0, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 50000, 10**9]


def length_histogram(lengths: list[int]) -> dict[str, Any]:
    counts, _ = np.histogram(np.asarray(lengths, dtype=np.int64), bins=BINS)
    labels = [f"{lo}-{hi}" if hi < 10**9 else f"{lo}+" for lo, hi in itertools.pairwise(BINS)]
    return {"bins": labels, "counts": counts.tolist()}


def summarize(art: Artifact, examples: int = 5) -> dict[str, Any]:
    """The JSON summary of a curated dataset artifact."""
    if art.kind != "dataset":
        raise UsageError(f"'{art.name or art.short_id}' is a {art.kind}, not a dataset", "name a dataset artifact")
    stats = art.manifest.stats
    splits = split_names(art)
    train = read_split(art, "train").to_pylist() if "train" in splits else []
    rejected = read_split(art, "rejected").to_pylist() if "rejected" in splits else []
    langs = Counter(str(r.get("lang")) for r in train if r.get("lang"))
    clusters: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rejected:
        if r.get("duplicate_of"):
            clusters[r["duplicate_of"]].append(r)
    kept_by_where = {f"{t['source']}:{t['source_line']}": t["text"] for t in train}
    dup_examples = []
    for where, dups in sorted(clusters.items(), key=lambda kv: -len(kv[1]))[:examples]:
        dup_examples.append({
            "kept": where, "kept_text": (kept_by_where.get(where) or "")[:300],
            "duplicates": [{"where": f"{d['source']}:{d['source_line']}", "operator": d["operator"],
                            "text": d["text"][:300]} for d in dups[:5]],
            "size": len(dups) + 1})
    funnel = [stats.get("read", {"name": "read", "in": len(train) + len(rejected)})] + stats.get("operators", [])
    found = [{"operator": op["name"], "counts": op["tags"]} for op in funnel if op.get("tags")]
    return {
        "dataset": {"id": art.id, "name": art.name, "stage": art.manifest.producer.stage},
        "records_in": stats.get("records_in", len(train) + len(rejected)),
        "train": len(train),
        "rejected": len(rejected),
        "sources": stats.get("sources", 0),
        "funnel": funnel,
        "rejected_by_operator": dict(Counter(r.get("operator", "?") for r in rejected).most_common()),
        "lengths": {"train": length_histogram([len(t["text"]) for t in train]),
                    "rejected": length_histogram([len(r["text"] or "") for r in rejected])},
        "languages": dict(langs.most_common()),
        "found": found,
        "duplicate_clusters": dup_examples,
    }


def report(ws: Workspace, ref: str, name: str | None = None) -> Artifact:
    """Write the report of dataset `ref` as a `report` artifact (report.html + summary.json)."""
    from luban.data.report_html import render

    art = ws.get(ref)
    summary = summarize(art)
    with ws.create("report", name, stage="data.report", config={"dataset": ref},
                   parents=[artifact_parent(art, role="dataset")]) as p:
        (p.path / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
        (p.path / "report.html").write_text(render(summary), encoding="utf-8")
        p.stats.update({"records_in": summary["records_in"], "train": summary["train"],
                        "rejected": summary["rejected"]})
    assert p.result is not None
    return p.result
