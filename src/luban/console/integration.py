"""Console API: what the chat playground and the integration page need to know about this gateway.

    GET /console/api/integration/gateway   the hooks a call passes through (guard policy and labels, prompt
                                           templates), the caller's own key template, the widget's presence

Design choices:
- The pages talk to the model API (/v1) and the admin API (/admin) directly, like any client, so that what a
  user sees in the playground is what their application will get. This one route only tells the page what
  it cannot learn from an answer: whether templates are applied at all, and which guard policy runs.
- Read-only and cheap: it reads the gateway's configured hooks in memory; it never touches the hot path.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from luban.console.base import Console
from luban.gateway.guard import GuardHook
from luban.gateway.keys import KeyRecord
from luban.gateway.prompts import PromptHook
from luban.guard.policy import get_policy


def router(console: Console) -> APIRouter:
    api = APIRouter()

    @api.get("/integration/gateway")
    async def gateway_info(key: KeyRecord = Depends(console.require("models.list"))) -> dict[str, Any]:
        hooks = console.gateway.hooks.hooks
        guard = next((h for h in hooks if isinstance(h, GuardHook)), None)
        info: dict[str, Any] = {
            "hooks": [getattr(h, "name", type(h).__name__) for h in hooks],
            "prompts": any(isinstance(h, PromptHook) for h in hooks),
            "key_prompt": key.prompt,
            "guard": None,
        }
        if guard is not None:
            policy = get_policy(key.policy or guard.policy_name)
            lab = policy.spec.labeling
            info["guard"] = {"policy": policy.name, "input": guard.check_input, "output": guard.check_output,
                             "explicit_label": lab.explicit, "implicit_label": lab.implicit}
        return info

    return api
