"""`luban eval` vs lm-evaluation-harness's `local-chat-completions` on 1,000 generative items, same server.

One `luban serve` of a tiny-model-kit model; the same N items (the shipped Acme questions, numbered so no two
prompts are alike), the same greedy settings (max tokens, stop string) and the same number of requests in
flight for both. Each runs as its own process, as a user runs it, and is timed end to end (start-up, task
loading, requests, scoring, writing results); the server is warmed up first, and each tool runs `--repeat`
times in alternation, the median reported. Printed: seconds per tool, items/s, and the ratio lm-eval / Luban
(above 1 means Luban is faster), plus the load average.

    .venv/bin/python bench/eval_vs_lm_eval.py                      # 1,000 items, 8 in flight
    .venv/bin/python bench/eval_vs_lm_eval.py --items 200 --concurrency 4 --model-dir /tmp/tiny
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ENV = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
CORPUS = [
    "Acme Robotics makes the X100 robot vacuum, the L2 smart lock and the H1 home hub.",
    "The X100 robot vacuum has a warranty of 2 years. Returns are accepted within 30 days.",
    "艾可机器人公司生产X100扫地机器人、L2智能门锁和H1家庭中枢。",
    "X100扫地机器人的保修期为2年。购买后30天内可以无理由退货。",
    "Support is open from 9:00 to 18:00 on weekdays. 客服工作时间为工作日9:00至18:00。",
] * 40


def build_model(folder: Path) -> Path:
    from luban.models.tiny import build_tiny

    if not (folder / "config.json").is_file():
        build_tiny(CORPUS, folder, arch="qwen2", size="test", vocab_size=600, max_position_embeddings=512)
    return folder


def start_server(model_dir: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(BIN / "luban"), "serve", str(model_dir), "--name", "tiny", "--port", str(port),
                             "--log-level", "warning"], stdout=log.open("w"), stderr=subprocess.STDOUT, env=ENV)
    url = f"http://127.0.0.1:{port}"
    end = time.monotonic() + 300
    while time.monotonic() < end:
        if proc.poll() is not None:
            sys.exit(f"server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    sys.exit("server not healthy in 300 s")


def write_items(folder: Path, n: int, max_tokens: int) -> tuple[Path, Path, Path]:
    rows = [json.loads(line) for line in (ROOT / "examples/eval/qa.jsonl").read_text(encoding="utf-8").splitlines()]
    data = folder / "items.jsonl"
    with data.open("w", encoding="utf-8") as f:
        for i in range(n):
            r = rows[i % len(rows)]
            f.write(json.dumps({"id": str(i), "question": f"({i}) {r['question']}", "answer": r["answer"]},
                               ensure_ascii=False) + "\n")
    luban_task = folder / "luban_task.yaml"
    luban_task.write_text(f"task: bench_qa\nkind: generate\ndata: {data}\nprompt: '{{question}}'\n"
                          f"target: '{{answer}}'\nmetrics: [exact_match]\nmax_new_tokens: {max_tokens}\n"
                          "stop: ['###']\n", encoding="utf-8")
    lm_dir = folder / "lm_tasks"
    lm_dir.mkdir()
    (lm_dir / "bench_qa.yaml").write_text(
        f"task: bench_qa\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {data}\ntest_split: test\n"
        "output_type: generate_until\ndoc_to_text: '{{question}}'\ndoc_to_target: '{{answer}}'\n"
        f"generation_kwargs:\n  until: ['###']\n  max_gen_toks: {max_tokens}\n  do_sample: false\n"
        "  temperature: 0.0\nmetric_list:\n  - metric: exact_match\n    aggregation: mean\n"
        "    higher_is_better: true\nmetadata:\n  version: 1.0\n", encoding="utf-8")
    return data, luban_task, lm_dir


def timed(cmd: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({proc.returncode}): {proc.stdout[-1500:]}\n{proc.stderr[-2500:]}")
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each tool, alternating; the median is reported")
    ap.add_argument("--model-dir", type=Path, default=None, help="a model directory (default: build a tiny one)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="luban-bench-eval-") as tmp:
        work = Path(tmp)
        model_dir = args.model_dir or build_model(work / "model")
        _, luban_task, lm_dir = write_items(work, args.items, args.max_tokens)
        proc, url = start_server(model_dir, work / "server.log")
        try:
            for _ in range(8):  # warm-up: the first requests pay for lazy initialisation
                httpx.post(f"{url}/v1/chat/completions", timeout=120, json={
                    "model": "tiny", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4})
            luban_cmd = [str(BIN / "luban"), "-w", str(work / "ws"), "eval", "run", str(luban_task),
                         "--endpoint", f"{url}/v1", "--served-model", "tiny", "--concurrency", str(args.concurrency)]
            lm_cmd = [str(BIN / "lm_eval"), "run", "--model", "local-chat-completions", "--apply_chat_template",
                      "--model_args", f"model=tiny,base_url={url}/v1/chat/completions,num_concurrent={args.concurrency},"
                      "max_retries=1,tokenized_requests=False",
                      "--include_path", str(lm_dir), "--tasks", "bench_qa", "--output_path", str(work / "lm-out")]
            times: dict[str, list[float]] = {"luban eval": [], "lm-eval local-chat-completions": []}
            for _ in range(args.repeat):
                times["luban eval"].append(timed(luban_cmd, work))
                times["lm-eval local-chat-completions"].append(timed(lm_cmd, work))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)

    load = os.getloadavg()
    print(f"{args.items} generative items, max {args.max_tokens} tokens, {args.concurrency} in flight, "
          f"one luban serve (tiny model), {args.repeat} run(s) each; load average {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f} on {os.cpu_count()} CPUs")
    med = {k: statistics.median(v) for k, v in times.items()}
    for name, seconds in med.items():
        print(f"  {name:32s} {seconds:8.1f} s  {args.items / seconds:7.1f} items/s  (runs: "
              + ", ".join(f"{t:.1f}" for t in times[name]) + ")")
    print(f"  ratio lm-eval / luban eval: {med['lm-eval local-chat-completions'] / med['luban eval']:.2f}x "
          "(above 1: luban eval is faster)")


if __name__ == "__main__":
    main()
