"""`luban gateway --config gateway.yaml`: the front door (keys, routing, cache, limits) over any upstreams."""

from __future__ import annotations

from pathlib import Path

import typer

from luban.cli.context import console, state


def gateway_command(
    config: Path = typer.Option(..., "--config", "-c", help="gateway.yaml: upstreams, models, routing, cache, "
                                "keys, redis, limits, hooks"),
    host: str = typer.Option(None, "--host", help="interface to bind (default: the config's, 127.0.0.1)"),
    port: int = typer.Option(None, "--port", "-p", help="TCP port (default: the config's, 8080)"),
    workers: int = typer.Option(1, "--workers", help="processes (replicas) on this machine; they share limits "
                                "and cache only through Redis"),
    no_auth: bool = typer.Option(False, "--no-auth", help="serve without API keys, even beyond loopback"),
    log_level: str = typer.Option("warning", "--log-level", help="uvicorn log level"),
) -> None:
    """Run the gateway: OpenAI's API in front of your models and providers.

    Keys are checked in memory, limits and budgets enforced per key, deterministic answers cached, calls
    routed with retries, cooldowns and fallbacks. Bound beyond loopback it refuses to start without keys
    (create one with `luban keys create NAME`) unless --no-auth is given.

    Example: luban gateway --config gateway.yaml --host 0.0.0.0 --port 8080
    """
    from luban.gateway.config import load_gateway_config
    from luban.gateway.server import run

    cfg = load_gateway_config(config)  # errors before the banner
    shown_host = host or cfg.host
    shown_port = cfg.port if port is None else port
    console.print(f"[bold]Luban gateway[/bold] at [cyan]http://{shown_host}:{shown_port}/v1[/cyan] "
                  f"({len(cfg.models)} models, {len(cfg.upstreams)} upstreams; /health, /metrics)")
    run(config, host=host, port=port, workspace=Path(state.workspace().root), no_auth=no_auth, workers=workers,
        log_level=log_level)
