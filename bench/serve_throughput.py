"""Serving throughput: Luban vs `transformers serve --continuous-batching` vs naive one-at-a-time generate().

Same ~50M-parameter Qwen2-architecture model (tiny-model kit, size `bench50m`, 32k vocabulary), same
prompts (~50 tokens after the chat template), 128 sampled output tokens per request, 1 / 4 / 16
concurrent streaming clients; each client sends `--requests-per-client` requests back to back.
Printed per system and concurrency: output tokens/s (all tokens / wall time of the level), time to
first token p50/p99, peak RSS of the server process tree, errors, then Luban's ratios.

Sampling is temperature 1.0 (a random model decoding greedily falls into EOS or a loop; with 32k
tokens EOS is sampled about once in 32k steps), so almost every request yields the full 128 tokens;
tokens are counted from `usage` when the server sends it, else from streamed content chunks.

The naive baseline is a FIFO server that runs `model.generate()` for one request at a time: a
request's TTFT includes its wait behind the requests queued before it, as a client would see.

    .venv/bin/python bench/serve_throughput.py                 # all three systems, 1/4/16 clients
    .venv/bin/python bench/serve_throughput.py --systems luban --concurrency 16 --model-dir /tmp/b50m
    .venv/bin/python bench/serve_throughput.py --threads 1   # a machine shared with other jobs (see below)
    .venv/bin/python bench/serve_throughput.py --systems llama-server,luban-gguf,luban --threads 2  # CPU engines

Torch's intra-op threads wait on each other at every operator; on a machine whose cores are busy with
other work, 2 threads can be 5-8x slower than 1 (measured here: 216 vs 28 ms per decode step), so
`--threads` sets the same count for all three systems.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

VENV_BIN = Path(sys.executable).parent
SYLLABLES = [c + v for c in "bcdfghjklmnpqrstvwxyz" for v in "aeiou"] + ["th", "sh", "ch", "st", "tr", "an"]


def synthetic_corpus(n: int = 3000, seed: int = 0) -> list[str]:
    """Word-like text with enough distinct words for a 32k-token BPE vocabulary (no download needed)."""
    rng = random.Random(seed)
    words = ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4))) for _ in range(60000)]
    return [" ".join(rng.choice(words) for _ in range(200)) + "." for _ in range(n)]


def build_model(model_dir: Path) -> dict[str, Any]:
    if (model_dir / "config.json").is_file():
        return {"reused": str(model_dir)}
    from luban.models.tiny import build_tiny

    return build_tiny(synthetic_corpus(), model_dir, arch="qwen2", size="bench50m", max_position_embeddings=1024)


def make_prompts(model_dir: Path, n: int, tokens: int = 42) -> list[str]:
    """User messages of `tokens` tokens; the chat template brings the prompt to about 50."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    texts = synthetic_corpus(n, seed=1)
    return [str(tok.decode(tok(t, add_special_tokens=False)["input_ids"][:tokens])) for t in texts]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RssSampler(threading.Thread):
    """Peak resident memory of a process and its children, sampled every 100 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc, self.peak, self.running = psutil.Process(pid), 0, True

    def run(self) -> None:
        while self.running:
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs))
            except psutil.Error:
                pass
            time.sleep(0.1)


def child_env(threads: int | None) -> dict[str, str]:
    """Same torch thread count for every system (torch reads OMP_NUM_THREADS at start-up)."""
    return {**os.environ, "OMP_NUM_THREADS": str(threads)} if threads else dict(os.environ)


def bench_gguf(model_dir: Path) -> Path:
    """The bench model as a bf16 GGUF (llama.cpp's converter; LLAMA_CPP_DIR or `make gguf`), made once."""
    from luban.compress.gguf_export import export_gguf

    gguf = model_dir / "gguf" / "bench-bf16.gguf"
    if not gguf.is_file():
        export_gguf(model_dir, gguf, "bf16")
    return gguf


def llama_server_command(gguf: Path, port: int, threads: int | None) -> list[str]:
    """Bare llama-server with exactly the flags Luban's llama-server backend gives its child."""
    from luban.serve.backends.base import ModelSpec
    from luban.serve.backends.llamaserver import LlamaServerBackend, find_binary

    backend = LlamaServerBackend(ModelSpec("bench", str(gguf), "llama-server",
                                           {"parallel": 16, **({"threads": threads} if threads else {})}))
    backend.binary = find_binary()
    return backend.command(port)


def start_server(system: str, model_dir: Path, port: int, log: Path,
                 threads: int | None = None) -> subprocess.Popen[bytes]:
    # `-fp32` / `-bf16` variants pin the dtype, for a comparison at equal precision
    if system == "llama-server":
        cmd = llama_server_command(bench_gguf(model_dir), port, threads)
    elif system == "luban-gguf":  # `luban serve model.gguf`: llama-server as Luban's supervised child
        cmd = [str(VENV_BIN / "luban"), "serve", str(bench_gguf(model_dir)), "--name", "bench", "--port", str(port),
               "--log-level", "warning", "--max-batch", "16"] + (["--threads", str(threads)] if threads else [])
    elif system.startswith("luban"):
        cmd = [str(VENV_BIN / "luban"), "serve", str(model_dir), "--name", "bench", "--port", str(port),
               "--log-level", "warning"] + (["--dtype", "float32"] if system.endswith("-fp32") else [])
    else:
        cmd = [str(VENV_BIN / "transformers"), "serve", str(model_dir), "--continuous-batching",
               "--device", "cpu", "--port", str(port), "--host", "127.0.0.1", "--log-level", "warning"]
        cmd += ["--dtype", "bfloat16"] if system.endswith("-bf16") else []
    return subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
                            env=child_env(threads))


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 600) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"server not healthy after {timeout}s:\n{log.read_text()[-3000:]}")


