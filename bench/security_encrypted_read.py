"""Reading an encrypted dataset vs the same dataset in plaintext (target: <= 1.2x the plaintext read).

    .venv/bin/python bench/security_encrypted_read.py --mb 1024

Builds a dataset artifact of Parquet shards (~`--mb` MB of text, 64 MB shards), encrypts a copy, then in one
run times, alternating, three times each: reading every shard of the plaintext artifact with pyarrow, and
`ws.get()` of the encrypted one (decrypting into the workspace's tmp/) followed by the same read. The page
cache is warm for both (each is read once before timing), so the figure is the CPU cost of decryption.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from luban.core.workspace import Workspace
from luban.security.artifacts import attach, encrypt_artifact
from luban.security.masterkey import new_key_text, parse

WORDS = ["warranty", "router", "lock", "firmware", "保修", "路由器", "智能门锁", "固件", "customer", "order", "invoice", "客户", "订单", "发票", "reset", "password", "重置", "密码", "battery", "screen", "电池", "屏幕"]


def build(ws: Workspace, name: str, mb: int) -> None:
    rng = random.Random(name)  # different content: artifacts with equal content share one id
    rows_per_shard = 200_000
    with ws.create("dataset", name, stage="bench", config={"mb": mb}) as p:
        written, i = 0, 0
        while written < mb << 20:
            texts = [" ".join(rng.choices(WORDS, k=40)) for _ in range(rows_per_shard)]
            path = p.path / f"train-{i:05d}.parquet"
            pq.write_table(pa.table({"text": texts}), path, compression="zstd")
            written += path.stat().st_size
            i += 1


def read_all(folder: Path) -> int:
    return sum(pq.read_table(f).num_rows for f in sorted(folder.glob("train-*.parquet")))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=1024, help="dataset size on disk in MB")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        ws = Workspace(Path(tmp) / "ws")
        build(ws, "plain", args.mb)
        build(ws, "secret", args.mb)
        mk = parse(new_key_text(), "bench")
        encrypt_artifact(ws, "secret", mk)
        size = sum(f.stat().st_size for f in ws.get("plain").path.glob("*.parquet")) / 2**20
        plain_times, enc_times = [], []
        read_all(ws.get("plain").path)
        for _ in range(args.repeats + 1):
            t0 = time.perf_counter()
            rows = read_all(ws.get("plain").path)
            plain_times.append(time.perf_counter() - t0)
            fresh = Workspace(ws.root)
            attach(fresh, mk)
            t0 = time.perf_counter()
            assert read_all(fresh.get("secret").path) == rows
            enc_times.append(time.perf_counter() - t0)
            fresh.close()
        plain, enc = statistics.median(plain_times[1:]), statistics.median(enc_times[1:])
        print(f"dataset {size:,.0f} MB, {rows:,} rows: plaintext read {plain:.2f} s, encrypted read {enc:.2f} s "
              f"(decrypt + read) -> {enc / plain:.2f}x (target <= 1.2x)")


if __name__ == "__main__":
    main()
