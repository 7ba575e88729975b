"""The audit hook: every gateway call, answered or refused, becomes a record in this replica's hash chain.

gateway.yaml:

    hooks:
      - use: audit
        with: {text: hash, durable: false, burst_per_second: 50, writer: process}

Design choices:
- `writer: process` (the default): `post_call` builds the flat record and hands its JSON to a writer process
  (luban.audit.pipe) that chains, hashes and commits in batches on another core; the event loop pays for the
  dict, one orjson.dumps and a share of one write(2) every 10 ms. A writer thread in this process (the
  other choice, `writer: thread`, and what `text: mask` uses, since masking needs the guard's detectors)
  competes with the event loop for the GIL: it cost 16–20% of the requests/s on 2 cores.
  With `durable: true` the handler waits for its record's commit (the client already has its answer).
- Lost on a crash: with the process writer, only the last 10 ms not yet written to the pipe if the gateway is
  SIGKILLed (the writer commits what the pipe holds); a writer that dies is restarted and sent again what it
  had not committed. With the thread writer, everything not yet committed (up to `flush_ms`).
- Prompts and answers: `text: none` (default is `hash`) keeps neither; `hash` keeps their SHA-256 (proof
  of what was said, without the words); `mask` keeps them with personal information masked by the guard's
  detectors. Answers are collected from `on_chunk` only when text is kept, so the default costs nothing.
  Put this hook last, so it records what the client was actually sent.
- One chain per replica (see luban.audit.store); the store is the gateway's database when it has one
  (PostgreSQL for replicas), else `<workspace>/audit/audit.db`.
- Anomalies: refused keys (401), scope and quota refusals (403/429), blocked content, and bursts (more
  than `burst_per_second` calls of one key within a second).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections import deque
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from luban.audit import AuditLog, default_chain, open_store
from luban.audit.pipe import PipeWriter
from luban.audit.record import action_of, canonical_bytes
from luban.core.errors import ConfigError
from luban.gateway.hooks import BaseHook, CallContext, HookEnv
from luban.guard.detectors import load, redact, scan

TEXT_MODES = ("none", "hash", "mask")
WRITERS = ("process", "thread")
PIPE_FLUSH_S = 0.010


class AuditHook(BaseHook):
    name = "audit"

    def __init__(self, text: str = "hash", durable: bool = False, url: str | None = None,
                 chain: str | None = None, checkpoint_every: float = 60.0, burst_per_second: int = 50,
                 flush_ms: float = 50.0, writer: str = "process") -> None:
        if text not in TEXT_MODES:
            raise ConfigError(f"audit hook: text must be one of {', '.join(TEXT_MODES)}, got '{text}'")
        if writer not in WRITERS:
            raise ConfigError(f"audit hook: writer must be one of {', '.join(WRITERS)}, got '{writer}'")
        self.writer = "thread" if text == "mask" else writer
        self.text = text
        self.durable = durable
        self.url = url
        self.chain = chain
        self.checkpoint_every = checkpoint_every
        self.burst_per_second = burst_per_second
        self.flush_ms = flush_ms  # the writer commits at most this often: fewer, bigger transactions
        self.log: AuditLog | None = None
        self.pipe: PipeWriter | None = None
        self._flush_due = False
        self._recent: dict[str, deque[float]] = {}
        self._detectors = load() if text == "mask" else []

    async def start(self, env: HookEnv) -> None:
        root = env.workspace or Path(os.environ.get("LUBAN_WORKSPACE", "luban-ws"))
        folder = Path(root) / "audit"
        url = self.url or os.environ.get("LUBAN_AUDIT_URL") or (env.db_url if _shared(env.db_url) else None)
        chain = self.chain or default_chain("gateway")
        if self.writer == "process":
            self.pipe = await asyncio.to_thread(PipeWriter.start, folder, url, chain, self.checkpoint_every,
                                                self.flush_ms / 1000)
            return
        store = await asyncio.to_thread(open_store, folder, url)
        self.log = AuditLog(store, folder, chain, checkpoint_every=self.checkpoint_every,
                            linger=self.flush_ms / 1000)

    async def stop(self) -> None:
        if self.pipe is not None:
            await asyncio.to_thread(self.pipe.close)
        if self.log is not None:
            await asyncio.to_thread(self.log.close)

    def on_chunk(self, ctx: CallContext, text: str) -> str:
        if self.text != "none" and text:
            answers = ctx.extra.setdefault("audit_answer", {})
            answers[ctx.choice] = answers.get(ctx.choice, "") + text
        return text

    async def post_call(self, ctx: CallContext) -> None:
        pipe = self.pipe
        if pipe is not None:
            fut = pipe.send(canonical_bytes(self.record(ctx)), want_ack=self.durable)  # stored as it is
            if fut is not None:
                pipe.flush()
                await asyncio.wrap_future(fut)
            elif not self._flush_due:  # one write(2) per interval for every call that finished meanwhile
                self._flush_due = True
                asyncio.get_running_loop().call_later(PIPE_FLUSH_S, self._flush)
            return
        if self.log is None:
            return
        if self.durable:
            await asyncio.wrap_future(self.log.append(self.record(ctx)))
        else:  # the writer thread builds the record: the request pays for a queue put
            self.log.append_later(partial(self.record, ctx))

    def _flush(self) -> None:
        self._flush_due = False
        if self.pipe is not None:
            self.pipe.flush()
            if self.pipe.unwritten:  # a full pipe: try again soon
                self._flush_due = True
                asyncio.get_running_loop().call_later(PIPE_FLUSH_S, self._flush)

    def record(self, ctx: CallContext) -> dict[str, Any]:
        verdicts = [{"action": v.action, "scanner": v.scanner, "category": v.category, "reason": v.reason,
                     "stage": v.stage} for v in ctx.verdicts]
        key = ctx.key
        rec: dict[str, Any] = {
            "ts": ctx.started, "kind": "auth" if ctx.status == 401 else "call", "request_id": ctx.request_id,
            "route": ctx.route, "key_id": key.id if key else None, "role": key.role if key else None,
            "app": key.app if key else None, "source_ip": ctx.client_ip,
            "purpose": ctx.purpose or (key.purpose if key else None),
            "model": ctx.model or None, "upstream": ctx.upstream, "upstream_model": ctx.upstream_model,
            "status": ctx.status, "action": action_of(verdicts, ctx.status), "error": ctx.error,
            "stream": ctx.stream, "cache_hit": ctx.cache_hit, "prompt_tokens": ctx.prompt_tokens,
            "completion_tokens": ctx.completion_tokens, "cost": ctx.cost, "latency_ms": round(ctx.latency_ms, 3),
            "verdicts": verdicts, "anomalies": self.anomalies(ctx, verdicts),
        }
        if self.text != "none":
            rec["prompt"] = self._keep(orjson.dumps(ctx.body.get("messages", ctx.body.get("prompt", ""))).decode())
            answers = ctx.extra.get("audit_answer", {})
            rec["answer"] = [self._keep(answers[i]) for i in sorted(answers)]
        return rec

    def anomalies(self, ctx: CallContext, verdicts: list[dict[str, Any]]) -> list[str]:
        found = list(ctx.anomalies)
        if ctx.status == 401:
            found.append("auth_failure")
        elif ctx.status in (403, 429):
            found.append("refused_" + ("scope" if ctx.status == 403 else "limit"))
        if any(v["action"] == "block" for v in verdicts):
            found.append("blocked_content")
        if ctx.key is not None and self._burst(ctx.key.id, ctx.started):
            found.append("burst")
        return found

    def _burst(self, key_id: str, now: float) -> bool:
        window = self._recent.setdefault(key_id, deque())
        window.append(now)
        while window and window[0] < now - 1.0:
            window.popleft()
        return len(window) > self.burst_per_second

    def _keep(self, text: str) -> str:
        if self.text == "hash":
            return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
        return redact(text, scan(text, self._detectors), "mask")


def _shared(db_url: str | None) -> bool:
    return bool(db_url) and not str(db_url).startswith("sqlite")
