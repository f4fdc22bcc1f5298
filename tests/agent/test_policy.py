"""The policy gate and its profiles: every rule decides both ways, and broken profiles say where."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from agent.policy import (
    PROOF_FOR_WRITES,
    READ_TOOLS,
    WRITE_TOOLS,
    ActionRequest,
    GateDecision,
    ItemFacts,
    OrderFacts,
    PolicyGate,
    PolicyProfile,
    ProfileError,
    Verdict,
    available_profiles,
    load_profile,
    profile_dir,
)
from commerce.models import OrderStatus, ShipmentStatus, UrgencyLevel
from tools import REGISTRY

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
CUSTOMER = "cus_1"
# Actions the shop's own systems take (no customer's yes, never offered by a model).
SYSTEM_TOOLS = frozenset(t for t in WRITE_TOOLS if not REGISTRY[t].consent and not REGISTRY[t].model_visible)


def make_order(**changes: Any) -> OrderFacts:
    facts: dict[str, Any] = {
        "order_id": "#W100",
        "customer_id": CUSTOMER,
        "status": OrderStatus.PENDING,
        "currency": "EUR",
        "total": Decimal("80.00"),
        "amount_paid": Decimal("80.00"),
        "amount_refunded": Decimal("0"),
        "items": [
            ItemFacts(variant_id="v_shirt", product_id="p_shirt", unit_price=Decimal("30.00"), quantity=2),
            ItemFacts(variant_id="v_cap", product_id="p_cap", unit_price=Decimal("20.00")),
        ],
    }
    facts.update(changes)
    return OrderFacts(**facts)


def make_request(
    tool: str,
    arguments: dict[str, Any] | None = None,
    *,
    order: OrderFacts | None = None,
    verified: bool = True,
    customer: str | None = CUSTOMER,
    **extra: Any,
) -> ActionRequest:
    args = {"order_id": order.order_id} if order is not None else {}
    args.update(arguments or {})
    return ActionRequest(
        tool=tool,
        arguments=args,
        identity_verified=verified,
        verified_customer_id=customer if verified else None,
        order=order,
        now=NOW,
        **extra,
    )


def profile_with(base: str, changes: dict[str, Any]) -> PolicyProfile:
    """A shipped profile with some top-level sections replaced."""
    data = load_profile(base).model_dump(mode="json", exclude_unset=True)
    data.update(changes)
    return PolicyProfile.model_validate(data)


@pytest.fixture(scope="module")
def default_gate() -> PolicyGate:
    return PolicyGate(load_profile("default"))


@pytest.fixture(scope="module")
def tau_gate() -> PolicyGate:
    return PolicyGate(load_profile("tau-retail"))


def assert_verdict(decision: GateDecision, verdict: Verdict, clause: str | None = None) -> None:
    assert decision.verdict is verdict, decision
    if clause is not None:
        assert clause in decision.clauses, decision


# ---------------------------------------------------------------- profiles


def test_shipped_profiles_are_listed() -> None:
    assert available_profiles() == ["default", "tau-retail"]
    assert profile_dir().name == "profiles"


@pytest.mark.parametrize(
    ("name", "left_out"), [("default", frozenset()), ("tau-retail", SYSTEM_TOOLS)], ids=["default", "tau-retail"]
)
def test_shipped_profiles_load_and_validate(name: str, left_out: frozenset[str]) -> None:
    profile = load_profile(name)
    assert profile.name == name
    assert set(profile.actions) == WRITE_TOOLS - left_out
    assert profile.urgency_sla_hours.hours_for(UrgencyLevel.RED) == 1
    assert profile.urgency_sla_hours.hours_for(UrgencyLevel.BLUE) == 24


def test_a_profile_loads_from_a_path() -> None:
    assert load_profile(str(profile_dir() / "tau-retail.yaml")).name == "tau-retail"


def test_default_profile_covers_the_sellers_currencies() -> None:
    refund = load_profile("default").actions["issue_refund"]
    assert refund.approval_above is not None
    for currency in ("EUR", "USD", "GBP", "JPY", "KRW", "PLN", "TRY", "BRL", "MXN", "CNY", "SAR"):
        assert currency in refund.approval_above
    assert refund.vip_multiplier == 2


def test_tau_retail_profile_shape() -> None:
    profile = load_profile("tau-retail")
    assert [m.value for m in profile.identity.methods] == ["email", "name_postal_code"]
    assert profile.returns.window_days is None
    disabled = {tool for tool, rule in profile.actions.items() if not rule.enabled}
    assert disabled == {"issue_refund", "create_reshipment", "switch_carrier", "intercept_parcel", "issue_coupon"}
    assert all(rule.approval_above is None for rule in profile.actions.values())


def test_unknown_profile_name_lists_the_available_ones() -> None:
    with pytest.raises(ProfileError) as caught:
        load_profile("shopify-plus")
    message = str(caught.value)
    assert "shopify-plus" in message
    assert "default" in message and "tau-retail" in message


def test_a_missing_profile_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "gone.yaml"
    with pytest.raises(ProfileError, match=r"gone\.yaml: file not found"):
        load_profile(str(path))


def test_a_broken_profile_names_the_file_and_every_field_path(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(
        "name: broken\n"
        "description: a test\n"
        "identity: {methods: [email, fingerprint]}\n"
        "out_of_scope: escalate\n"
        "actions:\n"
        "  refund_everything: {enabled: true}\n"
        "  cancel_order:\n"
        "    allowed_statuses: [pending, shipped]\n"
        "    approval_above: {EUR: -5}\n"
        "    colour: red\n"
        "  modify_order_items:\n"
        "    allowed_reasons: [because]\n",
        encoding="utf-8",
    )
    with pytest.raises(ProfileError) as caught:
        load_profile(str(path))
    lines = str(caught.value).splitlines()
    assert all(line.startswith(f"{path}: ") for line in lines)
    expected = {
        "identity.methods[1]": "fingerprint",
        "actions.refund_everything": "unknown tool",
        "actions.cancel_order.allowed_statuses[1]": "shipped",
        "actions.cancel_order.approval_above.EUR": "negative",
        "actions.cancel_order.colour": "unknown key",
        "actions.modify_order_items.allowed_reasons": "takes no reason",
    }
    for field_path, words in expected.items():
        assert any(f": {field_path}: " in line and words in line for line in lines), (field_path, lines)
    assert len(lines) == len(expected)


def test_profile_yaml_errors_name_the_line(tmp_path: Path) -> None:
    duplicate = tmp_path / "dup.yaml"
    duplicate.write_text("name: a\nname: b\n", encoding="utf-8")
    with pytest.raises(ProfileError, match=r"dup\.yaml: line 2, column 1: .*duplicate key 'name'"):
        load_profile(str(duplicate))
    syntax = tmp_path / "syntax.yaml"
    syntax.write_text("name: [a\n", encoding="utf-8")
    with pytest.raises(ProfileError, match=r"syntax\.yaml: line \d+.*not valid YAML"):
        load_profile(str(syntax))
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(ProfileError, match=r"empty\.yaml: \(top level\): expected a mapping"):
        load_profile(str(empty))


def test_settings_that_do_not_fit_a_tool_are_rejected() -> None:
    with pytest.raises(ValueError) as caught:
        profile_with(
            "default",
            {
                "actions": {
                    "update_customer_address": {"allowed_statuses": ["pending"], "approval_above": {"EUR": 5}},
                    "escalate_to_human": {"enabled": False},
                }
            },
        )
    message = str(caught.value)
    assert "actions.update_customer_address.allowed_statuses: this tool does not act on an order" in message
    assert "actions.update_customer_address.approval_above: this tool moves no money" in message
    assert "actions.escalate_to_human.enabled" in message


def test_a_later_deadline_for_a_more_urgent_level_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "sla.yaml"
    path.write_text(
        "name: sla\ndescription: x\nidentity: {methods: [email]}\nout_of_scope: deny\nactions: {}\n"
        "urgency_sla_hours: {red: 5, orange: 4, yellow: 12, blue: 24}\n",
        encoding="utf-8",
    )
    with pytest.raises(ProfileError, match=r"sla\.yaml: urgency_sla_hours: "):
        load_profile(str(path))


# ---------------------------------------------------------------- rule 1: tools and reads


def test_an_unknown_tool_is_denied(default_gate: PolicyGate) -> None:
    decision = default_gate.evaluate(make_request("delete_everything"))
    assert_verdict(decision, Verdict.DENY, "gate.unknown_tool")


@pytest.mark.parametrize(
    "tool", ["find_customer_by_email", "find_customer_by_name_postal_code", "get_product", "list_product_types"]
)
def test_lookups_and_catalogue_reads_need_no_identity(tau_gate: PolicyGate, tool: str) -> None:
    assert tool in READ_TOOLS
    assert_verdict(tau_gate.evaluate(make_request(tool, verified=False)), Verdict.ALLOW)


@pytest.mark.parametrize("tool", ["get_order", "track_shipment"])
def test_order_reads_need_identity_when_the_profile_says_so(tau_gate: PolicyGate, tool: str) -> None:
    denied = tau_gate.evaluate(make_request(tool, {"order_id": "#W100"}, verified=False))
    assert_verdict(denied, Verdict.DENY, "identity.required_for_reads")
    assert "email" in denied.reasons[0]
    assert_verdict(tau_gate.evaluate(make_request(tool, {"order_id": "#W100"})), Verdict.ALLOW)


def test_reads_without_identity_when_the_profile_allows_it() -> None:
    data = load_profile("default").model_dump(mode="json", exclude_unset=True)
    data["identity"]["required_for_reads"] = False
    gate = PolicyGate(PolicyProfile.model_validate(data))
    assert_verdict(gate.evaluate(make_request("get_customer", {"customer_id": CUSTOMER}, verified=False)), Verdict.ALLOW)


def test_reading_another_customers_data_is_denied(default_gate: PolicyGate) -> None:
    mine = make_order()
    theirs = make_order(customer_id="cus_2")
    assert_verdict(default_gate.evaluate(make_request("get_order", order=mine)), Verdict.ALLOW)
    assert_verdict(default_gate.evaluate(make_request("get_order", order=theirs)), Verdict.DENY, "gate.ownership")
    other = make_request("get_customer", {"customer_id": "cus_2"})
    assert_verdict(default_gate.evaluate(other), Verdict.DENY, "gate.ownership")


# ---------------------------------------------------------------- rule 2: identity and ownership


def test_writes_need_a_verified_customer(default_gate: PolicyGate) -> None:
    order = make_order()
    denied = default_gate.evaluate(make_request("cancel_order", {"reason": "changed my mind"}, order=order, verified=False))
    assert_verdict(denied, Verdict.DENY, "gate.identity")
    allowed = default_gate.evaluate(make_request("cancel_order", {"reason": "changed my mind"}, order=order), confirmed=True)
    assert_verdict(allowed, Verdict.ALLOW)


def test_handing_over_to_a_human_never_needs_identity(tau_gate: PolicyGate) -> None:
    request = make_request(
        "escalate_to_human", {"order_id": None, "reason": "r", "summary": "s", "urgency": "red"}, verified=False
    )
    assert_verdict(tau_gate.evaluate(request), Verdict.ALLOW)


def test_another_customers_order_is_denied(default_gate: PolicyGate) -> None:
    theirs = make_order(customer_id="cus_2")
    decision = default_gate.evaluate(make_request("cancel_order", {"reason": "x"}, order=theirs), confirmed=True)
    assert_verdict(decision, Verdict.DENY, "gate.ownership")
    assert "another customer's order" in decision.reasons[0]


def test_customer_level_tools_check_the_customer_id(default_gate: PolicyGate) -> None:
    coupon = {"percent_off": 10, "reason": "late parcel", "valid_days": 30}
    mine = default_gate.evaluate(make_request("issue_coupon", {"customer_id": CUSTOMER, **coupon}))
    assert_verdict(mine, Verdict.ALLOW)
    theirs = default_gate.evaluate(make_request("issue_coupon", {"customer_id": "cus_2", **coupon}))
    assert_verdict(theirs, Verdict.DENY, "gate.ownership")


def test_order_actions_need_the_order_looked_up(default_gate: PolicyGate) -> None:
    missing = default_gate.evaluate(make_request("cancel_order", {"order_id": "#W100", "reason": "x"}))
    assert_verdict(missing, Verdict.DENY, "gate.order_facts")
    wrong = default_gate.evaluate(make_request("cancel_order", {"order_id": "#W999", "reason": "x"}, order=make_order()))
    assert_verdict(wrong, Verdict.DENY, "gate.order_facts")
    # The number without the leading '#' is the same order.
    same = default_gate.evaluate(
        make_request("cancel_order", {"order_id": "W100", "reason": "x"}, order=make_order()), confirmed=True
    )
    assert_verdict(same, Verdict.ALLOW)


# ---------------------------------------------------------------- rule 3: scope


def test_a_disabled_tool_goes_to_a_human(tau_gate: PolicyGate) -> None:
    order = make_order(status=OrderStatus.DELIVERED)
    decision = tau_gate.evaluate(make_request("issue_refund", {"amount": "5", "reason": "x"}, order=order), confirmed=True)
    assert_verdict(decision, Verdict.APPROVE, "out_of_scope")


def test_a_disabled_tool_is_refused_when_the_profile_says_deny() -> None:
    gate = PolicyGate(profile_with("tau-retail", {"out_of_scope": "deny"}))
    order = make_order(status=OrderStatus.DELIVERED)
    decision = gate.evaluate(make_request("create_reshipment", {"item_ids": ["v_cap"], "reason": "x"}, order=order))
    assert_verdict(decision, Verdict.DENY, "out_of_scope")


def test_a_tool_missing_from_the_profile_is_out_of_scope() -> None:
    gate = PolicyGate(profile_with("default", {"actions": {"cancel_order": {"allowed_statuses": ["pending"]}}}))
    decision = gate.evaluate(make_request("switch_carrier", {"carrier": "dhl", "service_level": "express"}, order=make_order()))
    assert_verdict(decision, Verdict.APPROVE, "out_of_scope")
    escalation = gate.evaluate(make_request("escalate_to_human", {"reason": "r", "summary": "s", "urgency": "blue"}))
    assert_verdict(escalation, Verdict.ALLOW)


# ---------------------------------------------------------------- rule 4: order and shipment stage


def test_order_status_must_be_allowed(tau_gate: PolicyGate) -> None:
    args = {"reason": "no longer needed"}
    pending = tau_gate.evaluate(make_request("cancel_order", args, order=make_order()))
    assert_verdict(pending, Verdict.CONFIRM)
    delivered = tau_gate.evaluate(make_request("cancel_order", args, order=make_order(status=OrderStatus.DELIVERED)))
    assert_verdict(delivered, Verdict.DENY, "actions.cancel_order.allowed_statuses")
    assert "pending" in delivered.reasons[0] and "delivered" in delivered.reasons[0]


def test_returns_need_a_delivered_order(tau_gate: PolicyGate) -> None:
    args = {"item_ids": ["v_cap"], "payment_method_id": "pm_1"}
    assert_verdict(
        tau_gate.evaluate(make_request("return_items", args, order=make_order(status=OrderStatus.DELIVERED))), Verdict.CONFIRM
    )
    assert_verdict(
        tau_gate.evaluate(make_request("return_items", args, order=make_order())),
        Verdict.DENY,
        "actions.return_items.allowed_statuses",
    )


@pytest.mark.parametrize(
    "tool, arguments",
    [
        ("cancel_order", {"reason": "ordered by mistake"}),
        ("modify_order_items", {"item_ids": ["v_cap"], "new_item_ids": ["v_cap_red"], "payment_method_id": "pm_1"}),
        ("modify_order_payment", {"payment_method_id": "pm_2"}),
        (
            "change_shipping_address",
            {"address": {"address1": "1 Main St", "city": "Austin", "state": "TX", "postal_code": "78701", "country": "USA"}},
        ),
    ],
)
def test_nothing_more_changes_after_items_were_modified(tau_gate: PolicyGate, tool: str, arguments: dict[str, Any]) -> None:
    fresh = tau_gate.evaluate(make_request(tool, arguments, order=make_order()))
    assert_verdict(fresh, Verdict.CONFIRM)
    modified = tau_gate.evaluate(make_request(tool, arguments, order=make_order(items_modified=True)))
    assert_verdict(modified, Verdict.DENY, f"actions.{tool}.block_after_items_modified")


def test_items_modified_does_not_block_returns(tau_gate: PolicyGate) -> None:
    order = make_order(status=OrderStatus.DELIVERED, items_modified=True)
    args = {"item_ids": ["v_cap"], "payment_method_id": "pm_1"}
    assert_verdict(tau_gate.evaluate(make_request("return_items", args, order=order)), Verdict.CONFIRM)


@pytest.mark.parametrize(
    "tool, arguments",
    [
        (
            "change_shipping_address",
            {"address": {"address1": "5 Rue X", "city": "Lyon", "postal_code": "69001", "country": "France", "state": ""}},
        ),
        ("switch_carrier", {"carrier": "ups", "service_level": "express"}),
        ("cancel_order", {"reason": "too slow"}),
    ],
)
def test_address_carrier_and_cancel_only_before_pickup(default_gate: PolicyGate, tool: str, arguments: dict[str, Any]) -> None:
    unshipped = make_order(status=OrderStatus.PENDING)
    labelled = make_order(status=OrderStatus.PROCESSED, shipment_statuses=[ShipmentStatus.LABEL_CREATED])
    moving = make_order(status=OrderStatus.PROCESSED, shipment_statuses=[ShipmentStatus.LABEL_CREATED, ShipmentStatus.IN_TRANSIT])
    assert_verdict(default_gate.evaluate(make_request(tool, arguments, order=unshipped)), Verdict.CONFIRM)
    assert_verdict(default_gate.evaluate(make_request(tool, arguments, order=labelled)), Verdict.CONFIRM)
    decision = default_gate.evaluate(make_request(tool, arguments, order=moving))
    assert_verdict(decision, Verdict.DENY, f"actions.{tool}.shipment_stage")
    assert "in transit" in decision.reasons[0]


def test_intercept_only_while_on_the_way(default_gate: PolicyGate) -> None:
    args = {"action": "return_to_sender"}

    def verdict(*statuses: ShipmentStatus) -> Verdict:
        order = make_order(status=OrderStatus.PROCESSED, shipment_statuses=list(statuses))
        return default_gate.evaluate(make_request("intercept_parcel", args, order=order)).verdict

    assert verdict(ShipmentStatus.IN_TRANSIT) is Verdict.CONFIRM
    assert verdict(ShipmentStatus.DELIVERED, ShipmentStatus.CUSTOMS_HOLD) is Verdict.CONFIRM
    assert verdict(ShipmentStatus.LABEL_CREATED) is Verdict.DENY
    assert verdict(ShipmentStatus.DELIVERED) is Verdict.DENY
    assert verdict() is Verdict.DENY


# ---------------------------------------------------------------- rule 5: arguments


def test_cancel_reason_must_be_one_the_profile_lists(tau_gate: PolicyGate) -> None:
    order = make_order()
    accepted = tau_gate.evaluate(make_request("cancel_order", {"reason": "No longer needed"}, order=order))
    assert_verdict(accepted, Verdict.CONFIRM)
    refused = tau_gate.evaluate(make_request("cancel_order", {"reason": "found it cheaper"}, order=order))
    assert_verdict(refused, Verdict.DENY, "actions.cancel_order.allowed_reasons")
    assert "'ordered by mistake'" in refused.reasons[0]


def test_default_profile_accepts_any_cancel_reason(default_gate: PolicyGate) -> None:
    decision = default_gate.evaluate(make_request("cancel_order", {"reason": "found it cheaper"}, order=make_order()))
    assert_verdict(decision, Verdict.CONFIRM)


def test_refund_destination_must_be_allowed() -> None:
    gate = PolicyGate(profile_with("default", {"refunds": {"destinations": ["original_method"]}}))
    order = make_order(status=OrderStatus.DELIVERED)
    original = gate.evaluate(make_request("issue_refund", {"amount": "10", "reason": "x"}, order=order))
    assert_verdict(original, Verdict.CONFIRM)
    gift = gate.evaluate(
        make_request(
            "issue_refund", {"amount": "10", "reason": "x", "destination": "gift_card", "gift_card_id": "gc_1"}, order=order
        )
    )
    assert_verdict(gift, Verdict.DENY, "refunds.destinations")


@pytest.mark.parametrize(
    "arguments, recent, clause",
    [
        ({"percent_off": 15, "valid_days": 90}, 1, None),
        ({"percent_off": 20, "valid_days": 30}, 0, "coupons.max_percent"),
        ({"amount_off": "20", "currency": "EUR", "valid_days": 30}, 0, None),
        ({"amount_off": "25", "currency": "EUR", "valid_days": 30}, 0, "coupons.max_amount"),
        ({"amount_off": "3000", "currency": "JPY", "valid_days": 30}, 0, None),
        ({"amount_off": "5", "currency": "XYZ", "valid_days": 30}, 0, "coupons.max_amount"),
        ({"percent_off": 10, "valid_days": 120}, 0, "coupons.max_valid_days"),
        ({"percent_off": 10, "valid_days": 30}, 2, "coupons.max_per_customer"),
    ],
)
def test_coupon_limits(default_gate: PolicyGate, arguments: dict[str, Any], recent: int, clause: str | None) -> None:
    request = make_request(
        "issue_coupon", {"customer_id": CUSTOMER, "order_id": None, "reason": "late", **arguments}, coupons_issued_recently=recent
    )
    decision = default_gate.evaluate(request)
    if clause is None:
        assert_verdict(decision, Verdict.ALLOW)  # coupons need no confirmation in the default profile
    else:
        assert_verdict(decision, Verdict.DENY, clause)


def test_coupon_amount_is_the_money_it_moves(default_gate: PolicyGate) -> None:
    request = make_request(
        "issue_coupon", {"customer_id": CUSTOMER, "amount_off": "12.50", "currency": "EUR", "reason": "late", "valid_days": 30}
    )
    assert default_gate.evaluate(request).amount == Decimal("12.50")


@pytest.mark.parametrize(
    "tool, arguments",
    [
        ("return_items", {"item_ids": ["v_cap"], "payment_method_id": "pm_1"}),
        ("exchange_items", {"item_ids": ["v_cap"], "new_item_ids": ["v_cap_red"], "payment_method_id": "pm_1"}),
    ],
)
def test_return_window(default_gate: PolicyGate, tool: str, arguments: dict[str, Any]) -> None:
    def decide(delivered_at: dt.datetime | None) -> GateDecision:
        order = make_order(status=OrderStatus.DELIVERED, delivered_at=delivered_at)
        return default_gate.evaluate(make_request(tool, arguments, order=order))

    assert_verdict(decide(NOW - dt.timedelta(days=29)), Verdict.CONFIRM)
    late = decide(NOW - dt.timedelta(days=45))
    assert_verdict(late, Verdict.DENY, "returns.window_days")
    assert "45 days ago" in late.reasons[0]
    assert_verdict(decide(None), Verdict.CONFIRM)  # delivery date unknown: the window cannot be judged
    naive = (NOW - dt.timedelta(days=45)).replace(tzinfo=None)
    assert_verdict(decide(naive), Verdict.DENY, "returns.window_days")


def test_tau_retail_has_no_return_window(tau_gate: PolicyGate) -> None:
    order = make_order(status=OrderStatus.DELIVERED, delivered_at=NOW - dt.timedelta(days=400))
    decision = tau_gate.evaluate(make_request("return_items", {"item_ids": ["v_cap"], "payment_method_id": "pm_1"}, order=order))
    assert_verdict(decision, Verdict.CONFIRM)


def test_an_amount_that_is_not_a_number_is_denied(default_gate: PolicyGate) -> None:
    order = make_order(status=OrderStatus.DELIVERED)
    decision = default_gate.evaluate(make_request("issue_refund", {"amount": "lots", "reason": "x"}, order=order))
    assert_verdict(decision, Verdict.DENY, "gate.arguments")


# ---------------------------------------------------------------- rule 6: money


def refund(
    gate: PolicyGate, amount: str | None, *, currency: str = "EUR", vip: bool = False, paid: str = "500", refunded: str = "0"
) -> GateDecision:
    order = make_order(
        status=OrderStatus.DELIVERED, currency=currency, amount_paid=Decimal(paid), amount_refunded=Decimal(refunded)
    )
    args: dict[str, Any] = {"reason": "damaged", "destination": "original_method"}
    if amount is not None:
        args["amount"] = amount
    return gate.evaluate(make_request("issue_refund", args, order=order, customer_is_vip=vip), confirmed=True)


def test_refunds_up_to_the_limit_run_alone(default_gate: PolicyGate) -> None:
    decision = refund(default_gate, "100.00")
    assert_verdict(decision, Verdict.ALLOW)
    assert decision.amount == Decimal("100.00")


def test_refunds_above_the_limit_need_a_human(default_gate: PolicyGate) -> None:
    decision = refund(default_gate, "100.01")
    assert_verdict(decision, Verdict.APPROVE, "actions.issue_refund.approval_above")
    assert decision.reasons[0] == "Refunds above 100.00 EUR need a human's approval."


def test_a_refund_without_amount_is_everything_still_refundable(default_gate: PolicyGate) -> None:
    small = refund(default_gate, None, paid="120", refunded="40")
    assert small.amount == Decimal("80")
    assert_verdict(small, Verdict.ALLOW)
    assert_verdict(refund(default_gate, None, paid="250", refunded="100"), Verdict.APPROVE)


def test_vip_customers_get_a_higher_limit(default_gate: PolicyGate) -> None:
    assert_verdict(refund(default_gate, "150", vip=True), Verdict.ALLOW)
    above = refund(default_gate, "250", vip=True)
    assert_verdict(above, Verdict.APPROVE, "actions.issue_refund.vip_multiplier")
    assert "200.00 EUR" in above.reasons[0]


def test_limits_are_per_currency(default_gate: PolicyGate) -> None:
    assert_verdict(refund(default_gate, "16000", currency="JPY", paid="50000"), Verdict.ALLOW)
    decision = refund(default_gate, "18000", currency="JPY", paid="50000")
    assert_verdict(decision, Verdict.APPROVE)
    assert "17000 JPY" in decision.reasons[0]


def test_a_currency_without_a_limit_needs_a_human(default_gate: PolicyGate) -> None:
    decision = refund(default_gate, "1", currency="XYZ")
    assert_verdict(decision, Verdict.APPROVE, "actions.issue_refund.approval_above")
    assert "No limit is set" in decision.reasons[0] and "XYZ" in decision.reasons[0]


def test_reshipment_value_is_the_named_lines(default_gate: PolicyGate) -> None:
    order = make_order(
        status=OrderStatus.DELIVERED,
        items=[
            ItemFacts(variant_id="v_lamp", product_id="p_lamp", unit_price=Decimal("70.00"), quantity=2),
            ItemFacts(variant_id="v_bulb", product_id="p_bulb", unit_price=Decimal("15.00"), quantity=1),
        ],
    )

    def reship(*item_ids: str) -> GateDecision:
        args = {"item_ids": list(item_ids), "reason": "damaged", "carrier": None, "service_level": None}
        return default_gate.evaluate(make_request("create_reshipment", args, order=order), confirmed=True)

    lamps = reship("v_lamp")
    assert lamps.amount == Decimal("140.00")
    assert_verdict(lamps, Verdict.ALLOW)
    everything = reship("v_lamp", "v_bulb")
    assert everything.amount == Decimal("155.00")
    assert_verdict(everything, Verdict.APPROVE, "actions.create_reshipment.approval_above")
    assert_verdict(reship("v_chair"), Verdict.DENY, "gate.arguments")


def test_cancel_moves_what_was_paid_and_not_refunded(default_gate: PolicyGate) -> None:
    order = make_order(amount_paid=Decimal("80.00"), amount_refunded=Decimal("30.00"))
    decision = default_gate.evaluate(make_request("cancel_order", {"reason": "x"}, order=order))
    assert decision.amount == Decimal("50.00")


def test_tau_retail_has_no_amount_limits(tau_gate: PolicyGate) -> None:
    order = make_order(amount_paid=Decimal("99999"), total=Decimal("99999"))
    decision = tau_gate.evaluate(make_request("cancel_order", {"reason": "ordered by mistake"}, order=order), confirmed=True)
    assert_verdict(decision, Verdict.ALLOW)


def test_deny_outranks_approval(default_gate: PolicyGate) -> None:
    order = make_order(status=OrderStatus.PENDING, amount_paid=Decimal("500"))
    decision = default_gate.evaluate(make_request("issue_refund", {"amount": "400", "reason": "x"}, order=order))
    assert_verdict(decision, Verdict.DENY, "actions.issue_refund.allowed_statuses")
    assert "actions.issue_refund.approval_above" not in decision.clauses
    assert decision.amount == Decimal("400")


# ---------------------------------------------------------------- rule 7: confirmation


def test_confirmation_says_what_will_happen_then_allows(default_gate: PolicyGate) -> None:
    order = make_order(status=OrderStatus.DELIVERED)
    request = make_request("issue_refund", {"amount": "42", "reason": "late"}, order=order)
    asked = default_gate.evaluate(request)
    assert_verdict(asked, Verdict.CONFIRM, "actions.issue_refund.requires_confirmation")
    assert "42.00 EUR" in asked.reasons[0] and "#W100" in asked.reasons[0]
    confirmed = default_gate.evaluate(request, confirmed=True)
    assert_verdict(confirmed, Verdict.ALLOW)


def test_confirmation_does_not_skip_a_humans_approval(default_gate: PolicyGate) -> None:
    assert_verdict(refund(default_gate, "300"), Verdict.APPROVE)


def test_actions_without_confirmation_run_at_once(default_gate: PolicyGate) -> None:
    request = make_request("issue_coupon", {"customer_id": CUSTOMER, "percent_off": 5, "reason": "r", "valid_days": 10})
    assert_verdict(default_gate.evaluate(request), Verdict.ALLOW)


def test_modifying_items_warns_that_it_is_final(tau_gate: PolicyGate) -> None:
    args = {"item_ids": ["v_cap"], "new_item_ids": ["v_cap_red"], "payment_method_id": "pm_1"}
    decision = tau_gate.evaluate(make_request("modify_order_items", args, order=make_order()))
    assert_verdict(decision, Verdict.CONFIRM)
    assert any("no longer be possible" in reason for reason in decision.reasons)


@pytest.mark.parametrize("tool", sorted(t for t in WRITE_TOOLS - {"issue_coupon"} if REGISTRY[t].consent))
def test_default_profile_confirms_consequential_writes(tool: str) -> None:
    rule = load_profile("default").actions[tool]
    assert rule.requires_confirmation


@pytest.mark.parametrize("tool", sorted(SYSTEM_TOOLS))
def test_default_profile_lets_system_actions_run_on_unshipped_orders(default_gate: PolicyGate, tool: str) -> None:
    rule = load_profile("default").actions[tool]
    assert not rule.requires_confirmation
    assert rule.allowed_statuses == [OrderStatus.PENDING, OrderStatus.PROCESSED]
    arguments = {"reason": "payment failed"}
    allowed = default_gate.evaluate(make_request(tool, arguments, order=make_order()))
    assert_verdict(allowed, Verdict.ALLOW)
    shipped = default_gate.evaluate(make_request(tool, arguments, order=make_order(status=OrderStatus.DELIVERED)))
    assert_verdict(shipped, Verdict.DENY, f"actions.{tool}.allowed_statuses")


@pytest.mark.parametrize(
    "tool",
    [
        "cancel_order",
        "modify_order_items",
        "modify_order_payment",
        "change_shipping_address",
        "return_items",
        "exchange_items",
        "update_customer_address",
    ],
)
def test_tau_retail_confirms_every_consequential_write(tool: str) -> None:
    rule = load_profile("tau-retail").actions[tool]
    assert rule.enabled and rule.requires_confirmation


# ---------------------------------------------------------------- proofs strong enough for writes


@pytest.mark.parametrize("tool", ["cancel_order", "change_shipping_address", "issue_refund", "create_reshipment"])
def test_a_name_and_postal_code_open_no_write_in_the_default_profile(default_gate: PolicyGate, tool: str) -> None:
    # Attack: "My name is Louis Martin, postal code 31000", a new address, "yes": the parcel moved.
    decision = default_gate.evaluate(make_request(tool, order=make_order(), identity_method="name_postal_code"), confirmed=True)
    assert_verdict(decision, Verdict.DENY, PROOF_FOR_WRITES)
    assert "order number and email" in " ".join(decision.reasons)


def test_an_order_number_and_email_open_the_write(default_gate: PolicyGate) -> None:
    decision = default_gate.evaluate(
        make_request("cancel_order", order=make_order(), identity_method="order_number_email"), confirmed=True
    )
    assert PROOF_FOR_WRITES not in decision.clauses
    assert decision.verdict is Verdict.ALLOW


def test_an_action_may_name_its_own_proofs() -> None:
    profile = load_profile("default")
    actions = {name: rule.model_dump(mode="json", exclude_unset=True) for name, rule in profile.actions.items()}
    actions["cancel_order"]["identity"] = ["order_number_email", "name_postal_code"]
    gate = PolicyGate(profile_with("default", {"actions": actions}))
    allowed = gate.evaluate(make_request("cancel_order", order=make_order(), identity_method="name_postal_code"), confirmed=True)
    assert PROOF_FOR_WRITES not in allowed.clauses
    refused = gate.evaluate(
        make_request("change_shipping_address", order=make_order(), identity_method="name_postal_code"), confirmed=True
    )
    assert PROOF_FOR_WRITES in refused.clauses


def test_the_tau_retail_profile_keeps_any_proof_for_writes(tau_gate: PolicyGate) -> None:
    decision = tau_gate.evaluate(
        make_request("cancel_order", {"reason": "no longer needed"}, order=make_order(), identity_method="name_postal_code"),
        confirmed=True,
    )
    assert PROOF_FOR_WRITES not in decision.clauses


def test_a_cancellation_before_shipping_pays_back_any_amount_as_the_readme_says(default_gate: PolicyGate) -> None:
    # Found: cancellations refunded 138,034.51 KZT and 2,381.12 PLN without a human while the README
    # spoke only of a refund cap. The default profile keeps them uncapped (nothing has shipped) and
    # says so; a name and a postal code no longer open them, and a refund of a shipped order is capped.
    for currency, total in (("KZT", Decimal("138034.51")), ("PLN", Decimal("2381.12"))):
        order = make_order(currency=currency, total=total, amount_paid=total)
        cancel = default_gate.evaluate(
            make_request("cancel_order", order=order, identity_method="order_number_email"), confirmed=True
        )
        assert cancel.verdict is Verdict.ALLOW
        weak = default_gate.evaluate(
            make_request("cancel_order", order=order, identity_method="name_postal_code"), confirmed=True
        )
        assert weak.verdict is Verdict.DENY
        shipped = make_order(currency=currency, total=total, amount_paid=total, status=OrderStatus.DELIVERED)
        refund = default_gate.evaluate(make_request("issue_refund", {"reason": "x"}, order=shipped), confirmed=True)
        assert refund.verdict is Verdict.APPROVE
    readme = " ".join((Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8").split())
    assert "a cancellation before the carrier has the parcel pays the whole order back" in readme
