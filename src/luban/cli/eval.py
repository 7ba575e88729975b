"""`luban eval`: score models on evaluation tasks, check gates, compare models side by side."""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer
from rich.table import Table

from luban.cli.context import console, state
from luban.core.errors import UsageError

app = typer.Typer(help="Evaluate models: tasks (generate, multiple choice, perplexity, LLM judge), gates, "
                       "comparison reports. Task templates: examples/eval/.", no_args_is_help=True)

_GATE = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*:?\s*((?:>=|<=|==|!=|>|<).*)$")


def parse_gate_options(items: list[str]) -> dict[str, str]:
    """`exact_match>=0.8` (or `exact_match: >= 0.8`) -> {"exact_match": ">=0.8"}."""
    out = {}
    for item in items:
        m = _GATE.match(item)
        if not m:
            raise UsageError(f"cannot read gate {item!r}", 'write METRIC OP NUMBER, e.g. --gate "exact_match>=0.8"')
        out[m.group(1)] = m.group(2)
    return out


def metrics_table(metrics: dict[str, float]) -> Table:
    table = Table("task", "metric", "value", box=None)
    for key, value in metrics.items():
        task, _, metric = key.rpartition(".")
        table.add_row(task, metric, f"{value:.4f}")
    return table


def print_gates(gates: dict[str, str], results: dict[str, object], stage: str | None) -> bool:
    from luban.evaluate.gates import check_gates

    ok = True
    for g in check_gates(gates, results, stage):  # type: ignore[arg-type]
        ok &= g.passed
        mark = "[green]pass[/green]" if g.passed else "[red]FAIL[/red]"
        console.print(f"{mark} {g.describe()}")
    return ok


@app.command("run")
def run(
    tasks: list[Path] = typer.Argument(..., help="task YAML files"),
    model: str = typer.Option(None, "--model", "-m", help="model artifact name or Hugging Face model directory"),
    endpoint: str = typer.Option(None, "--endpoint", help="OpenAI-compatible base URL of a served model"),
    served_model: str = typer.Option(None, "--served-model", help="model name at --endpoint"),
    data: str = typer.Option(None, "--data", help="dataset artifact for tasks without `data:` (perplexity)"),
    name: str = typer.Option(None, "--name", "-n", help="name of the report artifact"),
    out: Path = typer.Option(None, "--out", help="for a model directory: write results.json and report.html here"),
    batch_size: int = typer.Option(16, "--batch-size", min=1, help="prompts per forward pass (local model)"),
    concurrency: int = typer.Option(8, "--concurrency", min=1, help="requests in flight (endpoint)"),
    limit: int = typer.Option(None, "--limit", min=1, help="score at most N items of every task"),
    gate: list[str] = typer.Option(None, "--gate", "-g", help='a gate to check, e.g. "exact_match>=0.8"'),
) -> None:
    """Score a model (artifact or directory) or a served endpoint on evaluation tasks.

    Examples:
      luban eval run examples/eval/generate_qa.yaml examples/eval/mc_ceval.yaml -m acme-chat
      luban eval run examples/eval/generate_qa.yaml --endpoint http://127.0.0.1:8000/v1 --served-model acme
      luban eval run examples/eval/perplexity.yaml -m ./my-model --out eval-out -g "acme_ppl.perplexity<=50"
    """
    from luban.evaluate.safety_stage import Endpoint
    from luban.evaluate.tasks_stage import TasksEvalConfig, evaluate_tasks

    if (model is None) == (endpoint is None):
        raise UsageError("give exactly one of --model or --endpoint", "see `luban eval run --help`")
    if endpoint and not served_model:
        raise UsageError("--endpoint needs --served-model", "the model's name at that server (GET /v1/models)")
    gates = parse_gate_options(gate or [])
    ws = state.workspace()
    if model is not None and Path(model).is_dir() and not ws.exists(model):
        results = _run_directory(Path(model), tasks, batch_size, limit, out)
        stage_results: dict[str, object] = results
    else:
        cfg = TasksEvalConfig(tasks=[str(t) for t in tasks], batch_size=batch_size, concurrency=concurrency,
                              limit=limit,
                              endpoint=Endpoint(url=endpoint, model=served_model) if endpoint else None)
        inputs = {"model": ws.get(model)} if model else {}
        if data:
            inputs["data"] = ws.get(data)
        art = evaluate_tasks(cfg, ws, inputs, name)
        stage_results = json.loads((art.path / "results.json").read_text(encoding="utf-8"))
        console.print(metrics_table(stage_results["metrics"]))  # type: ignore[arg-type]
        console.print(f"report {art.name or art.short_id}: {art.path / 'report.html'}")
    if gates and not print_gates(gates, stage_results, "evaluate.tasks"):
        raise typer.Exit(1)


