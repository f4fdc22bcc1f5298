"""The dialogue keeps the customer's goal: across the identity step, through yes and no in any
language, to the items and the remedy they named; closings get a closing, a hand-over still
answers questions, and the agent never writes what nobody asked for."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from agent.service import SupportAgent
from commerce.models import AuditEntry, Case, Coupon, Message, UrgencyLevel
from tools import Caller, Toolbox

MUG = "2000000010"  # the mug's item id in order #A1002 of the test shop (T-Shirt and Mug)
SHIRT = "2000000001"  # the T-Shirt's


def writes(agent: SupportAgent) -> list[str]:
    with agent.store.read() as s:
        return list(s.scalars(select(AuditEntry.tool).where(AuditEntry.ok.is_(True), AuditEntry.tool != "escalate_to_human")))


def pending_tool(agent: SupportAgent, conversation: str) -> str | None:
    pending = agent.state(conversation).get("pending")
    return pending["tool"] if pending else None


def replacement_offered(agent: SupportAgent, conversation: str) -> None:
    """The mug of #A1002 reported broken: a new one is offered and waits for a yes."""
    agent.handle(conversation, "the Mug of order #A1002 came broken, email alice@example.com")
    assert pending_tool(agent, conversation) == "create_reshipment"


def replacement_kept(agent: SupportAgent, conversation: str, message: str, yes: str) -> None:
    """A replacement offered, a message that must leave it waiting, then a yes that sends it."""
    replacement_offered(agent, conversation)
    agent.handle(conversation, message)
    assert pending_tool(agent, conversation) == "create_reshipment"
    agent.handle(conversation, yes)
    assert writes(agent) == ["create_reshipment"]


def proposed_then_done(agent: SupportAgent, conversation: str, messages: list[str], tool: str, yes: str) -> None:
    """The messages leave `tool` waiting for a yes; the yes does it, and nothing else is written."""
    for message in messages:
        agent.handle(conversation, message)
    assert pending_tool(agent, conversation) == tool
    agent.handle(conversation, yes)
    assert writes(agent) == [tool]


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


def test_a_name_in_another_script_proves_identity_and_keeps_the_language(agent: SupportAgent) -> None:
    from commerce.models import Customer, Order

    with agent.store.write() as s:
        s.get(Order, "#A1003").customer_id = "dima"
        s.add(Customer(id="dima", first_name="Дмитрий", last_name="Иванов", email="d@example.kz", postal_code="Z05T3E2"))
    agent.handle("g40", "Hallo, wo ist meine Bestellung?")
    found = agent.handle("g40", "Ich bin Дмитрий Иванов, PLZ Z05T3E2")
    assert agent.state("g40")["customer_id"] == "dima"
    assert found.language == "de"


def test_a_name_and_postal_code_in_words_no_pattern_expects(agent: SupportAgent) -> None:
    agent.handle("g41", "أين طلبي؟")
    agent.handle("g41", "الاسم Alice Martin والرمز البريدي 75002")
    assert agent.state("g41")["customer_id"] == "alice"
    agent.handle("g42", "注文はどこですか")
    agent.handle("g42", "Alice Martin、郵便番号75002です")
    assert agent.state("g42")["customer_id"] == "alice"


def test_a_product_name_next_to_a_number_is_no_failed_proof(agent: SupportAgent) -> None:
    agent.handle("g43", "Where is my order? I bought the Classic Mug for 2025 reasons")
    assert agent.state("g43").get("identity_failures", 0) == 0


def test_an_item_said_to_be_fine_is_not_returned(agent: SupportAgent) -> None:
    # Order #A1002 holds a T-Shirt and a Mug.
    agent.handle("g44", "I want to return the Mug from order #A1002, the T-Shirt is fine. email alice@example.com")
    pending = agent.state("g44")["pending"]
    assert pending["tool"] == "return_items" and pending["arguments"]["item_ids"] == [MUG]


def test_an_item_the_customer_keeps_is_not_returned_in_any_word_order(agent: SupportAgent) -> None:
    agent.handle("g45", "Chcę zwrócić Mug, T-Shirt zostawiam. Zamówienie #A1002, email alice@example.com")
    assert agent.state("g45")["pending"]["arguments"]["item_ids"] == [MUG]
    agent.handle("g46", "I'd like to send back the Mug but I'll keep the T-Shirt. #A1002 alice@example.com")
    assert agent.state("g46")["pending"]["arguments"]["item_ids"] == [MUG]


def test_a_refused_offer_with_a_chargeback_threat_goes_to_a_person(agent: SupportAgent) -> None:
    agent.handle("g47", "My parcel #A1003 is late! email alice@example.com")
    assert pending_tool(agent, "g47") == "issue_coupon"
    out = agent.handle("g47", "I don't want a coupon. If this isn't sorted today I'm doing a chargeback with my bank")
    assert out.status == "escalated" and pending_tool(agent, "g47") is None
    with agent.store.read() as s:
        assert s.scalar(select(func.count()).select_from(Coupon)) == 0
        assert s.scalars(select(Case.urgency)).one() == UrgencyLevel.RED


def test_a_question_about_an_offer_accepts_nothing(agent: SupportAgent) -> None:
    agent.handle("g50", "Can order #A1005 go with express shipping? email alice@example.com")
    assert pending_tool(agent, "g50") == "switch_carrier"
    out = agent.handle("g50", "how much extra does that cost exactly?")
    assert out.actions == [] and "switch_carrier" not in writes(agent)


def test_a_coupon_refused_after_the_word_is_not_given_later(agent: SupportAgent) -> None:
    agent.handle("g51", "注文 #A1003 がまだ届きません。メールは alice@example.com です")
    assert pending_tool(agent, "g51") == "issue_coupon"
    agent.handle("g51", "クーポンはいらないです。いつ届くのかだけ教えてください")
    agent.handle("g51", "わかりました、もう少し待ちます")
    assert "issue_coupon" not in writes(agent)


def test_a_request_taken_back_before_identity_is_replaced_by_the_new_one(agent: SupportAgent) -> None:
    agent.handle("g52", "hola quiero cancelar el pedido #A1005")
    agent.handle("g52", "no espera, mejor no lo canceles. se puede mandar por envio express??")
    agent.handle("g52", "mi correo: alice@example.com")
    assert pending_tool(agent, "g52") == "switch_carrier"


def test_a_name_alone_then_the_postal_code_proves_identity(agent: SupportAgent) -> None:
    agent.handle("g53", "hiya, wheres my parcel?")
    named = agent.handle("g53", "Alice Martin")
    assert named.status != "escalated"
    agent.handle("g53", "postcode is 75002")
    assert agent.state("g53")["customer_id"] == "alice"


def test_a_first_message_without_words_does_not_fix_the_language(agent: SupportAgent) -> None:
    agent.handle("g54", "alice@example.com")
    out = agent.handle("g54", "주문번호 #A1003")
    assert out.language == "ko" and any("\uac00" <= ch <= "\ud7a3" for ch in out.reply)


def test_asking_for_compensation_while_a_coupon_waits_offers_it_again(agent: SupportAgent) -> None:
    agent.handle("g55", "My parcel #A1003 is late! email alice@example.com")
    again = agent.handle("g55", "ok but can i at least get something for the wait? a discount or whatever")
    assert pending_tool(agent, "g55") == "issue_coupon" and "coupon" in again.reply.lower()
    agent.handle("g55", "alright yes, the coupon is fine, go ahead")
    assert writes(agent) == ["issue_coupon"]


def test_refusing_the_money_keeps_the_replacement_on_offer(agent: SupportAgent) -> None:
    agent.handle("g56", "The Mug of order #A1002 arrived broken. email alice@example.com")
    assert pending_tool(agent, "g56") == "create_reshipment"
    agent.handle("g56", "I don't want my money back, can you just send me a new Mug?")
    assert pending_tool(agent, "g56") == "create_reshipment"
    agent.handle("g56", "yep thats fine, do it")
    assert writes(agent) == ["create_reshipment"]


def test_yes_naming_the_offered_refund_confirms_it(agent: SupportAgent) -> None:
    agent.handle("g57", "The Mug of order #A1002 arrived broken, I want my money back. email alice@example.com")
    assert pending_tool(agent, "g57") == "issue_refund"
    agent.handle("g57", "네 환불 진행해주세요")
    assert writes(agent) == ["issue_refund"]


def test_after_asking_which_order_the_newest_with_the_named_item_is_said_and_offered(agent: SupportAgent) -> None:
    from commerce.models import Order, OrderStatus

    with agent.store.write() as s:
        # Two delivered orders with a mug: the customer names no order, twice.
        s.get(Order, "#A1003").status = OrderStatus.DELIVERED
    agent.handle("g58", "my Mug arrived broken. I'm Alice Martin, zip code 75002")
    out = agent.handle("g58", "I'd like a new one sent please")
    # (A name and a postal code show the order; sending a new one needs the order number and email.)
    assert "#A1003" in out.reply and "email" in out.reply
    agent.handle("g58", "order #A1003, alice@example.com")
    assert pending_tool(agent, "g58") == "create_reshipment"
    assert agent.state("g58")["pending"]["arguments"]["order_id"] == "#A1003"


def test_a_cancellation_taken_back_then_a_question_cancels_nothing(agent: SupportAgent) -> None:
    agent.handle("g60", "注文をキャンセルしたいです。注文番号 #A1005、メール alice@example.com")
    assert pending_tool(agent, "g60") == "cancel_order"
    agent.handle("g60", "あ、ちょっと待ってください、やっぱりキャンセルしないでおきます。すみません")
    agent.handle("g60", "発送っていつ頃になりますか？")
    agent.handle("g60", "了解です、ありがとうございました")
    assert "cancel_order" not in writes(agent)


def test_a_proposal_taken_back_for_another_request_proposes_that_one(agent: SupportAgent) -> None:
    agent.handle("g61", "hi i want to cancel order #A1005, email alice@example.com")
    assert pending_tool(agent, "g61") == "cancel_order"
    agent.handle("g61", "hmm wait, no actually dont cancel it. it wont get here before my trip. can you send it express instead?")
    agent.handle("g61", "yes do the express one please")
    assert "cancel_order" not in writes(agent)
    assert pending_tool(agent, "g61") == "switch_carrier" or writes(agent) == ["switch_carrier"]


def test_a_coupon_refused_anywhere_in_the_sentence_is_not_given(agent: SupportAgent) -> None:
    agent.handle("g62", "My parcel #A1003 is late! email alice@example.com")
    agent.handle("g62", "if you want to offer me a coupon: no thanks, I don't need it. I only want to know when it comes")
    agent.handle("g62", "ok, I'll wait then. thanks")
    assert "issue_coupon" not in writes(agent)


def test_a_question_about_the_cost_keeps_the_offer_waiting(agent: SupportAgent) -> None:
    proposed_then_done(
        agent,
        "g63",
        ["I want to cancel order #A1005, email alice@example.com", "and when does the money reach my card?"],
        "cancel_order",
        "yes, cancel it please",
    )


def test_a_yes_and_another_request_in_one_message_does_both_in_turn(agent: SupportAgent) -> None:
    agent.handle("g64", "I need to change the delivery address of #A1005, email alice@example.com")
    agent.handle("g64", "New address: 5 Rue de Rivoli, 75001 Paris")
    assert pending_tool(agent, "g64") == "change_shipping_address"
    out = agent.handle("g64", "yes, change it. And could it also go by express shipping?")
    assert writes(agent) == ["change_shipping_address"]
    assert pending_tool(agent, "g64") == "switch_carrier" and out.status == "awaiting_confirmation"


def test_a_question_then_a_yes_of_its_own_confirms(agent: SupportAgent) -> None:
    agent.handle("g65", "please cancel order #A1005, email alice@example.com")
    assert pending_tool(agent, "g65") == "cancel_order"
    agent.handle("g65", "is there a fee for that? and yes, go ahead and cancel")
    assert writes(agent) == ["cancel_order"]


def test_a_bare_ok_before_a_question_accepts_nothing(agent: SupportAgent) -> None:
    agent.handle("g66", "please cancel order #A1005, email alice@example.com")
    agent.handle("g66", "ok. how long until the money is back?")
    assert writes(agent) == [] and pending_tool(agent, "g66") == "cancel_order"


def test_a_question_about_the_offer_keeps_it_waiting(agent: SupportAgent) -> None:
    replacement_kept(agent, "g67", "how many days would the new one need to reach me?", "alright, yes please")


def test_a_correction_of_the_items_is_proposed_again(agent: SupportAgent) -> None:
    agent.handle("g68", "I'd like to return the T-Shirt and the Mug from #A1002, alice@example.com")
    first = agent.state("g68")["pending"]
    assert first["tool"] == "return_items" and len(first["arguments"]["item_ids"]) == 2
    agent.handle("g68", "no wait, I keep the T-Shirt, only return the Mug please")
    again = agent.state("g68")["pending"]
    assert again["tool"] == "return_items" and again["arguments"]["item_ids"] == [MUG]


def test_refusing_the_replacement_offered_proposes_the_refund(agent: SupportAgent) -> None:
    replacement_offered(agent, "g69")
    agent.handle("g69", "no, a refund")
    assert pending_tool(agent, "g69") == "issue_refund"


def test_a_greeting_before_the_name_is_no_name(agent: SupportAgent) -> None:
    agent.handle("g70", "Guten Tag, Alice Martin, PLZ 75002. Wo ist meine Bestellung #A1003?")
    assert agent.state("g70")["customer_id"] == "alice"


def test_leaving_after_which_order_hands_nothing_over(agent: SupportAgent) -> None:
    agent.handle("g71", "I want to cancel my order. I'm Alice Martin, zip code 75002")
    assert agent.state("g71").get("asked") == "ask_which_order"
    agent.handle("g71", "ok thanks, bye")
    assert agent.state("g71").get("status") != "escalated"


def test_a_question_after_which_order_is_no_unanswered_question(agent: SupportAgent) -> None:
    agent.handle("g74", "I want to cancel my order. I'm Alice Martin, zip code 75002")
    assert agent.state("g74").get("asked") == "ask_which_order"
    agent.handle("g74", "meanwhile, do you ship to Belgium too?")
    with agent.store.read() as s:
        reasons = list(s.scalars(select(Case.reason)))
    assert not any("which of their orders" in r for r in reasons)


def test_the_request_refused_in_the_message_is_not_proposed(agent: SupportAgent) -> None:
    agent.handle("g72", "order #A1005, alice@example.com")
    agent.handle("g72", "no, do not cancel the whole order! I only want to swap one item for another size")
    assert pending_tool(agent, "g72") != "cancel_order" and "cancel_order" not in writes(agent)


def test_an_item_named_inside_japanese_text_is_found(agent: SupportAgent) -> None:
    agent.handle("g73", "届いたMugが割れていました。注文番号 #A1002、メール alice@example.com")
    pending = agent.state("g73")["pending"]
    assert pending and pending["arguments"]["item_ids"] == [MUG]


def test_a_change_of_mind_in_the_message_counts_its_last_word(agent: SupportAgent) -> None:
    replacement_offered(agent, "g75")
    agent.handle("g75", "just refund me... no, actually, please send me a new one")
    assert pending_tool(agent, "g75") == "create_reshipment"


@pytest.mark.parametrize(
    "answer",
    ["vorrei che me lo rispediate, non voglio il rimborso", "please send another one, I don't want a refund"],
)
def test_a_refusal_after_the_remedy_is_no_change_of_mind(agent: SupportAgent, answer: str) -> None:
    replacement_offered(agent, "g76")
    agent.handle("g76", answer)
    assert pending_tool(agent, "g76") == "create_reshipment"


def test_money_back_rather_than_a_new_one_is_a_refund(agent: SupportAgent) -> None:
    replacement_offered(agent, "g77")
    agent.handle("g77", "I'd rather have the money back please, don't send another one")
    assert pending_tool(agent, "g77") == "issue_refund"


def test_an_address_change_instead_of_the_cancellation_cancels_nothing(agent: SupportAgent) -> None:
    agent.handle("g78", "#A1005 siparişimi iptal etmek istiyorum, e-posta alice@example.com")
    assert pending_tool(agent, "g78") == "cancel_order"
    agent.handle("g78", "yok dur iptal etmeyin. sadece teslimat adresini degistirin: Moda Cad. No:12 D:3, 34710 Kadikoy/Istanbul")
    assert pending_tool(agent, "g78") == "change_shipping_address"
    agent.handle("g78", "evet degistirin")
    assert writes(agent) == ["change_shipping_address"]


def test_a_greeting_and_the_details_alone_are_no_request_for_a_human(agent: SupportAgent) -> None:
    out = agent.handle("g79", "مساء الخير. طلب رقم #A1005، الايميل alice@example.com")
    assert out.status != "escalated" and agent.state("g79")["customer_id"] == "alice"


