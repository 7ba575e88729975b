"""Prometheus metrics of one server: requests, tokens, latency, time to first token, engine load, prefix cache.

Each app has its own `CollectorRegistry`, so several servers (or tests) in one process never clash.
Engine occupancy is read at scrape time from the backends (`Backend.occupancy()`, None for a remote
upstream), so the decode loop never touches a metric.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from luban.serve.pool import ModelPool

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class _EngineCollector(Collector):
    def __init__(self, pool: ModelPool) -> None:
        self.pool = pool

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        running = GaugeMetricFamily("luban_engine_running", "sequences in the running batch", labels=["model"])
        steps = CounterMetricFamily("luban_engine_decode_steps", "batched decode steps run", labels=["model"])
        waiting = GaugeMetricFamily("luban_engine_waiting", "sequences waiting to be admitted", labels=["model"])
        queries = CounterMetricFamily("luban_prefix_cache_queries", "prompts looked up in the prefix cache",
                                      labels=["model"])
        hits = CounterMetricFamily("luban_prefix_cache_hits", "prompts that reused a cached prefix", labels=["model"])
        hit_tokens = CounterMetricFamily("luban_prefix_cache_hit_tokens", "prompt tokens whose KV cache came from "
                                         "the prefix cache instead of a forward", labels=["model"])
        held = GaugeMetricFamily("luban_prefix_cache_bytes", "memory the prefix cache holds", labels=["model"])
        for mid, backend in self.pool.backends.items():
            occupancy = backend.occupancy()
            if occupancy is not None:
                running.add_metric([mid], occupancy.running)
                waiting.add_metric([mid], occupancy.waiting)
                steps.add_metric([mid], occupancy.steps)
                queries.add_metric([mid], occupancy.prefix_queries)
                hits.add_metric([mid], occupancy.prefix_hits)
                hit_tokens.add_metric([mid], occupancy.prefix_hit_tokens)
                held.add_metric([mid], occupancy.prefix_cache_bytes)
        yield from (running, waiting, steps, queries, hits, hit_tokens, held)


class Metrics:
    def __init__(self, pool: ModelPool) -> None:
        self.pool = pool
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("luban_requests", "HTTP requests by route and status", ["route", "status"],
                                registry=r)
        self.tokens = Counter("luban_tokens", "tokens processed: kind prompt (in) or completion (out), streamed "
                              "or not, including requests the client abandoned", ["model", "kind"], registry=r)
        self.ttft = Histogram("luban_time_to_first_token_seconds", "time to first token", ["model"],
                              buckets=LATENCY_BUCKETS, registry=r)
        self.latency = Histogram("luban_request_seconds", "end-to-end generation latency", ["model"],
                                 buckets=LATENCY_BUCKETS, registry=r)
        r.register(_EngineCollector(pool))

    def usage(self, model: str, prompt: int, completion: int) -> None:
        self.tokens.labels(model, "prompt").inc(prompt)
        self.tokens.labels(model, "completion").inc(completion)

    def render(self) -> bytes:
        for model in self.pool.model_ids():  # every served model has its token samples, 0 before any request
            for kind in ("prompt", "completion"):
                self.tokens.labels(model, kind)
        return generate_latest(self.registry)
