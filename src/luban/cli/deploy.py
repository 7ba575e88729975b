"""`luban deploy nginx|k8s`: render the scale-out shape (nginx in front of gateway replicas, Kubernetes)."""

from __future__ import annotations

from pathlib import Path

import typer

from luban.cli.context import console, err_console
from luban.core.config import read_yaml
from luban.core.errors import UsageError

app = typer.Typer(help="Render deployment files: an nginx load balancer, Kubernetes manifests.",
                  no_args_is_help=True)


def _write(text: str, out: Path | None, what: str) -> None:
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    err_console.print(f"wrote {what} to {out}")


@app.command("nginx")
def nginx(
    server: list[str] = typer.Option(..., "--server", "-s", help="a gateway replica HOST:PORT (repeat for each)"),
    listen: str = typer.Option("80", "--listen", help="port, or ADDRESS:PORT, nginx listens on"),
    server_name: str = typer.Option("_", "--server-name", help="virtual host name(s)"),
    keepalive: int = typer.Option(64, "--keepalive", help="idle keep-alive connections to the replicas per worker"),
    read_timeout: float = typer.Option(600, "--read-timeout", help="seconds a replica may stay silent (generation)"),
    connect_timeout: float = typer.Option(2, "--connect-timeout", help="seconds to connect to a replica"),
    tries: int = typer.Option(2, "--tries", help="replicas one call may be tried on when one fails"),
    no_retry_post: bool = typer.Option(False, "--no-retry-post", help="never retry a completion on another "
                                       "replica, even when its replica failed before answering"),
    admin_allow: list[str] = typer.Option(None, "--admin-allow", help="network allowed to reach /admin/ "
                                          "(repeat; default: all)"),
    tls_cert: str = typer.Option(None, "--tls-cert", help="TLS certificate file (with --tls-key)"),
    tls_key: str = typer.Option(None, "--tls-key", help="TLS key file"),
    snippet: bool = typer.Option(False, "--snippet", help="only the upstream and server blocks, for conf.d/"),
    run_dir: str = typer.Option(None, "--run-dir", help="put pid, logs and temp files here (non-root nginx)"),
    out: Path = typer.Option(None, "--out", "-o", help="write here instead of stdout"),
) -> None:
    """An nginx config that balances gateway replicas.

    Keep-alive connections to the replicas, no buffering for streams (SSE), long read timeouts, and a retry
    on another replica when one fails before answering (never for /admin/ writes).

    Example: luban deploy nginx -s 10.0.0.11:8080 -s 10.0.0.12:8080 --listen 443 --tls-cert c.pem --tls-key k.pem -o /etc/nginx/nginx.conf
    """
    from pydantic import ValidationError

    from luban.gateway.deploy.nginx import NginxConfig, render_nginx

    try:
        cfg = NginxConfig(servers=server, listen=listen, server_name=server_name, keepalive=keepalive,
                          read_timeout=read_timeout, connect_timeout=connect_timeout, tries=tries,
                          retry_post=not no_retry_post, admin_allow=admin_allow or [], tls_cert=tls_cert,
                          tls_key=tls_key, standalone=not snippet, run_dir=run_dir)
    except ValidationError as e:
        err = e.errors()[0]
        raise UsageError(f"--{str(err['loc'][0]).replace('_', '-')}: {err['msg']}",
                         "see `luban deploy nginx --help`") from None
    _write(render_nginx(cfg), out, "the nginx config")


@app.command("k8s")
def k8s(
    config: Path = typer.Option(None, "--config", "-c", exists=True, dir_okay=False,
                                help="your gateway.yaml (database, Redis and cache are set for the cluster)"),
    name: str = typer.Option("luban", "--name", help="prefix of every resource"),
    namespace: str = typer.Option("luban", "--namespace", "-n"),
    image: str = typer.Option(None, "--image", help="Luban's image (built from the Dockerfile)"),
    replicas: int = typer.Option(2, "--replicas", help="gateway replicas (the HPA's minimum)"),
    max_replicas: int = typer.Option(10, "--max-replicas", help="the HPA's maximum"),
    engine: str = typer.Option("luban", "--engine", help="luban, vllm or none (only the upstreams of --config)"),
    model: str = typer.Option("/models/model", "--model", help="luban: model folder on the volume; vllm: a path "
                              "or model id"),
    model_name: str = typer.Option("model", "--model-name", help="the model name clients ask for"),
    model_pvc: str = typer.Option(None, "--model-pvc", help="PersistentVolumeClaim holding the models"),
    gpus: int = typer.Option(0, "--gpus", help="GPUs per engine pod"),
    redis_url: str = typer.Option(None, "--redis-url", help="use this Redis instead of deploying one"),
    postgres_url: str = typer.Option(None, "--postgres-url", help="use this PostgreSQL (SQLAlchemy URL)"),
    provider_key: list[str] = typer.Option(None, "--provider-key", help="env variable of a provider API key to "
                                           "put in the Secret (repeat; value from this shell when set)"),
    out: Path = typer.Option(None, "--out", "-o", help="write here instead of stdout"),
) -> None:
    """Kubernetes manifests for gateway replicas, an engine, Redis and PostgreSQL.

    The gateway's Deployment, HPA, PodDisruptionBudget and Service with probes on /health; a Luban engine or
    vLLM on GPUs; Redis; PostgreSQL; Secrets (the database password, the providers' API keys).

    Example: luban deploy k8s --engine vllm --model Qwen/Qwen2.5-7B-Instruct --gpus 1 -o k8s.yaml && kubectl apply -f k8s.yaml
    """
    from pydantic import ValidationError

    from luban.gateway.deploy.k8s import K8sConfig, dump, render_k8s

    gateway = read_yaml(config) if config else None
    keys = list(provider_key or [])
    if gateway:
        for up in (gateway.get("upstreams") or {}).values():
            env = isinstance(up, dict) and up.get("api_key_env")
            if env and env not in keys:
                keys.append(env)
    opts = {"name": name, "namespace": namespace, "replicas": replicas, "max_replicas": max_replicas,
            "engine": engine, "model": model, "model_name": model_name, "model_pvc": model_pvc, "gpus": gpus,
            "redis_url": redis_url, "postgres_url": postgres_url, "provider_keys": keys, "gateway_yaml": gateway}
    if image:
        opts["image"] = image
    try:
        cfg = K8sConfig(**opts)
    except ValidationError as e:
        err = e.errors()[0]
        raise UsageError(f"--{str(err['loc'][0]).replace('_', '-')}: {err['msg']}",
                         "see `luban deploy k8s --help`") from None
    docs = render_k8s(cfg)
    _write(dump(docs), out, f"{len(docs)} manifests")
    empty = [k for k in keys if not next(d for d in docs if d["metadata"]["name"].endswith("provider-keys"))
             ["stringData"].get(k)]
    if empty:
        err_console.print(f"note: provider keys {', '.join(empty)} are empty in the Secret; fill them with "
                          "kubectl or your secret manager")
    if out is not None:
        console.print(f"apply with: kubectl apply -f {out}")
