"""The offline brain: a playbook per intent, drawn from the policy profile, answered from
reply templates in the customer's language. No model, no network."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from agent.brain import Decision, ReplyPart, nested
from agent.replies import format_date, format_list, format_money
from agent.state import ConversationState
from agent.understanding import COMPENSATION_WORDS, kept_items, normalise
from agent.variants import choose_variant, describe, items_swapped_apart, names_a_variant, names_other_items, option_list
from commerce.carriers import get_carrier

GIFT_CARD = {
    "en": "gift card",
    "es": "tarjeta regalo",
    "fr": "carte cadeau",
    "de": "Geschenkkarte",
    "it": "carta regalo",
    "pt": "cartão-presente",
    "nl": "cadeaukaart",
    "pl": "karta podarunkowa",
    "tr": "hediye kartı",
    "ru": "подарочная карта",
    "ar": "بطاقة الهدايا",
    "zh": "礼品卡",
    "ja": "ギフトカード",
    "ko": "기프트 카드",
}
LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "fr": "French", "de": "German", "zh": "Chinese"}
GIFT_CARD_WORDS = ("gift card", "giftcard", "gift-card", *(w for w in GIFT_CARD.values() if w != "gift card"))
MISTAKE_WORDS = (
    "mistake",
    "by accident",
    "accidentally",
    "error",
    "erreur",
    "versehentlich",
    "aus versehen",
    "errore",
    "engano",
    "ongeluk",
    "vergissing",
    "pomyłk",
    "yanlışlıkla",
    "ошибк",
    "بالخطأ",
    "错",
    "間違",
    "실수",
)
# Where a parcel is with the carrier and can still be redirected or brought back.
ON_THE_WAY = ("in_transit", "customs_hold", "out_for_delivery")
# Items are looked for in the customer's last messages, and match when this share of their name's words is there.
ITEM_MEMORY_MESSAGES = 4
ITEM_NAME_SHARE = 0.5
# Latin words, read apart from the script glued to them ("荷物のDesk Lampが壊れて").
_LATIN_WORD = re.compile(r"[0-9a-zà-ÿ]+")
COUPON_PERCENT = 10
PROBLEM_REASONS = {
    "damaged_item": "damaged on arrival",
    "wrong_item": "wrong item shipped",
    "missing_item": "item missing from the parcel",
    "not_received": "delivered but not received",
}
APOLOGIES = {
    "damaged on arrival": "sorry_damaged",
    "wrong item shipped": "sorry_wrong",
    "item missing from the parcel": "sorry_missing",
}  # offered for a late parcel, capped by the profile


@lru_cache(maxsize=1)
def _event_labels() -> dict[str, dict[str, str]]:
    path = Path(__file__).resolve().parents[1] / "prompts" / "tracking_events.yaml"
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(code): {str(k): str(v) for k, v in labels.items()} for code, labels in data.items()}


def event_label(code: str, description: str, language: str) -> str:
    """A tracking event in the customer's language; the carrier's own words when we have no label."""
    labels = _event_labels().get(code, {})
    return labels.get(language) or description or labels.get("en") or code.replace("_", " ")


def _d(value: Any) -> Decimal:
    return Decimal(str(value))


# Requests about a parcel that went out: where it is, what is missing, money or a new one instead,
# and the changes it is too late for ("mon colis est retourné à l'expéditeur" read as a cancellation).
AFTER_A_PARCEL = frozenset(
    {"track_order", "delivery_delay", "not_received", "missing_item", "damaged_item", "wrong_item", "return_request",
     "refund_request", "reship_request", "cancel_order", "change_address", "switch_carrier"}
)  # fmt: skip


class OfflineBrain:
    name = "offline"
    escalates_when_lost = True

    # ------------------------------------------------------------ what the embedded brain leaves to others

    def attach(self, deps: Any) -> None:
        """Nothing to attach: the offline brain reads only the state and context it is given."""

    def classify(self, text: str, language: str, state: ConversationState) -> dict[str, Any] | None:
        """The embedded classifier reads every message."""
        return None

    def translate(self, state: ConversationState, words: list[str]) -> tuple[str | None, dict[str, int]]:
        """No translation without a model."""
        return None, {}

    def close(self) -> None:
        """Nothing to release."""

    # ------------------------------------------------------------ formatting in the customer's locale

    def _lang(self, state: ConversationState) -> str:
        return state.get("language") or "en"

    def _country(self, context: dict[str, Any]) -> str | None:
        customer = context.get("customer") or {}
        code = customer.get("country_code")
        return str(code) if code else None

    def money(self, state: ConversationState, context: dict[str, Any], amount: Any, currency: str) -> str:
        return str(format_money(_d(amount), currency, self._lang(state), self._country(context)))

    def date(self, state: ConversationState, context: dict[str, Any], value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
        return str(format_date(value, self._lang(state), self._country(context)))

    def method(self, state: ConversationState, context: dict[str, Any], method_id: str) -> str:
        for method in (context.get("customer") or {}).get("payment_methods", []):
            if method["id"] == method_id:
                if method["kind"] == "credit_card":
                    return f"{(method.get('brand') or 'card').title()} •••• {method.get('last_four')}"
                if method["kind"] == "paypal":
                    return "PayPal"
                return GIFT_CARD.get(self._lang(state), GIFT_CARD["en"])
        return method_id

    def items(self, state: ConversationState, order: dict[str, Any], item_ids: list[str]) -> str:
        names = []
        remaining = list(item_ids)
        for item in order.get("items", []):
            if item["item_id"] in remaining:
                remaining.remove(item["item_id"])
                options = " ".join(str(v) for v in item.get("options", {}).values())
                names.append(f"{item['name']} ({options})" if options else item["name"])
        return str(format_list(names, self._lang(state)))

    def carrier_name(self, code: str) -> str:
        carrier = get_carrier(code)
        return carrier.name if carrier else code.upper()

    # ------------------------------------------------------------ facts

    @staticmethod
    def original_method(order: dict[str, Any]) -> str | None:
        for t in order.get("payment_history", []):
            if t["kind"] == "payment":
                return str(t["payment_method_id"])
        return None

    @staticmethod
    def refundable(order: dict[str, Any]) -> Decimal:
        return _d(order.get("amount_paid", 0)) - _d(order.get("amount_refunded", 0))

    def hinted_items(self, state: ConversationState, order: dict[str, Any], swap: bool | None = None) -> list[str]:
        """The order's items the customer named in this message or the one before (product name,
        narrowed by option words such as colour or size when several items share a name); the
        only item of a one-item order; else none, and the customer is asked which. With `swap`
        (an exchange: True, a return: False), items the words send the other way are left out."""
        recent = _recent_messages(state)
        hints = {h.lower() for h in (state.get("slots") or {}).get("item_hints", [])}
        # "And I'd like to return the bottle too", after the lamp was sent again: the items this
        # message names are the ones it is about; the messages before only when it names none.
        language = self._lang(state)
        # An item "fine, only a bit small" is kept from a return, not from an exchange.
        fine_kept = not swap
        latest = self._named_items(recent[-1:], hints, order, language, fine_kept)
        by_id = {item["item_id"]: item["name"] for item in order.get("items", [])}
        if latest and not kept_items(recent[-1:], language, [by_id[i] for i in latest]) >= {by_id[i] for i in latest}:
            chosen = latest
        else:
            chosen = self._named_items(recent, hints, order, language, fine_kept)
        if len(chosen) > 1 and swap is not None:
            # "The bottle goes back; the tracker one size smaller": each item with its request.
            swapped, returned = items_swapped_apart(recent, language, [by_id[i] for i in chosen])
            other_way = (returned - swapped) if swap else (swapped - returned)
            chosen = [i for i in chosen if by_id[i] not in other_way] or chosen
        if chosen:
            return chosen
        items = order.get("items", [])
        return [items[0]["item_id"]] if len(items) == 1 else []

    def _named_items(
        self, recent: list[str], hints: set[str], order: dict[str, Any], language: str, fine_kept: bool = True
    ) -> list[str]:
        """The order's items named in these messages, those said to be fine left out (with `fine_kept`)."""
        text = " ".join(recent).lower()
        words = set(re.findall(r"\w+", text)) | set(_LATIN_WORD.findall(text)) | hints
        items = order.get("items", [])
        named = []
        for item in items:
            name_words = {w for w in re.findall(r"\w+", item["name"].lower()) if len(w) > 2}
            if not name_words:
                continue
            share = len(name_words & words) / len(name_words)
            if share >= ITEM_NAME_SHARE:
                options = [str(v).lower() for v in item.get("options", {}).values()]
                named.append((item, share, sum(1 for o in options if o and o in text)))
        chosen = []
        for item, share, score in named:
            rivals = [(sh, sc) for other, sh, sc in named if other["name"] == item["name"]]
            if (share, score) == max(rivals) and all(share >= sh for _, sh, _ in named):
                chosen.append(item["item_id"])
        if len(chosen) > 1:
            # "The vase is broken, the backpack is fine": only the item with the problem. To swap,
            # only what is said to stay as it is ("Pet Bed不用动") is left out: "fine, only a bit
            # small" still asks for another size.
            by_id = {item["item_id"]: item["name"] for item in items}
            fine = kept_items(recent, language, [by_id[i] for i in chosen], unchanged_only=not fine_kept)
            chosen = [i for i in chosen if by_id[i] not in fine] or chosen
        return chosen

    def ask_which(self, state: ConversationState, order: dict[str, Any]) -> Decision:
        return Decision(
            "reply",
            parts=[("ask_which_items", {"items": self.items(state, order, [i["item_id"] for i in order.get("items", [])])})],
        )

    def refund_method(self, state: ConversationState, context: dict[str, Any], order: dict[str, Any]) -> str:
        """Where the customer wants a refund: a gift card or PayPal when they say so, else the original method."""
        text = state.get("message", "").lower()
        methods = (context.get("customer") or {}).get("payment_methods", [])
        wanted = None
        if any(w in text for w in GIFT_CARD_WORDS):
            wanted = "gift_card"
        elif "paypal" in text:
            wanted = "paypal"
        if wanted:
            for method in methods:
                if method["kind"] == wanted:
                    return str(method["id"])
        return self.original_method(order) or ""

    def parcel(self, context: dict[str, Any]) -> dict[str, Any] | None:
        parcels = (context.get("tracking") or {}).get("parcels") or []
        return parcels[-1] if parcels else None

    def tracking_values(self, state: ConversationState, context: dict[str, Any], parcel: dict[str, Any]) -> dict[str, str]:
        shipment = parcel["shipment"]
        last = shipment.get("last_event") or {}
        return {
            "order_id": str((context.get("order") or {}).get("order_id", "")),
            "carrier": self.carrier_name(shipment["carrier"]),
            "tracking": shipment["tracking_number"],
            "event": event_label(str(last.get("code", "")), str(last.get("description") or ""), self._lang(state))
            if last
            else "-",
            "location": last.get("location") or "-",
            "date": self.date(state, context, last.get("occurred_at")),
            "promised": self.date(state, context, shipment.get("promised_delivery_date")),
        }

    # ------------------------------------------------------------ playbooks

    def decide(self, state: ConversationState, context: dict[str, Any]) -> Decision:
        intent = state.get("intent", "other")
        signals = state.get("signals") or {}
        if signals.get("legal_threat"):
            return Decision(
                "escalate",
                reason="The customer threatens a chargeback, dispute or legal action.",
                urgency="red",
                recommendation="Call or write to the customer within the hour; settle before the dispute is filed.",
            )
        if intent == "human_agent" or signals.get("wants_human"):
            return Decision(
                "escalate", reason="The customer asked for a human agent.", recommendation="Take over the conversation."
            )
        if intent in ("greeting", "other") and not state.get("pending"):
            done_before = any(a["ok"] for a in state.get("actions_log", []))
            if signals.get("affirmation") == "yes" and done_before and not signals.get("closing"):
                return Decision("reply", parts=[("already_done", {})])
            if signals.get("closing") or (signals.get("affirmation") == "no" and state.get("turn", 1) > 1):
                return Decision("reply", parts=[("closing", {})])
        if intent == "greeting":
            return Decision("reply", parts=[("greeting", {"shop": str(context.get("shop", "our shop"))})])
        if intent in ("policy_question", "customs_duties") and not context.get("order"):
            return self.policy_answer(state, context)
        if intent == "complaint":
            return Decision(
                "escalate",
                reason="The customer complains about the service.",
                urgency="orange",
                recommendation="Apologise personally and offer a goodwill gesture within policy.",
            )
        if intent == "other" and any(key == "identity_ok" for key, _ in state.get("reply_parts") or []):
            # Only their details so far ("order no. …", an email): found, and now what can we do.
            return Decision("reply", parts=[("how_can_i_help", {})])
        if intent == "other" or not context.get("order"):
            return Decision("reply", parts=[("didnt_understand", {})])
        parcel = self.parcel(context)
        if intent in AFTER_A_PARCEL and parcel is not None and parcel["shipment"]["status"] == "returned_to_sender":
            # "Send it again or give me my money back" of a parcel on its way back to the shop: a
            # person arranges either once it is back.
            return self._returning(self.tracking_values(state, context, parcel))
        handler = getattr(self, f"on_{intent}", None)
        if handler is None:
            return Decision("reply", parts=[("didnt_understand", {})])
        decision: Decision = handler(state, context)
        return decision

    def policy_answer(self, state: ConversationState, context: dict[str, Any]) -> Decision:
        hits = context.get("hits") or []
        if not hits and state.get("pending"):
            # A question while an offer waits for its yes: no hand-over that would leave the offer hanging.
            return Decision("reply", parts=[("question_no_policy", {})])
        if not hits:
            return Decision(
                "escalate",
                parts=[("policy_not_found", {})],
                reason="No policy answers the customer's question.",
                urgency="blue",
                recommendation="Answer the policy question and add it to the knowledge base.",
            )
        hit = hits[0]
        # The chunk starts with its title and section headings; the customer needs the text.
        body = "\n".join(line for line in hit["text"].splitlines() if not line.lstrip().startswith("#"))
        text = re.sub(r"\s+", " ", body).strip()
        if hit["language"] == self._lang(state):
            return Decision("reply", parts=[("policy_answer", {"answer": text})])
        language = LANGUAGE_NAMES.get(hit["language"], hit["language"])
        return Decision("reply", parts=[("policy_answer_other_language", {"answer": text, "language": language})])

    def on_track_order(self, state: ConversationState, context: dict[str, Any]) -> Decision:
        order = context["order"]
        parcel = self.parcel(context)
        if parcel is None or parcel["shipment"]["status"] == "label_created":
            return Decision("reply", parts=[("track_not_shipped", {"order_id": order["order_id"]})])
        values = self.tracking_values(state, context, parcel)
        status = parcel["shipment"]["status"]
        if status == "returned_to_sender":
            return self._returning(values)
        if status == "delivered":
            delivered = parcel["shipment"].get("delivered_at") or (parcel["shipment"].get("last_event") or {}).get("occurred_at")
            values["date"] = self.date(state, context, delivered)
            return Decision("reply", parts=[("track_delivered", values)])
        if parcel.get("promised_date_passed") or (parcel.get("days_since_last_event") or 0) >= 3:
            return self.on_delivery_delay(state, context)
        if status == "customs_hold":
            return Decision("reply", parts=[("track_customs", values)])
        return Decision("reply", parts=[("track_in_transit", values)])

    def on_delivery_delay(self, state: ConversationState, context: dict[str, Any]) -> Decision:
        order = context["order"]
        parcel = self.parcel(context)
        delivered = parcel is not None and parcel["shipment"]["status"] == "delivered"
        if delivered and COMPENSATION_WORDS.search(normalise(state.get("message", ""))):
            # "It came a week late; at least give me a discount code": the gesture asked for, a
            # small one that still waits for the customer's yes.
            return self._offer_coupon(state, context, self.on_track_order(state, context).parts)
        if parcel is None or parcel["shipment"]["status"] in ("label_created", "delivered"):
            return (
                self.on_track_order(state, context)
                if parcel
                else Decision("reply", parts=[("track_not_shipped", {"order_id": order["order_id"]})])
            )
        values = self.tracking_values(state, context, parcel)
        if parcel["shipment"]["status"] == "returned_to_sender":
            return self._returning(values)
        late = parcel.get("promised_date_passed") or (parcel.get("days_since_last_event") or 0) >= 3
        key = "track_customs" if parcel["shipment"]["status"] == "customs_hold" else "track_in_transit"
        if not late:
            return Decision("reply", parts=[(key, values)])
        parts: list[ReplyPart] = [("delay_apology", values)]
        if parcel["shipment"]["status"] == "customs_hold":
            parts.append(("track_customs", values))
        return self._offer_coupon(state, context, parts)

    def _returning(self, values: dict[str, Any]) -> Decision:
        """A parcel on its way back to the shop: no coupon makes up for it; a person arranges a new
        delivery or the money back."""
        return Decision(
            "escalate",
            parts=[("track_returned", values)],
            reason="The parcel is being returned to the shop.",
            urgency="orange",
            recommendation="Check the address with the customer, then send the parcel again or refund it once it is back.",
        )

    def _offer_coupon(self, state: ConversationState, context: dict[str, Any], parts: list[ReplyPart]) -> Decision:
        """A goodwill coupon for a late parcel, once per conversation and not after a no."""
        order = context["order"]
        percent = min(COUPON_PERCENT, int((context.get("profile") or {}).get("max_coupon_percent") or COUPON_PERCENT))
        if percent <= 0 or context.get("coupon_already_offered") or "issue_coupon" in (state.get("declined") or []):
            return Decision("reply", parts=parts)
        return Decision(
            "propose",
            parts=parts,
            tool="issue_coupon",
            offer=True,
            arguments={
                "customer_id": order["customer_id"],
                "order_id": order["order_id"],
                "percent_off": percent,
                "reason": "late parcel",
                "valid_days": 90,
            },
            ask=("offer_coupon", {"discount": f"{percent}%"}),
            recommendation=f"Apologise for the delay and offer a {percent}% coupon.",
        )

    def _reship(self, state: ConversationState, context: dict[str, Any], reason: str, remedy: str | None = None) -> Decision:
        order = context["order"]
        if order["status"] == "pending" and names_a_variant(_recent_messages(state), self._lang(state)):
            # "I mixed up the colour of the Rain Jacket, I want black" before it ships: a change of the order.
            return self._swap(state, context)
        returning = order["status"] == "return_requested" and reason != "delivered but not received"
        if order["status"] not in ("processed", "delivered") and not returning:
            # (The right item is sent while the wrong one goes back; nothing is sent for a parcel
            # that is on its way back to us.)
            return self.on_track_order(state, context)
        item_ids = self.hinted_items(state, order)
        if not item_ids:
            if reason == "delivered but not received" or _all_items_meant(state):
                item_ids = [i["item_id"] for i in order.get("items", [])]
            else:
                return self.ask_which(state, order)
        stock = context.get("stock") or {}
        needed = {i["item_id"]: int(i["quantity"]) for i in order.get("items", [])}
        if any(stock.get(i) is not None and int(stock[i] or 0) < needed.get(i, 1) for i in item_ids):
            if (remedy or state.get("remedy")) == "replacement" and "issue_refund" in (state.get("declined") or []):
                # A replacement was asked for, none is left and the money was refused: a person decides.
                return Decision(
                    "escalate",
                    parts=self.apology(reason),
                    reason="The customer wants a replacement and the item is out of stock.",
                    urgency="yellow",
                    recommendation="Offer a similar item or a refund; the customer asked not to be refunded.",
                )
            # Nothing to send: the money back instead of a replacement that would fail.
            refund = self._refund_items(state, context, item_ids, reason)
            refund.parts = [*self.apology(reason), ("out_of_stock_refund", {})]
            return refund
        if (remedy or state.get("remedy")) == "refund" and reason != "customer asked for a reshipment":
            refund = self._refund_items(state, context, item_ids, reason)
            refund.parts = self.apology(reason)
            return refund
        parcel = self.parcel(context)
        carrier = parcel["shipment"]["carrier"] if parcel else "dhl"
        return Decision(
            "propose",
            parts=self.apology(reason),
            tool="create_reshipment",
            arguments={"order_id": order["order_id"], "item_ids": item_ids, "reason": reason},
            ask=("propose_reship", {"items": self.items(state, order, item_ids), "carrier": self.carrier_name(carrier)}),
            recommendation=f"Reship {len(item_ids)} item(s) ({reason}).",
        )

    @staticmethod
    def apology(reason: str) -> list[ReplyPart]:
        """An apology that names the problem, said before the remedy is offered."""
        key = APOLOGIES.get(reason)
        return [(key, {})] if key else []

    def _refund_items(self, state: ConversationState, context: dict[str, Any], item_ids: list[str], reason: str) -> Decision:
        """The customer asked for their money rather than a new parcel: the named items' price back."""
        order = context["order"]
        method = self.original_method(order) or ""
        amount = sum((_d(i["unit_price"]) * i["quantity"] for i in order["items"] if i["item_id"] in item_ids), Decimal("0"))
        amount = min(amount, self.refundable(order))
        return Decision(
            "propose",
            tool="issue_refund",
            arguments={"order_id": order["order_id"], "amount": str(amount), "reason": reason},
            ask=(
                "propose_refund",
                {"amount": self.money(state, context, amount, order["currency"]), "method": self.method(state, context, method)},
            ),
            recommendation=f"Refund {amount} {order['currency']} for {len(item_ids)} item(s) ({reason}).",
        )

    def on_damaged_item(self, state: ConversationState, context: dict[str, Any]) -> Decision:
        return self._reship(state, context, "damaged on arrival")

    def on_wrong_item(self, state: ConversationState, context: dict[str, Any]) -> Decision:
        if context["order"]["status"] == "pending":
            # "je me suis trompée de couleur … je le voudrais en marine": nothing has shipped; the
            # customer chose the wrong option and wants it changed.
            return self.on_modify_order(state, context)
        return self._reship(state, context, "wrong item shipped")

    def on_missing_item(self, state: ConversationState, context: dict[str, Any]) -> Decision:
        parcel = self.parcel(context)
        on_its_way = parcel is None or parcel["shipment"]["status"] != "delivered"
        if context["order"]["status"] in ("pending", "processed") and on_its_way:
            # "I still have nothing" of an order on its way: where the parcel is, or that it is late.
            return self.on_track_order(state, context)
        return self._reship(state, context, "item missing from the parcel")

    def on_reship_request(self, state: ConversationState, context: dict[str, Any]) -> Decision:
        problem = state.get("problem")
        if problem == "not_received":
            return self.on_not_received(state, context)
        return self._reship(state, context, PROBLEM_REASONS.get(problem or "", "customer asked for a reshipment"), "replacement")

    def on_not_received(self, state: ConversationState, context: dict[str, Any]) -> Decision:
        order = context["order"]
        if order["status"] != "delivered":
            return self.on_delivery_delay(state, context)
        limits = (context.get("profile") or {}).get("dnr_reship_below") or {}
        limit = limits.get(order["currency"])
        if limit is not None and _d(order["total"]) < _d(limit):
            return self._reship(state, context, "delivered but not received")
        return Decision(
            "escalate",
            reason="The carrier shows the parcel delivered but the customer did not receive it.",
            urgency="orange",
            recommendation="Open a carrier investigation (proof of delivery); reship or refund once it confirms.",
        )

    def on_return_request(self, state: ConversationState, context: dict[str, Any]) -> Decision:
        order = context["order"]
        if order["status"] == "pending":
            return self.on_cancel_order(state, context)
        parcel = self.parcel(context)
        if (
            order["status"] == "processed"
            and parcel is not None
            and parcel["shipment"]["status"] in ON_THE_WAY
            and "intercept_parcel" not in (state.get("declined") or [])
        ):
            # "배송 중인 택배 반송 가능한가요?": what travels is called back, not returned.
            return self._recall(state, context)
        item_ids = self.hinted_items(state, order, swap=False)
        sent_back = set(order.get("items_sent_back") or [])
        if sent_back:
            left = [i["item_id"] for i in order.get("items", []) if i["item_id"] not in sent_back]
            item_ids = [i for i in (item_ids or left) if i not in sent_back]
            if not item_ids:
                # "I've sent it back already; does the money go to my card?": the return is open,
                # what happens next is the policy's to say.
                return (
                    self.policy_answer(state, context) if context.get("hits") else Decision("reply", parts=[("already_done", {})])
                )
        if not item_ids:
            swap_too = bool({"exchange_request", "modify_order"} & set(state.get("worded") or []))
            part = swap_too or _some_items_meant(state)
            if (state.get("problem") in PROBLEM_REASONS or part) and not _all_items_meant(state):
                # "One of the items is broken, I want to return it", "one thing to swap and another
                # to return": which one.
                return self.ask_which(state, order)
            # "I want to return my order": the whole order.
            item_ids = [i["item_id"] for i in order.get("items", [])]
        method = self.refund_method(state, context, order)
        amount = sum((_d(i["unit_price"]) * i["quantity"] for i in order["items"] if i["item_id"] in item_ids), Decimal("0"))
        return Decision(
            "propose",
            tool="return_items",
            arguments={
                "order_id": order["order_id"],
                "item_ids": item_ids,
                "payment_method_id": method,
                "reason": "customer return",
            },
            ask=(
                "propose_return",
                {
                    "items": self.items(state, order, item_ids),
                    "amount": self.money(state, context, amount, order["currency"]),
                    "method": self.method(state, context, method),
                },
            ),
            recommendation="Open the return to the original payment method.",
        )

    def on_refund_request(self, state: ConversationState, context: dict[str, Any]) -> Decision:
        """Money goes back when the order is cancelled or the items come back; a refund
        without a return is a human's call."""
        order = context["order"]
        problem = state.get("problem")
        if problem in PROBLEM_REASONS and order["status"] in ("processed", "delivered") and problem != "not_received":
            # Money instead of a new parcel for what arrived broken, wrong or incomplete.
            return self._reship(state, context, PROBLEM_REASONS[problem], remedy="refund")
        if order["status"] == "pending":
            return self.on_cancel_order(state, context)
        if order["status"] == "delivered" and "return_items" in state.get("declined", []):
            # "我不退货也不换货 就要退钱" (no return, no exchange, just the money): a person decides.
            return self._handover(
                "The customer wants their money back without sending the items back.",
                "yellow",
                "Decide whether a refund without a return is fair here, or explain the return.",
            )
        if order["status"] == "delivered":
            return self.on_return_request(state, context)
        if order["status"] in ("cancelled", "return_requested"):
            return self.on_refund_status(state, context)
        if _recalled(state, order):
            # "And the money comes back when it reaches you?" after the parcel was called back.
            return Decision("reply", parts=[("done_recall", self.recall_values(state, context))])
        parcel = self.parcel(context)
        if (
            parcel is not None
            and parcel["shipment"]["status"] in ON_THE_WAY
            and "intercept_parcel" not in (state.get("declined") or [])
        ):
            # "paczka już jedzie ale ja jej nie chce": the parcel is called back, and the money
            # follows once it is back.
            return self._recall(state, context)
        return self._handover(
            "The customer asks for a refund on an order that is on its way.",
            "yellow",
            "Offer to intercept the parcel or to refund once it comes back.",
        )

    def on_refund_status(self, state: ConversationState, context: dict[str, Any]) -> Decision:
        order = context["order"]
        refunds = [t for t in order.get("payment_history", []) if t["kind"] == "refund"]
        if not refunds and order["status"] == "delivered" and "return_request" in state.get("worded", []):
            # "I'd like to send it back and have my money; how long does the refund take?":
            # nothing refunded nor returned yet, the return asked for is what comes first.
            return self.on_return_request(state, context)
        if not refunds and _recalled(state, order):
            return Decision("reply", parts=[("done_recall", self.recall_values(state, context))])
        if not refunds:
            return Decision("reply", parts=[("refund_status_none", {"order_id": order["order_id"]})])
        last = refunds[-1]
        is_gift = any(
            m["id"] == last["payment_method_id"] and m["kind"] == "gift_card"
            for m in (context.get("customer") or {}).get("payment_methods", [])
        )
        return Decision(
            "reply",
            parts=[
                (
                    "refund_status_issued",
                    {
                        "amount": self.money(state, context, last["amount"], order["currency"]),
                        "method": self.method(state, context, last["payment_method_id"]),
                        "date": self.date(state, context, context.get("last_refund_at") or order.get("placed_at")),
                        "arrival": nested("arrival_immediately") if is_gift else nested("arrival_days"),
                    },
                )
            ],
        )

    def _recall(self, state: ConversationState, context: dict[str, Any]) -> Decision:
        return Decision(
            "propose",
            tool="intercept_parcel",
            arguments={"order_id": context["order"]["order_id"], "action": "return_to_sender"},
            ask=("propose_recall", self.recall_values(state, context)),
            recommendation="Ask the carrier to return the parcel; refund once it is back.",
        )

    def on_cancel_order(self, state: ConversationState, context: dict[str, Any]) -> Decision:
        order = context["order"]
        method = self.original_method(order) or ""
        parcel = self.parcel(context)
        if (
            order["status"] == "processed"
            and parcel is not None
            and parcel["shipment"]["status"] in ON_THE_WAY
            and "cancel_order" in (state.get("worded") or [])
        ):
            # Too late to cancel: the carrier is asked to bring the parcel back, and the money follows
            # it; offered only when the customer's words asked to cancel or to call the parcel back.
            return self._recall(state, context)
        return Decision(
            "propose",
            tool="cancel_order",
            arguments={"order_id": order["order_id"], "reason": cancel_reason(state)},
            ask=(
                "propose_cancel",
                {
                    "order_id": order["order_id"],
                    "amount": self.money(state, context, self.refundable(order), order["currency"]),
                    "method": self.method(state, context, method),
                },
            ),
            recommendation="Cancel the order and refund the original payment method.",
        )

    def on_change_address(self, state: ConversationState, context: dict[str, Any]) -> Decision:
        order = context["order"]
        raw = (state.get("slots") or {}).get("address") or state.get("address")
        if not raw:
            return Decision("reply", parts=[("ask_address", {"order_id": order["order_id"]})])
        address = parse_address(raw, order)
        shown = raw.strip()
        parcel = self.parcel(context)
        if parcel is not None and parcel["shipment"]["status"] in ON_THE_WAY:
            return Decision(
                "propose",
                tool="intercept_parcel",
                arguments={"order_id": order["order_id"], "action": "redirect", "address": address},
                ask=("propose_intercept", {"carrier": self.carrier_name(parcel["shipment"]["carrier"]), "address": shown}),
                recommendation="Ask the carrier to redirect the parcel.",
            )
        return Decision(
            "propose",
            tool="change_shipping_address",
            arguments={"order_id": order["order_id"], "address": address},
            ask=("propose_address_change", {"order_id": order["order_id"], "address": shown}),
            recommendation="Change the shipping address before the parcel leaves.",
        )

    def on_switch_carrier(self, state: ConversationState, context: dict[str, Any]) -> Decision:
        order = context["order"]
        parcel = self.parcel(context)
        current = parcel["shipment"]["carrier"] if parcel else "dhl"
        carrier = get_carrier(current)
        code = current if carrier and any(s.value == "express" for s in carrier.service_levels) else "dhl"
        return Decision(
            "propose",
            tool="switch_carrier",
            arguments={"order_id": order["order_id"], "carrier": code, "service_level": "express"},
            ask=(
                "propose_switch_carrier",
                {"order_id": order["order_id"], "carrier": self.carrier_name(code), "service": "express"},
            ),
            recommendation="Upgrade the shipment to express.",
        )

    def _handover(self, reason: str, urgency: str, recommendation: str) -> Decision:
        return Decision("escalate", reason=reason, urgency=urgency, recommendation=recommendation)

    def on_exchange_request(self, state: ConversationState, context: dict[str, Any]) -> Decision:
        return self._swap(state, context)

    def on_modify_order(self, state: ConversationState, context: dict[str, Any]) -> Decision:
        return self._swap(state, context)

    def _swap(self, state: ConversationState, context: dict[str, Any]) -> Decision:
        """Another size or colour: changed in a pending order, exchanged once delivered; while
        the parcel travels, or when nothing to swap to is named, a person or a question."""
        order = context["order"]
        # Once another item of the order goes back, the items still kept may be exchanged.
        status = "delivered" if order["status"] in ("return_requested", "exchange_requested") else order["status"]
        tool = {"pending": "modify_order_items", "delivered": "exchange_items"}.get(status)
        if tool is None:
            return self._handover(
                "The customer wants other variants of items of an order that is neither pending nor delivered.",
                "yellow",
                "Confirm the wanted variant and change or exchange the items when the order allows it.",
            )
        sent_back = set(order.get("items_sent_back") or [])
        item_ids = [i for i in self.hinted_items(state, order, swap=True) if i not in sent_back]
        if not item_ids:
            return self.ask_which(state, order)
        recent = _recent_messages(state)
        by_id = {item["item_id"]: item for item in order.get("items", [])}
        language = self._lang(state)
        old, new = [], []
        for item_id in item_ids:
            item = by_id[item_id]
            choice = choose_variant(recent, language, item, (context.get("variants") or {}).get(item["product_id"], []))
            name = describe(item["name"], item.get("options") or {})
            if choice.variant is None and not choice.wanted and state.get("problem") in PROBLEM_REASONS and status != "pending":
                # "It came torn, could you send me another one?": the same item again (nothing is
                # sent again for an order not yet shipped).
                return self._reship(state, context, PROBLEM_REASONS[str(state.get("problem"))], "replacement")
            if choice.variant is None:
                values = {"item": name, "options": option_list(choice.available, language)}
                if not choice.wanted and names_other_items(recent, language):
                    return self._handover(
                        "The customer wants to add or remove items, or to have another product.",
                        "yellow",
                        "Agree the new contents of the order with the customer and change it.",
                    )
                asked_before = state.get("asked") in ("ask_variant", "variant_unavailable")
                if choice.available and not asked_before:
                    # What the shop has, once; asked again without a choice it has, a person helps.
                    return Decision("reply", parts=[("variant_unavailable" if choice.wanted else "ask_variant", values)])
                # Not made, out of stock, or still not said after asking: a person finds an alternative.
                escalation = self._handover(
                    "The customer wants a variant of an item that is not available, or did not say which.",
                    "yellow",
                    "Offer a similar item or a restock date, or a return or refund.",
                )
                escalation.parts = [("variant_unavailable", values)] if choice.wanted and choice.available else []
                return escalation
            old.append(item)
            new.append(choice.variant)
        difference = sum(
            (
                (_d(variant["price"]) * self.fx(order, item, context) - _d(item["unit_price"])) * int(item["quantity"])
                for item, variant in zip(old, new, strict=True)
            ),
            Decimal("0"),
        )
        method = self.original_method(order) or ""
        values = {
            "order_id": order["order_id"],
            "items": self.items(state, order, item_ids),
            "new_items": str(format_list([describe(i["name"], v["options"]) for i, v in zip(old, new, strict=True)], language)),
            "amount": self.money(state, context, difference.quantize(Decimal("0.01")), order["currency"]),
        }
        return Decision(
            "propose",
            tool=tool,
            arguments={
                "order_id": order["order_id"],
                "item_ids": item_ids,
                "new_item_ids": [v["item_id"] for v in new],
                "payment_method_id": method,
            },
            ask=("propose_modify_items" if tool == "modify_order_items" else "propose_exchange", values),
            recommendation=f"Swap {len(item_ids)} item(s) for the variant the customer asked for.",
        )

    def recall_values(self, state: ConversationState, context: dict[str, Any]) -> dict[str, str]:
        order = context["order"]
        parcel = self.parcel(context)
        return {
            "carrier": self.carrier_name(parcel["shipment"]["carrier"] if parcel else "dhl"),
            "amount": self.money(state, context, self.refundable(order), order["currency"]),
            "method": self.method(state, context, self.original_method(order) or ""),
        }

    @staticmethod
    def fx(order: dict[str, Any], item: dict[str, Any], context: dict[str, Any]) -> Decimal:
        """The order's rate from catalogue prices to its currency, read from what the item cost."""
        for variant in (context.get("variants") or {}).get(item["product_id"], []):
            if variant["item_id"] == item["item_id"] and _d(variant["price"]) > 0:
                return _d(item["unit_price"]) / _d(variant["price"])
        return Decimal("1")

    def on_payment_issue(self, state: ConversationState, context: dict[str, Any]) -> Decision:
        return self._handover(
            "The customer reports a payment problem.",
            "orange",
            "Check the payment provider for double charges or failed captures.",
        )

    def on_invoice_request(self, state: ConversationState, context: dict[str, Any]) -> Decision:
        return self._handover("The customer asks for an invoice.", "blue", "Send the invoice for the order.")

    def on_customs_duties(self, state: ConversationState, context: dict[str, Any]) -> Decision:
        parcel = self.parcel(context)
        answer = self.policy_answer(state, context)
        if parcel is not None and parcel["shipment"]["status"] == "customs_hold":
            answer.parts.insert(0, ("track_customs", self.tracking_values(state, context, parcel)))
        return answer

    def on_policy_question(self, state: ConversationState, context: dict[str, Any]) -> Decision:
        return self.policy_answer(state, context)

    # ------------------------------------------------------------ after an action

    def describe_result(
        self, state: ConversationState, context: dict[str, Any], tool: str, result: dict[str, Any]
    ) -> list[ReplyPart]:
        order = context.get("order") or {}
        currency = str(result.get("currency") or order.get("currency") or "USD")
        if tool == "issue_coupon":
            discount = (
                f"{result['percent_off']}%"
                if result.get("percent_off")
                else self.money(state, context, result.get("amount_off") or 0, str(result.get("currency") or currency))
            )
            return [
                (
                    "done_coupon",
                    {"code": result["code"], "discount": discount, "date": self.date(state, context, result["expires_at"])},
                )
            ]
        if tool in ("issue_refund", "cancel_order"):
            lines = result.get("refunds", [])
            total = sum((_d(line["amount"]) for line in lines), Decimal("0"))
            method = self.method(state, context, lines[0]["payment_method_id"]) if lines else "-"
            immediate = bool(lines) and all(line["arrives"] == "immediately" for line in lines)
            values = {
                "amount": self.money(state, context, total, currency),
                "method": method,
                "order_id": str(result.get("order_id", "")),
                "arrival": nested("arrival_immediately") if immediate else nested("arrival_days"),
            }
            return [("done_refund" if tool == "issue_refund" else "done_cancel", values)]
        if tool == "create_reshipment":
            return [
                (
                    "done_reship",
                    {
                        "items": self.items(state, order, result["item_ids"]),
                        "carrier": self.carrier_name(result["carrier"]),
                        "tracking": result["tracking_number"],
                        "promised": self.date(state, context, result["promised_delivery_date"]),
                    },
                )
            ]
        if tool == "return_items":
            return [
                (
                    "done_return",
                    {
                        "amount": self.money(state, context, result["refund_amount"], currency),
                        "method": self.method(state, context, result["payment_method_id"]),
                    },
                )
            ]
        if tool == "exchange_items":
            return [("done_exchange", {})]
        if tool == "modify_order_items":
            amount = self.money(state, context, result["price_difference"], currency)
            return [("done_modify_items", {"order_id": result["order_id"], "amount": amount})]
        if tool == "change_shipping_address":
            return [("done_address_change", {"order_id": result["order_id"], "address": format_address(result["address"])})]
        if tool == "intercept_parcel" and result.get("action") == "return_to_sender":
            return [("done_recall", self.recall_values(state, context))]
        if tool == "intercept_parcel":
            address = format_address(context.get("proposed_address") or {}) or "-"
            return [("done_intercept", {"carrier": self.carrier_name(result["carrier"]), "address": address})]
        if tool == "switch_carrier":
            return [
                (
                    "done_switch_carrier",
                    {
                        "order_id": result["order_id"],
                        "carrier": self.carrier_name(result["carrier"]),
                        "service": result["service_level"],
                        "promised": self.date(state, context, result.get("promised_delivery_date")),
                    },
                )
            ]
        return []


