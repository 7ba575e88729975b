"""datatrove's side of bench/data_curate_peers.py; runs in a virtualenv that has datatrove.

    python bench/data_curate_datatrove.py CORPUS_DIR OUT_DIR WORKERS

The pipeline is datatrove's own building blocks with their defaults: FTFY cleaning, a length
filter, Gopher quality and repetition (language "en", datatrove's tokenizers are one language per
step, so Chinese documents skip these two steps instead of all being dropped as "too few words"),
then the four MinHash stages (5-gram shingles, 14 buckets x 8 hashes, the configuration of its
README and of FineWeb). Surviving ids are written to OUT_DIR/kept.txt.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup import (
    MinhashDedupBuckets,
    MinhashDedupCluster,
    MinhashDedupFilter,
    MinhashDedupSignature,
)
from datatrove.pipeline.dedup.minhash import MinhashConfig
from datatrove.pipeline.filters import GopherQualityFilter, GopherRepetitionFilter, LambdaFilter
from datatrove.pipeline.formatters import FTFYFormatter
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter

CJK = re.compile(r"[\u4e00-\u9fff]")


def english_only(step):  # wrap a filter so that CJK documents pass it untouched
    original = step.filter

    def filter(doc):
        if len(CJK.findall(doc.text[:200])) > 20:
            return True
        return original(doc)

    step.filter = filter
    return step


def main(corpus: str, out: str, workers: int) -> None:
    out_dir = Path(out)
    cfg = MinhashConfig()
    tasks = workers
    stage1 = LocalPipelineExecutor(pipeline=[
        JsonlReader(corpus, glob_pattern="part-*.jsonl", id_key="id"),
        FTFYFormatter(),
        LambdaFilter(lambda doc: len(doc.text) >= 20),
        english_only(GopherQualityFilter()),
        english_only(GopherRepetitionFilter()),
        JsonlWriter(str(out_dir / "filtered"), compression=None),
        MinhashDedupSignature(output_folder=str(out_dir / "sigs"), config=cfg),
    ], tasks=tasks, workers=workers, logging_dir=str(out_dir / "logs/1"))
    stage2 = LocalPipelineExecutor(pipeline=[
        MinhashDedupBuckets(input_folder=str(out_dir / "sigs"), output_folder=str(out_dir / "buckets"), config=cfg),
    ], tasks=cfg.num_buckets, workers=workers, logging_dir=str(out_dir / "logs/2"), depends=stage1)
    stage3 = LocalPipelineExecutor(pipeline=[
        MinhashDedupCluster(input_folder=str(out_dir / "buckets"), output_folder=str(out_dir / "remove"), config=cfg),
    ], tasks=1, workers=1, logging_dir=str(out_dir / "logs/3"), depends=stage2)
    stage4 = LocalPipelineExecutor(pipeline=[
        JsonlReader(str(out_dir / "filtered")),
        MinhashDedupFilter(input_folder=str(out_dir / "remove")),
        JsonlWriter(str(out_dir / "deduped"), compression=None),
    ], tasks=tasks, workers=workers, logging_dir=str(out_dir / "logs/4"), depends=stage3)
    stage4.run()
    with open(out_dir / "kept.txt", "w") as f:
        for shard in sorted((out_dir / "deduped").glob("*.jsonl")):
            with open(shard, encoding="utf-8") as rows:
                f.writelines(json.loads(line)["id"] + "\n" for line in rows)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
