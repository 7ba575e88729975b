"""The data.format stage end to end: files in, a split dataset artifact out, nothing silently lost."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from luban.core.config import build_config
from luban.core.errors import ConfigError, NotFoundError, UsageError
from luban.core.hashing import sha256_file
from luban.core.shards import records, split_names
from luban.core.workspace import Workspace
from luban.data.formats import FormatConfig, format_stage
from luban.stages import get_stage


def chat(q: str, a: str) -> dict:
    return {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}


def write_jsonl(path: Path, lines: list) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n",
                    encoding="utf-8")
    return path


@pytest.fixture
def sft_file(tmp_path: Path) -> Path:
    good = [chat(f"问题 {i}?", f"answer {i}") for i in range(20)]
    bad = ['{"messages": [', {"messages": [{"role": "user", "content": "q"}, {"role": "user", "content": "q2"}]},
           {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": " "}]}]
    return write_jsonl(tmp_path / "sft.jsonl", good[:10] + bad + good[10:])


def test_registry_names_the_stage() -> None:
    spec = get_stage("data.format")
    assert spec.load_function() is format_stage
    assert spec.load_config_class() is FormatConfig


def test_chat_file_is_split_and_bad_lines_are_kept_with_reason(ws: Workspace, sft_file: Path) -> None:
    cfg = FormatConfig(inputs=[str(sft_file)], splits={"train": 0.8, "validation": 0.2}, seed=1)
    art = format_stage(cfg, ws, name="sft")
    assert split_names(art) == ["rejected", "train", "validation"]
    train, val = records(art, "train"), records(art, "validation")
    assert (len(train), len(val)) == (16, 4)
    assert train[0]["messages"][0]["role"] == "user"
    assert {r["source"] for r in train + val} == {f"{sft_file}:{n}" for n in [*range(1, 11), *range(14, 24)]}
    rej = records(art, "rejected")
    assert [(r["source"], r["reason"].split(":")[0]) for r in rej] == [
        (f"{sft_file}:11", "bad_json"), (f"{sft_file}:12", "role_order"), (f"{sft_file}:13", "empty_turn")]
    assert rej[0]["record"] == '{"messages": ['
    assert art.manifest.stats["rejected_by_reason"] == {"bad_json": 1, "role_order": 1, "empty_turn": 1}
    assert art.manifest.parents[0].sha256 == sha256_file(sft_file)
    assert art.manifest.parents[0].role == "source"


def test_same_seed_same_split_other_seed_other_split(ws: Workspace, sft_file: Path) -> None:
    def val_sources(seed: int) -> list[str]:
        cfg = FormatConfig(inputs=[str(sft_file)], splits={"train": 0.5, "validation": 0.5}, seed=seed)
        return [r["source"] for r in records(format_stage(cfg, ws), "validation")]

    assert val_sources(3) == val_sources(3)
    assert val_sources(3) != val_sources(4)


def test_preference_file_to_preference_and_to_chat(ws: Workspace, tmp_path: Path) -> None:
    f = write_jsonl(tmp_path / "pref.jsonl", [{"prompt": "X100 保修多久?", "chosen": "两年。", "rejected": "不知道。"},
                                              {"prompt": "q", "chosen": "same", "rejected": "same"}])
    pref = records(format_stage(FormatConfig(inputs=[str(f)], to="preference"), ws))
    assert pref == [{"prompt": "X100 保修多久?", "chosen": "两年。", "rejected": "不知道。", "system": "",
                     "source": f"{f}:1"}]
    sft = records(format_stage(FormatConfig(inputs=[str(f)], to="chat", system_prompt="You are Acme."), ws))
    assert [m["role"] for m in sft[0]["messages"]] == ["system", "user", "assistant"]


def test_csv_json_parquet_alpaca_inputs(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("instruction,input,output\nsay hi,,hi\n翻译,你好,hello\n", encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps([{"instruction": "x", "output": "y"}, 5]), encoding="utf-8")
    pq.write_table(pa.Table.from_pylist([chat("pq", "rows")]), tmp_path / "c.parquet")
    art = format_stage(FormatConfig(inputs=[str(tmp_path / "*.*")]), ws)
    got = {r["source"].rsplit("/", 1)[1]: r["messages"][0]["content"] for r in records(art)}
    assert got == {"a.csv:2": "say hi", "a.csv:3": "翻译\n\n你好", "b.json:1": "x", "c.parquet:1": "pq"}
    assert [r["source"].rsplit("/", 1)[1] for r in records(art, "rejected")] == ["b.json:2"]
    assert len(art.manifest.parents) == 3


def test_artifact_input_keeps_lineage(ws: Workspace, sft_file: Path) -> None:
    first = format_stage(FormatConfig(inputs=[str(sft_file)]), ws, name="sft-chat")
    again = format_stage(FormatConfig(inputs=["sft-chat"], to="sharegpt"), ws)
    assert again.manifest.parents[0].id == first.id
    rows = records(again)
    assert len(rows) == 20 and rows[0]["conversations"][0]["from"] == "human"
    assert rows[0]["source"].startswith(str(sft_file))


def test_file_where_nothing_fits_is_one_usage_error(ws: Workspace, tmp_path: Path) -> None:
    f = write_jsonl(tmp_path / "wrong.jsonl", [{"question": "q", "answer": "a"}, {"question": "q2"}])
    with pytest.raises(UsageError) as e:
        format_stage(FormatConfig(inputs=[str(f)]), ws)
    assert f"{f}:1" in str(e.value) and "\n" not in str(e.value)
    chat_only = write_jsonl(tmp_path / "chat.jsonl", [chat("q", "a")])
    with pytest.raises(UsageError, match="not_a_pair"):
        format_stage(FormatConfig(inputs=[str(chat_only)], to="preference"), ws)


@pytest.mark.parametrize("content", ["", "\n\n", "\ufeff"])
def test_empty_file_is_a_usage_error(ws: Workspace, tmp_path: Path, content: str) -> None:
    f = tmp_path / "empty.jsonl"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError, match="empty"):
        format_stage(FormatConfig(inputs=[str(f)]), ws)


def test_bad_inputs_and_config(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="neither a file nor an artifact"):
        format_stage(FormatConfig(inputs=["nope.jsonl"]), ws)
    (tmp_path / "x.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(UsageError, match="unsupported file type"):
        format_stage(FormatConfig(inputs=[str(tmp_path / "x.txt")]), ws)
    with pytest.raises(ConfigError, match="sum to 0.9"):
        format_stage(FormatConfig(inputs=[str(tmp_path / "x.txt")], splits={"train": 0.9}), ws)
    with pytest.raises(ConfigError, match="did you mean 'splits'"):
        build_config(FormatConfig, {"split": {"train": 1.0}})
    bad_utf8 = tmp_path / "latin.jsonl"
    bad_utf8.write_bytes(json.dumps(chat("q", "a")).encode() + b"\n" + b'{"text": "caf\xe9"}\n')
    rej = records(format_stage(FormatConfig(inputs=[str(bad_utf8)]), ws), "rejected")
    assert rej[0]["reason"].startswith("bad_encoding") and rej[0]["source"].endswith(":2")


def test_a_single_split_keeps_the_input_order(ws: Workspace, sft_file: Path) -> None:
    rows = records(format_stage(FormatConfig(inputs=[str(sft_file)]), ws))
    assert [int(r["source"].rsplit(":", 1)[1]) for r in rows] == [*range(1, 11), *range(14, 24)]


def test_binary_file_and_missing_columns_name_the_first_line(ws: Workspace, tmp_path: Path) -> None:
    binary = tmp_path / "blob.jsonl"
    binary.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(UsageError, match=f"{binary}:1: bad_"):
        format_stage(FormatConfig(inputs=[str(binary)]), ws)
    csv_file = tmp_path / "half.csv"
    csv_file.write_text("instruction,answer\nsay hi,hi\n", encoding="utf-8")
    with pytest.raises(UsageError, match=f"{csv_file}:2: unknown_schema"):
        format_stage(FormatConfig(inputs=[str(csv_file)]), ws)
    with pytest.raises(UsageError, match=f"{csv_file}:2: missing_field: 'output' is missing"):
        format_stage(FormatConfig(inputs=[str(csv_file)], source_format="alpaca"), ws)
