"""Speed and footprint of a model: load time, time to first token, decode tokens/s, latency, peak memory, size.

Two ways, the same numbers:
- `measure_local(model_dir)` runs transformers in a fresh child process (`python -m luban.evaluate.speed DIR`),
  so peak memory (the child's maximum resident set) is the model's alone, not whatever the caller holds;
- `measure_endpoint(url, model)` streams chat completions from a served model (any backend `luban serve` has:
  GGUF, ONNX, transformers), timing the first content chunk and the rest; peak memory is the caller's to add.

Greedy, one stream, a fixed prompt; the median of `runs` runs after one warm-up.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from luban.core.errors import StageError

PROMPT = "Tell me about the Acme X100 robot vacuum and its warranty. 介绍一下 X100 扫地机器人和它的保修政策。"


def dir_size(path: Path) -> int:
    """Bytes of every file under `path` (a model directory, or one file such as a GGUF)."""
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _measure_here(model_dir: Path, new_tokens: int, runs: int) -> dict[str, float]:
    import torch

    from luban.models.loading import load_causal_lm, load_tokenizer

    t0 = time.perf_counter()
    tok = load_tokenizer(model_dir)
    model = load_causal_lm(model_dir)
    load_s = time.perf_counter() - t0
    msgs = [{"role": "user", "content": PROMPT}]
    text = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True) if tok.chat_template else PROMPT
    enc = tok(text, return_tensors="pt", add_special_tokens=False).to(model.device)
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id

    def timed(n: int) -> float:
        t = time.perf_counter()
        with torch.inference_mode():
            model.generate(**enc, max_new_tokens=n, min_new_tokens=n, do_sample=False, pad_token_id=pad)
        return time.perf_counter() - t

    timed(2)  # warm-up
    firsts = [timed(1) for _ in range(runs)]
    fulls = [timed(new_tokens) for _ in range(runs)]
    ttft, full = statistics.median(firsts), statistics.median(fulls)
    return {"load_s": load_s, "ttft_ms": 1000 * ttft, "latency_p50_ms": 1000 * full,
            "tokens_per_s": (new_tokens - 1) / max(full - ttft, 1e-9),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def measure_local(model_dir: str | Path, new_tokens: int = 32, runs: int = 3, timeout: float = 1800) -> dict[str, float]:
    """Speed of a Hugging Face model directory with transformers on this machine (a child process)."""
    model_dir = Path(model_dir)
    cmd = [sys.executable, "-m", "luban.evaluate.speed", str(model_dir), str(new_tokens), str(runs)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise StageError(f"measuring {model_dir.name} failed: {proc.stderr.strip().splitlines()[-1:] or '?'}",
                         "check that the model loads with `luban eval run ... -m` first")
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["size_mb"] = dir_size(model_dir) / 2**20
    return result


def measure_endpoint(url: str, model: str, new_tokens: int = 32, runs: int = 3,
                     api_key: str | None = None) -> dict[str, float]:
    """Time to first token, decode tokens/s and latency of a served model, streaming, one request at a time."""
    import openai

    client = openai.OpenAI(base_url=url, api_key=api_key or "none", max_retries=1)

    def one() -> tuple[float, float, int]:
        t0 = time.perf_counter()
        first, chunks, tokens = None, 0, None
        # ignore_eos (luban serve, vLLM) makes every run decode `new_tokens`; usage counts them exactly
        stream = client.chat.completions.create(model=model, messages=[{"role": "user", "content": PROMPT}],
                                                max_tokens=new_tokens, temperature=0, stream=True,
                                                stream_options={"include_usage": True},
                                                extra_body={"ignore_eos": True})
        for chunk in stream:
            if chunk.usage is not None:
                tokens = chunk.usage.completion_tokens
            if chunk.choices and chunk.choices[0].delta.content:
                chunks += 1
                if first is None:
                    first = time.perf_counter() - t0
        total = time.perf_counter() - t0
        return first if first is not None else total, total, tokens if tokens is not None else chunks

    try:
        one()  # warm-up
        samples = [one() for _ in range(runs)]
    except openai.APIError as err:
        raise StageError(f"measuring {model} at {url} failed: {err}", "check that the server is up") from None
    finally:
        client.close()
    ttft = statistics.median(s[0] for s in samples)
    total = statistics.median(s[1] for s in samples)
    tokens = statistics.median(s[2] for s in samples)
    return {"ttft_ms": 1000 * ttft, "latency_p50_ms": 1000 * total,
            "tokens_per_s": max(tokens - 1, 0) / max(total - ttft, 1e-9)}


def _main(argv: list[str]) -> None:
    result: dict[str, Any] = _measure_here(Path(argv[0]), int(argv[1]), int(argv[2]))
    print(json.dumps(result))


if __name__ == "__main__":
    _main(sys.argv[1:])
