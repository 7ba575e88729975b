"""The metadata index on the real PostgreSQL of this machine."""

import pytest

from luban.core.artifact import artifact_parent
from luban.core.lineage import lineage
from luban.core.workspace import Workspace

pytestmark = pytest.mark.services


def test_workspace_on_postgres(tmp_path, postgres_url):
    ws = Workspace(tmp_path / "ws", db_url=postgres_url)
    with ws.create("dataset", "pg-data", "test.make") as p:
        (p.path / "d.txt").write_text("d")
    with ws.create("model", "pg-model", "test.make", parents=[artifact_parent(p.result, "data")]) as q:
        (q.path / "m.txt").write_text("m")
    other = Workspace(tmp_path / "ws", db_url=postgres_url)  # a second process would see the same
    assert other.get("pg-model").id == q.result.id
    assert [c.label for c in lineage(other, "pg-model").children] == ["pg-data"]
    assert not (tmp_path / "ws" / "index.db").exists()
    other.remove("pg-model")
    other.remove("pg-data")
    assert other.list() == []
    ws.close()
    other.close()
