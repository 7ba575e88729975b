"""`evaluate(target, tasks) -> metrics`: the Python API under `luban eval`, the `evaluate.tasks` stage and the sweep.

    from luban.evaluate.runner import evaluate
    res = evaluate("path/to/model", ["examples/eval/generate_qa.yaml"])          # a model directory
    res = evaluate("http://127.0.0.1:8000/v1#tiny", ["examples/eval/mc_ceval.yaml"])  # a served model
    res["metrics"]["generate_qa.exact_match"]

Every task's items are read and checked before the model is loaded, so a bad task file fails in a second,
not after a model has been loaded. The result is plain JSON data: `metrics` (flat, "task.metric" keys,
what gates read), `tasks` (per task: kind, items scored, metrics, every item with its prediction).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from luban.core.errors import UsageError
from luban.evaluate.kinds import KINDS
from luban.evaluate.targets import Endpoint, LocalModel, Target
from luban.evaluate.tasks import Task, load_task, read_rows


def make_target(ref: str | Path | Target, batch_size: int = 16, concurrency: int = 8,
                api_key: str | None = None) -> Target:
    """A Target from a model directory, or "URL#model" for a served model (`http://host:port/v1#name`)."""
    if not isinstance(ref, str | Path):
        return ref
    text = str(ref)
    if text.startswith(("http://", "https://")):
        url, _, model = text.partition("#")
        if not model:
            raise UsageError(f"endpoint {url} names no model", f"write {url}#<model name>")
        return Endpoint(url, model, api_key=api_key, concurrency=concurrency)
    return LocalModel(Path(text), batch_size=batch_size)


def prepare(tasks: list[str | Path | Task], rows: dict[str, list[dict[str, Any]]] | None = None
            ) -> list[tuple[Task, list[dict[str, Any]]]]:
    """Load every task and its items, checked. `rows` supplies items by task name (a dataset artifact's
    records for a task without `data:`)."""
    out = []
    seen: set[str] = set()
    for t in tasks:
        task = t if isinstance(t, Task) else load_task(t)
        if task.task in seen:
            raise UsageError(f"task name '{task.task}' is given twice", "give each task its own `task:` name")
        seen.add(task.task)
        path = task.data_path()
        if rows and task.task in rows:
            items = rows[task.task]
        elif path is not None:
            items = read_rows(path, task.format)
        else:
            raise UsageError(f"task {task.task} has no data", "set `data:` in its YAML, or pass a dataset as input `data`")
        items = items[: task.limit] if task.limit else items
        if not items:
            raise UsageError(f"task {task.task} has no items", f"{path or 'its dataset'} is empty")
        KINDS.get(task.kind)().check(task, items)
        out.append((task, items))
    return out


def evaluate(target: str | Path | Target, tasks: list[str | Path | Task], batch_size: int = 16,
             concurrency: int = 8, rows: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    """Score `target` (model directory, "URL#model" or a Target) on `tasks` (YAML paths or Tasks)."""
    prepared = prepare(tasks, rows)
    tgt = make_target(target, batch_size, concurrency)
    results: dict[str, Any] = {"target": tgt.name, "metrics": {}, "tasks": {}}
    for task, items in prepared:
        if task.batch_size and isinstance(tgt, LocalModel):
            tgt.batch_size = task.batch_size
        t0 = time.perf_counter()
        res = KINDS.get(task.kind)().score(task, items, tgt)
        seconds = time.perf_counter() - t0
        results["tasks"][task.task] = {"kind": task.kind, "description": task.description, "n": len(items),
                                       "seconds": round(seconds, 3), "metrics": res.metrics, "items": res.items}
        for name, value in res.metrics.items():
            results["metrics"][f"{task.task}.{name}"] = value
        if isinstance(tgt, LocalModel):
            tgt.batch_size = batch_size
    return results
