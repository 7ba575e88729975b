"""Quantized variants of a model: torch int8 (CPU), bitsandbytes 4/8-bit (CUDA), GGUF types, ONNX int8.

    luban compress quantize acme-chat --method gguf-q4_K_M --name acme-q4

Design choices:
- One stage, `compress.quantize`, with a `method`; each method is the field's own tool, not ours:
  torch's `quantize_dynamic` (format: `luban.models.quantized`), bitsandbytes through transformers'
  `BitsAndBytesConfig`, llama.cpp's quantizer, ONNX Runtime's `quantize_dynamic`.
- GGUF quantization calls `llama_model_quantize` in the llama-cpp-python wheel that `make gguf` builds
  from the vendored llama.cpp: the same C++ code as the `llama-quantize` tool, without a second build.
  A Hugging Face input is converted to GGUF f16 first (`gguf_export`), an ONNX input is exported first.
- A method the hardware lacks is refused before any work (bitsandbytes without CUDA; torch int8 without
  an fbgemm / onednn CPU engine).
- Every variant is loaded back and compared with its parent (`delta.compare_with_parent`), and the
  figures go into the manifest's stats.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from luban.compress.delta import compare_with_parent
from luban.compress.gguf_export import export_gguf, find_converter
from luban.compress.onnx_export import SIDE_FILES, export_onnx
from luban.core.artifact import Artifact, artifact_parent
from luban.core.config import StageConfig, WorkPath, dump_config
from luban.core.errors import LubanError, UsageError
from luban.core.workspace import Workspace
from luban.models.loading import load_causal_lm
from luban.models.quantized import INT8_WEIGHTS, METHOD, QUANT_FILE, int8_state, quantize_linears

Method = Literal["torch-int8", "bnb-4bit", "bnb-8bit", "gguf-f16", "gguf-q8_0", "gguf-q4_K_M", "gguf-q5_K_M",
                 "onnx-int8"]
METHODS: tuple[str, ...] = Method.__args__  # type: ignore[attr-defined]
# llama.cpp's llama_ftype values (include/llama.h), the numbers `llama-quantize` takes.
GGUF_FTYPES = {"f16": 1, "q8_0": 7, "q4_K_M": 15, "q5_K_M": 17}


def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def copy_side_files(src: Path, dst: Path) -> None:
    for name in SIDE_FILES:
        if (Path(src) / name).is_file():
            shutil.copy2(Path(src) / name, Path(dst) / name)


def check_hardware(method: str) -> None:
    """Refuse a method this machine cannot run, in one line that says what would."""
    import torch

    if method.startswith("bnb-") and not torch.cuda.is_available():
        raise UsageError(f"{method} needs a CUDA GPU (bitsandbytes quantizes on the GPU) and this machine has none",
                         "on CPU use --method torch-int8, onnx-int8 or gguf-q4_K_M")
    if method == "torch-int8" and not (set(torch.backends.quantized.supported_engines) & {"fbgemm", "onednn",
                                                                                           "x86", "qnnpack"}):
        raise UsageError("torch-int8 needs a quantized CPU engine (fbgemm/onednn) that this torch build lacks",
                         "use --method onnx-int8 or gguf-q8_0")


def linear_names(model: Any) -> list[str]:
    """The Linear layers inside the transformer blocks (the LM head stays full precision)."""
    import torch

    head = model.get_output_embeddings()
    return [n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear) and m is not head]


def torch_int8(model_dir: Path, out: Path) -> dict[str, Any]:
    """Dynamic int8 quantization of every Linear but the head; written in `luban.models.quantized`'s format."""
    import torch
    from safetensors.torch import save_file

    model = load_causal_lm(Path(model_dir), dtype="float32", device="cpu")
    modules = linear_names(model)
    quantize_linears(model, modules)
    out.mkdir(parents=True, exist_ok=True)
    save_file(int8_state(model, modules), str(out / INT8_WEIGHTS))
    (out / QUANT_FILE).write_text(json.dumps({"method": METHOD, "modules": modules, "torch": torch.__version__},
                                             indent=1))
    copy_side_files(model_dir, out)
    return {"format": "torch-int8-dynamic", "quantized_linears": len(modules)}


def bnb(model_dir: Path, out: Path, bits: int) -> dict[str, Any]:
    """bitsandbytes NF4 (bits=4, double quantization, bf16 compute) or LLM.int8 (bits=8), saved by transformers."""
    try:
        import bitsandbytes  # noqa: F401
    except ImportError as err:
        raise UsageError("bitsandbytes is not installed", "pip install 'luban[qlora]' on a CUDA machine") from err
    import torch
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    cfg = (BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=torch.bfloat16) if bits == 4 else
           BitsAndBytesConfig(load_in_8bit=True))
    model = AutoModelForCausalLM.from_pretrained(model_dir, quantization_config=cfg, device_map="cuda")
    model.save_pretrained(out)
    copy_side_files(model_dir, out)
    return {"format": f"bitsandbytes-{bits}bit"}