def test_the_email_address_is_no_delivery_address(agent: SupportAgent) -> None:
    agent.handle("g80", "dans mon colis il manquait le Mug")
    agent.handle("g80", "c'est la commande n° #A1002 avec l'adresse alice@example.com")
    assert agent.state("g80")["intent"] != "change_address"
    assert pending_tool(agent, "g80") == "create_reshipment"


def test_a_question_about_what_the_customer_must_do_proposes_nothing(agent: SupportAgent) -> None:
    agent.handle("g81", "order #A1002, alice@example.com")
    agent.handle("g81", "the Mug I got is the wrong one, do I have to send it back?")
    assert pending_tool(agent, "g81") != "return_items"
    agent.handle("g81", "ok, yes")
    assert "return_items" not in writes(agent)


def test_asking_for_a_gesture_after_the_late_parcel_was_handled_offers_the_coupon(agent: SupportAgent) -> None:
    agent.handle("g82", "order #A1003, email alice@example.com. I moved, new address: 5 Rue de Rivoli, 75001 Paris")
    assert pending_tool(agent, "g82") == "intercept_parcel"
    agent.handle("g82", "yes please")
    agent.handle("g82", "and for the delay, can you give me some compensation?")
    assert pending_tool(agent, "g82") == "issue_coupon"


def test_a_coupon_declined_politely_in_japanese_is_not_offered_again(agent: SupportAgent) -> None:
    agent.handle("g83", "注文番号 #A1003 の荷物が遅れています。メール alice@example.com")
    assert pending_tool(agent, "g83") == "issue_coupon"
    agent.handle("g83", "クーポンは結構です。いつ届くか教えてください")
    agent.handle("g83", "わかりました")
    assert "issue_coupon" not in writes(agent)


def test_a_change_of_mind_keeps_each_negation_in_its_clause(agent: SupportAgent) -> None:
    agent.handle("g84", "Mug из заказа #A1002 пришёл разбитым, почта alice@example.com")
    assert pending_tool(agent, "g84") == "create_reshipment"
    agent.handle("g84", "хотя нет, стоп, не надо новый. лучше верните деньги за него")
    assert pending_tool(agent, "g84") == "issue_refund"


def test_a_change_of_mind_in_japanese_keeps_its_negation(agent: SupportAgent) -> None:
    agent.handle("g85", "注文番号 #A1002 のMugが割れていました。メール alice@example.com")
    assert pending_tool(agent, "g85") == "create_reshipment"
    agent.handle("g85", "返金で…いや、やっぱり返金じゃなくて新しいのを送ってください")
    assert pending_tool(agent, "g85") == "create_reshipment"


def test_money_refused_in_spanish_keeps_the_replacement(agent: SupportAgent) -> None:
    replacement_kept(agent, "g86", "no quiero el dinero, quiero que me mandéis el Mug que pedí", "sí, mandadlo")


def test_an_arabic_comma_ends_the_clause_of_its_negation(agent: SupportAgent) -> None:
    replacement_offered(agent, "g87")
    # "I don't want a replacement, I want my money back": the no stays with the replacement.
    agent.handle("g87", "ما ابغى بديل، ابغى فلوسي ترجع لو سمحت")
    assert pending_tool(agent, "g87") == "issue_refund"


def test_a_yes_that_refuses_the_other_remedy_confirms(agent: SupportAgent) -> None:
    replacement_offered(agent, "g88")
    # "Right, send the Mug, I don't want a refund": the yes sends it.
    agent.handle("g88", "doğru Mug ürününü gönderin istiyorum, para iadesi istemiyorum")
    assert writes(agent) == ["create_reshipment"]


def test_dropping_the_refund_for_a_new_parcel_proposes_the_parcel(agent: SupportAgent) -> None:
    agent.handle("g89", "le Mug de la commande #A1002 est arrivé cassé, mail alice@example.com")
    agent.handle("g89", "remboursez-moi le Mug svp")
    assert pending_tool(agent, "g89") == "issue_refund"
    agent.handle("g89", "non en fait laissez tomber le remboursement, je préfère que vous me le renvoyiez")
    assert pending_tool(agent, "g89") == "create_reshipment"


def test_the_next_request_is_about_the_items_it_names(agent: SupportAgent) -> None:
    replacement_offered(agent, "g90")
    agent.handle("g90", "yes please")
    agent.handle("g90", "oh and I'd also like to return the T-Shirt, didn't like it")
    pending = agent.state("g90")["pending"]
    assert pending["tool"] == "return_items" and pending["arguments"]["item_ids"] == ["2000000001"]


def test_a_confirmation_then_goodbye_accepts_the_offer(agent: SupportAgent) -> None:
    replacement_offered(agent, "g91")
    agent.handle("g91", "嗯确认，寄吧。谢谢拜拜")
    assert writes(agent) == ["create_reshipment"]


def test_nothing_arrived_of_an_order_on_its_way_is_no_missing_item(agent: SupportAgent) -> None:
    out = agent.handle("g92", "the Mug is missing, I still have nothing. order #A1003, alice@example.com")
    assert pending_tool(agent, "g92") != "create_reshipment" and "JD1003" in out.reply


def test_a_few_unsure_words_after_tracking_ask_for_nothing(agent: SupportAgent) -> None:
    agent.handle("g93", "donde esta mi pedido #A1002? correo alice@example.com")
    out = agent.handle("g93", "vale, pues espero. gracias")
    assert out.status != "escalated" and not writes(agent)


def test_the_page_language_answers_a_message_of_only_an_email(agent: SupportAgent) -> None:
    out = agent.handle("g94", "alice@example.com", locale="it")
    assert agent.state("g94")["language"] == "it" and not agent.state("g94")["language_known"]
    assert "Sorry" not in out.reply
    agent.handle("g94", "el pedido #A1005, lo quiero cancelar por favor")
    assert agent.state("g94")["language"] == "es"


def test_a_corrected_order_number_keeps_the_request(agent: SupportAgent) -> None:
    agent.handle("g95", "siparişimi iptal etmek istiyorum")
    agent.handle("g95", "sipariş #B2001 mail alice@example.com")
    agent.handle("g95", "pardon yanlış numara yazmışım, doğrusu #A1005")
    assert agent.state("g95")["intent"] == "cancel_order"
    assert pending_tool(agent, "g95") == "cancel_order"


def test_not_wanting_to_cancel_in_japanese_proposes_no_cancellation(agent: SupportAgent) -> None:
    agent.handle("g96", "注文番号 #A1001、メール alice@example.com")
    agent.handle("g96", "キャンセルはしたくないです。中身だけ変更したいんです")
    assert pending_tool(agent, "g96") != "cancel_order"


def test_a_return_of_both_changed_to_one_as_written_in_japanese(agent: SupportAgent) -> None:
    agent.handle("g97", "注文番号 #A1002、メール alice@example.com。T-ShirtとMugを返品したいです")
    assert agent.state("g97")["pending"]["arguments"]["item_ids"] == ["2000000001", "2000000010"]
    agent.handle("g97", "両方返品…いや、やっぱりMugだけにします。T-Shirtはそのままでいいです")
    assert agent.state("g97")["pending"]["arguments"]["item_ids"] == [MUG]


def test_the_money_asked_after_a_problem_told_before_is_a_refund_for_it(agent: SupportAgent) -> None:
    agent.handle("g98", "السلام عليكم، وصلني الطلب بس الـ Mug مكسور")
    agent.handle("g98", "رقم الطلب #A1002 والايميل alice@example.com")
    agent.handle("g98", "ما ابي بديل، ابي فلوسي ترجع لو سمحت")
    assert pending_tool(agent, "g98") == "issue_refund"


def test_a_size_change_of_a_pending_order_is_made_after_a_yes(agent: SupportAgent) -> None:
    offer = agent.handle("g99", "can I still change the T-Shirt of order #A1005 to a size bigger? email alice@example.com")
    assert pending_tool(agent, "g99") == "modify_order_items"
    assert agent.state("g99")["pending"]["arguments"]["new_item_ids"] == ["2000000002"]
    assert "T-Shirt (blue L)" in offer.reply
    done = agent.handle("g99", "yes please")
    assert writes(agent) == ["modify_order_items"] and "#A1005" in done.reply
    with agent.store.read() as s:
        from commerce.models import Order

        assert [line.variant_id for line in s.get(Order, "#A1005").items] == ["2000000002"]  # type: ignore[union-attr]


def test_a_delivered_item_too_small_is_exchanged_one_size_up(agent: SupportAgent) -> None:
    agent.handle("g100", "the T-Shirt of order #A1002 is too small, can I exchange it? email alice@example.com")
    assert pending_tool(agent, "g100") == "exchange_items"
    agent.handle("g100", "sí, adelante")
    assert writes(agent) == ["exchange_items"]


def test_a_colour_out_of_stock_goes_to_a_person_and_a_missing_choice_is_asked_once(agent: SupportAgent) -> None:
    gone = agent.handle("g101", "order #A1005, alice@example.com: I'd like the T-Shirt in red instead")
    assert gone.status == "open" and "blue L" in gone.reply
    again = agent.handle("g101", "no, I really want it in red")
    assert again.status == "escalated" and writes(agent) == []
    agent.handle("g102", "order #A1005, alice@example.com: I'd like to change the T-Shirt to another variant")
    assert agent.state("g102").get("asked") == "ask_variant"
    again = agent.handle("g102", "just something different please")
    assert again.status == "escalated" and writes(agent) == []


def test_cancelling_given_up_for_a_size_change(agent: SupportAgent) -> None:
    agent.handle("g103", "cancel order #A1005 please, alice@example.com")
    assert pending_tool(agent, "g103") == "cancel_order"
    agent.handle("g103", "wait, instead of cancelling could you change the T-Shirt to size L?")
    assert pending_tool(agent, "g103") == "modify_order_items"
    agent.handle("g103", "はい、キャンセルはせずにサイズの変更だけでお願いします。")
    assert writes(agent) == ["modify_order_items"]


def test_a_parcel_on_its_way_is_called_back_instead_of_cancelled(agent: SupportAgent) -> None:
    offer = agent.handle("g104", "please cancel order #A1003, email alice@example.com")
    assert pending_tool(agent, "g104") == "intercept_parcel"
    assert agent.state("g104")["pending"]["arguments"]["action"] == "return_to_sender"
    assert "back" in offer.reply
    agent.handle("g104", "yes")
    assert writes(agent) == ["intercept_parcel"]


def test_a_new_one_instead_of_the_refund_in_italian(agent: SupportAgent) -> None:
    agent.handle("g105", "il Mug dell'ordine #A1002 è arrivato rotto, email alice@example.com. vorrei il rimborso")
    assert pending_tool(agent, "g105") == "issue_refund"
    agent.handle("g105", "anzi no, ci ho ripensato. preferisco che me ne mandiate uno nuovo invece del rimborso")
    assert pending_tool(agent, "g105") == "create_reshipment"


def test_two_requests_in_one_message_are_done_one_after_the_other(agent: SupportAgent) -> None:
    both = {"change_shipping_address", "switch_carrier"}
    agent.handle(
        "g106",
        "order #A1005, alice@example.com: please send it to 12 Elm Street, 75001 Paris, France. Also can you ship it express?",
    )
    first = pending_tool(agent, "g106")
    assert first in both
    then = agent.handle("g106", "yes")
    assert writes(agent) == [first] and then.status == "awaiting_confirmation"
    assert pending_tool(agent, "g106") == (both - {first}).pop()
    agent.handle("g106", "yes")
    assert set(writes(agent)) == both


def test_yes_to_both_does_both(agent: SupportAgent) -> None:
    agent.handle("g107", "order #A1005, alice@example.com. Two things: new address 12 Elm Street, 75001 Paris, France")
    agent.handle("g107", "and can it go express too?")
    agent.handle("g107", "ja, beides bitte")
    assert sorted(writes(agent)) == ["change_shipping_address", "switch_carrier"]


def test_a_yes_signed_off_with_cheers_accepts(agent: SupportAgent) -> None:
    replacement_offered(agent, "g108")
    agent.handle("g108", "yes please that'd be brilliant, cheers")
    assert writes(agent) == ["create_reshipment"]


def test_no_resend_then_refund_in_chinese_without_punctuation(agent: SupportAgent) -> None:
    replacement_offered(agent, "g109")
    agent.handle("g109", "不用补发了 直接退款吧 退回原来付款那张卡就行")
    assert pending_tool(agent, "g109") == "issue_refund"


def test_a_yes_that_waits_for_a_person_takes_no_offer(agent: SupportAgent) -> None:
    replacement_offered(agent, "g110")
    turn = agent.handle("g110", "ok, I'll wait for someone to get back to me")
    assert writes(agent) == [] and turn.status == "escalated"
    replacement_offered(agent, "g111")
    agent.handle("g111", "Dobrze, czekam na kontakt. Zdjęcia mogę przesłać mailem.")
    assert writes(agent) == []


def test_a_message_of_only_details_keeps_the_language_of_the_page(agent: SupportAgent) -> None:
    agent.handle("g112", "merhaba, dun siparisim geldi ama Mug kirik cikti, kutu da ezikti zaten", locale="tr")
    turn = agent.handle("g112", "siparis no #A1002 mail alice@example.com")
    assert agent.state("g112")["language"] == "tr" and turn.language == "tr"


def test_ok_with_a_refusal_of_the_proposal_is_no(agent: SupportAgent) -> None:
    agent.handle("g113", "please cancel order #A1003, email alice@example.com")
    assert pending_tool(agent, "g113") == "intercept_parcel"
    agent.handle("g113", "ok, I'll just receive it then, don't cancel anything")
    assert writes(agent) == [] and pending_tool(agent, "g113") is None


def test_a_late_yes_that_asks_for_the_proposal_again_accepts(agent: SupportAgent) -> None:
    replacement_offered(agent, "g114")
    agent.handle("g114", "If you can just send it again that'd be brilliant, yes please")
    assert writes(agent) == ["create_reshipment"]


def test_identity_with_words_that_ask_nothing_keeps_the_goal(agent: SupportAgent) -> None:
    agent.handle("g115", "el T-Shirt me quedó muy grande, ¿lo puedo cambiar por una talla menos?")
    agent.handle("g115", "claro, mi pedido es #A1002 y el correo con el que compré es alice@example.com")
    assert agent.state("g115")["intent"] == "exchange_request"


def test_a_new_one_sent_and_the_broken_one_taken_back_when_both_are_asked(agent: SupportAgent) -> None:
    replacement_offered(agent, "g116")
    agent.handle("g116", "Please send me a new one, and I also want to send the broken one back to you. Can you do both?")
    assert pending_tool(agent, "g116") == "create_reshipment"
    agent.handle("g116", "Yes, both please")
    assert writes(agent) == ["create_reshipment", "return_items"]


def test_the_right_one_sent_and_the_wrong_one_returned_in_darija(agent: SupportAgent) -> None:
    replacement_offered(agent, "g117")
    agent.handle("g117", "بغيت تصيفطو ليا واحد جديد، وأنا نرجع ليكم هادا اللي جاني. واخا؟")
    assert pending_tool(agent, "g117") == "create_reshipment"
    agent.handle("g117", "إيه واخا، ديرو بجوج. شكرا بزاف")
    assert writes(agent) == ["create_reshipment", "return_items"]


def test_sending_it_back_for_the_money_is_a_return(agent: SupportAgent) -> None:
    agent.handle("g118", "order #A1002, alice@example.com. I'd rather just send the Mug back and get my money back")
    assert pending_tool(agent, "g118") == "return_items"


def test_a_return_asked_beside_a_question_about_the_refund_is_proposed(agent: SupportAgent) -> None:
    agent.handle(
        "g119",
        "Moin, der Mug gefällt mir nicht, ich würde ihn gern zurückschicken und mein Geld wiederhaben. "
        "Wie lange dauert das eigentlich bis die Erstattung auf dem Konto ist?",
    )
    agent.handle("g119", "Bestellnummer #A1002, meine Mail ist alice@example.com")
    assert pending_tool(agent, "g119") == "return_items"


def test_a_recall_asked_in_other_words_and_the_money_after_it(agent: SupportAgent) -> None:
    agent.handle("g120", "please cancel order #A1003, email alice@example.com")
    assert pending_tool(agent, "g120") == "intercept_parcel"
    agent.handle("g120", "Ah it is already sent? Ok, then can you make it come back to you? I don't want to receive it")
    assert writes(agent) == ["intercept_parcel"]
    money = agent.handle("g120", "And the money I get back when it arrives to you, correct?")
    assert money.status != "escalated" and "refunded" in money.reply


def test_a_turkish_yes_to_the_refund_that_says_iade(agent: SupportAgent) -> None:
    replacement_offered(agent, "g121")
    agent.handle("g121", "yenisini istemiyorum acikcasi, param iade edilsin yeter")
    assert pending_tool(agent, "g121") == "issue_refund"
    agent.handle("g121", "tamam onayliyorum, iade edin lutfen. tesekkurler")
    assert writes(agent) == ["issue_refund"]


