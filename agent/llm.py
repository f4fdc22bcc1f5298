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

import asyncio
import datetime as dt
import json
import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import openai
from openai import AsyncOpenAI
from pydantic import ValidationError

from agent.brain import VERBATIM, Brain, Decision, ReplyPart
from agent.language import LANGUAGE_NAMES
from agent.offline import OfflineBrain
from agent.reply_checks import ACTION_FAMILIES, check_reply, mask_card_numbers, strip_citations
from agent.state import ConversationState
from agent.understanding import INTENTS
from config import Settings
from tools import REGISTRY, Caller, Toolbox

log = logging.getLogger("helloword.llm")

PROMPTS = Path(__file__).resolve().parents[1] / "prompts" / "llm"
POLICY_INTENTS = frozenset({"policy_question", "customs_duties"})

# What the model may call. Reads run straight away; writes are proposals for the guard.
READ_TOOLS = ("get_order", "track_shipment", "get_customer", "get_product", "list_product_types")
CATALOGUE_TOOLS = frozenset({"get_product", "list_product_types"})  # no customer record: allowed before identity
WRITE_TOOLS = (
    "issue_refund",
    "cancel_order",
    "create_reshipment",
    "issue_coupon",
    "change_shipping_address",
    "intercept_parcel",
    "switch_carrier",
    "return_items",
    "exchange_items",
    "modify_order_items",
    "modify_order_payment",
)
ESCALATE_TOOL = {
    "type": "function",
    "function": {
        "name": "escalate_to_human",
        "description": "Pass the conversation to a human colleague, with the reason and what you recommend.",
        "parameters": {
            "type": "object",
            "properties": {
                "reason": {"type": "string", "description": "Why a human must decide (English)."},
                "urgency": {"type": "string", "enum": ["blue", "yellow", "orange", "red"]},
                "recommendation": {"type": "string", "description": "The resolution you would suggest (English)."},
            },
            "required": ["reason"],
            "additionalProperties": False,
        },
    },
}
MAX_READ_ROUNDS = 3
DONE: dict[str, Any] = {"type": "done"}  # put on a call's event queue when the call has finished
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


class ModelUnavailable(Exception):
    """The model did not answer in time or kept failing; the turn falls back to the offline brain."""


@dataclass
class Usage:
    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.model_calls += other.model_calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens

    def as_dict(self) -> dict[str, int]:
        return {"model_calls": self.model_calls, "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str


@dataclass
class Completion:
    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)


