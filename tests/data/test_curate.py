"""The data.curate stage: splits, provenance columns, rejected reasons, lineage, stats, recipes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from luban.core.config import load_config
from luban.core.errors import ConfigError, NotFoundError, UsageError
from luban.core.shards import read_split
from luban.core.workspace import Workspace
from luban.data.curate import CurateConfig, curate


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
    found = {op["name"]: op["tags"] for op in stats["operators"]}  # every operator's tags, by its label
    assert found["pii"] == {"cn_mobile": 1, "email": 1}
    assert found["language"]["zh"] > 0 and found["language"]["en"] > 0
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


SPILL_RECIPE = [{"nfkc": {}}, {"whitespace": {}}, {"length": {"min_chars": 20}}, {"exact_dedup": {}},
                {"minhash_dedup": {}}, {"substring_dedup": {"min_length": 60}}, {"pii": {"action": "mask"}}]


def in_memory_reference(paths: list[Path], process: list, batch_size: int) -> tuple[list[dict], list[dict]]:
    """The recipe as curate ran it before spilling: every record in memory, each global operator's
    `select` over all the records that reached it. -> (train, rejected) as plain dicts."""
    from luban.data import records as R
    from luban.data.executors.base import build_ops, run_batch
    from luban.data.ops.registry import parse_process
    from luban.data.readers import ReadOptions, open_source, read_source
    from luban.data.recipe import segments

    rejected: list[dict] = []
    kept: list[dict] = []
    for path in paths:
        for rec in read_source(open_source(path), "text", ReadOptions()):
            (rejected if R.REASON in rec else kept).append(rec)
    for seg_specs, global_spec in segments(parse_process(process)):
        ops = build_ops(seg_specs)
        batches = [kept[i:i + batch_size] for i in range(0, len(kept), batch_size)]
        kept = []
        for batch in batches:
            res = run_batch(ops, batch)
            kept += res.kept
            rejected += res.rejected
        if global_spec is not None:
            kept, dropped = next(op for op in ops if op.label == global_spec.label).select(kept)
            rejected += dropped
    return (R.to_table(kept).to_pylist(), R.to_table(rejected, R.REJECT_COLUMNS).to_pylist())


def test_spilled_curation_gives_what_holding_every_record_in_memory_gave(
        raw: Path, ws: Workspace, make_docs) -> None:  # type: ignore[no-untyped-def]
    more = make_docs(300, seed=11)
    more[50] = more[20]
    more[60] = more[21].replace("the", "a", 1)
    more[70] += " " + more[23]  # another whole document inside: for substring dedup
    write_jsonl(raw / "c.jsonl", more)
    art = curate(CurateConfig(inputs=["raw"], process=SPILL_RECIPE, batch_size=16, workers=2), ws)
    paths = sorted(raw.iterdir())
    train, rejected = in_memory_reference([p.relative_to(raw.parent) for p in paths], SPILL_RECIPE, 16)
    assert read_split(art, "train").to_pylist() == train
    assert read_split(art, "rejected").to_pylist() == rejected
    assert {r["operator"] for r in rejected} >= {"read.jsonl", "exact_dedup", "minhash_dedup"}
    substring = next(o for o in art.manifest.stats["operators"] if o["name"] == "substring_dedup")
    assert substring["modified"] > 0


def test_spill_files_go_where_spill_dir_says_and_are_removed(raw: Path, tmp_path: Path) -> None:
    from luban.data import spill as S

    seen: list[Path] = []
    original = S.Spill.__init__

    def record_path(self: S.Spill, path: Path, *args: object) -> None:
        seen.append(path)
        original(self, path, *args)  # type: ignore[arg-type]

    ws = Workspace(tmp_path / "ws")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(S.Spill, "__init__", record_path)
        curate(CurateConfig(inputs=["raw"], spill_dir=str(tmp_path / "spill")), ws)
    assert seen and all((tmp_path / "spill") in p.parents for p in seen)
    assert list((tmp_path / "spill").iterdir()) == []
    curate(CurateConfig(inputs=["raw"], process=[{"length": {"min_chars": 5}}]), ws)  # default: workspace tmp/
    assert list((ws.root / "tmp").iterdir()) == []


def test_spill_folder_is_removed_when_an_operator_fails(raw: Path, ws: Workspace,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from luban.data.ops.dedup.minhash import MinHashDedup

    def boom(self: MinHashDedup, keys: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(MinHashDedup, "select_keys", boom)
    with pytest.raises(RuntimeError, match="boom"):
        curate(CurateConfig(inputs=["raw"], workers=1), ws)
    assert list((ws.root / "tmp").iterdir()) == []


def test_global_dedup_decides_on_keys_while_the_records_wait_on_disk(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_docs) -> None:  # type: ignore[no-untyped-def]
    """The driver holds num_perm x 4 bytes per record when MinHash decides, not the corpus."""
    import tracemalloc

    import numpy as np

    from luban.data.ops.dedup.minhash import MinHashDedup

    monkeypatch.chdir(tmp_path)
    texts = [t * 8 for t in make_docs(1500, seed=5)]  # ~8 kB each, 12 MB of text in all
    write_jsonl(tmp_path / "big.jsonl", texts)
    text_bytes = sum(len(t.encode()) for t in texts)
    seen: dict[str, int] = {}
    original = MinHashDedup.select_keys

    def measured(self: MinHashDedup, keys: np.ndarray) -> np.ndarray:
        seen["rows"], seen["held"] = len(keys), tracemalloc.get_traced_memory()[0]
        return original(self, keys)

    monkeypatch.setattr(MinHashDedup, "select_keys", measured)
    cfg = CurateConfig(inputs=["big.jsonl"], workers=1, batch_size=100,
                       process=[{"length": {"min_chars": 20}}, {"minhash_dedup": {}}])
    curate(cfg, Workspace(tmp_path / "w-warm"))  # imports and caches outside the measurement
    tracemalloc.start()
    try:
        art = curate(cfg, Workspace(tmp_path / "ws"))
    finally:
        tracemalloc.stop()
    assert seen["rows"] == 1500 and art.manifest.stats["train"] == 1500
    keys_bytes = 1500 * 128 * 4
    assert seen["held"] < keys_bytes + text_bytes // 4, (seen["held"], keys_bytes, text_bytes)