def test_a_size_change_and_express_agreed_to_together(agent: SupportAgent) -> None:
    agent.handle("g122", "order #A1005, alice@example.com. Can I change the T-Shirt to size L? And can it be sent express too?")
    assert pending_tool(agent, "g122") == "modify_order_items"
    agent.handle("g122", "Sim, pode fazer as duas coisas. Se o expresso tiver custo extra não faz mal.")
    assert sorted(writes(agent)) == ["modify_order_items", "switch_carrier"]


def test_a_coupon_asked_in_a_negative_question_is_offered_again(agent: SupportAgent) -> None:
    agent.handle("g123", "My parcel #A1003 is late! email alice@example.com")
    assert pending_tool(agent, "g123") == "issue_coupon"
    agent.handle("g123", "ta, mas nao da pra vcs me darem pelo menos um cupom pela demora? to bem chateado")
    assert pending_tool(agent, "g123") == "issue_coupon"
    agent.handle("g123", "pode ser, aceito o cupom")
    assert writes(agent) == ["issue_coupon"]


def test_waiting_and_wanting_nothing_else_takes_no_coupon(agent: SupportAgent) -> None:
    agent.handle("g124", "My parcel #A1003 is late! email alice@example.com")
    assert pending_tool(agent, "g124") == "issue_coupon"
    agent.handle("g124", "طيب ماشي، بستنى كم يوم كمان. ما بدي شي غير هيك، شكراً")
    assert writes(agent) == []


def test_a_korean_yes_after_a_word_about_the_fee(agent: SupportAgent) -> None:
    agent.handle("g125", "order #A1005, alice@example.com. can it go express?")
    assert pending_tool(agent, "g125") == "switch_carrier"
    agent.handle("g125", "추가 요금 있으면 낼게요. 변경해 주세요!")
    assert writes(agent) == ["switch_carrier"]


def test_an_exchange_wanted_only_not_the_money_in_polish(agent: SupportAgent) -> None:
    agent.handle(
        "g126",
        "Zamówienie #A1002, alice@example.com. T-Shirt jest za mały. Chciałbym wymienić na rozmiar większy, "
        "nie chcę zwrotu kasy tylko wymianę.",
    )
    assert pending_tool(agent, "g126") == "exchange_items"


def test_yes_to_the_size_change_with_the_cancellation_refused_in_japanese(agent: SupportAgent) -> None:
    agent.handle("g127", "注文番号#A1005、メールはalice@example.comです。キャンセルしたいです。")
    assert pending_tool(agent, "g127") == "cancel_order"
    agent.handle("g127", "あ、やっぱりキャンセルはやめます。T-Shirtをひとつ大きいサイズに変えてもらうことはできますか？")
    assert pending_tool(agent, "g127") == "modify_order_items"
    agent.handle("g127", "はい、そのサイズ変更でお願いします。キャンセルはしないでください。")
    assert writes(agent) == ["modify_order_items"]


def test_the_new_address_sent_without_an_introduction(agent: SupportAgent) -> None:
    agent.handle("g128", "quiero cambiar la dirección de entrega del pedido #A1005, alice@example.com")
    agent.handle("g128", "la nueva es Gurruchaga 1850, piso 3 depto B, C1414DHN, CABA, Argentina")
    assert pending_tool(agent, "g128") == "change_shipping_address"


def test_express_asked_in_a_chinese_a_not_a_question_is_queued(agent: SupportAgent) -> None:
    agent.handle("g129", "订单 #A1005 邮箱 alice@example.com")
    agent.handle("g129", "T-Shirt 想换大一码 还有能不能改成加急快递啊")
    assert pending_tool(agent, "g129") in ("modify_order_items", "switch_carrier")
    agent.handle("g129", "嗯嗯 两个都改吧 确认")
    assert sorted(writes(agent)) == ["modify_order_items", "switch_carrier"]


def test_everything_damaged_then_the_money_asks_for_no_item(agent: SupportAgent) -> None:
    agent.handle("g130", "Bonjour, commande #A1002, tout est abîmé, le carton était trempé. Mon e-mail: alice@example.com")
    turn = agent.handle("g130", "Non, je ne veux pas de renvoi, je veux mon argent. Tout le montant.")
    assert "ask_which_item" not in (agent.state("g130").get("asked") or "")
    assert turn.status == "escalated" or pending_tool(agent, "g130") == "issue_refund"


def test_an_ok_beside_a_refused_discount_takes_no_coupon(agent: SupportAgent) -> None:
    agent.handle("g131", "My parcel #A1003 is late! email alice@example.com")
    assert pending_tool(agent, "g131") == "issue_coupon"
    agent.handle("g131", "vale. lo del descuento no me interesa, solo quiero el paquete. espero a ver si llega esta semana")
    assert writes(agent) == []


def test_express_instead_of_cancelling_in_japanese(agent: SupportAgent) -> None:
    agent.handle("g132", "注文をキャンセルしたいです。#A1005、alice@example.com")
    assert pending_tool(agent, "g132") == "cancel_order"
    agent.handle("g132", "それならキャンセルはやめて、速達に変更でお願いします。差額は払います。")
    assert pending_tool(agent, "g132") == "switch_carrier"


def test_yes_to_the_refund_naming_the_payment_method(agent: SupportAgent) -> None:
    replacement_offered(agent, "g133")
    agent.handle("g133", "ik hoef geen nieuwe hoor, gewoon mijn geld terug graag")
    assert pending_tool(agent, "g133") == "issue_refund"
    agent.handle("g133", "ja prima, gewoon terug via ideal is goed")
    assert writes(agent) == ["issue_refund"]


@pytest.mark.parametrize(
    ("conversation", "first", "yes"),
    [
        ("g134", "배송 중인 택배 반송 가능한가요? 주문 #A1003, alice@example.com", "네 반송 처리 해주세요"),
        ("g135", "我这个订单 #A1003 已经在路上了，能拦截退回吗 邮箱 alice@example.com", "嗯对，拦回去吧"),
        ("g136", "заказ #A1003, alice@example.com. можно её как-то остановить чтоб она к вам вернулась?", "да, отзывайте"),
        (
            "g137",
            "ordine #A1003, alice@example.com. il pacco è già partito, si può fermare e farlo tornare indietro?",
            "sì va bene, fermatelo",
        ),
    ],
)
def test_a_parcel_on_its_way_called_back_in_other_words(agent: SupportAgent, conversation: str, first: str, yes: str) -> None:
    agent.handle(conversation, first)
    assert pending_tool(agent, conversation) == "intercept_parcel"
    assert agent.state(conversation)["pending"]["arguments"]["action"] == "return_to_sender"
    agent.handle(conversation, yes)
    assert writes(agent) == ["intercept_parcel"]


def test_russian_yes_to_the_right_one_with_the_money_refused(agent: SupportAgent) -> None:
    replacement_offered(agent, "g138")
    agent.handle("g138", "да, пришлите пожалуйста правильный, деньги возвращать не надо")
    assert writes(agent) == ["create_reshipment"]


def test_not_cancelling_but_a_bigger_size_in_russian(agent: SupportAgent) -> None:
    agent.handle("g139", "здравствуйте хочу отменить заказ #A1005, почта alice@example.com")
    assert pending_tool(agent, "g139") == "cancel_order"
    agent.handle("g139", "ой подождите, не отменяйте. а можно просто поменять T-Shirt на размер побольше, раз ещё не отправили?")
    assert pending_tool(agent, "g139") == "modify_order_items"


def test_express_asked_in_russian_queues_no_exchange(agent: SupportAgent) -> None:
    agent.handle("g140", "Заказ #A1005, alice@example.com. Можно поменять на экспресс?")
    assert pending_tool(agent, "g140") == "switch_carrier"
    turn = agent.handle("g140", "Да, согласна, меняйте на экспресс, доплачу если надо")
    assert writes(agent) == ["switch_carrier"] and turn.status != "escalated"


def test_thanks_after_the_size_question_takes_leave(agent: SupportAgent) -> None:
    agent.handle("g141", "order #A1005, alice@example.com. I'd like to change the T-Shirt to another colour")
    turn = agent.handle("g141", "thank you so much!!")
    assert turn.status != "escalated" and writes(agent) == []


def test_cancelling_an_order_made_by_accident_in_spanish(agent: SupportAgent) -> None:
    agent.handle(
        "g142", "quisiera cancelar mi pedido #A1005 por favor, lo hice sin querer y ya no lo necesito. alice@example.com"
    )
    assert pending_tool(agent, "g142") == "cancel_order"


def test_no_to_a_new_one_with_the_money_wanted_accepts_the_refund(agent: SupportAgent) -> None:
    replacement_offered(agent, "g143")
    agent.handle("g143", "preferisco il rimborso, rivoglio i soldi")
    assert pending_tool(agent, "g143") == "issue_refund"
    agent.handle("g143", "no guardi, non me lo rimandate, rivoglio i soldi. sulla carta va benissimo")
    assert writes(agent) == ["issue_refund"]


def test_express_asked_while_the_address_change_waits_is_done_after_it(agent: SupportAgent) -> None:
    agent.handle("g144", "pedido #A1005, email alice@example.com. la buena es Carrer de Provença 281, 4t 1a, 08037 Barcelona")
    assert pending_tool(agent, "g144") == "change_shipping_address"
    assert "la buena" not in agent.state("g144")["pending"]["arguments"]["address"]["address1"]
    agent.handle("g144", "genial. y ya que estamos, se puede mandar por urgente? si hay que pagar la diferencia no pasa nada")
    agent.handle("g144", "si si, las dos cosas, adelante")
    assert sorted(writes(agent)) == ["change_shipping_address", "switch_carrier"]


def test_one_item_returned_and_the_other_exchanged_in_one_message(agent: SupportAgent) -> None:
    agent.handle(
        "g145",
        "order #A1002, alice@example.com. The Mug I don't like, I want to return it and get my money back. "
        "And the T-Shirt is fine, just a bit small, I'd like it one size bigger.",
    )
    assert pending_tool(agent, "g145") == "return_items"
    assert agent.state("g145")["pending"]["arguments"]["item_ids"] == [MUG]
    agent.handle("g145", "yes, both please")
    assert sorted(writes(agent)) == ["exchange_items", "return_items"]


def test_just_letting_you_know_declines_the_replacement_without_a_person(agent: SupportAgent) -> None:
    agent.handle("g146", "订单#A1002的Mug边上有一点磕碰，邮箱alice@example.com")
    assert pending_tool(agent, "g146") == "create_reshipment"
    turn = agent.handle("g146", "其实不太影响使用，我就是跟你们说一声")
    assert turn.status == "open" and pending_tool(agent, "g146") is None
    agent.handle("g146", "嗯 拜拜")
    assert writes(agent) == []


def test_just_that_one_confirms_the_return_of_one_item_only(agent: SupportAgent) -> None:
    agent.handle(
        "g147",
        "got my order, the T-Shirt is lovely but the Mug just doesn't suit me. Can I send it back and get a refund? "
        "Order #A1002, alice@example.com",
    )
    assert agent.state("g147")["pending"]["arguments"]["item_ids"] == [MUG]
    agent.handle("g147", "Just that one, I'm keeping the rest")
    assert writes(agent) == ["return_items"]


def test_just_that_one_is_no_yes_to_a_return_of_two_items(agent: SupportAgent) -> None:
    agent.handle("g148", "I want to return my order #A1002, alice@example.com")
    assert len(agent.state("g148")["pending"]["arguments"]["item_ids"]) == 2
    agent.handle("g148", "just that one")
    assert writes(agent) == []


def test_someone_to_look_into_it_is_a_person(agent: SupportAgent) -> None:
    agent.handle("g149", "the Mug of order #A1002 came broken, email alice@example.com")
    turn = agent.handle("g149", "Can someone please look into this properly")
    assert turn.status == "escalated" and writes(agent) == []


def test_a_coupon_asked_for_a_late_delivered_parcel_is_offered(agent: SupportAgent) -> None:
    messages = [
        "طلبي #A1002 وصل متأخر اسبوع كامل عن الموعد، تجربة مو حلوة",
        "الايميل alice@example.com. ما ابي ارجع شي، بس على الاقل عطوني كود خصم للطلب الجاي",
    ]
    proposed_then_done(agent, "g150", messages, "issue_coupon", "اوكي موافق، ارسلوه")


def test_is_that_normal_after_a_customs_hold_is_no_complaint(agent: SupportAgent) -> None:
    turn = agent.handle(
        "g151",
        "здравствуйте, в отслеживании написано что посылка на таможне уже 4 дня. это нормально вообще? #A1003 alice@example.com",
    )
    assert turn.status != "escalated" and turn.intent != "complaint"


def test_an_item_already_exchanged_is_not_offered_for_return(agent: SupportAgent) -> None:
    agent.handle("g152", "the T-Shirt of order #A1002 is too small, can I exchange it? email alice@example.com")
    agent.handle("g152", "yes please")
    assert writes(agent) == ["exchange_items"]
    turn = agent.handle("g152", "and the T-Shirt I have now, how do I return it?")
    assert pending_tool(agent, "g152") is None and turn.status != "escalated"
    agent.handle("g152", "ok thanks, great")
    assert writes(agent) == ["exchange_items"]


def test_i_will_wait_a_few_more_days_then_bye_sends_nothing(agent: SupportAgent) -> None:
    agent.handle("g153", "hi, where is my parcel? I lost the confirmation email")
    agent.handle("g153", "I'm Alice Martin, zip code 75002")
    agent.handle("g153", "ah ok so it's on its way, good to know. I'll wait a few more days then. thanks, bye!")
    assert writes(agent) == []


def test_all_right_then_do_not_cancel_refuses_the_cancellation_in_polish(agent: SupportAgent) -> None:
    agent.handle("g154", "chce anulowac zamowienie #A1005, mail alice@example.com")
    assert pending_tool(agent, "g154") == "cancel_order"
    agent.handle("g154", "dobra to nie anulujcie, zostawiam. dzieki")
    assert pending_tool(agent, "g154") is None and writes(agent) == []


def test_a_korean_never_mind_at_the_end_refuses_the_return(agent: SupportAgent) -> None:
    agent.handle("g155", "#A1002 alice@example.com Mug 반품하려고 하는데요")
    assert pending_tool(agent, "g155") == "return_items"
    agent.handle("g155", "반품 배송비 제가 내야되는거면.. 그냥 안할래요. 됐어요")
    assert pending_tool(agent, "g155") is None
    agent.handle("g155", "네 괜찮아요 수고하세요")
    assert writes(agent) == []


@pytest.mark.parametrize(
    "answer",
    [
        "クーポンとかは大丈夫です、次いつ買うかわからないので。届けばいいです。よろしくお願いします",
        "ok I'll keep an eye on my emails then. thanks for explaining",
    ],
)
def test_a_coupon_not_answered_or_declined_softly_is_not_issued(agent: SupportAgent, answer: str) -> None:
    agent.handle("g156", "My parcel #A1003 is late! email alice@example.com")
    assert pending_tool(agent, "g156") == "issue_coupon"
    agent.handle("g156", answer)
    assert writes(agent) == []


def test_yes_to_the_exchange_with_no_money_back_keeps_the_exchange_in_polish(agent: SupportAgent) -> None:
    agent.handle("g157", "hej, T-Shirt jest za maly, chcialbym wymienic na wiekszy rozmiar. #A1002 alice@example.com")
    assert pending_tool(agent, "g157") == "exchange_items"
    agent.handle("g157", "tak, wymiana na wiekszy rozmiar, zwrotu kasy nie chce")
    assert writes(agent) == ["exchange_items"]


def test_a_crack_and_no_replacement_wanted_refunds_without_a_return(agent: SupportAgent) -> None:
    agent.handle(
        "g158",
        "order #A1002, email alice@example.com. The Mug arrived with a big crack down the side. I don't want a "
        "replacement to be honest, I've already bought one in a shop. Can I just get my money back for it?",
    )
    assert pending_tool(agent, "g158") == "issue_refund"


def test_i_will_think_about_it_and_write_again_is_no_complaint(agent: SupportAgent) -> None:
    agent.handle("g159", "ciao, dov'è il mio ordine #A1003? alice@example.com")
    turn = agent.handle("g159", "ok allora ci penso un attimo e casomai vi riscrivo, grazie ciao")
    assert turn.status != "escalated" and turn.intent != "complaint"


def test_taking_the_coupon_after_it_was_given_needs_no_person(agent: SupportAgent) -> None:
    agent.handle("g160", "My parcel #A1003 is late! email alice@example.com")
    agent.handle("g160", "yes please")
    assert writes(agent) == ["issue_coupon"]
    turn = agent.handle("g160", "yeah ok that's fine, i'll take it")
    assert turn.status != "escalated" and writes(agent) == ["issue_coupon"]


