"""The evaluate.tasks stage and `luban eval run`: reports, lineage, perplexity on a dataset artifact."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pyarrow as pa
import pytest

from luban.cli.main import main
from luban.core.errors import UsageError
from luban.core.hashing import sha256_file
from luban.core.shards import write_splits
from luban.core.workspace import Workspace
from luban.evaluate.tasks_stage import TasksEvalConfig, evaluate_tasks
from luban.models.loading import ImportConfig, import_stage

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "eval"


def test_perplexity_on_a_dataset_artifact_and_lineage(ws: Workspace, tiny_model_dir: Path, tmp_path: Path) -> None:
    model = import_stage(ImportConfig(path=str(tiny_model_dir)), ws, name="base")
    with ws.create("dataset", "corpus", "test.fixture") as p:
        write_splits(p.path, {"train": pa.Table.from_pylist([{"text": "训练集的文本。"}] * 3),
                              "test": pa.Table.from_pylist([{"text": "The X100 has a 2 year warranty."},
                                                            {"text": "保修期为两年。"}])})
    assert p.result is not None
    task = tmp_path / "ppl.yaml"
    task.write_text("task: heldout\nkind: perplexity\n", encoding="utf-8")
    cfg = TasksEvalConfig(tasks=[str(task), str(EXAMPLES / "mc_ceval.yaml")])
    art = evaluate_tasks(cfg, ws, {"model": model, "data": p.result}, "eval")
    results = json.loads((art.path / "results.json").read_text())
    assert results["tasks"]["heldout"]["n"] == 2  # the test split, not train
    assert results["metrics"]["heldout.perplexity"] > 1 and "acme_mc_zh.acc" in results["metrics"]
    assert results["target"] == {"name": "base", "id": model.id}
    roles = {pa_.role: pa_ for pa_ in art.manifest.parents}
    assert roles["model"].id == model.id and roles["data"].id == p.result.id
    assert roles["task:acme_mc_zh"].sha256 == sha256_file(EXAMPLES / "mc_ceval.yaml")
    assert roles["data:acme_mc_zh"].sha256 == sha256_file(EXAMPLES / "ceval_sample.csv")
    page = (art.path / "report.html").read_text()
    assert "heldout" in page and "data:image/png;base64," in page and "X100扫地机器人的保修期是多久？" in page
    assert art.manifest.stats["metrics"] == results["metrics"]


def test_the_stage_needs_a_model_or_an_endpoint(ws: Workspace) -> None:
    with pytest.raises(UsageError, match="needs exactly one of an input `model` or `endpoint:`"):
        evaluate_tasks(TasksEvalConfig(tasks=[str(EXAMPLES / "generate_qa.yaml")]), ws, {})


def test_a_bad_task_fails_before_the_model_loads(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "mc.jsonl").write_text('{"question": "?", "choices": ["a", "b"], "answer": "C"}\n')
    (tmp_path / "mc.yaml").write_text("task: mc\nkind: multiple_choice\ndata: mc.jsonl\n")
    not_a_model = tmp_path / "empty"
    not_a_model.mkdir()
    with pytest.raises(UsageError, match="answer 'C' is not among its 2 choices"):
        evaluate_tasks(TasksEvalConfig(tasks=[str(tmp_path / "mc.yaml")]), ws,
                       {"model": _FakeModel(not_a_model)})  # type: ignore[dict-item]


class _FakeModel:
    """Only a path: the stage must fail on the task before it ever reads the model."""

    def __init__(self, path: Path) -> None:
        self.path = path


def test_luban_eval_run_on_a_model_directory(tiny_model_dir: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_:
        main(["-w", str(tmp_path / "ws"), "eval", "run", str(EXAMPLES / "mc_mmlu.yaml"), "-m", str(tiny_model_dir),
              "--out", str(out), "-g", "acme_mc_en.acc>=0", "-g", "acme_mc_en.acc_norm>=1.5"])
    captured = capsys.readouterr()
    assert exit_.value.code == 1  # the second gate cannot pass
    assert "pass acme_mc_en.acc = " in captured.out and "FAIL acme_mc_en.acc_norm = " in captured.out
    assert "needs >= 1.5: missed by" in captured.out
    assert set(json.loads((out / "results.json").read_text())["metrics"]) == {"acme_mc_en.acc", "acme_mc_en.acc_norm"}
    with pytest.raises(SystemExit) as exit_:
        main(["-w", str(tmp_path / "ws"), "eval", "gates", str(out / "results.json"), "-g", "latency_p50_ms<=50"])
    assert exit_.value.code == 2
    assert "gate on 'latency_p50_ms': the report has no such metric" in capsys.readouterr().err


@pytest.mark.slow
def test_the_stage_scores_a_served_endpoint(ws: Workspace, served: str) -> None:
    from luban.evaluate.safety_stage import Endpoint

    cfg = TasksEvalConfig(tasks=[str(EXAMPLES / "generate_qa.yaml")], limit=3,
                          endpoint=Endpoint(url=f"{served}/v1", model="tiny"))
    art = evaluate_tasks(cfg, ws, {}, "served-eval")
    results = json.loads((art.path / "results.json").read_text())
    assert results["target"] == {"endpoint": f"{served}/v1", "model": "tiny"}
    assert results["tasks"]["acme_qa"]["n"] == 3 and set(results["metrics"]) == {
        "acme_qa.exact_match", "acme_qa.f1", "acme_qa.rouge_l", "acme_qa.bleu"}


def test_an_endpoint_that_is_down_is_a_clear_error(ws: Workspace) -> None:
    import socket

    from luban.evaluate.safety_stage import Endpoint

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = TasksEvalConfig(tasks=[str(EXAMPLES / "generate_qa.yaml")], limit=1,
                          endpoint=Endpoint(url=f"http://127.0.0.1:{port}/v1", model="tiny"))
    with pytest.raises(UsageError, match=rf"cannot reach http://127\.0\.0\.1:{port}/v1 — start the server"):
        evaluate_tasks(cfg, ws, {})
    assert not ws.exists("anything") and ws.list() == []


@pytest.mark.slow
def test_log_likelihood_tasks_score_through_luban_serve(served: str) -> None:
    from luban.evaluate.runner import evaluate

    res = evaluate(f"{served}/v1#tiny", [EXAMPLES / "mc_mmlu.yaml"])  # echo with logprobs: prompt log-probabilities
    [(name, value)] = [(k, v) for k, v in res["metrics"].items() if k.endswith("acc")]
    assert 0.0 <= value <= 1.0
    items = next(iter(res["tasks"].values()))["items"]
    assert items and all(it["pred"] in "ABCD" and it["acc"] in (0.0, 1.0) for it in items)


class NoEchoServer:
    """An OpenAI-compatible server that, like many, refuses echo with logprobs (400)."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers["Content-Length"]))
                body = json.dumps({"error": {"message": "echo is not supported", "type": "invalid_request_error",
                                             "param": "echo", "code": None}}).encode()
                self.send_response(400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def test_log_likelihood_on_a_server_without_prompt_logprobs_is_a_clear_error() -> None:
    from luban.evaluate.runner import evaluate

    srv = NoEchoServer()
    try:
        with pytest.raises(UsageError, match=r"does not return prompt log-probabilities \(echo with logprobs\).*"
                                             "score log-likelihood tasks on the model directory"):
            evaluate(f"{srv.url}/v1#tiny", [EXAMPLES / "mc_mmlu.yaml"])
    finally:
        srv.httpd.shutdown()
