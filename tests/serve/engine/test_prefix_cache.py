"""Prefix caching: a shared prompt prefix is computed once and reused, with the same greedy output as without it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import torch

from luban.serve.backends.base import GenerationRequest, SamplingParams, Step
from luban.serve.engine.detokenize import Detokenizer
from luban.serve.engine.prefix import BLOCK, ENTRY_OVERHEAD, TENSOR_OVERHEAD, PrefixCache, block_hashes
from luban.serve.engine.scheduler import Engine
from luban.serve.engine.sequence import Sequence
from luban.serve.sampling import RowState

SYSTEM = ("You are the support assistant of Acme Robotics. The X100 robot vacuum has a warranty of two years; "
          "returns are accepted within 30 days with the receipt. Support is open from 9:00 to 18:00 on weekdays. ")
QUESTIONS = ["How long is the warranty?", "When is support open?", "Can I return it?", "艾可是什么？",
             "Does the X100 climb stairs?", "Where do I find the receipt?"]


@pytest.fixture(scope="module")
def lm(tiny_model_dir: Path) -> tuple[Any, Any]:
    """The tiny model with larger random weights, so greedy answers vary with the prompt."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() >= 2:
                p.normal_(0, 0.2)
    return model, AutoTokenizer.from_pretrained(tiny_model_dir)


class Collector:
    def __init__(self) -> None:
        self.tokens: list[int] = []
        self.done = threading.Event()

    def __call__(self, item: Step | BaseException) -> None:
        assert isinstance(item, Step), item
        self.tokens += item.token_ids
        if item.finish_reason:
            self.done.set()


def _run(engine: Engine, tok: Any, prompts: list[str], n: int = 10, together: bool = False) -> list[list[int]]:
    sinks = [Collector() for _ in prompts]
    for prompt, sink in zip(prompts, sinks):
        p = SamplingParams(max_tokens=n, temperature=0, ignore_eos=True)
        engine.submit(Sequence(GenerationRequest(prompt, p), tok(prompt).input_ids, sink, RowState(p, [], None),
                               Detokenizer(tok)))
        if not together:
            assert sink.done.wait(60)
    for sink in sinks:
        assert sink.done.wait(60)
    return [s.tokens for s in sinks]


def _engine(model: Any, tok: Any, prefix_cache: int, **kw: Any) -> Engine:
    engine = Engine(model, [], 512, model.config.vocab_size, lambda t: tok.decode([t]), max_batch=8,
                    prefix_cache=prefix_cache, **kw)
    engine.start()
    return engine


def test_greedy_output_is_the_same_with_and_without_the_prefix_cache(lm: tuple[Any, Any]) -> None:
    model, tok = lm
    prompts = [SYSTEM + q for q in QUESTIONS]
    shared = len(tok(SYSTEM).input_ids) // BLOCK * BLOCK
    assert shared >= 2 * BLOCK
    plain, cached = _engine(model, tok, 0), _engine(model, tok, 64 * 2**20)
    try:
        expected = _run(plain, tok, prompts) + _run(plain, tok, prompts, together=True)
        got = _run(cached, tok, prompts) + _run(cached, tok, prompts, together=True)
        occupancy = cached.occupancy()
    finally:
        plain.stop()
        cached.stop()
    assert len({tuple(t) for t in expected}) > 2, "the test model should answer each question differently"
    assert got == expected
    # the first two prompts find the shared prefix (stored by the second), every later one reuses it
    assert occupancy.prefix_hits == 2 * len(prompts) - 2
    assert occupancy.prefix_hit_tokens >= occupancy.prefix_hits * (shared - BLOCK)
    assert 0 < occupancy.prefix_cache_bytes <= 64 * 2**20
    assert plain.occupancy().prefix_queries == 0


def test_cached_prefix_output_equals_generate(lm: tuple[Any, Any]) -> None:
    model, tok = lm
    ids = tok(SYSTEM + QUESTIONS[0], return_tensors="pt").input_ids
    expected = model.generate(ids, max_new_tokens=10, min_new_tokens=10, do_sample=False, pad_token_id=0)
    engine = _engine(model, tok, 64 * 2**20)
    try:
        out = _run(engine, tok, [SYSTEM + QUESTIONS[1], SYSTEM + QUESTIONS[2], SYSTEM + QUESTIONS[0]])
        assert engine.occupancy().prefix_hits == 1
    finally:
        engine.stop()
    assert out[2] == expected[0, ids.shape[1]:].tolist()


def test_prompts_that_share_nothing_store_nothing(lm: tuple[Any, Any]) -> None:
    model, tok = lm
    engine = _engine(model, tok, 64 * 2**20)
    try:
        _run(engine, tok, [f"{i} " + q * 3 for i, q in enumerate(QUESTIONS)], n=2)
        occupancy = engine.occupancy()
    finally:
        engine.stop()
    assert occupancy.prefix_queries == len(QUESTIONS)
    assert occupancy.prefix_hits == 0 and occupancy.prefix_cache_bytes == 0


