"""`luban train` / `luban export merge`: shipped YAMLs validate, bad input is one line before any training."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from luban.cli import export as export_cli
from luban.cli import train as train_cli
from luban.cli.context import state
from luban.core.config import build_config, read_yaml
from luban.core.errors import UsageError
from luban.stages import get_stage

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples" / "train").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_yaml_validates_against_its_recipe(path):
    recipe = "pretrain" if "pretrain" in path.name else path.stem.split("_")[0]
    spec, cfg, inputs = train_cli.load_recipe_config(recipe, path, [])
    data, _ = train_cli.split_inputs(read_yaml(path))
    assert build_config(get_stage(f"train.{recipe}").load_config_class(), data) == cfg
    assert set(inputs) <= {r.name for r in spec.inputs}


def test_sft_example_leaves_padding_free_to_the_attention_kernel():
    example = next(p for p in EXAMPLES if p.name == "sft_lora.yaml")
    _, cfg, _ = train_cli.load_recipe_config("sft", example, [])
    assert cfg.train.padding_free is None and cfg.train.packing is False


def test_overrides_and_unknown_keys():
    _, cfg, _ = train_cli.load_recipe_config("sft", EXAMPLES[-1], ["train.lr=1e-4", "lora.r=4"])
    assert cfg.train.lr == 1e-4 and cfg.lora.r == 4
    with pytest.raises(UsageError, match="unknown key 'train.epoch'; did you mean 'train.epochs'"):
        train_cli.load_recipe_config("sft", None, ["train.epoch=1"])
    with pytest.raises(UsageError, match="unknown recipe 'sfx'"):
        train_cli.load_recipe_config("sfx", None, [])


@pytest.fixture
def app(ws):
    root = typer.Typer()
    root.command("train")(train_cli.train)
    root.add_typer(export_cli.app, name="export")
    state.workspace_path, state._ws = str(ws.root), ws
    yield root
    state.workspace_path, state._ws = None, None


def test_taken_name_stops_before_loading_anything(app, ws, tiny_model_dir):
    from luban.models.loading import ImportConfig, import_stage

    import_stage(ImportConfig(path=str(tiny_model_dir)), ws, name="base")
    res = CliRunner().invoke(app, ["train", "sft", "--model", "base", "--data", "nope", "--name", "base"])
    assert isinstance(res.exception, UsageError) and "already exists" in str(res.exception)
    res = CliRunner().invoke(app, ["export", "merge", "base", "--name", "base"])
    assert isinstance(res.exception, UsageError) and "--force" in str(res.exception)


def test_missing_inputs_are_named(app):
    res = CliRunner().invoke(app, ["train", "sft"])
    assert isinstance(res.exception, UsageError)
    assert "needs input(s) model (model), data (dataset)" in str(res.exception)
    assert "pass --model NAME --data NAME" in str(res.exception)
    res = CliRunner().invoke(app, ["train", "distill", "--model", "m", "--data", "d"])
    assert "needs input(s) teacher (model)" in str(res.exception) and "--input teacher=NAME" in str(res.exception)


def test_an_input_of_the_wrong_kind_is_refused_before_training(app, ws, tiny_model_dir):
    from luban.models.loading import ImportConfig, import_stage

    import_stage(ImportConfig(path=str(tiny_model_dir)), ws, name="base")
    res = CliRunner().invoke(app, ["train", "sft", "--model", "base", "--data", "base"])
    assert isinstance(res.exception, UsageError)
    assert "input 'data' of train.sft must be a dataset artifact, 'base' is a model" in str(res.exception)


def test_help_shows_an_example(app):
    for args in (["train", "--help"], ["export", "merge", "--help"]):
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 0 and "Example" in res.output


def test_help_names_every_recipe(app):
    from luban.stages import recipes

    assert {"pretrain", "sft", "dpo", "reward", "grpo", "distill"} <= set(recipes())
    res = CliRunner().invoke(app, ["train", "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0 and f"recipe: {', '.join(recipes())}" in res.output
