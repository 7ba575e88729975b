"""The console shell: served at /console behind the gateway's keys, every API route naming its operation,
login and logout in a real browser, an expired key sending the user back to log in, the language switch."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from console_site import Site, login, shot

from luban.console.app import create_console_app
from luban.console.base import route_operations
from luban.gateway.config import load_gateway_config
from luban.gateway.service import Gateway
from luban.security.roles import OPERATIONS


def test_every_console_api_route_names_a_known_operation() -> None:
    app = create_console_app(Gateway(load_gateway_config(data={})))
    ops = route_operations(app)
    api = {r: op for r, op in ops.items() if r.split(" ", 1)[1].startswith("/api/") and "openapi" not in r}
    assert "GET /api/session" in api
    missing = [r for r, op in api.items() if op is None]
    assert not missing, f"console routes without an operation: {missing}"
    assert all(op in OPERATIONS for op in api.values())


def test_the_console_page_and_its_api_need_a_key(site: Site) -> None:
    page = httpx.get(site.url + "/console/", timeout=10)
    assert page.status_code == 200 and '<base href="/console/">' in page.text
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    assert httpx.get(site.url + "/console/static/js/main.js", timeout=10).status_code == 200
    r = httpx.get(site.url + "/console/api/session", timeout=10)
    assert r.status_code == 401 and "needs a key" in r.json()["error"]["message"]
    r = httpx.get(site.url + "/console/api/session", headers={"Authorization": "Bearer sk-luban-wrong"}, timeout=10)
    assert r.status_code == 401
    me = site.get("/console/api/session", role="app").json()
    assert me["role"] == "app" and "models.call" in me["operations"] and "keys.write" not in me["operations"]


@pytest.mark.browser
def test_log_in_see_the_pages_for_the_role_and_log_out(page: Any, site: Site) -> None:
    page.goto(site.console)
    page.fill("#login-key", "sk-luban-not-a-key")
    page.click("#login-submit")
    page.wait_for_selector(".banner.error")
    login(page, site, "admin")
    assert page.locator("nav.side a[data-page=keys]").count() == 1
    shot(page, "shell-admin")
    page.click("#logout")
    login(page, site, "app")
    assert page.locator("nav.side a[data-page=keys]").count() == 0
    page.goto(site.console + "#/keys")
    page.wait_for_selector(".banner.error")
    assert "cannot open this page" in page.inner_text("main")


@pytest.mark.browser
def test_a_revoked_key_ends_the_session_with_a_clear_message(page: Any, site: Site) -> None:
    made = site.post("/admin/keys", {"name": "short-lived", "role": "developer"}).json()
    site.keys["short-lived"] = made["key"]
    login(page, site, "short-lived")
    kid = made["id"]
    assert httpx.delete(f"{site.url}/admin/keys/{kid}", timeout=10,
                        headers={"Authorization": f"Bearer {site.keys['admin']}"}).status_code == 200
    page.reload()
    page.wait_for_selector("#login-key")
    assert "expired or was revoked" in page.inner_text("body")


@pytest.mark.browser
def test_chinese_first_when_the_browser_asks_and_the_switch(chromium: Any, site: Site) -> None:
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
    pg = context.new_page()
    pg.goto(site.console)
    assert "鲁班控制台" in pg.inner_text("body")
    pg.click("#lang-switch")
    assert "Luban console" in pg.inner_text("body")
    context.close()
