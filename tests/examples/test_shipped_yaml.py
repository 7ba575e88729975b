"""Every YAML shipped in examples/ validates against the function it configures."""

import os
from pathlib import Path

import pytest

from luban.core.config import build_config, read_yaml
from luban.pipeline import load_spec
from luban.stages import get_stage

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p for p in (ROOT / "examples").rglob("*.y*ml") if "raw" not in p.parts)


def test_there_are_shipped_yamls():
    assert len(SHIPPED) >= 3


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_yaml_validates(path, monkeypatch):
    data = read_yaml(path)
    monkeypatch.chdir(path.parent)  # paths in shipped files are relative to their folder
    if "stages" in data:  # a solution spec: every stage's config builds
        spec = load_spec(path)
        for entry in spec.stages:
            stage = get_stage(entry.use)
            cfg = read_yaml(entry.config) if entry.config else {}
            cfg.update(entry.with_)
            build_config(stage.load_config_class(), cfg, source=f"{path.name}:{entry.name}")
            for ref in ([entry.from_] if isinstance(entry.from_, str) else (entry.from_ or {}).values()):
                assert ref in [s.name for s in spec.stages], f"{entry.name} reads '{ref}', no such stage"
            for key in ("questions", "config"):
                value = entry.with_.get(key) or (entry.config if key == "config" else None)
                if value:
                    assert os.path.exists(value), f"{entry.name}: {value} does not exist"
    elif "process" in data:  # a data recipe
        build_config(get_stage("data.curate").load_config_class(), data, source=path.name)
    elif path.parent.name == "train":  # a training recipe: file name starts with the recipe
        from luban.cli.train import load_recipe_config

        recipe = path.stem.split("_")[0]
        load_recipe_config(recipe, path, [])
    elif path.parent.name == "eval":  # an evaluation task
        from luban.evaluate.tasks import load_task

        load_task(path)
    elif path.parent.name == "lm_eval":  # the same tasks for lm-eval (tests/evaluate/test_lm_eval_interop.py runs them)
        assert {"task", "output_type", "doc_to_text", "dataset_kwargs"} <= set(data)
    elif path.name == "compliance.yaml":  # the compliance report's facts
        build_config(get_stage("compliance.report").load_config_class(), data, source=path.name)
    else:
        pytest.fail(f"{path}: no rule to validate this YAML; add one to this test")
