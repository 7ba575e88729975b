"""One audit record and the hash that chains it to the one before.

Design choices:
- A record is a flat JSON object; its canonical form (sorted keys, no spaces, UTF-8) is what is
  hashed and what is stored, byte for byte, so verification never depends on re-serialising values.
- `hash = SHA-256(prev_hash || "\\n" || canonical)`: each record commits to everything before it, so a
  modified, deleted, inserted or reordered record breaks the chain at that point (immudb, Trillian and
  CloudTrail's digest files rest on the same idea).
- The columns a query filters on (time, key, model, purpose, action, kind) are copies of fields of the
  record; verification checks that they still match it, so a query cannot be fooled by an edited column.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

GENESIS = "0" * 64  # prev of the first record of a chain

# record field -> indexed column (see store.py); verification checks each pair
INDEXED = ("ts", "kind", "key_id", "model", "purpose", "action")


def canonical(record: dict[str, Any]) -> str:
    """The canonical JSON text of `record` (what is hashed and stored): sorted keys, no spaces, UTF-8.

    Verification re-hashes the stored text and never re-serialises, so the encoder only has to be
    deterministic; orjson is ten times faster than the json module here. NaN becomes null."""
    return canonical_bytes(record).decode()


def canonical_bytes(record: dict[str, Any]) -> bytes:
    """`canonical(record)` as UTF-8 bytes: what a writer process is handed, stored as it comes."""
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def chain_hash(prev: str, body: str) -> str:
    return hashlib.sha256(f"{prev}\n{body}".encode()).hexdigest()


ROW = ("chain", "seq", *INDEXED, "body", "prev", "hash")  # a stored row's values, in this order


def make_row(chain: str, seq: int, prev: str, record: dict[str, Any], body: str | None = None) -> tuple[Any, ...]:
    """The stored row of `record` (values in `ROW` order; its hash last) as number `seq` of `chain`, linked to
    the hash `prev`. `body` is the record's canonical text when the caller already has it (a writer process
    receives it ready-made). A tuple, not a dict: the driver takes it as it is."""
    if body is None:
        body = canonical(record)
    return (chain, seq, *map(record.get, INDEXED), body, prev, chain_hash(prev, body))


def action_of(verdicts: list[dict[str, Any]] | None, status: int | None) -> str:
    """One word for what happened to a call: blocked, masked, flagged, error or ok."""
    actions = {v.get("action") for v in verdicts or []}
    for word in ("block", "mask", "flag"):
        if word in actions:
            return {"block": "blocked", "mask": "masked", "flag": "flagged"}[word]
    if status is not None and status >= 400:
        return "error"
    return "ok"
