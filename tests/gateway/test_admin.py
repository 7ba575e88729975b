"""The admin API under /admin of a real `luban gateway`, role by role (admin, auditor, developer, app), with
prompt templates and usage recorded by the hooks on calls made with the official `openai` client."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from gateway_procs import start_gateway, start_stub

from luban.gateway.keys import KeyStore

ROLES = ("admin", "auditor", "developer", "app")


@pytest.fixture(scope="module")
def env(module_tmp: Path) -> Iterator[dict[str, Any]]:
    up = start_stub(module_tmp, "up")
    (module_tmp / "ws").mkdir()
    store = KeyStore(f"sqlite:///{module_tmp / 'ws' / 'gateway.db'}")
    keys, ids = {}, {}
    for role in ROLES:
        rec, keys[role] = store.create(f"{role}-key", role=role)
        ids[role] = rec.id
    store.close()
    config = {"upstreams": {"up": {"url": f"{up.url}/v1", "price": {"input": 1.0, "output": 2.0}}},
              "models": {"chat": {"upstreams": [{"upstream": "up", "model": "echo"}]}},
              "routing": {"health": {"interval": 0}},
              "hooks": [{"use": "prompts", "with": {"ttl_s": 0.5}}, {"use": "usage", "with": {"flush_ms": 100}}]}
    gw = start_gateway(module_tmp, config)
    yield {"gw": gw, "keys": keys, "ids": ids}
    for p in (gw, up):
        p.stop()


def admin(env: dict[str, Any], role: str | None, method: str, path: str, **kw: Any) -> httpx.Response:
    headers = {"authorization": f"Bearer {env['keys'].get(role, role)}"} if role else {}
    return httpx.request(method, env["gw"].url + "/admin" + path, headers=headers, timeout=20, **kw)


def chat(env: dict[str, Any], secret: str, **kw: Any) -> Any:
    client = openai.OpenAI(base_url=env["gw"].url + "/v1", api_key=secret, max_retries=0, timeout=20)
    return client.chat.completions.create(model="chat", **kw)


def test_every_route_needs_a_valid_key(env: dict[str, Any]) -> None:
    r = admin(env, None, "GET", "/keys")
    assert r.status_code == 401 and "luban keys create NAME --role admin" in r.json()["error"]["message"]
    r = admin(env, "sk-luban-000000000000-nope", "GET", "/whoami")
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    for role in ROLES:
        assert admin(env, role, "GET", "/whoami").json()["role"] == role


@pytest.mark.parametrize(("method", "path", "body", "allowed"), [
    ("GET", "/keys", None, {"admin", "auditor"}),
    ("POST", "/keys", {"name": "x"}, {"admin"}),
    ("DELETE", "/keys/000000000000", None, {"admin"}),
    ("GET", "/prompts", None, {"admin", "auditor", "developer"}),
    ("POST", "/prompts", {"name": "p", "template": "Be {{ tone }}."}, {"admin", "developer"}),
    ("GET", "/usage/costs", None, {"admin", "auditor"}),
])
def test_roles(env: dict[str, Any], method: str, path: str, body: Any, allowed: set[str]) -> None:
    for role in ROLES:
        r = admin(env, role, method, path, json=body)
        if role in allowed:
            assert r.status_code != 403, (role, r.text)
        else:
            assert r.status_code == 403, (role, r.text)
            assert f"has role '{role}'" in r.json()["error"]["message"]


def test_admin_creates_a_key_that_works_at_once_and_revokes_it(env: dict[str, Any]) -> None:
    r = admin(env, "admin", "POST", "/keys", json={"name": "crm", "role": "app", "scopes": ["chat"], "rpm": 100,
                                                   "expires": "30d"})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["key"].startswith("sk-luban-") and made["expires"] > time.time() + 29 * 86400
    assert chat(env, made["key"], messages=[{"role": "user", "content": "hi"}]).choices[0].message.content
    listed = admin(env, "auditor", "GET", "/keys").json()
    assert made["id"] in {k["id"] for k in listed} and all("key" not in k and "hash" not in k for k in listed)
    assert admin(env, "admin", "DELETE", f"/keys/{made['id']}").json()["status"] == "revoked"
    with pytest.raises(openai.AuthenticationError, match="revoked"):
        chat(env, made["key"], messages=[{"role": "user", "content": "hi"}])
    assert made["id"] not in {k["id"] for k in admin(env, "admin", "GET", "/keys").json()}
    assert made["id"] in {k["id"] for k in admin(env, "admin", "GET", "/keys?all=true").json()}


def test_key_bad_input(env: dict[str, Any]) -> None:
    r = admin(env, "admin", "POST", "/keys", json={"name": "x", "role": "root"})
    assert r.status_code == 400 and "unknown role 'root'" in r.json()["error"]["message"]
    r = admin(env, "admin", "POST", "/keys", json={"name": "x", "rpm": -1})
    assert r.status_code == 400 and "rpm must be positive" in r.json()["error"]["message"]
    r = admin(env, "admin", "POST", "/keys", json={"name": "x", "expires": "soon"})
    assert r.status_code == 400 and "cannot read expiry" in r.json()["error"]["message"]
    r = admin(env, "admin", "POST", "/keys", json={"nmae": "x"})
    assert r.status_code == 400 and "'name'" in r.json()["error"]["message"]
    assert admin(env, "admin", "DELETE", "/keys/ffffffffffff").status_code == 404


def test_prompts_added_over_the_api_are_rendered_into_calls(env: dict[str, Any]) -> None:
    r = admin(env, "developer", "POST", "/prompts",
              json={"name": "summarize", "template": "system: Be brief.\nuser: 'Summarize: {{ text }}'\n"})
    assert r.status_code == 201 and r.json()["ref"] == "summarize@1"
    out = chat(env, env["keys"]["app"], messages=[],
               extra_body={"luban": {"prompt": "summarize@1", "variables": {"text": "a long story"}}})
    assert out.choices[0].message.content == "up: Summarize: a long story"
    r = admin(env, "developer", "POST", "/prompts",
              json={"name": "summarize", "template": "system: Be brief.\nuser: 'TL;DR: {{ text }}'\n"})
    assert r.json()["ref"] == "summarize@2"
    time.sleep(0.6)  # the hook's ttl_s: a bare name follows the newest version after it
    out = chat(env, env["keys"]["app"], messages=[], extra_body={"luban": {"prompt": "summarize",
                                                                           "variables": {"text": "x"}}})
    assert out.choices[0].message.content == "up: TL;DR: x"
    shown = admin(env, "auditor", "GET", "/prompts/summarize@1").json()
    assert shown["variables"] == ["text"] and "Summarize:" in shown["source"]
    assert "+user: 'TL;DR:" in admin(env, "auditor", "GET", "/prompts/summarize/diff?a=1").json()["diff"]
    assert admin(env, "auditor", "GET", "/prompts/nope").status_code == 404


@pytest.mark.parametrize(("luban", "match"), [
    ({"prompt": "nosuch"}, "no prompt template 'nosuch'"),
    ({"prompt": "summarize@9", "variables": {"text": "x"}}, "summarize@9"),
    ({"prompt": "summarize@1"}, "needs variable 'text'"),
])
def test_bad_prompts_are_400_naming_them(env: dict[str, Any], luban: dict[str, Any], match: str) -> None:
    admin(env, "admin", "POST", "/prompts", json={"name": "summarize", "template": "user: '{{ text }}'"})
    with pytest.raises(openai.BadRequestError, match=match) as err:
        chat(env, env["keys"]["app"], messages=[{"role": "user", "content": "x"}], extra_body={"luban": luban})
    assert err.value.status_code == 400


def test_usage_is_recorded_and_each_role_sees_what_it_may(env: dict[str, Any]) -> None:
    for _ in range(3):
        chat(env, env["keys"]["developer"], messages=[{"role": "user", "content": "count me"}])
    me = env["ids"]["developer"]

    def rows(role: str, query: str) -> list[dict[str, Any]]:
        r = admin(env, role, "GET", "/usage" + query)
        assert r.status_code == 200, r.text
        return r.json()["rows"]

    end = time.monotonic() + 10
    while not any(r["key_id"] == me and r["requests"] >= 3 for r in rows("auditor", "?by=key_id,model")):
        assert time.monotonic() < end, "usage was not written"
        time.sleep(0.1)
    mine = rows("developer", "?by=key_id,model")
    assert {r["key_id"] for r in mine} == {me} and mine[0]["model"] == "chat"
    assert mine[0]["prompt_tokens"] > 0 and mine[0]["cost"] > 0
    assert admin(env, "developer", "GET", f"/usage?key={env['ids']['admin']}").status_code == 403
    assert rows("app", f"?key={env['ids']['app']}&by=day")[0]["requests"] >= 1
    recent = admin(env, "developer", "GET", "/usage/recent?limit=2").json()["rows"]
    assert len(recent) == 2 and {r["key_id"] for r in recent} == {me}
    costs = admin(env, "auditor", "GET", "/usage/costs").json()
    assert costs["prompt_tokens"] > 0 and any(o["offering"] == "openai/gpt-4o" for o in costs["offerings"])
    r = admin(env, "auditor", "GET", "/usage?by=team")
    assert r.status_code == 400 and "cannot group usage by 'team'" in r.json()["error"]["message"]


def test_every_admin_route_is_in_the_role_table_and_enforces_it(env: dict[str, Any]) -> None:
    from luban.security.roles import OPERATIONS, ROUTES

    served = httpx.get(env["gw"].url + "/admin/openapi.json", timeout=20).json()["paths"]
    routes = {(m.upper(), "/admin" + path) for path, ops in served.items() for m in ops}
    assert routes == set(ROUTES), "admin routes and luban.security.roles.ROUTES disagree"
    bodies = {("POST", "/admin/keys"): {"name": "rbac-probe"}, ("PATCH", "/admin/keys/{kid}"): {"origins": []},
              ("POST", "/admin/prompts"): {"name": "rbac", "template": "Hi {{ who }}."}}
    for (method, route), op in ROUTES.items():
        path = route.removeprefix("/admin").replace("{kid}", "000000000000").replace("{spec}", "rbac") \
            .replace("{name}", "rbac")
        if path.endswith("/diff"):
            path += "?a=1&b=1"  # its parameters are validated before the role
        for role in ROLES:
            r = admin(env, role, method, path, json=bodies.get((method, route)))
            refused = r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
            assert refused == (role not in OPERATIONS[op]), (method, route, role, r.status_code, r.text[:200])
