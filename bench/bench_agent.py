"""The offline agent on the demo shop: turn latency in-process, and triage throughput.

Turn latency is measured per kind of turn against a baseline measured in the same run (one
`get_order` tool call, the cheapest thing a turn about an order must do). Triage throughput
is compared with language detection alone over the same messages.

    python bench/bench_agent.py [--turns 200] [--triage 2000]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _stats import header, timed  # noqa: E402
from _stats import row as stats_row  # noqa: E402
from sqlalchemy import select  # noqa: E402

from agent.language import detect_language  # noqa: E402
from agent.service import SupportAgent  # noqa: E402
from agent.triage import triage_lines  # noqa: E402
from commerce.db import Store  # noqa: E402
from commerce.demo import REFERENCE_NOW, generate_demo_data  # noqa: E402
from commerce.models import Order, OrderStatus, ShipmentStatus  # noqa: E402
from config import Settings  # noqa: E402
from tools import Caller, Toolbox  # noqa: E402

MESSAGES = [
    ("en", "Where is my parcel? It should have arrived by now."),
    ("es", "¿Dónde está mi pedido? Todavía no ha llegado."),
    ("fr", "Bonjour, je voudrais annuler ma commande."),
    ("de", "Das Paket kam beschädigt an, was nun?"),
    ("it", "Vorrei restituire le scarpe, sono troppo piccole."),
    ("pt", "Quero mudar o endereço de entrega."),
    ("nl", "Mijn pakket is nog steeds niet aangekomen."),
    ("pl", "Chcę zwrócić zamówienie, jak to zrobić?"),
    ("tr", "Siparişim nerede? Hâlâ gelmedi."),
    ("ru", "Где мой заказ? Уже две недели жду."),
    ("ar", "أين طلبي؟ لم يصل بعد"),
    ("zh", "我的包裹到哪里了？还没收到"),
    ("ja", "注文した商品がまだ届きません"),
    ("ko", "주문한 상품이 아직 도착하지 않았어요"),
]


def row(name: str, samples: list[float], baseline: list[float] | None) -> str:
    return stats_row(name, samples, baseline, width=40, digits=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--triage", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), cache_dir=ROOT / ".cache" / "models")
        store = Store(settings.resolved_database_url)
        generate_demo_data(store)
        agent = SupportAgent(settings, store=store, clock=lambda: REFERENCE_NOW)
        with store.read() as s:
            orders = s.scalars(select(Order).order_by(Order.id)).all()
            in_transit = [
                (o.id, o.customer.email, o.customer_id)
                for o in orders
                if o.shipments and o.shipments[-1].status == ShipmentStatus.IN_TRANSIT
            ][: args.turns]
            pending = [(o.id, o.customer.email) for o in orders if o.status == OrderStatus.PENDING][: args.turns]
        # Warm the models and the caches once, outside the measurements.
        agent.handle("warm-up", "Where is my order " + in_transit[0][0] + "? " + in_transit[0][1])
        agent.handle("warm-up-2", "what is your return policy?")

        n = min(args.turns, len(in_transit), len(pending))
        # Every measured turn embeds its message: the vectors of earlier turns are forgotten.
        memory = agent.deps.classifier.embedder

        def fresh(turn: Any) -> Any:
            def run(i: int) -> Any:
                if hasattr(memory, "forget"):
                    memory.forget()
                return turn(i)

            return run

        base = timed(
            lambda i: Toolbox(store, Caller(customer_id=in_transit[i][2])).call("get_order", {"order_id": in_transit[i][0]}), n
        )
        track = timed(
            fresh(lambda i: agent.handle(f"t{i}", f"Where is my order {in_transit[i][0]}? My email is {in_transit[i][1]}")), n
        )
        propose = timed(fresh(lambda i: agent.handle(f"c{i}", f"Please cancel order {pending[i][0]}, email {pending[i][1]}")), n)
        confirm = timed(fresh(lambda i: agent.handle(f"c{i}", "yes")), n)
        policy = timed(fresh(lambda i: agent.handle(f"p{i}", MESSAGES[i % len(MESSAGES)][1] + " What is your policy?")), n)
        print(f"offline agent on the demo shop (2,000 orders); {n} turns of each kind\n")
        print(header("turn (ms)"))
        print(row("baseline: one get_order tool call", base, None))
        print(row("verify + track an order", track, base))
        print(row("verify + propose a cancellation", propose, base))
        print(row("'yes': cancel and refund", confirm, base))
        print(row("policy question (knowledge base)", policy, base))
        all_turns = track + propose + confirm + policy
        print(row("all turns", all_turns, base))

        # Every message different (a counter in brackets), so none is answered from remembered vectors.
        lines = [json.dumps({"id": i, "text": f"{MESSAGES[i % len(MESSAGES)][1]} ({i})"}) for i in range(args.triage)]
        start = time.perf_counter()
        for i in range(args.triage):
            detect_language(MESSAGES[i % len(MESSAGES)][1])
        detect_seconds = time.perf_counter() - start
        start = time.perf_counter()
        triaged = list(triage_lines(lines, settings))
        triage_seconds = time.perf_counter() - start
        assert len(triaged) == args.triage
        print(f"\n| triage ({args.triage} messages)               | msg/s    | ratio  |")
        print("|------------------------------------------|----------|--------|")
        print(f"| {'baseline: language detection only':<40} | {args.triage / detect_seconds:8.0f} |      - |")
        print(
            f"| {'triage (language, intent, urgency, order)':<40} | {args.triage / triage_seconds:8.0f} | "
            f"{detect_seconds / triage_seconds:6.3f}x |"
        )
        agent.close()
        store.dispose()


if __name__ == "__main__":
    main()
