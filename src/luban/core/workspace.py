"""The workspace: one folder of artifacts plus a metadata index.

Layout (default `./luban-ws`, or `LUBAN_WORKSPACE`):

    artifacts/<kind>/<id>/     finished artifacts, each with manifest.json
    tmp/                       artifacts being written; renamed into place only when complete
    runs/                      scratch space of running stages (checkpoints, logs)
    index.db                   SQLite index, unless LUBAN_DB_URL names another database

Writing is all-or-nothing: `ws.create(...)` yields a temp folder, and only a clean exit hashes it,
writes the manifest and renames it into `artifacts/`. An exception or Ctrl-C removes the temp folder.
"""

from __future__ import annotations

import builtins
import contextlib
import contextvars
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from luban import __version__
from luban.core.artifact import KINDS, Artifact, Manifest, Parent, Producer
from luban.core.errors import NotFoundError, UsageError, WorkspaceError
from luban.core.hashing import hash_tree, sha256_json
from luban.core.index import Index, now

DEFAULT_ROOT = "luban-ws"
ENCRYPTED_MARKER = "encryption.json"  # an artifact holding this file is encrypted at rest (luban.security)

# The pipeline runner sets this around a stage call so that the artifact records which
# (stage, config, inputs) produced it, and a later run can reuse it.
current_run_key: contextvars.ContextVar[str | None] = contextvars.ContextVar("luban_run_key", default=None)
# Parents the runner adds to every artifact written while it is set: `luban run --ignore-gates` puts each
# report whose gate failed here (role "gate-ignored"), so every later artifact's lineage says so.
extra_parents: contextvars.ContextVar[tuple[Parent, ...]] = contextvars.ContextVar("luban_extra_parents", default=())


@dataclass
class PendingArtifact:
    """An artifact being written: put files under `path`, fill `stats`, add `parents`."""

    path: Path
    kind: str
    name: str | None
    producer: Producer
    parents: list[Parent] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    result: Artifact | None = None


