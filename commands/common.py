"""What several command groups share: opening the store and the agent, reading JSON arguments."""

from __future__ import annotations

import json
from typing import Any

from commerce.db import Store
from config import Settings
from terminal import fail


def open_store(settings: Settings) -> Store:
    """The configured store; a bad URL or an unreachable server is one line and exit code 2."""
    try:
        return Store(settings.resolved_database_url)
    except Exception as e:  # a bad URL or an unreachable server is the user's to fix
        fail(f"cannot open the database {settings.resolved_database_url}: {e}")


def open_agent(settings: Settings) -> Any:
    """The support agent on the configured store and policy profile."""
    from agent.policy import ProfileError
    from agent.service import SupportAgent

    try:
        return SupportAgent(settings, store=open_store(settings))
    except (ProfileError, ValueError) as e:
        fail(str(e))


def parse_json_object(text: str, what: str) -> dict[str, Any]:
    """TEXT as a JSON object; anything else is one line naming WHAT and exit code 2."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        fail(f"{what} is not valid JSON: {e.msg} (column {e.colno})")
    if not isinstance(value, dict):
        fail(f"{what} must be a JSON object")
    return value