ALL_ITEMS = re.compile(
    r"(?i)\b(?:everything|all\s+(?:of\s+)?(?:it|them|items|the\s+items)|whole\s+order|entire\s+order|todo|todos|tout|toutes?|alles|tutto|tutti|"
    r"alle|wszystko|hepsi|hepsini|tümü|всё|все|كل)\b|全部|すべて|全て|전부|모두"
    # A full refund is the whole order's money: "전액 환불", "全额退款", "remboursé intégralement".
    r"|(?i:\b(?:full\s+refund|refund\s+in\s+full|reembolso\s+(?:total|completo|integral)|rembours\w*\s+(?:total|int[ée]gral)\w*|"
    r"int[ée]gralement|volle?n?\s+(?:betrag|erstattung)|komplette\s+erstattung|rimborso\s+(?:totale|completo|integrale)|"
    r"volledige\s+terugbetaling|pe[łl]ny\s+zwrot|tam\s+iade|полный\s+возврат|استرداد\s+كامل)\b)|全额|全額|전액|다\s?깨져"
)


def _recalled(state: ConversationState, order: dict[str, Any]) -> bool:
    """Whether this conversation asked the carrier to bring the order's parcel back to us."""
    return any(
        a["ok"] and a["tool"] == "intercept_parcel" and a["arguments"].get("action") == "return_to_sender"
        and a["arguments"].get("order_id") == order["order_id"]
        for a in state.get("actions_log", [])
    )  # fmt: skip


