"""How much a compressed variant drifted from its parent: perplexity on the same texts, in every format.

Design choices:
- Perplexity over the same token ids for every format (transformers, ONNX Runtime, llama.cpp), so the
  numbers are comparable: the parent's tokenizer encodes each text once, and a GGUF or ONNX variant
  scores those ids (the GGUF's vocabulary is the parent's, converted).
- For two torch models the mean KL divergence of the variant's next-token distribution from the
  parent's is reported as well: it sees a drift that perplexity can hide (errors that cancel out).
- Texts are short (at most `max_tokens` tokens each): this is a check that a variant still works, not
  a benchmark; `luban eval` runs the real tasks.
- A GGUF variant is scored by llama.cpp in a child process (`gguf_score`), so that a crash in native
  code is a one-line error here, not the end of the run.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from luban.compress.gguf_score import gguf_logits
from luban.models.loading import load_causal_lm, load_tokenizer

# Used when no texts are given: plain sentences in English and Chinese, as a smoke check.
DEFAULT_TEXTS = (
    "The quick brown fox jumps over the lazy dog.",
    "Luban turns raw enterprise data into curated datasets and fine-tuned models.",
    "A compressed model must still answer the questions its parent answered.",
    "鲁班把企业的原始数据变成精选数据集和微调模型。",
)


def encode(tokenizer_dir: Path, texts: list[str] | tuple[str, ...], max_tokens: int = 128) -> list[list[int]]:
    tok = load_tokenizer(Path(tokenizer_dir))
    ids = [list(tok(t, add_special_tokens=False)["input_ids"])[:max_tokens] for t in texts]
    return [x for x in ids if len(x) >= 2]


def _nll(logits: np.ndarray, ids: list[int]) -> tuple[float, int]:
    """Summed negative log-likelihood of ids[1:] given logits[:-1] (positions x vocab)."""
    x = logits[: len(ids) - 1].astype(np.float64)
    x = x - x.max(-1, keepdims=True)
    logp = x - np.log(np.exp(x).sum(-1, keepdims=True))
    return float(-logp[np.arange(len(ids) - 1), ids[1:]].sum()), len(ids) - 1


def torch_logits(model_dir: Path, batch: list[list[int]]) -> list[np.ndarray]:
    import torch

    model = load_causal_lm(Path(model_dir), device="cpu")
    with torch.no_grad():
        return [model(torch.tensor([ids])).logits[0].float().numpy() for ids in batch]


def onnx_logits(model_dir: Path, batch: list[list[int]]) -> list[np.ndarray]:
    import onnxruntime as ort

    session = ort.InferenceSession(str(Path(model_dir) / "model.onnx"), providers=["CPUExecutionProvider"])
    past = [i for i in session.get_inputs() if i.name.startswith("past_key_values")]
    out = []
    for ids in batch:
        n = len(ids)
        feed: dict[str, Any] = {"input_ids": np.array([ids], dtype=np.int64),
                                "attention_mask": np.ones((1, n), dtype=np.int64),
                                "position_ids": np.arange(n, dtype=np.int64)[None]}
        for i in past:
            feed[i.name] = np.zeros((1, int(i.shape[1]), 0, int(i.shape[3])), dtype=np.float32)
        out.append(session.run(["logits"], feed)[0][0])
    return out


def variant_logits(path: Path, batch: list[list[int]]) -> list[np.ndarray]:
    """Logits of a model directory in whichever format it holds (GGUF, ONNX, else transformers)."""
    path = Path(path)
    ggufs = [path] if path.suffix == ".gguf" else sorted(path.glob("*.gguf"))
    if ggufs:
        return gguf_logits(ggufs[0], batch)
    if (path / "model.onnx").is_file():
        return onnx_logits(path, batch)
    return torch_logits(path, batch)


def perplexity(logits: list[np.ndarray], batch: list[list[int]]) -> float:
    total, count = 0.0, 0
    for lg, ids in zip(logits, batch, strict=True):
        nll, n = _nll(lg, ids)
        total, count = total + nll, count + n
    return math.exp(total / max(count, 1))


def mean_kl(parent: list[np.ndarray], variant: list[np.ndarray]) -> float:
    """Mean KL(parent || variant) of the next-token distributions over every position."""
    kls = []
    for p, q in zip(parent, variant, strict=True):
        lp = p.astype(np.float64) - p.max(-1, keepdims=True)
        lp = lp - np.log(np.exp(lp).sum(-1, keepdims=True))
        lq = q[: len(p)].astype(np.float64) - q[: len(p)].max(-1, keepdims=True)
        lq = lq - np.log(np.exp(lq).sum(-1, keepdims=True))
        kls.append((np.exp(lp) * (lp - lq)).sum(-1))
    return float(np.concatenate(kls).mean())


def compare_with_parent(parent_dir: Path, variant: Path, texts: list[str] | tuple[str, ...] = DEFAULT_TEXTS,
                        max_tokens: int = 128) -> dict[str, float]:
    """Stats for a variant's manifest: parent and variant perplexity, relative change, KL and top-1 agreement."""
    batch = encode(parent_dir, texts, max_tokens)
    base = torch_logits(parent_dir, batch)
    mine = variant_logits(variant, batch)
    p0, p1 = perplexity(base, batch), perplexity(mine, batch)
    agree = np.concatenate([(a.argmax(-1) == b[: len(a)].argmax(-1)) for a, b in zip(base, mine, strict=True)])
    return {"parent_perplexity": round(p0, 4), "perplexity": round(p1, 4),
            "perplexity_delta_pct": round(100 * (p1 - p0) / p0, 3), "kl_from_parent": round(mean_kl(base, mine), 6),
            "top1_agreement": round(float(agree.mean()), 4), "eval_tokens": sum(len(b) - 1 for b in batch)}
