"""`luban data ...`: curate raw files into datasets, and report what curation did.

    luban data curate examples/acme/recipe.yaml --name acme-corpus
    luban data curate --input raw/ --input "more/**/*.jsonl" workers=2 --name corpus
    luban data report acme-corpus

Commands stay thin: they build the stage config, call the same stage function the pipeline runner
calls, and print a summary table. Mounted by cli/main.py as `luban data`.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from luban.cli.context import console, state

app = typer.Typer(help="Data: curate raw files into datasets, report on them.", no_args_is_help=True)


def _print_funnel(stats: dict) -> None:  # type: ignore[type-arg]
    table = Table(title="curation funnel", show_lines=False)
    for col in ("step", "in", "out", "modified", "top reasons"):
        table.add_column(col, justify="right" if col in ("in", "out", "modified") else "left")
    for op in [stats.get("read", {}), *stats.get("operators", [])]:
        reasons = ", ".join(f"{r} ({n})" for r, n in list(op.get("reasons", {}).items())[:3])
        table.add_row(op.get("name", "read"), str(op.get("in", "")), str(op.get("out", "")),
                      str(op.get("modified", "")), reasons)
    console.print(table)


@app.command("curate")
def curate(recipe: Path = typer.Argument(None, help="recipe YAML (inputs: and process:)"),
           overrides: list[str] = typer.Argument(None, help="KEY=VALUE overrides, e.g. workers=1"),
           input_: list[str] = typer.Option(None, "--input", "-i", help="file, folder or glob (repeatable)"),
           executor: str = typer.Option(None, "--executor", help="local (default) or ray"),
           name: str = typer.Option(None, "--name", "-n", help="name of the dataset artifact")) -> None:
    """Read raw files, clean, filter, deduplicate and desensitize them into a dataset artifact.

    Example: luban data curate examples/acme/recipe.yaml --name acme-corpus
    """
    from luban.core.config import load_config
    from luban.data.curate import CurateConfig
    from luban.data.curate import curate as run_curate

    items = list(overrides or [])
    if input_:
        items.append("inputs=[" + ",".join(f"'{i}'" for i in input_) + "]")
    if executor:
        items.append(f"executor={executor}")
    cfg = load_config(CurateConfig, recipe, items)
    art = run_curate(cfg, state.workspace(), name=name)
    if not state.quiet:
        _print_funnel(art.manifest.stats)
    s = art.manifest.stats
    console.print(f"dataset [bold]{name or art.short_id}[/bold] ({art.short_id}): {s['train']} kept, "
                  f"{s['rejected']} rejected of {s['records_in']} records from {s['sources']} files")


@app.command("report")
def report(dataset: str = typer.Argument(..., help="dataset artifact name or id"),
           name: str = typer.Option(None, "--name", "-n", help="name of the report artifact"),
           print_path: bool = typer.Option(False, "--print-path", help="print only the HTML path")) -> None:
    """Write an HTML page and a JSON summary of what curation did to DATASET (a report artifact).

    Example: luban data report acme-corpus
    """
    from luban.data.report import report as run_report

    art = run_report(state.workspace(), dataset, name=name)
    html = art.path / "report.html"
    if print_path:
        console.print(str(html))
        return
    console.print(f"report {art.short_id} for '{dataset}': {html}\nsummary: {art.path / 'summary.json'}")


def _splits(text: str) -> dict[str, float]:
    """`train=0.9,validation=0.1` -> {"train": 0.9, "validation": 0.1}."""
    from luban.core.errors import UsageError

    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, value = part.partition("=")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            raise UsageError(f"--split part '{part}' is not NAME=FRACTION", "e.g. --split train=0.9,validation=0.1") from None
    return out


@app.command("format")
def format_(inputs: list[str] = typer.Argument(..., help="jsonl/json/parquet/csv files, folders, globs or datasets"),
            to: str = typer.Option("chat", "--to", help="chat, sharegpt, alpaca, preference, preference_chat, text"),
            source_format: str = typer.Option("auto", "--from", help="auto, chat, sharegpt, alpaca, preference, "
                                                                     "pairwise, text"),
            split: str = typer.Option("train=1.0", "--split", help="seeded splits, e.g. train=0.9,validation=0.1"),
            seed: int = typer.Option(0, "--seed"),
            system_prompt: str = typer.Option(None, "--system-prompt", help="added where a chat has no system turn"),
            name: str = typer.Option(None, "--name", "-n", help="name of the dataset artifact")) -> None:
    """Validate SFT / preference / text records, convert them to one schema, and split them.

    Records that do not fit (bad JSON, missing fields, empty turns, wrong role order) go to the
    `rejected` split with their file:line and reason.

    Example: luban data format examples/acme/sft.jsonl --to chat --split train=0.9,validation=0.1 --name sft
    """
    from luban.core.config import build_config
    from luban.data.formats import FormatConfig, format_stage

    cfg = build_config(FormatConfig, {"inputs": inputs, "to": to, "source_format": source_format,
                                      "splits": _splits(split), "seed": seed, "system_prompt": system_prompt},
                       source="options")
    art = format_stage(cfg, state.workspace(), name=name)
    s = art.manifest.stats
    counts = ", ".join(f"{k} {v}" for k, v in s["splits"].items())
    console.print(f"dataset [bold]{name or art.short_id}[/bold] ({art.short_id}) as {s['schema']}: {counts}")
    for reason, n in s["rejected_by_reason"].items():
        console.print(f"  rejected {n} × {reason}")


labelstudio_app = typer.Typer(help="Round-trip annotation through a Label Studio server.", no_args_is_help=True)
app.add_typer(labelstudio_app, name="labelstudio")


@labelstudio_app.command("export")
def labelstudio_export(dataset: str = typer.Argument(..., help="dataset artifact name or id"),
                       task: str = typer.Option(..., "--task", help="classification or pairwise"),
                       out: Path = typer.Option(Path("tasks.json"), "--out", "-o", help="tasks file to write"),
                       labels: str = typer.Option("", "--labels", help="classification labels, comma-separated"),
                       text_field: str = typer.Option("text", "--text-field", help="column to classify"),
                       split: str = typer.Option("train", "--split", help="which split to export"),
                       seed: int = typer.Option(0, "--seed", help="seeds which side each pairwise answer shows on")) -> None:
    """Write DATASET as tasks in Label Studio's import JSON, plus the labeling config (OUT with .xml).

    Example: luban data labelstudio export prefs --task pairwise -o prefs-tasks.json
    """
    from luban.data.labelstudio import export_tasks

    label_list = [x.strip() for x in labels.split(",") if x.strip()]
    n, config = export_tasks(state.workspace(), dataset, task, out, label_list, text_field, split, seed)
    console.print(f"{n} tasks in {out}; labeling config in {config} (paste it into the project's Labeling Interface)")


@labelstudio_app.command("import")
def labelstudio_import(export: Path = typer.Argument(..., help="Label Studio JSON export of the project"),
                       task: str = typer.Option("auto", "--task", help="auto, classification or pairwise"),
                       origin: str = typer.Option(None, "--origin", help="dataset the tasks came from (lineage)"),
                       name: str = typer.Option(None, "--name", "-n", help="name of the dataset artifact")) -> None:
    """Import a Label Studio JSON export as a dataset: pairwise -> prompt/chosen/rejected, classification -> text/label.

    Example: luban data labelstudio import project-1-export.json --origin prefs --name prefs-labeled
    """
    from luban.core.config import build_config
    from luban.data.labelstudio import LabelStudioImportConfig, import_stage

    cfg = build_config(LabelStudioImportConfig, {"export": str(export), "task": task, "origin": origin},
                       source="options")
    art = import_stage(cfg, state.workspace(), name=name)
    s = art.manifest.stats
    console.print(f"dataset [bold]{name or art.short_id}[/bold] ({art.short_id}): {s['task']}, "
                  f"{s['splits']}, {s['disagreements']} tasks with disagreeing annotators")
