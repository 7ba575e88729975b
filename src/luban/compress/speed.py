"""One-stream speed of a model in any format the compressor writes: transformers (float32, bfloat16, torch
int8), ONNX Runtime, llama.cpp. Each measurement runs in a child process, so peak memory is the model's own.

    python -m luban.compress.speed MODEL_DIR [--dtype bfloat16] [--new-tokens 64] [--threads 2]

Design choices:
- Greedy decoding of `new_tokens` tokens after the same prompt ids for every format, end-of-sequence
  ignored, so each format does the same work. Time to first token is the prefill plus one token; decode
  tokens/s is (new_tokens - 1) / (total - first), the median of `runs` after one warm-up.
- Each runtime's own generation loop: `model.generate` for transformers, llama.cpp's `generate`, and for
  ONNX Runtime a 15-line loop that feeds the KV cache back (what the onnx serving backend does).
- Peak memory is the child's peak resident set (VmHWM), load included.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from luban.core.errors import LubanError

PROMPT = "The warranty of the Acme X100 robot vacuum covers two years of use. Customers who want to return it"


def _torch_runner(path: Path, dtype: str, ids: list[int]) -> Callable[[int], None]:
    import torch

    from luban.models.loading import load_causal_lm

    model = load_causal_lm(path, dtype=dtype, device="cpu")
    x = torch.tensor([ids])

    def run(n: int) -> None:
        with torch.inference_mode():
            model.generate(x, attention_mask=torch.ones_like(x), max_new_tokens=n, min_new_tokens=n, do_sample=False,
                           pad_token_id=0)

    return run


def _onnx_runner(path: Path, ids: list[int]) -> Callable[[int], None]:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path / "model.onnx"), providers=["CPUExecutionProvider"])
    past_inputs = [i for i in session.get_inputs() if i.name.startswith("past_key_values")]
    outputs = [o.name for o in session.get_outputs()]

    def run(n: int) -> None:
        past = {i.name: np.zeros((1, int(i.shape[1]), 0, int(i.shape[3])), dtype=np.float32) for i in past_inputs}
        tokens = list(ids)
        new = np.array([ids], dtype=np.int64)
        for _ in range(n):
            total = len(tokens)
            feed = {"input_ids": new, "attention_mask": np.ones((1, total), dtype=np.int64),
                    "position_ids": np.arange(total - new.shape[1], total, dtype=np.int64)[None], **past}
            out = session.run(outputs, feed)
            nxt = int(out[0][0, -1].argmax())
            tokens.append(nxt)
            new = np.array([[nxt]], dtype=np.int64)
            past = {i.name: out[1 + k] for k, i in enumerate(past_inputs)}

    return run


def _gguf_runner(gguf: Path, ids: list[int], threads: int | None) -> Callable[[int], None]:
    from llama_cpp import Llama

    llm = Llama(model_path=str(gguf), n_ctx=512, n_threads=threads, verbose=False, seed=0)

    def run(n: int) -> None:
        llm.reset()
        for i, _ in enumerate(llm.generate(ids, temp=0.0, top_k=1, reset=True)):
            if i + 1 >= n:
                break

    return run


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: a child's ru_maxrss starts from its parent's
    at fork and survives exec, so a child of a big parent would report the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_here(path: Path, dtype: str = "float32", new_tokens: int = 64, runs: int = 3,
                 threads: int | None = None) -> dict[str, float]:
    """Load `path` here and time it; see the module docstring."""
    import torch

    from luban.models.loading import load_tokenizer

    if threads:
        torch.set_num_threads(threads)
    ggufs = sorted(path.glob("*.gguf")) if path.is_dir() else [path]
    tok_dir = path if (path / "tokenizer.json").is_file() or (path / "tokenizer_config.json").is_file() else None
    t0 = time.perf_counter()
    if ggufs and ggufs[0].suffix == ".gguf":
        from llama_cpp import Llama

        ids = Llama(model_path=str(ggufs[0]), vocab_only=True, verbose=False).tokenize(PROMPT.encode(), add_bos=False)
        run = _gguf_runner(ggufs[0], ids, threads)
    else:
        assert tok_dir is not None
        ids = list(load_tokenizer(tok_dir)(PROMPT, add_special_tokens=False)["input_ids"])
        run = _onnx_runner(path, ids) if (path / "model.onnx").is_file() else _torch_runner(path, dtype, ids)
    load_s = time.perf_counter() - t0

    def timed(n: int) -> float:
        t = time.perf_counter()
        run(n)
        return time.perf_counter() - t

    timed(2)
    firsts = [timed(1) for _ in range(runs)]
    fulls = [timed(new_tokens) for _ in range(runs)]
    first, full = statistics.median(firsts), statistics.median(fulls)
    return {"load_s": load_s, "ttft_ms": 1000 * first, "tokens_per_s": (new_tokens - 1) / max(full - first, 1e-9),
            "peak_rss_mb": peak_rss_mb(), "prompt_tokens": len(ids)}


def measure(path: str | Path, dtype: str = "float32", new_tokens: int = 64, runs: int = 3,
            threads: int | None = None, timeout: float = 1800) -> dict[str, float]:
    """`measure_here` in a child process (its own peak memory); raises LubanError when the child fails."""
    cmd = [sys.executable, "-m", "luban.compress.speed", str(path), "--dtype", dtype, "--new-tokens",
           str(new_tokens), "--runs", str(runs)] + (["--threads", str(threads)] if threads else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("{")]
    if proc.returncode != 0 or not lines:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise LubanError(f"speed measurement of {path} failed: {last}", "run python -m luban.compress.speed on it")
    out: dict[str, Any] = json.loads(lines[-1])
    return out


def _main(argv: list[str]) -> None:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m luban.compress.speed")
    ap.add_argument("path")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    a = ap.parse_args(argv)
    print(json.dumps(measure_here(Path(a.path), a.dtype, a.new_tokens, a.runs, a.threads)))


if __name__ == "__main__":
    _main(sys.argv[1:])
