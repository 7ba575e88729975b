"""POST /v1/completions (the legacy text endpoint): one or more prompts, `n` choices each.

Choice `index` is prompt_index * n + choice, as in OpenAI. Token-id prompts are accepted when the
backend says so (`Capabilities.vocab_size`), and checked against the vocabulary.

`echo` with `logprobs` returns the prompt's own logprobs before the completion's (OpenAI's legacy format:
the first token's logprob and alternatives are null), with `max_tokens` 0 for the prompt alone: that is how
lm-evaluation-harness's `local-completions` and Luban's endpoint evaluator score log-likelihood. A token-id
prompt is echoed as its decoded text.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from luban.serve.backends.base import Backend, GenerationRequest, PromptLogprob, SamplingParams
from luban.serve.choice import Delta, merged, prime, run_choice
from luban.serve.errors import APIError
from luban.serve.inflight import Inflight
from luban.serve.limits import Limits, clamp_seed, completion_budget
from luban.serve.protocol import CompletionRequest
from luban.serve.responses import completion_logprobs, echo_logprobs, usage


def _prompts(req: CompletionRequest, backend: Backend, limits: Limits) -> list[str | list[int]]:
    p = req.prompt
    items: list[str | list[int]]
    if isinstance(p, str):
        items = [p]
    elif p and all(isinstance(x, int) for x in p):
        items = [list(p)]  # type: ignore[arg-type]
    else:
        items = list(p)  # type: ignore[arg-type]
    if not items:
        raise APIError(400, "prompt must not be empty.", param="prompt")
    if len(items) > limits.max_prompt_items:
        raise APIError(400, f"at most {limits.max_prompt_items} prompts per request.", param="prompt")
    vocab = backend.capabilities.vocab_size
    for it in items:
        if isinstance(it, list):
            if not vocab:
                raise APIError(400, f"model '{req.model}' takes text prompts only.", param="prompt")
            if not it or any(t < 0 or t >= vocab for t in it):
                raise APIError(400, f"token ids must be non-empty and between 0 and {vocab - 1}.", param="prompt")
    return items


async def create(req: CompletionRequest, backend: Backend, adapter: str | None, limits: Limits,
                 track: Inflight | None = None) -> tuple[dict[str, Any] | AsyncIterator[dict[str, Any]], bool]:
    """The completion object, or (when streaming) the chunk iterator; the bool says which."""
    if req.suffix:
        raise APIError(400, "suffix (fill-in-the-middle) is not supported.", param="suffix")
    if req.best_of is not None and req.best_of != req.n:
        raise APIError(400, "best_of other than n is not supported.", param="best_of")
    scoring = req.echo and req.logprobs is not None
    if scoring and not backend.capabilities.prompt_logprobs:
        raise APIError(400, f"model '{req.model}' does not return prompt logprobs (echo with logprobs).",
                       param="echo")
    if scoring and req.stream:
        raise APIError(400, "echo with logprobs returns the prompt's logprobs only without stream: set stream "
                            "to false.", param="stream")
    if req.max_tokens == 0 and not req.echo:
        raise APIError(400, "max_tokens 0 generates nothing: it is meant with echo (to score the prompt); "
                            "ask for at least 1 token.", param="max_tokens")
    if req.logprobs is not None and not backend.capabilities.logprobs:
        raise APIError(400, f"model '{req.model}' does not return logprobs.", param="logprobs")
    stops = [req.stop] if isinstance(req.stop, str) else list(req.stop or [])
    deadline = time.monotonic() + limits.request_timeout if limits.request_timeout else None
    rid, created = "cmpl-" + uuid.uuid4().hex, int(time.time())
    choices, prompt_total, echoes = [], 0, []
    for pi, prompt in enumerate(_prompts(req, backend, limits)):
        n_tok = len(prompt) if isinstance(prompt, list) else backend.count_tokens(prompt)
        if n_tok == 0:
            raise APIError(400, f"prompt {pi} is empty: it must contain at least one token.", param="prompt")
        prompt_total += n_tok
        budget = completion_budget(n_tok, req.max_tokens, backend.capabilities.context_length, limits, "prompt")
        for j in range(req.n):
            params = SamplingParams(
                max_tokens=budget, temperature=1.0 if req.temperature is None else req.temperature,
                top_p=1.0 if req.top_p is None else req.top_p, top_k=req.top_k or 0,
                seed=clamp_seed(req.seed, j), presence_penalty=req.presence_penalty,
                frequency_penalty=req.frequency_penalty, logprobs=req.logprobs is not None,
                top_logprobs=req.logprobs or 0, ignore_eos=req.ignore_eos,
                prompt_logprobs=req.logprobs if scoring else None)
            if budget == 0 and not scoring:  # echo alone: nothing for the model to do
                choices.append(_echo_only(pi * req.n + j, n_tok))
            else:
                choices.append(run_choice(backend, GenerationRequest(prompt, params, adapter, rid, deadline),
                                          stops, pi * req.n + j, track))
            echoes.append(prompt if isinstance(prompt, str) and req.echo else "")
    if track is not None:
        track.prompt_tokens = prompt_total
    firsts = await prime(choices)
    base = {"id": rid, "object": "text_completion", "created": created, "model": req.model,
            "system_fingerprint": None}
    want_lp = req.logprobs is not None
    if req.stream:
        include = bool(req.stream_options and req.stream_options.include_usage)
        return _stream(choices, firsts, base, echoes, want_lp, include, prompt_total), True
    texts, lps = [""] * len(choices), [[] for _ in choices]  # type: list[str], list[list[Any]]
    scored: list[list[PromptLogprob] | None] = [None] * len(choices)
    finish: list[str | None] = [None] * len(choices)
    counts = [0] * len(choices)
    async for d in merged(choices, firsts):
        texts[d.index] += d.text
        lps[d.index] += d.logprobs
        scored[d.index] = d.prompt_logprobs or scored[d.index]
        finish[d.index], counts[d.index] = d.finish_reason or finish[d.index], d.completion_tokens
    out = []
    for i in range(len(choices)):
        prompt_lp = scored[i]
        echo = echoes[i] or ("".join(p.token for p in prompt_lp) if prompt_lp is not None else "")
        logprobs = None
        if prompt_lp is not None:
            logprobs = echo_logprobs(prompt_lp, lps[i], len(echo))
        elif want_lp:
            logprobs = completion_logprobs(lps[i], len(echo))
        out.append({"index": i, "text": echo + texts[i], "finish_reason": finish[i] or "stop", "logprobs": logprobs})
    return {**base, "choices": out, "usage": usage(prompt_total, sum(counts))}, False


async def _echo_only(index: int, prompt_tokens: int) -> AsyncIterator[Delta]:
    yield Delta(index, "", [], "length", prompt_tokens, 0)


async def _stream(choices: list[AsyncIterator[Delta]], firsts: list[Delta], base: dict[str, Any],
                  echoes: list[str], want_lp: bool, include_usage: bool,
                  prompt_total: int) -> AsyncIterator[dict[str, Any]]:
    counts = [0] * len(choices)
    for i, e in enumerate(echoes):
        if e:
            yield {**base, "choices": [{"index": i, "text": e, "logprobs": None, "finish_reason": None}]}
    async for d in merged(choices, firsts):
        counts[d.index] = d.completion_tokens
        lp = completion_logprobs(d.logprobs, 0) if want_lp else None
        if d.text or d.finish_reason or lp:
            yield {**base, "choices": [{"index": d.index, "text": d.text, "logprobs": lp,
                                        "finish_reason": d.finish_reason}]}
    if include_usage:
        yield {**base, "choices": [], "usage": usage(prompt_total, sum(counts))}
