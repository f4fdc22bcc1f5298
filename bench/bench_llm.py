"""The LLM brain's own cost, with a scripted OpenAI-compatible server on 127.0.0.1 that
answers instantly: time per turn (everything but the model's thinking: prompt building,
HTTP, checks, the graph, the store), model calls per turn, and prompt tokens per turn over
a 10-turn conversation. The baseline is the offline brain serving the same turns in the
same run.

    python bench/bench_llm.py [--conversations 30]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _stats import header, row  # noqa: E402
from sqlalchemy import select  # noqa: E402

from agent.offline import OfflineBrain  # noqa: E402
from agent.service import SupportAgent  # noqa: E402
from commerce.db import Store  # noqa: E402
from commerce.demo import REFERENCE_NOW, generate_demo_data  # noqa: E402
from commerce.models import Order, OrderStatus  # noqa: E402
from config import Settings  # noqa: E402
from evals.scripted_model import Reply, ScriptedModelServer, last_user_text, system_text  # noqa: E402

ORDER_IN_PROMPT = re.compile(r'"order_id":"(#?[A-Za-z0-9-]+)"')
CITABLE = re.compile(r"^\[\[([^\]]+)\]\]", re.MULTILINE)


def agent_model(request: dict[str, Any]) -> Reply:
    """An instant agent model: proposes a cancellation when asked, cites policy when it has a
    passage, and otherwise answers briefly in English."""
    text = last_user_text(request).lower()
    system = system_text(request)
    if request.get("response_format"):  # the understanding call of HELLOWORD_LLM_UNDERSTANDING=model
        intent = "cancel_order" if "cancel" in text else "policy_question" if "policy" in text else "track_order"
        return Reply(json.dumps({"language": "en", "intent": intent, "urgency": "blue"}))
    if "cancel" in text and (match := ORDER_IN_PROMPT.search(system)):
        return Reply(
            "I can cancel this order and refund it in full. Shall I go ahead?",
            tool_calls=[{"name": "cancel_order", "arguments": {"order_id": match.group(1), "reason": "no longer needed"}}],
        )
    if (cited := CITABLE.search(system)) and ("policy" in text or "return" in text):
        return Reply(f"Here is what our policy says on this, in short: items can be sent back as described [[{cited.group(1)}]].")
    return Reply("Thanks for the details. Your order is in our system and I am happy to help with anything else you need.")


def conversation(order_id: str, email: str) -> list[str]:
    return [
        f"Hello, where is my order {order_id}? My email is {email}",
        "Can you tell me when it will arrive exactly?",
        "Also, what is your return policy for shoes?",
        "And how long do refunds take to arrive on a card?",
        "Please cancel the order, I don't need it anymore.",
        "yes",
        "Thanks. Do you ship to Switzerland as well?",
        "Can I change the delivery address on future orders?",
        "What is the return policy if the box was opened?",
        "Great, thank you for your help!",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ScriptedModelServer(agent_model) as server:
        base = Settings(data_dir=Path(tmp), cache_dir=ROOT / ".cache" / "models")
        store = Store(base.resolved_database_url)
        generate_demo_data(store)
        with store.read() as s:
            pending = [
                (o.id, o.customer.email)
                for o in s.scalars(select(Order).where(Order.status == OrderStatus.PENDING).order_by(Order.id))
            ][: 2 * args.conversations + 2]
        llm_settings = base.model_copy(update={"brain": "llm", "llm_base_url": server.base_url, "llm_api_key": "bench"})
        offline = SupportAgent(base, store=store, brain=OfflineBrain(), clock=lambda: REFERENCE_NOW)
        llm = SupportAgent(llm_settings, store=store, clock=lambda: REFERENCE_NOW)
        llm_first_call = SupportAgent(
            llm_settings.model_copy(update={"llm_understanding": "model"}), store=store, clock=lambda: REFERENCE_NOW
        )
        # Warm up the models, the knowledge base and the HTTP connection outside the measurements.
        for agent in (offline, llm, llm_first_call):
            for text in conversation(*pending[-1])[:4]:
                agent.handle(f"warm-{id(agent)}", text)

        def run(
            agent: SupportAgent, prefix: str, orders: list[tuple[str, str]], offset: int
        ) -> tuple[list[float], list[list[int]], list[int]]:
            times: list[float] = []
            prompt_tokens: list[list[int]] = []
            calls: list[int] = []
            for i, (order_id, email) in enumerate(orders):
                tokens = []
                for text in conversation(order_id, email):
                    start = time.perf_counter()
                    turn = agent.handle(f"{prefix}{offset + i}", text)
                    times.append((time.perf_counter() - start) * 1000)
                    calls.append(turn.usage.get("model_calls", 0))
                    tokens.append(turn.usage.get("prompt_tokens", 0))
                prompt_tokens.append(tokens)
            return times, prompt_tokens, calls

        n = min(args.conversations, (len(pending) - 1) // 3)  # each conversation cancels its own order
        offline_times: list[float] = []
        llm_times: list[float] = []
        first_times: list[float] = []
        llm_tokens: list[list[int]] = []
        first_tokens: list[list[int]] = []
        llm_calls: list[int] = []
        first_calls: list[int] = []
        # Conversations of the three agents take turns, so a busy moment weighs on all of them alike.
        for i in range(n):
            offline_times += run(offline, "off", [pending[i]], i)[0]
            times, tokens, calls = run(llm, "llm", [pending[n + i]], i)
            llm_times, llm_tokens, llm_calls = llm_times + times, llm_tokens + tokens, llm_calls + calls
            times, tokens, calls = run(llm_first_call, "llm2-", [pending[2 * n + i]], i)
            first_times, first_tokens, first_calls = first_times + times, first_tokens + tokens, first_calls + calls
        turns = len(llm_times)
        print(f"LLM brain against a scripted model that answers instantly; {n} conversations of 10 turns ({turns} turns)\n")
        print(header("turn (ms)"))
        print(row("baseline: offline brain, same turns", offline_times, None))
        print(row("LLM brain, local understanding", llm_times, offline_times))
        print(row("LLM brain, understanding by a first call", first_times, offline_times))
        overhead = [t - o for t, o in zip(sorted(llm_times), sorted(offline_times), strict=True)]
        print(f"\nextra time per turn over the offline brain (median): {statistics.median(overhead):.1f} ms")
        print(f"model calls per turn, local understanding: mean {statistics.mean(llm_calls):.2f} (max {max(llm_calls)})")
        print(f"model calls per turn, first-call understanding: mean {statistics.mean(first_calls):.2f} (max {max(first_calls)})")
        first_total = statistics.mean(sum(c) for c in first_tokens)
        print(f"prompt tokens per 10-turn conversation, first-call understanding: mean {first_total:.0f}")
        per_turn = [round(statistics.mean(c[i] for c in llm_tokens)) for i in range(10)]
        print("prompt tokens per turn, turns 1-10 of the conversation (mean; 0 = no model call):")
        print("  " + json.dumps(per_turn))
        print(f"prompt tokens per 10-turn conversation: mean {statistics.mean(sum(c) for c in llm_tokens):.0f}")
        offline.close()
        llm.close()
        llm_first_call.close()
        store.dispose()


if __name__ == "__main__":
    main()
