"""An OpenAI-compatible upstream for the gateway's tests: a real HTTP server (uvicorn) in its own process.

It stands in for the commercial APIs that cannot exist here. The model name asks for a behaviour:
- any name: answers "<name>: <last user message>" (chat) or "<name>: <prompt>" (completions), with usage;
  streams it in three pieces when asked, with a usage chunk when `stream_options.include_usage`;
- `garbage`: 200 with a body that is not JSON (a stream of events that are not JSON);
- `drop`: streams two chunks then drops the connection (non-streamed: drops mid-body);
- `slow`: waits `--slow` seconds before answering;
- `fail500`, `busy503`: that status with OpenAI's error object;
- `tool`: a streamed tool call (not cacheable from a stream);
- `slowstream`: a stream whose pieces come one second apart;
- `errorevent`: a stream that ends with the upstream's own error event (as a draining engine does).
GET /stats gives the number of calls and the last request body; POST /stats/reset clears them.
Run: python stub_upstream.py --port 9001 --name up-a
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--name", default="stub")
parser.add_argument("--slow", type=float, default=3.0)
ARGS = parser.parse_args()
STATS: dict[str, Any] = {"calls": 0, "last": None}


async def _read(receive: Any) -> bytes:
    body = b""
    while True:
        msg = await receive()
        body += msg.get("body", b"")
        if not msg.get("more_body"):
            return body


async def _json(send: Any, status: int, obj: Any) -> None:
    data = json.dumps(obj).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


def _text(route: str, req: dict[str, Any]) -> str:
    if route == "chat":
        msgs = req.get("messages") or [{}]
        return f"{ARGS.name}: {msgs[-1].get('content', '')}"
    return f"{ARGS.name}: {req.get('prompt', '')}"


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                await send({"type": msg["type"] + ".complete"})
                if msg["type"] == "lifespan.shutdown":
                    return
        return
    path = scope["path"]
    body = await _read(receive)
    if path == "/stats":
        await _json(send, 200, STATS)
        return
    if path == "/stats/reset":
        STATS.update(calls=0, last=None)
        await _json(send, 200, {})
        return
    if path in ("/v1/models", "/health"):
        await _json(send, 200, {"object": "list", "data": [{"id": "stub", "object": "model"}]})
        return
    req = json.loads(body or b"{}")
    STATS["calls"] += 1
    STATS["last"] = req
    model = req.get("model", "")
    route = "chat" if path == "/v1/chat/completions" else "completions" if path == "/v1/completions" else "emb"
    if model == "fail500":
        await _json(send, 500, {"error": {"message": "stub failure", "type": "server_error", "code": None}})
        return
    if model == "busy503":
        await _json(send, 503, {"error": {"message": "stub busy", "type": "server_error", "code": None}})
        return
    if model == "slow":
        await asyncio.sleep(ARGS.slow)
    if model == "garbage" and not req.get("stream"):
        data = b"<html>this is not json</html>"
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": data})
        return
    if route == "emb":
        inputs = req.get("input")
        inputs = inputs if isinstance(inputs, list) else [inputs]
        await _json(send, 200, {"object": "list", "model": model,
                                "data": [{"object": "embedding", "index": i, "embedding": [0.1, 0.2, float(len(str(x)))]}
                                         for i, x in enumerate(inputs)],
                                "usage": {"prompt_tokens": 3 * len(inputs), "total_tokens": 3 * len(inputs)}})
        return
    text = _text(route, req)
    n = int(req.get("n") or 1)
    usage = {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}
    created = int(time.time())
    if model == "drop" and not req.get("stream"):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")]})
        await send({"type": "http.response.body", "body": b'{"id": "x", "choices": [', "more_body": True})
        raise RuntimeError("dropping the connection on purpose")
    if not req.get("stream"):
        if route == "chat":
            choices = [{"index": i, "message": {"role": "assistant", "content": text}, "logprobs": None,
                        "finish_reason": "stop"} for i in range(n)]
            obj = "chat.completion"
        else:
            choices = [{"index": i, "text": text, "logprobs": None, "finish_reason": "stop"} for i in range(n)]
            obj = "text_completion"
        await _json(send, 200, {"id": "cmpl-stub", "object": obj, "created": created, "model": model,
                                "choices": choices, "usage": usage})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
    include = bool((req.get("stream_options") or {}).get("include_usage"))
    base = {"id": "cmpl-stub", "object": "chat.completion.chunk" if route == "chat" else "text_completion",
            "created": created, "model": model}

    async def event(obj: Any) -> None:
        data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        await send({"type": "http.response.body", "body": b"data: " + data + b"\n\n", "more_body": True})

    if model == "garbage":
        await event(b"{not json at all")
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    pieces = [text[: len(text) // 3], text[len(text) // 3: 2 * len(text) // 3], text[2 * len(text) // 3:]]
    for i in range(n):
        for j, piece in enumerate(pieces):
            if model == "drop" and j == 2:
                raise RuntimeError("dropping the stream on purpose")
            if model == "errorevent" and j == 2:
                await event({"error": {"message": "cut by the drain timeout", "type": "server_error",
                                       "code": "server_shutting_down"}})
                await event(b"[DONE]")
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            if model == "tool" and route == "chat":
                delta: dict[str, Any] = {"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                                         "function": {"name": "f", "arguments": "{}"}}]}
            elif route == "chat":
                delta = {"role": "assistant", "content": piece} if j == 0 else {"content": piece}
            else:
                delta = {}
            choice = {"index": i, "delta": delta, "logprobs": None, "finish_reason": None} if route == "chat" \
                else {"index": i, "text": piece, "logprobs": None, "finish_reason": None}
            await event({**base, "choices": [choice], **({"usage": None} if include else {})})
            await asyncio.sleep(1.0 if model == "slowstream" else 0.01)
        last = {"index": i, "delta": {}, "logprobs": None, "finish_reason": "stop"} if route == "chat" \
            else {"index": i, "text": "", "logprobs": None, "finish_reason": "stop"}
        await event({**base, "choices": [last], **({"usage": None} if include else {})})
    if include:
        await event({**base, "choices": [], "usage": usage})
    await event(b"[DONE]")
    await send({"type": "http.response.body", "body": b"", "more_body": False})


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=ARGS.port, log_level="error", access_log=False)
