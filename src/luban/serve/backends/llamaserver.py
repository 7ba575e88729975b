"""llama-server backend: llama.cpp's own C++ server as a supervised child process behind Luban's API.

Design choices:
- The engine CPU and edge users pick is llama.cpp; its server batches parallel slots in C++, which
  in-process llama-cpp-python (one request at a time) cannot. So Luban orchestrates it rather than
  racing it: the child listens on a free loopback port, and Luban's OpenAI layer passes whole requests
  through (`passes_through` / `forward`), as with a remote upstream. The client sees one API.
- The binary comes from `make gguf` (built from the sources vendored in the llama-cpp-python sdist);
  looked up as option `binary`, then $LUBAN_LLAMA_SERVER, next to the running Python, then on PATH.
- Flags: `--parallel` slots (option `parallel`, else `max_batch` capped at 16), one unified KV pool
  of `parallel` x the model's training context (read from the GGUF, capped at 32k; or option
  `context_length`), so every request may use the model's whole context even when all slots are busy; threads = usable cores (option `threads`); `--jinja`
  for the model's own chat template and tool calling; LoRA adapters loaded unapplied and chosen per
  request (`base:adapter` -> llama.cpp's per-request `lora` scales).
- Supervision: a thread waits on the child; if it dies Luban restarts it with backoff (0.5 s doubling
  to 30 s; reset after a minute up) on a fresh port, while requests wait up to `restart_wait` seconds.
  A stream cut by a crash ends with an OpenAI error event. The child gets SIGTERM when Luban stops,
  and PR_SET_PDEATHSIG so it cannot outlive a killed Luban.
- llama.cpp's errors become OpenAI's (context overflow -> 400 `context_length_exceeded`, its 501
  -> 400 unsupported); its connection habits (closing after a stream) are absorbed: a request that
  meets a connection the child already closed is resent once before any byte went to the client.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from starlette.responses import JSONResponse, Response, StreamingResponse

from luban.core.errors import LubanError, UsageError
from luban.serve.backends.base import Capabilities, GenerationRequest, ModelSpec, Occupancy, Step
from luban.serve.backends.remote import RemoteBackend

log = logging.getLogger("luban.serve")

MAKE_HINT = "run `make gguf` (builds llama.cpp's llama-server from the vendored sources), or serve the file " \
            "in-process with --backend llamacpp"
OPENAI_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                404: "invalid_request_error", 429: "rate_limit_error", 503: "server_error"}


def find_binary(option: str | None = None) -> Path:
    """The llama-server executable, or the one-line error that says to run `make gguf`."""
    named = option or os.environ.get("LUBAN_LLAMA_SERVER")
    candidates = [named] if named else [str(Path(sys.executable).parent / "llama-server"), shutil.which("llama-server")]
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return Path(c)
    where = f"'{named}' is not an executable file" if named else "not found next to Python or on PATH"
    raise UsageError(f"llama.cpp's llama-server binary: {where}", MAKE_HINT)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _die_with_parent() -> None:  # runs in the child before exec (Linux): SIGTERM when Luban dies
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def gguf_context_length(path: Path) -> int:
    """`<arch>.context_length` from a GGUF file's metadata (0 when absent or unreadable)."""
    import struct

    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
    try:
        with path.open("rb") as f:
            if f.read(4) != b"GGUF":
                return 0
            f.read(4 + 8)  # version, tensor count
            (n_kv,) = struct.unpack("<Q", f.read(8))

            size = path.stat().st_size

            def string() -> str:
                (n,) = struct.unpack("<Q", f.read(8))
                if n > size:  # a damaged header: never read (or allocate) past the file
                    raise ValueError(f"string of {n} bytes in a {size}-byte file")
                return f.read(n).decode("utf-8", "replace")

            def skip(kind: int) -> None:
                if kind == 8:
                    string()
                elif kind == 9:
                    item, count = struct.unpack("<IQ", f.read(12))
                    if item in sizes:
                        f.seek(sizes[item] * count, 1)
                    else:
                        for _ in range(count):
                            skip(item)
                else:
                    f.seek(sizes[kind], 1)

            for _ in range(min(n_kv, 100_000)):
                key = string()
                (kind,) = struct.unpack("<I", f.read(4))
                if key.endswith(".context_length") and kind in (4, 5, 10, 11):
                    fmt = {4: "<I", 5: "<i", 10: "<Q", 11: "<q"}[kind]
                    return int(struct.unpack(fmt, f.read(sizes[kind]))[0])
                skip(kind)
    except (OSError, struct.error, KeyError, OverflowError, ValueError, MemoryError):
        return 0
    return 0


