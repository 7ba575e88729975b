"""The whole chain as a user runs it: `luban run` of the Acme solution spec, reduced, then `luban serve`.

The spec is the shipped `examples/acme/luban.yaml`, unchanged except for sizes (a slice of the raw corpus,
a `test`-size model, a few training steps, four held-out questions), so a stage added to or renamed in the
shipped spec is exercised here too. One run goes curate -> format -> tiny -> pretrain -> SFT -> merge ->
evaluate; then a real `luban serve` process answers the official `openai` client, `luban lineage` of the
served model reaches every raw file with the hash this test computes itself, and a second run (`luban
demo`, which also serves and asks its questions) reuses every stage.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from luban.cli.main import main
from luban.core.config import deep_merge, read_yaml
from luban.core.shards import records
from luban.core.workspace import Workspace

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
ACME = ROOT / "examples" / "acme"
SPEC_FILES = ["luban.yaml", "recipe.yaml", "sft.jsonl", "heldout.jsonl", "demo_questions.json"]
# 21 raw files of every kind the reader handles (Markdown, text, CSV, JSONL chats, HTML), with injected dirt:
# an exact copy (mirror/005 of manuals/en/l1), mojibake (faq/zh/l2_pro), GBK bytes (faq/zh/w1), spam.
SLICE = [
    *(f"raw/faq/{lang}/{p}_faq.md" for lang in ("en", "zh") for p in ("x100", "l1", "l2_pro", "h1", "w1")),
    "raw/faq/faq.csv",
    "raw/manuals/en/l1_manual.md", "raw/mirror/old_site_export_005.md",
    "raw/manuals/en/x100_quickstart.txt", "raw/manuals/zh/x100_manual.md",
    "raw/support/en/chats_01.jsonl", "raw/support/zh/chats_01.jsonl",
    "raw/web/en/products/x100.html", "raw/web/zh/products/h1.html",
    "raw/policies/en/warranty_policy.txt", "raw/spam/en/promo_1.txt",
]
# stage name -> `with:` merged over the shipped spec's: sizes only, never what a stage does
REDUCED: dict[str, dict[str, Any]] = {
    "acme-base": {"size": "test", "vocab_size": 800, "max_position_embeddings": 256},
    "acme-pretrained": {"train": {"max_steps": 4, "batch_size": 4, "max_seq_length": 128}},
    "acme-lora": {"train": {"max_steps": 4, "batch_size": 8, "max_seq_length": 96}},
    "acme-eval": {"limit": 4, "max_new_tokens": 8, "batch_size": 1},
}
STAGES = ["acme-corpus", "acme-sft-data", "acme-base", "acme-pretrained", "acme-lora", "acme-chat", "acme-eval"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Acme folder with a slice of raw/ and the shipped spec, its stages' `with:` reduced."""
    out = tmp_path_factory.mktemp("acme")
    for name in SPEC_FILES + SLICE:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ACME / name, out / name)
    spec = read_yaml(ACME / "luban.yaml")
    assert [s["name"] for s in spec["stages"]] == STAGES, "the shipped spec changed: update STAGES and REDUCED"
    for stage in spec["stages"]:
        stage["with"] = deep_merge(stage.get("with") or {}, REDUCED.get(stage["name"], {}))
    (out / "luban.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def luban() -> Callable[..., tuple[int, str]]:
    """`luban ARGS` in this process (the same entry point as the command); returns (exit code, stdout)."""

    def run(*args: str | Path) -> tuple[int, str]:
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                main([str(a) for a in args])
        except SystemExit as e:
            return int(e.code or 0), out.getvalue()
        return 0, out.getvalue()

    return run


class Served:
    """`luban serve` as a separate process on a free loopback port."""

    def __init__(self, workspace: Path, model: str, log: Path) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        cmd = [sys.executable, "-m", "luban.cli.main", "--workspace", str(workspace), "serve", model,
               "--port", self.url.rsplit(":", 1)[1], "--dtype", "float32", "--log-level", "warning"]
        self.log = log
        self.proc = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                                     env={**os.environ, "OMP_NUM_THREADS": "1"})

    def wait_healthy(self, timeout: float = 120) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError(f"luban serve exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"luban serve not healthy in {timeout}s: {self.log.read_text(errors='replace')[-2000:]}")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return -9


@pytest.fixture(scope="module")
def chain(project: Path, luban: Callable[..., tuple[int, str]],
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """The first `luban run` of the reduced spec: (workspace folder, its output)."""
    ws = tmp_path_factory.mktemp("ws")
    code, out = luban("--workspace", ws, "run", project / "luban.yaml")
    assert code == 0, out
    yield ws, out


def test_first_run_makes_every_stage(chain: tuple[Path, str]) -> None:
    ws_root, out = chain
    assert "7 stage(s) ran, 0 reused" in out
    ws = Workspace(ws_root)
    try:
        kinds = {name: ws.get(name).kind for name in STAGES}
        assert kinds == {"acme-corpus": "dataset", "acme-sft-data": "dataset", "acme-base": "model",
                         "acme-pretrained": "model", "acme-lora": "model", "acme-chat": "model",
                         "acme-eval": "report"}
        corpus = ws.get("acme-corpus")
        kept = {r["source"] for r in records(corpus)}
        rejected = {(r["source"], r["operator"]) for r in records(corpus, "rejected")}
        assert any(s.endswith("raw/manuals/en/l1_manual.md") for s in kept)  # the original stays, its copy goes
        assert any(s.endswith("raw/mirror/old_site_export_005.md") and op == "exact_dedup" for s, op in rejected)
        assert any(s.endswith("raw/spam/en/promo_1.txt") for s, _ in rejected)
        assert not any(s.endswith("raw/spam/en/promo_1.txt") for s in kept)
        stats = ws.get("acme-eval").manifest.stats
        assert stats["questions"] == 4 and set(stats) == {"questions", "model", "baseline"}
    finally:
        ws.close()


def test_served_model_answers_the_openai_client_as_evaluated(chain: tuple[Path, str], tmp_path: Path) -> None:
    """The served model is the evaluated one: same greedy answer over HTTP as in the evaluation report."""
    import openai

    ws_root, _ = chain
    ws = Workspace(ws_root)
    try:
        report = json.loads((ws.get("acme-eval").path / "results.json").read_text(encoding="utf-8"))
    finally:
        ws.close()
    evaluated = report["models"]["model"]["items"]
    srv = Served(ws_root, "acme-chat", tmp_path / "serve.log")
    try:
        srv.wait_healthy()
        client = openai.OpenAI(base_url=srv.url + "/v1", api_key="none", max_retries=0, timeout=60)
        assert [m.id for m in client.models.list().data] == ["acme-chat"]
        for item in evaluated[:2]:
            r = client.chat.completions.create(model="acme-chat", temperature=0, max_tokens=8,
                                               messages=[{"role": "user", "content": item["question"]}])
            assert r.model == "acme-chat" and r.usage is not None and 1 <= r.usage.completion_tokens <= 8
            assert (r.choices[0].message.content or "").strip() == item["prediction"]
    finally:
        assert srv.stop() == 0, srv.log.read_text(errors="replace")[-2000:]


def test_lineage_of_the_served_model_reaches_the_raw_files(chain: tuple[Path, str], project: Path,
                                                           luban: Callable[..., tuple[int, str]]) -> None:
    ws_root, _ = chain
    code, out = luban("--workspace", ws_root, "lineage", "acme-chat", "--json")
    assert code == 0, out
    tree = json.loads(out)

    def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield node
        for child in node["children"]:
            yield from walk(child)

    nodes = list(walk(tree))
    made = [n["stage"] for n in nodes if n["type"] == "artifact" and not n.get("repeated")]
    assert sorted(made) == sorted(["compress.merge", "train.sft", "train.pretrain", "models.tiny", "data.curate",
                                   "data.format"]) and made[0] == "compress.merge"
    assert not any(n["type"] == "missing" for n in nodes)
    files = [n for n in nodes if n["type"] == "file"]
    assert all(n.get("sha256") for n in files)
    found: dict[str, str] = {}
    for n in files:
        # a source path is relative to the spec's folder or to the input root that named it, or absolute
        path = n["path"]
        matches = [rel for rel in SLICE + SPEC_FILES
                   if path in (rel, str(project / rel)) or rel.endswith("/" + path)]
        assert len(matches) == 1, f"lineage names {path}, which is not one of this project's files"
        assert matches[0] not in found, f"{path} is listed twice"
        found[matches[0]] = n["sha256"]
    assert sorted(found) == sorted([*SLICE, "sft.jsonl"])  # every raw file read, and the SFT set
    assert found == {rel: sha256(project / rel) for rel in found}
    assert found == {rel: sha256(ACME / rel) for rel in found}  # and they are the shipped files


def test_second_run_reuses_every_stage_and_demo_serves_it(chain: tuple[Path, str], project: Path,
                                                           luban: Callable[..., tuple[int, str]]) -> None:
    ws_root, _ = chain
    ws = Workspace(ws_root)
    try:
        before = {a.id for a, _ in ws.list()}
        ids = {name: ws.get(name).id for name in STAGES}
    finally:
        ws.close()
    code, out = luban("--workspace", ws_root, "run", project / "luban.yaml")
    assert code == 0 and "0 stage(s) ran, 7 reused" in out, out
    # `luban demo` on the same spec: reuses the lot, serves the merged model, asks its three questions
    code, out = luban("--workspace", ws_root, "demo", "--spec", project / "luban.yaml")
    assert code == 0, out
    assert out.count("reused") == 7 and " ran " not in out
    questions = json.loads((ACME / "demo_questions.json").read_text(encoding="utf-8"))
    assert all(q in out for q in questions) and out.count("via openai client") == 3
    assert "luban lineage acme-chat" in out
    ws = Workspace(ws_root)
    try:
        assert {a.id for a, _ in ws.list()} == before
        assert {name: ws.get(name).id for name in STAGES} == ids
    finally:
        ws.close()
