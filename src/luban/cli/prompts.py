"""`luban prompts add|list|show|diff`: named, versioned prompt templates for the gateway."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

from luban.cli.context import console, state
from luban.core.errors import UsageError
from luban.gateway.prompts import PromptLibrary, parse_spec

app = typer.Typer(help="Prompt templates: system prompts and few-shot examples with variables, versioned.\n\n"
                       "A request uses one with \"luban\": {\"prompt\": \"support@3\", \"variables\": {...}}.",
                  no_args_is_help=True)


def _library() -> PromptLibrary:
    return PromptLibrary(state.workspace())


@app.command("add")
def add(name: str = typer.Argument(..., help="template name, e.g. support"),
        file: Path = typer.Argument(..., exists=True, dir_okay=False, help="YAML template, or a text file "
                                    "holding the system prompt"),
        description: str = typer.Option(None, "--description", "-d", help="what the template is for")) -> None:
    """Add FILE as the next version of NAME (version 1 when it is new).

    A YAML template has `system`, `examples` (few-shot [{role, content}]), `user` and `variables`
    ({name: {description, default}}); texts are Jinja2 ({{ company }}), rendered in a sandbox.

    Example: luban prompts add support prompts/support.yaml -d "support desk, zh and en"
    """
    pv = _library().add(name, file.read_text(encoding="utf-8"), source=file, description=description)
    console.print(f"added [bold]{escape(pv.ref)}[/bold] ({pv.artifact_id[:12]}), variables: "
                  f"{escape(', '.join(pv.variables)) or 'none'}")


@app.command("list")
def list_cmd(as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """List templates with their versions.

    Example: luban prompts list
    """
    lib = _library()
    rows: list[dict[str, Any]] = []
    for name, versions in lib.names().items():
        pv = lib.get(name, versions[-1])
        rows.append({"name": name, "versions": versions, "latest": pv.ref, "variables": pv.variables,
                     "description": pv.template.description, "created": pv.created})
    if as_json:
        console.print_json(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        console.print("No prompt templates yet. Add one with `luban prompts add NAME FILE`.")
        return
    table = Table("name", "versions", "variables", "description", "created", box=None)
    for r in rows:
        table.add_row(escape(r["name"]), ", ".join(map(str, r["versions"])), escape(", ".join(r["variables"])),
                      escape(r["description"]), r["created"].replace("+00:00", "Z"))
    console.print(table)


@app.command("show")
def show(spec: str = typer.Argument(..., help="NAME (newest version) or NAME@VERSION"),
         var: list[str] = typer.Option(None, "--var", "-v", help="render with NAME=VALUE (repeatable)")) -> None:
    """Print a template's source, or with --var the messages it renders to.

    Example: luban prompts show support@2 --var company=Acme --var language=Chinese
    """
    lib = _library()
    name, version = parse_spec(spec)
    pv = lib.get(name, version)
    if not var:
        console.print(f"[bold]{escape(pv.ref)}[/bold] [dim]{pv.artifact_id[:12]} {pv.created}[/dim]")
        console.print(Syntax(lib.source(name, pv.version), "yaml", word_wrap=True))
        return
    values = {}
    for item in var:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--var '{item}' is not NAME=VALUE", "e.g. --var company=Acme")
        values[key] = value
    head, tail = pv.render(values)
    console.print_json(json.dumps(head + ([tail] if tail else []), ensure_ascii=False))


@app.command("diff")
def diff(name: str = typer.Argument(..., help="template name"),
         old: int = typer.Argument(..., help="older version"),
         new: int = typer.Argument(None, help="newer version (default: the newest)")) -> None:
    """Show what changed between two versions of a template.

    Example: luban prompts diff support 1 3
    """
    text = _library().diff(name, old, new)
    console.print(Syntax(text, "diff", word_wrap=True) if text else "no difference")
