"""Dedup memory and MinHash backend speed: `python bench/data_dedup_memory.py [--docs 1000000]`.

1. Runs Luban's `minhash_dedup` operator exactly as curation does (signatures per batch, then one
   `select` over all records) on N short generated documents, half English and half Chinese, with
   1% injected near-duplicates (an earlier document plus one token); prints wall time, documents/s, peak RSS and recall on the injected
   pairs. The issue's target: 1,000,000 short documents within 4 GB RSS.
2. Times the signature backends (numpy, rensa) and datasketch on the same 20,000 documents and
   prints the ratio, which is how the default backend was chosen.
"""

from __future__ import annotations

import argparse
import random
import resource
import time


def make_docs(n: int, seed: int = 0) -> tuple[list[str], list[tuple[int, int]]]:
    rng = random.Random(seed)
    en = [f"w{i}" for i in range(20000)]
    zh = [chr(0x4E00 + i) for i in range(3000)]
    docs: list[str] = []
    pairs = []
    for i in range(n):
        if i % 100 == 99 and i > 1:  # near duplicate of an earlier document: one token appended
            j = rng.randrange(i - 1)
            src = docs[j]
            docs.append(src + " " + rng.choice(en) if " " in src else src + rng.choice(zh))
            pairs.append((j, i))
        elif i % 2:
            docs.append(" ".join(rng.choice(en) for _ in range(rng.randint(25, 40))))
        else:
            docs.append("".join(rng.choice(zh) for _ in range(rng.randint(40, 70))))
    return docs, pairs


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_dedup(n: int, batch: int = 10000) -> None:
    from luban.data.ops.dedup.minhash import MinHashDedup

    docs, pairs = make_docs(n)
    base = peak_rss_mb()
    op = MinHashDedup()
    t0 = time.perf_counter()
    records = []
    for s in range(0, n, batch):
        chunk = [{"text": t, "source": "gen", "source_line": s + i + 1} for i, t in enumerate(docs[s:s + batch])]
        records.extend(op.process(chunk)[0])
    t_sig = time.perf_counter() - t0
    _, rejected = op.select(records)
    wall = time.perf_counter() - t0
    dropped = {r["source_line"] - 1 for r in rejected}
    recall = sum(1 for _, i in pairs if i in dropped) / max(1, len(pairs))
    print(f"minhash_dedup on {n:,} short docs (1 process): {wall:.1f} s ({t_sig:.1f} s signatures), "
          f"{n / wall:,.0f} docs/s, dropped {len(rejected):,}, recall on {len(pairs):,} injected pairs "
          f"{recall:.3f}, peak RSS {peak_rss_mb():,.0f} MB (inputs alone {base:,.0f} MB)")


def compare_backends(n: int = 20000) -> None:
    from luban.data.ops.dedup.shingles import shingle_hashes
    from luban.data.ops.dedup.signatures import minhash_numpy, minhash_rensa

    docs, _ = make_docs(n, seed=1)
    flat, offsets = shingle_hashes(docs)
    times = {}
    for name, fn in (("numpy", minhash_numpy), ("rensa", minhash_rensa)):
        t = time.perf_counter()
        fn(flat, offsets, 128, 1)
        times[name] = time.perf_counter() - t
    from datasketch import MinHash

    t = time.perf_counter()
    for i in range(n):
        m = MinHash(num_perm=128, seed=1)
        m.update_batch([x.tobytes() for x in flat[offsets[i]:offsets[i + 1]]])
    times["datasketch"] = time.perf_counter() - t
    best = min(times, key=times.__getitem__)
    print(f"signatures of {n:,} docs (128 perms, same shingles): " +
          ", ".join(f"{k} {v:.2f} s" for k, v in times.items()) +
          f"; fastest {best}, " + ", ".join(f"{k}/{best} {v / times[best]:.1f}x" for k, v in times.items()))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--compare", type=int, default=20_000, help="documents for the backend comparison (0: skip)")
    args = ap.parse_args()
    if args.compare:
        compare_backends(args.compare)
    run_dedup(args.docs)
