"""Artifacts: immutable, content-addressed outputs of stages, each with a `manifest.json`.

An artifact is a folder `artifacts/<kind>/<id>/` holding its files and `manifest.json`. The id is
the SHA-256 of the artifact's kind, its files' hashes and its parents, so identical work gives an
identical id and lineage is part of identity.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

Kind = Literal["dataset", "model", "report", "run", "prompt"]
KINDS: tuple[str, ...] = ("dataset", "model", "report", "run", "prompt")


class Producer(BaseModel):
    stage: str
    config: dict[str, Any] = Field(default_factory=dict)
    version: str = ""
    run_key: str | None = None  # set by the pipeline runner: hash of stage, config and inputs


class Parent(BaseModel):
    """Either an earlier artifact (`id`) or a raw source file (`path` + `sha256`)."""

    type: Literal["artifact", "file"]
    role: str = "input"
    id: str | None = None
    name: str | None = None
    kind: str | None = None
    path: str | None = None
    sha256: str | None = None


class Manifest(BaseModel):
    id: str
    kind: Kind
    name: str | None = None
    created: str
    producer: Producer
    parents: list[Parent] = Field(default_factory=list)
    files: dict[str, str] = Field(default_factory=dict)
    stats: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class Artifact:
    path: Path
    manifest: Manifest

    @property
    def id(self) -> str:
        return self.manifest.id

    @property
    def short_id(self) -> str:
        return self.manifest.id[:12]

    @property
    def kind(self) -> str:
        return self.manifest.kind

    @property
    def name(self) -> str | None:
        return self.manifest.name

    def parent(self, role: str) -> Parent | None:
        return next((p for p in self.manifest.parents if p.role == role), None)

    @classmethod
    def load(cls, path: Path) -> Artifact:
        data = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        return cls(path=path, manifest=Manifest.model_validate(data))


def file_parent(path: str | Path, sha256: str, role: str = "source") -> Parent:
    return Parent(type="file", role=role, path=str(path), sha256=sha256)


def artifact_parent(art: Artifact, role: str = "input") -> Parent:
    return Parent(type="artifact", role=role, id=art.id, name=art.name, kind=art.kind)
