"""`luban audit verify|query|export|prune`: the tamper-evident record of every call and every stage."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import typer
from rich.table import Table

from luban.audit import open_store
from luban.audit.query import Filter, find, write_csv, write_jsonl
from luban.audit.retention import DEFAULT_KEEP_DAYS, prune
from luban.audit.signing import Signer, public_key
from luban.audit.verify import verify_chain
from luban.cli.context import console, state
from luban.core.errors import StageError, UsageError

app = typer.Typer(help="Verify, search and export the audit log (a signed SHA-256 hash chain).",
                  no_args_is_help=True)

URL = typer.Option(None, "--url", envvar="LUBAN_AUDIT_URL",
                   help="SQLAlchemy URL of the audit store (default: SQLite in <workspace>/audit)")


def folder() -> Path:
    return state.workspace().root / "audit"


def _time(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"cannot read the time '{value}'", "use ISO 8601, e.g. 2026-12-01 or 2026-12-01T08:00") from None
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).timestamp()


@app.command("verify")
def verify(url: str = URL,
           pubkey: Path = typer.Option(None, "--public-key", help="signing.pub to check with (default: the workspace's)"),
           chain: str = typer.Option(None, "--chain", help="verify one chain only")) -> None:
    """Check every record and signed checkpoint; name the first modified, deleted, inserted or reordered record.

    Exit 1 when any chain fails. Example: luban audit verify --public-key auditor/signing.pub
    """
    store = open_store(folder(), url)
    key = public_key(pubkey) if pubkey else Signer(folder()).public_key
    chains = [chain] if chain else store.chains()
    if not chains:
        console.print("The audit log is empty.")
        return
    bad = []
    for name in chains:
        report = verify_chain(store, name, key, folder())
        mark = "[green]ok[/green]" if report.ok else f"[red]FAILED[/red]: {report.problems[0]}"
        console.print(f"{name}: {report.records:,} records, signed up to {report.signed_seq or '-'}: {mark}")
        if not report.ok:
            bad.append(name)
    if bad:
        raise StageError(f"{len(bad)} of {len(chains)} audit chains do not verify",
                         "keep a copy of the database and the checkpoint file for the investigation")


def _filter(key: str | None, model: str | None, since: str | None, until: str | None, action: str | None,
            purpose: str | None, kind: str | None) -> Filter:
    return Filter(key=key, model=model, since=_time(since), until=_time(until), action=action,
                  purpose=purpose, kind=kind)


@app.command("query")
def query(key: str = typer.Option(None, "--key", help="API key id"),
          model: str = typer.Option(None, "--model"),
          since: str = typer.Option(None, "--since", help="ISO time, e.g. 2026-12-01"),
          until: str = typer.Option(None, "--until"),
          action: str = typer.Option(None, "--action", help="ok, blocked, masked, flagged or error"),
          purpose: str = typer.Option(None, "--purpose"),
          kind: str = typer.Option(None, "--kind", help="call, stage, admin or auth"),
          limit: int = typer.Option(50, "--limit"),
          url: str = URL) -> None:
    """Show matching audit records, oldest first.

    Example: luban audit query --action blocked --since 2026-12-01
    """
    table = Table("time", "kind", "key", "model", "purpose", "action", "detail", box=None)
    n = 0
    for rec in find(open_store(folder(), url), _filter(key, model, since, until, action, purpose, kind), limit):
        when = datetime.fromtimestamp(rec["ts"], timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        detail = rec.get("stage") or (f"{rec.get('status', '')} {rec.get('latency_ms', '')} ms"
                                      if rec.get("kind") == "call" else "")
        table.add_row(when, rec.get("kind", ""), rec.get("key_id") or "-", rec.get("model") or "-",
                      rec.get("purpose") or "-", rec.get("action") or "-", str(detail))
        n += 1
    console.print(table if n else "No matching records.")


@app.command("export")
def export(out: Path = typer.Argument(..., help="file to write (.jsonl or .csv), or - for stdout as JSONL"),
           key: str = typer.Option(None, "--key"), model: str = typer.Option(None, "--model"),
           since: str = typer.Option(None, "--since"), until: str = typer.Option(None, "--until"),
           action: str = typer.Option(None, "--action"), purpose: str = typer.Option(None, "--purpose"),
           kind: str = typer.Option(None, "--kind"), url: str = URL) -> None:
    """Export matching records with their chain, seq and hash (JSONL or CSV).

    Example: luban audit export december.csv --since 2026-12-01 --until 2027-01-01
    """
    records = find(open_store(folder(), url), _filter(key, model, since, until, action, purpose, kind))
    if str(out) == "-":
        write_jsonl(records, sys.stdout)
        return
    if out.suffix not in (".jsonl", ".csv"):
        raise UsageError(f"cannot tell the format of {out}", "name the file .jsonl or .csv")
    with out.open("w", encoding="utf-8", newline="") as f:
        n = write_csv(records, f) if out.suffix == ".csv" else write_jsonl(records, f)
    console.print(f"{n:,} records -> {out}")


@app.command("prune")
def prune_cmd(keep_days: float = typer.Option(DEFAULT_KEEP_DAYS, "--keep-days",
                                              help="keep this many days (at least 183: six months)"),
              url: str = URL) -> None:
    """Delete records older than the keeping period; a signed checkpoint at the cut keeps the rest verifiable.

    Example: luban audit prune --keep-days 365
    """
    store = open_store(folder(), url)
    signer = Signer(folder())
    for name in store.chains():
        n = prune(store, name, signer, folder(), keep_days)
        console.print(f"{name}: {n:,} records pruned")
