"""The gateway's hot path: a small raw ASGI app. Auth from memory, limits, hooks, cache, routing, streaming.

Routes: POST /v1/chat/completions, /v1/completions, /v1/embeddings; GET /v1/models, /health, /metrics.
Management routes are another ASGI app mounted under /admin (`luban.gateway.admin:create_admin_app`, when
that module exists); in embedded mode (`luban serve`) every other path goes to the engine's own app.

Design choices:
- No framework routing or request models on the hot path: a dict lookup on the path, the body parsed
  once with orjson (a request's parse and dump plus the answer's parse: 7 us, against 50 us with the
  standard json module, measured here), the answer sent as bytes. Starlette's routing and pydantic validation cost more per
  request than everything else the gateway does (the engine behind validates the request anyway).
- One `CallContext` per call; it reaches the hooks' `post_call` for refused calls too.
- Non-streamed answers are read whole (they are small), checked, passed through the output hooks when there
  are any, and sent as the upstream's own bytes when nothing changed them. Streams go event by event: an
  event leaves as soon as its blank line arrives; JSON is parsed only where hooks, the cache or usage need it.
- Usage in streams: the gateway asks the upstream for it (`stream_options.include_usage`) and drops that
  chunk again when the client did not ask, so that TPM limits, budgets and costs see every stream.
- Errors are OpenAI's error objects (errors.py). Before the first byte an upstream failure is an HTTP error
  (502, 503, 504); after it, an `error` event ends the stream, which OpenAI's clients raise as an APIError.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any, cast

import orjson

from luban.gateway.cache import cache_key, deterministic
from luban.gateway.errors import GatewayError, bad_request, error_json, model_not_found
from luban.gateway.hooks import CallContext, Hooks, Refusal
from luban.gateway.keys import KeyRecord
from luban.gateway.routing import AllCooling, Deployment, Route
from luban.gateway.service import Gateway
from luban.gateway.sse import DONE, Assembler, Splitter, data_of, encode, replay
from luban.gateway.upstreams import ASGIApp, AsgiCall, UpstreamError, UpstreamReply

log = logging.getLogger("luban.gateway")
Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]

CALLS = {"/v1/chat/completions": ("chat.completions", "chat/completions"),
         "/v1/completions": ("completions", "completions"),
         "/v1/embeddings": ("embeddings", "embeddings")}
JSON_HEADERS = [(b"content-type", b"application/json")]
SSE_HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache"),
               (b"x-accel-buffering", b"no")]
RETRY_STATUSES = (429, 502, 503)  # the upstream did not do the work: another upstream may


async def send_bytes(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    h = [*JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    if headers:
        h += headers
    await send({"type": "http.response.start", "status": status, "headers": h})
    await send({"type": "http.response.body", "body": body})


async def send_error(send: Send, err: GatewayError) -> None:
    await send_bytes(send, err.status, err.body(), [(k.lower().encode(), v.encode()) for k, v in err.headers.items()])


async def read_body(receive: Receive, limit: int) -> bytes:
    msg = await receive()
    body: bytes = msg.get("body", b"")
    if not msg.get("more_body", False) and len(body) <= limit:
        return body  # the usual case: one message
    parts, size = [body], len(body)
    while msg.get("more_body", False) and size <= limit:
        msg = await receive()
        parts.append(msg.get("body", b""))
        size += len(parts[-1])
    if size > limit:
        raise GatewayError(413, f"The request body is over {limit // (1 << 20)} MiB; send less (or raise "
                           "limits.max_body_mb in gateway.yaml).")
    return b"".join(parts)


class GatewayApp:
    """The ASGI app over one `Gateway`."""

    def __init__(self, gateway: Gateway, mounts: dict[str, ASGIApp] | None = None) -> None:
        self.gw = gateway
        self.hooks: Hooks = gateway.hooks
        self.mounts = dict(mounts or {})
        self._prefix = f"req-{os.urandom(6).hex()}-"  # request ids: unique per process, then a counter
        self._seq = 0
        if "/admin" not in self.mounts and importlib.util.find_spec("luban.gateway.admin") is not None:
            admin = importlib.import_module("luban.gateway.admin")
            self.mounts["/admin"] = admin.create_admin_app(gateway)
        if "/v1/moderations" not in self.mounts:  # OpenAI's moderation endpoint, with the guard's policy
            from luban.gateway.moderations import create_moderations_app

            guard = next((h for h in gateway.hooks.hooks if getattr(h, "name", "") == "guard"), None)
            policy = getattr(guard, "policy_name", "default")
            self.mounts["/v1/moderations"] = cast(ASGIApp, create_moderations_app(policy, gateway.authenticate))
        if gateway.cfg.console and "/console" not in self.mounts:
            from luban.gateway.plugins import MOUNTS

            self.mounts["/console"] = MOUNTS.get("/console")(gateway)

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            path = scope["path"]
            call = CALLS.get(path)
            if call is not None and scope["method"] == "POST":
                await self._call(call[0], call[1], scope, receive, send)
            elif path == "/v1/models" and scope["method"] == "GET":
                await self._models(scope, send)
            elif path == "/health":
                await self._health(send)
            elif path == "/metrics":
                await self._metrics(send)
            else:
                await self._other(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    # -- the call ---------------------------------------------------------------------------------
    async def _call(self, route: str, upath: str, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        gw, hooks = self.gw, self.hooks
        started = time.perf_counter()
        auth = cache_control = purpose = rid = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                auth = value
            elif name == b"cache-control":
                cache_control = value
            elif name == b"x-luban-purpose":
                purpose = value.decode("utf-8", "replace")
            elif name == b"x-request-id":  # nginx's or the client's, to correlate logs; bounded
                rid = value[:128].decode("latin-1")
        client = scope.get("client")
        self._seq += 1
        ctx = CallContext(request_id=rid or f"{self._prefix}{self._seq:x}", route=route, body={},
                          client_ip=client[0] if client else "", purpose=purpose)
        if not hooks.empty:
            ctx.headers = RequestHeaders(scope["headers"])
        label = "-"
        key: KeyRecord | None = None
        try:
            if not gw.ready:
                raise GatewayError(503, "The gateway is starting; retry in a moment.", headers={"Retry-After": "1"})
            body_bytes = await read_body(receive, gw.max_body)
            key = gw.authenticate(auth)
            if key is not None:
                ctx.key = key.caller
                ctx.purpose = ctx.purpose or key.purpose
            try:
                body = orjson.loads(body_bytes)
            except orjson.JSONDecodeError:
                raise bad_request("We could not parse the JSON body of your request: it is not valid JSON.") from None
            if type(body) is not dict:
                raise bad_request("The request body must be a JSON object.")
            ctx.body = body
            model = body.get("model")
            if not isinstance(model, str) or not model:
                raise bad_request("You must provide a model parameter.", param="model")
            ctx.model = model
            ctx.stream = stream = body.get("stream") is True
            r = gw.router.resolve(model)
            if r is None:
                raise model_not_found(model)
            # a model that is not listed (default upstream) is labelled once an upstream has answered it:
            # clients' random names must not grow the metrics without bound
            label = r.name if r.name in gw.router.routes else "-"
            if key is not None:
                self._authorize(key, r, model)
                decision = await gw.limiter.admit(key)
                if not decision.allowed:
                    raise _limited(key, decision.reason, decision.retry_after)
            if not hooks.empty:
                try:
                    await hooks.pre_call(ctx)
                except Refusal as ref:
                    raise GatewayError(ref.status, ref.message, code=ref.code) from None
                body = ctx.body
            options = body.pop("luban", None)
            ckey = self._cache_key(route, r, body, options, cache_control)
            if ckey is not None and (cache_control is None or b"no-cache" not in cache_control):
                assert gw.cache is not None
                hit = await gw.cache.get(ckey)
                gw.metrics.cache(hit is not None)
                if hit is not None:
                    await self._send_cached(ctx, route, hit, stream, send)
                    return
            await self._forward(ctx, route, upath, r, body, ckey, receive, send, key)
        except GatewayError as err:
            ctx.status, ctx.error = err.status, err.message
            if err.status in (401, 403, 429):
                ctx.anomalies.append({401: "auth_failure", 403: "out_of_scope", 429: "limited"}[err.status])
            await send_error(send, err)
        except Exception as err:  # a bug (ours or a hook's) is a 500 in OpenAI's format, logged, never a crash
            log.exception("request %s failed", ctx.request_id)
            ctx.status, ctx.error = 500, f"{type(err).__name__}: {err}"
            with contextlib.suppress(Exception):  # fails when the answer had already started: nothing to add
                await send_error(send, GatewayError(500, f"The gateway failed on this request ({type(err).__name__}"
                                                    f"; request id {ctx.request_id}); retry, or ask an admin to "
                                                    "check the gateway's log.", code="internal_error"))
        finally:
            ctx.latency_ms = (time.perf_counter() - started) * 1000.0
            if label == "-" and ctx.status == 200 and ctx.upstream_model:
                label = ctx.upstream_model
            gw.metrics.request(route, label, ctx.status, ctx.latency_ms / 1000.0)
            if not hooks.empty:
                try:
                    await hooks.post_call(ctx)
                except Exception:  # noqa: BLE001 - the answer has left; a hook's failure is logged, not raised
                    log.exception("a post_call hook failed on request %s", ctx.request_id)

    def _authorize(self, key: KeyRecord, r: Route, asked: str) -> None:
        if key.role == "auditor":
            raise GatewayError(403, f"API key {key.id} has the auditor role, which reads audit records and "
                               "cannot call models; use an app or developer key.", code="permission_denied")
        if not key.allows(r.name, asked, *r.aliases):
            scopes = ", ".join(key.scopes)
            raise GatewayError(403, f"API key {key.id} may not call model '{asked}' (its scopes: {scopes}); "
                               "ask an admin to widen the key's scopes or use a model inside them.",
                               code="model_not_allowed", param="model")

    def _cache_key(self, route: str, r: Route, body: dict[str, Any], options: Any,
                   cache_control: bytes | None) -> str | None:
        gw = self.gw
        if gw.cache is None or not r.cache:
            return None
        if cache_control is not None and b"no-store" in cache_control:
            return None
        opted = isinstance(options, dict) and options.get("cache") is True
        if gw.cfg.cache.deterministic_only and not opted and not deterministic(route, body):
            return None
        return cache_key(route, r.name, body)

    async def _send_cached(self, ctx: CallContext, route: str, data: bytes, stream: bool, send: Send) -> None:
        ctx.cache_hit = True
        ctx.status = 200
        hooks = self.hooks
        if not stream and not hooks.output and not ctx.response_fields:
            _usage_into(ctx, orjson.loads(data).get("usage"))
            await send_bytes(send, 200, data, [(b"x-luban-cache", b"hit")])
            return
        answer = orjson.loads(data)
        _usage_into(ctx, answer.get("usage"))
        if hooks.output:
            _guard_answer(hooks, ctx, route, answer)
        answer.update(ctx.response_fields)
        extra = [(b"x-luban-cache", b"hit"), *_encode_headers(ctx.response_headers)]
        if not stream:
            await send_bytes(send, 200, orjson.dumps(answer), extra)
            return
        include = bool((ctx.body.get("stream_options") or {}).get("include_usage"))
        await send({"type": "http.response.start", "status": 200, "headers": [*SSE_HEADERS, *extra]})
        await send({"type": "http.response.body", "body": b"".join(replay(answer, route, include))})

    async def _forward(self, ctx: CallContext, route: str, upath: str, r: Route, body: dict[str, Any],
                       ckey: str | None, receive: Receive, send: Send, key: KeyRecord | None) -> None:
        gw = self.gw
        stream = ctx.stream
        asked_usage = bool(stream and isinstance(body.get("stream_options"), dict)
                           and body["stream_options"].get("include_usage"))
        failure: tuple[int, bytes, dict[str, str]] | None = None
        last_error: UpstreamError | None = None
        try:
            attempts = gw.router.plan(r)
        except AllCooling as err:
            raise GatewayError(503, str(err), code="upstreams_unavailable",
                               headers={"Retry-After": str(err.retry_after)}) from None
        for i, dep in enumerate(attempts):
            if i:
                await asyncio.sleep(gw.cfg.routing.backoff * (2 ** (i - 1)))
                if not dep.state.available(time.monotonic()):
                    continue
            body["model"] = dep.model
            inject = stream and not asked_usage and dep.upstream.config.stream_usage and route != "embeddings"
            if inject:
                body["stream_options"] = {"include_usage": True}
            payload = orjson.dumps(body)
            if inject:
                del body["stream_options"]
            ctx.upstream, ctx.upstream_model = dep.upstream.name, dep.model
            dep.state.in_flight += 1
            t0 = time.perf_counter()
            try:
                reply = await dep.upstream.send(upath, payload)
            except UpstreamError as err:
                dep.state.in_flight -= 1
                gw.router.failed(dep, err.detail)
                gw.metrics.upstream_error(dep.upstream.name, err.kind)
                if err.retryable:
                    last_error = err
                    continue
                raise GatewayError(err.status, _upstream_message(err), code=f"upstream_{err.kind}") from None
            if reply.status in RETRY_STATUSES and i + 1 < len(attempts):
                try:
                    failure = (reply.status, await reply.read(), reply.headers)
                except UpstreamError:
                    failure = None
                dep.state.in_flight -= 1
                gw.router.failed(dep, f"answered {reply.status}")
                gw.metrics.upstream_error(dep.upstream.name, f"http_{reply.status}")
                continue
            try:
                if stream and reply.status == 200:
                    await self._stream(ctx, route, dep, reply, ckey, inject, t0, receive, send, key)
                else:
                    await self._answer(ctx, route, dep, reply, ckey, t0, send, key)
            finally:
                dep.state.in_flight -= 1
            return
        if failure is not None:
            status, data, headers = failure
            await self._send_upstream_error(ctx, status, data, headers, send)
            return
        detail = last_error.detail if last_error else "no upstream could be reached"
        names = ", ".join(d.upstream.name for d in attempts)
        raise GatewayError(502, f"No upstream of model '{r.name}' answered ({names}): {detail}. Retry later; "
                           "an admin can check /health.", code="upstream_connect")

    async def _answer(self, ctx: CallContext, route: str, dep: Deployment, reply: UpstreamReply, ckey: str | None,
                      t0: float, send: Send, key: KeyRecord | None) -> None:
        gw, hooks = self.gw, self.hooks
        try:
            data = await reply.read()
        except UpstreamError as err:
            gw.router.failed(dep, err.detail)
            gw.metrics.upstream_error(dep.upstream.name, err.kind)
            raise GatewayError(err.status, _upstream_message(err), code=f"upstream_{err.kind}") from None
        if reply.status != 200:
            if reply.status >= 500:
                gw.router.failed(dep, f"answered {reply.status}")
                gw.metrics.upstream_error(dep.upstream.name, f"http_{reply.status}")
            await self._send_upstream_error(ctx, reply.status, data, reply.headers, send)
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
        _usage_into(ctx, answer.get("usage"))
        ctx.status = 200
        out = data
        if hooks.output or ctx.response_fields:
            if hooks.output:
                _guard_answer(hooks, ctx, route, answer)
            answer.update(ctx.response_fields)
            out = orjson.dumps(answer)
        await send_bytes(send, 200, out, _encode_headers(ctx.response_headers) if ctx.response_headers else None)
        if ckey is not None and gw.cache is not None:
            await gw.cache.set(ckey, data)
        await self._settle(ctx, dep, key)

    async def _stream(self, ctx: CallContext, route: str, dep: Deployment, reply: UpstreamReply, ckey: str | None,
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
                    "headers": [*SSE_HEADERS, *_encode_headers(ctx.response_headers)]})
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
                        _usage_into(ctx, obj["usage"])
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
                                "body": b"data: " + error_json(_upstream_message(err), "upstream_error",
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
        await self._settle(ctx, dep, key)

    async def _send_upstream_error(self, ctx: CallContext, status: int, data: bytes, headers: dict[str, str],
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
        extra = [(b"retry-after", headers["retry-after"].encode())] if "retry-after" in headers else None
        await send_bytes(send, status, data, extra)

    async def _settle(self, ctx: CallContext, dep: Deployment, key: KeyRecord | None) -> None:
        """After the answer has left: cost, limits, token metrics."""
        gw = self.gw
        tokens = ctx.prompt_tokens + ctx.completion_tokens
        if tokens:
            ctx.cost = gw.cost(dep, ctx.prompt_tokens, ctx.completion_tokens)
            gw.metrics.tokens(dep.model, ctx.prompt_tokens, ctx.completion_tokens)
            if key is not None:
                await gw.limiter.charge(key, tokens, ctx.cost)

    # -- the other routes -------------------------------------------------------------------------
    async def _models(self, scope: dict[str, Any], send: Send) -> None:
        gw = self.gw
        try:
            key = gw.authenticate(_header(scope, b"authorization"))
        except GatewayError as err:
            await send_error(send, err)
            return
        names = list(gw.router.routes)
        if gw.router.default is not None:
            up = gw.upstreams[gw.router.default]
            with contextlib.suppress(Exception):
                status, data = await up.get("models", timeout=5.0)
                if status == 200:
                    names += [m["id"] for m in orjson.loads(data).get("data", []) if m.get("id") not in names]
        if key is not None:
            names = [n for n in names if key.allows(n)]
        cards = [{"id": n, "object": "model", "created": 0, "owned_by": "luban"} for n in names]
        await send_bytes(send, 200, orjson.dumps({"object": "list", "data": cards}))

    async def _health(self, send: Send) -> None:
        gw = self.gw
        states = gw.router.snapshot()
        engine_ok = True
        if gw.engine_app is not None:
            reply = await AsgiCall(gw.engine_app, "GET", "/health", b"").start("engine")
            engine_body = await reply.read()
            engine_ok = reply.status == 200
            if not engine_ok:
                await send_bytes(send, reply.status, engine_body, [(b"retry-after", b"2")])
                return
        ok = gw.ready and engine_ok
        body = {"status": "ok" if ok else "starting", "keys": len(gw.keys), "auth": gw.auth_required,
                "upstreams": {n: "cooling" if s["cooling"] else "ok" for n, s in states.items()}}
        await send_bytes(send, 200 if ok else 503, orjson.dumps(body))

    async def _metrics(self, send: Send) -> None:
        data = self.gw.metrics.render()
        if self.gw.engine_app is not None:
            reply = await AsgiCall(self.gw.engine_app, "GET", "/metrics", b"").start("engine")
            data += await reply.read()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain; version=0.0.4; charset=utf-8")]})
        await send({"type": "http.response.body", "body": data})

    async def _other(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        path = scope["path"]
        for prefix, app in self.mounts.items():
            if path == prefix or path.startswith(prefix + "/"):
                sub = dict(scope)  # ASGI: `path` keeps the prefix, `root_path` names it (Starlette strips it)
                sub["root_path"] = scope.get("root_path", "") + prefix
                sub["path"] = sub["root_path"] + (path[len(prefix):] or "/")
                await app(sub, receive, send)
                return
        gw = self.gw
        if gw.engine_app is not None:  # embedded: the engine's other routes, behind the same keys
            try:
                gw.authenticate(_header(scope, b"authorization"))
            except GatewayError as err:
                await send_error(send, err)
                return
            await gw.engine_app(scope, receive, send)
            return
        await send_error(send, GatewayError(404, f"Unknown path {path}; this gateway serves /v1/chat/completions, "
                                            "/v1/completions, /v1/embeddings and /v1/models."))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                try:
                    await self.gw.start()
                except Exception as err:  # noqa: BLE001 - reported to the server, which exits
                    log.exception("the gateway failed to start")
                    await send({"type": "lifespan.startup.failed", "message": str(err)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                await self.gw.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


class RequestHeaders(Mapping[str, str]):
    """The request's headers for hooks, decoded only when read; names are matched case-insensitively."""

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self.raw = raw

    def __getitem__(self, name: str) -> str:
        key = name.lower().encode("latin-1")
        for k, v in self.raw:
            if k == key:
                return v.decode("latin-1")
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return (k.decode("latin-1") for k, _ in self.raw)

    def __len__(self) -> int:
        return len(self.raw)


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


