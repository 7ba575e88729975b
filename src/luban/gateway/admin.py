"""The admin API, mounted under /admin by the hot path: keys, usage and prompt templates.

    GET    /admin/whoami                     the calling key                         any role
    GET    /admin/keys                       keys (never secrets)                    admin, auditor
    POST   /admin/keys                       create; the secret is in this answer     admin
    PATCH  /admin/keys/{id}                  change its web origins ({"origins": [...]})  admin
    DELETE /admin/keys/{id}                  revoke                                  admin
    GET    /admin/usage?by=day,model&since=  totals per key / model / day            admin, auditor; others: their own key
    GET    /admin/usage/recent?limit=        the newest calls                        admin, auditor; others: their own key
    GET    /admin/usage/costs?since=         the same traffic priced on every API and GPU      admin, auditor
    GET    /admin/prompts                    templates and versions                  admin, auditor, developer
    GET    /admin/prompts/{name[@v]}         one version's source and variables      admin, auditor, developer
    POST   /admin/prompts                    add a version                           admin, developer
    GET    /admin/prompts/{name}/diff?a=&b=  what changed                            admin, auditor, developer

Design choices:
- A separate FastAPI app: management may be slow or fail without touching the hot path, which only
  forwards /admin/* here. Every route needs a key, even on a gateway that runs without keys: an open
  admin API would hand out keys to anyone who can reach it.
- The caller is checked against the gateway's in-memory key ring (the same check as a call), the role
  decides. Roles: admin (everything), auditor (reads everything, writes nothing), developer (prompt
  templates, its own usage), app (its own usage).
- A key created or revoked here reloads this replica's ring at once and is published on Redis, so the
  other replicas reload too (their poll is the safety net).
- Errors use OpenAI's error format, like the rest of the gateway.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from luban.core.errors import LubanError, NotFoundError, UsageError
from luban.core.workspace import Workspace
from luban.gateway.keys import AuthFailure, KeyRecord, publish_change
from luban.gateway.prompts import PromptHook, PromptLibrary, parse_spec
from luban.gateway.usage import UsageHook, UsageStore, compare_costs
from luban.security.roles import OPERATIONS, allowed

if TYPE_CHECKING:
    from luban.gateway.service import Gateway



class AdminError(Exception):
    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    role: str = "app"
    scopes: list[str] = Field(default_factory=list)
    app: str | None = None
    policy: str | None = None
    prompt: str | None = None
    purpose: str | None = None
    rpm: int | None = None
    tpm: int | None = None
    budget: float | None = None
    budget_period: str = "month"
    expires: float | str | None = None  # epoch seconds, 30d / 12h / 90m, or a date 2027-01-31
    origins: list[str] = Field(default_factory=list)  # web pages that may use the key: https://shop.example.com


class KeyChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    origins: list[str]  # the whole new list: web pages that may use the key


class NewPrompt(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    template: str = Field(min_length=1, max_length=200_000)  # YAML template or a plain system prompt
    description: str | None = None


def _expiry(value: float | str | None) -> float | None:
    if value is None or isinstance(value, int | float):
        return None if value is None else float(value)
    m = re.fullmatch(r"(\d+)\s*([dhm])", value.strip())
    if m:
        return time.time() + int(m.group(1)) * {"d": 86400, "h": 3600, "m": 60}[m.group(2)]
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"cannot read expiry '{value}'", "write 30d, 12h, 90m or a date like 2027-01-31") from None
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()


def key_json(k: KeyRecord) -> dict[str, Any]:
    return {"id": k.id, "name": k.name, "role": k.role, "scopes": list(k.scopes), "app": k.app, "policy": k.policy,
            "prompt": k.prompt, "purpose": k.purpose, "rpm": k.rpm, "tpm": k.tpm, "budget": k.budget,
            "budget_period": k.budget_period, "created": k.created, "expires": k.expires, "revoked": k.revoked,
            "origins": list(k.origins), "status": k.status()}


def create_admin_app(gateway: Gateway) -> FastAPI:
    """The admin app over one gateway (its key ring, key store, usage database and workspace)."""
    app = FastAPI(title="Luban gateway admin", docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    parts: dict[str, Any] = {}

    def usage_store() -> UsageStore:
        if "usage" not in parts:
            hook = next((h for h in gateway.hooks.hooks if isinstance(h, UsageHook)), None)
            url = (hook.url if hook is not None else None) or gateway.db_url
            if url is None:
                raise AdminError(404, "This gateway records no usage (it has no database).", "no_usage")
            parts["usage"] = UsageStore(url)
        store: UsageStore = parts["usage"]
        return store

    def prompts() -> PromptLibrary:
        if "prompts" not in parts:
            hook = next((h for h in gateway.hooks.hooks if isinstance(h, PromptHook)), None)
            parts["prompts"] = hook.library if hook is not None else PromptLibrary(Workspace(gateway.workspace))
        lib: PromptLibrary = parts["prompts"]
        return lib

    def caller(authorization: str | None = Header(None)) -> KeyRecord:
        if not authorization:
            raise AdminError(401, "The admin API needs a key: send 'Authorization: Bearer sk-luban-...' of an admin "
                             "key (create one with `luban keys create NAME --role admin`).", "missing_api_key")
        token = authorization[7:] if authorization[:7].lower() == "bearer " else authorization
        try:
            return gateway.keys.check(token.strip())
        except AuthFailure as err:
            raise AdminError(401, err.message, err.code) from None

    def need(key: KeyRecord, operation: str, what: str) -> None:
        """403 unless the key's role may perform `operation` (luban.security.roles holds the one table)."""
        if not allowed(key.role, operation):
            roles = OPERATIONS.get(operation, ())
            raise AdminError(403, f"Key {key.id} has role '{key.role}'; {what} needs {' or '.join(roles)}.",
                             "permission_denied")

    @app.exception_handler(AdminError)
    async def _admin_error(request: Request, err: AdminError) -> JSONResponse:
        return _error(err.status, err.message, err.code)

    @app.exception_handler(LubanError)
    async def _luban_error(request: Request, err: LubanError) -> JSONResponse:
        status = 404 if isinstance(err, NotFoundError) else 400 if isinstance(err, UsageError) else 500
        return _error(status, str(err), "not_found" if status == 404 else "invalid_request")

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0]
        where = ".".join(str(x) for x in first["loc"] if x != "body")
        return _error(400, f"'{where}': {first['msg']}", "invalid_request")

    @app.get("/whoami")
    async def whoami(key: KeyRecord = Depends(caller)) -> dict[str, Any]:
        return key_json(key)

    # -- keys -------------------------------------------------------------------------------------
    def key_store() -> Any:
        if gateway.store is None:
            raise AdminError(404, "This gateway has no key store (no database).", "no_key_store")
        return gateway.store

    @app.get("/keys")
    async def list_keys(all: bool = False, key: KeyRecord = Depends(caller)) -> list[dict[str, Any]]:  # noqa: A002
        need(key, "keys.read", "listing keys")
        records = await run_in_threadpool(key_store().all)
        return [key_json(k) for k in records if all or k.status() == "active"]

    @app.post("/keys", status_code=201)
    async def create_key(new: NewKey, key: KeyRecord = Depends(caller)) -> dict[str, Any]:
        need(key, "keys.write", "creating keys")
        store = key_store()
        expires = _expiry(new.expires)
        rec, secret = await run_in_threadpool(
            lambda: store.create(new.name, new.role, new.scopes, app=new.app, policy=new.policy, prompt=new.prompt,
                                 purpose=new.purpose, rpm=new.rpm, tpm=new.tpm, budget=new.budget,
                                 budget_period=new.budget_period, expires=expires, origins=new.origins))
        await _changed(rec.id)
        return {**key_json(rec), "key": secret}

    @app.patch("/keys/{kid}")
    async def change_key(kid: str, change: KeyChange, key: KeyRecord = Depends(caller)) -> dict[str, Any]:
        need(key, "keys.write", "changing keys")
        rec = await run_in_threadpool(key_store().set_origins, kid, change.origins)
        await _changed(rec.id)
        return key_json(rec)

    @app.delete("/keys/{kid}")
    async def revoke_key(kid: str, key: KeyRecord = Depends(caller)) -> dict[str, Any]:
        need(key, "keys.write", "revoking keys")
        rec = await run_in_threadpool(key_store().revoke, kid)
        await _changed(rec.id)
        return key_json(rec)

    async def _changed(kid: str) -> None:
        await gateway.reload_keys()
        await publish_change(gateway.cfg.redis.url, gateway.cfg.redis.prefix, kid)

    # -- usage ------------------------------------------------------------------------------------
    def own_key(key: KeyRecord, asked: str | None) -> str | None:
        """Admins and auditors see any key; other roles only their own."""
        if allowed(key.role, "usage.read"):
            return asked
        if asked is not None and asked != key.id:
            raise AdminError(403, f"Key {key.id} may read only its own usage, not key {asked}'s.",
                             "permission_denied")
        return key.id

    @app.get("/usage")
    async def usage(by: str = "day", since: str | None = None, until: str | None = None,
                    key_id: str | None = Query(None, alias="key"), model: str | None = None,
                    key: KeyRecord = Depends(caller)) -> dict[str, Any]:
        kid = own_key(key, key_id)
        groups = [g.strip() for g in by.split(",") if g.strip()]
        rows = await run_in_threadpool(lambda: usage_store().summary(groups, since, until, kid, model))
        return {"currency": gateway.cfg.limits.currency, "by": groups, "rows": rows}

    @app.get("/usage/recent")
    async def recent(limit: int = Query(100, ge=1, le=10_000), key_id: str | None = Query(None, alias="key"),
                     model: str | None = None, key: KeyRecord = Depends(caller)) -> dict[str, Any]:
        kid = own_key(key, key_id)
        rows = await run_in_threadpool(lambda: usage_store().recent(limit, kid, model))
        return {"currency": gateway.cfg.limits.currency, "rows": rows}

    @app.get("/usage/costs")
    async def costs(since: str | None = None, until: str | None = None,
                    tokens_per_second: float = Query(1000.0, gt=0),
                    key: KeyRecord = Depends(caller)) -> dict[str, Any]:
        need(key, "usage.read", "cost comparisons")
        rows = await run_in_threadpool(lambda: usage_store().summary([], since, until))
        prompt_tokens = int(rows[0]["prompt_tokens"]) if rows else 0
        completion_tokens = int(rows[0]["completion_tokens"]) if rows else 0
        currency = gateway.cfg.limits.currency
        offers = compare_costs(prompt_tokens, completion_tokens, gateway.catalog, currency, tokens_per_second,
                               gateway.cfg.upstreams)
        return {"currency": currency, "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                "actual_cost": rows[0]["cost"] if rows else 0.0,
                "offerings": [o.__dict__ for o in offers]}

    # -- prompt templates -------------------------------------------------------------------------
    @app.get("/prompts")
    async def list_prompts(key: KeyRecord = Depends(caller)) -> list[dict[str, Any]]:
        need(key, "prompts.read", "reading prompt templates")
        lib = prompts()

        def read() -> list[dict[str, Any]]:
            out = []
            for name, versions in lib.names().items():
                pv = lib.get(name, versions[-1])
                out.append({"name": name, "versions": versions, "latest": pv.ref, "variables": pv.variables,
                            "description": pv.template.description, "created": pv.created})
            return out

        return await run_in_threadpool(read)

    @app.get("/prompts/{spec}")
    async def show_prompt(spec: str, key: KeyRecord = Depends(caller)) -> dict[str, Any]:
        need(key, "prompts.read", "reading prompt templates")
        lib = prompts()
        name, version = parse_spec(spec)

        def read() -> dict[str, Any]:
            pv = lib.get(name, version)
            return {"name": pv.name, "version": pv.version, "ref": pv.ref, "variables": pv.variables,
                    "description": pv.template.description, "created": pv.created, "artifact": pv.artifact_id,
                    "source": lib.source(name, pv.version)}

        return await run_in_threadpool(read)

    @app.post("/prompts", status_code=201)
    async def add_prompt(new: NewPrompt, key: KeyRecord = Depends(caller)) -> dict[str, Any]:
        need(key, "prompts.write", "adding prompt templates")
        lib = prompts()
        pv = await run_in_threadpool(lambda: lib.add(new.name, new.template, description=new.description))
        return {"name": pv.name, "version": pv.version, "ref": pv.ref, "variables": pv.variables,
                "artifact": pv.artifact_id}

    @app.get("/prompts/{name}/diff")
    async def diff_prompt(name: str, a: int, b: int | None = None,
                          key: KeyRecord = Depends(caller)) -> dict[str, Any]:
        need(key, "prompts.read", "reading prompt templates")
        lib = prompts()
        return {"diff": await run_in_threadpool(lib.diff, name, a, b)}

    return app


def _error(status: int, message: str, code: str) -> JSONResponse:
    kind = {401: "authentication_error", 403: "permission_error", 404: "not_found_error"}.get(
        status, "invalid_request_error" if status < 500 else "server_error")
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": code}}, status)
