"""Roles on every operation: the table, every CLI command in it, and the CLI refusing what a key's role
may not do (role by role, command by command, no escalation)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from luban.cli.access import check, command_path
from luban.cli.main import app
from luban.gateway.keys import KeyStore
from luban.gateway.service import default_db_url
from luban.security.roles import COMMANDS, OPERATIONS, ROLES, Forbidden, allowed, command_operation, require

WRITES = [op for op in OPERATIONS if op.split(".")[-1] in
          ("write", "delete", "prune", "rotate", "encrypt", "admin")] + ["serve", "deploy"]


def test_admin_may_do_everything():
    assert all(allowed("admin", op) for op in OPERATIONS)


def test_an_app_key_calls_models_and_reads_its_own_usage_only():
    assert {op for op in OPERATIONS if allowed("app", op)} == {"models.call", "models.list", "whoami",
                                                                  "usage.read_own"}


@pytest.mark.parametrize("op", WRITES)
def test_an_auditor_writes_nothing(op):
    assert not allowed("auditor", op)


def test_an_auditor_reads_audit_records_but_keys_only_as_metadata_and_calls_no_model():
    assert allowed("auditor", "audit.read") and allowed("auditor", "audit.verify")
    assert allowed("auditor", "keys.read") and not allowed("auditor", "keys.write")
    assert not allowed("auditor", "models.call")


def test_a_developer_builds_but_touches_neither_keys_nor_audit_nor_deployment():
    for op in ("artifacts.write", "prompts.write", "security.encrypt", "models.call"):
        assert allowed("developer", op)
    for op in ("keys.read", "keys.write", "audit.read", "audit.prune", "deploy", "security.rotate", "serve"):
        assert not allowed("developer", op)


def test_unknown_roles_and_operations_are_refused_in_one_line():
    with pytest.raises(Forbidden, match="unknown role 'root'"):
        require("root", "models.call")
    with pytest.raises(Forbidden, match="'models.delete' is not an operation"):
        require("admin", "models.delete")
    with pytest.raises(Forbidden, match="role 'app'; keys.write needs admin"):
        require("app", "keys.write", who="key k1")


def _commands(group, prefix=""):
    for name, cmd in group.commands.items():
        path = f"{prefix}{name}"
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, path + " ")
        else:
            yield path


def test_every_cli_command_has_a_decision_in_the_table():
    root = typer.main.get_command(app)
    missing = []
    for path in _commands(root):
        try:
            command_operation(path)
        except Forbidden:
            missing.append(path)
    assert missing == []
    assert all(op in OPERATIONS for op in COMMANDS.values())


def test_command_path_skips_options_and_arguments():
    root = typer.main.get_command(app)
    assert command_path(root, ["-w", "/tmp/x", "keys", "create", "k", "--role", "admin"])[0] == "keys create"
    assert command_path(root, ["--debug", "audit", "verify", "--chain", "c"])[0] == "audit verify"


@pytest.fixture(scope="module")
def keyed_ws(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    ws = tmp_path_factory.mktemp("shared") / "ws"
    store = KeyStore(default_db_url(ws))
    keys = {role: store.create(f"{role}-key", role=role)[1] for role in ROLES}
    keys["revoked"] = (lambda rec_secret: (store.revoke(rec_secret[0].id), rec_secret[1])[1])(
        store.create("gone", role="admin"))
    store.close()
    return ws, keys


def luban(ws: Path, key: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LUBAN_WORKSPACE": str(ws), "LUBAN_API_KEY": key, "LUBAN_AUDIT_STAGES": "0"}
    return subprocess.run([sys.executable, "-m", "luban.cli.main", *args], env=env, capture_output=True,
                          text=True, timeout=120)


CASES = [  # (command, the operation it needs)
    (["keys", "create", "x", "--role", "admin"], "keys.write"),
    (["keys", "list"], "keys.read"),
    (["audit", "verify"], "audit.verify"),
    (["audit", "prune"], "audit.prune"),
    (["ls"], "artifacts.read"),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("argv", "op"), CASES, ids=[" ".join(c[0][:2]) for c in CASES])
def test_the_cli_lets_each_role_do_exactly_what_the_table_says(keyed_ws, role, argv, op, monkeypatch):
    ws, keys = keyed_ws
    monkeypatch.setenv("LUBAN_API_KEY", keys[role])
    root = typer.main.get_command(app)
    if allowed(role, op):
        assert check(root, ["-w", str(ws), *argv]) is not None
    else:
        with pytest.raises(Forbidden, match=f"role '{role}'; {op} needs"):
            check(root, ["-w", str(ws), *argv])


def test_the_cli_process_refuses_an_auditor_creating_a_key(keyed_ws):
    ws, keys = keyed_ws
    done = luban(ws, keys["auditor"], "keys", "create", "escalate", "--role", "admin")
    assert done.returncode == 2 and "role 'auditor'; keys.write needs admin" in done.stderr
    listed = luban(ws, keys["admin"], "keys", "list")
    assert listed.returncode == 0 and "escalate" not in listed.stdout


def test_a_revoked_key_is_refused_on_the_cli(keyed_ws):
    ws, keys = keyed_ws
    done = luban(ws, keys["revoked"], "ls")
    assert done.returncode == 2 and "was revoked" in done.stderr
