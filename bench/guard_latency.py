"""Guard latency: Luban's full default policy (no LLM judge) vs LLM Guard on the same 1,000-token prompts.

    python3 -m venv .cache/llmguard-venv && .cache/llmguard-venv/bin/pip install llm-guard==0.3.16
    .venv/bin/python bench/guard_latency.py [--runs 300] [--llm-guard-python .cache/llmguard-venv/bin/python]
    .venv/bin/python bench/guard_latency.py --no-peer   # Luban alone

Inputs: an English and a Chinese prompt of about 1,000 tokens each (ordinary support text with one e-mail,
one phone number and one API key in it, so the scanners have something to find). Luban runs the default
policy's input scanners (token limit, unicode, secrets, PII, injection heuristics and classifier, lexicon
of 12,600 terms through de-obfuscation, harm patterns and classifier). LLM Guard, in its own virtualenv,
runs its Regex, BanSubstrings (the same 12,600 lexicon terms), Secrets and InvisibleText input scanners
through `scan_prompt`, on the same text. Both print wall-clock p50 / p90 per prompt in ms and the p50 of
the CPU time the scanning thread used (on a shared, loaded machine the wall clock also counts waiting for
a core; CPU time does not); then the ratios.
Streaming: the same answer fed to `StreamModerator` in 4-character chunks; the added time per chunk.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from luban.guard.policy import get_policy
from luban.guard.scanners.lexicon import LEXICON_DIR, read_lexicon
from luban.guard.scanners.tokens import estimate_tokens
from luban.guard.stream import StreamModerator

EN_PARA = ("Thanks for contacting Acme support. The X100 robot vacuum has a two-year warranty that covers the motor, "
           "the battery and the charging dock. If the vacuum stops charging, first clean the contacts on the dock "
           "with a dry cloth, then restart it by holding the power button for ten seconds. ")
ZH_PARA = ("感谢您联系艾可客服。X100扫地机器人享受两年保修，保修范围包括电机、电池和充电座。如果机器无法充电，"
           "请先用干布清洁充电座上的触点，然后长按电源键十秒重启。")
EXTRA_EN = " You can reach me at alice@example.com or +1 415 555 0100; the staging key is sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12. "
EXTRA_ZH = "我的邮箱是 alice@example.com，电话 13812345678，测试密钥 sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12。"

LLM_GUARD_SCRIPT = r"""
import json, sys, time, statistics
from llm_guard import scan_prompt
from llm_guard.input_scanners import BanSubstrings, InvisibleText, Regex, Secrets
from llm_guard.input_scanners.ban_substrings import MatchType
args = json.load(open(sys.argv[1]))
scanners = [
    Regex(patterns=[r"[\w.+-]+@[\w-]+\.[\w.]+", r"1[3-9]\d{9}", r"Bearer\s+[A-Za-z0-9_\-.=]{20,}"], is_blocked=True),
    BanSubstrings(substrings=args["terms"], match_type=MatchType.WORD, case_sensitive=False, redact=False),
    Secrets(redact_mode="all"),
    InvisibleText(),
]
out = {}
for name, text in args["texts"].items():
    for _ in range(3):
        scan_prompt(scanners, text, fail_fast=False)
    times, cpu = [], []
    for _ in range(args["runs"]):
        t, c = time.perf_counter(), time.thread_time()
        scan_prompt(scanners, text, fail_fast=False)
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.thread_time() - c) * 1000)
    times.sort()
    out[name] = {"p50": statistics.median(times), "p90": times[int(len(times) * 0.9)], "cpu_p50": statistics.median(cpu)}
print(json.dumps(out))
"""


def prompt(para: str, extra: str, tokens: int = 1000) -> str:
    text = ""
    while estimate_tokens(text) < tokens:
        text += para
        if extra not in text:
            text += extra
    return text


def timed(fn: object, text: str, runs: int) -> dict[str, float]:
    assert callable(fn)
    for _ in range(5):
        fn(text)
    times, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.thread_time()
        fn(text)
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.thread_time() - c) * 1000)
    times.sort()
    return {"p50": statistics.median(times), "p90": times[int(len(times) * 0.9)], "cpu_p50": statistics.median(cpu)}


def stream_cost(text: str, chunk: int = 4, rounds: int = 20) -> float:
    """Added CPU ms per chunk: feeding the chunks through StreamModerator vs only slicing them (best of
    `rounds`, CPU time of this thread, so that other processes on a loaded machine do not count)."""
    policy = get_policy("default")
    chunks = [text[i:i + chunk] for i in range(0, len(text), chunk)]
    best = float("inf")
    for _ in range(rounds):
        t = time.thread_time()
        m = StreamModerator(policy)
        for c in chunks:
            m.feed(c)
        m.finish()
        spent = time.thread_time() - t
        t = time.thread_time()
        sink = [c for c in chunks]
        base = time.thread_time() - t
        del sink
        best = min(best, (spent - base) * 1000 / len(chunks))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=300)
    default_py = next((p for p in (".cache/llmguard-venv/bin/python", "/tmp/llmguard-venv/bin/python") if Path(p).exists()),
                      ".cache/llmguard-venv/bin/python")
    ap.add_argument("--llm-guard-python", default=default_py)
    ap.add_argument("--no-peer", action="store_true", help="Luban only (no LLM Guard virtualenv at hand)")
    args = ap.parse_args()
    texts = {"en": prompt(EN_PARA, EXTRA_EN), "zh": prompt(ZH_PARA, EXTRA_ZH)}
    policy = get_policy("default")
    policy.scan("warm up the classifiers")
    print(f"prompts: en {len(texts['en'])} chars / zh {len(texts['zh'])} chars, ~1,000 tokens each; "
          f"load {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    luban = {name: timed(policy.scan, t, args.runs) for name, t in texts.items()}
    for name, d in luban.items():
        verdicts = [(v.scanner, v.action) for v in policy.scan(texts[name]).verdicts]
        print(f"luban     {name}: p50 {d['p50']:.3f} ms  p90 {d['p90']:.3f} ms  cpu p50 {d['cpu_p50']:.3f} ms  "
              f"verdicts {verdicts}")
    for name, t in texts.items():
        print(f"streaming {name}: +{stream_cost(t) * 1000:.1f} us per 4-character chunk")
    if args.no_peer:
        return
    terms = sorted({t for path in LEXICON_DIR.glob("*.tsv") for t, _, _ in read_lexicon(path)})
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"texts": texts, "terms": terms, "runs": max(20, args.runs // 10)}, f)
    try:
        proc = subprocess.run([args.llm_guard_python, "-c", LLM_GUARD_SCRIPT, f.name], capture_output=True,
                              text=True, timeout=3600)
    except FileNotFoundError:
        sys.exit(f"no LLM Guard at {args.llm_guard_python}: create it as the docstring says")
    finally:
        Path(f.name).unlink(missing_ok=True)
    if proc.returncode != 0:
        sys.exit(f"LLM Guard failed: {proc.stderr.strip().splitlines()[-1:]}")
    peer = json.loads(proc.stdout.strip().splitlines()[-1])
    for name, d in peer.items():
        ratio, cpu_ratio = d["p50"] / luban[name]["p50"], d["cpu_p50"] / luban[name]["cpu_p50"]
        print(f"llm-guard {name}: p50 {d['p50']:.3f} ms  p90 {d['p90']:.3f} ms  cpu p50 {d['cpu_p50']:.3f} ms  "
              f"({ratio:.1f}x Luban's p50, {cpu_ratio:.1f}x its CPU time)")


if __name__ == "__main__":
    main()
