"""First-response deadlines per urgency level."""

from __future__ import annotations

import datetime as dt

from commerce.models import UrgencyLevel

SLA_HOURS: dict[UrgencyLevel, int] = {
    UrgencyLevel.RED: 1,
    UrgencyLevel.ORANGE: 4,
    UrgencyLevel.YELLOW: 12,
    UrgencyLevel.BLUE: 24,
}


def sla_deadline(urgency: UrgencyLevel, opened_at: dt.datetime, hours: dict[UrgencyLevel, int] | None = None) -> dt.datetime:
    return opened_at + dt.timedelta(hours=(hours or SLA_HOURS)[urgency])
