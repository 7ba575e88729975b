"""Path-based loading of models and tokenizers, the same for a tiny model and a real Qwen or Llama.

A model reference is a workspace artifact name/id or a local Hugging Face directory. We check the
directory before handing it to transformers, so that a missing tokenizer or missing weights is one
clear line instead of a stack trace from deep inside `from_pretrained`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from luban.core.artifact import Artifact
from luban.core.config import InputPath, StageConfig, dump_config
from luban.core.errors import NotFoundError, UsageError
from luban.core.hashing import sha256_file
from luban.core.workspace import Workspace
from luban.models.quantized import METHOD as INT8_METHOD
from luban.models.quantized import load_int8_dynamic, quantized_method

TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "tokenizer_config.json")
WEIGHT_GLOBS = ("*.safetensors", "pytorch_model*.bin", "model*.bin")


def resolve_model_dir(ref: str | Path, ws: Workspace | None = None) -> Path:
    """A local directory as is; otherwise a workspace artifact name or id."""
    p = Path(ref)
    if p.is_dir():
        return p
    if ws is not None and ws.exists(str(ref)):
        return ws.get(str(ref)).path
    raise NotFoundError(f"model '{ref}' is neither a directory nor an artifact in the workspace",
                        "give a Hugging Face model directory or a model artifact name (`luban ls`)")


def is_adapter(path: Path) -> bool:
    return (path / "adapter_config.json").is_file()


def adapter_base(adapter: Artifact | Path, ws: Workspace | None = None) -> tuple[Path, Artifact | None]:
    """The base model of a LoRA adapter: its directory and, when the workspace holds it, its artifact.

    Found in the adapter artifact's lineage first (the parent of role "base"), then through
    `base_model_name_or_path` in adapter_config.json: a directory, or an artifact name or id, so an
    adapter trained elsewhere finds its base too. NotFoundError when neither is available."""
    path = adapter.path if isinstance(adapter, Artifact) else Path(adapter)
    if not is_adapter(path):
        raise UsageError(f"{path} is not a LoRA adapter (no adapter_config.json)",
                         "point at the output of `luban train sft` with method lora or qlora")
    art = adapter if isinstance(adapter, Artifact) else _artifact_at(path)
    parent = art.parent("base") if art is not None else None
    if parent is not None and parent.id and ws is not None and ws.exists(parent.id):
        base = ws.get(parent.id)
        return base.path, base
    try:
        conf = json.loads((path / "adapter_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise UsageError(f"cannot read {path / 'adapter_config.json'}: {e}", "fix or re-create the adapter") from None
    ref = str(conf.get("base_model_name_or_path") or "") if isinstance(conf, dict) else ""
    if ref and Path(ref).is_dir():
        return Path(ref), None
    if ref and ws is not None and ws.exists(ref):
        base = ws.get(ref)
        return base.path, base
    name = art.name or art.short_id if art is not None else str(path)
    raise NotFoundError(f"the base model of adapter '{name}' is not available (lineage has none in this "
                        f"workspace, base_model_name_or_path={ref!r})",
                        "import the base model into the workspace (`luban models import`), or fix "
                        "base_model_name_or_path in adapter_config.json")


def _artifact_at(path: Path) -> Artifact | None:
    """The artifact stored at `path`, when it is one (it has a manifest)."""
    return Artifact.load(path) if (path / "manifest.json").is_file() else None


def check_model_dir(path: Path, need_weights: bool = True) -> None:
    """Raise a one-line UsageError when `path` is not a loadable model directory."""
    if not path.is_dir():
        raise NotFoundError(f"model directory {path} does not exist")
    if not (path / "config.json").is_file() and not is_adapter(path):
        raise UsageError(f"{path} has no config.json", "point at a Hugging Face model directory")
    if not any((path / f).is_file() for f in TOKENIZER_FILES):
        raise UsageError(f"model directory {path} has no tokenizer (tokenizer.json / tokenizer_config.json)",
                         "copy the tokenizer files from the base model into it")
    if need_weights and not is_adapter(path) and not any(any(path.glob(g)) for g in WEIGHT_GLOBS):
        raise UsageError(f"model directory {path} has no weights (*.safetensors or pytorch_model.bin)",
                         "point at a directory that holds the model weights")


def load_tokenizer(path: Path) -> Any:
    from transformers import AutoTokenizer

    check_model_dir(path, need_weights=False)
    return AutoTokenizer.from_pretrained(path)


def load_causal_lm(path: Path, dtype: str = "auto", device: str | None = None) -> Any:
    """Load a causal LM (or base + LoRA adapter) from a directory; float32 on CPU unless told."""
    import torch
    from transformers import AutoModelForCausalLM

    check_model_dir(path)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    torch_dtype: Any = torch.float32 if (dtype == "auto" and device == "cpu") else dtype
    if quantized_method(path) == INT8_METHOD:  # torch int8 dynamic: CPU kernels only, float32 activations
        return load_int8_dynamic(path).eval()
    if is_adapter(path):
        from peft import AutoPeftModelForCausalLM

        model = AutoPeftModelForCausalLM.from_pretrained(path, dtype=torch_dtype)
    else:
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype)
    return model.to(device).eval()


def cpu_has_fast_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AMX tiles or AVX512-BF16): there, oneDNN runs bf16
    matmuls about 2x faster than float32; elsewhere torch emulates bf16 and it is slower."""
    import torch

    for probe in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"):
        fn = getattr(torch.cpu, probe, None)
        try:
            if fn is not None and fn():
                return True
        except Exception:  # noqa: BLE001 - a probe that fails means "no"
            continue
    return False


def serving_dtype(dtype: str, device: str | None) -> str:
    """The dtype `luban serve` loads with. `auto` follows vLLM's rule of serving in 16 bits: on a CPU
    with native bf16, bfloat16 (whatever the checkpoint's dtype); on other CPUs float32; on CUDA the
    checkpoint's own dtype. Anything else is used as given."""
    if dtype != "auto":
        return dtype
    import torch

    on_cpu = (device or ("cuda" if torch.cuda.is_available() else "cpu")) == "cpu"
    return "bfloat16" if on_cpu and cpu_has_fast_bf16() else "auto"


class ImportConfig(StageConfig):
    path: InputPath


def import_stage(cfg: ImportConfig, ws: Workspace, inputs: dict[str, Artifact] | None = None,
                 name: str | None = None) -> Artifact:
    """Copy a local Hugging Face model directory into the workspace as a model artifact."""
    import shutil

    src = Path(cfg.path)
    check_model_dir(src)
    files = [f for f in sorted(src.rglob("*")) if f.is_file() and ".cache" not in f.parts]
    from luban.core.artifact import file_parent

    with ws.create("model", name, "models.import", dump_config(cfg),
                   parents=[file_parent(cfg.portable(f), sha256_file(f)) for f in files]) as p:
        for f in files:
            dest = p.path / f.relative_to(src)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, dest)
        p.stats["files"] = len(files)
    assert p.result is not None
    return p.result
