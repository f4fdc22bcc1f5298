"""The `helloword` command: wires settings, the store, tools and evals together."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from sqlalchemy import func, select

from commerce.db import Store
from config import Settings, get_settings
from terminal import console, fail, out, progress_bar


def open_store(settings: Settings) -> Store:
    try:
        return Store(settings.resolved_database_url)
    except Exception as e:  # a bad URL or an unreachable server is the user's to fix
        fail(f"cannot open the database {settings.resolved_database_url}: {e}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Helloword: the after-sales support agent for cross-border sellers.

    Settings come from HELLOWORD_* environment variables (HELLOWORD_DATA_DIR,
    HELLOWORD_DATABASE_URL, HELLOWORD_POLICY_PROFILE)."""


# ---------------------------------------------------------------- data


@main.command("demo-data")
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


@main.command("status")
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


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
def serve(host: str, port: int) -> None:
    """Run the server: the demo shop with the chat widget (/demo), the agent console (/console),
    the admin (/admin) and the API docs (/docs)."""
    import uvicorn

    from server import create_app

    settings = get_settings()
    store = open_store(settings)
    app = create_app(settings, store=store)
    with console.status("[dim]loading the agent (language models, knowledge base)…[/dim]"):
        app.state.runtime().agent  # noqa: B018 - the first customer should not wait for the models
    app.state.runtime().start_monitor()
    out.print(
        f"[bold]Helloword[/bold] on http://{host}:{port}  ·  demo shop /demo  ·  console /console  ·  admin /admin  ·  API /docs"
    )
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    uvicorn.run(app, host=host, port=port, log_level="warning")


@main.group("users")
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


DEMO_STAFF = (("agent@demo.helloword", "demo-agent", "agent"), ("admin@demo.helloword", "demo-admin", "admin"))


@main.command("demo-customers")
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


@main.group("import")
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


@main.group("export")
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


# ---------------------------------------------------------------- tools and policy


def _parse_json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        fail(f"{what} is not valid JSON: {e.msg} (column {e.colno})")
    if not isinstance(value, dict):
        fail(f"{what} must be a JSON object")
    return value


@main.group("tools")
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
@click.option("--unguarded", is_flag=True, help="Skip the policy gate (staff use); tools still check their preconditions.")
def tools_call(name: str, arguments: str, idempotency_key: str | None, customer_id: str | None, unguarded: bool) -> None:
    """Call one tool with JSON arguments, through the policy gate of the configured profile."""
    from agent.guard import Guard
    from agent.policy import PolicyGate, ProfileError, load_profile
    from tools import Caller, Toolbox

    settings = get_settings()
    args = _parse_json_object(arguments, "ARGUMENTS")
    toolbox = Toolbox(open_store(settings), Caller(actor="cli", customer_id=customer_id))
    if unguarded:
        outcome = toolbox.call(name, args, idempotency_key=idempotency_key)
    else:
        try:
            gate = PolicyGate(load_profile(settings.policy_profile))
        except ProfileError as e:
            fail(str(e))
        call = Guard(gate, toolbox).call(name, args, identity_verified=True, confirmed=True, idempotency_key=idempotency_key)
        if call.outcome is None:
            click.echo(json.dumps({"tool": name, "ok": False, "gate": call.decision.model_dump(mode="json")}, indent=2))
            sys.exit(1)
        outcome = call.outcome
    click.echo(json.dumps(outcome.model_dump(mode="json"), indent=2, ensure_ascii=False))
    sys.exit(0 if outcome.ok else 1)


@main.group("policy")
def policy_group() -> None:
    """Policy profiles: what the agent may do alone."""


@policy_group.command("check")
@click.argument("profile", required=False)
def policy_check(profile: str | None) -> None:
    """Validate a profile (a shipped name or a YAML path); prints every problem."""
    from agent.policy import ProfileError, load_profile

    name = profile or get_settings().policy_profile
    try:
        loaded = load_profile(name)
    except ProfileError as e:
        fail(str(e))
    enabled = [tool for tool, rule in loaded.actions.items() if rule.enabled]
    out.print(f"Profile {loaded.name} is valid; the agent may use: {', '.join(enabled)}.")


