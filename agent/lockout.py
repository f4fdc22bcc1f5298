"""Guessing who a customer is, made slow: every proof of identity that matches nobody is counted
against each thing it named (an email, an order number, a name and postal code) and against the
network address it came from, in the database, so that all conversations and processes share the
count. While a count within the window reaches its limit, proofs naming that target (or coming
from that address) are not even looked up and get the same answer as any failure; a guesser who
keeps going keeps the lock. Each lockout is written to the audit ledger."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select

from commerce.db import Store
from commerce.models import AuditEntry, IdentityFailure

# The tool name of a lockout's row in the audit ledger.
LOCKOUT_TOOL = "identity_lockout"


@dataclass(frozen=True)
class LockoutRules:
    per_target: int = 5
    per_address: int = 10
    window: dt.timedelta = dt.timedelta(minutes=15)

    def limit(self, kind: str) -> int:
        return self.per_address if kind == "address" else self.per_target


@dataclass(frozen=True)
class Target:
    kind: str  # email | order | name_postal | address
    digest: str


def target(kind: str, value: str) -> Target:
    """What a proof named, normalised ("#A1005" and "a1005" are one order) and hashed."""
    normal = " ".join(value.casefold().replace("#", " ").split())
    return Target(kind, hashlib.sha256(f"{kind}:{normal}".encode()).hexdigest())


def targets_of(
    emails: Iterable[str], order_ids: Iterable[str], name_postal: Iterable[tuple[str, str]], address: str | None
) -> list[Target]:
    found = [target("email", e) for e in emails]
    found += [target("order", o) for o in order_ids]
    found += [target("name_postal", f"{name} {code}") for name, code in name_postal]
    if address:
        found.append(Target("address", address))
    return list(dict.fromkeys(found))


def address_digest(host: str | None) -> str | None:
    """The network address a message came from, hashed: kept to count, never shown."""
    return hashlib.sha256(f"address:{host}".encode()).hexdigest() if host else None


def _counts(store: Store, targets: list[Target], since: dt.datetime) -> dict[Target, int]:
    if not targets:
        return {}
    with store.read() as session:
        rows = session.execute(
            select(IdentityFailure.kind, IdentityFailure.digest, func.count())
            .where(IdentityFailure.digest.in_([t.digest for t in targets]), IdentityFailure.created_at >= since)
            .group_by(IdentityFailure.kind, IdentityFailure.digest)
        ).all()
    return {Target(kind, digest): count for kind, digest, count in rows}


def locked(store: Store, targets: list[Target], now: dt.datetime, rules: LockoutRules) -> bool:
    """Whether any target (or the address) has failed its limit of times within the window."""
    counts = _counts(store, targets, now - rules.window)
    return any(counts.get(t, 0) >= rules.limit(t.kind) for t in targets)


def record_failure(
    store: Store, targets: list[Target], now: dt.datetime, rules: LockoutRules, conversation_id: str | None
) -> list[str]:
    """Count a failed proof against each target; the kinds that this failure locks are written to
    the audit ledger and returned."""
    before = _counts(store, targets, now - rules.window)
    newly = [t for t in targets if before.get(t, 0) + 1 == rules.limit(t.kind)]
    with store.write() as session:
        for t in targets:
            session.add(IdentityFailure(kind=t.kind, digest=t.digest, conversation_id=conversation_id, created_at=now))
        for t in newly:
            arguments = {"kind": t.kind, "target": t.digest[:16], "failures": rules.limit(t.kind)}
            session.add(
                AuditEntry(
                    tool=LOCKOUT_TOOL,
                    arguments=arguments,
                    arguments_digest=t.digest,
                    actor="agent:identity",
                    ok=False,
                    error=f"{rules.limit(t.kind)} failed proofs of identity within {rules.window}: locked",
                    created_at=now,
                )
            )
    return [t.kind for t in newly]


def lockouts_recorded(store: Store) -> int:
    """How many lockouts the audit ledger holds, for /metrics."""
    with store.read() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.tool == LOCKOUT_TOOL)) or 0)
