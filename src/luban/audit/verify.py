"""Verify an audit chain: name the first record that was modified, deleted, inserted or reordered, and
catch a cut tail through the signed checkpoints.

Walks the chain in seq order, recomputing each hash from the stored canonical body. The walk starts at
the newest retention cut (a signed anchor: the hash of the record before the first one kept) or at the
genesis hash.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from luban.audit.record import GENESIS, INDEXED, chain_hash
from luban.audit.signing import logged_checkpoints, valid
from luban.audit.store import AuditStore, Checkpoint


@dataclass
class ChainReport:
    chain: str
    records: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    signed_seq: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(store: AuditStore, chain: str, key: Ed25519PublicKey, folder: Path,
                 progress: Callable[[int], None] | None = None) -> ChainReport:
    """Check every record of `chain` and its checkpoints; `problems[0]` names the first bad one."""
    report = ChainReport(chain)
    cps = _checkpoints(store, chain, folder, key, report)
    cuts = [cp for cp in cps if cp.kind == "cut"]
    heads = {cp.seq: cp for cp in cps if cp.kind == "head"}
    start_seq, prev = (cuts[-1].seq, cuts[-1].hash) if cuts else (1, GENESIS)
    expected = start_seq
    for row in store.rows(chain):
        report.records += 1
        if progress and report.records % 10_000 == 0:
            progress(10_000)
        if report.problems:
            continue  # count the rest; the first problem is what matters
        if row.seq < start_seq:
            report.problems.append(f"record {row.seq} lies before the retention cut at {start_seq}")
        elif row.seq != expected:
            what = "deleted" if row.seq > expected else "duplicated or inserted"
            report.problems.append(f"record {expected} is missing: {what} (found {row.seq} next)")
        elif row.prev != prev:
            report.problems.append(f"record {row.seq} does not follow record {row.seq - 1}: inserted or reordered")
        elif chain_hash(row.prev, row.body) != row.hash:
            report.problems.append(f"record {row.seq} was modified: its hash does not match its content")
        elif (bad := _column_mismatch(row.body, row)) is not None:
            report.problems.append(f"record {row.seq} was modified: column '{bad}' differs from the record")
        elif row.seq in heads and heads[row.seq].hash != row.hash:
            report.problems.append(f"record {row.seq} differs from the signed checkpoint at {row.seq}: "
                                   "the chain was rewritten")
        report.first_seq = report.first_seq if report.first_seq is not None else row.seq
        report.last_seq = row.seq
        prev, expected = row.hash, row.seq + 1
    if heads:
        report.signed_seq = max(heads)
        last = report.last_seq if report.last_seq is not None else start_seq - 1
        if report.signed_seq > last and not report.problems:
            report.problems.append(f"the log ends at record {last} but a signed checkpoint covers record "
                                   f"{report.signed_seq}: records were cut from the tail")
    return report


def _checkpoints(store: AuditStore, chain: str, folder: Path, key: Ed25519PublicKey,
                 report: ChainReport) -> list[Checkpoint]:
    """Checkpoints from the table and the file log, each signature checked, deduplicated, by seq."""
    seen: dict[tuple[int, str], Checkpoint] = {}
    for cp in store.checkpoints(chain) + logged_checkpoints(folder, chain):
        if not valid(cp, key):
            report.problems.append(f"checkpoint at record {cp.seq} has a bad signature: forged or edited")
            continue
        seen[(cp.seq, cp.kind)] = cp
    return sorted(seen.values(), key=lambda cp: cp.seq)


def _column_mismatch(body: str, row: object) -> str | None:
    record = json.loads(body)
    for name in INDEXED:
        if record.get(name) != getattr(row, name):
            return name
    return None
