"""Quantized variants: each loads back, stays close to its parent (stats say by how much), and is served by
its backend; methods the hardware lacks and architectures llama.cpp cannot convert are refused in one line."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch

from luban.compress.quantize import (
    QuantizeConfig,
    check_gguf_architecture,
    gguf_architectures,
    quantize_stage,
)
from luban.core.errors import NotFoundError, UsageError
from luban.models.loading import ImportConfig, import_stage, load_causal_lm
from luban.models.quantized import QUANT_FILE
from luban.serve.backends.base import GenerationRequest, ModelSpec, SamplingParams

LLAMA_SRC = Path(__file__).resolve().parents[2] / ".cache" / "llama_cpp_python-0.3.36" / "vendor" / "llama.cpp"


@pytest.fixture
def llama_cpp_dir(monkeypatch: pytest.MonkeyPatch) -> Path:
    where = Path(os.environ.get("LLAMA_CPP_DIR") or LLAMA_SRC)
    if not (where / "convert_hf_to_gguf.py").is_file():
        pytest.skip("needs llama.cpp's convert_hf_to_gguf.py: run `make gguf` (or set LLAMA_CPP_DIR)")
    monkeypatch.setenv("LLAMA_CPP_DIR", str(where))
    return where


@pytest.fixture
def base(ws: Any, tiny_model_dir: Path) -> Any:
    return import_stage(ImportConfig(path=str(tiny_model_dir)), ws, name="base")


def _generate(backend: Any, prompt: str, n: int = 6) -> list[int]:
    async def collect() -> list[int]:
        req = GenerationRequest(prompt, SamplingParams(max_tokens=n, temperature=0, ignore_eos=True))
        return [t async for s in backend.generate(req) for t in s.token_ids]

    backend.load()
    try:
        return asyncio.run(collect())
    finally:
        asyncio.run(backend.aclose())


def test_torch_int8_loads_back_through_load_causal_lm_and_is_served_by_hf(ws: Any, base: Any) -> None:
    from luban.serve.backends.hf import HFBackend

    art = quantize_stage(QuantizeConfig(method="torch-int8"), ws, {"model": base}, name="int8")
    stats = art.manifest.stats
    assert json.loads((art.path / QUANT_FILE).read_text())["method"] == "torch-int8-dynamic"
    assert stats["bytes"] < stats["parent_bytes"] and stats["quantized_linears"] > 0
    assert abs(stats["perplexity_delta_pct"]) < 5 and stats["top1_agreement"] >= 0.8
    assert art.parent("source").id == base.id
    model = load_causal_lm(art.path)
    assert any(type(m).__module__.startswith("torch.ao.nn.quantized") for m in model.modules())
    ids = torch.tensor([[5, 9, 12, 40]])
    with torch.no_grad():
        a = load_causal_lm(base.path)(ids).logits
        b = model(ids).logits
    assert (a - b).abs().max() < 0.05 * a.abs().max()
    tokens = _generate(HFBackend(ModelSpec("int8", str(art.path), "hf")), "Acme robots")
    assert len(tokens) == 6


@pytest.mark.needs("onnxruntime", "pip install 'luban[onnx]'")
def test_onnx_int8_is_smaller_close_and_served_by_onnx_backend(ws: Any, base: Any) -> None:
    from luban.serve.backends.onnx import OnnxBackend

    art = quantize_stage(QuantizeConfig(method="onnx-int8"), ws, {"model": base}, name="onnx-int8")
    stats = art.manifest.stats
    assert (art.path / "model.onnx").is_file() and (art.path / "tokenizer.json").is_file()
    assert abs(stats["perplexity_delta_pct"]) < 5 and stats["kl_from_parent"] < 0.05
    assert len(_generate(OnnxBackend(ModelSpec("q", str(art.path), "onnx")), "Acme robots")) == 6


@pytest.mark.needs("llama_cpp", "make gguf")
@pytest.mark.parametrize("method", ["gguf-q8_0", "gguf-q4_K_M"])
def test_gguf_quantized_by_llama_cpp_and_served_by_llamacpp(ws: Any, base: Any, llama_cpp_dir: Path,
                                                           method: str) -> None:
    from luban.serve.backends.llamacpp import LlamaCppBackend

    art = quantize_stage(QuantizeConfig(method=method), ws, {"model": base}, name=method)
    (gguf,) = art.path.glob("*.gguf")
    assert gguf.read_bytes()[:4] == b"GGUF" and art.manifest.stats["gguf_type"] == method[5:]
    assert abs(art.manifest.stats["perplexity_delta_pct"]) < 10
    assert len(_generate(LlamaCppBackend(ModelSpec("g", str(gguf), "llamacpp")), "Acme robots")) == 6


def test_bitsandbytes_without_cuda_is_refused_before_any_work(ws: Any, base: Any) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the refusal is for CPU-only machines")
    for method in ("bnb-4bit", "bnb-8bit"):
        with pytest.raises(UsageError, match="needs a CUDA GPU") as err:
            quantize_stage(QuantizeConfig(method=method), ws, {"model": base}, name="bnb")
        assert "torch-int8" in (err.value.hint or "")
    with pytest.raises(NotFoundError):  # nothing half-made was left behind
        ws.get("bnb")


def test_unknown_method_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="method"):
        QuantizeConfig(method="int3")  # type: ignore[arg-type]


def test_architecture_llama_cpp_cannot_convert_lists_the_ones_it_can(tiny_model_dir: Path, tmp_path: Path,
                                                                    llama_cpp_dir: Path) -> None:
    known = gguf_architectures()
    assert {"LlamaForCausalLM", "Qwen2ForCausalLM"} <= set(known)
    model = tmp_path / "odd"
    shutil.copytree(tiny_model_dir, model)
    cfg = json.loads((model / "config.json").read_text())
    cfg["architectures"] = ["AcmeForCausalLM"]
    (model / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(UsageError, match="does not support architecture AcmeForCausalLM") as err:
        check_gguf_architecture(model)
    assert "Qwen2ForCausalLM" in (err.value.hint or "") and "LlamaForCausalLM" in (err.value.hint or "")
    check_gguf_architecture(tiny_model_dir)


@pytest.mark.needs("llama_cpp", "make gguf")
def test_a_gguf_llama_cpp_cannot_load_is_scored_to_one_line_not_a_crash(tmp_path: Path) -> None:
    from luban.compress.delta import variant_logits
    from luban.core.errors import LubanError

    bad = tmp_path / "model-q8_0.gguf"
    bad.write_bytes(b"GGUF" + bytes(range(256)) * 8)
    with pytest.raises(LubanError, match=r"llama.cpp failed \(exit 1\) scoring model-q8_0.gguf") as err:
        variant_logits(tmp_path, [[1, 2, 3]])
    assert "\n" not in str(err.value) and "luban serve" in (err.value.hint or "")
