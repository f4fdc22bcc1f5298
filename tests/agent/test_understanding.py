"""Offline understanding of a customer message: intents in fourteen languages, slots,
yes/no and tone signals, urgency levels, and the on-disk cache of example vectors."""

from __future__ import annotations

import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from agent.offline import format_address, parse_address
from agent.understanding import (
    INTENTS,
    LANGUAGES,
    LEXICON_INTENTS,
    IntentClassifier,
    IntentGuess,
    Signals,
    _find,
    address_answer,
    assess_urgency,
    compile_phrase,
    extract_slots,
    load_lexicons,
    normalise,
    read_signals,
)
from commerce.models import UrgencyLevel
from knowledge.embedders import Embedder, Vectors, make_embedder
from tests.conftest import CountingEmbedder

# ------------------------------------------------------------------ messages

# At least two messages per intent, in several languages.
PER_INTENT: list[tuple[str, str, str]] = [
    ("en", "Any update on where my order is? I placed it on Monday.", "track_order"),
    ("it", "Mi dite a che punto è la spedizione del mio ordine?", "track_order"),
    ("de", "Die Lieferung ist jetzt schon fünf Tage über dem angekündigten Termin.", "delivery_delay"),
    ("ja", "予定日から1週間過ぎてもまだ届きません。遅すぎます。", "delivery_delay"),
    ("fr", "Le livreur affirme avoir déposé le colis mais je n'ai rien eu.", "not_received"),
    ("ko", "배송완료라고 나오는데 물건을 받은 적이 없어요.", "not_received"),
    ("es", "Las gafas llegaron con una patilla rota.", "damaged_item"),
    ("tr", "Kutudan çıkan tabakların ikisi kırıktı.", "damaged_item"),
    ("en", "You sent a case for an iPhone 12 but I ordered one for the iPhone 14.", "wrong_item"),
    ("ru", "Прислали не тот цвет: заказывала зелёный, пришёл жёлтый.", "wrong_item"),
    ("pt", "A caixa veio sem o controle remoto, está faltando.", "missing_item"),
    ("nl", "De schroeven voor de kast ontbreken in het pakket.", "missing_item"),
    ("pl", "Chciałabym odesłać sukienkę, jest za duża.", "return_request"),
    ("zh", "这条裤子不合适，我想退回去。", "return_request"),
    ("fr", "Est-ce possible d'avoir le même pull en taille L à la place du M ?", "exchange_request"),
    ("ar", "أريد استبدال الحذاء بمقاس 40.", "exchange_request"),
    ("de", "Ich will mein Geld zurück für die kaputte Lampe.", "refund_request"),
    ("ja", "商品代金を返金していただけますか。", "refund_request"),
    ("es", "Hace dos semanas que os devolví el paquete y el reembolso sigue sin aparecer.", "refund_status"),
    ("en", "It's been 10 days since you got my return and I still haven't seen the refund.", "refund_status"),
    ("it", "Annullate per favore l'ordine, ho sbagliato prodotto.", "cancel_order"),
    ("ko", "방금 한 주문 취소 부탁드려요.", "cancel_order"),
    ("nl", "Ik ben verhuisd, kunnen jullie het pakket naar mijn nieuwe adres sturen?", "change_address"),
    ("ru", "Нужно поменять адрес доставки, я ошибся в номере квартиры.", "change_address"),
    ("en", "Before you ship it, could you add a second pair of the same socks?", "modify_order"),
    ("pt", "Dá para tirar um item do pedido antes de enviar?", "modify_order"),
    ("de", "Könnten Sie das Paket bitte mit DPD statt mit Hermes schicken?", "switch_carrier"),
    ("es", "¿Podéis mandarlo por mensajería urgente en lugar de por Correos?", "switch_carrier"),
    ("fr", "Le colis vous est revenu, pouvez-vous me le réexpédier à la même adresse ?", "reship_request"),
    ("zh", "包裹被退回了，麻烦重新发一次。", "reship_request"),
    ("en", "My card was charged but the site said the payment failed.", "payment_issue"),
    ("tr", "Ödeme yaparken kartım sürekli reddediliyor.", "payment_issue"),
    ("it", "Mi serve la fattura con la partita IVA della mia ditta.", "invoice_request"),
    ("pl", "Proszę o fakturę VAT na moją firmę.", "invoice_request"),
    ("nl", "Ik moet 20 euro invoerrechten betalen, klopt dat?", "customs_duties"),
    ("ja", "関税を請求されましたが、誰が負担するのですか？", "customs_duties"),
    ("fr", "Combien de temps ai-je pour renvoyer un article ?", "policy_question"),
    ("ar", "هل تشحنون إلى المغرب؟", "policy_question"),
    ("de", "Ihr Kundenservice ist wirklich unterirdisch, ich bin sehr enttäuscht.", "complaint"),
    ("ko", "응대가 너무 불친절해서 항의하고 싶어요.", "complaint"),
    ("es", "Quiero que me atienda una persona, no una máquina.", "human_agent"),
    ("pl", "Poproszę o kontakt z żywym człowiekiem.", "human_agent"),
    ("pt", "Olá, boa tarde!", "greeting"),
    ("ru", "Добрый вечер!", "greeting"),
]

# One message per language for a handful of intents.
PER_LANGUAGE: dict[str, dict[str, str]] = {
    "en": {"track_order": "Where's my parcel at?", "damaged_item": "The lamp shade came bent and the base is cracked.",
           "refund_request": "I'd like my money back please.", "cancel_order": "Please cancel the order I made yesterday.",
           "human_agent": "Can I speak to a human?"},
    "es": {"track_order": "¿Dónde anda mi pedido?", "damaged_item": "El móvil llegó con la pantalla rota.",
           "refund_request": "Quiero que me devolváis el dinero.", "cancel_order": "Cancelad el pedido, por favor.",
           "human_agent": "Necesito hablar con un agente humano."},
    "fr": {"track_order": "Où en est ma livraison ?", "damaged_item": "Le produit est arrivé abîmé.",
           "refund_request": "Je souhaite être remboursée de cet achat.", "cancel_order": "Je voudrais annuler ma commande.",
           "human_agent": "Je veux parler à un conseiller."},
    "de": {"track_order": "Wo ist mein Paket gerade?", "damaged_item": "Die Tasse ist zerbrochen angekommen.",
           "refund_request": "Ich hätte gern eine Rückerstattung.", "cancel_order": "Bitte die Bestellung stornieren.",
           "human_agent": "Ich möchte mit einem Mitarbeiter sprechen."},
    "it": {"track_order": "Dov'è il mio pacco adesso?", "damaged_item": "Il prodotto è arrivato rotto.",
           "refund_request": "Vorrei il rimborso.", "cancel_order": "Voglio annullare l'ordine.",
           "human_agent": "Posso parlare con un operatore?"},
    "pt": {"track_order": "Onde anda a minha encomenda?", "damaged_item": "O copo chegou partido.",
           "refund_request": "Quero o meu dinheiro de volta.", "cancel_order": "Quero cancelar o meu pedido.",
           "human_agent": "Quero falar com um atendente."},
    "nl": {"track_order": "Waar is mijn pakket nu?", "damaged_item": "Het bord is gebroken aangekomen.",
           "refund_request": "Ik wil graag een terugbetaling.", "cancel_order": "Annuleer mijn bestelling alstublieft.",
           "human_agent": "Ik wil met een medewerker praten."},
    "pl": {"track_order": "Gdzie jest teraz moja paczka?", "damaged_item": "Kubek przyszedł rozbity.",
           "refund_request": "Proszę o zwrot pieniędzy.", "cancel_order": "Chcę anulować zamówienie.",
           "human_agent": "Chcę porozmawiać z konsultantem."},
    "tr": {"track_order": "Kargom şu an nerede?", "damaged_item": "Bardak kırık geldi.",
           "refund_request": "Paramı iade eder misiniz?", "cancel_order": "Siparişimi iptal edin lütfen.",
           "human_agent": "Bir temsilciyle görüşmek istiyorum."},
    "ru": {"track_order": "Где сейчас моя посылка?", "damaged_item": "Кружка пришла разбитой.",
           "refund_request": "Верните мне деньги, пожалуйста.", "cancel_order": "Хочу отменить заказ.",
           "human_agent": "Соедините с оператором."},
    "ar": {"track_order": "أين طردي الآن؟", "damaged_item": "الكوب وصل مكسور.",
           "refund_request": "أريد استرداد أموالي.", "cancel_order": "أريد إلغاء الطلب.",
           "human_agent": "أريد التحدث مع موظف."},
    "zh": {"track_order": "我的包裹现在在哪里？", "damaged_item": "杯子到的时候碎了。",
           "refund_request": "请给我退款。", "cancel_order": "我想取消订单。",
           "human_agent": "我要找人工客服。"},
    "ja": {"track_order": "荷物は今どこですか？", "damaged_item": "マグカップが割れて届きました。",
           "refund_request": "返金をお願いしたいです。", "cancel_order": "注文を取り消してもらえますか。",
           "human_agent": "オペレーターと話したいです。"},
    "ko": {"track_order": "택배 지금 어디 있어요?", "damaged_item": "컵이 깨진 채로 왔어요.",
           "refund_request": "환불 받고 싶어요.", "cancel_order": "주문한 거 취소하고 싶습니다.",
           "human_agent": "상담원과 통화하고 싶어요."},
}  # fmt: skip

