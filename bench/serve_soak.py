"""Soak: N clients for T minutes against an OpenAI-compatible server; memory, errors and latency over time.

Each client sends chat completions back to back, mixing streamed, non-streamed and aborted requests
(a stream closed after its first content chunk) and short / medium / long prompts. Every prompt is
different (a request number and random words), so anything a server keeps per distinct prompt shows up
as memory growth. Reported:
- requests/s, completed requests, errors by kind (HTTP status, timeout, connection, in-stream error
  event, stream without a finish_reason);
- latency p50/p99 per window (`--window` seconds), and p99 of the first vs the last `--compare-minutes`;
- the server's resident memory sampled over time (by pid, with its children), its change after warm-up
  and its slope per 10,000 completed requests (least squares over samples taken after warm-up);
- for Luban, the prefix cache's bytes (`luban_prefix_cache_bytes` on /metrics) sampled with it, and the slope
  of the memory outside that cache: a bounded cache filling up is not a leak, and this tells them apart.
  (With the request number after "request " and a 16-token chat header, ten consecutive prompts share
  their first block once the number has six digits: from request 100,000 on the cache stores an entry
  every ten requests, up to its capacity. `--luban-args "--prefix-cache off"` measures without it.)

Against a running server (Luban, the gateway, vLLM, anything OpenAI-compatible):

    .venv/bin/python bench/serve_soak.py --url http://127.0.0.1:8000/v1 --model tiny --pid $(pgrep -n luban) \\
        --clients 32 --minutes 30 [--api-key sk-...]

Or let it start the servers itself, one after the other, same model, same load (the side-by-side run
of docs/benchmarks.md; `transformers` is `transformers serve --continuous-batching`):

    .venv/bin/python bench/serve_soak.py --systems luban,transformers --clients 32 --minutes 30 \\
        --json /tmp/soak.json

Without `--model-dir` the model is the test-size tiny model (built in seconds, ~0.1M parameters), so
the run measures the server's own overheads rather than matrix multiplies.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_throughput import free_port, wait_healthy  # noqa: E402 - sibling bench script

VENV_BIN = Path(sys.executable).parent
WORDS = ["robot", "vacuum", "warranty", "returns", "support", "lock", "hub", "battery", "filter", "charge", "clean", "map", "room", "floor", "dust", "app", "order", "refund", "delivery", "install", "reset", "error", "light", "sound", "schedule", "mode", "carpet", "tile", "pet", "hair"]


@dataclass
class Outcome:
    start: float  # seconds since the run began
    latency: float
    kind: str  # "ok", "aborted" or an error kind
    detail: str = ""


@dataclass
class Run:
    outcomes: list[Outcome] = field(default_factory=list)
    rss: list[tuple[float, int, float]] = field(default_factory=list)  # (t, completed requests, MB)
    cache: list[tuple[float, int, float]] = field(default_factory=list)  # (t, completed, prefix cache MB)

    def completed(self) -> int:
        return sum(1 for o in self.outcomes if o.kind in ("ok", "aborted"))


def make_prompt(rng: random.Random, i: int) -> str:
    """Short (~5 words), medium (~40) or long (~150) words, always distinct (the request number)."""
    n = rng.choice((3, 3, 40, 150))
    return f"request {i}: " + " ".join(rng.choice(WORDS) for _ in range(n))


async def one_request(client: httpx.AsyncClient, model: str, prompt: str, mode: str,
                      max_tokens: int) -> tuple[str, str]:
    """(kind, detail) of one request in `mode` ("stream", "plain" or "abort")."""
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": prompt}],
                            "max_tokens": max_tokens, "temperature": 1.0}
    try:
        if mode == "plain":
            r = await client.post("/chat/completions", json=body)
            if r.status_code != 200:
                return f"http_{r.status_code}", r.text[:200]
            data = r.json()
            if not data.get("choices") or data["choices"][0].get("finish_reason") is None:
                return "bad_response", r.text[:200]
            return "ok", ""
        body.update(stream=True, stream_options={"include_usage": True})
        async with client.stream("POST", "/chat/completions", json=body) as r:
            if r.status_code != 200:
                return f"http_{r.status_code}", (await r.aread())[:200].decode(errors="replace")
            finished = False
            async for line in r.aiter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                data = json.loads(line[6:])
                if "error" in data:
                    return "stream_error_event", json.dumps(data["error"])[:200]
                for c in data.get("choices") or []:
                    if mode == "abort" and (c.get("delta") or {}).get("content"):
                        return "aborted", ""  # leaving the block closes the connection mid-stream
                    finished = finished or c.get("finish_reason") is not None
            return ("ok", "") if finished else ("stream_without_finish", "")
    except httpx.TimeoutException as err:
        return "timeout", type(err).__name__
    except httpx.HTTPError as err:
        return "connection", f"{type(err).__name__}: {err}"[:200]
    except ValueError as err:
        return "bad_response", str(err)[:200]


async def load(url: str, model: str, api_key: str | None, clients: int, seconds: float, max_requests: int | None,
               mix: tuple[float, float, float], max_tokens: int, run: Run, t0: float, seed: int,
               timeout: float) -> None:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    limits = httpx.Limits(max_connections=clients + 4, max_keepalive_connections=clients + 4)
    counter = iter(range(10**12))
    end = t0 + seconds
    async with httpx.AsyncClient(base_url=url.rstrip("/"), headers=headers, limits=limits,
                                 timeout=httpx.Timeout(timeout)) as client:
        async def worker(w: int) -> None:
            rng = random.Random(seed * 1000 + w)
            while time.monotonic() < end:
                i = next(counter)
                if max_requests is not None and i >= max_requests:
                    return
                mode = rng.choices(("stream", "plain", "abort"), weights=mix)[0]
                start = time.monotonic()
                kind, detail = await one_request(client, model, make_prompt(rng, i), mode, max_tokens)
                run.outcomes.append(Outcome(start - t0, time.monotonic() - start, kind, detail))
                if kind not in ("ok", "aborted"):
                    await asyncio.sleep(0.1)  # an erroring server is not hammered in a tight loop

        await asyncio.gather(*(worker(w) for w in range(clients)))


class RssSampler(threading.Thread):
    """Resident memory of `pid` and its children every `every` seconds, with the completed-request count; with
    `metrics_url`, the prefix cache's bytes from the server's /metrics with every `metrics_every`-th sample (when it
    has them; not every second, so that rendering /metrics is not a load of its own on the server measured)."""

    def __init__(self, pid: int, run: Run, t0: float, every: float = 1.0, metrics_url: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(daemon=True)
        self.proc, self.run_, self.t0, self.every, self.running = psutil.Process(pid), run, t0, every, True
        self.metrics_url, self.headers = metrics_url, headers or {}
        self.metrics_every = max(1, round(10 / every))

    def sample(self) -> None:
        try:
            procs = [self.proc, *self.proc.children(recursive=True)]
            mb = sum(p.memory_info().rss for p in procs) / 2**20
        except psutil.Error:
            return
        t, done = time.monotonic() - self.t0, self.run_.completed()
        self.run_.rss.append((t, done, mb))
        cache = self.cache_mb() if (len(self.run_.rss) - 1) % self.metrics_every == 0 else None
        if cache is not None:
            self.run_.cache.append((t, done, cache))

    def cache_mb(self) -> float | None:
        if not self.metrics_url:
            return None
        try:
            text = httpx.get(self.metrics_url, headers=self.headers, timeout=5).text
        except httpx.HTTPError:
            return None
        values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                  if line.startswith("luban_prefix_cache_bytes")]
        if not values:
            self.metrics_url = None  # a server without a prefix cache gauge: stop asking
            return None
        return sum(values) / 2**20

    def run(self) -> None:
        while self.running:
            self.sample()
            time.sleep(self.every)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


def slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of y over x (0 with fewer than 2 distinct x)."""
    if len(points) < 2:
        return 0.0
    mx = statistics.fmean(x for x, _ in points)
    my = statistics.fmean(y for _, y in points)
    var = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / var if var else 0.0


