"""The gateway's hot path: a small raw ASGI app. Auth from memory, limits, hooks, cache, routing, streaming.

Routes: POST /v1/chat/completions, /v1/completions, /v1/embeddings (calls.py, relayed by relay.py);
OPTIONS /v1/* (a browser's preflight, cors.py); GET /v1/models, /health, /metrics.
Management routes are another ASGI app mounted under /admin (`luban.gateway.admin:create_admin_app`, when
that module exists); in embedded mode (`luban serve`) every other path goes to the engine's own app.

Design choices:
- A dict lookup on the path picks the route; a model call is checked first, so that it pays for nothing
  else. The parts: asgi.py (sending bytes, reading the body), calls.py (the call itself), relay.py (its
  answer or stream), cors.py (web pages).
- Management apps (/admin, /console, /v1/moderations) are mounted by prefix and never on a call's path:
  a bug in a report page cannot slow or stop a request.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
from typing import Any, cast

import orjson

from luban.gateway.asgi import Receive, Send, header, send_bytes, send_error
from luban.gateway.calls import Calls
from luban.gateway.cors import check_origin, cors_headers, foreign, preflight
from luban.gateway.errors import GatewayError
from luban.gateway.hooks import Hooks
from luban.gateway.service import Gateway
from luban.gateway.upstreams import ASGIApp, AsgiCall

log = logging.getLogger("luban.gateway")

CALLS = {"/v1/chat/completions": ("chat.completions", "chat/completions"),
         "/v1/completions": ("completions", "completions"),
         "/v1/embeddings": ("embeddings", "embeddings")}


class GatewayApp:
    """The ASGI app over one `Gateway`."""

    def __init__(self, gateway: Gateway, mounts: dict[str, ASGIApp] | None = None) -> None:
        self.gw = gateway
        self.hooks: Hooks = gateway.hooks
        self.mounts = dict(mounts or {})
        self._call = Calls(gateway)
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
            elif scope["method"] == "OPTIONS" and path.startswith("/v1/"):
                await preflight(scope, send)  # a web page asking before its call (cors.py)
            else:
                await self._other(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
    # -- the other routes -------------------------------------------------------------------------
    async def _models(self, scope: dict[str, Any], send: Send) -> None:
        gw = self.gw
        origin = header(scope, b"origin")
        page = foreign(origin, scope) if origin is not None else None
        cors = cors_headers(page) if page is not None else None
        try:
            key = gw.authenticate(header(scope, b"authorization"))
            if page is not None:
                check_origin(key, page, gw.no_auth)
        except GatewayError as err:
            await send_error(send, err, cors)
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
        await send_bytes(send, 200, orjson.dumps({"object": "list", "data": cards}), cors)

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
                gw.authenticate(header(scope, b"authorization"))
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
