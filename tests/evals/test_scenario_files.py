"""The scenario suite itself: it loads, and covers every language and intent it promises."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from agent.understanding import INTENTS
from evals.scenarios import ScenarioError, _check_turn, load_scenarios

LANGUAGES = ("en", "es", "fr", "de", "it", "pt", "nl", "pl", "tr", "ru", "ar", "zh", "ja", "ko")


def test_the_suite_covers_every_language_and_intent() -> None:
    scenarios = load_scenarios()
    assert len(scenarios) >= 80
    languages = Counter(s["language"] for s in scenarios)
    intents = Counter(s["intent"] for s in scenarios)
    assert all(languages[lang] >= 4 for lang in LANGUAGES), languages
    assert all(intents[intent] >= 2 for intent in INTENTS), intents
    for scenario in scenarios:
        assert all("say" in turn for turn in scenario["turns"]), scenario["id"]


def test_a_broken_scenario_file_names_itself(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("- id: x\n  turns: [\n")
    with pytest.raises(ScenarioError, match=r"broken\.yaml"):
        load_scenarios(tmp_path)
    (tmp_path / "broken.yaml").write_text("- id: a\n  turns: [{say: hi}]\n- id: a\n  turns: [{say: hi}]\n")
    with pytest.raises(ScenarioError, match="twice"):
        load_scenarios(tmp_path)


def test_turn_expectations_are_checked_with_placeholders() -> None:
    turn = {
        "language": "es",
        "intent": "track_order",
        "status": "open",
        "urgency": "blue",
        "reply": "Hola x@y.z",
        "actions": [{"tool": "issue_coupon", "ok": True}],
    }
    assert _check_turn({"language": "es", "actions": ["issue_coupon"]}, turn) == []
    problems = _check_turn({"intent": ["cancel_order"], "reply_excludes": ["{email}"]}, turn, {"email": "x@y.z"})
    assert len(problems) == 2


def test_picks_find_parcels_before_pickup_and_late_deliveries(tmp_path: Path) -> None:
    from commerce.db import Store
    from commerce.demo import REFERENCE_NOW, generate_demo_data
    from commerce.models import Order, ShipmentStatus
    from evals.scenarios import pick_values

    store = Store(f"sqlite:///{tmp_path / 'demo.db'}")
    generate_demo_data(store, seed=7, now=REFERENCE_NOW)
    waiting = pick_values(store, {"status": "processed", "shipment_status": "label_created"}, REFERENCE_NOW)
    late = pick_values(store, {"status": "delivered", "promised_passed": True}, REFERENCE_NOW)
    on_time = pick_values(store, {"status": "delivered", "promised_passed": False}, REFERENCE_NOW)
    assert len({waiting["order_id"], late["order_id"], on_time["order_id"]}) == 3
    with store.read() as session:
        assert session.get(Order, waiting["order_id"]).shipments[-1].status == ShipmentStatus.LABEL_CREATED
        parcel = session.get(Order, late["order_id"]).shipments[-1]
        assert parcel.delivered_at is not None and parcel.promised_delivery_date is not None
        assert parcel.delivered_at.date() > parcel.promised_delivery_date
    store.dispose()


def test_a_swap_story_is_played_on_an_item_with_sizes_and_colours_in_stock(tmp_path: Path) -> None:
    from sqlalchemy import select

    from agent.variants import SIZE_AXES, size_rank
    from commerce.db import Store
    from commerce.demo import REFERENCE_NOW, generate_demo_data
    from commerce.models import Order, StockLevel, Variant
    from evals.scenarios import pick_values

    store = Store(f"sqlite:///{tmp_path / 'demo.db'}")
    generate_demo_data(store, seed=7, now=REFERENCE_NOW)
    picked = pick_values(store, {"status": "pending", "swappable": True}, REFERENCE_NOW)
    with store.read() as session:
        line = session.get(Order, picked["order_id"]).items[0]
        stock = {v: 0 for v in session.scalars(select(Variant.id))}
        for level in session.scalars(select(StockLevel)):
            stock[level.variant_id] += level.on_hand - level.reserved
        others = [
            v
            for v in session.scalars(select(Variant).where(Variant.product_id == line.product_id))
            if v.id != line.variant_id and v.available and stock[v.id] > 0
        ]
        axis = next(a for a in SIZE_AXES if a in line.options)
        here = size_rank(line.options[axis])
        ranks = [size_rank(v.options[axis]) for v in others]
        assert any(r > here for r in ranks) and any(r < here for r in ranks)  # type: ignore[operator]
        assert any(v.options.get("color") != line.options.get("color") for v in others)
    store.dispose()
