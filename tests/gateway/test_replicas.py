"""Two gateway replicas sharing a real Redis (cache, limits, key changes) and PostgreSQL (keys): a key's rate
limit holds across both, an answer cached through one is served through the other, a revoked key is refused
by both at once, and Redis stopping mid-load gives no error."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import sqlalchemy as sa
from gateway_procs import free_port, metric, start_gateway, start_stub

from luban.gateway.keys import KeyStore, publish_change

pytestmark = pytest.mark.services
MSG = [{"role": "user", "content": "replicas"}]


@pytest.fixture(scope="module")
def redis_proc(module_tmp: Path, redis_url: str) -> Iterator[dict[str, Any]]:
    """A Redis of our own (the shared one must not be stopped): started, and stoppable mid-test."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=(module_tmp / "redis.log").open("w"), stderr=subprocess.STDOUT)
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}", timeout=0.2)
        except httpx.RemoteProtocolError:
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    yield {"proc": proc, "url": f"redis://127.0.0.1:{port}/0"}
    proc.terminate()
    proc.wait()


@pytest.fixture(scope="module")
def pg_keys(postgres_url: str) -> Iterator[str]:
    schema = f"gwtest_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    yield f"{postgres_url}?options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


@pytest.fixture(scope="module")
def env(module_tmp: Path, redis_proc: dict[str, Any], pg_keys: str) -> Iterator[dict[str, Any]]:
    up = start_stub(module_tmp, "up")
    store = KeyStore(pg_keys)
    keys = {}
    for name, kw in {"limited": {"rpm": 4}, "free": {}, "victim": {}}.items():
        rec, secret = store.create(name, **kw)  # type: ignore[arg-type]
        keys[name] = (rec.id, secret)
    store.close()
    cfg = {"upstreams": {"u": {"url": up.url + "/v1"}}, "models": {"chat": {"upstreams": [{"upstream": "u",
                                                                                           "model": "echo"}]}},
           "routing": {"health": {"interval": 0}}, "cache": {"backend": "redis"},
           "redis": {"url": redis_proc["url"]}, "keys": {"url": pg_keys, "poll": 60, "reload": 600}}
    a = start_gateway(module_tmp, cfg)
    b = start_gateway(module_tmp, cfg)
    yield {"a": a, "b": b, "up": up, "keys": keys, "redis": redis_proc, "pg": pg_keys}
    for p in (a, b, up):
        p.stop()


def client(url: str, secret: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key=secret, max_retries=0, timeout=20)


def test_a_keys_rate_limit_holds_across_replicas(env: dict[str, Any]) -> None:
    _, secret = env["keys"]["limited"]
    ok = limited = 0
    for i in range(6):
        try:
            client(env["a" if i % 2 else "b"].url, secret).chat.completions.create(model="chat", messages=MSG)
            ok += 1
        except openai.RateLimitError:
            limited += 1
    assert (ok, limited) == (4, 2)


def test_an_answer_cached_through_one_replica_is_served_through_the_other(env: dict[str, Any]) -> None:
    _, secret = env["keys"]["free"]
    msg = [{"role": "user", "content": "shared cache"}]
    client(env["a"].url, secret).chat.completions.create(model="chat", messages=msg, temperature=0)
    calls = httpx.get(env["up"].url + "/stats").json()["calls"]
    raw = client(env["b"].url, secret).chat.completions.with_raw_response.create(model="chat", messages=msg,
                                                                                temperature=0)
    assert raw.headers["x-luban-cache"] == "hit" and httpx.get(env["up"].url + "/stats").json()["calls"] == calls


def test_a_revoked_key_is_refused_by_every_replica_at_once(env: dict[str, Any]) -> None:
    import asyncio

    kid, secret = env["keys"]["victim"]
    for r in ("a", "b"):
        client(env[r].url, secret).chat.completions.create(model="chat", messages=MSG)
    store = KeyStore(env["pg"])
    store.revoke(kid)
    store.close()
    asyncio.run(publish_change(env["redis"]["url"], "luban:", kid))  # what `luban keys revoke` does
    time.sleep(1.0)  # keys.poll is 60 s here: only the pub/sub message can explain a refusal now
    for r in ("a", "b"):
        with pytest.raises(openai.AuthenticationError, match="revoked"):
            client(env[r].url, secret).chat.completions.create(model="chat", messages=MSG)


def test_stopping_redis_mid_load_gives_no_errors(env: dict[str, Any]) -> None:
    _, secret = env["keys"]["free"]

    def one(i: int) -> int:
        c = client(env["a" if i % 2 else "b"].url, secret)
        out = c.chat.completions.create(model="chat", messages=[{"role": "user", "content": f"load {i}"}],
                                        temperature=0)
        return len(out.choices[0].message.content or "")

    with ThreadPoolExecutor(8) as pool:
        first = pool.map(one, range(40))
        env["redis"]["proc"].terminate()
        env["redis"]["proc"].wait()
        rest = list(pool.map(one, range(40, 120)))
    assert all(n > 0 for n in [*first, *rest])
    assert metric(env["a"].url, "luban_gateway_redis_errors_total") + \
        metric(env["b"].url, "luban_gateway_redis_errors_total") >= 1