async def one_request(client: httpx.AsyncClient, model: str, prompt: str, max_tokens: int) -> dict[str, Any]:
    body = {"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens,
            "temperature": 1.0, "top_p": 1.0, "stream": True, "stream_options": {"include_usage": True}}
    start, first, chunks, usage = time.monotonic(), None, 0, None
    try:
        async with client.stream("POST", "/v1/chat/completions", json=body) as r:
            if r.status_code != 200:
                return {"error": f"HTTP {r.status_code}: {(await r.aread())[:200]!r}"}
            async for line in r.aiter_lines():
                if not line.startswith("data: ") or line.strip() == "data: [DONE]":
                    continue
                data = json.loads(line[6:])
                if data.get("usage"):
                    usage = data["usage"]
                for c in data.get("choices") or []:
                    if (c.get("delta") or {}).get("content"):
                        first = first or time.monotonic()
                        chunks += 1
    except (httpx.HTTPError, ValueError) as err:
        return {"error": f"{err.__class__.__name__}: {err}"}
    tokens = int(usage["completion_tokens"]) if usage else chunks
    return {"ttft": (first or time.monotonic()) - start, "tokens": tokens, "end": time.monotonic()}


async def run_level(url: str, model: str, prompts: list[str], clients: int, per_client: int,
                    max_tokens: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=clients + 4, max_keepalive_connections=clients + 4)
    async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(900.0), limits=limits) as client:
        async def worker(i: int) -> list[dict[str, Any]]:
            return [await one_request(client, model, prompts[(i * per_client + k) % len(prompts)], max_tokens)
                    for k in range(per_client)]

        start = time.monotonic()
        results = [r for rs in await asyncio.gather(*(worker(i) for i in range(clients))) for r in rs]
        wall = time.monotonic() - start
    return summarize(results, wall)


def summarize(results: list[dict[str, Any]], wall: float) -> dict[str, Any]:
    ok = [r for r in results if "error" not in r]
    ttfts = sorted(r["ttft"] for r in ok) or [float("nan")]
    errors = [r["error"] for r in results if "error" in r]
    return {"requests": len(results), "errors": len(errors), "error_examples": errors[:2], "wall_s": wall,
            "tokens": sum(r["tokens"] for r in ok), "tok_s": sum(r["tokens"] for r in ok) / wall,
            "ttft_p50_ms": 1000 * statistics.median(ttfts), "ttft_p99_ms": 1000 * percentile(ttfts, 0.99)}


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (with 32 requests p99 is the slowest one)."""
    idx = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[idx]


def bench_server(system: str, model_dir: Path, prompts: list[str], args: argparse.Namespace,
                 workdir: Path) -> dict[str, Any]:
    port = free_port()
    url, log = f"http://127.0.0.1:{port}", workdir / f"{system}.log"
    proc = start_server(system, model_dir, port, log, args.threads)
    sampler = RssSampler(proc.pid)
    sampler.start()
    model = "bench" if system.startswith(("luban", "llama")) else str(model_dir)
    out: dict[str, Any] = {}
    try:
        wait_healthy(url, proc, log)
        asyncio.run(run_level(url, model, prompts, 1, 1, 8))  # warm-up
        for c in args.concurrency:
            out[str(c)] = asyncio.run(run_level(url, model, prompts, c, args.requests_per_client, args.max_tokens))
            print(f"  {system:12s} c={c:<3d} {fmt(out[str(c)])}", flush=True)
    finally:
        sampler.running = False
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    out["peak_rss_mb"] = sampler.peak / 2**20
    return out


def bench_naive(model_dir: Path, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Run the naive FIFO baseline in a child process (so its RSS is its own)."""
    cmd = [sys.executable, __file__, "--naive-worker", "--model-dir", str(model_dir), "--max-tokens",
           str(args.max_tokens), "--requests-per-client", str(args.requests_per_client), "--concurrency",
           ",".join(map(str, args.concurrency))]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=(workdir / "naive.log").open("w"), text=True,
                            env=child_env(args.threads))
    sampler = RssSampler(proc.pid)
    sampler.start()
    stdout, _ = proc.communicate()
    sampler.running = False
    if proc.returncode != 0:
        raise RuntimeError(f"naive worker failed:\n{(workdir / 'naive.log').read_text()[-3000:]}")
    out: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    for c in args.concurrency:
        print(f"  {'naive':12s} c={c:<3d} {fmt(out[str(c)])}", flush=True)
    out["peak_rss_mb"] = sampler.peak / 2**20
    return out


