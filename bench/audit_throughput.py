"""Audit append throughput (durable, group commit) and verification speed.

    .venv/bin/python bench/audit_throughput.py --records 200000 [--verify-records 1000000] [--url URL]

Side by side in one run, on the same records: Luban's AuditLog (batched commits, each batch fsynced) and
the naive way (one transaction per record, as a logger that writes each line durably would). Then
verification of a chain of `--verify-records` records. Targets (issue 13): >= 20,000 records/s sustained,
durable; 1,000,000 records verified in under a minute.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from luban.audit import AuditLog, open_store
from luban.audit.record import GENESIS, canonical, chain_hash, columns
from luban.audit.signing import Signer
from luban.audit.verify import verify_chain


def record(i: int) -> dict[str, object]:
    return {"ts": time.time(), "kind": "call", "key_id": f"key-{i % 50}", "role": "app", "source_ip": "10.0.0.7",
            "purpose": "support", "model": "acme-chat", "upstream": "engine-0", "status": 200, "action": "ok",
            "prompt_tokens": 120 + i % 40, "completion_tokens": 48, "latency_ms": 31.5,
            "verdicts": [], "anomalies": [], "prompt_sha256": "ab" * 32}


def luban_append(folder: Path, n: int, url: str | None) -> tuple[float, float]:
    """(records/s by the wall clock, records per CPU-second of the whole process)."""
    store = open_store(folder, url)
    t0, c0 = time.perf_counter(), time.process_time()
    with AuditLog(store, folder, f"bench-{os.getpid()}-{time.time_ns()}") as log:
        futures = [log.append(record(i)) for i in range(n)]
        futures[-1].result()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert all(f.done() and f.exception() is None for f in futures)
    return n / elapsed, n / cpu


def naive_append(folder: Path, n: int, url: str | None) -> float:
    store = open_store(folder, url)
    chain, prev = f"naive-{os.getpid()}-{time.time_ns()}", GENESIS
    t0 = time.perf_counter()
    for i in range(n):
        rec = record(i)
        body = canonical(rec)
        h = chain_hash(prev, body)
        store.append([{"chain": chain, "seq": i + 1, "body": body, "prev": prev, "hash": h, **columns(rec)}])
        prev = h
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--naive-records", type=int, default=2_000)
    ap.add_argument("--verify-records", type=int, default=1_000_000)
    ap.add_argument("--url", default=None, help="SQLAlchemy URL (default: SQLite in a temp folder)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        luban, per_cpu = luban_append(folder, args.records, args.url)
        naive = naive_append(folder, args.naive_records, args.url)
        print(f"append, durable: luban {luban:,.0f} records/s ({per_cpu:,.0f} per CPU-second)   "
              f"one-commit-per-record {naive:,.0f} records/s   ratio {luban / naive:.1f}x   (target >= 20,000/s)")
        vdir = folder / "verify"
        store = open_store(vdir, args.url)
        signer = Signer(vdir)
        chain = f"verify-{os.getpid()}"
        t0 = time.perf_counter()
        with AuditLog(store, vdir, chain, signer=signer, batch=5000) as log:
            for i in range(args.verify_records):
                log.append(record(i))
        build = time.perf_counter() - t0
        t0, c0 = time.perf_counter(), time.process_time()
        report = verify_chain(store, chain, signer.public_key, vdir)
        took, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"verify: {report.records:,} records in {took:.1f} s, {cpu:.1f} CPU-s ({report.records / took:,.0f}/s), "
              f"ok={report.ok}  "
              f"(built in {build:.1f} s; target < 60 s per 1,000,000)")


if __name__ == "__main__":
    main()
