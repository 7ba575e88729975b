"""Errors the gateway answers, in OpenAI's format: `{"error": {"message", "type", "param", "code"}}`.

Design choices:
- One exception, `GatewayError`, carries the HTTP status, OpenAI's `type` and `code`, and extra headers
  (`Retry-After` on 429 and 503). The hot path raises it; the app turns it into bytes once.
- The codes are the ones OpenAI's own API and clients use, so that SDK retry logic does the right thing:
  `invalid_api_key` (401), `model_not_found` (404), `rate_limit_exceeded` and `insufficient_quota` (429).
- Messages say what to do, not only what is wrong.
"""

from __future__ import annotations

import orjson

TYPES = {400: "invalid_request_error", 401: "authentication_error", 402: "insufficient_quota",
         403: "permission_error", 404: "invalid_request_error", 405: "invalid_request_error",
         413: "invalid_request_error", 429: "rate_limit_error", 500: "server_error", 502: "upstream_error",
         503: "service_unavailable", 504: "timeout_error"}


class GatewayError(Exception):
    """An answer that is an error: status, message, OpenAI `type` / `code` / `param`, extra headers."""

    def __init__(self, status: int, message: str, *, code: str | None = None, param: str | None = None,
                 type: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.type = type or TYPES.get(status, "invalid_request_error")
        self.headers = headers or {}

    def body(self) -> bytes:
        return error_json(self.message, self.type, self.code, self.param)


def error_json(message: str, type: str, code: str | int | None = None, param: str | None = None) -> bytes:
    return orjson.dumps({"error": {"message": message, "type": type, "param": param, "code": code}})


def bad_request(message: str, param: str | None = None) -> GatewayError:
    return GatewayError(400, message, param=param, code="invalid_request_error")


def model_not_found(model: str) -> GatewayError:
    return GatewayError(404, f"The model `{model}` does not exist on this gateway; GET /v1/models lists "
                        "the models you may call.", param="model", code="model_not_found")