def _recent_messages(state: ConversationState) -> list[str]:
    """The customer's last few messages, where the items they speak of are named."""
    return [t["text"] for t in (state.get("transcript") or [])[-ITEM_MEMORY_MESSAGES:]] or [state.get("message", "")]


# "Some things", "one thing … another": part of the order, not said which.
SOME_ITEMS = re.compile(
    r"(?i)(?<![^\W\d_])(?:some\s+(?:things|items|stuff)|a\s+few\s+(?:things|items)|one\s+of\s+(?:them|the\s+items)|"
    r"algunas\s+cosas|unas\s+cosas|una\s+cosa|umas\s+coisas|algumas\s+coisas|uma\s+coisa|quelques\s+(?:articles|trucs|choses)|"
    r"un\s+des\s+articles|ein\s+paar\s+(?:sachen|artikel)|einige\s+(?:sachen|artikel)|etwas|alcune\s+cose|qualcosa|"
    r"een\s+paar\s+(?:dingen|artikelen)|iets|kilka\s+rzeczy|cos|bazi\s+urunler|birkac|несколько|кое-что|что-то)(?![^\W\d_])|"
    r"一些|有些|いくつか|一部|몇\s?개|일부"
)


def _said_lately(state: ConversationState, words: re.Pattern[str]) -> bool:
    """Whether this message or the ones just before hold the words."""
    recent = [str(t.get("text", "")) for t in state.get("transcript", [])[-3:]]
    return any(words.search(text) for text in [*recent, state.get("message", "")])


