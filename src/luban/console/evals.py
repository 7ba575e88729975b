"""Console API: evaluation reports, comparisons and compression sweeps, their gates, and deploying the candidate.

    GET  /console/api/evals                   evaluation, comparison and sweep reports; what is deployed now
    GET  /console/api/evals/{ref}             one report: metrics per model or variant, gates with reasons, candidate
    POST /console/api/evals/{ref}/gates       check gates ({"gates": {"metric": ">= 0.8"}}) on a report's metrics
    POST /console/api/evals/deploy            {"report": REF}: deploy that sweep's candidate            admin only

What "deploy" does: it points the workspace name `deployed` at the candidate's model artifact (the one the
sweep tagged `<sweep>-candidate`), keeps the model it replaces as `deployed-previous`, and appends an
admin record to the audit chain (key, report, artifact, what it replaced). Names are how every command finds
a model, so `luban serve deployed` (or `luban engine deployed` behind `luban gateway`, or a solution spec
naming `deployed`) serves it: the next start or rolling restart of the serving processes picks it up. The
running engine is never swapped under its in-flight requests; the page says so.

Design choices:
- The candidate is the sweep's own decision (the smallest or fastest variant passing every gate); the console
  shows it and deploys it, never a variant of its own choosing, so what is deployed is what the report argued.
- Gates on other reports are checked with `luban.evaluate.gates` (the same function `luban eval gates` and the
  pipeline runner use), per model of a comparison.
- The audit record is written before the answer returns (one durable append, as stage runs are): an admin
  action that is not on record did not happen.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from luban.audit import open_store
from luban.audit.signing import Signer
from luban.audit.stages import append_now
from luban.console.base import Console, ConsoleError
from luban.console.datasets import describe, names_of
from luban.core.artifact import Artifact
from luban.core.errors import LubanError, NotFoundError
from luban.core.workspace import Workspace
from luban.evaluate.compare import lower_is_better
from luban.evaluate.gates import check_gates
from luban.gateway.keys import KeyRecord

DEPLOYED = "deployed"
PREVIOUS = "deployed-previous"


def report_type(art: Artifact) -> str | None:
    stage = art.manifest.producer.stage
    if stage == "compress.sweep":
        return "sweep"
    if stage == "evaluate.compare":
        return "compare"
    if stage.startswith("evaluate."):
        return "eval"
    return None


def results_of(art: Artifact) -> dict[str, Any]:
    path = art.path / "results.json"
    if not path.is_file():
        raise ConsoleError(404, f"report '{art.name or art.short_id}' holds no results.json", "not_found")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def deployed(ws: Workspace) -> dict[str, Any] | None:
    """The model the name `deployed` points at (and the one before it), or None."""
    refs = ws.index.refs()
    if DEPLOYED not in refs:
        return None
    try:
        art = ws.locate(DEPLOYED)
    except NotFoundError:
        return {"id": refs[DEPLOYED], "missing": True}
    prev = refs.get(PREVIOUS)
    return {**describe(art, names_of(ws, art.id)), "previous": prev, "serve": f"luban serve {DEPLOYED}"}


def _variants(ws: Workspace, results: dict[str, Any]) -> list[dict[str, Any]]:
    known = {a.id: (a, names) for a, names in ws.list("model")}
    rows = []
    for v in results.get("variants", []):
        found = known.get(v.get("artifact", ""))
        rows.append({**v, "model": describe(*found) if found else None})
    return rows


def detail(ws: Workspace, art: Artifact) -> dict[str, Any]:
    kind = report_type(art)
    if kind is None:
        raise ConsoleError(400, f"'{art.name or art.short_id}' is a {art.manifest.producer.stage} report, not an "
                           "evaluation, comparison or sweep", "invalid_request")
    results = results_of(art)
    out: dict[str, Any] = {**describe(art, names_of(ws, art.id)), "type": kind, "deployed": deployed(ws),
                           "config": art.manifest.producer.config}
    if kind == "sweep":
        cand_id = results.get("candidate_artifact")
        cand = next(((a, n) for a, n in ws.list("model") if a.id == cand_id), None) if cand_id else None
        out.update(prefer=results.get("prefer"), variants=_variants(ws, results),
                   candidate={"variant": results.get("candidate"), **describe(*cand)} if cand else None,
                   candidate_missing=bool(cand_id and cand is None),
                   gates=art.manifest.producer.config.get("gates", {}))
    elif kind == "compare":
        names = results.get("metric_names", [])
        out.update(candidates=results.get("candidates", []), metric_names=names, best=results.get("best", {}),
                   lower_is_better={m: lower_is_better(m) for m in names})
    else:
        metrics = results.get("metrics")
        out.update(metrics=metrics if isinstance(metrics, dict) else {},
                   models={k: v.get("metrics", v) for k, v in (results.get("models") or {}).items()
                           if isinstance(v, dict)})
    return out


class GatesBody(BaseModel):
    gates: dict[str, str | float] = Field(..., min_length=1, description='{"metric": ">= 0.8"}')


class DeployBody(BaseModel):
    report: str = Field(..., min_length=1, description="the sweep report whose candidate to deploy")


def deploy(ws: Workspace, key: KeyRecord, ref: str) -> dict[str, Any]:
    """Point `deployed` at the candidate of sweep report `ref` and record it in the audit log."""
    report = ws.get(ref)
    if report_type(report) != "sweep":
        raise ConsoleError(400, f"'{ref}' is not a compression sweep, so it names no deploy candidate; run "
                           "`luban compress sweep MODEL --name NAME`", "invalid_request")
    results = results_of(report)
    cand_id = results.get("candidate_artifact")
    if not cand_id:
        raise ConsoleError(409, f"sweep '{ref}' has no candidate: no variant passed every gate; nothing to deploy",
                           "no_candidate")
    try:
        cand = ws.locate(cand_id)
    except NotFoundError:
        raise ConsoleError(409, f"the candidate of '{ref}' ({cand_id[:12]}) was removed from the workspace; "
                           "run the sweep again", "no_candidate") from None
    refs = ws.index.refs()
    before = refs.get(DEPLOYED)
    folder = ws.root / "audit"
    record = {"ts": time.time(), "kind": "admin", "action": "deploy", "key_id": key.id, "key_name": key.name,
              "role": key.role, "model": DEPLOYED, "purpose": None, "operation": "deploy",
              "report": report.id, "report_name": report.name, "variant": results.get("candidate"),
              "artifact": cand.id, "artifact_name": cand.name, "ref": DEPLOYED, "previous": before,
              "host": socket.gethostname(), "via": "console"}
    store = open_store(folder)
    try:
        chain = f"console-{socket.gethostname()}"
        seq = append_now(store, Signer(folder), folder, chain, record)
    finally:
        store.close()
    if before and before != cand.id:
        ws.index.set_ref(PREVIOUS, before)
    ws.index.set_ref(DEPLOYED, cand.id)
    return {"deployed": deployed(ws), "audit": {"chain": chain, "seq": seq}, "unchanged": before == cand.id}


def router(console: Console) -> APIRouter:
    r = APIRouter()
    read = Depends(console.require("artifacts.read"))

    @r.get("/evals")
    def list_reports(key: KeyRecord = read) -> dict[str, Any]:
        ws = console.workspace()
        out = []
        for art, names in ws.list("report"):
            kind = report_type(art)
            if kind is None:
                continue
            stats = art.manifest.stats
            out.append({**describe(art, names), "type": kind, "candidate": stats.get("candidate"),
                        "candidates": stats.get("candidates"), "passed": stats.get("passed"),
                        "variants": stats.get("variants")})
        return {"reports": out[::-1], "deployed": deployed(ws)}

    @r.post("/evals/deploy")
    def deploy_candidate(body: DeployBody, key: KeyRecord = Depends(console.require("deploy"))) -> dict[str, Any]:
        return deploy(console.workspace(), key, body.report)

    @r.post("/evals/{ref:path}/gates")
    def gates(ref: str, body: GatesBody, key: KeyRecord = read) -> dict[str, Any]:
        ws = console.workspace()
        art = ws.get(ref)
        results = results_of(art)
        if report_type(art) == "compare":
            targets = {c["name"]: c["metrics"] for c in results.get("candidates", [])}
        elif report_type(art) == "sweep":
            targets = {v["name"]: v["metrics"] for v in results.get("variants", [])}
        else:
            targets = {art.name or art.short_id: results}
        out: dict[str, list[dict[str, Any]]] = {}
        for name, metrics in targets.items():
            out[name] = []
            for metric, expr in body.gates.items():
                try:
                    g = check_gates({metric: expr}, metrics, art.manifest.producer.stage)[0]
                    out[name].append(g.as_dict() | {"why": g.describe()})
                except LubanError as err:  # a metric this model lacks: a miss with the reason, never a pass
                    out[name].append({"metric": metric, "passed": False, "why": str(err)})
        return {"gates": out}

    @r.get("/evals/{ref:path}")
    def report(ref: str, key: KeyRecord = read) -> dict[str, Any]:
        ws = console.workspace()
        return detail(ws, ws.get(ref))

    return r