def summarize(run: Run, seconds: float, warmup: float, window: float, compare: float) -> dict[str, Any]:
    done = [o for o in run.outcomes if o.kind in ("ok", "aborted")]
    errors: dict[str, int] = {}
    examples: dict[str, str] = {}
    for o in run.outcomes:
        if o.kind not in ("ok", "aborted"):
            errors[o.kind] = errors.get(o.kind, 0) + 1
            examples.setdefault(o.kind, o.detail)
    ok = [o for o in run.outcomes if o.kind == "ok"]
    windows = []
    for k in range(math.ceil(seconds / window)):
        lat = [o.latency for o in ok if k * window <= o.start < (k + 1) * window]
        windows.append({"t": k * window, "requests": len(lat), "p50_ms": 1000 * percentile(lat, 0.5),
                        "p99_ms": 1000 * percentile(lat, 0.99)})
    first = [o.latency for o in ok if warmup <= o.start < warmup + compare]
    last = [o.latency for o in ok if o.start >= seconds - compare]
    after = [(c, mb) for t, c, mb in run.rss if t >= warmup]
    base = after[0][1] if after else float("nan")
    cache_at = {(t, c): mb for t, c, mb in run.cache}
    outside = [(c, mb - cache_at[(t, c)]) for t, c, mb in run.rss if t >= warmup and (t, c) in cache_at]
    cache = [mb for t, _, mb in run.cache if t >= warmup]
    return {
        "requests": len(run.outcomes), "completed": len(done), "aborted": sum(o.kind == "aborted" for o in done),
        "requests_per_s": len(done) / seconds, "errors": sum(errors.values()), "errors_by_kind": errors,
        "error_examples": examples, "latency_p50_ms": 1000 * percentile([o.latency for o in ok], 0.5),
        "latency_p99_ms": 1000 * percentile([o.latency for o in ok], 0.99),
        "p99_first_ms": 1000 * percentile(first, 0.99), "p99_last_ms": 1000 * percentile(last, 0.99),
        "p99_last_vs_first": percentile(last, 0.99) / percentile(first, 0.99) if first and last else float("nan"),
        "windows": windows,
        "rss_after_warmup_mb": base, "rss_end_mb": after[-1][1] if after else float("nan"),
        "rss_max_dev_pct": 100 * max((abs(mb - base) / base for _, mb in after), default=float("nan")),
        "rss_slope_mb_per_10k": 10_000 * slope(after), "requests_after_warmup": after[-1][0] - after[0][0]
        if after else 0, "rss_samples": [(round(t, 1), c, round(mb, 1)) for t, c, mb in run.rss],
        "prefix_cache_mb": (cache[0], cache[-1]) if cache else None,
        "rss_outside_cache_slope_mb_per_10k": 10_000 * slope(outside) if outside else None,
        "cache_samples": [(round(t, 1), c, round(mb, 2)) for t, c, mb in run.cache],
    }


