"""Stage runs land in the audit log: stage, config hash, inputs and output, chained and signed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from luban.audit import open_store
from luban.audit.query import Filter, find
from luban.audit.signing import Signer
from luban.audit.stages import attach, stage_chain
from luban.audit.verify import verify_chain
from luban.core.artifact import file_parent
from luban.core.workspace import Workspace


def test_every_artifact_a_stage_finishes_is_recorded(tmp_path):
    ws = Workspace(tmp_path / "ws")
    attach(ws)
    with ws.create("report", "r1", stage="evaluate.qa", config={"max_new_tokens": 8},
                   parents=[file_parent("raw/a.txt", "ab" * 32)]) as p:
        (p.path / "report.json").write_text("{}")
    with ws.create("report", "r2", stage="evaluate.qa", config={"max_new_tokens": 9}) as p:
        (p.path / "report.json").write_text("[]")
    folder = ws.root / "audit"
    store = open_store(folder)
    records = list(find(store, Filter(kind="stage")))
    assert [r["output_name"] for r in records] == ["r1", "r2"]
    first = records[0]
    assert first["stage"] == "evaluate.qa" and first["inputs"] == ["raw/a.txt@" + "ab" * 32]
    assert first["output"] == ws.get("r1").id and len(first["config_sha256"]) == 64
    assert records[0]["config_sha256"] != records[1]["config_sha256"]
    report = verify_chain(store, stage_chain(), Signer(folder).public_key, folder)
    assert report.ok and report.signed_seq == 2


def test_concurrent_processes_share_one_stage_chain(tmp_path):
    root = tmp_path / "ws"
    script = (
        "import sys\nfrom luban.core.workspace import Workspace\nfrom luban.audit.stages import attach\n"
        "ws = Workspace(sys.argv[1]); attach(ws)\n"
        "for i in range(8):\n"
        "    with ws.create('report', None, stage='s', config={'p': sys.argv[2], 'i': i}) as p:\n"
        "        (p.path / 'x').write_text(sys.argv[2] + str(i))\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(root), str(n)]) for n in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    folder = root / "audit"
    store = open_store(folder)
    assert store.count(stage_chain()) == 24
    assert verify_chain(store, stage_chain(), Signer(folder).public_key, folder).ok


def _curate(tmp_path: Path, ws_dir: Path, **env_extra: str) -> subprocess.CompletedProcess[str]:
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    (raw / "a.txt").write_text("Acme ships the X100 router with a two-year warranty for every customer.\n")
    env = {**os.environ, "LUBAN_WORKSPACE": str(ws_dir), **env_extra}
    return subprocess.run([sys.executable, "-m", "luban.cli.main", "data", "curate", "--input", str(raw),
                           "--name", "docs"], env=env, capture_output=True, text=True, timeout=300)


def test_the_cli_records_stages_and_audit_verify_passes(tmp_path):
    ws_dir = tmp_path / "ws"
    done = _curate(tmp_path, ws_dir)
    assert done.returncode == 0, done.stderr
    store = open_store(ws_dir / "audit")
    [rec] = list(find(store, Filter(kind="stage")))
    assert rec["stage"] == "data.curate" and rec["output_name"] == "docs"
    out = subprocess.run([sys.executable, "-m", "luban.cli.main", "audit", "verify"],
                         env={**os.environ, "LUBAN_WORKSPACE": str(ws_dir)}, capture_output=True, text=True)
    assert out.returncode == 0 and "1 records" in out.stdout and ": ok" in out.stdout


def test_the_cli_records_no_stage_when_switched_off(tmp_path):
    ws_dir = tmp_path / "ws"
    assert _curate(tmp_path, ws_dir, LUBAN_AUDIT_STAGES="0").returncode == 0
    assert not (ws_dir / "audit").exists()
