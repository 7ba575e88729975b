"""The training form's choices and its checks: recipes, base models, datasets, and the advisor's estimate.

Design choices:
- The recipes are asked of the CLI once (`luban config stages`: the registered `train.*` stages and their
  inputs), since the console may not import the stage registry; the form offers those that need exactly a
  base model and a dataset (distillation also needs a teacher: run it from the CLI).
- Every number is checked here with a sentence naming the field, and the advisor (`luban.models.advisor`, the
  arithmetic behind `luban models advise`) must say the plan fits the device's memory before a run starts:
  a refusal carries its reason and the advisor's first change that would fit.
- The device is this machine's: the first CUDA GPU when there is one, else the CPU and its RAM. The form may
  name a smaller memory budget (a GPU shared with serving); the time estimate exists where the advisor has
  the GPU's throughput (CPU runs get none).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, NoReturn

import psutil
from pydantic import BaseModel, ConfigDict

from luban.console.base import ConsoleError
from luban.console.runs_store import NAME
from luban.core.errors import LubanError
from luban.core.workspace import Workspace
from luban.models import advisor

# What each recipe's config accepts for `method` (its pydantic field); a recipe unknown here gets all three and
# the CLI stays the judge. pretrain has no method: it trains every weight.
METHODS: dict[str, list[str]] = {"pretrain": ["full"], "reward": ["full", "lora"]}
ALL_METHODS = ["full", "lora", "qlora"]
LINE = re.compile(r"^train\.(\S+)\s+(.*?)(?:\s+inputs: (.*))?$")


class RunForm(BaseModel):
    """What the form sends; numbers are checked by `check` with one sentence each."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())
    recipe: str = "sft"
    model: str = ""
    data: str = ""
    method: str = "lora"
    name: str = ""
    lr: float = 2e-4
    epochs: float = 1.0
    max_steps: int = -1
    batch_size: int = 8
    grad_accum: int = 1
    max_seq_length: int = 512
    lora_rank: int = 16
    save_steps: int = 50
    logging_steps: int = 5
    gradient_checkpointing: bool = False
    memory_gib: float | None = None  # the memory budget; default: the device's


