"""Comparison of models: which is best at what, one HTML page with charts, speed measured locally and served."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from luban.cli.main import main
from luban.core.workspace import Workspace
from luban.evaluate.compare import Candidate, compare, render_comparison
from luban.evaluate.gates import check_gates
from luban.evaluate.speed import dir_size, measure_endpoint, measure_local
from luban.models.loading import ImportConfig, import_stage

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "eval"
BASE = Candidate("base", quality={"qa.exact_match": 0.4, "ppl.perplexity": 12.0},
                 perf={"size_mb": 400.0, "tokens_per_s": 20.0, "ttft_ms": 80.0, "latency_p50_ms": 900.0})
Q8 = Candidate("q8", quality={"qa.exact_match": 0.38, "ppl.perplexity": 12.3},
               safety={"refusal": 0.97, "over_refusal": 0.02},
               perf={"size_mb": 110.0, "tokens_per_s": 55.0, "ttft_ms": 40.0, "latency_p50_ms": 350.0},
               info={"backend": "llamacpp", "quantization": "q8_0"})


def test_best_per_metric_knows_which_way_is_better() -> None:
    report = compare([BASE, Q8])
    assert report["best"] == {"qa.exact_match": "base", "ppl.perplexity": "base", "size_mb": "q8",
                              "tokens_per_s": "q8", "ttft_ms": "q8", "latency_p50_ms": "q8"}
    assert "safety.refusal" not in report["best"]  # one candidate has it: nothing to compare
    assert report["metrics"]["q8.safety.refusal"] == 0.97 and "base.safety.refusal" not in report["metrics"]
    assert report["metric_names"][:2] == ["ppl.perplexity", "qa.exact_match"]  # quality, then safety, then speed
    assert report["metric_names"][-1] in {"size_mb", "tokens_per_s", "ttft_ms", "latency_p50_ms"}


def test_a_candidate_is_gated_with_the_specs_own_gate_names() -> None:
    gates = {"exact_match": ">= 0.35", "safety.refusal": ">= 0.95", "latency_p50_ms": "<= 500"}
    assert [g.passed for g in check_gates(gates, Q8.metrics())] == [True, True, True]
    with pytest.raises(Exception, match="gate on 'safety.refusal': the report has no such metric"):
        check_gates(gates, BASE.metrics())


def test_the_page_has_charts_and_a_table_and_nothing_from_a_cdn() -> None:
    page = render_comparison(compare([BASE, Q8]), "Acme variants")
    assert page.count("data:image/png;base64,") == 1
    assert "<th>q8</th>" in page and "<b>55</b>" in page and "decode tokens/s ↑" in page and "ppl.perplexity ↓" in page
    assert "quantization=q8_0" in page
    assert not re.search(r"(src|href)=[\"']?https?://", page)


def test_local_speed_of_the_tiny_model(tiny_model_dir: Path) -> None:
    perf = measure_local(tiny_model_dir, new_tokens=8, runs=1)
    assert perf["size_mb"] == dir_size(tiny_model_dir) / 2**20
    assert perf["load_s"] > 0 and perf["ttft_ms"] > 0 and perf["tokens_per_s"] > 0
    assert perf["latency_p50_ms"] > perf["ttft_ms"]
    assert 50 < perf["peak_rss_mb"] < 8000  # the child's own peak, torch included


@pytest.mark.slow
def test_speed_of_a_served_model(served: str) -> None:
    perf = measure_endpoint(f"{served}/v1", "tiny", new_tokens=8, runs=1)
    assert perf["ttft_ms"] > 0 and perf["tokens_per_s"] > 0 and perf["latency_p50_ms"] >= perf["ttft_ms"]


def test_luban_eval_compare_writes_a_report(tiny_model_dir: Path, noisy_model_dir: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    wsdir = tmp_path / "ws"
    ws = Workspace(wsdir)
    import_stage(ImportConfig(path=str(tiny_model_dir)), ws, name="base")
    ws.close()
    with pytest.raises(SystemExit) as exit_:
        main(["-w", str(wsdir), "eval", "compare", "base", f"noisy={noisy_model_dir}", "-t",
              str(EXAMPLES / "mc_mmlu.yaml"), "--no-speed", "--name", "cmp"])
    assert exit_.value.code == 0, capsys.readouterr().err
    ws = Workspace(wsdir)
    art = ws.get("cmp")
    results = json.loads((art.path / "results.json").read_text())
    assert [c["name"] for c in results["candidates"]] == ["base", "noisy"]
    assert set(results["candidates"][0]["metrics"]) == {"acme_mc_en.acc", "acme_mc_en.acc_norm", "size_mb"}
    assert [p.role for p in art.manifest.parents] == ["candidate:base"]
    assert "data:image/png;base64," in (art.path / "report.html").read_text()
    assert check_gates({"base.acme_mc_en.acc": ">= 0"}, results, "evaluate.compare")[0].passed
    ws.close()
