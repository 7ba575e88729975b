"""Hooks that the gateway's tests load by "module:Attr" (this folder is on the gateway process's path)."""

from __future__ import annotations

from luban.gateway.hooks import BaseHook, CallContext, Refusal


class TemplateHook(BaseHook):
    """Refuses like a prompt-template hook does: an unknown template or a missing variable is a 400."""

    name = "templates"

    async def pre_call(self, ctx: CallContext) -> None:
        options = ctx.body.get("luban")
        if not isinstance(options, dict) or "prompt" not in options:
            return
        if options["prompt"] != "support@1":
            raise Refusal(f"unknown prompt template '{options['prompt']}'; `luban prompts list` shows them",
                          status=400, code="invalid_prompt")
        if "product" not in (options.get("variables") or {}):
            raise Refusal("prompt template 'support@1' needs variable 'product'", status=400, code="invalid_prompt")
        ctx.body["messages"] = [{"role": "system", "content": f"You support {options['variables']['product']}."},
                                *ctx.body.get("messages", [])]


class BlockWord(BaseHook):
    """An output check with a carry-over window: 'forbidden' split across chunks is still caught."""

    name = "blockword"
    word = "forbidden"

    def __init__(self) -> None:
        self.tail: dict[tuple[str, int], str] = {}

    def on_chunk(self, ctx: CallContext, text: str) -> str:
        k = (ctx.request_id, ctx.choice)
        buf = self.tail.get(k, "") + text
        if self.word in buf:
            self.tail.pop(k, None)
            raise Refusal("I cannot answer that.")
        keep = len(self.word) - 1
        self.tail[k] = buf[-keep:]
        return buf[:-keep] if len(buf) > keep else ""

    def flush(self, ctx: CallContext) -> str:
        return self.tail.pop((ctx.request_id, ctx.choice), "")

    async def pre_call(self, ctx: CallContext) -> None:
        ctx.response_headers["X-Test-Label"] = "checked"


class Broken(BaseHook):
    """A hook with a bug: a request that asks for it (`"luban": {"break": true}`) hits a KeyError."""

    name = "broken"

    async def pre_call(self, ctx: CallContext) -> None:
        if (ctx.body.get("luban") or {}).get("break"):
            raise KeyError("a bug in a hook")
