import os
import signal
import stat
import subprocess
import sys
import textwrap

import pytest

from luban.core.artifact import artifact_parent, file_parent
from luban.core.errors import NotFoundError, UsageError, WorkspaceError
from luban.core.workspace import Workspace


def make(ws, name, text, parents=(), kind="dataset"):
    with ws.create(kind, name, "test.make", {"text": text}, parents=list(parents)) as p:
        (p.path / "data.txt").write_text(text)
        p.stats["chars"] = len(text)
    return p.result


def test_artifact_is_content_addressed_with_manifest(ws):
    a = make(ws, "a", "hello")
    assert a.path == ws.root / "artifacts" / "dataset" / a.id
    m = a.manifest
    assert m.kind == "dataset" and m.name == "a" and m.producer.stage == "test.make"
    assert m.producer.config == {"text": "hello"} and m.stats == {"chars": 5}
    assert set(m.files) == {"data.txt"}
    same = make(ws, "a2", "hello")
    assert same.id == a.id  # same content, same parents -> same id
    assert make(ws, "b", "other").id != a.id


def test_get_by_name_id_and_prefix(ws):
    a = make(ws, "a", "hello")
    assert ws.get("a").id == a.id
    assert ws.get(a.id).id == a.id
    assert ws.get(a.id[:8]).id == a.id
    with pytest.raises(NotFoundError, match="no artifact named 'zzz'"):
        ws.get("zzz")


def test_failed_stage_leaves_nothing(ws):
    with pytest.raises(RuntimeError):
        with ws.create("dataset", "broken", "test.make") as p:
            (p.path / "half.txt").write_text("half")
            raise RuntimeError("boom")
    assert not ws.exists("broken")
    assert list((ws.root / "tmp").iterdir()) == []
    assert list((ws.root / "artifacts").rglob("half.txt")) == []


def test_keyboard_interrupt_leaves_nothing(ws):
    with pytest.raises(KeyboardInterrupt):
        with ws.create("model", "m", "test.make") as p:
            (p.path / "w.bin").write_bytes(b"x")
            raise KeyboardInterrupt
    assert ws.list() == [] and list((ws.root / "tmp").iterdir()) == []


def test_sigint_from_outside_mid_write(tmp_path):
    """A real Ctrl-C (SIGINT) while a stage writes leaves no artifact and no temp folder."""
    root = tmp_path / "ws"
    script = textwrap.dedent(f"""
        import sys, time
        from luban.core.workspace import Workspace
        ws = Workspace({str(root)!r})
        with ws.create("dataset", "slow", "test.slow") as p:
            (p.path / "part.txt").write_text("x")
            print("writing", flush=True)
            time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)
    ws = Workspace(root)
    assert ws.list() == []
    assert list((root / "tmp").iterdir()) == []


def test_remove_refuses_when_children_exist(ws):
    a = make(ws, "a", "hello")
    make(ws, "b", "derived", parents=[artifact_parent(a)])
    with pytest.raises(UsageError, match="derived from it"):
        ws.remove("a")
    ws.remove("b")
    ws.remove("a")
    assert ws.list() == []


def test_gc_keeps_named_and_their_ancestors(ws):
    a = make(ws, None, "unnamed parent")
    b = make(ws, "kept", "child", parents=[artifact_parent(a)])
    orphan = make(ws, None, "orphan")
    (ws.root / "tmp" / "dataset-stale").mkdir()
    plan = ws.gc(dry_run=True)
    assert plan["artifacts"] == [orphan.id] and plan["tmp"] == ["dataset-stale"]
    assert orphan.path.exists()
    ws.gc()
    assert not orphan.path.exists() and a.path.exists() and b.path.exists()
    assert not (ws.root / "tmp" / "dataset-stale").exists()


def test_reading_a_new_workspace_creates_nothing(tmp_path):
    ws = Workspace(tmp_path / "none")
    assert ws.list() == []
    with pytest.raises(NotFoundError):
        ws.get("x")
    assert not (tmp_path / "none").exists()


def test_file_parents_recorded(ws, tmp_path):
    src = tmp_path / "raw.txt"
    src.write_text("raw")
    a = make(ws, "a", "x", parents=[file_parent(src, "abc", role="source")])
    assert a.manifest.parents[0].path == str(src) and a.manifest.parents[0].sha256 == "abc"


def test_read_only_workspace_is_a_usage_error(read_only_dir):
    ws = Workspace(read_only_dir)
    with pytest.raises(WorkspaceError, match="not writable"):
        ws.check_writable()
    with pytest.raises(WorkspaceError):
        with ws.create("dataset", "x", "test.make"):
            pass


def test_finished_artifact_is_readable_by_others_as_the_umask_allows(ws):
    old = os.umask(0o022)
    try:
        with ws.create("model", "perm", "test.make") as p:
            (p.path / "sub").mkdir(mode=0o700)
            weights = p.path / "sub" / "model.safetensors"
            weights.write_bytes(b"w")
            weights.chmod(0o600)  # what safetensors >= 0.8 does
            tool = p.path / "run.sh"
            tool.write_text("#!/bin/sh\n")
            tool.chmod(0o700)
        art = p.result
    finally:
        os.umask(old)
    mode = lambda path: stat.S_IMODE(path.stat().st_mode)  # noqa: E731
    assert mode(art.path) == 0o755 and mode(art.path / "sub") == 0o755  # mkdtemp made it 0700
    assert mode(art.path / "sub" / "model.safetensors") == 0o644
    assert mode(art.path / "manifest.json") == 0o644
    assert mode(art.path / "run.sh") == 0o755


def test_a_private_umask_keeps_artifacts_private(ws):
    old = os.umask(0o077)
    try:
        art = make(ws, "private", "secret")
    finally:
        os.umask(old)
    assert stat.S_IMODE(art.path.stat().st_mode) == 0o700
    assert stat.S_IMODE((art.path / "data.txt").stat().st_mode) == 0o600


def test_gc_keeps_temp_folders_that_a_running_stage_holds(ws):
    with ws.create("dataset", "busy", "test.make") as p:
        (p.path / "part.txt").write_text("half written")
        with ws.scratch("curate-spill-") as spill:
            (spill / "kept").write_bytes(b"records")
            (ws.root / "tmp" / "dataset-crashed").mkdir()  # a dead stage's leftover holds no lock
            removed = ws.gc()
            assert sorted(removed["in_use"]) == sorted([p.path.name, spill.name])
            assert removed["tmp"] == ["dataset-crashed"]
            assert (p.path / "part.txt").exists() and (spill / "kept").exists()
        assert not spill.exists()  # a scratch folder goes when its block ends
    assert set(p.result.manifest.files) == {"part.txt"}  # the in-use mark adds no file to the artifact
    assert ws.gc()["in_use"] == []


def test_a_lock_held_in_another_process_counts_as_in_use(ws):
    folder = ws.root / "tmp" / "model-other"
    folder.mkdir(parents=True)
    code = ("import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDONLY); fcntl.flock(fd, fcntl.LOCK_SH); "
            "print('held', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert ws.gc(dry_run=True)["in_use"] == ["model-other"]
    finally:
        holder.kill()
        holder.wait()
    assert ws.gc()["tmp"] == ["model-other"] and not folder.exists()  # the lock died with its process
