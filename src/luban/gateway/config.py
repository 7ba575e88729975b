"""gateway.yaml: upstreams, models and their routes, routing, cache, keys, Redis, limits and hooks.

```yaml
upstreams:
  local: {url: "http://127.0.0.1:9001/v1"}                       # a `luban engine`, vLLM, Ollama...
  deepseek: {provider: deepseek, api_key_env: DEEPSEEK_API_KEY}    # base URL and prices from the catalog
models:
  chat:
    aliases: [gpt-4o-mini]
    upstreams: [{upstream: local, model: qwen-support, weight: 3}, {upstream: deepseek, model: deepseek-chat}]
    fallbacks: [backup]
routing: {strategy: least-busy, retries: 2}
cache: {backend: memory, ttl: 600}
redis: {url: "redis://127.0.0.1:6379/0"}
hooks: [{use: usage}, {use: prompts}]
```

Design choices:
- `extra="forbid"` everywhere and core/config.py's one-line errors: a typo names its dotted path and the
  closest valid key; a reference to an unknown upstream, model, provider or strategy does the same.
- Secrets are never written here: `api_key` (or an `Authorization` header) with a value is refused
  before validation, without echoing it; keys come from `api_key_env` or `api_key_file`. `${VAR}` in any
  string is replaced by the environment variable, so a Redis or PostgreSQL password stays out too.
- Upstreams and models are mappings keyed by name, so an error reads `upstreams.deepseek.timeout`.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from luban.core.config import build_config, read_yaml
from luban.core.errors import ConfigError
from luban.gateway.plugins import STRATEGIES, UPSTREAMS
from luban.gateway.providers import catalog


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=(), populate_by_name=True)


class Price(_Section):
    """List price per 1M tokens, in `currency`."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    currency: str = "USD"


class UpstreamConfig(_Section):
    """One server that answers OpenAI's API: a Luban engine, vLLM, Ollama, a commercial API."""

    kind: str = "openai"  # registered upstream kind ("openai", "engine") or "module:Attr"
    serve: list[str] = Field(default_factory=list)  # kind engine: model references loaded in this process
    url: str | None = None  # base URL ending in /v1; default: the provider's
    provider: str | None = None  # catalog entry (openai, deepseek, qwen, ...): base URL, region, prices
    region: Literal["domestic", "overseas"] | None = None  # default: the provider's, else domestic
    api_key_env: str | None = None
    api_key_file: str | None = None
    timeout: float = Field(600.0, gt=0)  # seconds without a byte from the upstream before 504
    connect_timeout: float = Field(5.0, gt=0)
    max_connections: int = Field(512, ge=1)
    health_path: str = "/models"  # GET, relative to the base URL; 2xx = healthy; "" = no active checks
    cooldown: bool = True  # put it in cooldown after repeated failures
    stream_usage: bool = True  # ask for usage in streams (stream_options.include_usage), hide it if unasked
    price: Price | None = None  # overrides the catalog's price for every model of this upstream
    gpu_hour_cost: float | None = Field(None, ge=0)  # self-hosted: cost of one GPU-hour, in `currency`
    gpus: int = Field(1, ge=1)
    tokens_per_second: float | None = Field(None, gt=0)  # measured throughput, to price a self-hosted token
    currency: str = "USD"


class Deployment(_Section):
    """One place a model is served: an upstream, the model's name there, a routing weight."""

    upstream: str
    model: str | None = None  # the model's name on the upstream; default: the gateway's model name
    weight: float = Field(1.0, gt=0)


class ModelConfig(_Section):
    aliases: list[str] = Field(default_factory=list)
    upstreams: list[Deployment]
    fallbacks: list[str] = Field(default_factory=list)  # other models to try when every upstream failed
    cache: bool = True  # this model's answers may be cached

    @field_validator("upstreams", mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"upstream": v} if isinstance(v, str) else v for v in value]
        return value


