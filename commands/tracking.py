"""`helloword track`: carrier tracking events into the store (a file or stdin of JSON lines), and
a simulated feed of the hours ahead for the demo shop."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click
from rich.table import Table

from commands.common import open_store
from config import get_settings
from terminal import console, fail, out, progress_bar

__all__ = ["track"]


@click.group("track")
def track() -> None:
    """Carrier tracking events: ingest a feed, or simulate the next hours of one."""


@track.command("ingest")
@click.argument("source", metavar="FILE", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def ingest(source: str, as_json: bool) -> None:
    """Store carrier events from FILE (JSON lines; - reads stdin) and move parcel statuses.

    Lines that cannot be used are counted and listed, never fatal; the same feed ingested twice
    adds nothing."""
    from commerce.tracking import ingest_events

    if source == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as e:
            fail(f"cannot read {source}: {e.strerror or e}")
    # JSON strings may hold U+2028 and friends, so only a newline ends a line.
    lines = data.decode("utf-8", errors="replace").split("\n")
    store = open_store(get_settings())
    with progress_bar("Ingesting tracking events") as update:
        result = ingest_events(store, lines, progress=update)
    if as_json:
        click.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Tracking events from {'stdin' if source == '-' else source}")
    table.add_column("")
    table.add_column("count", justify="right")
    for label, value in (
        ("lines read", result.read),
        ("events stored", result.stored),
        ("  of which older than the parcel's newest", result.late),
        ("duplicates skipped", result.duplicates),
        ("lines rejected", result.rejected),
        ("warnings", result.warnings),
        ("parcels with a new status", result.shipments_updated),
        ("orders now delivered", result.orders_delivered),
    ):
        table.add_row(label, str(value))
    out.print(table)
    for title, notes, total in (
        ("Rejected", result.rejections, result.rejected),
        ("Warnings", result.warning_notes, result.warnings),
    ):
        if notes:
            more = f" (first {len(notes)} of {total})" if total > len(notes) else ""
            out.print(f"{title}{more}:", highlight=False)
            for note in notes:
                out.print(f"  line {note.line}: {note.reason}", highlight=False, markup=False, soft_wrap=True)


@track.command("simulate")
@click.option("--hours", default=48.0, show_default=True, type=click.FloatRange(min=0, min_open=True, max=24 * 365))
@click.option("--seed", default=1, show_default=True, type=int, help="Same seed, same events.")
@click.option(
    "--start",
    default=None,
    help="ISO-8601 time the hours begin at (default: the demo shop's present, or the newest event in the store).",
)
@click.option(
    "--out",
    "out_file",
    default="-",
    show_default=True,
    type=click.Path(dir_okay=False, allow_dash=True, writable=True),
    help="Where to write the JSON lines.",
)
def simulate(hours: float, seed: int, start: str | None, out_file: str) -> None:
    """Carrier events for the parcels on their way over the next HOURS, as JSON lines, messy as
    real feeds are; feed them to `helloword track ingest`."""
    from commerce.simulator import next_start, simulate_events

    store = open_store(get_settings())
    if start is None:
        begin = next_start(store)
    else:
        try:
            begin = dt.datetime.fromisoformat(start)
        except ValueError:
            fail(f"--start {start!r} is not an ISO-8601 time (e.g. 2026-11-20T12:00:00+00:00)")
    events = simulate_events(store, start=begin, hours=hours, seed=seed)
    text = "".join(json.dumps(event, ensure_ascii=False) + "\n" for event in events)
    if out_file == "-":
        click.echo(text, nl=False)
        return
    try:
        Path(out_file).write_text(text, encoding="utf-8")
    except OSError as e:
        fail(f"cannot write {out_file}: {e.strerror or e}")
    console.print(f"{len(events)} tracking events from {begin.isoformat()} over {hours:g} hours written to {out_file}.")
