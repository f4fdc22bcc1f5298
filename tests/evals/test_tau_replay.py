"""The tau-retail replay: every dev task's actions, run through our tools behind the
tau-retail profile, leave exactly the reference end state."""

from __future__ import annotations

import json
from pathlib import Path

from evals.tau_retail import compare, diff_state, load_json_list, replay_tasks, safe_arithmetic
from tests.conftest import tau_retail_dir


def test_every_dev_task_reaches_its_reference_end_state_exactly(tmp_path: Path) -> None:
    root = tau_retail_dir()
    tasks = load_json_list(root / "tasks_dev.json")
    reference = load_json_list(root / "reference_dev.json")
    out = tmp_path / "results.jsonl"
    summary = replay_tasks(root / "data", tasks, out, reference=reference)
    assert summary.mismatches == []
    assert summary.matched == summary.tasks == len(tasks) == 20
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    # Not only equal to the cent: the very same JSON values, errors included.
    assert lines == reference


def test_a_gift_card_short_of_funds_fails_like_the_reference_and_changes_nothing(tmp_path: Path) -> None:
    root = tau_retail_dir()
    tasks = load_json_list(root / "tasks_train.json")
    reference = load_json_list(root / "reference_train.json")
    failing = [i for i, r in enumerate(reference) if r["errors"]][:3]
    assert failing, "the reference has tasks with a refused call"
    out = tmp_path / "results.jsonl"
    summary = replay_tasks(root / "data", [tasks[i] for i in failing], out)
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert summary.tasks == len(failing)
    for index, result in zip(failing, results, strict=True):
        assert result["errors"] == reference[index]["errors"]
        assert result["changed"] == reference[index]["changed"]


def test_compare_names_each_difference() -> None:
    from evals.tau_retail import TaskResult

    result = TaskResult(index=0, changed={"orders/#W1": {"status": "cancelled"}, "users/u": {"address": {}}}, errors=[])
    reference = {"changed": {"orders/#W1": {"status": "pending (item modified)"}}, "errors": ["Error: x"]}
    problems = compare(result, reference)
    assert any("orders/#W1.status" in p for p in problems)
    assert any("users/u" in p and "should not be" in p for p in problems)
    assert any(p.startswith("errors") for p in problems)


def test_diff_state_reports_only_changed_top_level_fields() -> None:
    before = {"orders": {"#1": {"status": "pending", "items": [1]}}, "users": {}}
    after = {"orders": {"#1": {"status": "cancelled", "items": [1], "cancel_reason": "x"}}, "users": {}}
    assert diff_state(before, after) == {"orders/#1": {"status": "cancelled", "cancel_reason": "x"}}


def test_calculate_accepts_arithmetic_only() -> None:
    assert str(safe_arithmetic("(10.5 + 2) * 2")) == "25.0"
    for bad in ("__import__('os')", "2 ** 100", "a + 1"):
        try:
            safe_arithmetic(bad)
        except (ValueError, SyntaxError):
            continue
        raise AssertionError(f"{bad!r} was evaluated")
