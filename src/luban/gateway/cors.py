"""Browser use of the API (CORS): preflights, and the origins each key may be used from.

A web page on another origin (a company's shop with the chat widget) may call /v1/* when the key it sends
lists that page's origin (`luban keys create NAME --origin https://shop.example.com`, or `*` for any page;
`luban keys origins ID --add ...` for a key that exists).

Design choices:
- A preflight (OPTIONS) carries no key, so it cannot be checked against one: it is answered 204 at once
  with what the gateway accepts, and the real request that follows is checked against its key. A page whose
  origin the key does not list gets a 403 that says so; the browser never gets to read an answer.
- Error answers to a cross-origin request carry `Access-Control-Allow-Origin` too, so that a page can read
  why it was refused (a key not allowed here, expired, rate limited) and say so, instead of a bare
  network error. An error holds nothing the page did not send.
- The gateway's own pages (the console) are same-origin: an `Origin` equal to the request's `Host` (or
  `X-Forwarded-Host`, behind a proxy) is not checked, whatever the scheme (TLS may end at the proxy).
- Requests without an `Origin` header (servers, SDKs, curl) are not touched: the hot path only notes the
  header while it scans the headers it reads anyway.
- A gateway with no keys cannot tell pages apart, so it refuses cross-origin calls (a page the user opens
  must not use a model on their loopback); one started with `--no-auth` has chosen to be open and allows them.
"""

from __future__ import annotations

from typing import Any

from luban.gateway.asgi import Headers, Send, header
from luban.gateway.errors import GatewayError
from luban.gateway.keys import KeyRecord

ALLOW_METHODS = b"POST, GET, OPTIONS"
ALLOW_HEADERS = b"authorization, content-type, x-luban-purpose, x-request-id, cache-control"
# what a page may read of an answer beyond the basics: the AIGC label, the guard's report, the cache, waits
EXPOSE_HEADERS = b"AIGC, X-Luban-Guard, X-Luban-Cache, Retry-After"
MAX_AGE = b"600"  # seconds a browser may reuse a preflight's answer
# on an allowed call's answer, with Access-Control-Allow-Origin (kept in `CallContext.response_headers`)
CORS_FIELDS = {"Vary": "Origin", "Access-Control-Expose-Headers": EXPOSE_HEADERS.decode()}


async def preflight(scope: dict[str, Any], send: Send) -> None:
    """204 with what the gateway accepts from pages; the key is checked on the request that follows."""
    origin = header(scope, b"origin")
    headers: Headers = [(b"access-control-allow-methods", ALLOW_METHODS),
                        (b"access-control-allow-headers", ALLOW_HEADERS),
                        (b"access-control-max-age", MAX_AGE), (b"vary", b"Origin")]
    if origin is not None:
        headers.append((b"access-control-allow-origin", origin))
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def foreign(origin: bytes, scope: dict[str, Any]) -> str | None:
    """The page's origin when it is not the gateway's own, else None (same-origin needs no check)."""
    text = origin.decode("latin-1")
    host = text.partition("://")[2].lower()
    for name in (b"host", b"x-forwarded-host"):
        value = header(scope, name)
        if value is not None and host == value.decode("latin-1").split(",")[0].strip().lower():
            return None
    return text


def cors_headers(origin: str) -> Headers:
    """The headers that let the page at `origin` read an answer."""
    return [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin"),
            (b"access-control-expose-headers", EXPOSE_HEADERS)]


def check_origin(key: KeyRecord | None, origin: str, open_gateway: bool) -> None:
    """A 403 unless `key` may be used from a page at `origin`."""
    if key is None:
        if open_gateway:
            return
        raise GatewayError(403, f"This gateway has no keys, so it does not answer pages on other sites "
                           f"({origin}); an admin can create a key for them (luban keys create NAME --origin "
                           f"{origin}).", code="origin_not_allowed")
    if not key.allows_origin(origin):
        raise GatewayError(403, f"API key {key.id} may not be used from {origin}; an admin can add the origin to "
                           f"the key (luban keys origins {key.id} --add {origin}).", code="origin_not_allowed")

