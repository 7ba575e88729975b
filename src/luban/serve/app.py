"""The FastAPI app: OpenAI routes over a `ModelPool`, plus /health and /metrics.

Design choices:
- Models load in a background thread after the socket is open; /health answers 503 until every
  model is loaded and 200 after, so a supervisor (or the demo) can poll it.
- While the app runs, freed heap memory goes back to the OS every minute (luban.serve.memtrim).
- Handlers stay thin: chat.py, completions.py and embeddings.py build the answers; errors.py turns
  every failure into OpenAI's error object; `QueueFull` becomes 429 with Retry-After.
- A non-streaming request whose client goes away is cancelled (its sequences leave the batch);
  a streaming one is cancelled by Starlette when the send fails.
- Request bodies are bounded (`Limits.max_body_mb`, luban.serve.bodylimit): 413 before anything parses them.
- Every generation request is an `Inflight` (luban.serve.inflight) from before its prompt is built to
  the end of its response: tokens in and out reach /metrics from it for streamed, non-streamed and
  abandoned requests alike, and the SIGTERM drain (`app.state.inflight.drain`) waits for, then cuts, them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from luban.serve import chat, completions, embeddings, errors
from luban.serve.backends.base import QueueFull
from luban.serve.bodylimit import BodyLimit
from luban.serve.errors import APIError, error_body
from luban.serve.inflight import DRAINING_MESSAGE, Inflight, InflightSet
from luban.serve.limits import Limits
from luban.serve.memtrim import HeapTrimmer
from luban.serve.metrics import Metrics
from luban.serve.pool import ModelPool
from luban.serve.protocol import ChatCompletionRequest, CompletionRequest, EmbeddingRequest
from luban.serve.responses import sse

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def create_app(pool: ModelPool, limits: Limits | None = None,
               on_load_error: Callable[[str], None] | None = None) -> FastAPI:
    """The app over `pool`. A failed model load is reported by /health (503 with the reason) and, when
    `on_load_error` is given, passed to it too: `luban serve` uses it to exit instead of idling."""
    limits = limits or Limits()
    metrics = Metrics(pool)
    inflight = InflightSet()
    state: dict[str, Any] = {"load_error": None}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async def load() -> None:
            try:
                await asyncio.to_thread(pool.load_all)
            except Exception as err:  # noqa: BLE001 - reported by /health, the process keeps answering
                errors.log.exception("loading models failed")
                state["load_error"] = f"{type(err).__name__}: {err}"
                if on_load_error is not None:
                    on_load_error(state["load_error"])

        task = asyncio.create_task(load())
        trimmer = HeapTrimmer.from_env()
        if trimmer is not None:
            trimmer.start()
        yield
        task.cancel()
        if trimmer is not None:
            trimmer.stop()
        await pool.aclose()

    app = FastAPI(title="Luban serving (OpenAI-compatible)", version="1", lifespan=lifespan)
    app.state.inflight = inflight
    errors.install(app)
    app.add_middleware(BodyLimit, limit=int(limits.max_body_mb * 2**20))
    app.add_middleware(_CountRequests, metrics=metrics)

    def ready() -> None:
        if inflight.draining:
            raise APIError(503, DRAINING_MESSAGE, code="server_shutting_down",
                           headers={"Retry-After": "1", "Connection": "close"})
        if not pool.ready:
            raise APIError(503, "models are still loading" if state["load_error"] is None
                           else f"models failed to load: {state['load_error']}", headers={"Retry-After": "2"})

    async def guarded(model: str, track: Inflight, coro: Callable[[], Awaitable[Response]]) -> Response:
        """Run `coro`; unless it returned a stream (which then owns `track`), close `track` and count its
        tokens, whether it succeeded, failed or was abandoned."""
        streaming = False
        try:
            response = await coro()
            streaming = isinstance(response, StreamingResponse)
            return response
        except QueueFull as full:
            raise APIError(429, f"Model '{model}' is at capacity; retry after {full.retry_after} s.",
                           code="rate_limit_exceeded", headers={"Retry-After": str(full.retry_after)}) from full
        finally:
            if not streaming:
                _finish(metrics, inflight, model, track)

    @app.get("/health")
    async def health() -> JSONResponse:
        """200 once every model is loaded; 503 before, when loading failed, or with status "draining" after
        SIGTERM (so a load balancer stops sending while running requests finish)."""
        if inflight.draining:
            return JSONResponse({"status": "draining", "models": pool.model_ids(), "running": len(inflight.active)},
                                status_code=503, headers={"Retry-After": "1"})
        ready()
        return JSONResponse({"status": "ok", "models": pool.model_ids()})

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.get("/v1/models")
    async def list_models() -> dict[str, Any]:
        return {"object": "list", "data": [_model_card(m) for m in pool.model_ids()]}

    @app.get("/v1/models/{model:path}")
    async def get_model(model: str) -> dict[str, Any]:
        pool.resolve(model)
        return _model_card(model)

    @app.post("/v1/chat/completions")
    async def chat_completions(body: ChatCompletionRequest, request: Request) -> Response:
        ready()
        backend, adapter = pool.resolve(body.model)
        if backend.passes_through():  # remote upstream: its own bytes, streamed back
            return await backend.forward("chat/completions", await request.json())
        started = time.monotonic()
        track = inflight.open()

        async def run() -> Response:
            prepared = chat.prepare(body, backend, adapter, limits, track)
            if body.stream:
                include = bool(body.stream_options and body.stream_options.include_usage)
                chunks = await chat.stream(prepared, include)
                metrics.ttft.labels(body.model).observe(time.monotonic() - started)
                return StreamingResponse(_observe(chunks, metrics, inflight, body.model, started, track),
                                         headers=SSE_HEADERS, media_type="text/event-stream")
            result = await _unless_disconnected(request, chat.complete(prepared))
            metrics.latency.labels(body.model).observe(time.monotonic() - started)
            return JSONResponse(result)

        return await guarded(body.model, track, run)

    @app.post("/v1/completions")
    async def text_completions(body: CompletionRequest, request: Request) -> Response:
        ready()
        backend, adapter = pool.resolve(body.model)
        if backend.passes_through():
            return await backend.forward("completions", await request.json())
        started = time.monotonic()
        track = inflight.open()

        async def run() -> Response:
            result, streaming = await completions.create(body, backend, adapter, limits, track)
            if streaming:
                assert not isinstance(result, dict)
                return StreamingResponse(_observe(result, metrics, inflight, body.model, started, track),
                                         headers=SSE_HEADERS, media_type="text/event-stream")
            assert isinstance(result, dict)
            metrics.latency.labels(body.model).observe(time.monotonic() - started)
            return JSONResponse(result)

        return await guarded(body.model, track, run)

    @app.post("/v1/embeddings")
    async def create_embeddings(body: EmbeddingRequest, request: Request) -> Response:
        ready()
        backend, _ = pool.resolve(body.model)
        if backend.passes_through():
            return await backend.forward("embeddings", await request.json())
        result = await embeddings.create(body, backend, limits)
        metrics.usage(body.model, result["usage"]["prompt_tokens"], 0)
        return JSONResponse(result)

    return app


def _model_card(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 0, "owned_by": "luban"}


def _finish(metrics: Metrics, inflight: InflightSet, model: str, track: Inflight) -> None:
    """The request is over: count the tokens it processed (none if it never started) and forget it."""
    inflight.close(track)
    if track.started:
        metrics.usage(model, track.prompt_tokens, track.completion_tokens)


async def _observe(chunks: AsyncIterator[dict[str, Any]], metrics: Metrics, inflight: InflightSet, model: str,
                   started: float, track: Inflight) -> AsyncIterator[bytes]:
    """SSE bytes of `chunks`; when the stream ends (finished, failed or abandoned by the client) its
    tokens are counted, and a stream cut by the drain gets an error event after its last chunk."""

    async def tap() -> AsyncIterator[dict[str, Any]]:
        async for c in chunks:
            yield c
        metrics.latency.labels(model).observe(time.monotonic() - started)
        if track.cut:
            yield error_body("The server is shutting down: this generation was cut (finish_reason \"length\") "
                             "when its drain timeout ran out; retry the rest on another server.", "server_error",
                             code="server_shutting_down")

    try:
        async for b in sse(tap()):
            yield b
    finally:
        _finish(metrics, inflight, model, track)


async def _unless_disconnected(request: Request, work: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """Await `work`, cancelling it (and so its sequences) if the client disconnects meanwhile."""
    task = asyncio.ensure_future(work)
    while True:
        done, _ = await asyncio.wait({task}, timeout=0.25)
        if done:
            return task.result()
        if await request.is_disconnected():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            raise APIError(499, "client closed the request")


class _CountRequests:
    """Pure ASGI middleware: count requests by route template and status code."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = {"code": 500}

        async def send_wrapper(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            self.metrics.requests.labels(path, str(status["code"])).inc()
