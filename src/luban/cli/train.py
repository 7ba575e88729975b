"""`luban train RECIPE config.yaml [KEY=VALUE ...]`: run a training recipe from a YAML config.

The recipe is the stage `train.RECIPE` of the registry (pretrain, sft, and the recipes registered after them),
so the CLI, the pipeline runner and Python callers run the same function with the same config model.
A config may hold an `inputs:` section (`model:`, `data:`, ...) naming artifacts; `--model` / `--data` /
`--input ROLE=REF` override it. A model given as a local Hugging Face directory is imported first, so its
lineage is recorded.
"""

from __future__ import annotations

import difflib
import inspect
from pathlib import Path
from typing import Any

import typer

from luban.cli.context import console, state
from luban.core.errors import UsageError
from luban.stages import Role, recipes

app = typer.Typer(help=f"Train models with a recipe: {', '.join(recipes())}.", no_args_is_help=True)
# Mounted by cli/main.py as a single command: `app.command("train")(luban.cli.train.train)`.


def split_inputs(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Config keys without `inputs:`, and the `inputs:` mapping (role -> artifact name or path)."""
    data = dict(data)
    inputs = data.pop("inputs", None) or {}
    if not isinstance(inputs, dict):
        raise UsageError("`inputs:` must map roles to artifact names", "e.g. inputs: {model: base, data: chat}")
    return data, {str(k): str(v) for k, v in inputs.items()}


def load_recipe_config(recipe: str, config: Path | None, overrides: list[str]) -> tuple[Any, Any, dict[str, str]]:
    """(stage spec, validated config, inputs named in the YAML) for `luban train RECIPE`."""
    from luban.core.config import build_config, config_data
    from luban.stages import get_stage, recipes

    if recipe not in recipes():
        close = difflib.get_close_matches(recipe, recipes(), n=1)
        raise UsageError(f"unknown recipe '{recipe}'",
                         f"did you mean '{close[0]}'?" if close else f"use one of {', '.join(recipes())}")
    spec = get_stage(f"train.{recipe}")
    model = spec.load_config_class()
    data, inputs = split_inputs(config_data(model, config, overrides))  # paths relative to the file naming them
    cfg = build_config(model, data, source=str(config) if config else "overrides",
                       base=config.parent if config else Path.cwd())
    return spec, cfg, inputs


def resolve_input(role: Role, ref: str, ws: Any) -> Any:
    """A workspace artifact, or (for a model role) a local model directory imported into the workspace."""
    if ws.exists(ref):
        return ws.get(ref)
    if Path(ref).is_dir() and role.kind == "model":
        from luban.models.loading import ImportConfig, import_stage

        return import_stage(ImportConfig(path=ref), ws, name=None)
    raise UsageError(f"input {role.name}='{ref}' is neither an artifact in the workspace nor a model directory",
                     "run `luban ls` to see artifact names")


def train(recipe: str = typer.Argument(..., help=f"recipe: {', '.join(recipes())}"),
          config: Path = typer.Argument(None, help="YAML config of the recipe"),
          overrides: list[str] = typer.Argument(None, help="KEY=VALUE overrides, e.g. train.lr=1e-4"),
          model: str = typer.Option(None, "--model", "-m", help="base model: artifact name or HF directory"),
          data: str = typer.Option(None, "--data", "-d", help="dataset artifact name"),
          input_: list[str] = typer.Option(None, "--input", "-i", help="other inputs as ROLE=REF"),
          name: str = typer.Option(None, "--name", "-n", help="name of the output model artifact"),
          resume: bool = typer.Option(False, "--resume", help="continue from the last checkpoint of this run"),
          force: bool = typer.Option(False, "--force", help="re-point --name if an artifact already has it"),
          launch: str = typer.Option(None, "--launch", help="run through accelerate: ddp, zero2, zero3, fsdp or a "
                                                            "YAML path"),
          gpus: int = typer.Option(1, "--gpus", help="with --launch: processes (GPUs) per node"),
          nodes: int = typer.Option(1, "--nodes", help="with --launch: number of machines"),
          node_rank: int = typer.Option(0, "--node-rank", help="with --launch: this machine's rank"),
          main_ip: str = typer.Option(None, "--main-ip", help="with --launch: address of the rank-0 machine"),
          port: int = typer.Option(29500, "--port", help="with --launch: rendezvous port")) -> None:
    """Train with a recipe; every check runs before the first step, and the result is a model artifact.

    Example: luban train sft examples/train/sft_lora.yaml --model acme-base --data acme-sft --name acme-lora train.max_steps=60

    Multi-GPU: luban train sft cfg.yaml --model base --data chat --launch zero3 --gpus 8 [--nodes 2 --main-ip HOST]
    """
    from luban.train.preflight import check_output_name

    spec, cfg, named = load_recipe_config(recipe, config, list(overrides or []))
    for item in input_ or []:
        if "=" not in item:
            raise UsageError(f"--input '{item}' is not ROLE=REF", "e.g. --input teacher=big-model")
        role, ref = item.split("=", 1)
        named[role] = ref
    flags = {"model": model, "data": data}  # the roles with an option of their own
    named.update({role: ref for role, ref in flags.items() if ref})
    missing = spec.missing(named)
    if missing:
        how = " ".join(f"--{r.name} NAME" if r.name in flags else f"--input {r.name}=NAME" for r in missing)
        raise UsageError(f"recipe '{recipe}' needs input(s) {', '.join(map(str, missing))}",
                         f"pass {how} or put them under inputs: in the YAML")
    ws = state.workspace()
    check_output_name(ws, name, force)
    inputs = {role: resolve_input(spec.role(role), ref, ws) for role, ref in named.items()}
    spec.check_inputs(inputs)
    if launch:  # re-run this command under `accelerate launch`, inputs pinned to artifact ids
        from luban.cli.train_launch import relaunch

        relaunch(launch, gpus, nodes, node_rank, main_ip, port, recipe, config, list(overrides or []), inputs,
                 name, resume, force)
        return
    fn = spec.load_function()
    kwargs = {}
    if resume:
        if "resume" not in inspect.signature(fn).parameters:
            raise UsageError(f"recipe '{recipe}' cannot resume", "run it again without --resume")
        kwargs["resume"] = True
    art = fn(cfg, ws, inputs, name, **kwargs)
    if art is None:  # a worker rank of a multi-process launch: rank 0 wrote the artifact and reports it
        return
    stats = art.manifest.stats
    loss = stats.get("final_loss")
    console.print(f"[green]✓[/green] {art.kind} {art.name or ''} [dim]{art.short_id}[/dim]: "
                  f"{stats.get('steps', '?')} steps, final loss {loss:.4f}" if isinstance(loss, float) else
                  f"[green]✓[/green] {art.kind} {art.name or ''} [dim]{art.short_id}[/dim]")
    if (art.path / "run" / "report.html").is_file():
        console.print(f"  report: {art.path / 'run' / 'report.html'}")


app.command("train")(train)
