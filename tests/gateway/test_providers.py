"""The provider catalog: every provider has a base URL and region, prices are dated, keys never in clear."""

from __future__ import annotations

from pathlib import Path

import pytest

from luban.core.errors import ConfigError
from luban.gateway.providers import catalog, read_api_key


def test_catalog_has_the_issues_providers_with_regions_and_dated_prices() -> None:
    cat = catalog()
    for name in ("openai", "deepseek", "qwen", "qianfan", "spark", "zhipu", "moonshot"):
        p = cat.providers[name]
        assert p.base_url and p.base_url.startswith("https://") and p.region in ("domestic", "overseas")
    assert cat.providers["openai"].region == "overseas" and cat.providers["deepseek"].region == "domestic"
    assert cat.as_of and cat.gpu_hour["A100-80GB"] > 0
    assert cat.providers["luban"].self_hosted


def test_price_of_a_dated_model_name_and_its_cost() -> None:
    p = catalog().providers["openai"].price("gpt-4o-mini-2024-07-18")
    assert p is not None and p.input == 0.15
    assert p.cost(1_000_000, 1_000_000) == pytest.approx(0.75)
    assert catalog().providers["openai"].price("unknown-model") is None


def test_costs_convert_between_currencies() -> None:
    cat = catalog()
    assert cat.to_currency(10.0, "CNY", "USD") == pytest.approx(10 * cat.exchange_rates["CNY"])
    assert cat.to_currency(1.0, "USD", "CNY", {"CNY": 0.125}) == pytest.approx(8.0)
    with pytest.raises(ConfigError, match="no exchange rate for EUR"):
        cat.to_currency(1.0, "EUR", "USD")


def test_provider_keys_come_from_env_or_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ds = catalog().providers["deepseek"]
    monkeypatch.setenv("MY_DS", "sk-from-env")
    assert read_api_key("ds", "MY_DS", None, ds) == "sk-from-env"
    f = tmp_path / "key"
    f.write_text("sk-from-file\n")
    assert read_api_key("ds", None, str(f), ds) == "sk-from-file"
    monkeypatch.delenv("DEEPSEEK_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="needs an API key.*export DEEPSEEK_API_KEY"):
        read_api_key("ds", None, None, ds)
    with pytest.raises(ConfigError, match="MISSING_VAR is not set"):
        read_api_key("ds", "MISSING_VAR", None, ds)
    with pytest.raises(ConfigError, match="missing or empty"):
        read_api_key("ds", None, str(tmp_path / "nope"), ds)
    assert read_api_key("local", None, None, catalog().providers["vllm"]) is None


def test_a_price_in_a_currency_without_a_rate_stops_the_gateway_at_start() -> None:
    from luban.gateway.config import load_gateway_config
    from luban.gateway.service import Gateway

    cfg = load_gateway_config(data={"upstreams": {"u": {"url": "http://x/v1",
                                                        "price": {"input": 1, "output": 2, "currency": "EUR"}}}})
    with pytest.raises(ConfigError, match="upstream 'u': no exchange rate for EUR"):
        Gateway(cfg)
    cfg.limits.exchange_rates["EUR"] = 1.08
    assert Gateway(cfg).cfg.limits.currency == "USD"


def test_cost_of_a_call_on_each_kind_of_upstream() -> None:
    from luban.gateway.config import load_gateway_config
    from luban.gateway.service import Gateway

    cfg = load_gateway_config(data={
        "upstreams": {"gpu": {"url": "http://x/v1", "gpu_hour_cost": 3.6, "gpus": 2, "tokens_per_second": 1000},
                      "ds": {"provider": "deepseek", "api_key_env": "HOME"},
                      "own": {"url": "http://y/v1", "price": {"input": 1.0, "output": 3.0}},
                      "free": {"url": "http://z/v1"}},
        "models": {"m": {"upstreams": [{"upstream": "gpu"}, {"upstream": "ds", "model": "deepseek-chat"},
                                       {"upstream": "own"}, {"upstream": "free"}]}}})
    gw = Gateway(cfg)
    gpu, ds, own, free = gw.router.routes["m"].deployments
    assert gw.cost(gpu, 500_000, 500_000) == pytest.approx(2.0)  # 3.6 x 2 GPUs / 3600 s / 1000 tok/s = 2 per 1M
    assert gw.cost(ds, 1_000_000, 1_000_000) == pytest.approx(10.0 * catalog().exchange_rates["CNY"])
    assert gw.cost(own, 1_000_000, 1_000_000) == pytest.approx(4.0)
    assert gw.cost(free, 1_000_000, 1_000_000) == 0.0
