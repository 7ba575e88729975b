"""One gateway's parts, built from gateway.yaml, with their background work: the object the hot path
(app.py) and the management routes (mounted under /admin) share.

Design choices:
- Everything the hot path touches per request is in memory: the key ring, the router's state, the
  in-memory cache and limits. The database is read only by background tasks (key reloads).
- Redis is optional and never fatal: one `redis.asyncio` client with short timeouts, shared by the cache,
  the limiter and the key-change subscription; every failure is counted in `luban_gateway_redis_errors`.
- Hooks are built through the registry (`gateway.plugins.HOOKS`) from the `hooks:` list, in order.
- Costs: an upstream's `price`, else the catalog's price of the upstream model, else a self-hosted
  upstream's GPU-hour cost over its measured throughput; converted into `limits.currency`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from luban.core.errors import ConfigError
from luban.gateway.cache import MemoryCache, RedisCache, ResponseCache
from luban.gateway.config import GatewayConfig
from luban.gateway.errors import GatewayError
from luban.gateway.hooks import Hook, HookEnv, Hooks
from luban.gateway.keys import KEYS_CHANNEL, AuthFailure, KeyRecord, KeyRing, KeyStore
from luban.gateway.metrics import GatewayMetrics
from luban.gateway.plugins import HOOKS, UPSTREAMS
from luban.gateway.providers import ModelPrice, catalog
from luban.gateway.ratelimit import MemoryLimiter, RedisLimiter
from luban.gateway.routing import Deployment, Router
from luban.gateway.upstreams import ASGIApp, Upstream

log = logging.getLogger("luban.gateway")


def default_db_url(workspace: Path) -> str:
    workspace.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{workspace / 'gateway.db'}"


def build_hooks(cfg: GatewayConfig) -> Hooks:
    hooks = Hooks()
    for i, spec in enumerate(cfg.hooks):
        cls = HOOKS.get(spec.use)
        try:
            hook = cls(**spec.with_)
        except TypeError as err:
            raise ConfigError(f"gateway config: 'hooks.{i}' ({spec.use}): {err}",
                              "fix its `with:` options") from None
        if not isinstance(hook, Hook):
            raise ConfigError(f"gateway config: 'hooks.{i}' ({spec.use}) is not a gateway hook",
                              "subclass luban.gateway.hooks.BaseHook")
        hooks.add(hook)
    return hooks


class Gateway:
    def __init__(self, cfg: GatewayConfig, *, workspace: Path | None = None, no_auth: bool = False,
                 engine_app: ASGIApp | None = None, hooks: Hooks | None = None, db_url: str | None = None,
                 lazy_db: bool = False, home: Path | None = None) -> None:
        self.cfg = cfg
        self.workspace = workspace
        # the workspace whose artifacts the console shows; in embedded mode the gateway keeps no state there
        self.home: Path | None = home or workspace
        self.no_auth = no_auth
        self.engine_app = engine_app  # embedded mode: the serve layer's app behind us
        self.catalog = catalog()
        self.metrics = GatewayMetrics()
        # no database at all only when there is neither a URL nor a workspace (a bare `luban serve DIR`)
        self.db_url: str | None = db_url or cfg.keys.url or (default_db_url(workspace) if workspace else None)
        self.lazy_db = lazy_db  # a SQLite file that may not exist yet: opened once it does
        self.keys = KeyRing()
        self.store: KeyStore | None = None
        self.redis: Any = None
        if cfg.redis.url:
            self.redis = aioredis.from_url(cfg.redis.url, socket_timeout=cfg.redis.timeout,
                                           socket_connect_timeout=cfg.redis.timeout, health_check_interval=0)
            self.limiter: MemoryLimiter | RedisLimiter = RedisLimiter(self.redis, cfg.redis.prefix,
                                                                     self.metrics.redis_error)
        else:
            self.limiter = MemoryLimiter()
        self.cache: ResponseCache | None = None
        if cfg.cache.enabled:
            self.cache = (RedisCache(self.redis, cfg.redis.prefix, cfg.cache.ttl, self.metrics.redis_error)
                          if cfg.cache.backend == "redis" else MemoryCache(cfg.cache.ttl, cfg.cache.max_entries))
        self.upstreams: dict[str, Upstream] = {}
        for name, ucfg in cfg.upstreams.items():
            cls = UPSTREAMS.get(ucfg.kind)
            self.upstreams[name] = cls(name, ucfg, app=engine_app, workspace=workspace)
        self._check_currencies()
        self.router = Router(cfg, self.upstreams, on_cooldown=self.metrics.cooldown)
        self.metrics.watch(self.router.snapshot)
        self.hooks = hooks if hooks is not None else build_hooks(cfg)
        self.max_body = int(cfg.limits.max_body_mb * 1024 * 1024)
        self.ready = False
        self._tasks: list[asyncio.Task[None]] = []

    # -- life cycle -------------------------------------------------------------------------------
    def _db_exists(self) -> bool:
        """False only for a SQLite file that nobody created yet (embedded `luban serve` before any key)."""
        if not self.lazy_db or self.db_url is None or not self.db_url.startswith("sqlite:///"):
            return True
        return Path(self.db_url.removeprefix("sqlite:///")).exists()

    async def start(self) -> None:
        if self.db_url is not None and self._db_exists():
            self.store = await asyncio.to_thread(KeyStore, self.db_url)
            await self.reload_keys()
        for up in self.upstreams.values():
            await up.start()
        await self.hooks.start(HookEnv(config=self.cfg, workspace=self.workspace, db_url=self.db_url,
                                       redis_url=self.cfg.redis.url, catalog=self.catalog,
                                       gauge=self.metrics.gauge))
        self._tasks = [asyncio.create_task(self._watch_keys())] if self.db_url is not None else []
        if self.cfg.routing.health.interval > 0:
            self._tasks.append(asyncio.create_task(self.router.health_loop()))
        if self.redis is not None:
            self._tasks.append(asyncio.create_task(self._subscribe_keys()))
        # everything built so far (modules, config, catalog, clients) lives as long as the process: keep it
        # out of the collector's full passes, which otherwise walk it during requests (p99 at high concurrency)
        gc.collect()
        gc.freeze()
        self.ready = True

    async def stop(self) -> None:
        self.ready = False
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        await self.hooks.stop()
        for up in self.upstreams.values():
            await up.aclose()
        if self.redis is not None:
            with contextlib.suppress(Exception):
                await self.redis.aclose()
        if self.store is not None:
            self.store.close()

    # -- keys -------------------------------------------------------------------------------------
    @property
    def auth_required(self) -> bool:
        return not self.no_auth and (len(self.keys) > 0 or self.cfg.keys.required)

    def authenticate(self, header: bytes | None) -> KeyRecord | None:
        """The caller's key from an `Authorization` header, None when auth is off; else a 401."""
        if not self.auth_required:
            return None
        if not header:
            raise GatewayError(401, "You didn't provide an API key. Send it as 'Authorization: Bearer "
                               "sk-luban-...'; an admin creates keys with `luban keys create`.",
                               code="missing_api_key")
        token = header[7:] if header[:7].lower() == b"bearer " else header
        try:
            return self.keys.check(token.decode("latin-1").strip())
        except AuthFailure as err:
            raise GatewayError(401, err.message, code=err.code) from None

    async def reload_keys(self) -> None:
        assert self.store is not None
        store = self.store

        def read() -> tuple[list[KeyRecord], int]:
            return store.all(), store.counter()

        records, counter = await asyncio.to_thread(read)
        self.keys.replace(records, counter)

    async def _watch_keys(self) -> None:
        """Poll the store's change counter; reload on change and every `keys.reload` seconds anyway."""
        kc = self.cfg.keys
        since_full = 0.0
        while True:
            await asyncio.sleep(kc.poll)
            since_full += kc.poll
            try:
                if self.store is None:  # the first `luban keys create` makes the database: open it then
                    if self.db_url is None or not self._db_exists():
                        continue
                    self.store = await asyncio.to_thread(KeyStore, self.db_url)
                counter = await asyncio.to_thread(self.store.counter)
                if counter != self.keys.counter or since_full >= kc.reload:
                    await self.reload_keys()
                    since_full = 0.0
            except Exception as err:  # noqa: BLE001 - keep the last good ring; try again next poll
                log.warning("reloading keys failed (%s); keeping the keys already loaded", err)

    async def _subscribe_keys(self) -> None:
        """Reload at once when another replica or the CLI publishes a key change."""
        channel = self.cfg.redis.prefix + KEYS_CHANNEL
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(channel)
                while True:
                    msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0)
                    if msg is not None:
                        await self.reload_keys()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - Redis down: the poll still reloads; retry the subscription later
                self.metrics.redis_error("keys.subscribe")
                await asyncio.sleep(5.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    # -- cost -------------------------------------------------------------------------------------
    def price(self, dep: Deployment) -> ModelPrice | None:
        ucfg = dep.upstream.config
        if ucfg.price is not None:
            return ModelPrice(ucfg.price.input, ucfg.price.output, ucfg.price.currency)
        provider = dep.upstream.provider
        if provider is not None and not provider.self_hosted:
            return provider.price(dep.model)
        if ucfg.gpu_hour_cost is not None and ucfg.tokens_per_second:
            per_m = ucfg.gpu_hour_cost * ucfg.gpus / 3600.0 / ucfg.tokens_per_second * 1e6
            return ModelPrice(per_m, per_m, ucfg.currency)
        return None

    def _check_currencies(self) -> None:
        """Every price's currency converts into `limits.currency` (at start, not on the hot path)."""
        for name, up in self.upstreams.items():
            currencies = {up.config.currency, up.config.price.currency if up.config.price else "USD"}
            if up.provider is not None:
                currencies.add(up.provider.currency)
            for cur in currencies:
                try:
                    self.catalog.to_currency(1.0, cur, self.cfg.limits.currency, self.cfg.limits.exchange_rates)
                except ConfigError as err:
                    raise ConfigError(f"upstream '{name}': {err.message}", err.hint) from None

    def cost(self, dep: Deployment, prompt_tokens: int, completion_tokens: int) -> float:
        price = self.price(dep)
        if price is None:
            return 0.0
        return self.catalog.to_currency(price.cost(prompt_tokens, completion_tokens), price.currency,
                                        self.cfg.limits.currency, self.cfg.limits.exchange_rates)
