"""Structured pruning: drop whole decoder layers by a measured importance score, and narrow the MLPs.

    luban compress prune acme-chat --drop-layers 2 --mlp-keep 0.75 --name acme-pruned

Design choices:
- Layer importance is ShortGPT's Block Influence (Men et al. 2024, "ShortGPT: Layers in Large Language
  Models are More Redundant Than You Expect"): BI_l = 1 - mean cos(h_l, h_{l+1}) over the tokens of
  calibration texts, where h_l is the hidden state entering layer l. A layer that barely turns its input
  is the cheapest to remove. We also record the angular distance arccos(cos)/pi of Gromov et al. 2024
  ("The Unreasonable Ineffectiveness of the Deeper Layers"), which ranks single layers the same way.
- The layers with the lowest scores go; the first and last layers are never dropped (both papers find
  them the most important, and the last one feeds the head).
- MLP width: a neuron j of a gated MLP (gate_proj, up_proj, down_proj: Llama, Qwen2, Mistral...) scores
  mean |act_j| * ||W_down[:, j]||, the size of what it writes into the residual stream on the calibration
  texts (activation-aware magnitude, as in Wanda, Sun et al. 2023, at the granularity of a neuron). Each
  layer keeps its top `mlp_keep` fraction, rounded up to a multiple of 8 for the kernels.
- The result is a plain Hugging Face directory (config.json updated) that every backend loads; the lost
  quality can be recovered by distilling the parent into it: a `train.distill` stage with the pruned model
  as `model` and the parent as `teacher` (docs/compression.md).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from pydantic import Field

from luban.compress.delta import DEFAULT_TEXTS, compare_with_parent, encode
from luban.compress.quantize import copy_side_files, dir_bytes
from luban.core.artifact import Artifact, artifact_parent
from luban.core.config import StageConfig, dump_config
from luban.core.errors import UsageError
from luban.core.workspace import Workspace
from luban.models.loading import load_causal_lm


def layer_scores(model: Any, batch: list[list[int]]) -> list[dict[str, Any]]:
    """Block influence and angular distance of every decoder layer on the calibration token ids."""
    import torch

    n = int(model.config.num_hidden_layers)
    cos_sum = [0.0] * n
    count = 0
    with torch.no_grad():
        for ids in batch:
            hs = model(torch.tensor([ids]), output_hidden_states=True).hidden_states
            # hidden_states[l] enters layer l; hidden_states[n] has passed the final norm, so it is not compared
            for layer in range(n - 1):
                cos_sum[layer] += float(torch.nn.functional.cosine_similarity(hs[layer][0], hs[layer + 1][0],
                                                                              dim=-1).sum())
            count += len(ids)
    out: list[dict[str, Any]] = []
    for layer in range(n):
        # the last layer's output is only seen after the final norm: no score (it is never dropped)
        c = cos_sum[layer] / count if layer < n - 1 else None
        out.append({"layer": layer, "block_influence": None if c is None else round(1 - c, 6),
                    "angular_distance": None if c is None else round(math.acos(max(-1.0, min(1.0, c))) / math.pi, 6)})
    return out


def layers_to_drop(scores: list[dict[str, Any]], n: int) -> list[int]:
    """The `n` lowest-influence layers, never the first or the last."""
    inner = [s for s in scores if 0 < s["layer"] < len(scores) - 1]
    if n > len(inner):
        raise UsageError(f"cannot drop {n} of {len(scores)} layers (the first and last stay)",
                         f"drop at most {len(inner)}")
    return sorted(int(s["layer"]) for s in sorted(inner, key=lambda s: s["block_influence"])[:n])


def drop_layers(model: Any, drop: list[int]) -> None:
    import torch

    keep = [layer for i, layer in enumerate(model.model.layers) if i not in set(drop)]
    for i, layer in enumerate(keep):  # the KV cache indexes layers by position
        if hasattr(layer, "self_attn") and hasattr(layer.self_attn, "layer_idx"):
            layer.self_attn.layer_idx = i
    model.model.layers = torch.nn.ModuleList(keep)
    types = getattr(model.config, "layer_types", None)
    if types:
        model.config.layer_types = [t for i, t in enumerate(types) if i not in set(drop)]
    model.config.num_hidden_layers = len(keep)


def shrink_mlps(model: Any, batch: list[list[int]], keep: float) -> int:
    """Keep each gated MLP's most important `keep` fraction of neurons; returns the new width."""
    import torch

    mlps = [layer.mlp for layer in model.model.layers]
    if not all(hasattr(m, a) for m in mlps for a in ("gate_proj", "up_proj", "down_proj")):
        raise UsageError(f"MLP pruning needs gated MLPs (gate_proj/up_proj/down_proj); "
                         f"{type(model).__name__} has others", "prune layers only: --mlp-keep 1")
    width = int(mlps[0].down_proj.in_features)
    new = min(width, max(8, math.ceil(width * keep / 8) * 8))
    acts = [torch.zeros(width) for _ in mlps]

    def record(i: int) -> Any:
        def hook(mod: Any, args: tuple[Any, ...], out: Any) -> None:  # returns None: the output stays as is
            acts[i].add_(args[0].detach().abs().flatten(0, -2).sum(0))

        return hook

    hooks = [m.down_proj.register_forward_hook(record(i)) for i, m in enumerate(mlps)]
    with torch.no_grad():
        for ids in batch:
            model(torch.tensor([ids]))
    for h in hooks:
        h.remove()
    with torch.no_grad():
        for m, a in zip(mlps, acts, strict=True):
            score = a * m.down_proj.weight.norm(dim=0)
            idx = score.topk(new).indices.sort().values
            for name in ("gate_proj", "up_proj"):
                old = getattr(m, name)
                lin = torch.nn.Linear(old.in_features, new, bias=old.bias is not None, dtype=old.weight.dtype)
                lin.weight.copy_(old.weight[idx])
                if old.bias is not None:
                    lin.bias.copy_(old.bias[idx])
                setattr(m, name, lin)
            old = m.down_proj
            lin = torch.nn.Linear(new, old.out_features, bias=old.bias is not None, dtype=old.weight.dtype)
            lin.weight.copy_(old.weight[:, idx])
            if old.bias is not None:
                lin.bias.copy_(old.bias)
            m.down_proj = lin
    model.config.intermediate_size = new
    return new


