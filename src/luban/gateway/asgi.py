"""The hot path's ASGI plumbing: sending an answer or an error as bytes, reading a bounded body, headers.

Design choices:
- Raw ASGI messages, no framework: a JSON answer is two `send` calls with its headers as a list of byte
  pairs, built once; headers are looked up by a scan of the request's list (a handful of entries).
- `RequestHeaders` decodes a header only when a hook reads it: most calls have no hook that looks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

from luban.gateway.errors import GatewayError

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Headers = list[tuple[bytes, bytes]]

JSON_HEADERS = [(b"content-type", b"application/json")]
SSE_HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache"),
               (b"x-accel-buffering", b"no")]


async def send_bytes(send: Send, status: int, body: bytes, headers: Headers | None = None) -> None:
    h = [*JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    if headers:
        h += headers
    await send({"type": "http.response.start", "status": status, "headers": h})
    await send({"type": "http.response.body", "body": body})


async def send_error(send: Send, err: GatewayError, headers: Headers | None = None) -> None:
    extra = [(k.lower().encode(), v.encode()) for k, v in err.headers.items()]
    await send_bytes(send, err.status, err.body(), extra + headers if headers else extra)


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


def header(scope: dict[str, Any], name: bytes) -> bytes | None:
    """The first value of header `name` (lower case bytes), or None."""
    for k, v in scope["headers"]:
        if k == name:
            return bytes(v)
    return None


def encode_headers(headers: dict[str, str]) -> Headers:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


class RequestHeaders(Mapping[str, str]):
    """The request's headers for hooks, decoded only when read; names are matched case-insensitively."""

    def __init__(self, raw: Headers) -> None:
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
