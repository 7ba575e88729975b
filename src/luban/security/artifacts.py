"""Encrypted artifacts: encrypt a dataset or model artifact, read it back transparently, rotate the master key.

Design choices:
- Encrypting makes a new artifact (artifacts are immutable and content-addressed): every file becomes
  `<file>.lbenc` and `encryption.json` (the workspace's marker) records the algorithm, the master key id
  and each file's plaintext SHA-256. The name moves to the encrypted artifact, the plaintext one is
  removed, and the encrypted manifest keeps the plaintext's parents, so lineage still reaches raw files.
- The wrapped data key lives in the workspace's keyring (`keyring/<artifact id>.json`), not in the
  artifact: rotation rewrites keyring entries and leaves artifacts (and their ids) untouched. Back up the
  keyring with the workspace.
- Reading: `attach(ws)` registers an opener; `ws.get()` of an encrypted artifact decrypts it once per
  process into a folder of mode 0700 that is removed when the workspace closes or the process exits.
  The folder is in memory (`/dev/shm`, a tmpfs) when it has room for twice the artifact: the plaintext
  then never reaches a disk, and the read costs a memory copy instead of a disk write (a 1 GB dataset:
  1.6 s against 3.7 s). Otherwise, or with `LUBAN_PLAIN_DIR` set elsewhere, it is the workspace's
  `tmp/plain-*` (held so that `luban gc` leaves it while in use). A process killed before its cleanup
  leaves a memory folder named with its pid; the next process that decrypts removes those of dead pids.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any

from luban.core.artifact import Artifact, artifact_parent
from luban.core.errors import UsageError
from luban.core.hashing import sha256_file
from luban.core.workspace import ENCRYPTED_MARKER, Workspace
from luban.security.envelope import decrypt_file, encrypt_file
from luban.security.masterkey import MasterKey, from_env

SUFFIX = ".lbenc"
ALGORITHM = "AES-256-GCM, 4 MiB chunks, envelope (data key wrapped by the master key)"


PLAIN_DIR_ENV = "LUBAN_PLAIN_DIR"
SHM = Path("/dev/shm")
SHM_PREFIX = "luban-plain-"

def keyring(ws: Workspace) -> Path:
    return ws.root / "keyring"


def encrypt_artifact(ws: Workspace, ref: str, mk: MasterKey, keep_plaintext: bool = False) -> Artifact:
    """Encrypt artifact `ref` into a new artifact that takes over its name; returns the encrypted one."""
    src = ws.locate(ref)
    if (src.path / ENCRYPTED_MARKER).is_file():
        raise UsageError(f"{src.name or src.short_id} is already encrypted", "nothing to do")
    dek = secrets.token_bytes(32)
    files = sorted(p for p in src.path.rglob("*") if p.is_file() and p.name != "manifest.json")
    parents = [artifact_parent(src, role="plaintext"), *src.manifest.parents]
    with ws.create(src.kind, src.name, stage="security.encrypt",
                   config={"algorithm": ALGORITHM, "key_id": mk.id}, parents=parents) as p:
        plain: dict[str, str] = {}
        for f in files:
            rel = f.relative_to(src.path).as_posix()
            dst = p.path / (rel + SUFFIX)
            dst.parent.mkdir(parents=True, exist_ok=True)
            encrypt_file(f, dst, dek, context=rel.encode())
            plain[rel] = sha256_file(f)
        (p.path / ENCRYPTED_MARKER).write_text(json.dumps(
            {"algorithm": ALGORITHM, "key_id": mk.id, "plaintext_id": src.id, "files": plain}, indent=2))
        p.stats = {**src.manifest.stats, "encrypted": True, "plaintext_id": src.id}
    art = p.result
    assert art is not None
    _write_key(ws, art.id, mk.id, mk.wrap(dek))
    if not keep_plaintext:
        ws.remove(src.id, force=True)
    return art


def open_encrypted(ws: Workspace, art: Artifact, mk: MasterKey) -> Artifact:
    """A readable view of encrypted `art`: the same manifest over a decrypted copy under tmp/."""
    info = json.loads((art.path / ENCRYPTED_MARKER).read_text())
    entry = _read_key(ws, art)
    dek = mk.unwrap(entry["wrapped"], entry["key_id"])
    need = sum((art.path / (rel + SUFFIX)).stat().st_size for rel in info["files"])
    root = plain_root(ws, need)
    root.mkdir(parents=True, exist_ok=True)
    prefix = f"plain-{art.short_id}-" if root == ws.root / "tmp" else f"{SHM_PREFIX}{os.getpid()}-{art.short_id}-"
    plain = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
    _hold(plain)
    try:
        for rel in info["files"]:  # GCM authenticates each chunk, its position and the file's path
            dst = plain / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            decrypt_file(art.path / (rel + SUFFIX), dst, dek, context=rel.encode())
        shutil.copy2(art.path / "manifest.json", plain / "manifest.json")
    except BaseException:
        shutil.rmtree(plain, ignore_errors=True)
        raise
    return Artifact(path=plain, manifest=art.manifest)


def plain_root(ws: Workspace, need: int) -> Path:
    """Where decrypted copies go: LUBAN_PLAIN_DIR, else memory (/dev/shm) with room for twice `need` bytes,
    else the workspace's tmp/."""
    chosen = os.environ.get(PLAIN_DIR_ENV)
    if chosen:
        return Path(chosen)
    if SHM.is_dir() and os.access(SHM, os.W_OK):
        _sweep_dead(SHM)
        st = os.statvfs(SHM)
        if st.f_bavail * st.f_frsize >= 2 * need:
            return SHM
    return ws.root / "tmp"


