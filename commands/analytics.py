"""`helloword report`: the support figures for a period in the terminal, as JSON or as CSV.

helloword report                                  # the last 30 days
helloword report --from 2026-11-01 --to 2026-11-30
helloword report --json > november.json
helloword report --csv november.csv
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from commands.common import open_store
from commerce.analytics import Durations, Report, build_report, period
from config import get_settings
from terminal import fail, out


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def _durations_row(table: Table, label: str, figures: Durations) -> None:
    table.add_row(label, f"median {_duration(figures.median_seconds)} · p90 {_duration(figures.p90_seconds)} (n={figures.count})")


def render(report: Report, out: Console) -> None:
    """The report as rich tables."""
    last_day = (report.end - dt.timedelta(microseconds=1)).date()
    summary = Table(title=f"Support report {report.start.date().isoformat()} – {last_day.isoformat()} (UTC)")
    summary.add_column("figure")
    summary.add_column("value", justify="right")
    summary.add_row("conversations", str(report.conversations))
    summary.add_row("automated resolution", f"{_percent(report.automated_rate)} ({report.automated})")
    summary.add_row("escalation", f"{_percent(report.escalation_rate)} ({report.escalated})")
    _durations_row(summary, "first response", report.first_response)
    _durations_row(summary, "resolution", report.resolution)
    csat = report.csat
    mean = "—" if csat.mean is None else f"{csat.mean:.2f} / 5"
    summary.add_row("CSAT", f"{mean} · {_percent(csat.share_satisfied)} rated 4–5 (n={csat.count})")
    summary.add_row("SLA breaches", str(report.sla_breaches))
    out.print(summary)

    sla = Table(title="SLA compliance by urgency")
    for column in ("urgency", "cases", "met", "breached", "open", "compliance"):
        sla.add_column(column, justify="left" if column == "urgency" else "right")
    colours = {"red": "red", "orange": "dark_orange", "yellow": "yellow", "blue": "blue"}
    for level in report.sla:
        name = f"[{colours.get(level.urgency, 'white')}]{level.urgency}[/]"
        sla.add_row(name, str(level.cases), str(level.met), str(level.breached), str(level.open), _percent(level.compliance))
    out.print(sla)

    for title, counts in (
        ("Conversations by language", report.by_language),
        ("Conversations by intent", report.by_intent),
        ("Conversations by marketplace", report.by_marketplace),
        ("Conversations by carrier", report.by_carrier),
    ):
        table = Table(title=title)
        table.add_column("name")
        table.add_column("conversations", justify="right")
        for name, count in counts.items():
            table.add_row(name, str(count))
        out.print(table)

    if report.flags:
        flags = Table(title="Flags by rule")
        flags.add_column("rule")
        flags.add_column("status")
        flags.add_column("count", justify="right")
        for rule, statuses in report.flags.items():
            for status, count in statuses.items():
                flags.add_row(rule, status, str(count))
        out.print(flags)


@click.command("report")
@click.option("--from", "first_day", metavar="YYYY-MM-DD", help="First day (UTC); default 30 days before --to.")
@click.option("--to", "last_day", metavar="YYYY-MM-DD", help="Last day, included (UTC); default up to now.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path), help="Also write the figures to this CSV file."
)
def report(first_day: str | None, last_day: str | None, as_json: bool, csv_file: Path | None) -> None:
    """Support figures for a period: first response and resolution times, automated resolution
    and escalation rates, SLA compliance by urgency, CSAT, and volumes by language, intent,
    marketplace and carrier."""
    try:
        start, end = period(first_day, last_day, now=dt.datetime.now(dt.UTC))
    except ValueError as error:
        fail(str(error))
    store = open_store(get_settings())
    try:
        with store.read() as session:
            figures = build_report(session, start, end)
    finally:
        store.dispose()
    if csv_file is not None:
        try:
            with csv_file.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["section", "name", "value"])
                writer.writerows(figures.rows())
        except OSError as error:
            fail(f"cannot write {csv_file}: {error}")
    if as_json:
        click.echo(json.dumps(figures.as_json(), indent=2, ensure_ascii=False))
    else:
        render(figures, out)
        if csv_file is not None:
            out.print(f"Figures written to {csv_file}.")
