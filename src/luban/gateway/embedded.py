"""The gateway in front of a Luban engine in the same process: what `luban serve` runs by default.

Design choices:
- The engine is an upstream like any other (`kind: engine`, the serve layer's ASGI app called without a
  socket) and the default upstream: every model it serves is reachable under its own name, with keys,
  limits, the cache, hooks and metrics of the gateway in front. A gateway.yaml may add upstreams, models,
  routing, hooks; its `engine` entry, if any, is the one taken.
- No active health checks and no cooldown for the engine: it is this process; while it loads its models it
  answers 503 with Retry-After, which the client sees as it is.
- Keys live in the workspace's gateway.db, which the first `luban keys create` makes: a running server opens
  it at its next poll (seconds), so auth starts with the first key. With no key anywhere the gateway is open
  on loopback, and refuses beyond it unless `--no-auth`. Serving a plain directory creates no workspace.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from luban.core.config import read_yaml
from luban.gateway.app import GatewayApp
from luban.gateway.config import GatewayConfig, load_gateway_config
from luban.gateway.server import active_keys, exposure_error
from luban.gateway.service import Gateway
from luban.gateway.upstreams import ASGIApp

ENGINE = "engine"


def embedded_config(path: str | Path | None = None) -> GatewayConfig:
    data: dict[str, Any] = read_yaml(path) if path else {}
    ups = data.setdefault("upstreams", {})
    if isinstance(ups, dict):
        ups.setdefault(ENGINE, {"kind": "engine", "health_path": "", "cooldown": False})
    data.setdefault("default_upstream", ENGINE)
    return load_gateway_config(data=data, source=str(path) if path else "luban serve", embedded=True)


def keys_url(cfg: GatewayConfig, workspace: Path | None) -> str | None:
    """The key store: gateway.yaml's, else the workspace's gateway.db (which may not exist yet)."""
    if cfg.keys.url:
        return cfg.keys.url
    return f"sqlite:///{workspace / 'gateway.db'}" if workspace is not None else None


def check_exposure(cfg: GatewayConfig, host: str, workspace: Path | None, no_auth: bool) -> None:
    """Raise the one-line refusal when `luban serve` would listen beyond loopback with no key."""
    err = exposure_error(host, active_keys(keys_url(cfg, workspace)), no_auth, command="luban serve")
    if err is not None:
        raise err


def wrap_engine(engine_app: ASGIApp, cfg: GatewayConfig, workspace: Path | None, no_auth: bool) -> GatewayApp:
    gateway = Gateway(cfg, workspace=None, no_auth=no_auth, engine_app=engine_app,
                      db_url=keys_url(cfg, workspace), lazy_db=True, home=workspace)
    return GatewayApp(gateway)