def _why(log_text: str) -> str:
    """The most telling line of a failed child's log."""
    lines = [ln.strip() for ln in log_text.splitlines() if ln.strip()]
    for key in ("failed to load model", "gguf_init", "error:", "failed", "error"):
        hits = [ln for ln in lines if key in ln.lower()]
        if hits:
            return hits[0][:300]
    return lines[-1][:300] if lines else "no output"


class LlamaServerBackend(RemoteBackend):
    """A GGUF model served by a supervised `llama-server` child; requests are passed through to it."""

    def __init__(self, spec: ModelSpec) -> None:
        from luban.serve.backends.llamacpp import find_gguf

        self.spec = spec
        self.model_id = spec.model_id
        o = spec.options
        self.gguf = find_gguf(Path(spec.source))
        self.parallel = int(o.get("parallel") or min(int(o.get("max_batch", 8)), 16))
        self.threads = int(o.get("threads") or len(os.sched_getaffinity(0)))
        self.ctx = int(o.get("context_length", 0))  # 0: the model's training context
        self.fixed_port = int(o["port"]) if o.get("port") else None
        self.startup_timeout = float(o.get("startup_timeout", 300))
        self.restart_wait = float(o.get("restart_wait", 30))
        self.extra_args = [str(a) for a in o.get("extra_args", [])]
        self.adapter_names = list(spec.adapters)
        self.upstream_model = spec.model_id
        self.headers: dict[str, str] = {}
        self.timeout = httpx.Timeout(float(o.get("timeout", 600)), connect=5.0)
        self.capabilities = Capabilities(context_length=self.ctx or 4096, embeddings=False, logprobs=True,
                                         constrained=True, adapters=tuple(self.adapter_names))
        self.binary: Path | None = None
        self.port = 0
        self.base_url = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = Path(tempfile.mkdtemp(prefix="luban-llama-server-")) / "llama-server.log"
        self._ready = threading.Event()
        self._closing = False
        self._lock = threading.Lock()
        self._supervisor: threading.Thread | None = None
        self._client: httpx.AsyncClient | None = None
        self._client_url = ""
        self._active = 0
        self.restarts = 0

    # -- the child process ------------------------------------------------------------------------

    def command(self, port: int) -> list[str]:
        assert self.binary is not None
        cmd = [str(self.binary), "-m", str(self.gguf), "--host", "127.0.0.1", "--port", str(port),
               "--alias", self.model_id, "--parallel", str(self.parallel), "--kv-unified",
               "--kv-unified-per-slot", str(self.slot_context()),
               "--threads", str(self.threads), "--threads-batch", str(self.threads),
               "--threads-http", str(self.parallel + 4), "--jinja", "--no-webui"]
        for path in self.spec.adapters.values():
            cmd += ["--lora", str(_gguf_adapter(Path(path)))]
        if self.spec.adapters:
            cmd.append("--lora-init-without-apply")
        return cmd + self.extra_args

    def slot_context(self) -> int:
        """Tokens one request may use: option context_length, else the model's training context capped at
        32k; the shared KV pool holds `parallel` times that."""
        return self.ctx or min(gguf_context_length(self.gguf) or 4096, 32768)

    def load(self) -> None:
        self.binary = find_binary(self.spec.options.get("binary"))
        if not self.gguf.is_file():
            raise UsageError(f"{self.gguf} does not exist", "point at a .gguf file")
        if self.fixed_port is not None and _port_in_use(self.fixed_port):
            raise UsageError(f"port {self.fixed_port} on 127.0.0.1 is already in use: llama-server cannot listen "
                             "there", "free it, or leave the port option out (a free port is picked)")
        self._start()
        self._read_props()
        self._supervisor = threading.Thread(target=self._supervise, name=f"llama-server-{self.model_id}",
                                            daemon=True)
        self._supervisor.start()

    def _start(self) -> None:
        """Start the child and wait until /health says ok; raise a one-line LubanError if it cannot."""
        for attempt in range(3):
            port = self.fixed_port or free_port()
            with self._log.open("wb") as out:
                proc = subprocess.Popen(self.command(port), stdout=out, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
            if self._wait_healthy(proc, port):
                with self._lock:
                    self._proc, self.port = proc, port
                    self.base_url = f"http://127.0.0.1:{port}/v1"
                self._ready.set()
                return
            text = self._log.read_text(errors="replace")
            if "bind" in text.lower() and "port" not in (self.spec.options or {}) and attempt < 2:
                continue  # the free port was taken in between: pick another
            if "bind" in text.lower():
                raise UsageError(f"llama-server could not listen on 127.0.0.1:{port}: {_why(text)}",
                                 "free the port, or leave the port option out")
            raise LubanError(f"llama-server could not serve {self.gguf.name}: {_why(text)}",
                             f"check that it is a GGUF file llama.cpp can load (full log: {self._log})")
        raise LubanError("llama-server did not start after 3 tries", f"see {self._log}")

    def _wait_healthy(self, proc: subprocess.Popen[bytes], port: int) -> bool:
        end = time.monotonic() + self.startup_timeout
        while time.monotonic() < end:
            if proc.poll() is not None:
                return False
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    return True
            time.sleep(0.1)
        proc.kill()
        proc.wait()
        raise LubanError(f"llama-server did not become healthy in {self.startup_timeout:.0f} s",
                         f"raise option startup_timeout, or see {self._log}")

    def _read_props(self) -> None:
        """The context one request may use, as the child reports it."""
        with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
            props = httpx.get(f"http://127.0.0.1:{self.port}/props", timeout=5).json()
            n_ctx = int(props["default_generation_settings"]["n_ctx"])
            self.capabilities = Capabilities(context_length=n_ctx, embeddings=False, logprobs=True, constrained=True,
                                             adapters=tuple(self.adapter_names))

    def _supervise(self) -> None:
        failures = 0
        while not self._closing:
            proc = self._proc
            if proc is None:
                return
            started = time.monotonic()
            code = proc.wait()
            if self._closing:
                return
            self._ready.clear()
            failures = 0 if time.monotonic() - started > 60 else failures + 1
            delay = min(30.0, 0.5 * 2 ** max(0, failures - 1))
            log.warning("llama-server for %s exited with %s; restarting in %.1f s", self.model_id, code, delay)
            time.sleep(delay)
            if self._closing:
                return
            try:
                self._start()
                self.restarts += 1
            except LubanError as err:  # the dead process stays: the loop backs off further and tries again
                log.error("llama-server for %s did not restart: %s", self.model_id, err)

    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    # -- requests -----------------------------------------------------------------------------------

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None or self._client_url != self.base_url:
            old = self._client
            self._client = httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout,
                                             limits=httpx.Limits(max_connections=None, max_keepalive_connections=64))
            self._client_url = self.base_url
            if old is not None:
                import asyncio

                asyncio.get_running_loop().create_task(old.aclose())
        return self._client

    async def _wait_ready(self) -> None:
        import asyncio

        from luban.serve.errors import APIError

        end = time.monotonic() + self.restart_wait
        while not self._ready.is_set():
            if self._closing or time.monotonic() > end:
                raise APIError(503, f"the llama-server engine of '{self.model_id}' is restarting; retry shortly",
                               type="server_error", headers={"Retry-After": "2"})
            await asyncio.sleep(0.05)

    async def _send(self, path: str, body: dict[str, Any]) -> httpx.Response:
        """POST to the child; resent once on a connection it had closed or while it restarts."""
        import asyncio

        from luban.serve.errors import APIError

        for attempt in range(4):
            if not self._ready.is_set():
                await self._wait_ready()
            request = self.client.build_request("POST", "/" + path, json=body)
            try:
                return await self.client.send(request, stream=True)
            except (httpx.RemoteProtocolError, httpx.ConnectError, httpx.ReadError, httpx.WriteError) as err:
                if attempt == 3:
                    raise APIError(503, f"the llama-server engine of '{self.model_id}' is unreachable "
                                   f"({err.__class__.__name__}); retry shortly", type="server_error",
                                   headers={"Retry-After": "2"}) from err
                if isinstance(err, httpx.ConnectError):
                    # nothing listens: the child has just died (its supervisor, blocked in wait(), is about to
                    # clear `_ready` and restart it) or is not up yet; a moment later the loop waits for it
                    await asyncio.sleep(0.25 * (attempt + 1))
        raise AssertionError("unreachable")

    def passes_through(self) -> bool:
        return True

    async def forward(self, path: str, payload: dict[str, Any]) -> Response:
        from luban.serve.errors import APIError

        if path == "embeddings":
            raise APIError(400, f"model '{self.model_id}' (llama-server) serves no embeddings", param="model",
                           code="model_not_supported")
        model = str(payload.get("model", self.model_id))
        body = dict(payload)
        _, sep, adapter = model.rpartition(":")
        if self.adapter_names:
            chosen = adapter if sep and adapter in self.adapter_names else None
            body["lora"] = [{"id": i, "scale": 1.0 if name == chosen else 0.0}
                            for i, name in enumerate(self.adapter_names)]
        self._active += 1
        try:
            upstream = await self._send(path, body)
        except BaseException:
            self._active -= 1
            raise
        if upstream.status_code != 200 or not body.get("stream"):
            try:
                raw = await upstream.aread()
            finally:
                await upstream.aclose()
                self._active -= 1
            return _answer(upstream.status_code, raw, model)
        rename = (f'"model":"{self.model_id}"'.encode(), f'"model":{json.dumps(model)}'.encode()) \
            if model != self.model_id else None

        async def relay() -> AsyncIterator[bytes]:
            tail = b"\n\n"
            try:
                async for piece in upstream.aiter_raw():
                    if rename is not None:
                        piece = piece.replace(*rename)
                    if b'{"error"' in piece:
                        piece = _openai_error_events(piece)
                    tail = piece[-2:]
                    yield piece
            except httpx.HTTPError as err:
                sep = b"" if tail == b"\n\n" else b"\n\n"
                event = {"error": {"message": f"the llama-server engine of '{self.model_id}' failed mid-stream "
                                              f"({err.__class__.__name__}); it is being restarted: retry the request",
                                   "type": "server_error", "param": None, "code": "engine_failed"}}
                yield sep + b"data: " + json.dumps(event).encode() + b"\n\n"
            finally:
                self._active -= 1
                await upstream.aclose()

        return StreamingResponse(relay(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def generate(self, request: GenerationRequest) -> AsyncGenerator[Step, None]:
        await self._wait_ready()
        async for step in super().generate(request):
            yield step

    def occupancy(self) -> Occupancy | None:
        return Occupancy(running=min(self._active, self.parallel), waiting=max(0, self._active - self.parallel),
                         steps=0)

    async def aclose(self) -> None:
        self.stop()
        await super().aclose()

    def stop(self) -> None:
        """SIGTERM the child (SIGKILL after 10 s); no restart follows."""
        self._closing = True
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _gguf_adapter(path: Path) -> Path:
    """A LoRA adapter as llama.cpp loads it: a .gguf file, or a folder holding exactly one."""
    if path.is_file() and path.suffix == ".gguf":
        return path
    found = sorted(path.glob("*.gguf")) if path.is_dir() else []
    if len(found) == 1:
        return found[0]
    raise UsageError(f"LoRA adapter {path} has no GGUF file for llama-server",
                     "convert it with llama.cpp's convert_lora_to_gguf.py (luban.compress.gguf_export.export_lora_gguf)")


def _openai_error(status: int, err: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """llama.cpp's `{"code": 400, "message", "type"}` as OpenAI's error object (status, body)."""
    message = str(err.get("message", "llama-server failed"))
    kind = str(err.get("type", ""))
    if kind == "exceed_context_size_error":
        n_prompt, n_ctx = err.get("n_prompt_tokens"), err.get("n_ctx")
        if n_prompt is not None and n_ctx is not None:
            message = (f"This model's maximum context length is {n_ctx} tokens. However, your prompt is {n_prompt} "
                       "tokens. Please reduce the length of the prompt.")
        return 400, {"error": {"message": message, "type": "invalid_request_error", "param": "messages",
                               "code": "context_length_exceeded"}}
    if status == 501 or kind == "not_supported_error":
        return 400, {"error": {"message": message, "type": "invalid_request_error", "param": None,
                               "code": "unsupported_parameter"}}
    if status < 400:
        status = int(err.get("code", 500)) if isinstance(err.get("code"), int) else 500
    return status, {"error": {"message": message, "type": OPENAI_TYPES.get(status, "server_error"), "param": None,
                              "code": None}}


def _answer(status: int, raw: bytes, model: str) -> Response:
    try:
        data = json.loads(raw)
    except ValueError:
        return JSONResponse({"error": {"message": f"llama-server answered HTTP {status} with a body that is not JSON",
                                       "type": "server_error", "param": None, "code": None}}, status_code=502)
    if status != 200 or (isinstance(data, dict) and "error" in data):
        err = data.get("error") if isinstance(data, dict) else None
        code, body = _openai_error(status, err if isinstance(err, dict) else {"message": str(data)})
        return JSONResponse(body, status_code=code)
    if isinstance(data, dict):
        data["model"] = model
    return JSONResponse(data)


def _openai_error_events(piece: bytes) -> bytes:
    """Rewrite llama.cpp's mid-stream `data: {"error": ...}` events into OpenAI's error objects."""
    out = []
    for event in piece.split(b"\n\n"):
        if event.startswith(b'data: {"error"'):
            with contextlib.suppress(ValueError):
                err = json.loads(event[6:])["error"]
                _, body = _openai_error(500, err if isinstance(err, dict) else {"message": str(err)})
                event = b"data: " + json.dumps(body).encode()
        out.append(event)
    return b"\n\n".join(out)
