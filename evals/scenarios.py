"""Scripted conversations a seller can read: each scenario picks a customer and order from
the demo shop, plays the customer's messages through the real agent, and checks intent,
language, urgency, tool calls, escalation and the end state.

Scenario files (`evals/scenarios/*.yaml`) hold a list of scenarios:

    - id: es-late-parcel-coupon
      language: es
      intent: delivery_delay            # the scenario's main intent, for the report
      pick: {shipment_status: in_transit, promised_passed: true}
      turns:
        - say: "Hola, mi pedido {order_id} no llega. Mi email es {email}"
          expect: {language: es, intent: delivery_delay, status: awaiting_confirmation}
        - say: "sí, gracias"
          expect: {actions: [issue_coupon], status: open}
      end: {coupons: 1, refunds: 0, cases: 0}

`pick` keys: status, shipment_status, no_shipment, promised_passed (late: still on its way
after the promised day, or delivered after it), issue, currency,
marketplace, max_total, min_total, min_items, vip, language, carrier, in_stock (every item of
the order has units left; set by itself when the conversation ends with items sent again),
within_limits (every item is worth no more than the profile lets the agent refund or send
again on its own; set by itself when the conversation ends with such a write and no human),
beyond_limits (the first item is worth more than that; set by itself when a conversation with a
min_total ends with a human and no write), swappable (the first item is in stock in another
colour and one size up and down; set by itself when the conversation ends with a size or colour
swap).

`locale`: the language of the customer's browser, which the widget sends; the scenario's
`language` unless given (null: none).

Placeholders: {order_id} {email} {first_name} {last_name} {postal_code} {other_order_id}
(an order of another customer) {other_email}.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from agent.policy.schema import PolicyProfile
from agent.variants import SIZE_AXES, choose_variant, size_rank
from commerce.db import Store
from commerce.demo import REFERENCE_NOW, generate_demo_data
from commerce.models import (
    AuditEntry,
    Case,
    Coupon,
    Customer,
    Exchange,
    Order,
    Refund,
    Reshipment,
    ReturnRequest,
    StockLevel,
    Variant,
)
from commerce.money import approx_eur
from config import Settings

SCENARIO_DIR = Path(__file__).parent / "scenarios"
# Writes that send items: a conversation ending with one needs an order whose items are in stock.
SENDS_ITEMS = frozenset({"create_reshipment", "create_exchange"})
# Writes that swap an item for another of its variants.
SWAPS = frozenset({"modify_order_items", "exchange_items"})
# Writes the profile caps by amount: above its limit a human decides.
AMOUNT_CAPPED = frozenset({"issue_refund", "create_reshipment"})
# Writes that send a delivered item back: the shop takes them only within its return window.
SENDS_BACK = frozenset({"return_items", "exchange_items"})


def own_limits(profile: PolicyProfile) -> dict[str, Decimal]:
    """Per currency, the largest amount the agent may both refund and send again on its own."""
    limits: dict[str, Decimal] = {}
    for name in AMOUNT_CAPPED:
        rule = profile.actions.get(name)
        table = rule.approval_above if rule is not None else None
        for currency, amount in (table or {}).items():
            limits[currency] = min(limits.get(currency, Decimal(amount)), Decimal(amount))
    return limits


# Multi-turn conversations written apart from the code, with end states and language checks.
CONVERSATION_DIR = Path(__file__).parent / "conversations"
END_COUNTS: dict[str, Any] = {
    "refunds": Refund,
    "coupons": Coupon,
    "cases": Case,
    "reshipments": Reshipment,
    "returns": ReturnRequest,
    "exchanges": Exchange,
}


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and scenario."""


@dataclass
class ScenarioResult:
    id: str
    language: str
    intent: str
    passed: bool
    turns: int
    escalated: bool
    failures: list[str] = field(default_factory=list)
    transcript: list[dict[str, Any]] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)
    unexpected_writes: list[str] = field(default_factory=list)
    replies_in_language: bool = True
    unplayable: str | None = None


