"""The relay of an upstream's answer to the client: whole answers, streams, cached answers, upstream errors.

Design choices:
- Non-streamed answers are read whole (they are small), checked, passed through the output hooks when there
  are any, and sent as the upstream's own bytes when nothing changed them. Streams go event by event: an
  event leaves as soon as its blank line arrives; JSON is parsed only where hooks, the cache or usage need it.
- Usage in streams: the gateway asks the upstream for it (`stream_options.include_usage`) and drops that
  chunk again when the client did not ask, so that TPM limits, budgets and costs see every stream.
- After the first byte an upstream failure can no longer be an HTTP status: an `error` event ends the
  stream, which OpenAI's clients raise as an APIError.
- A client that goes away closes the upstream's answer, so that the engine stops generating.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import orjson

from luban.gateway.asgi import SSE_HEADERS, Receive, Send, encode_headers, send_bytes
from luban.gateway.cors import cors_headers
from luban.gateway.errors import GatewayError, error_json
from luban.gateway.hooks import CallContext, Hooks, Refusal
from luban.gateway.keys import KeyRecord
from luban.gateway.routing import Deployment
from luban.gateway.service import Gateway
from luban.gateway.sse import DONE, Assembler, Splitter, data_of, encode, replay
from luban.gateway.upstreams import UpstreamError, UpstreamReply


class Relay:
    """Sends one upstream answer (or a cached one) to the client and settles the call's cost."""

    def __init__(self, gateway: Gateway) -> None:
        self.gw = gateway
        self.hooks: Hooks = gateway.hooks

    async def send_cached(self, ctx: CallContext, route: str, data: bytes, stream: bool, send: Send) -> None:
        ctx.cache_hit = True
        ctx.status = 200
        hooks = self.hooks
        if not stream and not hooks.output and not ctx.response_fields:
            usage_into(ctx, orjson.loads(data).get("usage"))
            extra = [(b"x-luban-cache", b"hit")]
            await send_bytes(send, 200, data, [*extra, *encode_headers(ctx.response_headers)]
                             if ctx.response_headers else extra)
            return
        answer = orjson.loads(data)
        usage_into(ctx, answer.get("usage"))
        if hooks.output:
            _guard_answer(hooks, ctx, route, answer)
        answer.update(ctx.response_fields)
        extra = [(b"x-luban-cache", b"hit"), *encode_headers(ctx.response_headers)]
        if not stream:
            await send_bytes(send, 200, orjson.dumps(answer), extra)
            return
        include = bool((ctx.body.get("stream_options") or {}).get("include_usage"))
        await send({"type": "http.response.start", "status": 200, "headers": [*SSE_HEADERS, *extra]})
        await send({"type": "http.response.body", "body": b"".join(replay(answer, route, include))})

    async def answer(self, ctx: CallContext, route: str, dep: Deployment, reply: UpstreamReply, ckey: str | None,
                      t0: float, send: Send, key: KeyRecord | None) -> None:
        gw, hooks = self.gw, self.hooks
        try:
            data = await reply.read()
        except UpstreamError as err:
            gw.router.failed(dep, err.detail)
            gw.metrics.upstream_error(dep.upstream.name, err.kind)
            raise GatewayError(err.status, upstream_message(err), code=f"upstream_{err.kind}") from None
        if reply.status != 200:
            if reply.status >= 500:
                gw.router.failed(dep, f"answered {reply.status}")
                gw.metrics.upstream_error(dep.upstream.name, f"http_{reply.status}")
            await self.send_upstream_error(ctx, reply.status, data, reply.headers, send)
            return
        try:
            answer = orjson.loads(data)
        except orjson.JSONDecodeError:
            answer = None
        if type(answer) is not dict or ("choices" not in answer and "data" not in answer):
            gw.router.failed(dep, "answered something that is not an OpenAI answer")
            gw.metrics.upstream_error(dep.upstream.name, "bad_response")
            raise GatewayError(502, f"Upstream '{dep.upstream.name}' answered something that is not an OpenAI "
                               f"answer ({data[:80]!r}); retry, or ask an admin to check it.",
                               code="upstream_bad_response")
        gw.router.succeeded(dep, time.perf_counter() - t0)
        usage_into(ctx, answer.get("usage"))
        ctx.status = 200
        out = data
        if hooks.output or ctx.response_fields:
            if hooks.output:
                _guard_answer(hooks, ctx, route, answer)
            answer.update(ctx.response_fields)
            out = orjson.dumps(answer)
        await send_bytes(send, 200, out, encode_headers(ctx.response_headers) if ctx.response_headers else None)
        if ckey is not None and gw.cache is not None:
            await gw.cache.set(ckey, data)
        await self.settle(ctx, dep, key)

    async def stream(self, ctx: CallContext, route: str, dep: Deployment, reply: UpstreamReply, ckey: str | None,
                      inject: bool, t0: float, receive: Receive, send: Send, key: KeyRecord | None) -> None:
        gw, hooks = self.gw, self.hooks
        ctype = reply.headers.get("content-type", "")
        if "text/event-stream" not in ctype:
            reply.close()
            gw.router.failed(dep, f"answered a stream request with {ctype or 'no content type'}")
            gw.metrics.upstream_error(dep.upstream.name, "bad_response")
            raise GatewayError(502, f"Upstream '{dep.upstream.name}' did not answer the stream request with a "
                               "stream; retry, or ask an admin to check it.", code="upstream_bad_response")
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*SSE_HEADERS, *encode_headers(ctx.response_headers)]})
        ctx.status = 200
        splitter = Splitter()
        asm = Assembler(route) if ckey is not None else None
        parse_all = hooks.output or asm is not None
        fields = ctx.response_fields
        finished = done = first = False
        gone: list[bool] = []
        watcher = asyncio.create_task(_watch_disconnect(receive, reply, gone))
        try:
            async for chunk in reply.chunks():
                if not first:
                    first = True
                    ctx.ttft_ms = (time.perf_counter() - t0) * 1000.0
                    gw.metrics.first_byte(route, ctx.ttft_ms / 1000.0)
                out: list[bytes] = []
                for event in splitter.feed(chunk):
                    payload = data_of(event)
                    if payload is None:
                        continue
                    if payload == b"[DONE]":
                        done = True
                        out.append(DONE)
                        continue
                    if not parse_all and not fields and not _set(payload, b'"usage"') and b'"error"' not in payload:
                        if not finished and _set(payload, b'"finish_reason"'):
                            finished = True
                        out.append(b"data: " + payload + b"\n\n")
                        continue
                    obj = orjson.loads(payload)
                    if type(obj) is not dict:
                        raise UpstreamError(dep.upstream.name, "bad_response", "sent an event that is not JSON")
                    if "error" in obj:  # the upstream's own report (a drain timeout, a failure): passed on as is
                        ctx.error = str(obj["error"])[:300]
                        gw.metrics.upstream_error(dep.upstream.name, "error_event")
                        finished = True
                        out.append(b"data: " + payload + b"\n\n")
                        continue
                    if obj.get("usage"):
                        usage_into(ctx, obj["usage"])
                    if asm is not None:
                        asm.add(obj)
                    if any(c.get("finish_reason") for c in obj.get("choices") or ()):
                        finished = True
                    if inject and obj.get("usage") and not obj.get("choices"):
                        continue
                    if inject and "usage" in obj:
                        del obj["usage"]
                    if fields:
                        obj.update(fields)
                        fields = {}
                    if hooks.output:
                        refused = _guard_chunk(hooks, ctx, route, obj, out)
                        if refused:
                            done = True
                            out.append(DONE)
                            break
                    out.append(encode(obj))
                if out:
                    await send({"type": "http.response.body", "body": b"".join(out), "more_body": True})
                if done and ctx.output_refused:
                    reply.close()
                    break
            if not done and not finished:
                raise UpstreamError(dep.upstream.name, "dropped", "the stream ended before the answer did")
            if not done:
                await send({"type": "http.response.body", "body": DONE, "more_body": True})
        except UpstreamError as err:
            if gone:
                ctx.status, ctx.error = 499, "client closed the request"
            else:
                gw.router.failed(dep, err.detail)
                gw.metrics.upstream_error(dep.upstream.name, err.kind)
                ctx.status, ctx.error = err.status, err.detail
                with contextlib.suppress(Exception):
                    await send({"type": "http.response.body", "more_body": True,
                                "body": b"data: " + error_json(upstream_message(err), "upstream_error",
                                                               err.status) + b"\n\n"})
        except orjson.JSONDecodeError:
            gw.router.failed(dep, "sent an event that is not JSON")
            gw.metrics.upstream_error(dep.upstream.name, "bad_response")
            ctx.status, ctx.error = 502, "upstream sent garbage mid-stream"
            await send({"type": "http.response.body", "more_body": True, "body": b"data: " + error_json(
                f"Upstream '{dep.upstream.name}' sent an event that is not JSON; the answer is cut here.",
                "upstream_error", 502) + b"\n\n"})
        finally:
            watcher.cancel()
            with contextlib.suppress(Exception):
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        if ctx.status == 200:
            gw.router.succeeded(dep, time.perf_counter() - t0)
            if asm is not None and gw.cache is not None and ckey is not None and not ctx.output_refused:
                answer = asm.answer()
                if answer is not None:
                    await gw.cache.set(ckey, orjson.dumps(answer))
        await self.settle(ctx, dep, key)

    async def send_upstream_error(self, ctx: CallContext, status: int, data: bytes, headers: dict[str, str],
                                  send: Send) -> None:
        """An upstream's own error, passed on with its status when it is OpenAI's error shape."""
        ctx.status = status
        try:
            obj = orjson.loads(data)
            ok = type(obj) is dict and isinstance(obj.get("error"), dict | str)
        except orjson.JSONDecodeError:
            ok = False
        if not ok:
            upstream = ctx.upstream or "?"
            data = error_json(f"Upstream '{upstream}' answered {status} with something that is not an error "
                              "object; retry, or ask an admin to check it.", "upstream_error", "upstream_bad_response")
            status = ctx.status = 502
        ctx.error = data[:300].decode("utf-8", "replace")
        extra = [(b"retry-after", headers["retry-after"].encode())] if "retry-after" in headers else []
        if ctx.origin is not None:
            extra += cors_headers(ctx.origin)
        await send_bytes(send, status, data, extra)

    async def settle(self, ctx: CallContext, dep: Deployment, key: KeyRecord | None) -> None:
        """After the answer has left: cost, limits, token metrics."""
        gw = self.gw
        tokens = ctx.prompt_tokens + ctx.completion_tokens
        if tokens:
            ctx.cost = gw.cost(dep, ctx.prompt_tokens, ctx.completion_tokens)
            gw.metrics.tokens(dep.model, ctx.prompt_tokens, ctx.completion_tokens)
            if key is not None:
                await gw.limiter.charge(key, tokens, ctx.cost)


