"""Benchmark: Luban's clean + quality + MinHash-dedup recipe vs datatrove and Data-Juicer, one corpus, one run.

    python bench/data_curate_peers.py --docs 200000 --workers 2
    # peers live in their own virtualenvs (their pins clash with Luban's and with each other's):
    python3 -m venv .venv-datatrove && .venv-datatrove/bin/pip install 'datatrove[processing]==0.10.1' orjson spacy
    python3 -m venv .venv-dj && .venv-dj/bin/pip install py-data-juicer==1.6.1 aiohttp
    # (or point DATATROVE_PYTHON / DJ_PROCESS at existing installs; results: docs/benchmarks.md)

The corpus (bench/data_curate_corpus.py) is mixed Chinese/English with 5% injected near-duplicates
and 5% junk. Each system runs as its own process tree with `--workers` processes; we report wall
time as documents per second (whole run: start-up, reading, writing), peak RSS of the process tree
(psutil, sampled every 50 ms, summed over the tree), and dedup precision / recall / F1 against the
injected pairs:
- a pair is found when exactly one of its two documents survives (both surviving is a miss; pairs
  whose documents were both dropped by quality filters are left out and counted);
- a false positive is a unique, good document that did not survive (whatever removed it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

LUBAN_RECIPE = [
    {"fix_mojibake": {}}, {"nfkc": {}}, {"whitespace": {}}, {"length": {"min_chars": 20}},
    {"gopher_quality": {}}, {"gopher_repetition": {}}, {"minhash_dedup": {"threshold": 0.8}},
]


def dj_config(corpus: Path, out: Path, workers: int) -> dict[str, Any]:
    """Data-Juicer's equivalent: its unicode and whitespace mappers, length and repetition filters, and
    its MinHash-LSH deduplicator with character 5-grams (its advice for Chinese; 'space' would see a
    Chinese document as a handful of words) at the same 0.8 threshold and 128 permutations."""
    return {
        "project_name": "luban-bench", "dataset_path": str(corpus), "export_path": str(out / "result.jsonl"),
        "np": workers, "text_keys": "text", "open_tracer": False, "use_cache": False, "use_checkpoint": False,
        "process": [
            {"fix_unicode_mapper": {}},
            {"whitespace_normalization_mapper": {}},
            {"text_length_filter": {"min_len": 20}},
            {"character_repetition_filter": {"rep_len": 10, "max_ratio": 0.5}},
            {"word_repetition_filter": {"lang": "en", "rep_len": 10, "max_ratio": 0.5}},
            {"document_minhash_deduplicator": {"tokenization": "character", "window_size": 5,
                                               "num_permutations": 128, "jaccard_threshold": 0.8}},
        ],
    }


def run_luban(corpus: Path, out: Path, workers: int) -> None:
    """Child process body: curate the corpus, then stream the surviving ids (kept in each record's `meta`
    from the input's `id` field) to kept.txt shard by shard, as the datatrove child streams its output."""
    import pyarrow.parquet as pq

    from luban.core.workspace import Workspace
    from luban.data.curate import CurateConfig, curate

    art = curate(CurateConfig(inputs=[str(corpus / "part-*.jsonl")], process=LUBAN_RECIPE, workers=workers),
                 Workspace(out / "ws"))
    with open(out / "kept.txt", "w") as f:
        for shard in sorted((art.path / "data").glob("train-*.parquet")):
            for batch in pq.ParquetFile(shard).iter_batches(columns=["meta"], batch_size=10_000):
                f.writelines(json.loads(m)["id"] + "\n" for m in batch.column(0).to_pylist())


def measure(cmd: list[str], log: Path) -> dict[str, float]:
    """Run `cmd`; wall seconds and peak RSS (MiB) of its whole process tree."""
    start = time.perf_counter()
    with open(log, "wb") as f:
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=ROOT)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.05)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    rc = proc.wait()
    done.set()
    t.join()
    wall = time.perf_counter() - start
    if rc != 0:
        raise RuntimeError(f"{cmd[0]} failed with {rc}; see {log}")
    return {"seconds": wall, "peak_rss_mib": peak / 2**20}


