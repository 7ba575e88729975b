"""One sequence in the engine: its request, its sampling state and where its output goes.

`finish_token` decides, for one freshly sampled token, what the client sees (the new text, the
finish reason) so that the scheduler stays about batching only. The EOS token counts as a
completion token (as in OpenAI's and vLLM's usage) but adds no text.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from luban.serve.backends.base import GenerationRequest, Step, TokenLogprob
from luban.serve.engine.detokenize import Detokenizer
from luban.serve.sampling import RowState

Sink = Callable[[Step | BaseException], None]


@dataclass(eq=False)
class Sequence:
    request: GenerationRequest
    prompt_ids: list[int]
    sink: Sink
    row: RowState
    detok: Detokenizer
    matcher: Any | None = None  # llguidance matcher when the output is constrained
    cancelled: bool = False  # set by the consumer (client gone, stop string matched)
    done: bool = False
    completion_tokens: int = 0
    reserved: int = 0  # bytes of the engine's memory budget this sequence holds while it runs
    prefix: tuple[Any, int] | None = None  # (prefix cache entry, tokens) whose KV this prompt reuses
    submitted: float = field(default_factory=time.monotonic)

    @property
    def adapter(self) -> str:
        return self.request.adapter or "__base__"  # peft's name for "no adapter" in mixed batches

    @property
    def scores_prompt(self) -> bool:
        """True when the client asked for the prompt's own logprobs (echo with logprobs)."""
        return self.request.params.prompt_logprobs is not None


def finish_token(seq: Sequence, tok: int, lp: tuple[float, list[tuple[int, float]]] | None,
                 eos_ids: frozenset[int], context_length: int, token_text: Callable[[int], str]) -> None:
    """Account for `tok`, send the resulting Step to the sequence's sink, mark it done if finished."""
    if seq.cancelled:
        seq.done = True
        return
    p = seq.request.params
    seq.completion_tokens += 1
    finish: str | None = None
    stop_tok = (tok in eos_ids and not p.ignore_eos) or tok in p.stop_token_ids
    if seq.matcher is not None:
        seq.matcher.consume_token(tok)
        if seq.matcher.is_stopped() or seq.matcher.is_error():
            finish = "stop"
    if stop_tok:
        finish = "stop"
        text = seq.detok.flush()
    else:
        seq.row.generated.append(tok)
        text = seq.detok.add(tok)
    if finish is None and (seq.completion_tokens >= p.max_tokens
                           or len(seq.prompt_ids) + seq.completion_tokens >= context_length
                           or (seq.request.deadline is not None and time.monotonic() > seq.request.deadline)):
        finish = "length"
    if finish is not None and not stop_tok:
        text += seq.detok.flush()
    logprobs = None
    if lp is not None and not stop_tok:
        chosen = _entry(tok, lp[0], token_text)
        logprobs = [(chosen, [_entry(t, v, token_text) for t, v in lp[1]])]
    seq.sink(Step(text=text, token_ids=[tok], logprobs=logprobs, finish_reason=finish,
                  prompt_tokens=len(seq.prompt_ids), completion_tokens=seq.completion_tokens))
    if finish is not None:
        seq.done = True


def _entry(tok: int, logprob: float, token_text: Callable[[int], str]) -> TokenLogprob:
    text = token_text(tok)
    return TokenLogprob(token=text, logprob=logprob, bytes=list(text.encode("utf-8")))
