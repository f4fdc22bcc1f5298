"""`helloword monitor …`: run the exception monitor, give feedback on its flags, see each rule's precision."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from commands.common import open_store
from config import get_settings
from terminal import fail, out, progress_bar

if TYPE_CHECKING:
    from commerce.db import Store
    from commerce.monitor import MonitorRules


def _store() -> Store:
    return open_store(get_settings())


def _rules(path: Path | None) -> MonitorRules:
    from commerce.monitor import load_rules

    try:
        return load_rules(path)
    except (ValueError, FileNotFoundError) as e:
        fail(str(e))


monitor = click.Group("monitor", help="The exception monitor: flags stalled parcels, risky orders, payment and stock problems.")


@monitor.command("run")
@click.option("--full", is_flag=True, help="Look at every record, not only what changed since the last scan.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.option("--rules", "rules_path", type=click.Path(path_type=Path), default=None, help="A seller's rules file (YAML).")
def run(full: bool, as_json: bool, rules_path: Path | None) -> None:
    """Scan orders, payments, stock and tracking events and raise a flag for each new problem."""
    from agent.policy import load_profile
    from commerce.models import utcnow
    from support.monitoring import scan_and_act

    settings = get_settings()
    rules = _rules(rules_path)
    try:
        profile = load_profile(settings.policy_profile)
    except (ValueError, FileNotFoundError) as e:
        fail(f"cannot load the policy profile {settings.policy_profile}: {e}")
    store = _store()
    try:
        with progress_bar("Scanning") as update:
            result = scan_and_act(store, rules, utcnow(), profile, incremental=not full, progress=update)
    finally:
        store.dispose()
    if as_json:
        click.echo(json.dumps(result.as_json(), ensure_ascii=False))
        return
    table = Table(title=f"New flags ({result.scanned_orders} orders scanned)")
    table.add_column("rule")
    table.add_column("urgency")
    table.add_column("playbook")
    table.add_column("new", justify="right")
    for name, count in sorted(result.new_flags.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(name, rules[name].urgency.value, rules[name].playbook, str(count))
    out.print(table if result.new_flags else f"No new flags ({result.scanned_orders} orders scanned).")
    for playbook, count in sorted(result.playbooks_run.items()):
        out.print(f"playbook {playbook}: {count}")


@monitor.command("feedback")
@click.argument("flag_id", type=int)
@click.argument("verdict", type=click.Choice(["confirmed", "false_alarm"]))
@click.option("--by", default=None, help="Who judged the flag (default: the current user).")
def feedback(flag_id: int, verdict: str, by: str | None) -> None:
    """Mark flag FLAG_ID as confirmed or a false alarm."""
    import getpass

    from commerce.monitor import record_feedback

    store = _store()
    try:
        flag = record_feedback(store, flag_id, verdict, by or getpass.getuser())
    except LookupError as e:
        fail(str(e))
    finally:
        store.dispose()
    out.print(f"flag {flag.id} ({flag.rule}, {flag.subject_key}): {flag.status.value}")


@monitor.command("precision")
@click.option(
    "--min", "min_precision", type=float, default=0.6, show_default=True, help="Precision below which to suggest a threshold."
)
@click.option("--rules", "rules_path", type=click.Path(path_type=Path), default=None, help="A seller's rules file (YAML).")
def precision(min_precision: float, rules_path: Path | None) -> None:
    """Each rule's flags, confirmed and false alarms, precision and a suggested threshold."""
    from commerce.monitor import rule_precision

    rules = _rules(rules_path)
    store = _store()
    try:
        rows = rule_precision(store, min_precision, rules)
    finally:
        store.dispose()
    table = Table(title="Rule precision")
    for column in ("rule", "flags", "confirmed", "false alarms", "precision", "threshold", "suggested"):
        table.add_column(column, justify="left" if column in ("rule", "threshold") else "right")
    for r in rows:
        shown = "-" if r["precision"] is None else f"{r['precision']:.2f}"
        threshold = f"{r['threshold']} = {r['current']:g}" if r["threshold"] and r["current"] is not None else "-"
        suggested = "-" if r["suggested"] is None else f"{r['suggested']:g}"
        style = "red" if r["below_level"] else None
        table.add_row(
            r["rule"], str(r["flags"]), str(r["confirmed"]), str(r["false_alarms"]), shown, threshold, suggested, style=style
        )
    out.print(table)
