"""One socket write per answer: uvicorn's httptools protocol with the writes of one event-loop turn joined.

Why: uvicorn writes a response's status line and headers when the app sends `http.response.start` and the
body with the next message, two `send()` system calls. A replica killed (SIGKILL, OOM killer, a node lost)
between the two leaves nginx holding headers without a body: the call has begun to reach the client, so
nginx may not replay it on another replica and the client gets a broken answer. The gateway sends a whole
JSON answer within one turn of the event loop, so joining that turn's writes makes the answer leave in one
write: a kill lands before it (nginx sees a reset with nothing read and retries the call elsewhere) or
after it (the kernel still delivers what was written). It also saves a system call per answer.

Streams are unchanged in effect: each SSE event is written at the end of the turn that produced it,
microseconds later, never held for the next one.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class TurnWriter:
    """A transport that holds what is written during one event-loop turn and writes it once at its end.

    Everything but writing and closing goes to the real transport (flow control, peer address, ...).
    """

    __slots__ = ("_transport", "_loop", "_held")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not data:
            return
        if not self._held:
            self._loop.call_soon(self.flush)
        self._held.append(data)

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def flush(self) -> None:
        if self._held:
            held, self._held = self._held, []
            if not self._transport.is_closing():
                self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._held))

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held = []
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class OneWriteHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol writing through a TurnWriter (`http=` of uvicorn's config)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(TurnWriter(transport, self.loop))  # type: ignore[arg-type]
