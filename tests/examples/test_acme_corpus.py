"""The shipped Acme demo corpus: sizes, formats, the recorded dirt, and reproducibility."""

from __future__ import annotations

import difflib
import filecmp
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import ftfy
import pytest

ACME = Path(__file__).resolve().parents[2] / "examples" / "acme"
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
SHIPPED = ("raw_dirt.json", "sft.jsonl", "preference.jsonl", "heldout.jsonl", "demo_questions.json")


def _jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (ACME / name).read_text("utf-8").splitlines()]


def _dirt() -> dict:
    return json.loads((ACME / "raw_dirt.json").read_text("utf-8"))


def _has_cjk(text: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", text) is not None


def test_raw_folder_has_a_few_hundred_mixed_files_within_size_budget() -> None:
    files = [p for p in (ACME / "raw").rglob("*") if p.is_file()]
    assert 250 <= len(files) <= 400
    assert sum(p.stat().st_size for p in files) <= 3 * 1024 * 1024
    suffixes = {p.suffix for p in files}
    assert {".md", ".txt", ".html", ".jsonl", ".csv"} <= suffixes
    assert _dirt()["counts"]["files"] == len(files)


def test_sft_pairs_are_chat_records_half_chinese_with_short_answers() -> None:
    rows = _jsonl("sft.jsonl")
    assert 300 <= len(rows) <= 600
    zh = 0
    for row in rows:
        roles = [m["role"] for m in row["messages"]]
        assert roles == ["user", "assistant"]
        answer = row["messages"][1]["content"]
        if _has_cjk(answer):
            zh += 1
            assert len(answer) <= 40
        else:
            assert len(answer.split()) <= 25
    assert 0.4 <= zh / len(rows) <= 0.6


def test_preference_pairs_differ_and_heldout_questions_are_unseen() -> None:
    pref = _jsonl("preference.jsonl")
    assert 100 <= len(pref) <= 200
    assert all(p["chosen"] != p["rejected"] and p["prompt"] for p in pref)
    sft_questions = {r["messages"][0]["content"] for r in _jsonl("sft.jsonl")}
    sft_answers = {r["messages"][1]["content"] for r in _jsonl("sft.jsonl")}
    held = _jsonl("heldout.jsonl")
    assert 40 <= len(held) <= 60
    assert not {h["question"] for h in held} & sft_questions
    assert {h["answer"] for h in held} <= sft_answers  # same facts, same answer pattern
    assert sum(_has_cjk(h["question"]) for h in held) == len(held) // 2
    raw_text = "".join(
        p.read_bytes().decode("utf-8", "replace") for p in (ACME / "raw").rglob("*") if p.is_file()
    )
    assert not [h["question"] for h in held if h["question"] in raw_text]
    demo = json.loads((ACME / "demo_questions.json").read_text("utf-8"))
    assert len(demo) == 3 and set(demo) <= {h["question"] for h in held}


def test_injected_ids_cards_and_phones_are_valid_and_present() -> None:
    pii = _dirt()["pii"]
    for item in pii["id_numbers"]:
        value = item["value"]
        assert re.fullmatch(r"\d{17}[\dX]", value)
        check = "10X98765432"[sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS)) % 11]
        assert value[17] == check
        assert (
            1900 <= int(value[6:10]) <= 2010 and 1 <= int(value[10:12]) <= 12 and 1 <= int(value[12:14]) <= 31
        )
    for item in pii["bank_cards"]:
        digits = [int(c) for c in reversed(item["value"])]
        total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits))
        assert total % 10 == 0
    for item in pii["phones"]:
        assert re.fullmatch(r"1[3-9]\d{9}", item["value"])
    for item in pii["emails"]:
        assert re.fullmatch(r"[a-z0-9]+@example\.(com|org|net)", item["value"])
    for kind, items in pii.items():
        assert len(items) >= 10, kind
        for item in items:
            assert item["value"] in (ACME / item["file"]).read_text("utf-8")


def test_duplicates_boilerplate_and_flagged_lines_are_where_the_record_says() -> None:
    dirt = _dirt()
    for d in dirt["exact_duplicates"]:
        assert (ACME / d["file"]).read_bytes() == (ACME / d["copy_of"]).read_bytes()
    for d in dirt["near_duplicates"]:
        near, src = (ACME / d["file"]).read_text("utf-8"), (ACME / d["source"]).read_text("utf-8")
        assert near != src and d["edits"]
        assert difflib.SequenceMatcher(None, near, src).ratio() >= 0.9
    for f in dirt["html_boilerplate"]["files"]:
        text = (ACME / f).read_text("utf-8")
        assert all(marker in text for marker in dirt["html_boilerplate"]["markers"])
    for d in dirt["low_quality"] + dirt["unsafe"]:
        assert d["line"] in (ACME / d["file"]).read_text("utf-8")
    assert {u["category"] for u in dirt["unsafe"]} == {"gambling", "fraud", "violence"}


def test_mojibake_is_repairable() -> None:
    kinds = set()
    for m in _dirt()["mojibake"]:
        data = (ACME / m["file"]).read_bytes()
        kinds.add(m["kind"])
        if m["kind"] == "gbk-bytes":
            with pytest.raises(UnicodeDecodeError):
                data.decode("utf-8")
            assert data.decode("gbk").startswith(m["clean_first_line"])
            continue
        garbled = data.decode("utf-8")
        want = m.get("clean_line") or m["clean_first_line"]
        assert want not in garbled
        assert want in [ftfy.fix_encoding(line) for line in garbled.split("\n")]
    assert kinds == {"utf8-as-latin1", "utf8-as-cp1252", "gbk-bytes"}


def test_regenerating_reproduces_the_shipped_files(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ACME / "make_corpus.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    for name in SHIPPED:
        assert (tmp_path / name).read_bytes() == (ACME / name).read_bytes(), name
    cmp = filecmp.dircmp(tmp_path / "raw", ACME / "raw")
    stack = [cmp]
    while stack:
        c = stack.pop()
        assert not c.left_only and not c.right_only, (c.left_only, c.right_only)
        _, mismatch, errors = filecmp.cmpfiles(c.left, c.right, c.common_files, shallow=False)
        assert not mismatch and not errors, mismatch + errors
        stack.extend(c.subdirs.values())
