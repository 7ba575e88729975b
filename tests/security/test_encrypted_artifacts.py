"""Encrypted artifacts: nothing readable at rest, read back transparently by the layers, lineage kept,
rotation without re-encryption, and a missing or wrong master key refused in one line."""

from __future__ import annotations

import base64
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from luban.core.artifact import file_parent
from luban.core.errors import UsageError
from luban.core.lineage import lineage
from luban.core.workspace import Workspace
from luban.security.artifacts import attach, encrypt_artifact, plain_root, rotate
from luban.security.masterkey import MasterKey, from_env, new_key_text, parse

SECRET = "张三 13812345678 bought the X100"


def key() -> MasterKey:
    return parse(new_key_text(), "test")


@pytest.fixture()
def ws(tmp_path) -> Workspace:
    w = Workspace(tmp_path / "ws")
    with w.create("dataset", "corpus", stage="data.curate", config={},
                  parents=[file_parent("raw/a.txt", "cd" * 32)]) as p:
        pq.write_table(pa.table({"text": [SECRET] * 100}), p.path / "train-00000.parquet")
    return w


def test_encrypted_dataset_holds_no_plaintext_and_reads_back_transparently(ws):
    mk = key()
    plain_id = ws.get("corpus").id
    enc = encrypt_artifact(ws, "corpus", mk)
    assert enc.id != plain_id and not ws.exists(plain_id)
    at_rest = b"".join(f.read_bytes() for f in enc.path.rglob("*") if f.is_file())
    assert SECRET.encode() not in at_rest and b"13812345678" not in at_rest
    with pytest.raises(UsageError, match="is encrypted and no master key is set"):
        ws.get("corpus")
    attach(ws, mk)
    opened = ws.get("corpus")
    assert opened.id == enc.id and opened.path.parent == plain_root(ws, 0)
    assert pq.read_table(opened.path / "train-00000.parquet").column("text").to_pylist() == [SECRET] * 100
    assert ws.get("corpus").path == opened.path  # decrypted once per process
    ws.close()
    assert not opened.path.exists()


def test_lineage_of_the_encrypted_artifact_still_reaches_the_raw_files(ws):
    enc = encrypt_artifact(ws, "corpus", key())
    tree = lineage(ws, "corpus")
    assert tree.id == enc.id and tree.stage == "security.encrypt"
    files = [n for n in tree.walk() if n.type == "file"]
    assert [(f.path, f.sha256) for f in files] == [("raw/a.txt", "cd" * 32)]
    assert [(n.role, n.type) for n in tree.children if n.type != "file"] == [("plaintext", "missing")]


def test_rotation_rewraps_keys_without_touching_the_data(ws):
    old, new = key(), key()
    enc = encrypt_artifact(ws, "corpus", old)
    before = {f: f.read_bytes() for f in enc.path.rglob("*") if f.is_file()}
    assert rotate(ws, old, new) == 1
    assert {f: f.read_bytes() for f in enc.path.rglob("*") if f.is_file()} == before
    fresh = Workspace(ws.root)
    attach(fresh, old)
    with pytest.raises(UsageError, match=f"wrong master key: this data key was wrapped by key {new.id}"):
        fresh.get("corpus")
    again = Workspace(ws.root)
    attach(again, new)
    assert pq.read_table(again.get("corpus").path / "train-00000.parquet").num_rows == 100


