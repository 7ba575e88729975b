"""Prefix caching: time to first token with a shared ~500-token system prompt, Luban's engine with and without it.

Same ~50M-parameter model as bench/serve_throughput.py (tiny-model kit, `bench50m`, randomly initialised, built
once into `--model-dir`; `--hidden-size 1024 --layers 16` builds a ~250M one), served by `luban engine` (the engine without the gateway) twice: with the prefix
cache (the default) and with `--prefix-cache off`. Every request is a streamed chat whose system message is the
same `--system-tokens` tokens of synthetic text and whose user message differs (~20 tokens), `max_tokens` 8
(`--max-tokens`).
Warm-up: `--warmup` requests (the second one stores the shared prefix), then `--requests` timed requests one
after another (and, with `--concurrency 4`, four clients at once). Time to first token is the time until the
first streamed chunk arrives. Printed per system and level: TTFT p50 / p99 and the ratio cached / uncached
(issue 16's target: p50 at most 25%), with the prefix cache's hits and reused tokens from /metrics.

    .venv/bin/python bench/serve_prefix_cache.py --model-dir /tmp/b50m --threads 1
    .venv/bin/python bench/serve_prefix_cache.py --model-dir /tmp/b50m --threads 1 --order off,on
    .venv/bin/python bench/serve_prefix_cache.py --model-dir /tmp/b250m --hidden-size 1024 --layers 16 --threads 1
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_throughput import VENV_BIN, build_model, child_env, free_port, percentile, synthetic_corpus  # noqa: E402


def build(model_dir: Path, hidden_size: int | None, layers: int | None) -> None:
    """The bench50m model, or (with `--hidden-size` / `--layers`) a wider or deeper one, randomly initialised."""
    if (model_dir / "config.json").is_file() or not (hidden_size or layers):
        build_model(model_dir)
        return
    from luban.models.tiny import build_tiny

    build_tiny(synthetic_corpus(), model_dir, arch="qwen2", size="bench50m", max_position_embeddings=1024,
               hidden_size=hidden_size, num_hidden_layers=layers)


def prompts(model_dir: Path, system_tokens: int, n: int) -> tuple[str, list[str]]:
    """The shared system prompt (`system_tokens` tokens) and `n` distinct user questions (~20 tokens)."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    text = " ".join(synthetic_corpus(10, seed=7))
    system = str(tok.decode(tok(text, add_special_tokens=False)["input_ids"][:system_tokens]))
    questions = [str(tok.decode(tok(t, add_special_tokens=False)["input_ids"][:20])) + "?"
                 for t in synthetic_corpus(n, seed=8)]
    return system, questions


async def ttft(client: httpx.AsyncClient, system: str, question: str, max_tokens: int) -> float:
    body = {"model": "bench", "messages": [{"role": "system", "content": system},
                                           {"role": "user", "content": question}],
            "max_tokens": max_tokens, "temperature": 1.0, "ignore_eos": True, "stream": True}
    start = time.monotonic()
    async with client.stream("POST", "/v1/chat/completions", json=body) as r:
        if r.status_code != 200:
            raise RuntimeError(f"HTTP {r.status_code}: {(await r.aread())[:300]!r}")
        first = None
        async for line in r.aiter_lines():
            if line.startswith("data: ") and first is None:
                first = time.monotonic()
    assert first is not None
    return first - start


async def run(url: str, system: str, questions: list[str], warmup: int, levels: list[int],
              per_level: int, max_tokens: int) -> dict[int, list[float]]:
    out: dict[int, list[float]] = {}
    async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(600.0)) as client:
        for q in questions[:warmup]:
            await ttft(client, system, q, max_tokens)
        used = warmup
        for clients in levels:
            batch = questions[used:used + per_level]
            used += per_level
            times: list[float] = []

            async def worker(items: list[str], sink: list[float]) -> None:
                for q in items:
                    sink.append(await ttft(client, system, q, max_tokens))

            await asyncio.gather(*(worker(batch[i::clients], times) for i in range(clients)))
            out[clients] = sorted(times)
    return out


