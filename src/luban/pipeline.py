"""Solution spec (`luban.yaml`) and its incremental runner.

    name: acme
    stages:
      - name: acme-corpus          # also the name of the artifact it produces
        use: data.curate           # a stage from luban.stages
        with: {inputs: [raw]}      # its config (or `config: file.yaml` plus `with:` on top)
      - name: acme-base
        use: models.tiny
        from: {corpus: acme-corpus}   # role -> earlier stage or existing artifact name

The runner works like a build system: a stage's run key is the hash of its `use`, its validated
config, its input artifact ids and the content of every file or folder its config names. When the
artifact named after the stage carries the same key (and its raw source files are unchanged) it is
reused. Paths in the spec are relative to the spec file's folder.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from luban.core.artifact import Artifact
from luban.core.config import build_config, deep_merge, read_yaml
from luban.core.errors import ConfigError, LubanError, NotFoundError, UsageError
from luban.core.hashing import sha256_file, sha256_json
from luban.core.workspace import ENCRYPTED_MARKER, Workspace, current_run_key
from luban.security.masterkey import MasterKey, from_env
from luban.stages import StageSpec, get_stage


class StageEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    use: str
    from_: dict[str, str] | str | None = Field(None, alias="from")
    config: str | None = None
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    encrypt: bool = False  # encrypt the stage's artifact at rest (needs a master key; docs/security.md)


class SolutionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    stages: list[StageEntry]

    @field_validator("stages")
    @classmethod
    def _unique(cls, stages: list[StageEntry]) -> list[StageEntry]:
        seen: set[str] = set()
        for s in stages:
            if s.name in seen:
                raise ValueError(f"stage name '{s.name}' is used twice")
            seen.add(s.name)
        return stages


@dataclass
class StageResult:
    name: str
    use: str
    status: str  # "ran" | "reused"
    artifact: Artifact
    seconds: float


def load_spec(path: str | Path) -> SolutionSpec:
    data = read_yaml(path)
    spec = build_config(SolutionSpec, data, source=str(path))
    if not spec.stages:
        raise ConfigError(f"{path}: no stages", "add a `stages:` list")
    for s in spec.stages:
        get_stage(s.use)  # unknown stage -> NotFoundError with a suggestion
    return spec


@contextlib.contextmanager
def _in_dir(folder: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(old)


def _path_fingerprints(obj: Any) -> dict[str, str]:
    """Content hash of every existing file or folder a config names (relative to the cwd)."""
    out: dict[str, str] = {}

    def visit(v: Any) -> None:
        if isinstance(v, dict):
            for x in v.values():
                visit(x)
        elif isinstance(v, list):
            for x in v:
                visit(x)
        elif isinstance(v, str) and v and len(v) < 4096 and "\n" not in v:
            p = Path(v)
            try:
                if p.is_file():
                    out[v] = sha256_file(p)
                elif p.is_dir():
                    files = sorted(f for f in p.rglob("*") if f.is_file())
                    out[v] = sha256_json([(f.relative_to(p).as_posix(), sha256_file(f)) for f in files])
            except OSError:
                pass

    visit(obj)
    return out


def _sources_unchanged(art: Artifact) -> bool:
    for p in art.manifest.parents:
        if p.type == "file" and p.path:
            f = Path(p.path)
            if not f.is_file() or sha256_file(f) != p.sha256:
                return False
    return True


def run_spec(spec_path: str | Path, ws: Workspace, force: set[str] | None = None, until: str | None = None,
             on_start: Callable[[StageEntry, int, int], None] | None = None) -> list[StageResult]:
    """Run the spec's stages in order; returns what ran or was reused."""
    spec_path = Path(spec_path).resolve()
    spec = load_spec(spec_path)
    names = [s.name for s in spec.stages]
    force = set(force or ())
    for n in list(force) + ([until] if until else []):
        if n not in names:
            raise NotFoundError(f"no stage named '{n}' in {spec_path.name}", f"stages: {', '.join(names)}")
    ws.check_writable()
    produced: dict[str, Artifact] = {}
    results: list[StageResult] = []
    with _in_dir(spec_path.parent):
        for i, entry in enumerate(spec.stages):
            if on_start:
                on_start(entry, i, len(spec.stages))
            try:
                results.append(_run_one(entry, ws, produced, force))
            except LubanError as e:  # say which stage failed, keep the error's type and exit code
                raise type(e)(f"stage '{entry.name}': {e.message}", e.hint) from e
            produced[entry.name] = results[-1].artifact
            if entry.name == until:
                break
    return results


def _resolve_inputs(entry: StageEntry, stage: StageSpec, ws: Workspace,
                    produced: dict[str, Artifact]) -> dict[str, Artifact]:
    """`from:` -> role -> artifact, checked against the roles the stage declares (names, kinds, required)."""
    if entry.from_ is None:
        mapping = {}
    elif isinstance(entry.from_, dict):
        mapping = entry.from_
    else:
        mapping = {stage.inputs[0].name if stage.inputs else "input": entry.from_}
    for role in mapping:
        stage.role(role)  # an undeclared role fails before any artifact is looked up
    out = {role: produced[ref] if ref in produced else ws.get(ref) for role, ref in mapping.items()}
    stage.check_inputs(out)
    return out


def _run_one(entry: StageEntry, ws: Workspace, produced: dict[str, Artifact], force: set[str]) -> StageResult:
    stage = get_stage(entry.use)
    data = read_yaml(entry.config) if entry.config else {}
    data = deep_merge(data, entry.with_)
    cfg = build_config(stage.load_config_class(), data, source=f"stage '{entry.name}' ({entry.use})")
    inputs = _resolve_inputs(entry, stage, ws, produced)
    cfg_json = cfg.model_dump(mode="json")
    key = sha256_json({"use": entry.use, "config": cfg_json, "inputs": {r: a.id for r, a in inputs.items()},
                       "paths": _path_fingerprints(cfg_json)})
    if entry.name not in force:
        old = ws.by_run_key(key)
        if old is not None and _sources_unchanged(old):
            if not ws.exists(entry.name) or ws.locate(entry.name).id != old.id:
                ws.tag(entry.name, old)
            if entry.encrypt and not (ws.locate(old.id).path / ENCRYPTED_MARKER).is_file():
                old = _encrypt(ws, old, entry.name, key)  # made before `encrypt: true` was added
            return StageResult(entry.name, entry.use, "reused", old, 0.0)
    if entry.encrypt:
        _master_key()  # no key: stop before the stage writes any plaintext
    fn = stage.load_function()
    t0 = time.perf_counter()
    token = current_run_key.set(key)
    try:
        art = fn(cfg, ws, inputs, entry.name)
    finally:
        current_run_key.reset(token)
    if not isinstance(art, Artifact):
        raise UsageError(f"stage {entry.use} returned {type(art).__name__}, not an Artifact")
    if art.name != entry.name:
        ws.tag(entry.name, art)
    if entry.encrypt:
        art = _encrypt(ws, art, entry.name, key)
    return StageResult(entry.name, entry.use, "ran", art, time.perf_counter() - t0)


def _encrypt(ws: Workspace, art: Artifact, name: str, run_key: str) -> Artifact:
    """Replace the stage's plaintext artifact by its encrypted copy; the run key then points at the copy."""
    from luban.security.artifacts import attach, encrypt_artifact

    mk = _master_key()
    if not ws.openers:
        attach(ws, mk)
    enc = encrypt_artifact(ws, name, mk)
    ws.index.set_run(run_key, enc.id)
    return ws.open(enc)


def _master_key() -> MasterKey:
    mk = from_env()
    assert mk is not None
    return mk
