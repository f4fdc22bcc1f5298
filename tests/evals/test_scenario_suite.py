"""`helloword eval scenarios` as CI runs it: every scripted conversation through the real
agent on a fresh demo shop, the tables printed, the report written."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[2]
MIN_PASS_RATE = 0.85


@pytest.mark.slow
def test_the_scenario_suite_passes(tmp_path: Path) -> None:
    report = ROOT / "test-output" / "scenarios.json"
    env = {**os.environ, "HELLOWORD_DATA_DIR": str(tmp_path), "COLUMNS": "160"}
    done = run_cli("eval", "scenarios", "--report", str(report), "--min-pass-rate", str(MIN_PASS_RATE), env=env, timeout=3000)
    print(done.stdout)
    summary = json.loads(report.read_text())["summary"]
    assert summary["scenarios"] >= 80
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert summary["passed"] >= MIN_PASS_RATE * summary["scenarios"]
    assert "Scenarios by language" in done.stdout and "Scenarios by intent" in done.stdout