def _set(payload: bytes, key: bytes) -> bool:
    """Whether some `key` in the JSON bytes has a value other than null, without parsing them."""
    i = payload.find(key)
    while i >= 0:
        j = i + len(key)
        while j < len(payload) and payload[j] in b" :":
            j += 1
        if not payload.startswith(b"null", j):
            return True
        i = payload.find(key, j)
    return False


def usage_into(ctx: CallContext, usage: Any) -> None:
    if isinstance(usage, dict):
        ctx.prompt_tokens = int(usage.get("prompt_tokens") or 0)
        ctx.completion_tokens = int(usage.get("completion_tokens") or 0)


def upstream_message(err: UpstreamError) -> str:
    if err.kind == "timeout":
        return f"Upstream '{err.upstream}' timed out ({err.detail}); retry later or with a shorter answer."
    return f"Upstream '{err.upstream}' failed: {err.detail}. Retry, or ask an admin to check it."


def _text_of(route: str, choice: dict[str, Any], stream: bool) -> tuple[dict[str, Any] | None, str]:
    """(the dict holding the text, its key) of one choice."""
    if route == "chat.completions":
        holder = choice.get("delta" if stream else "message")
        return (holder, "content") if isinstance(holder, dict) else (None, "content")
    return choice, "text"


def _guard_answer(hooks: Hooks, ctx: CallContext, route: str, answer: dict[str, Any]) -> None:
    """Pass every choice's whole text through the output hooks (once, then flush)."""
    for c in answer.get("choices") or ():
        holder, field = _text_of(route, c, stream=False)
        if holder is None or not isinstance(holder.get(field), str):
            continue
        ctx.choice = c.get("index", 0)
        try:
            holder[field] = hooks.on_chunk(ctx, holder[field]) + hooks.flush(ctx)
        except Refusal as ref:
            holder[field] = ref.message
            c["finish_reason"] = ref.finish_reason
            ctx.output_refused = True


def _guard_chunk(hooks: Hooks, ctx: CallContext, route: str, obj: dict[str, Any], out: list[bytes]) -> bool:
    """Pass one stream chunk's texts through the hooks; on a finish, flush first. True when refused."""
    for c in obj.get("choices") or ():
        holder, field = _text_of(route, c, stream=True)
        ctx.choice = c.get("index", 0)
        try:
            if holder is not None and isinstance(holder.get(field), str):
                holder[field] = hooks.on_chunk(ctx, holder[field])
            if c.get("finish_reason"):
                rest = hooks.flush(ctx)
                if rest and holder is not None:
                    holder[field] = (holder.get(field) or "") + rest
        except Refusal as ref:
            ctx.output_refused = True
            if route == "chat.completions":
                c["delta"] = {"content": ref.message}
            else:
                c["text"] = ref.message
            c["finish_reason"] = ref.finish_reason
            out.append(encode({**obj, "choices": [c]}))
            return True
    return False


async def _watch_disconnect(receive: Receive, reply: UpstreamReply, gone: list[bool]) -> None:
    """Close the upstream's answer when the client goes away, so that the engine stops generating."""
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            gone.append(True)
            reply.close()
            return
