"""The audit log under the gateway's load behind a real nginx: two replicas sharing PostgreSQL, one of them
stopped (SIGTERM, as an orchestrator does) and restarted midway. Every answered call is on record exactly
once, in one chain per replica process, and every chain verifies."""

from __future__ import annotations

import re
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import openai
import pytest
import sqlalchemy as sa
from gateway_procs import free_port, need_exe, start_gateway, start_stub, wait_port

from luban.audit import AuditStore
from luban.audit.query import Filter, find
from luban.audit.signing import Signer
from luban.audit.verify import verify_chain
from luban.gateway.deploy.nginx import NginxConfig, render_nginx
from luban.gateway.keys import KeyStore

pytestmark = [pytest.mark.services, pytest.mark.slow]


@pytest.fixture()
def pg(postgres_url: str) -> Iterator[str]:
    schema = f"auditscale_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    yield f"{postgres_url}?options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def test_every_answered_call_is_recorded_once_across_a_replica_restart(tmp_path: Path, pg: str) -> None:
    nginx = need_exe("nginx")
    up = start_stub(tmp_path, "up")
    store = KeyStore(pg)
    _, secret = store.create("load")
    store.close()
    cfg = {"upstreams": {"u": {"url": up.url + "/v1"}},
           "models": {"chat": {"upstreams": [{"upstream": "u", "model": "echo"}]}},
           "routing": {"health": {"interval": 0}}, "keys": {"url": pg},
           "hooks": [{"use": "audit", "with": {"text": "hash"}}]}
    env = {"LUBAN_AUDIT_KEY": str(tmp_path / "audit-signing.key")}  # one signing key for every replica
    a = start_gateway(tmp_path, cfg, env=env)
    b = start_gateway(tmp_path, cfg, env=env)
    front = free_port()
    run_dir = tmp_path / "nginx"
    run_dir.mkdir()
    conf = run_dir / "nginx.conf"
    conf.write_text(render_nginx(NginxConfig(servers=[f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"],
                                             listen=f"127.0.0.1:{front}", run_dir=str(run_dir),
                                             worker_processes="1", keepalive=16)))
    ngx = subprocess.Popen([nginx, "-c", str(conf), "-g", "daemon off;"],
                           stdout=(tmp_path / "nginx.out").open("w"), stderr=subprocess.STDOUT)
    wait_port(front)
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{front}/v1", api_key=secret, max_retries=0, timeout=30)
    answered: list[int] = []
    errors: list[str] = []
    restarted: list[Any] = []

    def one(i: int) -> None:
        try:
            out = client.chat.completions.create(model="chat", messages=[{"role": "user", "content": f"load {i}"}],
                                                 temperature=0.5)
            assert out.choices[0].message.content
            answered.append(i)
        except Exception as err:  # noqa: BLE001 - every failure is reported
            errors.append(f"{i}: {type(err).__name__}: {err}")

    try:
        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(one, i) for i in range(240)]
            while len(answered) + len(errors) < 60:
                time.sleep(0.01)
            a.proc.send_signal(signal.SIGTERM)  # stopped under load, as a rolling update does
            a.proc.wait(30)
            restarted.append(start_gateway(tmp_path, {**cfg}, env=env))  # a new process: a new chain
            for f in futures:
                f.result()
    finally:
        for p in (b, *restarted):
            p.stop()
        ngx.send_signal(signal.SIGQUIT)
        ngx.wait(10)
        up.stop()
    assert errors == [], errors[:3]
    audit = AuditStore(pg)
    calls = [r for r in find(audit, Filter(kind="call")) if r["status"] == 200]
    assert len(calls) == len(answered) == 240
    assert len({r["request_id"] for r in calls}) == 240
    # nginx's request id reached the gateway: one id in nginx's access log, the gateway's and the audit
    assert all(re.fullmatch(r"[0-9a-f]{32}", r["request_id"]) for r in calls)
    logged = set(re.findall(r"rid=([0-9a-f]{32})", (run_dir / "access.log").read_text()))
    assert {r["request_id"] for r in calls} <= logged
    chains = audit.chains()
    assert len(chains) >= 2  # the stopped replica's chain and the others'
    key = Signer(tmp_path / "keys", key_path=tmp_path / "audit-signing.key").public_key
    for chain in chains:
        report = verify_chain(audit, chain, key, tmp_path / "none")
        assert report.ok, (chain, report.problems)
    audit.close()
