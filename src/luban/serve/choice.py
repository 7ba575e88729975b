"""Running the `n` choices of one request: stop strings, priming, merging their streams.

Design choices:
- `prime` awaits the first output of every choice before anything is sent: queue-full (429), a bad
  schema (400) or an unknown adapter surface as HTTP errors, not as a broken stream.
- Each choice is an async iterator over `Delta`s; closing it closes the backend generator, which
  cancels the sequence in the engine (client disconnects, stop strings).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from luban.serve.backends.base import Backend, GenerationRequest, PromptLogprob, TokenLogprob
from luban.serve.inflight import Inflight
from luban.serve.stops import StopMatcher


@dataclass
class Delta:
    index: int
    text: str
    logprobs: list[tuple[TokenLogprob, list[TokenLogprob]]]
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int
    prompt_logprobs: list[PromptLogprob] | None = None  # on the first delta when the request scores its prompt


async def run_choice(backend: Backend, request: GenerationRequest, stops: list[str],
                     index: int, track: Inflight | None = None) -> AsyncIterator[Delta]:
    """The choice's deltas; `track` (the request's `Inflight`) gets its sequence and token count."""
    gen = backend.generate(request)
    matcher = StopMatcher(stops)
    if track is not None:
        track.requests.append(request)
    try:
        async for step in gen:
            if track is not None:
                track.started = True
                track.completion[index] = step.completion_tokens
            text, hit = matcher.feed(step.text)
            finish = "stop" if hit else step.finish_reason
            if finish is not None and not hit:
                text += matcher.flush()
            yield Delta(index, text, step.logprobs or [], finish, step.prompt_tokens, step.completion_tokens,
                        step.prompt_logprobs)
            if finish is not None:
                return
    finally:
        await gen.aclose()


async def prime(choices: list[AsyncIterator[Delta]]) -> list[Delta]:
    """The first Delta of every choice; on any error all choices are closed and the error raised."""
    try:
        return list(await asyncio.gather(*(anext(c) for c in choices)))
    except BaseException:
        for c in choices:
            with contextlib.suppress(Exception):
                await c.aclose()  # type: ignore[attr-defined]
        raise


async def merged(choices: list[AsyncIterator[Delta]], firsts: list[Delta]) -> AsyncIterator[Delta]:
    """All deltas of all choices in arrival order, starting with the primed ones."""
    for d in firsts:
        yield d
    live = [c for c, d in zip(choices, firsts) if d.finish_reason is None]
    if len(live) == 1:
        async for d in live[0]:
            yield d
        return
    queue: asyncio.Queue[Delta | BaseException | None] = asyncio.Queue()

    async def pump(c: AsyncIterator[Delta]) -> None:
        try:
            async for d in c:
                await queue.put(d)
        except Exception as err:  # noqa: BLE001 - re-raised in the consumer
            await queue.put(err)
        finally:
            await queue.put(None)

    tasks = [asyncio.create_task(pump(c)) for c in live]
    try:
        remaining = len(tasks)
        while remaining:
            item = await queue.get()
            if item is None:
                remaining -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for c in live:
            with contextlib.suppress(Exception):
                await c.aclose()  # type: ignore[attr-defined]