# ---------------------------------------------------------------- conversations


def _open_agent(settings: Settings) -> Any:
    from agent.policy import ProfileError
    from agent.service import SupportAgent

    try:
        return SupportAgent(settings, store=open_store(settings))
    except (ProfileError, ValueError) as e:
        fail(str(e))


@main.command("chat")
@click.option(
    "--json", "as_json", is_flag=True, help="Read JSON lines {conversation, text} on stdin; write one JSON line per turn."
)
@click.option("--conversation", default=None, help="Conversation id for the interactive chat (a new one by default).")
def chat(as_json: bool, conversation: str | None) -> None:
    """Talk to the agent: interactively, or as JSON lines for scripts and tests."""
    import uuid

    from agent.service import MessageError

    settings = get_settings()
    agent = _open_agent(settings)
    if as_json:
        for number, line in enumerate(sys.stdin, start=1):
            if not line.strip():
                continue
            try:
                request = json.loads(line)
                if not isinstance(request, dict):
                    raise ValueError("each line must be a JSON object")
                conversation_id = str(request.get("conversation") or "")
                result = agent.handle(
                    conversation_id, str(request.get("text") or ""), customer_token=request.get("customer_token")
                )
                click.echo(json.dumps(result.as_json(), ensure_ascii=False))
            except (json.JSONDecodeError, ValueError, MessageError) as e:
                error = e.msg if isinstance(e, json.JSONDecodeError) else str(e)
                click.echo(json.dumps({"line": number, "error": error}, ensure_ascii=False))
            sys.stdout.flush()
        return
    conversation_id = conversation or f"cli-{uuid.uuid4().hex[:8]}"
    out.print(f"[bold]{settings.shop_name}[/bold] support (conversation {conversation_id}). Empty line or Ctrl-D to leave.")
    while True:
        try:
            text = console.input("[cyan]you>[/cyan] ")
        except (EOFError, KeyboardInterrupt):
            break
        if not text.strip():
            break
        try:
            with console.status("[dim]the agent is writing…[/dim]"):
                result = agent.handle(conversation_id, text)
        except MessageError as e:
            console.print(f"[red]{e}[/red]")
            continue
        out.print(f"[green]agent>[/green] {result.reply}", highlight=False)
        details = f"{result.language} · {result.intent} · {result.urgency} · {result.status} · {result.brain} brain"
        if result.usage.get("model_calls"):
            usage = result.usage
            details += f" · {usage['model_calls']} model call(s), {usage['prompt_tokens']}+{usage['completion_tokens']} tokens"
        for action in result.actions:
            details += f" · {action['tool']} {'ok' if action['ok'] else 'failed'}"
        console.print(f"[dim]{details}[/dim]", highlight=False)


@main.command("triage")
@click.argument("source", type=click.File("r", encoding="utf-8"))
def triage(source: Any) -> None:
    """Read JSON lines {id, text} (FILE or - for stdin); write {id, language, intent, urgency, order_id} per line."""
    from agent.triage import triage_lines

    settings = get_settings()
    for line in triage_lines(source, settings):
        click.echo(json.dumps(line, ensure_ascii=False))


# ---------------------------------------------------------------- evals


@main.group("eval")
def eval_group() -> None:
    """Evaluations and replays."""


