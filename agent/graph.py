"""The conversation as a LangGraph state machine:

    understand → identify → retrieve → decide → guard → act → respond
                                              ↘ escalate → respond → wait for a human

Every turn enters at `understand`. A write the profile wants confirmed is proposed and
waits for the customer's yes; what the agent must not decide becomes a case with a brief,
and the thread pauses (`interrupt`) until a human's reply resumes it (`Command(resume=…)`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import interrupt

from agent.brain import Brain, Decision, ReplyPart
from agent.brief import build_case_brief
from agent.guard import build_request
from agent.language import detect_language
from agent.policy import IdentityMethod, PolicyGate, PolicyProfile, Verdict
from agent.replies import ReplyCatalogue, format_date, render_parts
from agent.state import ORDER_INTENTS, ActionRecord, ConversationState, PendingAction
from agent.understanding import IntentClassifier, assess_urgency, extract_slots, read_signals
from commerce.db import Store
from commerce.models import UrgencyLevel
from commerce.money import approx_eur
from tools import Caller, Toolbox, ToolOutcome

URGENCY_ORDER = ["blue", "yellow", "orange", "red"]
SHOP_ORDER_REF = re.compile(r"#[A-Za-z0-9][A-Za-z0-9-]{2,30}")
POLICY_INTENTS = frozenset({"policy_question", "customs_duties"})
# How the knowledge base is searched for intents whose playbook cites policy.
KB_TOPIC_HINT = {
    "return_request": "returns",
    "refund_request": "returns",
    "exchange_request": "exchanges",
    "delivery_delay": "delays",
    "not_received": "delays",
    "damaged_item": "damaged",
    "wrong_item": "damaged",
    "change_address": "address",
    "cancel_order": "cancellations",
    "switch_carrier": "carriers",
}


@dataclass
class AgentDeps:
    store: Store
    profile: PolicyProfile
    gate: PolicyGate
    brain: Brain
    classifier: IntentClassifier
    catalogue: ReplyCatalogue
    knowledge: Any | None  # knowledge.store.KnowledgeBase; optional so the agent runs without one
    clock: Callable[[], dt.datetime]
    shop_name: str = "our shop"


IDENTITY_NOISE = re.compile(
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+|#?[A-Za-z]?\d[\d-]{3,}[A-Za-z0-9]*|#[A-Za-z0-9-]*\d[A-Za-z0-9-]*"
    r"|\b(?:e-?mail|correo|courriel)\b\s*:?",
    re.IGNORECASE,
)


def request_text(text: str) -> str:
    """The message without emails and order numbers, so identity details do not drown the request."""
    cleaned = re.sub(r"\s+", " ", IDENTITY_NOISE.sub(" ", text)).strip(" ,.:;-")
    return cleaned if len(cleaned) >= 3 else text


def higher_urgency(a: str | None, b: str | None) -> str:
    levels = [x for x in (a, b) if x in URGENCY_ORDER]
    return max(levels, key=URGENCY_ORDER.index) if levels else "blue"


def build_graph(deps: AgentDeps, checkpointer: BaseCheckpointSaver[Any] | None = None) -> CompiledStateGraph[Any, Any, Any, Any]:
    def toolbox(state: ConversationState) -> Toolbox:
        caller = Caller(
            actor=f"agent:{deps.brain.name}",
            customer_id=state.get("customer_id"),
            conversation_id=state.get("conversation_id"),
            clock=deps.clock,
        )
        return Toolbox(deps.store, caller)

    def staff_toolbox(state: ConversationState) -> Toolbox:
        return Toolbox(deps.store, Caller(actor="agent:identity", conversation_id=state.get("conversation_id"), clock=deps.clock))

    def render(state: ConversationState, parts: list[ReplyPart]) -> str:
        return render_parts(deps.catalogue, parts, state.get("language") or "en")

    # ------------------------------------------------------------------ understand

    def understand(state: ConversationState) -> dict[str, Any]:
        text = state.get("message", "")
        guess = detect_language(text, state.get("language"))
        language = guess.language
        signals = read_signals(text, language)
        slots = extract_slots(text, language)
        slot_dict: dict[str, Any] = {
            "order_ids": list(slots.order_ids),
            "emails": list(slots.emails),
            "postal_codes": list(slots.postal_codes),
            "names": list(slots.names),
            "amounts": [[str(a), c] for a, c in slots.amounts],
            "address": slots.address,
            "item_hints": list(slots.item_hints),
        }
        if not slot_dict["order_ids"]:
            # Shops number orders their own way (#A1003, #SO-2291): any '#' reference with a digit counts.
            slot_dict["order_ids"] = [m.group(0) for m in SHOP_ORDER_REF.finditer(text) if any(c.isdigit() for c in m.group(0))]
        updates: dict[str, Any] = {
            "turn": state.get("turn", 0) + 1,
            "language": language,
            "signals": dataclasses.asdict(signals),
            "slots": slot_dict,
            "actions": [],
            "reply_parts": [],
            "decision": None,
            "gate": None,
            "reply": "",
            "confirming": False,
            "transcript": [*state.get("transcript", []), {"text": text, "language": language}],
            "actions_log": state.get("actions_log", []),
            "cited": state.get("cited", []),
            "usage": {},
            "brain_fallback": None,
            "model_urgency": None,
        }
        pending = state.get("pending")
        if pending and signals.affirmation in ("yes", "no"):
            updates["intent"] = pending["intent"]
            updates["intent_confidence"] = 1.0
            if signals.affirmation == "yes":
                updates["confirming"] = True
            else:
                updates["pending"] = None
                updates["status"] = "open"
                updates["reply_parts"] = [("cancelled_by_customer", {}), ("anything_else", {})]
            return updates
        by_brain = brain_classify(text, language, state)
        if by_brain is not None:
            intent, confidence = by_brain["intent"], 1.0
            updates["model_urgency"] = by_brain.get("urgency")
            updates.update(add_usage({**state, "usage": {}}, by_brain.get("usage") or {}))
        else:
            guess_intent = deps.classifier.classify(request_text(text), language)
            intent, confidence = guess_intent.intent, guess_intent.confidence
        gives_identity = bool(slot_dict["emails"] or (slot_dict["names"] and slot_dict["postal_codes"]))
        if intent in ("other", "greeting") and (state.get("deferred_intent") and (gives_identity or slot_dict["order_ids"])):
            intent = state["deferred_intent"] or intent
        if intent in ("other", "greeting") and state.get("intent") == "change_address" and slot_dict["address"]:
            intent = "change_address"
        updates.update(
            intent=intent,
            intent_confidence=confidence,
            pending=None,
            misunderstood=(state.get("misunderstood", 0) + 1) if intent == "other" else 0,
        )
        if slot_dict["order_ids"]:
            updates["order_id"] = slot_dict["order_ids"][0]
        if state.get("status") in (None, "awaiting_confirmation"):
            updates["status"] = "open"
        return updates

    def brain_classify(text: str, language: str, state: ConversationState) -> dict[str, Any] | None:
        """The brain's own reading of the message, when it has one (a model call); None keeps the
        embedded classifier."""
        classify = getattr(deps.brain, "classify", None)
        if not callable(classify):
            return None
        result = classify(text, language, state)
        return result if isinstance(result, dict) and result.get("intent") else None

    # ------------------------------------------------------------------ identify

    def identify(state: ConversationState) -> dict[str, Any]:
        if state.get("reply_parts"):
            return {}
        intent = state.get("intent", "other")
        if state.get("customer_id"):
            return {}
        slots = state.get("slots") or {}
        methods = set(deps.profile.identity.methods)
        staff = staff_toolbox(state)
        attempted = False
        customer_id: str | None = None
        method_used: str | None = None
        emails, order_ids = (
            slots.get("emails", []),
            slots.get("order_ids", []) or ([state["order_id"]] if state.get("order_id") else []),
        )
        if emails and order_ids and IdentityMethod.ORDER_NUMBER_EMAIL in methods:
            attempted = True
            found = staff.call("find_customer_by_email", {"email": emails[0]})
            order = staff.call("get_order", {"order_id": order_ids[0]})
            if (
                found.ok
                and order.ok
                and found.result
                and order.result
                and order.result["customer_id"] == found.result["customer_id"]
            ):
                customer_id, method_used = found.result["customer_id"], IdentityMethod.ORDER_NUMBER_EMAIL.value
        # An email that does not match the order it came with proves nothing on its own.
        if customer_id is None and emails and not attempted and IdentityMethod.EMAIL in methods:
            attempted = True
            found = staff.call("find_customer_by_email", {"email": emails[0]})
            if found.ok and found.result:
                customer_id, method_used = found.result["customer_id"], IdentityMethod.EMAIL.value
        names, postal = slots.get("names", []), slots.get("postal_codes", [])
        if customer_id is None and names and postal and IdentityMethod.NAME_POSTAL_CODE in methods:
            attempted = True
            first, _, last = names[0].strip().partition(" ")
            if last:
                found = staff.call(
                    "find_customer_by_name_postal_code", {"first_name": first, "last_name": last, "postal_code": postal[0]}
                )
                if found.ok and found.result:
                    customer_id, method_used = found.result["customer_id"], IdentityMethod.NAME_POSTAL_CODE.value
        needed = intent in ORDER_INTENTS or (state.get("deferred_intent") is not None and attempted)
        if customer_id is not None:
            profile = Toolbox(deps.store, Caller(customer_id=customer_id, clock=deps.clock)).call(
                "get_customer", {"customer_id": customer_id}
            )
            name = profile.result["first_name"] if profile.ok and profile.result else ""
            updates: dict[str, Any] = {"customer_id": customer_id, "identity_method": method_used, "customer_name": name}
            deferred = state.get("deferred_intent")
            if deferred and intent in ("other", "greeting", deferred):
                updates["intent"] = deferred
            updates["deferred_intent"] = None
            if not order_ids:
                updates["order_id"] = None
            updates["reply_parts"] = [("identity_ok", {"name": name})]
            return updates
        if not needed:
            return {}
        deferred_intent = state.get("deferred_intent") or intent
        key = "identity_failed" if attempted else "ask_identity"
        return {"deferred_intent": deferred_intent, "reply_parts": [(key, {})], "status": "open"}

    def after_identify(state: ConversationState) -> Literal["retrieve", "respond"]:
        if state.get("reply_parts") and not state.get("customer_id"):
            return "respond"
        if state.get("reply_parts") and state["reply_parts"][0][0] == "cancelled_by_customer":
            return "respond"
        return "retrieve"

    # ------------------------------------------------------------------ retrieve

    def retrieve(state: ConversationState) -> dict[str, Any]:
        intent = state.get("intent", "other")
        profile = deps.profile
        coupon_rules = profile.coupons
        dnr = profile.delivered_not_received
        context: dict[str, Any] = {
            "shop": deps.shop_name,
            "hits": [],
            "order": None,
            "tracking": None,
            "customer": None,
            "profile": {
                "max_coupon_percent": coupon_rules.max_percent if coupon_rules.max_percent is not None else 0,
                "dnr_reship_below": {k: str(v) for k, v in (dnr.reship_below.items() if dnr else [])},
            },
        }
        updates: dict[str, Any] = {}
        parts = list(state.get("reply_parts", []))
        box = toolbox(state)
        if state.get("customer_id"):
            customer = box.call("get_customer", {"customer_id": state["customer_id"]})
            context["customer"] = customer.result if customer.ok else None
        if intent in ORDER_INTENTS and context["customer"] is not None:
            order_id = state.get("order_id") or (context["customer"]["order_ids"] or [None])[-1]
            if order_id is None:
                parts.append(("ask_order", {}))
            else:
                order = box.call("get_order", {"order_id": order_id})
                if order.ok and order.result:
                    context["order"] = order.result
                    updates["order_id"] = order.result["order_id"]
                    tracking = box.call("track_shipment", {"order_id": order.result["order_id"]})
                    context["tracking"] = tracking.result if tracking.ok else None
                elif order.error_code == "forbidden":
                    parts.append(("not_your_order", {}))
                    updates["order_id"] = None
                else:
                    parts.append(("order_not_found", {"order_id": str(order_id)}))
                    updates["order_id"] = None
        if deps.knowledge is not None and (intent in POLICY_INTENTS or (intent in KB_TOPIC_HINT and not context["order"])):
            hits = deps.knowledge.search(state.get("message", ""), k=3, language=state.get("language"))
            if hits and hits[0].chunk.language != state.get("language"):
                # No document in the customer's language: English is the most widely read fallback.
                hits = deps.knowledge.search(state.get("message", ""), k=3, language="en") or hits
            context["hits"] = [
                {
                    "id": h.chunk.id,
                    "text": h.chunk.text,
                    "language": h.chunk.language,
                    "title": h.chunk.title,
                    "section": h.chunk.section,
                    "score": h.score,
                }
                for h in hits
            ]
            updates["cited"] = [*state.get("cited", []), *(h["id"] for h in context["hits"][:1])]
        context["coupon_already_offered"] = any(a["tool"] == "issue_coupon" and a["ok"] for a in state.get("actions_log", []))
        updates["context"] = context
        updates["reply_parts"] = parts
        updates.update(urgency_of(state, context))
        return updates

    def urgency_of(state: ConversationState, context: dict[str, Any]) -> dict[str, Any]:
        from agent.understanding import Signals

        signals = Signals(
            **(state.get("signals") or {"affirmation": None, "wants_human": False, "legal_threat": False, "angry": False})
        )
        order = context.get("order")
        value = approx_eur(Decimal(str(order["total"])), order["currency"]) if order else None
        parcel = ((context.get("tracking") or {}).get("parcels") or [None])[-1]
        days_late = 0
        if parcel and parcel.get("promised_date_passed") and parcel["shipment"].get("promised_delivery_date"):
            promised = dt.date.fromisoformat(parcel["shipment"]["promised_delivery_date"])
            days_late = (deps.clock().date() - promised).days
        assessment = assess_urgency(
            intent=state.get("intent", "other"),
            signals=signals,
            order_value_eur=value,
            customer_is_vip=bool((context.get("customer") or {}).get("is_vip")),
            # A delivered parcel is not stalled, however long ago its last scan was.
            days_since_last_scan=parcel.get("days_since_last_event")
            if parcel and parcel["shipment"]["status"] not in ("delivered", "returned_to_sender")
            else None,
            promised_date_passed=bool(parcel and parcel.get("promised_date_passed")),
            days_late=days_late,
        )
        reasons = list(assessment.reasons)
        level = higher_urgency(assessment.level.value, state.get("model_urgency"))
        if level != assessment.level.value:
            reasons.append(f"the model read the message as {level}")
        return {"urgency": level, "urgency_reasons": reasons}

    def after_retrieve(state: ConversationState) -> Literal["decide", "respond"]:
        parts = state.get("reply_parts") or []
        blocking = {"ask_order", "not_your_order", "order_not_found"}
        return "respond" if any(k in blocking for k, _ in parts) else "decide"

    # ------------------------------------------------------------------ decide

    def decide(state: ConversationState) -> dict[str, Any]:
        context = state.get("context") or {}
        if state.get("confirming") and state.get("pending"):
            pending = state["pending"]
            assert pending is not None
            decision = Decision("propose", tool=pending["tool"], arguments=pending["arguments"])
        elif state.get("intent") == "other" and state.get("misunderstood", 0) >= 2 and deps.brain.name == "offline":
            decision = Decision(
                "escalate",
                reason="The agent failed twice to understand the customer.",
                urgency="yellow",
                recommendation="Read the customer's messages and answer them directly.",
            )
        else:
            decision = deps.brain.decide(state, context)
        updates: dict[str, Any] = {"decision": decision.to_state()}
        extra = decision.state_updates
        for key in ("brain_status", "brain_fallback", "cited_by_model"):
            if key in extra:
                updates[key] = extra[key]
        if "usage" in extra:
            updates.update(add_usage(state, extra["usage"]))
        if extra.get("cited_by_model"):
            updates["cited"] = list(dict.fromkeys([*state.get("cited", []), *extra["cited_by_model"]]))
        if decision.kind == "reply":
            updates["reply_parts"] = [*state.get("reply_parts", []), *decision.parts]
        return updates

    def after_decide(state: ConversationState) -> Literal["guard", "escalate", "respond"]:
        kind = (state.get("decision") or {}).get("kind")
        return "guard" if kind == "propose" else "escalate" if kind == "escalate" else "respond"

    # ------------------------------------------------------------------ guard

    def guard(state: ConversationState) -> dict[str, Any]:
        decision = Decision.from_state(state.get("decision") or {"kind": "reply"})
        assert decision.tool is not None
        request = build_request(
            deps.store,
            decision.tool,
            decision.arguments,
            identity_verified=bool(state.get("customer_id")),
            verified_customer_id=state.get("customer_id"),
            now=deps.clock(),
            coupon_window_days=deps.profile.coupons.window_days,
        )
        verdict = deps.gate.evaluate(request, confirmed=bool(state.get("confirming")))
        result: dict[str, Any] = {
            "gate": verdict.model_dump(mode="json"),
            "cited": [*state.get("cited", []), *verdict.clauses],
        }
        parts = list(state.get("reply_parts", [])) + list(decision.parts)
        confirm = verdict.verdict is Verdict.CONFIRM or (
            verdict.verdict is Verdict.ALLOW and decision.offer and not state.get("confirming")
        )
        if confirm:
            pending: PendingAction = {
                "tool": decision.tool,
                "arguments": decision.arguments,
                "key": f"{state.get('conversation_id')}:{state.get('turn', 0)}:{decision.tool}",
                "intent": state.get("intent", "other"),
                "order_id": state.get("order_id"),
            }
            if decision.ask:
                parts.append(decision.ask)
            result.update(pending=pending, status="awaiting_confirmation", reply_parts=parts)
        elif verdict.verdict is Verdict.DENY:
            result.update(reply_parts=[*parts, ("not_allowed", {"reason": " ".join(verdict.reasons)})], pending=None)
        else:
            result["reply_parts"] = parts
        return result

    def after_guard(state: ConversationState) -> Literal["act", "escalate", "respond"]:
        verdict = (state.get("gate") or {}).get("verdict")
        if state.get("status") == "awaiting_confirmation" and not state.get("confirming"):
            return "respond"
        if verdict == Verdict.ALLOW.value:
            return "act"
        if verdict == Verdict.APPROVE.value:
            return "escalate"
        return "respond"

    # ------------------------------------------------------------------ act

    def act(state: ConversationState) -> dict[str, Any]:
        decision = Decision.from_state(state.get("decision") or {"kind": "reply"})
        assert decision.tool is not None
        pending = state.get("pending")
        key = (
            pending["key"]
            if pending and state.get("confirming")
            else f"{state.get('conversation_id')}:{state.get('turn', 0)}:{decision.tool}"
        )
        outcome: ToolOutcome = toolbox(state).call(decision.tool, decision.arguments, idempotency_key=key)
        record: ActionRecord = {
            "tool": outcome.tool,
            "arguments": outcome.arguments,
            "ok": outcome.ok,
            "result": outcome.result,
            "error": outcome.error,
        }
        context = dict(state.get("context") or {})
        if decision.tool == "intercept_parcel":
            context["proposed_address"] = decision.arguments.get("address")
        parts = list(state.get("reply_parts", []))
        updates: dict[str, Any] = {
            "actions": [*state.get("actions", []), record],
            "actions_log": [*state.get("actions_log", []), record],
            "pending": None,
            "context": context,
        }
        if outcome.ok and outcome.result is not None:
            parts.extend(deps.brain.describe_result(state, context, decision.tool, outcome.result))
            updates["status"] = "open"
        else:
            parts.append(("action_failed", {"reason": outcome.error or "unknown error"}))
            updates["decision"] = Decision(
                "escalate",
                reason=f"The {decision.tool} action failed: {outcome.error}",
                urgency="yellow",
                recommendation=decision.recommendation or "Check the order and finish the action by hand.",
            ).to_state()
        updates["reply_parts"] = parts
        return updates

    def after_act(state: ConversationState) -> Literal["escalate", "respond"]:
        return "respond" if all(a["ok"] for a in state.get("actions", [])) else "escalate"

    # ------------------------------------------------------------------ escalate

    def escalate(state: ConversationState) -> dict[str, Any]:
        decision = state.get("decision") or {}
        gate = state.get("gate") or {}
        reason = decision.get("reason") or " ".join(gate.get("reasons", [])) or "The policy requires a human decision."
        if gate.get("verdict") == Verdict.APPROVE.value:
            reason = " ".join(gate.get("reasons", [])) or reason
        urgency = higher_urgency(state.get("urgency"), decision.get("urgency"))
        reasons = list(state.get("urgency_reasons", []))
        now = deps.clock()
        due = now + dt.timedelta(hours=deps.profile.urgency_sla_hours.hours_for(UrgencyLevel(urgency)))
        context = state.get("context") or {}
        translation, usage = translate_for_brief(state)
        brief = build_case_brief(
            state,
            context,
            reason=reason,
            recommendation=decision.get("recommendation", ""),
            urgency=urgency,
            urgency_reasons=reasons,
            sla_due_at=due.isoformat(),
            translation=translation,
        )
        if gate.get("verdict") == Verdict.APPROVE.value and decision.get("tool"):
            # The action the policy wants a human to approve; the console runs it on approval.
            brief["pending_action"] = {"tool": decision["tool"], "arguments": decision.get("arguments") or {}}
        if state.get("brain_status") or state.get("brain_fallback"):
            brief["brain"] = {
                "mode": (state.get("brain_status") or {}).get("mode", "llm"),
                "note": (state.get("brain_status") or {}).get("reason") or state.get("brain_fallback"),
            }
        order_id = (context.get("order") or {}).get("order_id")
        outcome = toolbox(state).call(
            "escalate_to_human",
            {"order_id": order_id, "reason": reason[:500], "summary": brief["issue"][:4000], "urgency": urgency, "brief": brief},
            idempotency_key=f"{state.get('conversation_id')}:{state.get('turn', 0)}:escalate",
        )
        parts = list(state.get("reply_parts", []))
        parts.extend(decision_parts_for_escalation(state))
        case_id = outcome.result["case_id"] if outcome.ok and outcome.result else None
        language = state.get("language") or "en"
        deadline = f"{format_date(due, language)} {due:%H:%M} UTC"
        parts.append(("escalated", {"deadline": deadline, "case_id": str(case_id)}))
        return {
            "reply_parts": parts,
            "status": "escalated",
            "case_id": case_id,
            "urgency": urgency,
            "sla_due_at": due.isoformat(),
            "pending": None,
            **add_usage(state, usage),
        }

    def translate_for_brief(state: ConversationState) -> tuple[str | None, dict[str, int]]:
        translate = getattr(deps.brain, "translate", None)
        if not callable(translate) or (state.get("language") or "en") == "en":
            return None, {}
        text, usage = translate(state, [t["text"] for t in state.get("transcript", [])])
        return text, usage

    def add_usage(state: ConversationState, usage: dict[str, int]) -> dict[str, Any]:
        if not usage:
            return {}
        turn, total = dict(state.get("usage") or {}), dict(state.get("usage_total") or {})
        for name, value in usage.items():
            turn[name] = turn.get(name, 0) + int(value)
            total[name] = total.get(name, 0) + int(value)
        return {"usage": turn, "usage_total": total}

    def decision_parts_for_escalation(state: ConversationState) -> list[ReplyPart]:
        decision = state.get("decision") or {}
        already = {k for k, _ in state.get("reply_parts", [])}
        return [(k, dict(v)) for k, v in decision.get("parts", []) if k not in already]

    # ------------------------------------------------------------------ respond, wait

    def respond(state: ConversationState) -> dict[str, Any]:
        parts = state.get("reply_parts") or [("didnt_understand", {})]
        reply = render(state, parts)
        history = [
            *state.get("history", []),
            {"role": "customer", "text": state.get("message", "")},
            {"role": "agent", "text": reply},
        ]
        return {"reply": reply, "history": history[-60:]}

    def after_respond(state: ConversationState) -> str:
        return "wait_for_human" if state.get("status") == "escalated" else END

    def wait_for_human(state: ConversationState) -> dict[str, Any]:
        answer = interrupt({"case_id": state.get("case_id"), "conversation_id": state.get("conversation_id")})
        text = str(answer.get("text", "")) if isinstance(answer, dict) else str(answer)
        resolved = bool(answer.get("resolve")) if isinstance(answer, dict) else False
        history = [*state.get("history", []), {"role": "human", "text": text}]
        return {"reply": text, "status": "resolved" if resolved else "open", "pending": None, "history": history[-60:]}

    attach = getattr(deps.brain, "attach", None)
    if callable(attach):
        attach(deps)
    graph = StateGraph(ConversationState)
    for name, node in (
        ("understand", understand),
        ("identify", identify),
        ("retrieve", retrieve),
        ("decide", decide),
        ("guard", guard),
        ("act", act),
        ("escalate", escalate),
        ("respond", respond),
        ("wait_for_human", wait_for_human),
    ):
        graph.add_node(name, node)
    graph.add_edge(START, "understand")
    graph.add_edge("understand", "identify")
    graph.add_conditional_edges("identify", after_identify, ["retrieve", "respond"])
    graph.add_conditional_edges("retrieve", after_retrieve, ["decide", "respond"])
    graph.add_conditional_edges("decide", after_decide, ["guard", "escalate", "respond"])
    graph.add_conditional_edges("guard", after_guard, ["act", "escalate", "respond"])
    graph.add_conditional_edges("act", after_act, ["escalate", "respond"])
    graph.add_edge("escalate", "respond")
    graph.add_conditional_edges("respond", after_respond, ["wait_for_human", END])
    graph.add_edge("wait_for_human", END)
    return graph.compile(checkpointer=checkpointer)