def as_blind(conversation: dict[str, Any]) -> dict[str, Any]:
    """A blind conversation played as it is measured: every reply checked for the customer's
    language, the newest matching order picked (customers write about a recent one). A story
    about a delivered order that names no problem with it is played on an order that had none:
    the agent would otherwise rightly speak first of the wrong item the shop knows it sent."""
    conversation.update(check_language=True, newest_first=True)
    pick = conversation.get("pick")
    if isinstance(pick, dict) and pick.get("status") == "delivered":
        pick.setdefault("issue", None)
    return conversation


def load_scenarios(directory: Path = SCENARIO_DIR) -> list[dict[str, Any]]:
    scenarios: list[dict[str, Any]] = []
    seen: set[str] = set()
    for path in sorted(directory.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        except yaml.YAMLError as e:
            raise ScenarioError(f"{path.name}: not valid YAML: {e}") from e
        if not isinstance(data, list):
            raise ScenarioError(f"{path.name}: expected a list of scenarios")
        for scenario in data:
            if not isinstance(scenario, dict) or not scenario.get("id") or not scenario.get("turns"):
                raise ScenarioError(f"{path.name}: every scenario needs an id and turns")
            if scenario["id"] in seen:
                raise ScenarioError(f"{path.name}: scenario id {scenario['id']} is used twice")
            seen.add(scenario["id"])
            scenario["_file"] = path.name
            scenarios.append(scenario)
    return scenarios


def _matches(
    order: Order,
    pick: dict[str, Any],
    now: dt.datetime,
    stock: dict[str, int] | None = None,
    limits: dict[str, Decimal] | None = None,
    variants: dict[str, list[Variant]] | None = None,
) -> bool:
    shipment = order.shipments[-1] if order.shipments else None
    for key, wanted in pick.items():
        if (
            key == "swappable"
            and stock is not None
            and variants is not None
            and _swappable(order, variants, stock, _swapped_index(pick.get("swap_story"))) != bool(wanted)
        ):
            return False
        if (
            key == "swap_story"
            and variants is not None
            and stock is not None
            and not _story_swappable(order, wanted, variants, stock)
        ):
            return False
        if key == "within_limits" and limits is not None:
            limit = limits.get(order.currency)
            within = limit is not None and all(line.unit_price * line.quantity <= limit for line in order.items)
            if within != bool(wanted):
                return False
        if key == "beyond_limits" and limits is not None:
            # The item the story is about ({item_1}) costs more than the agent may refund alone.
            limit = limits.get(order.currency)
            first = order.items[0] if order.items else None
            beyond = limit is not None and first is not None and first.unit_price * first.quantity > limit
            if beyond != bool(wanted):
                return False
        if key == "returnable_days":
            # Delivered no longer ago than the return window: a story of a return or an exchange
            # is written for an order the shop still takes back.
            delivered = shipment.delivered_at if shipment else None
            if delivered is None or now.replace(tzinfo=None) - delivered.replace(tzinfo=None) > dt.timedelta(days=int(wanted)):
                return False
        if key == "in_stock" and stock is not None:
            in_stock = all(stock.get(line.variant_id, 0) > 0 for line in order.items)
            if in_stock != bool(wanted):
                return False
        if key == "status" and order.status.value != wanted:
            return False
        if key == "shipment_status" and (shipment.status.value if shipment else "label_created") != wanted:
            # An order without a parcel yet counts as "label_created": not picked up by a carrier.
            return False
        if key == "no_shipment" and bool(order.shipments) == bool(wanted):
            return False
        if key == "promised_passed":
            # A parcel still on its way is late once its promised day has gone by; a delivered
            # one was late when it came after that day.
            promised = shipment.promised_delivery_date if shipment else None
            arrived = shipment.delivered_at.date() if shipment and shipment.delivered_at else now.date()
            passed = promised is not None and promised < arrived
            if passed != bool(wanted):
                return False
        if key == "issue" and (order.issue.value if order.issue else None) != wanted:
            return False
        if key == "currency" and order.currency != wanted:
            return False
        if key == "marketplace" and order.marketplace.value != wanted:
            return False
        if key == "max_total" and order.total > wanted:
            return False
        if key == "min_total" and _value_in_eur(order) < wanted:
            # "Expensive" is meant in euros: a yen order of 12,655 is about 78 EUR. A cheap
            # total stays in the order's own units, so small orders of any currency still play.
            return False
        if key == "min_items" and len(order.items) < wanted:
            return False
        if key == "vip" and order.customer.is_vip != bool(wanted):
            return False
        if key == "language" and order.customer.preferred_language != wanted:
            return False
        if key == "carrier" and (shipment is None or shipment.carrier != wanted):
            return False
    return True


def _value_in_eur(order: Order) -> Decimal:
    return approx_eur(order.total, order.currency) or order.total


def _swapped_index(story: object) -> int:
    """Which item a swap story is about: {item_2} when its messages name it, else {item_1}."""
    texts = (story.get("texts") or []) if isinstance(story, dict) else []
    return 1 if any("{item_2}" in str(t) for t in texts) else 0


def _swappable(order: Order, variants: dict[str, list[Variant]], stock: dict[str, int], index: int = 0) -> bool:
    """Whether the order's first item has sizes and comes in stock in another colour, one size up
    and one size down, whatever else changes with it, and so does the second one when it has
    sizes: what a story of a size or colour swap may ask for ({item_1}, {item_2}). A story about
    the second item ("return the first, the second in another size") needs only the second."""
    if len(order.items) <= index:
        return False
    if index:
        return _line_swappable(order.items[index], variants, stock) is True
    first, *rest = order.items[:2]
    return _line_swappable(first, variants, stock) is True and all(
        _line_swappable(line, variants, stock) is not False for line in rest
    )


def _story_swappable(order: Order, story: dict[str, Any], variants: dict[str, list[Variant]], stock: dict[str, int]) -> bool:
    """Whether the item a swap story is about ({item_2} when it names it, else {item_1}) comes in
    the size or colour its messages ask for, in stock."""
    texts = [str(t) for t in story.get("texts") or []]
    index = _swapped_index(story)
    if len(order.items) <= index:
        return False
    line = order.items[index]
    item = {"item_id": line.variant_id, "options": dict(line.options or {}), "quantity": line.quantity}
    offered = [
        {"item_id": v.id, "options": dict(v.options or {}), "in_stock": stock.get(v.id, 0), "available": v.available}
        for v in variants.get(line.product_id, [])
    ]
    return choose_variant(texts, str(story.get("language") or "en"), item, offered).variant is not None


def _line_swappable(line: Any, variants: dict[str, list[Variant]], stock: dict[str, int]) -> bool | None:
    """Whether one item can be swapped as `_swappable` says; None when it has no sizes."""
    current = {str(k): str(v) for k, v in (line.options or {}).items()}
    others = [
        {str(k): str(v) for k, v in v.options.items()}
        for v in variants.get(line.product_id, [])
        if v.id != line.variant_id and v.available and stock.get(v.id, 0) >= line.quantity
    ]
    axis = next((a for a in SIZE_AXES if a in current), None)
    here = size_rank(current[axis]) if axis else None
    if axis is None or here is None:
        return None
    if "color" in current and not any(o.get("color") != current["color"] for o in others):
        return False
    ranks = {size_rank(o.get(axis, "")) for o in others} - {None}
    return any(r > here for r in ranks if r is not None) and any(r < here for r in ranks if r is not None)


def pick_values(
    store: Store,
    pick: dict[str, Any],
    now: dt.datetime,
    skip: int = 0,
    *,
    newest: bool = False,
    limits: dict[str, Decimal] | None = None,
) -> dict[str, str]:
    """Placeholder values for a scenario: the first matching order (after `skip`; the newest
    first with `newest`, as a customer usually writes about a recent order), its customer, and
    an order of someone else. `limits` are the amounts per currency that `within_limits` reads."""
    with store.read() as session:
        orders = session.scalars(select(Order).order_by(Order.placed_at, Order.id)).all()
        stock: dict[str, int] = defaultdict(int)
        for level in session.scalars(select(StockLevel)):
            stock[level.variant_id] += level.on_hand - level.reserved
        variants: dict[str, list[Variant]] = defaultdict(list)
        if "swappable" in pick or "swap_story" in pick:
            for variant in session.scalars(select(Variant)):
                variants[variant.product_id].append(variant)
        matching = [o for o in orders if _matches(o, pick, now, stock, limits, variants) and o.duplicate_of is None]
        if len(matching) <= skip and "swap_story" in pick:
            # No order has the very variant the story asks for: any order whose item can be swapped,
            # the one the story names ({item_2}) if the demo shop has such an order.
            loose = {k: v for k, v in pick.items() if k != "swap_story"}
            matching = [o for o in orders if _matches(o, loose, now, stock, limits, variants) and o.duplicate_of is None]
            index = _swapped_index(pick["swap_story"])
            named = [o for o in matching if len(o.items) > index and _line_swappable(o.items[index], variants, stock) is True]
            matching = named if len(named) > skip else matching
        if len(matching) <= skip:
            raise ScenarioError(f"no demo order matches {pick}")
        order = matching[-1 - skip] if newest else matching[skip]
        customer: Customer = order.customer
        other = next(o for o in orders if o.customer_id != customer.id)
        items = [line.name for line in order.items]
        return {
            "item_1": items[0] if items else "",
            "item_2": items[1] if len(items) > 1 else (items[0] if items else ""),
            "order_id": order.id,
            "email": customer.email,
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "postal_code": customer.postal_code,
            "customer_id": customer.id,
            "other_order_id": other.id,
            "other_email": other.customer.email,
        }


# Ledger rows that are not the customer's remedy: the hand-over itself is checked as `human`.
NOT_A_WRITE = frozenset({"escalate_to_human"})
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*")
# Values that stay as they are in any language: emails, order and tracking numbers, amounts, dates.
_NEUTRAL = re.compile(r"\S+@\S+|#?[A-Z0-9][A-Z0-9-]{5,}|\d[\d.,:/ -]*\d|\([^)]*\)")


def _last_ledger_id(store: Store) -> int:
    with store.read() as session:
        return int(session.scalar(select(func.max(AuditEntry.id))) or 0)


def _writes_since(store: Store, after_id: int) -> list[str]:
    with store.read() as session:
        tools = session.scalars(select(AuditEntry.tool).where(AuditEntry.id > after_id, AuditEntry.ok.is_(True))).all()
    return sorted(t for t in tools if t not in NOT_A_WRITE)


def _minus(done: list[str], wanted: list[str]) -> list[str]:
    left = list(wanted)
    extra = []
    for tool in done:
        if tool in left:
            left.remove(tool)
        else:
            extra.append(tool)
    return extra


def foreign_sentences(reply: str, language: str) -> list[str]:
    """Sentences of a reply written in another language than the customer's."""
    from agent.language import detect_language

    stray = []
    for sentence in _SENTENCE_END.split(reply):
        plain = _NEUTRAL.sub(" ", sentence).strip()
        letters = sum(ch.isalpha() for ch in plain)
        if letters < 20:
            continue
        # The conversation's language is the prior: a short sentence with a name in it stays in it.
        found = detect_language(plain, language).language
        if found.split("-")[0] != language.split("-")[0]:
            stray.append(sentence.strip())
    return stray


def _counts(store: Store) -> dict[str, int]:
    with store.read() as session:
        return {name: int(session.scalar(select(func.count()).select_from(model)) or 0) for name, model in END_COUNTS.items()}


def _check_turn(expect: dict[str, Any], turn: dict[str, Any], values: dict[str, str] | None = None) -> list[str]:
    problems = []
    for key in ("language", "intent", "status", "urgency"):
        if key in expect:
            wanted = expect[key]
            options = wanted if isinstance(wanted, list) else [wanted]
            if turn.get(key) not in options:
                problems.append(f"{key}: expected {wanted}, got {turn.get(key)}")
    if "actions" in expect:
        done = [a["tool"] for a in turn.get("actions", []) if a["ok"]]
        if done != list(expect["actions"]):
            problems.append(f"actions: expected {expect['actions']}, got {done}")
    values = values or {}
    for needle in (str(n).format(**values) for n in expect.get("reply_contains", [])):
        if needle.lower() not in turn.get("reply", "").lower():
            problems.append(f"reply does not contain {needle!r}")
    for needle in (str(n).format(**values) for n in expect.get("reply_excludes", [])):
        if needle.lower() in turn.get("reply", "").lower():
            problems.append(f"reply contains {needle!r}")
    return problems


class ScenarioRunner:
    """Builds the demo shop once, then gives every scenario a fresh copy of it."""

    def __init__(self, workdir: Path, *, seed: int = 7, progress: Callable[[int, int], None] | None = None) -> None:
        self.workdir = workdir
        self.template = workdir / "template.db"
        self.now = REFERENCE_NOW
        template = Store(f"sqlite:///{self.template}")
        generate_demo_data(template, seed=seed, now=self.now)
        template.dispose()
        self.cache = workdir / "cache"
        self.cache.mkdir(exist_ok=True)
        self.knowledge: Any = None

    def _fresh(self, name: str) -> tuple[Store, Path]:
        folder = self.workdir / name
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / "helloword.db"
        source_connection, target_connection = sqlite3.connect(self.template), sqlite3.connect(target)
        source_connection.backup(target_connection)
        source_connection.close()
        target_connection.close()
        return Store(f"sqlite:///{target}", create=False), folder

    def run(self, scenario: dict[str, Any]) -> ScenarioResult:
        from agent.service import MessageError, SupportAgent

        store, folder = self._fresh(scenario["id"])
        settings = Settings(data_dir=folder, policy_profile=scenario.get("profile", "default"), cache_dir=self.cache)
        if self.knowledge is None:
            from knowledge.store import open_knowledge_base

            self.knowledge = open_knowledge_base(Settings(data_dir=self.workdir, cache_dir=self.cache))
        agent = SupportAgent(settings, store=store, clock=lambda: self.now, knowledge=self.knowledge)
        result = ScenarioResult(
            id=scenario["id"],
            language=scenario.get("language", "en"),
            intent=scenario.get("intent", "other"),
            passed=True,
            turns=0,
            escalated=False,
        )
        try:
            pick = dict(scenario.get("pick") or {})
            if SENDS_ITEMS & set((scenario.get("end") or {}).get("writes") or []):
                # A conversation that ends with items sent again is written for a shop that has them:
                # it is played on an order whose items are in stock (the demo shop oversells a few).
                pick.setdefault("in_stock", True)
            end = scenario.get("end") or {}
            if SWAPS & set(end.get("writes") or []):
                # A size or colour swap is written for an item the shop has in other sizes and colours.
                pick.setdefault("swappable", True)
                if scenario.get("newest_first"):
                    # A blind story names the size or colour it wants: played, where the demo shop
                    # allows, on an order whose item comes in it.
                    pick.setdefault(
                        "swap_story",
                        {"texts": [str(t.get("say", "")) for t in scenario.get("turns") or []], "language": result.language},
                    )
            if SENDS_BACK & set(end.get("writes") or []) and pick.get("status") == "delivered":
                # Written for an order the shop still takes back.
                pick.setdefault("returnable_days", agent.profile.returns.window_days)
            if AMOUNT_CAPPED & set(end.get("writes") or []) and not end.get("human"):
                # Written for a refund or a replacement the agent may give on its own: played on an
                # order whose items are each within the profile's limits for both.
                pick.setdefault("within_limits", True)
            if "min_total" in pick and end.get("human") and not end.get("writes"):
                # "Too expensive for the agent": written about the item named, so that item is.
                pick.setdefault("beyond_limits", True)
            try:
                values = pick_values(
                    store,
                    pick,
                    self.now,
                    int(scenario.get("skip", 0)),
                    newest=bool(scenario.get("newest_first")),
                    limits=own_limits(agent.profile),
                )
            except ScenarioError as e:
                # The demo shop has no such order: the scenario cannot be played, which is not the agent's fault.
                result.unplayable = str(e)
                result.failures.append(f"pick: {e}")
                result.passed = False
                return result
            before = _counts(store)
            before_ledger = _last_ledger_id(store)
            # The page's language the widget sends with each message: the customer's own unless
            # the scenario names another (`locale: en` for an English browser, `locale: null` for none).
            locale = scenario.get("locale", scenario.get("language"))
            for number, turn in enumerate(scenario["turns"], start=1):
                text = str(turn["say"]).format(**values)
                if turn.get("human_reply"):
                    outcome = agent.reply_as_human(scenario["id"], text, resolve=bool(turn.get("resolve")))
                else:
                    try:
                        outcome = agent.handle(scenario["id"], text, locale=locale)
                    except MessageError as e:
                        result.transcript.append({"say": text, "error": str(e)})
                        if not turn.get("expect", {}).get("error"):
                            result.failures.append(f"turn {number}: {e}")
                        continue
                data = outcome.as_json()
                result.transcript.append({"say": text, **data})
                result.turns += 1
                result.escalated = result.escalated or data["status"] == "escalated"
                for problem in _check_turn(turn.get("expect", {}), data, values):
                    result.failures.append(f"turn {number}: {problem}")
            after = _counts(store)
            end = scenario.get("end") or {}
            if "writes" in end:
                done = _writes_since(store, before_ledger)
                wanted_writes = sorted(str(w) for w in end["writes"] or [])
                result.writes = done
                result.unexpected_writes = _minus(done, wanted_writes)
                if done != wanted_writes:
                    result.failures.append(f"end: writes expected {wanted_writes}, got {done}")
            if "human" in end:
                human = result.escalated or after["cases"] > before["cases"]
                if human != bool(end["human"]):
                    result.failures.append(f"end: {'a human' if end['human'] else 'no human'} expected")
            if scenario.get("check_language"):
                for number, turn_data in enumerate(result.transcript, start=1):
                    stray = foreign_sentences(str(turn_data.get("reply") or ""), result.language)
                    if stray:
                        result.replies_in_language = False
                        result.failures.append(f"turn {number}: reply not in {result.language}: {stray[0]!r}")
            for name, wanted in end.items():
                if name in END_COUNTS and after[name] - before[name] != int(wanted):
                    result.failures.append(f"end: {name} expected {wanted} new, got {after[name] - before[name]}")
                if name == "status" and result.transcript and result.transcript[-1].get("status") != wanted:
                    result.failures.append(f"end: status expected {wanted}, got {result.transcript[-1].get('status')}")
        finally:
            agent.close()
            store.dispose()
        result.passed = not result.failures
        return result


def summarise(results: list[ScenarioResult]) -> dict[str, Any]:
    def table(key: str) -> dict[str, dict[str, float]]:
        groups: dict[str, list[ScenarioResult]] = defaultdict(list)
        for r in results:
            groups[getattr(r, key)].append(r)
        return {
            name: {
                "scenarios": len(group),
                "pass_rate": sum(r.passed for r in group) / len(group),
                "resolved_without_human": sum(not r.escalated for r in group) / len(group),
                "mean_turns": statistics.mean(r.turns for r in group),
            }
            for name, group in sorted(groups.items())
        }

    return {
        "scenarios": len(results),
        "passed": sum(r.passed for r in results),
        "unexpected_writes": sum(len(r.unexpected_writes) for r in results),
        "unplayable": {r.id: r.unplayable for r in results if r.unplayable},
        "replies_in_language": sum(r.replies_in_language for r in results),
        "by_language": table("language"),
        "by_intent": table("intent"),
        "failures": {r.id: r.failures for r in results if not r.passed},
    }


def run_scenarios(
    scenarios: list[dict[str, Any]],
    report_path: Path | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    workdir: Path | None = None,
) -> tuple[list[ScenarioResult], dict[str, Any]]:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="helloword-scenarios-") as tmp:
        runner = ScenarioRunner(workdir or Path(tmp))
        results = []
        for index, scenario in enumerate(scenarios):
            results.append(runner.run(scenario))
            if progress:
                progress(index + 1, len(scenarios))
    summary = summarise(results)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    if report_path is not None:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(
            json.dumps({"summary": summary, "results": [r.__dict__ for r in results]}, ensure_ascii=False, indent=2, default=str)
        )
    return results, summary
