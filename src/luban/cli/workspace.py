"""`luban ls`, `show`, `lineage`, `rm`, `gc`: look after the workspace's artifacts."""

from __future__ import annotations

import json

import typer
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table
from rich.tree import Tree

from luban.cli.context import console, state
from luban.core.lineage import Node, lineage


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n:.1f} TB"


def ls(kind: str = typer.Option(None, "--kind", "-k", help="dataset, model, report, run or prompt"),
       as_json: bool = typer.Option(False, "--json", help="machine-readable output")) -> None:
    """List artifacts in the workspace, oldest first.

    Example: luban ls --kind model
    """
    rows = state.workspace().list(kind)
    if as_json:
        console.print_json(json.dumps([{"id": a.id, "kind": a.kind, "names": n, "stage": a.manifest.producer.stage,
                                        "created": a.manifest.created} for a, n in rows]))
        return
    if not rows:
        console.print(f"No artifacts yet in {state.workspace().root}. Try `luban demo`.")
        return
    table = Table("name", "kind", "id", "stage", "created", "size", box=None)
    for art, names in rows:
        size = sum(f.stat().st_size for f in art.path.rglob("*") if f.is_file())
        table.add_row(", ".join(names) or "[dim]-[/dim]", art.kind, art.short_id, art.manifest.producer.stage,
                      art.manifest.created[:16].replace("T", " "), _size(size))
    # names are what people type next (`luban show NAME`): never cut to fit a terminal or a pipe's 80 columns;
    # like `docker ps`, a line wider than the terminal wraps
    wide = Measurement.get(console, console.options.update_width(10_000), table).maximum
    narrow = console.width
    console.width = max(narrow, wide)
    try:
        console.print(table)
    finally:
        console.width = narrow


def show(ref: str = typer.Argument(..., help="artifact name or id (prefix)")) -> None:
    """Print an artifact's manifest: producer, config, parents, files and stats.

    Example: luban show acme-chat
    """
    art = state.workspace().locate(ref)
    m = art.manifest.model_dump()
    files = m.pop("files")
    parents = m.pop("parents")
    m["files"] = f"{len(files)} files"
    m["parents"] = [p for p in parents[:20]] + ([f"... {len(parents) - 20} more"] if len(parents) > 20 else [])
    m["path"] = str(art.path)
    console.print_json(json.dumps(m, ensure_ascii=False, default=str))


def _render(node: Node, tree: Tree) -> None:
    for child in node.children:
        name = escape(child.label)  # a file called "[draft] notes.md" is a path, not markup
        if child.type == "file":
            label = f"[green]{name}[/green]" + (f" [dim]sha256:{child.sha256[:12]}[/dim]" if child.sha256 else "")
        elif child.type == "missing":
            label = f"[red]{name}[/red]"
        else:
            label = (f"[bold]{name}[/bold] [cyan]{child.kind}[/cyan] [dim]{(child.id or '')[:12]}"
                     f" ← {child.stage}[/dim]")
        if child.repeated:
            label += " [dim](shown above)[/dim]"
        if child.role:
            label = f"[magenta]{child.role}:[/magenta] {label}"
        _render(child, tree.add(label))


def lineage_cmd(ref: str = typer.Argument(..., help="artifact name or id"),
                as_json: bool = typer.Option(False, "--json", help="machine-readable tree")) -> None:
    """Show the tree from an artifact back to the raw source files and their hashes.

    Example: luban lineage acme-chat
    """
    root = lineage(state.workspace(), ref)
    if as_json:
        console.print_json(json.dumps(root.to_dict(), ensure_ascii=False))
        return
    tree = Tree(f"[bold]{escape(root.label)}[/bold] [cyan]{root.kind}[/cyan] [dim]{(root.id or '')[:12]} ← {root.stage}[/dim]")
    _render(root, tree)
    console.print(tree)


def rm(refs: list[str] = typer.Argument(..., help="artifact names or ids"),
       force: bool = typer.Option(False, "--force", help="remove even if other artifacts derive from it")) -> None:
    """Remove artifacts (their folder, index row and names).

    Example: luban rm old-sft
    """
    ws = state.workspace()
    for ref in refs:
        art = ws.remove(ref, force=force)
        console.print(f"removed {ref} ({art.kind} {art.short_id})")


def gc(dry_run: bool = typer.Option(False, "--dry-run", help="only say what would be removed")) -> None:
    """Delete unnamed artifacts nothing named depends on, and leftovers of interrupted stages.

    Example: luban gc --dry-run
    """
    removed = state.workspace().gc(dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    console.print(f"{verb} {len(removed['artifacts'])} artifacts, {len(removed['tmp'])} temp folders, "
                  f"{len(removed['index'])} stale index rows")
    if removed["in_use"]:
        console.print(f"kept {len(removed['in_use'])} temp folders that a running stage is using")
