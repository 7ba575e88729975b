"""Console API: datasets (their records, the curation funnel, rejected records with reasons) and the lineage of
any artifact.

    GET /console/api/datasets                          every dataset artifact: names, rows per split, stage
    GET /console/api/datasets/{ref}                    one dataset: splits, the curation funnel and charts
    GET /console/api/datasets/{ref}/records?split=&offset=&limit=&operator=   a page of one split's records
    GET /console/api/lineage/{ref}                     the lineage of any artifact as a layered graph

Design choices:
- Everything is read from the artifact itself (manifest stats, Parquet metadata, one row group at a time), so
  opening a dataset of millions of rows costs a row count and one page, never the whole split.
- The funnel is the curation stats in the manifest (what `luban data curate` printed); a dataset made by
  another stage (format, Label Studio import) has none, and the page says so rather than inventing one.
  A `luban data report` of the dataset, when there is one, adds its language mix and duplicate clusters.
- Lineage comes from `luban.core.lineage` (the tree `luban lineage` prints) turned into a DAG: an artifact
  that two children share is one node, laid out by its longest distance from the artifact asked about.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
from fastapi import APIRouter, Depends, Query

from luban.console.base import Console, ConsoleError
from luban.core.artifact import Artifact
from luban.core.lineage import Node, lineage
from luban.core.shards import split_names
from luban.core.workspace import Workspace
from luban.gateway.keys import KeyRecord

TEXT_CHARS = 4000  # longer texts are cut in a page of records (the full text stays in the artifact)
LENGTH_BINS = [0, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 50000]


def describe(art: Artifact, names: list[str]) -> dict[str, Any]:
    """What every list and header shows of an artifact."""
    m = art.manifest
    return {"id": art.id, "short_id": art.short_id, "name": m.name or (names[0] if names else None),
            "names": names, "kind": m.kind, "stage": m.producer.stage, "created": m.created}


def names_of(ws: Workspace, art_id: str) -> list[str]:
    return sorted(n for n, i in ws.index.refs().items() if i == art_id)


def locate(ws: Workspace, ref: str) -> Artifact:
    """The artifact named `ref`, readable (decrypted where needed); a 404 that names the ref otherwise."""
    return ws.get(ref)  # NotFoundError -> 404 with its hint (app.py)


def split_rows(art: Artifact) -> dict[str, int]:
    """Rows per split, from the Parquet footers alone."""
    out: dict[str, int] = {}
    for split in split_names(art):
        out[split] = sum(pq.ParquetFile(s).metadata.num_rows for s in sorted((art.path / "data").glob(f"{split}-*.parquet")))
    return out


def _shards(art: Artifact, split: str) -> list[Any]:
    return sorted((art.path / "data").glob(f"{split}-*.parquet"))


def page(art: Artifact, split: str, offset: int, limit: int, operator: str | None = None) -> dict[str, Any]:
    """Rows [offset, offset+limit) of `split` (of the rows whose `operator` matches, when given)."""
    shards = _shards(art, split)
    if not shards:
        have = ", ".join(split_names(art)) or "none"
        raise ConsoleError(404, f"dataset '{art.name or art.short_id}' has no split '{split}' (splits: {have})",
                           "not_found")
    rows: list[dict[str, Any]] = []
    total, skip = 0, offset
    for shard in shards:
        f = pq.ParquetFile(shard)
        if operator is not None:
            ops = f.read(columns=["operator"]).column("operator") if "operator" in f.schema_arrow.names else None
            if ops is None:
                continue
            mask = pc.equal(ops, operator)
            n = pc.sum(mask).as_py() or 0
            total += n
            if len(rows) < limit and skip < n:
                table = f.read().filter(mask).slice(skip, limit - len(rows))
                rows += table.to_pylist()
            skip = max(0, skip - n)
            continue
        n = f.metadata.num_rows
        total += n
        if len(rows) < limit and skip < n:
            rows += f.read().slice(skip, limit - len(rows)).to_pylist()
        skip = max(0, skip - n)
    for r in rows:
        for k, v in list(r.items()):
            if isinstance(v, str) and len(v) > TEXT_CHARS:
                r[k] = v[:TEXT_CHARS] + " …"
                r.setdefault("_cut", []).append(k)
    return {"split": split, "total": total, "offset": offset, "limit": limit, "operator": operator, "records": rows}


def lengths(art: Artifact, split: str) -> dict[str, Any]:
    """A histogram of text lengths (characters) of `split`, reading only its text column."""
    counts = [0] * len(LENGTH_BINS)
    for shard in _shards(art, split):
        f = pq.ParquetFile(shard)
        if "text" not in f.schema_arrow.names:
            return {}
        for batch in f.iter_batches(columns=["text"], batch_size=50_000):
            n = pc.utf8_length(batch.column(0).fill_null("")).to_numpy(zero_copy_only=False)
            for i, c in enumerate(np.bincount(np.digitize(n, LENGTH_BINS) - 1, minlength=len(LENGTH_BINS))):
                counts[i] += int(c)
    labels = [f"{lo}-{hi}" for lo, hi in zip(LENGTH_BINS, LENGTH_BINS[1:], strict=False)] + [f"{LENGTH_BINS[-1]}+"]
    return {"bins": labels, "counts": counts}


def funnel(art: Artifact) -> list[dict[str, Any]] | None:
    """The curation funnel (read, then each operator: in, out, dropped, modified, reasons, tags), or None."""
    stats = art.manifest.stats
    if "operators" not in stats:
        return None
    return [stats.get("read", {"name": "read"}), *stats["operators"]]


def data_reports(ws: Workspace, art: Artifact) -> list[dict[str, Any]]:
    """`luban data report` artifacts of this dataset, newest first, with their summary."""
    out = []
    for other, names in ws.list("report"):
        if other.manifest.producer.stage == "data.report" and any(p.id == art.id for p in other.manifest.parents):
            summary = other.path / "summary.json"
            data = json.loads(summary.read_text(encoding="utf-8")) if summary.is_file() else {}
            out.append({**describe(other, names), "languages": data.get("languages", {}),
                        "duplicate_clusters": data.get("duplicate_clusters", [])})
    return out[::-1]


def graph(root: Node) -> dict[str, Any]:
    """The lineage tree as a DAG: nodes (artifacts by id, files by path and hash) with a layer, and edges
    from each input to what was made of it."""
    nodes: dict[str, dict[str, Any]] = {}
    edges: list[dict[str, str]] = []

    def key(n: Node) -> str:
        return n.id if n.type in ("artifact", "missing") and n.id else f"file:{n.path}:{n.sha256}"

    def visit(n: Node, depth: int) -> str:
        k = key(n)
        cur = nodes.get(k)
        if cur is None:
            cur = {"key": k, "type": n.type, "label": n.label, "layer": depth, "id": n.id, "kind": n.kind,
                   "stage": n.stage, "path": n.path, "sha256": n.sha256, "short_id": n.id[:12] if n.id else None}
            nodes[k] = cur
        cur["layer"] = max(cur["layer"], depth)
        for c in n.children:
            edges.append({"from": visit(c, depth + 1), "to": k, "role": c.role})
        return k

    visit(root, 0)
    # children were laid out before a deeper path to their parent was found: push inputs below their outputs
    for _ in range(len(nodes)):
        moved = False
        for e in edges:
            if nodes[e["from"]]["layer"] <= nodes[e["to"]]["layer"]:
                nodes[e["from"]]["layer"] = nodes[e["to"]]["layer"] + 1
                moved = True
        if not moved:
            break
    unique = list({(e["from"], e["to"], e["role"]): e for e in edges}.values())
    return {"nodes": list(nodes.values()), "edges": unique}


def router(console: Console) -> APIRouter:
    r = APIRouter()
    read = Depends(console.require("artifacts.read"))

    @r.get("/datasets")
    def list_datasets(key: KeyRecord = read) -> dict[str, Any]:
        ws = console.workspace()
        out = []
        for art, names in ws.list("dataset"):
            rows = split_rows(art)
            out.append({**describe(art, names), "rows": rows,
                        "curated": "operators" in art.manifest.stats})
        return {"datasets": out[::-1]}

    @r.get("/datasets/{ref:path}/records")
    def records(ref: str, split: str = "train", offset: int = Query(0, ge=0), limit: int = Query(20, ge=1, le=200),
                operator: str | None = None, key: KeyRecord = read) -> dict[str, Any]:
        art = _dataset(console.workspace(), ref)
        return page(art, split, offset, limit, operator or None)

    @r.get("/datasets/{ref:path}")
    def dataset(ref: str, key: KeyRecord = read) -> dict[str, Any]:
        ws = console.workspace()
        art = _dataset(ws, ref)
        rows = split_rows(art)
        steps = funnel(art)
        stats = art.manifest.stats
        return {**describe(art, names_of(ws, art.id)), "rows": rows, "sources": stats.get("sources"),
                "funnel": steps, "stats": {k: v for k, v in stats.items() if k not in ("operators", "read")},
                "rejected_by_operator": _rejected_by_operator(art) if "rejected" in rows else {},
                "lengths": {s: lengths(art, s) for s in rows if s != "rejected"},
                "reports": data_reports(ws, art)}

    @r.get("/lineage/{ref:path}")
    def artifact_lineage(ref: str, key: KeyRecord = read) -> dict[str, Any]:
        ws = console.workspace()
        art = ws.locate(ref)
        g = graph(lineage(ws, art))
        by_id = {a.id: (a, names) for a, names in ws.list()}
        for n in g["nodes"]:
            if n["type"] == "artifact" and n["id"] in by_id:
                a, names = by_id[n["id"]]
                n.update(names=names, created=a.manifest.created, stats=_small(a.manifest.stats))
        return {"artifact": describe(art, names_of(ws, art.id)), "root": art.id, **g}

    return r


def _dataset(ws: Workspace, ref: str) -> Artifact:
    art = locate(ws, ref)
    if art.kind != "dataset":
        raise ConsoleError(400, f"'{ref}' is a {art.kind}, not a dataset; open its lineage instead",
                           "invalid_request")
    return art


def _rejected_by_operator(art: Artifact) -> dict[str, int]:
    counts: dict[str, int] = {}
    for shard in _shards(art, "rejected"):
        f = pq.ParquetFile(shard)
        if "operator" not in f.schema_arrow.names:
            continue
        for row in pc.value_counts(f.read(columns=["operator"]).column("operator")).to_pylist():
            counts[str(row["values"])] = counts.get(str(row["values"]), 0) + row["counts"]
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def _small(stats: dict[str, Any]) -> dict[str, Any]:
    """The scalar stats of a manifest (numbers, short strings), for a node's side panel."""
    return {k: v for k, v in stats.items() if isinstance(v, int | float | bool) or (isinstance(v, str) and len(v) < 80)}
