"""Structured pruning: layers dropped by measured block influence (never the first or last), MLPs narrowed by
activation-aware magnitude; the result is a plain HF directory that loads, is served, and reports its drift."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from luban.compress.prune import PruneConfig, layers_to_drop, prune_stage
from luban.core.errors import UsageError
from luban.models.loading import ImportConfig, import_stage, load_causal_lm
from luban.models.tiny import build_tiny
from luban.serve.backends.base import GenerationRequest, ModelSpec, SamplingParams

TEXTS = ["Acme robots clean floors and answer questions about warranties."] * 30 + ["艾可机器人公司生产扫地机器人。"] * 10


@pytest.fixture(scope="module")
def four_layers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny4")
    build_tiny(TEXTS, out, arch="qwen2", size="test", vocab_size=600, max_position_embeddings=512, num_hidden_layers=4)
    return out


def test_drops_the_least_influential_inner_layer_and_narrows_mlps(ws: Any, four_layers: Path) -> None:
    from luban.serve.backends.hf import HFBackend

    base = import_stage(ImportConfig(path=str(four_layers)), ws, name="base")
    art = prune_stage(PruneConfig(drop_layers=1, mlp_keep=0.5), ws, {"model": base}, name="pruned")
    stats = art.manifest.stats
    scores = stats["layer_scores"]
    inner = [s for s in scores[1:-1]]
    assert stats["dropped_layers"] == [min(inner, key=lambda s: s["block_influence"])["layer"]]
    assert all(0 <= s["block_influence"] <= 2 for s in inner) and scores[-1]["block_influence"] is None
    model = load_causal_lm(art.path)
    assert model.config.num_hidden_layers == 3 and len(model.model.layers) == 3
    assert model.config.intermediate_size == 64 and model.model.layers[0].mlp.down_proj.in_features == 64
    assert stats["parameters"] < stats["parameters_before"]
    assert stats["perplexity"] > 0 and "perplexity_delta_pct" in stats and 0 <= stats["top1_agreement"] <= 1
    assert art.parent("source").id == base.id

    async def collect(backend: Any) -> list[int]:
        req = GenerationRequest("Acme", SamplingParams(max_tokens=5, temperature=0, ignore_eos=True))
        return [t async for s in backend.generate(req) for t in s.token_ids]

    backend = HFBackend(ModelSpec("pruned", str(art.path), "hf"))
    backend.load()
    try:
        assert len(asyncio.run(collect(backend))) == 5  # the KV cache works with renumbered layers
    finally:
        asyncio.run(backend.aclose())


def test_never_drops_first_or_last_and_refuses_too_many() -> None:
    scores = [{"layer": i, "block_influence": v} for i, v in enumerate([0.01, 0.5, 0.2, None])]
    assert layers_to_drop(scores, 1) == [2]
    assert layers_to_drop(scores, 2) == [1, 2]
    with pytest.raises(UsageError, match="cannot drop 3 of 4 layers"):
        layers_to_drop(scores, 3)


def test_pruning_nothing_is_refused(ws: Any, tiny_model_dir: Path) -> None:
    base = import_stage(ImportConfig(path=str(tiny_model_dir)), ws, name="base")
    with pytest.raises(UsageError, match="removes nothing"):
        prune_stage(PruneConfig(drop_layers=0, mlp_keep=1.0), ws, {"model": base})