def naive_worker(args: argparse.Namespace) -> None:
    """One request at a time through `model.generate`, FIFO over the clients' requests."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.generation.streamers import BaseStreamer

    tok = AutoTokenizer.from_pretrained(args.model_dir)
    model = AutoModelForCausalLM.from_pretrained(args.model_dir, dtype=torch.float32).eval()
    prompts = make_prompts(args.model_dir, 64)

    class FirstToken(BaseStreamer):
        def __init__(self) -> None:
            self.calls, self.at = 0, 0.0

        def put(self, value: Any) -> None:
            self.calls += 1
            if self.calls == 2:  # the first call carries the prompt
                self.at = time.monotonic()

        def end(self) -> None:
            pass

    def generate(prompt: str) -> tuple[float, int]:
        text = tok.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                       add_generation_prompt=True)
        ids = tok(text, return_tensors="pt", add_special_tokens=False)
        streamer = FirstToken()
        with torch.inference_mode():
            out = model.generate(**ids, max_new_tokens=args.max_tokens, do_sample=True, temperature=1.0,
                                 top_p=1.0, top_k=0, streamer=streamer)
        return streamer.at, int(out.shape[1] - ids["input_ids"].shape[1])

    generate(prompts[0])  # warm-up
    results: dict[str, Any] = {}
    for c in args.concurrency:
        start = time.monotonic()
        ready = [start] * c  # when each client's next request arrives
        done: list[dict[str, Any]] = []
        for k in range(args.requests_per_client):
            for i in range(c):
                first, n = generate(prompts[(i * args.requests_per_client + k) % len(prompts)])
                done.append({"ttft": first - ready[i], "tokens": n})
                ready[i] = time.monotonic()
        results[str(c)] = summarize(done, time.monotonic() - start)
    print(json.dumps(results))


def fmt(r: dict[str, Any]) -> str:
    return (f"{r['tok_s']:7.1f} tok/s  TTFT p50 {r['ttft_p50_ms']:7.0f} ms  p99 {r['ttft_p99_ms']:7.0f} ms  "
            f"{r['tokens']:5d} tokens  {r['errors']} errors")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--systems", default="luban,transformers,naive",
                    help="any of luban, luban-fp32, transformers, transformers-bf16, naive, llama-server (bare "
                         "llama.cpp server on a bf16 GGUF), luban-gguf (`luban serve` of that GGUF)")
    ap.add_argument("--concurrency", default="1,4,16")
    ap.add_argument("--requests-per-client", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--model-dir", type=Path, default=None, help="reuse (or build into) this directory")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch threads for every system (OMP_NUM_THREADS); default: each one's own choice")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--naive-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.concurrency = [int(x) for x in str(args.concurrency).split(",")]
    if args.naive_worker:
        naive_worker(args)
        return
    workdir = Path(tempfile.mkdtemp(prefix="luban-bench-"))
    model_dir = args.model_dir or workdir / "bench50m"
    stats = build_model(model_dir)
    prompts = make_prompts(model_dir, 64)
    print(f"model {model_dir} {stats.get('parameters', '')} params; cpu cores {os.cpu_count()}; "
          f"torch threads {args.threads or 'default'}; logs in {workdir}", flush=True)
    results: dict[str, Any] = {}
    for system in args.systems.split(","):
        try:
            results[system] = (bench_naive(model_dir, args, workdir) if system == "naive"
                               else bench_server(system, model_dir, prompts, args, workdir))
            print(f"  {system:12s} peak RSS {results[system]['peak_rss_mb']:.0f} MB", flush=True)
        except RuntimeError as err:
            results[system] = {"failed": str(err)[-1500:]}
            print(f"  {system:12s} FAILED: {str(err)[-600:]}", flush=True)
    report_ratios(results, args.concurrency)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def report_ratios(results: dict[str, Any], levels: list[int]) -> None:
    pairs = [("luban", "transformers"), ("luban", "naive"), ("luban", "transformers-bf16"),
             ("luban-fp32", "transformers"), ("luban-gguf", "llama-server"), ("luban-gguf", "luban")]
    for mine, peer in pairs:
        lub, other = results.get(mine, {}), results.get(peer, {})
        for c in levels:
            a, b = lub.get(str(c)), other.get(str(c))
            if a and b and b["tok_s"] > 0:
                print(f"{mine} / {peer:16s} c={c:<3d} throughput x{a['tok_s'] / b['tok_s']:.2f}  "
                      f"TTFT p99 x{a['ttft_p99_ms'] / max(b['ttft_p99_ms'], 1e-9):.2f}  "
                      f"TTFT p50 {a['ttft_p50_ms'] - b['ttft_p50_ms']:+.2f} ms")


if __name__ == "__main__":
    main()
