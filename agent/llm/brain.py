"""The LLM brain: any OpenAI-compatible model plans the turn, inside the same graph and
behind the same guard as the offline brain.

One model call per turn where possible. The model sees the system prompt, the retrieved
policy passages with their ids, the verified customer's order, the conversation (trimmed to
a token budget, the oldest turns summarised) and the tool schemas; it answers with text or
tool calls. Reads run at once (only on the verified customer's records); a write becomes a
proposal that the guard checks and the customer confirms. Invalid tool calls get one repair
round; replies are checked (language, claimed actions, cited policy) and regenerated once;
whatever still fails, and any model outage, is answered by the offline brain.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from agent.brain import VERBATIM, Brain, Decision, ReplyPart
from agent.language import LANGUAGE_NAMES
from agent.llm.prompt import (
    CATALOGUE_TOOLS,
    READ_TOOLS,
    WRITE_TOOLS,
    PromptBudget,
    as_json,
    build_messages,
    estimate_tokens,
    tool_definitions,
)
from agent.llm.transport import CircuitBreaker, Completion, ModelClient, ModelUnavailable, ToolCall, Usage
from agent.offline import OfflineBrain
from agent.reply_checks import ACTION_FAMILIES, check_reply, mask_card_numbers, strip_citations
from agent.state import ConversationState
from agent.understanding import INTENTS
from config import Settings
from tools import REGISTRY, Caller, Toolbox

log = logging.getLogger("helloword.llm")

POLICY_INTENTS = frozenset({"policy_question", "customs_duties"})
MAX_READ_ROUNDS = 3
UNDERSTANDING_SCHEMA = {
    "type": "json_schema",
    "json_schema": {
        "name": "understanding",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {
                "language": {"type": "string", "description": "ISO 639-1 code of the customer's language"},
                "intent": {"type": "string", "enum": list(INTENTS)},
                "urgency": {"type": "string", "enum": ["blue", "yellow", "orange", "red"]},
            },
            "required": ["language", "intent", "urgency"],
            "additionalProperties": False,
        },
    },
}


class LLMBrain:
    """Plans turns with a model; the offline brain answers whenever the model cannot."""

    name = "llm"
    # Whether the graph hands the conversation to a human once this brain has failed to understand
    # the customer twice; the model decides for itself when to hand over.
    escalates_when_lost: bool = False

    def __init__(
        self,
        settings: Settings,
        *,
        offline: OfflineBrain | None = None,
        client: ModelClient | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.settings = settings
        self.offline = offline or OfflineBrain()
        self.client = client or ModelClient(settings)
        self.breaker = breaker or CircuitBreaker()
        self.tools = tool_definitions()
        # Before the customer is verified only the catalogue and a hand-over make sense (and cost fewer tokens).
        self.public_tools = [t for t in self.tools if t["function"]["name"] in (*CATALOGUE_TOOLS, "escalate_to_human")]
        self.deps: Any | None = None

    def attach(self, deps: Any) -> None:
        """The graph's store and clock, for the read tools the model calls."""
        self.deps = deps

    def close(self) -> None:
        self.client.close()

    # -- the turn

    def decide(self, state: ConversationState, context: dict[str, Any]) -> Decision:
        writer = _stream_writer()
        if (state.get("brain_status") or {}).get("mode") == "offline":
            return self.offline.decide(state, context)
        if not self.breaker.allow():
            decision = self.offline.decide(state, context)
            decision.state_updates["brain_status"] = {
                "mode": "offline",
                "reason": "The model failed repeatedly; this conversation continues with the offline brain.",
                "since_turn": state.get("turn", 0),
            }
            return decision
        usage = Usage()
        deadline = time.monotonic() + self.settings.llm_turn_deadline
        try:
            decision = self._plan(state, context, usage, deadline, writer)
            self.breaker.success()
        except ModelUnavailable as error:
            self.breaker.failure()
            log.warning("conversation %s: %s; the offline brain answers", state.get("conversation_id"), error)
            if writer:
                writer({"type": "reset"})
            decision = self.offline.decide(state, context)
            decision.state_updates["brain_fallback"] = str(error)
            if not self.breaker.allow():
                decision.state_updates["brain_status"] = {
                    "mode": "offline",
                    "reason": f"The model failed repeatedly ({error}); this conversation continues with the offline brain.",
                    "since_turn": state.get("turn", 0),
                }
        decision.state_updates["usage"] = usage.as_dict()
        return decision

    def describe_result(
        self, state: ConversationState, context: dict[str, Any], tool: str, result: dict[str, Any]
    ) -> list[ReplyPart]:
        # What an action did is told from its result, never from the model's words.
        return self.offline.describe_result(state, context, tool, result)

    def translate(self, state: ConversationState, words: list[str]) -> tuple[str | None, dict[str, int]]:
        """An English translation of the customer's words for the case brief (None when the
        model cannot), and the model usage it cost."""
        if not words or not self.breaker.allow() or (state.get("brain_status") or {}).get("mode") == "offline":
            return None, {}
        messages = [
            {
                "role": "system",
                "content": "Translate the customer's messages into plain English, one line per message. "
                "Output the translation only.",
            },
            {"role": "user", "content": mask_card_numbers("\n".join(words))},
        ]
        try:
            completion = self.client.complete(messages, deadline=time.monotonic() + min(10.0, self.settings.llm_turn_deadline))
        except ModelUnavailable:
            return None, {}
        return completion.text.strip() or None, completion.usage.as_dict()

    # -- internals

    def classify(self, text: str, language: str, state: ConversationState) -> dict[str, Any] | None:
        """With HELLOWORD_LLM_UNDERSTANDING=model: intent and urgency from a first, cheap call,
        instead of the embedded classifier. None (the classifier decides) in local mode, when
        the model is unavailable, or when the conversation runs on the offline brain."""
        if self.settings.llm_understanding != "model" or not self.breaker.allow():
            return None
        if (state.get("brain_status") or {}).get("mode") == "offline":
            return None
        usage = Usage()
        try:
            understood = self._understand(text, usage, time.monotonic() + min(10.0, self.settings.llm_turn_deadline / 2))
        except ModelUnavailable:
            return None
        if understood is None:
            return None
        return {**understood, "usage": usage.as_dict()}

    def _understand(self, text: str, usage: Usage, deadline: float) -> dict[str, str] | None:
        messages = [
            {
                "role": "system",
                "content": "Classify the customer's message for an online shop's support team. "
                "Answer with JSON only: language (ISO 639-1), intent, urgency (red: legal threat, chargeback or safety; "
                "orange: angry or a large order; yellow: a late parcel; blue: anything else).",
            },
            {"role": "user", "content": mask_card_numbers(text)},
        ]
        completion = self.client.complete(messages, deadline=deadline, response_format=UNDERSTANDING_SCHEMA, max_tokens=60)
        usage.add(completion.usage)
        try:
            data = json.loads(completion.text)
        except json.JSONDecodeError:
            return None
        if not isinstance(data, dict) or data.get("intent") not in INTENTS:
            return None
        return {k: str(data.get(k, "")) for k in ("language", "intent", "urgency")}

    def _plan(
        self,
        state: ConversationState,
        context: dict[str, Any],
        usage: Usage,
        deadline: float,
        writer: Callable[[dict[str, Any]], None] | None,
    ) -> Decision:
        updates: dict[str, Any] = {}
        today = (self.deps.clock() if self.deps else dt.datetime.now(dt.UTC)).date()
        budget = PromptBudget(self.settings.llm_context_tokens, self.settings.llm_max_tokens)
        tools = self.tools if state.get("customer_id") else self.public_tools
        messages = build_messages(state, context, today=today, budget=budget, tools_tokens=estimate_tokens(json.dumps(tools)))
        language = state.get("language") or "en"
        chunk_ids = [h["id"] for h in context.get("hits") or []]
        done_tools = [a["tool"] for a in state.get("actions_log", []) if a["ok"]] + _evidenced_tools(context)
        needs_citation = state.get("intent") in POLICY_INTENTS
        repaired = regenerated = False
        reads = 0
        while True:
            completion = self.client.complete(messages, tools=tools, deadline=deadline, on_event=writer)
            usage.add(completion.usage)
            if completion.tool_calls:
                call = completion.tool_calls[0]
                problem, arguments = self._validate(call, state)
                if problem:
                    if repaired:
                        log.info("conversation %s: invalid tool call after repair (%s)", state.get("conversation_id"), problem)
                        return self._fallback(state, context, updates, f"invalid tool call: {problem}")
                    repaired = True
                    messages += _tool_exchange(completion, call, {"error": problem + " Correct the call and try again."})
                    continue
                if call.name in READ_TOOLS:
                    reads += 1
                    if reads > MAX_READ_ROUNDS:
                        return self._fallback(state, context, updates, "too many lookups")
                    messages += _tool_exchange(completion, call, self._read(call.name, arguments, state))
                    continue
                if call.name == "escalate_to_human":
                    return Decision(
                        "escalate",
                        reason=str(arguments.get("reason") or "The model asked for a human decision.")[:500],
                        urgency=arguments.get("urgency")
                        if arguments.get("urgency") in ("blue", "yellow", "orange", "red")
                        else None,
                        recommendation=str(arguments.get("recommendation") or ""),
                        state_updates=updates,
                    )
                ask_text = strip_citations(completion.text).strip()
                if ask_text:
                    verdict = check_reply(
                        ask_text, language=language, done_tools=done_tools, chunk_ids=chunk_ids, needs_citation=False
                    )
                    ask: ReplyPart = (
                        (VERBATIM, {"text": ask_text}) if verdict.ok else self._offline_ask(state, context, call.name)
                    )
                else:
                    ask = self._offline_ask(state, context, call.name)
                return Decision("propose", tool=call.name, arguments=arguments, ask=ask, offer=True, state_updates=updates)
            verdict = check_reply(
                completion.text, language=language, done_tools=done_tools, chunk_ids=chunk_ids, needs_citation=needs_citation
            )
            if verdict.ok:
                updates["cited_by_model"] = verdict.cited
                return Decision(
                    "reply", parts=[(VERBATIM, {"text": strip_citations(completion.text).strip()})], state_updates=updates
                )
            log.info("conversation %s: reply rejected: %s", state.get("conversation_id"), "; ".join(verdict.problems))
            if writer:
                writer({"type": "reset"})
            if regenerated:
                return self._fallback(state, context, updates, "reply failed its checks twice: " + "; ".join(verdict.problems))
            regenerated = True
            messages += [
                {"role": "assistant", "content": completion.text},
                {
                    "role": "user",
                    "content": "(Message from the shop's system, not the customer.) Your reply was not sent: "
                    + "; ".join(verdict.problems)
                    + f". Write it again, in {LANGUAGE_NAMES.get(language, language)}, following the rules.",
                },
            ]

    def _fallback(self, state: ConversationState, context: dict[str, Any], updates: dict[str, Any], why: str) -> Decision:
        decision = self.offline.decide(state, context)
        decision.state_updates.update(updates)
        decision.state_updates["brain_fallback"] = why
        return decision

    def _offline_ask(self, state: ConversationState, context: dict[str, Any], tool: str) -> ReplyPart:
        plan = self.offline.decide(state, context)
        if plan.kind == "propose" and plan.tool == tool and plan.ask:
            return plan.ask
        return ("confirm_prompt", {})

    def _validate(self, call: ToolCall, state: ConversationState) -> tuple[str | None, dict[str, Any]]:
        if call.name not in (*READ_TOOLS, *WRITE_TOOLS, "escalate_to_human"):
            return f"There is no tool named {call.name!r}.", {}
        try:
            arguments = json.loads(call.arguments or "{}")
        except json.JSONDecodeError as error:
            return f"The arguments of {call.name} are not valid JSON ({error.msg} at position {error.pos}).", {}
        if not isinstance(arguments, dict):
            return f"The arguments of {call.name} must be a JSON object.", {}
        if call.name == "escalate_to_human":
            if not isinstance(arguments.get("reason"), str) or not arguments["reason"].strip():
                return "escalate_to_human needs a reason.", {}
            return None, arguments
        try:
            REGISTRY[call.name].args_model.model_validate(arguments)
        except ValidationError as error:
            details = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in error.errors()[:5])
            return f"The arguments of {call.name} do not match its schema: {details}.", {}
        return None, arguments

    def _read(self, tool: str, arguments: dict[str, Any], state: ConversationState) -> dict[str, Any]:
        customer_id = state.get("customer_id")
        if customer_id is None and tool not in CATALOGUE_TOOLS:
            return {"error": "The customer is not verified yet: ask for the order number and email first."}
        if self.deps is None:
            return {"error": "No order store is attached."}
        caller = Caller(
            actor="agent:llm", customer_id=customer_id, conversation_id=state.get("conversation_id"), clock=self.deps.clock
        )
        outcome = Toolbox(self.deps.store, caller).call(tool, arguments)
        return {"result": outcome.result} if outcome.ok else {"error": outcome.error}


