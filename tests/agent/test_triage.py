"""`helloword triage`: JSON lines in, language, intent, urgency and order number out, in order,
with a clear error line for each bad input line."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import run_cli


def test_triage_reads_a_file_and_stdin(tmp_path: Path, cache_dir: Path) -> None:
    lines = [
        {"id": 1, "text": "Where is my order 114-3941689-8772232? It is two weeks late."},
        {"id": 2, "text": "Je vais ouvrir un litige PayPal si vous ne me remboursez pas la commande #W1234567 !"},
        {"id": 3, "text": "商品が壊れて届きました。注文番号は #1043 です"},
        {"id": 4, "text": ""},
    ]
    body = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n{broken\n"
    source = tmp_path / "inbox.jsonl"
    source.write_text(body, encoding="utf-8")
    env = {**os.environ, "HELLOWORD_DATA_DIR": str(tmp_path), "HELLOWORD_CACHE_DIR": str(cache_dir)}
    for argument, stdin in ((str(source), None), ("-", body)):
        done = run_cli("triage", argument, env=env, stdin=stdin, timeout=900)
        assert done.returncode == 0, done.stderr
        out = [json.loads(line) for line in done.stdout.splitlines()]
        assert [o.get("id") for o in out[:4]] == [1, 2, 3, 4]
        assert out[0]["language"] == "en" and out[0]["order_id"] == "114-3941689-8772232"
        assert out[0]["intent"] in ("delivery_delay", "track_order", "not_received")
        assert out[1]["language"] == "fr" and out[1]["urgency"] == "red" and out[1]["order_id"] == "#W1234567"
        assert out[2]["language"] == "ja" and out[2]["intent"] == "damaged_item" and out[2]["order_id"] == "#1043"
        assert "error" in out[3] and "error" in out[4]
