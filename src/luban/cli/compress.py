"""`luban compress ...`: quantized and pruned variants of a model, and the sweep that picks one to deploy."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from luban.cli.context import console, state

app = typer.Typer(help="Compress models: quantize (int8, 4-bit, GGUF k-quants, ONNX int8), prune, sweep.",
                  no_args_is_help=True)

METHOD_HELP = ("torch-int8 (CPU), bnb-4bit / bnb-8bit (CUDA), gguf-f16, gguf-q8_0, gguf-q4_K_M, gguf-q5_K_M "
               "(llama.cpp), onnx-int8 (ONNX Runtime)")


def _drift(stats: dict[str, object]) -> str:
    if "perplexity_delta_pct" not in stats:
        return ""
    return (f", perplexity {stats['parent_perplexity']} -> {stats['perplexity']} "
            f"({float(stats['perplexity_delta_pct']):+.2f}%), top-1 agreement {stats['top1_agreement']}")  # type: ignore[arg-type]


@app.command("quantize")
def quantize(model: str = typer.Argument(..., help="model artifact (name or id)"),
             method: str = typer.Option(..., "--method", "-m", help=METHOD_HELP),
             name: str = typer.Option(None, "--name", "-n", help="name of the quantized model artifact"),
             compare: bool = typer.Option(True, "--compare/--no-compare", help="load it back and compare with the parent"),
             force: bool = typer.Option(False, "--force", help="re-point --name if an artifact already has it")) -> None:
    """Quantize a model into a new model artifact whose lineage names its parent.

    The variant is loaded back and its perplexity compared with the parent's (in the manifest's stats).

    Example: luban compress quantize acme-chat --method gguf-q4_K_M --name acme-q4

    Example: luban compress quantize acme-chat --method torch-int8 --name acme-int8 && luban serve acme-int8
    """
    from luban.compress.quantize import QuantizeConfig, dir_bytes, quantize_stage
    from luban.train.preflight import check_output_name

    ws = state.workspace()
    check_output_name(ws, name, force)
    src = ws.get(model)
    cfg = QuantizeConfig(method=method, compare=compare)  # type: ignore[arg-type]
    with console.status(f"quantizing {src.name or src.short_id} ({method})..."):
        art = quantize_stage(cfg, ws, {"model": src}, name)
    size, parent = dir_bytes(art.path) / 2**20, dir_bytes(src.path) / 2**20
    console.print(f"[green]✓[/green] {method} model {art.name or ''} [dim]{art.short_id}[/dim] "
                  f"({parent:.1f} -> {size:.1f} MiB{_drift(art.manifest.stats)}) at {art.path}")


@app.command("prune")
def prune(model: str = typer.Argument(..., help="model artifact (name or id): a Hugging Face model"),
          drop_layers: int = typer.Option(1, "--drop-layers", help="decoder layers to remove (lowest block influence)"),
          mlp_keep: float = typer.Option(1.0, "--mlp-keep", help="fraction of MLP neurons each layer keeps (0-1]"),
          name: str = typer.Option(None, "--name", "-n", help="name of the pruned model artifact"),
          force: bool = typer.Option(False, "--force", help="re-point --name if an artifact already has it")) -> None:
    """Drop the least influential layers and narrow the MLPs; recover with `luban train distill`.

    Example: luban compress prune acme-chat --drop-layers 2 --mlp-keep 0.75 --name acme-pruned

    Example: luban train distill acme-pruned --data acme-sft --teacher acme-chat --name acme-pruned-distilled
    """
    from luban.compress.prune import PruneConfig, prune_stage
    from luban.train.preflight import check_output_name

    ws = state.workspace()
    check_output_name(ws, name, force)
    src = ws.get(model)
    with console.status(f"pruning {src.name or src.short_id}..."):
        art = prune_stage(PruneConfig(drop_layers=drop_layers, mlp_keep=mlp_keep), ws, {"model": src}, name)
    st = art.manifest.stats
    console.print(f"[green]✓[/green] pruned model {art.name or ''} [dim]{art.short_id}[/dim]: dropped layers "
                  f"{st['dropped_layers']}, MLP width {st['intermediate_size']}, {st['parameters_before']:,} -> "
                  f"{st['parameters']:,} parameters{_drift(st)}")


@app.command("sweep")
def sweep(model: str = typer.Argument(..., help="model artifact (name or id)"),
          variants: str = typer.Option("torch-int8,onnx-int8,gguf-q8_0,gguf-q4_K_M", "--variants",
                                       help="comma-separated methods (see quantize --method) and/or prune"),
          task: list[Path] = typer.Option([], "--task", "-t", help="evaluation task YAML (repeat)"),
          gate: list[str] = typer.Option([], "--gate", "-g", help='METRIC=CONDITION, e.g. "perplexity_delta_pct=<= 2"'),
          prefer: str = typer.Option("size", "--prefer", help="size or speed: which passing variant wins"),
          no_speed: bool = typer.Option(False, "--no-speed", help="skip the one-stream speed measurement"),
          name: str = typer.Option("sweep", "--name", "-n", help="report name; the winner is tagged NAME-candidate"),
          force: bool = typer.Option(False, "--force", help="re-point NAME and its variants' names if they exist"),
          ) -> None:
    """Build every variant, evaluate each with the same tasks, and name the smallest (or fastest) that passes.

    Example: luban compress sweep acme-chat --task examples/eval/perplexity.yaml
             --gate "perplexity_delta_pct=<= 2" --name acme-sweep

    Then: luban serve acme-sweep-candidate
    """
    from luban.compress.sweep import SweepConfig
    from luban.core.errors import UsageError
    from luban.stages import compress_sweep
    from luban.train.preflight import check_output_name

    gates = {}
    for g in gate:
        metric, sep, cond = g.partition("=")
        if not sep or not cond.strip():
            raise UsageError(f"--gate {g!r}: expected METRIC=CONDITION", 'e.g. --gate "perplexity_delta_pct=<= 2"')
        gates[metric.strip()] = cond.strip()
    cfg = SweepConfig(variants=[v.strip() for v in variants.split(",") if v.strip()], tasks=[str(t) for t in task],
                      gates=gates, prefer=prefer, measure_speed=not no_speed)  # type: ignore[arg-type]
    ws = state.workspace()
    check_output_name(ws, name, force)
    with console.status("building and measuring the variants..."):
        report = compress_sweep(cfg, ws, {"model": ws.get(model)}, name)
    results = json.loads((report.path / "results.json").read_text(encoding="utf-8"))
    for r in results["variants"]:
        m = r["metrics"]
        mark = "[green]★[/green]" if r["name"] == results["candidate"] else " "
        console.print(f"{mark} {r['name']:<14} {m['size_mb']:8.2f} MB  {r['verdict']}")
    console.print(f"candidate: [bold]{results['candidate']}[/bold] (tagged {name}-candidate); "
                  f"report {report.path / 'report.html'}")
