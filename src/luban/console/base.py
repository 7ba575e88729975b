"""What every console API module shares: the caller's key, the role check, the workspace, errors.

Design choices:
- The console is behind the gateway's own keys: the browser keeps the key of whoever logged in (in the
  tab's sessionStorage, gone when the tab closes) and sends it as `Authorization: Bearer`, like any client.
  An expired or revoked key is a 401, on which the page returns to its login and says why.
- Every API route names the operation it performs (`console.require("artifacts.read")`), checked against the
  one role table in luban.security.roles; a test walks the app and fails on a route that names none.
- Errors are OpenAI-style error objects, like the rest of the gateway, so one client-side handler reads all.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Header
from fastapi.responses import JSONResponse

from luban.core.workspace import Workspace
from luban.gateway.keys import AuthFailure, KeyRecord
from luban.security.roles import OPERATIONS, allowed

if TYPE_CHECKING:
    from luban.gateway.service import Gateway


class ConsoleError(Exception):
    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def error_response(status: int, message: str, code: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error" if status < 500
                                   else "server_error", "param": None, "code": code}}, status_code=status)


class Console:
    """The gateway the console runs in, and the dependencies its routes use."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._ws: Workspace | None = None

    @property
    def home(self) -> Path | None:
        return self.gateway.home

    def workspace(self) -> Workspace:
        """The workspace whose artifacts the console shows; a clear 404 when the gateway runs without one."""
        home = self.home
        if home is None or not Path(home).exists():
            raise ConsoleError(404, "This gateway runs without a workspace, so there are no artifacts to show; "
                               "start it with `luban --workspace DIR serve ...`.", "no_workspace")
        if self._ws is None:
            self._ws = Workspace(Path(home))
        return self._ws

    def caller(self, authorization: str | None) -> KeyRecord:
        if not authorization:
            raise ConsoleError(401, "The console needs a key: log in with an API key (an admin creates one with "
                               "`luban keys create NAME`).", "missing_api_key")
        token = authorization[7:] if authorization[:7].lower() == "bearer " else authorization
        try:
            return self.gateway.keys.check(token.strip())
        except AuthFailure as err:
            raise ConsoleError(401, err.message, err.code) from None

    def require(self, operation: str) -> Callable[..., KeyRecord]:
        """A FastAPI dependency: the caller's key, when its role may perform `operation`; else 401/403."""
        if operation not in OPERATIONS:
            raise KeyError(f"unknown operation {operation!r}: add it to luban.security.roles.OPERATIONS")

        def dependency(authorization: str | None = Header(None)) -> KeyRecord:
            key = self.caller(authorization)
            if not allowed(key.role, operation):
                roles = " or ".join(OPERATIONS[operation])
                raise ConsoleError(403, f"Key {key.id} has role '{key.role}'; this needs {roles}.",
                                   "permission_denied")
            return key

        dependency.operation = operation  # type: ignore[attr-defined]  # read by route_operations()
        return dependency


def route_operations(app: Any) -> dict[str, str | None]:
    """Each API route of `app` ("METHOD /path") and the operation it requires (None: it names none)."""
    out: dict[str, str | None] = {}
    for route in app.routes:
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            continue
        ops = [getattr(d.call, "operation", None) for d in dependant.dependencies]
        op = next((o for o in ops if o), None)
        for method in sorted(getattr(route, "methods", None) or ()):
            out[f"{method} {route.path}"] = op
    return out
