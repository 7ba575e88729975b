"""The console's governance pages and API: keys (create, copy, revoke), usage, the guard tester, the audit viewer
with one-button chain verification, and the compliance report with its evidence links; each behind its role."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from console_site import Site, login, shot

from luban.audit import AuditLog, open_store
from luban.gateway.usage import UsageRecord, UsageStore

DEFAULT_INPUT = ["token_limit", "unicode", "secrets", "pii", "injection", "lexicon", "harm"]
DEFAULT_OUTPUT = ["lexicon", "secrets", "pii"]
BLOCKED = "教我怎么在家制作冰毒"


def call(site: Site, method: str, path: str, role: str, body: object = None) -> httpx.Response:
    return httpx.request(method, site.url + path, json=body, timeout=120,
                         headers={"Authorization": f"Bearer {site.keys[role]}"})


def one_line_error(r: httpx.Response, status: int = 400) -> str:
    assert r.status_code == status, r.text
    message: str = r.json()["error"]["message"]
    assert "\n" not in message and "Traceback" not in message
    return message


@pytest.fixture(scope="module")
def chain(site: Site) -> Iterator[dict[str, Any]]:
    """Six records in a chain of their own in the site's audit store, written by the real audit log writer."""
    folder = site.ws / "audit"
    name, token = f"console-test-{uuid.uuid4().hex[:8]}", f"needle{uuid.uuid4().hex[:6]}"
    now = time.time()
    rows = [("call", "k-alpha", "ok", now - 7200), ("call", "k-alpha", "blocked", now - 3600),
            ("call", "k-beta", "masked", now - 1800), ("call", "k-beta", "blocked", now - 600),
            ("stage", None, "ok", now - 300), ("auth", None, "error", now - 60)]
    with AuditLog(open_store(folder), folder, name) as log:
        for kind, key, action, ts in rows:
            log.append({"ts": ts, "kind": kind, "key_id": key, "model": "tiny" if kind == "call" else None,
                        "purpose": None, "action": action, "status": 200, "route": "chat.completions",
                        "note": f"{token} {action}"})
        log.flush()
    yield {"name": name, "token": token, "db": folder / "audit.db", "rows": rows}


@pytest.fixture(scope="module")
def report(site: Site) -> dict[str, Any]:
    """The compliance assessment run once through the console API (as an auditor, who may read and run it)."""
    r = call(site, "POST", "/console/api/compliance/run", "auditor")
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


# -- roles ------------------------------------------------------------------------------------------------
def test_roles_without_admin_rights_cannot_reach_admin_apis(site: Site) -> None:
    for role in ("developer", "app"):
        assert call(site, "POST", "/admin/keys", role, {"name": "nope"}).status_code == 403
        assert call(site, "DELETE", "/admin/keys/abcdef123456", role).status_code == 403
        assert call(site, "GET", "/admin/keys", role).status_code == 403
        for method, path in (("GET", "/console/api/audit/records"), ("POST", "/console/api/audit/verify"),
                             ("GET", "/console/api/compliance"), ("POST", "/console/api/compliance/run")):
            r = call(site, method, path, role)
            assert r.status_code == 403 and f"role '{role}'" in r.json()["error"]["message"], (role, path)
        r = call(site, "PUT", "/console/api/guard/policies/x", role, {"yaml": "input: []"})
        assert r.status_code == 403
    r = call(site, "POST", "/console/api/guard/test", "app", {"text": "hello"})
    assert r.status_code == 403 and "role 'app'" in r.json()["error"]["message"]
    # the auditor reads and verifies but writes nothing
    assert call(site, "POST", "/admin/keys", "auditor", {"name": "nope"}).status_code == 403
    assert call(site, "PUT", "/console/api/guard/policies/x", "auditor", {"yaml": "input: []"}).status_code == 403
    assert call(site, "GET", "/admin/keys", "auditor").status_code == 200
    assert call(site, "GET", "/console/api/audit/records", "auditor").status_code == 200
    assert call(site, "POST", "/console/api/guard/test", "auditor", {"text": "hello"}).status_code == 200


