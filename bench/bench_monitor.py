"""The exception monitor on a large store: 100,000 orders and 1,000,000 tracking events.

Times a full scan (median of 3 runs, each on a store with no flags yet) and an incremental scan
after 1,000 new tracking events (10 runs). The baseline, measured in the same run, is one
``SELECT count(*)`` over the tracking events. Prints a Markdown table in milliseconds.

    python bench/bench_monitor.py [--orders 100000] [--events-per-parcel 10]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _stats import row as stats_row  # noqa: E402

from commerce.db import Store  # noqa: E402
from commerce.monitor import load_rules, scan  # noqa: E402

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
COUNTRIES = (("DE", "+49 151 ", "10115"), ("FR", "+33 6 ", "75002"), ("US", "+1 512 ", "73301"), ("PL", "+48 512 ", "00-950"))
CODES = ("label_created", "picked_up", "in_transit", "arrived_at_hub", "in_transit", "in_transit", "arrived_at_hub", "in_transit")


def _ts(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def build(path: Path, n_orders: int, per_parcel: int) -> None:
    """Customers, one parcel per order with its scans, payments, items and stock, written in bulk."""
    Store(f"sqlite:///{path}").dispose()
    rng = random.Random(11)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.executemany("INSERT INTO warehouses VALUES (?, ?, ?)", [("de-1", "Leipzig", "DE"), ("us-1", "Newark", "US")])
    con.execute("INSERT INTO products (id, name, category, position) VALUES ('p1', 'Shirt', 'apparel', 0)")
    variants = [f"v{i:03d}" for i in range(200)]
    con.executemany(
        "INSERT INTO variants (id, product_id, sku, options, price, available, position) "
        "VALUES (?, 'p1', ?, '{}', '20.00', 1, 0)",
        [(v, f"SKU-{v}") for v in variants],
    )
    con.executemany(
        "INSERT INTO stock_levels (warehouse_id, variant_id, on_hand, reserved) VALUES (?, ?, ?, ?)",
        [(w, v, rng.randint(0, 50), rng.randint(0, 45)) for w in ("de-1", "us-1") for v in variants],
    )
    n_customers = max(1, n_orders // 5)
    customers = []
    for i in range(n_customers):
        cc, phone, postal = COUNTRIES[i % len(COUNTRIES)]
        customers.append(
            (
                f"c{i}",
                "Ann",
                "Lee",
                f"c{i}@example.com",
                f"{phone}{i:07d}",
                "en",
                cc,
                f"Street {i % 90 + 1}",
                "",
                "City",
                "",
                postal,
                "X",
                "0",
                "USD",
                0,
                _ts(NOW - dt.timedelta(days=400)),
            )
        )
    con.executemany(f"INSERT INTO customers VALUES ({','.join('?' * 17)})", customers)
    con.executemany(
        "INSERT INTO payment_methods (id, customer_id, kind, position) VALUES (?, ?, 'paypal', 0)",
        [(f"pm{i}", f"c{i}") for i in range(n_customers)],
    )
    orders, items, payments, shipments, events = [], [], [], [], []
    event_id = 0
    for i in range(n_orders):
        cid = rng.randrange(n_customers)
        cc, _, postal = COUNTRIES[cid % len(COUNTRIES)]
        placed = NOW - dt.timedelta(days=rng.uniform(1, 120))
        oid = f"#B{i:07d}"
        delivered = rng.random() < 0.7
        status = "delivered" if delivered else "processed"
        ip = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        orders.append(
            (
                oid,
                f"c{cid}",
                "own_site",
                "EUR",
                "1",
                status,
                0,
                _ts(placed),
                "40.00",
                "0",
                "0",
                "40.00",
                "Ann Lee",
                f"Street {cid % 90 + 1}",
                "",
                "City",
                "",
                postal,
                "X",
                cc,
                ip,
                None,
                None,
                None,
                None,
            )
        )
        items.append((oid, 0, "p1", rng.choice(variants), "Shirt", "20.00", 2, "{}"))
        payments.append((oid, 0, "payment", "succeeded", "40.00", f"pm{cid}", _ts(placed + dt.timedelta(seconds=20))))
        shipped = placed + dt.timedelta(hours=rng.uniform(4, 48))
        promised = (shipped + dt.timedelta(days=5)).date().isoformat()
        step = dt.timedelta(hours=rng.uniform(3, 20))
        last = shipped + step * (per_parcel - 1)
        is_done = delivered and last < NOW
        shipments.append(
            (
                i + 1,
                oid,
                "dhl",
                "standard",
                f"JD{i:012d}",
                "delivered" if is_done else "in_transit",
                "[]",
                "de-1",
                _ts(shipped),
                promised,
                _ts(last) if is_done else None,
                0,
            )
        )
        for k in range(per_parcel):
            event_id += 1
            code = "delivered" if is_done and k == per_parcel - 1 else CODES[k % len(CODES)]
            events.append((event_id, i + 1, _ts(min(NOW, shipped + step * k)), code, "scan", "hub", "DE"))
    con.executemany(f"INSERT INTO orders VALUES ({','.join('?' * 25)})", orders)
    con.executemany(
        "INSERT INTO order_items (order_id, position, product_id, variant_id, name, unit_price, quantity, options) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        items,
    )
    con.executemany(
        "INSERT INTO payment_transactions (order_id, position, kind, status, amount, payment_method_id, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        payments,
    )
    con.executemany(
        "INSERT INTO shipments (id, order_id, carrier, service_level, tracking_number, status, item_ids, warehouse_id, "
        "shipped_at, promised_delivery_date, delivered_at, is_reshipment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        shipments,
    )
    con.executemany(
        "INSERT INTO tracking_events (id, shipment_id, occurred_at, code, description, location, country_code) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        events,
    )
    con.commit()
    con.execute("ANALYZE")
    con.close()


def add_events(path: Path, n: int, at: dt.datetime, rng: random.Random) -> None:
    con = sqlite3.connect(path)
    shipments = con.execute("SELECT max(id) FROM shipments").fetchone()[0]
    con.executemany(
        "INSERT INTO tracking_events (shipment_id, occurred_at, code, description, location, country_code) "
        "VALUES (?, ?, 'in_transit', 'scan', 'hub', 'DE')",
        [(rng.randint(1, shipments), _ts(at)) for _ in range(n)],
    )
    con.commit()
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--events-per-parcel", type=int, default=10)
    args = parser.parse_args()
    rules = load_rules()
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "template.db"
        started = time.perf_counter()
        build(template, args.orders, args.events_per_parcel)
        took = time.perf_counter() - started
        print(f"built {args.orders:,} orders and {args.orders * args.events_per_parcel:,} tracking events in {took:.1f} s")

        work = Path(tmp) / "work.db"
        baseline: list[float] = []
        full: list[float] = []
        found: dict[str, int] = {}
        for _ in range(3):
            shutil.copy(template, work)
            store = Store(f"sqlite:///{work}")
            with store.engine.connect() as conn:
                start = time.perf_counter()
                conn.exec_driver_sql("SELECT count(*) FROM tracking_events").scalar()
                baseline.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            result = scan(store, rules, NOW, incremental=False)
            full.append((time.perf_counter() - start) * 1000)
            found = result.new_flags
            store.dispose()

        rng = random.Random(5)
        incremental: list[float] = []
        store = Store(f"sqlite:///{work}")
        for i in range(10):
            at = NOW + dt.timedelta(minutes=10 * (i + 1))
            add_events(work, 1000, at - dt.timedelta(minutes=1), rng)
            start = time.perf_counter()
            scan(store, rules, at, incremental=True)
            incremental.append((time.perf_counter() - start) * 1000)
        store.dispose()

    print(f"flags raised by the full scan: {found}")
    print()
    print(f"| {'ms':<40} | {'median':>8} | {'p95':>8} | {'ratio':>7} |")
    print(f"| {'-' * 40} | {'-' * 8} | {'-' * 8} | {'-' * 7} |")
    print(stats_row("count(*) over tracking_events (baseline)", baseline, baseline))
    print(stats_row("full scan", full, baseline))
    print(stats_row("incremental scan, 1,000 new events", incremental, baseline))


if __name__ == "__main__":
    main()
