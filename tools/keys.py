"""Every idempotency key the product builds. A key names one intended action; the ledger runs
an action once per key, so a key must be fixed when the action is decided, before it runs,
and be rebuilt the same way by every retry.

Formats:

| key | what it names |
| --- | --- |
| `{conversation}:{turn}:{tool}` | a write decided in a customer's turn, fixed when proposed: a repeated "yes" acts once |
| `{conversation}:{turn}:escalate` | the hand-over to a human in that turn |
| `case:{case}:approved` | an action held for a human, approved by a staff member from the console |
| `flag:{flag}:{step}` | one step of a playbook for a monitor flag: `release` (stock), `hold` (shipment), `case` |
| `{playbook}:{order}` | one proactive message of a kind per order, however many rules flagged it |
| `{playbook}:{order}:coupon` | the goodwill coupon sent with that message |
| `replay-{task}-{step}` | one step of a replayed reference task |
"""

from __future__ import annotations

from typing import Literal

FlagStep = Literal["release", "hold", "case"]


def turn_action(conversation_id: str | None, turn: int, tool: str) -> str:
    return f"{conversation_id}:{turn}:{tool}"


def turn_escalation(conversation_id: str | None, turn: int) -> str:
    return f"{conversation_id}:{turn}:escalate"


def case_approval(case_id: int) -> str:
    return f"case:{case_id}:approved"


def flag_step(flag_id: int, step: FlagStep) -> str:
    return f"flag:{flag_id}:{step}"


def outreach(playbook: str, order_id: str | None) -> str:
    return f"{playbook}:{order_id}"


def outreach_coupon(playbook: str, order_id: str | None) -> str:
    return f"{outreach(playbook, order_id)}:coupon"


def replay_step(task: int, step: int) -> str:
    return f"replay-{task}-{step}"