def bench(mode: str, model_dir: Path, system: str, questions: list[str], args: argparse.Namespace,
          workdir: Path) -> dict[str, Any]:
    port = free_port()
    log = workdir / f"luban-{mode}.log"
    cmd = [str(VENV_BIN / "luban"), "engine", str(model_dir), "--name", "bench", "--port", str(port),
           "--log-level", "warning"] + (["--prefix-cache", "off"] if mode == "off" else [])
    cmd += ["--threads", str(args.threads)] if args.threads else []
    proc = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
                            env=child_env(args.threads))
    url = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 600
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > end:
                raise RuntimeError("server not healthy in 600 s")
            time.sleep(0.5)
        levels = [int(c) for c in args.concurrency.split(",")]
        times = asyncio.run(run(url, system, questions, args.warmup, levels, args.requests, args.max_tokens))
        metrics = httpx.get(url + "/metrics", timeout=10).text
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)

    def metric(name: str) -> float:
        found = re.search(rf'^{name}{{model="bench"}} (\S+)$', metrics, re.M)
        return float(found.group(1)) if found else float("nan")

    return {"levels": {c: {"p50_ms": 1000 * statistics.median(t), "p99_ms": 1000 * percentile(t, 0.99),
                           "n": len(t)} for c, t in times.items()},
            "hits": metric("luban_prefix_cache_hits_total"), "hit_tokens": metric("luban_prefix_cache_hit_tokens_total"),
            "cache_mb": metric("luban_prefix_cache_bytes") / 2**20}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model-dir", type=Path, default=None, help="reuse (or build into) this directory")
    ap.add_argument("--hidden-size", type=int, default=None, help="build a wider model than bench50m's 512")
    ap.add_argument("--layers", type=int, default=None, help="build a deeper model than bench50m's 10 layers")
    ap.add_argument("--system-tokens", type=int, default=500)
    ap.add_argument("--requests", type=int, default=24, help="timed requests per concurrency level")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--max-tokens", type=int, default=8, help="tokens per answer (the decoding of earlier "
                    "requests competes with a new request's prefill at --concurrency above 1)")
    ap.add_argument("--concurrency", default="1,4")
    ap.add_argument("--threads", type=int, default=None, help="torch threads of the server (1 on a shared machine)")
    ap.add_argument("--order", default="on,off", help="which server runs first: on,off or off,on")
    args = ap.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="luban-prefix-bench-"))
    model_dir = args.model_dir or workdir / "model"
    build(model_dir, args.hidden_size, args.layers)
    levels = [int(c) for c in args.concurrency.split(",")]
    system, questions = prompts(model_dir, args.system_tokens, args.warmup + args.requests * len(levels))
    print(f"load average before: {os.getloadavg()}", flush=True)
    results = {}
    for mode in args.order.split(","):
        results[mode] = bench(mode, model_dir, system, questions, args, workdir)
        r = results[mode]
        for c, lv in r["levels"].items():
            print(f"prefix cache {mode:>3}  clients {c:>2}: TTFT p50 {lv['p50_ms']:7.1f} ms  p99 {lv['p99_ms']:7.1f} ms"
                  f"  ({lv['n']} requests)", flush=True)
        print(f"prefix cache {mode:>3}: hits {r['hits']:.0f}, reused tokens {r['hit_tokens']:.0f}, "
              f"cache {r['cache_mb']:.1f} MB", flush=True)
    print(f"load average after: {os.getloadavg()}")
    for c in levels:
        on, off = results["on"]["levels"][c], results["off"]["levels"][c]
        print(f"clients {c:>2}: cached / uncached TTFT p50 = {on['p50_ms'] / off['p50_ms']:.1%}, "
              f"p99 = {on['p99_ms'] / off['p99_ms']:.1%}")


if __name__ == "__main__":
    main()
