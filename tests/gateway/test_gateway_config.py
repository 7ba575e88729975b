"""gateway.yaml: a malformed file is one line naming the bad field and what it expected; no key in clear."""

from __future__ import annotations

from pathlib import Path

import pytest

from luban.core.errors import ConfigError
from luban.gateway.config import load_gateway_config

GOOD = """
upstreams:
  local: {url: "http://127.0.0.1:9001/v1"}
  ds: {provider: deepseek, api_key_env: DS_KEY}
models:
  chat:
    aliases: [gpt-4o-mini]
    upstreams: [{upstream: local, model: qwen, weight: 3}, ds]
    fallbacks: [backup]
  backup: {upstreams: [local]}
routing: {strategy: least-busy, retries: 1}
hooks: [{use: usage, with: {batch: 100}}]
"""


def load(tmp_path: Path, text: str) -> object:
    p = tmp_path / "gateway.yaml"
    p.write_text(text)
    return load_gateway_config(p)


def test_a_good_config_loads_with_short_forms(tmp_path: Path) -> None:
    cfg = load(tmp_path, GOOD)
    assert cfg.models["chat"].upstreams[1].upstream == "ds"  # type: ignore[attr-defined]
    assert cfg.hooks[0].with_ == {"batch": 100}  # type: ignore[attr-defined]


@pytest.mark.parametrize(("text", "needle"), [
    (GOOD.replace("retries: 1", "retries: -1"), "'routing.retries': Input should be greater than or equal to 0"),
    (GOOD.replace("retries: 1", "retrys: 1"), "unknown key 'routing.retrys'; did you mean 'routing.retries'"),
    (GOOD.replace("weight: 3", "weight: heavy"), "'models.chat.upstreams.0.weight'"),
    (GOOD.replace("{upstream: local, model", "{upstream: locl, model"),
     "'models.chat.upstreams.0.upstream' names unknown upstream 'locl' — did you mean 'local'"),
    (GOOD.replace("fallbacks: [backup]", "fallbacks: [bakup]"), "unknown model 'bakup' — did you mean 'backup'"),
    (GOOD.replace("provider: deepseek", "provider: deepsek"), "unknown provider 'deepsek' — did you mean 'deepseek'"),
    (GOOD.replace("least-busy", "fastest"), "'routing.strategy': unknown routing strategy 'fastest'"),
    (GOOD.replace("aliases: [gpt-4o-mini]", "aliases: [backup]"), "'backup' names both model"),
    (GOOD + "cache: {backend: redis}\n", "'cache.backend' is redis but 'redis.url' is not set"),
    ("upstreams: [1, 2]\n", "'upstreams': Input should be a valid dictionary"),
    ("models: {x: {upstreams: []}}\n", "'models.x.upstreams' is empty"),
    ("routing: {strategy: [\n", "at line 2"),
])
def test_malformed_config_is_one_line_naming_the_field(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, text)
    assert needle in str(err.value)
    assert "\n" not in str(err.value)


def test_a_key_in_clear_is_refused_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'upstreams.ds.api_key' holds a key in clear") as err:
        load(tmp_path, GOOD.replace("api_key_env: DS_KEY", "api_key: sk-secret-123"))
    assert "sk-secret-123" not in str(err.value) and "api_key_env" in str(err.value)
    with pytest.raises(ConfigError, match="Authorization"):
        load(tmp_path, GOOD.replace("api_key_env: DS_KEY", "headers: {Authorization: Bearer x}"))


def test_env_vars_are_expanded_and_a_missing_one_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GW_REDIS", "redis://:pw@127.0.0.1:6379/0")
    cfg = load(tmp_path, GOOD + "redis: {url: '${GW_REDIS}'}\n")
    assert cfg.redis.url == "redis://:pw@127.0.0.1:6379/0"  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match=r"'redis.url' names \$\{NOPE_NOT_SET\}, which is not set"):
        load(tmp_path, GOOD + "redis: {url: '${NOPE_NOT_SET}'}\n")


def test_an_in_process_engine_needs_models_to_serve(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'upstreams.e' is an in-process engine with nothing to serve"):
        load(tmp_path, "upstreams: {e: {kind: engine}}\n")


def test_luban_serve_puts_its_engine_behind_every_unlisted_model(tmp_path: Path) -> None:
    from luban.gateway.embedded import embedded_config

    p = tmp_path / "gateway.yaml"
    p.write_text(GOOD)
    cfg = embedded_config(p)
    assert cfg.default_upstream == "engine" and cfg.upstreams["engine"].kind == "engine"
    assert cfg.upstreams["engine"].health_path == "" and not cfg.upstreams["engine"].cooldown
    assert "chat" in cfg.models
