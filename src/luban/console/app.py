"""The console app the gateway mounts at /console: the pages (static, no CDN) and their API under /console/api.

    GET  /console/                 the single-page console (index.html; pages are ES modules under static/js)
    GET  /console/static/...       its scripts, styles and translations
    GET  /console/widget.js        the embeddable chat widget (one <script> tag on a company's own page)
    GET  /console/api/session      the caller's key, role and the operations it may perform    any role
    ...  /console/api/<area>/...   one module per area (API_MODULES), each route naming its operation

Design choices:
- Management, not hot path: this is a FastAPI app of its own, mounted beside /admin, so a slow or failing page
  can never slow a model call. Keys and usage pages use the gateway's /admin API directly.
- No build step and no CDN: plain ES modules, hand-drawn SVG charts, translations in the page modules. A
  company's network often blocks CDNs, and a console that breaks offline is no console.
- Each area's routes live in their own module (`router(console) -> APIRouter`); adding an area is one entry
  in API_MODULES and one page module in static/js/pages.
"""

from __future__ import annotations

import html
import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from luban.console.base import Console, ConsoleError, error_response
from luban.core.errors import LubanError, NotFoundError, UsageError
from luban.gateway.keys import KeyRecord
from luban.security.roles import OPERATIONS, allowed

if TYPE_CHECKING:
    from luban.gateway.service import Gateway

STATIC = Path(__file__).parent / "static"
API_MODULES = ("datasets", "evals", "runs", "governance", "integration")
NO_CACHE = {"cache-control": "no-cache"}


def create_console_app(gateway: Gateway) -> FastAPI:
    console = Console(gateway)
    app = FastAPI(title="Luban console", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")

    @app.exception_handler(ConsoleError)
    async def _console_error(request: Request, err: ConsoleError) -> JSONResponse:
        return error_response(err.status, err.message, err.code)

    @app.exception_handler(LubanError)
    async def _luban_error(request: Request, err: LubanError) -> JSONResponse:
        status = 404 if isinstance(err, NotFoundError) else 400 if isinstance(err, UsageError) else 500
        return error_response(status, str(err), "not_found" if status == 404 else "invalid_request")

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0]
        where = ".".join(str(x) for x in first["loc"] if x != "body")
        return error_response(400, f"'{where}': {first['msg']}", "invalid_request")

    @app.get("/api/session")
    async def session(key: KeyRecord = Depends(console.require("whoami"))) -> dict[str, Any]:
        return {"id": key.id, "name": key.name, "role": key.role, "scopes": list(key.scopes), "app": key.app,
                "expires": key.expires, "operations": sorted(op for op in OPERATIONS if allowed(key.role, op)),
                "workspace": console.home is not None and Path(console.home).exists()}

    for name in API_MODULES:
        module = importlib.import_module(f"luban.console.{name}")
        app.include_router(module.router(console), prefix="/api")

    page = (STATIC / "index.html").read_text(encoding="utf-8")

    @app.get("/", include_in_schema=False)
    async def index(request: Request) -> HTMLResponse:
        # <base href> makes every relative URL work at /console and /console/ and behind a proxy's prefix
        root = html.escape(request.scope.get("root_path", "").rstrip("/") + "/", quote=True)
        return HTMLResponse(page.replace("{{BASE}}", root), headers=NO_CACHE)

    @app.get("/widget.js", include_in_schema=False)
    async def widget() -> FileResponse:
        return FileResponse(STATIC / "widget.js", media_type="text/javascript", headers=NO_CACHE)

    @app.get("/index.html", include_in_schema=False)
    async def index_html() -> RedirectResponse:
        return RedirectResponse("./")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
