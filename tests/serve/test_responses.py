"""SSE framing: every event is one line for any line reader, whatever text the model generated."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from luban.serve.responses import sse


def test_generated_line_separators_do_not_split_an_event() -> None:
    texts = ["a\u2028b", "c\u2029d", "e\x85f", "g\nh\r", "\x1c\x1d\x1e", "普通文本"]

    async def chunks() -> AsyncIterator[dict[str, Any]]:
        for t in texts:
            yield {"choices": [{"delta": {"content": t}}]}

    async def collect() -> bytes:
        return b"".join([b async for b in sse(chunks())])

    lines = [ln for ln in asyncio.run(collect()).decode().splitlines() if ln]  # the openai SDK's way
    assert lines[-1] == "data: [DONE]" and len(lines) == len(texts) + 1
    assert [json.loads(ln[6:])["choices"][0]["delta"]["content"] for ln in lines[:-1]] == texts
