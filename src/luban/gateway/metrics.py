"""The gateway's Prometheus metrics (prometheus-client), served at /metrics.

Design choices:
- One `CollectorRegistry` per gateway, so that several gateways (or tests) in one process never clash.
- Labelled children are looked up once and kept in dicts: `Counter.labels()` costs more than `inc()`, and
  the hot path calls these for every request.
- Queue depth (requests in flight per upstream) and cooldowns are read at scrape time from the router,
  so routing never touches a gauge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class _Scraped(Collector):
    """Gauges computed when Prometheus scrapes: in-flight requests and cooldown per upstream."""

    def __init__(self, read: Callable[[], dict[str, dict[str, float]]]) -> None:
        self.read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        in_flight = GaugeMetricFamily("luban_gateway_upstream_in_flight",
                                      "requests in flight per upstream (queue depth)", labels=["upstream"])
        cooling = GaugeMetricFamily("luban_gateway_upstream_cooling",
                                    "1 while the upstream is in cooldown or failing health checks",
                                    labels=["upstream"])
        for name, state in self.read().items():
            in_flight.add_metric([name], state["in_flight"])
            cooling.add_metric([name], state["cooling"])
        yield in_flight
        yield cooling


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self._requests = Counter("luban_gateway_requests", "requests by route, model and status",
                                 ["route", "model", "status"], registry=r)
        self._latency = Histogram("luban_gateway_request_seconds", "time from request to the last byte",
                                  ["route"], buckets=LATENCY_BUCKETS, registry=r)
        self._ttft = Histogram("luban_gateway_time_to_first_byte_seconds", "time to the first streamed byte",
                               ["route"], buckets=LATENCY_BUCKETS, registry=r)
        self._tokens = Counter("luban_gateway_tokens", "tokens by model and kind", ["model", "kind"], registry=r)
        self._cache = Counter("luban_gateway_cache", "cache lookups by result (hit, miss)", ["result"],
                              registry=r)
        self._upstream_errors = Counter("luban_gateway_upstream_errors", "upstream failures by kind",
                                        ["upstream", "kind"], registry=r)
        self._cooldowns = Counter("luban_gateway_cooldowns", "times an upstream was put in cooldown",
                                  ["upstream"], registry=r)
        self._redis_errors = Counter("luban_gateway_redis_errors",
                                     "Redis operations that failed (the request went on without Redis)",
                                     ["op"], registry=r)
        self._children: dict[tuple[Any, ...], Any] = {}

    def watch(self, read: Callable[[], dict[str, dict[str, float]]]) -> None:
        self.registry.register(_Scraped(read))

    def _child(self, metric: Any, *labels: str) -> Any:
        k = (id(metric), *labels)
        c = self._children.get(k)
        if c is None:
            c = self._children[k] = metric.labels(*labels)
        return c

    def request(self, route: str, model: str, status: int, seconds: float) -> None:
        self._child(self._requests, route, model, str(status)).inc()
        self._child(self._latency, route).observe(seconds)

    def first_byte(self, route: str, seconds: float) -> None:
        self._child(self._ttft, route).observe(seconds)

    def tokens(self, model: str, prompt: int, completion: int) -> None:
        if prompt:
            self._child(self._tokens, model, "prompt").inc(prompt)
        if completion:
            self._child(self._tokens, model, "completion").inc(completion)

    def cache(self, hit: bool) -> None:
        self._child(self._cache, "hit" if hit else "miss").inc()

    def upstream_error(self, upstream: str, kind: str) -> None:
        self._child(self._upstream_errors, upstream, kind).inc()

    def cooldown(self, upstream: str) -> None:
        self._child(self._cooldowns, upstream).inc()

    def redis_error(self, op: str) -> None:
        self._child(self._redis_errors, op).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