def _some_items_meant(state: ConversationState) -> bool:
    """Whether the customer said part of the order without naming it ("I have to return some things")."""
    return _said_lately(state, SOME_ITEMS)


def _all_items_meant(state: ConversationState) -> bool:
    """Whether the customer said the whole order ("return everything"), in this message or the
    ones just before ("tout est abîmé", then the order number, then "je veux mon argent")."""
    return _said_lately(state, ALL_ITEMS)


def cancel_reason(state: ConversationState) -> str:
    text = state.get("message", "").lower()
    return "ordered by mistake" if any(w in text for w in MISTAKE_WORDS) else "no longer needed"


POSTAL = re.compile(
    r"\b(\d{5}(?:-\d{3,4})?|\d{4}-\d{3}|\d{4}\s?[A-Z]{2}|\d{2}-\d{3}|\d{3}-\d{4}|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}"
    r"|[AC-FHKNPRTV-Y]\d{2}\s?[AC-FHKNPRTV-Y0-9]{4}|[A-Z]\d[A-Z]\s?\d[A-Z]\d|[A-Z]\d{4}[A-Z]{3}|\d{4}(?=\s+[^\W\d_]{2,})"
    r"|(?<=(?:NSW|VIC|QLD|TAS|ACT)\s)\d{4}|(?<=(?:NT|SA|WA)\s)\d{4}|(?<=Singapore\s)\d{6})\b",
    re.I,
)
# The states Australia writes before its postal codes.
AUSTRALIAN_STATES = ("NSW", "VIC", "QLD", "TAS", "ACT", "NT", "SA", "WA")
# The word a country writes before its postal code ("CEP 90570-080", "PLZ 10115").
_POSTAL_WORD = re.compile(r"(?i)(?<![^\W\d_])(?:cep|plz|cp|c\.p\.|zip|cap|eircode|postcode)(?![^\W\d_])\s*:?")


