from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from luban.core.config import StageConfig, load_config, parse_overrides
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
