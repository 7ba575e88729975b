"""Deployment renderers: nginx configs pass `nginx -t` and really balance, stream and retry; Kubernetes
manifests pass the Kubernetes schemas (kubernetes-validate, offline) and carry a gateway.yaml that loads."""

from __future__ import annotations

import asyncio
import copy
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml

from luban.core.errors import UsageError
from luban.gateway.config import load_gateway_config
from luban.gateway.deploy.k8s import K8sConfig, dump, render_k8s
from luban.gateway.deploy.nginx import NginxConfig, render_nginx

IN_CI = __import__("os").environ.get("CI", "").lower() in {"1", "true", "yes"}
K8S_VERSION = "1.37.0"


def _need_nginx() -> str:
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if path is None:
        if IN_CI:
            pytest.fail("nginx is not installed and CI=true requires it (apt-get install -y nginx)")
        pytest.skip("nginx is not installed (apt-get install -y nginx)")
    return path


@pytest.fixture
def cli(capsys):
    """Run `luban ARGS` in-process; returns (exit code, stdout, stderr)."""
    from luban.cli.main import main

    def run(*args: object) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _nginx_t(nginx: str, conf: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([nginx, "-t", "-c", str(conf)], capture_output=True, text=True)


def test_nginx_config_passes_nginx_t(tmp_path: Path) -> None:
    nginx = _need_nginx()
    cfg = NginxConfig(servers=["127.0.0.1:8001", "10.0.0.2:8080"], listen="127.0.0.1:18080", run_dir=str(tmp_path),
                      admin_allow=["10.0.0.0/8"], connect_timeout=2.5)
    text = render_nginx(cfg)
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    done = _nginx_t(nginx, conf)
    assert done.returncode == 0, done.stderr
    assert "proxy_buffering off;" in text and "keepalive 64;" in text
    assert "proxy_next_upstream error http_503 non_idempotent;" in text
    assert "proxy_connect_timeout 2500ms;" in text and "deny all;" in text
    assert " non_idempotent;" not in text.split("location /admin/")[1].split("}")[0]


def test_nginx_snippet_fits_an_http_block(tmp_path: Path) -> None:
    nginx = _need_nginx()
    snippet = render_nginx(NginxConfig(servers=["127.0.0.1:8001"], listen="18081", standalone=False,
                                       retry_post=False))
    assert "events {" not in snippet and " non_idempotent;" not in snippet
    (tmp_path / "site.conf").write_text(snippet)
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log; events {{}}\n"
                    f"http {{ access_log off; client_body_temp_path {tmp_path}/cb; proxy_temp_path {tmp_path}/px;\n"
                    f"include {tmp_path}/site.conf; }}\n")
    done = _nginx_t(nginx, conf)
    assert done.returncode == 0, done.stderr


def test_nginx_bad_input(cli) -> None:
    code, _, err = cli("deploy", "nginx", "-s", "localhost")
    assert code == 2 and "'localhost' is not HOST:PORT" in err
    with pytest.raises(UsageError, match="both a certificate and its key"):
        render_nginx(NginxConfig(servers=["a:1"], tls_cert="c.pem"))


def _backend(port: int, name: str, stop: threading.Event) -> threading.Thread:
    """A tiny HTTP backend: /v1/stream sends one SSE event, waits 1 s, sends another; others answer `name`."""
    from aiohttp import web

    async def stream(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(b"data: first\n\n")
        await asyncio.sleep(1.0)
        await resp.write(b"data: second\n\n")
        return resp

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"backend": name})

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/v1/stream", stream)
        app.router.add_route("*", "/{tail:.*}", answer)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        await runner.cleanup()

    t = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    t.start()
    return t