def _tool_exchange(completion: Completion, call: ToolCall, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The assistant's tool call and the tool's answer, as the next messages of the prompt."""
    return [
        {
            "role": "assistant",
            "content": completion.text or None,
            "tool_calls": [{"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}],
        },
        {"role": "tool", "tool_call_id": call.id, "content": as_json(payload)},
    ]


def _evidenced_tools(context: dict[str, Any]) -> list[str]:
    """Actions the order itself shows as done (so the model may mention them)."""
    order = context.get("order") or {}
    tools: list[str] = []
    status = str(order.get("status", ""))
    if status == "cancelled":
        tools.append("cancel_order")
    if order.get("refunds") or "refund" in status:
        tools.append("issue_refund")
    if order.get("reshipments"):
        tools.append("create_reshipment")
    if order.get("returns") or "return" in status:
        tools.append("return_items")
    if order.get("exchanges") or "exchange" in status:
        tools.append("exchange_items")
    return [t for t in tools if t in ACTION_FAMILIES]


def _stream_writer() -> Callable[[dict[str, Any]], None] | None:
    """The graph's custom stream, when the turn is being streamed."""
    try:
        from langgraph.config import get_stream_writer

        return get_stream_writer()
    except (RuntimeError, KeyError):
        return None


def make_brain(settings: Settings) -> Brain:
    """The brain the settings ask for: the LLM brain when an endpoint is configured."""
    if settings.resolved_brain == "llm":
        if not settings.llm_base_url and not settings.resolved_llm_api_key:
            raise ValueError(
                "HELLOWORD_BRAIN=llm needs HELLOWORD_LLM_BASE_URL or an API key (HELLOWORD_LLM_API_KEY / OPENAI_API_KEY)"
            )
        return LLMBrain(settings)
    return OfflineBrain()
