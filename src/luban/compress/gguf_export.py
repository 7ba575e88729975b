"""Convert a Hugging Face causal LM directory to one GGUF file with llama.cpp's own converter.

Design choices:
- We run llama.cpp's `convert_hf_to_gguf.py` rather than re-implementing its per-architecture tensor
  mapping. It is not on PyPI as a module: it ships in a llama.cpp checkout and inside the
  llama-cpp-python source distribution (`vendor/llama.cpp/`). Point `llama_cpp_dir` (or the
  `LLAMA_CPP_DIR` environment variable) at either.
- It runs in a child process: the script edits `sys.path` and imports its vendored `gguf` package.
- The converter identifies a BPE tokenizer's pre-tokenizer by hashing its output on a test string and
  refuses unknown ones, such as a tokenizer trained with the tiny-model kit. On a miss we fall back to
  the pre-tokenizer transformers itself applies to the directory, when it is one llama.cpp knows:
  Qwen2's split (transformers 5 imposes it on every `qwen2` model, digits one by one) -> "qwen2",
  plain byte-level with GPT-2's regex -> "gpt-2". Anything else stays an error.
- Quantized types other than q8_0 need llama.cpp's `llama-quantize` binary afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Literal

from luban.core.artifact import Artifact, artifact_parent
from luban.core.config import StageConfig, WorkPath, dump_config
from luban.core.errors import LubanError, UsageError
from luban.core.workspace import Workspace

OutType = Literal["f32", "f16", "bf16", "q8_0"]

BOOTSTRAP = """
import sys
root, src, out, outtype, fallback = sys.argv[1:6]
sys.path.insert(0, root)
sys.path.insert(1, root + "/gguf-py")
import conversion.base as base
original = base.TextModel.get_vocab_base_pre
def get_vocab_base_pre(self, tokenizer):
    try:
        return original(self, tokenizer)
    except NotImplementedError:
        if not fallback:
            raise
        return fallback
base.TextModel.get_vocab_base_pre = get_vocab_base_pre
import convert_hf_to_gguf
sys.argv = ["convert_hf_to_gguf.py", src, "--outfile", out, "--outtype", outtype]
convert_hf_to_gguf.main()
"""


def find_converter(llama_cpp_dir: str | Path | None = None) -> Path:
    """The llama.cpp folder holding convert_hf_to_gguf.py (argument, then $LLAMA_CPP_DIR)."""
    where = llama_cpp_dir or os.environ.get("LLAMA_CPP_DIR")
    if not where:
        raise UsageError("converting to GGUF needs llama.cpp's convert_hf_to_gguf.py",
                         "set LLAMA_CPP_DIR to a llama.cpp checkout or an unpacked llama-cpp-python "
                         "sdist's vendor/llama.cpp")
    root = Path(where)
    for candidate in (root, root / "vendor" / "llama.cpp"):
        if (candidate / "convert_hf_to_gguf.py").is_file():
            return candidate
    raise UsageError(f"no convert_hf_to_gguf.py in {root}", "point LLAMA_CPP_DIR at a llama.cpp checkout")


QWEN2_SPLIT = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"""
               r"""\s*[\r\n]+|\s+(?!\S)|\s+""")


def hf_pre_tokenizer(model_dir: Path) -> str:
    """llama.cpp's name for the pre-tokenizer transformers applies to `model_dir`, or "" if unknown."""
    from transformers import AutoTokenizer

    try:
        backend = AutoTokenizer.from_pretrained(model_dir).backend_tokenizer
    except (OSError, ValueError, AttributeError):
        return ""
    state = json.loads(backend.pre_tokenizer.__getstate__()) if backend.pre_tokenizer else {}
    parts = state.get("pretokenizers", [state])
    kinds = [p.get("type") for p in parts]
    if kinds == ["ByteLevel"] and parts[0].get("use_regex", True):
        return "gpt-2"
    if kinds == ["Split", "ByteLevel"] and parts[0].get("pattern", {}).get("Regex") == QWEN2_SPLIT:
        return "qwen2"
    return ""


def export_gguf(model_dir: Path, out_file: Path, outtype: OutType = "f16",
                llama_cpp_dir: str | Path | None = None) -> dict[str, Any]:
    """Write `out_file` (.gguf) from a Hugging Face directory; returns stats for a manifest."""
    root = find_converter(llama_cpp_dir)
    fallback = hf_pre_tokenizer(Path(model_dir))
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-c", BOOTSTRAP, str(root), str(model_dir), str(out_file), outtype, fallback]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not out_file.is_file():
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise LubanError(f"convert_hf_to_gguf failed on {model_dir}: {last}",
                         "check that llama.cpp supports this architecture (pip install sentencepiece if named)")
    return {"format": "gguf", "outtype": outtype, "bytes": out_file.stat().st_size,
            "pre_tokenizer_fallback": fallback or None}


class GGUFExportConfig(StageConfig):
    outtype: OutType = "f16"
    llama_cpp_dir: WorkPath | None = None  # a checkout of llama.cpp: used, not an input (never hashed)


def gguf_stage(cfg: GGUFExportConfig, ws: Workspace, inputs: dict[str, Artifact],
               name: str | None = None) -> Artifact:
    """Pipeline stage `compress.gguf`: model artifact -> model artifact holding model.gguf."""
    src = inputs["model"]
    with ws.create("model", name, "compress.gguf", dump_config(cfg), parents=[artifact_parent(src, "source")]) as p:
        p.stats.update(export_gguf(src.path, p.path / "model.gguf", cfg.outtype, cfg.llama_cpp_dir))
    assert p.result is not None
    return p.result
