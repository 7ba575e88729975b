"""Export a causal LM to ONNX with its KV cache, for ONNX Runtime serving (`luban.serve.backends.onnx`).

Design choices:
- The graph follows the naming Hugging Face Optimum uses for decoder models, so a directory exported by
  `optimum-cli export onnx` loads in the same backend: inputs `input_ids`, `attention_mask` (past +
  new tokens), `position_ids`, `past_key_values.{i}.key|value` [batch, kv_heads, past, head_dim];
  outputs `logits` and `present.{i}.key|value`. One graph serves prefill (past of length 0) and decode.
- We export ourselves instead of through Optimum: optimum-onnx 0.1 pins transformers < 4.58 and Luban
  runs transformers 5. A 20-line wrapper turns flat cache tensors into a `DynamicCache` and back.
- We use torch's TorchScript exporter (`dynamo=False`): on the tiny model it takes ~1.5 s where the
  torch.export path takes ~40 s, and its graph matches transformers' logits to 1e-6 (tested).
  The example inputs hold left padding and a non-empty past, so the traced graph keeps the general
  masking path (a traced all-ones mask could let transformers skip the mask and bake that in).
- An adapter directory is merged into its base first; the result is a plain float32 model.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Any

from luban.core.artifact import Artifact, artifact_parent
from luban.core.config import StageConfig, dump_config
from luban.core.workspace import Workspace

# Files copied next to model.onnx so the directory is self-contained (tokenizer, chat template, config).
SIDE_FILES = ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
              "special_tokens_map.json", "chat_template.jinja", "tokenizer.model", "vocab.json", "merges.txt")
OPSET = 17


def input_names(num_layers: int) -> list[str]:
    past = [f"past_key_values.{i}.{kv}" for i in range(num_layers) for kv in ("key", "value")]
    return ["input_ids", "attention_mask", "position_ids", *past]


def output_names(num_layers: int) -> list[str]:
    return ["logits", *[f"present.{i}.{kv}" for i in range(num_layers) for kv in ("key", "value")]]


def _wrapper(model: Any, num_layers: int) -> Any:
    import inspect

    import torch
    from transformers.cache_utils import DynamicCache

    # transformers 5 calls the cache argument `cache`; 4.x called it `past_key_values`.
    cache_kw = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"

    class CausalLMWithCache(torch.nn.Module):
        """Flat tensors in, flat tensors out: what an ONNX graph can carry."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, position_ids: Any, *past: Any) -> tuple[Any, ...]:
            # No `config`: every layer keeps its whole past, also a sliding-window layer (whose window the
            # model's own mask applies). With the config, a window layer would return only its last
            # `sliding_window - 1` positions, so layers would disagree in length with `attention_mask`.
            cache = DynamicCache(ddp_cache_data=[(past[2 * i], past[2 * i + 1]) for i in range(num_layers)])
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                             use_cache=True, **{cache_kw: cache})
            present: list[Any] = []
            for layer in out.past_key_values.layers:
                present += [layer.keys, layer.values]
            return (out.logits, *present)

    return CausalLMWithCache().eval()


def export_onnx(model_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Write `out_dir/model.onnx` plus tokenizer and config files; returns stats for a manifest."""
    import torch

    from luban.models.loading import load_causal_lm

    model = load_causal_lm(Path(model_dir), dtype="auto", device="cpu")
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    cfg = model.config.get_text_config()
    layers, kv_heads = int(cfg.num_hidden_layers), int(cfg.num_key_value_heads)
    head_dim = int(getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads)
    batch, new, past_len = 2, 5, 3
    ids = torch.randint(0, int(cfg.vocab_size), (batch, new))
    mask = torch.ones(batch, past_len + new, dtype=torch.long)
    mask[1, :2] = 0  # left padding in the second row
    positions = (mask.cumsum(-1) - 1).clamp(min=0)[:, past_len:]
    past = [torch.randn(batch, kv_heads, past_len, head_dim) for _ in range(2 * layers)]
    names_in, names_out = input_names(layers), output_names(layers)
    axes: dict[str, dict[int, str]] = {"input_ids": {0: "batch", 1: "sequence"},
                                       "attention_mask": {0: "batch", 1: "total_sequence"},
                                       "position_ids": {0: "batch", 1: "sequence"},
                                       "logits": {0: "batch", 1: "sequence"}}
    for n in names_in[3:]:
        axes[n] = {0: "batch", 2: "past_sequence"}
    for n in names_out[1:]:
        axes[n] = {0: "batch", 2: "total_sequence"}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # The tracer warns about every Python-side constant (e.g. the cache's empty initial tensor); the
    # graph is checked numerically against transformers in tests instead.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(_wrapper(model, layers), (ids, mask, positions, *past), str(out_dir / "model.onnx"),
                          input_names=names_in, output_names=names_out, dynamic_axes=axes,
                          opset_version=OPSET, dynamo=False)
    for name in SIDE_FILES:
        if (Path(model_dir) / name).is_file():
            shutil.copy2(Path(model_dir) / name, out_dir / name)
    return {"format": "onnx", "opset": OPSET, "num_layers": layers, "kv_heads": kv_heads, "head_dim": head_dim,
            "parameters": sum(p.numel() for p in model.parameters()),
            "bytes": sum(f.stat().st_size for f in out_dir.glob("model.onnx*"))}


class OnnxExportConfig(StageConfig):
    """No knobs yet: the graph is float32 with a KV cache, opset 17."""


def onnx_stage(cfg: OnnxExportConfig, ws: Workspace, inputs: dict[str, Artifact],
               name: str | None = None) -> Artifact:
    """Pipeline stage `compress.onnx`: model artifact -> model artifact holding model.onnx + tokenizer."""
    src = inputs["model"]
    with ws.create("model", name, "compress.onnx", dump_config(cfg), parents=[artifact_parent(src, "source")]) as p:
        p.stats.update(export_onnx(src.path, p.path))
    assert p.result is not None
    return p.result
