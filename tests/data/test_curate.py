"""The data.curate stage: splits, provenance columns, rejected reasons, lineage, stats, recipes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from luban.core.config import load_config
from luban.core.errors import ConfigError, NotFoundError, UsageError
from luban.core.workspace import Workspace
from luban.data.curate import CurateConfig, curate
from luban.data.shards import read_split


def write_jsonl(path: Path, texts: list[str], extra_lines: list[str] = ()) -> Path:
    lines = [json.dumps({"text": t, "id": i}, ensure_ascii=False) for i, t in enumerate(texts)]
    path.write_text("\n".join([*lines, *extra_lines]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def raw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_docs) -> Path:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "raw"
    folder.mkdir()
    texts = make_docs(40)
    texts[5] = texts[3]  # an exact duplicate
    texts[7] = texts[1].replace("robot", "robots", 1)  # a near duplicate
    texts[9] = texts[9] + " Call me at 13812345678 or mail li.lei@example.com."
    write_jsonl(folder / "a.jsonl", texts, ["{not json", json.dumps({"body": "no text field"})])
    (folder / "b.txt").write_text(make_docs(1, seed=7)[0], encoding="utf-8")
    (folder / "empty.txt").write_text("", encoding="utf-8")
    return folder


def test_default_recipe_produces_train_and_rejected_with_provenance(raw: Path, ws: Workspace) -> None:
    art = curate(CurateConfig(inputs=["raw"]), ws, name="corpus")
    assert art.kind == "dataset" and ws.get("corpus").id == art.id
    train = read_split(art, "train").to_pylist()
    rejected = read_split(art, "rejected").to_pylist()
    for col in ("text", "source", "source_line", "source_sha256"):
        assert col in train[0]
    assert {"reason", "operator"} <= set(rejected[0])
    by_reason = {(r["operator"], r["source"], r["source_line"]) for r in rejected}
    assert ("read.jsonl", "raw/a.jsonl", 41) in by_reason  # malformed JSON line, file:line kept
    assert ("read.jsonl", "raw/a.jsonl", 42) in by_reason  # missing text field
    assert ("read.txt", "raw/empty.txt", 0) in by_reason
    dup = [r for r in rejected if r["operator"] == "exact_dedup"]
    assert [(d["source_line"], d["duplicate_of"]) for d in dup] == [(6, "raw/a.jsonl:4")]
    near = [r for r in rejected if r["operator"] == "minhash_dedup"]
    assert [n["source_line"] for n in near] == [8]
    masked = next(t for t in train if t["source_line"] == 10)
    assert "13812345678" not in masked["text"] and "li.lei@example.com" not in masked["text"]
    stats = art.manifest.stats
    assert stats["records_in"] == stats["train"] + stats["rejected"] == 44
    assert stats["pii"] == {"cn_mobile": 1, "email": 1}
    assert stats["languages"]["zh"] > 0 and stats["languages"]["en"] > 0
    sources = {p.path: p.sha256 for p in art.manifest.parents if p.type == "file"}
    assert set(sources) == {"raw/a.jsonl", "raw/b.txt", "raw/empty.txt"}
    assert all(t["source_sha256"] == sources[t["source"]] for t in train)


def test_workers_do_not_change_the_output(raw: Path, tmp_path: Path) -> None:
    one = curate(CurateConfig(inputs=["raw"], workers=1, batch_size=7), Workspace(tmp_path / "w1"))
    two = curate(CurateConfig(inputs=["raw"], workers=2, batch_size=7), Workspace(tmp_path / "w2"))
    assert read_split(one, "train").equals(read_split(two, "train"))
    assert one.id == two.id


def test_recipe_yaml_loads_with_overrides(raw: Path, tmp_path: Path, ws: Workspace) -> None:
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("inputs: [raw/a.jsonl]\nprocess:\n  - nfkc: {}\n  - length: {min_chars: 5000}\n")
    cfg = load_config(CurateConfig, recipe, ["workers=1"])
    art = curate(cfg, ws)
    assert read_split(art, "train").num_rows == 0
    reasons = {r["reason"] for r in read_split(art, "rejected").to_pylist() if r["operator"] == "length"}
    assert reasons == {"shorter than 5000 chars"}


def test_unknown_operator_and_argument_are_config_errors(raw: Path, ws: Workspace) -> None:
    with pytest.raises(ConfigError, match="did you mean 'minhash_dedup'"):
        curate(CurateConfig(inputs=["raw"], process=[{"minhash_dedupe": {}}]), ws)
    with pytest.raises(ConfigError, match="no argument 'treshold'.*threshold"):
        curate(CurateConfig(inputs=["raw"], process=[{"minhash_dedup": {"treshold": 0.5}}]), ws)
    with pytest.raises(ConfigError, match="unknown key 'proces'"):
        load_config(CurateConfig, None, ["proces=[]"])


def test_missing_inputs_are_usage_errors(raw: Path, ws: Workspace) -> None:
    with pytest.raises(UsageError, match="no inputs"):
        curate(CurateConfig(), ws)
    with pytest.raises(NotFoundError, match="matches no file"):
        curate(CurateConfig(inputs=["raw/*.parquet"]), ws)
    with pytest.raises(NotFoundError, match="not a file"):
        curate(CurateConfig(inputs=["nowhere/"]), ws)
