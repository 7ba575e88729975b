"""Metadata index of a workspace through SQLAlchemy: SQLite by default, any URL (PostgreSQL) works.

Two tables: `luban_artifacts` (one row per artifact, manifest as JSON text) and `luban_refs`
(names pointing at ids, like git tags). Rows carry a `workspace` key so several workspaces can
share one PostgreSQL database.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import Column, MetaData, String, Table, Text, create_engine, delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from luban.core.artifact import Manifest
from luban.core.errors import WorkspaceError

metadata = MetaData()

artifacts_table = Table(
    "luban_artifacts",
    metadata,
    Column("workspace", String(512), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("created", String(40), nullable=False),
    Column("relpath", String(512), nullable=False),
    Column("manifest", Text, nullable=False),
)

refs_table = Table(
    "luban_refs",
    metadata,
    Column("workspace", String(512), primary_key=True),
    Column("name", String(256), primary_key=True),
    Column("id", String(64), nullable=False),
    Column("updated", String(40), nullable=False),
)

# run key (hash of stage, config and inputs, see luban.pipeline) -> the artifact that run produced
runs_table = Table(
    "luban_runs",
    metadata,
    Column("workspace", String(512), primary_key=True),
    Column("run_key", String(64), primary_key=True),
    Column("id", String(64), nullable=False),
    Column("created", String(40), nullable=False),
)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Index:
    def __init__(self, url: str, workspace_key: str) -> None:
        self.url = url
        self.key = workspace_key
        try:
            self.engine: Engine = create_engine(url, future=True)
            try:
                metadata.create_all(self.engine)
            except SQLAlchemyError as e:  # two processes opening a new workspace at once: the other won
                if "already exists" not in str(e):
                    raise
                metadata.create_all(self.engine)
        except (SQLAlchemyError, ModuleNotFoundError) as e:
            msg = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise WorkspaceError(f"cannot open the workspace index at {_safe(url)}: {msg}",
                                 "check LUBAN_DB_URL or that the workspace folder is writable") from None

    def add(self, manifest: Manifest, relpath: str) -> None:
        row = dict(workspace=self.key, id=manifest.id, kind=manifest.kind, created=manifest.created,
                   relpath=relpath, manifest=manifest.model_dump_json())
        with self._begin() as conn:
            exists = conn.execute(select(artifacts_table.c.id).where(
                artifacts_table.c.workspace == self.key, artifacts_table.c.id == manifest.id)).first()
            if not exists:
                conn.execute(artifacts_table.insert().values(**row))

    def set_ref(self, name: str, artifact_id: str) -> None:
        with self._begin() as conn:
            conn.execute(delete(refs_table).where(refs_table.c.workspace == self.key, refs_table.c.name == name))
            conn.execute(refs_table.insert().values(workspace=self.key, name=name, id=artifact_id, updated=now()))

    def set_run(self, run_key: str, artifact_id: str) -> None:
        with self._begin() as conn:
            conn.execute(delete(runs_table).where(runs_table.c.workspace == self.key, runs_table.c.run_key == run_key))
            conn.execute(runs_table.insert().values(workspace=self.key, run_key=run_key, id=artifact_id, created=now()))

    def get_run(self, run_key: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(runs_table.c.id).where(
                runs_table.c.workspace == self.key, runs_table.c.run_key == run_key)).first()
            return row.id if row else None

    def remove_ref(self, name: str) -> None:
        with self._begin() as conn:
            conn.execute(delete(refs_table).where(refs_table.c.workspace == self.key, refs_table.c.name == name))

    def remove_artifact(self, artifact_id: str) -> None:
        with self._begin() as conn:
            conn.execute(delete(refs_table).where(refs_table.c.workspace == self.key, refs_table.c.id == artifact_id))
            conn.execute(delete(runs_table).where(runs_table.c.workspace == self.key, runs_table.c.id == artifact_id))
            conn.execute(delete(artifacts_table).where(
                artifacts_table.c.workspace == self.key, artifacts_table.c.id == artifact_id))

    def refs(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(refs_table.c.name, refs_table.c.id).where(refs_table.c.workspace == self.key))
            return {r.name: r.id for r in rows}

    def artifacts(self) -> list[tuple[str, str, Manifest]]:
        """(id, relpath, manifest) of every artifact, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(artifacts_table).where(artifacts_table.c.workspace == self.key)
                                .order_by(artifacts_table.c.created))
            return [(r.id, r.relpath, Manifest.model_validate(json.loads(r.manifest))) for r in rows]

    def find_ids(self, prefix: str) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(artifacts_table.c.id).where(
                artifacts_table.c.workspace == self.key, artifacts_table.c.id.like(prefix + "%")))
            return [r.id for r in rows]

    def relpath(self, artifact_id: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(artifacts_table.c.relpath).where(
                artifacts_table.c.workspace == self.key, artifacts_table.c.id == artifact_id)).first()
            return row.relpath if row else None

    def _begin(self):  # type: ignore[no-untyped-def]
        try:
            return self.engine.begin()
        except OperationalError as e:
            raise WorkspaceError(f"workspace index is not writable: {str(e).splitlines()[0]}") from None

    def close(self) -> None:
        self.engine.dispose()


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url
