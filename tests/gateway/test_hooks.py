"""Hook points: order of pre_call / on_chunk / flush / post_call, and held-back text passed on."""

from __future__ import annotations

import asyncio

import pytest

from luban.gateway.hooks import BaseHook, CallContext, Hook, Hooks, Refusal


class HoldLast(BaseHook):
    """Holds back the last `n` characters until flush (a stand-in for a carry-over window)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.tail = ""

    def on_chunk(self, ctx: CallContext, text: str) -> str:
        buf = self.tail + text
        self.tail = buf[-self.n:] if self.n else ""
        return buf[: len(buf) - len(self.tail)]

    def flush(self, ctx: CallContext) -> str:
        out, self.tail = self.tail, ""
        return out


class Upper(BaseHook):
    def on_chunk(self, ctx: CallContext, text: str) -> str:
        return text.upper()


class Recorder(BaseHook):
    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name = log, name

    async def pre_call(self, ctx: CallContext) -> None:
        self.log.append(f"pre:{self.name}")
        ctx.body.setdefault("seen", []).append(self.name)

    async def post_call(self, ctx: CallContext) -> None:
        self.log.append(f"post:{self.name}")


def ctx() -> CallContext:
    return CallContext(request_id="r1", route="chat.completions", body={})


def test_base_hook_satisfies_the_protocol_and_empty_hooks_say_so():
    assert isinstance(BaseHook(), Hook)
    assert Hooks().empty
    assert not Hooks([BaseHook()]).empty


def test_held_back_text_released_at_flush_still_passes_later_hooks():
    hooks = Hooks([HoldLast(3), Upper()])
    c = ctx()
    sent = "".join(hooks.on_chunk(c, piece) for piece in ["hel", "lo wo", "rld"])
    assert sent == "HELLO WO"
    assert sent + hooks.flush(c) == "HELLO WORLD"


def test_pre_and_post_call_run_in_order_and_may_rewrite_the_body():
    log: list[str] = []
    hooks = Hooks([Recorder(log, "a"), Recorder(log, "b")])
    c = ctx()
    asyncio.run(hooks.pre_call(c))
    asyncio.run(hooks.post_call(c))
    assert log == ["pre:a", "pre:b", "post:a", "post:b"]
    assert c.body["seen"] == ["a", "b"]


def test_a_refusal_stops_the_call_with_its_status():
    class Deny(BaseHook):
        async def pre_call(self, ctx: CallContext) -> None:
            raise Refusal("prompt 'support@9' does not exist", status=400, code="invalid_prompt")

    with pytest.raises(Refusal) as err:
        asyncio.run(Hooks([Deny()]).pre_call(ctx()))
    assert err.value.status == 400 and err.value.code == "invalid_prompt"
    assert err.value.finish_reason == "content_filter"
