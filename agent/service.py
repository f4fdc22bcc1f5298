"""The support agent as the CLI and the server use it: one call per customer message, one
per human reply, with conversations persisted by the LangGraph checkpointer."""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

from agent.brain import Brain
from agent.graph import AgentDeps, build_graph
from agent.identity import verify_customer_token
from agent.llm import make_brain
from agent.lockout import LockoutRules, address_digest
from agent.policy import PolicyGate, load_profile
from agent.replies import default_catalogue
from agent.understanding import LANGUAGES, IntentClassifier
from commerce.conversations import record_message
from commerce.db import Store
from commerce.models import Case, CaseStatus, UrgencyLevel, utcnow
from commerce.privacy import mask_card_numbers
from config import Settings
from knowledge.embedders import make_embedder

MAX_MESSAGE_CHARS = 4000
EMPTY_USAGE = {"model_calls": 0, "prompt_tokens": 0, "completion_tokens": 0}


class MessageError(ValueError):
    """A message the agent cannot take (empty, too long); nothing was stored."""


@dataclass
class TurnResult:
    conversation: str
    reply: str
    language: str
    intent: str
    urgency: str
    actions: list[dict[str, Any]] = field(default_factory=list)
    status: str = "open"
    case_id: int | None = None
    usage: dict[str, int] = field(default_factory=dict)  # this turn's model calls and tokens
    brain: str = "offline"  # the brain that answered: llm, or offline (also when it stood in for the model)
    choices: list[str] = field(default_factory=list)  # answers the widget offers as buttons

    def as_json(self) -> dict[str, Any]:
        return {
            "conversation": self.conversation,
            "reply": self.reply,
            "language": self.language,
            "intent": self.intent,
            "urgency": self.urgency,
            "actions": self.actions,
            "status": self.status,
            "choices": self.choices,
            "case_id": self.case_id,
            "brain": self.brain,
            "usage": self.usage,
        }


