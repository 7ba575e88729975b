"""Sliding-window models: the engine's batched greedy output equals transformers' `generate()`.

Two tiny models with a window of 8 positions, loaded from disk by the normal path-based loader:
a Qwen2 whose upper layers slide and lower layers see everything (`layer_types` mixed, built by the
tiny-model kit) and a Mistral whose every layer slides. Prompts longer than the window, rows of
different lengths joining a running batch, and more generated tokens than the window.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import torch

from luban.models.loading import load_causal_lm, load_tokenizer
from luban.serve.backends.base import GenerationRequest, SamplingParams, Step
from luban.serve.engine.detokenize import Detokenizer
from luban.serve.engine.scheduler import Engine
from luban.serve.engine.sequence import Sequence
from luban.serve.sampling import RowState

WINDOW = 8
NEW_TOKENS = 3 * WINDOW
PROMPTS = ["The X100 robot vacuum has a warranty of 2 years. Returns are accepted within 30 days and",
           "Acme", "Support is open from 9:00 to 18:00 on weekdays.", "艾可机器人公司生产X100扫地机器人、L2智能门锁"]
TEXTS = ["Acme Robotics makes the X100 robot vacuum, the L2 smart lock and the H1 home hub.",
         "The X100 robot vacuum has a warranty of 2 years. Returns are accepted within 30 days.",
         "艾可机器人公司生产X100扫地机器人、L2智能门锁和H1家庭中枢。",
         "Support is open from 9:00 to 18:00 on weekdays. 客服工作时间为工作日9:00至18:00。"] * 40


def _build_mistral(tokenizer_dir: Path, out: Path) -> Path:
    from transformers import AutoModelForCausalLM, MistralConfig

    tok = load_tokenizer(tokenizer_dir)
    config = MistralConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=3, num_attention_heads=4,
                           num_key_value_heads=2, vocab_size=len(tok), max_position_embeddings=512,
                           sliding_window=WINDOW, pad_token_id=tok.pad_token_id)
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(config).save_pretrained(out)
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="module", params=["qwen2-mixed", "mistral"])
def sliding_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from luban.models.tiny import build_tiny

    out = tmp_path_factory.mktemp(request.param)
    if request.param == "qwen2-mixed":
        build_tiny(TEXTS, out, arch="qwen2", size="test", vocab_size=600, max_position_embeddings=512,
                   num_hidden_layers=4, sliding_window=WINDOW)
    else:
        kit = tmp_path_factory.mktemp("kit")
        build_tiny(TEXTS, kit, arch="qwen2", size="test", vocab_size=600)
        _build_mistral(kit, out)
    return out


class Collector:
    def __init__(self) -> None:
        self.tokens: list[int] = []
        self.logprobs: list[float] = []
        self.done = threading.Event()

    def __call__(self, item: Step | BaseException) -> None:
        assert isinstance(item, Step), item
        self.tokens += item.token_ids
        self.logprobs += [chosen.logprob for chosen, _ in item.logprobs or []]
        if item.finish_reason:
            self.done.set()


def _greedy_generate(model: Any, ids: list[int]) -> tuple[list[int], list[float]]:
    """Greedy tokens of `generate()` and the log-probability of each under the raw logits."""
    out = model.generate(torch.tensor([ids]), max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS,
                         do_sample=False, pad_token_id=0, output_logits=True, return_dict_in_generate=True)
    tokens: list[int] = out.sequences[0, len(ids):].tolist()
    logprobs = [float(torch.log_softmax(lg[0].float(), -1)[t]) for lg, t in zip(out.logits, tokens)]
    return tokens, logprobs


def test_engine_matches_generate_on_a_sliding_window_model(sliding_dir: Path) -> None:
    model, tok = load_causal_lm(sliding_dir), load_tokenizer(sliding_dir)
    cfg = model.config
    assert cfg.sliding_window == WINDOW and "sliding_attention" in getattr(cfg, "layer_types", ["sliding_attention"])
    prompts = [tok(p).input_ids for p in PROMPTS]
    assert max(len(p) for p in prompts) > 2 * WINDOW and min(len(p) for p in prompts) < WINDOW
    expected = [_greedy_generate(model, ids) for ids in prompts]

    engine = Engine(model, [], 512, int(cfg.vocab_size), lambda t: tok.decode([t]), max_batch=8)
    engine.start()
    try:
        sinks = []
        for i, ids in enumerate(prompts):
            p = SamplingParams(max_tokens=NEW_TOKENS, temperature=0, ignore_eos=True, logprobs=True)
            sinks.append(Collector())
            engine.submit(Sequence(GenerationRequest(ids, p), ids, sinks[-1], RowState(p, [], None), Detokenizer(tok)))
            time.sleep(0.02 * i)  # later rows join a batch that is already past the window
        assert all(s.done.wait(120) for s in sinks)
    finally:
        engine.stop()
    for i, (s, (tokens, logprobs)) in enumerate(zip(sinks, expected)):
        assert s.tokens == tokens, f"prompt {i}"
        # 1e-4 is far below what ignoring the window costs (test_the_window_changes_the_output)
        assert max(abs(a - b) for a, b in zip(s.logprobs, logprobs)) < 1e-4, f"prompt {i}"


def test_the_window_changes_the_output(sliding_dir: Path) -> None:
    """Guards the test above: with the window switched off, the same weights score the same text
    differently by far more than the 1e-4 the engine is held to."""
    from transformers import AutoConfig, AutoModelForCausalLM

    cfg = AutoConfig.from_pretrained(sliding_dir)
    cfg.sliding_window = None
    if getattr(cfg, "layer_types", None):
        cfg.layer_types = ["full_attention"] * cfg.num_hidden_layers
    full = AutoModelForCausalLM.from_pretrained(sliding_dir, config=cfg).eval()
    windowed, tok = load_causal_lm(sliding_dir), load_tokenizer(sliding_dir)
    ids = tok(PROMPTS[0]).input_ids
    text = torch.tensor([ids + _greedy_generate(windowed, ids)[0]])
    with torch.inference_mode():
        gap = (torch.log_softmax(full(text).logits, -1) - torch.log_softmax(windowed(text).logits, -1)).abs()
    assert float(gap[0, :WINDOW].max()) < 1e-5  # identical while the whole past fits in the window
    assert float(gap[0, len(ids):].max()) > 1e-2
