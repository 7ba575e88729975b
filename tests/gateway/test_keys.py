"""API keys: salted hashes only, shown once, scopes, roles, expiry, revocation; the CLI; secure by default."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from gateway_procs import free_port

from luban.core.errors import NotFoundError, UsageError
from luban.gateway.keys import PREFIX, AuthFailure, KeyRing, KeyStore
from luban.gateway.server import exposure_error, is_loopback


@pytest.fixture
def store(tmp_path: Path) -> KeyStore:
    s = KeyStore(f"sqlite:///{tmp_path / 'keys.db'}")
    yield s
    s.close()


def test_only_a_salted_hash_is_stored(store: KeyStore, tmp_path: Path) -> None:
    rec, secret = store.create("bot", scopes=["chat"])
    assert secret.startswith(PREFIX + rec.id + "-")
    raw = (tmp_path / "keys.db").read_bytes()
    assert secret.split("-", 3)[-1].encode() not in raw and rec.hash.encode() in raw
    other, _ = store.create("bot2")
    assert other.salt != rec.salt


def test_ring_checks_keys_in_memory(store: KeyStore) -> None:
    rec, secret = store.create("bot", scopes=["chat", "qwen-*"], rpm=5)
    ring = KeyRing(store.all())
    assert ring.check(secret).id == rec.id
    assert ring.check(secret).allows("chat") and ring.check(secret).allows("qwen-7b")
    assert not ring.check(secret).allows("gpt-4o")
    with pytest.raises(AuthFailure, match="Incorrect API key"):
        ring.check(secret[:-2] + "xx")
    with pytest.raises(AuthFailure, match="start with 'sk-luban-'"):
        ring.check("sk-openai-abc")


def test_revoked_and_expired_keys_say_so(store: KeyStore) -> None:
    r1, s1 = store.create("a")
    _, s2 = store.create("b", expires=time.time() - 1)
    counter = store.counter()
    store.revoke(r1.id)
    assert store.counter() > counter  # replicas see the change on their next poll
    ring = KeyRing(store.all())
    with pytest.raises(AuthFailure, match="revoked") as err:
        ring.check(s1)
    assert err.value.code == "revoked_api_key"
    with pytest.raises(AuthFailure, match="expired"):
        ring.check(s2)
    with pytest.raises(NotFoundError, match="no key with id 'nope'"):
        store.revoke("nope")


def test_bad_key_settings_are_refused(store: KeyStore) -> None:
    with pytest.raises(UsageError, match="unknown role 'root'"):
        store.create("x", role="root")
    with pytest.raises(UsageError, match="rpm must be positive"):
        store.create("x", rpm=0)
    with pytest.raises(UsageError, match="unknown budget period"):
        store.create("x", budget=1, budget_period="week")


def luban(tmp_path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "luban.cli.main", "--workspace", str(tmp_path / "ws"), *args],
                          capture_output=True, text=True, timeout=timeout)


def test_cli_create_list_revoke(tmp_path: Path) -> None:
    out = luban(tmp_path, "keys", "create", "support-bot", "--models", "chat,qwen-*", "--rpm", "60",
                "--budget", "5", "--expires", "30d")
    assert out.returncode == 0, out.stderr
    secret = out.stdout.strip().splitlines()[-1]
    assert secret.startswith(PREFIX)
    kid = secret[len(PREFIX):len(PREFIX) + 12]
    listed = luban(tmp_path, "keys", "list")
    assert kid in listed.stdout and secret.split("-", 3)[-1] not in listed.stdout
    [row] = json.loads(luban(tmp_path, "keys", "list", "--json").stdout)
    assert row["id"] == kid and row["scopes"] == ["chat", "qwen-*"] and row["rpm"] == 60 and row["budget"] == 5
    assert luban(tmp_path, "keys", "revoke", kid).returncode == 0
    assert json.loads(luban(tmp_path, "keys", "list", "--json").stdout) == []
    assert json.loads(luban(tmp_path, "keys", "list", "--all", "--json").stdout)[0]["status"] == "revoked"
    bad = luban(tmp_path, "keys", "create", "x", "--expires", "yesterday")
    assert bad.returncode == 2 and "cannot read expiry 'yesterday'" in bad.stderr


def test_loopback_detection_and_the_refusal_message() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3")
    err = exposure_error("0.0.0.0", keys=0, no_auth=False)
    assert err is not None and "refuses to listen on 0.0.0.0 without API keys" in str(err)
    assert exposure_error("0.0.0.0", keys=1, no_auth=False) is None
    assert exposure_error("0.0.0.0", keys=0, no_auth=True) is None


def test_gateway_beyond_loopback_without_keys_refuses_to_start(tmp_path: Path) -> None:
    cfg = tmp_path / "gateway.yaml"
    cfg.write_text("upstreams: {u: {url: 'http://127.0.0.1:9/v1'}}\nmodels: {m: {upstreams: [u]}}\n")
    out = luban(tmp_path, "gateway", "--config", str(cfg), "--host", "0.0.0.0", "--port", str(free_port()))
    assert out.returncode == 2
    lines = [ln for ln in out.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "without API keys" in lines[0] and "--no-auth" in lines[0]
