"""Content hashes: files, folders and canonical JSON, all SHA-256.

Artifact ids are the hash of their files, so the same content always has the same id, and
the pipeline runner can tell "unchanged" from a hash of config plus input ids.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def sha256_json(obj: Any) -> str:
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()


def hash_tree(root: Path, skip: frozenset[str] = frozenset({"manifest.json"})) -> dict[str, str]:
    """Map of relative POSIX path -> SHA-256 for every file below `root` (sorted)."""
    out: dict[str, str] = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            rel = p.relative_to(root).as_posix()
            if rel not in skip:
                out[rel] = sha256_file(p)
    return out