class Workspace:
    def __init__(self, root: str | Path | None = None, db_url: str | None = None) -> None:
        self.root = Path(root or os.environ.get("LUBAN_WORKSPACE") or DEFAULT_ROOT).resolve()
        self._db_url = db_url or os.environ.get("LUBAN_DB_URL")
        self._index: Index | None = None
        # called with each artifact a stage finishes here (the CLI adds the audit log's stage recorder)
        self.listeners: builtins.list[Callable[[Artifact], None]] = []
        # given an encrypted artifact, return it readable (security.artifacts registers the decryptor)
        self.openers: builtins.list[Callable[[Workspace, Artifact], Artifact | None]] = []
        self.cleanups: builtins.list[Callable[[], object]] = []  # run by close(): decrypted copies go

    # -- set-up -----------------------------------------------------------------------------
    @property
    def index(self) -> Index:
        if self._index is None:
            self._ensure_dirs()
            url = self._db_url or f"sqlite:///{self.root / 'index.db'}"
            self._index = Index(url, workspace_key=str(self.root))
        return self._index

    def _ensure_dirs(self) -> None:
        try:
            for sub in ("artifacts", "tmp", "runs"):
                (self.root / sub).mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise WorkspaceError(f"cannot create the workspace at {self.root}: {e.strerror}",
                                 "set LUBAN_WORKSPACE or --workspace to a writable folder") from None

    def check_writable(self) -> None:
        """Fail early, before any work, when the workspace cannot be written."""
        self._ensure_dirs()
        probe = self.root / "tmp" / f".probe-{uuid.uuid4().hex}"
        try:
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as e:
            raise WorkspaceError(f"workspace {self.root} is not writable ({e.strerror})",
                                 "set LUBAN_WORKSPACE or --workspace to a writable folder") from None

    def close(self) -> None:
        for cleanup in self.cleanups:
            cleanup()
        self.cleanups.clear()
        if self._index is not None:
            self._index.close()
            self._index = None

    # -- writing ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def create(self, kind: str, name: str | None, stage: str, config: dict[str, Any] | None = None,
               parents: list[Parent] | None = None) -> Iterator[PendingArtifact]:
        """Write a new artifact atomically. The finished Artifact is in `pending.result`."""
        if kind not in KINDS:
            raise UsageError(f"unknown artifact kind '{kind}'", f"use one of {', '.join(KINDS)}")
        self.check_writable()
        tmp = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=self.root / "tmp"))
        pending = PendingArtifact(path=tmp, kind=kind, name=name,
                                  producer=Producer(stage=stage, config=config or {}, version=__version__,
                                                    run_key=current_run_key.get()),
                                  parents=[*(parents or []), *extra_parents.get()])
        held = _hold(tmp)
        try:
            yield pending
            pending.result = self._finish(pending)
            for listener in self.listeners:
                listener(pending.result)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        finally:
            _release(held)

    @contextlib.contextmanager
    def scratch(self, prefix: str, root: Path | None = None) -> Iterator[Path]:
        """A temporary folder under the workspace's tmp/ (or `root`), removed afterwards, that `gc`
        leaves alone while it is in use (a curation's spill files, for one)."""
        base = root if root is not None else self.root / "tmp"
        base.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
        held = _hold(path)
        try:
            yield path
        finally:
            _release(held)
            shutil.rmtree(path, ignore_errors=True)

    def _finish(self, p: PendingArtifact) -> Artifact:
        files = hash_tree(p.path)
        art_id = sha256_json({"kind": p.kind, "files": files,
                              "parents": [x.model_dump(exclude={"name"}) for x in p.parents]})
        manifest = Manifest(id=art_id, kind=p.kind, name=p.name, created=now(), producer=p.producer,  # type: ignore[arg-type]
                            parents=p.parents, files=files, stats=p.stats)
        (p.path / "manifest.json").write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
        _apply_umask(p.path)
        rel = f"artifacts/{p.kind}/{art_id}"
        final = self.root / rel
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():  # same content already stored: keep the old one
            shutil.rmtree(p.path, ignore_errors=True)
            manifest = Artifact.load(final).manifest
        else:
            os.replace(p.path, final)
        self.index.add(manifest, rel)
        if p.producer.run_key:  # also when identical content already existed under an older key
            self.index.set_run(p.producer.run_key, art_id)
        if p.name:
            self.index.set_ref(p.name, art_id)
        return Artifact(path=final, manifest=manifest)

    def tag(self, name: str, art: Artifact) -> None:
        self.index.set_ref(name, art.id)

    # -- reading ----------------------------------------------------------------------------
    def is_new(self) -> bool:
        """True when nothing was ever written here (reading then must not create the folder)."""
        return self._index is None and not self._db_url and not (self.root / "index.db").exists()

    def get(self, ref: str) -> Artifact:
        """Resolve a name, a full id or an id prefix (>= 6 characters) to an Artifact ready to read: an
        encrypted artifact comes back decrypted into the workspace's tmp/ (see `open`)."""
        return self.open(self.locate(ref))

    def open(self, art: Artifact) -> Artifact:
        """`art` itself, or for an encrypted artifact (one with ENCRYPTED_MARKER) what an opener returns:
        the same manifest over a decrypted copy under tmp/, removed when the process ends."""
        if not (art.path / ENCRYPTED_MARKER).is_file():
            return art
        for opener in self.openers:
            opened = opener(self, art)
            if opened is not None:
                return opened
        raise UsageError(f"artifact {art.name or art.short_id} is encrypted and no master key is set",
                         "set LUBAN_MASTER_KEY, LUBAN_MASTER_KEY_FILE or LUBAN_MASTER_KEY_COMMAND (docs/security.md)")

    def locate(self, ref: str) -> Artifact:
        """Resolve `ref` to the artifact as stored (encrypted ones stay encrypted)."""
        if self.is_new():
            raise NotFoundError(f"no artifact named '{ref}': workspace {self.root} is empty",
                                "run a stage first, or point --workspace at your workspace")
        index = self.index
        refs = index.refs()
        art_id = refs.get(ref)
        if art_id is None and len(ref) >= 6:
            ids = index.find_ids(ref)
            if len(ids) > 1:
                raise UsageError(f"id prefix '{ref}' is ambiguous ({len(ids)} artifacts)", "give more characters")
            art_id = ids[0] if ids else None
        if art_id is None:
            close = [n for n in refs if ref.lower() in n.lower()][:3]
            hint = f"did you mean {', '.join(close)}?" if close else "run `luban ls` to see what exists"
            raise NotFoundError(f"no artifact named '{ref}' in workspace {self.root}", hint)
        rel = index.relpath(art_id)
        if rel is None or not (self.root / rel / "manifest.json").is_file():
            raise NotFoundError(f"artifact '{ref}' ({art_id[:12]}) is indexed but its folder is missing",
                                "run `luban gc` to clean the index")
        return Artifact.load(self.root / rel)

    def by_run_key(self, run_key: str) -> Artifact | None:
        """The artifact a pipeline run with this key produced, if it is still here."""
        if self.is_new():
            return None
        art_id = self.index.get_run(run_key)
        if art_id is None:
            return None
        rel = self.index.relpath(art_id)
        if rel is None or not (self.root / rel / "manifest.json").is_file():
            return None
        return self.open(Artifact.load(self.root / rel))

    def exists(self, ref: str) -> bool:
        try:
            self.locate(ref)
            return True
        except NotFoundError:
            return False

    def list(self, kind: str | None = None) -> list[tuple[Artifact, list[str]]]:
        """Every artifact with the names that point at it, oldest first."""
        if self.is_new():
            return []
        by_id: dict[str, list[str]] = {}
        for name, art_id in self.index.refs().items():
            by_id.setdefault(art_id, []).append(name)
        out = []
        for art_id, rel, _ in self.index.artifacts():
            path = self.root / rel
            if not (path / "manifest.json").is_file():
                continue
            art = Artifact.load(path)
            if kind is None or art.kind == kind:
                out.append((art, sorted(by_id.get(art_id, []))))
        return out

    def children(self, art_id: str) -> builtins.list[str]:  # `list` is a method of this class
        return [i for i, _, m in self.index.artifacts() if any(p.id == art_id for p in m.parents)]

    # -- removing ---------------------------------------------------------------------------
    def remove(self, ref: str, force: bool = False) -> Artifact:
        """Remove an artifact and every name pointing at it. Refuses while others derive from it."""
        art = self.locate(ref)
        kids = self.children(art.id)
        if kids and not force:
            raise UsageError(f"'{ref}' has {len(kids)} artifact(s) derived from it",
                             "remove those first, or pass --force (their lineage will show it as removed)")
        self.index.remove_artifact(art.id)
        shutil.rmtree(art.path, ignore_errors=True)
        return art

    def gc(self, dry_run: bool = False) -> dict[str, builtins.list[str]]:
        """Delete unnamed artifacts that no named artifact derives from, stale temp folders,
        and index rows whose folder is gone. Returns what was (or would be) removed; temp folders
        that a running stage holds (an artifact being written, spill files) are listed as `in_use`
        and kept."""
        index = self.index
        rows = index.artifacts()
        manifests = {i: m for i, _, m in rows}
        keep: set[str] = set()
        stack = [i for i in index.refs().values() if i in manifests]
        while stack:
            cur = stack.pop()
            if cur in keep:
                continue
            keep.add(cur)
            stack.extend(p.id for p in manifests[cur].parents if p.id and p.id in manifests)
        removed: dict[str, list[str]] = {"artifacts": [], "tmp": [], "index": [], "in_use": []}
        for art_id, rel, _ in rows:
            path = self.root / rel
            if not (path / "manifest.json").is_file():
                removed["index"].append(art_id)
                if not dry_run:
                    index.remove_artifact(art_id)
            elif art_id not in keep:
                removed["artifacts"].append(art_id)
                if not dry_run:
                    index.remove_artifact(art_id)
                    shutil.rmtree(path, ignore_errors=True)
        for tmp in sorted((self.root / "tmp").glob("*")):
            if tmp.is_dir() and _in_use(tmp):  # a stage is writing there now
                removed["in_use"].append(tmp.name)
                continue
            removed["tmp"].append(tmp.name)
            if not dry_run:
                shutil.rmtree(tmp, ignore_errors=True) if tmp.is_dir() else tmp.unlink(missing_ok=True)
        return removed

    def run_dir(self, name: str) -> Path:
        """A scratch folder for a running stage (checkpoints, logs); not an artifact."""
        self._ensure_dirs()
        path = self.root / "runs" / name
        path.mkdir(parents=True, exist_ok=True)
        return path