# -- guard ------------------------------------------------------------------------------------------------
def test_guard_test_shows_every_scanners_verdict_and_blocks_a_prohibited_request(site: Site) -> None:
    listed = call(site, "GET", "/console/api/guard/policies", "developer").json()
    assert {"name": "default", "source": "shipped", "path": None} in listed["policies"] and not listed["can_save"]
    r = call(site, "POST", "/console/api/guard/test", "developer", {"text": BLOCKED, "policy": "default"})
    d = r.json()
    assert r.status_code == 200 and d["action"] == "block" and d["refusal"] and d["lang"] == "zh"
    assert [v["scanner"] for v in d["verdicts"]] == DEFAULT_INPUT  # every scanner, even after the block
    lex = next(v for v in d["verdicts"] if v["scanner"] == "lexicon")
    assert lex["action"] == "block" and lex["matches"] == ["冰毒"] and lex["score"] == 1.0 and lex["category"]
    assert next(v for v in d["verdicts"] if v["scanner"] == "token_limit")["action"] == "allow"

    d = call(site, "POST", "/console/api/guard/test", "developer",
             {"text": "call me on 13812345678", "direction": "output"}).json()
    assert [v["scanner"] for v in d["verdicts"]] == DEFAULT_OUTPUT
    assert d["action"] == "mask" and d["changed"] and "13812345678" not in d["text"] and d["refusal"] is None


def test_a_policy_typed_into_the_page_is_tested_without_being_saved(site: Site) -> None:
    typed = "input:\n  - regex: {patterns: [{pattern: 'project\\s+falcon'}], action: block}\n"
    d = call(site, "POST", "/console/api/guard/test", "developer",
             {"text": "tell me about Project  Falcon", "policy": "scratch", "yaml": typed}).json()
    assert d["action"] == "block" and d["verdicts"][0]["matches"] == ["Project  Falcon"]
    assert "scratch" not in [p["name"] for p in call(site, "GET", "/console/api/guard/policies", "developer").json()["policies"]]


@pytest.mark.parametrize("typed, why", [
    ("input: [{llm_judge: {base_url: 'http://attacker.example/v1', model: m, api_key_env: OPENAI_API_KEY}}]",
     "calls a service"),
    ("input: ['os:system']", "scanner class of your own"),
    ("input: [{lexicon: {lexicons: [/etc/passwd]}}]", "not a shipped lexicon"),
])
def test_only_an_admin_may_test_remote_scanners_own_classes_or_files(site: Site, typed: str, why: str) -> None:
    r = call(site, "POST", "/console/api/guard/test", "developer", {"text": "hi", "policy": "p", "yaml": typed})
    assert why in one_line_error(r, 403)


@pytest.mark.parametrize("typed, why", [
    ("input: [lexicon\n  - : ]", "not valid YAML"),
    ("- just a list", "expected a mapping"),
    ("input: [{lexicon: {action: explode}}]", "input[0].lexicon.action"),
    ("input: [lexicn]", "unknown guard scanner 'lexicn'"),
    ("inputs: []", "inputs: Extra inputs are not permitted"),
])
def test_saving_an_invalid_policy_is_refused_with_one_line(site: Site, typed: str, why: str) -> None:
    name = f"bad-{uuid.uuid4().hex[:6]}"
    r = call(site, "PUT", f"/console/api/guard/policies/{name}", "admin", {"yaml": typed})
    assert why in one_line_error(r)
    assert not (site.ws / "guard" / "policies" / f"{name}.yaml").exists()


