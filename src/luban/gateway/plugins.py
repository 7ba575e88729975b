"""The gateway's plug-in kinds and their registered names: hooks, upstream kinds, routing strategies, mounts.

Entries are "module:Attr" strings, imported only when a gateway.yaml names them; any other importable
"module:Attr" works too (`hooks: [{use: "mypkg.mod:MyHook", with: {...}}]`). Adding one is one line here.
"""

from __future__ import annotations

from typing import Any

from luban.core.registry import Registry

HOOKS: Registry[Any] = Registry("gateway hook", {
    "usage": "luban.gateway.usage:UsageHook",
    "prompts": "luban.gateway.prompts:PromptHook",
    "guard": "luban.gateway.guard:GuardHook",
    "audit": "luban.gateway.audit:AuditHook",
})

UPSTREAMS: Registry[Any] = Registry("upstream kind", {
    "openai": "luban.gateway.upstreams:OpenAIUpstream",
    "engine": "luban.gateway.upstreams:EngineUpstream",
})

STRATEGIES: Registry[Any] = Registry("routing strategy", {
    "weighted": "luban.gateway.routing:Weighted",
    "least-busy": "luban.gateway.routing:LeastBusy",
    "latency": "luban.gateway.routing:LowestLatency",
})

# management apps the gateway mounts beside the hot path: "prefix" -> a factory `(gateway) -> ASGI app`. The console
# is a layer above the gateway (it shows data, training and evaluation), so the gateway names it here and never
# imports it; `console: false` in gateway.yaml leaves it out.
MOUNTS: Registry[Any] = Registry("gateway mount", {
    "/console": "luban.console.app:create_console_app",
})
