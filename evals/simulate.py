"""Simulated-customer evaluation on tau-retail tasks.

A chat model plays the customer of each task from its `instruction`, writing in a chosen
language; the Helloword agent serves them through the real graph with the LLM brain under the
`tau-retail` policy profile, on a fresh copy of the shop data for every trial. A trial
succeeds when the shop's end state equals the task's reference end state and every expected
output of the task was said in some agent reply. Each task is played `k` times per language,
and the report gives pass^1 … pass^k (the chance that all of i independent trials of a task
succeed, averaged over tasks), turns, model calls and tokens per task, and the failures.

The customer model and the agent model are configured apart: the agent follows the normal
settings, the customer has its own endpoint, key and model.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.language import LANGUAGE_NAMES
from config import Settings
from evals.tau_retail import TauRetailReplay, compare

STOP = "###STOP###"
USAGE_KEYS = ("model_calls", "prompt_tokens", "completion_tokens")
if TYPE_CHECKING:
    from openai import OpenAI
    from openai.types.chat import ChatCompletionMessageParam

DEFAULT_CLOCK = dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC)

# The agent's greeting that opens every simulated conversation, per customer language.
GREETINGS: dict[str, str] = {
    "en": "Hi! How can I help you today?",
    "es": "¡Hola! ¿En qué puedo ayudarte hoy?",
    "fr": "Bonjour ! Comment puis-je vous aider aujourd'hui ?",
    "de": "Hallo! Wie kann ich Ihnen heute helfen?",
    "it": "Ciao! Come posso aiutarti oggi?",
    "pt": "Olá! Como posso ajudar hoje?",
    "nl": "Hallo! Waarmee kan ik je vandaag helpen?",
    "pl": "Dzień dobry! W czym mogę dziś pomóc?",
    "tr": "Merhaba! Bugün size nasıl yardımcı olabilirim?",
    "ru": "Здравствуйте! Чем я могу вам помочь сегодня?",
    "ar": "مرحبًا! كيف يمكنني مساعدتك اليوم؟",
    "zh": "您好！今天有什么可以帮您？",
    "ja": "こんにちは！本日はどのようなご用件でしょうか？",
    "ko": "안녕하세요! 오늘 무엇을 도와드릴까요?",
}


CUSTOMER_PROMPT = """\
You are role-playing a customer who has opened the support chat of an online shop. A support \
agent will answer you. Stay in the role of the customer for the whole conversation.

Your situation and what you want:
{instruction}

How to behave:
- Write only in {language}, in every message, even if the agent writes in another language. \
Order numbers, emails, product names and addresses stay as they are.
- Say one thing at a time, in short messages, the way a real person types in a chat. Do not \
tell everything in your first message.
- Give your name, email, postal code or order numbers only when the agent asks for them.
- Use only the facts given above. If you are asked for something you do not know, say so; \
never make up details.
- You are the customer, not the agent: do not offer help and do not describe what the agent \
should do in technical terms.
- When your goal has been reached, or it clearly cannot be reached, write exactly {stop} and \
nothing else."""


class SimulationError(Exception):
    """The evaluation cannot go on, e.g. the customer model cannot be reached; the message says why."""


# ---------------------------------------------------------------- scoring


def pass_hat_k(successes_per_task: Sequence[tuple[int, int]], k: int) -> float:
    """pass^k: for each task with c successes in n trials, C(c, k) / C(n, k) (the chance that k
    trials drawn from the n all succeeded), averaged over the tasks; 0.0 for no tasks."""
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    if not successes_per_task:
        return 0.0
    total = 0.0
    for successes, trials in successes_per_task:
        if not 0 <= successes <= trials:
            raise ValueError(f"successes ({successes}) must be between 0 and the trials ({trials})")
        if k > trials:
            raise ValueError(f"pass^{k} needs at least {k} trials per task, a task has {trials}")
        total += math.comb(successes, k) / math.comb(trials, k)
    return total / len(successes_per_task)


def _normalise(text: str) -> str:
    return text.lower().replace(",", "")


def outputs_found(outputs: Sequence[str], replies: Sequence[str]) -> bool:
    """Whether every expected output appears in at least one agent reply (case-insensitive,
    commas ignored on both sides, so "1,000.50" matches "1000.50")."""
    normalised = [_normalise(r) for r in replies]
    return all(any(_normalise(str(o)) in reply for reply in normalised) for o in outputs)


def missing_outputs(outputs: Sequence[str], replies: Sequence[str]) -> list[str]:
    """The expected outputs no agent reply contains."""
    return [str(o) for o in outputs if not outputs_found([str(o)], replies)]


# ---------------------------------------------------------------- the customer


@dataclass(frozen=True)
class ModelEndpoint:
    """Where the customer model is served and how it is called."""

    model: str
    base_url: str | None = None
    api_key: str | None = None
    temperature: float = 0.7
    timeout: float = 60.0


def language_name(code: str) -> str:
    """The English name of a customer language code ("es" → "Spanish")."""
    return LANGUAGE_NAMES.get(code, code)


def customer_system_prompt(instruction: str, language: str) -> str:
    """The customer model's system message for one task, in the given language code."""
    return CUSTOMER_PROMPT.format(instruction=instruction.strip(), language=language_name(language), stop=STOP)