def test_nginx_balances_retries_a_dead_replica_and_streams_unbuffered(tmp_path: Path) -> None:
    nginx = _need_nginx()
    live, dead, front = _port(), _port(), _port()
    stop = threading.Event()
    thread = _backend(live, "live", stop)
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_nginx(NginxConfig(servers=[f"127.0.0.1:{dead}", f"127.0.0.1:{live}"],
                                             listen=f"127.0.0.1:{front}", run_dir=str(tmp_path),
                                             worker_processes="1")))
    proc = subprocess.Popen([nginx, "-c", str(conf), "-g", "daemon off;"], stderr=subprocess.PIPE)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{front}", timeout=10) as client:
            for _ in range(50):
                try:
                    client.get("/health")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            # every POST reaches the live replica, also those first sent to the dead one
            answers = [client.post("/v1/chat/completions", json={"n": i}) for i in range(10)]
            assert [r.status_code for r in answers] == [200] * 10
            assert {r.json()["backend"] for r in answers} == {"live"}
            with client.stream("POST", "/v1/stream", json={}) as r:
                t0 = time.monotonic()
                chunks = r.iter_bytes()
                first = next(chunks)
                got_first = time.monotonic() - t0
                rest = b"".join(chunks)
            assert first.startswith(b"data: first") and b"second" in first + rest
            assert got_first < 0.8, f"the first event waited {got_first:.2f} s: nginx buffered the stream"
    finally:
        proc.send_signal(signal.SIGQUIT)
        proc.wait(10)
        stop.set()
        thread.join(5)


def _validate(docs: list[dict]) -> None:
    kv = pytest.importorskip("kubernetes_validate") if not IN_CI else __import__("kubernetes_validate")
    for doc in docs:
        kv.validate(doc, K8S_VERSION, strict=True)


@pytest.mark.parametrize("variant", [
    {},
    {"engine": "vllm", "gpus": 2, "model": "Qwen/Qwen2.5-7B-Instruct", "model_pvc": "models"},
    {"engine": "none", "redis_url": "redis://r:6379/0", "postgres_url": "postgresql+psycopg://u:p@db/luban"},
])
def test_k8s_manifests_pass_the_kubernetes_schemas(variant: dict) -> None:
    docs = render_k8s(K8sConfig(provider_keys=["DEEPSEEK_API_KEY"], **variant))
    _validate(docs)
    kinds = [d["kind"] for d in docs]
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "Secret", "ConfigMap"} <= set(kinds)
    assert ("StatefulSet" in kinds) == ("postgres_url" not in variant)
    gw = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "luban-gateway")
    c = gw["spec"]["template"]["spec"]["containers"][0]
    assert c["readinessProbe"]["httpGet"]["path"] == "/health" and c["livenessProbe"]["httpGet"]["path"] == "/health"
    assert list(yaml.safe_load_all(dump(docs))) == docs


def test_k8s_schema_check_catches_a_broken_manifest() -> None:
    kv = pytest.importorskip("kubernetes_validate") if not IN_CI else __import__("kubernetes_validate")
    docs = render_k8s(K8sConfig())
    broken = copy.deepcopy(next(d for d in docs if d["kind"] == "Deployment"))
    broken["spec"]["replicas"] = "two"
    with pytest.raises(kv.ValidationError):
        kv.validate(broken, K8S_VERSION, strict=True)


def test_k8s_gateway_yaml_loads_as_a_gateway_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("POSTGRES_PASSWORD", "pw")
    docs = render_k8s(K8sConfig(model_name="support"))
    cm = next(d for d in docs if d["kind"] == "ConfigMap")
    assert "pw" not in cm["data"]["gateway.yaml"]  # the password stays in the Secret
    path = tmp_path / "gateway.yaml"
    path.write_text(cm["data"]["gateway.yaml"])
    cfg = load_gateway_config(path)
    assert cfg.keys.url == "postgresql+psycopg://luban:pw@luban-postgres:5432/luban"
    assert cfg.redis.url == "redis://luban-redis:6379/0" and cfg.cache.backend == "redis"
    assert "support" in cfg.models and cfg.port == 8080


def test_k8s_cli_keeps_the_users_gateway_yaml(cli, tmp_path: Path) -> None:
    gw = tmp_path / "gateway.yaml"
    gw.write_text("upstreams:\n  ds: {provider: deepseek, api_key_env: DEEPSEEK_API_KEY}\n"
                  "models:\n  chat: {upstreams: [ds]}\n")
    out = tmp_path / "k8s.yaml"
    code, _, err = cli("deploy", "k8s", "-c", gw, "--engine", "none", "-o", out)
    assert code == 0, err
    assert "DEEPSEEK_API_KEY are empty" in err
    docs = list(yaml.safe_load_all(out.read_text()))
    _validate(docs)
    cm = yaml.safe_load(next(d for d in docs if d["kind"] == "ConfigMap")["data"]["gateway.yaml"])
    assert cm["models"] == {"chat": {"upstreams": ["ds"]}}
    code, _, err = cli("deploy", "k8s", "--name", "Bad_Name")
    assert code == 2 and "--name" in err
