"""Every error the server sends is OpenAI's `{"error": {"message", "type", "param", "code"}}`.

That includes FastAPI's own request-validation errors (sent as 400 `invalid_request_error`, as OpenAI
does, with `param` naming the offending field), unknown routes (404), wrong methods (405), a
`LubanError` raised by a backend (its user-facing class maps to 400) and anything unexpected (500,
which bad input must never reach; the schemathesis test checks that).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from luban.core.errors import LubanError, NotFoundError, UsageError

log = logging.getLogger("luban.serve")

TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
         404: "invalid_request_error", 405: "invalid_request_error", 408: "timeout_error",
         413: "invalid_request_error", 429: "rate_limit_error", 500: "server_error", 503: "server_error"}


class APIError(Exception):
    """An error to send as-is: HTTP status, message, and OpenAI's `param` / `code` / extra headers."""

    def __init__(self, status: int, message: str, *, param: str | None = None, code: str | None = None,
                 type: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code
        self.type = type or TYPES.get(status, "invalid_request_error")
        self.headers = headers or {}


def error_body(message: str, type: str, param: str | None = None, code: str | None = None) -> dict[str, object]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def error_response(err: APIError) -> JSONResponse:
    return JSONResponse(error_body(err.message, err.type, err.param, err.code), status_code=err.status,
                        headers=err.headers)


def model_not_found(model: str) -> APIError:
    return APIError(404, f"The model `{model}` does not exist or you do not have access to it.",
                    param="model", code="model_not_found")


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    errors = exc.errors()
    if not errors:
        return "Invalid request.", None
    first = errors[0]
    loc = [str(x) for x in first.get("loc", ()) if x != "body"]
    if first.get("type") == "json_invalid":
        return "We could not parse the JSON body of your request: it is not valid JSON.", None
    param = ".".join(loc) or None
    where = f" at '{param}'" if param else ""
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return f"Invalid request{where}: {first.get('msg', 'invalid value')}{more}.", param


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into OpenAI's error object."""

    async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, APIError)
        return error_response(exc)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        message, param = _validation_message(exc)
        return error_response(APIError(400, message, param=param))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        message = (f"Unknown request URL: {request.method} {request.url.path}." if exc.status_code == 404
                   else str(exc.detail))
        return error_response(APIError(exc.status_code, message, headers=dict(exc.headers or {})))

    async def on_luban(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, LubanError)
        status = 404 if isinstance(exc, NotFoundError) else 400 if isinstance(exc, UsageError) else 500
        return error_response(APIError(status, str(exc)))

    async def on_other(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return error_response(APIError(500, "The server had an error while processing your request."))

    app.add_exception_handler(APIError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(LubanError, on_luban)
    app.add_exception_handler(Exception, on_other)
