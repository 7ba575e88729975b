"""Gateway overhead: Luban's gateway vs a bare pass-through proxy vs LiteLLM's proxy, same upstream, same load.

One run, the same fast upstream (bench/gateway_upstream.py, its own process, a fixed chat completion) and
the same load generator (`wrk`, Debian's package, with a Lua script for the POST body), at concurrency 1,
16 and 64, against:

- direct: the upstream itself (the floor);
- bare: bench/gateway_passthrough.py (raw ASGI, key looked up in a dict, pooled aiohttp client; the
  ceiling for any Python gateway here), under uvicorn with uvloop and httptools;
- luban: `luban gateway` with a key (RPM / TPM limits on), usage accounting and the audit hook, and the
  in-memory cache (the load's requests are sampled, temperature 0.7, so they are not cached);
- luban-nohooks (not in the default set): the same without the usage and audit hooks, to see their cost;
- litellm-1w / litellm-2w: LiteLLM's proxy (`litellm[proxy]` in its own virtualenv, `--venv-litellm`), one
  and two workers (two under gunicorn, see `start_litellm`), with its production settings (no verbose or
  debug logs, JSON logs, LITELLM_MODE=PRODUCTION, simple-shuffle routing, a master key, no database).

Printed per system and concurrency: requests/s, CPU ms per request (the server's process tree, from
psutil), latency p50 / p99 and what it adds to direct's p50 / p99, errors; then Luban's cache-hit latency
(a deterministic request, temperature 0, at concurrency 1) and the ratios to the issue's targets.

    .venv/bin/python bench/gateway_overhead.py                          # everything, 10 s per level
    .venv/bin/python bench/gateway_overhead.py --systems direct,bare,luban --duration 5
    .venv/bin/python bench/gateway_overhead.py --systems luban --soak 600 # RSS over a 10-minute soak at 64

LiteLLM's virtualenv: python3 -m venv .cache/litellm-venv && .cache/litellm-venv/bin/pip install 'litellm[proxy]'
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
KEY_BARE = "sk-bench-bare"
MASTER = "sk-litellm-bench-master"
SAMPLED = {"model": "bench", "messages": [{"role": "user", "content": "Say hello to the benchmark."}],
           "temperature": 0.7, "max_tokens": 16}
DETERMINISTIC = {**SAMPLED, "temperature": 0}
LUA = """
wrk.method = "POST"
wrk.body = [==[%(body)s]==]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(key)s"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRKJSON {\\"requests\\":%%d,\\"duration_us\\":%%d,\\"p50_us\\":%%d,\\"p99_us\\":%%d,"
    .. "\\"mean_us\\":%%f,\\"connect\\":%%d,\\"read\\":%%d,\\"write\\":%%d,\\"status\\":%%d,\\"timeout\\":%%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(port: int, path: str, timeout: float = 300.0, headers: dict[str, str] | None = None) -> None:
    import httpx

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            r = httpx.get(f"http://127.0.0.1:{port}{path}", headers=headers, timeout=2)
            if r.status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"nothing answered on port {port}{path} within {timeout:.0f} s")


