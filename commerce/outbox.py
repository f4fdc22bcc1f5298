"""Messages the shop sends on its own (a delay notice, an address check) to channels outside
the chat: each is kept in an outbox, and an adapter delivers it (email, SMS, a helpdesk).

An adapter is any object with `channel` and `send(message)`; `send` raises to leave the
message for the next delivery round. `LogAdapter` writes them to the log, which is what a
deployment without a mail server gets."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select

from commerce.db import Store
from commerce.models import OutboxMessage, utcnow

log = logging.getLogger("helloword.outbox")


@dataclass(frozen=True)
class Outgoing:
    id: int
    channel: str
    recipient: str
    subject: str
    body: str
    language: str


class OutboxAdapter(Protocol):
    channel: str

    def send(self, message: Outgoing) -> None:
        """Deliver one message; raise to have it retried later."""
        ...


class LogAdapter:
    """Writes each message to the log instead of sending it."""

    def __init__(self, channel: str = "email") -> None:
        self.channel = channel
        self.sent: list[Outgoing] = []

    def send(self, message: Outgoing) -> None:
        log.info("outbox %s to %s: %s", message.channel, message.recipient, message.subject)
        self.sent.append(message)


def deliver_pending(store: Store, adapters: list[OutboxAdapter], *, max_attempts: int = 5, now: dt.datetime | None = None) -> int:
    """Hand pending messages to the adapter of their channel; returns how many were sent."""
    by_channel = {adapter.channel: adapter for adapter in adapters}
    sent = 0
    with store.write() as session:
        pending = session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending").order_by(OutboxMessage.id)).all()
        for row in pending:
            adapter = by_channel.get(row.channel)
            if adapter is None:
                continue
            row.attempts += 1
            try:
                adapter.send(Outgoing(row.id, row.channel, row.recipient, row.subject, row.body, row.language))
            except Exception as error:  # an adapter's failure is recorded; the message waits for the next round
                row.error = f"{type(error).__name__}: {error}"
                if row.attempts >= max_attempts:
                    row.status = "failed"
                continue
            row.status, row.sent_at, row.error = "sent", now or utcnow(), None
            sent += 1
    return sent