def _apply_umask(root: Path) -> None:
    """Give a finished artifact the modes of files made the ordinary way (0666/0777 less the umask).

    `tempfile.mkdtemp` makes its folder 0700 and safetensors >= 0.8 writes weights 0600, so without this a
    model artifact is unreadable to any other user: a serving container running as its own uid, a
    teammate sharing the workspace. The umask still rules: a private 077 umask keeps artifacts private.
    """
    mask = _umask()
    for dirpath, _dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o777 & ~mask)
        for f in filenames:
            path = os.path.join(dirpath, f)
            if not os.path.islink(path):
                executable = os.stat(path).st_mode & 0o111
                os.chmod(path, (0o777 if executable else 0o666) & ~mask)


def _umask() -> int:
    """The process umask, read without setting it where Linux allows (`os.umask` sets it process-wide, and
    another thread creating a file in between would get mode 0666)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# In-use marks for temp folders: a shared flock on the folder itself, held by the writing process (and
# inherited by its forked workers), so no marker file ends up among an artifact's hashed contents. `gc`
# asks for an exclusive lock without waiting; failing that, the folder is in use. The kernel drops the
# lock when the process dies, so a crashed stage's leftovers are collectable at once.
try:
    import fcntl
except ImportError:  # not on Windows: no in-use marks there, gc removes what it finds
    fcntl = None  # type: ignore[assignment]


def _hold(path: Path) -> int | None:
    if fcntl is None:
        return None
    fd = os.open(path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def _release(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)


def _in_use(path: Path) -> bool:
    if fcntl is None:
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
