"""Hook points that every gateway call passes through: before the call, per streamed chunk, after the call.

The guard (moderation in and out, AIGC labels), the audit log, usage accounting and prompt templates all
plug in here; the hot path knows none of them by name.

Design choices:
- Three points, typed and small. `pre_call` may rewrite the request (a prompt template, a masked
  prompt) or refuse it by raising `Refusal`; `on_chunk` sees each piece of streamed text and returns what
  may go to the client now (holding back a bounded tail is allowed, see `flush`); `post_call` sees the
  finished call (status, usage, cost, verdicts) and must not block: sinks queue and write in batches.
- A non-streamed answer passes through `on_chunk` once with its whole text, then `flush`, so one guard
  implementation covers both shapes.
- With no hook registered the gateway skips every point: `Hooks.empty` is checked once per call.
- `CallContext` is a plain dataclass: hooks read and annotate it (`verdicts`, `response_headers`,
  `response_fields`); it is the one record of a call that usage and audit write down. It reaches
  `post_call` for refused calls too (401, 403, 429, hooks' refusals): `status` and `error` say why, and
  `key` is None when no valid key was given.
- Answers with several choices (`n` > 1) pass through `on_chunk` / `flush` choice by choice; `ctx.choice`
  says which, so that a hook holding text back keeps one window per choice.
- Headers a hook wants on the answer must be set by the end of `pre_call` (a stream's headers leave
  before its first chunk); `response_fields` are merged into a JSON answer and into a stream's first chunk.
- Hooks that own resources (a batch writer, a database) get `start(env)` when the gateway starts and
  `stop()` when it stops; `HookEnv` gives them the gateway's config, workspace, database and Redis URLs,
  and `gauge` to publish a figure on /metrics (read when Prometheus scrapes, never on a request).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@dataclass
class CallerKey:
    """Who is calling: the API key's public id (never the secret), its role, scopes and app."""

    id: str
    role: str = "app"
    scopes: tuple[str, ...] = ()
    app: str | None = None
    policy: str | None = None
    prompt: str | None = None  # a prompt template attached to the key, e.g. "support@3"
    purpose: str | None = None  # the key's default purpose, when the request names none


@dataclass
class Verdict:
    """One hook's judgement of a text: allow / mask / block / flag, with why and where."""

    action: str
    scanner: str
    category: str | None = None
    reason: str | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)
    stage: str = "input"  # input | output


