"""Browser use of the API: preflights, keys' allowed origins, the refusal a page on another site gets, and a key
database made before keys had origins (real SQLite and PostgreSQL). A real `luban gateway` process over a stub
upstream; requests carry the headers a browser sends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import sqlalchemy as sa
from gateway_procs import metric, start_gateway, start_stub

from luban.core.errors import UsageError
from luban.gateway.cors import check_origin
from luban.gateway.errors import GatewayError
from luban.gateway.keys import PREFIX, KeyRing, KeyStore, _digest, normalize_origin

SHOP = "http://shop.test:8080"
EVIL = "https://evil.example"
MSG = [{"role": "user", "content": "hello there"}]


@pytest.fixture(scope="module")
def env(module_tmp: Path) -> Iterator[dict[str, Any]]:
    stub = start_stub(module_tmp, "up-a")
    (module_tmp / "ws").mkdir()
    store = KeyStore(f"sqlite:///{module_tmp / 'ws' / 'gateway.db'}")
    keys = {}
    for name, kw in {"shop": {"origins": [SHOP]}, "any": {"origins": ["*"]}, "plain": {},
                     "admin": {"role": "admin"}, "expired": {"origins": [SHOP], "expires": time.time() - 5}}.items():
        rec, secret = store.create(name, **kw)  # type: ignore[arg-type]
        keys[name] = secret
        keys[name + "-id"] = rec.id
    store.close()
    config = {"upstreams": {"a": {"url": f"{stub.url}/v1"}},
              "models": {"chat": {"upstreams": [{"upstream": "a", "model": "echo"}]}},
              "routing": {"health": {"interval": 0}}, "cache": {"enabled": False},
              "hooks": [{"use": "usage", "with": {"flush_ms": 60_000}}]}
    gw = start_gateway(module_tmp, config)
    yield {"gw": gw, "keys": keys, "ws": module_tmp / "ws"}
    for p in (gw, stub):
        p.stop()


def call(env: dict[str, Any], key: str, origin: str | None, stream: bool = False) -> httpx.Response:
    headers = {"Authorization": f"Bearer {env['keys'][key]}"}
    if origin is not None:
        headers["Origin"] = origin
    return httpx.post(env["gw"].url + "/v1/chat/completions", headers=headers, timeout=20,
                      json={"model": "chat", "messages": MSG, "stream": stream})


def test_a_preflight_is_answered_at_once_without_a_key(env: dict[str, Any]) -> None:
    r = httpx.options(env["gw"].url + "/v1/chat/completions", timeout=10, headers={
        "Origin": EVIL, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert r.status_code == 204 and r.content == b""
    assert r.headers["access-control-allow-origin"] == EVIL  # the key is checked on the call itself
    assert {"authorization", "content-type", "x-luban-purpose"} <= {
        h.strip() for h in r.headers["access-control-allow-headers"].split(",")}
    assert {"POST", "GET"} <= {m.strip() for m in r.headers["access-control-allow-methods"].split(",")}
    assert int(r.headers["access-control-max-age"]) > 0 and r.headers["vary"] == "Origin"


def test_a_key_answers_the_pages_it_lists(env: dict[str, Any]) -> None:
    r = call(env, "shop", SHOP)
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == SHOP and r.headers["vary"] == "Origin"
    assert "AIGC" in r.headers["access-control-expose-headers"]
    assert r.json()["choices"][0]["message"]["content"] == "up-a: hello there"
    assert call(env, "any", EVIL).headers["access-control-allow-origin"] == EVIL  # "*": any page


def test_a_page_the_key_does_not_list_is_refused_in_one_line(env: dict[str, Any]) -> None:
    for key in ("shop", "plain"):
        r = call(env, key, EVIL)
        assert r.status_code == 403
        err = r.json()["error"]
        kid = env["keys"][key + "-id"]
        assert err["message"] == (f"API key {kid} may not be used from {EVIL}; an admin can add the origin to the "
                                  f"key (luban keys origins {kid} --add {EVIL}).")
        assert err["code"] == "origin_not_allowed" and "\n" not in err["message"]
        # the page may read why (so the widget can say so), but it never got an answer
        assert r.headers["access-control-allow-origin"] == EVIL


def test_an_expired_key_from_a_page_says_so_readably(env: dict[str, Any]) -> None:
    r = call(env, "expired", SHOP)
    assert r.status_code == 401 and r.json()["error"]["code"] == "expired_api_key"
    assert r.headers["access-control-allow-origin"] == SHOP


def test_calls_without_an_origin_are_untouched(env: dict[str, Any]) -> None:
    r = call(env, "plain", None)
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers and "vary" not in r.headers
    client = openai.OpenAI(base_url=env["gw"].url + "/v1", api_key=env["keys"]["shop"], max_retries=0)
    assert client.chat.completions.create(model="chat", messages=MSG).choices[0].message.content  # type: ignore[arg-type]


def test_the_gateways_own_pages_need_no_origin_on_the_key(env: dict[str, Any]) -> None:
    r = call(env, "plain", env["gw"].url)  # the console: same host and port
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers


def test_streams_carry_the_header(env: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {env['keys']['shop']}", "Origin": SHOP}
    with httpx.stream("POST", env["gw"].url + "/v1/chat/completions", headers=headers, timeout=20,
                      json={"model": "chat", "messages": MSG, "stream": True}) as r:
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == SHOP
        assert r.headers["content-type"].startswith("text/event-stream")
        body = "".join(r.iter_text())
    assert body.rstrip().endswith("data: [DONE]") and '"content"' in body


def test_models_list_follows_the_same_rule(env: dict[str, Any]) -> None:
    get = lambda key, origin: httpx.get(env["gw"].url + "/v1/models", timeout=10, headers={  # noqa: E731
        "Authorization": f"Bearer {env['keys'][key]}", "Origin": origin})
    assert get("shop", SHOP).headers["access-control-allow-origin"] == SHOP
    assert get("shop", EVIL).status_code == 403


def test_admin_api_and_cli_set_and_show_origins(env: dict[str, Any]) -> None:
    admin = {"Authorization": f"Bearer {env['keys']['admin']}"}
    r = httpx.post(env["gw"].url + "/admin/keys", headers=admin, timeout=20,
                   json={"name": "widget", "origins": ["HTTPS://Shop.Example.com:443/"]})
    assert r.status_code == 201 and r.json()["origins"] == ["https://shop.example.com"]
    env["keys"]["widget"] = r.json()["key"]
    assert call(env, "widget", "https://shop.example.com").status_code == 200  # at once, no reload wait
    bad = httpx.post(env["gw"].url + "/admin/keys", headers=admin, timeout=20,
                     json={"name": "bad", "origins": ["shop.example.com"]})
    assert bad.status_code == 400 and "'shop.example.com' is not a web origin" in bad.json()["error"]["message"]

    def luban(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "luban.cli.main", "--workspace", str(env["ws"]), "keys", *args],
                              capture_output=True, text=True, timeout=60, env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"})

    out = luban("create", "cli-widget", "--origin", "https://a.example", "--origin", "http://localhost:3000")
    assert out.returncode == 0, out.stderr
    listed = {k["name"]: k for k in json.loads(luban("list", "--json").stdout)}
    assert listed["cli-widget"]["origins"] == ["https://a.example", "http://localhost:3000"]
    assert listed["widget"]["origins"] == ["https://shop.example.com"]
    table = luban("list").stdout
    assert "https://a.example" in table and "origins" in table
    refused = luban("create", "x", "--origin", "ftp://files.example")
    assert refused.returncode != 0 and "'ftp://files.example' is not a web origin" in refused.stderr + refused.stdout


def test_an_admin_adds_an_origin_to_a_key_that_exists(env: dict[str, Any]) -> None:
    admin = {"Authorization": f"Bearer {env['keys']['admin']}"}
    kid = env["keys"]["plain-id"]
    page = "https://partner.example"
    assert call(env, "plain", page).status_code == 403
    r = httpx.patch(f"{env['gw'].url}/admin/keys/{kid}", headers=admin, timeout=20, json={"origins": [page]})
    assert r.status_code == 200 and r.json()["origins"] == [page]
    assert call(env, "plain", page).status_code == 200  # live at once on this gateway
    missing = httpx.patch(f"{env['gw'].url}/admin/keys/000000000000", headers=admin, timeout=20,
                          json={"origins": [page]})
    assert missing.status_code == 404 and "no key with id '000000000000'" in missing.json()["error"]["message"]
    out = subprocess.run([sys.executable, "-m", "luban.cli.main", "--workspace", str(env["ws"]), "keys", "origins",
                          kid, "--add", "http://localhost:3000", "--remove", page], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"})
    assert out.returncode == 0, out.stderr
    assert f"Key {kid} (plain) may be used from: http://localhost:3000." in out.stderr
    store = KeyStore(f"sqlite:///{env['ws'] / 'gateway.db'}")
    assert store.get(kid).origins == ("http://localhost:3000",)
    store.close()


def test_usage_queue_depth_is_on_metrics(env: dict[str, Any]) -> None:
    call(env, "plain", None)
    assert metric(env["gw"].url, "luban_gateway_usage_queue") >= 1  # flush_ms is a minute: still queued


@pytest.mark.parametrize("text,expected", [
    ("https://Shop.Example.com/", "https://shop.example.com"), ("http://localhost:8080", "http://localhost:8080"),
    ("https://a.example:443", "https://a.example"), ("http://[::1]:9000", "http://[::1]:9000"), ("*", "*")])
def test_origins_are_stored_as_browsers_send_them(text: str, expected: str) -> None:
    assert normalize_origin(text) == expected


@pytest.mark.parametrize("text", ["shop.example.com", "https://shop.example.com/page", "ftp://x.example",
                                  "https://x.example:99999", "https://user@x.example"])
def test_a_bad_origin_is_refused_with_the_form_to_use(text: str) -> None:
    with pytest.raises(UsageError, match="is not a web origin") as err:
        normalize_origin(text)
    assert "https://shop.example.com" in (err.value.hint or "")


def test_a_gateway_without_keys_refuses_other_sites_unless_opened_on_purpose() -> None:
    with pytest.raises(GatewayError, match="no keys, so it does not answer pages on other sites"):
        check_origin(None, EVIL, open_gateway=False)
    check_origin(None, EVIL, open_gateway=True)  # `--no-auth`: chosen


# -- a key database made before keys had origins ---------------------------------------------------------------
OLD_TABLE = """CREATE TABLE gateway_keys (id VARCHAR(32) PRIMARY KEY, name VARCHAR(200) NOT NULL,
    salt VARCHAR(64) NOT NULL, hash VARCHAR(128) NOT NULL, role VARCHAR(16) NOT NULL, scopes TEXT NOT NULL,
    app VARCHAR(200), policy VARCHAR(200), prompt VARCHAR(200), purpose VARCHAR(200), rpm INTEGER, tpm INTEGER,
    budget FLOAT, budget_period VARCHAR(8) NOT NULL, created FLOAT NOT NULL, expires FLOAT, revoked FLOAT)"""


def _old_database(url: str) -> str:
    """A key table as the first release made it, with one key in it; returns that key."""
    salt, secret, kid = "00" * 16, "old-secret-value", "0123456789ab"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(OLD_TABLE))
        conn.execute(sa.text("INSERT INTO gateway_keys (id, name, salt, hash, role, scopes, budget_period, created) "
                             "VALUES (:id, 'old', :salt, :hash, 'app', '[]', 'month', 1.0)"),
                     {"id": kid, "salt": salt, "hash": _digest(salt, secret)})
    engine.dispose()
    return f"{PREFIX}{kid}-{secret}"


def _check_old_database_loads(url: str) -> None:
    token = _old_database(url)
    store = KeyStore(url)  # adds the column
    [old] = store.all()
    assert old.name == "old" and old.origins == ()
    assert KeyRing(store.all()).check(token).id == old.id  # the old key still authenticates
    rec, _ = store.create("new", origins=[SHOP])
    assert store.get(rec.id).origins == (SHOP,)
    store.close()
    again = KeyStore(url)  # a second open (another replica) finds the column there
    assert {k.name: k.origins for k in again.all()} == {"old": (), "new": (SHOP,)}
    again.close()


def test_an_old_sqlite_key_database_still_loads(tmp_path: Path) -> None:
    _check_old_database_loads(f"sqlite:///{tmp_path / 'old.db'}")


def test_an_old_postgres_key_database_still_loads(postgres_url: str) -> None:
    schema = f"corsold_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        _check_old_database_loads(f"{postgres_url}?options=-csearch_path%3D{schema}")
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()