def _empty_usage() -> dict[str, int]:
    return dict.fromkeys(USAGE_KEYS, 0)


class SimulatedCustomer:
    """One customer conversation on the customer model. Roles are seen from the customer's
    side: the agent's lines are `user` messages, the customer's own lines `assistant` ones."""

    def __init__(self, client: OpenAI, endpoint: ModelEndpoint, instruction: str, language: str) -> None:
        self.client = client
        self.endpoint = endpoint
        self.messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": customer_system_prompt(instruction, language)},
            {"role": "user", "content": GREETINGS.get(language, GREETINGS["en"])},
        ]
        self.usage = _empty_usage()

    def opening(self) -> str:
        """The customer's first message, answering the agent's greeting."""
        return self._say()

    def answer(self, agent_reply: str) -> str:
        """The customer's next message after the agent's reply."""
        self.messages.append({"role": "user", "content": agent_reply.strip() or "…"})
        return self._say()

    def _say(self) -> str:
        import openai

        try:
            response = self.client.chat.completions.create(
                model=self.endpoint.model,
                messages=self.messages,
                temperature=self.endpoint.temperature,
            )
        except openai.OpenAIError as e:
            where = self.endpoint.base_url or "the OpenAI API"
            raise SimulationError(f"the customer model {self.endpoint.model} at {where} failed: {e}") from e
        self.usage["model_calls"] += 1
        if response.usage is not None:
            self.usage["prompt_tokens"] += response.usage.prompt_tokens or 0
            self.usage["completion_tokens"] += response.usage.completion_tokens or 0
        text = (response.choices[0].message.content or "").strip() if response.choices else ""
        self.messages.append({"role": "assistant", "content": text})
        return text


def customer_client(endpoint: ModelEndpoint) -> OpenAI:
    """The official OpenAI client for the customer model."""
    from openai import OpenAI

    return OpenAI(base_url=endpoint.base_url, api_key=endpoint.api_key or "not-needed", timeout=endpoint.timeout, max_retries=2)


# ---------------------------------------------------------------- results


@dataclass
class TrialResult:
    """One simulated conversation and its verdict."""

    language: str
    index: int
    trial: int
    success: bool
    problems: list[str]
    turns: int
    ended: str  # stop, max_turns, escalated or customer_silent
    agent_usage: dict[str, int]
    customer_usage: dict[str, int]
    fallback_turns: int
    transcript: list[dict[str, str]] = field(default_factory=list)

    def as_json(self, *, transcript: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "language": self.language,
            "index": self.index,
            "trial": self.trial,
            "success": self.success,
            "problems": self.problems,
            "turns": self.turns,
            "ended": self.ended,
            "agent_usage": self.agent_usage,
            "customer_usage": self.customer_usage,
            "fallback_turns": self.fallback_turns,
        }
        if transcript:
            data["transcript"] = self.transcript
        return data


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


