"""`helloword tools …`: list the agent's typed tools, print their schemas, call one."""

from __future__ import annotations

import json
import sys

import click
from rich.table import Table

from commands.common import open_store, parse_json_object
from config import get_settings
from terminal import fail, out


@click.group("tools")
def tools_group() -> None:
    """The typed tools the agent acts with."""


@tools_group.command("list")
def tools_list() -> None:
    """Every tool, read or write, with the first line of its description."""
    from tools import REGISTRY

    table = Table()
    for column in ("tool", "kind", "what it does"):
        table.add_column(column)
    for spec in REGISTRY.values():
        table.add_row(spec.name, spec.kind.value, spec.description.splitlines()[0])
    out.print(table)


@tools_group.command("schemas")
def tools_schemas() -> None:
    """The JSON schemas an LLM needs (OpenAI function-calling format)."""
    from tools import tool_schemas

    click.echo(json.dumps(tool_schemas(), indent=2))


@tools_group.command("call")
@click.argument("name")
@click.argument("arguments", default="{}")
@click.option("--key", "idempotency_key", help="Idempotency key (required for writes).")
@click.option("--as-customer", "customer_id", help="Act for this verified customer (ownership checks apply).")
@click.option(
    "--approve",
    is_flag=True,
    help="Act as a staff member approving the call: an action the policy holds for a human runs (refusals still stand).",
)
def tools_call(name: str, arguments: str, idempotency_key: str | None, customer_id: str | None, approve: bool) -> None:
    """Call one tool with JSON arguments, through the policy gate of the configured profile."""
    from agent.policy import PolicyGate, ProfileError, load_profile
    from agent.runner import STARTED_BY_CLI, ActionRunner, Proposal

    settings = get_settings()
    args = parse_json_object(arguments, "ARGUMENTS")
    try:
        gate = PolicyGate(load_profile(settings.policy_profile))
    except ProfileError as e:
        fail(str(e))
    proposal = Proposal(
        name, args, STARTED_BY_CLI, customer_id=customer_id, identity_verified=True, confirmed=True, approved=approve
    )
    call = ActionRunner(open_store(settings), gate).run(proposal, key=idempotency_key)
    if call.outcome is None:
        click.echo(json.dumps({"tool": name, "ok": False, "gate": call.decision.model_dump(mode="json")}, indent=2))
        sys.exit(1)
    outcome = call.outcome
    click.echo(json.dumps(outcome.model_dump(mode="json"), indent=2, ensure_ascii=False))
    sys.exit(0 if outcome.ok else 1)