@pytest.mark.parametrize(
    ("answer", "yes"),
    [
        (
            "ta bom, vou esperar entao. mas pelo atraso vcs nao dao nem um descontinho pra proxima compra?",
            "pode ser sim, obrigada!",
        ),
        ("쿠폰이라도 주시면 받을게요.. 근데 언제 오는지도 알려주세요", "네"),
    ],
)
def test_a_coupon_asked_again_while_offered_is_given_after_the_yes(agent: SupportAgent, answer: str, yes: str) -> None:
    agent.handle("g161", "My parcel #A1003 is late! email alice@example.com")
    assert pending_tool(agent, "g161") == "issue_coupon"
    agent.handle("g161", answer)
    if pending_tool(agent, "g161") is None:
        assert writes(agent) == ["issue_coupon"]
    else:
        agent.handle("g161", yes)
        assert writes(agent) == ["issue_coupon"]


def test_a_coupon_asked_beside_the_yes_to_a_refund_is_offered_after_it(agent: SupportAgent) -> None:
    replacement_offered(agent, "g162")
    agent.handle("g162", "менять не хочу, верните деньги за него")
    assert pending_tool(agent, "g162") == "issue_refund"
    agent.handle("g162", "да, возвращайте на карту. и можно мне какой-нибудь промокод за все это, я реально расстроилась")
    assert writes(agent) == ["issue_refund"] and pending_tool(agent, "g162") == "issue_coupon"
    agent.handle("g162", "ок, согласна, спасибо")
    assert writes(agent) == ["issue_refund", "issue_coupon"]


def test_a_bare_korean_address_after_a_wrong_address_changes_the_address(agent: SupportAgent) -> None:
    agent.handle("g163", "주문한거 배송지 잘못 입력했어요 ㅜ 아직 출고 전이면 수정 가능할까요")
    agent.handle("g163", "주문번호 #A1005, 메일 alice@example.com")
    agent.handle("g163", "서울특별시 마포구 성미산로 123, 101동 1203호 (우편번호 03980) 로 바꿔주세요")
    assert pending_tool(agent, "g163") == "change_shipping_address"
    address = agent.state("g163")["pending"]["arguments"]["address"]
    assert address["country_code"] == "KR" and address["postal_code"] == "03980"


def test_agreeing_to_both_in_levantine_arabic_does_both(agent: SupportAgent) -> None:
    agent.handle("g164", "بدي غير عنوان التوصيل، وكمان اذا بتقدرو تخلوا الشحن سريع express. #A1005 alice@example.com")
    agent.handle("g164", "العنوان: 12 Rue de la Paix, 75002 Paris, France")
    agent.handle("g164", "ايه موافقة عالتنين، حتى لو في فرق بالسعر ما في مشكلة")
    assert sorted(writes(agent)) == ["change_shipping_address", "switch_carrier"]


def test_a_parcel_on_its_way_asked_to_be_stopped_is_called_back(agent: SupportAgent) -> None:
    agent.handle(
        "g165",
        "we both ordered the same thing lol. mine has already shipped apparently. is there any way to stop it and get it "
        "sent back to you before it gets here? order #A1003, alice@example.com",
    )
    assert pending_tool(agent, "g165") == "intercept_parcel"


def test_please_stop_it_before_a_question_about_the_refund_says_yes(agent: SupportAgent) -> None:
    agent.handle("g166", "注文をキャンセルしたいです。もう発送済みですよね… #A1003 alice@example.com")
    assert pending_tool(agent, "g166") == "intercept_parcel"
    agent.handle("g166", "止められるなら止めてください。お願いします。返金はいつ頃になりますか？")
    assert writes(agent) == ["intercept_parcel"]


def test_the_right_item_is_sent_after_the_wrong_one_is_returned(agent: SupportAgent) -> None:
    agent.handle("g167", "届いたMugの色が注文したものと違います。#A1002 / alice@example.com")
    assert pending_tool(agent, "g167") == "create_reshipment"
    agent.handle("g167", "正しい色のものを先に送ってもらえますか？間違って届いたほうはちゃんと返品します")
    agent.handle("g167", "はい、再送と返品の両方お願いします")
    assert sorted(writes(agent)) == ["create_reshipment", "return_items"]


def test_a_yes_that_says_the_card_in_portuguese_refunds(agent: SupportAgent) -> None:
    # "no cartão" is "on the card": no refusal.
    agent.handle(
        "g168", "a Mug do pedido #A1002 chegou quebrada, não quero outra, quero meu dinheiro de volta. alice@example.com"
    )
    assert pending_tool(agent, "g168") == "issue_refund"
    agent.handle("g168", "sim pode estornar no cartao mesmo, obrigada")
    assert writes(agent) == ["issue_refund"]


def test_a_change_verb_in_the_yes_to_an_address_change_does_it_and_nothing_else(agent: SupportAgent) -> None:
    agent.handle("g169", "da pra trocar o endereço de entrega? pedido #A1005, email alice@example.com")
    agent.handle("g169", "o endereço novo é Rua Padre Chagas, 415 apto 302, Porto Alegre - RS, CEP 90570-080")
    assert pending_tool(agent, "g169") == "change_shipping_address"
    address = agent.state("g169")["pending"]["arguments"]["address"]
    assert address["address1"].startswith("Rua Padre Chagas, 415") and address["postal_code"] == "90570-080"
    agent.handle("g169", "isso, pode trocar sim. valeu!!")
    assert writes(agent) == ["change_shipping_address"]
    assert agent.state("g169")["status"] != "escalated"


def test_yes_to_both_in_a_later_sentence_does_both(agent: SupportAgent) -> None:
    agent.handle(
        "g170",
        "Olá, encomenda #A1005, email alice@example.com. Precisava de mudar a morada de entrega e mandar por correio expresso",
    )
    agent.handle("g170", "A morada nova é Rua de Santa Catarina 312, 2º Esq., 4000-447 Porto")
    agent.handle("g170", "Se o expresso tiver custo extra não faz mal. Sim, podem avançar com as duas alterações, obrigada")
    assert sorted(writes(agent)) == ["change_shipping_address", "switch_carrier"]


def test_thanks_for_explaining_takes_no_coupon(agent: SupportAgent) -> None:
    agent.handle("g171", "my parcel #A1003 is late, alice@example.com")
    assert pending_tool(agent, "g171") == "issue_coupon"
    agent.handle("g171", "alright thanks for explaining")
    assert writes(agent) == []


def test_a_no_to_an_exchange_while_the_return_waits_is_a_yes_to_the_return(agent: SupportAgent) -> None:
    agent.handle("g172", "Mug'ı hiç beğenmedim, iade etmek istiyorum. sipariş #A1002 / alice@example.com")
    assert pending_tool(agent, "g172") == "return_items"
    agent.handle("g172", "yok değişim istemiyorum, direkt iade olsun. param ne zaman hesabıma geçer?")
    assert writes(agent) == ["return_items"]


def test_the_money_back_to_the_card_in_chinese_confirms_the_refund(agent: SupportAgent) -> None:
    agent.handle("g173", "收到的Mug是坏的 有个大口子 不想换了 直接退钱吧 订单#A1002 邮箱alice@example.com")
    assert pending_tool(agent, "g173") == "issue_refund"
    agent.handle("g173", "行 退回原来的付款方式 谢谢")
    assert writes(agent) == ["issue_refund"]


def test_a_refund_refused_as_a_return_goes_to_a_person(agent: SupportAgent) -> None:
    agent.handle("g174", "订单#A1002，邮箱alice@example.com。东西到了 质量太差了 跟图片完全不一样 我要全额退款")
    assert pending_tool(agent, "g174") == "return_items"
    agent.handle("g174", "我不退货也不换货 就要退钱")
    assert writes(agent) == []
    assert agent.state("g174")["status"] == "escalated"


def test_an_email_labelled_as_an_address_keeps_the_exchange(agent: SupportAgent) -> None:
    agent.handle("g175", "Bonsoir, le T-Shirt de la commande #A1002 est trop petit, il faudrait la taille au-dessus")
    agent.handle("g175", "Adresse mail : alice@example.com")
    assert agent.state("g175")["intent"] == "exchange_request"


def test_a_name_given_as_name_is_proves_identity_for_tracking(agent: SupportAgent) -> None:
    agent.handle("g176", "where is my order?? been waiting ages")
    agent.handle("g176", "dont have the order number on me sorry, name is Alice Martin")
    agent.handle("g176", "postcode 75002")
    assert agent.state("g176")["status"] != "escalated"
    assert agent.state("g176").get("customer_id")


def test_an_express_request_in_korean_is_proposed_after_identity(agent: SupportAgent) -> None:
    agent.handle("g177", "안녕하세요 주문한거 아직 발송 전이죠? 혹시 특급배송으로 바꿀수 있나요?")
    agent.handle("g177", "주문번호 #A1005 이메일 alice@example.com 입니당")
    assert pending_tool(agent, "g177") == "switch_carrier"


def test_a_chinese_express_request_with_can_or_cannot_is_no_refusal(agent: SupportAgent) -> None:
    agent.handle("g178", "你好 我的订单还没发货吧 能不能帮我改成加急快递 订单号#A1005 邮箱alice@example.com")
    assert pending_tool(agent, "g178") == "switch_carrier"


def test_yes_then_an_address_not_known_yet_calls_the_parcel_back(agent: SupportAgent) -> None:
    agent.handle("g179", "el paquete ya esta en camino. se puede parar y que vuelva a vosotros?? #A1003 alice@example.com")
    assert pending_tool(agent, "g179") == "intercept_parcel"
    agent.handle("g179", "si, paradlo. la direccion nueva todavia no la se asi que mejor que vuelva")
    assert writes(agent) == ["intercept_parcel"]


def test_an_unsure_follow_up_to_a_customs_question_stays_with_customs(agent: SupportAgent) -> None:
    agent.handle("g180", "o pedido #A1003 está retido na alfândega? vou ter que pagar imposto? email alice@example.com")
    assert agent.state("g180")["intent"] == "customs_duties"
    agent.handle("g180", "e se cobrarem taxa, vcs devolvem ou é por minha conta mesmo?")
    assert agent.state("g180")["intent"] == "customs_duties"
    assert writes(agent) == []


def test_a_coupon_said_to_be_welcome_while_it_is_offered_is_taken(agent: SupportAgent) -> None:
    agent.handle("g181", "my parcel #A1003 is late, alice@example.com")
    assert pending_tool(agent, "g181") == "issue_coupon"
    agent.handle("g181", "쿠폰이라도 주시면 받을게요.. 근데 언제 오는지도 알려주세요")
    assert writes(agent) == ["issue_coupon"]


def test_a_turkish_address_after_a_cancellation_taken_back_changes_the_address(agent: SupportAgent) -> None:
    agent.handle("g182", "iyi aksamlar, #A1005 siparisimi iptal etmek istiyorum, mail alice@example.com")
    assert pending_tool(agent, "g182") == "cancel_order"
    agent.handle(
        "g182",
        "aslinda bi dakka, iptal etmeyin. tek sorun adres. Bagdat Cad. No:312 Kat:3 D:7, 34728 Kadikoy/Istanbul olarak "
        "degistirebilir misiniz",
    )
    assert pending_tool(agent, "g182") == "change_shipping_address"
    assert agent.state("g182")["pending"]["arguments"]["address"]["city"] == "Kadikoy/Istanbul"
    agent.handle("g182", "evet bu adres, onayliyorum")
    assert writes(agent) == ["change_shipping_address"]


def test_send_it_express_after_a_yes_in_darija_is_a_carrier_switch(agent: SupportAgent) -> None:
    agent.handle("g183", "سلام عليكم، عندي طلبية #A1005 باقا ما خرجاتش، بغيت نبدل T-Shirt بمقاس اكبر. alice@example.com")
    assert pending_tool(agent, "g183") == "modify_order_items"
    agent.handle("g183", "ايه مزيان. وزيد واش تقدرو تصيفطوها ليا بالاكسبريس؟")
    assert pending_tool(agent, "g183") == "switch_carrier"
    agent.handle("g183", "واخا، عافاك")
    assert sorted(writes(agent)) == ["modify_order_items", "switch_carrier"]


def test_no_need_for_a_gesture_takes_no_coupon(agent: SupportAgent) -> None:
    agent.handle("g184", "Bonjour, ma commande #A1003 devait arriver lundi et toujours rien. Mon e-mail : alice@example.com")
    assert pending_tool(agent, "g184") == "issue_coupon"
    agent.handle("g184", "pas besoin de geste commercial, je veux juste savoir quand je vais le recevoir")
    assert writes(agent) == []


def test_an_ok_that_asks_for_whoever_can_approve_writes_nothing(agent: SupportAgent) -> None:
    agent.handle("g185", "the Mug arrived broken, order #A1002 alice@example.com, I want a refund")
    assert pending_tool(agent, "g185") == "issue_refund"
    assert agent.handle("g185", "fine, get me whoever can approve it").status == "escalated"
    agent.handle("g186", "la Mug est arrivée cassée, commande #A1002 alice@example.com, je veux être remboursée")
    assert agent.handle("g186", "d'accord, j'attends la personne alors").status == "escalated"
    assert writes(agent) == []


def test_a_yes_that_names_the_return_does_not_pay_the_refund_offered(agent: SupportAgent) -> None:
    agent.handle("g187", "the Mug arrived broken, order #A1002 alice@example.com, I want a refund")
    assert pending_tool(agent, "g187") == "issue_refund"
    agent.handle("g187", "sì, procedi con il reso. il rimborso arriva sulla carta?")
    assert writes(agent) == [] and pending_tool(agent, "g187") == "return_items"


def test_asking_whether_to_send_the_broken_one_back_asks_for_no_return(agent: SupportAgent) -> None:
    replacement_offered(agent, "g188")
    agent.handle("g188", "Yes send it. Should I return the damaged one or I can discard it?")
    assert writes(agent) == ["create_reshipment"] and pending_tool(agent, "g188") is None
    agent.handle("g188", "ok thanks")
    assert writes(agent) == ["create_reshipment"]


def test_the_customers_own_slip_in_their_details_is_no_wrong_item(agent: SupportAgent) -> None:
    agent.handle("g189", "scusate ho sbagliato, quella è di mio marito 😅 la mia è alice@example.com. l'ordine è #A1002")
    assert agent.state("g189").get("intent") != "wrong_item" and pending_tool(agent, "g189") is None
    agent.handle("g189", "vorrei restituire il Mug, non mi piace come veste")
    agent.handle("g189", "sì, procedi con il reso. il rimborso arriva sulla carta?")
    agent.handle("g189", "ok grazie mille")
    assert writes(agent) == ["return_items"]


def test_a_return_refused_beside_the_replacement_offered_leaves_the_offer(agent: SupportAgent) -> None:
    replacement_offered(agent, "g190")
    agent.handle("g190", "пришлите пожалуйста новую. а эту оставлю, сестре подойдет, возвращать не буду")
    assert pending_tool(agent, "g190") == "create_reshipment"
    agent.handle("g190", "да, отправляйте")
    assert writes(agent) == ["create_reshipment"]


def on_its_way_back(agent: SupportAgent) -> None:
    """The parcel of #A1003 turns back to the shop."""
    from commerce.models import Shipment, ShipmentStatus

    with agent.store.write() as s:
        shipment = s.scalars(select(Shipment).where(Shipment.order_id == "#A1003")).one()
        shipment.status = ShipmentStatus.RETURNED_TO_SENDER


def test_a_parcel_on_its_way_back_goes_to_a_person_without_a_coupon(agent: SupportAgent) -> None:
    on_its_way_back(agent)
    turn = agent.handle("g191", "لو سمحت الاوردر بتاعي رجع للراسل!! رقمه #A1003 alice@example.com")
    assert turn.status == "escalated" and pending_tool(agent, "g191") is None
    agent.handle("g191", "ماشي هستنى")
    assert writes(agent) == []


def test_a_yes_beside_a_question_on_the_delay_redirects_the_parcel_to_brazil(agent: SupportAgent) -> None:
    agent.handle("g192", "pedido #A1003 alice@example.com, quero mudar o endereço")
    agent.handle("g192", "tem como mandar pro meu trabalho? Av. Paulista, 1578, 12º andar, Bela Vista, São Paulo - SP, 01310-200")
    assert pending_tool(agent, "g192") == "intercept_parcel"
    agent.handle("g192", "sim pode redirecionar, e isso demora mais quantos dias?")
    assert writes(agent) == ["intercept_parcel"]
    pending = [a for a in agent.state("g192").get("actions_log", []) if a["tool"] == "intercept_parcel"]
    assert "Brazil" in str(pending[-1])


def test_an_address_alone_asks_for_the_parcel_to_go_there(agent: SupportAgent) -> None:
    agent.handle("g193", "주문 #A1003 alice@example.com 배송 상태 알려주세요")
    agent.handle("g193", "부산광역시 해운대구 센텀중앙로 55, 8층 (48058)")
    assert pending_tool(agent, "g193") == "intercept_parcel"
    agent.handle("g193", "네 변경해주세요! 추가 비용은 없죠?")
    assert writes(agent) == ["intercept_parcel"]


