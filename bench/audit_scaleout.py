"""The audit log under the gateway's load test: every call nginx answered is on record, none lost.

Two `luban gateway` replicas behind a real nginx share PostgreSQL (keys and audit); wrk drives concurrency 64
for `--minutes`; midway one replica is stopped (SIGTERM, as a rolling update does; `--kill` for SIGKILL) and a
new one started on its port. Afterwards the script compares the request ids nginx logged as answered (200)
with the request ids of the audit's call records, and verifies every chain.

    .venv/bin/python bench/audit_scaleout.py --minutes 10
    .venv/bin/python bench/audit_scaleout.py --minutes 2 --kill      # a replica SIGKILLed instead

Needs nginx, wrk and the PostgreSQL on 127.0.0.1 (database `test`); a fresh schema is made and dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import sqlalchemy as sa
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
PG = os.environ.get("LUBAN_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
LUA = """
wrk.method = "POST"
wrk.body = '{"model": "chat", "messages": [{"role": "user", "content": "audit load"}], "temperature": 0.5}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 90) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not up in {timeout} s")


def start_gateway(work: Path, cfg: Path, port: int, env: dict[str, str], tag: str) -> subprocess.Popen[bytes]:
    log = (work / f"gateway-{tag}.log").open("w")
    proc = subprocess.Popen([str(BIN / "luban"), "-w", str(work / "ws"), "gateway", "--config", str(cfg),
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env})
    wait_http(f"http://127.0.0.1:{port}/health")
    return proc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--kill", action="store_true", help="SIGKILL the replica instead of SIGTERM")
    args = ap.parse_args()
    for exe in ("nginx", "wrk"):
        if not (shutil.which(exe) or Path(f"/usr/sbin/{exe}").exists()):
            sys.exit(f"{exe} is missing: apt-get install -y {exe}")
    sys.path.insert(0, str(ROOT / "src"))
    from luban.audit import AuditStore
    from luban.audit.query import Filter, find
    from luban.audit.signing import Signer
    from luban.audit.verify import verify_chain
    from luban.gateway.deploy.nginx import NginxConfig, render_nginx
    from luban.gateway.keys import KeyStore

    work = Path(tempfile.mkdtemp(prefix="luban-audit-scale-"))
    schema = f"auditbench_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(PG)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    url = f"{PG}?options=-csearch_path%3D{schema}"
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; work in {work}", flush=True)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        up_port = free_port()
        procs.append(subprocess.Popen([str(BIN / "python"), str(ROOT / "bench" / "gateway_upstream.py"), "--port",
                                       str(up_port)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        wait_http(f"http://127.0.0.1:{up_port}/v1/models")
        store = KeyStore(url)
        _, secret = store.create("load")
        store.close()
        cfg = work / "gateway.yaml"
        cfg.write_text(yaml.safe_dump({
            "upstreams": {"u": {"url": f"http://127.0.0.1:{up_port}/v1"}},
            "models": {"chat": {"upstreams": [{"upstream": "u", "model": "bench"}]}},
            "routing": {"health": {"interval": 0}}, "keys": {"url": url},
            "hooks": [{"use": "audit", "with": {"text": "hash"}}]}))
        env = {"LUBAN_AUDIT_KEY": str(work / "audit-signing.key")}
        pa, pb = free_port(), free_port()
        a = start_gateway(work, cfg, pa, env, "a")
        b = start_gateway(work, cfg, pb, env, "b")
        procs += [a, b]
        front = free_port()
        run_dir = work / "nginx"
        run_dir.mkdir()
        conf = run_dir / "nginx.conf"
        conf.write_text(render_nginx(NginxConfig(servers=[f"127.0.0.1:{pa}", f"127.0.0.1:{pb}"],
                                                 listen=f"127.0.0.1:{front}", run_dir=str(run_dir),
                                                 worker_processes="1", keepalive=32)))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        ngx = subprocess.Popen([nginx, "-c", str(conf), "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                               stderr=(work / "nginx.err").open("w"))
        procs.append(ngx)
        wait_http(f"http://127.0.0.1:{front}/health")
        script = work / "load.lua"
        script.write_text(LUA % secret)
        seconds = args.minutes * 60
        wrk = subprocess.Popen(["wrk", "-t", "2", "-c", str(args.concurrency), "-d", f"{seconds:.0f}s", "--timeout",
                                "10s", "-s", str(script), f"http://127.0.0.1:{front}/v1/chat/completions"],
                               stdout=subprocess.PIPE, text=True)
        time.sleep(seconds / 2)
        how = signal.SIGKILL if args.kill else signal.SIGTERM
        a.send_signal(how)
        a.wait(60)
        print(f"replica a stopped with {how.name} at {seconds / 2:.0f} s; restarting on port {pa}", flush=True)
        procs.append(start_gateway(work, cfg, pa, env, "a2"))
        out, _ = wrk.communicate(timeout=seconds + 120)
        print(out.strip(), flush=True)
        time.sleep(2)  # calls wrk left in flight at its end finish (nginx logs them too)
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGQUIT if p.args[0].endswith("nginx") else signal.SIGTERM)
        for p in procs:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
    log = (run_dir / "access.log").read_text()
    answered = set(re.findall(r'"POST /v1/chat/completions HTTP/1.1" 200 .* rid=([0-9a-f]{32})', log))
    failed = re.findall(r'"POST /v1/chat/completions HTTP/1.1" (\d{3}) ', log)
    statuses = {s: failed.count(s) for s in sorted(set(failed))}
    audit = AuditStore(url)
    calls = [r for r in find(audit, Filter(kind="call")) if r["status"] == 200]
    recorded = [r["request_id"] for r in calls]
    missing = answered - set(recorded)
    extra = set(recorded) - answered
    key = Signer(work / "keys", key_path=work / "audit-signing.key").public_key
    chains = {c: verify_chain(audit, c, key, work / "none").ok for c in audit.chains()}
    per_chain = {c: sum(1 for r in calls if r["chain"] == c) for c in chains}
    audit.close()
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    result = {"minutes": args.minutes, "concurrency": args.concurrency, "stop": "SIGKILL" if args.kill else "SIGTERM",
              "nginx_statuses": statuses, "answered": len(answered), "recorded_200": len(recorded),
              "recorded_unique": len(set(recorded)), "answered_not_recorded": len(missing),
              "recorded_not_answered": len(extra), "chains": per_chain, "chains_ok": all(chains.values())}
    print(json.dumps(result, indent=1))
    print(f"answered {len(answered):,} calls, {len(set(recorded)):,} on record, {len(missing)} missing, "
          f"{len(recorded) - len(set(recorded))} twice; {len(chains)} chains, "
          f"{'all verify' if all(chains.values()) else 'NOT ALL VERIFY'}")


if __name__ == "__main__":
    main()
