"""Continuous batching gives the same tokens as one-at-a-time `generate()`, whatever joins or leaves."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import torch

from luban.serve.backends.base import GenerationRequest, QueueFull, SamplingParams, Step
from luban.serve.engine.detokenize import Detokenizer
from luban.serve.engine.scheduler import Engine
from luban.serve.engine.sequence import Sequence
from luban.serve.sampling import RowState

PROMPTS = ["Acme Robotics makes", "The X100 robot vacuum has a warranty of 2 years. Returns are", "艾可",
           "Support is open from 9:00 to 18:00 on weekdays and"]


@pytest.fixture(scope="module")
def lm(tiny_model_dir: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return (AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval(),
            AutoTokenizer.from_pretrained(tiny_model_dir))


class Collector:
    def __init__(self) -> None:
        self.tokens: list[int] = []
        self.steps: list[Step] = []
        self.done = threading.Event()

    def __call__(self, item: Step | BaseException) -> None:
        assert isinstance(item, Step), item
        self.steps.append(item)
        self.tokens += item.token_ids
        if item.finish_reason:
            self.done.set()


def _seq(tok: Any, prompt: str, n: int, sink: Collector, **kw: Any) -> Sequence:
    p = SamplingParams(max_tokens=n, temperature=0, ignore_eos=True, **kw)
    return Sequence(GenerationRequest(prompt, p), tok(prompt).input_ids, sink, RowState(p, [], None), Detokenizer(tok))


def test_batched_greedy_equals_generate_with_staggered_joins(lm: tuple[Any, Any]) -> None:
    model, tok = lm
    n = 12
    expected = []
    for p in PROMPTS:
        ids = tok(p, return_tensors="pt").input_ids
        out = model.generate(ids, max_new_tokens=n, min_new_tokens=n, do_sample=False, pad_token_id=0)
        expected.append(out[0, ids.shape[1]:].tolist())
    engine = Engine(model, [], 512, model.config.vocab_size, lambda t: tok.decode([t]), max_batch=8)
    engine.start()
    try:
        sinks = []
        for i, p in enumerate(PROMPTS * 2):
            sinks.append(Collector())
            engine.submit(_seq(tok, p, n if i < 4 else n // 2 + i, sinks[-1]))
            time.sleep(0.003 * i)  # later requests join a batch that is already decoding
        for s in sinks:
            assert s.done.wait(60)
    finally:
        engine.stop()
    for i, s in enumerate(sinks[:4]):
        assert s.tokens == expected[i], f"prompt {i}"
    assert sinks[0].steps[-1].completion_tokens == n and sinks[0].steps[-1].finish_reason == "length"
    text = "".join(st.text for st in sinks[0].steps)
    assert text == tok.decode(expected[0], skip_special_tokens=True)


def test_cancelled_sequence_leaves_the_batch(lm: tuple[Any, Any]) -> None:
    model, tok = lm
    engine = Engine(model, [], 512, model.config.vocab_size, lambda t: tok.decode([t]), max_batch=4)
    engine.start()
    try:
        long, short = Collector(), Collector()
        seq = _seq(tok, PROMPTS[0], 400, long)
        engine.submit(seq)
        engine.submit(_seq(tok, PROMPTS[1], 5, short))
        assert short.done.wait(60)
        seq.cancelled = True
        deadline = time.monotonic() + 30
        while engine.running and time.monotonic() < deadline:
            time.sleep(0.01)
        assert engine.running == [] and not long.done.is_set()
    finally:
        engine.stop()


def test_full_queue_raises_queue_full(lm: tuple[Any, Any]) -> None:
    model, tok = lm
    engine = Engine(model, [], 512, model.config.vocab_size, lambda t: tok.decode([t]), max_batch=1, max_queue=1)
    # not started: nothing is admitted, so the second submit finds the queue full
    engine.submit(_seq(tok, "a", 1, Collector()))
    with pytest.raises(QueueFull) as e:
        engine.submit(_seq(tok, "b", 1, Collector()))
    assert e.value.retry_after >= 1


def test_eos_and_deadline_finish_sequences(lm: tuple[Any, Any]) -> None:
    model, tok = lm
    probe = Collector()
    engine = Engine(model, [], 512, model.config.vocab_size, lambda t: tok.decode([t]))
    engine.start()
    try:
        engine.submit(_seq(tok, PROMPTS[0], 3, probe))
        assert probe.done.wait(60)
        stop_tok = probe.tokens[1]  # declared a stop token: generation ends at its first occurrence
        stopper = Collector()
        engine.submit(_seq(tok, PROMPTS[0], 10, stopper, stop_token_ids=(stop_tok,)))
        assert stopper.done.wait(60)
        assert stopper.steps[-1].finish_reason == "stop"
        assert stopper.steps[-1].completion_tokens == probe.tokens.index(stop_tok) + 1
        late = Collector()
        s = _seq(tok, PROMPTS[0], 400, late)
        s.request.deadline = time.monotonic() - 1
        engine.submit(s)
        assert late.done.wait(60) and late.steps[-1].finish_reason == "length" and len(late.tokens) == 1
    finally:
        engine.stop()


@pytest.mark.gpu
def test_engine_on_cuda_matches_generate(tiny_model_dir: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).to("cuda").eval()
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    ids = tok(PROMPTS[1], return_tensors="pt").input_ids.to("cuda")
    expected = model.generate(ids, max_new_tokens=8, min_new_tokens=8, do_sample=False, pad_token_id=0)
    engine = Engine(model, [], 512, model.config.vocab_size, lambda t: tok.decode([t]))
    engine.start()
    try:
        sinks = [Collector() for _ in PROMPTS]
        for p, s in zip(PROMPTS, sinks):
            engine.submit(_seq(tok, p, 8, s))
        assert all(s.done.wait(60) for s in sinks)
    finally:
        engine.stop()
    assert sinks[1].tokens == expected[0, ids.shape[1]:].tolist()


def test_base_and_adapter_rows_share_a_batch_without_mixing(tiny_model_dir: Path, lora_dir: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    model = PeftModel.from_pretrained(base, str(lora_dir), adapter_name="support").eval()

    def run(adapters: list[str | None]) -> list[list[int]]:
        engine = Engine(model, [], 512, model.config.vocab_size, lambda t: tok.decode([t]), peft=True)
        sinks = [Collector() for _ in adapters]
        for a, s in zip(adapters, sinks):
            seq = _seq(tok, PROMPTS[0], 6, s)
            seq.request.adapter = a
            engine.submit(seq)  # submitted before start: all rows are prefilled in one batch
        engine.start()
        try:
            assert all(s.done.wait(60) for s in sinks)
        finally:
            engine.stop()
        return [s.tokens for s in sinks]

    alone_base, alone_lora = run([None])[0], run(["support"])[0]
    mixed = run([None, "support", None])
    assert alone_base != alone_lora
    assert mixed == [alone_base, alone_lora, alone_base]


def test_adaptive_threads_leave_a_core_to_the_server_at_every_batch_size(lm: tuple[Any, Any]) -> None:
    model, tok = lm
    before = torch.get_num_threads()
    if before < 2:
        pytest.skip("one CPU thread: nothing to adapt")
    seen: list[int] = []  # the thread count at each decoded token (first tokens come from the prefill)
    first: list[int] = []

    class Spy(Collector):
        def __call__(self, item: Step | BaseException) -> None:
            (seen if self.steps else first).append(torch.get_num_threads())
            super().__call__(item)

    engine = Engine(model, [], 512, model.config.vocab_size, lambda t: tok.decode([t]), max_batch=8,
                    adaptive_threads=True)
    engine.start()
    try:
        alone = Spy()
        engine.submit(_seq(tok, PROMPTS[0], 4, alone))
        assert alone.done.wait(60)
        assert first == [before]  # its prefill, with nothing decoding: every core
        assert set(seen) == {before - 1}  # its decode steps: one core left to the HTTP server and the client
        seen.clear()
        first.clear()
        long = Spy()
        engine.submit(_seq(tok, PROMPTS[1], 40, long))
        while not long.steps:
            time.sleep(0.001)
        sinks = [Spy() for _ in PROMPTS]
        for p, s in zip(PROMPTS, sinks):
            engine.submit(_seq(tok, p, 6, s))
        assert all(s.done.wait(60) for s in [*sinks, long])
        assert first[0] == before and set(first[1:]) == {before - 1}  # prefills beside a decoding stream spare it
        assert set(seen) == {before - 1}  # five streams: the same
    finally:
        engine.stop()
    assert torch.get_num_threads() == before  # the process-wide setting is given back