class Forms:
    """The choices and checks of one console (recipes and device asked for once)."""

    def __init__(self, gateway_cfg: Any) -> None:
        self.gateway_cfg = gateway_cfg
        self._recipes: list[dict[str, Any]] | None = None
        self._device: dict[str, Any] | None = None
        self._lock = threading.Lock()

    # -- choices ----------------------------------------------------------------------------
    def recipes(self) -> list[dict[str, Any]]:
        with self._lock:
            if self._recipes is None:
                self._recipes = discover_recipes()
            return self._recipes

    def device(self) -> dict[str, Any]:
        with self._lock:
            if self._device is None:
                self._device = detect_device()
            return self._device

    def models(self, ws: Workspace) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for art, names in ws.list("model"):
            if not (art.path / "config.json").is_file():  # an adapter, GGUF or ONNX export: not a base to train
                continue
            out += [{"ref": ref, "label": label, "id": art.id, "source": "artifact", "created": art.manifest.created}
                    for ref, label in _choices(art, names)]
        for up in self.gateway_cfg.upstreams.values():  # directories the engine serves (gateway.yaml)
            for ref in up.serve if up.kind == "engine" else []:
                if (Path(ref) / "config.json").is_file():
                    out.append({"ref": str(Path(ref).resolve()), "label": f"{Path(ref).name} (served)",
                                "id": None, "source": "served", "created": None})
        return out

    def datasets(self, ws: Workspace) -> list[dict[str, Any]]:
        return [{"ref": ref, "label": label, "id": art.id, "rows": train_rows(art.manifest.stats),
                 "schema": art.manifest.stats.get("schema")}
                for art, names in ws.list("dataset") for ref, label in _choices(art, names)]

    # -- checks -----------------------------------------------------------------------------
    def check(self, form: RunForm, ws: Workspace, starting: bool = False) -> None:
        """A ConsoleError (400, one sentence naming the field) for the first bad value."""
        recipes = {r["name"]: r for r in self.recipes()}
        if form.recipe not in recipes:
            _bad("recipe", f"unknown recipe '{form.recipe}'; the form offers {', '.join(recipes) or 'none'}")
        if form.method not in recipes[form.recipe]["methods"]:
            _bad("method", f"recipe '{form.recipe}' trains with {' or '.join(recipes[form.recipe]['methods'])}, "
                 f"not '{form.method}'")
        if form.lr <= 0 or form.lr > 1:
            _bad("lr", f"the learning rate must be above 0 and at most 1 (got {form.lr:g})")
        if form.max_steps == 0 or form.max_steps < -1:
            _bad("max_steps", f"max steps must be a positive number, or -1 to train by epochs (got {form.max_steps})")
        if form.max_steps == -1 and form.epochs <= 0:
            _bad("epochs", f"epochs must be above 0 (got {form.epochs:g})")
        for field, low in (("batch_size", 1), ("grad_accum", 1), ("lora_rank", 1), ("save_steps", 1),
                           ("logging_steps", 1), ("max_seq_length", 8)):
            if getattr(form, field) < low:
                _bad(field, f"{field.replace('_', ' ')} must be at least {low} (got {getattr(form, field)})")
        if form.memory_gib is not None and form.memory_gib <= 0:
            _bad("memory_gib", f"the memory budget must be above 0 GiB (got {form.memory_gib:g})")
        if not form.model:
            _bad("model", "choose a base model")
        if not form.data:
            _bad("data", "choose a dataset")
        if not ws.exists(form.data) or ws.get(form.data).kind != "dataset":
            _bad("data", f"'{form.data}' is not a dataset artifact of this workspace")
        if starting:
            if not NAME.match(form.name):
                _bad("name", "the output name must be 1-64 letters, digits, '.', '_' or '-', starting with a "
                     f"letter or digit (got '{form.name}')")
            if ws.exists(form.name):
                _bad("name", f"an artifact named '{form.name}' already exists; choose another output name")

    def model_dir(self, form: RunForm, ws: Workspace) -> Path:
        served = {m["ref"] for m in self.models(ws) if m["source"] == "served"}
        if form.model in served:
            return Path(form.model)
        if not ws.exists(form.model) or ws.get(form.model).kind != "model":
            _bad("model", f"'{form.model}' is not a model artifact of this workspace or a served model directory")
        path = ws.get(form.model).path
        if not (path / "config.json").is_file():
            _bad("model", f"'{form.model}' is an adapter or an export, not a base model; merge it first "
                 "(`luban export merge`)")
        return path

    def estimate(self, form: RunForm, ws: Workspace) -> dict[str, Any]:
        """The advisor's memory (GiB per device) and time for the form's plan, and whether it fits."""
        self.check(form, ws)
        dev = self.device()
        memory = form.memory_gib or dev["memory_gib"]
        try:
            dims = advisor.dims_from_dir(self.model_dir(form, ws))
        except (KeyError, ValueError) as err:
            _bad("model", f"cannot read the model's dimensions from its config.json ({err})")
        if form.max_seq_length > dims.context > 0:
            _bad("max_seq_length", f"sequence length {form.max_seq_length} is longer than the model's context "
                 f"({dims.context})")
        plan = advisor.Plan(method=form.method, seq_len=form.max_seq_length, batch=form.batch_size,  # type: ignore[arg-type]
                            grad_accum=form.grad_accum, gradient_checkpointing=form.gradient_checkpointing,
                            dtype="bf16" if dev["kind"] == "cuda" else "fp32", lora_rank=form.lora_rank,
                            device=dev["kind"])
        data = ws.get(form.data)
        tokens = run_tokens(form, train_rows(data.manifest.stats))
        try:
            advice = advisor.advise(dims, plan, memory, dev.get("gpu"), tokens)
        except LubanError as err:  # QLoRA without CUDA
            return {"fits": False, "reason": str(err), "memory_gib": memory, "device": dev, "estimate": None,
                    "seconds": None, "advice": []}
        e = advice.requested
        gib = {part: round(getattr(e, part) / advisor.GIB, 3)
               for part in ("weights", "gradients", "optimizer", "activations", "overhead", "total")}
        reason = None
        if not advice.fits:
            reason = (f"Will not fit: this plan needs {gib['total']:.2f} GiB per device and {dev['name']} has "
                      f"{memory:.2f} GiB")
            if advice.recommended is not None:
                reason += (f"; the advisor suggests {'; then '.join(advice.steps)} "
                           f"({advice.recommended.total / advisor.GIB:.2f} GiB)")
            else:
                reason += "; nothing the advisor tried fits: choose a smaller model, sequence or batch"
        return {"fits": advice.fits, "reason": reason, "memory_gib": round(memory, 2), "device": dev,
                "estimate": gib, "params": e.params, "trainable": e.trainable, "tokens": tokens,
                "seconds": e.seconds_per_epoch,
                "advice": advice.steps if advice.recommended is not None and not advice.fits else []}


