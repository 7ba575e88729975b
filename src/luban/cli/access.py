"""Roles on the CLI: with `LUBAN_API_KEY` set (the way to act on a shared workspace), every command is
checked against `luban.security.roles` before it runs, and refused in one line when the key's role may not.

The key is checked against the same key store as the gateway's (`LUBAN_KEYS_URL`, else the workspace's
gateway.db): a revoked or expired key is refused too. Without `LUBAN_API_KEY` the CLI acts as the owner of
a local workspace, as before.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from luban.core.errors import UsageError
from luban.security.roles import command_operation, require


def command_path(root: Any, argv: list[str]) -> tuple[str, dict[str, object]]:
    """The command `argv` names, as "group command" ("keys create"), and the root's options, without
    running anything."""
    parts: list[str] = []
    cmd: Any = root
    ctx = root.make_context("luban", list(argv), resilient_parsing=True)
    root_params = dict(ctx.params)
    while cmd is not None and hasattr(cmd, "resolve_command"):  # a group (typer may bring its own click)
        protected = getattr(ctx, "_protected_args", None) or getattr(ctx, "protected_args", None) or []
        rest = [*protected, *ctx.args]
        if not rest:
            break
        name, sub, args = cmd.resolve_command(ctx, rest)
        if sub is None or name is None:
            break
        parts.append(name)
        cmd = sub
        ctx = sub.make_context(name, args, parent=ctx, resilient_parsing=True)
    return " ".join(parts), root_params


def check(root: Any, argv: list[str]) -> str | None:
    """Refuse the command unless LUBAN_API_KEY's role allows it; returns the key id (None without a key)."""
    token = os.environ.get("LUBAN_API_KEY")
    if not token or any(flag in argv for flag in ("--help", "-h", "--version")):
        return None
    from luban.gateway.keys import AuthFailure, KeyRing, KeyStore
    from luban.gateway.service import default_db_url

    path, params = command_path(root, argv)
    if not path:
        return None
    workspace = Path(str(params.get("workspace_path") or os.environ.get("LUBAN_WORKSPACE") or "luban-ws"))
    store = KeyStore(os.environ.get("LUBAN_KEYS_URL") or default_db_url(workspace))
    try:
        rec = KeyRing(store.all()).check(token)
    except AuthFailure as err:
        raise UsageError(f"LUBAN_API_KEY: {err}", "set a valid key, or unset LUBAN_API_KEY on your own workspace") from None
    finally:
        store.close()
    require(rec.role, command_operation(path), who=f"key {rec.id}")
    return rec.id