class CircuitBreaker:
    """After `threshold` failed turns in a row the model is not called for `cooldown`
    seconds; then one turn tries it again."""

    def __init__(self, threshold: int = 3, cooldown: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold, self.cooldown, self.clock = threshold, cooldown, clock
        self.failures = 0
        self.opened_at: float | None = None
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            if self.opened_at is None:
                return "closed"
            return "half-open" if self.clock() - self.opened_at >= self.cooldown else "open"

    def allow(self) -> bool:
        return self.state != "open"

    def success(self) -> None:
        with self._lock:
            self.failures, self.opened_at = 0, None

    def failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self.failures >= self.threshold:
                self.opened_at = self.clock()


def _retry_after(value: str | None) -> float:
    """Seconds from a Retry-After header (0 when absent or a date we do not parse)."""
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate (about four characters a token), enough to keep a budget."""
    return len(text) // 4 + 1


# ---------------------------------------------------------------------------- the client


class ModelClient:
    """The official async OpenAI client on a private event loop, called from the graph's
    synchronous nodes. Retries timeouts, 429 and 5xx with exponential backoff and jitter."""

    RETRYABLE = (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)

    def __init__(self, settings: Settings, *, backoff: float = 0.5, max_backoff: float = 8.0) -> None:
        self.settings = settings
        self.model = settings.llm_model
        self.backoff, self.max_backoff = backoff, max_backoff
        self.client = AsyncOpenAI(
            base_url=settings.llm_base_url,
            api_key=settings.resolved_llm_api_key or "not-needed",
            max_retries=0,  # retries are ours: they respect the turn's deadline
            timeout=settings.llm_timeout,
        )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="helloword-llm", daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(self.client.close(), self._loop).result(timeout=5)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)

    def complete(
        self,
        messages: list[dict[str, Any]],
        *,
        tools: list[dict[str, Any]] | None = None,
        deadline: float,
        on_event: Callable[[dict[str, Any]], None] | None = None,
        response_format: dict[str, Any] | None = None,
        max_tokens: int | None = None,
    ) -> Completion:
        """One completion, streamed when `on_event` is given. Raises ModelUnavailable when
        every attempt failed or the deadline (a time.monotonic() value) passed."""
        events: queue.Queue[dict[str, Any]] = queue.Queue()
        coroutine = self._with_retries(messages, tools, deadline, events if on_event else None, response_format, max_tokens)
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        future.add_done_callback(lambda _: events.put(DONE))
        while True:
            try:
                event = events.get(timeout=max(0.0, deadline + 0.5 - time.monotonic()))
            except queue.Empty:
                future.cancel()
                raise ModelUnavailable("the model did not answer before the turn's deadline") from None
            if event is DONE:
                break
            if on_event:
                on_event(event)
        return future.result()

    async def _with_retries(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None,
        deadline: float,
        events: queue.Queue[dict[str, Any]] | None,
        response_format: dict[str, Any] | None,
        max_tokens: int | None,
    ) -> Completion:
        attempts = self.settings.llm_max_retries + 1
        last: Exception | None = None
        for attempt in range(attempts):
            remaining = deadline - time.monotonic()
            if remaining <= 0.05:
                break
            streamed = [False]
            try:
                return await asyncio.wait_for(
                    self._once(
                        messages, tools, min(self.settings.llm_timeout, remaining), events, streamed, response_format, max_tokens
                    ),
                    timeout=min(self.settings.llm_timeout, remaining),
                )
            except (TimeoutError, *self.RETRYABLE) as error:
                last = error
                log.warning("model call failed (attempt %d of %d): %s", attempt + 1, attempts, type(error).__name__)
                if streamed[0] and events is not None:
                    events.put({"type": "reset"})
                wait = self.backoff * (2**attempt) * random.uniform(0.5, 1.0)
                if isinstance(error, openai.APIStatusError):
                    wait = max(wait, _retry_after(error.response.headers.get("retry-after")))
                wait = min(wait, self.max_backoff)
                if attempt + 1 < attempts and time.monotonic() + wait < deadline:
                    await asyncio.sleep(wait)
                else:
                    break
            except openai.APIStatusError as error:  # 4xx other than 429: retrying will not help
                raise ModelUnavailable(f"the model endpoint refused the request ({error.status_code})") from error
            except openai.OpenAIError as error:
                raise ModelUnavailable(f"the model's answer could not be read: {error}") from error
        raise ModelUnavailable(f"the model is unavailable: {type(last).__name__ if last else 'no time left'}")

    async def _once(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None,
        timeout: float,
        events: queue.Queue[dict[str, Any]] | None,
        streamed: list[bool],
        response_format: dict[str, Any] | None,
        max_tokens: int | None,
    ) -> Completion:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": self.settings.llm_temperature,
            "max_tokens": max_tokens or self.settings.llm_max_tokens,
            "timeout": timeout,
        }
        if tools:
            kwargs["tools"] = tools
        if response_format:
            kwargs["response_format"] = response_format
        if events is None:
            response = await self.client.chat.completions.create(**kwargs)
            if not response.choices:
                raise ModelUnavailable("the model answered without a choice")
            message = response.choices[0].message
            calls = [
                ToolCall(c.id, c.function.name, c.function.arguments or "")
                for c in (message.tool_calls or [])
                if getattr(c, "function", None) is not None
            ]
            usage = Usage(
                1,
                response.usage.prompt_tokens if response.usage else 0,
                response.usage.completion_tokens if response.usage else 0,
            )
            return Completion(message.content or "", calls, usage)
        stream = await self.client.chat.completions.create(**kwargs, stream=True, stream_options={"include_usage": True})
        text: list[str] = []
        partial: dict[int, dict[str, str]] = {}
        usage = Usage(1)
        async for chunk in stream:
            if chunk.usage:
                usage.prompt_tokens, usage.completion_tokens = chunk.usage.prompt_tokens, chunk.usage.completion_tokens
            if not chunk.choices:
                continue
            delta = chunk.choices[0].delta
            if delta.content:
                text.append(delta.content)
                streamed[0] = True
                events.put({"type": "token", "text": delta.content})
            for piece in delta.tool_calls or []:
                slot = partial.setdefault(piece.index, {"id": "", "name": "", "arguments": ""})
                if piece.id:
                    slot["id"] = piece.id
                if piece.function and piece.function.name:
                    slot["name"] += piece.function.name
                if piece.function and piece.function.arguments:
                    slot["arguments"] += piece.function.arguments
        calls = [ToolCall(s["id"] or f"call_{i}", s["name"], s["arguments"]) for i, s in sorted(partial.items())]
        return Completion("".join(text), calls, usage)


# ---------------------------------------------------------------------------- prompt


@lru_cache(maxsize=1)
def system_template() -> str:
    return (PROMPTS / "system.md").read_text(encoding="utf-8")


def _json(value: Any) -> str:
    return mask_card_numbers(json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":")))


def tool_definitions() -> list[dict[str, Any]]:
    return [REGISTRY[name].json_schema() for name in (*READ_TOOLS, *WRITE_TOOLS)] + [ESCALATE_TOOL]


@dataclass
class PromptBudget:
    total: int
    reply: int


def build_messages(
    state: ConversationState, context: dict[str, Any], *, today: dt.date, budget: PromptBudget, tools_tokens: int
) -> list[dict[str, Any]]:
    """The system prompt with the turn's facts, the conversation within the token budget
    (older turns summarised in the system prompt) and the customer's new message."""
    language = state.get("language") or "en"
    customer = context.get("customer")
    if customer:
        who = "Verified: " + _json(
            {
                k: customer.get(k)
                for k in ("customer_id", "first_name", "last_name", "email", "country_code", "is_vip", "order_ids")
            }
        )
    else:
        who = "Not verified yet. Ask for the order number and the email address before discussing any order."
    order = context.get("order")
    order_text = ""
    if order:
        order_text = "The order in question (from the order store):\n" + _json(order)
        if context.get("tracking"):
            order_text += "\nTracking:\n" + _json(context["tracking"])
    hits = context.get("hits") or []
    if hits:
        policy = "Policy passages (cite by id):\n" + "\n".join(
            f"[[{h['id']}]] {h.get('title', '')} / {h.get('section', '')}: {h['text']}" for h in hits
        )
    else:
        policy = "No policy passage was retrieved for this message."
    history = list(state.get("history") or [])
    message = mask_card_numbers(state.get("message", ""))
    fixed = estimate_tokens(system_template()) + estimate_tokens(order_text + policy + who + message) + tools_tokens + 200
    room = max(0, budget.total - budget.reply - fixed)
    kept: list[dict[str, str]] = []
    for entry in reversed(history):
        cost = estimate_tokens(entry["text"]) + 4
        if cost > room:
            break
        kept.insert(0, entry)
        room -= cost
    older = history[: len(history) - len(kept)]
    earlier = summarise(older, state) if older else ""
    system = system_template().format(
        shop=context.get("shop") or "the shop",
        today=today.isoformat(),
        language_name=LANGUAGE_NAMES.get(language, language),
        example_id=hits[0]["id"] if hits else "returns-1",
        customer=who,
        intent=state.get("intent", "other"),
        urgency=state.get("urgency", "blue"),
        order=order_text,
        policy=policy,
        earlier=earlier,
    )
    messages: list[dict[str, Any]] = [{"role": "system", "content": system.strip() + "\n"}]
    for entry in kept:
        messages.append(
            {"role": "user" if entry["role"] == "customer" else "assistant", "content": mask_card_numbers(entry["text"])}
        )
    messages.append({"role": "user", "content": message})
    return messages


def summarise(older: list[dict[str, str]], state: ConversationState) -> str:
    """The turns that no longer fit, in a few lines: what the customer wrote (shortened) and
    what was done."""
    lines = ["Earlier in this conversation (summarised):"]
    for entry in older:
        if entry["role"] == "customer":
            words = mask_card_numbers(entry["text"])
            lines.append("- customer: " + (words[:120] + "…" if len(words) > 120 else words))
    done = [f"{a['tool']} ({'done' if a['ok'] else 'failed'})" for a in state.get("actions_log", [])]
    if done:
        lines.append("- actions so far: " + ", ".join(done))
    return "\n".join(lines)


# ---------------------------------------------------------------------------- the brain


class LLMBrain:
    """Plans turns with a model; the offline brain answers whenever the model cannot."""

    name = "llm"

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
        {"role": "tool", "tool_call_id": call.id, "content": _json(payload)},
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