# Held out: written for this test, not taken from the lexicons; the overall accuracy on
# these is measured and must stay at or above 0.8.
HELD_OUT: list[tuple[str, str, str]] = [
    ("en", "Hi, could you check where order #1043 is? The tracking link doesn't load.", "track_order"),
    ("en", "It's day 12 and the parcel is still in transit.", "delivery_delay"),
    ("en", "The app says delivered at 2pm but my doorstep was empty all day.", "not_received"),
    ("en", "Only one of the two cushions was in the bag.", "missing_item"),
    ("en", "What's your policy on returning opened cosmetics?", "policy_question"),
    ("en", "I need the VAT invoice for my records.", "invoice_request"),
    ("en", "Please cancel, I found it cheaper.", "cancel_order"),
    ("en", "Could you resend the order? The courier returned it to you.", "reship_request"),
    ("en", "What's the capital of Australia?", "other"),
    ("es", "¿Podéis decirme si mi pedido ya salió del almacén?", "track_order"),
    ("es", "Me ha llegado el modelo equivocado de zapatillas.", "wrong_item"),
    ("es", "Quiero devolver la chaqueta, me queda grande.", "return_request"),
    ("es", "Me he cambiado de piso, ¿podéis cambiar la dirección de entrega?", "change_address"),
    ("es", "Necesito factura con mi NIF, por favor.", "invoice_request"),
    ("es", "¿Me recomendáis un buen restaurante por aquí?", "other"),
    ("fr", "Le colis est bloqué à Roissy depuis dix jours.", "delivery_delay"),
    ("fr", "La télécommande n'était pas dans la boîte.", "missing_item"),
    ("fr", "Je voudrais échanger mes baskets contre une pointure au-dessus.", "exchange_request"),
    ("fr", "Toujours pas de remboursement alors que vous avez reçu le retour.", "refund_status"),
    ("fr", "Je dois payer des droits de douane pour recevoir mon colis, c'est normal ?", "customs_duties"),
    ("fr", "Vous êtes vraiment nuls, je veux faire une réclamation.", "complaint"),
    ("de", "Mein Paket wurde als zugestellt markiert, ist aber nicht da.", "not_received"),
    ("de", "Der Mixer funktioniert nicht, er lässt sich nicht einschalten.", "damaged_item"),
    ("de", "Kann ich noch eine zweite Tasse zur Bestellung hinzufügen?", "modify_order"),
    ("de", "Bitte nicht mit DHL, lieber mit UPS versenden.", "switch_carrier"),
    ("de", "Mir wurde der Betrag zweimal von der Kreditkarte abgebucht.", "payment_issue"),
    ("de", "Guten Morgen!", "greeting"),
    ("it", "Sono passate tre settimane e il pacco non si è mosso.", "delivery_delay"),
    ("it", "Mi è arrivata una taglia diversa da quella ordinata.", "wrong_item"),
    ("it", "Potete rimandarmi il pacco? È tornato al mittente.", "reship_request"),
    ("it", "Quanto costa la spedizione in Austria?", "policy_question"),
    ("it", "Mi passate una persona vera per favore?", "human_agent"),
    ("it", "Qual è la ricetta della carbonara?", "other"),
    ("pt", "Preciso alterar o endereço de entrega, mudei de apartamento.", "change_address"),
    ("pt", "O fone veio com defeito, não liga.", "damaged_item"),
    ("pt", "Quero devolver a blusa, não serviu.", "return_request"),
    ("pt", "Quando cai o estorno do pedido que devolvi?", "refund_status"),
    ("pt", "Preciso da nota fiscal da compra.", "invoice_request"),
    ("pt", "Obrigado pela ajuda, tchau!", "greeting"),
    ("nl", "Wanneer wordt mijn bestelling geleverd?", "track_order"),
    ("nl", "Het pakket is al 10 dagen onderweg zonder update.", "delivery_delay"),
    ("nl", "Het deksel van de pan ontbreekt.", "missing_item"),
    ("nl", "Kan ik de trui ruilen voor maat L?", "exchange_request"),
    ("nl", "Ik heb dubbel betaald voor dezelfde bestelling.", "payment_issue"),
    ("nl", "Moet ik douanekosten betalen bij levering?", "customs_duties"),
    ("pl", "Kurier twierdzi, że dostarczył, ale nic nie dostałem.", "not_received"),
    ("pl", "Dostałam niebieską bluzkę, a zamawiałam białą.", "wrong_item"),
    ("pl", "Czy mogę jeszcze zmienić rozmiar w zamówieniu?", "modify_order"),
    ("pl", "Proszę wysłać przez InPost, nie Pocztą Polską.", "switch_carrier"),
    ("pl", "Obsługa jest fatalna, nikt nie odpowiada na maile.", "complaint"),
    ("pl", "Ile kosztuje bilet do kina?", "other"),
    ("tr", "Kargomun son durumu nedir?", "track_order"),
    ("tr", "Paket bir haftadır aynı yerde, hiç ilerlemiyor.", "delivery_delay"),
    ("tr", "Tişört yırtık geldi.", "damaged_item"),
    ("tr", "Kazağı iade etmek istiyorum, beden olmadı.", "return_request"),
    ("tr", "Adresimi değiştirmem lazım, yanlış yazmışım.", "change_address"),
    ("tr", "Gerçek bir kişiyle görüşebilir miyim?", "human_agent"),
    ("ru", "Посылка пришла без зарядного устройства.", "missing_item"),
    ("ru", "Можно обменять куртку на размер M?", "exchange_request"),
    ("ru", "Когда мне вернут деньги за возврат?", "refund_status"),
    ("ru", "Отправьте, пожалуйста, товар повторно, первая посылка потерялась.", "reship_request"),
    ("ru", "Нужна счёт-фактура для бухгалтерии.", "invoice_request"),
    ("ru", "Посоветуйте хороший фильм на вечер.", "other"),
    ("ar", "متى يصل طلبي؟", "track_order"),
    ("ar", "وصلني لون غير الذي طلبته.", "wrong_item"),
    ("ar", "أريد إرجاع القميص.", "return_request"),
    ("ar", "تم خصم المبلغ من بطاقتي مرتين.", "payment_issue"),
    ("ar", "لماذا يطلبون مني رسوم جمركية؟", "customs_duties"),
    ("ar", "خدمتكم سيئة جدا وغير مقبولة.", "complaint"),
    ("zh", "我的包裹三个星期了还没到，物流也不更新。", "delivery_delay"),
    ("zh", "快递显示签收了，但我没拿到。", "not_received"),
    ("zh", "我想换一个大一号的尺码。", "exchange_request"),
    ("zh", "我想改一下收货地址。", "change_address"),
    ("zh", "能帮我开个发票吗？", "invoice_request"),
    ("zh", "你好呀", "greeting"),
    ("ja", "注文した本が1冊足りません。", "missing_item"),
    ("ja", "返金はいつ頃になりますか？", "refund_status"),
    ("ja", "発送前なら商品を一つ追加できますか？", "modify_order"),
    ("ja", "配送業者をヤマトに変更してほしいです。", "switch_carrier"),
    ("ja", "関税を払う必要がありますか？", "customs_duties"),
    ("ja", "明日の天気はどうですか？", "other"),
    ("ko", "주문한 상품 배송 조회 좀 해주세요.", "track_order"),
    ("ko", "사이즈가 다른 게 왔어요.", "wrong_item"),
    ("ko", "재발송 가능한가요? 택배가 분실됐어요.", "reship_request"),
    ("ko", "결제가 두 번 됐어요.", "payment_issue"),
    ("ko", "교환은 며칠 안에 해야 하나요?", "policy_question"),
    ("ko", "사람이랑 직접 통화하고 싶어요.", "human_agent"),
]

