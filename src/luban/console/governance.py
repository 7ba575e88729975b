"""Console API: the guard tester, the audit viewer and the compliance report (keys and usage pages use /admin).

    GET  /api/guard/policies                 shipped and workspace policies                    guard.test
    GET  /api/guard/policies/{name}          one policy's YAML                                 guard.test
    POST /api/guard/test                     every scanner's verdict on a text                  guard.test
    PUT  /api/guard/policies/{name}          save a policy to <workspace>/guard/policies/      guard.write
    GET  /api/audit/records?key=&action=...  records, newest first, paged                       audit.read
    GET  /api/audit/records/{chain}/{seq}    one record with its hashes                        audit.read
    POST /api/audit/verify                   walk every chain; the first broken record          audit.verify
    GET  /api/compliance                     the newest compliance report, with evidence links  compliance.read
    POST /api/compliance/run                 assess now (the workspace's compliance.yaml)       compliance.read
    GET  /api/compliance/files/{id}/{file}   the report's compliance.html / .md / .json        compliance.read

Design choices:
- The guard tester runs luban.guard itself (`Policy.scan(every=True)`), so what the page shows is what the
  gateway would do with the same policy. A policy edited in the page but not saved is built for the test only.
- Testing is open to developers and auditors, saving to admins. A policy typed into the page by a non-admin may
  use only the shipped local scanners and lexicons: a `module:Class` scanner would import code, a remote
  scanner (LLM judge, remote moderation) would send the server's own API key to any URL, a lexicon path would
  read the server's files.
- Workspace policies live in `<workspace>/guard/policies/<name>.yaml`; the gateway uses one by path (a key's
  `policy`) or by name with `LUBAN_GUARD_POLICY_DIR` pointed there.
- The audit store is the audit hook's when the gateway runs one (the same database and signing key), else the
  workspace's `audit/` (or `LUBAN_AUDIT_URL`). A workspace without an audit database shows none; nothing here
  creates one.
- Running the assessment is allowed to whoever may read the report, as on the CLI (`compliance report` is
  compliance.read): it reads evidence and writes one report artifact.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import yaml
from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

import luban
from luban.audit import open_store
from luban.audit.query import as_dict
from luban.audit.signing import Signer
from luban.audit.store import AuditStore, Row, records_table
from luban.audit.verify import verify_chain
from luban.compliance.config import ComplianceConfig
from luban.compliance.stage import compliance_report
from luban.console.base import Console, ConsoleError
from luban.core.artifact import Artifact
from luban.core.config import build_config, read_yaml
from luban.core.errors import LubanError, NotFoundError, UsageError
from luban.gateway.audit import AuditHook
from luban.gateway.keys import KeyRecord
from luban.guard.categories import appendix_code
from luban.guard.policy import POLICY_DIR, Policy, PolicySpec, get_policy
from luban.guard.scanners.base import SCANNERS
from luban.guard.scanners.lexicon import LEXICON_DIR
from luban.security.roles import allowed

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
EXAMPLE = Path(luban.__file__).resolve().parents[2] / "examples" / "acme" / "compliance.yaml"
REPORT_FILES = {"compliance.html": "text/html", "compliance.md": "text/markdown", "compliance.json": "application/json"}
PAGE_MAX = 200


class GuardTest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=50_000)
    policy: str = "default"
    yaml: str | None = Field(None, max_length=200_000)  # the policy as edited in the page (tested, not saved)
    direction: Literal["input", "output"] = "input"


class PolicyText(BaseModel):
    model_config = ConfigDict(extra="forbid")
    yaml: str = Field(min_length=1, max_length=200_000)


def router(console: Console) -> APIRouter:
    api = APIRouter()
    built: dict[str, Policy] = {}  # policies typed into the page, by hash of their text (a few kept)
    audit: dict[str, Any] = {}

    # -- guard --------------------------------------------------------------------------------------------
    def policy_dir() -> Path | None:
        return Path(console.home) / "guard" / "policies" if console.home is not None else None

    def policies() -> list[dict[str, Any]]:
        out = {p.stem: {"name": p.stem, "source": "shipped", "path": None} for p in sorted(POLICY_DIR.glob("*.yaml"))}
        extra = [("policy dir", Path(d)) for d in [os.environ.get("LUBAN_GUARD_POLICY_DIR")] if d]
        for source, folder in [*extra, ("workspace", policy_dir())]:
            if folder is not None and folder.is_dir():
                for p in sorted(folder.glob("*.yaml")):
                    out[p.stem] = {"name": p.stem, "source": source, "path": str(p)}
        return list(out.values())

    def find_policy(name: str) -> dict[str, Any]:
        for p in policies():
            if p["name"] == name:
                return p
        raise ConsoleError(404, f"no guard policy '{name}'; the list shows the shipped and workspace ones",
                           "not_found")

    def named_policy(name: str) -> Policy:
        p = find_policy(name)
        return get_policy(p["path"] or name)

    def typed_policy(text: str, name: str, restricted: bool) -> Policy:
        digest = hashlib.sha256(f"{restricted}\n{name}\n{text}".encode()).hexdigest()
        if digest not in built:
            spec = parse_policy(text, name)
            if restricted:
                check_local(spec)
            folder = policy_dir()
            try:
                pol = Policy(spec, folder / f"{name}.yaml" if folder is not None else None)
            except LubanError as err:
                raise UsageError(f"policy {name}: {err.message}", err.hint) from None
            if len(built) >= 8:
                built.pop(next(iter(built)))
            built[digest] = pol
        return built[digest]

    @api.get("/guard/policies")
    async def list_policies(key: KeyRecord = Depends(console.require("guard.test"))) -> dict[str, Any]:
        return {"policies": await run_in_threadpool(policies), "can_save": allowed(key.role, "guard.write")}

    @api.get("/guard/policies/{name}")
    async def show_policy(name: str, key: KeyRecord = Depends(console.require("guard.test"))) -> dict[str, Any]:
        p = find_policy(name)
        path = Path(p["path"]) if p["path"] else POLICY_DIR / f"{name}.yaml"
        return {**p, "yaml": path.read_text(encoding="utf-8")}

    @api.post("/guard/test")
    async def test_policy(req: GuardTest, key: KeyRecord = Depends(console.require("guard.test"))) -> dict[str, Any]:
        check_name(req.policy)

        def run() -> dict[str, Any]:
            pol = (typed_policy(req.yaml, req.policy, not allowed(key.role, "guard.write")) if req.yaml is not None
                   else named_policy(req.policy))
            d = pol.scan(req.text, stage=req.direction, every=True)
            verdicts = [{**v.to_dict(), "appendix": appendix_code(v.category) if v.category else None,
                         "matches": [req.text[s:e] for s, e in v.spans[:10]]} for v in d.verdicts]
            return {"policy": pol.name, "direction": req.direction, "action": d.action, "lang": d.lang,
                    "category": d.category, "text": d.text, "changed": d.text != req.text, "refusal": d.refusal,
                    "verdicts": verdicts}

        return await run_in_threadpool(run)

    @api.put("/guard/policies/{name}")
    async def save_policy(name: str, body: PolicyText,
                          key: KeyRecord = Depends(console.require("guard.write"))) -> dict[str, Any]:
        check_name(name)
        folder = console.workspace().root / "guard" / "policies"  # a clear 404 without a workspace
        await run_in_threadpool(typed_policy, body.yaml, name, False)  # refused here when it does not load
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(body.yaml)
        os.replace(tmp, folder / f"{name}.yaml")
        return {"name": name, "source": "workspace", "path": str(folder / f"{name}.yaml")}

    # -- audit --------------------------------------------------------------------------------------------
    def audit_store() -> tuple[AuditStore, Path] | None:
        """(store, folder with the signing key) or None when there is no audit database to read."""
        if "store" in audit:
            return audit["store"], audit["folder"]
        gw = console.gateway
        hook = next((h for h in gw.hooks.hooks if isinstance(h, AuditHook)), None)
        url = os.environ.get("LUBAN_AUDIT_URL")
        if hook is not None:  # where the hook writes (luban.gateway.audit: its url, the env, a shared database)
            root = gw.workspace or Path(os.environ.get("LUBAN_WORKSPACE", "luban-ws"))
            shared = gw.db_url if gw.db_url and not gw.db_url.startswith("sqlite") else None
            folder, url = Path(root) / "audit", hook.url or url or shared
        else:
            folder = console.workspace().root / "audit"
        if not url and not (folder / "audit.db").exists():
            return None
        audit["store"], audit["folder"] = open_store(folder, url), folder
        return audit["store"], audit["folder"]

    @api.get("/audit/records")
    async def records(since: str | None = None, until: str | None = None, key_id: str | None = Query(None, alias="key"),
                      model: str | None = None, action: str | None = None, kind: str | None = None,
                      purpose: str | None = None, chain: str | None = None, q: str | None = None,
                      offset: int = Query(0, ge=0), limit: int = Query(50, ge=1, le=PAGE_MAX),
                      key: KeyRecord = Depends(console.require("audit.read"))) -> dict[str, Any]:
        c = records_table.c
        where: list[Any] = [col == value for value, col in ((key_id, c.key_id), (model, c.model), (action, c.action),
                                                            (kind, c.kind), (purpose, c.purpose), (chain, c.chain))
                            if value]
        if since:
            where.append(c.ts >= moment(since, "since"))
        if until:
            where.append(c.ts < moment(until, "until"))
        if q:
            where.append(func.lower(c.body).contains(q.lower(), autoescape=True))

        def read() -> dict[str, Any]:
            found = audit_store()
            if found is None:
                return {"total": 0, "offset": offset, "limit": limit, "records": [], "store": None}
            store = found[0]
            with store.engine.connect() as conn:
                total = conn.execute(select(func.count()).select_from(records_table).where(*where)).scalar_one()
                rows = conn.execute(select(records_table).where(*where).order_by(c.ts.desc(), c.chain, c.seq.desc())
                                    .offset(offset).limit(limit)).all()
            return {"total": int(total), "offset": offset, "limit": limit, "store": store.url.split("///")[-1],
                    "records": [as_dict(Row(*r)) for r in rows]}

        return await run_in_threadpool(read)

    @api.get("/audit/records/{chain}/{seq}")
    async def record(chain: str, seq: int, key: KeyRecord = Depends(console.require("audit.read"))) -> dict[str, Any]:
        def read() -> dict[str, Any]:
            found = audit_store()
            row = None
            if found is not None:
                c = records_table.c
                with found[0].engine.connect() as conn:
                    row = conn.execute(select(records_table).where(c.chain == chain, c.seq == seq)).first()
            if row is None:
                raise ConsoleError(404, f"no audit record {seq} in chain '{chain}'", "not_found")
            r = Row(*row)
            return {**as_dict(r), "prev": r.prev, "body": r.body}

        return await run_in_threadpool(read)

    @api.post("/audit/verify")
    async def verify(key: KeyRecord = Depends(console.require("audit.verify"))) -> dict[str, Any]:
        def run() -> dict[str, Any]:
            found = audit_store()
            chains = found[0].chains() if found is not None else []
            if found is None or not chains:
                return {"ok": True, "empty": True, "records": 0, "chains": [], "broken": None}
            store, folder = found
            public = Signer(folder).public_key
            out, broken = [], None
            for name in chains:
                rep = verify_chain(store, name, public, folder)
                problem = rep.problems[0] if rep.problems else None
                out.append({"chain": name, "records": rep.records, "first_seq": rep.first_seq,
                            "last_seq": rep.last_seq, "signed_seq": rep.signed_seq, "ok": rep.ok, "problem": problem})
                if problem and broken is None:
                    m = re.search(r"record (\d+)", problem)
                    broken = {"chain": name, "seq": int(m.group(1)) if m else None, "problem": problem}
            return {"ok": broken is None, "empty": False, "records": sum(c["records"] for c in out), "chains": out,
                    "broken": broken}

        return await run_in_threadpool(run)

    # -- compliance ---------------------------------------------------------------------------------------
    def config() -> tuple[ComplianceConfig, str, list[str]]:
        """The assessment's config, where it came from, and notes on what was left out."""
        ws = console.workspace()
        own = ws.root / "compliance.yaml"
        path = own if own.is_file() else EXAMPLE if EXAMPLE.is_file() else None
        data: dict[str, Any] = read_yaml(path) if path is not None else {}
        notes = []
        if path == EXAMPLE:  # the shipped example names the demo's model: keep only what this workspace has
            missing = [m for m in data.get("models", []) if not ws.exists(m)]
            data["models"] = [m for m in data.get("models", []) if m not in missing]
            if missing:
                notes.append(f"the example's models {', '.join(missing)} are not in this workspace")
            notes.append(f"no {own} here: the shipped example is used; copy it there and fill in your facts")
        cfg = build_config(ComplianceConfig, data, source=str(path or "defaults"),
                           base=path.parent if path is not None else None)
        return cfg, str(path) if path is not None else "defaults", notes

    def latest() -> Artifact | None:
        ws = console.workspace()
        reports = [a for a, _ in ws.list("report") if a.manifest.producer.stage == "compliance.report"]
        return max(reports, key=lambda a: a.manifest.created) if reports else None

    def shown(art: Artifact | None, notes: list[str] | None = None) -> dict[str, Any]:
        if art is None:
            return {"report": None, "notes": notes or []}
        body = json.loads((art.path / "compliance.json").read_text(encoding="utf-8"))
        cfg = art.manifest.producer.config
        items = [{**item, "links": evidence_links(item["id"], cfg)} for item in body["items"]]
        files = [{"name": f, "href": f"api/compliance/files/{art.id}/{f}"} for f in REPORT_FILES
                 if (art.path / f).is_file()]
        return {"report": {"id": art.id, "name": art.name, "created": art.manifest.created,
                           "summary": body["summary"], "items": items, "files": files},
                "notes": notes or []}

    @api.get("/compliance")
    async def report(key: KeyRecord = Depends(console.require("compliance.read"))) -> dict[str, Any]:
        return await run_in_threadpool(lambda: shown(latest()))

    @api.post("/compliance/run")
    async def run_report(key: KeyRecord = Depends(console.require("compliance.read"))) -> dict[str, Any]:
        def run() -> dict[str, Any]:
            cfg, source, notes = config()
            art = compliance_report(cfg, console.workspace(), name="compliance")
            out = shown(art, notes)
            out["source"] = source
            return out

        return await run_in_threadpool(run)

    @api.get("/compliance/files/{art_id}/{file}")
    async def report_file(art_id: str, file: str,
                          key: KeyRecord = Depends(console.require("compliance.read"))) -> FileResponse:
        if file not in REPORT_FILES:
            raise ConsoleError(404, f"a compliance report has no file '{file}'; it has {', '.join(REPORT_FILES)}",
                               "not_found")
        try:
            art = await run_in_threadpool(console.workspace().locate, art_id)
        except NotFoundError as err:
            raise ConsoleError(404, err.message, "not_found") from None
        if art.manifest.producer.stage != "compliance.report" or not (art.path / file).is_file():
            raise ConsoleError(404, f"artifact {art_id[:12]} is not a compliance report", "not_found")
        return FileResponse(art.path / file, media_type=REPORT_FILES[file])

    return api