@dataclass
class LanguageReport:
    """The results of one customer language."""

    language: str
    trials: int
    results: list[TrialResult]

    def by_task(self) -> dict[int, list[TrialResult]]:
        grouped: dict[int, list[TrialResult]] = {}
        for result in self.results:
            grouped.setdefault(result.index, []).append(result)
        return grouped

    @property
    def pass_hat(self) -> dict[int, float]:
        counts = [(sum(r.success for r in rs), len(rs)) for rs in self.by_task().values()]
        most = min((n for _, n in counts), default=0)
        return {k: pass_hat_k(counts, k) for k in range(1, most + 1)}

    @property
    def mean_turns(self) -> float:
        return _mean([r.turns for r in self.results])

    def mean_usage(self, side: str) -> dict[str, float]:
        """Mean model calls and tokens per task (per simulated conversation) of the agent or the customer."""
        pick: Callable[[TrialResult], dict[str, int]] = (
            (lambda r: r.agent_usage) if side == "agent" else (lambda r: r.customer_usage)
        )
        return {key: _mean([pick(r).get(key, 0) for r in self.results]) for key in USAGE_KEYS}

    def failures(self) -> list[dict[str, Any]]:
        """Every task with at least one failed trial: its successes and what went wrong."""
        failed = []
        for index, results in sorted(self.by_task().items()):
            bad = [r for r in results if not r.success]
            if not bad:
                continue
            problems = list(dict.fromkeys(p for r in bad for p in r.problems))
            failed.append(
                {
                    "index": index,
                    "successes": len(results) - len(bad),
                    "trials": len(results),
                    "problems": problems,
                    "ended": [r.ended for r in bad],
                    "transcript": bad[0].transcript,
                }
            )
        return failed

    def as_json(self) -> dict[str, Any]:
        tasks = []
        for index, results in sorted(self.by_task().items()):
            tasks.append(
                {
                    "index": index,
                    "successes": sum(r.success for r in results),
                    "trials": len(results),
                    "mean_turns": _mean([r.turns for r in results]),
                    "agent_usage": {k: _mean([r.agent_usage.get(k, 0) for r in results]) for k in USAGE_KEYS},
                    "customer_usage": {k: _mean([r.customer_usage.get(k, 0) for r in results]) for k in USAGE_KEYS},
                }
            )
        return {
            "language": self.language,
            "tasks": len(tasks),
            "trials": self.trials,
            "pass_hat_k": {str(k): v for k, v in self.pass_hat.items()},
            "mean_turns": self.mean_turns,
            "agent_usage_per_task": self.mean_usage("agent"),
            "customer_usage_per_task": self.mean_usage("customer"),
            "fallback_turns": sum(r.fallback_turns for r in self.results),
            "per_task": tasks,
            "failures": self.failures(),
            "results": [r.as_json() for r in self.results],
        }


@dataclass
class SimulationSummary:
    """A whole run: one report per customer language."""

    tasks: list[int]
    trials: int
    max_turns: int
    agent_model: str
    customer_model: str
    languages: list[LanguageReport] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "tasks": self.tasks,
            "trials": self.trials,
            "max_turns": self.max_turns,
            "agent_model": self.agent_model,
            "customer_model": self.customer_model,
            "seconds": round(self.seconds, 2),
            "languages": {report.language: report.as_json() for report in self.languages},
        }


# ---------------------------------------------------------------- the run


def _add_usage(total: dict[str, int], more: dict[str, Any]) -> None:
    for key in USAGE_KEYS:
        total[key] += int(more.get(key, 0) or 0)


