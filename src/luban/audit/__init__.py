"""Tamper-evident audit: a SHA-256 hash chain of every gateway call and every stage run, signed checkpoints,
verification, queries, exports and retention. See docs/audit.md."""

from __future__ import annotations

import os
from pathlib import Path

from luban.audit.log import AuditLog, default_chain
from luban.audit.store import AuditStore


def open_store(folder: Path, url: str | None = None) -> AuditStore:
    """The audit store: `url`, else LUBAN_AUDIT_URL, else SQLite `audit.db` in `folder`."""
    url = url or os.environ.get("LUBAN_AUDIT_URL")
    if not url:
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{folder / 'audit.db'}"
    return AuditStore(url)


__all__ = ["AuditLog", "AuditStore", "default_chain", "open_store"]
