"""`lm-eval` (EleutherAI's harness) drives a running Luban server through its OpenAI-compatible model type."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.needs("lm_eval", "pip install 'lm-eval[api]' (in the dev extra)")
TASK_DIR = Path(__file__).parent / "lm_eval_task"


@pytest.mark.slow
def test_lm_eval_local_completions_against_the_server(server: Any, tiny_model_dir: Path, tmp_path: Path) -> None:
    def answer(question: str) -> str:
        """The server's own greedy answer to the task's prompt, asked directly."""
        r = httpx.post(f"{server.url}/v1/completions", timeout=60, json={
            "model": "tiny", "prompt": f"Question: {question}\nAnswer:", "max_tokens": 8, "temperature": 0,
            "stop": ["\n"]})
        return str(r.json()["choices"][0]["text"])

    rows = [json.loads(line) for line in (TASK_DIR / "luban_tiny_qa.jsonl").read_text().splitlines()]
    direct = [answer(r["question"]) for r in rows]
    rows[0]["answer"] = direct[0]  # the first reference is the server's own answer: it, and only it, matches
    assert direct[0] and all(d != r["answer"] for d, r in zip(direct[1:], rows[1:]))
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    data = tasks / "luban_tiny_qa.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    yaml = (TASK_DIR / "luban_tiny_qa.yaml").read_text().replace("__DATA__", str(data))
    (tasks / "luban_tiny_qa.yaml").write_text(yaml)
    out = tmp_path / "out"
    model_args = (f"model=tiny,base_url={server.url}/v1/completions,tokenizer_backend=huggingface,"
                  f"tokenizer={tiny_model_dir},num_concurrent=2,max_retries=1")
    cmd = [str(Path(sys.executable).parent / "lm_eval"), "run", "--model", "local-completions",
           "--model_args", model_args, "--include_path", str(tasks), "--tasks", "luban_tiny_qa",
           "--output_path", str(out), "--log_samples"]
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    results = json.loads(next(out.rglob("results_*.json")).read_text())
    assert results["results"]["luban_tiny_qa"]["exact_match,none"] == 0.25
    samples = [json.loads(line) for line in next(out.rglob("samples_luban_tiny_qa_*.jsonl")).read_text().splitlines()]
    samples.sort(key=lambda s: s["doc_id"])
    # the harness saw exactly what the server answers for the same greedy request, and scored it so
    assert [s["resps"][0][0] for s in samples] == direct
    assert [s["exact_match"] for s in samples] == [1.0, 0.0, 0.0, 0.0]