PER_LANGUAGE_CASES = [(lang, text, intent) for lang, cases in PER_LANGUAGE.items() for intent, text in cases.items()]
ALL_CASES = PER_INTENT + PER_LANGUAGE_CASES + HELD_OUT
MIN_HELD_OUT_ACCURACY = 0.8


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("intent-cache")


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return make_embedder()


@pytest.fixture(scope="module")
def classifier(embedder: Embedder, cache_dir: Path) -> IntentClassifier:
    return IntentClassifier(CountingEmbedder(embedder), cache_dir=cache_dir)


@pytest.fixture(scope="module")
def guesses(classifier: IntentClassifier) -> dict[tuple[str, str], IntentGuess]:
    """Every test message classified once, in one batch."""
    results = classifier.classify_many([t for _, t, _ in ALL_CASES], [lang for lang, _, _ in ALL_CASES])
    return {(lang, text): guess for (lang, text, _), guess in zip(ALL_CASES, results, strict=True)}


# ------------------------------------------------------------------ lexicons


def test_every_language_has_every_intent_and_signal_list() -> None:
    lexicons = load_lexicons()
    assert sorted(lexicons) == sorted(LANGUAGES)
    assert INTENTS[-1] == "other" and len(INTENTS) == 23
    for lexicon in lexicons.values():
        for intent in LEXICON_INTENTS:
            assert 6 <= len(lexicon.examples[intent]) <= 10, (lexicon.language, intent)
            assert lexicon.keywords[intent], (lexicon.language, intent)
        for key in ("yes", "no", "human", "legal", "angry"):
            assert lexicon.signals[key], (lexicon.language, key)


def test_test_messages_are_not_copies_of_the_lexicon_examples() -> None:
    examples = {e for lexicon in load_lexicons().values() for texts in lexicon.examples.values() for e in texts}
    assert not [text for _, text, _ in ALL_CASES if text in examples]
    assert len(HELD_OUT) >= 60
    assert {intent for _, _, intent in PER_INTENT} == set(LEXICON_INTENTS)


# ------------------------------------------------------------------ intents


# The blind evaluation set (`evals/data/understanding`, floors in tests/evals/test_blind_sets.py)
# measures the classifier; these messages, written next to the lexicons, guard each intent.
MIN_PER_INTENT_ACCURACY = 0.95


@pytest.mark.slow
def test_each_intent_is_recognised(guesses: dict[tuple[str, str], IntentGuess]) -> None:
    missed = [
        (lang, text, intent, guesses[(lang, text)].intent)
        for lang, text, intent in PER_INTENT
        if guesses[(lang, text)].intent != intent
    ]
    for intent in {i for _, _, i in PER_INTENT}:
        cases = [c for c in PER_INTENT if c[2] == intent]
        assert any(guesses[(lang, text)].intent == intent for lang, text, _ in cases), (intent, missed)
    accuracy = 1 - len(missed) / len(PER_INTENT)
    assert accuracy >= MIN_PER_INTENT_ACCURACY, missed


@pytest.mark.slow
@pytest.mark.parametrize(("language", "text", "intent"), PER_LANGUAGE_CASES)
def test_core_intents_in_every_language(
    guesses: dict[tuple[str, str], IntentGuess], language: str, text: str, intent: str
) -> None:
    assert guesses[(language, text)].intent == intent


@pytest.mark.slow
def test_held_out_accuracy(guesses: dict[tuple[str, str], IntentGuess], capsys: pytest.CaptureFixture[str]) -> None:
    right = [guesses[(lang, text)].intent == intent for lang, text, intent in HELD_OUT]
    accuracy = sum(right) / len(right)
    with capsys.disabled():
        print(f"\nheld-out intent accuracy: {accuracy:.3f} ({sum(right)}/{len(right)})")
    assert accuracy >= MIN_HELD_OUT_ACCURACY


@pytest.mark.slow
def test_guess_shape_and_methods(classifier: IntentClassifier) -> None:
    guess = classifier.classify("Where is my order? I want a refund!", "en")
    assert guess.intent in INTENTS and (guess.runner_up is None or guess.runner_up in INTENTS)
    assert 0.0 <= guess.confidence <= 1.0
    assert guess.method == "trained" and classifier.method == "trained head"
    nearest = IntentClassifier(
        classifier.embedder, cache_dir=classifier.cache_path.parent if classifier.cache_path else None, head=False
    )
    assert nearest.method == "nearest examples"
    assert nearest.classify("Where is my order?", "en").method == "combined"
    assert classifier.classify("", "en").intent == "other"
    assert classifier.classify_many([], []) == []
    with pytest.raises(ValueError):
        classifier.classify_many(["hi"], [])


@pytest.mark.slow
def test_greeting_only_when_the_message_is_just_a_greeting(classifier: IntentClassifier) -> None:
    assert classifier.classify("Hello!", "en").intent == "greeting"
    assert classifier.classify("Bonjour", "fr").intent == "greeting"
    assert classifier.classify("Hello, my vase arrived broken", "en").intent == "damaged_item"
    assert classifier.classify("Hola, quiero cancelar mi pedido", "es").intent == "cancel_order"
    assert classifier.classify("こんにちは、返品したいです", "ja").intent == "return_request"


