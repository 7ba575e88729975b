"""ONNX Runtime backend: same tokens as the transformers backend, same stops, same usage counts;
concurrent requests share one batch."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from luban.core.errors import NotFoundError, UsageError
from luban.serve.backends.base import Constraint, GenerationRequest, ModelSpec, SamplingParams, Step

pytestmark = pytest.mark.needs("onnxruntime", "pip install 'luban[onnx]'")


def _run(backend: Any, request: GenerationRequest) -> list[Step]:
    async def collect() -> list[Step]:
        return [s async for s in backend.generate(request)]

    return asyncio.run(collect())


def _run_together(backend: Any, requests: list[GenerationRequest]) -> list[list[Step]]:
    async def collect(request: GenerationRequest) -> list[Step]:
        return [s async for s in backend.generate(request)]

    async def gather() -> list[list[Step]]:
        return list(await asyncio.gather(*(collect(r) for r in requests)))

    return asyncio.run(gather())


def _tokens(steps: list[Step]) -> list[int]:
    return [t for s in steps for t in s.token_ids]


PROMPTS = ["Acme", "The X100 robot vacuum has a warranty of 2 years. Returns are accepted within 30 days and",
           "艾可机器人公司生产", "Support is open from 9:00 to 18:00 on weekdays."]


@pytest.fixture(scope="module")
def backends(tiny_model_dir: Path, tiny_onnx_dir: Path) -> Any:
    from luban.serve.backends.hf import HFBackend
    from luban.serve.backends.onnx import OnnxBackend

    hf = HFBackend(ModelSpec("tiny", str(tiny_model_dir), "hf"))
    ox = OnnxBackend(ModelSpec("tiny-onnx", str(tiny_onnx_dir), "onnx"))
    hf.load()
    ox.load()
    yield hf, ox
    asyncio.run(hf.aclose())
    asyncio.run(ox.aclose())


def test_greedy_generation_equals_hf_backend(backends: Any) -> None:
    hf, ox = backends
    prompt = ox.render_chat([{"role": "user", "content": "What is the warranty of the X100?"}])
    assert prompt == hf.render_chat([{"role": "user", "content": "What is the warranty of the X100?"}])
    params = SamplingParams(max_tokens=24, temperature=0.0, ignore_eos=True)
    want = _run(hf, GenerationRequest(prompt, params))
    got = _run(ox, GenerationRequest(prompt, SamplingParams(max_tokens=24, temperature=0.0, ignore_eos=True)))
    assert [t for s in got for t in s.token_ids] == [t for s in want for t in s.token_ids]
    assert "".join(s.text for s in got) == "".join(s.text for s in want)
    assert got[-1].finish_reason == "length" and got[-1].completion_tokens == 24
    assert got[-1].prompt_tokens == ox.count_tokens(prompt) == hf.count_tokens(prompt)


def test_seeded_sampling_is_reproducible_and_token_prompts_work(backends: Any) -> None:
    _, ox = backends
    ids = ox.encode("Returns are accepted within 30 days.")

    def params() -> SamplingParams:
        return SamplingParams(max_tokens=12, temperature=1.0, top_p=0.9, seed=7, ignore_eos=True, logprobs=True,
                              top_logprobs=2)

    a = _run(ox, GenerationRequest(ids, params()))
    b = _run(ox, GenerationRequest(ids, params()))
    assert [s.token_ids for s in a] == [s.token_ids for s in b]
    assert a[0].prompt_tokens == len(ids)
    assert a[0].logprobs is not None and len(a[0].logprobs[0][1]) == 2 and a[0].logprobs[0][0].logprob <= 0


def test_stop_token_ends_with_stop(backends: Any) -> None:
    _, ox = backends
    first = _run(ox, GenerationRequest("Support is open", SamplingParams(max_tokens=1, temperature=0.0)))
    tok = first[0].token_ids[0]
    steps = _run(ox, GenerationRequest("Support is open",
                                       SamplingParams(max_tokens=10, temperature=0.0, stop_token_ids=(tok,))))
    assert len(steps) == 1 and steps[0].finish_reason == "stop" and steps[0].text == ""


def test_json_constraints_give_the_hf_backends_tokens(backends: Any, json_prefix: Any) -> None:
    import json

    hf, ox = backends
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"],
              "additionalProperties": False}
    bounded = SamplingParams(max_tokens=60, temperature=0.0, constraint=Constraint("json_schema", schema))
    steps = _run(ox, GenerationRequest("Answer in JSON:", bounded))
    assert _tokens(steps) == _tokens(_run(hf, GenerationRequest("Answer in JSON:", bounded)))
    assert steps[-1].finish_reason == "stop"  # the grammar ended it, well before the cap
    obj = json.loads("".join(s.text for s in steps))
    assert set(obj) == {"ok"} and isinstance(obj["ok"], bool)
    # any object: a random model nests objects without end, so the cap cuts it, a JSON prefix
    open_ended = SamplingParams(max_tokens=60, temperature=0.0, constraint=Constraint("json_object"))
    steps = _run(ox, GenerationRequest("Answer in JSON:", open_ended))
    assert _tokens(steps) == _tokens(_run(hf, GenerationRequest("Answer in JSON:", open_ended)))
    text = "".join(s.text for s in steps)
    assert steps[-1].finish_reason == "length" and steps[-1].completion_tokens == 60
    assert text.startswith("{") and json_prefix(text)


def test_missing_graph_and_embeddings_are_clear_errors(tmp_path: Path, backends: Any) -> None:
    from luban.serve.backends.onnx import OnnxBackend

    with pytest.raises(NotFoundError, match="model.onnx"):
        OnnxBackend(ModelSpec("x", str(tmp_path), "onnx")).load()
    with pytest.raises(UsageError, match="embeddings"):
        asyncio.run(backends[1].embed(["hi"]))


def test_served_through_the_app(tiny_onnx_dir: Path, start_server: Any) -> None:
    """`luban serve DIR` picks the onnx backend for a folder with model.onnx; streaming equals non-streaming."""
    import openai

    srv = start_server([str(tiny_onnx_dir), "--name", "tiny-onnx"])
    client = openai.OpenAI(base_url=srv.url + "/v1", api_key="none", max_retries=0, timeout=60)
    msg = [{"role": "user", "content": "X100保修多久？"}]
    full = client.chat.completions.create(model="tiny-onnx", messages=msg, max_tokens=8, temperature=0)
    chunks = list(client.chat.completions.create(model="tiny-onnx", messages=msg, max_tokens=8, temperature=0,
                                                 stream=True, stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == full.choices[0].message.content
    assert chunks[-1].usage == full.usage
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="tiny-onnx", input=["x"])


def test_concurrent_requests_share_a_batch_and_answer_as_alone(backends: Any) -> None:
    """Four requests at once: one `run` per step for all rows, and each row's tokens (and log-probs)
    are those it gets alone and those of the transformers backend."""
    hf, ox = backends
    n = 16

    def requests() -> list[GenerationRequest]:
        return [GenerationRequest(p, SamplingParams(max_tokens=n, temperature=0.0, ignore_eos=True, logprobs=True))
                for p in PROMPTS]

    alone = [_run(ox, r) for r in requests()]
    steps_before = ox.engine.steps
    together = _run_together(ox, requests())
    decode_steps = ox.engine.steps - steps_before
    assert decode_steps < 2 * n  # batched: about n steps, where one-at-a-time takes 4 * (n - 1)
    reference = [_run(hf, r) for r in requests()]
    for i, (a, t, r) in enumerate(zip(alone, together, reference)):
        assert _tokens(t) == _tokens(a) == _tokens(r), f"prompt {i}"
        assert t[-1].completion_tokens == n and t[-1].prompt_tokens == a[-1].prompt_tokens
        lp_t = [c.logprob for s in t for c, _ in s.logprobs or []]
        lp_a = [c.logprob for s in a for c, _ in s.logprobs or []]
        assert max(abs(x - y) for x, y in zip(lp_t, lp_a)) < 1e-4


def test_sliding_window_model_exported_and_served_batched(tmp_path: Path) -> None:
    """A Qwen2 whose upper layers attend to the last 8 positions: the exported graph keeps every
    layer's whole past (the mask applies the window), so batched ONNX decoding equals transformers."""
    from luban.compress.onnx_export import export_onnx
    from luban.models.tiny import build_tiny
    from luban.serve.backends.hf import HFBackend
    from luban.serve.backends.onnx import OnnxBackend

    texts = ["The X100 robot vacuum has a warranty of 2 years. Returns are accepted within 30 days.",
             "艾可机器人公司生产X100扫地机器人、L2智能门锁和H1家庭中枢。", "Support is open from 9:00 to 18:00."] * 30
    build_tiny(texts, tmp_path / "hf", arch="qwen2", size="test", vocab_size=500, num_hidden_layers=4,
               sliding_window=8)
    export_onnx(tmp_path / "hf", tmp_path / "onnx")
    hf = HFBackend(ModelSpec("sw", str(tmp_path / "hf"), "hf"))
    ox = OnnxBackend(ModelSpec("sw-onnx", str(tmp_path / "onnx"), "onnx"))
    hf.load()
    ox.load()
    try:
        def requests() -> list[GenerationRequest]:
            return [GenerationRequest(p, SamplingParams(max_tokens=24, temperature=0.0, ignore_eos=True))
                    for p in PROMPTS]

        assert max(len(ox.encode(p)) for p in PROMPTS) > 16
        together = _run_together(ox, requests())
        for i, (got, r) in enumerate(zip(together, requests())):
            assert _tokens(got) == _tokens(_run(hf, r)), f"prompt {i}"
    finally:
        asyncio.run(hf.aclose())
        asyncio.run(ox.aclose())


def test_concurrent_http_requests_through_the_openai_client(tiny_onnx_dir: Path, start_server: Any) -> None:
    """Six clients at once on a batch of at most 4 rows: all are answered, each as if alone."""
    from concurrent.futures import ThreadPoolExecutor

    import openai

    srv = start_server([str(tiny_onnx_dir), "--name", "tiny-onnx", "--max-batch", "4"])
    client = openai.OpenAI(base_url=srv.url + "/v1", api_key="none", max_retries=0, timeout=120)
    prompts = PROMPTS + ["Returns are", "X100"]

    def complete(prompt: str) -> str:
        out = client.completions.create(model="tiny-onnx", prompt=prompt, max_tokens=12, temperature=0)
        assert out.choices[0].finish_reason in {"length", "stop"}
        return out.choices[0].text

    alone = [complete(p) for p in prompts]
    with ThreadPoolExecutor(len(prompts)) as pool:
        together = list(pool.map(complete, prompts))
    assert together == alone
