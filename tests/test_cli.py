"""The `helloword` command as a user runs it: real processes, real files, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_cli, tau_retail_dir


def helloword(
    *args: str, data_dir: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "HELLOWORD_DATA_DIR": str(data_dir), "COLUMNS": "200", **(env or {})}
    environment.pop("HELLOWORD_DATABASE_URL", None)
    return run_cli(*args, env=environment, stdin=stdin)


def test_import_export_round_trip_changes_nothing(tmp_path: Path) -> None:
    source = tau_retail_dir() / "data"
    imported = helloword("import", "tau-retail", str(source), data_dir=tmp_path / "d")
    assert imported.returncode == 0, imported.stderr
    assert "Imported 500 customers, 1000 orders, 50 products" in imported.stdout
    assert (tmp_path / "d" / "helloword.db").exists()
    exported = helloword("export", "tau-retail", str(tmp_path / "out"), data_dir=tmp_path / "d")
    assert exported.returncode == 0, exported.stderr
    for name in ("users.json", "orders.json", "products.json"):
        assert json.loads((tmp_path / "out" / name).read_text()) == json.loads((source / name).read_text()), name


@pytest.mark.parametrize(
    ("setup", "needle"),
    [
        (lambda d: None, "users.json"),
        (lambda d: (d / "users.json").write_text("{broken"), "users.json"),
    ],
)
def test_a_missing_or_corrupt_import_file_is_one_line_and_exit_code_2(tmp_path: Path, setup, needle: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    setup(folder)
    result = helloword("import", "tau-retail", str(folder), data_dir=tmp_path / "d")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in result.stderr


def test_eval_with_a_missing_tasks_file_fails_clearly(tmp_path: Path) -> None:
    data = tau_retail_dir() / "data"
    result = helloword(
        "eval",
        "tau-retail",
        "--data",
        str(data),
        "--tasks",
        str(tmp_path / "nope.json"),
        "--out",
        str(tmp_path / "r.jsonl"),
        data_dir=tmp_path / "d",
    )
    assert result.returncode == 2 and "nope.json" in result.stderr and "Traceback" not in result.stderr


def test_eval_replays_and_prints_the_summary(tmp_path: Path) -> None:
    root = tau_retail_dir()
    tasks = json.loads((root / "tasks_dev.json").read_text())[:3]
    reference = json.loads((root / "reference_dev.json").read_text())[:3]
    (tmp_path / "tasks.json").write_text(json.dumps(tasks))
    (tmp_path / "ref.json").write_text(json.dumps(reference))
    result = helloword(
        "eval",
        "tau-retail",
        "--data",
        str(root / "data"),
        "--tasks",
        str(tmp_path / "tasks.json"),
        "--out",
        str(tmp_path / "r.jsonl"),
        "--reference",
        str(tmp_path / "ref.json"),
        data_dir=tmp_path / "d",
    )
    assert result.returncode == 0, result.stderr
    assert "Tasks: 3" in result.stdout and "matches the reference: 3 of 3" in result.stdout
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 3


def test_demo_data_status_and_a_guarded_tool_call(tmp_path: Path) -> None:
    made = helloword("demo-data", "--customers", "60", "--orders", "200", "--seed", "3", data_dir=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "60 customers, 200 orders" in made.stdout
    status = helloword("status", data_dir=tmp_path)
    assert status.returncode == 0 and "orders" in status.stdout
    listing = helloword("tools", "list", data_dir=tmp_path)
    assert "issue_refund" in listing.stdout and "write" in listing.stdout
    schemas = json.loads(helloword("tools", "schemas", data_dir=tmp_path).stdout)
    assert {s["function"]["name"] for s in schemas} >= {"issue_refund", "get_order"}
    bad = helloword("tools", "call", "get_order", "{not json", data_dir=tmp_path)
    assert bad.returncode == 2 and "not valid JSON" in bad.stderr
    # An unknown order through the gate and the tool: a clear error, exit code 1.
    unknown = helloword("tools", "call", "get_order", '{"order_id": "#NOPE"}', data_dir=tmp_path)
    assert unknown.returncode == 1 and "No order #NOPE" in unknown.stdout
    # A write from the command line passes the same gate as the agent's: 90 % off is refused.
    import sqlite3

    with sqlite3.connect(tmp_path / "helloword.db") as db:
        customer = db.execute("SELECT id FROM customers ORDER BY id LIMIT 1").fetchone()[0]
    coupon = {"customer_id": customer, "percent_off": 90, "reason": "goodwill"}
    refused = helloword("tools", "call", "issue_coupon", json.dumps(coupon), "--key", "cli-1", data_dir=tmp_path)
    assert refused.returncode == 1 and json.loads(refused.stdout)["gate"]["verdict"] == "deny"
    allowed = helloword(
        "tools", "call", "issue_coupon", json.dumps({**coupon, "percent_off": 10}), "--key", "cli-2", data_dir=tmp_path
    )
    assert allowed.returncode == 0 and json.loads(allowed.stdout)["ok"]
    with sqlite3.connect(tmp_path / "helloword.db") as db:
        actors = db.execute("SELECT actor FROM audit_ledger WHERE idempotency_key = 'cli-2'").fetchall()
    assert actors == [("cli",)]


def test_policy_check_names_the_file_and_field(tmp_path: Path) -> None:
    assert helloword("policy", "check", "tau-retail", data_dir=tmp_path).returncode == 0
    broken = tmp_path / "mine.yaml"
    broken.write_text("name: mine\nactions:\n  issue_refund:\n    enabled: maybe\n")
    result = helloword("policy", "check", str(broken), data_dir=tmp_path)
    assert result.returncode == 2 and "mine.yaml" in result.stderr
