"""Stage runs in the audit log: every artifact a stage writes appends a record (stage, config hash,
inputs, output) to this host's "stages" chain.

Stage runs are rare and come from many short processes (the CLI, the pipeline runner), so each record
is written at once under a file lock (one writer per chain at a time) and its head signed straight away,
instead of through AuditLog's background batching.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from luban.audit.record import GENESIS, make_row
from luban.audit.signing import Signer
from luban.audit.store import AuditStore
from luban.core.artifact import Artifact


def stage_chain() -> str:
    return f"stages-{socket.gethostname()}"


def append_now(store: AuditStore, signer: Signer, folder: Path, chain: str, record: dict[str, Any]) -> int:
    """Append `record` durably and sign the new head; returns its seq."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{chain}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        head = store.head(chain)
        seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
        row = make_row(chain, seq, prev, record)
        store.append([row])
        store.add_checkpoint(signer.sign(chain, seq, "head", row[-1], time.time()))
    return seq


def stage_record(art: Artifact) -> dict[str, Any]:
    producer = art.manifest.producer
    config = json.dumps(producer.config, sort_keys=True, default=str).encode()
    return {
        "ts": time.time(), "kind": "stage", "key_id": None, "model": None, "purpose": None, "action": "ok",
        "stage": producer.stage, "config_sha256": hashlib.sha256(config).hexdigest(), "run_key": producer.run_key,
        "actor": _user(), "host": socket.gethostname(), "pid": os.getpid(),
        "inputs": [p.id or f"{p.path}@{p.sha256}" for p in art.manifest.parents],
        "output": art.id, "output_kind": art.kind, "output_name": art.name,
    }


def stage_recorder(store: AuditStore, folder: Path) -> Callable[[Artifact], None]:
    """A workspace listener that records each finished stage artifact."""
    signer = Signer(folder)
    chain = stage_chain()

    def record(art: Artifact) -> None:
        append_now(store, signer, folder, chain, stage_record(art))

    return record


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def attach(ws: Any, url: str | None = None) -> None:
    """Record every stage that finishes an artifact in workspace `ws` (`<ws>/audit`, or `url`).

    The store is opened on the first artifact, so read-only commands never create it."""
    from luban.audit import open_store

    folder = ws.root / "audit"
    recorder: list[Callable[[Artifact], None]] = []

    def record(art: Artifact) -> None:
        if not recorder:
            recorder.append(stage_recorder(open_store(folder, url), folder))
        recorder[0](art)

    ws.listeners.append(record)
