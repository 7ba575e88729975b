"""Logits of a GGUF model over given token ids, computed by llama.cpp in a process of its own.

    python -m luban.compress.gguf_score MODEL.gguf IDS.json OUT.npz

Design choices:
- A child process, not the caller's: llama.cpp is native code, and a crash in it (a bad file, a bug in a
  given build, its OpenMP runtime beside torch's) would otherwise end the whole pipeline run, a lock held
  and nothing said. In the child it is an exit status the caller turns into one line.
- The child imports numpy and llama-cpp-python only (not torch, not transformers): it starts in well under
  a second and holds only the GGUF model in memory.
- Logits go back through an .npz file in a temporary folder (for a real vocabulary they are far too large
  for a pipe): one float32 array per text, positions x vocabulary.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from luban.core.errors import LubanError, UsageError


def score(gguf_file: Path, batch: list[list[int]]) -> list[np.ndarray]:
    """llama.cpp's logits for each id list (in this process): what the child runs."""
    from llama_cpp import Llama

    llm = Llama(model_path=str(gguf_file), n_ctx=max(len(b) for b in batch) + 8, logits_all=True,
                verbose=False, seed=0)
    try:
        out = []
        for ids in batch:
            llm.reset()
            llm.eval(ids)
            out.append(np.array(llm.scores[: len(ids)], dtype=np.float32))
        return out
    finally:
        llm.close()


def gguf_logits(gguf_file: Path, batch: list[list[int]], timeout: float = 3600) -> list[np.ndarray]:
    """llama.cpp's logits for each id list, computed in a child process (see the module's notes)."""
    try:
        import llama_cpp  # noqa: F401  (checked here so that a missing extra is one line, not a child's traceback)
    except ImportError as err:
        raise UsageError("scoring a GGUF model needs llama-cpp-python", "make gguf (or pip install 'luban[gguf]')") \
            from err
    with tempfile.TemporaryDirectory(prefix="luban-gguf-score-") as tmp:
        ids, out = Path(tmp) / "ids.json", Path(tmp) / "logits.npz"
        ids.write_text(json.dumps(batch))
        proc = subprocess.run([sys.executable, "-m", "luban.compress.gguf_score", str(gguf_file), str(ids), str(out)],
                              capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "PYTHONFAULTHANDLER": "1"})
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
            how = (f"crashed ({signal.Signals(-proc.returncode).name})" if proc.returncode < 0
                   else f"failed (exit {proc.returncode})")
            raise LubanError(f"llama.cpp {how} scoring {Path(gguf_file).name}: {last}",
                             f"check that the file loads: luban serve {gguf_file}")
        with np.load(out) as data:
            return [data[f"arr_{i}"] for i in range(len(batch))]


def _main(argv: list[str]) -> None:
    gguf_file, ids, out = argv
    arrays = score(Path(gguf_file), json.loads(Path(ids).read_text()))
    np.savez(out, *arrays)  # arr_0, arr_1, ...


if __name__ == "__main__":
    _main(sys.argv[1:])
