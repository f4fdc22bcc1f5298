"""Conversational replay of tau-retail tasks: for the tasks a customer could state in one or
two messages (cancel a pending order, change an order's address, return delivered items),
the customer's messages are written from the task's ground-truth actions, the agent serves
them through the real graph under the `tau-retail` profile, and the end state is compared
with the reference."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals.tau_retail import TauRetailReplay, compare

CONVERSATIONAL = {"cancel_pending_order", "modify_pending_order_address", "return_delivered_order_items"}
READS = {
    "find_user_id_by_email",
    "find_user_id_by_name_zip",
    "get_user_details",
    "get_order_details",
    "get_product_details",
    "list_all_product_types",
    "calculate",
    "think",
}


def conversational_writes(task: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The task's one write, when it is of a kind a customer states in a message or two."""
    writes = [a for a in task.get("actions", []) if a.get("name") not in READS]
    if len(writes) != 1 or writes[0]["name"] not in CONVERSATIONAL:
        return None
    return writes


def customer_messages(task: dict[str, Any], users: dict[str, Any], orders: dict[str, Any]) -> list[str]:
    """What the customer says: who they are and what they want, then their yes."""
    action = conversational_writes(task)
    assert action is not None
    name, args = action[0]["name"], action[0]["arguments"]
    user = users[task["user_id"]]
    hello = f"Hi, my email is {user['email']}."
    order_id = args["order_id"]
    if name == "cancel_pending_order":
        why = "I ordered it by mistake" if args["reason"] == "ordered by mistake" else "I no longer need it"
        request = f"Please cancel my order {order_id}, {why}."
    elif name == "modify_pending_order_address":
        parts = [args["address1"], args.get("address2", ""), args["city"], f"{args['state']} {args['zip']}", args["country"]]
        request = f"Please change the shipping address of order {order_id}. New address: {', '.join(p for p in parts if p)}"
    else:
        items = {i["item_id"]: i for i in orders[order_id]["items"]}
        described = []
        for item_id in args["item_ids"]:
            item = items[item_id]
            described.append(f"the {item['name']} ({', '.join(str(v) for v in item['options'].values())})")
        method = args["payment_method_id"]
        if method.startswith("gift_card"):
            where = "to my gift card"
        elif method == orders[order_id]["payment_history"][0]["payment_method_id"]:
            where = "to the original payment method"
        else:
            where = "to my PayPal account" if method.startswith("paypal") else "to my credit card"
        request = f"I want to return {' and '.join(described)} from order {order_id}, refund {where} please."
    return [f"{hello} {request}", "Yes, please go ahead."]


@dataclass
class ChatReplaySummary:
    tasks: int = 0
    eligible: int = 0
    resolved: int = 0
    unresolved: list[dict[str, Any]] = field(default_factory=list)


def replay_conversations(
    data_dir: Path,
    tasks: list[dict[str, Any]],
    reference: list[dict[str, Any]],
    *,
    progress: Callable[[int, int], None] | None = None,
    cache_dir: Path | None = None,
) -> ChatReplaySummary:
    from agent.service import SupportAgent
    from commerce.tau_retail import load_tau_retail
    from config import Settings

    users, orders, _ = load_tau_retail(data_dir)
    summary = ChatReplaySummary(tasks=len(tasks))
    chosen = [(i, t) for i, t in enumerate(tasks) if conversational_writes(t) is not None]
    summary.eligible = len(chosen)
    replay = TauRetailReplay(data_dir)
    try:
        for done, (index, task) in enumerate(chosen, start=1):
            with replay.fresh_store(index) as store, tempfile.TemporaryDirectory() as tmp:
                settings = Settings(data_dir=Path(tmp), policy_profile="tau-retail", cache_dir=cache_dir or Path(tmp) / "cache")
                agent = SupportAgent(
                    settings, store=store, use_knowledge=False, clock=lambda: dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC)
                )
                transcript = []
                try:
                    for text in customer_messages(task, users, orders):
                        turn = agent.handle(f"tau-{index}", text)
                        transcript.append({"customer": text, "agent": turn.reply, "status": turn.status})
                finally:
                    agent.close()
                result = replay.end_state(index, store)
                problems = compare(result, reference[index]) if index < len(reference) else ["no reference"]
                if problems:
                    summary.unresolved.append({"index": index, "problems": problems, "transcript": transcript})
                else:
                    summary.resolved += 1
            if progress:
                progress(done, len(chosen))
    finally:
        replay.close()
    return summary
