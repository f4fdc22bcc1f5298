"""Staff sign-in: a session cookie with the CSRF token to send with changes, sign-out, and who
is signed in."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.auth import SESSION_COOKIE, SESSION_SECONDS, SignInLocked, login, make_session, revoke_session
from api.deps import RuntimeDep, StaffDep
from api.errors import error_response

router = APIRouter(prefix="/api/auth", tags=["auth"])


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=200)


@router.post("/login")
def sign_in(body: Login, runtime: RuntimeDep) -> JSONResponse:
    """Sign a staff member in: a session cookie, and the CSRF token to send with changes."""
    try:
        user = login(runtime.store, body.email, body.password, now=runtime.clock())
    except SignInLocked:
        return error_response(429, "too many wrong passwords for this account; try again in 15 minutes")
    if user is None:
        return error_response(401, "wrong email or password")
    cookie, csrf = make_session(runtime.store, user, now=runtime.clock())
    response = JSONResponse({"user": {"email": user.email, "name": user.name, "role": user.role.value}, "csrf": csrf})
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        path="/",
        secure=runtime.settings.resolved_secure_cookies,
    )
    return response


@router.post("/logout")
def sign_out(staff: StaffDep, request: Request, runtime: RuntimeDep) -> JSONResponse:
    """Sign out: the session ends on the server, not only in this browser."""
    revoke_session(runtime.store, request.cookies.get(SESSION_COOKIE))
    response = JSONResponse({"ok": True})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me")
def me(staff: StaffDep) -> dict[str, Any]:
    """Who is signed in, with the session's CSRF token."""
    return {"user": staff.public(), "csrf": staff.csrf}