def test_master_key_sources(tmp_path, monkeypatch):
    text = new_key_text()
    for var in ("LUBAN_MASTER_KEY", "LUBAN_MASTER_KEY_FILE", "LUBAN_MASTER_KEY_COMMAND"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(UsageError, match="no master key is set"):
        from_env()
    monkeypatch.setenv("LUBAN_MASTER_KEY_COMMAND", f"echo {text}")
    assert from_env().key == base64.b64decode(text)  # type: ignore[union-attr]
    kf = tmp_path / "master.key"
    kf.write_text(base64.b64decode(text).hex())
    monkeypatch.setenv("LUBAN_MASTER_KEY_FILE", str(kf))
    assert from_env().key == base64.b64decode(text)  # type: ignore[union-attr]
    monkeypatch.setenv("LUBAN_MASTER_KEY", "too-short")
    with pytest.raises(UsageError, match="not 32 bytes in base64 or hex"):
        from_env()


def test_encrypted_model_loads_through_the_real_loading_path(tmp_path, tiny_model_dir):
    from transformers import AutoModelForCausalLM

    from luban.models.loading import resolve_model_dir

    ws = Workspace(tmp_path / "ws")
    with ws.create("model", "tiny", stage="models.import", config={}) as p:
        for f in tiny_model_dir.iterdir():
            if f.is_file():
                (p.path / f.name).write_bytes(f.read_bytes())
    mk = key()
    encrypt_artifact(ws, "tiny", mk)
    attach(ws, mk)
    model = AutoModelForCausalLM.from_pretrained(resolve_model_dir("tiny", ws))
    assert model.config.model_type in ("qwen2", "llama")


def test_cli_encrypt_then_show_and_read_with_the_key_from_a_file(tmp_path, ws):
    kf = tmp_path / "master.key"
    env = {**os.environ, "LUBAN_WORKSPACE": str(ws.root), "LUBAN_AUDIT_STAGES": "0"}
    run = [sys.executable, "-m", "luban.cli.main"]
    assert subprocess.run([*run, "security", "new-key", "--out", str(kf)], env=env).returncode == 0
    assert oct(kf.stat().st_mode & 0o777) == "0o600"
    env["LUBAN_MASTER_KEY_FILE"] = str(kf)
    done = subprocess.run([*run, "data", "encrypt", "corpus"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    again = subprocess.run([*run, "data", "encrypt", "corpus"], env=env, capture_output=True, text=True)
    assert again.returncode == 2 and "already encrypted" in again.stderr
    env.pop("LUBAN_MASTER_KEY_FILE")
    report = subprocess.run([*run, "data", "report", "corpus"], env=env, capture_output=True, text=True)
    assert report.returncode == 2 and "is encrypted and no master key is set" in report.stderr
    assert Path(ws.root / "keyring").stat().st_mode & 0o077 == 0


def test_plaintext_goes_to_memory_when_there_is_room_else_to_the_workspace(ws, monkeypatch):
    mk = key()
    encrypt_artifact(ws, "corpus", mk)
    monkeypatch.delenv("LUBAN_PLAIN_DIR", raising=False)
    assert plain_root(ws, 1 << 20) == Path("/dev/shm")  # a tmpfs with room: never on a disk
    assert plain_root(ws, 1 << 60) == ws.root / "tmp"  # no room in memory
    attach(ws, mk)
    opened = ws.get("corpus")
    assert opened.path.parent == Path("/dev/shm") and opened.path.name.startswith(f"luban-plain-{os.getpid()}-")
    assert stat.S_IMODE(opened.path.stat().st_mode) == 0o700
    ws.close()
    assert not opened.path.exists()
    monkeypatch.setenv("LUBAN_PLAIN_DIR", str(ws.root / "elsewhere"))
    assert plain_root(ws, 1) == ws.root / "elsewhere"


def test_memory_folders_of_dead_processes_are_swept(ws, monkeypatch):
    monkeypatch.delenv("LUBAN_PLAIN_DIR", raising=False)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = Path(f"/dev/shm/luban-plain-{dead}-abc123-x")
    mine = Path(f"/dev/shm/luban-plain-{os.getpid()}-abc123-y")
    stale.mkdir()
    mine.mkdir()
    try:
        plain_root(ws, 1)
        assert not stale.exists() and mine.exists()
    finally:
        shutil.rmtree(stale, ignore_errors=True)
        shutil.rmtree(mine, ignore_errors=True)