def soak(url: str, model: str, pid: int | None, args: argparse.Namespace) -> dict[str, Any]:
    run, t0 = Run(), time.monotonic()
    seconds = args.minutes * 60
    metrics_url = url.rstrip("/").removesuffix("/v1") + "/metrics"
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else None
    sampler = RssSampler(pid, run, t0, args.rss_every, metrics_url, headers) if pid else None
    if sampler:
        sampler.start()
    progress = threading.Thread(target=_progress, args=(run, t0, seconds, sampler), daemon=True)
    progress.start()
    try:
        asyncio.run(load(url, model, args.api_key, args.clients, seconds, args.requests,
                         tuple(args.mix), args.max_tokens, run, t0, args.seed, args.timeout))
    finally:
        if sampler:
            sampler.running = False
            sampler.sample()
    elapsed = time.monotonic() - t0
    return summarize(run, elapsed, min(args.warmup_minutes * 60, elapsed / 2), args.window,
                     min(args.compare_minutes * 60, elapsed / 2))


def _progress(run: Run, t0: float, seconds: float, sampler: RssSampler | None) -> None:
    while True:
        time.sleep(30)
        t = time.monotonic() - t0
        rss = f"  rss {run.rss[-1][2]:.0f} MB" if sampler and run.rss else ""
        errs = sum(1 for o in run.outcomes if o.kind not in ("ok", "aborted"))
        print(f"    {t:6.0f}/{seconds:.0f} s  {run.completed():7d} done  {errs} errors{rss}", flush=True)


def start_system(system: str, model_dir: Path, port: int, log: Path, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    if system == "luban":
        cmd = [*shlex.split(args.luban_cmd), "serve", str(model_dir), "--name", "soak", "--port", str(port),
               "--log-level", "warning", *args.luban_args.split()]
    else:
        cmd = [str(VENV_BIN / "transformers"), "serve", str(model_dir), "--continuous-batching", "--device", "cpu",
               "--port", str(port), "--host", "127.0.0.1", "--log-level", "warning"]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)} if args.threads else dict(os.environ)
    return subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True, env=env)


