"""The prompt's own logprobs (completions' `echo` with `logprobs`), which log-likelihood scoring needs.

lm-evaluation-harness's `local-completions` model and Luban's endpoint evaluator score a multiple-choice answer by
sending context + answer with `echo: true, logprobs: N, max_tokens: 1` and summing the answer tokens' logprobs, as
OpenAI's legacy completions (and vLLM) return them: one entry per prompt token, the first with none.

Design choices:
- The prefill that computes the prompt's KV cache keeps the logits of every position for these rows
  (`logits_to_keep=0`), so scoring costs no second forward; the rows go in prefill groups of their own, so
  other requests keep the cheap last-position LM head.
- Token texts come from the incremental detokenizer, so they add up to the prompt's text and `text_offset`
  points into it (a character split over two tokens belongs to the token that completes it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from luban.serve.backends.base import PromptLogprob, TokenLogprob
from luban.serve.engine.detokenize import Detokenizer


def prompt_logprobs(logits: torch.Tensor, ids: list[int], top: int, tokenizer: Any,
                    token_text: Callable[[int], str]) -> list[PromptLogprob]:
    """`logits`: [len(ids) - 1, vocab], position k predicting token k + 1. One entry per token of `ids`."""
    detok = Detokenizer(tokenizer)
    texts = [detok.add(t) for t in ids]
    texts[-1] += detok.flush()
    out = [PromptLogprob(texts[0], None, None)]
    if len(ids) < 2:
        return out
    lp = torch.log_softmax(logits.float(), dim=-1)
    chosen = lp.gather(1, torch.tensor(ids[1:], device=lp.device).unsqueeze(1)).squeeze(1).tolist()
    if top > 0:
        vals, alt = torch.topk(lp, min(top, lp.shape[1]), dim=-1)
        tops = [[TokenLogprob(token_text(t), v) for t, v in zip(a, b)] for a, b in zip(alt.tolist(), vals.tolist())]
    else:
        tops = [[] for _ in chosen]
    out += [PromptLogprob(text, value, alternatives) for text, value, alternatives in zip(texts[1:], chosen, tops)]
    return out