def secret_key(settings: Settings) -> str:
    """The key that signs customer tokens: from the settings, else one kept in the data dir."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


# Questions the agent answers alone while a case waits for a human: read-only ones.
WHILE_WAITING_INTENTS = frozenset({"track_order", "refund_status", "policy_question", "customs_duties", "delivery_delay"})


class SupportAgent:
    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None = None,
        brain: Brain | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        knowledge: Any | None = None,
        use_knowledge: bool = True,
    ) -> None:
        self.settings = settings
        self.store = store or Store(settings.resolved_database_url)
        self.clock = clock or utcnow
        self.profile = load_profile(settings.policy_profile)
        embedder = make_embedder(settings.embedder, settings.embedder_model)
        cache = settings.resolved_cache_dir
        cache.mkdir(parents=True, exist_ok=True)
        classifier = IntentClassifier(embedder, cache_dir=cache)
        if knowledge is None and use_knowledge:
            from knowledge.store import open_knowledge_base

            knowledge = open_knowledge_base(settings)
        self.knowledge = knowledge
        self.deps = AgentDeps(
            store=self.store,
            profile=self.profile,
            gate=PolicyGate(self.profile),
            brain=brain or make_brain(settings),
            classifier=classifier,
            catalogue=default_catalogue(),
            knowledge=knowledge,
            clock=self.clock,
            shop_name=settings.shop_name,
            lockout=LockoutRules(
                per_target=settings.identity_failures_per_target,
                per_address=settings.identity_failures_per_address,
                window=dt.timedelta(minutes=settings.identity_lockout_minutes),
            ),
        )
        path = Path(settings.data_dir) / "checkpoints.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(str(path), check_same_thread=False)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self.checkpointer = SqliteSaver(self._connection)
        self.graph = build_graph(self.deps, self.checkpointer)
        self._secret = secret_key(settings)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def close(self) -> None:
        self.deps.brain.close()
        self._connection.close()

    def _lock(self, conversation_id: str) -> threading.Lock:
        # One turn at a time per conversation; different conversations run in parallel.
        with self._locks_guard:
            return self._locks.setdefault(conversation_id, threading.Lock())

    @staticmethod
    def _config(conversation_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": conversation_id}}

    def state(self, conversation_id: str) -> dict[str, Any]:
        snapshot = self.graph.get_state(self._config(conversation_id))
        return dict(snapshot.values or {})

    def waiting_for_human(self, conversation_id: str) -> bool:
        snapshot = self.graph.get_state(self._config(conversation_id))
        return bool(snapshot.next) and "wait_for_human" in snapshot.next

    def _record(
        self,
        conversation_id: str,
        role: str,
        text: str,
        *,
        language: str | None = None,
        intent: str | None = None,
        customer_id: str | None = None,
    ) -> None:
        with self.store.write() as session:
            record_message(
                session,
                conversation_id,
                role,
                text,
                at=self.clock(),
                language=language,
                intent=intent,
                customer_id=customer_id,
            )

    def _result(self, conversation_id: str, values: dict[str, Any]) -> TurnResult:
        return TurnResult(
            conversation=conversation_id,
            reply=str(values.get("reply", "")),
            language=str(values.get("language", "en")),
            intent=str(values.get("intent", "other")),
            urgency=str(values.get("urgency", "blue")),
            actions=[dict(a) for a in values.get("actions", [])],
            status=str(values.get("status", "open")),
            case_id=values.get("case_id"),
            usage={**EMPTY_USAGE, **(values.get("usage") or {})},
            brain=self._brain_of(values),
            choices=[self.deps.catalogue.render(key, str(values.get("language", "en"))) for key in values.get("choices") or []],
        )

    def _brain_of(self, values: dict[str, Any]) -> str:
        if (
            self.deps.brain.name != "llm"
            or values.get("brain_fallback")
            or (values.get("brain_status") or {}).get("mode") == "offline"
        ):
            return "offline"
        return "llm"

    def conversation_usage(self, conversation_id: str) -> dict[str, int]:
        """Model calls and tokens of the whole conversation."""
        return {**EMPTY_USAGE, **(self.state(conversation_id).get("usage_total") or {})}

    def _check_message(self, conversation_id: str, text: str) -> tuple[str, str]:
        conversation_id = conversation_id.strip()
        if not conversation_id or len(conversation_id) > 64:
            raise MessageError("a conversation id of 1 to 64 characters is required")
        text = (text or "").strip()
        if not text:
            raise MessageError("the message is empty")
        if len(text) > MAX_MESSAGE_CHARS:
            raise MessageError(f"the message is too long ({len(text)} characters; at most {MAX_MESSAGE_CHARS})")
        # A card number typed into the chat is masked before it is stored, logged or read by a model.
        return conversation_id, mask_card_numbers(text)

    def handle(
        self,
        conversation_id: str,
        text: str,
        *,
        customer_token: str | None = None,
        locale: str | None = None,
        client: str | None = None,
    ) -> TurnResult:
        """One customer message in, the agent's turn out."""
        result: TurnResult | None = None
        for event in self.stream(conversation_id, text, customer_token=customer_token, locale=locale, client=client):
            if event["type"] == "turn":
                result = event["result"]
        assert result is not None
        return result

    def stream(
        self,
        conversation_id: str,
        text: str,
        *,
        customer_token: str | None = None,
        locale: str | None = None,
        client: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The turn as events: {"type": "token", "text"} while the model writes, {"type":
        "reset"} when streamed text was withdrawn (a retry, or a reply that failed its
        checks), and last {"type": "turn", "result": TurnResult} with the reply as sent.
        `locale` is the language of the customer's page, for a message that shows none;
        `client` the network address the message came from (failed proofs of identity are
        counted against it)."""
        conversation_id, text = self._check_message(conversation_id, text)
        with self._lock(conversation_id):
            config = self._config(conversation_id)
            values = self.state(conversation_id)
            if self.waiting_for_human(conversation_id):
                yield {"type": "turn", "result": self._while_waiting(conversation_id, text, values)}
                return
            update: dict[str, Any] = {"message": text, "conversation_id": conversation_id, "client": address_digest(client)}
            if locale in LANGUAGES and not values.get("locale"):
                update["locale"] = locale
            if customer_token and not values.get("customer_id"):
                customer_id = verify_customer_token(customer_token, self._secret)
                if customer_id is None:
                    raise MessageError("the customer token is invalid or expired")
                update.update(customer_id=customer_id, identity_method="signed_token")
            self._record(conversation_id, "customer", text, customer_id=values.get("customer_id"))
            for mode, payload in self.graph.stream(update, config, stream_mode=["custom", "updates"]):
                if mode == "custom" and isinstance(payload, dict) and payload.get("type") in ("token", "reset"):
                    yield payload
            after = self.state(conversation_id)
            result = self._result(conversation_id, after)
            self._record(
                conversation_id,
                "agent",
                result.reply,
                language=result.language,
                intent=result.intent,
                customer_id=after.get("customer_id"),
            )
            yield {"type": "turn", "result": result}

    def _while_waiting(self, conversation_id: str, text: str, values: dict[str, Any]) -> TurnResult:
        """The case is with a human: the message joins it. The agent still answers questions it
        may answer alone (tracking, refunds, policy), thanks a closing, and a legal threat makes
        the case urgent; anything else is acknowledged with the case's deadline."""
        from agent.language import detect_language
        from agent.replies import format_date, render_parts
        from agent.understanding import read_signals

        language = detect_language(text, values.get("language")).language
        self._record(conversation_id, "customer", text, language=language, customer_id=values.get("customer_id"))
        signals = read_signals(text, language)
        urgency = str(values.get("urgency", "blue"))
        due = dt.datetime.fromisoformat(values["sla_due_at"]) if values.get("sla_due_at") else self.clock()
        parts: list[tuple[str, dict[str, str]]] = []
        if signals.legal_threat and urgency != "red":
            urgency, due = "red", self._raise_case(values, "red")
            parts.append(("escalated_raised", {}))
        elif signals.closing:
            parts.append(("closing_after_handover", {}))
        else:
            parts.extend(self._answer_while_waiting(text, language, values))
            parts.append(("escalated_noted" if parts else "escalated_waiting", {}))
        deadline = f"{format_date(due, language)} {due:%H:%M} UTC"
        reply = render_parts(self.deps.catalogue, [(k, {**v, "deadline": deadline}) for k, v in parts], language)
        self._record(conversation_id, "agent", reply, language=language)
        return TurnResult(
            conversation_id,
            reply,
            language,
            str(values.get("intent", "other")),
            urgency,
            [],
            "escalated",
            values.get("case_id"),
        )

    def _answer_while_waiting(self, text: str, language: str, values: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
        """The reply parts for an information question, read-only; none for anything else."""
        from agent.nodes.retrieve import retrieve
        from agent.nodes.understand import read_slots
        from agent.state import fresh_turn

        intent = self.deps.classifier.classify(text, language).intent
        if intent not in WHILE_WAITING_INTENTS or (intent in ("track_order", "refund_status") and not values.get("customer_id")):
            return []
        state: dict[str, Any] = {
            **values,
            **fresh_turn(),
            "message": text,
            "language": language,
            "intent": intent,
            "slots": read_slots(text, language),
        }
        state["context"] = retrieve(self.deps, state)["context"]  # type: ignore[arg-type]
        if intent in ("track_order", "refund_status") and not state["context"].get("order"):
            return []
        decision = self.deps.brain.decide(state, state["context"])  # type: ignore[arg-type]
        if decision.kind == "escalate":
            return []
        # What the agent would say, never what it would propose: the case is with a human now.
        return [(k, dict(v)) for k, v in decision.parts]

    def _raise_case(self, values: dict[str, Any], urgency: str) -> dt.datetime:
        """The conversation's case made more urgent, with the sooner deadline; returns it."""
        now = self.clock()
        due = now + dt.timedelta(hours=self.profile.urgency_sla_hours.hours_for(UrgencyLevel(urgency)))
        if values.get("case_id"):
            with self.store.write() as session:
                case = session.get(Case, values["case_id"])
                if case is not None:
                    current = case.sla_due_at
                    if current is not None and current.tzinfo is None:
                        current = current.replace(tzinfo=dt.UTC)
                    case.urgency = UrgencyLevel(urgency)
                    due = min(current, due) if current is not None else due
                    case.sla_due_at = due
        return due

    def reply_as_human(self, conversation_id: str, text: str, *, agent: str = "agent", resolve: bool = False) -> TurnResult:
        """A human agent's answer resumes the paused thread and reaches the customer."""
        text = text.strip()
        if not text:
            raise MessageError("the reply is empty")
        with self._lock(conversation_id):
            if not self.waiting_for_human(conversation_id):
                raise MessageError(f"conversation {conversation_id} is not waiting for a human")
            values = self.state(conversation_id)
            self.graph.invoke(Command(resume={"text": text, "agent": agent, "resolve": resolve}), self._config(conversation_id))
            after = self.state(conversation_id)
            self._record(conversation_id, "human", text, language=after.get("language"), customer_id=after.get("customer_id"))
            if resolve and values.get("case_id"):
                with self.store.write() as session:
                    case = session.get(Case, values["case_id"])
                    if case is not None:
                        case.status = CaseStatus.RESOLVED
                        case.resolved_at = self.clock()
            return self._result(conversation_id, after)
