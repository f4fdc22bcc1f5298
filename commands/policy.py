"""`helloword policy …`: the policy profiles that say what the agent may do alone."""

from __future__ import annotations

import click

from config import get_settings
from terminal import fail, out


@click.group("policy")
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
