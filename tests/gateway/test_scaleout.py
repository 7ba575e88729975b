"""Scale-out for real: nginx (Debian's package, config from `luban deploy nginx`) in front of two `luban gateway`
replicas sharing a Redis (cache, limits) and PostgreSQL (keys, usage), a stub OpenAI-compatible upstream, and
the official `openai` client. Every call goes through nginx:

- a key's rate limit holds across both replicas (both serve, the limit counts once);
- an answer cached through one replica is served through the other;
- usage from both replicas lands in the one PostgreSQL database, every call counted once;
- stopping Redis mid-load gives no errors (a Redis of this test's own, never the machine's);
- killing one replica (SIGKILL) under load loses no request.
"""

from __future__ import annotations

import signal
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
from gateway_procs import free_port, metric, need_exe, start_gateway, start_stub, wait_port

from luban.gateway.deploy.nginx import NginxConfig, render_nginx
from luban.gateway.keys import KeyStore
from luban.gateway.usage import UsageStore

pytestmark = [pytest.mark.services, pytest.mark.slow]
RPM = 6


@pytest.fixture(scope="module")
def redis_own(module_tmp: Path, redis_url: str) -> Iterator[dict[str, Any]]:
    """A redis-server of this test's own, on another port: the one this test stops."""
    exe = need_exe("redis-server")
    port = free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=(module_tmp / "redis-own.log").open("w"), stderr=subprocess.STDOUT)
    wait_port(port)
    yield {"proc": proc, "url": f"redis://127.0.0.1:{port}/0"}
    proc.terminate()
    proc.wait()


@pytest.fixture(scope="module")
def pg(postgres_url: str) -> Iterator[str]:
    schema = f"scaleout_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    yield f"{postgres_url}?options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


