"""`luban serve MODEL...` and `luban engine MODEL...`: the OpenAI-compatible server.

`serve` is the embedded default (one process, prints how to call it); `engine` is the same
server without the banner, for scale-out behind `luban gateway` or any load balancer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from luban.cli.context import console, state
from luban.serve.limits import Limits

app = typer.Typer(help="Serve models behind an OpenAI-compatible API.", no_args_is_help=True)

MODELS = typer.Argument(..., help="workspace model artifact names/ids, HF directories, .gguf files or URLs")
HOST = typer.Option("127.0.0.1", "--host", help="interface to bind (0.0.0.0 for all)")
PORT = typer.Option(8000, "--port", "-p", help="TCP port")
NAME = typer.Option(None, "--name", help="served model id, once per MODEL in order")
BACKEND = typer.Option(None, "--backend", "-b", help="hf, onnx, llama-server, llamacpp or remote: once for every MODEL "
                       "or once per MODEL in order (default: detected per MODEL: a URL is remote, a .gguf (or a "
                       "folder with one) llama-server, a folder with *.onnx onnx, else hf)")
DEVICE = typer.Option(None, "--device", help="cpu or cuda (default: cuda when available)")
MAX_BATCH = typer.Option(32, "--max-batch", help="sequences decoded together per step")
MAX_QUEUE = typer.Option(256, "--max-queue", help="waiting requests before answering 429")
MAX_TOKENS = typer.Option(None, "--max-tokens-cap", help="never generate more tokens per choice than this")
TIMEOUT = typer.Option(600.0, "--request-timeout", help="seconds before a generation is cut (finish_reason length)")
THREADS = typer.Option(None, "--threads", help="torch CPU threads (default: every core but one, which is left "
                       "to the HTTP server)")
DTYPE = typer.Option("auto", "--dtype", help="weights and compute dtype: auto (bfloat16 on a CPU with native bf16 "
                     "(AMX/AVX512-BF16), else float32 on CPU; the checkpoint's dtype on CUDA), float32, bfloat16, float16")
LOG = typer.Option("warning", "--log-level", help="uvicorn log level")
DRAIN = typer.Option(25.0, "--drain-timeout", help="seconds running requests get to finish after SIGTERM (new ones "
                     "get 503, /health says draining); then they end with finish_reason length")
KV_MEMORY = typer.Option(None, "--kv-memory", help="memory for KV caches, e.g. 8GB or 512MB: a request that alone "
                         "needs more gets 400, and requests wait while running ones hold it (default: half the "
                         "memory available at start; on CUDA 90% of the free memory)")
PREFIX_CACHE = typer.Option(None, "--prefix-cache", help="memory for the prefix cache (hf backend), e.g. 256MB, "
                            "or off: the KV cache of a prompt prefix that requests share (a system prompt, a "
                            "template) is kept and reused (default: an eighth of --kv-memory, at most 1GB)")
MAX_BODY = typer.Option(16.0, "--max-body-mb", help="request bodies over this many MiB get 413")
GATEWAY = typer.Option(None, "--gateway", help="gateway.yaml for the gateway in front (more upstreams, models, "
                       "routing, cache, hooks); the served models are reachable under their own names anyway")
NO_AUTH = typer.Option(False, "--no-auth", help="serve without API keys even beyond loopback (on purpose)")


def _start(models: list[str], host: str, port: int, names: list[str] | None, device: str | None,
           max_batch: int, max_queue: int, max_tokens_cap: int | None, request_timeout: float,
           threads: int | None, log_level: str, banner: bool, dtype: str = "auto",
           backends: list[str] | None = None, gateway: Path | None = None, no_auth: bool = False,
           embed_gateway: bool = False, drain_timeout: float = 25.0, kv_memory: str | None = None,
           prefix_cache: str | None = None, max_body_mb: float = 16.0) -> None:
    from luban.serve import server

    wrap = None
    if embed_gateway:  # the gateway in front, same process: keys, limits, cache, hooks, /metrics
        from luban.gateway.embedded import check_exposure, embedded_config, wrap_engine

        gw_cfg = embedded_config(gateway)
        root = state.workspace().root
        check_exposure(gw_cfg, host, root, no_auth)

        def wrap(engine_app: Any) -> Any:
            return wrap_engine(engine_app, gw_cfg, root, no_auth)

    direct = all(m.startswith(("http://", "https://")) or Path(m).exists() for m in models)
    ws = None if direct else state.workspace()  # serving a plain directory creates no workspace
    options: dict[str, Any] = {"max_batch": max_batch, "max_queue": max_queue}
    if device:
        options["device"] = device
    if threads:
        options["threads"] = threads
    if dtype != "auto":
        options["dtype"] = dtype
    if kv_memory:
        options["kv_memory"] = _size(kv_memory)
    if prefix_cache:
        options["prefix_cache"] = 0 if prefix_cache.strip().lower() in ("off", "0") else _size(prefix_cache,
                                                                                              "--prefix-cache")
    if max_body_mb <= 0:
        raise typer.BadParameter("the size must be positive", param_hint="--max-body-mb")
    specs = server.model_specs(models, ws, names, options, backends)
    if banner:
        _print_banner(host, port, [s.model_id for s in specs] + [f"{s.model_id}:{a}" for s in specs
                                                                    for a in s.adapters])
    limits = Limits(max_tokens_cap=max_tokens_cap, request_timeout=request_timeout, drain_timeout=drain_timeout,
                    max_body_mb=max_body_mb)
    server.run(specs, host, port, limits, log_level, wrap=wrap)


def _size(text: str, option: str = "--kv-memory") -> int:
    """'8GB', '512MB', '1.5G' or a plain number of megabytes, in bytes."""
    units = {"": 2**20, "K": 2**10, "KB": 2**10, "M": 2**20, "MB": 2**20, "G": 2**30, "GB": 2**30}
    t = text.strip().upper()
    num = t.rstrip("KMGB")
    try:
        value = float(num) * units[t[len(num):]]
    except (KeyError, ValueError):
        raise typer.BadParameter(f"'{text}' is not a size; write e.g. 8GB or 512MB", param_hint=option) from None
    if value <= 0:
        raise typer.BadParameter("the size must be positive", param_hint=option)
    return int(value)


def _print_banner(host: str, port: int, ids: list[str]) -> None:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown}:{port}/v1"
    body = json.dumps({"model": ids[0], "messages": [{"role": "user", "content": "Hello"}]})
    console.print(f"[bold]Luban[/bold] serving {', '.join(ids)} at [cyan]{url}[/cyan] "
                  f"(health: http://{shown}:{port}/health, metrics: /metrics)")
    console.print(f"  curl {url}/chat/completions -H 'Content-Type: application/json' -d '{body}'",
                  markup=False, soft_wrap=True)
    console.print(f'  python -c "from openai import OpenAI; c = OpenAI(base_url=\'{url}\', api_key=\'none\'); '
                  f"print(c.chat.completions.create(model='{ids[0]}', messages=[{{'role': 'user', "
                  f"'content': 'Hello'}}]).choices[0].message.content)\"", markup=False, soft_wrap=True)


def serve_command(models: list[str] = MODELS, host: str = HOST, port: int = PORT, name: list[str] = NAME,
                  backend: list[str] = BACKEND, device: str = DEVICE, max_batch: int = MAX_BATCH, max_queue: int = MAX_QUEUE,
                  max_tokens_cap: int = MAX_TOKENS, request_timeout: float = TIMEOUT, threads: int = THREADS,
                  dtype: str = DTYPE, log_level: str = LOG, gateway: Path = GATEWAY, no_auth: bool = NO_AUTH,
                  drain_timeout: float = DRAIN, kv_memory: str = KV_MEMORY, prefix_cache: str = PREFIX_CACHE,
                  max_body_mb: float = MAX_BODY) -> None:
    """Serve models with an OpenAI-compatible API (chat, completions, embeddings, /metrics).

    Several models in one server; LoRA adapters are served as "base:adapter". /health answers 200
    once every model is loaded. Stop with Ctrl-C or SIGTERM. The gateway runs in front in the same
    process (API keys from `luban keys create`, limits, cache); bound beyond loopback it refuses to
    start without a key unless --no-auth.

    Example: luban serve acme-sft --port 8000

    Example: luban serve model-dir --backend onnx   (a folder with both weights and an ONNX graph)
    """
    _start(models, host, port, name, device, max_batch, max_queue, max_tokens_cap, request_timeout, threads,
           log_level, banner=True, dtype=dtype, backends=backend, gateway=gateway, no_auth=no_auth,
           embed_gateway=True, drain_timeout=drain_timeout, kv_memory=kv_memory, prefix_cache=prefix_cache,
           max_body_mb=max_body_mb)


def engine_command(models: list[str] = MODELS, host: str = HOST, port: int = PORT, name: list[str] = NAME,
                   backend: list[str] = BACKEND, device: str = DEVICE, max_batch: int = MAX_BATCH, max_queue: int = MAX_QUEUE,
                   max_tokens_cap: int = MAX_TOKENS, request_timeout: float = TIMEOUT, threads: int = THREADS,
                   dtype: str = DTYPE, log_level: str = LOG, drain_timeout: float = DRAIN,
                   kv_memory: str = KV_MEMORY, prefix_cache: str = PREFIX_CACHE,
                   max_body_mb: float = MAX_BODY) -> None:
    """Run a model engine for scale-out: the same OpenAI API, no banner, meant behind `luban gateway`.

    Example: luban engine acme-sft --host 0.0.0.0 --port 9001
    """
    _start(models, host, port, name, device, max_batch, max_queue, max_tokens_cap, request_timeout, threads,
           log_level, banner=False, dtype=dtype, backends=backend, drain_timeout=drain_timeout, kv_memory=kv_memory,
           prefix_cache=prefix_cache, max_body_mb=max_body_mb)


app.command("serve")(serve_command)
app.command("engine")(engine_command)
