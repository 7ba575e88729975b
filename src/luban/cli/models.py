"""`luban models ...`: the tiny-model kit (and, from the training layer, advise / list)."""

from __future__ import annotations

from pathlib import Path

import typer

from luban.cli.context import console
from luban.core.errors import UsageError

app = typer.Typer(help="Choose, build and inspect models.", no_args_is_help=True)


@app.command("tiny")
def tiny(corpus: list[str] = typer.Option(..., "--corpus", "-c", help="text files, folders or globs"),
         out: Path = typer.Option(..., "--out", "-o", help="output directory (must not exist or be empty)"),
         arch: str = typer.Option("qwen2", "--arch", help="llama or qwen2"),
         size: str = typer.Option("demo", "--size", help="test, demo or bench50m"),
         vocab_size: int = typer.Option(None, "--vocab-size", help="override the vocabulary size"),
         seed: int = typer.Option(0, "--seed")) -> None:
    """Train a byte-level BPE tokenizer on your text and build a small random causal LM.

    The output is a standard Hugging Face directory (weights, tokenizer, chat template,
    generation config) loadable with AutoModelForCausalLM.from_pretrained.

    Example: luban models tiny --corpus examples/acme/raw --out tiny-qwen --arch qwen2
    """
    from luban.data.readers import expand_inputs, open_source, read_texts
    from luban.models.tiny import SIZES, build_tiny

    if arch not in ("llama", "qwen2"):
        raise UsageError(f"unknown --arch '{arch}'", "use llama or qwen2")
    if size not in SIZES:
        raise UsageError(f"unknown --size '{size}'", f"use one of {', '.join(SIZES)}")
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"output directory {out} is not empty", "choose a new --out")
    files = [open_source(p) for p in expand_inputs(corpus)]
    with console.status(f"training a tokenizer on {len(files)} files and building a {arch} model"):
        stats = build_tiny(read_texts(files), out, arch=arch, size=size, vocab_size=vocab_size, seed=seed)
    console.print(f"[green]✓[/green] {arch} model with {stats['parameters']:,} parameters and a "
                  f"{stats['vocab_size']:,}-token vocabulary in {out}")


@app.command("list")
def list_models(family: str = typer.Option(None, "--family", "-f", help="only this family, e.g. qwen2.5")) -> None:
    """Print the catalog of known open model families: size, context, licence, languages, template.

    Example: luban models list --family qwen3
    """
    from rich import box
    from rich.table import Table

    from luban.models.advisor import dims_from_card
    from luban.models.catalog import CARDS, families

    cards = [c for c in CARDS if family is None or c.family == family.lower()]
    if not cards:
        raise UsageError(f"no family '{family}' in the catalog", f"known: {', '.join(families())}")
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("model", "params", "context", "template"):
        table.add_column(col, no_wrap=True)
    for col in ("licence", "languages"):
        table.add_column(col, overflow="fold", min_width=12)
    for c in cards:
        table.add_row(c.key, f"{dims_from_card(c).params / 1e9:.1f}B", f"{c.context // 1024}K", c.template,
                      c.licence, ",".join(c.languages))
    console.print(table)


@app.command("advise")
def advise_cmd(model: str = typer.Argument(..., help="local model directory, or a catalog key like qwen2.5-7b"),
               size: str = typer.Option(None, "--size", help="size when MODEL is a family name, e.g. 7b"),
               method: str = typer.Option("lora", "--method", "-m", help="full, lora or qlora"),
               seq_len: int = typer.Option(2048, "--seq-len", help="training sequence length (tokens)"),
               batch: int = typer.Option(1, "--batch", help="micro-batch per GPU"),
               gpu: str = typer.Option("A100-80G", "--gpu", help="A100-80G, 4090-24G, H100, ... or 'cpu'"),
               gpu_memory: float = typer.Option(None, "--gpu-memory", help="memory per device in GiB (overrides)"),
               gpus: int = typer.Option(1, "--gpus", help="number of GPUs (ZeRO-3 shards states across them)"),
               checkpointing: bool = typer.Option(False, "--gradient-checkpointing", help="recompute activations"),
               lora_rank: int = typer.Option(16, "--lora-rank"),
               tokens: int = typer.Option(None, "--tokens", help="training tokens per epoch, for the time estimate"),
               ) -> None:
    """Estimate memory (weights, gradients, optimizer, activations) and time per epoch; say if it fits.

    Example: luban models advise qwen2.5-7b --method lora --seq-len 4096 --batch 2 --gpu 4090-24G
    """
    import psutil

    from luban.models import advisor
    from luban.models.catalog import find_card

    if method not in ("full", "lora", "qlora"):
        raise UsageError(f"unknown --method '{method}'", "use full, lora or qlora")
    path = Path(model)
    dims = advisor.dims_from_dir(path) if path.is_dir() else advisor.dims_from_card(find_card(model, size))
    on_cpu = gpu.lower() == "cpu"
    memory = gpu_memory or (psutil.virtual_memory().total / advisor.GIB if on_cpu else advisor.resolve_gpu(gpu)[0])
    plan = advisor.Plan(method=method, seq_len=seq_len, batch=batch, gradient_checkpointing=checkpointing,  # type: ignore[arg-type]
                        dtype="fp32" if on_cpu else "bf16", lora_rank=lora_rank, gpus=gpus,
                        zero3=gpus > 1, device="cpu" if on_cpu else "cuda")
    result = advisor.advise(dims, plan, memory, None if on_cpu or gpu_memory else gpu, tokens)
    _print_estimate(dims.name, result.requested, memory, gpu)
    if result.fits:
        console.print("[green]✓ fits[/green]")
    elif result.recommended is not None:
        r = result.recommended
        console.print(f"[yellow]✗ does not fit[/yellow]; recommended: {'; then '.join(result.steps)} "
                      f"-> {r.total / advisor.GIB:.1f} GiB per device")
    else:
        console.print("[red]✗ does not fit[/red] even with " + ", ".join(result.steps)
                      + "; use a smaller model or bigger GPUs")


def _print_estimate(name: str, e: object, memory: float, gpu: str) -> None:
    from rich.table import Table

    from luban.models.advisor import GIB, Estimate

    assert isinstance(e, Estimate)
    p = e.plan
    console.print(f"{name}: {e.params / 1e9:.2f}B parameters, {e.trainable / 1e6:,.1f}M trainable; "
                  f"{p.method}, seq {p.seq_len}, micro-batch {p.batch}, {p.gpus} device(s), {gpu} {memory:.0f} GiB")
    table = Table("part", "GiB per device")
    for part in ("weights", "gradients", "optimizer", "activations", "overhead"):
        table.add_row(part, f"{getattr(e, part) / GIB:.2f}")
    table.add_row("[bold]total[/bold]", f"[bold]{e.total / GIB:.2f}[/bold]")
    console.print(table)
    if e.seconds_per_epoch is not None:
        console.print(f"time per epoch ≈ {e.seconds_per_epoch / 3600:.1f} h (at 35% of peak FLOPs)")
