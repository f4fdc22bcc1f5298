"""`helloword report` on the hand-built shop of the report tests: tables, JSON, CSV, a bad date."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from commands.analytics import report as report_command
from commerce.db import Store
from tests.commerce.test_analytics import fill


@pytest.fixture
def store(store: Store) -> Store:
    fill(store)
    return store


def test_the_report_command_prints_tables_json_and_csv(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELLOWORD_DATABASE_URL", store.url)
    monkeypatch.setenv("HELLOWORD_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    as_json = runner.invoke(report_command, ["--from", "2026-11-01", "--to", "2026-11-07", "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output)["conversations"] == 5

    target = tmp_path / "figures.csv"
    tables = runner.invoke(report_command, ["--from", "2026-11-01", "--to", "2026-11-07", "--csv", str(target)])
    assert tables.exit_code == 0, tables.output
    assert "SLA compliance by urgency" in tables.output
    assert "60.0 %" in tables.output  # automated resolution
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "section,name,value"
    assert "summary,conversations,5" in lines

    wrong = runner.invoke(report_command, ["--from", "yesterday"])
    assert wrong.exit_code == 2
