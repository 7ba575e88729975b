"""Routing: strategies, cooldown after repeated failures, the order of attempts with fallbacks, 503 naming
every upstream, and active health checks."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import pytest

from luban.gateway.config import GatewayConfig, UpstreamConfig, load_gateway_config
from luban.gateway.routing import AllCooling, LeastBusy, LowestLatency, Router


class FakeUpstream:
    """Just enough of an Upstream for the router: a name and a health answer."""

    def __init__(self, name: str, healthy: bool = True) -> None:
        self.name, self.healthy, self.region, self.provider = name, healthy, "domestic", None
        self.config = UpstreamConfig(url="http://x/v1")

    async def get(self, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
        if not self.healthy:
            raise ConnectionError("refused")
        return 200, b"{}"


def router(strategy: str = "weighted", **routing: Any) -> tuple[Router, dict[str, FakeUpstream]]:
    cfg: GatewayConfig = load_gateway_config(data={
        "upstreams": {n: {"url": f"http://{n}/v1"} for n in ("a", "b", "c")},
        "models": {"m": {"upstreams": [{"upstream": "a", "weight": 3}, {"upstream": "b", "weight": 1}],
                         "fallbacks": ["n"]},
                   "n": {"upstreams": ["c"]}},
        "routing": {"strategy": strategy, "retries": 5, "cooldown": {"failures": 2, "seconds": 30}, **routing}})
    ups = {n: FakeUpstream(n) for n in ("a", "b", "c")}
    return Router(cfg, ups), ups  # type: ignore[arg-type]


def test_weighted_follows_the_weights() -> None:
    r, _ = router()
    picks = Counter(next(r.attempts(r.routes["m"])).state.name for _ in range(2000))
    assert 0.68 < picks["a"] / 2000 < 0.82


def test_attempts_try_each_upstream_once_then_the_fallbacks() -> None:
    r, _ = router()
    names = [d.state.name for d in r.attempts(r.routes["m"])]
    assert sorted(names[:2]) == ["a", "b"] and names[2] == "c"


def test_cooldown_after_repeated_failures_then_503_naming_them() -> None:
    r, _ = router()
    cooled: list[str] = []
    r.on_cooldown = cooled.append
    for name in ("a", "b", "c"):
        dep = next(d for d in r.attempts(r.routes["m"]) if d.state.name == name)
        r.failed(dep, "refused")
        r.failed(dep, "refused")
    assert cooled == ["a", "b", "c"]
    with pytest.raises(AllCooling) as err:
        list(r.attempts(r.routes["m"]))
    assert "a (cooling down 30 s: refused)" in str(err.value) and "c (" in str(err.value)
    assert err.value.retry_after == 30


def test_a_success_resets_the_failure_count() -> None:
    r, _ = router()
    dep = next(r.attempts(r.routes["n"]))
    r.failed(dep, "x")
    r.succeeded(dep, 0.01)
    r.failed(dep, "x")
    assert dep.state.available(time.monotonic())


def test_least_busy_and_lowest_latency() -> None:
    r, _ = router()
    deps = r.routes["m"].deployments
    deps[0].state.in_flight = 5
    assert LeastBusy().pick(deps).state.name == "b"
    deps[0].state.latency_ms, deps[1].state.latency_ms = 5.0, 50.0
    lat = LowestLatency()
    lat.explore = 0.0
    assert lat.pick(deps).state.name == "a"


def test_health_checks_mark_an_upstream_down_and_bring_it_back() -> None:
    r, ups = router()
    ups["a"].healthy = False
    asyncio.run(r.check_health())
    assert not r.states["a"].available(time.monotonic())
    assert {d.state.name for d in r.attempts(r.routes["m"])} == {"b", "c"}
    ups["a"].healthy = True
    asyncio.run(r.check_health())
    assert r.states["a"].available(time.monotonic())


def test_unlisted_models_go_to_the_default_upstream() -> None:
    cfg = load_gateway_config(data={"upstreams": {"e": {"url": "http://e/v1"}}, "default_upstream": "e"})
    r = Router(cfg, {"e": FakeUpstream("e")})  # type: ignore[dict-item]
    route = r.resolve("anything")
    assert route is not None and route.deployments[0].model == "anything"
