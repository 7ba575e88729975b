"""The audit writer process: records sent as bytes are committed in one verified chain; acknowledgements
resolve; a writer killed midway is replaced and nothing is lost; a parent killed with SIGKILL loses nothing it
had written to the pipe; a writer that cannot open its store fails at start with its reason."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import orjson
import pytest

from luban.audit import open_store
from luban.audit.pipe import PipeWriter
from luban.audit.query import Filter, find
from luban.audit.record import canonical_bytes
from luban.audit.signing import Signer
from luban.audit.verify import verify_chain
from luban.core.errors import ConfigError
from luban.gateway.audit import AuditHook


def rec(i: int) -> bytes:
    return orjson.dumps({"ts": time.time(), "kind": "call", "request_id": f"r{i}", "status": 200, "model": "m"})


def stored(folder: Path, url: str | None = None) -> list[dict[str, object]]:
    store = open_store(folder, url)
    try:
        return list(find(store, Filter()))
    finally:
        store.close()


def verified(folder: Path, chain: str, url: str | None = None) -> bool:
    store = open_store(folder, url)
    try:
        return verify_chain(store, chain, Signer(folder).public_key, folder).ok
    finally:
        store.close()


def test_records_sent_as_bytes_become_a_verified_chain_and_acks_resolve(tmp_path: Path) -> None:
    w = PipeWriter.start(tmp_path, None, "gw-test", linger=0.002)
    for i in range(500):
        w.send(rec(i))
    fut = w.send(rec(500), want_ack=True)
    w.flush()
    assert fut is not None and fut.result(timeout=20) == 501
    assert w.backlog == 0
    w.close()
    rows = stored(tmp_path)
    assert [r["request_id"] for r in rows] == [f"r{i}" for i in range(501)]
    assert verified(tmp_path, "gw-test")


def test_each_kind_of_line_is_kept_canonical_and_chained(tmp_path: Path) -> None:
    w = PipeWriter.start(tmp_path, None, "gw-lines", linger=0.002)
    ready = canonical_bytes({"ts": 1.5, "kind": "call", "request_id": "canon", "model": "m", "n": [1, 2]})
    w.send(ready)  # already canonical: stored byte for byte
    w.send(b'{"request_id": "bare", "model": "m"}')  # no ts or kind: completed, then encoded canonically
    w.send(b"{not json")  # kept as an error record, never dropped
    fut = w.send(orjson.dumps({"kind": "call", "ts": 2.5, "request_id": "unsorted"}), want_ack=True)
    w.flush()
    assert fut is not None and fut.result(timeout=20) == 4
    w.close()
    store = open_store(tmp_path)
    try:
        rows = list(store.rows("gw-lines"))
    finally:
        store.close()
    assert rows[0].body == ready.decode() and rows[0].ts == 1.5 and rows[0].model == "m"
    second = orjson.loads(rows[1].body)
    assert second["request_id"] == "bare" and second["kind"] == "event" and rows[1].ts == second["ts"]
    assert rows[1].body == canonical_bytes(second).decode()
    assert orjson.loads(rows[2].body)["error"] == "an audit record arrived unreadable"
    assert orjson.loads(rows[3].body)["request_id"] == "unsorted"
    assert verified(tmp_path, "gw-lines")


def test_a_writer_killed_midway_is_replaced_and_nothing_is_lost(tmp_path: Path) -> None:
    w = PipeWriter.start(tmp_path, None, "gw-kill", linger=0.002)
    for i in range(300):
        w.send(rec(i))
    w.flush()
    first = w._proc
    assert first is not None
    os.kill(first.pid, signal.SIGKILL)
    for i in range(300, 600):
        w.send(rec(i))
        if i % 50 == 0:
            w.flush()
            time.sleep(0.01)
    fut = w.send(rec(600), want_ack=True)
    end = time.monotonic() + 20
    while not (fut is not None and fut.done()) and time.monotonic() < end:
        w.flush()
        time.sleep(0.01)
    assert fut is not None and fut.result(timeout=1) >= 601
    w.close()
    assert w.restarts == 1
    ids = [r["request_id"] for r in stored(tmp_path)]
    assert set(ids) == {f"r{i}" for i in range(601)}  # every record, possibly one batch twice, none missing
    assert len(ids) - len(set(ids)) <= 300
    assert verified(tmp_path, "gw-kill")


def test_a_parent_killed_with_sigkill_loses_nothing_it_had_written(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import os, signal, time, orjson
        from luban.audit.pipe import PipeWriter
        w = PipeWriter.start({str(tmp_path)!r}, None, "gw-parent")
        for i in range(2000):
            w.send(orjson.dumps({{"ts": time.time(), "kind": "call", "request_id": f"p{{i}}"}}))
        w.flush()
        assert not w.unwritten
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == -signal.SIGKILL, out.stderr
    end = time.monotonic() + 20
    while time.monotonic() < end and len(stored(tmp_path)) < 2000:
        time.sleep(0.1)
    assert {r["request_id"] for r in stored(tmp_path)} == {f"p{i}" for i in range(2000)}
    assert verified(tmp_path, "gw-parent")


def test_a_writer_that_cannot_open_its_store_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"audit writer process did not start: .*127\.0\.0\.1"):
        PipeWriter.start(tmp_path, "postgresql+psycopg://nobody@127.0.0.1:1/none", "gw-bad")


def test_an_unknown_writer_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="writer must be one of process, thread"):
        AuditHook(writer="fork")


@pytest.mark.services
def test_the_writer_process_appends_to_postgresql(tmp_path: Path, postgres_url: str) -> None:
    chain = f"gw-pg-{os.getpid()}-{time.time_ns()}"
    w = PipeWriter.start(tmp_path, postgres_url, chain)
    for i in range(200):
        w.send(rec(i))
    fut = w.send(rec(200), want_ack=True)
    w.flush()
    assert fut is not None and fut.result(timeout=30) == 201
    w.close()
    store = open_store(tmp_path, postgres_url)
    try:
        assert len(list(find(store, Filter(chain=chain)))) == 201
        assert verify_chain(store, chain, Signer(tmp_path).public_key, tmp_path).ok
    finally:
        store.close()
