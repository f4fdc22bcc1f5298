"""Checks on a written reply before it is sent: actions claimed as done in any of the 14
languages (and offers, questions, promises and negations that are not claims), claims no
tool backs, card numbers masked, citations of knowledge chunks, and the whole check."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import yaml

import agent.reply_checks as reply_checks
from agent.language import SUPPORTED
from agent.reply_checks import (
    ACTION_FAMILIES,
    CITATION,
    FAMILIES,
    check_reply,
    cited_ids,
    claimed_actions,
    mask_card_numbers,
    strip_citations,
    unsupported_claims,
)

REPLIES = Path(__file__).resolve().parents[2] / "prompts" / "replies"

# One completed action per family and language, as a support agent would state it.
CLAIMS: dict[str, dict[str, str]] = {
    "en": {
        "refund": "I've refunded €12.50 to your Visa card; it should appear within 5 business days.",
        "cancel": "I have cancelled order #W1234567 for you.",
        "reship": "I've sent you a replacement mug with DHL, tracking JD014600006.",
        "coupon": "I've created a 10% discount code for you: SORRY10.",
        "address": "I've updated the delivery address on order #W1234567.",
        "return": "I've opened a return for the mug and emailed you a prepaid return label.",
        "exchange": "I've arranged an exchange for the blue mug in size L.",
        "carrier": "I've switched the carrier to DHL Express for order #W1234567.",
        "intercept": "The parcel has been intercepted and will come back to our warehouse.",
    },
    "es": {
        "refund": "Le he reembolsado 12,50 € en su tarjeta Visa.",
        "cancel": "He cancelado su pedido #W1234567.",
        "reship": "Le hemos vuelto a enviar la taza con DHL.",
        "coupon": "Aquí tiene su cupón de descuento: SORRY10.",
        "address": "He actualizado la dirección de entrega de su pedido.",
        "return": "He creado la devolución y le he enviado la etiqueta de devolución por correo.",
        "exchange": "He gestionado el cambio de la taza por la talla L.",
        "carrier": "He cambiado el transportista de su pedido a DHL.",
        "intercept": "He pedido a DHL que redirija el paquete a su nueva dirección.",
    },
    "fr": {
        "refund": "Je vous ai remboursé 12,50 € sur votre carte Visa.",
        "cancel": "J’ai annulé votre commande #W1234567.",
        "reship": "Nous vous avons renvoyé le mug avec DHL.",
        "coupon": "Voici votre code promo : SORRY10, valable un mois.",
        "address": "J'ai mis à jour l'adresse de livraison de votre commande.",
        "return": "J'ai créé le retour, vous recevrez l'étiquette par e-mail.",
        "exchange": "J'ai enregistré l'échange de votre mug contre la taille L.",
        "carrier": "J'ai changé de transporteur : votre commande partira avec DHL.",
        "intercept": "J'ai demandé à DHL de réacheminer le colis vers votre nouvelle adresse.",
    },
    "de": {
        "refund": "Ich habe Ihnen den Betrag von 12,50 € auf Ihre Visa-Karte erstattet.",
        "cancel": "Ich habe Ihre Bestellung #W1234567 storniert.",
        "reship": "Wir haben Ihnen die Tasse erneut mit DHL zugeschickt.",
        "coupon": "Hier ist Ihr Gutscheincode: SORRY10.",
        "address": "Ich habe die Lieferadresse Ihrer Bestellung geändert.",
        "return": "Ich habe die Rücksendung für Sie angelegt.",
        "exchange": "Der Umtausch wurde angelegt, Sie erhalten eine E-Mail mit allen Details.",
        "carrier": "Ich habe den Versanddienstleister auf DHL umgestellt.",
        "intercept": "Ihr Paket wurde umgeleitet und geht an Ihre neue Adresse.",
    },
    "it": {
        "refund": "Le ho rimborsato 12,50 € sulla sua carta Visa.",
        "cancel": "Ho annullato il suo ordine #W1234567.",
        "reship": "Le abbiamo rispedito la tazza con DHL.",
        "coupon": "Ecco il suo codice sconto: SORRY10.",
        "address": "Ho aggiornato l'indirizzo di consegna del suo ordine.",
        "return": "Ho aperto il reso per la tazza.",
        "exchange": "Ho registrato il cambio della tazza con la taglia L.",
        "carrier": "Ho cambiato il corriere: il suo ordine partirà con DHL.",
        "intercept": "Ho chiesto a DHL di reindirizzare il pacco al nuovo indirizzo.",
    },
    "pt": {
        "refund": "Já reembolsei R$ 50,00 no seu cartão.",
        "cancel": "Seu pedido #W1234567 foi cancelado.",
        "reship": "Reenviei a caneca pela transportadora DHL.",
        "coupon": "Aqui está seu cupom de desconto: SORRY10.",
        "address": "Atualizei o endereço de entrega do seu pedido.",
        "return": "Abri a devolução da caneca e enviei a etiqueta de devolução por e-mail.",
        "exchange": "A troca foi registrada e você receberá as instruções por e-mail.",
        "carrier": "Alterei a transportadora do seu pedido para a DHL.",
        "intercept": "Pedi à transportadora que redirecione o pacote para o novo endereço.",
    },
    "nl": {
        "refund": "Ik heb € 12,50 teruggestort op uw Visa-kaart.",
        "cancel": "Ik heb uw bestelling #W1234567 geannuleerd.",
        "reship": "We hebben de mok opnieuw verstuurd met DHL.",
        "coupon": "Hier is uw kortingscode: SORRY10.",
        "address": "Ik heb het bezorgadres van uw bestelling gewijzigd.",
        "return": "Ik heb een retour aangemaakt voor de mok.",
        "exchange": "Ik heb de mok omgeruild voor maat L.",
        "carrier": "Ik heb de vervoerder gewijzigd naar DHL.",
        "intercept": "Uw pakket is omgeleid naar uw nieuwe adres.",
    },
    "pl": {
        "refund": "Zwróciłem 50 zł na Pani kartę.",
        "cancel": "Anulowałem Pana zamówienie #W1234567.",
        "reship": "Wysłaliśmy ponownie kubek przez DHL.",
        "coupon": "Oto Pani kod rabatowy: SORRY10.",
        "address": "Zmieniłem adres dostawy Pana zamówienia.",
        "return": "Zwrot został zgłoszony, a etykieta zwrotna została wysłana e-mailem.",
        "exchange": "Wymiana została zarejestrowana.",
        "carrier": "Zmieniłem przewoźnika na DHL.",
        "intercept": "Paczka została przekierowana na nowy adres.",
    },
    "tr": {
        "refund": "12,50 € tutarı kartınıza iade edildi.",
        "cancel": "Siparişinizi iptal ettim.",
        "reship": "Kupayı DHL ile yeniden gönderdik.",
        "coupon": "Size SORRY10 kodlu bir indirim kuponu tanımladım.",
        "address": "Teslimat adresinizi güncelledim.",
        "return": "İade talebiniz oluşturuldu, iade etiketi e-posta ile gönderildi.",
        "exchange": "Değişim talebiniz oluşturuldu.",
        "carrier": "Kargo firmasını DHL olarak değiştirdim.",
        "intercept": "Paketiniz yeni adresinize yönlendirildi.",
    },
    "ru": {
        "refund": "Мы вернули вам 1200 ₽ на карту.",
        "cancel": "Я отменил ваш заказ #W1234567.",
        "reship": "Замена уже отправлена через DHL.",
        "coupon": "Ваш промокод: SORRY10, скидка 10% на следующий заказ.",
        "address": "Я изменил адрес доставки вашего заказа.",
        "return": "Заявка на возврат создана, этикетка для возврата отправлена вам на почту.",
        "exchange": "Обмен оформлен, инструкции придут вам на почту.",
        "carrier": "Я сменил службу доставки на DHL.",
        "intercept": "Посылка перенаправлена на ваш новый адрес.",
    },
    "ar": {
        "refund": "تم استرداد المبلغ إلى بطاقتك.",
        "cancel": "لقد ألغيت طلبك رقم #W1234567.",
        "reship": "تمت إعادة إرسال الطلب إليك عبر DHL.",
        "coupon": "إليك قسيمتك: SORRY10.",
        "address": "تم تغيير عنوان التوصيل لطلبك.",
        "return": "تم فتح طلب إرجاع للكوب.",
        "exchange": "تم تسجيل طلب الاستبدال.",
        "carrier": "تم تغيير شركة الشحن إلى DHL.",
        "intercept": "طلبت من DHL إعادة توجيه الطرد إلى عنوانك الجديد.",
    },
    "zh": {
        "refund": "已为您退款12.50欧元，预计5个工作日内到账。",
        "cancel": "您的订单#W1234567已取消。",
        "reship": "已为您重新发货，运单号JD014600006。",
        "coupon": "已为您发放一张九折优惠券：SORRY10。",
        "address": "收货地址已更新为北京市朝阳区。",
        "return": "退货申请已提交，退货标签已发送至您的邮箱。",
        "exchange": "已为您办理换货。",
        "carrier": "已为您更换快递为顺丰。",
        "intercept": "包裹已拦截，将退回仓库。",
    },
    "ja": {
        "refund": "ご注文の代金を返金いたしました。",
        "cancel": "ご注文#W1234567をキャンセルいたしました。",
        "reship": "代わりの商品を再送いたしました。",
        "coupon": "クーポンを発行いたしました。コードはSORRY10です。",
        "address": "お届け先を変更いたしました。",
        "return": "返品を受け付けました。返品ラベルをお送りしました。",
        "exchange": "交換の手続きが完了しました。",
        "carrier": "配送業者を変更いたしました。",
        "intercept": "お荷物を新しい住所へ転送するよう依頼いたしました。",
    },
    "ko": {
        "refund": "주문 금액을 환불해 드렸습니다.",
        "cancel": "주문이 취소되었습니다.",
        "reship": "상품을 재발송해 드렸습니다.",
        "coupon": "10% 할인 쿠폰을 발급해 드렸습니다.",
        "address": "배송지를 변경해 드렸습니다.",
        "return": "반품이 접수되었습니다.",
        "exchange": "교환 신청이 완료되었습니다.",
        "carrier": "택배사를 변경해 드렸습니다.",
        "intercept": "택배사에 새 주소로 보내 달라고 요청했습니다.",
    },
}

# A completed refund and an offer or question about one, per language.
REFUND_OFFERS: dict[str, str] = {
    "en": "I can refund €12.50 to your card. Shall I go ahead?",
    "es": "¿Quiere que le reembolse los 12,50 €? Puedo reembolsarle en su tarjeta.",
    "fr": "Je peux vous rembourser 12,50 €. Voulez-vous que je procède ?",
    "de": "Ich kann Ihnen 12,50 € erstatten. Soll ich das veranlassen?",
    "it": "Posso rimborsarle 12,50 €. Vuole che proceda?",
    "pt": "Posso reembolsar R$ 50,00 no seu cartão. Posso prosseguir?",
    "nl": "Ik kan € 12,50 terugbetalen op uw kaart. Zal ik dat voor u regelen?",
    "pl": "Mogę zlecić zwrot kwoty 50 zł. Czy mogę kontynuować?",
    "tr": "12,50 € tutarını kartınıza iade edebilirim. İşleme devam etmemi ister misiniz?",
    "ru": "Я могу вернуть вам 1200 ₽. Продолжить?",
    "ar": "يمكنني رد مبلغ 12.50 يورو إلى بطاقتك. هل أتابع؟",
    "zh": "我可以为您退款12.50欧元，是否为您办理？",
    "ja": "12.50ユーロを返金することができます。手続きを進めてもよろしいでしょうか？",
    "ko": "12.50유로를 환불해 드릴 수 있습니다. 진행해 드릴까요?",
}

# Promises, conditions, negations and questions: nothing has been done yet.
NOT_CLAIMS: list[tuple[str, str]] = [
    ("en", "Would you like me to cancel the order?"),
    ("en", "We will refund you once the items arrive."),
    ("en", "Once your refund has been processed, you'll get an email."),
    ("en", "Your order hasn't been cancelled yet."),
    ("en", "No refund has been issued for order #W1234567 yet."),
    ("en", "I can send a replacement or open a return, which do you prefer?"),
    ("en", "If you'd like, I can change the delivery address."),
    ("en", "Has it been refunded?"),
    ("en", "I would have cancelled it, but it had already shipped."),
    ("en", "Your discount code is valid until 31 December."),
    ("en", "Refunds are usually issued within 5 business days."),
    ("es", "Le reembolsaremos en cuanto recibamos los artículos."),
    ("es", "Todavía no he reembolsado el pedido porque falta la confirmación."),
    ("es", "Una vez que se haya procesado el reembolso, recibirá un correo."),
    ("es", "Quiero que me reembolséis el artículo que falta."),
    ("fr", "Dès que le remboursement aura été effectué, vous recevrez un e-mail."),
    ("fr", "Le remboursement n'a pas encore été effectué."),
    ("fr", "Souhaitez-vous que j'annule la commande ?"),
    ("de", "Sobald die Artikel bei uns eingegangen sind, erstatten wir Ihnen den Betrag."),
    ("de", "Der Betrag wurde noch nicht erstattet."),
    ("de", "Möchten Sie, dass ich die Bestellung storniere?"),
    ("it", "Non ho ancora rimborsato l'ordine."),
    ("it", "Appena riceveremo il reso, le rimborseremo l'importo."),
    ("pt", "O reembolso ainda não foi feito."),
    ("pt", "O meu reembolso já foi processado?"),
    ("nl", "Het bedrag is nog niet terugbetaald."),
    ("nl", "Zodra wij de artikelen hebben ontvangen, wordt het bedrag terugbetaald."),
    ("pl", "Kwota nie została jeszcze zwrócona."),
    ("pl", "Kwota zostanie zwrócona po otrzymaniu produktów."),
    ("tr", "Ürünler bize ulaştığında ücret iade edilecek."),
    ("tr", "Tutar iade edildiğinde size e-posta göndereceğiz."),
    ("ru", "Деньги будут возвращены после получения товара."),
    ("ru", "Деньги ещё не были возвращены."),
    ("ru", "Хотите, чтобы я отменил заказ?"),
    ("ar", "سيتم استرداد المبلغ بعد استلام المنتجات."),
    ("ar", "لم يتم استرداد المبلغ بعد."),
    ("ar", "هل تريد أن ألغي الطلب؟"),
    ("zh", "收到商品后，我们会为您退款。"),
    ("zh", "退款尚未处理。"),
    ("ja", "商品の到着後、返金いたします。"),
    ("ja", "返金はまだ完了しておりません。"),
    ("ko", "상품이 도착하면 환불해 드립니다."),
    ("ko", "아직 환불되지 않았습니다."),
]

# The tool behind each "done" reply of the offline brain.
DONE_REPLY_TOOLS: dict[str, str] = {
    "done_refund": "issue_refund",
    "done_cancel": "cancel_order",
    "done_reship": "create_reshipment",
    "done_return": "return_items",
    "done_exchange": "exchange_items",
    "done_address_change": "change_shipping_address",
    "done_intercept": "intercept_parcel",
    "done_coupon": "issue_coupon",
    "done_switch_carrier": "switch_carrier",
}
VALUES = {
    "amount": "€12.50",
    "method": "Visa •••• 4242",
    "order_id": "#W1234567",
    "items": "Mug",
    "new_items": "Blue mug",
    "carrier": "DHL",
    "tracking": "JD014600006",
    "address": "Calle Mayor 5, 28013 Madrid",
    "code": "HW-3F2A9C0B1D",
    "discount": "10%",
}


def rendered_replies(language: str) -> dict[str, str]:
    catalogue: dict[str, str] = yaml.safe_load((REPLIES / f"{language}.yaml").read_text(encoding="utf-8"))
    values: defaultdict[str, str] = defaultdict(lambda: "x", VALUES)
    return {key: template.format_map(values) for key, template in catalogue.items()}


# --- claims -------------------------------------------------------------------------------


def test_the_tables_cover_every_language_and_family() -> None:
    assert set(CLAIMS) == set(SUPPORTED) == set(REFUND_OFFERS)
    assert all(set(by_family) == set(FAMILIES) for by_family in CLAIMS.values())
    assert set(ACTION_FAMILIES.values()) == set(FAMILIES)
    assert "modify_order_payment" not in ACTION_FAMILIES


@pytest.mark.parametrize("language", SUPPORTED)
def test_a_completed_refund_is_claimed_and_an_offer_is_not(language: str) -> None:
    assert claimed_actions(CLAIMS[language]["refund"], language) == {"refund"}
    assert claimed_actions(REFUND_OFFERS[language], language) == set()


@pytest.mark.parametrize(("language", "family"), [(lang, family) for lang in SUPPORTED for family in FAMILIES])
def test_every_family_is_claimed_in_every_language(language: str, family: str) -> None:
    assert claimed_actions(CLAIMS[language][family], language) == {family}


@pytest.mark.parametrize(("language", "text"), NOT_CLAIMS)
def test_promises_conditions_negations_and_questions_are_not_claims(language: str, text: str) -> None:
    assert claimed_actions(text, language) == set()


def test_english_is_checked_in_every_language_and_regional_codes_work() -> None:
    assert claimed_actions("Hola Ana. I've refunded you, saludos.", "es") == {"refund"}
    assert claimed_actions("已为您退款。", "zh-Hans") == {"refund"}
    assert claimed_actions("Pedido cancelado? Foi cancelado ontem.", "pt_BR") == {"cancel"}


def test_curly_apostrophes_and_capitals_match() -> None:
    assert claimed_actions("I’VE REFUNDED €12.50 TO YOUR CARD.", "en") == {"refund"}
    assert claimed_actions("J’ai annulé votre commande.", "fr") == {"cancel"}


@pytest.mark.parametrize("language", SUPPORTED)
def test_the_offline_brains_replies_claim_only_what_their_tool_did(language: str) -> None:
    for key, text in rendered_replies(language).items():
        if key in DONE_REPLY_TOOLS:
            assert unsupported_claims(text, language, [DONE_REPLY_TOOLS[key]]) == set(), (key, text)
        elif key.startswith(("propose_", "offer_")):
            assert claimed_actions(text, language) == set(), (key, text)


def test_a_claim_is_supported_only_by_a_tool_that_succeeded() -> None:
    text = CLAIMS["en"]["refund"]
    assert unsupported_claims(text, "en", []) == {"refund"}
    assert unsupported_claims(text, "en", ["get_order", "cancel_order"]) == set()
    assert unsupported_claims(text, "en", ["issue_refund"]) == set()
    both = f"{CLAIMS['es']['cancel']} {CLAIMS['es']['coupon']}"
    assert unsupported_claims(both, "es", ["cancel_order"]) == {"coupon"}
    assert unsupported_claims(both, "es", (tool for tool in ["cancel_order", "issue_coupon"])) == set()


@pytest.mark.parametrize(("tool", "family"), sorted(ACTION_FAMILIES.items()))
def test_each_tool_supports_its_family(tool: str, family: str) -> None:
    assert unsupported_claims(CLAIMS["en"][family], "en", [tool]) == set()


def test_a_family_already_done_on_the_order_may_be_passed_by_name() -> None:
    status = "A refund of €12.50 was issued to your card on 3 May; I've refunded you in full."
    assert unsupported_claims(status, "en", ["refund"]) == set()


def test_claims_file_rejects_unknown_families_and_unquoted_yes_no(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad_family = tmp_path / "family.yaml"
    bad_family.write_text("families:\n  teleport:\n    en: [i have teleported]\n", encoding="utf-8")
    bad_word = tmp_path / "word.yaml"
    bad_word.write_text("families:\n  refund:\n    en: [i refunded]\nblockers:\n  en: [no]\n", encoding="utf-8")
    for path, message in ((bad_family, "teleport"), (bad_word, "quote it")):
        monkeypatch.setattr(reply_checks, "CLAIMS_PATH", path)
        reply_checks._rules.cache_clear()
        with pytest.raises(ValueError, match=message):
            claimed_actions("hello", "en")
    reply_checks._rules.cache_clear()


# --- card numbers -------------------------------------------------------------------------


def test_card_numbers_are_masked_to_their_last_four_digits() -> None:
    assert mask_card_numbers("My card is 4111 1111 1111 1111, thanks") == "My card is •••• 1111, thanks"
    assert mask_card_numbers("Paid with 5500-0000-0000-0004.") == "Paid with •••• 0004."
    assert mask_card_numbers("4111111111111111") == "•••• 1111"
    assert mask_card_numbers("4111 1111 1111 1111 12/27") == "•••• 1111 12/27"


def test_order_phone_tracking_and_other_numbers_stay() -> None:
    for text in (
        "Order #W1234567 please",
        "Call me on +49 151 23456789",
        "Tracking 1Z999AA10123456784",
        "Card 4111 1111 1111 1112 (mistyped)",
        "USPS tracking 94001234567803",
        '{"created_ms": 17000000000001}',
        "1234 5678",
    ):
        assert mask_card_numbers(text) == text


# --- citations ----------------------------------------------------------------------------


def test_citations_are_parsed_in_order_without_repeats() -> None:
    text = "Returns are free [[default/en/returns.md#2]]. Refunds take 5 days [[returns-en-3]][[returns-en-3]] [[ ns:id_1 ]]."
    assert cited_ids(text) == ["default/en/returns.md#2", "returns-en-3", "ns:id_1"]
    assert CITATION.findall("[[a b]] [[ok.md#1]]") == ["ok.md#1"]


def test_stripping_citations_leaves_no_double_spaces() -> None:
    text = "Returns are free [[a]]. Refunds take 5 days [[b]] [[c]], usually [[d]] by card.\n[[e]] Next line [[f]]"
    assert strip_citations(text) == "Returns are free. Refunds take 5 days, usually by card.\nNext line"
    assert strip_citations("Voulez-vous que je procède [[a]] ?") == "Voulez-vous que je procède ?"
    assert strip_citations("已退款[[a]]。") == "已退款。"


# --- the whole check ----------------------------------------------------------------------

ES_POLICY = "Puede devolver los artículos en un plazo de 30 días desde la entrega [[returns-es-1]]."


def test_a_good_reply_passes() -> None:
    result = check_reply(ES_POLICY, language="es", done_tools=[], chunk_ids=["returns-es-1", "returns-es-2"], needs_citation=True)
    assert result.ok and result.problems == [] and result.cited == ["returns-es-1"]
    done = check_reply(CLAIMS["es"]["refund"], language="es", done_tools=["issue_refund"], chunk_ids=[], needs_citation=True)
    assert done.ok


def test_a_reply_in_another_language_fails() -> None:
    french = "Vous pouvez retourner les articles dans un délai de 30 jours après la livraison [[returns-es-1]]."
    result = check_reply(french, language="es", done_tools=[], chunk_ids=["returns-es-1"], needs_citation=True)
    assert not result.ok and result.problems == ["the reply is in fr, the customer writes es"]


def test_short_replies_and_regional_codes_skip_or_pass_the_language_check() -> None:
    assert check_reply("OK, #W1234567 → €12.50 👍", language="ja", done_tools=[], chunk_ids=[], needs_citation=False).ok
    chinese = "已为您退款12.50欧元，预计五个工作日内到账，请注意查收您的银行账户，如有问题请随时联系我们。"
    assert check_reply(chinese, language="zh-CN", done_tools=["issue_refund"], chunk_ids=[], needs_citation=False).ok


def test_an_invented_chunk_id_fails() -> None:
    text = ES_POLICY.replace("returns-es-1", "returns-es-9")
    result = check_reply(text, language="es", done_tools=[], chunk_ids=["returns-es-1"], needs_citation=True)
    assert not result.ok and result.problems == ["the reply cites a source that was not retrieved: returns-es-9"]


def test_a_missing_citation_fails_only_when_one_is_needed_and_possible() -> None:
    text = strip_citations(ES_POLICY)
    result = check_reply(text, language="es", done_tools=[], chunk_ids=["returns-es-1"], needs_citation=True)
    assert not result.ok and result.problems == ["the reply cites none of the retrieved sources"]
    assert check_reply(text, language="es", done_tools=[], chunk_ids=[], needs_citation=True).ok
    assert check_reply(text, language="es", done_tools=[], chunk_ids=["returns-es-1"], needs_citation=False).ok


def test_a_refund_claimed_but_not_done_fails() -> None:
    result = check_reply(CLAIMS["es"]["refund"], language="es", done_tools=["get_order"], chunk_ids=[], needs_citation=False)
    assert not result.ok and result.problems == ["the reply says a refund was done, but no tool did it"]
    two = f"{CLAIMS['en']['cancel']} {CLAIMS['en']['coupon']}"
    result = check_reply(two, language="en", done_tools=[], chunk_ids=[], needs_citation=False)
    assert result.problems == ["the reply says a cancellation and a coupon were done, but no tool did them"]


def test_an_empty_reply_fails() -> None:
    for text in ("", "   ", "[[returns-es-1]]"):
        result = check_reply(text, language="es", done_tools=[], chunk_ids=["returns-es-1"], needs_citation=True)
        assert not result.ok and result.problems == ["the reply is empty"]
