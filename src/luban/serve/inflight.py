"""The generation requests a server is running now: their token counts, and the graceful drain.

Design choices:
- One `Inflight` per chat or completions request, opened by the app before generation and closed when
  the response (or the stream) ends, however it ends. The choices record their token counts in it as they
  go, so `/metrics` counts streamed, non-streamed and abandoned requests alike, with the exact figures of
  the response's `usage`.
- Drain (SIGTERM): new generation requests are refused with 503 while the socket stays open (so /health
  can say "draining" and a load balancer can take this server out), running ones get `timeout` seconds to
  finish. Past it they are cut through the one contract every engine honours: each sequence's `deadline`
  is moved to now, so it ends at its next token with `finish_reason: "length"` and whatever it has
  generated; the app then adds an error event to a cut stream.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from luban.serve.backends.base import GenerationRequest
from luban.serve.errors import APIError

DRAINING_MESSAGE = "The server is shutting down and takes no new requests; retry on another server."


@dataclass(eq=False)
class Inflight:
    """One request's sequences and token counts while it runs."""

    prompt_tokens: int = 0
    completion: dict[int, int] = field(default_factory=dict)  # choice index -> tokens generated so far
    requests: list[GenerationRequest] = field(default_factory=list)
    started: bool = False  # a first token came back: the prompt was processed
    cut: bool = False  # ended by the drain timeout

    @property
    def completion_tokens(self) -> int:
        return sum(self.completion.values())

    def end_now(self) -> None:
        """Finish every sequence at its next token ("length")."""
        self.cut = True
        now = time.monotonic()
        for r in self.requests:
            r.deadline = now


class InflightSet:
    def __init__(self) -> None:
        self.active: set[Inflight] = set()
        self.draining = False

    def open(self) -> Inflight:
        """Register a new request; 503 (with Retry-After) once the server is draining."""
        if self.draining:
            raise APIError(503, DRAINING_MESSAGE, code="server_shutting_down",
                           headers={"Retry-After": "1", "Connection": "close"})
        track = Inflight()
        self.active.add(track)
        return track

    def close(self, track: Inflight) -> None:
        self.active.discard(track)

    async def drain(self, timeout: float, settle: float = 10.0) -> int:
        """Refuse new requests, wait up to `timeout` s for the running ones, then cut the rest and wait up to
        `settle` s for them to end. Returns how many requests were cut."""
        self.draining = True
        end = time.monotonic() + timeout
        while self.active and time.monotonic() < end:
            await asyncio.sleep(0.05)
        cut = list(self.active)
        for track in cut:
            track.end_now()
        end = time.monotonic() + settle
        while self.active and time.monotonic() < end:
            await asyncio.sleep(0.05)
        return len(cut)
