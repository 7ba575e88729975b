"""Stages declare their input roles (name, artifact kind, optional or not); the pipeline runner and
`luban train` check inputs against them before a stage runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from luban.core.artifact import KINDS
from luban.core.errors import ConfigError, UsageError
from luban.core.workspace import Workspace
from luban.pipeline import run_spec
from luban.stages import STAGES, Role, get_stage

SPEC = """
name: t
stages:
  - name: corpus
    use: data.curate
    with: {{inputs: [corpus], process: [], workers: 1}}
  - name: broken
    use: {use}
    from: {from_}
"""


def _spec(tmp_path: Path, use: str, from_: str) -> Path:
    (tmp_path / "corpus").mkdir(exist_ok=True)
    (tmp_path / "corpus" / "a.txt").write_text("Acme X100 has a warranty of 2 years. 保修期为2年。\n" * 20)
    p = tmp_path / "luban.yaml"
    p.write_text(SPEC.format(use=use, from_=from_))
    return p


def test_every_stage_declares_roles_with_a_kind() -> None:
    for name in STAGES:
        stage = get_stage(name)
        assert all(r.kind in KINDS for r in stage.inputs), name
    assert [str(r) for r in get_stage("train.grpo").inputs] == [
        "model (model)", "data (dataset)", "reward_model (model, optional)"]
    assert [r.name for r in get_stage("train.distill").missing(["model"])] == ["data", "teacher"]
    assert get_stage("evaluate.qa").missing(["model"]) == []
    with pytest.raises(ValueError, match="unknown artifact kind 'datset'"):
        Role("data", "datset")


def test_an_input_of_the_wrong_kind_fails_before_the_stage_runs(tmp_path: Path, ws: Workspace) -> None:
    spec = _spec(tmp_path, "compress.merge", "{model: corpus}")
    with pytest.raises(UsageError, match="stage 'broken': input 'model' of compress.merge must be a model "
                                         "artifact, 'corpus' is a dataset"):
        run_spec(spec, ws)
    assert not ws.exists("broken")


def test_a_missing_required_input_names_the_role_and_its_kind(tmp_path: Path, ws: Workspace) -> None:
    spec = _spec(tmp_path, "train.sft", "{data: corpus}")
    with pytest.raises(UsageError, match=r"stage 'broken': train.sft needs input\(s\) model \(model\)"):
        run_spec(spec, ws)


def test_an_undeclared_role_lists_the_declared_ones(tmp_path: Path, ws: Workspace) -> None:
    spec = _spec(tmp_path, "models.tiny", "{corpse: corpus}")
    with pytest.raises(ConfigError, match=r"models.tiny takes no input 'corpse'.*corpus \(dataset, optional\)"):
        run_spec(spec, ws)


def test_curation_takes_any_number_of_datasets_under_any_role(tmp_path: Path, ws: Workspace) -> None:
    spec = _spec(tmp_path, "data.curate", "{first: corpus, second: corpus}")
    spec.write_text(spec.read_text() + "    with: {process: [], workers: 1}\n")
    results = run_spec(spec, ws)
    assert results[-1].artifact.manifest.stats["train"] == 2 * results[0].artifact.manifest.stats["train"]