@eval_group.command("scenarios")
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=None, help="Folder of scenario YAML files.")
@click.option("--only", default=None, help="Run the scenarios whose id contains this text.")
@click.option("--report", type=click.Path(path_type=Path), default=Path("evals-report.json"), show_default=True)
@click.option(
    "--min-pass-rate",
    type=click.FloatRange(0, 1),
    default=1.0,
    show_default=True,
    help="Exit with an error only when fewer scenarios pass than this share.",
)
def eval_scenarios(directory: Path | None, only: str | None, report: Path, min_pass_rate: float) -> None:
    """Play the scripted customer conversations through the agent on a fresh demo shop each."""
    from evals.scenarios import SCENARIO_DIR, ScenarioError, load_scenarios, run_scenarios

    try:
        scenarios = load_scenarios(directory or SCENARIO_DIR)
    except ScenarioError as e:
        fail(str(e))
    if only:
        scenarios = [s for s in scenarios if only in s["id"]]
    if not scenarios:
        fail("no scenarios to run")
    with progress_bar("Scenarios") as update:
        _, summary = run_scenarios(scenarios, report, progress=update)
    for title, key in (("language", "by_language"), ("intent", "by_intent")):
        table = Table(title=f"Scenarios by {title}")
        for column in (title, "scenarios", "pass rate", "resolved without a human", "mean turns"):
            table.add_column(column, justify="left" if column == title else "right")
        for name, row in summary[key].items():
            table.add_row(
                name,
                str(row["scenarios"]),
                f"{row['pass_rate']:.0%}",
                f"{row['resolved_without_human']:.0%}",
                f"{row['mean_turns']:.1f}",
            )
        out.print(table)
    out.print(f"Passed {summary['passed']} of {summary['scenarios']} in {summary['seconds']} s; report: {report}")
    for scenario_id, failures in summary["failures"].items():
        out.print(f"  {scenario_id}: " + "; ".join(failures), highlight=False, soft_wrap=True)
    if summary["passed"] < min_pass_rate * summary["scenarios"]:
        sys.exit(1)


@eval_group.command("tau-chat")
@click.option(
    "--data", "data_dir", required=True, type=click.Path(path_type=Path), help="Folder with users/orders/products.json."
)
@click.option("--tasks", "tasks_file", required=True, type=click.Path(path_type=Path))
@click.option("--reference", "reference_file", required=True, type=click.Path(path_type=Path))
@click.option("--show", is_flag=True, help="Print the conversations of unresolved tasks.")
def eval_tau_chat(data_dir: Path, tasks_file: Path, reference_file: Path, show: bool) -> None:
    """Serve tau-retail customers through the agent (cancel, address change, return) and
    count the tasks whose end state matches the reference."""
    from commerce.tau_retail import TauRetailFormatError, load_tau_retail
    from evals.tau_chat import replay_conversations
    from evals.tau_retail import TaskFileError, load_json_list

    try:
        load_tau_retail(data_dir)
        tasks, reference = load_json_list(tasks_file), load_json_list(reference_file)
    except (TauRetailFormatError, TaskFileError) as e:
        fail(str(e))
    with progress_bar("Conversations") as update:
        summary = replay_conversations(data_dir, tasks, reference, progress=update, cache_dir=get_settings().resolved_cache_dir)
    out.print(
        f"Tasks: {summary.tasks}; stated in a message or two: {summary.eligible}; "
        f"resolved by the agent to the reference end state: {summary.resolved} of {summary.eligible}"
    )
    for item in summary.unresolved:
        out.print(f"  task {item['index']}: " + "; ".join(item["problems"]), highlight=False, soft_wrap=True)
        if show:
            for line in item["transcript"]:
                out.print(f"    customer: {line['customer']}\n    agent: {line['agent']}", highlight=False, soft_wrap=True)


def _parse_task_ids(text: str) -> list[int]:
    try:
        ids = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        fail(f"--task-ids takes task indexes separated by commas (e.g. 0,3,5), not {text!r}")
    if not ids:
        fail("--task-ids names no task")
    return list(dict.fromkeys(ids))


