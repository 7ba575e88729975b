"""From model references to a running server: build `ModelSpec`s, then run uvicorn.

A reference is a workspace artifact (name or id), a local Hugging Face directory, a .gguf file or
an http(s) URL of an OpenAI-compatible upstream. The served id is `--name`, else the artifact's
name, else the directory (or file) name. A LoRA adapter reference is attached to its base model
(the artifact's "base" parent, or `base_model_name_or_path` in adapter_config.json) and served as
"base:adapter"; the base is added when it was not named itself.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from luban.core.errors import StageError, UsageError
from luban.core.workspace import Workspace
from luban.models.loading import adapter_base, resolve_model_dir
from luban.serve.backends.base import ModelSpec
from luban.serve.backends.registry import BACKENDS, detect_backend
from luban.serve.limits import Limits


def _resolve(ref: str, ws: Workspace | None) -> tuple[str, str, Path | None]:
    """(source, default id, artifact path or None) for one reference."""
    if ref.startswith(("http://", "https://")) or ref.endswith(".gguf") and Path(ref).is_file():
        return ref, Path(ref.rstrip("/")).name.removesuffix(".gguf") or "remote", None
    p = Path(ref)
    if p.is_dir():
        return str(p), p.resolve().name, None
    if ws is not None and ws.exists(ref):
        art = ws.get(ref)
        return str(art.path), art.name or art.short_id, art.path
    resolved = resolve_model_dir(ref, ws)  # raises the one-line NotFoundError
    return str(resolved), resolved.name, None


def model_specs(refs: list[str], ws: Workspace | None = None, names: list[str] | None = None,
                options: dict[str, Any] | None = None, backends: list[str] | None = None) -> list[ModelSpec]:
    """One spec per served base model, adapters attached; `names` rename the refs in order. `backends`
    chooses the backend: one name for every ref, or one per ref in order; none: detected per source."""
    names = names or []
    chosen = _chosen_backends(backends or [], len(refs))
    specs: dict[str, ModelSpec] = {}
    by_source: dict[str, ModelSpec] = {}
    adapters: list[tuple[str, str]] = []
    for i, ref in enumerate(refs):
        source, default_id, _ = _resolve(ref, ws)
        mid = names[i] if i < len(names) else default_id
        if Path(source).is_dir() and (Path(source) / "adapter_config.json").is_file():
            if chosen[i] not in (None, "hf"):
                raise UsageError(f"'{ref}' is a LoRA adapter: only the hf backend serves adapters, not "
                                 f"--backend {chosen[i]}", "serve it with --backend hf, or merge it first "
                                 "(luban export merge)")
            adapters.append((source, mid))
            continue
        if mid in specs:
            raise UsageError(f"two models would be served as '{mid}'", "give each a distinct --name")
        spec = ModelSpec(mid, source, chosen[i] or detect_backend(source), dict(options or {}))
        _check_source(spec)
        specs[mid] = by_source[str(Path(source).resolve())] = spec
    for source, mid in adapters:
        base_src = str(adapter_base(Path(source), ws)[0])
        found = by_source.get(str(Path(base_src).resolve()))
        if found is not None:
            spec = found
        else:
            base_id = Path(base_src).resolve().name
            spec = ModelSpec(base_id, base_src, "hf", dict(options or {}))
            specs[base_id] = by_source[str(Path(base_src).resolve())] = spec
        spec.adapters[mid] = source
    if not specs:
        raise UsageError("no model to serve", "name at least one model directory or artifact")
    return list(specs.values())


def _chosen_backends(backends: list[str], n: int) -> list[str | None]:
    """The backend named for each of `n` refs (None: detect it)."""
    for b in backends:
        BACKENDS.check(b)  # unknown -> ConfigError with a did-you-mean
    if not backends:
        return [None] * n
    if len(backends) == 1:
        return [backends[0]] * n
    if len(backends) != n:
        raise UsageError(f"{len(backends)} --backend values for {n} models",
                         "give --backend once for every model, or once per model in order")
    return list(backends)


def _check_source(spec: ModelSpec) -> None:
    """A remote backend needs an upstream URL, and a URL can only be served by the remote backend."""
    is_url = spec.source.startswith(("http://", "https://"))
    if spec.backend == "remote" and not is_url:
        raise UsageError(f"--backend remote needs an http(s) URL of an OpenAI-compatible upstream, not "
                         f"'{spec.source}'", "e.g. http://127.0.0.1:8001/v1#MODEL")
    if is_url and spec.backend != "remote":
        raise UsageError(f"'{spec.source}' is an upstream URL: --backend {spec.backend} cannot serve it",
                         "use --backend remote (or leave --backend out)")


def run(specs: list[ModelSpec], host: str = "127.0.0.1", port: int = 8000, limits: Limits | None = None,
        log_level: str = "warning", wrap: Callable[[Any], Any] | None = None) -> None:
    """Serve until SIGINT/SIGTERM. SIGTERM drains first: new requests get 503 and /health says "draining"
    while running ones have `limits.drain_timeout` seconds to finish (luban.serve.shutdown); then uvicorn
    shuts down and the engines stop.

    A model that fails to load ends the server with a one-line `StageError` (exit 1) rather than
    leaving it up answering 503 forever: a supervisor or container runtime then sees the failure,
    restarts or reports it, instead of a healthy-looking process that never serves."""
    import uvicorn

    from luban.serve.app import create_app
    from luban.serve.pool import ModelPool
    from luban.serve.shutdown import DrainingServer

    failed: list[str] = []

    def on_load_error(reason: str) -> None:
        failed.append(reason)
        server.should_exit = True

    limits = limits or Limits()
    app = engine_app = create_app(ModelPool(specs), limits, on_load_error=on_load_error)
    if wrap is not None:  # `luban serve` puts the gateway in front (keys, limits, cache, hooks)
        app = wrap(app)
    server = DrainingServer(uvicorn.Config(app, host=host, port=port, log_level=log_level,
                                           timeout_graceful_shutdown=5, access_log=False),
                            engine_app.state.inflight, limits.drain_timeout)
    # uvicorn shuts down gracefully on SIGTERM and then re-raises it; a no-op handler makes that a
    # clean exit (status 0) for supervisors, while Ctrl-C still ends as KeyboardInterrupt (130).
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    server.run()
    if failed:
        raise StageError(f"models failed to load: {failed[0]}",
                         "check the model path, its files and their permissions (--debug shows the traceback)")