@pytest.mark.slow
def test_off_topic_messages_are_other(classifier: IntentClassifier) -> None:
    assert classifier.classify("asdkjh qwpoe", "en").intent == "other"
    assert classifier.classify("Какая сегодня погода?", "ru").intent == "other"


@pytest.mark.slow
def test_unknown_language_falls_back_to_english_keywords(classifier: IntentClassifier) -> None:
    assert classifier.classify("refund please", "sv").intent == "refund_request"


@pytest.mark.slow
def test_classification_latency(classifier: IntentClassifier, capsys: pytest.CaptureFixture[str]) -> None:
    texts = [text for _, text, _ in HELD_OUT[:10]]
    languages = [lang for lang, _, _ in HELD_OUT[:10]]
    start = time.perf_counter()
    for text, language in zip(texts, languages, strict=True):
        classifier.classify(text, language)
    single = (time.perf_counter() - start) / len(texts)
    start = time.perf_counter()
    classifier.classify_many(texts, languages)
    batched = (time.perf_counter() - start) / len(texts)
    with capsys.disabled():
        print(f"\nclassification latency: {single * 1000:.1f} ms single, {batched * 1000:.1f} ms per message batched")
    assert single < 2.0


# ------------------------------------------------------------------ disk cache


@pytest.mark.slow
def test_the_trained_head_embeds_nothing_ahead(embedder: Embedder, cache_dir: Path) -> None:
    counting = CountingEmbedder(embedder)
    trained = IntentClassifier(counting, cache_dir=cache_dir)
    assert trained.head is not None and counting.texts == 0
    assert trained.classify("Where is my parcel?", "en").intent == "track_order"
    assert counting.texts == 1  # only the message itself


def test_disk_cache_is_reused(embedder: Embedder, cache_dir: Path) -> None:
    first = IntentClassifier(embedder, cache_dir=cache_dir, head=False)
    assert first.cache_path is not None and first.cache_path.exists()
    counting = CountingEmbedder(embedder)
    again = IntentClassifier(counting, cache_dir=cache_dir, head=False)
    assert counting.texts == 0
    assert again.cache_path == first.cache_path
    assert (again.matrix == first.matrix).all()
    assert again.classify("Where is my parcel?", "en").intent == "track_order"
    assert counting.texts == 1  # only the message itself


def test_cache_key_follows_lexicons_and_embedder(tmp_path: Path) -> None:
    class Fake:
        name = "fake"
        dimension = 4

        def __init__(self) -> None:
            self.texts = 0

        def embed_queries(self, texts: Sequence[str]) -> Vectors:
            self.texts += len(texts)
            rng = np.random.default_rng(len(texts))
            vectors = rng.normal(size=(len(texts), 4)).astype(np.float32)
            unit: Vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
            return unit

        embed_passages = embed_queries

    lexicons = tmp_path / "intents"
    lexicons.mkdir()
    source = Path(__file__).resolve().parents[2] / "prompts" / "intents" / "en.yaml"
    (lexicons / "en.yaml").write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    cache = tmp_path / "cache"
    first = Fake()
    IntentClassifier(first, directory=lexicons, cache_dir=cache)
    assert first.texts == len(LEXICON_INTENTS) * 8
    second = Fake()
    IntentClassifier(second, directory=lexicons, cache_dir=cache)
    assert second.texts == 0
    (lexicons / "en.yaml").write_text(source.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    third = Fake()
    IntentClassifier(third, directory=lexicons, cache_dir=cache)
    assert third.texts > 0
    assert len(list(cache.glob("*.npz"))) == 2


# ------------------------------------------------------------------ slots


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My Amazon order 112-1234567-1234567 never came", ("112-1234567-1234567",)),
        ("eBay order 12-34567-89012 please", ("12-34567-89012",)),
        ("It's about #1001", ("#1001",)),
        ("order 1001 is late", ("#1001",)),
        ("order number: 1001", ("#1001",)),
        ("Mi pedido 1001 no ha llegado", ("#1001",)),
        ("Meine Bestellung 1001 ist kaputt", ("#1001",)),
        ("Bestellnummer 1001", ("#1001",)),
        ("commande n°1001", ("#1001",)),
        ("ma commande nº 1001", ("#1001",)),
        ("ordine 1001", ("#1001",)),
        ("encomenda 1001", ("#1001",)),
        ("bestelling 1001", ("#1001",)),
        ("zamówienie nr 1001", ("#1001",)),
        ("sipariş no 1001", ("#1001",)),
        ("заказ №1001", ("#1001",)),
        ("رقم الطلب 1001", ("#1001",)),
        ("我的订单1001还没到", ("#1001",)),
        ("Order ID: 1001", ("#1001",)),
        ("注文番号は1001です", ("#1001",)),
        ("주문번호 1001 확인 부탁해요", ("#1001",)),
        ("#W1234567", ("#W1234567",)),
        ("w1234567", ("#W1234567",)),
        ("order W7654321 and #w1234567", ("#W7654321", "#W1234567")),
    ],
)
def test_order_numbers(text: str, expected: tuple[str, ...]) -> None:
    assert extract_slots(text, "en").order_ids == expected


@pytest.mark.parametrize(
    "text",
    [
        "Call me on +49 151 23456789",
        "my phone is 0612345678",
        "postal code 75001",
        "I paid 1001 € for it",
        "order 1200 € of furniture",
        "Ich wohne in 10115 Berlin",
        "it cost $1,234.50",
        "I ordered 100 pieces last week",
    ],
)
def test_not_order_numbers(text: str) -> None:
    assert extract_slots(text, "en").order_ids == ()


def test_emails() -> None:
    slots = extract_slots("Write to Anna.Schmidt+shop@Example.co.uk or bob@mail.com.", "en")
    assert slots.emails == ("anna.schmidt+shop@example.co.uk", "bob@mail.com")


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("zip code 94105", "en", "94105"),
        ("postcode sw1a 1aa", "en", "SW1A 1AA"),
        ("new address: 5 High Street, Leeds LS1 4DY", "en", "LS1 4DY"),
        ("PLZ 10115", "de", "10115"),
        ("Hauptstraße 5, 10115 Berlin", "de", "10115"),
        ("code postal : 75002", "fr", "75002"),
        ("Calle Mayor 5, 28013 Madrid", "es", "28013"),
        ("CAP 20121", "it", "20121"),
        ("Kerkstraat 5, 1017 GC Amsterdam", "nl", "1017 GC"),
        ("ul. Marszałkowska 10, 00-950 Warszawa", "pl", "00-950"),
        ("〒150-0001 東京都渋谷区", "ja", "150-0001"),
        ("우편번호 06236", "ko", "06236"),
        ("CEP 01310-100", "pt", "01310-100"),
        ("Springfield, IL 62701", "en", "62701"),
    ],
)
def test_postal_codes(text: str, language: str, expected: str) -> None:
    assert extract_slots(text, language).postal_codes == (expected,)


