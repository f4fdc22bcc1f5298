"""`helloword demo-data`, `status`, `demo-customers`, `import …` and `export …`: what the store holds
and how records get in and out."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table
from sqlalchemy import func, select

from commands.common import open_store
from config import get_settings
from terminal import fail, out, progress_bar


@click.command("demo-data")
@click.option("--seed", default=7, show_default=True, help="Same seed, same shop.")
@click.option("--customers", default=500, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--orders", default=2000, show_default=True, type=click.IntRange(1, 10_000_000))
def demo_data(seed: int, customers: int, orders: int) -> None:
    """Fill the store with a demo shop (replaces what is there)."""
    from commerce.demo import generate_demo_data

    settings = get_settings()
    store = open_store(settings)
    with progress_bar("Generating orders") as update:
        summary = generate_demo_data(store, seed=seed, customers=customers, orders=orders, progress=update)
    out.print(
        f"Demo shop ready in {settings.resolved_database_url}: {summary.customers} customers, "
        f"{summary.orders} orders, {summary.products} products ({summary.variants} variants), "
        f"{summary.shipments} parcels with {summary.tracking_events} tracking events."
    )
    out.print(
        f"Countries {', '.join(summary.countries)}; marketplaces {', '.join(summary.marketplaces)}; "
        f"carriers {', '.join(summary.carriers)}; currencies {', '.join(summary.currencies)}."
    )
    out.print("Cases to work on: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in summary.messy.items()))


@click.command("status")
def status() -> None:
    """What the store holds."""
    from commerce import models as m

    settings = get_settings()
    store = open_store(settings)
    table = Table(title=f"Store {settings.resolved_database_url}")
    table.add_column("records")
    table.add_column("count", justify="right")
    with store.read() as session:
        for label, model in (
            ("customers", m.Customer),
            ("orders", m.Order),
            ("products", m.Product),
            ("variants", m.Variant),
            ("parcels", m.Shipment),
            ("tracking events", m.TrackingEvent),
            ("refunds", m.Refund),
            ("open cases", m.Case),
            ("audit ledger entries", m.AuditEntry),
        ):
            query = select(func.count()).select_from(model)
            if model is m.Case:
                query = query.where(m.Case.status != m.CaseStatus.RESOLVED)
            table.add_row(label, str(session.scalar(query) or 0))
        statuses = session.execute(select(m.Order.status, func.count()).group_by(m.Order.status)).all()
    out.print(table)
    if statuses:
        out.print("Orders by status: " + ", ".join(f"{s} {n}" for s, n in sorted(statuses, key=lambda r: -r[1])))


@click.command("demo-customers")
@click.option("--count", default=5, show_default=True, type=click.IntRange(1, 50))
def demo_customers(count: int) -> None:
    """A few customers and orders to try the chat with (order number and email verify them)."""
    from commerce.demo import demo_customers as pick

    store = open_store(get_settings())
    table = Table(title="Try the chat as one of these customers")
    for column in ("language", "order", "email", "status", "what to ask"):
        table.add_column(column)
    with store.read() as session:
        for row in pick(session, count):
            table.add_row(row["language"], row["order_id"], row["email"], row["status"], row["situation"])
    out.print(table)


@click.group("import")
def import_group() -> None:
    """Load records from another format into the store."""


@import_group.command("tau-retail")
@click.argument("directory", type=click.Path(path_type=Path))
def import_tau(directory: Path) -> None:
    """Load users.json, orders.json and products.json (tau-retail format); replaces the store."""
    from commerce.tau_retail import TauRetailFormatError, import_tau_retail

    store = open_store(get_settings())
    try:
        with progress_bar("Importing") as update:
            summary = import_tau_retail(store, directory, progress=update)
    except TauRetailFormatError as e:
        fail(str(e))
    out.print(
        f"Imported {summary.users} customers, {summary.orders} orders, {summary.products} products "
        f"({summary.variants} variants) in {summary.seconds:.2f} s."
    )


@click.group("export")
def export_group() -> None:
    """Write the store out in another format."""


@export_group.command("tau-retail")
@click.argument("out_dir", type=click.Path(path_type=Path))
def export_tau(out_dir: Path) -> None:
    """Write users.json, orders.json and products.json (tau-retail format)."""
    from commerce.tau_retail import export_tau_retail

    store = open_store(get_settings())
    try:
        export_tau_retail(store, out_dir)
    except OSError as e:
        fail(f"{out_dir}: {e.strerror or e}")
    out.print(f"Wrote users.json, orders.json and products.json to {out_dir}.")
