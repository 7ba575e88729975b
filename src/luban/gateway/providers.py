"""The provider catalog (providers.yaml beside this file) as typed data, and what an answer costs.

Design choices:
- The catalog is plain data: base URL, region (domestic / overseas), currency and a dated price table per
  1M input / output tokens; self-hosted entries carry no token price. Adding a provider is a YAML edit.
- A provider key is read from the environment variable or the file that gateway.yaml names (never from
  gateway.yaml itself); a missing one is a one-line error when the gateway starts, not at the first call.
- Costs are converted into the gateway's currency with the catalog's dated exchange rates (or the ones
  gateway.yaml gives), so that a budget mixing CNY and USD providers adds up.
- A self-hosted token costs `gpu_hour_cost * gpus / 3600 / tokens_per_second` when both are known.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from luban.core.errors import ConfigError

CATALOG_FILE = Path(__file__).with_name("providers.yaml")


@dataclass(frozen=True)
class ModelPrice:
    """Per 1M tokens, in `currency`."""

    input: float
    output: float
    currency: str

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input + completion_tokens * self.output) / 1e6


@dataclass(frozen=True)
class Provider:
    name: str
    title: str
    region: str
    base_url: str | None = None
    currency: str = "USD"
    api_key_env: str | None = None
    self_hosted: bool = False
    prices: dict[str, ModelPrice] = field(default_factory=dict)

    def price(self, model: str) -> ModelPrice | None:
        """The list price of `model`, also for dated or suffixed names (`gpt-4o-2024-08-06`)."""
        if model in self.prices:
            return self.prices[model]
        best = max((m for m in self.prices if model.startswith(m)), key=len, default=None)
        return self.prices[best] if best else None


@dataclass(frozen=True)
class Catalog:
    as_of: str
    providers: dict[str, Provider]
    exchange_rates: dict[str, float]
    gpu_hour: dict[str, float]

    def to_currency(self, amount: float, currency: str, target: str,
                    overrides: dict[str, float] | None = None) -> float:
        """`amount` in `currency` expressed in `target` (rates are per unit in USD)."""
        if currency == target or amount == 0:
            return amount
        rates = {**self.exchange_rates, **(overrides or {})}
        if currency not in rates or target not in rates:
            missing = currency if currency not in rates else target
            raise ConfigError(f"no exchange rate for {missing}",
                              f"add limits.exchange_rates.{missing}: <value of 1 {missing} in USD>")
        return amount * rates[currency] / rates[target]


def load_catalog(path: Path = CATALOG_FILE) -> Catalog:
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    providers: dict[str, Provider] = {}
    for name, p in raw["providers"].items():
        currency = p.get("currency", "USD")
        prices = {m: ModelPrice(float(v[0]), float(v[1]), currency) for m, v in (p.get("prices") or {}).items()}
        providers[name] = Provider(name=name, title=p["title"], region=p["region"], base_url=p.get("base_url"),
                                   currency=currency, api_key_env=p.get("api_key_env"),
                                   self_hosted=bool(p.get("self_hosted", False)), prices=prices)
    return Catalog(as_of=str(raw["as_of"]), providers=providers,
                   exchange_rates={k: float(v) for k, v in raw["exchange_rates"].items()},
                   gpu_hour={k: float(v) for k, v in raw.get("gpu_hour", {}).items()})


@functools.cache
def catalog() -> Catalog:
    """The shipped catalog, read once."""
    return load_catalog()


def read_api_key(upstream: str, env: str | None, file: str | None, provider: Provider | None) -> str | None:
    """The upstream's key from `env`, else `file`, else the provider's usual variable; None when none is
    configured. A named variable that is unset, or a named file that is missing or empty, is an error."""
    if env:
        value = os.environ.get(env, "").strip()
        if not value:
            raise ConfigError(f"upstream '{upstream}': environment variable {env} is not set",
                              f"export {env}=... (the provider's API key) before starting the gateway")
        return value
    if file:
        p = Path(file).expanduser()
        if not p.is_file() or not p.read_text(encoding="utf-8").strip():
            raise ConfigError(f"upstream '{upstream}': key file {p} is missing or empty",
                              "write the provider's API key into it (one line, mode 0600)")
        return p.read_text(encoding="utf-8").strip()
    if provider is not None and provider.api_key_env and not provider.self_hosted:
        value = os.environ.get(provider.api_key_env, "").strip()
        if not value:
            raise ConfigError(f"upstream '{upstream}' ({provider.title}) needs an API key",
                              f"export {provider.api_key_env}=... or set api_key_env / api_key_file")
        return value
    return None