def prune(model_dir: Path, out: Path, drop: int = 1, mlp_keep: float = 1.0,
          texts: list[str] | tuple[str, ...] = DEFAULT_TEXTS) -> dict[str, Any]:
    """Write the pruned model to `out`; returns stats: scores, dropped layers, widths and parameter counts."""
    model = load_causal_lm(Path(model_dir), dtype="float32", device="cpu")
    before = sum(p.numel() for p in model.parameters())
    batch = encode(model_dir, texts)
    scores = layer_scores(model, batch)
    dropped = layers_to_drop(scores, drop) if drop else []
    drop_layers(model, dropped)
    width = shrink_mlps(model, batch, mlp_keep) if mlp_keep < 1 else int(model.config.intermediate_size)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    copy_side_files(model_dir, out)
    for name in ("config.json",):  # the pruned config, not the parent's
        model.config.to_json_file(out / name)
    return {"format": "hf", "layer_scores": scores, "dropped_layers": dropped, "layers": len(model.model.layers),
            "intermediate_size": width, "parameters_before": before,
            "parameters": sum(p.numel() for p in model.parameters())}


class PruneConfig(StageConfig):
    drop_layers: int = Field(1, ge=0, description="decoder layers to remove (lowest block influence first)")
    mlp_keep: float = Field(1.0, gt=0, le=1, description="fraction of MLP neurons each layer keeps")
    texts: list[str] = Field(default_factory=lambda: list(DEFAULT_TEXTS),
                             description="calibration texts for the importance scores and the comparison")
    compare: bool = True


def prune_stage(cfg: PruneConfig, ws: Workspace, inputs: dict[str, Artifact], name: str | None = None) -> Artifact:
    """Pipeline stage `compress.prune`: model artifact -> pruned model artifact (lineage: source)."""
    src = inputs["model"]
    if cfg.drop_layers == 0 and cfg.mlp_keep >= 1:
        raise UsageError("compress.prune with drop_layers 0 and mlp_keep 1 removes nothing",
                         "set drop_layers >= 1 or mlp_keep < 1")
    with ws.create("model", name, "compress.prune", dump_config(cfg), parents=[artifact_parent(src, "source")]) as p:
        p.stats.update(prune(src.path, p.path, cfg.drop_layers, cfg.mlp_keep, cfg.texts))
        p.stats.update(method="prune", bytes=dir_bytes(p.path), parent_bytes=dir_bytes(src.path))
        if cfg.compare:
            p.stats.update(compare_with_parent(src.path, p.path, cfg.texts))
    assert p.result is not None
    return p.result
