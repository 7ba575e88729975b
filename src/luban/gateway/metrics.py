"""The gateway's Prometheus metrics (prometheus-client), served at /metrics.

Design choices:
- One `CollectorRegistry` per gateway, so that several gateways (or tests) in one process never clash.
- Counters are plain dict entries turned into metrics at scrape time, histograms' labelled children are
  looked up once: the hot path calls these for every request, and prometheus-client's `labels().inc()`
  (a lock and a lookup) cost more than the rest of the bookkeeping together.
- Queue depth (requests in flight per upstream) and cooldowns are read at scrape time from the router,
  so routing never touches a gauge. Hooks publish their own gauges the same way (`gauge`, given to them
  as `HookEnv.gauge`): the usage hook's queue of records waiting for the database, for one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
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


class _Gauges(Collector):
    """Gauges that hooks publish: a name, its help and a function read at scrape time."""

    def __init__(self) -> None:
        self.reads: dict[str, tuple[str, Callable[[], float]]] = {}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for name, (doc, read) in list(self.reads.items()):
            try:
                value = float(read())
            except Exception:  # noqa: BLE001 - a hook's broken figure must not break the scrape
                continue
            yield GaugeMetricFamily(name, doc, value=value)


class _Counters(Collector):
    """Counters kept as plain dict entries (no lock, no labelled child) and turned into metrics at scrape
    time: the hot path pays one dict update per count, a third of prometheus-client's `inc()`."""

    def __init__(self, specs: dict[str, tuple[str, tuple[str, ...]]]) -> None:
        self.specs = specs
        self.values: dict[str, dict[tuple[str, ...], float]] = {name: {} for name in specs}

    def collect(self) -> Iterator[CounterMetricFamily]:
        for name, (doc, labels) in self.specs.items():
            fam = CounterMetricFamily(name, doc, labels=list(labels))
            for key, value in list(self.values[name].items()):
                fam.add_metric(list(key), value)
            yield fam


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self._counters = _Counters({
            "luban_gateway_requests": ("requests by route, model and status", ("route", "model", "status")),
            "luban_gateway_tokens": ("tokens by model and kind", ("model", "kind")),
            "luban_gateway_cache": ("cache lookups by result (hit, miss)", ("result",)),
            "luban_gateway_upstream_errors": ("upstream failures by kind", ("upstream", "kind")),
            "luban_gateway_cooldowns": ("times an upstream was put in cooldown", ("upstream",)),
            "luban_gateway_redis_errors": ("Redis operations that failed (the request went on without Redis)",
                                           ("op",)),
        })
        r.register(self._counters)
        v = self._counters.values
        self._requests, self._tokens, self._cache = v["luban_gateway_requests"], v["luban_gateway_tokens"], \
            v["luban_gateway_cache"]
        self._upstream_errors, self._cooldowns, self._redis_errors = v["luban_gateway_upstream_errors"], \
            v["luban_gateway_cooldowns"], v["luban_gateway_redis_errors"]
        self._latency = Histogram("luban_gateway_request_seconds", "time from request to the last byte",
                                  ["route"], buckets=LATENCY_BUCKETS, registry=r)
        self._ttft = Histogram("luban_gateway_time_to_first_byte_seconds", "time to the first streamed byte",
                               ["route"], buckets=LATENCY_BUCKETS, registry=r)
        self._children: dict[tuple[int, str], Any] = {}
        self._gauges = _Gauges()
        r.register(self._gauges)

    def watch(self, read: Callable[[], dict[str, dict[str, float]]]) -> None:
        self.registry.register(_Scraped(read))

    def gauge(self, name: str, doc: str, read: Callable[[], float]) -> None:
        """Publish `read()` as gauge `name` at every scrape; publishing a name again replaces it."""
        if not name.startswith("luban_"):
            raise ValueError(f"gauge '{name}': hooks' metric names start with luban_ (luban_gateway_usage_queue)")
        self._gauges.reads[name] = (doc, read)

    def _child(self, metric: Any, label: str) -> Any:
        k = (id(metric), label)
        c = self._children.get(k)
        if c is None:
            c = self._children[k] = metric.labels(label)
        return c

    @staticmethod
    def _inc(counts: dict[tuple[str, ...], float], key: tuple[str, ...], n: float = 1.0) -> None:
        counts[key] = counts.get(key, 0.0) + n

    def request(self, route: str, model: str, status: int, seconds: float) -> None:
        self._inc(self._requests, (route, model, str(status)))
        self._child(self._latency, route).observe(seconds)

    def first_byte(self, route: str, seconds: float) -> None:
        self._child(self._ttft, route).observe(seconds)

    def tokens(self, model: str, prompt: int, completion: int) -> None:
        if prompt:
            self._inc(self._tokens, (model, "prompt"), prompt)
        if completion:
            self._inc(self._tokens, (model, "completion"), completion)

    def cache(self, hit: bool) -> None:
        self._inc(self._cache, ("hit" if hit else "miss",))

    def upstream_error(self, upstream: str, kind: str) -> None:
        self._inc(self._upstream_errors, (upstream, kind))

    def cooldown(self, upstream: str) -> None:
        self._inc(self._cooldowns, (upstream,))

    def redis_error(self, op: str) -> None:
        self._inc(self._redis_errors, (op,))

    def render(self) -> bytes:
        return generate_latest(self.registry)