def check_name(name: str) -> None:
    if not NAME.fullmatch(name) or ".." in name:
        raise UsageError(f"'{name}' is not a policy name", "use letters, digits, '-', '_' and '.' (at most 64)")


def parse_policy(text: str, name: str) -> PolicySpec:
    """The YAML typed into the page as a checked PolicySpec; the first problem is one line naming the field."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise UsageError(f"policy {name}: not valid YAML ({str(err).splitlines()[0]})", "fix the YAML") from None
    if not isinstance(raw, dict):
        raise UsageError(f"policy {name}: expected a mapping at the top, got {type(raw).__name__}",
                         "start from a shipped policy")
    try:
        return PolicySpec.model_validate(raw)
    except ValidationError as err:
        e = err.errors()[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e["loc"]).lstrip(".")
        raise UsageError(f"policy {name}: {where}: {e['msg']}", "see docs/guard.md") from None


def check_local(spec: PolicySpec) -> None:
    """Refuse (403) what only an admin may test: own scanner classes, remote scanners, files by path."""
    for stage, entries in (("input", spec.input), ("output", spec.output)):
        for i, entry in enumerate(entries):
            name, options = (entry, {}) if isinstance(entry, str) else next(iter(entry.items()))
            options = options or {}
            where = f"{stage}[{i}].{name}"
            if ":" in name:
                deny(f"{where}: a scanner class of your own; only an admin may test one")
            if name in SCANNERS and SCANNERS.get(name).remote:
                deny(f"{where}: calls a service; only an admin may test remote scanners")
            if name == "lexicon":
                for lex in options.get("lexicons") or []:
                    if not (isinstance(lex, str) and NAME.fullmatch(lex) and (LEXICON_DIR / f"{lex}.tsv").is_file()):
                        deny(f"{where}.lexicons: '{lex}' is not a shipped lexicon; only an admin may test files")
            if name == "token_limit" and options.get("tokenizer"):
                deny(f"{where}.tokenizer: only an admin may test a tokenizer from a path")


def deny(message: str) -> None:
    raise ConsoleError(403, message, "permission_denied")


def moment(value: str, what: str) -> float:
    """Epoch seconds, or an ISO time (UTC when it names no zone)."""
    try:
        return float(value)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"'{what}': cannot read the time '{value}'", "use epoch seconds or ISO 8601, e.g. 2026-12-01T08:00") from None
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).timestamp()


def evidence_links(item_id: str, cfg: dict[str, Any]) -> list[dict[str, str]]:
    """Where to look for an item's evidence: {page, ref, label}; the page turns each into a console link."""
    models = [{"page": "lineage", "ref": m, "label": m} for m in cfg.get("models") or []]
    models += [{"page": "lineage", "ref": d, "label": d} for d in cfg.get("datasets") or []]
    policy = cfg.get("policy") or "default"
    guard = [{"page": "guard", "ref": policy, "label": f"policy {policy}"}]
    if item_id.startswith(("tc260-5.", "tc260-9.2", "seed-enc")):
        return models
    if item_id in ("tc260-8.1", "tc260-8.3", "gb45438"):
        return guard
    if item_id == "tc260-9.4":
        return [{"page": "evals", "ref": cfg["safety_report"], "label": cfg["safety_report"]}] \
            if cfg.get("safety_report") else []
    if item_id == "logs-6m":
        return [{"page": "audit", "ref": "", "label": "audit log"}]
    if item_id == "im-14":
        return [{"page": "audit", "ref": "action=blocked", "label": "blocked calls"}]
    return []