def run_system(system: str, model_dir: Path, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    url, log = f"http://127.0.0.1:{port}", workdir / f"{system}.log"
    proc = start_system(system, model_dir, port, log, args)
    try:
        wait_healthy(url, proc, log)
        model = "soak" if system == "luban" else str(model_dir)
        return soak(url + "/v1", model, proc.pid, args)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def build_model(model_dir: Path) -> None:
    if (model_dir / "config.json").is_file():
        return
    from luban.models.tiny import build_tiny

    texts = [" ".join(random.Random(i).choice(WORDS) for _ in range(60)) for i in range(200)]
    build_tiny(texts, model_dir, arch="qwen2", size="test", vocab_size=600, max_position_embeddings=512)


def fmt(name: str, r: dict[str, Any]) -> str:
    return (f"{name:13s} {r['completed']:7d} done ({r['aborted']} aborted)  {r['requests_per_s']:6.1f} req/s  "
            f"errors {r['errors']} {r['errors_by_kind'] or ''}\n"
            f"{'':13s} latency p50 {r['latency_p50_ms']:.0f} ms p99 {r['latency_p99_ms']:.0f} ms; p99 first "
            f"{r['p99_first_ms']:.0f} ms, last {r['p99_last_ms']:.0f} ms (x{r['p99_last_vs_first']:.2f})\n"
            f"{'':13s} RSS {r['rss_after_warmup_mb']:.1f} -> {r['rss_end_mb']:.1f} MB after warm-up (max dev "
            f"{r['rss_max_dev_pct']:.1f}%), slope {r['rss_slope_mb_per_10k']:+.2f} MB per 10k requests over "
            f"{r['requests_after_warmup']} requests" + _cache_line(r))


def _cache_line(r: dict[str, Any]) -> str:
    if not r.get("prefix_cache_mb"):
        return ""
    first, last = r["prefix_cache_mb"]
    return (f"\n{'':13s} prefix cache {first:.1f} -> {last:.1f} MB; RSS outside it: slope "
            f"{r['rss_outside_cache_slope_mb_per_10k']:+.2f} MB per 10k requests")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="OpenAI base URL of a running server (ends in /v1)")
    ap.add_argument("--model", help="model id to request (with --url)")
    ap.add_argument("--api-key", default=None, help="sent as 'Authorization: Bearer KEY' (e.g. the gateway)")
    ap.add_argument("--pid", type=int, default=None, help="server process whose RSS to sample (with --url)")
    ap.add_argument("--systems", default="luban", help="without --url: servers to start, any of luban,transformers")
    ap.add_argument("--model-dir", type=Path, default=None, help="without --url: the model (default: tiny test model)")
    ap.add_argument("--luban-args", default="", help="extra `luban serve` flags, e.g. '--max-queue 64'")
    ap.add_argument("--luban-cmd", default=str(VENV_BIN / "luban"), help="the luban command (compare two builds; or '.venv/bin/python bench/serve_memtrace.py')")
    ap.add_argument("--threads", type=int, default=None, help="OMP_NUM_THREADS for started servers")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--requests", type=int, default=None, help="stop after this many requests (all clients)")
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--mix", type=float, nargs=3, default=(0.6, 0.3, 0.1), metavar=("STREAM", "PLAIN", "ABORT"),
                    help="weights of streamed, non-streamed and aborted requests")
    ap.add_argument("--warmup-minutes", type=float, default=2.0, help="RSS baseline and first window start here")
    ap.add_argument("--compare-minutes", type=float, default=5.0, help="p99 of the first vs the last this long")
    ap.add_argument("--window", type=float, default=60.0, help="seconds per latency window")
    ap.add_argument("--rss-every", type=float, default=1.0)
    ap.add_argument("--timeout", type=float, default=120.0, help="per request, seconds")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None, help="write the full results (windows, RSS samples) here")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results: dict[str, Any] = {"load_average_start": os.getloadavg(), "cpus": os.cpu_count(),
                               "args": {k: str(v) for k, v in vars(args).items()}}
    if args.url:
        if not args.model:
            raise SystemExit("--url needs --model")
        results["server"] = soak(args.url, args.model, args.pid, args)
        print(fmt("server", results["server"]), flush=True)
    else:
        workdir = Path(tempfile.mkdtemp(prefix="luban-soak-"))
        model_dir = args.model_dir or workdir / "tiny"
        build_model(model_dir)
        print(f"model {model_dir}; {args.clients} clients x {args.minutes} min; logs in {workdir}", flush=True)
        for system in args.systems.split(","):
            print(f"  {system} ...", flush=True)
            try:
                results[system] = run_system(system, model_dir, workdir, args)
            except RuntimeError as err:
                results[system] = {"failed": str(err)[-1500:]}
                print(f"  {system} FAILED: {str(err)[-600:]}", flush=True)
                continue
            print(fmt(system, results[system]), flush=True)
    results["load_average_end"] = os.getloadavg()
    print(f"load average start {results['load_average_start']} end {results['load_average_end']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