@pytest.fixture(scope="module")
def env(module_tmp: Path, redis_own: dict[str, Any], pg: str) -> Iterator[dict[str, Any]]:
    nginx = need_exe("nginx")
    up = start_stub(module_tmp, "up")
    store = KeyStore(pg)
    keys = {name: store.create(name, **kw) for name, kw in  # type: ignore[arg-type]
            {"limited": {"rpm": RPM}, "free": {}, "load": {}}.items()}
    store.close()
    cfg = {"upstreams": {"u": {"url": up.url + "/v1"}},
           "models": {"chat": {"upstreams": [{"upstream": "u", "model": "echo"}]}},
           "routing": {"health": {"interval": 0}}, "cache": {"backend": "redis"},
           "redis": {"url": redis_own["url"]}, "keys": {"url": pg},
           "hooks": [{"use": "usage", "with": {"flush_ms": 100}}]}
    a = start_gateway(module_tmp, cfg)
    b = start_gateway(module_tmp, cfg)
    front = free_port()
    run_dir = module_tmp / "nginx"
    run_dir.mkdir()
    conf = run_dir / "nginx.conf"
    conf.write_text(render_nginx(NginxConfig(servers=[f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"],
                                             listen=f"127.0.0.1:{front}", run_dir=str(run_dir),
                                             worker_processes="1", keepalive=16)))
    ngx = subprocess.Popen([nginx, "-c", str(conf), "-g", "daemon off;"],
                           stdout=(module_tmp / "nginx.out").open("w"), stderr=subprocess.STDOUT)
    wait_port(front)
    yield {"url": f"http://127.0.0.1:{front}", "a": a, "b": b, "up": up, "keys": keys, "pg": pg,
           "redis": redis_own, "nginx_log": run_dir / "error.log"}
    ngx.send_signal(signal.SIGQUIT)
    ngx.wait(10)
    for p in (a, b, up):
        p.stop()


def _client(env: dict[str, Any], key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=env["url"] + "/v1", api_key=env["keys"][key][1], max_retries=0, timeout=30)


def _served(env: dict[str, Any], replica: str) -> float:
    return metric(env[replica].url, "luban_gateway_requests_total")


def test_a_keys_rate_limit_holds_across_replicas_behind_nginx(env: dict[str, Any]) -> None:
    before = {r: _served(env, r) for r in ("a", "b")}
    ok = limited = 0
    for i in range(2 * RPM):
        try:
            _client(env, "limited").chat.completions.create(
                model="chat", messages=[{"role": "user", "content": f"limit {i}"}])
            ok += 1
        except openai.RateLimitError as err:
            assert err.response.headers.get("retry-after")
            limited += 1
    assert (ok, limited) == (RPM, RPM)
    assert all(_served(env, r) > before[r] for r in ("a", "b")), "nginx did not spread the calls"


def test_an_answer_cached_through_one_replica_is_served_through_the_other(env: dict[str, Any]) -> None:
    msg = [{"role": "user", "content": "cache me across replicas"}]
    direct = openai.OpenAI(base_url=env["a"].url + "/v1", api_key=env["keys"]["free"][1], max_retries=0)
    first = direct.chat.completions.create(model="chat", messages=msg, temperature=0)
    calls = httpx.get(env["up"].url + "/stats").json()["calls"]
    hits_b = metric(env["b"].url, "luban_gateway_cache_total", result="hit")
    for _ in range(4):  # through nginx: both replicas answer, all from the shared cache
        raw = _client(env, "free").chat.completions.with_raw_response.create(model="chat", messages=msg,
                                                                            temperature=0)
        assert raw.headers["x-luban-cache"] == "hit"
        assert raw.parse().choices[0].message.content == first.choices[0].message.content
    assert httpx.get(env["up"].url + "/stats").json()["calls"] == calls
    assert metric(env["b"].url, "luban_gateway_cache_total", result="hit") > hits_b


def test_usage_from_both_replicas_lands_in_one_database(env: dict[str, Any]) -> None:
    kid = env["keys"]["limited"][0].id
    store = UsageStore(env["pg"])
    try:
        end = time.monotonic() + 15
        while True:
            rows = store.summary(["key_id"], key=kid)
            if rows and rows[0]["requests"] >= 2 * RPM:
                break
            assert time.monotonic() < end, f"usage not written: {rows}"
            time.sleep(0.2)
        assert rows[0]["requests"] == 2 * RPM and rows[0]["errors"] == RPM  # the 429s are counted too
        assert rows[0]["prompt_tokens"] > 0
    finally:
        store.close()


def _load(env: dict[str, Any], n: int, during: Any, at: int) -> list[str]:
    """`n` calls through nginx from 8 threads; `during()` runs once `at` of them have been answered."""
    done: list[int] = []
    errors: list[str] = []
    client = _client(env, "load")  # one connection pool, as an application has

    def one(i: int) -> None:
        try:
            out = client.chat.completions.create(
                model="chat", messages=[{"role": "user", "content": f"load {i}"}], temperature=0.5)
            assert out.choices[0].message.content
        except Exception as err:  # noqa: BLE001 - every failure is reported
            errors.append(f"{i}: {type(err).__name__}: {err}")
        done.append(i)

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(one, i) for i in range(n)]
        while len(done) < at:
            time.sleep(0.01)
        during()
        for f in futures:
            f.result()
    assert len(done) == n
    return errors


def test_stopping_redis_mid_load_gives_no_errors(env: dict[str, Any]) -> None:
    def stop_redis() -> None:
        env["redis"]["proc"].terminate()
        env["redis"]["proc"].wait()

    errors = _load(env, 120, stop_redis, at=30)
    assert errors == []
    assert metric(env["a"].url, "luban_gateway_redis_errors_total") + \
        metric(env["b"].url, "luban_gateway_redis_errors_total") >= 1


def test_killing_one_replica_under_load_loses_no_request(env: dict[str, Any]) -> None:
    def kill_a() -> None:
        env["a"].proc.send_signal(signal.SIGKILL)
        env["a"].proc.wait()

    errors = _load(env, 160, kill_a, at=40)
    assert errors == [], f"{len(errors)} lost: {errors[:3]}; nginx: {env['nginx_log'].read_text()[-1500:]}"
    assert env["b"].proc.poll() is None
