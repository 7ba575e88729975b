"""The bare pass-through proxy: the ceiling for any Python gateway here (raw ASGI, dict key check, aiohttp pool).

    uvicorn --app-dir bench gateway_passthrough:app --port 9102 --loop uvloop --http httptools
    (UPSTREAM=http://127.0.0.1:9101 and KEYS=sk-bench,... in the environment)
"""

from __future__ import annotations

import os

import aiohttp

UPSTREAM = os.environ.get("UPSTREAM", "http://127.0.0.1:9101")
KEYS = {k: {"id": k} for k in os.environ.get("KEYS", "sk-bench").split(",")}
session: aiohttp.ClientSession | None = None


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    global session
    if scope["type"] == "lifespan":
        while (msg := await receive())["type"] != "lifespan.shutdown":
            session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=512))
            await send({"type": "lifespan.startup.complete"})
        await session.close()  # type: ignore[union-attr]
        return await send({"type": "lifespan.shutdown.complete"})
    auth = dict(scope["headers"]).get(b"authorization", b"")[7:].decode()
    if auth not in KEYS:
        await send({"type": "http.response.start", "status": 401, "headers": []})
        return await send({"type": "http.response.body", "body": b'{"error":"bad key"}'})
    body, more = b"", True
    while more:
        msg = await receive()
        body, more = body + msg.get("body", b""), msg.get("more_body", False)
    assert session is not None
    async with session.post(UPSTREAM + scope["path"], data=body,
                            headers={"content-type": "application/json"}) as r:
        await send({"type": "http.response.start", "status": r.status,
                    "headers": [(b"content-type", r.headers.get("content-type", "").encode())]})
        async for chunk in r.content.iter_any():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