def test_no_postal_code_without_a_label_or_an_address() -> None:
    assert extract_slots("I waited 12345 seconds", "en").postal_codes == ()
    assert extract_slots("order 10115 is late", "en").postal_codes == ()


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Hi, my name is Anna Schmidt and my parcel is late", "en", "Anna Schmidt"),
        ("my name is john smith", "en", "John Smith"),
        ("Hola, me llamo Lucía Fernández", "es", "Lucía Fernández"),
        ("Bonjour, je m'appelle Jean-Pierre Dubois", "fr", "Jean-Pierre Dubois"),
        ("Hallo, ich heiße Jonas Weber", "de", "Jonas Weber"),
        ("Ciao, mi chiamo Giulia e ho un problema", "it", "Giulia"),
        ("Olá, meu nome é João Silva", "pt", "João Silva"),
        ("Mijn naam is Sanne de Vries", "nl", "Sanne de Vries"),
        ("Nazywam się Katarzyna Nowak", "pl", "Katarzyna Nowak"),
        ("Merhaba, adım Ayşe Yılmaz", "tr", "Ayşe Yılmaz"),
        ("Здравствуйте, меня зовут Иван Петров", "ru", "Иван Петров"),
        ("مرحبا، اسمي محمد علي", "ar", "محمد علي"),
        ("你好，我叫王小明，我的订单没到", "zh", "王小明"),
        ("私は田中です。", "ja", "田中"),
        ("名前は佐藤花子です", "ja", "佐藤花子"),
        ("제 이름은 김민수입니다", "ko", "김민수"),
    ],
)
def test_names(text: str, language: str, expected: str) -> None:
    assert extract_slots(text, language).names == (expected,)


def test_no_name_without_an_introduction() -> None:
    assert extract_slots("Bir adım daha atmam gerekiyor", "tr").names == ()
    assert extract_slots("Anna Schmidt here, my parcel is late", "en").names == ()


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("I was charged €12.50", "en", (Decimal("12.50"), "EUR")),
        ("Me cobraron 12,50 € de más", "es", (Decimal("12.50"), "EUR")),
        ("Total 1.234,50 EUR", "de", (Decimal("1234.50"), "EUR")),
        ("It was $1,234.50", "en", (Decimal("1234.50"), "USD")),
        ("£20 for postage", "en", (Decimal("20"), "GBP")),
        ("¥3000でした", "ja", (Decimal("3000"), "JPY")),
        ("5000円です", "ja", (Decimal("5000"), "JPY")),
        ("¥200", "zh", (Decimal("200"), "CNY")),
        ("花了200元", "zh", (Decimal("200"), "CNY")),
        ("₩50,000 결제", "ko", (Decimal("50000"), "KRW")),
        ("R$ 99,90 no cartão", "pt", (Decimal("99.90"), "BRL")),
        ("zapłaciłam 49,99 zł", "pl", (Decimal("49.99"), "PLN")),
        ("150 TL ödedim", "tr", (Decimal("150"), "TRY")),
        ("списали 1 500 ₽", "ru", (Decimal("1500"), "RUB")),
        ("USD 30 extra", "en", (Decimal("30"), "USD")),
        ("25 euros de douane", "fr", (Decimal("25"), "EUR")),
    ],
)
def test_amounts(text: str, language: str, expected: tuple[Decimal, str]) -> None:
    assert extract_slots(text, language).amounts == (expected,)


def test_order_number_and_amount_in_one_message() -> None:
    slots = extract_slots("Order #1001: you charged me 45,00 € instead of 30,00 €", "fr")
    assert slots.order_ids == ("#1001",)
    assert slots.amounts == ((Decimal("45.00"), "EUR"), (Decimal("30.00"), "EUR"))


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Please change it. New address: 5 High Street, Leeds LS1 4DY. Thanks!", "en", "5 High Street, Leeds LS1 4DY"),
        ("nueva dirección: Calle Mayor 5, 28013 Madrid", "es", "Calle Mayor 5, 28013 Madrid"),
        ("Neue Adresse: Hauptstraße 5, 10115 Berlin, danke", "de", "Hauptstraße 5, 10115 Berlin"),
        ("Ma nouvelle adresse est 12 rue de la Paix, 75002 Paris", "fr", "12 rue de la Paix, 75002 Paris"),
        ("新地址：上海市浦东新区世纪大道100号", "zh", "上海市浦东新区世纪大道100号"),
        # The Japanese postal mark opens an address; "please send it there" is not part of it.
        ("新住所：〒150-0001 東京都渋谷区神宮前3-15-8 メゾン302号室", "ja", "〒150-0001 東京都渋谷区神宮前3-15-8 メゾン302号室"),
        ("〒150-0001 東京都渋谷区神宮前3-15-8に送ってください", "ja", "〒150-0001 東京都渋谷区神宮前3-15-8"),
        # A Russian address puts the postal code first.
        (
            "я переехал. отправьте пожалуйста на 620014, г. Екатеринбург, ул. Ленина, д. 15, кв. 42",
            "ru",
            "620014, г. Екатеринбург, ул. Ленина, д. 15, кв. 42",
        ),
        ("620014, г. Екатеринбург, ул. Ленина, д. 15, кв. 42", "ru", "620014, г. Екатеринбург, ул. Ленина, д. 15, кв. 42"),
    ],
)
def test_address(text: str, language: str, expected: str) -> None:
    assert extract_slots(text, language).address == expected


def test_no_address_without_one() -> None:
    assert extract_slots("I need to change my address", "en").address is None


def test_item_hints() -> None:
    assert extract_slots("I got the red dress in size M instead of the blue one", "en").item_hints == (
        "red",
        "dress",
        "blue",
        "size M",
    )
    assert "XL" in extract_slots("Pedí una M y me llegó una XL", "es").item_hints
    assert "schwarz" in extract_slots("Die Jacke ist schwarz statt blau", "de").item_hints


# ------------------------------------------------------------------ signals

YES = {"en": "yes please", "es": "vale", "fr": "d'accord", "de": "klar", "it": "certo", "pt": "sim", "nl": "ja hoor",
       "pl": "tak", "tr": "evet", "ru": "да", "ar": "نعم", "zh": "好的", "ja": "はい", "ko": "네"}  # fmt: skip
NO = {"en": "no thanks", "es": "no, gracias", "fr": "non merci", "de": "nein", "it": "no grazie", "pt": "não", "nl": "nee",
      "pl": "nie", "tr": "hayır", "ru": "нет", "ar": "لا", "zh": "不要", "ja": "いいえ", "ko": "아니요"}  # fmt: skip


