"""lm-evaluation-harness and `luban eval` score the same shipped task on the same model and agree.

- generation: lm-eval's `local-chat-completions` against a real `luban serve`, and `luban eval` against the same
  server: the same answer for every item and the same exact match (some references are planted to match, so the
  score is not a trivial 0); Luban's local batched generation gives the same answers.
- log-likelihood: lm-eval's `hf` model and Luban's local scorer give the same log-likelihood for every choice of
  the shipped multiple-choice task, and the same accuracy. So does lm-eval's `local-completions` against a real
  `luban serve` (prompt logprobs through `echo` with `logprobs`); that server runs in float32, as the local scorer
  does, because the CPU's default bfloat16 moves log-likelihoods by about 0.1.

The model is `noisy_model_dir` (tests/evaluate/conftest.py), whose answers vary, so equal answers mean something.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from luban.evaluate.runner import evaluate
from luban.evaluate.targets import LocalModel
from luban.evaluate.tasks import load_task

pytest.importorskip("lm_eval")
pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "eval"
ENV = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def lm_eval(tmp_path: Path, model: str, model_args: str, task_dir: Path, task: str, *extra: str) -> dict[str, Any]:
    out = tmp_path / "out"
    cmd = [str(Path(sys.executable).parent / "lm_eval"), "run", "--model", model, "--model_args", model_args,
           "--include_path", str(task_dir), "--tasks", task, "--output_path", str(out), "--log_samples", *extra]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=900, env=ENV)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    results = json.loads(next(out.rglob("results_*.json")).read_text())["results"][task]
    samples = [json.loads(line) for line in next(out.rglob(f"samples_{task}_*.jsonl")).read_text().splitlines()]
    return {"results": results, "samples": sorted(samples, key=lambda s: s["doc_id"])}


def task_copy(tmp_path: Path, yaml_name: str, data_name: str, data: str, **replace: str) -> Path:
    """The shipped lm-eval task with its data file's absolute path (and any text replaced) in a folder of its own."""
    folder = tmp_path / "tasks"
    folder.mkdir(exist_ok=True)
    text = (EXAMPLES / "lm_eval" / yaml_name).read_text(encoding="utf-8")
    text = text.replace(f"examples/eval/{data_name}", data)
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    (folder / yaml_name).write_text(text, encoding="utf-8")
    return folder


def test_generation_through_local_chat_completions_matches_luban_eval(
        served: str, noisy_model_dir: Path, tmp_path: Path) -> None:
    task = load_task(EXAMPLES / "generate_qa.yaml").model_copy(update={"stop": ["###"], "max_new_tokens": 8})
    rows = [json.loads(line) for line in (EXAMPLES / "qa.jsonl").read_text(encoding="utf-8").splitlines()]
    # plant the server's own answer as the reference of every other item: a non-trivial score both must find
    first = evaluate(f"{served}/v1#tiny", [task])["tasks"]["acme_qa"]["items"]
    assert len({i["prediction"] for i in first}) > 1, "the test model should answer varied text"
    for i in range(0, len(rows), 2):
        rows[i]["answer"] = first[i]["prediction"]
    data = tmp_path / "qa.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    task = task.model_copy(update={"data": str(data)})

    luban = evaluate(f"{served}/v1#tiny", [task])["tasks"]["acme_qa"]
    harness = lm_eval(tmp_path, "local-chat-completions",
                      f"model=tiny,base_url={served}/v1/chat/completions,num_concurrent=4,max_retries=1,"
                      "tokenized_requests=False",
                      task_copy(tmp_path, "acme_qa.yaml", "qa.jsonl", str(data),
                                **{'until: ["\\n"]': 'until: ["###"]', "max_gen_toks: 32": "max_gen_toks: 8"}),
                      "luban_acme_qa", "--apply_chat_template")
    assert [s["resps"][0][0].strip() for s in harness["samples"]] == [i["prediction"] for i in luban["items"]]
    assert luban["metrics"]["exact_match"] == 0.5
    assert harness["results"]["exact_match,none"] == pytest.approx(luban["metrics"]["exact_match"], abs=1e-9)
    local = evaluate(LocalModel(noisy_model_dir, batch_size=6), [task])["tasks"]["acme_qa"]
    same = sum(a["prediction"] == b["prediction"] for a, b in zip(local["items"], luban["items"]))
    assert same >= 5, "local batched greedy answers should match the server's (one float tie allowed)"


def test_multiple_choice_loglikelihoods_match_lm_eval_hf(noisy_model_dir: Path, tmp_path: Path) -> None:
    luban = evaluate(LocalModel(noisy_model_dir, batch_size=4), [EXAMPLES / "mc_mmlu.yaml"])["tasks"]["acme_mc_en"]
    harness = lm_eval(tmp_path, "hf", f"pretrained={noisy_model_dir},dtype=float32",
                      task_copy(tmp_path, "acme_mc_en.yaml", "mmlu_sample.csv", str(EXAMPLES / "mmlu_sample.csv")),
                      "luban_acme_mc_en", "--device", "cpu", "--batch_size", "4")
    for sample, item in zip(harness["samples"], luban["items"]):
        assert [float(r[0][0]) for r in sample["resps"]] == pytest.approx(item["loglikelihoods"], abs=1e-3)
    assert harness["results"]["acc,none"] == luban["metrics"]["acc"]
    assert harness["results"]["acc_norm,none"] == luban["metrics"]["acc_norm"]


@pytest.fixture(scope="module")
def served_fp32(noisy_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`luban serve` of `noisy_model_dir` as `tiny` in float32; yields its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("srv32") / "server.log"
    proc = subprocess.Popen([sys.executable, "-c", "from luban.cli.serve import app; app(prog_name='luban')", "serve",
                             str(noisy_model_dir), "--name", "tiny", "--port", str(port), "--dtype", "float32",
                             "--log-level", "warning"],
                            stdout=log.open("w"), stderr=subprocess.STDOUT, env={**ENV, "OMP_NUM_THREADS": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 180
        while True:
            assert proc.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < end, "server not healthy in 180 s"
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_multiple_choice_through_local_completions_matches_luban(served_fp32: str, noisy_model_dir: Path,
                                                                  tmp_path: Path) -> None:
    luban = evaluate(LocalModel(noisy_model_dir), [EXAMPLES / "mc_mmlu.yaml"])["tasks"]["acme_mc_en"]
    harness = lm_eval(tmp_path, "local-completions",
                      f"model=tiny,base_url={served_fp32}/v1/completions,tokenizer_backend=huggingface,"
                      f"tokenizer={noisy_model_dir},num_concurrent=2,max_retries=1",
                      task_copy(tmp_path, "acme_mc_en.yaml", "mmlu_sample.csv", str(EXAMPLES / "mmlu_sample.csv")),
                      "luban_acme_mc_en")
    for sample, item in zip(harness["samples"], luban["items"]):
        assert [float(r[0][0]) for r in sample["resps"]] == pytest.approx(item["loglikelihoods"], abs=1e-3)
    assert harness["results"]["acc,none"] == luban["metrics"]["acc"]
    assert harness["results"]["acc_norm,none"] == luban["metrics"]["acc_norm"]
    # Luban's own evaluator through the same server (its endpoint scorer) agrees with both
    remote = evaluate(f"{served_fp32}/v1#tiny", [EXAMPLES / "mc_mmlu.yaml"])["tasks"]["acme_mc_en"]
    for got, item in zip(remote["items"], luban["items"]):
        assert got["loglikelihoods"] == pytest.approx(item["loglikelihoods"], abs=1e-3)
    assert remote["metrics"]["acc"] == luban["metrics"]["acc"]