def score(kept_file: Path, truth: dict[str, Any]) -> dict[str, float]:
    kept = {int(x) for x in kept_file.read_text().split()}
    junk = set(truth["junk"])
    in_pairs = {i for p in truth["pairs"] for i in p}
    tp = fn = both_dropped = 0
    for a, b in truth["pairs"]:
        alive = (a in kept) + (b in kept)
        if alive == 1:
            tp += 1
        elif alive == 2:
            fn += 1
        else:
            both_dropped += 1
    unique_good = [i for i in range(truth["n"]) if i not in junk and i not in in_pairs]
    fp = sum(1 for i in unique_good if i not in kept)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"kept": len(kept), "pairs_found": tp, "pairs_missed": fn, "pairs_both_dropped": both_dropped,
            "unique_removed": fp, "junk_kept": len(junk & kept), "precision": precision, "recall": recall, "f1": f1}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=200_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("/tmp/luban-bench-curate"))
    ap.add_argument("--datatrove-python", default=os.environ.get("DATATROVE_PYTHON", str(ROOT / ".venv-datatrove/bin/python")))
    ap.add_argument("--dj-process", default=os.environ.get("DJ_PROCESS", str(ROOT / ".venv-dj/bin/dj-process")))
    ap.add_argument("--only", nargs="*", default=["luban", "datatrove", "data-juicer"])
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        run_luban(Path(args.child[0]), Path(args.child[1]), int(args.child[2]))
        return
    import yaml
    from data_curate_corpus import generate, truth_path

    corpus = args.out / f"corpus-{args.docs}-{args.seed}"
    if not truth_path(corpus).is_file():
        print(f"generating {args.docs:,} documents in {corpus} ...", flush=True)
        generate(corpus, args.docs, seed=args.seed)
    truth = json.loads(truth_path(corpus).read_text())
    print(f"corpus: {truth['n']:,} docs, {len(truth['pairs']):,} injected near-duplicate pairs, "
          f"{len(truth['junk']):,} junk; workers={args.workers}", flush=True)
    results: dict[str, dict[str, float]] = {}
    for system in args.only:
        out = args.out / f"run-{system}"
        subprocess.run(["rm", "-rf", str(out)], check=True)
        out.mkdir(parents=True)
        if system == "luban":
            cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(corpus), str(out), str(args.workers)]
        elif system == "datatrove":
            cmd = [args.datatrove_python, str(HERE / "data_curate_datatrove.py"), str(corpus), str(out), str(args.workers)]
        elif system == "data-juicer":
            cfg = out / "recipe.yaml"
            cfg.write_text(yaml.safe_dump(dj_config(corpus, out, args.workers)))
            cmd = [args.dj_process, "--config", str(cfg)]
        else:
            raise SystemExit(f"unknown system {system}")
        if not Path(cmd[0]).exists():
            print(f"{system}: not installed ({cmd[0]} missing), skipped", flush=True)
            continue
        print(f"running {system} ...", flush=True)
        res = measure(cmd, out / "log.txt")
        if system == "data-juicer":
            with open(out / "result.jsonl", encoding="utf-8") as rows:
                (out / "kept.txt").write_text("".join(f"{json.loads(r)['id']}\n" for r in rows))
        res.update(score(out / "kept.txt", truth))
        res["docs_per_s"] = truth["n"] / res["seconds"]
        results[system] = res
        print(f"  {system}: " + json.dumps({k: round(v, 3) for k, v in res.items()}), flush=True)
    print(f"\n{'system':<12} {'docs/s':>9} {'wall s':>8} {'peak RSS MiB':>13} {'kept':>8} "
          f"{'P':>6} {'R':>6} {'F1':>6} {'unique lost':>12} {'junk kept':>10}")
    for name, r in results.items():
        print(f"{name:<12} {r['docs_per_s']:>9,.0f} {r['seconds']:>8.1f} {r['peak_rss_mib']:>13,.0f} "
              f"{r['kept']:>8,} {r['precision']:>6.3f} {r['recall']:>6.3f} {r['f1']:>6.3f} "
              f"{r['unique_removed']:>12,} {r['junk_kept']:>10,}")
    peers = {k: v for k, v in results.items() if k != "luban"}
    if "luban" in results and peers:
        fastest = max(peers, key=lambda k: peers[k]["docs_per_s"])
        ratio = results["luban"]["docs_per_s"] / peers[fastest]["docs_per_s"]
        print(f"\nLuban / fastest peer ({fastest}) throughput: {ratio:.2f}x")
    print(f"date: {dt.date.today()}  python: {sys.version.split()[0]}  cores: {os.cpu_count()}")
    (args.out / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
