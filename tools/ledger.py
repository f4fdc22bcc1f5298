"""Running tools: argument validation, ownership, and the idempotency ledger for writes.

A write claims its idempotency key by inserting an audit-ledger row in the same
transaction as the change. Either both commit or neither does, so a crash between
"decided" and "done" leaves nothing behind, and a retry with the same key returns the
recorded result instead of acting again."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from commerce.db import Store
from commerce.models import AuditEntry
from tools.base import REGISTRY, Caller, ErrorCode, ToolArgs, ToolContext, ToolError, ToolKind, ToolSpec

log = logging.getLogger("helloword.tools")
# The longest idempotency key the ledger keeps (its column's length).
MAX_IDEMPOTENCY_KEY: int = getattr(AuditEntry.__table__.c.idempotency_key.type, "length", None) or 200


class ToolOutcome(BaseModel):
    """What a tool call did: its result, or the reason it changed nothing."""

    tool: str
    arguments: dict[str, Any]
    ok: bool
    result: dict[str, Any] | None = None
    error: str | None = None
    error_code: str | None = None
    replayed: bool = False  # a write whose key had already run: the stored result, no new action

    @classmethod
    def failure(cls, tool: str, arguments: dict[str, Any], code: str, message: str) -> ToolOutcome:
        return cls(tool=tool, arguments=arguments, ok=False, error=message, error_code=code)


@dataclass(frozen=True)
class _Recorded:
    """A claimed key's entry, read out of its session."""

    tool: str
    digest: str
    result: dict[str, Any]

    @classmethod
    def of(cls, entry: AuditEntry) -> _Recorded:
        return cls(entry.tool, entry.arguments_digest, dict(entry.result))


class _AlreadyRecorded(Exception):
    def __init__(self, recorded: _Recorded) -> None:
        self.recorded = recorded


def describe_validation_error(error: ValidationError) -> str:
    """One readable line per problem, e.g. "amount: Decimal input should be greater than 0"."""
    parts = []
    for problem in error.errors():
        where = ".".join(str(p) for p in problem["loc"]) or "arguments"
        parts.append(f"{where}: {problem['msg']}")
    return "; ".join(parts)


def arguments_digest(tool: str, arguments: dict[str, Any]) -> str:
    canonical = json.dumps({"tool": tool, "arguments": arguments}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class Toolbox:
    """Calls tools by name against one store on behalf of one caller."""

    def __init__(self, store: Store, caller: Caller | None = None) -> None:
        self.store = store
        self.caller = caller or Caller()

    def with_caller(self, caller: Caller) -> Toolbox:
        return Toolbox(self.store, caller)

    def call(self, name: str, arguments: dict[str, Any] | None = None, *, idempotency_key: str | None = None) -> ToolOutcome:
        raw = dict(arguments or {})
        spec = REGISTRY.get(name)
        if spec is None:
            return ToolOutcome.failure(name, raw, ErrorCode.NOT_FOUND, f"There is no tool named {name!r}.")
        try:
            args = spec.args_model.model_validate(raw)
        except ValidationError as error:
            return ToolOutcome.failure(name, raw, ErrorCode.INVALID_ARGUMENT, describe_validation_error(error))
        if spec.kind is ToolKind.READ:
            return self._read(spec, args)
        if not idempotency_key or not idempotency_key.strip():
            return ToolOutcome.failure(name, raw, ErrorCode.INVALID_ARGUMENT, "A write needs an idempotency key.")
        if len(idempotency_key.strip()) > MAX_IDEMPOTENCY_KEY:
            # The ledger keeps keys of this length; a database that does not check it must not store more.
            return ToolOutcome.failure(
                name, raw, ErrorCode.INVALID_ARGUMENT, f"An idempotency key has at most {MAX_IDEMPOTENCY_KEY} characters."
            )
        return self._write(spec, args, idempotency_key.strip())

    def _read(self, spec: ToolSpec, args: ToolArgs) -> ToolOutcome:
        dumped = args.model_dump(mode="json")
        with self.store.read() as session:
            try:
                result = spec.function(ToolContext(session, self.caller), args)
            except ToolError as error:
                return ToolOutcome.failure(spec.name, dumped, error.code, error.message)
        return ToolOutcome(tool=spec.name, arguments=dumped, ok=True, result=result.model_dump(mode="json"))

    def _write(self, spec: ToolSpec, args: ToolArgs, key: str) -> ToolOutcome:
        dumped = args.model_dump(mode="json")
        digest = arguments_digest(spec.name, dumped)
        try:
            with self.store.write() as session:
                existing = session.scalars(select(AuditEntry).where(AuditEntry.idempotency_key == key)).first()
                if existing is not None:
                    raise _AlreadyRecorded(_Recorded.of(existing))
                # Claim the key before acting: a concurrent caller with the same key waits here.
                entry = self._entry(spec.name, dumped, digest, key=key, ok=True)
                session.add(entry)
                session.flush()
                result = spec.function(ToolContext(session, self.caller), args)
                entry.result = result.model_dump(mode="json")
        except _AlreadyRecorded as recorded:
            return self._replay(spec.name, dumped, digest, recorded.recorded)
        except IntegrityError:
            # Another process committed the same key between our check and our insert.
            with self.store.read() as session:
                winner = session.scalars(select(AuditEntry).where(AuditEntry.idempotency_key == key)).first()
                if winner is not None:
                    return self._replay(spec.name, dumped, digest, _Recorded.of(winner))
            # Not a key race: the change itself broke a constraint. Nothing was written.
            log.warning("write %s refused by the database", spec.name, extra={"conversation_id": self.caller.conversation_id})
            return ToolOutcome.failure(spec.name, dumped, ErrorCode.INVALID_STATE, "the change conflicts with a record on file")
        except ToolError as error:
            self._record_refusal(spec.name, dumped, digest, error)
            return ToolOutcome.failure(spec.name, dumped, error.code, error.message)
        log.info("write %s done", spec.name, extra={"conversation_id": self.caller.conversation_id})
        return ToolOutcome(tool=spec.name, arguments=dumped, ok=True, result=entry.result)

    def _replay(self, tool: str, dumped: dict[str, Any], digest: str, entry: _Recorded) -> ToolOutcome:
        if entry.tool != tool or entry.digest != digest:
            return ToolOutcome.failure(
                tool,
                dumped,
                ErrorCode.IDEMPOTENCY_CONFLICT,
                f"This idempotency key was already used for a different call ({entry.tool}).",
            )
        return ToolOutcome(tool=tool, arguments=dumped, ok=True, result=entry.result, replayed=True)

    def _record_refusal(self, tool: str, dumped: dict[str, Any], digest: str, error: ToolError) -> None:
        """Refusals are audited too, without claiming the key, so a corrected retry can run."""
        with self.store.write() as session:
            session.add(self._entry(tool, dumped, digest, key=None, ok=False, error=f"{error.code}: {error.message}"))

    def _entry(
        self, tool: str, dumped: dict[str, Any], digest: str, *, key: str | None, ok: bool, error: str | None = None
    ) -> AuditEntry:
        """A ledger row for a write attempt by this caller."""
        return AuditEntry(
            idempotency_key=key,
            tool=tool,
            arguments=dumped,
            arguments_digest=digest,
            actor=self.caller.actor,
            customer_id=self.caller.customer_id,
            order_id=dumped.get("order_id"),
            ok=ok,
            error=error,
            created_at=self.caller.clock(),
        )
