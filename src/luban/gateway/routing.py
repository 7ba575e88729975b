"""Routing: which upstream answers a model, what happens when one fails.

Design choices:
- A model (or alias) maps to deployments (upstream, its model name, weight). The strategy picks among the
  deployments whose upstream is available: `weighted` (random by weight), `least-busy` (fewest requests
  in flight, weight breaks ties), `latency` (lowest moving average, with a little exploration so that a
  recovered upstream is measured again). Strategies are plug-ins in `gateway.plugins.STRATEGIES`.
- State is per upstream, not per deployment: an upstream that is down is down for all its models.
  `failures` consecutive failures put it in cooldown for `seconds`; an active health check (GET /models)
  marks it unhealthy or brings it back early.
- `Router.attempts` yields deployments to try in order: the model's own, then its fallbacks' (and theirs),
  each upstream at most once, at most 1 + `retries` of them. When nothing is available it raises
  `AllCooling` naming every upstream and when it comes back.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from luban.gateway.config import GatewayConfig
from luban.gateway.plugins import STRATEGIES
from luban.gateway.upstreams import Upstream

log = logging.getLogger("luban.gateway")
EWMA = 0.2  # weight of the newest latency sample


@dataclass
class UpstreamState:
    name: str
    in_flight: int = 0
    latency_ms: float = 0.0  # moving average; 0 until measured
    failures: int = 0  # consecutive
    cooldown_until: float = 0.0
    healthy: bool = True
    last_error: str = ""

    def available(self, now: float) -> bool:
        return self.healthy and now >= self.cooldown_until


@dataclass
class Deployment:
    upstream: Upstream
    model: str  # the name the upstream knows
    weight: float
    state: UpstreamState


@dataclass
class Route:
    name: str
    deployments: list[Deployment]
    fallbacks: list[str] = field(default_factory=list)
    aliases: tuple[str, ...] = ()
    cache: bool = True


class AllCooling(Exception):  # noqa: N818 - routing's answer, turned into a 503
    def __init__(self, model: str, states: list[UpstreamState], now: float) -> None:
        parts = []
        for s in states:
            why = "failing health checks" if not s.healthy else f"cooling down {max(0.0, s.cooldown_until - now):.0f} s"
            parts.append(f"{s.name} ({why}{': ' + s.last_error if s.last_error else ''})")
        self.retry_after = max(1, int(min((s.cooldown_until - now for s in states), default=1) + 0.999))
        super().__init__(f"No upstream of model '{model}' is available: {'; '.join(parts)}. "
                         f"Retry after {self.retry_after} s.")


class Strategy(Protocol):
    def pick(self, candidates: list[Deployment]) -> Deployment: ...


class Weighted:
    def pick(self, candidates: list[Deployment]) -> Deployment:
        if len(candidates) == 1:
            return candidates[0]
        return random.choices(candidates, weights=[d.weight for d in candidates])[0]


class LeastBusy:
    def pick(self, candidates: list[Deployment]) -> Deployment:
        fewest = min(d.state.in_flight for d in candidates)
        return Weighted().pick([d for d in candidates if d.state.in_flight == fewest])


class LowestLatency:
    explore = 0.05  # share of requests sent to a random upstream, so that every latency stays fresh

    def pick(self, candidates: list[Deployment]) -> Deployment:
        unmeasured = [d for d in candidates if d.state.latency_ms == 0.0]
        if unmeasured:
            return random.choice(unmeasured)
        if random.random() < self.explore:
            return random.choice(candidates)
        return min(candidates, key=lambda d: d.state.latency_ms)


class Router:
    def __init__(self, cfg: GatewayConfig, upstreams: dict[str, Upstream],
                 on_cooldown: Callable[[str], None] = lambda name: None) -> None:
        self.cfg = cfg
        self.upstreams = upstreams
        self.states = {name: UpstreamState(name) for name in upstreams}
        self.strategy: Strategy = STRATEGIES.get(cfg.routing.strategy)()
        self.on_cooldown = on_cooldown
        self.routes: dict[str, Route] = {}
        for name, m in cfg.models.items():
            deps = [Deployment(upstreams[d.upstream], d.model or name, d.weight, self.states[d.upstream])
                    for d in m.upstreams]
            route = Route(name, deps, list(m.fallbacks), tuple(m.aliases), m.cache)
            for n in (name, *m.aliases):
                self.routes[n] = route
        self.default = cfg.default_upstream

    def resolve(self, model: str) -> Route | None:
        """The route of a model name or alias; a model not listed goes to `default_upstream`, if any."""
        route = self.routes.get(model)
        if route is None and self.default is not None:
            up = self.default
            route = Route(model, [Deployment(self.upstreams[up], model, 1.0, self.states[up])])
        return route

    def plan(self, route: Route) -> list[Deployment]:
        """The deployments to try for one call (`attempts`, with a fast path for the common single one)."""
        if len(route.deployments) == 1 and not route.fallbacks:
            dep = route.deployments[0]
            if dep.state.available(time.monotonic()):
                return [dep]
        return list(self.attempts(route))

    def attempts(self, route: Route) -> Iterator[Deployment]:
        """Deployments to try, in order; raises `AllCooling` when the first cannot be found."""
        tried: set[str] = set()
        limit = 1 + self.cfg.routing.retries
        seen_routes = [route]
        queue = [route]
        considered: list[UpstreamState] = []
        while queue and len(tried) < limit:
            r = queue.pop(0)
            now = time.monotonic()
            while len(tried) < limit:
                fresh = [d for d in r.deployments if d.state.name not in tried]
                considered += [d.state for d in fresh if d.state not in considered]
                candidates = [d for d in fresh if d.state.available(now)]
                if not candidates:
                    break
                dep = self.strategy.pick(candidates)
                tried.add(dep.state.name)
                yield dep
                now = time.monotonic()
            for fb in r.fallbacks:
                nxt = self.routes.get(fb)
                if nxt is not None and nxt not in seen_routes:
                    seen_routes.append(nxt)
                    queue.append(nxt)
        if not tried:
            raise AllCooling(route.name, considered, time.monotonic())

    def succeeded(self, dep: Deployment, seconds: float) -> None:
        s = dep.state
        s.failures = 0
        ms = seconds * 1000.0
        s.latency_ms = ms if s.latency_ms == 0.0 else (1 - EWMA) * s.latency_ms + EWMA * ms

    def failed(self, dep: Deployment, reason: str) -> None:
        s = dep.state
        s.failures += 1
        s.last_error = reason
        cd = self.cfg.routing.cooldown
        if dep.upstream.config.cooldown and s.failures >= cd.failures and time.monotonic() >= s.cooldown_until:
            s.cooldown_until = time.monotonic() + cd.seconds
            log.warning("upstream %s in cooldown for %.0f s after %d failures (%s)", s.name, cd.seconds,
                        s.failures, reason)
            self.on_cooldown(s.name)

    def snapshot(self) -> dict[str, dict[str, float]]:
        now = time.monotonic()
        return {n: {"in_flight": s.in_flight, "cooling": 0.0 if s.available(now) else 1.0}
                for n, s in self.states.items()}

    async def check_health(self) -> None:
        """One round of active health checks, all upstreams at once."""
        hc = self.cfg.routing.health

        async def one(name: str, up: Upstream) -> None:
            s = self.states[name]
            try:
                status, _ = await up.get(up.config.health_path, timeout=hc.timeout)
                ok = 200 <= status < 300
                reason = f"health check answered {status}"
            except Exception as err:  # noqa: BLE001 - any failure is "unhealthy"
                ok, reason = False, f"health check failed ({type(err).__name__})"
            if ok and not s.healthy:
                log.warning("upstream %s is healthy again", name)
                s.failures, s.cooldown_until = 0, 0.0
            elif not ok:
                if s.healthy:
                    log.warning("upstream %s is unhealthy: %s", name, reason)
                    self.on_cooldown(name)
                s.last_error = reason
            s.healthy = ok

        await asyncio.gather(*(one(n, u) for n, u in self.upstreams.items() if u.config.health_path))

    async def health_loop(self) -> None:
        interval = self.cfg.routing.health.interval
        while interval > 0:
            await self.check_health()
            await asyncio.sleep(interval)
