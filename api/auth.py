"""Who is calling: a customer holding a conversation token, or a staff member with a session
cookie (plus a CSRF token for every change) or an integration API token.

Passwords are hashed with Argon2id. Conversation tokens are signed with HMAC-SHA256 under the
deployment's secret key. Staff sessions are kept server-side (the cookie holds a random token,
the database its hash), so signing out or a new password ends them; wrong passwords are
counted per account, which then takes none for a while."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.lockout import LockoutRules, locked, record_failure, target
from commerce.db import Store
from commerce.models import AuditEntry, StaffRole, StaffSession, StaffUser, utcnow

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


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def make_session(store: Store, user: StaffUser, *, now: dt.datetime | None = None) -> tuple[str, str]:
    """A new server-side session: the cookie's random token and the CSRF token bound to it."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    at = now or utcnow()
    with store.write() as session:
        session.add(
            StaffSession(
                id=_digest(token),
                user_id=user.id,
                csrf=csrf,
                created_at=at,
                expires_at=at + dt.timedelta(seconds=SESSION_SECONDS),
            )
        )
    return token, csrf


def read_session(store: Store, cookie: str | None, *, now: dt.datetime | None = None) -> dict[str, Any] | None:
    """The live session a cookie holds (not signed out, not revoked, not expired), or None."""
    if not cookie or len(cookie) > 200:
        return None
    with store.read() as session:
        found = session.get(StaffSession, _digest(cookie))
        if found is None or found.revoked_at is not None or _aware(found.expires_at) <= (now or utcnow()):
            return None
        return {"uid": found.user_id, "csrf": found.csrf}


def revoke_session(store: Store, cookie: str | None) -> None:
    """Sign out: the session's cookie opens nothing from now on."""
    if not cookie:
        return
    with store.write() as session:
        found = session.get(StaffSession, _digest(cookie))
        if found is not None and found.revoked_at is None:
            found.revoked_at = utcnow()


def _revoke_all(session: Session, user_id: int) -> None:
    for found in session.scalars(select(StaffSession).where(StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None))):
        found.revoked_at = utcnow()


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def _staff(user: StaffUser, csrf: str | None) -> Staff:
    return Staff(user.id, user.email, user.name, user.role, csrf)


def authenticate(
    store: Store,
    secret: str,
    *,
    cookie: str | None,
    authorization: str | None,
    method: str,
    csrf_header: str | None,
    now: dt.datetime | None = None,
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
    data = read_session(store, cookie, now=now)
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


class SignInLocked(Exception):
    """Too many wrong passwords for this account lately: no password is checked until they age out."""


def login(store: Store, email: str, password: str, *, now: dt.datetime | None = None) -> StaffUser | None:
    """The staff member with this email and password, or None. Each attempt is in the audit
    ledger; after LOGIN_RULES.per_target wrong passwords within the window the account takes no
    password at all (SignInLocked) until the failures age out, and more tries keep it locked."""
    email = email.strip().lower()
    at = now or utcnow()
    account = [target("staff", email)]
    if locked(store, account, at, LOGIN_RULES):
        _audit_login(store, email, at, ok=False, error="locked: too many wrong passwords")
        raise SignInLocked(email)
    with store.read() as session:
        user = session.scalars(select(StaffUser).where(StaffUser.email == email)).first()
        if user is None:
            verify_password(_DUMMY_HASH, password)  # the same work whether or not the user exists
        elif verify_password(user.password_hash, password):
            session.expunge(user)  # the caller reads it after the session ends
            _audit_login(store, email, at, ok=True)
            return user
    record_failure(store, account, at, LOGIN_RULES, None)
    _audit_login(store, email, at, ok=False, error="wrong email or password")
    return None


# Wrong passwords for one account before it takes none for a while.
LOGIN_RULES = LockoutRules(per_target=5, per_address=50, window=dt.timedelta(minutes=15))


def _audit_login(store: Store, email: str, at: dt.datetime, *, ok: bool, error: str | None = None) -> None:
    with store.write() as session:
        session.add(
            AuditEntry(
                tool="staff_login",
                arguments={"email": email},
                arguments_digest=_digest(email),
                actor=f"staff:{email}"[:100],
                ok=ok,
                error=error,
                created_at=at,
            )
        )


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
            _revoke_all(session, user.id)  # a new password signs every session out
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
