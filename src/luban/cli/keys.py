"""`luban keys create|list|origins|revoke`: the gateway's API keys (stored as salted hashes, shown once)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from luban.cli.context import console, err_console, state
from luban.core.errors import UsageError

if TYPE_CHECKING:
    from luban.gateway.keys import KeyStore

app = typer.Typer(help="API keys of the gateway: create (shown once), list, origins, revoke.", no_args_is_help=True)

CONFIG = typer.Option(None, "--config", "-c", help="gateway.yaml whose keys store (keys.url) and Redis to use "
                      "(default: the workspace's gateway.db)")


def _store_and_redis(config: Path | None) -> tuple[KeyStore, str | None, str]:
    from luban.gateway.config import load_gateway_config
    from luban.gateway.keys import KeyStore
    from luban.gateway.service import default_db_url

    cfg = load_gateway_config(config) if config else None
    url = cfg.keys.url if cfg and cfg.keys.url else default_db_url(Path(state.workspace().root))
    return KeyStore(url), cfg.redis.url if cfg else None, cfg.redis.prefix if cfg else "luban:"


def parse_expiry(text: str | None, now: float | None = None) -> float | None:
    """`30d`, `12h`, `90m` from now, or a date `2027-01-31` (UTC midnight); None for no expiry."""
    if not text:
        return None
    now = time.time() if now is None else now
    m = re.fullmatch(r"(\d+)\s*([dhm])", text.strip())
    if m:
        return now + int(m.group(1)) * {"d": 86400, "h": 3600, "m": 60}[m.group(2)]
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"cannot read expiry '{text}'", "write 30d, 12h, 90m or a date like 2027-01-31") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    if when.timestamp() <= now:
        raise UsageError(f"expiry {text} is in the past", "give a future date or a duration like 30d")
    return when.timestamp()


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts)) if ts else "-"


@app.command("create")
def create(
    name: str = typer.Argument(..., help="who or what the key is for (an app, a person)"),
    role: str = typer.Option("app", "--role", help="admin, developer, app or auditor"),
    models: str = typer.Option(None, "--models", help="comma-separated models (or patterns like qwen-*) the key "
                               "may call; default: all"),
    rpm: int = typer.Option(None, "--rpm", help="requests per minute"),
    tpm: int = typer.Option(None, "--tpm", help="tokens per minute"),
    budget: float = typer.Option(None, "--budget", help="spend limit per period, in the gateway's currency"),
    budget_period: str = typer.Option("month", "--budget-period", help="day, month or total"),
    expires: str = typer.Option(None, "--expires", help="30d, 12h or a date (2027-01-31); default: never"),
    app_name: str = typer.Option(None, "--app", help="the application this key belongs to"),
    prompt: str = typer.Option(None, "--prompt", help="a prompt template applied to this key's calls (support@3)"),
    purpose: str = typer.Option(None, "--purpose", help="default purpose recorded in the audit log"),
    origins: list[str] = typer.Option([], "--origin", help="a web page's origin that may use the key from a "
                                      "browser (https://shop.example.com, or * for any); repeatable"),
    config: Path = CONFIG,
) -> None:
    """Create a key and print it once: only its salted hash is stored.

    Example: luban keys create support-bot --models qwen-support --rpm 60 --tpm 20000 --budget 50 --expires 90d
    Example: luban keys create shop-widget --models qwen-support --rpm 30 --origin https://shop.example.com
    """
    from luban.gateway.keys import publish_change

    store, redis_url, prefix = _store_and_redis(config)
    scopes = [m.strip() for m in models.split(",") if m.strip()] if models else []
    rec, secret = store.create(name, role, scopes, app=app_name, prompt=prompt, purpose=purpose, rpm=rpm, tpm=tpm,
                               budget=budget, budget_period=budget_period, expires=parse_expiry(expires),
                               origins=origins)
    store.close()
    asyncio.run(publish_change(redis_url, prefix, rec.id))
    console.print(f"Created key [bold]{rec.id}[/bold] ({rec.name}, role {rec.role}). Copy it now, it is not "
                  "stored and will not be shown again:")
    typer.echo(secret)


@app.command("list")
def list_keys(
    show_all: bool = typer.Option(False, "--all", help="include revoked and expired keys"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
    config: Path = CONFIG,
) -> None:
    """List keys (never their secrets): id, name, role, scopes, web origins, limits, expiry, status.

    Example: luban keys list --all
    """
    store, _, _ = _store_and_redis(config)
    rows = [k for k in store.all() if show_all or k.status() == "active"]
    store.close()
    if as_json:
        typer.echo(json.dumps([{"id": k.id, "name": k.name, "role": k.role, "scopes": list(k.scopes), "rpm": k.rpm,
                                "tpm": k.tpm, "budget": k.budget, "budget_period": k.budget_period,
                                "origins": list(k.origins), "created": k.created, "expires": k.expires,
                                "status": k.status()} for k in rows]))
        return
    if not rows:
        console.print("No keys yet. Create one with `luban keys create NAME`.")
        return
    table = Table(box=None)
    table.add_column("id", no_wrap=True, min_width=12)
    table.add_column("name", overflow="fold")
    for col in ("role", "models", "origins", "rpm", "tpm", "budget", "expires", "status"):
        table.add_column(col, overflow="fold" if col == "origins" else "ellipsis")
    for k in rows:
        budget = f"{k.budget:g}/{k.budget_period}" if k.budget is not None else "-"
        table.add_row(k.id, k.name, k.role, ", ".join(k.scopes) or "all", ", ".join(k.origins) or "-",
                      str(k.rpm or "-"), str(k.tpm or "-"), budget, _when(k.expires), k.status())
    console.print(table)


@app.command("origins")
def origins(key_id: str = typer.Argument(..., help="the key's id (from `luban keys list`)"),
            add: list[str] = typer.Option([], "--add", help="a web page's origin to allow; repeatable"),
            remove: list[str] = typer.Option([], "--remove", help="an origin to take away; repeatable"),
            config: Path = CONFIG) -> None:
    """Change the web pages (origins) from which a browser may use a key; prints the key's origins.

    Example: luban keys origins 3f9a1c2b7d4e --add https://shop.example.com --remove http://localhost:3000
    """
    from luban.gateway.keys import normalize_origin, publish_change

    store, redis_url, prefix = _store_and_redis(config)
    try:
        rec = store.get(key_id)
        gone = {normalize_origin(o) for o in remove}
        rec = store.set_origins(rec.id, [o for o in [*rec.origins, *add] if o not in gone])
    finally:
        store.close()
    asyncio.run(publish_change(redis_url, prefix, rec.id))
    err_console.print(f"Key {rec.id} ({rec.name}) may be used from: {', '.join(rec.origins) or 'no other site'}.")


@app.command("revoke")
def revoke(key_id: str = typer.Argument(..., help="the key's id (from `luban keys list`)"),
           config: Path = CONFIG) -> None:
    """Revoke a key: every gateway replica refuses it within seconds (at once with Redis).

    Example: luban keys revoke 3f9a1c2b7d4e
    """
    from luban.gateway.keys import publish_change

    store, redis_url, prefix = _store_and_redis(config)
    rec = store.revoke(key_id)
    store.close()
    asyncio.run(publish_change(redis_url, prefix, rec.id))
    err_console.print(f"Revoked key {rec.id} ({rec.name}).")