def test_a_turkish_yes_with_iade_confirms_the_refund_offered(agent: SupportAgent) -> None:
    agent.handle("g194", "the Mug arrived broken, order #A1002 alice@example.com, I want a refund")
    agent.handle("g194", "evet iade yapın")
    assert writes(agent) == ["issue_refund"]


def test_wait_before_a_question_keeps_the_return_offered(agent: SupportAgent) -> None:
    agent.handle("g195", "хочу вернуть Mug, заказ #A1002, почта alice@example.com")
    assert pending_tool(agent, "g195") == "return_items"
    agent.handle("g195", "подождите, а доставку обратно я сам оплачиваю?")
    assert pending_tool(agent, "g195") == "return_items"
    agent.handle("g195", "ладно, оформляйте возврат")
    assert writes(agent) == ["return_items"]


def test_a_small_gesture_asked_in_dutch_is_the_coupon_offered(agent: SupportAgent) -> None:
    agent.handle("g196", "mijn bestelling #A1003 had al 3 dagen geleden binnen moeten zijn. alice@example.com")
    assert pending_tool(agent, "g196") == "issue_coupon"
    # Asked for while it is on offer, the gesture is taken; the later yes takes no second one.
    agent.handle("g196", "nou, een kleine tegemoetkoming zou wel netjes zijn eerlijk gezegd")
    assert writes(agent) == ["issue_coupon"]
    agent.handle("g196", "ja graag, die kortingscode neem ik aan")
    assert writes(agent) == ["issue_coupon"]


def test_two_requests_named_to_which_item_replace_a_problem_read_unsure(agent: SupportAgent) -> None:
    agent.handle("g197", "recebi meu pedido #A1002 mas nao deu muito certo kkk alice@example.com")
    agent.handle("g197", "o Mug eu quero devolver, nao gostei. e o T-Shirt ficou pequeno, queria trocar por um L, mesma cor")
    assert pending_tool(agent, "g197") == "exchange_items"
    agent.handle("g197", "sim, pode fazer as duas coisas")
    assert sorted(writes(agent)) == ["exchange_items", "return_items"]


def test_a_request_after_a_problem_told_before_identity_is_the_goal(agent: SupportAgent) -> None:
    agent.handle("g198", "Hoi, #A1002 is binnen maar twee dingen:")
    agent.handle("g198", "de Mug wil ik terugsturen, die bevalt me niet")
    agent.handle("g198", "oja mijn mail: alice@example.com")
    assert pending_tool(agent, "g198") == "return_items"


def test_an_item_said_to_stay_as_it_is_is_not_swapped(agent: SupportAgent) -> None:
    agent.handle("g199", "T-Shirt想换成L码，Mug不用动 订单#A1002 邮箱alice@example.com")
    pending = agent.state("g199").get("pending")
    assert pending is not None and pending["tool"] == "exchange_items"
    assert MUG not in str(pending["arguments"])


def test_a_yes_to_the_size_change_that_refuses_the_cancellation_asked_before(agent: SupportAgent) -> None:
    agent.handle("g200", "hi, ich möchte meine bestellung #A1005 stornieren, alice@example.com")
    assert pending_tool(agent, "g200") == "cancel_order"
    agent.handle(
        "g200", "hm warte mal... eigentlich passt mir nur die größe nicht. kann man beim T-Shirt statt M einfach L nehmen?"
    )
    assert pending_tool(agent, "g200") == "modify_order_items"
    agent.handle("g200", "ja genau, L bitte. NICHT stornieren!!")
    assert writes(agent) == ["modify_order_items"]


def test_a_wrong_option_chosen_on_an_order_not_shipped_is_changed(agent: SupportAgent) -> None:
    agent.handle("g201", "allo! j'ai fait une commande pis je me suis trompée de taille pour le T-Shirt")
    agent.handle("g201", "commande #A1005, courriel alice@example.com")
    assert pending_tool(agent, "g201") is None
    agent.handle("g201", "je le voudrais en L. le reste est correct, touchez-y pas lol")
    assert pending_tool(agent, "g201") == "modify_order_items"
    agent.handle("g201", "oui c'est parfait, merci bcp!")
    assert writes(agent) == ["modify_order_items"]


def test_a_size_change_asked_instead_of_the_cancellation_cancels_nothing(agent: SupportAgent) -> None:
    agent.handle("g202", "buenas, quiero cancelar el pedido #A1005, alice@example.com")
    assert pending_tool(agent, "g202") == "cancel_order"
    agent.handle(
        "g202",
        "bueno espera, en realidad lo cancelaba solo porque pedi mal la talla. se puede cambiar el T-Shirt a una L "
        "en vez de cancelar todo?",
    )
    assert writes(agent) == [] and pending_tool(agent, "g202") == "modify_order_items"
    agent.handle("g202", "vale pues eso, cambiadlo a la L y no canceleis nada")
    assert writes(agent) == ["modify_order_items"]


def test_ok_with_a_question_for_another_colour_does_not_take_the_refund(agent: SupportAgent) -> None:
    agent.handle("g203", "the Mug of order #A1002 came broken, email alice@example.com, refund please")
    assert pending_tool(agent, "g203") == "issue_refund"
    agent.handle("g203", "OK in that case can I get the T-Shirt in grey, same size?")
    assert writes(agent) == [] and pending_tool(agent, "g203") != "issue_refund"


def test_a_japanese_no_need_to_return_is_no_return(agent: SupportAgent) -> None:
    agent.handle("g204", "注文#A1002、alice@example.com。Mugが割れて届きました。新しいのを送ってください")
    assert pending_tool(agent, "g204") == "create_reshipment"
    agent.handle("g204", "新しいのを送ってもらえますか？割れたほうは捨てるので返品はしなくていいです")
    assert pending_tool(agent, "g204") == "create_reshipment"
    agent.handle("g204", "はい、お願いします")
    assert writes(agent) == ["create_reshipment"]


def test_money_or_a_new_parcel_for_a_parcel_on_its_way_back_goes_to_a_person(agent: SupportAgent) -> None:
    on_its_way_back(agent)
    agent.handle("g205", "email alice@example.com, encomenda #A1003. eu estive em casa o dia todo, ninguém tocou à campainha")
    turn = agent.handle("g205", "quero que me enviem de novo ou que me devolvam o dinheiro")
    assert turn.status == "escalated" and pending_tool(agent, "g205") is None
    agent.handle("g205", "ok, aguardo")
    assert writes(agent) == []


def test_the_building_manager_asked_is_no_request_for_a_manager(agent: SupportAgent) -> None:
    proposed_then_done(
        agent,
        "g206",
        [
            "order #A1002 alice@example.com the Mug is missing from my parcel",
            "I asked the neighbours and the building manager, nobody has it. Can you send it again?",
        ],
        "create_reshipment",
        "yes ok please, thank you so much",
    )


def test_more_of_the_story_read_unsure_keeps_the_offer(agent: SupportAgent) -> None:
    replacement_kept(agent, "g207", "ja perguntei pro porteiro e pros vizinhos, nada", "pode mandar de novo sim por favor")


def test_a_yes_of_two_words_or_before_an_emoji_answers_before_a_question(agent: SupportAgent) -> None:
    agent.handle("g208", "zamówienie #A1002, alice@example.com, chcę zwrócić Mug")
    assert pending_tool(agent, "g208") == "return_items"
    agent.handle("g208", "tak, poproszę. a czy zwrot jest darmowy?")
    assert writes(agent) == ["return_items"]
    agent.handle("g209", "bestelling #A1005 alice@example.com, kan die met express?")
    assert pending_tool(agent, "g209") == "switch_carrier"
    agent.handle("g209", "ja doe maar 👍 wat kost express eigenlijk?")
    assert writes(agent) == ["return_items", "switch_carrier"]


def test_a_coupon_asked_for_beside_compensation_takes_the_coupon(agent: SupportAgent) -> None:
    agent.handle("g210", "배송 예정일 지났는데 아직도 안왔어요. 주문번호 #A1003, 이메일 alice@example.com")
    assert pending_tool(agent, "g210") == "issue_coupon"
    agent.handle("g210", "보상같은거 없나요? 쿠폰이라도 주세요")
    assert writes(agent) == ["issue_coupon"]


def test_a_documents_question_after_a_customs_one_is_about_customs(agent: SupportAgent) -> None:
    agent.handle("g211", "Посылка застряла на таможне, что делать?")
    before = agent.handle("g211", "номер заказа #A1003, почта alice@example.com")
    turn = agent.handle("g211", "а документы какие-то от меня нужны?")
    assert turn.intent == "customs_duties" and turn.status == before.status


def test_a_size_asked_while_an_address_change_waits_is_taken_up_too(agent: SupportAgent) -> None:
    agent.handle("g212", "주문번호 #A1005 이메일 alice@example.com 배송지 변경하고 싶어요.")
    agent.handle("g212", "새 주소: 서울특별시 마포구 월드컵북로 396, 101동 1203호 (03925)")
    assert pending_tool(agent, "g212") == "change_shipping_address"
    agent.handle("g212", "그리고 T-Shirt 사이즈 M에서 L으로 바꿀 수 있나요?")
    agent.handle("g212", "네 둘 다 해주세요~")
    assert sorted(writes(agent)) == ["change_shipping_address", "modify_order_items"]


def test_a_yes_to_the_cancellation_beside_a_question_on_the_refund_cancels(agent: SupportAgent) -> None:
    agent.handle("g213", "vorrei annullare l'ordine #A1005, alice@example.com")
    agent.handle("g213", "no aspetta")
    assert pending_tool(agent, "g213") is None
    # The cancellation confirmed in words after it was let go is done; the question beside it waits.
    agent.handle("g213", "sì confermo l'annullamento. il rimborso in quanto tempo arriva?")
    assert writes(agent) == ["cancel_order"]


def test_an_item_said_fine_and_to_be_left_alone_is_not_changed(agent: SupportAgent) -> None:
    agent.handle("g214", "order #A1001 alice@example.com, I want to change the colour of one item")
    agent.handle("g214", "The T-Shirt I want in L instead of the one I selected. The Mug is fine, no change for that one please.")
    pending = agent.state("g214").get("pending")
    assert pending is not None and pending["tool"] == "modify_order_items"
    assert "mug" not in str(pending["arguments"]).lower()


def test_a_no_for_an_item_the_change_leaves_alone_keeps_the_change(agent: SupportAgent) -> None:
    proposed_then_done(
        agent,
        "g215",
        [
            "Bonjour, sur ma commande #A1001 je voudrais changer la taille du T-Shirt, en L plutot que M. alice@example.com",
            "non non le Mug on n'y touche pas, juste le T-Shirt",
        ],
        "modify_order_items",
        "oui c'est ça, merci de faire le changement",
    )


def test_another_colour_asked_while_the_same_item_is_to_be_sent_again_sends_nothing(agent: SupportAgent) -> None:
    agent.handle("g216", "order #A1002, email alice@example.com. The T-Shirt came in the wrong colour, please send the right one")
    assert pending_tool(agent, "g216") == "create_reshipment"
    agent.handle("g216", "OK in that case can I get it in red, same size?")
    assert writes(agent) == []


def test_something_for_the_trouble_is_the_coupon_offered(agent: SupportAgent) -> None:
    agent.handle("g217", "el pedido #A1003 tenía que haber llegado el martes y nada de nada, alice@example.com")
    assert pending_tool(agent, "g217") == "issue_coupon"
    agent.handle("g217", "y no se puede hacer nada? algo por las molestias por lo menos")
    assert pending_tool(agent, "g217") == "issue_coupon"
    agent.handle("g217", "vale, acepto el cupón. pero que llegue ya eh")
    assert writes(agent) == ["issue_coupon"]


def test_a_late_parcel_in_moroccan_arabic_gets_its_news_not_a_person(agent: SupportAgent) -> None:
    first = agent.handle("g218", "سلام، الكوليّة ديالي تعطلات بزاف، قالو ليا غادي توصل من سيمانة 😤")
    assert first.intent == "delivery_delay"
    turn = agent.handle("g218", "رقم الكوموند #A1003 و الإيميل alice@example.com")
    assert turn.status != "escalated" and pending_tool(agent, "g218") == "issue_coupon"


def test_rather_a_replacement_than_a_refund_keeps_the_replacement(agent: SupportAgent) -> None:
    replacement_kept(agent, "g219", "I'd rather have a replacement than a refund, it was a gift", "Yes please send a new one")


def test_a_bavarian_no_to_the_money_keeps_the_replacement(agent: SupportAgent) -> None:
    replacement_kept(
        agent, "g220", "i will ka geld zurück, i brauch das ding. könnt ihr einfach nochmal einen schicken?", "ja bitte, danke!"
    )


def test_a_yes_that_asks_again_for_the_offer_let_go_takes_it(agent: SupportAgent) -> None:
    replacement_offered(agent, "g221")
    agent.handle("g221", "no, I don't want anything")
    assert pending_tool(agent, "g221") is None
    agent.handle("g221", "yes pls resend it, thanks a lot")
    assert writes(agent) == ["create_reshipment"]


def test_a_sigh_while_a_coupon_waits_keeps_the_coupon(agent: SupportAgent) -> None:
    agent.handle("g222", "Mein Paket sollte schon seit Tagen da sein. Bestellung #A1003, alice@example.com")
    assert pending_tool(agent, "g222") == "issue_coupon"
    agent.handle("g222", "Na toll. Und jetzt? Das war ein Geburtstagsgeschenk 😤")
    assert pending_tool(agent, "g222") == "issue_coupon"
    agent.handle("g222", "ok ein gutschein wär das mindeste, ja gerne")
    assert writes(agent) == ["issue_coupon"]


def test_the_email_that_corrects_another_in_the_same_message_proves_identity(agent: SupportAgent) -> None:
    turn = agent.handle("g223", "bestellnr #A1002, mail bob@example.com ... nee sorry falsche, alice@example.com")
    assert agent.state("g223").get("customer_id") and turn.status != "escalated"


def test_a_drawn_out_yes_confirms(agent: SupportAgent) -> None:
    replacement_offered(agent, "g224")
    agent.handle("g224", "siii mandadme otro porfa")
    assert writes(agent) == ["create_reshipment"]


def test_express_asked_beside_a_new_address_after_qu_on_is_done_too(agent: SupportAgent) -> None:
    agent.handle("g225", "commande #A1005, mail alice@example.com, je peux encore changer l'adresse de livraison ?")
    agent.handle(
        "g225",
        "nouvelle adresse : 27 rue Paul Bert, 69003 Lyon. et tant qu'on y est je voudrais passer en livraison express, "
        "c'est possible ?",
    )
    assert pending_tool(agent, "g225") == "change_shipping_address"
    agent.handle("g225", "ok pour les deux, ça me va")
    assert sorted(writes(agent)) == ["change_shipping_address", "switch_carrier"]


def test_an_australian_address_is_read_with_its_state_and_postcode(agent: SupportAgent) -> None:
    agent.handle(
        "g226", "order #A1005 alice@example.com, can it go to my sister's place instead: 14 Wattle St, Brunswick VIC 3056"
    )
    pending = agent.state("g226").get("pending")
    assert pending is not None and pending["tool"] == "change_shipping_address"
    address = pending["arguments"]["address"]
    assert (address["postal_code"], address["state"], address["country"]) == ("3056", "VIC", "Australia")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("ازيكم، انا طالب اوردر من بدري ولسه موصلش 😤", "delivery_delay"),
        ("سلام، شريت T-Shirt وجا صغير عليا بزاف، واش نقدر نبدلو ب taille L؟", "exchange_request"),
        ("لا ما بدي واحد تاني، بدي ترجعولي مصرياتي لو سمحت", "refund_request"),
    ],
)
def test_egyptian_moroccan_and_levantine_requests(agent: SupportAgent, text: str, intent: str) -> None:
    assert agent.handle("g227", text).intent == intent


def test_not_a_resend_just_a_refund_in_korean_offers_the_refund(agent: SupportAgent) -> None:
    replacement_offered(agent, "g228")
    agent.handle("g228", "재발송 말고 그냥 환불해주세요")
    assert pending_tool(agent, "g228") == "issue_refund"


def test_no_money_i_prefer_you_send_another_keeps_the_replacement(agent: SupportAgent) -> None:
    replacement_kept(agent, "g229", "no, no quiero el dinero, prefiero que me mandeis otro", "si, adelante")


def test_ok_for_the_voucher_with_thanks_takes_the_coupon(agent: SupportAgent) -> None:
    agent.handle("g230", "ma commande #A1003 devait arriver mardi passé et toujours rien. alice@example.com")
    assert pending_tool(agent, "g230") == "issue_coupon"
    agent.handle("g230", "oui d'accord pour le bon, merci")
    assert writes(agent) == ["issue_coupon"]


def test_is_there_anything_i_must_do_is_no_complaint(agent: SupportAgent) -> None:
    agent.handle("g231", "배송조회하니까 '배송 예외'라고 떠요 이게 뭔가요? 주문번호 #A1003 이메일 alice@example.com")
    turn = agent.handle("g231", "그럼 제가 따로 해야 될 건 없는 거죠?")
    assert turn.status != "escalated" and turn.intent != "complaint"