@eval_group.command("simulate")
@click.option("--tasks", "tasks_file", required=True, type=click.Path(path_type=Path), help="Tasks in tau-retail form.")
@click.option(
    "--data", "data_dir", required=True, type=click.Path(path_type=Path), help="Folder with users/orders/products.json."
)
@click.option(
    "--reference",
    "reference_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Expected end states; by default the reference_*.json beside the tasks file (tasks_dev.json → reference_dev.json).",
)
@click.option("--trials", default=1, show_default=True, type=click.IntRange(1, 100), help="Conversations per task and language.")
@click.option(
    "--customer-language",
    "customer_languages",
    multiple=True,
    default=("en",),
    show_default=True,
    help="The language the simulated customer writes in; repeat it (or separate codes by commas) for several.",
)
@click.option("--customer-model", default=None, help="The customer's model; the agent's HELLOWORD_LLM_MODEL by default.")
@click.option("--customer-base-url", default=None, help="The customer's OpenAI-compatible endpoint; the agent's by default.")
@click.option("--customer-api-key", default=None, help="The customer's API key; the agent's by default.")
@click.option(
    "--customer-temperature",
    default=0.7,
    show_default=True,
    type=click.FloatRange(0, 2),
    help="The customer model's temperature.",
)
@click.option("--task-ids", default=None, help="Only these task indexes, e.g. 0,3,5.")
@click.option("--limit", default=None, type=click.IntRange(1), help="Only the first N tasks.")
@click.option(
    "--max-turns", default=20, show_default=True, type=click.IntRange(1, 200), help="Customer messages per conversation."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
def eval_simulate(
    tasks_file: Path,
    data_dir: Path,
    reference_file: Path | None,
    trials: int,
    customer_languages: tuple[str, ...],
    customer_model: str | None,
    customer_base_url: str | None,
    customer_api_key: str | None,
    customer_temperature: float,
    task_ids: str | None,
    limit: int | None,
    max_turns: int,
    as_json: bool,
) -> None:
    """A model plays each task's customer, in the chosen language, and the agent serves them
    with its LLM brain under the tau-retail profile on a fresh copy of the data; a trial
    succeeds when the end state matches the reference and every expected output was said.
    Reports pass^1 … pass^k per customer language, turns, model calls and tokens per task.

    The agent's model comes from the settings (HELLOWORD_LLM_BASE_URL, HELLOWORD_LLM_API_KEY or
    OPENAI_API_KEY, HELLOWORD_LLM_MODEL); the customer's from the --customer-* options."""
    from agent.language import LANGUAGE_NAMES
    from commerce.tau_retail import TauRetailFormatError, load_tau_retail
    from evals.simulate import ModelEndpoint, SimulationError, language_name, run_simulation
    from evals.tau_retail import TaskFileError, load_json_list

    if task_ids is not None and limit is not None:
        fail("--task-ids and --limit cannot be used together")
    codes = (code.strip().lower() for item in customer_languages for code in item.split(","))
    languages = list(dict.fromkeys(code for code in codes if code))
    unknown = [code for code in languages if code not in LANGUAGE_NAMES]
    if unknown or not languages:
        fail(f"unknown customer language {', '.join(unknown) or '(none)'}; choose from {', '.join(LANGUAGE_NAMES)}")
    if reference_file is None:
        if not tasks_file.name.startswith("tasks"):
            fail(f"{tasks_file}: cannot tell which reference file belongs to it; name it with --reference")
        reference_file = tasks_file.with_name("reference" + tasks_file.name.removeprefix("tasks"))
    try:
        tasks = load_json_list(tasks_file)
        reference = load_json_list(reference_file)
        load_tau_retail(data_dir)
    except (TauRetailFormatError, TaskFileError) as e:
        fail(str(e))
    if task_ids is not None:
        indexes = _parse_task_ids(task_ids)
        outside = [i for i in indexes if not 0 <= i < len(tasks)]
        if outside:
            missing = ", ".join(map(str, outside))
            fail(f"--task-ids: no task {missing} in {tasks_file} ({len(tasks)} tasks, 0 to {len(tasks) - 1})")
    else:
        indexes = list(range(min(limit, len(tasks)) if limit is not None else len(tasks)))
    if not indexes:
        fail(f"{tasks_file} holds no tasks")

    settings = get_settings()
    if not settings.llm_base_url and not settings.resolved_llm_api_key:
        fail("the agent needs a model: set HELLOWORD_LLM_BASE_URL (an OpenAI-compatible endpoint) and/or HELLOWORD_LLM_API_KEY")
    base_url = customer_base_url or settings.llm_base_url
    customer = ModelEndpoint(
        model=customer_model or settings.llm_model,
        base_url=base_url,
        api_key=customer_api_key or settings.resolved_llm_api_key,
        temperature=customer_temperature,
    )
    if settings.cache_dir is None:
        settings = settings.model_copy(update={"cache_dir": settings.resolved_cache_dir})
    try:
        with progress_bar("Simulated conversations") as update:
            summary = run_simulation(
                data_dir,
                tasks,
                reference,
                settings=settings,
                customer=customer,
                trials=trials,
                languages=languages,
                indexes=indexes,
                max_turns=max_turns,
                progress=update,
            )
    except SimulationError as e:
        fail(str(e), code=1)
    if as_json:
        click.echo(json.dumps(summary.as_json(), ensure_ascii=False))
        return
    table = Table(title=f"Simulated customers: {len(indexes)} tasks × {trials} trials (agent {summary.agent_model})")
    columns = ["customer language", *(f"pass^{k}" for k in range(1, trials + 1)), "turns", "model calls", "tokens in/out"]
    columns.append("customer tokens in/out")
    for column in columns:
        table.add_column(column, justify="left" if column == "customer language" else "right")
    for report in summary.languages:
        agent_usage, customer_usage = report.mean_usage("agent"), report.mean_usage("customer")
        table.add_row(
            language_name(report.language),
            *(f"{value:.2f}" for value in report.pass_hat.values()),
            f"{report.mean_turns:.1f}",
            f"{agent_usage['model_calls']:.1f}",
            f"{agent_usage['prompt_tokens']:.0f} / {agent_usage['completion_tokens']:.0f}",
            f"{customer_usage['prompt_tokens']:.0f} / {customer_usage['completion_tokens']:.0f}",
        )
    out.print(table)
    out.print(
        f"Turns, model calls and tokens are means per task; customer model {summary.customer_model}; {summary.seconds:.1f} s."
    )
    for report in summary.languages:
        for failure in report.failures():
            out.print(
                f"  task {failure['index']} ({report.language}, {failure['successes']}/{failure['trials']} passed): "
                + "; ".join(failure["problems"]),
                highlight=False,
                soft_wrap=True,
            )


@eval_group.command("tau-retail")
@click.option(
    "--data", "data_dir", required=True, type=click.Path(path_type=Path), help="Folder with users/orders/products.json."
)
@click.option("--tasks", "tasks_file", required=True, type=click.Path(path_type=Path), help="Tasks with ground-truth actions.")
@click.option("--out", "out_file", required=True, type=click.Path(path_type=Path), help="Where to write one JSON line per task.")
@click.option("--reference", "reference_file", type=click.Path(path_type=Path), help="Expected end states, to compare.")
def eval_tau_retail(data_dir: Path, tasks_file: Path, out_file: Path, reference_file: Path | None) -> None:
    """Replay each task's actions through Helloword's tools under the tau-retail profile,
    on a fresh copy of the data, and report the end state per task."""
    from commerce.tau_retail import TauRetailFormatError, load_tau_retail
    from evals.tau_retail import TaskFileError, load_json_list, replay_tasks

    try:
        load_tau_retail(data_dir)
        tasks = load_json_list(tasks_file)
        reference = load_json_list(reference_file) if reference_file else None
    except (TauRetailFormatError, TaskFileError) as e:
        fail(str(e))
    with progress_bar("Replaying tasks") as update:
        summary = replay_tasks(data_dir, tasks, out_file, reference=reference, progress=update)
    out.print(f"Tasks: {summary.tasks}   time: {summary.seconds:.1f} s   results: {out_file}")
    if reference is not None:
        out.print(f"End state matches the reference: {summary.matched} of {summary.compared}")
        for mismatch in summary.mismatches:
            out.print(f"  task {mismatch['index']}:", highlight=False)
            for problem in mismatch["problems"]:
                out.print(f"    {problem}", highlight=False, soft_wrap=True)
        if summary.mismatches:
            sys.exit(1)


def _mount_optional_groups() -> None:
    from commerce.analytics_cli import report
    from commerce.monitor_cli import monitor
    from commerce.tracking_cli import track
    from knowledge.cli_commands import kb

    main.add_command(kb)
    main.add_command(report)
    main.add_command(track)
    main.add_command(monitor)


_mount_optional_groups()

if __name__ == "__main__":
    main()
