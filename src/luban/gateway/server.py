"""Run a gateway under uvicorn (uvloop and httptools when installed), one process or several workers.

Design choices:
- Secure by default: bound beyond loopback with no key in the store, the gateway refuses to start unless
  the user passes `--no-auth`, and says so in one line (`exposure_error`).
- Several workers are uvicorn's own (`--workers N`): each is a replica in one machine, built from the
  same config through `app_from_env`; their limits and cache are shared only through Redis.
- uvicorn's access log is off: it costs more per request than the gateway's whole hot path; /metrics
  counts every request by route, model and status.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import signal
from pathlib import Path
from typing import Any

from luban.core.errors import UsageError
from luban.gateway.app import GatewayApp
from luban.gateway.config import GatewayConfig, load_gateway_config
from luban.gateway.hooks import Hooks
from luban.gateway.keys import KeyStore
from luban.gateway.service import Gateway
from luban.gateway.upstreams import ASGIApp

ENV_CONFIG = "LUBAN_GATEWAY_CONFIG"
ENV_NO_AUTH = "LUBAN_GATEWAY_NO_AUTH"


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def active_keys(db_url: str | None) -> int:
    if db_url is None or (db_url.startswith("sqlite:///") and not Path(db_url.removeprefix("sqlite:///")).exists()):
        return 0
    store = KeyStore(db_url)
    try:
        return sum(1 for k in store.all() if k.status() == "active")
    finally:
        store.close()


def exposure_error(host: str, keys: int, no_auth: bool, command: str = "luban gateway") -> UsageError | None:
    """The refusal to start open to the network, or None when starting is fine."""
    if no_auth or keys > 0 or is_loopback(host):
        return None
    return UsageError(f"{command} refuses to listen on {host} without API keys: anyone who can reach it "
                      "could call your models",
                      "create a key with `luban keys create NAME`, or pass --no-auth to run it open on purpose")


def build_app(cfg: GatewayConfig, *, workspace: Path | None = None, no_auth: bool = False,
              engine_app: ASGIApp | None = None, hooks: Hooks | None = None,
              db_url: str | None = None) -> GatewayApp:
    gateway = Gateway(cfg, workspace=workspace, no_auth=no_auth, engine_app=engine_app, hooks=hooks,
                      db_url=db_url)
    return GatewayApp(gateway)


def app_from_env() -> GatewayApp:
    """The app of one uvicorn worker, from the environment `run` set (`--workers N`)."""
    cfg = load_gateway_config(os.environ[ENV_CONFIG])
    ws = os.environ.get("LUBAN_WORKSPACE")
    return build_app(cfg, workspace=Path(ws) if ws else None, no_auth=os.environ.get(ENV_NO_AUTH) == "1")


def uvicorn_options() -> dict[str, Any]:
    """uvloop and httptools when they are installed (about twice the requests/s of asyncio + h11); with httptools,
    each answer leaves in one socket write (`luban.gateway.wire`: a replica killed mid-answer cannot leave
    nginx with headers and no body)."""
    opts: dict[str, Any] = {"loop": "asyncio", "http": "h11"}
    if importlib.util.find_spec("uvloop") is not None:
        opts["loop"] = "uvloop"
    if importlib.util.find_spec("httptools") is not None:
        from luban.gateway.wire import OneWriteHttpProtocol

        opts["http"] = OneWriteHttpProtocol
    return opts


def run(config_path: str | Path, *, host: str | None = None, port: int | None = None, workspace: Path | None = None,
        no_auth: bool = False, workers: int = 1, log_level: str = "warning") -> None:
    """Serve the gateway until SIGINT / SIGTERM."""
    import uvicorn

    cfg = load_gateway_config(config_path)
    host = host or cfg.host
    port = cfg.port if port is None else port
    gateway = Gateway(cfg, workspace=workspace, no_auth=no_auth)
    err = exposure_error(host, active_keys(gateway.db_url), no_auth)
    if err is not None:
        raise err
    common: dict[str, Any] = {"host": host, "port": port, "log_level": log_level, "access_log": False,
                              "timeout_graceful_shutdown": 10, "lifespan": "on", **uvicorn_options()}
    if workers > 1:
        os.environ[ENV_CONFIG] = str(Path(config_path).resolve())
        os.environ[ENV_NO_AUTH] = "1" if no_auth else "0"
        if workspace is not None:
            os.environ["LUBAN_WORKSPACE"] = str(workspace)
        uvicorn.run("luban.gateway.server:app_from_env", factory=True, workers=workers, **common)
        return
    server = uvicorn.Server(uvicorn.Config(GatewayApp(gateway), **common))
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it; a no-op handler makes that exit 0
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    server.run()
    if not server.started:
        raise UsageError("the gateway failed to start (see the error above)", "check gateway.yaml and the upstreams")
