"""Every plug-in kind goes through the one registry: names with did-you-mean errors, and a user's own
"module:Attr" plug-in works without a change to Luban."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from luban.core.config import build_config
from luban.core.errors import ConfigError, NotFoundError
from luban.data.curate import CurateConfig
from luban.data.executors import EXECUTORS, get_executor
from luban.data.executors.local import LocalExecutor
from luban.data.ops.registry import OpSpec, build, parse_process
from luban.data.readers import READERS, SUFFIXES
from luban.guard.detectors import DETECTORS
from luban.serve.backends.base import ModelSpec
from luban.serve.backends.registry import BACKENDS, create_backend
from luban.stages import STAGES, get_stage, recipes
from luban.train.rewards import REWARDS, RewardSpec, build_reward

PLUGIN = """
from luban.data.ops.base import Mapper
from luban.stages import StageSpec


class Shout(Mapper):
    name = "shout"

    def map(self, text):
        return text.upper()


def length_squared(spec):
    return lambda prompts, completions, **_: [float(len(c)) ** 2 for c in completions]


STAGE = StageSpec("my.stage", "my_luban_plugin:run", "luban.data.curate:CurateConfig", (), "a user's stage")


def run(cfg, ws, inputs, name):
    return None
"""


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "my_luban_plugin.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "my_luban_plugin"


@pytest.mark.parametrize(("lookup", "bad", "close"), [
    (lambda n: get_stage(n), "train.sfft", "train.sft"),
    (lambda n: parse_process([n]), "minhash_dedupe", "minhash_dedup"),
    (lambda n: create_backend(ModelSpec("m", "x", n)), "llama_cpp", "llamacpp"),
    (lambda n: DETECTORS.get(n), "cn_mobil", "cn_mobile"),
    (lambda n: READERS.get(n), "jsonline", "jsonl"),
    (lambda n: get_executor(n, 1), "rey", "ray"),
    (lambda n: build_reward(RewardSpec.model_construct(kind=n)), "exact", "exact_match"),
])
def test_unknown_names_suggest_the_closest(lookup, bad: str, close: str) -> None:
    with pytest.raises((ConfigError, NotFoundError), match=f"'{bad}'.*did you mean '{close}'"):
        lookup(bad)


def test_an_unknown_stage_far_from_any_name_lists_the_stages() -> None:
    with pytest.raises(NotFoundError, match="unknown stage 'zzzz'.*known: data.curate"):
        get_stage("zzzz")


def test_each_registered_entry_loads() -> None:
    for reg in (STAGES, EXECUTORS, REWARDS, DETECTORS, READERS):
        for name in reg:
            if name != "ray":  # an optional extra; imported only when named
                assert reg.get(name) is not None, (reg.kind, name)
    assert {"hf", "onnx", "llamacpp", "llama-server", "remote"} == set(BACKENDS.names())
    assert set(SUFFIXES.values()) <= set(READERS.names())
    assert get_executor("local", 1).__class__ is LocalExecutor


def test_recipes_are_the_train_stages() -> None:
    assert recipes() == ["pretrain", "sft", "dpo", "reward", "grpo", "distill"]


def test_a_users_operator_stage_and_reward_by_module_attr(plugin: str) -> None:
    [spec] = parse_process([{f"{plugin}:Shout": {}}])
    op = build(OpSpec(name=spec.name, label="shout"))
    kept, _ = op.process([{"text": "quiet"}])
    assert kept[0]["text"] == "QUIET"
    assert get_stage(f"{plugin}:STAGE").name == "my.stage"
    reward = build_reward(RewardSpec(kind=f"{plugin}:length_squared"))
    assert reward([], ["ab", "abc"]) == [4.0, 9.0]


def test_configs_refuse_unknown_executor_and_reward_kind_at_their_key() -> None:
    with pytest.raises(ConfigError, match="'executor'.*unknown executor 'rey'.*did you mean 'ray'"):
        build_config(CurateConfig, {"inputs": ["x"], "executor": "rey"})
    with pytest.raises(ConfigError, match="'kind'.*unknown reward 'regexp'.*did you mean 'regex'"):
        build_config(RewardSpec, {"kind": "regexp", "pattern": "x"})


def test_a_module_attr_of_the_wrong_kind_is_refused(plugin: str) -> None:
    with pytest.raises(ConfigError, match="is .*not a StageSpec"):
        get_stage(f"{plugin}:run")
    with pytest.raises(ConfigError, match="no attribute 'Nope'"):
        parse_process([{f"{plugin}:Nope": {}}])
    with pytest.raises(ConfigError, match="serving backend 'my_luban_plugin:Shout' is .*not a Backend"):
        create_backend(ModelSpec("m", "x", f"{plugin}:Shout"))