@pytest.mark.parametrize("language", LANGUAGES)
def test_yes_and_no_in_every_language(language: str) -> None:
    assert read_signals(YES[language], language).affirmation == "yes"
    assert read_signals(NO[language], language).affirmation == "no"


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("yes... actually no", "en", "no"),
        ("ok wait, no", "en", "no"),
        ("Yes. Actually no, don't cancel it, I changed my mind about the whole thing", "en", "no"),
        ("sí... bueno, mejor no", "es", "no"),
        ("oui, en fait non", "fr", "no"),
        ("好的，算了，不要了", "zh", "no"),
        ("はい、やっぱりやめます", "ja", "no"),
        ("no problem, go ahead", "en", "yes"),
        ("Yes please, go ahead and refund it to my card", "en", "yes"),
        ("ok", "de", "yes"),
        ("Sure!", "en", "yes"),
        ("你好", "zh", None),
        ("Where is my parcel? It was due yesterday and nobody answers", "en", None),
        # An "all right" that ends with "nothing more is needed" declines; "listo, sí" and "係" accept.
        ("Está bem, vou esperar mais uns dias então. Não é preciso mais nada, obrigada.", "pt", "no"),
        ("listo, si, hagale con ese cambio. muchas gracias, muy amable", "es", "yes"),
        ("係 唔該幫我改 thx", "zh", "yes"),
        ("再送していただけるのでしたら、それでお願いいたします。お手数をおかけします。", "ja", "yes"),
        ("no to zawracajcie, tak. a kasa potem wroci normalnie na konto?", "pl", "yes"),
        ("嗯…我想了一下還是算了，拿去給人家修改一下就好，先不用換，謝謝喔", "zh", "no"),
        ("ah oui si vous savez me le renvoyer ce serait super. oui allez-y", "fr", "yes"),
    ],
)
def test_affirmation_edge_cases(text: str, language: str, expected: str | None) -> None:
    assert read_signals(text, language).affirmation == expected


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("I want to talk to a real person", "en"),
        ("Quiero hablar con una persona", "es"),
        ("Ich will einen Mitarbeiter sprechen", "de"),
        ("转人工", "zh"),
        ("상담원 연결해 주세요", "ko"),
    ],
)
def test_wants_human(text: str, language: str) -> None:
    assert read_signals(text, language).wants_human


def test_the_recipient_of_an_address_is_no_request_for_a_person() -> None:
    assert not read_signals(
        "새 주소: (04036) 서울특별시 마포구 양화로 45, 3층 302호 받는 사람이랑 번호는 그대로요", "ko"
    ).wants_human


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("If this isn't fixed I'll file a chargeback", "en"),
        ("I'm opening a PayPal dispute", "en"),
        ("I will open an A-to-z claim", "en"),
        ("Voy a llamar a mi abogado", "es"),
        ("Je vais saisir l'UFC Que Choisir", "fr"),
        ("Ich schalte meinen Anwalt ein", "de"),
        ("Vou reclamar no Procon", "pt"),
        ("Подам в суд", "ru"),
        ("我要去消协投诉，还要给差评", "zh"),
        ("消費者センターに相談します", "ja"),
        ("Tüketici hakem heyetine başvuracağım", "tr"),
        ("سأتوجه إلى حماية المستهلك", "ar"),
        ("I'll leave a 1 star review everywhere", "en"),
        ("Sinon je fais opposition auprès de ma banque et je laisse des avis partout.", "fr"),
    ],
)
def test_legal_threats(text: str, language: str) -> None:
    assert read_signals(text, language).legal_threat


def test_anger_and_calm() -> None:
    assert read_signals("This is ridiculous, third time I'm asking", "en").angry
    assert read_signals("WHERE IS MY ORDER I HAVE BEEN WAITING FOR WEEKS", "en").angry
    assert read_signals("Where is my order???!!!", "en").angry
    assert read_signals("C'est inadmissible !", "fr").angry
    assert read_signals("Das ist eine Frechheit", "de").angry
    calm = read_signals("Could you tell me where my order is?", "en")
    assert calm == Signals(affirmation=None, wants_human=False, legal_threat=False, angry=False)


# ------------------------------------------------------------------ urgency

CALM = Signals(affirmation=None, wants_human=False, legal_threat=False, angry=False)


def _signals(**changes: bool) -> Signals:
    return Signals(affirmation=None, **{"wants_human": False, "legal_threat": False, "angry": False, **changes})


def test_legal_threat_is_red() -> None:
    result = assess_urgency(intent="refund_status", signals=_signals(legal_threat=True))
    assert result.level is UrgencyLevel.RED
    assert result.reasons[0] == "legal, chargeback or platform-dispute threat"
    assert "refund status question" in result.reasons


def test_high_value_non_delivery_is_red() -> None:
    result = assess_urgency(intent="not_received", signals=CALM, order_value_eur=Decimal("640.00"))
    assert result.level is UrgencyLevel.RED
    assert result.reasons == ("order value 640 EUR", "parcel not received")
    damaged = assess_urgency(intent="damaged_item", signals=CALM, order_value_eur=Decimal("500"))
    assert damaged.level is UrgencyLevel.RED


def test_high_value_alone_is_not_urgent() -> None:
    result = assess_urgency(intent="policy_question", signals=CALM, order_value_eur=Decimal("900"))
    assert result.level is UrgencyLevel.BLUE
    assert result.reasons == ("policy question",)


@pytest.mark.parametrize(
    ("kwargs", "level", "reason"),
    [
        ({"intent": "damaged_item"}, UrgencyLevel.ORANGE, "damaged item"),
        ({"intent": "wrong_item"}, UrgencyLevel.ORANGE, "wrong item sent"),
        ({"intent": "missing_item", "order_value_eur": Decimal("80")}, UrgencyLevel.ORANGE, "item missing from the parcel"),
        ({"intent": "track_order", "days_since_last_scan": 7}, UrgencyLevel.ORANGE, "7 days without a tracking scan"),
        (
            {"intent": "delivery_delay", "promised_date_passed": True, "days_late": 4},
            UrgencyLevel.ORANGE,
            "promised delivery date passed 4 days ago",
        ),
        (
            {"intent": "delivery_delay", "promised_date_passed": True, "days_late": 1},
            UrgencyLevel.YELLOW,
            "promised delivery date passed 1 day ago",
        ),
        ({"intent": "delivery_delay", "customer_is_vip": True}, UrgencyLevel.ORANGE, "VIP customer with a problem"),
        ({"intent": "return_request"}, UrgencyLevel.YELLOW, "return request"),
        ({"intent": "cancel_order"}, UrgencyLevel.YELLOW, "cancellation request"),
        ({"intent": "change_address"}, UrgencyLevel.YELLOW, "address change"),
        ({"intent": "payment_issue"}, UrgencyLevel.YELLOW, "payment issue"),
        ({"intent": "refund_request"}, UrgencyLevel.YELLOW, "refund request"),
        ({"intent": "invoice_request"}, UrgencyLevel.BLUE, "invoice request"),
        ({"intent": "greeting"}, UrgencyLevel.BLUE, "greeting"),
        ({"intent": "other"}, UrgencyLevel.BLUE, "general question"),
        ({"intent": "return_request", "customer_is_vip": True}, UrgencyLevel.YELLOW, "return request"),
    ],
)
def test_urgency_levels(kwargs: dict[str, object], level: UrgencyLevel, reason: str) -> None:
    result = assess_urgency(signals=CALM, **kwargs)  # type: ignore[arg-type]
    assert result.level is level
    assert reason in result.reasons


def test_angry_tone_raises_to_orange() -> None:
    result = assess_urgency(intent="return_request", signals=_signals(angry=True))
    assert result.level is UrgencyLevel.ORANGE
    assert result.reasons == ("angry tone", "return request")


def test_stalled_expensive_parcel_is_red() -> None:
    result = assess_urgency(intent="delivery_delay", signals=CALM, order_value_eur=Decimal("1200.50"), days_since_last_scan=6)
    assert result.level is UrgencyLevel.RED
    assert "order value 1200.50 EUR" in result.reasons
    assert "6 days without a tracking scan" in result.reasons


# ---------------------------------------------------------------- real wording of identity details