def recipe_config(form: RunForm, methods: list[str]) -> dict[str, Any]:
    """The YAML config `luban train RECIPE CONFIG` reads for this form."""
    train: dict[str, Any] = {"lr": form.lr, "epochs": form.epochs, "max_steps": form.max_steps,
                             "batch_size": form.batch_size, "grad_accum": form.grad_accum,
                             "max_seq_length": form.max_seq_length, "save_steps": form.save_steps,
                             "logging_steps": form.logging_steps,
                             "gradient_checkpointing": form.gradient_checkpointing}
    cfg: dict[str, Any] = {"train": train}
    if methods != ["full"]:  # the recipe has a `method` field
        cfg["method"] = form.method
        if form.method != "full":
            cfg["lora"] = {"r": form.lora_rank, "alpha": 2 * form.lora_rank}
    return cfg


def train_rows(stats: dict[str, Any]) -> int | None:
    splits = stats.get("splits")
    if isinstance(splits, dict) and isinstance(splits.get("train"), int):
        return int(splits["train"])
    for key in ("rows", "records_out", "records_in"):
        if isinstance(stats.get(key), int):
            return int(stats[key])
    return None


def run_tokens(form: RunForm, rows: int | None) -> int | None:
    """Tokens the run trains on, counting every sample at full length (an upper bound)."""
    if form.max_steps > 0:
        return form.max_steps * form.batch_size * form.grad_accum * form.max_seq_length
    return int(form.epochs * rows * form.max_seq_length) if rows else None


def discover_recipes() -> list[dict[str, Any]]:
    """The `train.*` stages the CLI knows that take exactly a model and a dataset."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "400", "TERM": "dumb"}
    env.pop("LUBAN_API_KEY", None)
    out = subprocess.run([sys.executable, "-m", "luban.cli.main", "config", "stages"], capture_output=True,
                         text=True, timeout=120, env=env)
    if out.returncode != 0:
        raise ConsoleError(500, f"cannot list the training recipes: {out.stderr.strip()[-300:]}", "recipes")
    found = []
    for line in out.stdout.splitlines():
        m = LINE.match(line.strip())
        if not m:
            continue
        name, summary, inputs = m.group(1), m.group(2).strip(), m.group(3) or ""
        required = {part.split(" (")[0].strip() for part in re.split(r",\s*(?![^()]*\))", inputs)
                    if part.strip() and "optional" not in part}
        if required == {"model", "data"}:
            found.append({"name": name, "summary": summary, "methods": METHODS.get(name, ALL_METHODS)})
    return found


def detect_device() -> dict[str, Any]:
    """This machine's training device: the first CUDA GPU (its memory and, where the advisor knows it, its
    name for the time estimate), else the CPU and its RAM."""
    try:
        import torch

        if torch.cuda.is_available():
            props = torch.cuda.get_device_properties(0)
            return {"kind": "cuda", "name": props.name, "memory_gib": round(props.total_memory / advisor.GIB, 2),
                    "gpu": known_gpu(props.name)}
    except ImportError:
        pass
    return {"kind": "cpu", "name": "CPU", "memory_gib": round(psutil.virtual_memory().total / advisor.GIB, 2),
            "gpu": None}


def known_gpu(device_name: str) -> str | None:
    """The advisor's GPU entry for a CUDA device name ("NVIDIA H100 80GB HBM3" -> "H100-80G"): the longest
    model number in the name (H200 before H20, A100 before A10), told apart by memory where it has two."""
    upper = device_name.upper().replace(" ", "")
    hits = [key for key in advisor.GPUS if key.split("-")[0] in upper]
    if not hits:
        return None
    longest = max(len(key.split("-")[0]) for key in hits)
    hits = [key for key in hits if len(key.split("-")[0]) == longest]
    sized = [key for key in hits if key.split("-")[1] in upper]  # "80G" in "80GB"
    return sized[0] if len(sized) == 1 else hits[0] if len(hits) == 1 else None


def _bad(field: str, message: str) -> NoReturn:
    raise ConsoleError(400, message[0].upper() + message[1:] + ".", f"invalid_{field}")


def _choices(art: Any, names: list[str]) -> list[tuple[str, str]]:
    """(ref, label) for each name an artifact goes by, so that the name a user gave is in the list even when the
    same content was stored earlier under another name (`models.import` of one folder twice); unnamed: its id."""
    if not names:
        return [(art.short_id, art.short_id)]
    return [(n, n if len(names) == 1 else f"{n} (= {', '.join(m for m in names if m != n)})") for n in names]