def test_the_memory_budget_evicts_the_prefix_cache_before_a_request_waits(lm: tuple[Any, Any]) -> None:
    model, tok = lm
    engine = _engine(model, tok, 64 * 2**20)
    try:
        _run(engine, tok, [SYSTEM + q for q in QUESTIONS[:2]], n=2)
        held = engine.occupancy().prefix_cache_bytes
        assert held > 0
        # a budget that fits the next request only without the cached prefix
        p = SamplingParams(max_tokens=2)
        need = engine.sequence_bytes(len(tok("x").input_ids), p.max_tokens)
        engine.memory_budget = need + held // 2
        _run(engine, tok, ["x"], n=2)
        assert engine.occupancy().prefix_cache_bytes <= held // 2
    finally:
        engine.stop()


def _kv(tokens: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    return [torch.zeros(1, 2, tokens, 4)], [torch.zeros(1, 2, tokens, 4)]


def test_the_cache_stays_within_its_capacity_and_evicts_the_least_recently_used() -> None:
    entry_bytes = 2 * 4 * 2 * 2 * BLOCK * 4 + ENTRY_OVERHEAD + 2 * TENSOR_OVERHEAD  # keys and values, two blocks
    cache = PrefixCache(capacity=2 * entry_bytes)
    a, b, c = ([base + i for i in range(2 * BLOCK)] for base in (1000, 2000, 3000))
    for ids in (a, b):
        cache.insert(ids, "__base__", *_kv(len(ids)))
    assert cache.bytes == 2 * entry_bytes
    assert cache.lookup(a + [7], "__base__") is not None  # a is now the most recently used
    cache.insert(c, "__base__", *_kv(len(c)))
    assert cache.bytes == 2 * entry_bytes
    assert cache.lookup(b + [7], "__base__") is None  # b was evicted
    hit = cache.lookup(a[:BLOCK] + [9] * BLOCK, "__base__")  # only the first block of a is shared
    assert hit is not None and hit[1] == BLOCK
    cache.insert(list(range(20 * BLOCK)), "__base__", *_kv(20 * BLOCK))  # larger than the cache: not stored
    assert cache.bytes == 2 * entry_bytes


def test_an_adapter_never_reuses_another_adapters_prefix() -> None:
    ids = list(range(2 * BLOCK))
    assert block_hashes(ids, "support") != block_hashes(ids, "__base__")
    cache = PrefixCache(capacity=2**20)
    cache.insert(ids, "support", *_kv(len(ids)))
    assert cache.lookup(ids + [1], "__base__") is None
    assert cache.lookup(ids + [1], "support") is not None


def test_a_prefix_is_stored_when_a_second_prompt_shares_it() -> None:
    cache = PrefixCache(capacity=2**20)
    system = list(range(3 * BLOCK))
    assert cache.shared(system + [1, 2, 3], "__base__", 0) == 0  # first sighting
    assert cache.shared(system + [4, 5], "__base__", 0) == 3 * BLOCK  # the shared part only
    assert cache.shared(system + [6], "__base__", 3 * BLOCK) == 0  # already cached: nothing more to store


def test_lora_requests_reuse_only_their_own_adapters_prefix(tiny_model_dir: Path, lora_dir: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    model = PeftModel.from_pretrained(base, lora_dir, adapter_name="support").eval()
    prompts = [SYSTEM + q for q in QUESTIONS[:4]]

    def answers(prefix_cache: int) -> tuple[list[list[int]], Any]:
        engine = _engine(model, tok, prefix_cache, peft=True)
        try:
            out = []
            for adapter in ("support", None, "support", None):
                for prompt in prompts:
                    sink = Collector()
                    p = SamplingParams(max_tokens=6, temperature=0, ignore_eos=True)
                    engine.submit(Sequence(GenerationRequest(prompt, p, adapter), tok(prompt).input_ids, sink,
                                           RowState(p, [], None), Detokenizer(tok)))
                    assert sink.done.wait(60)
                    out.append(sink.tokens)
            return out, engine.occupancy()
        finally:
            engine.stop()

    expected, _ = answers(0)
    got, occupancy = answers(64 * 2**20)
    assert got == expected
    assert expected[0] != expected[len(prompts)], "the adapter should change the answer"
    # per adapter: the first prompt is seen, the second stores, every later one hits
    assert occupancy.prefix_hits == 4 * len(prompts) - 2 * 2


def test_the_counted_bytes_cover_what_small_entries_really_hold() -> None:
    """10,000 one-block entries of a small model (2 layers, bf16): the process's memory grows by about what the
    cache counts, not twice that (a count of the tensors alone would be half)."""
    import gc

    import psutil

    from luban.serve.memtrim import trim

    proc = psutil.Process()

    def rss() -> int:
        gc.collect()
        trim()
        return int(proc.memory_info().rss)

    cache = PrefixCache(capacity=2**34)
    src = torch.randn(1, 2, BLOCK, 16).to(torch.bfloat16)
    before = rss()
    for i in range(10_000):
        cache.insert([i // 1000, i % 1000, *[7] * (BLOCK - 2)], "__base__",
                     [src.clone() for _ in range(2)], [src.clone() for _ in range(2)])
    grown = rss() - before
    tensors_only = 10_000 * 4 * src.numel() * src.element_size()
    assert 0.75 * cache.bytes < grown < 1.3 * cache.bytes, (grown, cache.bytes, tensors_only)
    assert cache.bytes > 1.5 * tensors_only
