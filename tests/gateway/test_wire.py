"""One socket write per answer (luban.gateway.wire): a replica that dies between an answer's headers and its
body must leave nothing on the wire, so that nginx may replay the call on another replica.

The end-to-end tests run a real uvicorn in a child process whose app sends the headers and then dies
(os._exit) before the body: the moment a SIGKILL can land on a replica under load. Through the gateway's
protocol the client reads nothing (a retryable failure); through uvicorn's own it reads headers (the case that
lost a call behind nginx)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from gateway_procs import free_port, wait_port

from luban.gateway.server import uvicorn_options
from luban.gateway.wire import OneWriteHttpProtocol, TurnWriter

APP = textwrap.dedent("""
    import os, sys, uvicorn

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        body = b'{"ok": true}'
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]})
        if scope["path"] == "/die":
            os._exit(1)  # the replica dies between the headers and the body
        await send({"type": "http.response.body", "body": body})

    http = sys.argv[2]
    if http == "one-write":
        from luban.gateway.wire import OneWriteHttpProtocol as http
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), http=http, loop="uvloop", log_level="error")
""")


class Recorder:
    """What a transport was asked to write, one entry per write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str) -> str:
        return f"extra:{name}"


def test_the_writes_of_one_loop_turn_leave_in_one_write_and_the_next_turn_writes_apart() -> None:
    async def go() -> Recorder:
        rec = Recorder()
        w = TurnWriter(rec, asyncio.get_running_loop())  # type: ignore[arg-type]
        w.write(b"HTTP/1.1 200 OK\r\n\r\n")
        w.write(b"")
        w.write(b"{}")
        assert rec.writes == [] and w.get_write_buffer_size() == 21  # held until the turn ends
        await asyncio.sleep(0)
        assert rec.writes == [b"HTTP/1.1 200 OK\r\n\r\n{}"]
        w.write(b"data: 1\n\n")  # a stream's next event: its own write, at the end of its own turn
        await asyncio.sleep(0)
        w.write(b"data: 2\n\n")
        w.close()  # closing writes what is held first
        assert w.get_extra_info("peername") == "extra:peername"
        return rec

    rec = asyncio.run(go())
    assert rec.writes == [b"HTTP/1.1 200 OK\r\n\r\n{}", b"data: 1\n\n", b"data: 2\n\n"] and rec.closed


def test_the_gateway_runs_uvicorn_with_the_one_write_protocol() -> None:
    assert uvicorn_options()["http"] is OneWriteHttpProtocol


def _headers_seen_after_death(tmp_path: Path, http: str) -> bytes:
    script = tmp_path / "die_app.py"
    script.write_text(APP)
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(script), str(port), http], stderr=subprocess.PIPE)
    try:
        wait_port(port)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /die HTTP/1.1\r\nhost: x\r\n\r\n")
            got = b""
            try:
                while chunk := s.recv(65536):
                    got += chunk
            except ConnectionResetError:
                pass
        assert proc.wait(10) == 1
        return got
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_a_replica_dying_between_headers_and_body_leaves_nothing_on_the_wire(tmp_path: Path) -> None:
    assert _headers_seen_after_death(tmp_path, "one-write") == b""


@pytest.mark.slow
def test_uvicorns_own_protocol_would_have_sent_the_headers(tmp_path: Path) -> None:
    """The control: without the gateway's protocol the client reads a status line it can never complete."""
    assert _headers_seen_after_death(tmp_path, "httptools").startswith(b"HTTP/1.1 200 OK")