def test_a_korean_yes_before_a_question_opened_by_hoksi_redirects(agent: SupportAgent) -> None:
    agent.handle("g232", "주문 #A1003 alice@example.com 배송 중인 택배도 주소 변경 돼요?")
    agent.handle("g232", "새 주소: 부산광역시 해운대구 센텀중앙로 79, 센텀스카이비즈 1502호 (48058)")
    assert pending_tool(agent, "g232") == "intercept_parcel"
    agent.handle("g232", "네 그걸로 바꿔주세요 혹시 추가 비용 있어요?")
    assert writes(agent) == ["intercept_parcel"]


def test_no_to_which_option_changes_nothing_and_needs_no_person(agent: SupportAgent) -> None:
    agent.handle("g233", "zamówienie #A1002, alice@example.com, chcę wymienić T-Shirt")
    assert agent.state("g233").get("asked") in ("ask_variant", "variant_unavailable")
    turn = agent.handle("g233", "nie, jednak nic nie zmieniajcie, zostawiam tak jak jest")
    assert turn.status != "escalated" and writes(agent) == []


def test_a_yes_in_russian_written_in_latin_letters_confirms(agent: SupportAgent) -> None:
    replacement_offered(agent, "g234")
    agent.handle("g234", "da, otpravlyaite. spasibo")
    assert writes(agent) == ["create_reshipment"]


def test_an_item_with_a_size_written_out_is_swapped_not_returned(agent: SupportAgent) -> None:
    agent.handle("g235", "hi, ich will eine sache zurückschicken und eine umtauschen")
    agent.handle("g235", "also Mug geht zurück, gefällt mir nicht. und T-Shirt bitte in L statt M")
    agent.handle("g235", "bestellnr #A1002, mail bob@example.com ... nee sorry falsche, alice@example.com")
    pending = agent.state("g235").get("pending")
    assert pending is not None and pending["tool"] == "return_items"
    assert pending["arguments"]["item_ids"] == [MUG]


def test_a_question_on_the_request_queued_keeps_the_offer(agent: SupportAgent) -> None:
    agent.handle("g236", "g'day, can i upgrade order #A1005 to express? email's alice@example.com")
    agent.handle("g236", "oh and can it go to my sister's place instead: 14 Wattle St, Brunswick VIC 3056")
    assert pending_tool(agent, "g236") == "change_shipping_address"
    agent.handle("g236", "how much extra is express again?")
    assert pending_tool(agent, "g236") == "change_shipping_address"
    agent.handle("g236", "ok yep do both, express and the new address")
    assert sorted(writes(agent)) == ["change_shipping_address", "switch_carrier"]


def test_the_return_asked_after_the_right_one_was_sent_is_the_return(agent: SupportAgent) -> None:
    agent.handle("g237", "ich habe das T-Shirt in rot bestellt und blau bekommen. Bestellung #A1002 alice@example.com")
    agent.handle("g237", "Ja, bitte die richtige Farbe schicken. Und das blaue soll ich zurückschicken oder?")
    assert writes(agent) == ["create_reshipment"]
    agent.handle("g237", "ok, dann bitte die Rücksendung auch gleich anmelden")
    assert pending_tool(agent, "g237") == "return_items"


def test_thanks_to_which_option_takes_leave_without_a_person(agent: SupportAgent) -> None:
    agent.handle("g238", "order #A1002, alice@example.com, I want to exchange the T-Shirt")
    assert agent.state("g238").get("asked") in ("ask_variant", "variant_unavailable")
    turn = agent.handle("g238", "ok thanks")
    assert turn.status != "escalated" and writes(agent) == []


def test_a_korean_not_now_to_a_return_opens_none(agent: SupportAgent) -> None:
    agent.handle("g239", "Mug 받았는데 아직 고민 중이라서요. 주문번호 #A1002, 이메일 alice@example.com")
    agent.handle("g239", "아뇨 지금 반품 접수는 안 할게요 좀 더 써보고 결정하려고요")
    assert pending_tool(agent, "g239") is None
    agent.handle("g239", "네 감사해요")
    assert writes(agent) == []


def test_just_the_money_back_in_russian_is_the_refund_for_the_broken_item(agent: SupportAgent) -> None:
    replacement_offered(agent, "g240")
    agent.handle("g240", "а можно просто деньги вернуть? новый не нужен")
    assert pending_tool(agent, "g240") == "issue_refund"


def test_a_return_and_a_swap_named_after_a_vague_complaint_send_nothing_again(agent: SupportAgent) -> None:
    agent.handle("g241", "hey! bestelling #A1002 is binnen maar niet helemaal wat ik wou, alice@example.com")
    agent.handle(
        "g241", "de Mug wil ik terugsturen, vind ik toch niet mooi. en de T-Shirt is te klein, kan die geruild worden voor een L?"
    )
    assert pending_tool(agent, "g241") != "create_reshipment"
    agent.handle("g241", "jep klopt, doe maar allebei")
    assert "create_reshipment" not in writes(agent)


def test_money_back_for_a_parcel_on_its_way_calls_it_back(agent: SupportAgent) -> None:
    proposed_then_done(
        agent,
        "g242",
        ["hej, paczka z zamowienia #A1003 juz jedzie ale ja jej nie chce, kupilem to samo taniej. alice@example.com"],
        "intercept_parcel",
        "tak, prosze zawrocic",
    )


def test_levantine_thanks_and_a_call_that_never_came_ask_for_no_person(agent: SupportAgent) -> None:
    agent.handle("g243", "ما وصلني الطرد، رقم الطلب #A1003 والايميل alice@example.com")
    assert agent.handle("g243", "تمام ميرسي كتير").status != "escalated"
    from agent.understanding import read_signals

    assert not read_signals("Do I need to pay any duty? Nobody has called me.", "en").wants_human
    assert read_signals("can someone call me please", "en").wants_human


def test_a_yes_under_a_condition_cancels_nothing(agent: SupportAgent) -> None:
    agent.handle("g245", "I want to cancel my order please, the size is wrong i think. #A1001 alice@example.com")
    assert pending_tool(agent, "g245") == "cancel_order"
    agent.handle(
        "g245", "wait... is possible only change the size? if yes I prefer, I like very much the T-Shirt, I just need M and not S"
    )
    assert writes(agent) == []
    from agent.understanding import read_signals

    assert read_signals("wenn ja, dann lieber die Größe ändern", "de").affirmation is None
    assert read_signals("yes, if possible today", "en").affirmation == "yes"


def test_ok_i_understand_before_a_question_takes_no_coupon(agent: SupportAgent) -> None:
    agent.handle("g246", "my order is late, what does it mean?? #A1003 alice@example.com")
    assert pending_tool(agent, "g246") == "issue_coupon"
    agent.handle("g246", "Ok I understand. And if I dont pay, what happen with the package?")
    agent.handle("g246", "ok i see")
    assert writes(agent) == []


def test_a_korean_the_coupon_is_fine_declines_it(agent: SupportAgent) -> None:
    agent.handle("g247", "도착 예정일 지났는데 아직도 안왔어요 #A1003 alice@example.com")
    assert pending_tool(agent, "g247") == "issue_coupon"
    agent.handle("g247", "쿠폰은 괜찮고요 그냥 빨리 받고싶어요")
    assert writes(agent) == []


def test_can_you_refund_me_while_a_new_one_is_offered_offers_the_money(agent: SupportAgent) -> None:
    agent.handle("g248", "Le Mug de ma commande #A1002 est arrivé complètement fendu. alice@example.com")
    assert pending_tool(agent, "g248") == "create_reshipment"
    agent.handle("g248", "Savez-vous me rembourser? J'ai plus envie de retenter franchement")
    assert pending_tool(agent, "g248") == "issue_refund"
    agent.handle("g248", "oui c'est d'accord. ça arrive sur ma carte en combien de temps ?")
    assert writes(agent) == ["issue_refund"]


def test_send_the_right_one_and_register_the_return_does_both(agent: SupportAgent) -> None:
    agent.handle("g249", "Hi, I order the T-Shirt in red and arrived a blue one. order #A1002 email alice@example.com")
    agent.handle("g249", "I want the red, the correct one. And the blue I send back to you, I dont want keep it")
    assert pending_tool(agent, "g249") == "create_reshipment"
    agent.handle("g249", "yes perfect, send the red and register the return of the blue. I need pay the post for return?")
    assert sorted(writes(agent)) == ["create_reshipment", "return_items"]


def test_swiss_german_sending_back_is_taken_up_after_the_right_one(agent: SupportAgent) -> None:
    agent.handle(
        "g250",
        "Grüezi mitenand, ich han T-Shirt in rot bstellt und jetzt isch es blau cho. "
        "Bestellnummer #A1002, E-Mail alice@example.com",
    )
    agent.handle("g250", "ja bitte s richtige schicke. und das falsche wott ich zruggschicke, gaht das?")
    assert sorted(writes(agent)) == ["create_reshipment", "return_items"]
    turn = agent.handle("g250", "ja, beides so mache. merci vilmal")
    assert turn.language == "de"
    assert sorted(writes(agent)) == ["create_reshipment", "return_items"]


def test_an_address_keeps_out_the_words_around_it() -> None:
    from agent.offline import parse_address
    from agent.understanding import extract_slots

    cases = {
        "Please send it to my work: 4th Floor, 18 Dock Road, V&A Waterfront, Cape Town, 8001": (
            "4th Floor, 18 Dock Road, V&A Waterfront, Cape Town, 8001"
        ),
        "New address is 27 Hyndland Road, Flat 2/1, Glasgow G12 9UP. And can ye send it express while you're at it?": (
            "27 Hyndland Road, Flat 2/1, Glasgow G12 9UP"
        ),
        "naar mijn nieuw adres sturen: Kortrijksesteenweg 112, 9000 Gent": "Kortrijksesteenweg 112, 9000 Gent",
        "kann man das noch umleiten auf Bahnhofstrasse 12, 8001 Zürich?": "Bahnhofstrasse 12, 8001 Zürich",
        "Via di Porta a Pinti 12, 50121 Firenze": "Via di Porta a Pinti 12, 50121 Firenze",
    }
    for text, address in cases.items():
        assert extract_slots(text, "en").address == address, text
    fields = parse_address(
        "4th Floor, 18 Dock Road, V&A Waterfront, Cape Town, 8001", {"shipping_address": {"postal_code": "75002"}}
    )
    assert (fields["city"], fields["postal_code"]) == ("Cape Town", "8001")


def test_a_yes_with_a_question_after_it_changes_the_address(agent: SupportAgent) -> None:
    agent.handle("g251", "Is it still possible to change the delivery address on my order? #A1005 alice@example.com")
    agent.handle("g251", "Please send it to my work: 4th Floor, 18 Dock Road, V&A Waterfront, Cape Town, 8001")
    agent.handle("g251", "Ja, that's right, go for it. Will it still come this week or is that now going to take longer?")
    assert writes(agent) == ["change_shipping_address"]


def test_a_colour_named_beside_a_new_address_is_taken_up_after_it(agent: SupportAgent) -> None:
    agent.handle("g252", "dag, ik heb een vraagje over bestelling #A1005, mijn email is alice@example.com")
    agent.handle(
        "g252",
        "kan ik de T-Shirt nog in blauw krijgen ipv rood? "
        "en ge moogt het ook naar mijn nieuw adres sturen: Kortrijksesteenweg 112, 9000 Gent",
    )
    assert pending_tool(agent, "g252") == "change_shipping_address"
    agent.handle("g252", "ja allebei graag")
    assert agent.state("g252").get("intent") in ("exchange_request", "modify_order")


def test_no_change_and_goodbye_asks_for_no_swap(agent: SupportAgent) -> None:
    agent.handle("g253", "buongiorno, ordine #A1005, mail alice@example.com. il pacco non è ancora partito vero?")
    agent.handle("g253", "stavo pensando di annullare... o magari cambiare corriere, boh non so")
    agent.handle("g253", "no aspetta, non fare niente. lo lascio così com'è")
    turn = agent.handle("g253", "sì sì nessuna modifica, grazie ciao")
    assert turn.intent not in ("exchange_request", "modify_order") and turn.status != "escalated"
    assert writes(agent) == []


def test_new_phrasings_of_a_person_and_of_where_it_is() -> None:
    from agent.understanding import read_signals

    assert read_signals("can pass to your staff handle? i really need this item by next week", "en").wants_human
    assert read_signals("je veux le recevoir svp. vous pouvez voir avec quelqu'un?", "fr").wants_human
    assert read_signals("aye that's grand, do both", "en").affirmation == "yes"


def test_sorrow_while_a_coupon_waits_is_answered_with_the_offer_again(agent: SupportAgent) -> None:
    agent.handle(
        "g254", "お届け予定日をだいぶ過ぎてるんですが、どうなってますか？ 注文番号 #A1003 メールは alice@example.com です"
    )
    assert pending_tool(agent, "g254") == "issue_coupon"
    turn = agent.handle("g254", "そうなんですね…誕生日プレゼントにする予定だったので残念です")
    assert turn.status != "escalated" and pending_tool(agent, "g254") == "issue_coupon"
    agent.handle("g254", "え、いいんですか？じゃあクーポンお願いします")
    assert writes(agent) == ["issue_coupon"]


def test_an_address_named_after_the_identity_step_joins_the_faster_carrier(agent: SupportAgent) -> None:
    for message in [
        "hoi! twee dingen: ander adres en kan het met een snellere vervoerder?",
        "alice@example.com",
        "ordernummer is #A1005",
    ]:
        agent.handle("g255", message)
    assert pending_tool(agent, "g255") == "switch_carrier"
    agent.handle("g255", "adres wordt Oudegracht 142 A, 3511 AZ Utrecht")
    assert pending_tool(agent, "g255") == "change_shipping_address"
    agent.handle("g255", "ja allebei graag 👍")
    assert sorted(writes(agent)) == ["change_shipping_address", "switch_carrier"]


def test_an_english_word_between_chinese_words_names_the_refund(agent: SupportAgent) -> None:
    agent.handle("g256", "hi，收到的Mug坏掉了，盖子都裂开了 😩 订单是 #A1002 email: alice@example.com")
    assert pending_tool(agent, "g256") == "create_reshipment"
    agent.handle("g256", "不用再寄了，直接refund给我就好")
    assert pending_tool(agent, "g256") == "issue_refund"
    agent.handle("g256", "ok 可以，退回我的卡就好，大概要几天？")
    assert writes(agent) == ["issue_refund"] and pending_tool(agent, "g256") is None


def test_a_unit_number_in_a_singapore_address_is_no_order_number(agent: SupportAgent) -> None:
    from agent.offline import parse_address

    agent.handle("g257", "parcel已经在路上了，还可以改地址吗？ order no. #A1003，email alice@example.com")
    agent.handle("g257", "新地址：Blk 456 Tampines Street 42, #08-123, Singapore 520456")
    assert agent.state("g257").get("order_id") == "#A1003"
    assert pending_tool(agent, "g257") == "intercept_parcel"
    fields = parse_address("Blk 456 Tampines Street 42, #08-123, Singapore 520456", {"shipping_address": {}})
    assert (fields["address2"], fields["postal_code"], fields["city"]) == ("#08-123", "520456", "Singapore")


def test_send_a_proper_one_in_russian_keeps_the_new_one_offered(agent: SupportAgent) -> None:
    agent.handle("g258", "вы мне прислали не тот цвет!!! заказывала красный пришел синий. T-Shirt #A1002 alice@example.com")
    agent.handle("g258", "отправьте нормальный красный. этот синий возвращать не буду, некогда мне по почтам бегать")
    assert pending_tool(agent, "g258") == "create_reshipment"
    agent.handle("g258", "да отправляйте")
    assert writes(agent) == ["create_reshipment"]


def test_a_size_change_waiting_joins_the_address_named_after_it(agent: SupportAgent) -> None:
    agent.handle("g259", "你好，我刚下的单，T-Shirt尺码选错了，要L的，不是M。订单号#A1005 alice@example.com")
    assert pending_tool(agent, "g259") == "modify_order_items"
    agent.handle("g259", "还有地址也要改一下，新地址：浙江省杭州市西湖区文三路478号华星时代广场B座1203室，邮编310012")
    assert pending_tool(agent, "g259") == "change_shipping_address"
    agent.handle("g259", "对，两个都改，谢谢亲")
    assert sorted(writes(agent)) == ["change_shipping_address", "modify_order_items"]


def test_where_is_it_now_in_egyptian_arabic_asks_for_no_person(agent: SupportAgent) -> None:
    agent.handle("g260", "ازيكم، الاوردر بتاعي اتأخر جامد المفروض كان وصل من اسبوع 😤 #A1003 و الميل alice@example.com")
    turn = agent.handle("g260", "طب هو فين دلوقتي؟ وهيوصل امتى بالظبط")
    assert turn.status != "escalated" and turn.intent in ("track_order", "delivery_delay")