@dataclass
class CallContext:
    """Everything known about one call, filled in as it goes through the gateway."""

    request_id: str
    route: str  # "chat.completions", "completions", "embeddings", "moderations"
    body: dict[str, Any]  # the OpenAI request body; pre_call hooks may rewrite it
    key: CallerKey | None = None
    client_ip: str = ""
    purpose: str | None = None
    origin: str | None = None  # the web page's origin when a browser on another site calls (gateway/cors.py)
    headers: Mapping[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    model: str = ""  # as asked for (an alias or a name)
    upstream: str | None = None  # the upstream that answered
    upstream_model: str | None = None
    stream: bool = False
    choice: int = 0  # the choice whose text `on_chunk` / `flush` are seeing
    status: int = 0
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0  # in the price table's currency
    cache_hit: bool = False
    output_refused: bool = False  # an output hook ended the answer with a Refusal
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    verdicts: list[Verdict] = field(default_factory=list)
    anomalies: list[str] = field(default_factory=list)
    response_headers: dict[str, str] = field(default_factory=dict)
    response_fields: dict[str, Any] = field(default_factory=dict)  # merged into the response's top level
    extra: dict[str, Any] = field(default_factory=dict)


Gauge = Callable[[str, str, Callable[[], float]], None]  # (metric name, help text, read at scrape time)


def no_gauge(name: str, doc: str, read: Callable[[], float]) -> None:
    """Where there is no /metrics (a hook started outside a gateway): figures go nowhere."""


@dataclass
class HookEnv:
    """What a hook may need from the gateway it runs in, given to `start`."""

    config: Any  # the GatewayConfig
    workspace: Path | None  # the workspace folder, when the gateway has one
    db_url: str | None  # the gateway's SQLAlchemy URL (keys live there; usage may too); None: no database
    redis_url: str | None
    catalog: Any  # luban.gateway.providers.Catalog: prices, regions
    gauge: Gauge = no_gauge  # publish a gauge: env.gauge("luban_gateway_x", "what it counts", lambda: 1.0)


class Refusal(Exception):  # noqa: N818 - a decision, not a fault
    """Raised by `pre_call` to refuse a request, or by `on_chunk` / `flush` to end an answer.

    For a request: the gateway answers `status` in OpenAI's error format with `message`. For an answer
    under way: the gateway sends `message` as the last content and ends with `finish_reason`
    ("content_filter"), in the stream or in the JSON body.
    """

    def __init__(self, message: str, status: int = 400, code: str = "content_filter",
                 finish_reason: str = "content_filter") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.finish_reason = finish_reason


@runtime_checkable
class Hook(Protocol):
    """A plug-in at the gateway's hook points. Subclass `BaseHook` and override what you need."""

    name: str

    async def start(self, env: HookEnv) -> None: ...

    async def stop(self) -> None: ...

    async def pre_call(self, ctx: CallContext) -> None: ...

    def on_chunk(self, ctx: CallContext, text: str) -> str: ...

    def flush(self, ctx: CallContext) -> str: ...

    async def post_call(self, ctx: CallContext) -> None: ...


class BaseHook:
    """Does nothing at every point; hooks override the points they use."""

    name = "hook"

    async def start(self, env: HookEnv) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def pre_call(self, ctx: CallContext) -> None:
        return None

    def on_chunk(self, ctx: CallContext, text: str) -> str:
        return text

    def flush(self, ctx: CallContext) -> str:
        """At the end of an answer: whatever this hook still holds back (after its last check)."""
        return ""

    async def post_call(self, ctx: CallContext) -> None:
        return None


def _uses(hook: Hook, point: str) -> bool:
    """Whether `hook` does something at `point`: a BaseHook subclass that keeps the no-op costs nothing."""
    return getattr(type(hook), point, None) is not getattr(BaseHook, point)


class Hooks:
    """The ordered hooks of one gateway. Output hooks run in order on each chunk; held-back text is
    passed on to the next hook when an earlier one releases it.

    Each point runs only the hooks that implement it (a usage hook that only has `post_call` never sees
    a chunk), and `output` is False when no hook looks at answers, so the gateway sends the upstream's
    bytes untouched."""

    def __init__(self, hooks: list[Hook] | None = None) -> None:
        self.hooks: list[Hook] = []
        self._pre: list[Hook] = []
        self._out: list[Hook] = []
        self._post: list[Hook] = []
        for hook in hooks or []:
            self.add(hook)

    @property
    def empty(self) -> bool:
        return not self.hooks

    @property
    def output(self) -> bool:
        """True when some hook sees (and may change) answer text."""
        return bool(self._out)

    def add(self, hook: Hook) -> None:
        self.hooks.append(hook)
        if _uses(hook, "pre_call"):
            self._pre.append(hook)
        if _uses(hook, "on_chunk") or _uses(hook, "flush"):
            self._out.append(hook)
        if _uses(hook, "post_call"):
            self._post.append(hook)

    async def start(self, env: HookEnv) -> None:
        for hook in self.hooks:
            await hook.start(env)

    async def stop(self) -> None:
        for hook in reversed(self.hooks):
            await hook.stop()

    async def pre_call(self, ctx: CallContext) -> None:
        for hook in self._pre:
            await hook.pre_call(ctx)

    def on_chunk(self, ctx: CallContext, text: str) -> str:
        for hook in self._out:
            text = hook.on_chunk(ctx, text)
        return text

    def flush(self, ctx: CallContext) -> str:
        """Drain every hook in order: what hook i releases still passes through hooks i+1.."""
        out = ""
        for i, hook in enumerate(self._out):
            released = hook.flush(ctx)
            for later in self._out[i + 1:]:
                released = later.on_chunk(ctx, released) if released else released
            out += released
        return out

    async def post_call(self, ctx: CallContext) -> None:
        for hook in self._post:
            await hook.post_call(ctx)
