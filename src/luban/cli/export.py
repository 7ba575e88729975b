"""`luban export ...`: turn trained models into deployable ones (merge, GGUF, ONNX), each a model artifact."""

from __future__ import annotations

import typer

from luban.cli.context import console, state

app = typer.Typer(help="Export models: merge adapters, convert to GGUF (llama.cpp) or ONNX.", no_args_is_help=True)


@app.command("merge")
def merge(adapter: str = typer.Argument(..., help="adapter artifact (output of `luban train sft`, method lora)"),
          name: str = typer.Option(None, "--name", "-n", help="name of the merged model artifact"),
          tolerance: float = typer.Option(1e-4, "--tolerance", help="largest allowed logit difference"),
          force: bool = typer.Option(False, "--force", help="re-point --name if an artifact already has it")) -> None:
    """Merge a LoRA adapter into its base and check the logits match within the tolerance.

    The result is a standard Hugging Face directory with tokenizer, chat template and generation config.

    Example: luban export merge acme-lora --name acme-merged
    """
    from luban.compress.merge import MergeConfig, merge_stage
    from luban.train.preflight import check_output_name

    ws = state.workspace()
    check_output_name(ws, name, force)
    art = merge_stage(MergeConfig(tolerance=tolerance), ws, {"model": ws.get(adapter)}, name)
    diff = art.manifest.stats.get("max_abs_logit_diff", 0.0)
    console.print(f"[green]✓[/green] merged model {art.name or ''} [dim]{art.short_id}[/dim] "
                  f"(max logit difference {diff:.1e}) at {art.path}")


GGUF_TYPES = ("f32", "f16", "bf16", "q8_0")  # what llama.cpp's converter writes itself


@app.command("gguf")
def gguf(model: str = typer.Argument(..., help="model artifact (name or id): a Hugging Face model or merged adapter"),
         quant: str = typer.Option("f16", "--quant", "-q", help="f32, f16, bf16 or q8_0 (llama.cpp's converter); "
                                   "k-quants such as q4_K_M go through `luban compress quantize`"),
         name: str = typer.Option(None, "--name", "-n", help="name of the GGUF model artifact"),
         force: bool = typer.Option(False, "--force", help="re-point --name if an artifact already has it")) -> None:
    """Convert a model to one GGUF file (llama.cpp's converter), as a model artifact with lineage.

    `luban serve NAME` then serves it through llama.cpp's llama-server (run `make gguf` once: it builds
    llama-cpp-python, llama-server and unpacks the converter).

    Example: luban export gguf acme-merged --quant q8_0 --name acme-q8

    Example: luban serve acme-q8
    """
    from luban.compress.gguf_export import GGUFExportConfig, gguf_stage
    from luban.core.errors import UsageError
    from luban.train.preflight import check_output_name

    if quant not in GGUF_TYPES:
        raise UsageError(f"--quant {quant}: the GGUF converter writes {', '.join(GGUF_TYPES)}",
                         f"for llama.cpp's quantized types run `luban compress quantize {model} --method gguf-{quant}`")
    ws = state.workspace()
    check_output_name(ws, name, force)
    src = ws.get(model)
    with console.status(f"converting {src.name or src.short_id} to GGUF {quant}..."):
        art = gguf_stage(GGUFExportConfig(outtype=quant), ws, {"model": src}, name)  # type: ignore[arg-type]
    size = art.manifest.stats.get("bytes", 0) / 2**20
    console.print(f"[green]✓[/green] GGUF model {art.name or ''} [dim]{art.short_id}[/dim] ({quant}, {size:.1f} MiB) "
                  f"at {art.path / 'model.gguf'}")


@app.command("onnx")
def onnx(model: str = typer.Argument(..., help="model artifact (name or id): a Hugging Face model or an adapter"),
         name: str = typer.Option(None, "--name", "-n", help="name of the ONNX model artifact"),
         force: bool = typer.Option(False, "--force", help="re-point --name if an artifact already has it")) -> None:
    """Export a model to ONNX with its KV cache (float32, opset 17), as a model artifact with lineage.

    The artifact holds model.onnx and the tokenizer; `luban serve NAME` serves it with ONNX Runtime.

    Example: luban export onnx acme-merged --name acme-onnx
    """
    from luban.compress.onnx_export import OnnxExportConfig, onnx_stage
    from luban.train.preflight import check_output_name

    ws = state.workspace()
    check_output_name(ws, name, force)
    src = ws.get(model)
    with console.status(f"exporting {src.name or src.short_id} to ONNX..."):
        art = onnx_stage(OnnxExportConfig(), ws, {"model": src}, name)
    console.print(f"[green]✓[/green] ONNX model {art.name or ''} [dim]{art.short_id}[/dim] at {art.path}")
