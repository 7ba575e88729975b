"""GGUF backend: template rendering and UTF-8 streaming; with llama-cpp-python, the same greedy tokens as
the HF backend and the server end to end.

llama-cpp-python (extra `gguf`) compiles llama.cpp from source at install time (`make gguf`); converting
needs llama.cpp's converter (LLAMA_CPP_DIR, found in the sdist `make gguf` unpacks). Each skip says
which of the two is missing; under CI=true a missing one fails (tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from luban.core.errors import NotFoundError, UsageError
from luban.serve.backends.base import ModelSpec
from luban.serve.backends.llamacpp import GGUFTemplate, LlamaCppBackend, Utf8Stream, find_gguf

MSG = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "X100保修多久？"}]


def test_gguf_template_renders_like_the_hf_tokenizer(tiny_model_dir: Path, tiny_llama_dir: Path) -> None:
    from transformers import AutoTokenizer

    from luban.serve.backends.chat import render_with_tools

    tools = [{"type": "function", "function": {"name": "warranty", "parameters": {"type": "object"}}}]
    for folder in (tiny_model_dir, tiny_llama_dir):
        tok = AutoTokenizer.from_pretrained(folder)
        gguf = GGUFTemplate(tok.chat_template, tok.bos_token or "", tok.eos_token or "")
        assert render_with_tools(gguf, MSG, None) == render_with_tools(tok, MSG, None)
        assert render_with_tools(gguf, MSG, tools) == render_with_tools(tok, MSG, tools)


def test_utf8_stream_holds_back_a_split_character() -> None:
    s = Utf8Stream()
    raw = "保修".encode()
    assert s.add(raw[:2]) == ""
    assert s.add(raw[2:4]) == "保"
    assert s.add(raw[4:]) == "修"
    assert s.add(b"\xe4") == "" and s.flush() == "\ufffd"


def test_find_gguf(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="gguf"):
        find_gguf(tmp_path)
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    assert find_gguf(tmp_path) == tmp_path / "m.gguf"


def test_missing_extra_is_a_one_line_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as if llama-cpp-python were not installed
    with pytest.raises(UsageError, match=r"luban\[gguf\]"):
        LlamaCppBackend(ModelSpec("m", str(tmp_path / "m.gguf"), "llamacpp")).load()


GGUF = pytest.mark.needs("llama_cpp", "`make gguf` builds llama-cpp-python (extra gguf; about 10 minutes on 2 cores)")
CONVERTER = pytest.mark.skipif(not os.environ.get("LLAMA_CPP_DIR"), reason="converting to GGUF needs llama.cpp's "
                               "convert_hf_to_gguf.py: set LLAMA_CPP_DIR (or run `make gguf`, which unpacks it)")


@pytest.fixture(scope="module")
def tiny_gguf(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from luban.compress.gguf_export import export_gguf

    gguf = tmp_path_factory.mktemp("gguf") / "tiny.gguf"
    export_gguf(tiny_model_dir, gguf, "f32")
    return gguf


PROMPTS = ["Acme", "The X100 robot vacuum has a warranty of 2 years. Returns are accepted within 30 days and",
           "艾可机器人公司生产", "Support is open from 9:00 to 18:00 on weekdays."]


@pytest.mark.slow
@GGUF
@CONVERTER
def test_gguf_gives_the_hf_backends_greedy_tokens(tiny_model_dir: Path, tiny_gguf: Path) -> None:
    """f32 GGUF through llama.cpp and the f32 checkpoint through transformers: token for token the same."""
    from luban.serve.backends.base import GenerationRequest, SamplingParams
    from luban.serve.backends.hf import HFBackend

    hf = HFBackend(ModelSpec("tiny", str(tiny_model_dir), "hf", options={"dtype": "float32"}))
    gg = LlamaCppBackend(ModelSpec("tiny-gguf", str(tiny_gguf), "llamacpp"))
    hf.load()
    gg.load()

    async def tokens(backend: Any, prompt: str | list[int]) -> tuple[list[int], str, int, str | None]:
        params = SamplingParams(max_tokens=16, temperature=0.0, ignore_eos=True)
        steps = [s async for s in backend.generate(GenerationRequest(prompt, params))]
        return ([t for s in steps for t in s.token_ids], "".join(s.text for s in steps), steps[-1].prompt_tokens,
                steps[-1].finish_reason)

    try:
        chat = hf.render_chat(MSG)
        assert gg.render_chat(MSG) == chat
        for prompt in [*PROMPTS, chat]:
            assert gg.encode(prompt) == hf.encode(prompt), prompt  # the same tokenizer, from the GGUF file
            want, got = asyncio.run(tokens(hf, prompt)), asyncio.run(tokens(gg, prompt))
            assert got == want, prompt
            assert got[3] == "length" and len(got[0]) == 16
        outputs = {asyncio.run(tokens(hf, p))[1] for p in PROMPTS}
        assert len(outputs) == len(PROMPTS)  # different prompts, different continuations: not a constant
    finally:
        asyncio.run(hf.aclose())
        asyncio.run(gg.aclose())


@pytest.mark.slow
@GGUF
@CONVERTER
def test_serve_a_gguf_of_the_tiny_model(tiny_model_dir: Path, tiny_gguf: Path, start_server: Any,
                                        json_prefix: Any) -> None:
    import openai
    from transformers import AutoTokenizer

    gguf = tiny_gguf
    srv = start_server([str(gguf), "--name", "tiny-gguf", "--backend", "llamacpp"])
    client = openai.OpenAI(base_url=srv.url + "/v1", api_key="none", max_retries=0, timeout=60)
    r = client.chat.completions.create(model="tiny-gguf", messages=MSG, max_tokens=6, temperature=0)
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    prompt = tok.apply_chat_template(MSG, tokenize=False, add_generation_prompt=True)
    assert r.usage.prompt_tokens == len(tok(prompt, add_special_tokens=False).input_ids)
    assert 1 <= r.usage.completion_tokens <= 6 and r.choices[0].finish_reason in ("stop", "length")
    chunks = list(client.chat.completions.create(model="tiny-gguf", messages=MSG, max_tokens=6, temperature=0,
                                                 stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == r.choices[0].message.content
    js = client.chat.completions.create(model="tiny-gguf", messages=MSG, max_tokens=12, temperature=0,
                                        response_format={"type": "json_object"})
    content = js.choices[0].message.content or ""
    # the llama.cpp grammar holds: a random model nests objects until the cap cuts a JSON prefix
    assert js.choices[0].finish_reason == "length" and js.usage.completion_tokens == 12
    assert content.startswith("{") and json_prefix(content)


@GGUF
@CONVERTER
def test_a_request_cancelled_mid_step_leaves_the_context_to_the_next_one(tiny_gguf: Path) -> None:
    """A client that leaves while llama.cpp decodes in its thread: the lock is held until that step ends, so the
    next request never decodes on the same context at the same time, and gets what a fresh request gets."""
    from luban.serve.backends.base import GenerationRequest, SamplingParams

    gg = LlamaCppBackend(ModelSpec("tiny-gguf", str(tiny_gguf), "llamacpp"))
    gg.load()
    params = SamplingParams(max_tokens=12, temperature=0.0, ignore_eos=True)
    long = SamplingParams(max_tokens=400, temperature=0.0, ignore_eos=True)  # not done within any delay below

    async def collect(prompt: str, p: SamplingParams = params) -> list[int]:
        return [t async for s in gg.generate(GenerationRequest(prompt, p)) for t in s.token_ids]

    async def scenario() -> tuple[list[int], list[int]]:
        want = await collect(PROMPTS[1])
        for delay in (0.0, 0.001, 0.005, 0.02):
            task = asyncio.create_task(collect(PROMPTS[1], long))
            await asyncio.sleep(delay)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert not gg.lock.locked()  # released only after the running step finished
        return want, await collect(PROMPTS[1])

    try:
        want, got = asyncio.run(scenario())
        assert got == want and len(got) == 12
    finally:
        asyncio.run(gg.aclose())
