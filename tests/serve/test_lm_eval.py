"""`lm-eval` (EleutherAI's harness) drives a running Luban server through its OpenAI-compatible model type."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("lm_eval")
TASK_DIR = Path(__file__).parent / "lm_eval_task"


@pytest.mark.slow
def test_lm_eval_local_completions_against_the_server(server: Any, tiny_model_dir: Path, tmp_path: Path) -> None:
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    data = tasks / "luban_tiny_qa.jsonl"
    shutil.copy(TASK_DIR / "luban_tiny_qa.jsonl", data)
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
    em = results["results"]["luban_tiny_qa"]["exact_match,none"]
    assert 0.0 <= em <= 1.0
    samples = [json.loads(line) for line in next(out.rglob("samples_luban_tiny_qa_*.jsonl")).read_text().splitlines()]
    assert len(samples) == 4
    # The harness saw exactly what the server answers for the same greedy request.
    first = min(samples, key=lambda s: s["doc_id"])
    prompt = f"Question: {first['doc']['question']}\nAnswer:"
    direct = httpx.post(f"{server.url}/v1/completions", timeout=60, json={
        "model": "tiny", "prompt": prompt, "max_tokens": 8, "temperature": 0, "stop": ["\n"]}).json()
    assert first["resps"][0][0] == direct["choices"][0]["text"]
