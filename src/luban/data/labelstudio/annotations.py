"""Read Label Studio's JSON export back into rows: labels for classification, pairs for preference.

The export (Export -> JSON, or `GET /api/projects/<id>/export?exportType=JSON`) is a list of tasks,
each with `data` (what we sent) and `annotations` (each a list of `result` items). Per task the
latest annotation that was not skipped counts; several annotators who disagree are counted in
`disagreements` so a report can show them. A task without a usable annotation is not lost: it comes
back as a rejected row with its reason (unannotated, skipped, no_label, no_choice).
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from luban.data.formats.validate import Rejected


def _latest(task: dict[str, Any]) -> list[dict[str, Any]]:
    annotations = task.get("annotations") or []
    live = [a for a in annotations if not a.get("was_cancelled") and a.get("result")]
    if not live:
        raise Rejected("skipped" if annotations else "unannotated",
                       "every annotation was skipped or empty" if annotations else "the task has no annotation")
    return max(live, key=lambda a: (str(a.get("updated_at") or ""), a.get("id") or 0))["result"]


def _values(result: list[dict[str, Any]], kind: str) -> list[Any]:
    return [r.get("value", {}) for r in result if r.get("type") == kind]


def _choice(result: list[dict[str, Any]]) -> str:
    for value in _values(result, "choices"):
        if value.get("choices"):
            return str(value["choices"][0])
    raise Rejected("no_label", "the annotation picks no choice")


def _side(result: list[dict[str, Any]]) -> str:
    for value in _values(result, "pairwise"):
        if value.get("selected") in ("left", "right"):
            return str(value["selected"])
    raise Rejected("no_choice", "the annotation picks neither left nor right")


def _all_votes(task: dict[str, Any], read: Any) -> set[str]:
    votes = set()
    for a in task.get("annotations") or []:
        if not a.get("was_cancelled") and a.get("result"):
            with contextlib.suppress(Rejected):  # an unreadable vote is not a vote
                votes.add(read(a["result"]))
    return votes


def classification_row(task: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """(row with text and label, whether annotators disagreed)."""
    label = _choice(_latest(task))
    data = task.get("data") or {}
    return {"text": data.get("text", ""), "label": label}, len(_all_votes(task, _choice)) > 1


def pairwise_row(task: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """(row with prompt, chosen, rejected, system, whether annotators disagreed); left is answer1."""
    side = _side(_latest(task))
    data = task.get("data") or {}
    left, right = data.get("answer1", ""), data.get("answer2", "")
    chosen, rejected = (left, right) if side == "left" else (right, left)
    row = {"prompt": data.get("prompt", ""), "chosen": chosen, "rejected": rejected, "system": ""}
    return row, len(_all_votes(task, _side)) > 1


def detect_task_type(tasks: list[dict[str, Any]]) -> str | None:
    """'pairwise' or 'classification' from the result types (or data keys) found in the export."""
    for t in tasks:
        for a in t.get("annotations") or []:
            for r in a.get("result") or []:
                if r.get("type") == "pairwise":
                    return "pairwise"
                if r.get("type") == "choices":
                    return "classification"
    data = next((t.get("data") or {} for t in tasks), {})
    return "pairwise" if "answer1" in data else ("classification" if "text" in data else None)


def task_json(task: dict[str, Any]) -> str:
    return json.dumps(task, ensure_ascii=False, default=str)
