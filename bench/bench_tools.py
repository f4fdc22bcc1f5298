"""Tool-call latency on the demo store, and the time to import the tau-retail data.

Prints median and p95 per tool, with the ratio to a baseline measured in the same run:
a bare SQLAlchemy primary-key read for read tools, a bare one-row write transaction for
write tools, and parsing the three JSON files for the import.

    python bench/bench_tools.py [--calls 300] [--tau-retail DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _stats import header, timed  # noqa: E402
from _stats import row as stats_row  # noqa: E402
from sqlalchemy import select  # noqa: E402

from commerce.db import Store  # noqa: E402
from commerce.demo import generate_demo_data  # noqa: E402
from commerce.models import AuditEntry, Customer, Order, OrderStatus, ShipmentStatus  # noqa: E402
from tools import Caller, Toolbox  # noqa: E402


def row(name: str, samples: list[float], baseline: list[float] | None) -> str:
    return stats_row(name, samples, baseline, width=34, digits=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--tau-retail", type=Path, default=ROOT.parent / "shared" / "data" / "tau-retail" / "data")
    args = parser.parse_args()
    n = args.calls

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/demo.db")
        started = time.perf_counter()
        summary = generate_demo_data(store)
        print(
            f"demo store: {summary.customers} customers, {summary.orders} orders "
            f"(generated in {time.perf_counter() - started:.1f} s); {n} calls per tool\n"
        )
        with store.read() as s:
            orders = s.scalars(select(Order).order_by(Order.id)).all()
            order_ids = [o.id for o in orders]
            owners = {o.id: o.customer_id for o in orders}
            delivered = [o.id for o in orders if o.status == OrderStatus.DELIVERED and o.total >= 1000]
            movable = [
                o.id
                for o in orders
                if o.status == OrderStatus.PENDING and all(sh.status == ShipmentStatus.LABEL_CREATED for sh in o.shipments)
            ]
            shipped = [o.id for o in orders if o.shipments]
            customers = s.scalars(select(Customer).order_by(Customer.id)).all()
            emails = [c.email for c in customers]
            customer_ids = [c.id for c in customers]
            product_id = orders[0].items[0].product_id

        def box_for(order_id: str) -> Toolbox:
            return Toolbox(store, Caller(actor="bench", customer_id=owners[order_id]))

        staff = Toolbox(store, Caller(actor="bench"))

        def bare_read(i: int) -> None:
            with store.read() as s:
                s.get(Order, order_ids[i % len(order_ids)])

        def bare_write(i: int) -> None:
            with store.write() as s:
                s.add(AuditEntry(tool="bench", arguments={}, arguments_digest="-", ok=True, result={}))

        read_base = timed(bare_read, n)
        write_base = timed(bare_write, n)
        reads = {
            "get_order": lambda i: box_for(order_ids[i % len(order_ids)]).call(
                "get_order", {"order_id": order_ids[i % len(order_ids)]}
            ),
            "track_shipment": lambda i: box_for(shipped[i % len(shipped)]).call(
                "track_shipment", {"order_id": shipped[i % len(shipped)]}
            ),
            "get_customer": lambda i: staff.call("get_customer", {"customer_id": customer_ids[i % len(customer_ids)]}),
            "find_customer_by_email": lambda i: staff.call("find_customer_by_email", {"email": emails[i % len(emails)]}),
            "get_product": lambda i: staff.call("get_product", {"product_id": product_id}),
        }

        def refund(i: int) -> None:
            oid = delivered[i % len(delivered)]
            outcome = box_for(oid).call(
                "issue_refund", {"order_id": oid, "amount": "1", "reason": "bench"}, idempotency_key=f"bench-refund-{i}"
            )
            assert outcome.ok, outcome.error

        def refund_again(i: int) -> None:
            oid = delivered[i % len(delivered)]
            outcome = box_for(oid).call(
                "issue_refund", {"order_id": oid, "amount": "1", "reason": "bench"}, idempotency_key=f"bench-refund-{i}"
            )
            assert outcome.replayed

        def coupon(i: int) -> None:
            cid = customer_ids[i % len(customer_ids)]
            staff.call(
                "issue_coupon", {"customer_id": cid, "percent_off": 10, "reason": "bench"}, idempotency_key=f"bench-coupon-{i}"
            )

        def address(i: int) -> None:
            oid = movable[i % len(movable)]
            new = {
                "address1": f"{i} Harbour Road",
                "city": "Dublin",
                "postal_code": "D02 X285",
                "country": "Ireland",
                "country_code": "IE",
            }
            outcome = box_for(oid).call(
                "change_shipping_address", {"order_id": oid, "address": new}, idempotency_key=f"bench-address-{i}"
            )
            assert outcome.ok, outcome.error

        writes = {
            "issue_refund (partial)": refund,
            "issue_refund (same key again)": refund_again,
            "issue_coupon": coupon,
            "change_shipping_address": address,
        }
        print(header("tool call (ms)", width=34, digits=2))
        print(row("baseline: bare primary-key read", read_base, None))
        for name, fn in reads.items():
            print(row(name, timed(fn, n), read_base))
        print(row("baseline: bare one-row write", write_base, None))
        for name, fn in writes.items():
            print(row(name, timed(fn, n), write_base))
        store.dispose()

    if (args.tau_retail / "users.json").exists():
        from commerce.tau_retail import import_tau_retail

        parse, full = [], []
        for _ in range(3):
            start = time.perf_counter()
            for name in ("users.json", "orders.json", "products.json"):
                json.loads((args.tau_retail / name).read_text())
            parse.append((time.perf_counter() - start) * 1000)
            with tempfile.TemporaryDirectory() as tmp:
                store = Store(f"sqlite:///{tmp}/tau.db")
                start = time.perf_counter()
                import_tau_retail(store, args.tau_retail)
                full.append((time.perf_counter() - start) * 1000)
                store.dispose()
        print("\n" + header("tau-retail import (ms, 3 runs)", width=34, digits=2))
        print(row("baseline: parse the three files", parse, None))
        print(row("import into SQLite", full, parse))
    else:
        print(f"\n(tau-retail data not found at {args.tau_retail}; import not measured)")


if __name__ == "__main__":
    main()