def test_a_turkish_still_not_here_is_a_late_parcel_and_ya_is_no_yes(agent: SupportAgent) -> None:
    from agent.understanding import read_signals

    assert read_signals("ya bu ne ya siparis hala gelmedi", "tr").affirmation is None
    agent.handle("g261", "ya bu ne ya siparis hala gelmedi, verilen tarih coktan gecti 😡 #A1003")
    turn = agent.handle("g261", "mail adresim alice@example.com")
    assert turn.intent == "delivery_delay" and pending_tool(agent, "g261") == "issue_coupon"


def test_the_old_address_the_customer_leaves_is_no_refusal(agent: SupportAgent) -> None:
    agent.handle("g262", "Grüezi mitenand, ich hab eine frage zu meiner bestellig #A1003. email: alice@example.com")
    agent.handle(
        "g262",
        "s paket isch ja scho unterwegs, aber ich bin ab morgen nicht mehr an der alten adresse. "
        "kann man das noch umleiten auf Bahnhofstrasse 12, 8001 Zürich?",
    )
    assert pending_tool(agent, "g262") == "intercept_parcel"


def test_a_moroccan_yes_redirects_the_parcel(agent: SupportAgent) -> None:
    agent.handle("g263", "الكولي ديالي راه فالطريق، واش ممكن تحولوه لعنوان جديد؟ #A1003 alice@example.com")
    agent.handle("g263", "العنوان الجديد: 27 زنقة ابن منير، المعاريف، 20330 الدار البيضاء")
    assert pending_tool(agent, "g263") == "intercept_parcel"
    agent.handle("g263", "واه دير ليا هادشي عافاك")
    assert writes(agent) == ["intercept_parcel"]


@pytest.mark.parametrize(
    ("conversation", "language", "message"),
    [
        ("g264", "en", "the T-Shirt i want L size, not the one i choose. the Mug no need change, keep same"),
        ("g265", "fr", "je le veux en L au lieu du M. le T-Shirt oui, le Mug on touche pas, il est très bien"),
    ],
)
def test_the_item_left_as_it_is_is_not_the_one_swapped(
    agent: SupportAgent, conversation: str, language: str, message: str
) -> None:
    agent.handle(conversation, "hi, order #A1002 alice@example.com, I want to exchange something")
    agent.handle(conversation, message)
    pending = agent.state(conversation).get("pending")
    assert pending and pending["tool"] == "exchange_items" and pending["arguments"]["item_ids"] == ["2000000001"]


def test_one_thing_to_swap_and_another_to_return_asks_which_then_does_both(agent: SupportAgent) -> None:
    agent.handle(
        "g266", "Buenas! Quería cambiar una cosa de mi pedido y devolver otra. el correo es alice@example.com y el pedido #A1002"
    )
    assert pending_tool(agent, "g266") is None and writes(agent) == []
    agent.handle(
        "g266", "el T-Shirt me queda pequeño, lo quiero en talla L, mismo color. Y el Mug no me convence, ese lo devuelvo"
    )
    assert pending_tool(agent, "g266") == "exchange_items"
    agent.handle("g266", "sí, las dos cosas. El reembolso del Mug va a la misma tarjeta no?")
    assert sorted(writes(agent)) == ["exchange_items", "return_items"]
    from agent.understanding import read_signals

    assert read_signals("Buenas! Quería cambiar una cosa y devolver otra", "es").affirmation is None


def test_a_chilean_ya_po_agrees_and_a_moroccan_address_names_no_colour(agent: SupportAgent) -> None:
    from agent.offline import parse_address
    from agent.understanding import read_signals

    assert read_signals("ya po, dale, redirijanlo. cuanto se demora mas o menos?", "es").affirmation == "yes"
    agent.handle("g267", "الكولي ديالي راه فالطريق، واش ممكن تحولوه لعنوان جديد؟ #A1003 alice@example.com")
    agent.handle("g267", "العنوان الجديد: 27 زنقة ابن منير، المعاريف، 20330 الدار البيضاء")
    assert not agent.state("g267").get("queued")
    turn = agent.handle("g267", "واه دير ليا هادشي عافاك")
    assert turn.status != "escalated" and writes(agent) == ["intercept_parcel"]
    fields = parse_address("27 زنقة ابن منير، المعاريف، 20330 الدار البيضاء", {"shipping_address": {"postal_code": "75002"}})
    assert (fields["postal_code"], fields["city"]) == ("20330", "الدار البيضاء")


def test_a_chinese_address_after_change_to_is_read_with_its_labelled_postal_code() -> None:
    from agent.offline import format_address, parse_address
    from agent.understanding import extract_slots

    text = "2. 收货地址也要改，改成 浙江省杭州市西湖区文三路478号华星时代广场A座1106室，邮编310013"
    address = extract_slots(text, "zh").address
    assert address is not None and address.startswith("浙江省杭州市")
    fields = parse_address(address, {"shipping_address": {"country": "China", "city": "Shanghai", "postal_code": "200000"}})
    assert fields["postal_code"] == "310013" and "Shanghai" not in format_address(fields)


def test_some_things_to_return_asks_which_and_yes_to_both_takes_up_the_return(agent: SupportAgent) -> None:
    agent.handle("g268", "Olá! Recebi a encomenda #A1002 mas tenho de devolver umas coisas. o mail é alice@example.com")
    assert pending_tool(agent, "g268") is None
    agent.handle("g268", "o Mug quero devolver, nao gostei nada. o T-Shirt quero trocar por um XL, o M fica-me apertado")
    agent.handle("g268", "Sim, pode avançar com as duas. Os portes da devolução sao pagos por mim?")
    pending = agent.state("g268").get("pending")
    assert pending and pending["tool"] == "return_items" and pending["arguments"]["item_ids"] == ["2000000010"]
    assert writes(agent) == []


def test_righto_before_a_question_takes_no_coupon(agent: SupportAgent) -> None:
    agent.handle("g269", "hey my order's been stuck for like a week?? #A1003 alice@example.com")
    assert pending_tool(agent, "g269") == "issue_coupon"
    agent.handle("g269", "righto, so i just wait for the carrier to contact me?")
    assert writes(agent) == []


def test_a_bavarian_no_to_the_money_keeps_the_new_one(agent: SupportAgent) -> None:
    agent.handle(
        "g270", "griaß eich, Mug is kaputt angekommen, die schachtel war total eingedrückt 😕 bestellung #A1002 alice@example.com"
    )
    agent.handle("g270", "geld zurück brauch i ned, schickts ma bitte einfach a neues")
    assert pending_tool(agent, "g270") == "create_reshipment"
    agent.handle("g270", "jo bitte, passt")
    assert writes(agent) == ["create_reshipment"]


def test_the_reason_for_a_return_keeps_the_return(agent: SupportAgent) -> None:
    agent.handle(
        "g271", "先日届いたMugを返品したいのですが可能でしょうか。注文番号は#A1002、メールアドレスはalice@example.comです。"
    )
    agent.handle("g271", "イメージと違ったので…未使用です。")
    assert pending_tool(agent, "g271") == "return_items"
    agent.handle("g271", "はい、お願いします。返金はいつ頃になりますか？")
    assert writes(agent) == ["return_items"]


def test_a_colour_for_an_item_read_as_a_faster_carrier_is_a_swap(agent: SupportAgent) -> None:
    agent.handle("g272", "Goedemiddag, ik wil iets aanpassen aan bestelling #A1001 alice@example.com")
    agent.handle("g272", "de T-Shirt graag in blauw L ipv rood. de Mug is goed zo, daar hoeft niks aan te veranderen")
    assert pending_tool(agent, "g272") != "switch_carrier"
    agent.handle("g272", "ja klopt, graag")
    assert "switch_carrier" not in writes(agent)


@pytest.mark.parametrize(
    ("conversation", "first", "no_person"),
    [
        (
            "g273",
            "я отправил возврат две недели назад, где мои деньги?? заказ #A1002, почта alice@example.com",
            "нет, оператора не надо, просто скажите сроки",
        ),
        (
            "g274",
            "배송조회하면 '배송 예외'라고 뜨는데 이게 뭐예요? 주문번호 #A1003이고 이메일은 alice@example.com입니다",
            "아니요 상담원 연결은 괜찮아요. 감사합니다",
        ),
    ],
)
def test_no_person_wanted_sends_the_chat_to_none(agent: SupportAgent, conversation: str, first: str, no_person: str) -> None:
    agent.handle(conversation, first)
    turn = agent.handle(conversation, no_person)
    assert turn.status != "escalated" and writes(agent) == []


def test_is_there_anything_you_can_do_while_a_coupon_waits_offers_it_again(agent: SupportAgent) -> None:
    agent.handle("g275", "My parcel was meant to arrive last Thursday and still nothing. Order #A1003, email alice@example.com")
    turn = agent.handle("g275", "Bit annoying to be honest, it was meant to be a birthday present. Is there anything you can do?")
    assert turn.status != "escalated" and pending_tool(agent, "g275") == "issue_coupon"
    agent.handle("g275", "Go on then, yes I'll take the voucher")
    assert writes(agent) == ["issue_coupon"]


def test_if_i_do_not_pay_after_a_customs_question_is_about_the_duties(agent: SupportAgent) -> None:
    agent.handle("g276", "meu pedido ta parado na alfandega, vou ter que pagar imposto? #A1003 alice@example.com")
    turn = agent.handle("g276", "entendi... e se eu não pagar o que acontece?")
    assert turn.intent == "customs_duties"


def test_ok_thanks_to_news_with_a_coupon_on_offer_takes_none_and_yes_thanks_takes_it(agent: SupportAgent) -> None:
    agent.handle("g277", "hey my order's been stuck for like a week?? #A1003 alice@example.com")
    assert pending_tool(agent, "g277") == "issue_coupon"
    agent.handle("g277", "ok thanks")
    assert writes(agent) == []
    agent.handle("g278", "hey my order's been stuck for like a week?? #A1003 alice@example.com")
    agent.handle("g278", "yes thanks")
    assert writes(agent) == ["issue_coupon"]


def test_confirm_both_in_chinese_does_the_address_and_the_express(agent: SupportAgent) -> None:
    agent.handle("g279", "hi 我刚下的单 #A1005，地址写错了要改一下 邮箱：alice@example.com")
    agent.handle("g279", "新地址：浙江省杭州市西湖区文三路398号东方通信大厦8楼，邮编310013")
    agent.handle("g279", "顺便问下能不能改成加急快递？下周我要出差")
    agent.handle("g279", "可以，都确认")
    assert sorted(writes(agent)) == ["change_shipping_address", "switch_carrier"]


def test_an_email_address_named_as_such_asks_for_no_new_delivery_address(agent: SupportAgent) -> None:
    agent.handle("g280", "coucou, mon adresse mail c'est alice@example.com")
    assert agent.state("g280").get("intent") != "change_address"


def test_a_medium_instead_of_small_while_a_cancellation_waits_changes_the_size(agent: SupportAgent) -> None:
    agent.handle("g281", "hey so i need to cancel order #A1005, alice@example.com")
    agent.handle(
        "g281", "actually wait... can i just switch the T-Shirt to a large instead of medium? dont wanna cancel if i dont have to"
    )
    agent.handle("g281", "yes do that, thanks!!")
    assert writes(agent) == ["modify_order_items"]


def test_a_yes_that_closes_a_clause_sends_the_right_one_and_the_wrong_one_goes_back(agent: SupportAgent) -> None:
    agent.handle("g282", "pedi a T-Shirt azul M e veio vermelha, pedido #A1002 alice@example.com")
    assert pending_tool(agent, "g282") == "create_reshipment"
    agent.handle("g282", "quero a azul certa sim, manda. e a vermelha eu devolvo, como faço?")
    assert sorted(writes(agent)) == ["create_reshipment", "return_items"]


def test_a_yes_before_a_chat_tilde_and_a_question_on_sending_back_takes_the_exchange(agent: SupportAgent) -> None:
    agent.handle("g283", "T-Shirt 사이즈 L로 교환하고 싶어요 #A1002 alice@example.com")
    agent.handle("g283", "네네 그렇게 해주세요~ 반송은 어떻게 보내면 돼요?")
    assert writes(agent) == ["exchange_items"]


def test_no_to_a_size_change_and_cancel_the_whole_order_cancels(agent: SupportAgent) -> None:
    agent.handle("g284", "Dobry wieczór. Chciałbym anulować zamówienie #A1005, znalazłem taniej gdzie indziej. alice@example.com")
    agent.handle("g284", "nie, nie chce zmieniac rozmiaru ani nic, prosze anulowac cale zamowienie")
    assert writes(agent) == ["cancel_order"]


def test_ordered_twice_by_mistake_calls_the_parcel_back(agent: SupportAgent) -> None:
    agent.handle("g285", "Help, ik heb per ongeluk 2x hetzelfde besteld en deze is al onderweg 🙄 #A1003 alice@example.com")
    agent.handle("g285", "ja graag terughalen")
    assert writes(agent) == ["intercept_parcel"]


def test_an_address_with_a_name_and_care_of_line_is_an_address_not_a_person(agent: SupportAgent) -> None:
    agent.handle("g286", "Hallo, mein Paket ist schon unterwegs, kann man das noch umleiten? #A1003 alice@example.com")
    turn = agent.handle("g286", "bitte an meine arbeit: Alice Example, c/o Brandt & Partner GmbH, Hansaring 27, 50670 Köln")
    assert turn.status != "escalated" and pending_tool(agent, "g286") == "intercept_parcel"
    agent.handle("g286", "ja mach das bitte")
    assert writes(agent) == ["intercept_parcel"]


def test_leave_the_other_item_as_it_is_in_arabic_keeps_the_change_waiting(agent: SupportAgent) -> None:
    agent.handle("g287", "عايزة اغير مقاس الـT-Shirt لـ L في الطلب #A1001 الايميل alice@example.com")
    agent.handle("g287", "لا سيب الـMug زي ما هو")
    assert pending_tool(agent, "g287") == "modify_order_items"
    agent.handle("g287", "اه تمام كده")
    assert writes(agent) == ["modify_order_items"]


def test_a_faster_courier_in_chinese_is_a_carrier_switch(agent: SupportAgent) -> None:
    agent.handle("g288", "在吗？我的订单应该还没发出去吧，能不能换成快一点的快递 #A1005 alice@example.com")
    assert pending_tool(agent, "g288") == "switch_carrier"


def test_an_item_wanted_in_another_colour_read_as_nothing_asks_for_the_swap(agent: SupportAgent) -> None:
    agent.handle("g289", "Hi there, my email is alice@example.com and the order is #A1001")
    turn = agent.handle("g289", "I'd like the T-Shirt in blue rather than red please. The Mug is fine as it is, leave that one")
    assert turn.intent in ("exchange_request", "modify_order")


def test_not_liking_an_item_does_not_negate_its_return_in_chinese(agent: SupportAgent) -> None:
    agent.handle("g290", "你好，货收到了，Mug不太喜欢想退掉，T-Shirt尺码偏小想换大一号 订单号#A1002，邮箱alice@example.com")
    agent.handle("g290", "对，两个都按这个办")
    assert sorted(writes(agent)) == ["exchange_items", "return_items"]


def test_thanks_for_the_news_in_italian_takes_no_coupon_and_a_plain_yes_does(agent: SupportAgent) -> None:
    agent.handle("g291", "Buonasera, il mio pacco è in ritardo, che succede? ordine #A1003, mail alice@example.com")
    assert pending_tool(agent, "g291") == "issue_coupon"
    agent.handle("g291", "va bene, grazie delle info")
    assert writes(agent) == []
    agent.handle("g292", "Buonasera, il mio pacco è in ritardo, che succede? ordine #A1003, mail alice@example.com")
    agent.handle("g292", "sì grazie")
    assert writes(agent) == ["issue_coupon"]


def test_a_new_address_with_two_words_keeps_the_chats_language_and_a_place_asked_about_is_no_address(
    agent: SupportAgent,
) -> None:
    first = agent.handle(
        "g293", "hi! my package is already shipped but i won't be home, can you send it to my parents place instead?"
    )
    assert first.language == "en" and agent.state("g293").get("address") is None
    agent.handle("g293", "order #A1003, email alice@example.com")
    assert pending_tool(agent, "g293") is None
    turn = agent.handle("g293", "new address: 1847 Maple Ave, Apt 3B, Evanston, IL 60201")
    assert turn.language == "en" and pending_tool(agent, "g293") == "intercept_parcel"


