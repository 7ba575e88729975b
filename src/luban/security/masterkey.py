"""The master key (key-encryption key) and the wrapping of data keys with it.

Design choices:
- Envelope encryption, as cloud KMSs do it: each artifact has its own random 256-bit data key (DEK);
  only the DEK is encrypted with the master key. Rotating the master key re-wraps DEKs (bytes), never the
  data (gigabytes).
- The master key never sits in a config file. It comes from, in order: `LUBAN_MASTER_KEY` (base64 or
  hex of 32 bytes), `LUBAN_MASTER_KEY_FILE` (a file holding the same), or `LUBAN_MASTER_KEY_COMMAND`
  (a command that prints it: a KMS or vault client, `pass show luban/master`...).
- A key id (a hash of the key) travels with every wrapped DEK, so a wrong master key is named as such
  instead of surfacing as a failed decryption.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from luban.core.errors import StageError, UsageError

WRAP_AAD = b"luban-data-key-v1"
HINT = "set LUBAN_MASTER_KEY (base64 of 32 bytes, e.g. from `luban security new-key`), LUBAN_MASTER_KEY_FILE or LUBAN_MASTER_KEY_COMMAND"


@dataclass(frozen=True)
class MasterKey:
    key: bytes

    @property
    def id(self) -> str:
        return hashlib.sha256(b"luban-master-key-id\n" + self.key).hexdigest()[:16]

    def wrap(self, dek: bytes) -> str:
        nonce = secrets.token_bytes(12)
        return base64.b64encode(nonce + AESGCM(self.key).encrypt(nonce, dek, WRAP_AAD)).decode()

    def unwrap(self, wrapped: str, key_id: str) -> bytes:
        if key_id != self.id:
            raise UsageError(f"wrong master key: this data key was wrapped by key {key_id}, the one given is {self.id}",
                             "use the master key the data was encrypted with, or rotate with both keys")
        raw = base64.b64decode(wrapped)
        try:
            return AESGCM(self.key).decrypt(raw[:12], raw[12:], WRAP_AAD)
        except InvalidTag:
            raise StageError("a wrapped data key is corrupted (authentication failed)",
                             "restore the keyring from a backup") from None


def parse(text: str, origin: str) -> MasterKey:
    text = text.strip()
    for decode in (base64.b64decode, bytes.fromhex):
        try:
            raw = decode(text)
        except (binascii.Error, ValueError):
            continue
        if len(raw) == 32:
            return MasterKey(raw)
    raise UsageError(f"the master key from {origin} is not 32 bytes in base64 or hex", HINT)


def from_env(required: bool = True) -> MasterKey | None:
    """The master key from the environment (see the module's docstring), or None / an error when unset."""
    if value := os.environ.get("LUBAN_MASTER_KEY"):
        return parse(value, "LUBAN_MASTER_KEY")
    if path := os.environ.get("LUBAN_MASTER_KEY_FILE"):
        if not Path(path).is_file():
            raise UsageError(f"LUBAN_MASTER_KEY_FILE names {path}, which does not exist", HINT)
        return parse(Path(path).read_text(encoding="utf-8"), path)
    if command := os.environ.get("LUBAN_MASTER_KEY_COMMAND"):
        done = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise UsageError(f"LUBAN_MASTER_KEY_COMMAND failed (exit {done.returncode}): "
                             f"{(done.stderr or '').strip()[:200]}", "check the key command")
        return parse(done.stdout, "LUBAN_MASTER_KEY_COMMAND")
    if required:
        raise UsageError("no master key is set", HINT)
    return None


def new_key_text() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()
