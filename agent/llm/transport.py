"""The connection to an OpenAI-compatible model: the official async client on a private event
loop, retries with backoff that honour Retry-After and the turn's deadline, a circuit breaker
for a failing endpoint, and the usage each call cost."""

from __future__ import annotations

import asyncio
import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import openai
from openai import AsyncOpenAI

from config import Settings

log = logging.getLogger("helloword.llm")

DONE: dict[str, Any] = {"type": "done"}  # put on a call's event queue when the call has finished


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