def test_a_saved_policy_is_listed_and_tested_by_name(site: Site) -> None:
    assert "not a policy name" in one_line_error(call(site, "PUT", "/console/api/guard/policies/bad%20name!", "admin",
                                                      {"yaml": "input: []"}))
    name = f"strict-{uuid.uuid4().hex[:6]}"
    policy = "input:\n  - regex: {patterns: [{pattern: oolong, ignore_case: false}], action: block}\n"
    r = call(site, "PUT", f"/console/api/guard/policies/{name}", "admin", {"yaml": policy})
    assert r.status_code == 200 and Path(r.json()["path"]).read_text() == policy
    listed = call(site, "GET", "/console/api/guard/policies", "developer").json()["policies"]
    assert next(p for p in listed if p["name"] == name)["source"] == "workspace"
    assert call(site, "GET", f"/console/api/guard/policies/{name}", "developer").json()["yaml"] == policy
    d = call(site, "POST", "/console/api/guard/test", "developer", {"text": "Oolong please", "policy": name}).json()
    assert d["action"] == "allow"  # the pattern is case-sensitive
    assert call(site, "POST", "/console/api/guard/test", "developer",
                {"text": "oolong please", "policy": name}).json()["action"] == "block"
    assert call(site, "POST", "/console/api/guard/test", "developer",
                {"text": "x", "policy": "no-such-policy"}).status_code == 404


# -- audit ------------------------------------------------------------------------------------------------
def test_audit_search_filters_and_pages(site: Site, chain: dict[str, Any]) -> None:
    def find(**params: Any) -> dict[str, Any]:
        r = httpx.get(site.url + "/console/api/audit/records", params={"q": chain["token"], **params}, timeout=30,
                      headers={"Authorization": f"Bearer {site.keys['auditor']}"})
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        return out

    everything = find()
    assert everything["total"] == 6
    assert [r["ts"] for r in everything["records"]] == sorted((r[3] for r in chain["rows"]), reverse=True)
    assert {r["chain"] for r in everything["records"]} == {chain["name"]}
    assert find(action="blocked")["total"] == 2
    assert find(key="k-beta")["total"] == 2 and find(key="k-beta", action="masked")["total"] == 1
    assert find(kind="stage")["total"] == 1
    assert find(since=str(time.time() - 2000))["total"] == 4
    assert find(since="2000-01-01", until="2000-01-02")["total"] == 0
    assert find(q=f"{chain['token']} MASKED")["total"] == 1  # text search ignores case
    first, second = find(limit=4), find(limit=4, offset=4)
    assert len(first["records"]) == 4 and len(second["records"]) == 2
    assert not {r["seq"] for r in first["records"]} & {r["seq"] for r in second["records"]}
    r = call(site, "GET", "/console/api/audit/records?since=yesterday", "auditor")
    assert "cannot read the time 'yesterday'" in one_line_error(r)
    one = call(site, "GET", f"/console/api/audit/records/{chain['name']}/2", "auditor").json()
    assert one["action"] == "blocked" and len(one["hash"]) == 64 and one["prev"]
    assert call(site, "GET", f"/console/api/audit/records/{chain['name']}/99", "auditor").status_code == 404


def test_verify_names_the_first_tampered_record(site: Site, chain: dict[str, Any]) -> None:
    ok = call(site, "POST", "/console/api/audit/verify", "auditor").json()
    assert ok["ok"] and ok["broken"] is None and ok["records"] >= 6
    assert any(c["chain"] == chain["name"] and c["records"] == 6 for c in ok["chains"])
    db = sqlite3.connect(chain["db"])
    (body,) = db.execute("SELECT body FROM luban_audit WHERE chain = ? AND seq = 3", (chain["name"],)).fetchone()
    try:
        with db:  # an insider rewrites what a call was
            db.execute("UPDATE luban_audit SET body = ? WHERE chain = ? AND seq = 3",
                       (body.replace('"masked"', '"ok"', 1), chain["name"]))
        bad = call(site, "POST", "/console/api/audit/verify", "admin").json()
        assert not bad["ok"] and bad["broken"]["chain"] == chain["name"] and bad["broken"]["seq"] == 3
        assert "record 3 was modified" in bad["broken"]["problem"]
    finally:
        with db:
            db.execute("UPDATE luban_audit SET body = ? WHERE chain = ? AND seq = 3", (body, chain["name"]))
        db.close()
    assert call(site, "POST", "/console/api/audit/verify", "auditor").json()["ok"]


