"""Each tool's facts are declared once, on its spec: they must agree with each other, with the
tool's arguments, and with the policy profiles that govern the writes."""

from __future__ import annotations

from typing import Any

import pytest

from agent.policy import PolicyProfile, load_profile
from tools import REGISTRY, ToolKind, ToolSpec
from tools.base import ToolArgs, ToolContext, ToolResult, tool

WRITES = sorted(name for name, spec in REGISTRY.items() if spec.kind is ToolKind.WRITE)
READS = sorted(name for name, spec in REGISTRY.items() if spec.kind is ToolKind.READ)


class _OrderArgs(ToolArgs):
    order_id: str


class _Done(ToolResult):
    ok: bool = True


def _spec(**facts: Any) -> ToolSpec:
    base: dict[str, Any] = {
        "name": "probe",
        "kind": ToolKind.WRITE,
        "function": lambda context, args: _Done(),
        "args_model": _OrderArgs,
        "result_model": _Done,
        "description": "A probe.",
        "target": "order",
        "gerund": "probing an order",
        "noun": "Probes",
        "rule": "probe",
    }
    base.update(facts)
    return ToolSpec(**base)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_tool_has_consistent_facts(name: str) -> None:
    spec = REGISTRY[name]
    assert spec.name == name
    assert spec.problems() == []


@pytest.mark.parametrize("name", WRITES)
def test_every_write_names_a_rule_the_default_profile_sets(name: str) -> None:
    spec = REGISTRY[name]
    assert spec.rule, f"{name} names no policy rule"
    assert spec.rule in load_profile("default").actions, f"the default profile has no rule {spec.rule}"


@pytest.mark.parametrize("profile", ["default", "tau-retail"])
def test_profile_rules_govern_write_tools(profile: str) -> None:
    rules = {spec.rule for spec in REGISTRY.values() if spec.kind is ToolKind.WRITE}
    assert set(load_profile(profile).actions) <= rules


@pytest.mark.parametrize("name", READS)
def test_reads_carry_no_write_facts(name: str) -> None:
    spec = REGISTRY[name]
    assert spec.rule is None and not spec.consent and not spec.moves_money


def test_staff_and_system_tools_are_hidden_from_the_model() -> None:
    hidden = {name for name, spec in REGISTRY.items() if not spec.model_visible}
    assert hidden == {
        "find_customer_by_email",
        "find_customer_by_name_postal_code",
        "update_customer_address",
        "hold_shipment",
        "release_stock",
    }


def test_system_actions_and_the_hand_over_need_no_consent() -> None:
    no_consent = {name for name in WRITES if not REGISTRY[name].consent}
    assert no_consent == {"escalate_to_human", "hold_shipment", "release_stock"}


@pytest.mark.parametrize(
    ("facts", "problem"),
    [
        ({"rule": None}, "a write needs the policy rule"),
        ({"kind": ToolKind.READ, "rule": None, "moves_money": True}, "a read has no moves_money"),
        ({"kind": ToolKind.READ, "consent": False}, "a read has no rule"),
        ({"takes_reason": True}, "takes_reason needs a reason argument"),
        ({"target": "customer"}, "needs a customer_id argument"),
        ({"target": "none", "moves_money": True}, "money moves only on"),
        ({"gerund": "Probing an order"}, "starts lowercase"),
    ],
)
def test_inconsistent_facts_are_refused(facts: dict[str, Any], problem: str) -> None:
    with pytest.raises(TypeError, match=problem):
        _spec(**facts)


def test_the_decorator_refuses_a_write_without_a_rule() -> None:
    def probe_write(context: ToolContext, args: _OrderArgs) -> _Done:
        """A probe."""
        return _Done()

    register = tool(kind=ToolKind.WRITE, target="order", gerund="probing an order", noun="Probes")
    with pytest.raises(TypeError, match="a write needs the policy rule"):
        register(probe_write)
    assert "probe_write" not in REGISTRY


def test_a_rule_without_requires_confirmation_follows_the_tools_consent() -> None:
    data = load_profile("default").model_dump(mode="json", exclude_unset=True)
    for name in ("issue_refund", "hold_shipment"):
        data["actions"][name].pop("requires_confirmation")
    profile = PolicyProfile.model_validate(data)
    assert profile.actions["issue_refund"].requires_confirmation is True
    assert profile.actions["hold_shipment"].requires_confirmation is False


def test_the_model_facing_escalation_keeps_only_the_chosen_arguments() -> None:
    schema = REGISTRY["escalate_to_human"].json_schema(fields=("reason", "urgency", "recommendation"))
    parameters = schema["function"]["parameters"]
    assert set(parameters["properties"]) == {"reason", "urgency", "recommendation"}
    assert parameters["required"] == ["reason"] and parameters["additionalProperties"] is False
    full = REGISTRY["escalate_to_human"].json_schema()["function"]["parameters"]["properties"]
    assert parameters["properties"]["reason"] == full["reason"]
    with pytest.raises(ValueError, match="cannot be left out"):
        REGISTRY["escalate_to_human"].json_schema(fields=("urgency",))
