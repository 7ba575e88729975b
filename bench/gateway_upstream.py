"""A minimal OpenAI-compatible upstream for gateway benchmarks: a fixed chat completion, as fast as Python goes.

A raw asyncio protocol (uvloop when installed) with HTTP/1.1 keep-alive: no framework, no JSON parsing of
the request beyond looking for `"stream": true`, so that the upstream costs as little as possible and the
figures measure what sits in front of it. Streams answer three SSE chunks, usage included.

    python bench/gateway_upstream.py --port 9101
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time

ANSWER = {"id": "chatcmpl-bench", "object": "chat.completion", "created": int(time.time()), "model": "bench",
          "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello from the fixed upstream."},
                       "finish_reason": "stop"}],
          "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19}}
BODY = json.dumps(ANSWER).encode()
RESPONSE = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(BODY)) + BODY
MODELS = json.dumps({"object": "list", "data": [{"id": "bench", "object": "model", "owned_by": "bench"}]}).encode()
MODELS_RESPONSE = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
                   % len(MODELS)) + MODELS


def _chunk(delta: dict, finish: str | None = None, usage: dict | None = None) -> bytes:
    obj = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": ANSWER["created"], "model": "bench",
           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    if usage is not None:
        obj["usage"] = usage
    data = b"data: " + json.dumps(obj).encode() + b"\n\n"
    return b"%x\r\n%s\r\n" % (len(data), data)


STREAM = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
          + _chunk({"role": "assistant", "content": "Hello from "}) + _chunk({"content": "the fixed upstream."})
          + _chunk({}, "stop", ANSWER["usage"]) + b"e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n")


class Upstream(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.t = transport
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end].lower()
            length = 0
            i = head.find(b"content-length:")
            if i >= 0:
                length = int(head[i + 15:head.find(b"\r\n", i) if head.find(b"\r\n", i) > 0 else None])
            if len(self.buf) < end + 4 + length:
                return
            body = self.buf[end + 4:end + 4 + length]
            self.buf = self.buf[end + 4 + length:]
            if head.startswith(b"get"):
                self.t.write(MODELS_RESPONSE)  # type: ignore[attr-defined]
            elif b'"stream":true' in body.replace(b" ", b""):
                self.t.write(STREAM)  # type: ignore[attr-defined]
            else:
                self.t.write(RESPONSE)  # type: ignore[attr-defined]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9101)
    args = ap.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(Upstream, args.host, args.port, backlog=1024))
    with contextlib.suppress(KeyboardInterrupt):
        loop.run_until_complete(server.serve_forever())


if __name__ == "__main__":
    main()