@pytest.mark.parametrize(
    ("text", "language", "orders"),
    [
        ("order 270 2232028 8161094 please", "en", ("270-2232028-8161094",)),
        ("1348 nolu siparişim nerede", "tr", ("#1348",)),
        ("注文番号１３４８はどこ", "ja", ("#1348",)),
        ("주문번호 1348번", "ko", ("#1348",)),
        ("ممكن رقم التتبع للطلب ٧٧٣٤٠", "ar", ("#77340",)),
        ("falsche farbe geliefert. Best.-Nr. 44091", "de", ("#44091",)),
        ("cadê meu pedido? nº 44120", "pt", ("#44120",)),
        ("кофта порвана. №66103", "ru", ("#66103",)),
        ("dov'è il mio ordine n. 45012?", "it", ("#45012",)),
    ],
)
def test_order_numbers_in_real_forms(text: str, language: str, orders: tuple[str, ...]) -> None:
    assert extract_slots(text, language).order_ids == orders


def test_a_bare_number_is_only_a_candidate() -> None:
    slots = extract_slots("where is 88213", "en")
    assert slots.order_ids == () and slots.order_candidates == ("#88213",)


@pytest.mark.parametrize(
    ("text", "language", "name", "postal"),
    [
        ("I'm Yusuf Rossi, zip code 19122. Please change the address of my order", "en", "Yusuf Rossi", "19122"),
        ("Soy Yusuf Rossi, código postal 19122. Quiero devolver la lámpara", "es", "Yusuf Rossi", "19122"),
        ("私はYusuf Rossiです。郵便番号は19122です。", "ja", "Yusuf Rossi", "19122"),
        ("Louis Martin, postal code 31000", "en", "Louis Martin", "31000"),
        ("Davi Ferreira, 22691-674", "pt", "Davi Ferreira", "22691-674"),
        ("Александр Попов cp Z00T0A1", "es", "Александр Попов", "Z00T0A1"),
        ("Ich bin Eva Winter, PLZ 1060", "de", "Eva Winter", "1060"),
    ],
)
def test_names_and_postal_codes_as_customers_write_them(text: str, language: str, name: str, postal: str) -> None:
    slots = extract_slots(text, language)
    assert slots.names[:1] == (name,) and slots.postal_codes[:1] == (postal,)


@pytest.mark.parametrize("text", ["I'm looking for my order", "I am very angry", "Hi, Where Is My Order"])
def test_ordinary_sentences_carry_no_name(text: str) -> None:
    assert extract_slots(text, "en").names == ()


@pytest.mark.parametrize(
    ("text", "language", "address"),
    [
        ("no wait, can you send it to my office? Calle de Alcala 120, 3o izquierda, 28009 Madrid", "es", "Calle de Alcala 120"),
        ("potete mandarlo al nuovo indirizzo? Via Garibaldi 45, 10122 Torino", "it", "Via Garibaldi 45"),
        ("mozna wyslac na nowy adres? ul. Dluga 7/3, 31-147 Krakow", "pl", "ul. Dluga 7/3"),
        # Four-digit postal codes before the city, and Argentina's letters and digits.
        (
            "könnt ihr es stattdessen ins Büro schicken? Keller AG, Bahnhofstrasse 21, 8001 Zürich",
            "de",
            "Keller AG, Bahnhofstrasse 21, 8001",
        ),
        (
            "est-ce que vous pouvez la faire livrer chez ma sœur ? Chaussée de Waterloo 715, 1180 Uccle",
            "fr",
            "Chaussée de Waterloo 715",
        ),
        ("se puede mandar a lo de mi vieja? Av. Corrientes 1847, piso 3 dto B, C1045AAF CABA", "es", "Av. Corrientes 1847"),
    ],
)
def test_an_address_without_an_introduction(text: str, language: str, address: str) -> None:
    found = extract_slots(text, language).address
    assert found is not None and found.startswith(address)


@pytest.mark.parametrize(
    ("text", "language"),
    [("thanks, bye", "en"), ("vielen Dank, tschüss", "de"), ("ありがとうございました！", "ja"), ("gracias", "es")],
)
def test_closings(text: str, language: str) -> None:
    assert read_signals(text, language).closing


@pytest.mark.parametrize(("text", "language"), [("thanks, where is my order?", "en"), ("谢谢，我的订单在哪", "zh")])
def test_thanks_before_a_request_is_not_a_closing(text: str, language: str) -> None:
    assert not read_signals(text, language).closing


def test_commande_n_degree_is_not_a_no() -> None:
    assert read_signals("commande n° 55123", "fr").affirmation is None


@pytest.mark.parametrize(
    ("text", "language", "address"),
    [
        # Abbreviations end no sentence inside an address.
        (
            "Новый адрес: ул. Гагарина, д. 7, кв. 3, 190000 Санкт-Петербург",
            "ru",
            "ул. Гагарина, д. 7, кв. 3, 190000 Санкт-Петербург",
        ),
        # Arabic-Indic digits and a street word, after "the address only:".
        ("غيروا العنوان فقط: ٧ شارع النيل، العجوزة، الجيزة ١٢٦٥٥", "ar", "7 شارع النيل، العجوزة، الجيزة 12655"),
        # "deliver it to my office instead: …" in Chinese, with no space to mark a word.
        ("麻烦改送到我公司：北京市朝阳区建国路88号 10楼", "zh", "北京市朝阳区建国路88号 10楼"),
        # Words between the address word and the colon; a street abbreviation ends no sentence.
        (
            "bitte an folgende Adresse liefern: Familie Keller, Rebbergstrasse 9, 8400 Winterthur. Und per Express?",
            "de",
            "Familie Keller, Rebbergstrasse 9, 8400 Winterthur",
        ),
        ("die Adresse ist Hauptstr. 5, 10115 Berlin", "de", "Hauptstr. 5, 10115 Berlin"),
        (
            "adres is Lindenlaan 23, 3581 KM Utrecht (t.a.v. fam. de Vries)",
            "nl",
            "Lindenlaan 23, 3581 KM Utrecht (t.a.v. fam. de Vries)",
        ),
        # The Korean delivery-address word, and the request verb that ends the address.
        (
            "배송지는 (13561) 경기도 성남시 분당구 정자일로 95, 203동 1501호로 바꿔 주시고요, 가방은 검정으로 바꾸고 싶어요.",
            "ko",
            "(13561) 경기도 성남시 분당구 정자일로 95, 203동 1501호",
        ),
    ],
)
def test_addresses_in_real_wording(text: str, language: str, address: str) -> None:
    assert extract_slots(text, language).address == address


@pytest.mark.parametrize(
    "text",
    [
        "新しい住所は〒150-0001 東京都渋谷区神宮前2-1-1 メゾン201号室です",
        "地址：上海市静安区南京西路800号",
        "서울시 강남구 테헤란로 12, 18번지",
    ],
)
def test_room_and_house_numbers_are_no_order_numbers(text: str) -> None:
    assert extract_slots(text, "ja").order_ids == ()


def test_a_number_followed_by_the_order_suffix_is_still_an_order() -> None:
    assert extract_slots("1348号の注文です", "ja").order_ids == ("#1348",)
    assert extract_slots("1348번 주문이요", "ko").order_ids == ("#1348",)


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("is there a fee? and yes, go ahead", "en", "yes"),
        ("d'accord, c'est parfait. et en express, c'est possible ?", "fr", "yes"),
        ("yes but how much is it?", "en", None),
        ("ok. how long does that take?", "en", None),
        ("Yes. How long does it take?", "en", None),
        ("ايوه الغيه لو سمحت، والفلوس هترجع امتى؟", "ar", "yes"),
        ("yes please cancel it, and when will the money come back?", "en", "yes"),
        ("ok, how much is it?", "en", None),
        ("oui, et ça coûte combien ?", "fr", None),
        ("반품 배송비 제가 내야되는거면.. 그냥 안할래요. 됐어요", "ko", "no"),
        ("if I have to pay for the return myself, never mind", "en", "no"),
    ],
)
def test_an_answer_in_a_sentence_of_its_own_next_to_a_question(text: str, language: str, expected: str | None) -> None:
    assert read_signals(text, language).affirmation == expected


