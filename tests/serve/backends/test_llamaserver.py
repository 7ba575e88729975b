"""llama-server backend: llama.cpp's C++ server as a supervised child behind Luban's OpenAI API.

Real processes on loopback and the official openai client. The binary comes from `make gguf`; the tiny
model of tests/conftest.py is converted to GGUF with llama.cpp's converter (LLAMA_CPP_DIR, unpacked by
`make gguf` too). Without them these tests skip, which fails under CI=true (tests/conftest.py).
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from luban.core.errors import LubanError, UsageError
from luban.serve.backends.base import ModelSpec
from luban.serve.backends.llamaserver import LlamaServerBackend, _openai_error, find_binary
from luban.serve.backends.registry import detect_backend


def _binary() -> str | None:
    try:
        return str(find_binary())
    except UsageError:
        return None


BINARY = pytest.mark.skipif(_binary() is None, reason="needs llama.cpp's llama-server: run `make gguf`")
CONVERTER = pytest.mark.skipif(not os.environ.get("LLAMA_CPP_DIR"), reason="converting to GGUF needs llama.cpp's "
                               "convert_hf_to_gguf.py: set LLAMA_CPP_DIR (or run `make gguf`, which unpacks it)")
MSG = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "How long is the X100 warranty?"}]


def test_a_gguf_is_served_by_llama_server_by_default(tmp_path: Path) -> None:
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    assert detect_backend(str(tmp_path / "m.gguf")) == "llama-server"
    assert detect_backend(str(tmp_path)) == "llama-server"  # a GGUF model artifact's folder


def test_missing_binary_says_to_run_make_gguf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    monkeypatch.setenv("LUBAN_LLAMA_SERVER", str(tmp_path / "nowhere" / "llama-server"))
    backend = LlamaServerBackend(ModelSpec("m", str(tmp_path / "m.gguf"), "llama-server"))
    with pytest.raises(UsageError, match="make gguf") as err:
        backend.load()
    assert "\n" not in str(err.value)


def test_llama_cpp_errors_become_openai_errors() -> None:
    status, body = _openai_error(400, {"code": 400, "message": "too long", "type": "exceed_context_size_error",
                                       "n_prompt_tokens": 900, "n_ctx": 512})
    assert status == 400 and body["error"]["code"] == "context_length_exceeded"
    assert "maximum context length is 512 tokens" in body["error"]["message"]
    status, body = _openai_error(501, {"code": 501, "message": "no embeddings", "type": "not_supported_error"})
    assert status == 400 and body["error"]["type"] == "invalid_request_error"
    status, body = _openai_error(503, {"code": 503, "message": "loading", "type": "unavailable_error"})
    assert status == 503 and body["error"]["type"] == "server_error"


@pytest.fixture(scope="module")
def tiny_gguf(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from luban.compress.gguf_export import export_gguf

    gguf = tmp_path_factory.mktemp("gguf") / "tiny.gguf"
    export_gguf(tiny_model_dir, gguf, "f32")
    return gguf


@BINARY
def test_a_file_llama_cpp_cannot_load_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + os.urandom(256))
    backend = LlamaServerBackend(ModelSpec("b", str(bad), "llama-server", {"startup_timeout": 120}))
    with pytest.raises(LubanError, match="llama-server could not serve broken.gguf") as err:
        backend.load()
    assert "\n" not in str(err.value)
    assert backend.pid() is None


@BINARY
@CONVERTER
def test_a_port_in_use_is_a_clear_error(tiny_gguf: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        backend = LlamaServerBackend(ModelSpec("t", str(tiny_gguf), "llama-server", {"port": port}))
        with pytest.raises(UsageError, match=f"port {port} on 127.0.0.1 is already in use"):
            backend.load()


@pytest.fixture(scope="module")
def served(tiny_gguf: Path, start_server: Any) -> Any:
    return start_server([str(tiny_gguf), "--name", "tiny", "--max-batch", "4", "--threads", "1"])


@pytest.fixture()
def client(served: Any) -> Any:
    import openai

    return openai.OpenAI(base_url=served.url + "/v1", api_key="none", max_retries=0, timeout=120)


@BINARY
@CONVERTER
def test_chat_through_luban_streams_with_usage_and_keeps_connections(client: Any) -> None:
    r = client.chat.completions.create(model="tiny", messages=MSG, max_tokens=8, temperature=0)
    assert r.model == "tiny" and r.usage.prompt_tokens > 5 and 1 <= r.usage.completion_tokens <= 8
    assert r.choices[0].finish_reason in ("stop", "length")
    for _ in range(3):  # one keep-alive client, several streams: llama-server closes after each, Luban does not
        chunks = list(client.chat.completions.create(model="tiny", messages=MSG, max_tokens=8, temperature=0,
                                                     stream=True, stream_options={"include_usage": True}))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == r.choices[0].message.content
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == r.usage.completion_tokens


@BINARY
@CONVERTER
def test_sampling_parameters_pass_through(client: Any, json_prefix: Any) -> None:
    long = client.completions.create(model="tiny", prompt="The X100 robot", max_tokens=12, temperature=0,
                                     extra_body={"ignore_eos": True})
    assert long.usage.completion_tokens == 12
    word = long.choices[0].text[3:6]
    if word.strip():
        cut = client.completions.create(model="tiny", prompt="The X100 robot", max_tokens=12, temperature=0,
                                        stop=[word], extra_body={"ignore_eos": True})
        assert word not in cut.choices[0].text and cut.choices[0].finish_reason == "stop"
    a, b = (client.chat.completions.create(model="tiny", messages=MSG, max_tokens=10, temperature=1.0, seed=7)
            for _ in range(2))
    assert a.choices[0].message.content == b.choices[0].message.content  # a seed makes sampling repeatable
    n = client.chat.completions.create(model="tiny", messages=MSG, max_tokens=4, temperature=1.0, n=2)
    assert sorted(c.index for c in n.choices) == [0, 1]
    lp = client.chat.completions.create(model="tiny", messages=MSG, max_tokens=3, temperature=0, logprobs=True,
                                        top_logprobs=2)
    assert lp.choices[0].logprobs is not None and len(lp.choices[0].logprobs.content[0].top_logprobs) == 2
    js = client.chat.completions.create(model="tiny", messages=MSG, max_tokens=12, temperature=0,
                                        response_format={"type": "json_object"})
    assert json_prefix(js.choices[0].message.content or "")  # llama.cpp's JSON grammar held (a cut-off start)
    schema = {"type": "object", "properties": {"years": {"type": "integer"}}, "required": ["years"],
              "additionalProperties": False}
    js = client.chat.completions.create(model="tiny", messages=MSG, max_tokens=20, temperature=0, response_format={
        "type": "json_schema", "json_schema": {"name": "w", "schema": schema}})
    content = "".join((js.choices[0].message.content or "").split())
    assert json_prefix(content) and (not content or content.startswith('{"years":'))  # the schema's grammar
    tools = [{"type": "function", "function": {"name": "warranty", "description": "Warranty of a product",
                                               "parameters": {"type": "object", "properties": {
                                                   "product": {"type": "string"}}}}}]
    t = client.chat.completions.create(model="tiny", messages=MSG, max_tokens=8, temperature=0, tools=tools)
    assert t.choices[0].finish_reason in ("stop", "length", "tool_calls")


@BINARY
@CONVERTER
def test_errors_are_openai_errors(client: Any) -> None:
    import openai

    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "warranty " * 5000}],
                                       max_tokens=4)
    assert err.value.code == "context_length_exceeded"
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="tiny", messages=MSG, max_tokens=4, temperature=-1)
    assert err.value.body["type"] == "invalid_request_error"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="tiny", input="x")


def _llama_child(pid: int) -> Any:
    import psutil

    found = [p for p in psutil.Process(pid).children(recursive=True) if "llama-server" in p.name()]
    assert len(found) == 1
    return found[0]


@BINARY
@CONVERTER
def test_a_child_that_crashes_mid_stream_ends_the_stream_with_an_error_then_restarts(served: Any,
                                                                                      client: Any) -> None:
    import openai

    child = _llama_child(served.proc.pid)
    stream = client.chat.completions.create(model="tiny", messages=MSG, max_tokens=4000, temperature=0, stream=True,
                                            extra_body={"ignore_eos": True})
    got = 0
    with pytest.raises(openai.APIError, match="failed mid-stream"):
        for _ in stream:
            got += 1
            if got == 3:
                child.kill()
    assert got >= 3
    r = client.chat.completions.create(model="tiny", messages=MSG, max_tokens=4, temperature=0)  # waits for it
    assert r.usage.completion_tokens >= 1
    assert _llama_child(served.proc.pid).pid != child.pid


@BINARY
@CONVERTER
def test_luban_stops_its_child(tiny_gguf: Path, start_server: Any) -> None:
    srv = start_server([str(tiny_gguf), "--name", "stopper", "--threads", "1"])
    child = _llama_child(srv.proc.pid)
    assert srv.stop() == 0
    deadline = time.monotonic() + 15
    while child.is_running() and child.status() != "zombie" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not child.is_running() or child.status() == "zombie"


@CONVERTER
def test_slot_context_comes_from_the_gguf(tiny_gguf: Path, tiny_model_dir: Path, tmp_path: Path) -> None:
    import json

    from luban.serve.backends.llamaserver import gguf_context_length

    want = json.loads((tiny_model_dir / "config.json").read_text())["max_position_embeddings"]
    assert gguf_context_length(tiny_gguf) == want
    backend = LlamaServerBackend(ModelSpec("t", str(tiny_gguf), "llama-server", {"max_batch": 4}))
    assert backend.slot_context() == min(want, 32768) and backend.parallel == 4
    assert LlamaServerBackend(ModelSpec("t", str(tiny_gguf), "llama-server", {"context_length": 256})).slot_context() \
        == 256
    (tmp_path / "x.gguf").write_bytes(b"not gguf")
    assert gguf_context_length(tmp_path / "x.gguf") == 0


def test_a_damaged_gguf_header_reads_as_no_context_length_without_allocating_it(tmp_path: Path) -> None:
    import struct

    from luban.serve.backends.llamaserver import gguf_context_length

    bad = tmp_path / "damaged.gguf"  # one metadata key whose length claims 4 EiB
    bad.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1 << 62) + b"llama")
    assert gguf_context_length(bad) == 0
