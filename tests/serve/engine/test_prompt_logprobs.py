"""The engine's prompt logprobs (echo with logprobs) equal a plain forward's, whatever the prompt shares a batch with."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import torch

from luban.serve.backends.base import GenerationRequest, SamplingParams, Step
from luban.serve.engine.detokenize import Detokenizer
from luban.serve.engine.scheduler import Engine
from luban.serve.engine.sequence import Sequence
from luban.serve.sampling import RowState

PROMPTS = ["Acme Robotics makes robot vacuums.", "艾可的保修期是两年。", "Support is open from 9:00 to 18:00 on weekdays"]


@pytest.fixture(scope="module")
def lm(tiny_model_dir: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(1)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() >= 2:
                p.normal_(0, 0.2)
    return model, AutoTokenizer.from_pretrained(tiny_model_dir)


class Collector:
    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.done = threading.Event()

    def __call__(self, item: Step | BaseException) -> None:
        assert isinstance(item, Step), item
        self.steps.append(item)
        if item.finish_reason:
            self.done.set()


def _submit(engine: Engine, tok: Any, prompt: str, max_tokens: int, top: int | None) -> Collector:
    sink = Collector()
    p = SamplingParams(max_tokens=max_tokens, temperature=0, ignore_eos=True, prompt_logprobs=top)
    engine.submit(Sequence(GenerationRequest(prompt, p), tok(prompt).input_ids, sink, RowState(p, [], None),
                           Detokenizer(tok)))
    return sink


def test_prompt_logprobs_equal_a_plain_forward(lm: tuple[Any, Any]) -> None:
    model, tok = lm
    engine = Engine(model, [], 512, model.config.vocab_size, lambda t: tok.decode([t]), max_batch=8,
                    prefix_cache=2**24)
    engine.start()
    try:
        plain = [_submit(engine, tok, p * 2, 6, None) for p in PROMPTS]  # decoding while the scored ones join
        scored = [_submit(engine, tok, p, 0 if i == 0 else 1, 2) for i, p in enumerate(PROMPTS)]
        for sink in plain + scored:
            assert sink.done.wait(60)
        assert engine.occupancy().prefix_queries == len(PROMPTS)  # scored prompts never use the prefix cache
    finally:
        engine.stop()
    for prompt, sink in zip(PROMPTS, scored):
        ids = tok(prompt).input_ids
        with torch.no_grad():
            ref = torch.log_softmax(model(torch.tensor([ids])).logits[0].float(), -1)
        first = sink.steps[0]
        assert first.prompt_logprobs is not None and first.token_ids == [] and first.completion_tokens == 0
        entries = first.prompt_logprobs
        assert len(entries) == len(ids)
        assert entries[0].logprob is None and entries[0].top is None
        expected = [float(ref[k - 1, ids[k]]) for k in range(1, len(ids))]
        assert [e.logprob for e in entries[1:]] == pytest.approx(expected, abs=1e-4)
        for k, e in enumerate(entries[1:], start=1):
            assert e.top is not None and len(e.top) == 2
            assert e.top[0].logprob == pytest.approx(float(ref[k - 1].max()), abs=1e-4)
        assert "".join(e.token for e in entries) == tok.decode(ids, skip_special_tokens=True)
    assert scored[0].steps[0].finish_reason == "length" and len(scored[0].steps) == 1  # max_tokens 0
    assert [len(s.steps) for s in scored[1:]] == [2, 2] and all(len(s.steps[1].token_ids) == 1 for s in scored[1:])


def test_scoring_a_prompt_reserves_memory_for_its_logits(lm: tuple[Any, Any]) -> None:
    model, tok = lm
    engine = Engine(model, [], 512, model.config.vocab_size, lambda t: tok.decode([t]))
    assert engine.sequence_bytes(100, 1, scores_prompt=True) - engine.sequence_bytes(100, 1) >= (
        4 * model.config.vocab_size * 100)
