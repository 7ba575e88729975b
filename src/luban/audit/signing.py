"""Signed checkpoints: an Ed25519 signature over a chain's head, so that cutting the tail is caught too.

Design choices:
- A hash chain alone cannot tell a truncated log from a short one, and whoever can write the database can
  rewrite every hash after an edit. A signed head (chain, seq, hash) closes both gaps up to the last
  checkpoint, as CloudTrail's signed digest files do every hour.
- The private key is a PEM file: `LUBAN_AUDIT_KEY` names it, else `<workspace>/audit/signing.key` is
  created (mode 0600) on first use. Verification needs only the public key (`signing.pub`), so an auditor
  can check a copy of the log without the means to forge it.
- Every checkpoint is also appended to `checkpoints.jsonl` beside the key: removing it from the database
  alone does not hide a truncation.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import asdict
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from luban.audit.store import Checkpoint
from luban.core.errors import UsageError


def message(chain: str, seq: int, kind: str, hash_: str, ts: float) -> bytes:
    return f"luban-audit-checkpoint\n{chain}\n{seq}\n{kind}\n{hash_}\n{ts!r}".encode()


class Signer:
    """Signs checkpoints with the key at `key_path` (created when missing) and logs them to a file."""

    def __init__(self, folder: Path, key_path: Path | None = None) -> None:
        self.folder = folder
        self.key_path = key_path or Path(os.environ.get("LUBAN_AUDIT_KEY") or folder / "signing.key")
        self.log_path = folder / "checkpoints.jsonl"
        self._key = _load_or_create(self.key_path)
        pub = self._key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
        pub_path = self.key_path.with_suffix(".pub")
        if not pub_path.exists() or pub_path.read_bytes() != pub:
            pub_path.write_bytes(pub)
        self.public_key = self._key.public_key()

    def sign(self, chain: str, seq: int, kind: str, hash_: str, ts: float) -> Checkpoint:
        sig = base64.b64encode(self._key.sign(message(chain, seq, kind, hash_, ts))).decode()
        cp = Checkpoint(chain=chain, seq=seq, kind=kind, hash=hash_, ts=ts, signature=sig)
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(asdict(cp), sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())
        return cp


def public_key(path: Path) -> Ed25519PublicKey:
    """The public key in `path` (a .pub PEM), or the public half of a private key file."""
    data = path.read_bytes()
    if b"PRIVATE" in data:
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise UsageError(f"{path} is not an Ed25519 key", "point LUBAN_AUDIT_KEY at the audit signing key")
        return key.public_key()
    pub = serialization.load_pem_public_key(data)
    if not isinstance(pub, Ed25519PublicKey):
        raise UsageError(f"{path} is not an Ed25519 public key", "use the signing.pub of the audit log")
    return pub


def valid(cp: Checkpoint, key: Ed25519PublicKey) -> bool:
    try:
        key.verify(base64.b64decode(cp.signature), message(cp.chain, cp.seq, cp.kind, cp.hash, cp.ts))
        return True
    except (InvalidSignature, ValueError):
        return False


def logged_checkpoints(folder: Path, chain: str) -> list[Checkpoint]:
    """The checkpoints of `chain` in the file log (unparseable lines are returned as invalid ones)."""
    path = folder / "checkpoints.jsonl"
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            cp = Checkpoint(**json.loads(line))
        except (ValueError, TypeError):
            cp = Checkpoint(chain=chain, seq=-1, kind="head", hash="", ts=0.0, signature="")
        if cp.chain == chain:
            out.append(cp)
    return out


def _load_or_create(path: Path) -> Ed25519PrivateKey:
    if path.is_file():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise UsageError(f"{path} is not an Ed25519 private key", "point LUBAN_AUDIT_KEY at an Ed25519 PEM key")
        return key
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return key