class Server:
    """A server process (and its children) started in its own process group."""

    def __init__(self, name: str, cmd: list[str], port: int, env: dict[str, str] | None = None,
                 ready_path: str = "/health", ready_headers: dict[str, str] | None = None,
                 log: Path | None = None) -> None:
        self.name, self.port = name, port
        self.log = log or Path(tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".log")[1])
        self.proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, cwd=ROOT, start_new_session=True,
                                     stdout=self.log.open("wb"), stderr=subprocess.STDOUT)
        try:
            wait_http(port, ready_path, headers=ready_headers)
        except RuntimeError:
            self.stop()
            tail = self.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{name} did not start; its log ends with:\n{tail}") from None

    def pin(self, main: set[int], rest: set[int]) -> None:
        """The server's own process on `main` cores, its children (an audit writer) on `rest`."""
        procs = self.tree()
        procs[0].cpu_affinity(sorted(main))
        for child in procs[1:]:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.cpu_affinity(sorted(rest))

    def own_cpu_seconds(self) -> float:
        """CPU of the server's main process alone (not its children)."""
        try:
            t = psutil.Process(self.proc.pid).cpu_times()
            return t.user + t.system
        except psutil.NoSuchProcess:
            return 0.0

    def tree(self) -> list[psutil.Process]:
        try:
            p = psutil.Process(self.proc.pid)
            return [p, *p.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def cpu_seconds(self) -> float:
        total = 0.0
        for p in self.tree():
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    def rss_mb(self) -> float:
        total = 0
        for p in self.tree():
            with contextlib.suppress(psutil.NoSuchProcess):
                total += p.memory_info().rss
        return total / 2**20

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def wrk(port: int, path: str, body: dict[str, Any], key: str, concurrency: int, duration: float,
        work: Path) -> dict[str, Any]:
    script = work / f"wrk-{port}-{concurrency}.lua"
    script.write_text(LUA % {"body": json.dumps(body), "key": key})
    threads = min(2, concurrency)
    cmd = ["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{duration:g}s", "--timeout", "10s",
           "-s", str(script), f"http://127.0.0.1:{port}{path}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("WRKJSON "))
    res: dict[str, Any] = json.loads(line[8:])
    res["rps"] = res["requests"] / (res["duration_us"] / 1e6)
    res["errors"] = res["connect"] + res["read"] + res["write"] + res["status"] + res["timeout"]
    return res


def measure(server: Server, path: str, body: dict[str, Any], key: str, concurrency: int, duration: float,
            work: Path) -> dict[str, Any]:
    wrk(server.port, path, body, key, concurrency, min(2.0, duration), work)  # warm pools and caches
    cpu0, own0 = server.cpu_seconds(), server.own_cpu_seconds()
    res = wrk(server.port, path, body, key, concurrency, duration, work)
    res["cpu_ms_per_req"] = (server.cpu_seconds() - cpu0) * 1000 / max(1, res["requests"])
    res["own_cpu_ms_per_req"] = (server.own_cpu_seconds() - own0) * 1000 / max(1, res["requests"])
    res["rss_mb"] = server.rss_mb()
    return res


# -- the systems ------------------------------------------------------------------------------------
def start_upstream(work: Path) -> Server:
    port = free_port()
    return Server("upstream", [sys.executable, "bench/gateway_upstream.py", "--port", str(port)], port,
                  ready_path="/v1/models", log=work / "upstream.log")


def start_bare(upstream: int, work: Path) -> Server:
    port = free_port()
    cmd = [str(VENV_BIN / "uvicorn"), "--app-dir", "bench", "gateway_passthrough:app", "--port", str(port),
           "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]
    return Server("bare", cmd, port, env={"UPSTREAM": f"http://127.0.0.1:{upstream}", "KEYS": KEY_BARE},
                  ready_path="/", ready_headers={"authorization": f"Bearer {KEY_BARE}"}, log=work / "bare.log")


def parse_hooks(spec: str) -> list[dict[str, Any]]:
    """"usage+audit(writer=thread)" -> [{"use": "usage"}, {"use": "audit", "with": {"writer": "thread"}}]."""
    hooks: list[dict[str, Any]] = []
    for part in filter(None, re.split(r"[+,](?![^(]*\))", spec)):
        name, _, opts = part.partition("(")
        entry: dict[str, Any] = {"use": name.strip()}
        if opts:
            entry["with"] = {k.strip(): yaml.safe_load(v) for k, v in
                             (kv.split("=", 1) for kv in opts.rstrip(")").split(";") if kv)}
        hooks.append(entry)
    return hooks


def start_luban(upstream: int, work: Path, hooks: list[dict[str, Any]], name: str = "") -> tuple[Server, str]:
    from luban.gateway.keys import KeyStore

    port = free_port()
    db = f"sqlite:///{work / 'gateway.db'}"
    cfg = work / f"gateway-{port}.yaml"
    cfg.write_text(json.dumps({
        "host": "127.0.0.1", "port": port,
        "upstreams": {"fast": {"url": f"http://127.0.0.1:{upstream}/v1"}},
        "models": {"bench": {"upstreams": ["fast"]}},
        "routing": {"health": {"interval": 0}},
        "cache": {"backend": "memory"},
        "keys": {"url": db},
        "hooks": hooks,
    }))
    store = KeyStore(db)
    _, secret = store.create("bench", rpm=10**9, tpm=10**12)
    store.close()
    cmd = [str(VENV_BIN / "luban"), "-w", str(work / "ws"), "gateway", "--config", str(cfg)]
    name = name or ("luban" if hooks else "luban-nohooks")
    return Server(name, cmd, port, log=work / f"{name}.log"), secret


def start_litellm(upstream: int, workers: int, venv: Path, work: Path) -> Server:
    port = free_port()
    cfg = work / f"litellm-{workers}.yaml"
    cfg.write_text(json.dumps({
        "model_list": [{"model_name": "bench", "litellm_params": {
            "model": "openai/bench", "api_base": f"http://127.0.0.1:{upstream}/v1", "api_key": "none"}}],
        "litellm_settings": {"request_timeout": 600, "set_verbose": False, "json_logs": True},
        "router_settings": {"routing_strategy": "simple-shuffle"},
        "general_settings": {"master_key": MASTER},
    }))
    cmd = [str(venv / "bin" / "litellm"), "--config", str(cfg), "--host", "127.0.0.1", "--port", str(port),
           "--num_workers", str(workers)]
    if workers > 1:
        # uvicorn's own worker supervisor kills children that miss its 5 s ping while LiteLLM imports on a
        # busy machine (they die in a loop, never serving); gunicorn, LiteLLM's other production server, waits
        cmd.append("--run_gunicorn")
    # no network here: the local price map at once, instead of three failed fetches of the remote one
    env = {"LITELLM_LOG": "ERROR", "LITELLM_MODE": "PRODUCTION", "DISABLE_ADMIN_UI": "True",
           "LITELLM_DONT_SHOW_FEEDBACK_BOX": "true", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    return Server(f"litellm-{workers}w", cmd, port, env=env, ready_path="/health/liveliness",
                  log=work / f"litellm-{workers}.log")


# -- the run ----------------------------------------------------------------------------------------
def row(name: str, c: int, r: dict[str, Any], direct: dict[str, Any] | None) -> str:
    add50 = f"{(r['p50_us'] - direct['p50_us']) / 1000:+8.2f}" if direct else f"{'':>8}"
    add99 = f"{(r['p99_us'] - direct['p99_us']) / 1000:+8.2f}" if direct else f"{'':>8}"
    return (f"{name:<13} {c:>4} {r['rps']:>9.0f} {r['cpu_ms_per_req']:>7.3f} {r['p50_us'] / 1000:>8.2f} "
            f"{r['p99_us'] / 1000:>8.2f} {add50} {add99} {r['errors']:>6} {r['rss_mb']:>7.0f} "
            f"{r.get('own_cpu_ms_per_req', 0):>7.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--systems", default="direct,bare,luban,litellm-1w,litellm-2w",
                    help="comma-separated; also luban:HOOKS, e.g. 'luban:audit(writer=thread)' or 'luban:usage+audit' "
                         "(hooks joined by +, options in parentheses separated by ;)")
    ap.add_argument("--concurrency", default="1,16,64")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds of load per level (after 2 s warm-up)")
    ap.add_argument("--venv-litellm", type=Path, default=ROOT / ".cache" / "litellm-venv")
    ap.add_argument("--luban-hooks", default="usage,audit", help="hooks of the `luban` system, in order")
    ap.add_argument("--soak", type=float, default=0.0, help="seconds of Luban at concurrency 64, sampling RSS")
    ap.add_argument("--json", type=Path, help="write every figure here")
    ap.add_argument("--pin", action="store_true",
                    help="the gateway's own process alone on core 0, everything else (wrk, the upstream, the "
                         "gateway's child processes) on the other cores: the gateway's one-core capacity")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    systems = args.systems.split(",")
    levels = [int(c) for c in args.concurrency.split(",")]
    if any(s.startswith("litellm") for s in systems) and not (args.venv_litellm / "bin" / "litellm").exists():
        sys.exit(f"LiteLLM is not installed in {args.venv_litellm}; see this script's docstring")
    work = Path(tempfile.mkdtemp(prefix="luban-gw-bench-"))
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; logs in {work}")
    others = set(range(1, os.cpu_count() or 2))
    if args.pin:  # the bench, wrk and the upstream off core 0; each server's own process goes there
        os.sched_setaffinity(0, others)
    upstream = start_upstream(work)
    results: dict[str, dict[int, dict[str, Any]]] = {}
    cache_hit: dict[str, Any] | None = None
    soak: list[tuple[float, float]] = []
    print(f"{'system':<13} {'conc':>4} {'req/s':>9} {'cpu ms':>7} {'p50 ms':>8} {'p99 ms':>8} {'+p50':>8} "
          f"{'+p99':>8} {'errors':>6} {'RSS MB':>7} {'own cpu':>7}")
    try:
        for name in systems:
            key, server = "none", upstream
            try:
                if name == "bare":
                    server, key = start_bare(upstream.port, work), KEY_BARE
                elif name in ("luban", "luban-nohooks") or name.startswith("luban:"):
                    spec = name[6:] if name.startswith("luban:") else args.luban_hooks if name == "luban" else ""
                    server, key = start_luban(upstream.port, work, parse_hooks(spec), name)
                elif name.startswith("litellm"):
                    workers = int(name.split("-")[1][0])
                    server, key = start_litellm(upstream.port, workers, args.venv_litellm, work), MASTER
                elif name != "direct":
                    sys.exit(f"unknown system {name}")
            except RuntimeError as err:  # one system that does not start does not lose the others' figures
                print(f"{name}: {err}", flush=True)
                continue
            if args.pin and server is not upstream:
                server.pin({0}, others)
            try:
                results[name] = {}
                for c in levels:
                    r = measure(server, "/v1/chat/completions", SAMPLED, key, c, args.duration, work)
                    results[name][c] = r
                    print(row(name, c, r, results.get("direct", {}).get(c)), flush=True)
                if name == "luban":
                    cache_hit = measure(server, "/v1/chat/completions", DETERMINISTIC, key, 1, args.duration, work)
                    print(f"luban cache hit (temperature 0, concurrency 1): p50 {cache_hit['p50_us'] / 1000:.3f} ms, "
                          f"p99 {cache_hit['p99_us'] / 1000:.3f} ms, {cache_hit['rps']:.0f} req/s", flush=True)
                    if args.soak > 0:
                        soak = run_soak(server, key, args.soak, work)
            finally:
                if server is not upstream:
                    server.stop()
    finally:
        upstream.stop()
    report(results, cache_hit, soak)
    if args.json:
        args.json.write_text(json.dumps({"results": results, "cache_hit": cache_hit, "soak_rss_mb": soak,
                                         "loadavg": os.getloadavg()}, indent=1))


def run_soak(server: Server, key: str, seconds: float, work: Path) -> list[tuple[float, float]]:
    """wrk at concurrency 64 for `seconds` in the background; the gateway's RSS every 10 s."""
    script = work / "soak.lua"
    script.write_text(LUA % {"body": json.dumps(SAMPLED), "key": key})
    proc = subprocess.Popen(["wrk", "-t", "2", "-c", "64", "-d", f"{seconds:g}s", "--timeout", "10s", "-s",
                             str(script), f"http://127.0.0.1:{server.port}/v1/chat/completions"],
                            stdout=subprocess.PIPE, text=True)
    samples: list[tuple[float, float]] = []
    t0 = time.monotonic()
    while proc.poll() is None:
        samples.append((time.monotonic() - t0, server.rss_mb()))
        print(f"soak {samples[-1][0]:6.0f} s  RSS {samples[-1][1]:7.1f} MB", flush=True)
        time.sleep(10)
    out = proc.stdout.read() if proc.stdout else ""
    line = next((ln for ln in out.splitlines() if ln.startswith("WRKJSON ")), None)
    if line:
        r = json.loads(line[8:])
        print(f"soak: {r['requests']} requests, {r['requests'] / (r['duration_us'] / 1e6):.0f} req/s, errors "
              f"{r['connect'] + r['read'] + r['write'] + r['status'] + r['timeout']}")
    return samples


def report(results: dict[str, dict[int, dict[str, Any]]], cache_hit: dict[str, Any] | None,
           soak: list[tuple[float, float]]) -> None:
    print("\n# targets (issue 11)")
    lu, bare, lite = results.get("luban"), results.get("bare"), results.get("litellm-1w")
    direct = results.get("direct")

    def line(what: str, value: float | None, target: str, ok: bool | None) -> None:
        shown = "n/a" if value is None else f"{value:.2f}"
        verdict = "" if ok is None else ("met" if ok else "MISSED")
        print(f"{what:<52} {shown:>10}  target {target:<10} {verdict}")

    if lu and lite and 16 in lu and 16 in lite:
        x = lu[16]["rps"] / lite[16]["rps"]
        line("Luban / LiteLLM (1 worker) requests/s at 16", x, ">= 50x", x >= 50)
    if lu and bare and 16 in lu and 16 in bare:
        x = lu[16]["rps"] / bare[16]["rps"]
        line("Luban / bare proxy requests/s at 16", x, ">= 0.5", x >= 0.5)
        y = lu[16]["p99_us"] / bare[16]["p99_us"]
        line("Luban / bare proxy p99 at 16", y, "<= 1.5x", y <= 1.5)
    if lu and direct and 1 in lu and 1 in direct:
        added = (lu[1]["p50_us"] - direct[1]["p50_us"]) / 1000
        line("Luban added p50 at 1 (ms)", added, "<= 0.5 ms", added <= 0.5)
    if bare and direct and 1 in bare and 1 in direct:
        line("bare proxy added p50 at 1 (ms, for reference)", (bare[1]["p50_us"] - direct[1]["p50_us"]) / 1000,
             "", None)
    if cache_hit:
        p50 = cache_hit["p50_us"] / 1000
        line("Luban cache-hit p50 at 1 (ms)", p50, "<= 0.5 ms", p50 <= 0.5)
    if len(soak) >= 4:
        k = max(1, len(soak) // 10)
        first = sum(r for _, r in soak[:k]) / k
        last = sum(r for _, r in soak[-k:]) / k
        change = (last - first) / first
        line(f"Luban RSS change over the soak ({first:.0f} -> {last:.0f} MB)", change * 100, "+-10 %",
             abs(change) <= 0.10)


if __name__ == "__main__":
    main()
