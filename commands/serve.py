"""`helloword serve` and `helloword users …`: run the server, manage the staff who sign in to it."""

from __future__ import annotations

import logging

import click
from rich.table import Table

from commands.common import open_store
from config import get_settings
from terminal import console, fail, out

# How long requests still running get to finish once the server is told to stop.
SHUTDOWN_SECONDS = 10

DEMO_STAFF = (("agent@demo.helloword", "demo-agent", "agent"), ("admin@demo.helloword", "demo-admin", "admin"))


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--demo", is_flag=True, help="Run the demo shop: its customers are listed on /demo to try the chat as.")
def serve(host: str, port: int, demo: bool) -> None:
    """Run the server: the shop page with the chat widget (/demo), the agent console (/console),
    the admin (/admin) and the API docs (/docs)."""
    import uvicorn

    from server import StreamClosingServer, create_app

    settings = get_settings()
    if demo:
        settings = settings.model_copy(update={"demo_mode": True})
    store = open_store(settings)
    app = create_app(settings, store=store)
    with console.status("[dim]loading the agent (language models, knowledge base)…[/dim]"):
        app.state.runtime.support_agent()  # the first customer should not wait for the models
    app.state.runtime.start_monitor()
    out.print(
        f"[bold]Helloword[/bold] on http://{host}:{port}  ·  demo shop /demo  ·  console /console  ·  admin /admin  ·  API /docs"
    )
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=SHUTDOWN_SECONDS)
    StreamClosingServer(config, app.state.runtime.bus).run()


@click.group("users")
def users_group() -> None:
    """Staff accounts for the console and the admin."""


@users_group.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(["agent", "admin"]), default="agent", show_default=True)
@click.option("--name", default="", help="The name colleagues see.")
@click.password_option(help="At least 8 characters (asked for when not given).")
def users_add(email: str, role: str, name: str, password: str) -> None:
    """Create a staff member, or reset their password and role."""
    from api.auth import add_staff
    from commerce.models import StaffRole

    try:
        user = add_staff(open_store(get_settings()), email, password, role=StaffRole(role), name=name)
    except ValueError as e:
        fail(str(e))
    out.print(f"{user.email} can sign in as {user.role.value}.")


@users_group.command("token")
@click.argument("email")
def users_token(email: str) -> None:
    """A new API token for integrations (shown once; the old one stops working)."""
    from api.auth import issue_api_token

    try:
        click.echo(issue_api_token(open_store(get_settings()), email))
    except ValueError as e:
        fail(str(e))


@users_group.command("demo")
def users_demo() -> None:
    """The demo accounts: agent@demo.helloword / demo-agent and admin@demo.helloword / demo-admin."""
    from api.auth import add_staff
    from commerce.models import StaffRole

    store = open_store(get_settings())
    for email, password, role in DEMO_STAFF:
        add_staff(store, email, password, role=StaffRole(role))
    table = Table(title="Sign in to the console and the admin with")
    for column in ("email", "password", "role"):
        table.add_column(column)
    for email, password, role in DEMO_STAFF:
        table.add_row(email, password, role)
    out.print(table)
