"""`helloword track simulate` and `helloword track ingest` on a small demo shop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from commands.tracking import track
from commerce.db import Store
from commerce.demo import generate_demo_data


@pytest.fixture
def demo(store: Store) -> Store:
    generate_demo_data(store, seed=3, customers=40, orders=150)
    return store


def test_the_track_commands_simulate_and_ingest(demo: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELLOWORD_DATABASE_URL", demo.url)
    feed = tmp_path / "feed.jsonl"
    runner = CliRunner()
    simulated = runner.invoke(track, ["simulate", "--hours", "24", "--seed", "4", "--out", str(feed)])
    assert simulated.exit_code == 0, simulated.output
    lines = feed.read_text(encoding="utf-8").splitlines()
    assert lines and all(json.loads(x)["tracking_number"] for x in lines)
    to_stdout = runner.invoke(track, ["simulate", "--hours", "24", "--seed", "4"])
    assert to_stdout.stdout.splitlines() == lines
    ingested = runner.invoke(track, ["ingest", str(feed), "--json"])
    assert ingested.exit_code == 0, ingested.output
    result = json.loads(ingested.stdout)
    assert result["read"] == len(lines) and result["stored"] > 0 and result["rejected"] == 1
    table = runner.invoke(track, ["ingest", "-"], input=feed.read_text(encoding="utf-8"))
    assert table.exit_code == 0, table.output
    assert "duplicates skipped" in table.stdout and "Rejected:" in table.stdout
    missing = runner.invoke(track, ["ingest", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2
