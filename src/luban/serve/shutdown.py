"""SIGTERM drains: uvicorn's server with a grace period for the requests that are running.

Design choices:
- The first SIGTERM does not close the socket. The app refuses new generation requests (503) and /health
  answers 503 `{"status": "draining"}`, so a load balancer or Kubernetes takes the server out of rotation,
  while the running requests get `drain_timeout` seconds to finish (`InflightSet.drain`), after which they
  end with `finish_reason: "length"` and an error event. Only then does uvicorn's own shutdown run (closing
  the listener and idle keep-alive connections), and the process exits 0.
- Ctrl-C (SIGINT) and a second SIGTERM keep uvicorn's behaviour: shut down now.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from types import FrameType

import uvicorn

from luban.serve.inflight import InflightSet

log = logging.getLogger("luban.serve")


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, inflight: InflightSet, drain_timeout: float) -> None:
        super().__init__(config)
        self.inflight, self.drain_timeout = inflight, drain_timeout
        self.loop: asyncio.AbstractEventLoop | None = None
        self.drain_task: asyncio.Task[None] | None = None

    async def startup(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
        self.loop = asyncio.get_running_loop()
        await super().startup(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig != signal.SIGTERM or self.inflight.draining or self.loop is None or self.should_exit:
            super().handle_exit(sig, frame)
            return
        self._captured_signals.append(sig)  # re-raised after shutdown, as uvicorn does
        self.inflight.draining = True  # at once: the next request is already refused
        self.loop.call_soon_threadsafe(self._start_drain)

    def _start_drain(self) -> None:
        self.drain_task = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        running = len(self.inflight.active)
        log.warning("SIGTERM: draining %d running request(s), up to %.0f s", running, self.drain_timeout)
        cut = await self.inflight.drain(self.drain_timeout)
        if cut:
            log.warning("drain timeout: %d request(s) cut with finish_reason length", cut)
        self.should_exit = True