@pytest.mark.parametrize(
    ("conversation", "opening", "answer", "done"),
    [
        # Irish English: "grand" is fine, a yes.
        (
            "g294",
            "hi there can ye change the T-Shirt to L in my order #A1005, alice@example.com",
            "grand yeah do that so",
            "modify_order_items",
        ),
        # A yes of four Han letters before a question on the money.
        ("g295", "我要取消订单#A1005！！买错了 邮箱是alice@example.com", "确定取消，钱多久退回来？", "cancel_order"),
        # A yes then a question opened by "when" with no mark between.
        (
            "g296",
            "배송완료라고 뜨는데 물건이 없어요 주문번호 #A1002 이메일 alice@example.com",
            "네 부탁드려요 언제쯤 도착할까요?",
            "create_reshipment",
        ),
        # A yes phrase that closes the sentence after a question on the postage.
        (
            "g297",
            "Mugを返品したいです 注文番号 #A1002 / alice@example.com",
            "返送料ってかかりますか？…かかってもいいので手続きお願いします",
            "return_items",
        ),
        # "No, I'm not interested in changing the products, cancel it all": the no is for the change.
        (
            "g298",
            "voglio annullare TUTTO l'ordine #A1005, alice@example.com",
            "no non mi interessa cambiare i prodotti, annullate tutto e basta",
            "cancel_order",
        ),
    ],
)
def test_answers_that_take_the_proposal(agent: SupportAgent, conversation: str, opening: str, answer: str, done: str) -> None:
    agent.handle(conversation, opening)
    assert pending_tool(agent, conversation) is not None
    agent.handle(conversation, answer)
    assert writes(agent) == [done]


def test_send_the_right_one_and_i_return_this_one_then_both_does_both_in_spanish(agent: SupportAgent) -> None:
    agent.handle(
        "g299", "buenas tardes, pedi la T-Shirt azul M y me llego roja 🙄 pedido #A1002 y mi correo es alice@example.com"
    )
    agent.handle("g299", "mandenme el correcto porfa, y el rojo se los devuelvo que no lo quiero")
    agent.handle("g299", "dale, de una, las dos cosas")
    assert sorted(writes(agent)) == ["create_reshipment", "return_items"]


def test_express_in_traditional_chinese_beside_an_address_change_is_queued(agent: SupportAgent) -> None:
    agent.handle("g300", "你好～訂單還沒出貨的話可以改地址嗎 訂單編號 #A1005，email是 alice@example.com")
    agent.handle("g300", "新地址：106台北市大安區忠孝東路四段216巷8號3樓")
    agent.handle("g300", "然後可以順便改成快遞嗎？我下禮拜就要用到了")
    agent.handle("g300", "好 兩個都麻煩你了 運費差多少？")
    assert sorted(writes(agent)) == ["change_shipping_address", "switch_carrier"]


def test_niente_rimborso_refuses_the_refund_and_asks_for_another_one(agent: SupportAgent) -> None:
    agent.handle(
        "g301", "ciao! è arrivata la Mug ma è rotta, la scatola era tutta schiacciata 😢 ordine #A1002, mail alice@example.com"
    )
    agent.handle("g301", "no no, niente rimborso, lo voglio proprio, me ne mandate un altro?")
    assert pending_tool(agent, "g301") != "issue_refund"
    agent.handle("g301", "sì perfetto grazie!!")
    assert "issue_refund" not in writes(agent)


def test_the_coupon_is_fine_without_in_korean_takes_no_coupon(agent: SupportAgent) -> None:
    agent.handle("g302", "배송 예정일 지났는데 아직도 안 왔어요;; alice@example.com 주문번호 #A1003")
    assert pending_tool(agent, "g302") == "issue_coupon"
    agent.handle("g302", "쿠폰은 됐고요 그냥 물건만 빨리 받고 싶어요")
    assert writes(agent) == []


def test_no_only_that_one_the_other_is_fine_as_it_is_keeps_the_swap(agent: SupportAgent) -> None:
    agent.handle(
        "g303", "Goedemiddag, bij de T-Shirt heb ik de verkeerde maat gekozen, ik wilde L ipv M. #A1001 alice@example.com"
    )
    assert pending_tool(agent, "g303") == "modify_order_items"
    agent.handle("g303", "Nee alleen die, Mug is prima zo")
    assert pending_tool(agent, "g303") == "modify_order_items"
    agent.handle("g303", "Ja, graag aanpassen")
    assert writes(agent) == ["modify_order_items"]


@pytest.mark.parametrize(
    ("conversation", "first", "follow_up"),
    [
        (
            "g304",
            "привет, курьер сегодня приедет? заказ #A1003, мыло alice@example.com",
            "а во сколько примерно? мне к 2 на работу",
        ),
        (
            "g305",
            "ehi, sapete a che ora passa il corriere? ordine #A1003 alice@example.com",
            "e se non ci sono lo lasciano a un vicino?",
        ),
    ],
)
def test_a_question_after_parcel_news_is_answered_not_sent_to_a_person(
    agent: SupportAgent, conversation: str, first: str, follow_up: str
) -> None:
    agent.handle(conversation, first)
    turn = agent.handle(conversation, follow_up)
    assert turn.status != "escalated" and turn.intent != "human_agent"


def test_ordered_the_wrong_thing_can_you_cancel_is_a_cancellation_in_russian(agent: SupportAgent) -> None:
    agent.handle("g306", "блин, заказала не то 🤦‍♀️ можно отменить? заказ #A1005 alice@example.com")
    assert pending_tool(agent, "g306") == "cancel_order"


def test_send_the_right_one_but_no_return_yet_sends_it_in_russian(agent: SupportAgent) -> None:
    agent.handle("g307", "заказывала T-Shirt синюю M, а прислали красную 😑 alice@example.com, заказ #A1002")
    assert pending_tool(agent, "g307") == "create_reshipment"
    agent.handle("g307", "да, отправляйте синюю. возврат пока не оформляйте, потом решу")
    assert writes(agent) == ["create_reshipment"]


def test_a_yes_and_send_it_before_a_question_in_egyptian_arabic(agent: SupportAgent) -> None:
    agent.handle("g308", "السلام عليكم، ال Mug وصل مكسور خالص 😩 الاوردر رقم #A1002 الايميل alice@example.com")
    agent.handle("g308", "لا مش عايز فلوس، عايز واحد جديد بداله")
    agent.handle("g308", "اه ابعتوه، وهياخد قد ايه؟")
    assert writes(agent) == ["create_reshipment"]


def test_thanks_to_a_new_parcel_the_customer_asked_for_takes_it_in_dutch(agent: SupportAgent) -> None:
    agent.handle("g309", "De Mug is kapot aangekomen, stuur maar opnieuw aub. #A1002 alice@example.com")
    assert pending_tool(agent, "g309") == "create_reshipment"
    agent.handle("g309", "dank je wel!")
    assert writes(agent) == ["create_reshipment"]


def test_thanks_to_a_proposal_nobody_asked_for_takes_nothing(agent: SupportAgent) -> None:
    replacement_offered(agent, "g310")
    agent.handle("g310", "thanks")
    assert writes(agent) == []


def test_a_new_address_given_before_identity_is_kept_and_its_postal_code_proves_nothing(agent: SupportAgent) -> None:
    agent.handle("g311", "order #A1003 is on its way but I'm away all week")
    agent.handle("g311", "could you send it to my sister instead? 40 Oak Avenue, Springfield, IL 62704")
    assert agent.state("g311").get("customer_id") is None
    agent.handle("g311", "ah the email is alice@example.com")
    pending = agent.state("g311").get("pending")
    assert pending is not None and "Oak Avenue" in str(pending["arguments"])


def test_a_receipt_mentioned_after_refund_news_is_no_invoice_request_in_spanish(agent: SupportAgent) -> None:
    agent.handle("g312", "devolví la Mug hace dos semanas y no veo el reembolso, pedido #A1002 alice@example.com")
    turn = agent.handle("g312", "¿ya la recibieron o no? tengo el comprobante del envío")
    assert turn.status != "escalated" and turn.intent != "invoice_request"


def test_yes_send_it_back_with_a_question_after_a_no_takes_the_recall_in_italian(agent: SupportAgent) -> None:
    agent.handle("g313", "vorrei annullare l'ordine #A1003, alice@example.com")
    assert pending_tool(agent, "g313") == "intercept_parcel"
    agent.handle("g313", "no aspetta")
    assert pending_tool(agent, "g313") is None
    agent.handle("g313", "sì, fatelo tornare indietro. e il rimborso come funziona?")
    assert writes(agent) == ["intercept_parcel"]


def test_a_grievance_that_spells_out_a_return_gets_the_return_in_italian(agent: SupportAgent) -> None:
    turn = agent.handle("g314", "la Mug è di una qualità pessima. ve la rimando indietro. ordine #A1002 alice@example.com")
    assert turn.status != "escalated"
    assert pending_tool(agent, "g314") == "return_items"


def test_a_grievance_about_a_late_parcel_gets_its_news_first_in_dutch(agent: SupportAgent) -> None:
    turn = agent.handle("g315", "Echt belachelijk dit. Bestelling #A1003 had er al lang moeten zijn. alice@example.com")
    assert turn.status != "escalated" and "JD1003" in turn.reply


def test_no_the_rest_stays_only_this_item_keeps_the_change_in_turkish(agent: SupportAgent) -> None:
    agent.handle("g316", "#A1001 siparişimde T-Shirt bedenini L yapmak istiyorum, alice@example.com")
    assert pending_tool(agent, "g316") == "modify_order_items"
    agent.handle("g316", "yok diğer ürün kalsın aynen, sadece T-Shirt")
    assert pending_tool(agent, "g316") == "modify_order_items"
    agent.handle("g316", "evet onaylıyorum")
    assert writes(agent) == ["modify_order_items"]


def test_chamo_me_gives_the_name_in_european_portuguese(agent: SupportAgent) -> None:
    agent.handle("g317", "Olá, a minha encomenda ainda não chegou")
    agent.handle("g317", "Chamo-me Alice Martin, código postal 75002")
    assert agent.state("g317").get("customer_id") == "alice"


def test_fine_refund_it_before_a_question_takes_the_refund_in_chinese(agent: SupportAgent) -> None:
    agent.handle("g318", "Mug 收到就是碎的 订单 #A1002 邮箱 alice@example.com")
    agent.handle("g318", "不用补发了，直接退款吧")
    assert pending_tool(agent, "g318") == "issue_refund"
    agent.handle("g318", "好 退吧。钱是退回原来的付款方式吗？")
    assert writes(agent) == ["issue_refund"]


def test_an_actual_person_asked_for_after_parcel_news_is_a_person(agent: SupportAgent) -> None:
    agent.handle("g319", "tracking for #A1003 hasn't moved in days, alice@example.com")
    turn = agent.handle("g319", "that's not helpful. can I talk to an actual person who can call the carrier?")
    assert turn.status == "escalated"


def test_a_name_and_postal_code_show_the_order_but_a_new_address_needs_order_number_and_email(agent: SupportAgent) -> None:
    # Attack: names and postal codes are public; with them alone a parcel was sent elsewhere.
    agent.handle("g320", "Hello, my name is Alice Martin, postal code 75002. Where is my order #A1005?")
    assert agent.state("g320").get("customer_id") == "alice"
    turn = agent.handle("g320", "please cancel it")
    assert pending_tool(agent, "g320") is None and writes(agent) == []
    assert "order number" in turn.reply and "email" in turn.reply
    agent.handle("g320", "yes")
    assert writes(agent) == []
    agent.handle("g320", "#A1005, alice@example.com")
    assert pending_tool(agent, "g320") == "cancel_order"
    agent.handle("g320", "yes")
    assert writes(agent) == ["cancel_order"]


def test_someone_elses_email_does_not_strengthen_a_name_and_postal_code(agent: SupportAgent) -> None:
    agent.handle("g321", "I'm Alice Martin, postal code 75002, order #A1005")
    agent.handle("g321", "cancel it please")
    agent.handle("g321", "#A1005, bob@example.com")
    assert pending_tool(agent, "g321") is None
    agent.handle("g321", "yes")
    assert writes(agent) == []


def test_a_card_number_typed_in_the_chat_is_stored_nowhere(agent: SupportAgent) -> None:
    # Attack: a Luhn-valid card number typed by a customer was kept in the clear in messages and the brief.
    agent.handle("g322", "I want a person. I paid with my card 4111 1111 1111 1111 for order #A1002, alice@example.com")
    state = agent.state("g322")
    kept = repr(state)
    with agent.store.read() as s:
        kept += repr([m.text for m in s.scalars(select(Message))])
        kept += repr([(c.summary, c.brief) for c in s.scalars(select(Case))])
    assert "4111 1111 1111 1111" not in kept and "4111111111111111" not in kept
    assert "•••• 1111" in kept


def test_a_second_free_reshipment_of_one_order_goes_to_a_person(agent: SupportAgent) -> None:
    # Attack: five conversations of "it arrived damaged" + "yes" on one order wrote five reshipments.
    for n in range(3):
        conversation = f"g323-{n}"
        agent.handle(conversation, "the Mug of order #A1002 came broken, email alice@example.com")
        agent.handle(conversation, "yes please")
    assert writes(agent) == ["create_reshipment"]
    assert agent.state("g323-1").get("status") == "escalated"


@pytest.mark.parametrize(
    ("conversation", "first", "question"),
    [
        (
            "g324",
            "my order #A1003 should have been here days ago, alice@example.com",
            "Ah grand so it's still moving. Any idea when it'll land?",
        ),
        (
            "g325",
            "meu pedido #A1003 está atrasado, alice@example.com",
            "mas tem previsão? pq o rastreio ta parado faz dias",
        ),
    ],
)
def test_a_question_after_late_parcel_news_takes_no_coupon(
    agent: SupportAgent, conversation: str, first: str, question: str
) -> None:
    agent.handle(conversation, first)
    assert pending_tool(agent, conversation) == "issue_coupon"
    agent.handle(conversation, question)
    assert writes(agent) == []


def test_the_french_word_for_an_exchange_in_an_arabic_chat_is_no_yes_to_the_same_item_again(agent: SupportAgent) -> None:
    agent.handle("g326", "السلام عليكم، وصلني T-Shirt بمقاس غلط، الطلب #A1002 الايميل alice@example.com")
    assert pending_tool(agent, "g326") == "create_reshipment"
    agent.handle("g326", "ih d'accord, dir l'échange")
    assert "create_reshipment" not in writes(agent)


@pytest.mark.parametrize(
    ("conversation", "message"),
    [
        ("g327", "the Mug i want to return, quality is poor. and the T-Shirt is too tight, i want L in the same colour"),
        ("g328", "den Mug möcht ich zurückschicken und das T-Shirt gegen L tauschen, M is zu eng"),
    ],
)
def test_one_item_returned_and_another_swapped_in_one_message(agent: SupportAgent, conversation: str, message: str) -> None:
    agent.handle(conversation, "order #A1002, alice@example.com")
    agent.handle(conversation, message)
    # Each item with its own request, one after the other: the mug back, the shirt in L.
    items = {"return_items": [MUG], "exchange_items": [SHIRT]}
    for _ in range(2):
        pending = agent.state(conversation).get("pending")
        assert pending is not None and pending["arguments"]["item_ids"] == items.pop(pending["tool"])
        agent.handle(conversation, "yes")
    assert sorted(writes(agent)) == ["exchange_items", "return_items"]


def test_a_yes_retried_after_a_crash_reports_the_write_that_ran(agent: SupportAgent) -> None:
    # Attack: the write committed, the conversation's checkpoint did not; the retried yes was told
    # "I can't do that here … order is cancelled" although the cancellation had run.
    agent.handle("g329", "please cancel order #A1005, alice@example.com")
    pending = agent.state("g329")["pending"]
    assert pending is not None and pending["tool"] == "cancel_order"
    ran = Toolbox(agent.store, Caller(actor="agent", customer_id="alice")).call(
        "cancel_order", pending["arguments"], idempotency_key=pending["key"]
    )
    assert ran.ok
    turn = agent.handle("g329", "yes")
    assert turn.status != "escalated" and all(a["ok"] for a in turn.actions)
    assert writes(agent) == ["cancel_order"]


def test_both_asked_again_after_both_were_done_is_already_done(agent: SupportAgent) -> None:
    agent.handle("g330", "the Mug of order #A1002 is the wrong one, email alice@example.com")
    agent.handle("g330", "yes send the right one please, and what do I do with this one, send it back?")
    agent.handle("g330", "yes open the return")
    before = writes(agent)
    assert "create_reshipment" in before
    turn = agent.handle("g330", "yep do both - send the right one and set up the return")
    assert writes(agent) == before and turn.status != "escalated"


def test_no_size_change_cancel_the_whole_order_cancels_in_russian(agent: SupportAgent) -> None:
    agent.handle("g331", "Хочу отменить заказ #A1005, почта alice@example.com")
    assert pending_tool(agent, "g331") == "cancel_order"
    agent.handle("g331", "Нет, менять размер не нужно, отменяйте весь заказ, пожалуйста.")
    assert writes(agent) == ["cancel_order"] or pending_tool(agent, "g331") == "cancel_order"


def test_yes_send_it_the_address_is_the_same_sends_it_in_turkish(agent: SupportAgent) -> None:
    replacement_offered(agent, "g332")
    agent.handle("g332", "evet gönderin, adres aynı")
    assert writes(agent) == ["create_reshipment"]
