"""The dialogue keeps the customer's goal: across the identity step, through yes and no in any
language, to the items and the remedy they named; closings get a closing, a hand-over still
answers questions, and the agent never writes what nobody asked for."""

from __future__ import annotations

from sqlalchemy import func, select

from agent.service import SupportAgent
from commerce.models import AuditEntry, Case, Coupon, UrgencyLevel

MUG = "2000000010"  # the mug's item id in order #A1002 of the test shop (T-Shirt and Mug)


def writes(agent: SupportAgent) -> list[str]:
    with agent.store.read() as s:
        return list(s.scalars(select(AuditEntry.tool).where(AuditEntry.ok.is_(True), AuditEntry.tool != "escalate_to_human")))


def pending_tool(agent: SupportAgent, conversation: str) -> str | None:
    pending = agent.state(conversation).get("pending")
    return pending["tool"] if pending else None


def test_the_request_survives_the_identity_step(agent: SupportAgent) -> None:
    agent.handle("g1", "I want to cancel my order")
    agent.handle("g1", "order #A1005, email alice@example.com")
    assert pending_tool(agent, "g1") == "cancel_order"
    assert agent.state("g1")["pending"]["arguments"]["order_id"] == "#A1005"


def test_email_first_and_the_order_number_in_the_next_message(agent: SupportAgent) -> None:
    agent.handle("g2", "Where is my parcel?")
    asked = agent.handle("g2", "my email is alice@example.com")
    assert "order" in asked.reply.lower() and agent.state("g2").get("customer_id") is None
    found = agent.handle("g2", "#A1003")
    assert agent.state("g2")["customer_id"] == "alice" and "JD1003" in found.reply


def test_a_name_and_a_zip_code_in_the_sentence_of_the_request_prove_identity(agent: SupportAgent) -> None:
    agent.handle("g3", "I'm Alice Martin, zip code 75002. Where is my order #A1003?")
    assert agent.state("g3")["customer_id"] == "alice"


def test_names_in_either_order_and_without_an_introduction(agent: SupportAgent) -> None:
    agent.handle("g4", "where is my parcel")
    agent.handle("g4", "Martin Alice, 75002")
    assert agent.state("g4")["customer_id"] == "alice"


def test_yes_with_the_verb_confirms_a_cancellation(agent: SupportAgent) -> None:
    agent.handle("g5", "#A1005 siparişimi iptal etmek istiyorum, e-posta alice@example.com")
    assert pending_tool(agent, "g5") == "cancel_order"
    done = agent.handle("g5", "evet iptal et")
    assert [a["tool"] for a in done.actions] == ["cancel_order"]


def test_a_second_yes_says_it_is_already_done(agent: SupportAgent) -> None:
    agent.handle("g6", "My parcel #A1003 is late! email alice@example.com")
    agent.handle("g6", "yes please")
    again = agent.handle("g6", "yes")
    assert again.actions == [] and "already" in again.reply.lower()
    with agent.store.read() as s:
        assert s.scalar(select(func.count()).select_from(Coupon)) == 1


def test_thanks_and_goodbye_get_a_closing_not_a_greeting(agent: SupportAgent) -> None:
    agent.handle("g7", "Where is order #A1003? alice@example.com")
    bye = agent.handle("g7", "thanks, bye")
    assert "Have a nice day" in bye.reply and "How can I help" not in bye.reply


def test_only_the_named_item_is_sent_again(agent: SupportAgent) -> None:
    agent.handle("g8", "The mug from order #A1002 arrived broken. alice@example.com")
    pending = agent.state("g8")["pending"]
    assert pending["tool"] == "create_reshipment"
    assert pending["arguments"]["item_ids"] == [MUG]


def test_an_unnamed_item_of_two_is_asked_for_then_kept(agent: SupportAgent) -> None:
    asked = agent.handle("g9", "Something in order #A1002 arrived broken. alice@example.com")
    assert pending_tool(agent, "g9") is None and "Mug" in asked.reply and "T-Shirt" in asked.reply
    agent.handle("g9", "the mug")
    assert pending_tool(agent, "g9") == "create_reshipment"


def test_a_refund_asked_for_a_broken_item_is_a_refund(agent: SupportAgent) -> None:
    agent.handle("g10", "The mug of order #A1002 arrived broken, I want my money back. alice@example.com")
    assert pending_tool(agent, "g10") == "issue_refund"


