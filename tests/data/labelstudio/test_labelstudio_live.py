"""The round trip against a real Label Studio server on loopback.

Label Studio's pins clash with Luban's (numpy, pyarrow, openai, redis), so it lives in its own
virtualenv (`make labelstudio` -> .venv-ls) and runs as a subprocess; Luban only talks HTTP to it.
The test creates a project through the API, imports the tasks Luban exported, posts annotations
through the API (as an annotator's browser would), exports the project and imports it into Luban.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow as pa
import pytest

from luban.core.shards import records, write_splits
from luban.core.workspace import Workspace
from luban.data.labelstudio import LabelStudioImportConfig, export_tasks, import_stage

pytestmark = [pytest.mark.services, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
VENV = ROOT / ".venv-ls"
TOKEN = "luban-test-token-0123456789abcdef"
STARTUP_S = 900  # the first start runs Label Studio's ~200 Django migrations: minutes on 2 busy cores


def _binary() -> Path | None:
    for cand in (os.environ.get("LUBAN_LABEL_STUDIO"), VENV / "bin" / "label-studio", shutil.which("label-studio")):
        if cand and Path(cand).is_file():
            return Path(cand)
    return None


def _ensure_binary() -> Path:
    """Label Studio from `make labelstudio` (or LUBAN_LABEL_STUDIO / PATH); CI builds it first (.ci/run),
    and a skip here fails a CI run (tests/conftest.py)."""
    found = _binary()
    if found is None:
        pytest.skip("label-studio is not installed; run `make labelstudio` (it goes into .venv-ls)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def label_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    binary = _ensure_binary()
    data = tmp_path_factory.mktemp("label-studio")
    port = _free_port()
    env = {**os.environ, "LABEL_STUDIO_BASE_DATA_DIR": str(data), "LABEL_STUDIO_USERNAME": "luban@example.com",
           "LABEL_STUDIO_PASSWORD": "luban-test-pass", "LABEL_STUDIO_USER_TOKEN": TOKEN,
           "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true", "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true"}
    log = open(data / "server.log", "wb")  # noqa: SIM115 - closed in teardown
    proc = subprocess.Popen([str(binary), "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(port),
                             "--data-dir", str(data)], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=data)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Token {TOKEN}"},
                          timeout=60)
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"label-studio exited with {proc.returncode}: {(data / 'server.log').read_text()[-2000:]}")
            try:
                if client.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"label-studio did not come up within {STARTUP_S}s")
            time.sleep(2)
        yield client
    finally:
        client.close()
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _project(client: httpx.Client, title: str, config: str, tasks_file: Path) -> tuple[int, list[dict]]:
    r = client.post("/api/projects", json={"title": title, "label_config": config})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    r = client.post(f"/api/projects/{pid}/import", json=json.loads(tasks_file.read_text(encoding="utf-8")))
    assert r.status_code == 201, r.text
    tasks = client.get("/api/tasks", params={"project": pid, "page_size": 100}).json()["tasks"]
    return pid, sorted(tasks, key=lambda t: t["data"]["luban_index"])


def _export(client: httpx.Client, pid: int, path: Path) -> Path:
    r = client.get(f"/api/projects/{pid}/export", params={"exportType": "JSON"})
    assert r.status_code == 200, r.text
    path.write_bytes(r.content)
    return path


def test_pairwise_round_trip(label_studio: httpx.Client, ws: Workspace, tmp_path: Path) -> None:
    rows = [{"prompt": f"X100 问题 {i}", "chosen": f"good answer {i}", "rejected": f"bad answer {i}",
             "source": f"pref.jsonl:{i + 1}"} for i in range(4)]
    with ws.create("dataset", "prefs", stage="test") as p:
        write_splits(p.path, {"train": pa.Table.from_pylist(rows)})
    n, config = export_tasks(ws, "prefs", "pairwise", tmp_path / "tasks.json")
    pid, tasks = _project(label_studio, "luban pairwise", config.read_text(encoding="utf-8"), tmp_path / "tasks.json")
    assert len(tasks) == n == 4
    for t in tasks[:3]:  # the annotator picks the side that shows the good answer; the 4th task is skipped
        side = "left" if t["data"]["answer1"].startswith("good") else "right"
        result = [{"from_name": "preference", "to_name": "answer1", "type": "pairwise", "value": {"selected": side}}]
        assert label_studio.post(f"/api/tasks/{t['id']}/annotations", json={"result": result}).status_code == 201
    r = label_studio.post(f"/api/tasks/{tasks[3]['id']}/annotations", json={"result": [], "was_cancelled": True})
    assert r.status_code == 201, r.text
    export = _export(label_studio, pid, tmp_path / "export.json")
    art = import_stage(LabelStudioImportConfig(export=str(export), origin="prefs"), ws, name="prefs-labeled")
    got = records(art)  # in the dataset's order again, whatever order Label Studio exported in
    assert [(r["source"], r["chosen"], r["rejected"]) for r in got] == [
        (f"pref.jsonl:{i + 1}", f"good answer {i}", f"bad answer {i}") for i in range(3)]
    assert [r["reason"].split(":")[0] for r in records(art, "rejected")] == ["skipped"]
    assert art.manifest.parents[1].name == "prefs"


def test_classification_round_trip(label_studio: httpx.Client, ws: Workspace, tmp_path: Path) -> None:
    rows = [{"text": "X100 保修两年。", "source": "kb.txt:1"}, {"text": "buy cheap pills now", "source": "kb.txt:2"}]
    with ws.create("dataset", "docs", stage="test") as p:
        write_splits(p.path, {"train": pa.Table.from_pylist(rows)})
    export_tasks(ws, "docs", "classification", tmp_path / "cls.json", labels=["keep", "spam"])
    pid, tasks = _project(label_studio, "luban classes", (tmp_path / "cls.xml").read_text(encoding="utf-8"),
                          tmp_path / "cls.json")
    for t, label in zip(tasks, ["keep", "spam"], strict=True):
        result = [{"from_name": "label", "to_name": "text", "type": "choices", "value": {"choices": [label]}}]
        assert label_studio.post(f"/api/tasks/{t['id']}/annotations", json={"result": result}).status_code == 201
    art = import_stage(LabelStudioImportConfig(export=str(_export(label_studio, pid, tmp_path / "e.json"))), ws)
    assert [(r["text"], r["label"], r["source"]) for r in records(art)] == [
        ("X100 保修两年。", "keep", "kb.txt:1"), ("buy cheap pills now", "spam", "kb.txt:2")]
