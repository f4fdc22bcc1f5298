"""Every error as JSON, `{"error": "…"}` with the status that fits: what a caller got wrong is a
4xx with a clear message, what went wrong on our side a 500 that is logged with its request id."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from agent.service import MessageError
from api.auth import AuthError
from api.limits import RateLimited
from support.knowledge import Conflict, PolicyProblems

log = logging.getLogger("helloword.http")


def error_response(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def rate_limited_response(error: RateLimited) -> JSONResponse:
    response = error_response(429, str(error), retry_after=error.retry_after)
    response.headers["Retry-After"] = str(error.retry_after)
    return response


async def _auth_error(request: Request, error: AuthError) -> JSONResponse:
    return error_response(error.status, error.message)


async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    messages = {404: f"no such page or route: {request.url.path}", 405: f"{request.method} is not allowed here"}
    response = error_response(error.status_code, messages.get(error.status_code, str(error.detail)))
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    return response


async def _rate_limited(request: Request, error: RateLimited) -> JSONResponse:
    return rate_limited_response(error)


async def _not_found(request: Request, error: LookupError) -> JSONResponse:
    return error_response(404, str(error).strip("'\""))


async def _conflict(request: Request, error: Conflict) -> JSONResponse:
    return error_response(409, str(error))


async def _policy_problems(request: Request, error: PolicyProblems) -> JSONResponse:
    return error_response(422, error.message, errors=error.errors)


async def _bad_message(request: Request, error: MessageError) -> JSONResponse:
    return error_response(422, str(error))


async def _bad_value(request: Request, error: ValueError) -> JSONResponse:
    return error_response(400, str(error))


async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
    details = [
        {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body", "message": e.get("msg", "")}
        for e in error.errors()
    ]
    if any(e.get("type") == "json_invalid" for e in error.errors()):
        return error_response(400, "the request body is not valid JSON", details=details)
    first = details[0] if details else {"field": "body", "message": "invalid request"}
    return error_response(422, f"{first['field']}: {first['message']}", details=details)


async def _crashed(request: Request, error: Exception) -> JSONResponse:
    request_id = getattr(request.state, "request_id", "-")
    log.exception("request %s failed", request_id)
    return error_response(500, "something went wrong on our side; the error was logged", request_id=request_id)


ERROR_HANDLERS: dict[int | type[Exception], Callable[[Request, Any], Coroutine[Any, Any, Response]]] = {
    AuthError: _auth_error,
    StarletteHTTPException: _http_error,
    RateLimited: _rate_limited,
    LookupError: _not_found,
    Conflict: _conflict,
    PolicyProblems: _policy_problems,
    MessageError: _bad_message,
    ValueError: _bad_value,
    RequestValidationError: _invalid,
    Exception: _crashed,
}
