"""Faults stay contained: a forward that raises fails only its batch and the engine serves the next
requests; a request too big for the memory budget, or with a huge `n`, is refused before it runs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from luban.serve.app import create_app
from luban.serve.backends.base import ModelSpec
from luban.serve.backends.hf import HFBackend
from luban.serve.pool import ModelPool

MSG = [{"role": "user", "content": "hi"}]


class Flaky:
    """The model, except that one forward raises: the first one run while another request waits."""

    def __init__(self, model: Any, engine: Any) -> None:
        self.model, self.engine, self.armed, self.calls = model, engine, False, 0

    def __call__(self, **kw: Any) -> Any:
        self.calls += 1
        if self.armed and self.calls > 2 and self.engine.waiting:
            self.armed = False
            raise RuntimeError("injected fault in the forward step")
        return self.model(**kw)


Check = Callable[[httpx.AsyncClient, HFBackend], Awaitable[None]]


def serve_in_process(model_dir: Path, check: Check) -> None:
    """Run `check` against the app over a real engine (one row per batch), in this process."""

    async def main() -> None:
        pool = ModelPool([ModelSpec("tiny", str(model_dir), "hf", {"max_batch": 1, "max_queue": 8})])
        await asyncio.to_thread(pool.load_all)
        backend = pool.backends["tiny"]
        assert isinstance(backend, HFBackend)
        transport = httpx.ASGITransport(app=create_app(pool), raise_app_exceptions=False)  # 500s are answers
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=60) as client:
                await check(client, backend)
        finally:
            await pool.aclose()

    asyncio.run(main())


def _body(stream: bool, n: int = 30) -> dict[str, Any]:
    return {"model": "tiny", "messages": MSG, "max_tokens": n, "ignore_eos": True, "stream": stream}


async def _events(r: httpx.Response) -> list[dict[str, Any]]:
    lines = [ln[6:] for ln in r.text.splitlines() if ln.startswith("data: ")]
    assert lines[-1] == "[DONE]", r.text
    return [json.loads(x) for x in lines[:-1]]


@pytest.mark.parametrize("stream", [False, True])
def test_a_failing_forward_fails_only_its_batch(tiny_model_dir: Path, stream: bool) -> None:
    serve_in_process(tiny_model_dir, lambda client, backend: _fault(client, backend, stream))


async def _fault(client: httpx.AsyncClient, backend: HFBackend, stream: bool) -> None:
    flaky = Flaky(backend.engine.model, backend.engine)
    backend.engine.model = flaky
    flaky.armed = True
    first = asyncio.create_task(client.post("/v1/chat/completions", json=_body(stream)))
    while not backend.engine.running:  # the batch holds one row: the second request waits behind it
        await asyncio.sleep(0.001)
    second = asyncio.create_task(client.post("/v1/chat/completions", json=_body(False, 5)))
    failed, served_after = await first, await second
    assert not flaky.armed, "the fault was not injected"
    if stream:
        assert failed.status_code == 200  # the headers left before the fault: the error comes in-band
        events = await _events(failed)
        assert events[-1]["error"]["type"] == "server_error" and events[-1]["error"]["message"]
    else:
        assert failed.status_code == 500
        assert set(failed.json()["error"]) == {"message", "type", "param", "code"}
        assert failed.json()["error"]["type"] == "server_error"
    assert served_after.status_code == 200, served_after.text
    assert served_after.json()["usage"]["completion_tokens"] == 5
    again = await client.post("/v1/chat/completions", json=_body(True, 4))
    assert (await _events(again))[-1]["choices"][0]["finish_reason"] == "length"


def test_a_request_beyond_the_memory_budget_is_refused_up_front(tiny_model_dir: Path) -> None:
    serve_in_process(tiny_model_dir, _too_large)


async def _too_large(client: httpx.AsyncClient, backend: HFBackend) -> None:
    backend.engine.memory_budget = backend.engine.sequence_bytes(60, 40)  # room for a short chat only
    long = {"model": "tiny", "messages": [{"role": "user", "content": "robot vacuum warranty " * 60}],
            "max_tokens": 40}
    r = await client.post("/v1/chat/completions", json=long)
    assert r.status_code == 400, r.text
    message = r.json()["error"]["message"]
    assert "needs about" in message and "more than" in message and "max_tokens" in message
    assert backend.engine.running == [] and not backend.engine.waiting
    ok = await client.post("/v1/chat/completions", json={**long, "messages": MSG, "max_tokens": 3})
    assert ok.status_code == 200, ok.text


def test_a_huge_n_is_refused_with_the_parameter_named(tiny_model_dir: Path) -> None:
    serve_in_process(tiny_model_dir, _huge_n)


async def _huge_n(client: httpx.AsyncClient, backend: HFBackend) -> None:
    r = await client.post("/v1/chat/completions", json={"model": "tiny", "messages": MSG, "n": 100_000})
    assert r.status_code == 400 and r.json()["error"]["param"] == "n"