# A postal code written with its label ("邮编310012", "郵便番号 100-0001", "우편번호 06236").
_POSTAL_LABELLED = re.compile(r"(?:邮编|郵編|邮政编码|郵便番号|우편번호)\s*[:：]?\s*(\d{3}-?\d{4}|\d{5,6})")


def parse_address(raw: str, order: dict[str, Any]) -> dict[str, Any]:
    """A free-text address ("12 Elm Street, Apt 4, Austin, TX 78701, USA" or "3 quai Perrache,
    69002 Lyon, France") split into fields; what cannot be told apart keeps the order's value."""
    current = order.get("shipping_address") or {}
    parts = [p.strip() for p in re.split(r"[,\n;،，、]", raw) if p.strip()]
    if not parts:
        parts = [raw.strip()]
    labelled = next((m for m in map(_POSTAL_LABELLED.fullmatch, parts) if m), None)
    if labelled is not None and len(parts) >= 2:
        # "浙江省杭州市西湖区文三路478号…，邮编310012": the postal code with its label; the city is in
        # the first part, written as the country writes it.
        parts.remove(labelled.group(0))
        return {
            "name": current.get("name", ""),
            "address1": ", ".join(parts)[:200],
            "address2": "",
            "city": "-",
            "state": "",
            "postal_code": labelled.group(1),
            "country": current.get("country", "-")[:100],
            "country_code": current.get("country_code"),
        }
    country = current.get("country", "-")
    if len(parts) >= 3 and not any(ch.isdigit() for ch in parts[-1]):
        country = parts.pop()
    postal, city, region = current.get("postal_code", "-"), current.get("city", "-"), current.get("state", "")
    postal_index = None
    for index in range(len(parts) - 1, 0, -1):
        match = POSTAL.search(parts[index])
        if match and parts[index].lstrip().startswith("#"):
            # "#08-123": a unit number (Singapore), not a postal code.
            continue
        if match:
            postal_index, postal, region = index, match.group(1), ""
            rest = re.sub(r"\(\s*\)", "", parts[index][: match.start()] + parts[index][match.end() :])
            rest = _POSTAL_WORD.sub("", rest).strip(" ,")
            state_after_city = re.fullmatch(r"(.+?)\s+(" + "|".join(AUSTRALIAN_STATES) + r")", rest)
            if re.fullmatch(r"[A-Z]{2,3}", rest):
                region = rest  # "TX 78701": a state code before the zip
            elif state_after_city:
                city, region = state_after_city.groups()  # "Brunswick VIC 3056"
            elif rest:
                city = rest
            break
    if postal_index is None and len(parts) >= 3 and re.fullmatch(r"\d{4}", parts[-1]):
        # "…, V&A Waterfront, Cape Town, 8001": four digits of their own close the address.
        postal_index, postal, region = len(parts) - 1, parts[-1], ""
    end = postal_index if postal_index is not None else len(parts)
    lead: list[str] = []
    while (
        len(lead) + 1 < end
        and not any(ch.isdigit() for ch in parts[len(lead)])
        and not re.match(r"\s*\d", parts[len(lead) + 1])
        and any(ch.isdigit() for part in parts[len(lead) + 1 : end] for ch in part)
    ):
        # "David Williams, c/o Brandt & Partner GmbH, Hansaring 27, …": the lines before the street
        # (a name, a company, a building) are whom the parcel goes to.
        lead.append(parts[len(lead)])
    address1 = parts[len(lead)]
    middle = parts[len(lead) + 1 : end]
    if middle and not any(ch.isdigit() for ch in address1) and re.match(r"\d", middle[0]):
        # "Rua Padre Chagas, 415 apto 302": the house number after the street's comma.
        address1 = f"{address1}, {middle.pop(0)}"
    if middle and (postal_index is None or city in ("-", current.get("city")) or region):
        city = middle.pop()
    address2 = ", ".join(middle)
    same_country = country == current.get("country")
    country_code = current.get("country_code") if same_country else None
    written_in = next((place for script, place in _ADDRESS_SCRIPTS if script.search(raw)), None)
    if written_in is None and region in AUSTRALIAN_STATES:
        written_in = ("Australia", "AU")
    if written_in is None and postal_index is not None:
        # "…, São Paulo - SP, 01310-200": a postal code only one country writes this way.
        written_in = next((place for form, place in _POSTAL_FORMS if form.fullmatch(postal.upper())), None)
    if written_in is not None and same_country and current.get("country_code") != written_in[1]:
        # "서울특별시 강남구 테헤란로 152": an address in Hangul (or kana) is in Korea (or Japan).
        country, country_code = written_in
        # The old city and postal code belong to the old country.
        found = POSTAL.search(raw)
        postal = found.group(1) if postal == current.get("postal_code") and found else postal
        postal = "-" if postal == current.get("postal_code") else postal
        city = "-" if city == current.get("city") else city
    return {
        "name": (", ".join(lead) or current.get("name", ""))[:200],
        "address1": address1[:200],
        "address2": address2[:200],
        "city": city[:100],
        "state": region[:100],
        "postal_code": postal[:20],
        "country": country[:100],
        "country_code": country_code,
    }


