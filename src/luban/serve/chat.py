"""POST /v1/chat/completions: prompt building, then a full response or an SSE stream of chunks.

The stream follows OpenAI exactly: a first chunk with the role, content deltas, for tool calls a
first `tool_calls` delta with id, type, name and empty arguments followed by argument fragments,
a last chunk per choice with `finish_reason`, then (with `stream_options.include_usage`) one chunk
with empty `choices` and the `usage`, then `data: [DONE]`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from luban.serve.backends.base import Backend, Constraint, GenerationRequest, SamplingParams
from luban.serve.choice import Delta, merged, prime, run_choice
from luban.serve.errors import APIError
from luban.serve.inflight import Inflight
from luban.serve.limits import Limits, clamp_seed, completion_budget
from luban.serve.protocol import ChatCompletionRequest
from luban.serve.responses import chat_logprobs, usage
from luban.serve.tools import TOOL_OPEN, ToolPlan, call_id, parse_calls, plan


@dataclass
class Prepared:
    """Everything the response needs besides the generated deltas."""

    rid: str
    created: int
    model: str
    plan: ToolPlan
    n: int
    want_logprobs: bool
    choices: list[AsyncIterator[Delta]] = field(default_factory=list)


def _constraint(req: ChatCompletionRequest, tp: ToolPlan) -> Constraint | None:
    rf = req.response_format
    if rf is None or rf.type == "text" or tp.constraint is not None:
        return tp.constraint
    if rf.type == "json_object":
        return Constraint("json_object")
    if rf.json_schema is None or rf.json_schema.schema_ is None:
        raise APIError(400, "response_format of type json_schema needs `json_schema.schema`.",
                       param="response_format.json_schema")
    return Constraint("json_schema", rf.json_schema.schema_)


def prepare(req: ChatCompletionRequest, backend: Backend, adapter: str | None, limits: Limits,
            track: Inflight | None = None) -> Prepared:
    caps = backend.capabilities
    tp = plan(req)
    constraint = _constraint(req, tp)
    if constraint is not None and not caps.constrained:
        raise APIError(400, f"model '{req.model}' does not support response_format / forced tool calls.",
                       param="response_format")
    want_lp = bool(req.logprobs or req.top_logprobs)
    if want_lp and not caps.logprobs:
        raise APIError(400, f"model '{req.model}' does not return logprobs.", param="logprobs")
    messages = [m.model_dump(exclude_none=True) for m in req.messages]
    tools = [t.model_dump(exclude_none=True) for t in req.tools] if req.tools else None
    try:
        prompt = backend.render_chat(messages, tools)
    except APIError:
        raise
    except Exception as err:
        raise APIError(400, f"the model's chat template rejected the messages: {err}", param="messages") from err
    prompt_tokens = backend.count_tokens(prompt)
    budget = completion_budget(prompt_tokens, req.max_completion_tokens or req.max_tokens,
                               caps.context_length, limits, "messages")
    if track is not None:
        track.prompt_tokens = prompt_tokens
    stops = [req.stop] if isinstance(req.stop, str) else list(req.stop or [])
    deadline = time.monotonic() + limits.request_timeout if limits.request_timeout else None
    out = Prepared("chatcmpl-" + uuid.uuid4().hex, int(time.time()), req.model, tp, req.n, want_lp)
    for i in range(req.n):
        params = SamplingParams(
            max_tokens=budget, temperature=1.0 if req.temperature is None else req.temperature,
            top_p=1.0 if req.top_p is None else req.top_p, top_k=req.top_k or 0, seed=clamp_seed(req.seed, i),
            presence_penalty=req.presence_penalty, frequency_penalty=req.frequency_penalty,
            logprobs=want_lp, top_logprobs=req.top_logprobs or 0, ignore_eos=req.ignore_eos,
            constraint=constraint)
        gen = GenerationRequest(prompt, params, adapter, out.rid, deadline)
        out.choices.append(run_choice(backend, gen, stops, i, track))
    return out


async def complete(p: Prepared) -> dict[str, Any]:
    """The whole (non-streaming) chat.completion object."""
    firsts = await prime(p.choices)
    texts = [""] * p.n
    lps: list[list[Any]] = [[] for _ in range(p.n)]
    finish: list[str | None] = [None] * p.n
    counts, prompt_tokens = [0] * p.n, firsts[0].prompt_tokens if firsts else 0
    async for d in merged(p.choices, firsts):
        texts[d.index] += d.text
        lps[d.index] += d.logprobs
        counts[d.index] = d.completion_tokens
        finish[d.index] = d.finish_reason or finish[d.index]
    choices = []
    for i in range(p.n):
        content, calls = parse_calls(texts[i], p.plan.mode, p.plan.name)
        message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
        reason = finish[i] or "stop"
        if calls:
            message["tool_calls"] = calls
            reason = "tool_calls" if reason == "stop" else reason
        choices.append({"index": i, "message": message, "finish_reason": reason,
                        "logprobs": chat_logprobs(lps[i]) if p.want_logprobs else None})
    return {"id": p.rid, "object": "chat.completion", "created": p.created, "model": p.model,
            "system_fingerprint": None, "choices": choices, "usage": usage(prompt_tokens, sum(counts))}


@dataclass
class _ChoiceState:
    full: str = ""
    emitted: int = 0
    in_call: bool = False
    completion: int = 0


def _held(full: str, marker: str) -> int:
    """How many trailing characters might be the start of `marker`."""
    for k in range(min(len(marker) - 1, len(full)), 0, -1):
        if full.endswith(marker[:k]):
            return k
    return 0


async def stream(p: Prepared, include_usage: bool) -> AsyncIterator[dict[str, Any]]:
    """Prime every choice (so 429/400 are still HTTP errors), then return the chunk iterator."""
    firsts = await prime(p.choices)
    base = {"id": p.rid, "object": "chat.completion.chunk", "created": p.created, "model": p.model,
            "system_fingerprint": None}

    def chunk(i: int, delta: dict[str, Any], finish: str | None = None, lp: Any = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": i, "delta": delta, "logprobs": lp, "finish_reason": finish}]}

    return _chunks(p, firsts, chunk, include_usage, base)


async def _chunks(p: Prepared, firsts: list[Delta], chunk: Any, include_usage: bool,
                  base: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    mode = p.plan.mode
    states = [_ChoiceState() for _ in range(p.n)]
    for i in range(p.n):
        if mode == "forced_args":
            yield chunk(i, {"role": "assistant", "content": None, "tool_calls": [
                {"index": 0, "id": call_id(), "type": "function",
                 "function": {"name": p.plan.name, "arguments": ""}}]})
        else:
            yield chunk(i, {"role": "assistant", "content": ""})
    prompt_tokens = firsts[0].prompt_tokens if firsts else 0
    async for d in merged(p.choices, firsts):
        st = states[d.index]
        st.completion = d.completion_tokens
        lp = chat_logprobs(d.logprobs) if p.want_logprobs and d.logprobs else None
        if mode == "forced_args":
            if d.text:
                yield chunk(d.index, {"tool_calls": [{"index": 0, "function": {"arguments": d.text}}]})
        elif mode == "none":
            if d.text or lp:
                yield chunk(d.index, {"content": d.text}, lp=lp)
        else:
            st.full += d.text
            if mode == "auto" and not st.in_call:
                cut = st.full.find(TOOL_OPEN)
                st.in_call = cut >= 0
                end = cut if cut >= 0 else len(st.full) - _held(st.full, TOOL_OPEN)
                if end > st.emitted:
                    yield chunk(d.index, {"content": st.full[st.emitted:end]}, lp=lp)
                    st.emitted = end
        if d.finish_reason is None:
            continue
        reason = d.finish_reason
        if mode == "forced_args" and reason == "stop":
            reason = "tool_calls"
        elif mode in ("auto", "forced_call"):
            _content, calls = parse_calls(st.full, mode, p.plan.name)
            if calls:
                yield chunk(d.index, {"tool_calls": [{"index": k, **c} for k, c in enumerate(calls)]})
                reason = "tool_calls" if reason == "stop" else reason
            elif st.full[st.emitted:]:
                yield chunk(d.index, {"content": st.full[st.emitted:]})
        yield chunk(d.index, {}, reason)
    if include_usage:
        yield {**base, "choices": [], "usage": usage(prompt_tokens, sum(s.completion for s in states))}