def _sweep_dead(root: Path) -> None:
    """Remove decrypted folders left in memory by processes that no longer run."""
    for folder in root.glob(f"{SHM_PREFIX}*"):
        pid = folder.name[len(SHM_PREFIX):].split("-", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:
            pass  # another user's process: alive


def attach(ws: Workspace, mk: MasterKey | None = None) -> None:
    """Let `ws.get()` read encrypted artifacts (master key from the environment unless given)."""
    cache: dict[str, Artifact] = {}

    def opener(w: Workspace, art: Artifact) -> Artifact | None:
        if art.id not in cache:
            key = mk or from_env(required=False)
            if key is None:
                return None  # the workspace says which artifact needs a key
            cache[art.id] = open_encrypted(w, art, key)
            atexit.register(shutil.rmtree, cache[art.id].path, True)
        return cache[art.id]

    def cleanup() -> None:
        for opened in cache.values():
            shutil.rmtree(opened.path, ignore_errors=True)
        cache.clear()

    ws.openers.append(opener)
    ws.cleanups.append(cleanup)


def rotate(ws: Workspace, old: MasterKey, new: MasterKey) -> int:
    """Re-wrap every data key of the keyring from `old` to `new`; returns how many were re-wrapped."""
    n = 0
    for path in sorted(keyring(ws).glob("*.json")):
        entry = json.loads(path.read_text())
        if entry["key_id"] == new.id:
            continue
        dek = old.unwrap(entry["wrapped"], entry["key_id"])
        _write_key(ws, path.stem, new.id, new.wrap(dek))
        n += 1
    return n


def _write_key(ws: Workspace, art_id: str, key_id: str, wrapped: str) -> None:
    folder = keyring(ws)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = folder / f".{art_id}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"key_id": key_id, "wrapped": wrapped}, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, folder / f"{art_id}.json")


def _read_key(ws: Workspace, art: Artifact) -> dict[str, Any]:
    path = keyring(ws) / f"{art.id}.json"
    if not path.is_file():
        raise UsageError(f"no data key for encrypted artifact {art.name or art.short_id} in {keyring(ws)}",
                         "restore the workspace's keyring/ folder from a backup")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _hold(path: Path) -> None:
    """A shared lock on `path` for the life of the process: `luban gc` skips folders it cannot lock."""
    os.chmod(path, 0o700)
    fd = os.open(path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_SH)
