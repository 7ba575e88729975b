"""The `evaluate.tasks` stage: task YAML files scored on a model (or a served endpoint) -> report artifact.

    - name: acme-eval
      use: evaluate.tasks
      from: {model: acme-chat}               # or with: {endpoint: {url: ..., model: ...}}
      with: {tasks: [eval/qa.yaml, eval/mc.yaml]}
      gates: {acme_qa.exact_match: ">= 0.8", acme_mc_zh.acc: ">= 0.6"}

results.json holds `metrics` ("task.metric" -> value, what gates read) and `tasks` (every item scored); the task
files and their data files are recorded in lineage with their hashes. A task without `data:` reads the
`data` input (a dataset artifact: its `split`, else test, else train).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import Field

from luban.core.artifact import Artifact, Parent, artifact_parent, file_parent
from luban.core.config import InputPath, StageConfig, dump_config
from luban.core.errors import UsageError
from luban.core.hashing import sha256_file
from luban.core.shards import has_split, records
from luban.core.workspace import Workspace
from luban.evaluate.report import render_tasks_report
from luban.evaluate.runner import evaluate, prepare
from luban.evaluate.safety_stage import Endpoint
from luban.evaluate.targets import Endpoint as EndpointTarget
from luban.evaluate.targets import Target
from luban.evaluate.tasks import Task, load_task


class TasksEvalConfig(StageConfig):
    tasks: list[InputPath] = Field(min_length=1, description="task YAML files (templates: examples/eval/)")
    endpoint: Endpoint | None = Field(None, description="score a served model instead of the `model` input")
    batch_size: int = Field(16, ge=1, description="prompts per forward pass on a local model")
    concurrency: int = Field(8, ge=1, le=256, description="requests in flight to an endpoint")
    limit: int | None = Field(None, ge=1, description="score at most N items of every task")


def dataset_rows(tasks: list[Task], data: Artifact | None) -> dict[str, list[dict[str, Any]]]:
    """Items for the tasks without `data:`, from the dataset input."""
    out = {}
    for t in tasks:
        if t.data is None and data is not None:
            split = t.split or ("test" if has_split(data, "test") else "train")
            out[t.task] = records(data, split)
    return out


def evaluate_tasks(cfg: TasksEvalConfig, ws: Workspace, inputs: dict[str, Artifact] | None = None,
                   name: str | None = None) -> Artifact:
    """Score `inputs["model"]` (or `cfg.endpoint`) on `cfg.tasks`; returns a report artifact."""
    inputs = inputs or {}
    if (cfg.endpoint is None) == ("model" not in inputs):
        raise UsageError("evaluate.tasks needs exactly one of an input `model` or `endpoint:`",
                         "add `from: {model: <stage>}` or `with: {endpoint: {url: ..., model: ...}}`")
    tasks = [load_task(p) for p in cfg.tasks]
    if cfg.limit:
        tasks = [t.model_copy(update={"limit": min(t.limit or cfg.limit, cfg.limit)}) for t in tasks]
    rows = dataset_rows(tasks, inputs.get("data"))
    prepare(list(tasks), rows)  # every item checked before the model loads
    target: str | Path | Target
    if cfg.endpoint is not None:
        ep = cfg.endpoint
        key = os.environ.get(ep.api_key_env) if ep.api_key_env else None
        if ep.api_key_env and not key:
            raise UsageError(f"environment variable {ep.api_key_env} is not set", "export the endpoint's API key")
        target = EndpointTarget(ep.url, ep.model, api_key=key, concurrency=cfg.concurrency)
    else:
        target = inputs["model"].path
    results = evaluate(target, list(tasks), batch_size=cfg.batch_size, concurrency=cfg.concurrency, rows=rows)
    if "model" in inputs:
        results["target"] = {"name": inputs["model"].name, "id": inputs["model"].id}
    else:
        assert cfg.endpoint is not None
        results["target"] = {"endpoint": cfg.endpoint.url, "model": cfg.endpoint.model}
    parents = [artifact_parent(a, role) for role, a in inputs.items()] + _file_parents(cfg, tasks)
    with ws.create("report", name, "evaluate.tasks", dump_config(cfg), parents=parents) as p:
        (p.path / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
        (p.path / "report.html").write_text(render_tasks_report(results), encoding="utf-8")
        p.stats = {"metrics": results["metrics"], "tasks": {t: r["n"] for t, r in results["tasks"].items()}}
    assert p.result is not None
    return p.result


def _file_parents(cfg: TasksEvalConfig, tasks: list[Task]) -> list[Parent]:
    out = []
    for path, task in zip(cfg.tasks, tasks):
        out.append(file_parent(cfg.portable(path), sha256_file(Path(path)), role=f"task:{task.task}"))
        data = task.data_path()
        if data is not None:
            out.append(file_parent(cfg.portable(data), sha256_file(data), role=f"data:{task.task}"))
    return out
