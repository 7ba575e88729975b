"""Gates: reading conditions, finding the metric a gate names in a report, and stopping `luban run`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from luban.cli.main import main
from luban.core.errors import ConfigError, UsageError
from luban.core.workspace import Workspace
from luban.evaluate.gates import GateFailed, check_gates, parse_gate, raise_on_failure, resolve
from luban.pipeline import run_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "eval"
TASKS_REPORT = {"target": {"name": "m", "id": "abc"},
                "metrics": {"qa.exact_match": 0.62, "qa.rouge_l": 0.7, "mc.acc": 0.5},
                "tasks": {"qa": {"n": 10, "metrics": {"exact_match": 0.62, "rouge_l": 0.7}, "items": [{"x": 1.0}]},
                          "mc": {"n": 4, "metrics": {"acc": 0.5}}}}
QA_REPORT = {"questions": 3, "models": {"model": {"exact_match": 0.9, "rouge_l": 0.95},
                                        "baseline": {"exact_match": 0.1, "rouge_l": 0.2}}}
SAFETY_REPORT = {"metrics": {"refusal": 0.97, "over_refusal": 0.03}, "banks": {"must_refuse": {"rate": 0.97}}}


@pytest.mark.parametrize(("expr", "op", "value"), [
    (">= 0.8", ">=", 0.8), ("<=50", "<=", 50.0), ("> 1e-3", ">", 0.001), ("== 1", "==", 1.0),
    (">= 95%", ">=", 0.95), (0.8, ">=", 0.8)])
def test_conditions(expr: str | float, op: str, value: float) -> None:
    g = parse_gate("m", expr)
    assert (g.op, g.threshold) == (op, value)


@pytest.mark.parametrize("expr", ["at least 0.8", ">= high", "=> 0.8", ""])
def test_unreadable_conditions(expr: str) -> None:
    with pytest.raises(UsageError, match="gate m: cannot read"):
        parse_gate("m", expr)


def test_names_resolve_in_order() -> None:
    assert resolve("qa.exact_match", TASKS_REPORT) == "metrics.qa.exact_match"
    assert resolve("exact_match", TASKS_REPORT) == "metrics.qa.exact_match"  # unique suffix, summary first
    assert resolve("tasks.qa.n", TASKS_REPORT) == "tasks.qa.n"  # an exact key
    assert resolve("exact_match", QA_REPORT) == "models.model.exact_match"  # evaluate.qa: the model, not the baseline
    assert resolve("safety.refusal", SAFETY_REPORT, "evaluate.safety") == "metrics.refusal"
    assert resolve("refusal", SAFETY_REPORT) == "metrics.refusal"


def test_a_gate_on_a_metric_the_report_lacks_lists_the_available_ones() -> None:
    with pytest.raises(UsageError, match=r"gate on 'latency_p50_ms': the report has no such metric — "
                                         r"available: mc\.acc, qa\.exact_match, qa\.rouge_l$"):
        check_gates({"latency_p50_ms": "<= 50"}, TASKS_REPORT)
    with pytest.raises(UsageError, match="no such metric"):
        check_gates({"safety.refusal": ">= 0.95"}, TASKS_REPORT, "evaluate.tasks")


def test_an_ambiguous_name_lists_the_candidates() -> None:
    report = {"metrics": {"a.acc": 0.1, "b.acc": 0.2}}
    with pytest.raises(UsageError, match="ambiguous: the report holds metrics.a.acc, metrics.b.acc"):
        resolve("acc", report)


def test_results_say_how_far_each_gate_is() -> None:
    res = check_gates({"exact_match": ">= 0.8", "rouge_l": ">= 0.5", "mc.acc": "< 0.4"}, TASKS_REPORT)
    assert [r.passed for r in res] == [False, True, False]
    assert res[0].margin == pytest.approx(-0.18) and res[1].margin == pytest.approx(0.2)
    assert res[0].describe() == "exact_match = 0.62, needs >= 0.8: missed by 0.18"
    with pytest.raises(GateFailed, match=r"exact_match = 0.62, needs >= 0.8: missed by 0.18; "
                                         r"mc.acc = 0.5, needs < 0.4: missed by 0.1"):
        raise_on_failure(res)
    assert check_gates({"qa.exact_match": 0.6}, {"qa.exact_match": 0.62})[0].passed  # a flat dict of metrics


def write_spec(tmp_path: Path, tiny_model_dir: Path, gate: str) -> Path:
    spec = {"name": "gated", "stages": [
        {"name": "base", "use": "models.import", "with": {"path": str(tiny_model_dir)}},
        {"name": "mc", "use": "evaluate.tasks", "from": {"model": "base"},
         "with": {"tasks": [str(EXAMPLES / "mc_mmlu.yaml")]}, "gates": {"acme_mc_en.acc": gate}},
        {"name": "ppl", "use": "evaluate.tasks", "from": {"model": "base"},
         "with": {"tasks": [str(EXAMPLES / "perplexity.yaml")]}}]}
    path = tmp_path / "luban.yaml"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def test_a_bad_gate_in_a_spec_fails_before_any_stage(tmp_path: Path, tiny_model_dir: Path, ws: Workspace) -> None:
    with pytest.raises(ConfigError, match="stage 'mc': gate acme_mc_en.acc: cannot read 'most'"):
        run_spec(write_spec(tmp_path, tiny_model_dir, "most"), ws)
    assert ws.is_new()


def test_a_failing_gate_stops_the_run_and_ignore_gates_is_recorded_in_lineage(
        tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path, tiny_model_dir, ">= 1.01")  # no model reaches it
    wsdir = str(tmp_path / "ws")
    with pytest.raises(SystemExit) as exit_:
        main(["-w", wsdir, "run", str(spec)])
    err = capsys.readouterr().err
    assert exit_.value.code == 1
    assert "stage 'mc': gate failed: acme_mc_en.acc = " in err and "needs >= 1.01: missed by" in err
    assert "--ignore-gates" in err
    ws = Workspace(wsdir)
    assert ws.exists("mc") and not ws.exists("ppl")  # the report is kept, no later stage ran
    ws.close()

    with pytest.raises(SystemExit) as exit_:
        main(["-w", wsdir, "run", str(spec), "--ignore-gates"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    assert "gate IGNORED mc: acme_mc_en.acc" in out
    ws = Workspace(wsdir)
    mc, ppl, base = ws.get("mc"), ws.get("ppl"), ws.get("base")
    assert [(p.role, p.id) for p in ppl.manifest.parents if p.type == "artifact"] == \
           [("model", base.id), ("gate-ignored", mc.id)]
    assert all(p.role != "gate-ignored" for p in mc.manifest.parents)  # only what came after
    ws.close()


def test_a_passing_gate_lets_the_run_go_on(tmp_path: Path, tiny_model_dir: Path, ws: Workspace) -> None:
    results = run_spec(write_spec(tmp_path, tiny_model_dir, ">= 0"), ws, until="mc")
    assert [r.name for r in results] == ["base", "mc"]
    assert results[1].gates[0].passed and results[1].gates[0].key == "metrics.acme_mc_en.acc"


def test_gates_on_a_stage_without_a_report(tmp_path: Path, tiny_model_dir: Path, ws: Workspace) -> None:
    spec = {"name": "g", "stages": [{"name": "base", "use": "models.import", "with": {"path": str(tiny_model_dir)},
                                     "gates": {"acc": ">= 0.5"}}]}
    path = tmp_path / "s.yaml"
    path.write_text(json.dumps(spec), encoding="utf-8")
    with pytest.raises(UsageError, match="gates need a report with results.json; models.import made a model"):
        run_spec(path, ws)
