"""Regenerate the Acme Robotics demo corpus: raw files with deliberate dirt, plus the answer sets.

Usage: ``python examples/acme/make_corpus.py [--out DIR]`` (default: this folder). The output
is a pure function of SEED, so the committed files can be checked by regenerating them.
Everything (company, products, people, ID and card numbers) is fictional.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from acmegen import build, inject, pii, qa, support

SEED = 20240617


def dump_jsonl(rows: list[dict[str, Any]]) -> str:
    """JSON Lines with readable Chinese."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def write(path: Path, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` with LF line ends, creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))


def generate(out: Path) -> dict[str, Any]:
    """Write every corpus file under ``out`` and return the dirt record."""
    ledger = pii.Ledger()
    corpus = build.base_corpus(random.Random(f"{SEED}-base"), ledger)
    corpus, record = inject.inject(corpus, random.Random(f"{SEED}-dirt"))
    raw = out / "raw"
    if raw.exists():
        shutil.rmtree(raw)
    for doc in sorted(corpus, key=lambda d: d.path):
        text = support.jsonl(doc.rows) if doc.rows else doc.text
        write(raw / doc.path, text, doc.encoding)
        for kind, items in ledger.items.items():
            for item in items:
                if item["file"] == f"raw/{doc.path}" and item["value"] not in text:
                    raise AssertionError(f"{kind} {item['value']} missing from {doc.path}")

    record["pii"] = ledger.items
    record["counts"] = {
        "files": len(corpus),
        "exact_duplicates": len(record["exact_duplicates"]),
        "near_duplicates": len(record["near_duplicates"]),
        "html_boilerplate_files": len(record["html_boilerplate"]["files"]),
        "mojibake": len(record["mojibake"]),
        "low_quality_lines": len(record["low_quality"]),
        "low_quality_files": len(record["low_quality_files"]),
        "unsafe_lines": len(record["unsafe"]),
        **{f"pii_{k}": len(v) for k, v in ledger.items.items()},
    }
    record = {
        "seed": SEED,
        "note": "All people, IDs, phone numbers, cards and mail addresses are fictional.",
        **record,
    }
    write(out / "raw_dirt.json", json.dumps(record, ensure_ascii=False, indent=1) + "\n")

    write(out / "sft.jsonl", dump_jsonl(qa.sft_records(random.Random(f"{SEED}-sft"))))
    write(out / "preference.jsonl", dump_jsonl(qa.preference_records(random.Random(f"{SEED}-pref"))))
    write(out / "heldout.jsonl", dump_jsonl(qa.heldout_records(random.Random(f"{SEED}-heldout"))))
    write(out / "demo_questions.json", json.dumps(qa.demo_questions(), ensure_ascii=False, indent=1) + "\n")
    return record


def main(argv: list[str] | None = None) -> None:
    """Parse ``--out`` and generate."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="folder to write raw/, the JSONL sets and raw_dirt.json into",
    )
    args = parser.parse_args(argv)
    record = generate(args.out)
    print(json.dumps(record["counts"], indent=1))


if __name__ == "__main__":
    main()
