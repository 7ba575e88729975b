"""Server-sent events as OpenAI streams them: split, read, assemble into one answer, replay from one answer.

Design choices:
- The splitter works on bytes and hands back whole events as soon as their blank line arrives; nothing is
  held longer than one event, so the first byte leaves as soon as the upstream's first event does.
- An event's JSON is parsed only when someone needs it (hooks, the cache, usage); the plain pass-through
  path looks for `"usage":{` in the bytes and parses only that last event.
- `Assembler` turns a stream into the non-streamed answer (content, finish reasons, usage) so that it can
  be cached; answers with tool calls or logprobs are not assembled (they are not cached from streams).
- `replay` turns a cached answer back into a stream: a role-and-content chunk and a finish chunk per
  choice, the usage chunk when asked for, then `[DONE]`.
"""

from __future__ import annotations

from typing import Any

import orjson

DONE = b"data: [DONE]\n\n"


class Splitter:
    """Bytes in, complete events out (each without its trailing blank line)."""

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        buf = self._buf + chunk
        if b"\r" in buf:
            buf = buf.replace(b"\r\n", b"\n")
        parts = buf.split(b"\n\n")
        self._buf = parts.pop()
        return [p for p in parts if p]

    def rest(self) -> bytes:
        return self._buf


def data_of(event: bytes) -> bytes | None:
    """The `data:` payload of an event (joined over several data lines), or None for comments etc."""
    if event.startswith(b"data: ") and b"\n" not in event:
        return event[6:]
    lines = [ln[5:].lstrip(b" ") for ln in event.split(b"\n") if ln.startswith(b"data:")]
    return b"\n".join(lines) if lines else None


def encode(obj: Any) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


class Assembler:
    """Collects a chat or text-completion stream into the non-streamed answer's shape."""

    def __init__(self, route: str) -> None:
        self.route = route
        self.texts: dict[int, list[str]] = {}
        self.finish: dict[int, str | None] = {}
        self.first: dict[str, Any] | None = None
        self.usage: dict[str, Any] | None = None
        self.ok = True  # False once something not assemblable (tool calls, logprobs) was seen

    def add(self, chunk: dict[str, Any]) -> None:
        if self.first is None:
            self.first = chunk
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        for c in chunk.get("choices") or ():
            i = c.get("index", 0)
            if self.route == "chat.completions":
                delta = c.get("delta") or {}
                if delta.get("tool_calls") or delta.get("function_call") or c.get("logprobs"):
                    self.ok = False
                text = delta.get("content")
            else:
                if c.get("logprobs"):
                    self.ok = False
                text = c.get("text")
            if text:
                self.texts.setdefault(i, []).append(text)
            else:
                self.texts.setdefault(i, [])
            if c.get("finish_reason"):
                self.finish[i] = c["finish_reason"]

    def answer(self) -> dict[str, Any] | None:
        if not self.ok or self.first is None or not self.texts or len(self.finish) < len(self.texts):
            return None
        chat = self.route == "chat.completions"
        choices = []
        for i in sorted(self.texts):
            text = "".join(self.texts[i])
            if chat:
                choices.append({"index": i, "message": {"role": "assistant", "content": text},
                                "logprobs": None, "finish_reason": self.finish.get(i)})
            else:
                choices.append({"index": i, "text": text, "logprobs": None, "finish_reason": self.finish.get(i)})
        out = {"id": self.first.get("id", ""), "object": "chat.completion" if chat else "text_completion",
               "created": self.first.get("created", 0), "model": self.first.get("model", ""), "choices": choices}
        if self.usage:
            out["usage"] = self.usage
        return out


def replay(answer: dict[str, Any], route: str, include_usage: bool) -> list[bytes]:
    """A cached non-streamed answer as the SSE events of a stream."""
    chat = route == "chat.completions"
    base = {"id": answer.get("id", ""), "object": "chat.completion.chunk" if chat else "text_completion",
            "created": answer.get("created", 0), "model": answer.get("model", "")}
    events = []
    for c in answer.get("choices", ()):
        i = c.get("index", 0)
        if chat:
            msg = c.get("message") or {}
            delta: dict[str, Any] = {"role": "assistant", "content": msg.get("content") or ""}
            if msg.get("tool_calls"):  # a cached tool call replays as one delta per call, as OpenAI streams it
                delta["content"] = msg.get("content")
                delta["tool_calls"] = [{"index": j, **tc} for j, tc in enumerate(msg["tool_calls"])]
            first = {"index": i, "delta": delta, "logprobs": None, "finish_reason": None}
            last = {"index": i, "delta": {}, "logprobs": None, "finish_reason": c.get("finish_reason")}
        else:
            first = {"index": i, "text": c.get("text", ""), "logprobs": None, "finish_reason": None}
            last = {"index": i, "text": "", "logprobs": None, "finish_reason": c.get("finish_reason")}
        events.append(encode({**base, "choices": [first]}))
        events.append(encode({**base, "choices": [last]}))
    if include_usage and answer.get("usage"):
        events.append(encode({**base, "choices": [], "usage": answer["usage"]}))
    events.append(DONE)
    return events
