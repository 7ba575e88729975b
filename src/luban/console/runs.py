"""Console API: training runs started from the browser (the page `training.js`).

    GET  /api/runs/options          recipes, base models, datasets, the device and the form's defaults
    POST /api/runs/estimate         the advisor's memory and time for a form; `fits` false with the reason
    POST /api/runs                  start `luban train` for a form (refused when invalid or it will not fit)
    GET  /api/runs                  every run of the workspace, newest first, with its status
    GET  /api/runs/{id}             one run: status, loss points (step, loss, lr), log tail, output artifact
    POST /api/runs/{id}/stop        SIGTERM: the run exits cleanly, its checkpoints kept; status stopped
    POST /api/runs/{id}/resume      the same command with --resume, from the last checkpoint

Design choices:
- Reading (options, estimate, the runs) is `artifacts.read`; starting, stopping and resuming are
  `artifacts.write`, the operation `luban train` itself needs on the CLI.
- A run is the CLI in its own process (runs_store.py); the request returns as soon as it is spawned, and the
  page polls GET /api/runs/{id} for the curve.
- File and process work runs in a thread (`run_in_threadpool` via plain `def` routes), never on the event
  loop the gateway's model calls share.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from luban.console.base import Console, ConsoleError
from luban.console.runs_form import Forms, RunForm, recipe_config
from luban.console.runs_store import RunStore
from luban.gateway.keys import KeyRecord


def router(console: Console) -> APIRouter:
    api = APIRouter()
    forms = Forms(console.gateway.cfg)
    stores: dict[str, RunStore] = {}

    def store() -> RunStore:
        ws = console.workspace()
        key = str(ws.root)
        if key not in stores:
            stores[key] = RunStore(ws)
        return stores[key]

    @api.get("/runs/options")
    def options(key: KeyRecord = Depends(console.require("artifacts.read"))) -> dict[str, Any]:
        ws = console.workspace()
        return {"recipes": forms.recipes(), "models": forms.models(ws), "datasets": forms.datasets(ws),
                "device": forms.device(), "defaults": RunForm().model_dump()}

    @api.post("/runs/estimate")
    def estimate(form: RunForm, key: KeyRecord = Depends(console.require("artifacts.read"))) -> dict[str, Any]:
        return forms.estimate(form, console.workspace())

    @api.post("/runs", status_code=201)
    def start(form: RunForm, key: KeyRecord = Depends(console.require("artifacts.write"))) -> dict[str, Any]:
        ws = console.workspace()
        forms.check(form, ws, starting=True)
        verdict = forms.estimate(form, ws)
        if not verdict["fits"]:
            raise ConsoleError(400, str(verdict["reason"]), "will_not_fit")
        methods = next(r["methods"] for r in forms.recipes() if r["name"] == form.recipe)
        rec = store().start(form.model_dump(), recipe_config(form, methods), key.id)
        return {**rec, "estimate": verdict}

    @api.get("/runs")
    def runs(key: KeyRecord = Depends(console.require("artifacts.read"))) -> dict[str, Any]:
        s = store()
        out = []
        for rec in s.all():
            pts = s.points(rec)
            out.append({**rec, "step": pts[-1]["step"] if pts else None, "loss": pts[-1]["loss"] if pts else None})
        return {"runs": out}

    @api.get("/runs/{run_id}")
    def run(run_id: str, key: KeyRecord = Depends(console.require("artifacts.read"))) -> dict[str, Any]:
        s = store()
        rec = s.current(run_id)
        return {**rec, "points": s.points(rec), "log": s.log_tail(rec),
                "checkpoints": s.checkpoints(rec)}

    @api.post("/runs/{run_id}/stop")
    def stop(run_id: str, key: KeyRecord = Depends(console.require("artifacts.write"))) -> dict[str, Any]:
        return store().stop(run_id)

    @api.post("/runs/{run_id}/resume")
    def resume(run_id: str, key: KeyRecord = Depends(console.require("artifacts.write"))) -> dict[str, Any]:
        return store().resume(run_id)

    return api
