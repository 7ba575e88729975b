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
    from luban.models.tiny import SIZES, build_tiny, expand_paths, iter_texts

    if arch not in ("llama", "qwen2"):
        raise UsageError(f"unknown --arch '{arch}'", "use llama or qwen2")
    if size not in SIZES:
        raise UsageError(f"unknown --size '{size}'", f"use one of {', '.join(SIZES)}")
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"output directory {out} is not empty", "choose a new --out")
    files = expand_paths(corpus)
    with console.status(f"training a tokenizer on {len(files)} files and building a {arch} model"):
        stats = build_tiny(iter_texts(files), out, arch=arch, size=size, vocab_size=vocab_size, seed=seed)
    console.print(f"[green]✓[/green] {arch} model with {stats['parameters']:,} parameters and a "
                  f"{stats['vocab_size']:,}-token vocabulary in {out}")