def _run_directory(model: Path, tasks: list[Path], batch_size: int, limit: int | None,
                   out: Path | None) -> dict[str, object]:
    from luban.evaluate.report import render_tasks_report
    from luban.evaluate.runner import evaluate
    from luban.evaluate.tasks import load_task

    loaded = [load_task(t) for t in tasks]
    if limit:
        loaded = [t.model_copy(update={"limit": min(t.limit or limit, limit)}) for t in loaded]
    results = evaluate(model, list(loaded), batch_size=batch_size)
    console.print(metrics_table(results["metrics"]))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
        (out / "report.html").write_text(render_tasks_report(results), encoding="utf-8")
        console.print(f"wrote {out / 'results.json'} and {out / 'report.html'}")
    return results


@app.command("gates")
def gates_command(
    report: str = typer.Argument(..., help="report artifact (evaluate.*, compare) or a results.json file"),
    gate: list[str] = typer.Option(..., "--gate", "-g", help='e.g. "exact_match>=0.8", "safety.refusal>=0.95"'),
) -> None:
    """Check gates on a report's metrics; exits 1 when one misses (for CI).

    Example: luban eval gates acme-eval -g "acme_qa.exact_match>=0.8" -g "acme_mc_zh.acc>=0.5"
    """
    path = Path(report)
    if path.is_file():
        results, stage = json.loads(path.read_text(encoding="utf-8")), None
    else:
        art = state.workspace().get(report)
        file = art.path / "results.json"
        if not file.is_file():
            raise UsageError(f"{report} holds no results.json", "name an evaluation report")
        results, stage = json.loads(file.read_text(encoding="utf-8")), art.manifest.producer.stage
    if not print_gates(parse_gate_options(gate), results, stage):
        raise typer.Exit(1)


@app.command("compare")
def compare_command(
    models: list[str] = typer.Argument(..., help="NAME=MODEL (artifact or directory), or just MODEL"),
    task: list[Path] = typer.Option(None, "--task", "-t", help="task YAML to score every model on"),
    safety: list[str] = typer.Option(None, "--safety", help="NAME=REPORT: an evaluate.safety report of that model"),
    name: str = typer.Option(None, "--name", "-n", help="name of the comparison report artifact"),
    no_speed: bool = typer.Option(False, "--no-speed", help="skip load time, tokens/s, TTFT and peak memory"),
    batch_size: int = typer.Option(16, "--batch-size", min=1),
) -> None:
    """Compare models side by side: quality, safety, file size, load time, tokens/s, TTFT, peak memory.

    Writes a report artifact with report.html (charts and a table) and results.json.

    Example: luban eval compare base=acme-base tuned=acme-chat -t examples/eval/generate_qa.yaml \\
             --safety tuned=acme-safety --name acme-compare
    """
    from luban.core.artifact import artifact_parent
    from luban.evaluate.compare import compare, local_candidate, write_comparison
    from luban.models.loading import resolve_model_dir

    ws = state.workspace()
    reports = dict(_pair(s) for s in safety or [])
    candidates, parents = [], []
    pairs = [_pair(m) for m in models]
    for label in reports:
        if label not in {n for n, _ in pairs}:
            raise UsageError(f"--safety names '{label}', which is not among the models", "use NAME=REPORT")
    for label, ref in pairs:
        path = resolve_model_dir(ref, ws)
        info: dict[str, object] = {}
        if ws.exists(ref):
            art = ws.get(ref)
            parents.append(artifact_parent(art, f"candidate:{label}"))
            info = {"artifact": art.short_id}
        sm = None
        if label in reports:
            rep = ws.get(reports[label])
            parents.append(artifact_parent(rep, f"safety:{label}"))
            sm = json.loads((rep.path / "results.json").read_text(encoding="utf-8")).get("metrics")
        candidates.append(local_candidate(label, path, list(task or []), sm, not no_speed, batch_size, info))
    report = compare(candidates)
    art = write_comparison(ws, report, name, parents, {"tasks": [str(t) for t in task or []]})
    table = Table("metric", *[c.name for c in candidates], box=None)
    for m in report["metric_names"]:
        table.add_row(m, *[f"{c.metrics()[m]:.4g}" if m in c.metrics() else "-" for c in candidates])
    console.print(table)
    console.print(f"report {art.name or art.short_id}: {art.path / 'report.html'}")


def _pair(text: str) -> tuple[str, str]:
    label, sep, ref = text.partition("=")
    return (label, ref) if sep else (Path(text).name or text, text)
