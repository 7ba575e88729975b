"""`luban usage`: the gateway's usage and cost per key, model and day, in the terminal and as an HTML page."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from luban.cli.context import console, err_console, state


def _sources(config: Path | None, url: str | None) -> tuple[str, str, dict[str, Any]]:
    """(usage database URL, currency, upstreams) from --url, gateway.yaml or the workspace default."""
    from luban.gateway.config import load_gateway_config
    from luban.gateway.service import default_db_url

    cfg = load_gateway_config(config) if config else None
    if url is None and cfg is not None:
        hook = next((h for h in cfg.hooks if h.use == "usage"), None)
        url = (hook.with_.get("url") if hook else None) or cfg.keys.url
    if url is None:
        url = default_db_url(Path(state.workspace().root))
    return url, cfg.limits.currency if cfg else "USD", dict(cfg.upstreams) if cfg else {}


def _key_names(url: str) -> dict[str, str]:
    import sqlalchemy as sa

    from luban.gateway.keys import KeyStore, keys_table

    engine = sa.create_engine(url)
    try:
        if not sa.inspect(engine).has_table(keys_table.name):
            return {}
    finally:
        engine.dispose()
    store = KeyStore(url)
    try:
        return {k.id: k.name for k in store.all()}
    finally:
        store.close()


def _money(x: float) -> str:
    return f"{x:,.2f}" if x >= 100 else f"{x:.4g}"


def usage_command(
    config: Path = typer.Option(None, "--config", "-c", exists=True, dir_okay=False,
                                help="gateway.yaml: its usage database, currency and upstreams"),
    url: str = typer.Option(None, "--url", help="SQLAlchemy URL of the usage database (default: gateway.yaml's, "
                            "else the workspace's gateway.db)"),
    since: str = typer.Option(None, "--since", help="first day, YYYY-MM-DD (UTC)"),
    until: str = typer.Option(None, "--until", help="last day, YYYY-MM-DD (UTC)"),
    key: str = typer.Option(None, "--key", help="only this key id"),
    model: str = typer.Option(None, "--model", help="only this model"),
    tokens_per_second: float = typer.Option(1000.0, "--tokens-per-second", min=0.001,
                                            help="sustained throughput of one GPU, to price self-hosting"),
    html_out: Path = typer.Option(None, "--html", help="also write an HTML page with charts here"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
    days: int = typer.Option(14, "--days", help="days shown in the terminal's per-day table"),
) -> None:
    """Tokens, requests and cost per key, model and day, and what the same traffic would cost on each
    commercial API and on self-hosted GPUs.

    Example: luban usage --config gateway.yaml --since 2026-12-01 --html usage.html
    """
    from luban.gateway.providers import catalog
    from luban.gateway.usage import UsageStore
    from luban.gateway.usage_report import build_report, render_html

    db, currency, upstreams = _sources(config, url)
    store = UsageStore(db)
    try:
        rep = build_report(store, catalog(), since=since, until=until, currency=currency,
                           tokens_per_second=tokens_per_second, upstreams=upstreams, key_names=_key_names(db),
                           key=key, model=model)
    finally:
        store.close()
    if html_out is not None:
        html_out.parent.mkdir(parents=True, exist_ok=True)
        html_out.write_text(render_html(rep), encoding="utf-8")
        err_console.print(f"wrote {html_out}")
    if as_json:
        data = {k: v for k, v in asdict(rep).items()}
        typer.echo(json.dumps(data, ensure_ascii=False, default=str))
        return
    t = rep.total
    if not t["requests"]:
        console.print("No usage recorded for this period. Calls are recorded when gateway.yaml has "
                      "`hooks: [{use: usage}]`.")
        return
    console.print(f"[bold]{t['requests']:,}[/bold] requests, [bold]{t['prompt_tokens']:,}[/bold] prompt + "
                  f"[bold]{t['completion_tokens']:,}[/bold] completion tokens, [bold]{_money(t['cost'])} "
                  f"{escape(currency)}[/bold] ({t['errors']:,} errors, {t['cache_hits']:,} cache hits)")

    def table(title: str, first: str, rows: list[dict[str, Any]], label: Any) -> None:
        tab = Table(title=title, title_justify="left", box=None)
        tab.add_column(first)
        for col in ("requests", "errors", "cached", "prompt", "completion", f"cost {currency}", "mean ms"):
            tab.add_column(col, justify="right")
        for r in rows:
            tab.add_row(escape(label(r)), f"{r['requests']:,}", f"{r['errors']:,}", f"{r['cache_hits']:,}",
                        f"{r['prompt_tokens']:,}", f"{r['completion_tokens']:,}", _money(r["cost"]),
                        f"{r['mean_latency_ms']:.1f}")
        console.print(tab)

    table("per key", "key", rep.by_key, lambda r: rep.key_names.get(r["key_id"]) or r["key_id"] or "(no key)")
    table("per model", "model", rep.by_model, lambda r: r["model"] or "-")
    table(f"per day (last {days})", "day", rep.by_day[-days:], lambda r: r["day"])
    tab = Table(title=f"the same traffic elsewhere (self-hosted at {tokens_per_second:g} tokens/s per GPU)",
                title_justify="left", box=None)
    for col in ("offering", "kind", "region", f"cost {currency}", "vs actual"):
        tab.add_column(col, justify="right" if col.startswith(("cost", "vs")) else "left")
    for r in rep.costs:
        ratio = f"{r.cost / t['cost']:.2f}x" if t["cost"] else "-"
        tab.add_row(escape(r.offering), r.kind, r.region, _money(r.cost), ratio)
    console.print(tab)