def _header(scope: dict[str, Any], name: bytes) -> bytes | None:
    for k, v in scope["headers"]:
        if k == name:
            return bytes(v)
    return None


def _encode_headers(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


def _usage_into(ctx: CallContext, usage: Any) -> None:
    if isinstance(usage, dict):
        ctx.prompt_tokens = int(usage.get("prompt_tokens") or 0)
        ctx.completion_tokens = int(usage.get("completion_tokens") or 0)


def _limited(key: KeyRecord, reason: str, retry_after: float) -> GatewayError:
    wait = str(max(1, int(retry_after + 0.999)))
    if reason == "budget":
        return GatewayError(429, f"API key {key.id} has spent its {key.budget_period} budget of {key.budget:g}; "
                            "ask an admin to raise it, or wait for the next period.", code="insufficient_quota",
                            type="insufficient_quota", headers={"Retry-After": wait} if key.budget_period != "total"
                            else {})
    limit = f"{key.rpm} requests" if reason == "rpm" else f"{key.tpm} tokens"
    return GatewayError(429, f"Rate limit reached for API key {key.id}: {limit} per minute. Retry after {wait} s, "
                        "or ask an admin for a higher limit.", code="rate_limit_exceeded",
                        headers={"Retry-After": wait})


def _upstream_message(err: UpstreamError) -> str:
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
