"""Remote backend: a second Luban server passes requests through to a real OpenAI-protocol upstream."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx
import openai
import pytest

from luban.core.errors import LubanError
from luban.serve.backends.base import GenerationRequest, ModelSpec, SamplingParams

MSG = [{"role": "user", "content": "What is the warranty of the X100?"}]


@pytest.fixture(scope="module")
def proxy(upstream: Any, start_server: Any) -> Any:
    """Serves the upstream's `tiny` as `proxied` through the remote backend."""
    return start_server([f"{upstream.url}/v1#tiny", "--name", "proxied"])


def _client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key="none", max_retries=0, timeout=60)


def test_chat_is_passed_through_with_usage(upstream: Any, proxy: Any) -> None:
    direct = _client(upstream.url).chat.completions.create(model="tiny", messages=MSG, max_tokens=8, temperature=0)
    via = _client(proxy.url).chat.completions.create(model="proxied", messages=MSG, max_tokens=8, temperature=0)
    assert via.model == "proxied"
    assert via.choices[0].message.content == direct.choices[0].message.content
    assert via.usage == direct.usage


def test_streaming_passthrough_keeps_chunks_and_usage(upstream: Any, proxy: Any) -> None:
    kw: dict[str, Any] = {"messages": MSG, "max_tokens": 8, "temperature": 0, "stream": True,
                              "stream_options": {"include_usage": True}}
    direct = list(_client(upstream.url).chat.completions.create(model="tiny", **kw))
    via = list(_client(proxy.url).chat.completions.create(model="proxied", **kw))
    assert via[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].delta.content for c in via if c.choices] == \
        [c.choices[0].delta.content for c in direct if c.choices]
    assert via[-1].choices == [] and via[-1].usage == direct[-1].usage


def test_completions_and_embeddings_pass_through(upstream: Any, proxy: Any) -> None:
    up, px = _client(upstream.url), _client(proxy.url)
    a = up.completions.create(model="tiny", prompt="The X100 robot", max_tokens=6, temperature=0)
    b = px.completions.create(model="proxied", prompt="The X100 robot", max_tokens=6, temperature=0)
    assert b.choices[0].text == a.choices[0].text and b.usage == a.usage
    e1 = up.embeddings.create(model="tiny", input=["warranty"])
    e2 = px.embeddings.create(model="proxied", input=["warranty"])
    assert e2.data[0].embedding == pytest.approx(e1.data[0].embedding)


def test_upstream_errors_keep_status_and_openai_shape(proxy: Any) -> None:
    too_long = [{"role": "user", "content": "warranty " * 2000}]  # beyond the tiny model's 512 positions
    with pytest.raises(openai.BadRequestError) as err:
        _client(proxy.url).chat.completions.create(model="proxied", messages=too_long, max_tokens=4)
    assert err.value.status_code == 400
    body = err.value.body
    assert isinstance(body, dict) and body["type"] == "invalid_request_error" and "context" in body["message"]
    r = httpx.post(proxy.url + "/v1/chat/completions", json={"model": "proxied", "messages": MSG, "max_tokens": -1})
    assert r.status_code == 400 and set(r.json()["error"]) == {"message", "type", "param", "code"}


def test_generate_streams_upstream_completions(upstream: Any) -> None:
    from luban.serve.backends.remote import RemoteBackend

    backend = RemoteBackend(ModelSpec("r", upstream.url, "remote"))
    backend.load()  # the upstream serves one model: picked without '#'
    assert backend.upstream_model == "tiny"

    async def run() -> list[Any]:
        steps = [s async for s in backend.generate(GenerationRequest(
            "The X100 robot", SamplingParams(max_tokens=6, temperature=0.0)))]
        await backend.aclose()
        return steps

    steps = asyncio.run(run())
    want = _client(upstream.url).completions.create(model="tiny", prompt="The X100 robot", max_tokens=6,
                                                     temperature=0)
    assert "".join(s.text for s in steps) == want.choices[0].text
    assert steps[-1].finish_reason == want.choices[0].finish_reason
    assert steps[-1].completion_tokens == want.usage.completion_tokens
    assert steps[-1].prompt_tokens == want.usage.prompt_tokens


def test_unreachable_upstream_is_a_clear_error_and_a_502() -> None:
    from luban.serve.backends.remote import RemoteBackend
    from luban.serve.errors import APIError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    backend = RemoteBackend(ModelSpec("r", f"http://127.0.0.1:{port}/v1#m", "remote"))
    with pytest.raises(LubanError, match="unreachable"):
        backend.load()

    async def forward() -> None:
        try:
            await backend.forward("chat/completions", {"model": "r", "messages": MSG})
        finally:
            await backend.aclose()

    with pytest.raises(APIError) as err:
        asyncio.run(forward())
    assert err.value.status == 502