# Postal codes written this way by one country only.
_POSTAL_FORMS = (
    (re.compile(r"\d{5}-\d{3}"), ("Brazil", "BR")),
    (re.compile(r"\d{4}-\d{3}"), ("Portugal", "PT")),
    (re.compile(r"\d{2}-\d{3}"), ("Poland", "PL")),
    (re.compile(r"\d{3}-\d{4}"), ("Japan", "JP")),
    (re.compile(r"\d{4}\s?[A-Z]{2}"), ("Netherlands", "NL")),
    (re.compile(r"[A-Z]\d{4}[A-Z]{3}"), ("Argentina", "AR")),
    (re.compile(r"[A-Z]\d[A-Z]\s?\d[A-Z]\d"), ("Canada", "CA")),
    (re.compile(r"[AC-FHKNPRTV-Y]\d{2}\s?[AC-FHKNPRTV-Y0-9]{4}"), ("Ireland", "IE")),
)
# Scripts written for the addresses of one country only.
_ADDRESS_SCRIPTS = ((re.compile(r"[\uac00-\ud7a3]"), ("South Korea", "KR")), (re.compile(r"[\u3040-\u30ff]"), ("Japan", "JP")))


def format_address(address: dict[str, Any]) -> str:
    if not address:
        return ""
    pieces = [
        address.get("address1", ""),
        address.get("address2", ""),
        " ".join(p for p in (address.get("postal_code", ""), address.get("city", "")) if p and p != "-"),
        address.get("country", ""),
    ]
    return ", ".join(p for p in pieces if p and p != "-")