class Cooldown(_Section):
    failures: int = Field(3, ge=1)  # consecutive failures that put an upstream in cooldown
    seconds: float = Field(30.0, gt=0)


class HealthChecks(_Section):
    interval: float = Field(15.0, ge=0)  # seconds between active checks; 0 = off
    timeout: float = Field(2.0, gt=0)


class RoutingConfig(_Section):
    strategy: str = "weighted"  # weighted | least-busy | latency | "module:Attr"
    retries: int = Field(2, ge=0)  # extra tries on another upstream, for what is safe to retry
    backoff: float = Field(0.05, ge=0)  # seconds before the first retry, doubled each time
    cooldown: Cooldown = Field(default_factory=Cooldown)
    health: HealthChecks = Field(default_factory=HealthChecks)


class CacheConfig(_Section):
    enabled: bool = True
    backend: Literal["memory", "redis"] = "memory"
    ttl: float = Field(3600.0, gt=0)
    max_entries: int = Field(10_000, ge=1)  # memory backend
    deterministic_only: bool = True  # cache only temperature 0 or seeded requests, unless a request opts in


class KeysConfig(_Section):
    url: str | None = None  # SQLAlchemy URL; default sqlite in the workspace
    reload: float = Field(30.0, gt=0)  # full reload, the safety net behind pub/sub
    poll: float = Field(2.0, gt=0)  # check the store's change counter this often
    required: bool = False  # ask for a key even while none exists (bound to loopback)


class RedisConfig(_Section):
    url: str | None = None
    prefix: str = "luban:"
    timeout: float = Field(0.25, gt=0)  # per command; an unreachable Redis must not slow requests


class LimitsConfig(_Section):
    max_body_mb: float = Field(16.0, gt=0)
    currency: str = "USD"  # budgets and costs
    exchange_rates: dict[str, float] = Field(default_factory=dict)  # 1 unit -> `currency`; catalog's by default


class HookSpec(_Section):
    use: str
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")


class GatewayConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    upstreams: dict[str, UpstreamConfig] = Field(default_factory=dict)
    models: dict[str, ModelConfig] = Field(default_factory=dict)
    default_upstream: str | None = None  # a model not listed goes here under its own name
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    cache: CacheConfig = Field(default_factory=CacheConfig)
    keys: KeysConfig = Field(default_factory=KeysConfig)
    redis: RedisConfig = Field(default_factory=RedisConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    hooks: list[HookSpec] = Field(default_factory=list)
    console: bool = True  # the web console at /console (its pages and API; behind the same keys)


_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SECRET_FIELDS = ("api_key", "apikey", "key", "secret", "token", "password")


def load_gateway_config(path: str | Path | None = None, data: dict[str, Any] | None = None,
                        source: str | None = None, embedded: bool = False) -> GatewayConfig:
    """Read and check gateway.yaml (or `data`, read from `source`); every problem is one `ConfigError` line.
    `embedded`: in front of `luban serve`'s engine, which an engine upstream may use instead of `serve:`."""
    source = source or (str(path) if path else "gateway config")
    raw = read_yaml(path) if path else dict(data or {})
    _refuse_secrets(raw, source)
    raw = _expand_env(raw, source, "")
    cfg = build_config(GatewayConfig, raw, source)
    check_references(cfg, source, embedded)
    return cfg


def _refuse_secrets(raw: dict[str, Any], source: str) -> None:
    ups = raw.get("upstreams")
    if not isinstance(ups, dict):
        return
    for name, up in ups.items():
        if not isinstance(up, dict):
            continue
        for field in up:
            if str(field).lower() in _SECRET_FIELDS and up[field]:
                raise ConfigError(f"{source}: 'upstreams.{name}.{field}' holds a key in clear, which "
                                  "gateway.yaml must never do",
                                  f"remove it and set api_key_env: {name.upper().replace('-', '_')}_API_KEY "
                                  "(or api_key_file: PATH)")
        headers = up.get("headers")
        if isinstance(headers, dict) and any(str(h).lower() == "authorization" for h in headers):
            raise ConfigError(f"{source}: 'upstreams.{name}.headers.Authorization' holds a key in clear",
                              "use api_key_env or api_key_file")


def _expand_env(value: Any, source: str, where: str) -> Any:
    if isinstance(value, dict):
        return {k: _expand_env(v, source, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, source, f"{where}.{i}") for i, v in enumerate(value)]
    if isinstance(value, str) and "${" in value:
        def sub(m: re.Match[str]) -> str:
            if m.group(1) not in os.environ:
                raise ConfigError(f"{source}: '{where}' names ${{{m.group(1)}}}, which is not set",
                                  f"export {m.group(1)}=... before starting")
            return os.environ[m.group(1)]

        return _ENV.sub(sub, value)
    return value


def _unknown(source: str, where: str, kind: str, name: str, known: list[str]) -> ConfigError:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'?" if close else f"known {kind}s: {', '.join(known) or 'none'}"
    return ConfigError(f"{source}: '{where}' names unknown {kind} '{name}'", hint)


def check_references(cfg: GatewayConfig, source: str = "gateway config", embedded: bool = False) -> None:
    """Cross-references YAML alone cannot check: upstreams, fallbacks, aliases, providers, strategy."""
    ups = list(cfg.upstreams)
    names: dict[str, str] = {}
    for mname, model in cfg.models.items():
        for i, dep in enumerate(model.upstreams):
            if dep.upstream not in cfg.upstreams:
                raise _unknown(source, f"models.{mname}.upstreams.{i}.upstream", "upstream", dep.upstream, ups)
        if not model.upstreams:
            raise ConfigError(f"{source}: 'models.{mname}.upstreams' is empty", "list at least one upstream")
        for i, fb in enumerate(model.fallbacks):
            if fb not in cfg.models or fb == mname:
                raise _unknown(source, f"models.{mname}.fallbacks.{i}", "model", fb,
                               [m for m in cfg.models if m != mname])
        for n in [mname, *model.aliases]:
            if n in names:
                raise ConfigError(f"{source}: '{n}' names both model '{names[n]}' and model '{mname}'",
                                  "give each model and alias a distinct name")
            names[n] = mname
    for uname, up in cfg.upstreams.items():
        if up.provider is not None and up.provider not in catalog().providers:
            raise _unknown(source, f"upstreams.{uname}.provider", "provider", up.provider,
                           list(catalog().providers))
        if up.kind == "engine" and not up.serve and not embedded:
            raise ConfigError(f"{source}: 'upstreams.{uname}' is an in-process engine with nothing to serve",
                              "list model references under serve: [...] (or use url: for an engine over HTTP)")
        if up.url is None and up.provider is None and up.kind == "openai":
            raise ConfigError(f"{source}: 'upstreams.{uname}' has neither url nor provider",
                              "set url: http://HOST:PORT/v1 or provider: NAME")
        try:
            UPSTREAMS.check(up.kind)
        except ConfigError as err:
            raise ConfigError(f"{source}: 'upstreams.{uname}.kind': {err.message}", err.hint) from None
    if cfg.default_upstream is not None and cfg.default_upstream not in cfg.upstreams:
        raise _unknown(source, "default_upstream", "upstream", cfg.default_upstream, ups)
    try:
        STRATEGIES.check(cfg.routing.strategy)
    except ConfigError as err:
        raise ConfigError(f"{source}: 'routing.strategy': {err.message}", err.hint) from None
    if cfg.cache.enabled and cfg.cache.backend == "redis" and not cfg.redis.url:
        raise ConfigError(f"{source}: 'cache.backend' is redis but 'redis.url' is not set",
                          "set redis.url: redis://HOST:6379/0 or use backend: memory")
