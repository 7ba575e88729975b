"""A bound on request bodies: a body over `limit` bytes gets 413 before anything parses it.

Design choices:
- Pure ASGI middleware. A `Content-Length` over the limit is refused before the body is read; a body
  without one (chunked) is read up to the limit and then replayed to the app, because FastAPI turns any
  error raised while it reads a body into a 400 "error parsing the body", which would hide the reason.
- The message names the limit and the option that raises it, in OpenAI's error object, like every other error.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from luban.serve.errors import error_body

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def _mib(n: int) -> str:
    return f"{n / 2**20:.3g} MiB"


class BodyLimit:
    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        length = next((v for k, v in scope.get("headers", []) if k == b"content-length"), None)
        if length is not None:
            try:
                too_large = int(length) > self.limit
            except ValueError:
                too_large = False  # the server answers a malformed header itself
            if too_large:
                await self._refuse(send, int(length))
                return
            await self.app(scope, receive, send)
            return
        parts: list[bytes] = []
        size, more = 0, True
        while more:
            msg = await receive()
            if msg["type"] != "http.request":  # the client left: let the app see it
                await self.app(scope, _replay([], msg, receive), send)
                return
            parts.append(msg.get("body", b""))
            size += len(parts[-1])
            more = bool(msg.get("more_body", False))
            if size > self.limit:
                await self._refuse(send, None)
                return
        await self.app(scope, _replay(parts, None, receive), send)

    async def _refuse(self, send: Send, size: int | None) -> None:
        got = f"is {size:,} bytes" if size is not None else "is larger than that"
        message = (f"The request body {got}; this server accepts at most {_mib(self.limit)} "
                   f"({self.limit:,} bytes). Send a smaller request, or raise the limit with --max-body-mb.")
        body = json.dumps(error_body(message, "invalid_request_error", code="request_too_large")).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


def _replay(parts: list[bytes], pending: Message | None, receive: Receive) -> Receive:
    """A `receive` that gives the buffered body in one message (or `pending`), then the real `receive`."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return pending if pending is not None else {"type": "http.request", "body": b"".join(parts),
                                                        "more_body": False}
        return await receive()

    return replay
