"""The response cache: deterministic requests only (unless opted in), Cache-Control, streams replayed from a
cached answer, TTL and LRU, and a Redis that is down costing nothing but a metric."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from gateway_procs import free_port, metric, start_gateway, start_stub

from luban.gateway.cache import MemoryCache, RedisCache, cache_key, deterministic

MSG = [{"role": "user", "content": "cache me"}]


@pytest.fixture(scope="module")
def env(module_tmp: Path) -> Iterator[dict[str, Any]]:
    up = start_stub(module_tmp, "up")
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    base = {"upstreams": {"u": {"url": up.url + "/v1"}},
            "models": {"chat": {"upstreams": [{"upstream": "u", "model": "echo"}]},
                       "nocache": {"upstreams": [{"upstream": "u", "model": "echo"}], "cache": False}},
            "routing": {"health": {"interval": 0}}}
    gw = start_gateway(module_tmp, base)
    # the cache on a Redis that is not there: requests still succeed, uncached, and a metric counts it
    gw_dead = start_gateway(module_tmp, {**base, "cache": {"backend": "redis"}, "redis": {"url": dead_redis}})
    yield {"gw": gw, "gw_dead": gw_dead, "up": up}
    for p in (gw, gw_dead, up):
        p.stop()


def calls(env: dict[str, Any]) -> int:
    return int(httpx.get(env["up"].url + "/stats").json()["calls"])


def client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key="none", max_retries=0, timeout=20)


def test_deterministic_answer_is_served_from_the_cache(env: dict[str, Any]) -> None:
    c = client(env["gw"].url)
    msg = [{"role": "user", "content": "first"}]
    first = c.chat.completions.with_raw_response.create(model="chat", messages=msg, temperature=0)
    n = calls(env)
    again = c.chat.completions.with_raw_response.create(model="chat", messages=msg, temperature=0)
    assert calls(env) == n and again.headers["x-luban-cache"] == "hit"
    assert again.parse().choices[0].message.content == first.parse().choices[0].message.content
    assert metric(env["gw"].url, "luban_gateway_cache_total", result="hit") >= 1


def test_a_cached_answer_asked_for_as_a_stream_is_replayed_as_a_stream(env: dict[str, Any]) -> None:
    c = client(env["gw"].url)
    msg = [{"role": "user", "content": "replay"}]
    c.chat.completions.create(model="chat", messages=msg, temperature=0)
    n = calls(env)
    chunks = list(c.chat.completions.create(model="chat", messages=msg, temperature=0, stream=True,
                                            stream_options={"include_usage": True}))
    assert calls(env) == n
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices) == "up: replay"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 12


def test_a_streamed_answer_is_cached_for_the_next_request(env: dict[str, Any]) -> None:
    c = client(env["gw"].url)
    msg = [{"role": "user", "content": "streamed first"}]
    list(c.chat.completions.create(model="chat", messages=msg, seed=3, stream=True))
    n = calls(env)
    out = c.chat.completions.create(model="chat", messages=msg, seed=3)
    assert calls(env) == n and out.choices[0].message.content == "up: streamed first"


def test_sampling_requests_are_not_cached_unless_they_opt_in(env: dict[str, Any]) -> None:
    c = client(env["gw"].url)
    msg = [{"role": "user", "content": "sampled"}]
    c.chat.completions.create(model="chat", messages=msg, temperature=0.7)
    n = calls(env)
    c.chat.completions.create(model="chat", messages=msg, temperature=0.7)
    assert calls(env) == n + 1
    c.chat.completions.create(model="chat", messages=msg, temperature=0.7, extra_body={"luban": {"cache": True}})
    c.chat.completions.create(model="chat", messages=msg, temperature=0.7, extra_body={"luban": {"cache": True}})
    assert calls(env) == n + 2


def test_cache_control_no_store_and_no_cache(env: dict[str, Any]) -> None:
    c = client(env["gw"].url)
    msg = [{"role": "user", "content": "headers"}]
    c.chat.completions.create(model="chat", messages=msg, temperature=0, extra_headers={"Cache-Control": "no-store"})
    n = calls(env)
    c.chat.completions.create(model="chat", messages=msg, temperature=0)  # not stored before: a miss
    assert calls(env) == n + 1
    c.chat.completions.create(model="chat", messages=msg, temperature=0, extra_headers={"Cache-Control": "no-cache"})
    assert calls(env) == n + 2  # no-cache skips the read
    c.chat.completions.create(model="chat", messages=msg, temperature=0)
    assert calls(env) == n + 2


def test_a_model_can_turn_the_cache_off(env: dict[str, Any]) -> None:
    c = client(env["gw"].url)
    c.chat.completions.create(model="nocache", messages=MSG, temperature=0)
    n = calls(env)
    c.chat.completions.create(model="nocache", messages=MSG, temperature=0)
    assert calls(env) == n + 1


def test_redis_unreachable_means_uncached_and_counted_not_an_error(env: dict[str, Any]) -> None:
    c = client(env["gw_dead"].url)
    for _ in range(3):
        out = c.chat.completions.create(model="chat", messages=MSG, temperature=0)
        assert out.choices[0].message.content == "up: cache me"
    assert metric(env["gw_dead"].url, "luban_gateway_redis_errors_total") >= 1


def test_key_covers_model_body_and_sampling_but_not_stream() -> None:
    body = {"messages": MSG, "temperature": 0}
    k = cache_key("chat.completions", "chat", body)
    assert k == cache_key("chat.completions", "chat", {**body, "stream": True, "user": "u", "luban": {}})
    assert k != cache_key("chat.completions", "chat", {**body, "temperature": 0.1})
    assert k != cache_key("chat.completions", "other", body)
    assert k != cache_key("completions", "chat", body)
    assert deterministic("chat.completions", {"seed": 1}) and not deterministic("chat.completions", {})
    assert deterministic("embeddings", {})


def test_memory_cache_expires_and_evicts_the_least_recent() -> None:
    async def go() -> None:
        c = MemoryCache(ttl=0.2, max_entries=2)
        await c.set("a", b"1")
        await c.set("b", b"2")
        assert await c.get("a") == b"1"  # a is now the most recent
        await c.set("c", b"3")
        assert await c.get("b") is None and await c.get("a") == b"1"
        time.sleep(0.25)
        assert await c.get("a") is None

    asyncio.run(go())


@pytest.mark.services
def test_redis_cache_round_trip_with_ttl(redis_url: str) -> None:
    import redis.asyncio as aioredis

    async def go() -> None:
        client = aioredis.from_url(redis_url)
        errors: list[str] = []
        c = RedisCache(client, "luban-test:", ttl=0.3, on_error=errors.append)
        await c.set("k", b"v")
        assert await c.get("k") == b"v"
        await asyncio.sleep(0.4)
        assert await c.get("k") is None and not errors
        await client.aclose()

    asyncio.run(go())


def test_stream_without_hooks_hides_the_usage_it_asked_for_and_counts_it(env: dict[str, Any]) -> None:
    url = env["gw"].url
    before = metric(url, "luban_gateway_tokens_total", model="echo")
    chunks = list(client(url).chat.completions.create(model="chat", messages=MSG, stream=True, temperature=0.9))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "up: cache me"
    assert all(c.usage is None for c in chunks) and all(c.choices for c in chunks)
    assert metric(url, "luban_gateway_tokens_total", model="echo") == before + 12


def test_a_cached_tool_call_replays_as_a_tool_call_delta() -> None:
    import json as _json

    from luban.gateway.sse import replay

    call = {"id": "call_1", "type": "function", "function": {"name": "stock", "arguments": "{\"sku\": \"X100\"}"}}
    answer = {"id": "c1", "created": 1, "model": "m", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": None, "tool_calls": [call]},
         "finish_reason": "tool_calls"}]}
    events = [e for e in replay(answer, "chat.completions", include_usage=False) if b"[DONE]" not in e]
    first = _json.loads(events[0].decode().removeprefix("data: ").strip())
    delta = first["choices"][0]["delta"]
    assert delta["tool_calls"] == [{"index": 0, **call}] and delta["content"] is None
    last = _json.loads(events[-1].decode().removeprefix("data: ").strip())
    assert last["choices"][0]["finish_reason"] == "tool_calls"
