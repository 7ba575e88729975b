"""The sweep: every variant built with lineage, measured the same way, the smallest (or fastest) variant that
passes every gate named and tagged, and a reason on record for every other variant."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from luban.compress.sweep import SweepConfig, sweep, verdicts
from luban.core.errors import LubanError, UsageError
from luban.models.loading import ImportConfig, import_stage
from luban.stages import get_stage

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "eval"


@pytest.fixture
def base(ws: Any, tiny_model_dir: Path) -> Any:
    return import_stage(ImportConfig(path=str(tiny_model_dir)), ws, name="base")


@pytest.mark.needs("onnxruntime", "pip install 'luban[onnx]'")
def test_stage_names_the_smallest_passing_variant_and_why_each_other_lost(ws: Any, base: Any) -> None:
    cfg = SweepConfig(variants=["torch-int8", "onnx-int8", "prune"], drop_layers=0, mlp_keep=0.25,
                      measure_speed=False, tasks=[str(EXAMPLES / "perplexity.yaml")],
                      gates={"perplexity_delta_pct": "<= 1", "acme_ppl.perplexity": "<= 100000"})
    report = get_stage("compress.sweep").load_function()(cfg, ws, {"model": base}, "acme-sweep")
    results = json.loads((report.path / "results.json").read_text())
    rows = {r["name"]: r for r in results["variants"]}
    assert set(rows) == {"parent", "torch-int8", "onnx-int8", "prune"}
    # the ONNX variant has no task metrics: its gate on one is a miss with the reason, never a pass
    assert not rows["onnx-int8"]["passed"] and "transformers variants only" in rows["onnx-int8"]["verdict"]
    assert "acme_ppl.perplexity" in rows["torch-int8"]["metrics"]
    passing = [r for r in rows.values() if r["passed"]]
    best = min(passing, key=lambda r: r["metrics"]["size_mb"])
    assert results["candidate"] == best["name"] == "torch-int8"
    assert ws.get("acme-sweep-candidate").id == rows["torch-int8"]["artifact"]
    assert rows["parent"]["verdict"].startswith("passed, but larger")
    for r in rows.values():
        assert r["verdict"]
        if not r["passed"]:
            assert r["verdict"].startswith("failed: ")
    assert {p.role for p in report.manifest.parents} >= {"source", "variant:torch-int8", "variant:prune"}
    assert "torch-int8" in (report.path / "report.html").read_text()
    assert ws.get("acme-sweep-torch-int8").parent("source").id == base.id


def test_no_passing_variant_stops_with_the_report_written(ws: Any, base: Any) -> None:
    def gates(metrics: dict[str, float]) -> list[dict[str, Any]]:
        return [{"metric": "size_mb", "passed": False, "why": f"size_mb = {metrics['size_mb']:.2f}, needs <= 0"}]

    cfg = SweepConfig(variants=["torch-int8"], measure_speed=False, gates={"size_mb": "<= 0"})
    with pytest.raises(LubanError, match="no variant passes every gate"):
        sweep(cfg, ws, {"model": base}, "s", gates=gates)
    results = json.loads((ws.get("s").path / "results.json").read_text())
    assert results["candidate"] is None and all(r["verdict"].startswith("failed: size_mb") for r in results["variants"])


def test_prefer_speed_picks_the_fastest_passing_row() -> None:
    rows = [{"name": n, "passed": ok, "gates": [], "metrics": {"size_mb": s, "tokens_per_s": t}}
            for n, ok, s, t in [("a", True, 10, 50.0), ("b", True, 2, 20.0), ("c", False, 1, 90.0)]]
    rows[2]["gates"] = [{"passed": False, "why": "x missed"}]
    assert verdicts(rows, "speed")["name"] == "a"
    assert rows[1]["verdict"] == "passed, but slower: 20.0 vs 50.0 tokens/s"
    assert verdicts(rows, "size")["name"] == "b" and rows[2]["verdict"] == "failed: x missed"


def test_unknown_variant_and_missing_scorer_are_refused(ws: Any, base: Any) -> None:
    with pytest.raises(UsageError, match="unknown sweep variant 'int3'"):
        sweep(SweepConfig(variants=["int3"]), ws, {"model": base})
    with pytest.raises(UsageError, match="no gate checker"):
        sweep(SweepConfig(variants=["torch-int8"], gates={"size_mb": "<= 1"}), ws, {"model": base})