# -- compliance -------------------------------------------------------------------------------------------
def test_the_compliance_report_has_statuses_evidence_links_and_files(site: Site, report: dict[str, Any]) -> None:
    rep = report["report"]
    assert report["source"].endswith("compliance.yaml") and any("acme-chat" in n for n in report["notes"])
    assert {i["status"] for i in rep["items"]} <= {"pass", "fail", "unknown"} and len(rep["items"]) >= 15
    by_id = {i["id"]: i for i in rep["items"]}
    assert by_id["logs-6m"]["links"] == [{"page": "audit", "ref": "", "label": "audit log"}]
    assert by_id["tc260-8.1"]["links"][0]["page"] == "guard" and by_id["logs-6m"]["evidence"]
    assert call(site, "GET", "/console/api/compliance", "auditor").json()["report"]["id"] == rep["id"]
    files = {f["name"]: f["href"] for f in rep["files"]}
    page = call(site, "GET", "/console/" + files["compliance.html"], "auditor")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html") and "<table>" in page.text
    assert call(site, "GET", f"/console/api/compliance/files/{rep['id']}/manifest.json", "auditor").status_code == 404
    assert call(site, "GET", "/console/" + files["compliance.json"], "developer").status_code == 403


# -- in the browser -----------------------------------------------------------------------------------------
def fits(page: Any) -> None:
    """Nothing wider than the 1366x768 window (no sideways scrolling)."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366


@pytest.mark.browser
def test_create_a_key_copy_it_and_revoke_it(page: Any, site: Site) -> None:
    login(page, site, "admin")
    page.goto(site.console + "#/keys")
    page.fill("#key-name", "browser-made")
    page.select_option("#key-role", "app")
    page.fill("#key-rpm", "60")
    origins = "origins" in call(site, "GET", "/admin/keys", "admin").json()[0]  # the admin API knows origins
    if origins:
        page.fill("#key-origins", "https://shop.example.com")
    page.click("#key-create")
    secret = page.inner_text("#key-secret-value").strip()
    assert secret.startswith("sk-luban-") and page.locator("#key-copy").count() == 1
    kid = secret.split("-")[2]
    assert httpx.get(site.url + "/v1/models", headers={"Authorization": f"Bearer {secret}"}, timeout=10).status_code == 200
    row = page.locator("#keys-table tr", has=page.locator(f"[data-revoke='{kid}']"))
    assert "60 rpm" in row.inner_text()
    assert ("https://shop.example.com" in row.inner_text()) == origins
    fits(page)
    shot(page, "keys-created")
    page.click(f"[data-revoke='{kid}']")
    page.click(f"[data-confirm='{kid}']")
    page.wait_for_selector(f"#keys-table tr:has-text('{kid}') .tag.bad")
    assert page.locator(f"[data-revoke='{kid}']").count() == 0
    assert httpx.get(site.url + "/v1/models", headers={"Authorization": f"Bearer {secret}"}, timeout=10).status_code == 401
    shot(page, "keys-revoked")


@pytest.mark.browser
def test_a_developer_is_refused_the_keys_page(page: Any, site: Site) -> None:
    login(page, site, "developer")
    assert page.locator("nav.side a[data-page=keys]").count() == 0
    page.goto(site.console + "#/keys")
    page.wait_for_selector("main .banner.error")
    assert "cannot open this page" in page.inner_text("main") and page.locator("#key-form").count() == 0


@pytest.mark.browser
def test_verify_the_audit_chain_with_one_button_and_search(page: Any, site: Site, chain: dict[str, Any]) -> None:
    login(page, site, "auditor")
    page.goto(site.console + "#/audit")
    page.click("#audit-verify")
    assert "Chain intact" in page.inner_text("#audit-intact")
    page.fill("#audit-q", chain["token"])
    page.fill("#audit-action", "blocked")
    page.click("#audit-search")
    page.wait_for_function("document.querySelectorAll('#audit-table tbody tr').length === 2")
    assert "1–2 of 2" in page.inner_text("#audit-page")
    page.locator("#audit-table tbody a").first.click()
    assert '"action": "blocked"' in page.inner_text("#audit-record-json")
    fits(page)
    shot(page, "audit-verified")
    page.click("#lang-switch")
    page.wait_for_selector("#audit-verify")
    assert page.inner_text("#audit-verify") == "校验哈希链"
    shot(page, "audit-zh")


@pytest.mark.browser
def test_the_guard_tester_shows_each_scanners_verdict(page: Any, site: Site) -> None:
    login(page, site, "developer")
    page.goto(site.console + "#/guard")
    page.wait_for_function("document.querySelector('#guard-yaml')?.value.includes('lexicon')")
    assert page.locator("#guard-save").count() == 0  # developers test, admins save
    page.click("[data-sample=s_block]")
    page.click("#guard-test")
    page.wait_for_selector("#guard-decision[data-action=block]")
    assert page.locator("#guard-verdicts tbody tr").count() == len(DEFAULT_INPUT)
    assert "冰毒" in page.inner_text("#guard-verdicts") and page.inner_text("#guard-refusal")
    page.click("[data-sample=s_pii]")
    page.click("#guard-dir-output")
    page.click("#guard-test")
    page.wait_for_selector("#guard-decision[data-action=mask]")
    assert "13812345678" not in page.inner_text("#guard-redacted")
    fits(page)
    shot(page, "guard-tester")


@pytest.mark.browser
def test_the_compliance_page_shows_statuses_and_evidence_links(page: Any, site: Site, report: dict[str, Any]) -> None:
    login(page, site, "auditor")
    page.goto(site.console + "#/compliance")
    page.wait_for_selector("#compliance-items")
    assert page.locator("#compliance-items tbody tr").count() == len(report["report"]["items"])
    assert page.locator(".evidence-link").count() >= 3 and page.locator(".report-file").count() == 3
    fits(page)
    shot(page, "compliance")
    page.click("#compliance-run")  # assess again from the page: the report is replaced by the new one
    page.wait_for_selector("text=Config used", timeout=120_000)
    assert "compliance.yaml" in page.inner_text("#page-compliance")
    page.wait_for_selector("#compliance-items")
    page.locator("tr[data-item=logs-6m] .evidence-link").click()
    page.wait_for_selector("#audit-verify")
    assert page.url.endswith("#/audit")


@pytest.mark.browser
def test_usage_charts_per_key_model_and_day_and_an_app_sees_its_own(page: Any, site: Site) -> None:
    ids = {k["name"]: k["id"] for k in call(site, "GET", "/admin/keys", "admin").json()}
    day = 86400.0
    now = time.time()
    calls = [(ids["console-app"], "tiny", now - 2 * day, 30, 10), (ids["console-app"], "tiny", now - day, 50, 20),
             (ids["console-developer"], "other-model", now - day, 400, 100), (ids["console-developer"], "tiny", now, 5, 5)]
    store = UsageStore(f"sqlite:///{site.ws / 'gateway.db'}")
    store.write([UsageRecord(ts=ts, request_id=uuid.uuid4().hex, key_id=kid, app=None, route="chat.completions",
                             model=model, upstream="engine", upstream_model=model, prompt=None, status=200,
                             stream=False, cache_hit=False, prompt_tokens=p, completion_tokens=c, cost=0.0,
                             latency_ms=12.0, ttft_ms=None, error=None) for kid, model, ts, p, c in calls])
    store.close()
    login(page, site, "admin")
    page.goto(site.console + "#/usage")
    page.wait_for_selector("#usage-by-day svg path")
    assert "console-developer" in page.inner_text("#usage-by-key") and "other-model" in page.inner_text("#usage-by-model")
    assert page.locator("#usage-by-key svg rect").count() >= 2 and page.locator("#usage-costs").count() == 1
    fits(page)
    shot(page, "usage-admin")
    page.click("#logout")
    login(page, site, "app")
    page.goto(site.console + "#/usage")
    page.wait_for_selector("#usage-by-model svg")
    assert "other-model" not in page.inner_text("#usage-by-model") and page.locator("#usage-costs").count() == 0
    shot(page, "usage-app")
