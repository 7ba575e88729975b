from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from luban.core.config import (
    InputPath,
    InputPathOrName,
    StageConfig,
    WorkPath,
    build_config,
    config_data,
    declared_paths,
    dump_config,
    load_config,
    parse_overrides,
)
from luban.core.errors import ConfigError, NotFoundError


class Train(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lr: float = 1e-3
    epochs: int = 1


class Cfg(StageConfig):
    name: str = "x"
    train: Train = Train()
    tags: list[str] = []


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "cfg.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_yaml_and_dotted_overrides(tmp_path):
    p = write(tmp_path, "name: a\ntrain:\n  lr: 0.1\n")
    cfg = load_config(Cfg, p, ["train.lr=1e-4", "train.epochs=3", "tags=[a, b]"])
    assert cfg.name == "a" and cfg.train.lr == 1e-4 and cfg.train.epochs == 3 and cfg.tags == ["a", "b"]


def test_unknown_nested_key_names_closest(tmp_path):
    p = write(tmp_path, "train:\n  lrr: 0.1\n")
    with pytest.raises(ConfigError, match=r"unknown key 'train.lrr'; did you mean 'train.lr'"):
        load_config(Cfg, p)


def test_unknown_override_key():
    with pytest.raises(ConfigError, match="unknown key 'nmae'; did you mean 'name'"):
        load_config(Cfg, None, ["nmae=b"])


def test_wrong_type_is_one_line(tmp_path):
    with pytest.raises(ConfigError) as e:
        load_config(Cfg, None, ["train.epochs=many"])
    assert "train.epochs" in str(e.value) and "\n" not in str(e.value)


def test_missing_and_malformed_yaml(tmp_path):
    with pytest.raises(NotFoundError, match="does not exist"):
        load_config(Cfg, tmp_path / "nope.yaml")
    p = write(tmp_path, "train: [1, 2\n")
    with pytest.raises(ConfigError, match="line"):
        load_config(Cfg, p)
    p = write(tmp_path, "- just\n- a list\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(Cfg, p)


def test_override_without_equals():
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_overrides(["train.lr"])


# -- paths belong to the file that names them ----------------------------------------------------------


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid")
    file: InputPath | None = None
    label: str = "train"


class PathCfg(StageConfig):
    inputs: list[InputPath] = []
    data: list[InputPathOrName] = []
    scratch: WorkPath | None = None
    split: str = "train"
    parts: list[Part] = []
    template: InputPathOrName | None = None


def test_paths_resolve_against_the_file_that_names_them_and_overrides_against_the_cwd(tmp_path, monkeypatch):
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    (recipes / "sft.jsonl").write_text("{}\n")
    p = recipes / "r.yaml"
    p.write_text("inputs: [raw/, '*.md', /abs/x]\ndata: [sft.jsonl, chat-set, sub/x.jsonl]\nscratch: spill\n"
                 "parts: [{file: q.jsonl}]\ntemplate: chatml\nsplit: train\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    cfg = load_config(PathCfg, p, ["scratch=tmp-here"])
    assert cfg.inputs == [f"{recipes}/raw", f"{recipes}/*.md", "/abs/x"]
    # a path-or-name field keeps names (an artifact, a catalog template) and resolves what looks like a path
    assert cfg.data == [f"{recipes}/sft.jsonl", "chat-set", f"{recipes}/sub/x.jsonl"]
    assert cfg.template == "chatml" and cfg.split == "train"
    assert cfg.parts[0].file == f"{recipes}/q.jsonl"  # nested models too
    assert cfg.scratch == f"{elsewhere}/tmp-here"  # typed on the command line, here
    assert cfg.root == recipes


def test_dump_is_relative_to_the_root_and_declared_paths_are_only_the_declared_ones(tmp_path):
    cfg = build_config(PathCfg, {"inputs": ["raw"], "data": ["chat-set"], "scratch": "/var/tmp/s",
                                 "parts": [{"file": "../q.jsonl"}]}, base=tmp_path / "spec")
    dumped = dump_config(cfg)
    assert dumped["inputs"] == ["raw"] and dumped["data"] == ["chat-set"] and dumped["scratch"] == "/var/tmp/s"
    assert dumped["parts"] == [{"file": f"{tmp_path}/q.jsonl", "label": "train"}]  # outside the root: absolute
    assert cfg.portable(tmp_path / "spec" / "raw" / "a.txt") == "raw/a.txt"
    found = {(v, s.content) for v, s in declared_paths(cfg)}
    assert found == {(f"{tmp_path}/spec/raw", True), ("/var/tmp/s", False), (f"{tmp_path}/q.jsonl", True)}


def test_config_data_keeps_each_sources_folder_and_a_plain_build_leaves_paths_alone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.yaml").write_text("inputs: [raw]\n")
    data = config_data(PathCfg, tmp_path / "sub" / "c.yaml", ["data=[./d.jsonl]"])
    assert data == {"inputs": [f"{tmp_path}/sub/raw"], "data": [f"{tmp_path}/d.jsonl"]}
    cfg = PathCfg(inputs=["raw"])  # from Python: relative to the current folder, as Python paths are
    assert cfg.inputs == ["raw"] and cfg.root == tmp_path and dump_config(cfg)["inputs"] == ["raw"]


def test_where_a_config_was_declared_is_not_part_of_its_value(tmp_path):
    assert build_config(PathCfg, {"split": "x"}, base=tmp_path / "a") == PathCfg(split="x")
    assert build_config(PathCfg, {"split": "x"}, base=tmp_path / "a") != PathCfg(split="y")
