"""`helloword chat` and `helloword triage`: talk to the agent, or sort incoming messages in bulk."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from commands.common import open_agent
from config import get_settings
from terminal import console, out


@click.command("chat")
@click.option(
    "--json", "as_json", is_flag=True, help="Read JSON lines {conversation, text} on stdin; write one JSON line per turn."
)
@click.option("--conversation", default=None, help="Conversation id for the interactive chat (a new one by default).")
def chat(as_json: bool, conversation: str | None) -> None:
    """Talk to the agent: interactively, or as JSON lines for scripts and tests."""
    import uuid

    from agent.service import MessageError

    settings = get_settings()
    agent = open_agent(settings)
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


@click.command("triage")
@click.argument("source", type=click.File("r", encoding="utf-8"))
def triage(source: Any) -> None:
    """Read JSON lines {id, text} (FILE or - for stdin); write {id, language, intent, urgency, order_id} per line."""
    from agent.triage import triage_lines

    settings = get_settings()
    for line in triage_lines(source, settings):
        click.echo(json.dumps(line, ensure_ascii=False))