def gguf_architectures(llama_cpp_dir: str | Path | None = None) -> list[str]:
    """The Hugging Face architectures llama.cpp's converter registers (read from its source, not imported)."""
    root = find_converter(llama_cpp_dir)
    names: set[str] = set()
    for f in [root / "convert_hf_to_gguf.py", *sorted((root / "conversion").glob("*.py"))]:
        for args in re.findall(r"register\(([^)]*)\)", f.read_text(errors="replace")):
            names.update(re.findall(r"\"([A-Za-z0-9_]+)\"", args))
    return sorted(names)


def check_gguf_architecture(model_dir: Path, llama_cpp_dir: str | Path | None = None) -> None:
    config = json.loads((Path(model_dir) / "config.json").read_text())
    known = gguf_architectures(llama_cpp_dir)
    archs = config.get("architectures") or []
    missing = [a for a in archs if a not in known]
    if not archs or missing:
        raise UsageError(f"GGUF export does not support architecture {', '.join(missing or ['(none in config.json)'])}",
                         f"llama.cpp converts: {', '.join(known)}")


def gguf_quantize(src: Path, dst: Path, kind: str) -> None:
    """llama.cpp's quantizer (`llama-quantize src dst KIND`) through llama-cpp-python's binding."""
    try:
        import llama_cpp
    except ImportError as err:
        raise UsageError("GGUF quantization needs llama-cpp-python", "make gguf (or pip install 'luban[gguf]')") from err
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = GGUF_FTYPES[kind]
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), params)
    if rc != 0 or not dst.is_file():
        raise LubanError(f"llama.cpp could not quantize {src.name} to {kind} (code {rc})",
                         "check that the GGUF file loads: luban serve <it>")


def gguf(model_dir: Path, out: Path, kind: str, llama_cpp_dir: str | Path | None = None) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    existing = sorted(Path(model_dir).glob("*.gguf"))
    with tempfile.TemporaryDirectory() as tmp:
        if existing:
            source = existing[0]
        else:
            check_gguf_architecture(model_dir, llama_cpp_dir)
            source = Path(tmp) / "model-f16.gguf"
            export_gguf(model_dir, source, "f16", llama_cpp_dir)
        target = out / f"model-{kind}.gguf"
        if kind == "f16" and not existing:
            shutil.move(source, target)
        else:
            gguf_quantize(source, target, kind)
    return {"format": "gguf", "gguf_type": kind}


def onnx_int8(model_dir: Path, out: Path) -> dict[str, Any]:
    """ONNX Runtime dynamic quantization (int8 weights of MatMul, per channel) of the exported graph."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(model_dir) / "model.onnx"
        if not source.is_file():
            export_onnx(Path(model_dir), Path(tmp))
            source = Path(tmp) / "model.onnx"
        quantize_dynamic(str(source), str(out / "model.onnx"), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"])
    copy_side_files(model_dir, out)
    return {"format": "onnx", "quantization": "onnxruntime-dynamic-int8"}


def quantize(model_dir: Path, out: Path, method: str, llama_cpp_dir: str | Path | None = None) -> dict[str, Any]:
    """Write the `method` variant of `model_dir` into `out`; returns its stats (without the comparison)."""
    if method not in METHODS:
        raise UsageError(f"unknown quantization method '{method}'", f"methods: {', '.join(METHODS)}")
    check_hardware(method)
    if method == "torch-int8":
        return torch_int8(model_dir, out)
    if method.startswith("bnb-"):
        return bnb(model_dir, out, int(method[4]))
    if method.startswith("gguf-"):
        return gguf(model_dir, out, method[5:], llama_cpp_dir)
    return onnx_int8(model_dir, out)


class QuantizeConfig(StageConfig):
    method: Method = Field(description="torch-int8 | bnb-4bit | bnb-8bit | gguf-f16 | gguf-q8_0 | gguf-q4_K_M | "
                                       "gguf-q5_K_M | onnx-int8")
    compare: bool = Field(True, description="load the variant back and report its perplexity delta vs the parent")
    llama_cpp_dir: WorkPath | None = None  # llama.cpp's converter (else $LLAMA_CPP_DIR): used, not hashed


def quantize_stage(cfg: QuantizeConfig, ws: Workspace, inputs: dict[str, Artifact],
                   name: str | None = None) -> Artifact:
    """Pipeline stage `compress.quantize`: model artifact -> quantized model artifact (lineage: source)."""
    src = inputs["model"]
    check_hardware(cfg.method)
    with ws.create("model", name, "compress.quantize", dump_config(cfg),
                   parents=[artifact_parent(src, "source")]) as p:
        p.stats.update(quantize(src.path, p.path, cfg.method, cfg.llama_cpp_dir))
        p.stats.update(method=cfg.method, bytes=dir_bytes(p.path), parent_bytes=dir_bytes(src.path))
        if cfg.compare and not cfg.method.startswith("bnb-") and (src.path / "config.json").is_file() \
                and not list(src.path.glob("*.gguf")) and not (src.path / "model.onnx").is_file():
            p.stats.update(compare_with_parent(src.path, p.path))
    assert p.result is not None
    return p.result
