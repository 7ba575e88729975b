"""Datasets, lineage and evaluations in the console: real artifacts made with the real CLI on the site's
workspace, read over HTTP by each role and in a real browser, down to a raw file's SHA-256; an admin deploys a
sweep's candidate and the audit chain records it and still verifies."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from console_site import Site, login, luban, shot

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOTES = [
    {"text": "The L1 robot vacuum charges in four hours and runs for ninety minutes on one charge."},
    {"text": "To reset the X100, hold the power button for ten seconds until the light blinks twice."},
    {"text": "The L1 robot vacuum charges in four hours and runs for ninety minutes on one charge."},
    {"text": "ok"},
]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def built(site: Site, tiny_model_dir: Path) -> dict[str, Any]:
    """A curated dataset (a duplicate, a too-short line and a broken JSON line rejected), a formatted one
    (no funnel), a compression sweep of the tiny model with a gate the parent misses, a sweep that nothing
    passes, and a comparison."""
    root = site.ws.parent / "data-area"
    if root.exists():
        shutil.rmtree(root)
    (root / "raw").mkdir(parents=True)
    notes = root / "raw" / "notes.jsonl"
    notes.write_text("\n".join(json.dumps(n) for n in NOTES) + "\n{not json\n", encoding="utf-8")
    shutil.copy(EXAMPLES / "acme" / "raw" / "faq" / "en" / "l1_faq.md", root / "raw" / "l1_faq.md")
    (root / "recipe.yaml").write_text(
        "inputs: [raw/]\nprocess:\n  - whitespace: {}\n  - length: {min_chars: 12}\n  - exact_dedup: {}\n"
        "  - pii: {action: tag}\n", encoding="utf-8")
    (root / "spec.yaml").write_text(
        "name: console-data\nstages:\n"
        "  - name: c-corpus\n    use: data.curate\n    config: recipe.yaml\n"
        f"  - name: c-sft\n    use: data.format\n    with: {{inputs: ['{EXAMPLES / 'acme' / 'sft.jsonl'}'], to: chat,\n"
        "           splits: {train: 0.8, validation: 0.2}}\n"
        f"  - name: c-base\n    use: models.import\n    with: {{path: '{tiny_model_dir}'}}\n"
        "  - name: c-sweep\n    use: compress.sweep\n    from: {model: c-base}\n"
        "    with: {variants: [torch-int8], measure_speed: false,\n"
        "           gates: {perplexity_delta_pct: '<= 5', size_mb: '<= 0.4'}}\n", encoding="utf-8")
    luban(site.ws, "run", str(root / "spec.yaml"))
    none = luban(site.ws, "compress", "sweep", "c-base", "--variants", "torch-int8", "--no-speed",
                 "--gate", "size_mb=<= 0.01", "--name", "c-none", check=False)
    assert none.returncode != 0 and "no variant passes every gate" in none.stderr  # the report is written first
    luban(site.ws, "eval", "compare", "base=c-base", "int8=c-sweep-torch-int8", "--no-speed", "--name", "c-compare")
    return {"root": root, "notes": notes, "notes_sha": _sha256(notes)}


def _err(r: httpx.Response) -> str:
    return str(r.json()["error"]["message"])


# -- the API, role by role ---------------------------------------------------------------------------------
def test_roles_on_datasets_lineage_and_deploy(site: Site, built: dict[str, Any]) -> None:
    for path in ("/console/api/datasets", "/console/api/datasets/c-corpus", "/console/api/lineage/c-corpus",
                 "/console/api/evals"):
        r = site.get(path, role="app")
        assert r.status_code == 403 and "role 'app'" in _err(r), path
        assert site.get(path, role="auditor").status_code == 200, path
        assert site.get(path, role="developer").status_code == 200, path
    assert httpx.get(site.url + "/console/api/datasets", timeout=10).status_code == 401
    for role in ("developer", "auditor", "app"):
        r = site.post("/console/api/evals/deploy", {"report": "c-sweep"}, role=role)
        assert r.status_code == 403 and "needs admin" in _err(r), role


def test_a_dataset_its_funnel_records_and_rejected_records_with_reasons(site: Site, built: dict[str, Any]) -> None:
    listed = {d["name"]: d for d in site.get("/console/api/datasets", role="auditor").json()["datasets"]}
    corpus = listed["c-corpus"]
    assert corpus["curated"] and corpus["rows"]["train"] >= 3 and corpus["rows"]["rejected"] == 3
    assert listed["c-sft"]["rows"].keys() >= {"train", "validation"} and not listed["c-sft"]["curated"]

    d = site.get("/console/api/datasets/c-corpus").json()
    steps = [s["name"] for s in d["funnel"]]
    assert steps == ["read", "whitespace", "length", "exact_dedup", "pii"]
    assert d["funnel"][0]["in"] == d["stats"]["records_in"] and d["funnel"][-1]["out"] == d["rows"]["train"]
    assert d["funnel"][2]["dropped"] == 1 and d["funnel"][3]["reasons"] == {"exact duplicate": 1}
    assert sum(d["lengths"]["train"]["counts"]) == d["rows"]["train"]
    assert d["rejected_by_operator"] == {"read.jsonl": 1, "length": 1, "exact_dedup": 1}

    page = site.get("/console/api/datasets/c-corpus/records?split=train&offset=1&limit=2").json()
    assert page["total"] == d["rows"]["train"] and len(page["records"]) == 2 and page["offset"] == 1
    rejected = site.get("/console/api/datasets/c-corpus/records?split=rejected&limit=50").json()["records"]
    assert {r["operator"] for r in rejected} == {"read.jsonl", "length", "exact_dedup"}
    assert all(r["reason"] and r["source"] == "raw/notes.jsonl" for r in rejected)
    dup = site.get("/console/api/datasets/c-corpus/records?split=rejected&operator=exact_dedup").json()
    assert dup["total"] == 1 and dup["records"][0]["source_line"] == 3 and "duplicate" in dup["records"][0]["reason"]

    sft = site.get("/console/api/datasets/c-sft").json()
    assert sft["funnel"] is None and sft["rows"]["validation"] > 0


def test_bad_refs_and_splits_get_one_clear_line(site: Site, built: dict[str, Any]) -> None:
    r = site.get("/console/api/datasets/no-such-set")
    assert r.status_code == 404 and "no artifact named 'no-such-set'" in _err(r)
    r = site.get("/console/api/lineage/no-such-thing")
    assert r.status_code == 404 and "no artifact named 'no-such-thing'" in _err(r)
    r = site.get("/console/api/datasets/c-corpus/records?split=test")
    assert r.status_code == 404 and "has no split 'test'" in _err(r) and "train" in _err(r)
    r = site.get("/console/api/datasets/c-sweep")
    assert r.status_code == 400 and "not a dataset" in _err(r)
    r = site.get("/console/api/datasets/c-corpus/records?limit=100000")
    assert r.status_code == 400 and "limit" in _err(r)
    r = site.post("/console/api/evals/deploy", {"report": "c-compare"})
    assert r.status_code == 400 and "names no deploy candidate" in _err(r)
    r = site.post("/console/api/evals/c-compare/gates", {"gates": {}})
    assert r.status_code == 400
    assert site.get("/console/api/evals/c-none").json()["candidate"] is None
    r = site.post("/console/api/evals/deploy", {"report": "c-none"})
    assert r.status_code == 409 and "no variant passed every gate" in _err(r)


def test_lineage_is_a_graph_down_to_raw_files_and_their_hashes(site: Site, built: dict[str, Any]) -> None:
    g = site.get("/console/api/lineage/c-corpus").json()
    files = {n["path"]: n for n in g["nodes"] if n["type"] == "file"}
    assert files["raw/notes.jsonl"]["sha256"] == built["notes_sha"]
    assert files["raw/l1_faq.md"]["sha256"] == _sha256(built["root"] / "raw" / "l1_faq.md")
    assert all(n["layer"] == 1 for n in files.values())
    g = site.get("/console/api/lineage/c-sweep").json()
    by_label = {n["label"]: n for n in g["nodes"]}
    base, int8, sweep = by_label["c-base"], by_label["c-sweep-torch-int8"], by_label["c-sweep"]
    assert g["root"] == sweep["id"] and sweep["layer"] == 0
    # c-base feeds both the sweep and its int8 variant: one node, laid out below the deeper of the two
    assert [n["label"] for n in g["nodes"]].count("c-base") == 1 and base["layer"] > int8["layer"]
    edges = {(e["from"], e["to"]) for e in g["edges"]}
    assert {(base["key"], int8["key"]), (int8["key"], sweep["key"]), (base["key"], sweep["key"])} <= edges


def test_reports_gates_and_an_admin_deploy_on_the_audit_record(site: Site, built: dict[str, Any]) -> None:
    reports = {r["name"]: r for r in site.get("/console/api/evals", role="auditor").json()["reports"]}
    assert reports["c-sweep"]["type"] == "sweep" and reports["c-compare"]["type"] == "compare"
    sweep = site.get("/console/api/evals/c-sweep", role="auditor").json()
    rows = {v["name"]: v for v in sweep["variants"]}
    assert sweep["candidate"]["variant"] == "torch-int8" and sweep["candidate"]["name"] == "c-sweep-torch-int8"
    assert not rows["parent"]["passed"] and "size_mb" in rows["parent"]["verdict"]
    assert any("needs <= 0.4" in g["why"] and not g["passed"] for g in rows["parent"]["gates"])
    checked = site.post("/console/api/evals/c-compare/gates", {"gates": {"size_mb": "<= 0.3",
                                                                         "acme_qa.exact_match": ">= 0.5"}},
                        role="auditor").json()["gates"]
    assert [g["passed"] for g in checked["base"]] == [False, False]
    assert checked["int8"][0]["passed"] and "needs <= 0.3: passed" in checked["int8"][0]["why"]
    # a gate on a metric the report lacks is a miss with the reason, never a pass
    assert not checked["int8"][1]["passed"] and "no such metric" in checked["int8"][1]["why"]

    admin = site.get("/console/api/session").json()
    r = site.post("/console/api/evals/deploy", {"report": "c-sweep"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["deployed"]["id"] == sweep["candidate"]["id"] and "deployed" in out["deployed"]["names"]
    assert site.get("/console/api/evals").json()["deployed"]["id"] == sweep["candidate"]["id"]
    shown = luban(site.ws, "show", "deployed").stdout
    assert sweep["candidate"]["id"][:12] in shown
    records = [json.loads(line) for line in
               luban(site.ws, "audit", "export", "-", "--kind", "admin").stdout.splitlines() if line.strip()]
    mine = [x for x in records if x["action"] == "deploy" and x["seq"] == out["audit"]["seq"]
            and x["chain"] == out["audit"]["chain"]]
    assert len(mine) == 1
    rec = mine[0]
    assert rec["key_id"] == admin["id"] and rec["artifact"] == sweep["candidate"]["id"]
    assert rec["report"] == sweep["id"] and rec["ref"] == "deployed"
    verified = luban(site.ws, "audit", "verify")
    assert f"{out['audit']['chain']}: " in verified.stdout and "FAILED" not in verified.stdout


# -- in the browser ------------------------------------------------------------------------------------------
@pytest.mark.browser
def test_open_a_dataset_and_follow_its_lineage_to_a_raw_file(page: Any, site: Site, built: dict[str, Any]) -> None:
    login(page, site, "auditor")
    page.click("nav.side a[data-page=datasets]")
    page.click("a.dataset-link[data-name=c-corpus]")
    page.wait_for_selector("#funnel-chart rect")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    assert page.locator("#funnel-table tbody tr").count() == 5
    page.wait_for_selector(".records-table tbody tr")
    page.wait_for_selector(".rejected-table tbody tr")
    assert "exact duplicate" in page.inner_text(".rejected-table")
    page.select_option("#rejected-operator", "length")
    page.wait_for_function("document.querySelectorAll('.rejected-table tbody tr').length === 1")
    assert "shorter than 12" in page.inner_text(".rejected-table .reason")
    shot(page, "datasets-detail")
    page.click("#lineage-link")
    page.wait_for_selector("#lineage-graph g.node.file")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366  # fits a laptop screen
    shot(page, "lineage-dataset")
    page.click("#lineage-graph g.node.file[data-key*='raw/notes.jsonl']")
    page.wait_for_selector("#file-detail")
    assert page.inner_text("#file-detail .path") == "raw/notes.jsonl"
    assert page.inner_text("#file-detail .sha256") == built["notes_sha"]


@pytest.mark.browser
def test_lineage_recentres_on_a_clicked_artifact(page: Any, site: Site, built: dict[str, Any]) -> None:
    login(page, site, "developer")
    page.goto(site.console + "#/lineage/c-sweep")
    page.wait_for_selector("#lineage-graph g.node.root[data-label=c-sweep]")
    page.click("#lineage-graph g.node[data-label=c-base]")
    page.wait_for_selector("#lineage-graph g.node.root[data-label=c-base]")
    assert "#/lineage/" in page.url and page.locator("#lineage-graph g.node[data-label=c-sweep]").count() == 0
    assert "models.import" in page.inner_text("#artifact-detail")
    page.click("#lineage-graph g.node.file >> nth=0")
    page.wait_for_selector("#file-detail .sha256")
    assert len(page.inner_text("#file-detail .sha256")) == 64
    shot(page, "lineage-model")


@pytest.mark.browser
def test_evaluations_show_gates_and_only_an_admin_deploys(page: Any, site: Site, built: dict[str, Any]) -> None:
    login(page, site, "developer")
    page.goto(site.console + "#/evals")
    page.click("a.report-link[data-name=c-sweep]")
    page.wait_for_selector("#variants-table")
    assert page.locator("#variants-table li.gate.bad").count() >= 1
    assert "needs <= 0.4" in page.inner_text("#variants-table")
    assert page.is_disabled("#deploy") and "Only an admin can deploy" in page.inner_text("#deploy-why")
    page.click("#logout")
    login(page, site, "admin")
    page.goto(site.console + "#/evals/c-sweep")
    page.wait_for_selector("#deploy:not([disabled])")
    page.click("#deploy")
    page.wait_for_selector("#deploy-result .banner.ok")
    assert "audit record" in page.inner_text("#deploy-result")
    assert page.inner_text("#deployed .deployed-name") == "c-sweep-torch-int8"
    shot(page, "evals-sweep-deployed")
    page.goto(site.console + "#/evals/c-compare")
    page.fill("#gate-input", "size_mb <= 0.3")
    page.click("#gate-run")
    page.wait_for_selector("#gate-results li.gate")
    assert page.locator("#gate-results li.gate.bad").count() == 1
    assert page.locator("#gate-results li.gate.ok").count() == 1
    shot(page, "evals-compare")


@pytest.mark.browser
def test_unknown_refs_and_a_dataset_without_a_report_say_so(chromium: Any, site: Site, built: dict[str, Any]) -> None:
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(15_000)
    login(page, site, "auditor")
    page.goto(site.console + "#/datasets/c-sft")
    page.wait_for_selector("#no-report")
    assert "没有清洗报告" in page.inner_text("#no-report") and "data.format" in page.inner_text("#no-report")
    page.wait_for_selector(".records-table tbody tr")
    assert page.locator(".split-tab").count() == 2
    assert "user: " in page.inner_text(".records-table") and "assistant: " in page.inner_text(".records-table")
    shot(page, "datasets-no-report-zh")
    page.goto(site.console + "#/lineage/no-such-thing")
    page.wait_for_selector("main .banner.error")
    assert "no artifact named 'no-such-thing'" in page.inner_text("main .banner.error")
    page.goto(site.console + "#/evals/no-such-report")
    page.wait_for_selector("main .banner.error")
    assert "no-such-report" in page.inner_text("main .banner.error")
    context.close()
