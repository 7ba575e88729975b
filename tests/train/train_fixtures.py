"""Data the recipe tests train on (importable by the test modules; fixtures live in conftest.py)."""

from __future__ import annotations

import pyarrow as pa

from luban.core.artifact import Artifact
from luban.core.shards import write_splits
from luban.core.workspace import Workspace

QA = [("What is the warranty of the X100?", "The X100 has a 2-year warranty."),
      ("When is support open?", "Support is open 9:00-18:00 on weekdays."),
      ("Which lock does Acme make?", "Acme makes the L2 smart lock.")]


def chat_rows(n: int = 24, system: bool = True) -> list[dict[str, object]]:
    rows = []
    for i in range(n):
        q, a = QA[i % len(QA)]
        msgs = [{"role": "system", "content": "You are the Acme assistant."}] if system and i % 2 == 0 else []
        msgs += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
        rows.append({"messages": msgs})
    return rows


def make_dataset(ws: Workspace, name: str, rows: list[dict[str, object]]) -> Artifact:
    with ws.create("dataset", name, "test.fixture") as p:
        write_splits(p.path, {"train": pa.Table.from_pylist(rows)})
    assert p.result is not None
    return p.result