def run_trial(
    replay: TauRetailReplay,
    index: int,
    task: dict[str, Any],
    reference: dict[str, Any] | None,
    *,
    trial: int,
    language: str,
    settings: Settings,
    client: OpenAI,
    customer: ModelEndpoint,
    max_turns: int,
    clock: Callable[[], dt.datetime],
) -> TrialResult:
    """One conversation between the simulated customer of a task and the agent, on a fresh
    copy of the data, and its verdict against the reference end state."""
    from agent.service import MAX_MESSAGE_CHARS, SupportAgent

    person = SimulatedCustomer(client, customer, str(task.get("instruction", "")), language)
    conversation_id = f"sim-{language}-{index}-{trial}"
    transcript: list[dict[str, str]] = []
    replies: list[str] = []
    turns = fallback_turns = 0
    agent_usage = _empty_usage()
    ended = "max_turns"
    with replay.fresh_store(index) as store, tempfile.TemporaryDirectory(prefix="helloword-sim-") as tmp:
        trial_settings = settings.model_copy(update={"data_dir": Path(tmp), "policy_profile": "tau-retail", "brain": "llm"})
        agent = SupportAgent(trial_settings, store=store, use_knowledge=False, clock=clock)
        try:
            text = person.opening()
            while True:
                if STOP in text:
                    ended = "stop"
                    break
                if not text:
                    ended = "customer_silent"
                    break
                if turns >= max_turns:
                    break
                text = text[:MAX_MESSAGE_CHARS]
                turn = agent.handle(conversation_id, text)
                turns += 1
                replies.append(turn.reply)
                transcript.append({"customer": text, "agent": turn.reply, "status": turn.status})
                _add_usage(agent_usage, turn.usage)
                if turn.brain != "llm":
                    fallback_turns += 1
                if turn.status == "escalated":
                    ended = "escalated"
                    break
                text = person.answer(turn.reply)
        finally:
            agent.close()
        result = replay.end_state(index, store)
    problems = compare(result, reference) if reference is not None else ["no reference end state for this task"]
    problems += [f"output {o!r} not said in any agent reply" for o in missing_outputs(task.get("outputs") or [], replies)]
    return TrialResult(
        language=language,
        index=index,
        trial=trial,
        success=not problems,
        problems=problems,
        turns=turns,
        ended=ended,
        agent_usage=agent_usage,
        customer_usage=dict(person.usage),
        fallback_turns=fallback_turns,
        transcript=transcript,
    )


def run_simulation(
    data_dir: Path,
    tasks: list[dict[str, Any]],
    reference: list[dict[str, Any]],
    *,
    settings: Settings,
    customer: ModelEndpoint,
    trials: int = 1,
    languages: Sequence[str] = ("en",),
    indexes: Sequence[int] | None = None,
    max_turns: int = 20,
    progress: Callable[[int, int], None] | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> SimulationSummary:
    """Play every chosen task `trials` times per customer language and report the results.

    `settings` configures the agent (its model endpoint and the model cache); the data dir and
    policy profile are set per trial. Raises SimulationError when the customer model fails."""
    if trials < 1:
        raise ValueError("trials must be at least 1")
    if max_turns < 1:
        raise ValueError("max_turns must be at least 1")
    chosen = list(indexes) if indexes is not None else list(range(len(tasks)))
    unknown = [i for i in chosen if not 0 <= i < len(tasks)]
    if unknown:
        raise ValueError(f"no task with index {', '.join(map(str, unknown))} (the file has {len(tasks)} tasks)")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="helloword-sim-cache-") as spare_cache:
        if settings.cache_dir is None:
            # One cache for the whole run: the agent's example vectors are computed once.
            settings = settings.model_copy(update={"cache_dir": Path(spare_cache)})
        summary = SimulationSummary(
            tasks=chosen,
            trials=trials,
            max_turns=max_turns,
            agent_model=settings.llm_model,
            customer_model=customer.model,
        )
        client = customer_client(customer)
        total, done = len(languages) * len(chosen) * trials, 0
        replay = TauRetailReplay(data_dir)
        try:
            for language in languages:
                report = LanguageReport(language=language, trials=trials, results=[])
                summary.languages.append(report)
                for index in chosen:
                    for trial in range(1, trials + 1):
                        report.results.append(
                            run_trial(
                                replay,
                                index,
                                tasks[index],
                                reference[index] if index < len(reference) else None,
                                trial=trial,
                                language=language,
                                settings=settings,
                                client=client,
                                customer=customer,
                                max_turns=max_turns,
                                clock=clock or (lambda: DEFAULT_CLOCK),
                            )
                        )
                        done += 1
                        if progress:
                            progress(done, total)
        finally:
            replay.close()
            client.close()
    summary.seconds = time.perf_counter() - started
    return summary
