"""`/v1/moderations` in OpenAI's format, answered by a Luban guard policy.

Applications that already call a moderation endpoint point their base URL at Luban and keep their code:
`client.moderations.create(model="luban-guard", input=...)`. `model` picks the policy: `luban-guard`
(or any name without a slash) is the app's policy, `luban-guard/<policy>` names another one.

The app is a small FastAPI app. The gateway mounts it at `/v1/moderations` (`create_moderations_app(...,
authenticate=gateway.authenticate)`, so the same API keys apply); `luban guard serve` runs it alone.

Mapping: Luban's categories go to the nearest of OpenAI's (violence, weapons -> illicit/violent, self_harm,
sexual, sexual/minors, hate for hatred and discrimination); every other refusal category (subversion,
separatism, national security, fraud, drugs, prompt injection, ...) is `illicit`. A result is `flagged`
when the policy blocks the text. Each result also carries a `luban` object: the action, Luban's
categories with their TC260-003 Appendix A codes, every verdict with spans, and the masked text.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from luban.core.errors import LubanError
from luban.guard.categories import appendix_code
from luban.guard.policy import get_policy
from luban.guard.verdict import Decision

OPENAI_CATEGORIES = ("harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
                     "self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors", "violence",
                     "violence/graphic")
TO_OPENAI: dict[str, tuple[str, ...]] = {
    "violence": ("violence",),
    "weapons": ("illicit", "illicit/violent"),
    "terrorism": ("violence", "illicit/violent"),
    "extremism": ("violence", "illicit/violent"),
    "self_harm": ("self-harm", "self-harm/intent"),
    "sexual": ("sexual",),
    "sexual_minors": ("sexual", "sexual/minors"),
    "ethnic_hatred": ("hate", "hate/threatening"),
    "hate": ("hate",),
}


def openai_categories(category: str | None) -> tuple[str, ...]:
    if not category:
        return ("illicit",)
    if category in TO_OPENAI:
        return TO_OPENAI[category]
    if category.endswith("_discrimination"):
        return ("hate",)
    return ("illicit",)


class ModerationRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    input: str | list[Any]
    model: str | None = None


def texts_of(value: str | list[Any]) -> list[str]:
    """The texts of a moderation input: a string, a list of strings, or a list of content parts."""
    if isinstance(value, str):
        return [value]
    if all(isinstance(v, str) for v in value):
        return list(value)
    return [p["text"] for p in value if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)]


def result(d: Decision) -> dict[str, Any]:
    flagged = d.blocked
    cats = dict.fromkeys(OPENAI_CATEGORIES, False)
    scores = dict.fromkeys(OPENAI_CATEGORIES, 0.0)
    for v in d.verdicts:
        if v.action != "block":
            continue
        for c in openai_categories(v.category):
            cats[c] = True
            scores[c] = max(scores[c], float(v.score if v.score is not None else 1.0))
    luban_cats = sorted({v.category for v in d.verdicts if v.category and v.action != "allow"})
    return {
        "flagged": flagged,
        "categories": cats,
        "category_scores": scores,
        "category_applied_input_types": {c: ["text"] if cats[c] else [] for c in OPENAI_CATEGORIES},
        "luban": {"action": d.action, "categories": luban_cats,
                  "appendix_a": sorted({c for c in map(appendix_code, luban_cats) if c}),
                  "verdicts": [v.to_dict() for v in d.verdicts], "text": d.text, "refusal": d.refusal},
    }


def _error(status: int, message: str, code: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}},
                        status_code=status)


def create_moderations_app(policy: str = "default",
                           authenticate: Callable[[bytes | None], Any] | None = None) -> FastAPI:
    """The moderation app. `authenticate(authorization header)` raises an error with `status` and
    `message` to refuse a caller (the gateway's key check); None: no auth (loopback, tests)."""
    app = FastAPI(title="Luban moderation", docs_url=None, redoc_url=None, openapi_url=None)
    get_policy(policy)  # a bad policy fails here, at start

    async def moderate(request: Request) -> JSONResponse:
        if authenticate is not None:
            try:
                authenticate(request.headers.get("authorization", "").encode("latin-1") or None)
            except Exception as err:  # noqa: BLE001 - the gateway's auth error, whatever its class
                status = getattr(err, "status", None)
                if status is None:
                    raise
                return _error(int(status), str(getattr(err, "message", err)), getattr(err, "code", None))
        try:
            body = ModerationRequest.model_validate(await request.json())
        except ValueError as err:
            return _error(400, f"The request body is not a moderation request: {str(err).splitlines()[0]}. "
                               "Send {\"input\": \"text\" or [\"text\", ...]}.")
        model = body.model or "luban-guard"
        name = model.split("/", 1)[1] if "/" in model else policy
        try:
            pol = get_policy(name)
        except LubanError as err:
            return _error(400, f"Unknown moderation model '{model}': {err.message}", "model_not_found")
        texts = texts_of(body.input)
        if pol.remote:
            decisions = await asyncio.gather(*(asyncio.to_thread(pol.scan, t) for t in texts))
        else:
            decisions = [pol.scan(t) for t in texts]
        return JSONResponse({"id": f"modr-{os.urandom(12).hex()}", "model": model, "created": int(time.time()),
                             "results": [result(d) for d in decisions]})

    app.add_api_route("/", moderate, methods=["POST"])
    app.add_api_route("/v1/moderations", moderate, methods=["POST"])
    return app
