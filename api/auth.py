"""Who is calling: a customer holding a conversation token, or a staff member with a session
cookie (plus a CSRF token for every change) or an integration API token.

Passwords are hashed with Argon2id. Session cookies and conversation tokens are signed with
HMAC-SHA256 under the deployment's secret key; nothing about a session is kept server-side
but the user it names."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from commerce.db import Store
from commerce.models import StaffRole, StaffUser

SESSION_COOKIE = "helloword_session"
SESSION_SECONDS = 12 * 3600
API_TOKEN_PREFIX = "hw_"
_hasher = PasswordHasher()


class AuthError(Exception):
    """The caller is not who it must be (401) or may not do this (403)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, purpose: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), f"{purpose}:{payload}".encode(), hashlib.sha256).digest())


# ---------------------------------------------------------------- conversation tokens


def conversation_token(secret: str, conversation_id: str) -> str:
    """The bearer token that opens one conversation, and only that one."""
    return _sign(secret, "conversation", conversation_id)


def check_conversation_token(secret: str, conversation_id: str, token: str | None) -> None:
    if not token:
        raise AuthError(401, "this conversation needs its token (Authorization: Bearer …)")
    if not hmac.compare_digest(conversation_token(secret, conversation_id), token.strip()):
        raise AuthError(403, "this token does not open this conversation")


def bearer(authorization: str | None) -> str | None:
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip() or None
    return None


# ---------------------------------------------------------------- staff sessions


@dataclass(frozen=True)
class Staff:
    id: int
    email: str
    name: str
    role: StaffRole
    csrf: str | None  # None for API-token callers, who need no CSRF token

    def public(self) -> dict[str, Any]:
        return {"email": self.email, "name": self.name, "role": self.role.value}


def make_session(secret: str, user: StaffUser, *, now: float | None = None) -> tuple[str, str]:
    """A signed session cookie value and the CSRF token bound to it."""
    csrf = secrets.token_urlsafe(24)
    body = _b64(json.dumps({"uid": user.id, "csrf": csrf, "exp": int((now or time.time()) + SESSION_SECONDS)}).encode())
    return f"{body}.{_sign(secret, 'session', body)}", csrf


def read_session(secret: str, cookie: str | None, *, now: float | None = None) -> dict[str, Any] | None:
    if not cookie or "." not in cookie:
        return None
    body, signature = cookie.rsplit(".", 1)
    if not hmac.compare_digest(_sign(secret, "session", body), signature):
        return None
    try:
        data = json.loads(_unb64(body))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or int(data.get("exp", 0)) < (now or time.time()):
        return None
    return data


def _staff(user: StaffUser, csrf: str | None) -> Staff:
    return Staff(user.id, user.email, user.name, user.role, csrf)


def authenticate(
    store: Store, secret: str, *, cookie: str | None, authorization: str | None, method: str, csrf_header: str | None
) -> Staff:
    """The staff member behind a request, from an API token or a session cookie. A change made
    with a session cookie must carry the session's CSRF token in X-CSRF-Token."""
    token = bearer(authorization)
    if token and token.startswith(API_TOKEN_PREFIX):
        digest = hashlib.sha256(token.encode()).hexdigest()
        with store.read() as session:
            user = session.scalars(select(StaffUser).where(StaffUser.api_token_hash == digest)).first()
            if user is None:
                raise AuthError(401, "unknown API token")
            return _staff(user, None)
    data = read_session(secret, cookie)
    if data is None:
        raise AuthError(401, "sign in first")
    with store.read() as session:
        user = session.get(StaffUser, int(data["uid"]))
        if user is None:
            raise AuthError(401, "sign in first")
        staff = _staff(user, str(data["csrf"]))
    if method not in ("GET", "HEAD", "OPTIONS") and not (csrf_header and hmac.compare_digest(csrf_header, staff.csrf or "")):
        raise AuthError(403, "missing or wrong CSRF token (X-CSRF-Token)")
    return staff


def require(staff: Staff, role: StaffRole) -> Staff:
    if role is StaffRole.ADMIN and staff.role is not StaffRole.ADMIN:
        raise AuthError(403, "only an admin may do this")
    return staff


def login(store: Store, email: str, password: str) -> StaffUser | None:
    with store.read() as session:
        user = session.scalars(select(StaffUser).where(StaffUser.email == email.strip().lower())).first()
        if user is None:
            verify_password(_DUMMY_HASH, password)  # the same work whether or not the user exists
            return None
        if not verify_password(user.password_hash, password):
            return None
        session.expunge(user)  # the caller reads it after the session ends
        return user


_DUMMY_HASH = _hasher.hash("not a password anyone has")


def add_staff(store: Store, email: str, password: str, *, role: StaffRole, name: str = "") -> StaffUser:
    """Create or update a staff member (the email is the login)."""
    if len(password) < 8:
        raise ValueError("a password needs at least 8 characters")
    email = email.strip().lower()
    if "@" not in email:
        raise ValueError(f"{email!r} is not an email address")
    with store.write() as session:
        user = session.scalars(select(StaffUser).where(StaffUser.email == email)).first()
        if user is None:
            user = StaffUser(
                email=email, name=name or email.split("@")[0].title(), role=role, password_hash=hash_password(password)
            )
            session.add(user)
        else:
            user.password_hash, user.role = hash_password(password), role
            user.name = name or user.name
        session.flush()
        session.expunge(user)
        return user


def issue_api_token(store: Store, email: str) -> str:
    """A new integration token for a staff member (shown once; only its hash is kept)."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    with store.write() as session:
        user = session.scalars(select(StaffUser).where(StaffUser.email == email.strip().lower())).first()
        if user is None:
            raise ValueError(f"no staff member {email}")
        user.api_token_hash = hashlib.sha256(token.encode()).hexdigest()
    return token
