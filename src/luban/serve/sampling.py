"""Batched sampling with per-sequence parameters: one call per decode step for the whole batch.

Design choices:
- Everything that can be a tensor op over the batch is one (penalties, temperature, top-k, top-p);
  only the final draw loops over rows, because each seeded row has its own `torch.Generator` so
  that `seed` gives the same tokens whatever else shares the batch.
- Rows with temperature 0 (or below MIN_TEMPERATURE) are greedy (argmax) and skip the sort.
- Log-probabilities are those of the model's raw distribution (before penalties, temperature and
  constraints), as OpenAI and vLLM report them; -inf is clamped so the JSON stays valid.
- Constrained rows arrive with their allowed-token mask already applied to `logits` by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from luban.serve.backends.base import SamplingParams

NEG_FLOOR = -9999.0
MIN_TEMPERATURE = 1e-4  # below this, logits / T overflows float32: treat as greedy


@dataclass
class RowState:
    """What sampling needs to know about one running sequence."""

    params: SamplingParams
    generated: list[int]
    generator: torch.Generator | None


@dataclass
class Sampled:
    tokens: list[int]
    logprobs: list[tuple[float, list[tuple[int, float]]] | None]  # per row: (chosen lp, top [(id, lp)])


def apply_penalties(logits: torch.Tensor, rows: list[RowState]) -> torch.Tensor:
    """OpenAI's presence/frequency penalties on the tokens each row has generated so far."""
    for i, r in enumerate(rows):
        p = r.params
        if (p.presence_penalty or p.frequency_penalty) and r.generated:
            ids = torch.tensor(r.generated, dtype=torch.long, device=logits.device)
            counts = torch.bincount(ids, minlength=logits.shape[1])[: logits.shape[1]].to(logits.dtype)
            logits[i] -= p.frequency_penalty * counts + p.presence_penalty * (counts > 0).to(logits.dtype)
    return logits


def filter_top_k_top_p(logits: torch.Tensor, top_k: torch.Tensor, top_p: torch.Tensor) -> torch.Tensor:
    """Mask (to -inf) tokens outside each row's top-k and nucleus top-p. k=0 and p=1 mean off."""
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    vocab = logits.shape[-1]
    ranks = torch.arange(vocab, device=logits.device).expand_as(sorted_logits)
    k = torch.where(top_k > 0, top_k, torch.full_like(top_k, vocab)).unsqueeze(1)
    drop = ranks >= k
    probs = torch.softmax(sorted_logits.masked_fill(drop, float("-inf")), dim=-1)
    before = torch.cumsum(probs, dim=-1) - probs  # probability mass strictly above this token
    drop |= before > top_p.unsqueeze(1)
    drop[:, 0] = False  # always keep the best token
    sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
    return torch.empty_like(logits).scatter_(1, order, sorted_logits)


def sample(logits: torch.Tensor, rows: list[RowState], raw: torch.Tensor | None = None) -> Sampled:
    """Pick the next token of every row. `logits` [rows, vocab] may be modified in place.

    `raw` are the unconstrained logits used for reported log-probabilities (defaults to `logits`).
    """
    raw_logits = raw if raw is not None else logits
    want_lp = [r.params.logprobs or r.params.top_logprobs > 0 for r in rows]
    logprobs_all = torch.log_softmax(raw_logits.float(), dim=-1) if any(want_lp) else None
    logits = apply_penalties(logits, rows)
    temps = [r.params.temperature for r in rows]
    token_list = [int(t) for t in torch.argmax(logits, dim=-1).tolist()]
    hot = [i for i, t in enumerate(temps) if t >= MIN_TEMPERATURE]
    if hot:
        idx = torch.tensor(hot, dtype=torch.long)
        dev = logits.device
        sub = logits[idx.to(dev)].float() / torch.tensor([temps[i] for i in hot], device=dev).unsqueeze(1)
        top_k = torch.tensor([rows[i].params.top_k for i in hot], dtype=torch.long, device=dev)
        top_p = torch.tensor([rows[i].params.top_p for i in hot], dtype=torch.float32, device=dev)
        if bool((top_k > 0).any()) or bool((top_p < 1).any()):
            sub = filter_top_k_top_p(sub, top_k, top_p)
        probs = torch.softmax(sub, dim=-1).cpu()  # seeded generators live on the CPU
        for j, tok in enumerate(draw(probs, [rows[i].generator for i in hot])):
            token_list[hot[j]] = tok
    out: list[tuple[float, list[tuple[int, float]]] | None] = []
    for i, r in enumerate(rows):
        if logprobs_all is None or not want_lp[i]:
            out.append(None)
            continue
        row = logprobs_all[i]
        chosen = max(float(row[token_list[i]]), NEG_FLOOR)
        top: list[tuple[int, float]] = []
        if r.params.top_logprobs > 0:
            vals, ids = torch.topk(row, min(r.params.top_logprobs, row.shape[0]))
            top = [(int(t), max(float(v), NEG_FLOOR)) for v, t in zip(vals.tolist(), ids.tolist())]
        out.append((chosen, top))
    return Sampled(token_list, out)


def draw(probs: torch.Tensor, generators: list[torch.Generator | None]) -> list[int]:
    """One token per row of `probs` [rows, vocab] by inverse CDF: a cumulative sum and one uniform number
    per row (from the row's own generator when it is seeded). Same distribution as `torch.multinomial`,
    at about a tenth of its cost over a 32k vocabulary (16 rows: 0.9 ms vs 12 ms on one core)."""
    cdf = probs.cumsum(dim=-1)
    u = torch.empty((probs.shape[0], 1), dtype=cdf.dtype)
    unseeded = [j for j, g in enumerate(generators) if g is None]
    if unseeded:
        u[unseeded] = torch.rand((len(unseeded), 1), dtype=cdf.dtype)
    for j, g in enumerate(generators):
        if g is not None:
            u[j] = torch.rand(1, generator=g, dtype=cdf.dtype)
    # right=True: the first token whose cumulative mass exceeds u, so a zero-probability token is never picked
    picks = torch.searchsorted(cdf, u * cdf[:, -1:], right=True).clamp_(max=probs.shape[1] - 1)
    zero = probs.gather(1, picks) <= 0  # u rounded up to the total mass: take the likeliest token instead
    if bool(zero.any()):
        picks = torch.where(zero, probs.argmax(dim=-1, keepdim=True), picks)
    return picks.squeeze(1).tolist()


def make_generator(seed: int | None) -> torch.Generator | None:
    if seed is None:
        return None
    g = torch.Generator()
    g.manual_seed(seed)
    return g
