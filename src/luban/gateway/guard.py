"""The guard at the gateway's hook points: one policy on the way in, on the stream out, and on the label.

`hooks: [{use: guard, with: {policy: default}}]` in gateway.yaml. A key's own `policy` wins over the hook's.

- `pre_call`: user and tool messages (where injected instructions arrive) go through the policy's input
  scanners: a block refuses the call with the policy's message in the request's language (HTTP 400,
  code `content_filter`); masks rewrite the messages before they go upstream. For a model that may be
  served overseas (an upstream whose region is `overseas`, by gateway.yaml or the provider catalog, or
  `ctx.extra["region"]`), the cross-border rule masks, blocks or counts personal information in every
  message; what is sent abroad is recorded in the workspace's ledger (`luban.guard.crossborder`).
  The implicit AIGC label is set here, so that a stream's headers carry it.
- `on_chunk` / `flush`: the answer goes through `luban.guard.stream.StreamModerator`, one per choice:
  at most `stream.hold_chars` characters are held back; a block ends the answer with the refusal and
  `finish_reason: "content_filter"`. The explicit AIGC notice is added at the end (or start).
- Verdicts that are not `allow` are copied into `ctx.verdicts` for usage and audit, and shown to the client
  (the console's chat shows them): the policy and the input's verdicts in the `X-Luban-Guard` header
  (compact JSON, action/scanner/category only, never the text or spans); a non-streamed answer also carries
  every verdict, output included, in its `luban_guard` field. A stream's output block is its refusal with
  `finish_reason: "content_filter"`; its masks show in the text.
A policy with a remote scanner (an LLM judge) is run in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from luban.gateway.hooks import BaseHook, CallContext, HookEnv, Refusal, Verdict
from luban.guard import detectors
from luban.guard.crossborder import Ledger, ledger_path
from luban.guard.labeling import FIELD, HEADER, header_value, implicit_label, notice
from luban.guard.policy import Policy, get_policy
from luban.guard.stream import Blocked, StreamModerator
from luban.guard.verdict import Decision, language

TEXT_ROUTES = ("chat.completions", "completions")
REPORT_HEADER = "X-Luban-Guard"
REPORT_FIELD = "luban_guard"
SCANNED_ROLES = ("user", "tool", "function")
Slot = tuple[Any, Any, bool]  # (a dict or list holding a text, its key or index, scanned by the input policy)
CROSS_BORDER_REFUSAL = {
    "zh": "该请求含有个人信息，按安全策略不能发送到境外模型。请删除个人信息，或改用境内部署的模型。",
    "en": "This request contains personal information, which the guard policy does not let leave for a model "
          "served abroad. Remove it, or use a model deployed in China.",
}


class GuardHook(BaseHook):
    name = "guard"

    def __init__(self, policy: str = "default", input: bool = True, output: bool = True,
                 ledger: str | None = None) -> None:
        self.policy_name = policy
        self.check_input = input
        self.check_output = output
        self.ledger_file = Path(ledger) if ledger else None
        self.ledger: Ledger | None = None
        self.regions: dict[str, set[str]] = {}
        get_policy(policy)  # a bad policy stops the gateway at start, with its one-line error

    async def start(self, env: HookEnv) -> None:
        self.regions = model_regions(env.config, env.catalog)
        path = self.ledger_file or (ledger_path(env.workspace) if env.workspace is not None else None)
        if path is not None:
            self.ledger = Ledger(path)

    async def stop(self) -> None:
        if self.ledger is not None:
            self.ledger.close()
            self.ledger = None

    def policy(self, ctx: CallContext) -> Policy:
        name = ctx.key.policy if ctx.key is not None and ctx.key.policy else self.policy_name
        return get_policy(name)

    def overseas(self, ctx: CallContext, policy: Policy) -> bool:
        regions = {ctx.extra["region"]} if ctx.extra.get("region") else self.regions.get(ctx.model, set())
        return bool(regions & set(policy.spec.cross_border.regions))

    # -- in -------------------------------------------------------------------------------------------
    async def pre_call(self, ctx: CallContext) -> None:
        if ctx.route not in TEXT_ROUTES and ctx.route != "embeddings":
            return
        policy = self.policy(ctx)
        slots = list(_text_slots(ctx))
        asked = [s for s in slots if s[2]]
        lang = language(asked[-1][0][asked[-1][1]] if asked else "")
        ctx.extra["guard_lang"] = lang
        if self.check_input:
            for holder, key, scanned in slots:
                if not scanned:
                    continue
                text = holder[key]
                d = await asyncio.to_thread(policy.scan, text, "input", lang) if policy.remote else \
                    policy.scan(text, "input", lang)
                _copy(ctx, d)
                if d.blocked:
                    raise Refusal(d.refusal or "", status=400, code="content_filter")
                if d.text != text:
                    holder[key] = d.text
        cb = policy.spec.cross_border
        if cb.enabled and self.overseas(ctx, policy):
            await self._cross_border(ctx, policy, slots, lang)
        if ctx.route in TEXT_ROUTES:
            lab = policy.spec.labeling
            if lab.implicit:
                label = implicit_label(lab, ctx.request_id)
                ctx.response_headers[HEADER] = header_value(label)
                ctx.response_fields[FIELD] = label
            ctx.extra["guard_policy"] = policy
        ctx.response_headers[REPORT_HEADER] = json.dumps(_report(ctx, policy), separators=(",", ":"),
                                                         ensure_ascii=True)

    async def _cross_border(self, ctx: CallContext, policy: Policy, slots: list[Slot], lang: str) -> None:
        cb = policy.spec.cross_border
        dets = detectors.load(cb.types)
        sent: list[detectors.Match] = []
        for holder, key, _ in slots:
            text = holder[key]
            found = detectors.scan(text, dets)
            if not found:
                continue
            ctx.verdicts.append(Verdict("block" if cb.action == "block" else "mask" if cb.action == "mask" else "flag",
                                        "cross_border", "personal_information",
                                        "personal information bound for an overseas upstream: "
                                        + ", ".join(sorted({m.type for m in found})),
                                        [(m.start, m.end) for m in found]))
            if cb.action == "block":
                raise Refusal(CROSS_BORDER_REFUSAL.get(lang, CROSS_BORDER_REFUSAL["en"]), status=400,
                              code="content_filter")
            if cb.action == "mask":
                holder[key] = detectors.redact(text, found, "tag")
            else:
                sent.extend(found)
        if sent and self.ledger is not None:
            await asyncio.to_thread(self.ledger.record, sent, ctx.model)

    # -- out ------------------------------------------------------------------------------------------
    def _moderator(self, ctx: CallContext) -> StreamModerator | None:
        if not self.check_output or ctx.route not in TEXT_ROUTES:
            return None
        mods: dict[int, StreamModerator] = ctx.extra.setdefault("guard_streams", {})
        mod = mods.get(ctx.choice)
        if mod is None:
            policy = ctx.extra.get("guard_policy") or self.policy(ctx)
            mod = mods[ctx.choice] = StreamModerator(policy, lang=ctx.extra.get("guard_lang", "en"))
            lab = policy.spec.labeling
            if lab.explicit and lab.position == "start":
                ctx.extra.setdefault("guard_prefix", set()).add(ctx.choice)
        return mod

    def on_chunk(self, ctx: CallContext, text: str) -> str:
        mod = self._moderator(ctx)
        if mod is None:
            return text
        try:
            out = mod.feed(text)
        except Blocked as b:
            _copy(ctx, b.decision, stage="output")
            if not ctx.stream:
                ctx.response_fields[REPORT_FIELD] = _report(ctx, mod.policy)
            raise Refusal(b.refusal) from None
        pending = ctx.extra.get("guard_prefix")
        if pending and ctx.choice in pending and out:
            pending.discard(ctx.choice)
            out = notice(mod.policy.spec.labeling, mod.lang).lstrip("\n") + "\n\n" + out
        return out

    def flush(self, ctx: CallContext) -> str:
        mod = self._moderator(ctx)
        if mod is None:
            return ""
        try:
            out = mod.finish(whole=not ctx.stream)
        except Blocked as b:
            _copy(ctx, b.decision, stage="output")
            if not ctx.stream:
                ctx.response_fields[REPORT_FIELD] = _report(ctx, mod.policy)
            raise Refusal(b.refusal) from None
        for v in mod.verdicts:
            ctx.verdicts.append(Verdict(v.action, v.scanner, v.category, v.reason, list(v.spans), "output"))
        if not ctx.stream:  # merged into the JSON answer after the last choice's flush
            ctx.response_fields[REPORT_FIELD] = _report(ctx, mod.policy)
        lab = mod.policy.spec.labeling
        if lab.explicit and lab.position == "end" and (out or mod.released):
            out += notice(lab, mod.lang)
        return out


def _report(ctx: CallContext, policy: Policy) -> dict[str, Any]:
    """What the client is told of the guard's work: the policy and each verdict's action, scanner, category
    and stage (never the text, reasons or spans: those stay in the audit)."""
    verdicts = [{"action": v.action, "scanner": v.scanner, "category": v.category, "stage": v.stage}
                for v in ctx.verdicts]
    return {"policy": policy.name, "verdicts": verdicts}


def _copy(ctx: CallContext, d: Decision, stage: str = "input") -> None:
    for v in d.verdicts:
        if v.action != "allow":
            ctx.verdicts.append(Verdict(v.action, v.scanner, v.category, v.reason, list(v.spans), stage))


def _text_slots(ctx: CallContext) -> list[Slot]:
    """Every text of the request body, as a slot that can be read and rewritten."""
    body = ctx.body
    out: list[Slot] = []
    if ctx.route == "chat.completions":
        for msg in body.get("messages") or ():
            if not isinstance(msg, dict):
                continue
            scanned = msg.get("role") in SCANNED_ROLES
            content = msg.get("content")
            if isinstance(content, str):
                out.append((msg, "content", scanned))
            elif isinstance(content, list):
                out.extend((part, "text", scanned) for part in content
                           if isinstance(part, dict) and isinstance(part.get("text"), str))
    elif ctx.route in ("completions", "embeddings"):
        field = "prompt" if ctx.route == "completions" else "input"
        value = body.get(field)
        if isinstance(value, str):
            out.append((body, field, True))
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out.extend((value, i, True) for i in range(len(value)))  # a list is addressed by index
    return out


def model_regions(config: Any, catalog: Any) -> dict[str, set[str]]:
    """Model name or alias -> the regions of every upstream that may answer it (fallbacks included)."""
    if config is None:
        return {}
    providers = getattr(catalog, "providers", {}) or {}
    up_region: dict[str, str] = {}
    for name, up in (getattr(config, "upstreams", None) or {}).items():
        region = up.region or (providers[up.provider].region if up.provider in providers else None)
        up_region[name] = region or "domestic"
    models = getattr(config, "models", None) or {}

    def regions(model: str, seen: set[str]) -> set[str]:
        if model in seen or model not in models:
            return set()
        seen.add(model)
        m = models[model]
        out = {up_region.get(d.upstream, "domestic") for d in m.upstreams}
        for fb in m.fallbacks:
            out |= regions(fb, seen)
        return out

    table: dict[str, set[str]] = {}
    for name, m in models.items():
        r = regions(name, set())
        table[name] = r
        for alias in m.aliases:
            table[alias] = r
    return table
