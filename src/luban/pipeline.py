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
config, its input artifact ids and the content of every input path its config declares (a config
string that is not a declared path is never looked up on disk). When the artifact named after the
stage carries the same key (and its raw source files are unchanged) it is reused.

Paths belong to the file that names them: those in `with:` are relative to the spec's folder, those
in a `config:` file to that file's folder; the working folder plays no part, so ids and run keys are
the same wherever `luban run` is started.
"""

from __future__ import annotations

import glob
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from luban.core.artifact import Artifact, artifact_parent
from luban.core.config import (
    StageConfig,
    build_config,
    declared_paths,
    deep_merge,
    dump_config,
    read_yaml,
    resolve_path,
    resolve_paths,
)
from luban.core.errors import ConfigError, LubanError, NotFoundError, UsageError
from luban.core.hashing import sha256_file, sha256_json
from luban.core.workspace import ENCRYPTED_MARKER, Workspace, current_run_key, extra_parents
from luban.evaluate.gates import GateResult, check_gates, parse_gates, raise_on_failure
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
    # thresholds on the metrics of the stage's report, e.g. {exact_match: ">= 0.8"}; a miss stops the run
    gates: dict[str, str | float] = Field(default_factory=dict)


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
    gates: list[GateResult] = field(default_factory=list)


def load_spec(path: str | Path) -> SolutionSpec:
    data = read_yaml(path)
    spec = build_config(SolutionSpec, data, source=str(path))
    if not spec.stages:
        raise ConfigError(f"{path}: no stages", "add a `stages:` list")
    for s in spec.stages:
        get_stage(s.use)  # unknown stage -> NotFoundError with a suggestion
        try:
            parse_gates(s.gates)  # an unreadable gate fails before any stage runs
        except UsageError as e:
            raise ConfigError(f"{path}: stage '{s.name}': {e.message}", e.hint) from None
    return spec


def _path_fingerprints(cfg: StageConfig) -> dict[str, str]:
    """Content hash of what each declared input path of `cfg` names: a file, a folder's files (hidden ones
    skipped, as readers skip them), a glob's matches, or "missing"; keyed by the path as lineage records
    it. Strings that are not declared paths are config values, never looked up on disk."""
    out: dict[str, str] = {}
    for value, spec in declared_paths(cfg):
        if spec.content:
            path = Path(resolve_path(value, cfg.root))
            out[cfg.portable(path)] = _content_hash(path, cfg)
    return out


def _content_hash(path: Path, cfg: StageConfig) -> str:
    try:
        if glob.has_magic(str(path)):
            files = sorted(Path(m) for m in glob.glob(str(path), recursive=True) if Path(m).is_file())
            return sha256_json([(cfg.portable(f), sha256_file(f)) for f in files])
        if path.is_file():
            return sha256_file(path)
        if path.is_dir():
            files = sorted(f for f in path.rglob("*")
                           if f.is_file() and not any(part.startswith(".") for part in f.relative_to(path).parts))
            return sha256_json([(f.relative_to(path).as_posix(), sha256_file(f)) for f in files])
    except OSError as e:
        return f"unreadable: {e.strerror}"
    return "missing"


def _sources_unchanged(art: Artifact, root: Path) -> bool:
    """Whether every raw file the artifact was made from still has its hash (paths relative to `root`)."""
    for p in art.manifest.parents:
        if p.type == "file" and p.path:
            f = root / p.path
            if not f.is_file() or sha256_file(f) != p.sha256:
                return False
    return True


def run_spec(spec_path: str | Path, ws: Workspace, force: set[str] | None = None, until: str | None = None,
             on_start: Callable[[StageEntry, int, int], None] | None = None,
             ignore_gates: bool = False) -> list[StageResult]:
    """Run the spec's stages in order; returns what ran or was reused. A stage's failing gate stops the run
    (GateFailed) unless `ignore_gates`: then every later artifact has that report as a "gate-ignored" parent."""
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
    ignored = extra_parents.set(())
    try:
        for i, entry in enumerate(spec.stages):
            if on_start:
                on_start(entry, i, len(spec.stages))
            try:
                results.append(_run_one(entry, ws, produced, force, spec_path.parent))
                results[-1].gates = _check_gates(entry, results[-1].artifact, ignore_gates)
            except LubanError as e:  # say which stage failed, keep the error's type and exit code
                raise type(e)(f"stage '{entry.name}': {e.message}", e.hint) from e
            produced[entry.name] = results[-1].artifact
            if any(not g.passed for g in results[-1].gates):  # only reached with ignore_gates
                extra_parents.set((*extra_parents.get(), artifact_parent(results[-1].artifact, "gate-ignored")))
            if entry.name == until:
                break
    finally:
        extra_parents.reset(ignored)
    return results


def _check_gates(entry: StageEntry, art: Artifact, ignore: bool) -> list[GateResult]:
    """The stage's gates against its report's results.json; GateFailed on a miss unless `ignore`."""
    if not entry.gates:
        return []
    path = art.path / "results.json"
    if not path.is_file():
        raise UsageError(f"gates need a report with results.json; {entry.use} made a {art.kind} without one",
                         "put `gates:` on an evaluate.* stage")
    results = check_gates(entry.gates, json.loads(path.read_text(encoding="utf-8")), entry.use)
    if not ignore:
        raise_on_failure(results)
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


def _run_one(entry: StageEntry, ws: Workspace, produced: dict[str, Artifact], force: set[str],
             folder: Path) -> StageResult:
    """Run (or reuse) one stage; `folder` is the spec's, which the paths in `with:` are relative to."""
    stage = get_stage(entry.use)
    model = stage.load_config_class()
    data: dict[str, Any] = {}
    if entry.config:  # a config file's own paths are relative to that file
        config_file = folder / entry.config
        data = resolve_paths(model, read_yaml(config_file), config_file.parent)
    data = deep_merge(data, resolve_paths(model, entry.with_, folder))
    cfg = build_config(model, data, source=f"stage '{entry.name}' ({entry.use})", base=folder)
    inputs = _resolve_inputs(entry, stage, ws, produced)
    key_data = {"use": entry.use, "config": dump_config(cfg), "inputs": {r: a.id for r, a in inputs.items()},
                "paths": _path_fingerprints(cfg)}
    if extra_parents.get():  # made past an ignored gate: never mistaken for (or reused as) a gated run's
        key_data["gate_ignored"] = [p.id or "" for p in extra_parents.get()]
    key = sha256_json(key_data)
    if entry.name not in force:
        old = ws.by_run_key(key)
        if old is not None and _sources_unchanged(old, folder):
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
