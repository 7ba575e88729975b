"""Retention: prune records older than the keeping period without breaking verification of the rest.

The default keeps 6 months: network logs must be kept at least six months (Cybersecurity Law art. 21,
see the compliance notes). Before deleting, the chain is verified (pruning must not hide tampering) and a
signed "cut" checkpoint records the hash of the last pruned record, the anchor the next verification
starts from.
"""

from __future__ import annotations

import time
from pathlib import Path

from luban.audit.signing import Signer
from luban.audit.store import AuditStore
from luban.audit.verify import verify_chain
from luban.core.errors import StageError, UsageError

DEFAULT_KEEP_DAYS = 183


def prune(store: AuditStore, chain: str, signer: Signer, folder: Path, keep_days: float = DEFAULT_KEEP_DAYS,
          now: float | None = None) -> int:
    """Delete the records of `chain` older than `keep_days`; returns how many were deleted."""
    if keep_days < DEFAULT_KEEP_DAYS:
        raise UsageError(f"keeping audit records {keep_days:g} days is below the 6-month minimum for logs",
                         f"use --keep-days {DEFAULT_KEEP_DAYS} or more")
    report = verify_chain(store, chain, signer.public_key, folder)
    if not report.ok:
        raise StageError(f"chain '{chain}' does not verify ({report.problems[0]}); not pruning",
                         "pruning would hide the evidence: investigate with `luban audit verify` first")
    cutoff = (now or time.time()) - keep_days * 86400
    keep_from = store.first_seq_after(chain, cutoff)
    if keep_from is None:  # every record is old: keep the newest, so the chain keeps its head
        head = store.head(chain)
        if head is None:
            return 0
        keep_from = head[0]
    if report.first_seq is None or keep_from <= report.first_seq:
        return 0
    anchor = next(row for row in store.rows(chain) if row.seq == keep_from - 1)
    store.add_checkpoint(signer.sign(chain, keep_from, "cut", anchor.hash, time.time()))
    return store.delete_before(chain, keep_from)
