"""Conversational replay: tau-retail customers served through the agent reach the
reference end state for the tasks stated in a message or two."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.tau_chat import conversational_writes, customer_messages, replay_conversations
from evals.tau_retail import load_json_list
from tests.conftest import tau_retail_dir


@pytest.mark.slow
def test_every_conversational_dev_task_is_resolved(cache_dir: Path) -> None:
    root = tau_retail_dir()
    tasks = load_json_list(root / "tasks_dev.json")
    reference = load_json_list(root / "reference_dev.json")
    summary = replay_conversations(root / "data", tasks, reference, cache_dir=cache_dir)
    assert summary.eligible == 12
    assert summary.unresolved == [] and summary.resolved == 12


def test_messages_are_written_from_the_task(tmp_path: Path) -> None:
    root = tau_retail_dir()
    import json

    users = json.loads((root / "data" / "users.json").read_text())
    orders = json.loads((root / "data" / "orders.json").read_text())
    tasks = load_json_list(root / "tasks_dev.json")
    cancel = tasks[11]
    assert conversational_writes(cancel) is not None
    first, second = customer_messages(cancel, users, orders)
    assert "#W7430166" in first and "by mistake" in first and users[cancel["user_id"]]["email"] in first
    assert second.lower().startswith("yes")
    assert conversational_writes(tasks[1]) is None  # an exchange needs a real conversation
