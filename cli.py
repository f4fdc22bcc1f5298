"""The `helloword` command: the main group, with every command group mounted on it."""

from __future__ import annotations

import click

from commands.analytics import report
from commands.chat import chat, triage
from commands.data import demo_customers, demo_data, export_group, import_group, status
from commands.evals import eval_group
from commands.intents import intents_group
from commands.knowledge import kb
from commands.monitor import monitor
from commands.policy import policy_group
from commands.serve import serve, users_group
from commands.tools import tools_group
from commands.tracking import track


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Helloword: the after-sales support agent for cross-border sellers.

    Settings come from HELLOWORD_* environment variables (HELLOWORD_DATA_DIR,
    HELLOWORD_DATABASE_URL, HELLOWORD_POLICY_PROFILE)."""


main.add_command(demo_data)
main.add_command(status)
main.add_command(demo_customers)
main.add_command(import_group)
main.add_command(export_group)
main.add_command(serve)
main.add_command(users_group)
main.add_command(tools_group)
main.add_command(policy_group)
main.add_command(chat)
main.add_command(triage)
main.add_command(eval_group)
main.add_command(intents_group)
main.add_command(kb)
main.add_command(report)
main.add_command(track)
main.add_command(monitor)

if __name__ == "__main__":
    main()
