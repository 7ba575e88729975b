"""Readers: every format, and every bad input the issue names, quarantined with file:line and reason."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from luban.data.readers import ReadOptions, expand_inputs, open_source, read_source, read_texts


def read(path: Path, **opts: object) -> tuple[list[dict], list[dict]]:
    recs = list(read_source(open_source(path), "text", ReadOptions(**opts)))  # type: ignore[arg-type]
    return [r for r in recs if "reason" not in r], [r for r in recs if "reason" in r]


def test_jsonl_keeps_good_lines_and_quarantines_bad_ones(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_text('{"text": "one"}\n{broken\n\n[1, 2]\n{"body": "x"}\n{"text": 5}\n{"text": "two", "k": 1}\n')
    good, bad = read(p)
    assert [(g["text"], g["source_line"]) for g in good] == [("one", 1), ("two", 7)]
    assert json.loads(good[1]["meta"]) == {"k": 1}
    assert [(b["source_line"], b["reason"].split(":")[0].split(" (")[0]) for b in bad] == [
        (2, "malformed JSON"), (4, "row is a JSON list, not an object"), (5, "missing field 'text'"),
        (6, "field 'text' is int, not a string")]
    assert all(b["source_sha256"] == good[0]["source_sha256"] for b in bad)


def test_chat_and_qa_rows_give_text(tmp_path: Path) -> None:
    p = tmp_path / "chats.jsonl"
    rows = [{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]},
            {"question": "问题？", "answer": "答案。", "id": 3}]
    p.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    good, bad = read(p)
    assert [g["text"] for g in good] == ["Hi\nHello", "问题？\n答案。"] and not bad


def test_empty_and_blank_files_are_quarantined(tmp_path: Path) -> None:
    (tmp_path / "e.jsonl").write_bytes(b"")
    (tmp_path / "b.txt").write_text("\n  \n")
    assert read(tmp_path / "e.jsonl")[1][0]["reason"] == "empty file"
    assert "only whitespace" in read(tmp_path / "b.txt")[1][0]["reason"]


def test_binary_file_named_txt_is_quarantined(tmp_path: Path) -> None:
    p = tmp_path / "image.txt"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    good, bad = read(p)
    assert not good and bad[0]["reason"].startswith("binary content")


def test_gbk_and_utf16_files_are_decoded(tmp_path: Path) -> None:
    text = "艾可机器人公司生产扫地机器人和智能门锁，客服工作时间为工作日九点至十八点。" * 3
    (tmp_path / "gbk.txt").write_bytes(text.encode("gbk"))
    (tmp_path / "u16.txt").write_bytes(text.encode("utf-16"))
    assert read(tmp_path / "gbk.txt")[0][0]["text"] == text
    assert read(tmp_path / "u16.txt")[0][0]["text"] == text


def test_wrong_encoding_line_is_quarantined_alone(tmp_path: Path) -> None:
    p = tmp_path / "mixed.jsonl"
    p.write_bytes(b'{"text": "good one"}\n{"text": "bad \xff\xfe byte"}\n{"text": "good two"}\n')
    good, bad = read(p)
    assert [g["text"] for g in good] == ["good one", "good two"]
    assert bad[0]["source_line"] == 2 and "not valid utf-8" in bad[0]["reason"]


def test_huge_single_line_is_streamed_and_capped(tmp_path: Path) -> None:
    p = tmp_path / "huge.jsonl"
    with open(p, "wb") as f:
        f.write(b'{"text": "before"}\n{"text": "')
        chunk = b"x" * (1 << 20)
        f.writelines(chunk for _ in range(64))
        f.write(b'"}\n{"text": "after"}\n')
    good, bad = read(p, max_record_bytes=1 << 20)
    assert [g["text"] for g in good] == ["before", "after"]
    assert bad[0]["source_line"] == 2 and "over max_record_bytes" in bad[0]["reason"]
    assert len(bad[0]["text"]) <= 4096


def test_unreadable_pdf_and_docx_are_quarantined(tmp_path: Path) -> None:
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\n garbage without xref")
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    assert read(tmp_path / "broken.pdf")[1][0]["reason"].startswith(("unreadable PDF", "PDF has no"))
    assert read(tmp_path / "broken.docx")[1][0]["reason"].startswith("unreadable DOCX")


def test_pdf_pages_and_docx_paragraphs(tmp_path: Path) -> None:
    import docx
    from pypdf import PdfWriter

    d = docx.Document()
    d.add_paragraph("First paragraph.")
    d.add_paragraph("第二段。")
    d.save(str(tmp_path / "a.docx"))
    assert read(tmp_path / "a.docx")[0][0]["text"] == "First paragraph.\n第二段。"
    w = PdfWriter()
    w.add_blank_page(width=72, height=72)
    with open(tmp_path / "blank.pdf", "wb") as f:
        w.write(f)
    assert "no extractable text" in read(tmp_path / "blank.pdf")[1][0]["reason"]


def test_csv_tsv_parquet_and_missing_columns(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text('id,text\n1,hello\n2,"multi\nline"\n3,bye\n')
    good, _ = read(tmp_path / "a.csv")
    assert [(g["text"], g["source_line"]) for g in good] == [("hello", 2), ("multi\nline", 3), ("bye", 5)]
    (tmp_path / "a.tsv").write_text("text\tlang\n你好\tzh\n")
    assert read(tmp_path / "a.tsv")[0][0]["text"] == "你好"
    (tmp_path / "nocol.csv").write_text("a,b\n1,2\n")
    assert "missing column 'text' (columns: a, b)" in read(tmp_path / "nocol.csv")[1][0]["reason"]
    pq.write_table(pa.table({"text": ["p1", "p2"], "n": [1, 2]}), tmp_path / "a.parquet")
    assert [(g["text"], g["source_line"]) for g in read(tmp_path / "a.parquet")[0]] == [("p1", 1), ("p2", 2)]
    pq.write_table(pa.table({"body": ["x"]}), tmp_path / "b.parquet")
    assert "missing column" in read(tmp_path / "b.parquet")[1][0]["reason"]
    (tmp_path / "c.parquet").write_bytes(b"not parquet")
    assert "unreadable Parquet" in read(tmp_path / "c.parquet")[1][0]["reason"]


def test_html_keeps_main_text_only(tmp_path: Path) -> None:
    (tmp_path / "p.html").write_text(
        "<html><head><style>p{}</style><script>var x=1;</script></head><body><nav>Home | Shop</nav>"
        "<article><h1>Warranty</h1><p>The X100 has a warranty of 2 years.</p></article>"
        "<footer>© Acme. All rights reserved.</footer></body></html>")
    text = read(tmp_path / "p.html")[0][0]["text"]
    assert text == "Warranty\nThe X100 has a warranty of 2 years."


def test_txt_units_and_unknown_types(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# Title\nline two\n\nsecond para\n")
    assert [g["source_line"] for g in read(tmp_path / "a.md")[0]] == [1]
    assert [g["source_line"] for g in read(tmp_path / "a.md", text_unit="paragraph")[0]] == [1, 4]
    assert len(read(tmp_path / "a.md", text_unit="line")[0]) == 3
    (tmp_path / "x.bin").write_bytes(b"\x00")
    assert read(tmp_path / "x.bin")[1][0]["reason"].startswith("unsupported file type '.bin'")


def test_expand_inputs_files_folders_globs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / ".hidden").mkdir()
    for name in ("d/a.txt", "d/sub/b.jsonl", "d/.hidden/c.txt", "d/.x.txt"):
        (tmp_path / name).write_text("x")
    assert [p.as_posix() for p in expand_inputs(["d"])] == ["d/a.txt", "d/sub/b.jsonl"]
    assert [p.as_posix() for p in expand_inputs(["d/**/*.jsonl", "d/sub/b.jsonl"])] == ["d/sub/b.jsonl"]


def test_read_texts_gives_what_curate_reads_and_skips_what_it_cannot(tmp_path: Path) -> None:
    (tmp_path / "faq.md").write_text("# Warranty\n\nThe X100 has a 2-year warranty.\n", encoding="utf-8")
    (tmp_path / "page.html").write_text("<html><body><p>Returns within 30 days.</p></body></html>")
    (tmp_path / "chats.jsonl").write_text(json.dumps({"id": "c-1", "messages": [
        {"role": "user", "content": "保修期多久?"}, {"role": "assistant", "content": "两年。"}]}) + "\n")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    files = [open_source(p) for p in expand_inputs([str(tmp_path)])]
    assert [f.path.name for f in files] == ["chats.jsonl", "faq.md", "logo.png", "page.html"]
    assert list(read_texts(files)) == ["保修期多久?\n两年。", "# Warranty\n\nThe X100 has a 2-year warranty.",
                                       "Returns within 30 days."]