@pytest.mark.parametrize("text", ["the address is wrong, can you check?", "배송지 변경하고 싶어요"])
def test_words_about_the_address_are_no_address(text: str) -> None:
    assert extract_slots(text, "ko" if "배송" in text else "en").address is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "la nueva es Gurruchaga 1850, piso 3 depto B, C1414DHN, CABA, Argentina",
            "Gurruchaga 1850, piso 3 depto B, C1414DHN, CABA, Argentina",
        ),
        ("Rua Augusta 100, 1100-048 Lisboa", "Rua Augusta 100, 1100-048 Lisboa"),
        ("order 1234, thanks", None),
        ("yes please", None),
    ],
)
def test_the_answer_to_the_address_question(text: str, expected: str | None) -> None:
    assert address_answer(text) == expected


def test_a_phrase_with_a_gap_matches_words_between_its_parts() -> None:
    phrase = compile_phrase("send ... back")
    assert phrase is not None and phrase.gapped
    assert phrase.pattern.search(normalise("I also want to send the broken one back to you"))
    assert not phrase.pattern.search(normalise("send it to my brother, who is now back home"))
    han = compile_phrase("把...退回")
    assert han is not None and han.pattern.search(normalise("我想把这个杯子退回去"))


def test_a_phrase_with_a_gap_gives_way_to_the_words_it_spans() -> None:
    groups = [
        ("return_request", (compile_phrase("send ... back"),), 1.0),
        ("refund_request", (compile_phrase("money back"),), 1.0),
    ]
    found = [m.label for m in _find(normalise("please send my money back"), groups)]  # type: ignore[arg-type]
    assert found == ["refund_request"]


def test_a_house_number_in_the_new_address_is_no_order_number() -> None:
    slots = extract_slots("yeni adres: Bağdat Cad. No:145 D:7, Caddebostan Mah., 34728 Kadıköy/İstanbul", "tr")
    assert slots.order_ids == () and slots.address is not None and slots.address.startswith("Bağdat Cad. No:145")


def test_a_postal_code_only_one_country_writes_places_the_address_there() -> None:
    order = {"shipping_address": {"name": "A", "country": "France", "country_code": "FR", "city": "Lyon", "postal_code": "69002"}}
    fields = parse_address("Av. Paulista, 1578, 12º andar, Bela Vista, São Paulo - SP, 01310-200", order)
    assert (fields["country"], fields["country_code"], fields["postal_code"]) == ("Brazil", "BR", "01310-200")
    assert fields["city"] != "Lyon"
    swiss = parse_address("Bahnhofstrasse 21, 8001 Zürich", order)
    assert (swiss["postal_code"], swiss["city"]) == ("8001", "Zürich")


def test_the_address_after_a_question_is_the_answer_without_it() -> None:
    text = "tem como mandar pro meu trabalho? Av. Paulista, 1578, 12º andar, Bela Vista, São Paulo - SP, 01310-200"
    assert address_answer(text) == "Av. Paulista, 1578, 12º andar, Bela Vista, São Paulo - SP, 01310-200"


def test_a_korean_address_after_a_particle_and_a_few_words_is_read_and_placed_in_korea() -> None:

    text = "네 그걸로 바꿔주세요. 아 그리고 배송지도 회사로 변경해 주세요: 서울특별시 강남구 테헤란로 152, 15층 (06236)"
    address = extract_slots(text, "ko").address
    assert address == "서울특별시 강남구 테헤란로 152, 15층 (06236)"
    order = {
        "shipping_address": {"name": "A", "country": "Poland", "country_code": "PL", "city": "Gdańsk", "postal_code": "80-001"}
    }
    fields = parse_address(address, order)
    assert (fields["country_code"], fields["postal_code"]) == ("KR", "06236")
    assert "Gdańsk" not in format_address(fields) and "()" not in format_address(fields)


@pytest.mark.parametrize(
    ("text", "language", "address"),
    [
        (
            "o endereço novo é Rua Padre Chagas, 415 apto 302, Porto Alegre - RS, CEP 90570-080",
            "pt",
            "Rua Padre Chagas, 415 apto 302, Porto Alegre - RS, CEP 90570-080",
        ),
        ("A morada nova é Rua de Santa Catarina 312, 4000-447 Porto", "pt", "Rua de Santa Catarina 312, 4000-447 Porto"),
        ("la nouvelle adresse c'est 12 rue de la Paix, 75002 Paris", "fr", "12 rue de la Paix, 75002 Paris"),
        ("die neue Adresse lautet Hauptstr. 5, 10115 Berlin", "de", "Hauptstr. 5, 10115 Berlin"),
        (
            "dont cancel. could you change the address instead? new one is 14 Glenview Crescent, Ballincollig, Co. Cork P31 X2K8",
            "en",
            "14 Glenview Crescent, Ballincollig, Co. Cork P31 X2K8",
        ),
    ],
)
def test_the_words_that_introduce_an_address_are_not_part_of_it(text: str, language: str, address: str) -> None:
    assert extract_slots(text, language).address == address


def test_an_email_labelled_as_an_address_is_no_delivery_address() -> None:
    assert extract_slots("Adresse mail : thijs@example.com", "fr").address is None


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("sim pode estornar no cartao mesmo, obrigada", "pt", "yes"),
        ("no dobra, tak", "pl", "yes"),
        ("Se o expresso tiver custo extra não faz mal. Sim, podem avançar com as duas alterações", "pt", "yes"),
        ("si, paradlo. la direccion nueva todavia no la se", "es", "yes"),
        ("todavía no", "es", "no"),
    ],
)
def test_answers_among_words_that_look_like_no(text: str, language: str, expected: str) -> None:
    assert read_signals(text, language).affirmation == expected


def test_name_is_introduces_a_name() -> None:
    assert extract_slots("dont have the order number on me sorry, name is David Williams", "en").names == ("David Williams",)


def test_the_lines_before_the_street_are_whom_the_parcel_goes_to() -> None:
    order = {"shipping_address": {"name": "David Williams", "country": "Germany", "city": "Berlin", "postal_code": "10115"}}
    fields = parse_address("David Williams, c/o Brandt & Partner GmbH, Hansaring 27, 50670 Köln", order)
    assert fields["name"] == "David Williams, c/o Brandt & Partner GmbH"
    assert (fields["address1"], fields["postal_code"], fields["city"]) == ("Hansaring 27", "50670", "Köln")
    # A house number after the street's comma, and a flat after the street, stay as they were.
    assert (
        parse_address("Rua Padre Chagas, 415 apto 302, Porto Alegre, 90570-080", order)["address1"]
        == "Rua Padre Chagas, 415 apto 302"
    )
    fields = parse_address("12 Elm Street, Apt 4, Austin, TX 78701, USA", order)
    assert (fields["address1"], fields["address2"], fields["name"]) == ("12 Elm Street", "Apt 4", "David Williams")
    assert "Apt 4" in format_address(fields)
