"""Freed heap memory goes back to the OS: trim() releases the pages a fragmented heap keeps, and the
trimmer thread calls it on its interval until stopped."""

from __future__ import annotations

import time

import psutil
import pytest

from luban.serve import memtrim
from luban.serve.memtrim import HeapTrimmer, trim

pytestmark = pytest.mark.skipif(memtrim._TRIM is None, reason="malloc_trim is glibc's; this C library has none")


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def test_trim_gives_back_what_a_fragmented_heap_keeps() -> None:
    trim()
    # 150 MB in 1 KiB blocks (glibc's, not Python's small-object allocator), then free all but every 64th:
    # the survivors pin the heap's top, so free() alone cannot shrink it
    blocks = [bytearray(1024) for _ in range(150_000)]
    keep = blocks[::64]
    before = _rss_mb()
    del blocks
    kept = _rss_mb()
    assert kept > before - 30, "free() alone returned the memory: nothing left to test"
    assert trim() is True
    after = _rss_mb()
    assert kept - after > 80, f"trim gave back {kept - after:.0f} MB of ~145 MB freed"
    assert len(keep) == 2344


def test_the_trimmer_runs_on_its_interval_and_stops() -> None:
    t = HeapTrimmer(every_s=0.05).start()
    time.sleep(0.4)
    t.stop()
    done = t.trims
    assert done >= 3
    time.sleep(0.2)
    assert t.trims == done


def test_the_interval_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(memtrim.ENV, "0")
    assert HeapTrimmer.from_env() is None
    monkeypatch.setenv(memtrim.ENV, "15")
    t = HeapTrimmer.from_env()
    assert t is not None and t.every_s == 15
    monkeypatch.setenv(memtrim.ENV, "soon")
    t = HeapTrimmer.from_env()
    assert t is not None and t.every_s == memtrim.DEFAULT_EVERY_S
    monkeypatch.delenv(memtrim.ENV)
    t = HeapTrimmer.from_env()
    assert t is not None and t.every_s == memtrim.DEFAULT_EVERY_S
