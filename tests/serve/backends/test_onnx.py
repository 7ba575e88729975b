"""ONNX Runtime backend: same tokens as the transformers backend, same stops, same usage counts."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from luban.core.errors import NotFoundError, UsageError
from luban.serve.backends.base import Constraint, GenerationRequest, ModelSpec, SamplingParams, Step

pytest.importorskip("onnxruntime")


def _run(backend: Any, request: GenerationRequest) -> list[Step]:
    async def collect() -> list[Step]:
        return [s async for s in backend.generate(request)]

    return asyncio.run(collect())


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


def test_json_object_constraint(backends: Any) -> None:
    import json

    _, ox = backends
    params = SamplingParams(max_tokens=60, temperature=0.0, constraint=Constraint("json_object"))
    steps = _run(ox, GenerationRequest("Answer in JSON:", params))
    text = "".join(s.text for s in steps)
    if steps[-1].finish_reason == "stop":
        assert isinstance(json.loads(text), dict)
    assert text.startswith("{")


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
