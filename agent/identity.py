"""Signed customer tokens: the seller's site vouches for a logged-in customer, so the agent
can skip asking for an order number and email."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_customer_token(customer_id: str, secret: str, *, ttl_seconds: int = 3600, now: float | None = None) -> str:
    """`<customer id>.<expiry>.<signature>`, signed with HMAC-SHA256."""
    expires = int((now if now is not None else time.time()) + ttl_seconds)
    payload = f"{_b64(customer_id.encode())}.{expires}"
    signature = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(signature)}"


def verify_customer_token(token: str, secret: str, *, now: float | None = None) -> str | None:
    """The customer id of a valid, unexpired token; None for anything else."""
    try:
        encoded_id, expires, signature = token.strip().split(".")
        payload = f"{encoded_id}.{expires}"
        expected = _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, signature):
            return None
        if int(expires) < (now if now is not None else time.time()):
            return None
        padded = encoded_id + "=" * (-len(encoded_id) % 4)
        return base64.urlsafe_b64decode(padded.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        return None
