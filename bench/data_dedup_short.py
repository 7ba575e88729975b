"""Benchmark: near-duplicates among short texts, English and Chinese, Luban vs datatrove and Data-Juicer.

    python bench/data_dedup_short.py                      # all three, 400 distinct texts per length bucket
    python bench/data_dedup_short.py --only luban         # Luban alone
    # peers in their own virtualenvs, as for bench/data_curate_peers.py (.venv-datatrove, .venv-dj)

The set (bench/data_dedup_short_set.py) holds real short texts (program messages and their Chinese
translations, Python docstrings, package descriptions) in length buckets from 15 to 100 words and 20 to
400 characters; half of them have a planted copy with one word (Chinese: one character) in 25 replaced.
Each system deduplicates the whole set at its default settings, as its own process tree:
- Luban: `luban.data.curate` with the recipe `[minhash_dedup: {}]` (2 workers); `luban-5gram` is the same with
  `{ngram: 5, threshold: 0.8}`, the settings before short texts were handled;
- datatrove 0.10.1: its four MinHash stages with `MinhashConfig()` defaults (5-grams, 14 buckets x 8
  hashes, its default English word tokenizer: the Chinese one returns a sentence as one word);
- Data-Juicer 1.6.1: `document_minhash_deduplicator` at its defaults (5-grams, 256 permutations, Jaccard
  0.7), on the English texts with `tokenization: space` and on the Chinese ones with `character`, its
  advice for Chinese (two runs, times and memory added).
Per language and length bucket: recall = planted pairs of which exactly one text survives / pairs;
precision = those pairs / (those pairs + distinct texts removed).
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))


RECIPES = {"luban": [{"minhash_dedup": {}}],
           # the settings before short texts were handled: fixed word 5-grams, Jaccard 0.8
           "luban-5gram": [{"minhash_dedup": {"ngram": 5, "threshold": 0.8}}]}


def run_luban(corpus: Path, out: Path, system: str = "luban") -> None:
    import pyarrow.parquet as pq

    from luban.core.workspace import Workspace
    from luban.data.curate import CurateConfig, curate

    art = curate(CurateConfig(inputs=[str(corpus / "all.jsonl")], process=RECIPES[system], workers=2),
                 Workspace(out / "ws"))
    with open(out / "kept.txt", "w") as f:
        for shard in sorted((art.path / "data").glob("train-*.parquet")):
            for batch in pq.ParquetFile(shard).iter_batches(columns=["meta"], batch_size=10_000):
                f.writelines(json.loads(m)["id"] + "\n" for m in batch.column(0).to_pylist())


def run_datatrove(corpus: Path, out: Path) -> None:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import (
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    cfg = MinhashConfig()
    steps = [
        ([JsonlReader(str(corpus), glob_pattern="all.jsonl", id_key="id"),
          MinhashDedupSignature(output_folder=str(out / "sigs"), config=cfg)], 1),
        ([MinhashDedupBuckets(input_folder=str(out / "sigs"), output_folder=str(out / "buckets"), config=cfg)],
         cfg.num_buckets),
        ([MinhashDedupCluster(input_folder=str(out / "buckets"), output_folder=str(out / "remove"), config=cfg)], 1),
        ([JsonlReader(str(corpus), glob_pattern="all.jsonl", id_key="id"),
          MinhashDedupFilter(input_folder=str(out / "remove")),
          JsonlWriter(str(out / "deduped"), compression=None)], 1),
    ]
    previous = None
    for i, (pipeline, tasks) in enumerate(steps):
        previous = LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=2, logging_dir=str(out / f"logs/{i}"),
                                         depends=previous)
    assert previous is not None
    previous.run()
    with open(out / "kept.txt", "w") as f:
        for shard in sorted((out / "deduped").glob("*.jsonl")):
            with open(shard, encoding="utf-8") as rows:
                f.writelines(json.loads(line)["id"] + "\n" for line in rows)


def dj_config(corpus: Path, out: Path, lang: str) -> dict[str, Any]:
    return {
        "project_name": "luban-bench-short", "dataset_path": str(corpus / f"{lang}.jsonl"),
        "export_path": str(out / f"result-{lang}.jsonl"), "np": 2, "text_keys": "text", "open_tracer": False,
        "use_cache": False, "use_checkpoint": False,
        "process": [{"document_minhash_deduplicator": {"tokenization": "space" if lang == "en" else "character"}}],
    }


def score(kept: set[int], data: dict) -> dict[str, dict[str, float]]:
    """Per bucket (and per language): recall, precision, pairs, distinct texts removed."""
    bucket, lang = data["bucket"], data["lang"]
    in_pair = {i for p in data["pairs"] for i in p}
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for a, b in data["pairs"]:
        found = (a in kept) != (b in kept)
        for key in (bucket[a], lang[a]):
            counts[key]["tp" if found else "fn"] += 1
    for i in range(len(bucket)):
        if i not in in_pair and i not in kept:
            for key in (bucket[i], lang[i]):
                counts[key]["fp"] += 1
    out = {}
    for key, c in counts.items():
        tp, fn, fp = c["tp"], c["fn"], c["fp"]
        out[key] = {"recall": tp / (tp + fn) if tp + fn else 0.0, "precision": tp / (tp + fp) if tp + fp else 0.0,
                    "pairs": tp + fn, "distinct_removed": fp}
    return out


def write_corpus(data: dict, corpus: Path) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[str]] = {"all": [], "en": [], "zh": []}
    for i, (text, lang) in enumerate(zip(data["texts"], data["lang"])):
        row = json.dumps({"id": str(i), "text": text}, ensure_ascii=False) + "\n"
        rows["all"].append(row)
        rows[lang].append(row)
    for name, lines in rows.items():
        (corpus / f"{name}.jsonl").write_text("".join(lines), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-bucket", type=int, default=400, help="distinct texts per length bucket (half get a copy)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/luban-bench-short"))
    ap.add_argument("--datatrove-python", default=os.environ.get("DATATROVE_PYTHON", str(ROOT / ".venv-datatrove/bin/python")))
    ap.add_argument("--dj-process", default=os.environ.get("DJ_PROCESS", str(ROOT / ".venv-dj/bin/dj-process")))
    ap.add_argument("--only", nargs="*", default=["luban", "luban-5gram", "datatrove", "data-juicer"])
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        system, corpus, out = args.child
        if system in RECIPES:
            run_luban(Path(corpus), Path(out), system)
        else:
            run_datatrove(Path(corpus), Path(out))
        return
    import yaml
    from data_curate_peers import measure
    from data_dedup_short_set import load

    data = load(args.out / f"set-{args.seed}-{args.per_bucket}.json", args.seed, args.per_bucket)
    corpus = args.out / f"corpus-{args.seed}-{args.per_bucket}"
    write_corpus(data, corpus)
    print(f"set: {len(data['texts']):,} texts, {len(data['pairs']):,} planted pairs, "
          f"{dict(sorted(collections.Counter(data['bucket']).items()))}", flush=True)
    results: dict[str, dict[str, Any]] = {}
    for system in args.only:
        out = args.out / f"run-{system}"
        subprocess.run(["rm", "-rf", str(out)], check=True)
        out.mkdir(parents=True)
        if system in (*RECIPES, "datatrove"):
            python = sys.executable if system in RECIPES else args.datatrove_python
            cmds = [[python, str(Path(__file__).resolve()), "--child", system, str(corpus), str(out)]]
        elif system == "data-juicer":
            cmds = []
            for lang in ("en", "zh"):
                (out / f"{lang}.yaml").write_text(yaml.safe_dump(dj_config(corpus, out, lang)))
                cmds.append([args.dj_process, "--config", str(out / f"{lang}.yaml")])
        else:
            raise SystemExit(f"unknown system {system}")
        if not Path(cmds[0][0]).exists():
            print(f"{system}: not installed ({cmds[0][0]} missing), skipped", flush=True)
            continue
        print(f"running {system} ...", flush=True)
        runs = [measure(cmd, out / f"log-{i}.txt") for i, cmd in enumerate(cmds)]
        if system == "data-juicer":
            with open(out / "kept.txt", "w") as f:
                for lang in ("en", "zh"):
                    with open(out / f"result-{lang}.jsonl", encoding="utf-8") as rows:
                        f.writelines(json.loads(r)["id"] + "\n" for r in rows)
        kept = {int(x) for x in (out / "kept.txt").read_text().split()}
        results[system] = {"seconds": sum(r["seconds"] for r in runs),
                           "peak_rss_mib": max(r["peak_rss_mib"] for r in runs), "scores": score(kept, data)}
    keys = sorted({k for r in results.values() for k in r["scores"]}, key=lambda k: (k[:2], len(k) > 2,
                                                                                    int(k[3:].split("-")[0] or 0)))
    print(f"\n{'recall / precision':<14}" + "".join(f"{s:>22}" for s in results))
    for key in keys:
        cells = []
        for r in results.values():
            s = r["scores"].get(key)
            cells.append(f"{s['recall']:.3f} / {s['precision']:.3f} ({s['distinct_removed']})" if s else "-")
        print(f"{key:<14}" + "".join(f"{c:>22}" for c in cells))
    print(f"{'wall s':<14}" + "".join(f"{r['seconds']:>22.1f}" for r in results.values()))
    print(f"{'peak RSS MiB':<14}" + "".join(f"{r['peak_rss_mib']:>22.0f}" for r in results.values()))
    print("(distinct texts removed in parentheses)")
    print(f"date: {dt.datetime.now():%Y-%m-%d %H:%M}  python: {sys.version.split()[0]}  cores: {os.cpu_count()}  "
          f"load: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    (args.out / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
