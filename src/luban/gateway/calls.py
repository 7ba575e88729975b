"""One model call on the hot path: auth from memory, the page's origin, limits, hooks, cache, routing.

Design choices:
- No framework routing or request models: the headers the call needs are read in one scan, the body parsed
  once with orjson (a request's parse and dump plus the answer's parse: 7 us, against 50 us with the
  standard json module, measured here). Starlette's routing and pydantic validation cost more per request
  than everything else the gateway does (the engine behind validates the request anyway).
- One `CallContext` per call; it reaches the hooks' `post_call` for refused calls too.
- Retries: an upstream that did not do the work (429, 502, 503, no connection) is followed by the next
  deployment of the plan after a backoff; the relay (relay.py) sends the answer that came.
- Errors are OpenAI's error objects (errors.py). Before the first byte an upstream failure is an HTTP error
  (502, 503, 504).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from typing import Any

import orjson

from luban.gateway.asgi import Receive, RequestHeaders, Send, read_body, send_error
from luban.gateway.cache import cache_key, deterministic
from luban.gateway.cors import CORS_FIELDS, check_origin, cors_headers, foreign
from luban.gateway.errors import GatewayError, bad_request, model_not_found
from luban.gateway.hooks import CallContext, Hooks, Refusal
from luban.gateway.keys import KeyRecord
from luban.gateway.relay import Relay, upstream_message
from luban.gateway.routing import AllCooling, Route
from luban.gateway.service import Gateway
from luban.gateway.upstreams import UpstreamError

log = logging.getLogger("luban.gateway")
RETRY_STATUSES = (429, 502, 503)  # the upstream did not do the work: another upstream may


class Calls:
    """The calls of one gateway: POST /v1/chat/completions, /v1/completions, /v1/embeddings."""

    def __init__(self, gateway: Gateway) -> None:
        self.gw = gateway
        self.hooks: Hooks = gateway.hooks
        self.relay = Relay(gateway)
        self._prefix = f"req-{os.urandom(6).hex()}-"  # request ids: unique per process, then a counter
        self._seq = 0

    async def __call__(self, route: str, upath: str, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        """One call of `route` ("chat.completions"), forwarded to the upstream path `upath`."""
        gw, hooks = self.gw, self.hooks
        started = time.perf_counter()
        auth = cache_control = purpose = rid = origin = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                auth = value
            elif name == b"cache-control":
                cache_control = value
            elif name == b"x-luban-purpose":
                purpose = value.decode("utf-8", "replace")
            elif name == b"x-request-id":  # nginx's or the client's, to correlate logs; bounded
                rid = value[:128].decode("latin-1")
            elif name == b"origin":  # a web page's call (servers and SDKs send none)
                origin = value
        client = scope.get("client")
        self._seq += 1
        ctx = CallContext(request_id=rid or f"{self._prefix}{self._seq:x}", route=route, body={},
                          client_ip=client[0] if client else "", purpose=purpose)
        if not hooks.empty:
            ctx.headers = RequestHeaders(scope["headers"])
        if origin is not None:
            ctx.origin = foreign(origin, scope)
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
            if ctx.origin is not None:
                check_origin(key, ctx.origin, gw.no_auth)
                ctx.response_headers.update(CORS_FIELDS)
                ctx.response_headers["Access-Control-Allow-Origin"] = ctx.origin
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
                    raise limited(key, decision.reason, decision.retry_after)
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
                    await self.relay.send_cached(ctx, route, hit, stream, send)
                    return
            await self._forward(ctx, route, upath, r, body, ckey, receive, send, key)
        except GatewayError as err:
            ctx.status, ctx.error = err.status, err.message
            if err.status in (401, 403, 429):
                ctx.anomalies.append({401: "auth_failure", 403: "out_of_scope", 429: "limited"}[err.status])
            await send_error(send, err, cors_headers(ctx.origin) if ctx.origin is not None else None)
        except Exception as err:  # a bug (ours or a hook's) is a 500 in OpenAI's format, logged, never a crash
            log.exception("request %s failed", ctx.request_id)
            ctx.status, ctx.error = 500, f"{type(err).__name__}: {err}"
            with contextlib.suppress(Exception):  # fails when the answer had already started: nothing to add
                await send_error(send, GatewayError(500, f"The gateway failed on this request ({type(err).__name__}"
                                                    f"; request id {ctx.request_id}); retry, or ask an admin to "
                                                    "check the gateway's log.", code="internal_error"),
                                 cors_headers(ctx.origin) if ctx.origin is not None else None)
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
                raise GatewayError(err.status, upstream_message(err), code=f"upstream_{err.kind}") from None
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
                    await self.relay.stream(ctx, route, dep, reply, ckey, inject, t0, receive, send, key)
                else:
                    await self.relay.answer(ctx, route, dep, reply, ckey, t0, send, key)
            finally:
                dep.state.in_flight -= 1
            return
        if failure is not None:
            status, data, headers = failure
            await self.relay.send_upstream_error(ctx, status, data, headers, send)
            return
        detail = last_error.detail if last_error else "no upstream could be reached"
        names = ", ".join(d.upstream.name for d in attempts)
        raise GatewayError(502, f"No upstream of model '{r.name}' answered ({names}): {detail}. Retry later; "
                           "an admin can check /health.", code="upstream_connect")


def limited(key: KeyRecord, reason: str, retry_after: float) -> GatewayError:
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
