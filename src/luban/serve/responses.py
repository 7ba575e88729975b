"""Small builders for OpenAI response pieces: usage, logprobs objects, SSE framing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from luban.serve.backends.base import PromptLogprob, TokenLogprob
from luban.serve.errors import error_body, log


def usage(prompt: int, completion: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _lp(t: TokenLogprob) -> dict[str, Any]:
    return {"token": t.token, "logprob": t.logprob, "bytes": t.bytes}


def chat_logprobs(entries: list[tuple[TokenLogprob, list[TokenLogprob]]]) -> dict[str, Any]:
    """Chat format: {"content": [{token, logprob, bytes, top_logprobs: [...]}], "refusal": null}."""
    return {"content": [{**_lp(c), "top_logprobs": [_lp(t) for t in top]} for c, top in entries],
            "refusal": None}


def completion_logprobs(entries: list[tuple[TokenLogprob, list[TokenLogprob]]], offset: int) -> dict[str, Any]:
    """Legacy completions format: parallel lists of tokens, logprobs, top alternatives, text offsets."""
    offsets, pos = [], offset
    for c, _ in entries:
        offsets.append(pos)
        pos += len(c.token)
    return {"tokens": [c.token for c, _ in entries], "token_logprobs": [c.logprob for c, _ in entries],
            "top_logprobs": [{t.token: t.logprob for t in top} for _, top in entries], "text_offset": offsets}


def echo_logprobs(prompt: list[PromptLogprob], entries: list[tuple[TokenLogprob, list[TokenLogprob]]],
                  offset: int) -> dict[str, Any]:
    """Legacy format for `echo` with `logprobs`: the prompt's tokens first (the first with null logprob and
    alternatives), offsets into the echoed prompt, then the completion's from `offset` (the echo's length)."""
    offsets, pos = [], 0
    for p in prompt:
        offsets.append(pos)
        pos += len(p.token)
    done = completion_logprobs(entries, offset)
    return {"tokens": [p.token for p in prompt] + done["tokens"],
            "token_logprobs": [p.logprob for p in prompt] + done["token_logprobs"],
            "top_logprobs": [None if p.top is None else {t.token: t.logprob for t in p.top} for p in prompt]
            + done["top_logprobs"],
            "text_offset": offsets + done["text_offset"]}


async def sse(chunks: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    """Server-sent events: one `data:` line per chunk, then `data: [DONE]`."""
    try:
        async for c in chunks:
            yield _event(c)
    except Exception:  # noqa: BLE001 - headers are sent; report in-band like OpenAI and vLLM do
        log.exception("generation failed mid-stream")
        yield _event(error_body("The server had an error while generating.", "server_error"))
    yield b"data: [DONE]\n\n"


# Characters that JSON leaves as they are but Python's str.splitlines() (used by the openai SDK's and httpx's
# line readers) treats as line ends: sent raw, a generated U+2028 splits an event in two for those clients.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _event(obj: dict[str, Any]) -> bytes:
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).translate(_LINE_BREAKS)
    return b"data: " + text.encode() + b"\n\n"