def test_no_with_a_new_request_does_not_repeat_the_refused_one(agent: SupportAgent) -> None:
    agent.handle("g11", "Please cancel order #A1005, alice@example.com")
    assert pending_tool(agent, "g11") == "cancel_order"
    agent.handle("g11", "no wait, don't cancel it. Can you send it to 5 Rue Oberkampf, 75011 Paris instead?")
    assert pending_tool(agent, "g11") == "change_shipping_address"
    agent.handle("g11", "yes")
    assert writes(agent) == ["change_shipping_address"]


def test_a_yes_that_names_another_request_does_not_confirm(agent: SupportAgent) -> None:
    agent.handle("g12", "Please cancel order #A1005, alice@example.com")
    agent.handle("g12", "yes, change the delivery address please")
    assert "cancel_order" not in writes(agent)


def test_ok_bye_does_not_accept_an_offer(agent: SupportAgent) -> None:
    agent.handle("g13", "My parcel #A1003 is late! email alice@example.com")
    assert pending_tool(agent, "g13") == "issue_coupon"
    agent.handle("g13", "ok. bye")
    assert writes(agent) == []


def test_a_declined_coupon_is_not_offered_again(agent: SupportAgent) -> None:
    agent.handle("g14", "Order #A1003, email alice@example.com. It is late, I don't want a coupon, just tell me when it comes")
    assert pending_tool(agent, "g14") is None
    agent.handle("g14", "ok thanks")
    assert writes(agent) == []


def test_a_refusal_is_written_in_the_customers_language(agent: SupportAgent) -> None:
    turn = agent.handle("g15", "请取消订单 #A1003，邮箱 alice@example.com")
    assert turn.language == "zh"
    assert "Cancel" not in turn.reply and "order" not in turn.reply.lower()


def test_after_a_hand_over_tracking_is_answered_and_a_legal_threat_is_urgent(agent: SupportAgent) -> None:
    agent.handle("g16", "Order #A1003, alice@example.com. I want to talk to a human")
    assert agent.handle("g16", "where is my parcel?").status == "escalated"
    tracking = agent.handle("g16", "where is my parcel?")
    assert "JD1003" in tracking.reply
    threat = agent.handle("g16", "If this is not solved today I will file a chargeback with my bank")
    assert threat.urgency == "red"
    with agent.store.read() as s:
        case = s.scalars(select(Case)).one()
        assert case.urgency is UrgencyLevel.RED


def test_two_misunderstandings_offer_choices_before_a_human(agent: SupportAgent) -> None:
    agent.handle("g17", "tell me a joke")
    choices = agent.handle("g17", "what is the capital of France")
    assert choices.status == "open" and len(choices.choices) == 5
    assert any("order" in c.lower() for c in choices.choices)
    assert agent.handle("g17", "do you like pizza").status == "escalated"


def test_two_failed_proofs_of_identity_go_to_a_human(agent: SupportAgent) -> None:
    agent.handle("g18", "Where is order #A1003? my email is nobody@example.com")
    assert agent.state("g18").get("status") == "open"
    second = agent.handle("g18", "sorry, it is someone@example.com")
    assert second.status == "escalated" and agent.state("g18").get("customer_id") is None
    assert "JD1003" not in second.reply


def test_a_request_for_a_person_needs_no_proof_and_no_order(agent: SupportAgent) -> None:
    turn = agent.handle("g19", "My parcel never arrived. I want to talk to a real person please")
    assert turn.status == "escalated" and agent.state("g19").get("customer_id") is None


def test_several_orders_and_none_named_ask_which_then_a_person_takes_over(agent: SupportAgent) -> None:
    agent.handle("g20", "I want to cancel my order")
    asked = agent.handle("g20", "Alice Martin, 75002")
    assert "#A1005" in asked.reply and "#A1001" in asked.reply and pending_tool(agent, "g20") is None
    again = agent.handle("g20", "the one I placed recently, I think")
    assert again.status == "escalated" and writes(agent) == []


def test_a_no_among_an_items_options_does_not_negate_the_refund(agent: SupportAgent) -> None:
    agent.handle("g21", "I want to return the Mug (large, no) from order #A1002, refund to my card please. alice@example.com")
    assert pending_tool(agent, "g21") in ("return_items", "issue_refund")
    assert agent.state("g21").get("remedy") == "refund"
