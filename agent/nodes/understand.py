"""understand: the message's language, signals, slots and intent; a yes or no to a pending
proposal; the fresh scratch every turn starts from."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from agent.language import UNSURE_FIRST_CONFIDENCE, detect_language
from agent.nodes.deps import AgentDeps, add_usage
from agent.state import (
    ORDER_INTENTS,
    OWN_REQUEST,
    PROBLEM_INTENTS,
    WRITE_REQUESTS,
    ConversationState,
    PendingAction,
    fresh_turn,
)
from agent.understanding import (
    COMPENSATION_WORDS,
    CONDITIONAL,
    COUPON_WORDS,
    NOT_A_CONDITION,
    QUESTION_MARKS,
    QUESTION_OPENERS,
    THANKS_FOR_EXPLAINING,
    IntentGuess,
    Signals,
    address_answer,
    answer_words,
    beyond_answer,
    closes_with_no,
    extract_slots,
    human_spots,
    is_question,
    kept_items,
    lone_name,
    normalise,
    only_that_one,
    opens_with_yes,
    punctuated_sentences,
    read_signals,
    request_units,
    says_both,
    says_goodbye,
    says_plain_yes,
    says_unchanged,
    without_matches,
)
from agent.variants import choose_variant, items_swapped_apart, names_a_variant
from commerce.models import Order, Variant

SHOP_ORDER_REF = re.compile(r"#[A-Za-z0-9][A-Za-z0-9-]{2,30}")


def read_slots(text: str, language: str) -> dict[str, Any]:
    slots = extract_slots(text, language)
    found: dict[str, Any] = {
        "order_ids": list(slots.order_ids),
        "emails": list(slots.emails),
        "postal_codes": list(slots.postal_codes),
        "names": list(slots.names),
        "amounts": [[str(a), c] for a, c in slots.amounts],
        "address": slots.address,
        "item_hints": list(slots.item_hints),
        "order_candidates": list(slots.order_candidates),
        "name_candidates": list(slots.name_candidates),
        "postal_candidates": list(slots.postal_candidates),
    }
    if not found["order_ids"]:
        # Shops number orders their own way (#A1003, #SO-2291): any '#' reference with a digit counts.
        # A unit number in an address is none ("Blk 456 Tampines Street 42, #08-123, Singapore 520456").
        found["order_ids"] = [
            m.group(0)
            for m in SHOP_ORDER_REF.finditer(text)
            if any(c.isdigit() for c in m.group(0)) and not (slots.address and m.group(0) in slots.address)
        ]
    return found


# A message whose request, without identity details and their labels, is this short gives details only.
DETAILS_ONLY_UNITS = 3.0
# A greeting around the details ("Good evening. Order …, email …") may add this much.
GREETING_UNITS = 2.0
# Below this confidence a message with identity details does not replace the customer's goal.
GOAL_SWITCH_CONFIDENCE = 0.75
# Below this the classifier's read gives way to a write request the message's words name.
UNSURE_READ = 0.5
# A message this short, read unsure as a write request whose words it does not name, asks for nothing.
SHORT_UNSURE_UNITS = 5
SHORT_UNSURE_READ = 0.6
# A "no" with at least this much more is a new request, not only a refusal.
NO_AND_MORE_UNITS = 4.0


# A problem with what arrived: the remedy (a new parcel or the money) is still to be settled.
REMEDY_INTENTS = frozenset({"refund_request", "reship_request", "return_request"})


def problem_named(deps: AgentDeps, text: str, language: str) -> str | None:
    """The problem the message's keywords name (broken, missing, wrong, never arrived), if any."""
    scores = {i: w for i, w in deps.classifier.keyword_scores(text, language).items() if i in PROBLEM_INTENTS}
    return max(scores, key=scores.__getitem__) if scores else None


# Words beyond the yes that make it a confirmation of its own ("确认，退吧": go on, return it).
CONFIRM_UNITS = 0.8


# Negations before a remedy word ("I don't want my money back"), in the languages that put them first.
NEGATION = re.compile(
    r"(?i)(?<![^\W\d_])(?:don['’]?\s?t|dont|do\s+not|didn\s?t|won\s?t|no|not|never|without|sin(?!\s+querer)|pas|ne|n|sans|nicht|kein(?:e|en)?|"
    # ("i will ka geld zurück": Bavarian and Austrian "kein"; "ned", their "nicht".)
    r"ka|koa|ned|non|niente|nessun[oa]?|"
    r"n[ãa]o|niet|geen|nie|"
    r"не|нет|без|لا|مش|ما|"
    # "forget the refund", "laissez tomber le remboursement": dropped, as a no is.
    r"forget(?:\s+about)?|laisse[zr]?\s+tomber|oubliez|olvida(?:te\s+de|d)?|vergiss|vergessen\s+sie|lascia(?:te)?\s+perdere|"
    r"esque[cç]a|esquece|laat\s+(?:maar|de)|zapomnij|забудьте|забудь)(?![^\W\d_])|不要|不用|别|不"
)


# "a bigger size instead of cancelling", "lieber umtauschen statt Storno": the request right after
# it is the one given up.
INSTEAD_OF = re.compile(
    r"(?<![^\W\d_])(?:instead\s+of|rather\s+than|statt|anstatt|au\s+lieu\s+d[eu]?|plutot\s+que|en\s+lugar\s+del?|"
    r"en\s+vez\s+del?|invece\s+(?:di|del|della|dello|dei|degli|delle)|anziche|em\s+vez\s+d[eoa]s?|em\s+lugar\s+d[eoa]s?|"
    r"in\s+plaats\s+van|zamiast|вместо|بدلا\s+من|بدل)"
    r"\s+(?:(?:the|a|an|my|le|la|les|l|un|une|el|los|las|una|die|der|das|den|eine|einer|einen|il|lo|gli|o|os|as|de|het|een|"
    r"mi|mon|ma|mes|mein|meine|meinen|meiner|des|du)\s+)?$|而不是$|而非$"
)


# "I'd rather have a replacement than a refund", "lieber einen neuen als das Geld": the request
# after "than" is the one given up (in the normalised text).
PREFERRED_OVER = re.compile(
    r"(?<![^\W\d_])(?:rather|prefer\w*|prefier\w*|lieber|preferisc\w*|prefir\w*|liever|wol[eę]|лучше|предпочитаю)"
    # (a word at least between: "prefiero que me mandéis otro" prefers what follows.)
    r"(?![^\W\d_])\s+[^\W\d_][^.!?]*?\s(?:than|que|als|che|dan|niz|чем)\s+"
    r"(?:(?:a|an|the|my|un|una|el|la|le|ein|eine|einen|das|den|die|il|lo|o|um|uma|een|het)\s+)?$"
)


# Negations after the word they deny ("Geld zurück brauch ich nicht", "yenisini istemiyorum").
NEGATION_AFTER = re.compile(
    r"(?i)^\W*(?:\w+\W+){0,3}?(?:nicht|ned|niet|istemiyorum|istemem|etmeyin(?:iz)?|etme|yapmayin|gondermeyin|gerek\s+yok|yerine|pas(?!\s+(?:de\s+)?(?:souci|probl|grave|mal))|nie\s+chc[eę]|nie\s+potrzebuj[eę]|не\s+хочу|не\s+буду|не\s+надо|не\s+оформля\w*|не\s+делайте|не\s+нужно|не\s+нужен|не\s+нужна|не\s+нужны|"
    r"no\s+hace\s+falta|pas\s+besoin|non\s+serve|não\s+precisa|nao\s+precisa|"
    # "lo del descuento no me interesa", "the coupon doesn't interest me".
    r"no\s+me\s+interesa|non\s+mi\s+interessa|n[ãa]o\s+me\s+interessa|ne\s+m\s?interesse\s+pas|interessiert\s+mich\s+nicht|"
    r"interesseert\s+me\s+niet|nie\s+interesuje|ilgilenmiyorum|не\s+интересует|doesn\s?t\s+interest)(?![^\W\d_])|^.{0,12}(?:じゃなくて|じゃなく|ではなく|結構です|けっこうです|いらない|要らない|いりません|要りません|不要|必要ない|しなくていい|しなくても|しなくて大丈夫|しない|しません|したくない|したくありません|しないで|せずに|せず|はやめ|をやめ|やめます|やめて|の代わりに|代わりに|요없|필요\s?없|하지\s?마|안\s?해|안\s?할)"
    # "교환 말고" (not an exchange): "말고" denies the word right before it, not one further back.
    r"|^\s?(?:은|는|이|가|을|를)?\s?말고"
    # "쿠폰은 괜찮고요" (the coupon, I'm fine), "クーポンは大丈夫です": a polite no thanks to the thing named.
    r"|^[^.!?]{0,8}?(?:은|는)\s?(?:괜찮|됐|필요\s?없)|^\s?は\s?(?:大丈夫|結構|けっこう|いらない|要らない)"
)


PUNCTUATED = re.compile(r"[,.;:!?()\[\]\n，。；：！？、،؛؟]+")


# "nie chcę zwrotu kasy, tylko wymianę", "not a refund, just a new one": the word after "only" or
# "but" is what is wanted, beyond the negation's reach.
CONTRAST = re.compile(
    r"(?<![^\W\d_])(?:only|just|but|rather|sondern|nur|sino|solo|solamente|mais|seulement|juste|plutot|bensi|soltanto|"
    r"mas|apenas|somente|maar|alleen|liever|tylko|ale|lecz|sadece|ama|yalnizca|а|но|только|بل|فقط|لكن|بس|"
    # "la dirección todavía no la sé, así que mejor que vuelva": what follows "so" is a clause of its own.
    r"asi\s+que|por\s+eso|mejor|donc|du\s+coup|quindi|percio|deshalb|daher|dus|dlatego|wiec|bu\s+yuzden|поэтому|так\s+что)"
    r"(?![^\W\d_])|只|而是"
)


def _conditional(text: str, start: int, language: str | None = None) -> bool:
    """Whether a condition ("if", "wenn", "если") opens the clause before position `start`. A
    request given up "instead of" is no condition's ("se puede cambiar a una M en vez de cancelar")."""
    if INSTEAD_OF.search(text[max(0, start - 30) : start]):
        return False
    ignored = NOT_A_CONDITION.get(language or "", frozenset())
    return any(m.group().strip() not in ignored for m in CONDITIONAL.finditer(text[:start]))


A_NOT_A = re.compile(r"([\u3400-\u9fff])[不没沒]\1")
# "不太喜欢想退掉" (don't really like it, want to return it): the negation is the reason's.
# ("заказала не то, можно отменить?": "не то", the wrong thing, negates nothing after it.)
NEGATED_REASON = re.compile(
    r"[不没沒](?:太|是很|怎么|怎麼|大)?(?:喜欢|喜歡|合适|合適|满意|滿意|好看|合身)|(?<![^\W\d_])не\s+т(?:о|от|ого|у|ой)(?![^\W\d_])"
    # "ما عجبني", "مو عاجبني" (I didn't like it): the reason for a return, not a refusal of one.
    r"|(?<![^\W\d_])(?:ما|مو|مش|ماعجب\w*)\s*(?:عجب|عاجب)\w*"
)


# Negation words that are something else in a language: Italian "ne" is "of it" ("me ne mandiate uno").
# Dutch "'n" is "a" ("ik wil 'n nieuwe"); French "n'" is "not" ("n'annulez pas").
NOT_A_NEGATION = {
    "it": frozenset({"ne", "n"}),
    "nl": frozenset({"n"}),
    "en": frozenset({"n"}),
    # ("hätte gern ne Nummer größer": "ne" is "eine", a.)
    "de": frozenset({"n", "ne"}),
    # "reembolso no cartão" (on the card), "um desconto, né" (right?), "no dobra" (well, fine).
    "pt": frozenset({"no", "ne"}),
    "pl": frozenset({"no"}),
}


def _negated(text: str, start: int, end: int | None = None, language: str | None = None) -> bool:
    """Whether a negation stands in the few words before position `start`, or right after `end`;
    or "instead of" right before it."""
    # Han and kana run without spaces: a negation a few letters before ("不用补发了 直接退款") is
    # another clause's.
    cjk = start < len(text) and "\u3040" <= text[start] <= "\u9fff"
    reach = 6 if cjk else 30
    # "能不能改成加急", "可不可以": a question's A-not-A, not a negation (blanked before the window
    # is cut, so that a cut through it leaves no "不").
    blank = A_NOT_A.sub(lambda m: " " * len(m.group()), text[:start])
    before = NEGATED_REASON.sub(lambda m: " " * len(m.group()), blank)[max(0, start - reach) :]
    if not cjk and start > reach and text[start - reach - 1].isalnum():
        # The window cut through a word ("qu on" cut to "n"): its rest is no word of its own.
        before = before.split(" ", 1)[-1] if " " in before else ""
    if cjk:
        # "跟图片完全不一样 我要全额退款": a negation before a space or a comma is another clause's.
        before = re.split(r"[\s,，。、!！?？;；]", before)[-1]
    ignored = NOT_A_NEGATION.get(language or "", frozenset())
    if any(
        m.group().strip() not in ignored and not CONTRAST.search(before, m.end()) for m in NEGATION.finditer(before)
    ) or INSTEAD_OF.search(before):
        return True
    if not cjk and PREFERRED_OVER.search(text[max(0, start - 80) : start]):
        return True
    return end is not None and bool(NEGATION_AFTER.search(text[end : end + 40]))


def refuses_a_person(text: str, language: str) -> bool:
    """Whether every word for a person in the message stands under a negation of its own sentence
    ("нет, оператора не надо"; but "that's not helpful. can I talk to an actual person?" asks)."""
    for sentence in SENTENCE.split(text):
        said, spots = human_spots(sentence, language)
        if not all(_negated(said, start, end, language) for start, end in spots):
            return False
    return True


def details(slots: dict[str, Any]) -> list[str]:
    """The identity details of a message as written (names, postal codes)."""
    return [*slots["names"], *slots["postal_codes"]]


CLAUSE = re.compile(r"[.!?;。！？؟؛~～]\s*")
SENTENCE = re.compile(r"[.!?\n。！？؟~～]+")
# Keywords that name another request than the one waiting for a yes: they must outweigh this.
OTHER_REQUEST_MIN_WEIGHT = 1.0


PROBLEMS = ("damaged_item", "wrong_item", "missing_item", "not_received")
# Requests a "yes …" may name and still accept the proposal of this tool ("yes, refund it" to a
# refund offered for a broken item; "네 환불 진행해주세요", yes, go on with the refund).
SAME_REQUEST: dict[str, frozenset[str]] = {
    # "ja prima, gewoon terug via ideal": the payment method named is where the money goes. A
    # return named with a yes is another request when its words send the item back ("sì,
    # procedi con il reso"; ITEM_BACK).
    "issue_refund": frozenset({"refund_request", "refund_status", "payment_issue", *PROBLEMS}),
    "create_reshipment": frozenset({"reship_request", *PROBLEMS}),
    "return_items": frozenset({"return_request", "refund_request", "refund_status", "payment_issue"}),
    "issue_coupon": frozenset({"delivery_delay", "track_order"}),
    "intercept_parcel": frozenset({"change_address", "cancel_order", "return_request"}),
    "change_shipping_address": frozenset({"change_address"}),
}


def same_requests(pending: PendingAction) -> set[str]:
    """The requests that ask for what the waiting proposal does: its own and those a yes may name."""
    return {pending["intent"], *SAME_REQUEST.get(pending["tool"], ())}


def sentences_of(text: str) -> list[str]:
    """The message's sentences, empty ones left out."""
    return [s for s in SENTENCE.split(text.strip()) if s.strip()]


def statements_of(text: str) -> str:
    """The message without its questions ("止めてください。返金はいつですか？": "止めてください。")."""
    return " ".join(s for s in punctuated_sentences(text) if not s.endswith(QUESTION_MARKS))


# Words that send the item itself back, and only that ("Rücksendung", "reso", "返品"), in the
# normalised text: "iade", "devolución", "вернуть", "退回" say money back as well.
ITEM_BACK = re.compile(
    r"(?<![^\W\d_])(?:send\s+(?:it|them|the\s+\w+)\s+back|return\s+label|rucksendung|retoure|zuruckschicken|zurucksenden|"
    r"reso|restituire|rispedire|renvoyer|renvoie|etiquette\s+de\s+retour|enviar\s+de\s+vuelta|etiqueta\s+de\s+devolucion|"
    r"terugsturen|retourneren|retourlabel|mandar\s+de\s+volta|etiqueta\s+de\s+devolucao|odeslac|odesle|etykiet\w*\s+zwrotn\w*|"
    r"kargoyla\s+geri|geri\s+gonder\w*|отправить\s+обратно|отправлю\s+обратно)(?![^\W\d_])|返品|退货|반품"
)


# Proposals a swap of size or colour replaces when the customer asks for one.
SWAPPED_INSTEAD = frozenset({"issue_refund", "return_items", "cancel_order"})


def names_another_request(deps: AgentDeps, text: str, language: str, pending: PendingAction) -> bool:
    """Whether a "yes ..." names a different request than the proposal waiting for it, in the same
    clause ("yes, change the address"; but "Yes. Also, …" confirms, then goes on). A request named
    under a negation is none ("right, send the new one, I don't want a refund"). The clause is the
    first one that says yes ("추가 요금 있으면 낼게요. 변경해 주세요": I'll pay any extra fee. Change it)."""
    questions = [s for s in punctuated_sentences(text) if s.endswith(QUESTION_MARKS)]
    if names_a_variant(questions, language) and (
        pending["tool"] in SWAPPED_INSTEAD
        or (
            pending["tool"] == "create_reshipment"
            # ("ايوه ابعتولي اللون الصح، والبيج ده اعمل فيه ايه؟ ارجعه؟": the colour received, asked
            # what to do with it, is no other colour wanted.)
            and "return_request" not in read_requests(deps, " ".join(questions), language)[0]
            # ("Yeah send me the black one please. And what do I do with the beige one?": the
            # colour received, in a question of its own, is no other colour wanted.)
            and asks_another_variant(deps, pending, [q for q in questions if "yes" in answer_words(q, language)], language)
        )
    ):
        # "OK in that case can I get it in grey, same size?" while a refund, or the same item sent
        # again, waits: a question for another size or colour asks for a swap instead.
        return True
    clauses = [c for c in CLAUSE.split(text.strip()) if c.strip()] or [text]
    clause = next((c for c in clauses if "yes" in answer_words(c, language)), clauses[0])
    for opener in QUESTION_OPENERS:
        # ("네 부탁드려요 언제쯤 도착할까요?": the question after the yes asks when, and nothing else.)
        head = clause.split(opener, 1)[0]
        clause = head if head.strip() and "yes" in answer_words(head, language) else clause
    scores, _ = read_requests(deps, clause, language)
    own = detect_language(clause).language
    if own != language:
        # "ih d'accord, dir l'échange" in a Maghrebi chat: the words of the language they are
        # written in name the request too.
        for intent, weight in read_requests(deps, clause, own)[0].items():
            scores[intent] = max(scores.get(intent, 0.0), weight)
    same = same_requests(pending)
    if any(scores.get(intent) for intent in same):
        return False
    if pending["tool"] == "issue_coupon" and COMPENSATION_WORDS.search(normalise(clause)):
        # "보상같은거 없나요? 쿠폰이라도 주세요" (no compensation? a coupon at least): the gesture offered.
        scores.pop("refund_request", None)
    if pending["tool"] == "issue_refund" and not ITEM_BACK.search(normalise(clause)):
        # "evet iade yapın", "行 退回原来的付款方式": words of giving back that say the money too.
        scores.pop("return_request", None)
    # "sim pode redirecionar, e isso demora mais quantos dias?": a question beside the yes waits for
    # its answer; it asks for nothing else.
    others = {
        i: w for i, w in scores.items() if i not in ("greeting", "human_agent", "complaint", *same, *QUESTIONS_WHILE_WAITING)
    }
    if (
        pending["tool"] in CHANGES_OF_DELIVERY
        and others
        and all(bare_change(clause, language, {}, other, {"change_address"}) for other in others)
    ):
        # "isso, pode trocar sim" while an address change waits: the verb repeats the change proposed.
        return False
    if set(others) == {"return_request"} and pending["tool"] == "create_reshipment":
        # "yes perfect, send the red and register the return of the blue": the wrong one goes back
        # once the right one is sent, a request that goes with the yes.
        return False
    return bool(others) and max(others.values()) >= OTHER_REQUEST_MIN_WEIGHT


# Questions about the rules whose unsure follow-up questions ask more about them.
FOLLOW_UP_TOPICS = frozenset({"customs_duties", "policy_question"})


# Proposals that change how the parcel travels: "yes, change it" asks for them.
CHANGES_OF_DELIVERY = frozenset({"change_shipping_address", "switch_carrier", "intercept_parcel"})


# "Do I have to …?", "tengo que …?", "muss ich …?": the customer asks what the rules want of them.
OBLIGATION = re.compile(
    r"(?<![^\W\d_])(?:(?:do|will)\s+i\s+(?:have|need)\s+to|must\s+i|should\s+i|tengo\s+que|hay\s+que|debo|dois\s+je|"
    r"faut\s+il|est\s+ce\s+que\s+je\s+dois|muss\s+ich|soll\s+ich|devo|bisogna|preciso|tenho\s+de|tenho\s+que|moet\s+ik|"
    r"musze|mam\s+(?:to\s+)?(?:odeslac|zwrocic)|zorunda\s+m[iı]y[iı]m|gerekiyor\s+mu|должен\s+ли|должна\s+ли|нужно\s+ли|"
    r"надо\s+ли|هل\s+يجب|لازم\s+ارجع)(?![^\W\d_])|需要我|我要不要|我必须|しなければ|必要がありますか|해야\s?하나요|해야\s?돼요|해야\s?될"
)


# Writes on chosen items of an order: a "no" that names the same request again corrects the items.
ITEM_TOOLS = frozenset({"return_items", "issue_refund", "create_reshipment"})


# "… no, actually", "non en fait", "anzi", "やっぱり": the customer changes their mind as they write,
# and what follows is what they want (in the normalised text: lower case, no accents).
CHANGE_OF_MIND = re.compile(
    r"(?<![^\W\d_])(?:actually|on\s+second\s+thought|en\s+fait|finalement|en\s+realidad|pensandolo\s+mejor|eigentlich|"
    r"doch\s+lieber|anzi|in\s+realta|ripensandoci|na\s+verdade|pensando\s+bem|eigenlijk|toch\s+maar|jednak|wlasciwie|"
    r"aslinda|vazgectim|хотя\s+нет|вообще[\s-]+то|передумал[аи]?|بالاحرى|لا\s+بل)(?![^\W\d_])|算了|还是|やっぱり|やっぱ|아니다|아니\s?그냥"
)


# The replies that ask which size or colour the customer wants instead.
VARIANT_QUESTIONS = ("ask_variant", "variant_unavailable")


def tools_done(state: ConversationState) -> set[str]:
    """The tools whose writes succeeded in this conversation."""
    return {a["tool"] for a in state.get("actions_log", []) if a["ok"]}


def _proposed_lines(deps: AgentDeps, pending: PendingAction) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The order's items the proposal is about, and its other items: id, name and options."""
    chosen = set(pending["arguments"].get("item_ids") or [])
    if not chosen or not pending.get("order_id"):
        return [], []
    with deps.store.read() as session:
        order = session.get(Order, pending["order_id"])
        lines = [
            {
                "item_id": line.variant_id,
                "name": line.name,
                "options": dict(line.options or getattr(session.get(Variant, line.variant_id), "options", None) or {}),
            }
            for line in (order.items if order is not None else [])
        ]
    return [line for line in lines if line["item_id"] in chosen], [line for line in lines if line["item_id"] not in chosen]


def asks_another_variant(deps: AgentDeps, pending: PendingAction, texts: list[str], language: str) -> bool:
    """Whether the messages ask for the proposal's item in options other than those ordered
    ("can I get it in grey?" while the beige one ordered is to be sent again)."""
    proposed, _ = _proposed_lines(deps, pending)
    return any(choose_variant(texts, language, line, []).wanted for line in proposed)


def asks_again_for(state: ConversationState, offer: PendingAction, named: dict[str, float], taken_back: frozenset[str]) -> bool:
    """Whether a yes names the proposal let go by the message before, and nothing else."""
    same = same_requests(offer)
    done = offer["tool"] in tools_done(state)
    others = [i for i, w in named.items() if i in WRITE_REQUESTS and i not in same and w >= OTHER_REQUEST_MIN_WEIGHT]
    # ("ok ein gutschein wär das mindeste, ja gerne": the gesture offered, asked for.)
    gesture = offer["tool"] == "issue_coupon" and bool(COMPENSATION_WORDS.search(normalise(str(state.get("message", "")))))
    return not done and not others and not (taken_back & same) and (gesture or any(named.get(i) for i in same))


def leaves_alone_only_others(deps: AgentDeps, pending: PendingAction, text: str, language: str) -> bool:
    """Whether the message says items the proposal does not touch stay as they are, and none it does."""
    chosen, rest = _proposed_lines(deps, pending)
    proposed = [line["name"] for line in chosen]
    others = [line["name"] for line in rest if line["name"] not in proposed]
    return (
        bool(others)
        and bool(kept_items([text], language, others, unchanged_only=True))
        and not kept_items([text], language, proposed, unchanged_only=True)
    )


def requests_per_item(deps: AgentDeps, order_id: str | None, text: str, language: str) -> tuple[set[str], set[str]]:
    """The order's items the message swaps and those it sends back, each by the words next to it."""
    if not order_id:
        return set(), set()
    with deps.store.read() as session:
        order = session.get(Order, order_id)
        names = list(dict.fromkeys(line.name for line in order.items)) if order is not None else []
    if len(names) < 2:
        return set(), set()
    return items_swapped_apart([text], language, names)


def asked_in_words(deps: AgentDeps, state: ConversationState, pending: PendingAction) -> bool:
    """Whether the customer's own words, in any message so far, asked for what is proposed."""
    # (The request itself, not the problem it settles: "the Mug came broken" asks for no new one.)
    wanted = {OWN_REQUEST.get(pending["tool"])}
    if wanted & set(state.get("worded", [])):
        return True
    for said in state.get("transcript", []):
        named, refused = read_requests(deps, str(said.get("text", "")), str(said.get("language") or "en"))
        if any(named.get(i) and i not in refused for i in wanted if i):
            return True
    return False


def keeps_others_names_proposed(deps: AgentDeps, pending: PendingAction, text: str, language: str, slots: dict[str, Any]) -> bool:
    """Whether the message says the rest stays as it is and names only items the proposal is about."""
    chosen, rest = _proposed_lines(deps, pending)
    proposed = {line["name"].casefold() for line in chosen}
    named = {str(hint).casefold() for hint in slots.get("item_hints") or []}
    return (
        bool(rest)
        and bool(named)
        and all(any(hint in name for name in proposed) for hint in named)
        and says_unchanged(text, language)
    )


def after_change_of_mind(text: str) -> str | None:
    """What follows the last change of mind inside a message ("refund me please… no, actually send
    the right one": ", send the right one"), punctuation kept so that a negation stays in its own
    clause; None when the message has none."""
    lower = text.lower()
    # Accents off Latin letters one by one, so that positions stay those of the message itself.
    plain = "".join(unicodedata.normalize("NFD", ch)[0] if ch < "\u0250" else ch for ch in lower)
    # "Wie lange dauert das eigentlich?", "how long does it actually take?": in a question the
    # word changes no mind.
    found = [m for m in CHANGE_OF_MIND.finditer(plain) if not _in_a_question(plain, m.end())]
    if not found:
        return None
    return lower[found[-1].end() :]


_SENTENCE_END = re.compile(r"[.!?\n。！？؟？]")


def _in_a_question(text: str, position: int) -> bool:
    end = _SENTENCE_END.search(text, position)
    return end is not None and end.group() in "?？؟"


def confirms_then_leaves(text: str, language: str) -> bool:
    """ "嗯确认，退吧。谢谢拜拜", "yes go ahead and send it. thanks, bye": a yes that says more than
    the yes in a sentence of its own, and a goodbye after it; "ok, bye" alone takes leave."""
    sentences = sentences_of(text)
    if len(sentences) >= 2 and not says_goodbye(sentences[0]) and beyond_answer(sentences[0], language) >= CONFIRM_UNITS:
        return True
    # "yes please that'd be brilliant, cheers", "yes go ahead, cheers": a sign-off after a yes of
    # more than one word ("ok, cheers" still takes leave).
    head = SIGN_OFF.split(text, maxsplit=1)[0]
    return (
        head != text
        and opens_with_yes(head, language)
        and not read_signals(head, language).closing
        and len(normalise(head).split()) >= 2
    )


# Words that sign a message off rather than leave without an answer ("…, cheers", "saludos").
SIGN_OFF = re.compile(
    r"(?i)(?<![^\W\d_])(?:cheers|regards|saludos|cordialement|gr[üu](?:ß|ss)e|saluti|cumprimentos|groetjes|pozdrawiam|"
    r"selamlar|с\s+уважением)(?![^\W\d_])"
)


# The customer's own slip ("sorry, my mistake", "ho sbagliato", "ой, не тот номер"), in the
# normalised text: what they correct is their own details.
OWN_MISTAKE = re.compile(
    r"(?<![^\W\d_])(?:i\s+made\s+a\s+mistake|my\s+mistake|my\s+bad|i\s+typed|typo|wrong\s+(?:order\s+)?(?:number|email|mail)|"
    r"ho\s+sbagliato|mi\s+sono\s+sbagliat[oa]|errore\s+mio|ho\s+scritto\s+male|me\s+equivoque|me\s+he\s+equivocado|error\s+mio|"
    r"je\s+me\s+suis\s+trompee?|erreur\s+de\s+ma\s+part|mon\s+erreur|(?:hab|habe)\s+mich\s+vertan|mein\s+fehler|vertippt|"
    r"falsche\s+(?:nummer|mail|e-mail|bestellnummer)|ik\s+heb\s+me\s+vergist|mijn\s+fout|verkeerd\s+getypt|foutje|me\s+enganei|"
    r"errei|foi\s+mal|erro\s+meu|digitei\s+errado|pomylil[ae]m|moj\s+blad|yanlis\s+yazdim|hata\s+benim|ошиблась|ошибся|"
    r"опечатк\w*|не\s+тот\s+номер|не\s+та\s+почта|غلطت|خطأ\s+مني)(?![^\W\d_])|我搞错了|写错了|打错了|输错了|間違えました|"
    r"間違えた|打ち間違|잘못\s?썼|잘못\s?적|잘못\s?입력|제가\s?실수"
)


# Of a message that is an address and little else: the share of its characters the address takes.
ADDRESS_ALONE = 0.7


def without_rule_questions(text: str) -> str:
    """The message without its questions about what the rules want of the customer: "Should I
    return the damaged one?", "¿tengo que devolver el roto?" ask for nothing."""
    return " ".join(s for s in punctuated_sentences(text) if not (is_question(s) and OBLIGATION.search(normalise(s))))


def request_after_yes(deps: AgentDeps, text: str, language: str, pending: PendingAction) -> str | None:
    """The order request a yes's message names in a later sentence, other than the proposal's own
    ("ja, bitte ändern. Geht das auch per Express?" while an address change waits: switch_carrier)."""
    sentences = sentences_of(text)
    if len(sentences) < 2:
        return None
    rest = without_rule_questions(" ".join(punctuated_sentences(text)[1:]))
    if pending["tool"] == "issue_coupon" and COMPENSATION_WORDS.search(normalise(rest)):
        # "naja ok. aber n kleiner gutschein als entschädigung wär schon nett": the gesture offered.
        return None
    same = same_requests(pending)
    named, refused = read_requests(deps, rest, language)
    others = {i: w for i, w in named.items() if i in ORDER_INTENTS and i not in same and i not in refused}
    if "switch_carrier" in others:
        # "واش تقدرو تصيفطوها ليا بالاكسبريس؟" (can you send it to me express?): the sending is how.
        others.pop("reship_request", None)
    if not others or max(others.values()) < OTHER_REQUEST_MIN_WEIGHT:
        if (
            pending["tool"] != "issue_coupon"
            and COUPON_WORDS.search(normalise(rest))
            and not mentions_declined_coupon(deps, rest, language)
        ):
            # "да, возвращайте на карту. и можно мне какой-нибудь промокод?": the gesture is offered
            # after the refund, where a late parcel's is.
            return "delivery_delay"
        return None
    return max(others, key=others.__getitem__)


# Questions answered while an offer waits for a yes, without dropping the offer ("is there an extra
# charge?", "when does the money reach my card?"). "When will it ship?" is not one: it leaves the
# offer, so a later "ok, thanks" accepts nothing.
# Questions of news whose follow-up questions ("and what time?") stay with them.
FOLLOWED_UP = frozenset({"track_order", "delivery_delay", "refund_status", "customs_duties", "policy_question"})
QUESTIONS_WHILE_WAITING = frozenset({"policy_question", "refund_status", "customs_duties", "payment_issue", "invoice_request"})


def mentions_declined_coupon(deps: AgentDeps, text: str, language: str) -> bool:
    """ "No thanks, I don't want a coupon", "if you want to offer me a voucher: no thanks": no
    coupon is offered in this conversation. A coupon word and a negation in one sentence refuse it;
    a question asks for it ("não dá pra me darem um cupom?", "can't you give me a voucher?")."""
    for sentence in re.findall(r"[^.!?\n。！？؟？]+[.!?\n。！？؟？]*", text):
        if sentence.rstrip().endswith(("?", "？", "؟")):
            continue
        for clause in PUNCTUATED.split(sentence):
            norm = normalise(clause)
            if any(_negated(norm, m.start(), m.end(), language) for m in COUPON_WORDS.finditer(norm)):
                return True
        # "ما ابي ارجع شي، بس عطوني كود خصم" (I return nothing, but give me a code): a "but" ends the no.
        for part in CONTRAST.split(normalise(sentence)):
            if COUPON_WORDS.search(part) and says_not(part, language):
                return True
    return False


def says_not(norm: str, language: str) -> bool:
    """Whether normalised text holds a negation of the language anywhere ("pas besoin de …")."""
    ignored = NOT_A_NEGATION.get(language, ())
    return any(m.group().strip() not in ignored for m in NEGATION.finditer(norm)) or bool(NEGATION_AFTER.search(norm))


# Money named under a negation refuses a refund ("no quiero el dinero", "деньги возвращать не
# надо"); named without one it asks for nothing by itself ("I paid good money for this").
MONEY_WORDS = re.compile(
    r"(?<![^\W\d_])(?:money|cash|dinero|plata|argent|fric|geld|soldi|denaro|dinheiro|grana|pieniadze|pieniedzy|"
    r"param[iı]|paray[iı]|деньги|денег|деньгами)(?![^\W\d_])|فلوس|المال|مصاري|钱|錢|お金|돈"
)


# Words before the word for address (normalised) that make it no new one: "old" (the place the
# customer leaves) or "mail" ("mail adresim …", my email address).
NO_NEW_ADDRESS_BEFORE = re.compile(
    r"(?<![^\W\d_])(?:old|previous|alte[nmr]?|bisherige[nmr]?|ancienne|vieja|antigua|anterior|vecchio|precedente|antigo|oude|"
    r"vorige|stary|starym|starego|eski|старый|старого|старом|прежний|e?\s?mail|e\s?posta|correo|courriel)\s+$"
)


# Words after the word for address that make it an email: "mon adresse mail c'est …", "adres e-mail".
# "adres aynı", "the address is the same", "adresse reste la même": no new one either.
NO_NEW_ADDRESS_AFTER = re.compile(
    r"\s*(?:e\s?mail|mail|electronique|de\s+courriel|de\s+correo|e\s?posta|ayn[ıi]|is\s+the\s+same|stays\s+the\s+same|"
    r"reste\s+la\s+meme|bleibt\s+gleich|la\s+misma|es\s+la\s+misma|e\s+a\s+mesma|la\s+stessa|blijft\s+hetzelfde|"
    r"ta\s+sama|та\s+же|тот\s+же)(?![^\W\d_])"
)


def read_requests(deps: AgentDeps, text: str, language: str) -> tuple[dict[str, float], frozenset[str]]:
    """The requests the message's keywords name, with their weights, and those named under a
    negation ("mejor no lo canceles"). A negation denies only words of its own clause ("(10,
    leather, no) …, refund me" is a refund); a condition is no refusal ("if you don't refund me…")."""
    named: dict[str, float] = {}
    refused: set[str] = set()
    for clause in PUNCTUATED.split(text):
        norm = normalise(clause)
        for match in deps.classifier.keyword_matches(clause, language):
            if match.label == "change_address" and (
                NO_NEW_ADDRESS_BEFORE.search(norm[max(0, match.start - 16) : match.start])
                or NO_NEW_ADDRESS_AFTER.match(norm[match.end :])
            ):
                # "ich bin ab morgen nicht mehr an der alten adresse": the old address is where the
                # customer will not be, neither a request nor a refusal; "mail adresim" is an email.
                continue
            # A problem is told, not asked: "je ne l'ai pas reçu", "siparis hala gelmedi" (still not
            # come) name it under their own negation.
            if match.label in (*PROBLEM_INTENTS, *PARCEL_NEWS) or not _negated(norm, match.start, match.end, language):
                named[match.label] = named.get(match.label, 0.0) + match.weight
            elif not _conditional(norm, match.start, language):
                refused.add(match.label)
        for money in MONEY_WORDS.finditer(norm):
            if _negated(norm, money.start(), money.end(), language) and not _conditional(norm, money.start(), language):
                refused.add("refund_request")
    return named, frozenset(refused)


REMEDY_OF = {"refund_request": "refund", "reship_request": "replacement", "exchange_request": "replacement"}


def wanted_remedy(named: dict[str, float], refused_requests: frozenset[str]) -> tuple[str | None, frozenset[str]]:
    """ "refund" or "replacement" when the customer names the remedy they want, and the remedies
    they refuse ("I don't want my money back"). A refused remedy is no vote for the other one:
    "if you don't return my money I'll sue" asks for no replacement."""
    votes = {"refund": 0.0, "replacement": 0.0}
    for label, weight in named.items():
        if label in REMEDY_OF:
            votes[REMEDY_OF[label]] += weight
    refund, replacement = votes["refund"], votes["replacement"]
    remedy = "refund" if refund > replacement else "replacement" if replacement > refund else None
    return remedy, frozenset({REMEDY_OF[r] for r in refused_requests if r in REMEDY_OF} - {remedy})


def named_besides(deps: AgentDeps, text: str, language: str, refused: frozenset[str]) -> str | None:
    """The order request the message's keywords name besides the ones it takes back, the strongest."""
    scores = deps.classifier.keyword_scores(text, language)
    others = {i: w for i, w in scores.items() if i in ORDER_INTENTS and i not in refused}
    return max(others, key=others.__getitem__) if others else None


# Requests that ask for a write of their own: named in a question, they replace the offer waiting.


def asks_while_waiting(
    pending: PendingAction | None,
    text: str,
    intent: str,
    signals: Signals,
    named: dict[str, float],
    slots: dict[str, Any],
    queued: str | None = None,
) -> bool:
    """Whether a question sent while an action waits for its yes is about that action (how long,
    how much, when the money comes) rather than a new request. A coupon offer is left out: "when
    will it arrive?" after the coupon for a late parcel is a tracking question."""
    if pending is None or pending["tool"] == "issue_coupon" or not is_question(text) or signals.affirmation:
        return False
    same = same_requests(pending)
    if intent in same or intent in QUESTIONS_WHILE_WAITING or slots["address"] or signals.wants_human or signals.legal_threat:
        return False
    # ("how much extra is express again?" while the address change waits and express is queued
    # after it: a question about what is already asked for.)
    return not any(
        w >= OTHER_REQUEST_MIN_WEIGHT for i, w in named.items() if i in WRITE_REQUESTS and i not in same and i != queued
    )


def request_read_besides(deps: AgentDeps, text: str, language: str, refused: frozenset[str]) -> str | None:
    """The order request the classifier reads in the message, or else in its last sentences, other
    than the ones taken back ("nie anuluj. … mozna wyslac ekspresem zamiast anulowac?")."""
    sentences = sentences_of(text)
    for candidate in (text, *reversed(sentences[1:])):
        read = deps.classifier.classify(candidate, language).intent
        if read in ORDER_INTENTS and read not in refused:
            return read
    return None


def continues_goal(
    state: ConversationState, text: str, intent: str, confidence: float, slots: dict[str, Any], pure_details: bool
) -> bool:
    """Whether a message continues the conversation's order goal rather than starting another:
    details only ("order 1474"), or the answer to the question we asked ("the blue one")."""
    vague = intent in ("other", "greeting")
    if pure_details or (vague and slots["order_ids"]):
        return True
    if intent in QUESTIONS_WHILE_WAITING and is_question(text):
        # "Meanwhile, do you ship to Belgium?" while we wait for the order number: a question of its own.
        return False
    if (
        state.get("asked") in VARIANT_QUESTIONS
        and intent in PROBLEMS
        and names_a_variant([text], str(state.get("language") or "en"))
    ):
        # "Coffee Grinder 제품은 M에서 L로요" to "which one instead?": the size answers the question,
        # however sure a read of a wrong item is.
        return True
    return bool(state.get("asked")) and (vague or confidence < GOAL_SWITCH_CONFIDENCE)


# A request spelled out in words of this weight (a phrase of two words or more) outweighs a read
# of a question that no word of the message asks.
WORDED_REQUEST_WEIGHT = 2.0
# Questions about where the parcel is and why it is late.
PARCEL_NEWS = ("delivery_delay", "track_order")
# Below this, a read of a question (where is it, what are the rules) gives way to a request named.
QUESTION_READ_GIVES_WAY = 0.65


def _word_confidence(weight: float) -> float:
    """How sure a read that rests on the message's keywords is, from their summed weight."""
    return weight / (weight + 1.0)


def already_done(state: ConversationState, request: str) -> bool:
    """Whether a write answering this request was done in the conversation."""
    done = tools_done(state)
    return any(asked == request and tool in done for tool, asked in OWN_REQUEST.items())


def reread(
    deps: AgentDeps,
    state: ConversationState,
    text: str,
    language: str,
    guess: IntentGuess,
    named: dict[str, float],
    signals: Signals,
) -> tuple[str, float, str | None]:
    """The classifier's read of the message (intent, confidence, runner-up), corrected where it
    is unsure or reads nothing and the message's words or its last sentence say more."""
    intent, confidence, second = guess.intent, guess.confidence, guess.runner_up
    if (
        signals.closing
        and intent in ("complaint", "human_agent")
        and not set(named) - {"greeting"}
        and not (signals.angry or signals.legal_threat or signals.wants_human)
    ):
        # "تمام ميرسي كتير" (fine, thanks a lot) read as a complaint: thanks take leave.
        return "greeting", 1.0 - confidence, intent
    if (
        (confidence < UNSURE_READ or says_unchanged(text, language))
        and intent in (*WRITE_REQUESTS, "complaint")
        and not set(named) - {"greeting"}
        and (signals.affirmation or signals.closing or says_goodbye(text))
        and not (signals.angry or signals.legal_threat or signals.wants_human)
    ):
        # "ok allora ci penso un attimo e casomai vi riscrivo, grazie ciao", "yeah ok that's fine,
        # i'll take it": an answer or a goodbye that no word of a request goes with, read unsure
        # or saying nothing changes ("sì sì nessuna modifica, grazie ciao").
        return "other", 1.0 - confidence, intent
    spoken = {i: w for i, w in named.items() if i not in ("greeting", "human_agent")}
    if intent == "human_agent" and not signals.wants_human and spoken and max(spoken.values()) >= OTHER_REQUEST_MIN_WEIGHT:
        # "طب هو فين دلوقتي؟ وهيوصل امتى بالظبط" (so where is it now? when exactly will it come?) read
        # as a call for a person: no word asks for one, the words ask where the parcel is.
        best = max(spoken, key=spoken.__getitem__)
        return best, 1.0 - confidence, intent
    asked = {i: w for i, w in named.items() if i in WRITE_REQUESTS}
    problems = {p: named.get(p, 0.0) for p in PROBLEMS}
    if intent == "refund_request" and named.get("return_request", 0.0) >= OTHER_REQUEST_MIN_WEIGHT and named.get(intent):
        # "I'd rather send it back and get my money back": the money follows the returned parcel.
        return "return_request", max(confidence, _word_confidence(named["return_request"])), intent
    if confidence < UNSURE_READ and asked and intent not in asked and not COMPENSATION_WORDS.search(normalise(text)):
        # (A gesture asked for, "some compensation for the delay", is settled by the caller.)
        # "а, и ещё хочу вернуть …, не понравился": read unsure as a complaint, the words ask
        # for a return; the request the words name outweighs a guess.
        top = max(asked, key=asked.__getitem__)
        if asked[top] >= OTHER_REQUEST_MIN_WEIGHT:
            return top, _word_confidence(asked[top]), intent
    elif (
        not named.get(intent)
        and asked
        and (
            (intent in ("track_order", "policy_question", "wrong_item") and max(asked.values()) >= WORDED_REQUEST_WEIGHT)
            # "Ceramic Vase è di una qualità pessima, sembra carta. ve lo rimando indietro": a grievance
            # that spells out what it wants done is that request.
            or (
                intent == "complaint"
                and not (signals.angry or signals.wants_human or signals.legal_threat)
                and max(asked.values()) >= WORDED_REQUEST_WEIGHT
            )
            # "o Mug eu quero devolver … e o T-Shirt ficou pequeno, queria trocar": a problem read
            # unsure, no word of it said, and two requests spelled out.
            or (
                intent in PROBLEMS
                and confidence < GOAL_SWITCH_CONFIDENCE
                and len([w for w in asked.values() if w >= OTHER_REQUEST_MIN_WEIGHT]) >= 2
            )
            # "혹시 특급배송으로 바꿀수 있나요?" read at 0.58 as a tracking question: a request its
            # words name outweighs an unsure read of a question.
            or (
                intent in ("track_order", "policy_question", "not_received")
                and confidence < QUESTION_READ_GIVES_WAY
                and max(asked.values()) >= OTHER_REQUEST_MIN_WEIGHT
            )
            # "能拦截退回吗" read as a replacement no word asks for, or a message of two requests read
            # as nothing known: the words say what is asked.
            or (
                intent in (*WRITE_REQUESTS, "other")
                and max(asked.values()) >= OTHER_REQUEST_MIN_WEIGHT
                # ("envoyez-moi le bon et je vous renvoie celui-là": two requests that go together,
                # unless the one read is done already: "ok, dann bitte die Rücksendung auch gleich
                # anmelden" after the right one was sent.)
                and (frozenset({intent, max(asked, key=asked.__getitem__)}) not in TOGETHER or already_done(state, intent))
            )
        )
        and not COMPENSATION_WORDS.search(normalise(text))
    ):
        # "kan het pakket daarheen ipv naar mijn huis? en liefst met spoed", read as a tracking
        # question no word of it asks, or "I'd like to return it, the colour is not as in the
        # photo" read as a wrong item: the request its words spell out is the one made.
        top = max(asked, key=asked.__getitem__)
        if top == "refund_request" and asked.get("return_request", 0.0) >= OTHER_REQUEST_MIN_WEIGHT:
            top = "return_request"  # "zurückgeben und das Geld zurück": the money follows the return
        return top, _word_confidence(asked[top]), intent
    elif (
        confidence < SHORT_UNSURE_READ
        and intent in WRITE_REQUESTS
        and request_units(text) <= SHORT_UNSURE_UNITS
        # ("재발송 말고 그냥 환불해주세요": the words name the refund.)
        and not named.get(intent)
    ):
        # "vale, pues espero. gracias" read at 0.5 as a refund: a few words that name no request ask for none.
        return "other", 1.0 - confidence, intent
    elif (intent == "other" or (confidence < UNSURE_READ and not named.get(intent))) and max(
        problems.values()
    ) >= OTHER_REQUEST_MIN_WEIGHT:
        # "وصلني الطلب بس الـ Desk Lamp مكسور" read as nothing known: the word for broken says what.
        problem = max(problems, key=problems.__getitem__)
        return problem, _word_confidence(problems[problem]), intent
    elif (
        intent == "other"
        or (intent in PROBLEMS and not named.get(intent) and confidence < GOAL_SWITCH_CONFIDENCE)
        # "Dit is echt belachelijk. Bestelling … had er al lang moeten zijn": the grievance is the late
        # parcel, answered with its news and an apology before anyone else is called.
        or (intent == "complaint" and not (signals.wants_human or signals.legal_threat) and not named.get(intent))
    ) and max(named.get(i, 0.0) for i in PARCEL_NEWS) >= OTHER_REQUEST_MIN_WEIGHT:
        # "الكوليّة ديالي تعطلات بزاف" (my parcel is very late) read as nothing known, "لسه موصلش"
        # (still not here) read unsure as a wrong item: the word for late says what.
        told = max(PARCEL_NEWS, key=lambda i: named.get(i, 0.0))
        return told, _word_confidence(named[told]), intent
    elif (
        intent in ("human_agent", "complaint")
        and not (signals.wants_human or signals.legal_threat or signals.angry)
        and (
            (confidence < UNSURE_READ and request_units(text) <= SHORT_UNSURE_UNITS)
            # ("그럼 제가 따로 해야 될 건 없는 거죠?": so there is nothing I need to do, right?)
            or (confidence < GOAL_SWITCH_CONFIDENCE and is_question(text) and bool(OBLIGATION.search(normalise(text))))
        )
    ):
        # "a który to kurier?" after the tracking answer, read unsure as a wish for a person:
        # a short question goes on with what was asked before.
        informational = state.get("intent") in ("track_order", "delivery_delay", "policy_question")
        return (str(state["intent"]) if informational else "other"), 1.0 - confidence, intent
    elif (
        confidence < UNSURE_READ
        and not named.get(intent)
        and len(worded := [x for x in sentences_of(text) if request_units(x) >= 2]) >= 2
    ):
        # "If you give me a coupon: no thanks. I only want to know when it comes": the whole
        # read unsure, the last sentence says what is wanted when it reads clearly (a sentence
        # of only an email or an order number says nothing).
        last = deps.classifier.classify(worded[-1], language)
        # "…on customs for 4 days. это нормально вообще?" (is that normal?): a closing question about
        # what the message told is no complaint of its own, unless the words are angry.
        grievance = last.intent in ("complaint", "human_agent") and not (signals.angry or signals.wants_human)
        if last.confidence >= GOAL_SWITCH_CONFIDENCE and last.intent != "other" and not grievance:
            return last.intent, last.confidence, intent
    return intent, confidence, second


# An "ok" that opens thanks (normalised), not a "yes": "ok thanks", "okay cheers", "alright ty".
JUST_OK = re.compile(r"(?:ok(?:ay|ey)?|k+|alright|all\s+right|cool|fine|righto)(?![^\W\d_])")


def understand(deps: AgentDeps, state: ConversationState) -> dict[str, Any]:
    text = state.get("message", "")
    known = state.get("language_known", bool(state.get("language")))
    detected = detect_language(text, state.get("language") if known else None)
    language = detected.language
    unsure = detected.method == "default" or (detected.method == "model" and detected.confidence < UNSURE_FIRST_CONFIDENCE)
    if not known and unsure and state.get("locale"):
        # Only an email, or a word or two: the page's language until the customer's words tell.
        language = str(state["locale"])
    slots = read_slots(text, language)
    if state.get("asked") == "ask_address" and not slots["address"]:
        # The answer to our question for the new address, written without "my new address is".
        slots["address"] = address_answer(text)
    around = text.replace(slots["address"], " ") if slots["address"] else text
    if (
        state.get("language")
        and language != state["language"]
        and (request_units(text, details(slots)) <= 1 or (slots["address"] and request_units(around, details(slots)) <= 2))
        and (known or state.get("locale") or any(request_units(t["text"]) > 1 for t in state.get("transcript", [])))
    ):
        # Only a name, an email or a number ("Александр Попов, Z00T0A1"), or an address with a word
        # or two ("new address: 1847 Maple Ave, …, IL 60201"): the conversation keeps its language,
        # once a message or the page told it.
        language = state["language"]
        slots = read_slots(text, language)
    if not slots["names"] and not state.get("customer_id") and state.get("deferred_intent"):
        # Asked who they are, the customer sends their name alone ("David Williams"); the postal
        # code may follow in the next message.
        alone = lone_name(text)
        if alone:
            slots["names"] = [alone]
    signals = read_signals(text, language)
    no_person = False
    if signals.wants_human and refuses_a_person(text, language):
        # "нет, оператора не надо, просто скажите сроки", "상담원 연결은 괜찮아요": no person wanted.
        signals = dataclasses.replace(signals, wants_human=False)
        no_person = True
    if signals.affirmation is None and not signals.closing:
        # "oui merci" in an English conversation: the reply stays English, the answer still counts.
        own = detect_language(text).language
        if own != language:
            other = read_signals(text, own)
            signals = dataclasses.replace(signals, affirmation=other.affirmation, closing=other.closing)
    updates: dict[str, Any] = {
        **fresh_turn(),
        "turn": state.get("turn", 0) + 1,
        "language": language,
        # A first message of only an email or a number says nothing of the language: the next one decides.
        "language_known": known or not unsure,
        "signals": dataclasses.asdict(signals),
        "slots": slots,
        "transcript": [*state.get("transcript", []), {"text": text, "language": language}],
        "actions_log": state.get("actions_log", []),
        "cited": state.get("cited", []),
        "last_offer": state.get("pending"),
    }
    pending = state.get("pending")
    if (
        pending
        and pending["tool"] == "issue_coupon"
        and signals.affirmation == "yes"
        and signals.closing
        and (
            JUST_OK.match(normalise(text))
            or (
                not says_plain_yes(text, language)
                # (A coupon the customer asked for is taken with any yes: "ок, согласна, спасибо".)
                and not any(COMPENSATION_WORDS.search(normalise(str(t.get("text", "")))) for t in state.get("transcript", []))
            )
        )
        and not COMPENSATION_WORDS.search(normalise(text))
    ):
        # "ok thanks" to news of a late parcel that closes with a coupon on offer, "va bene, grazie
        # delle info": thanks for the news, no yes to a gesture the customer never asked for.
        signals = dataclasses.replace(signals, affirmation=None)
        updates["signals"] = dataclasses.asdict(signals)
    if (
        pending
        and pending["tool"] == "issue_coupon"
        and signals.affirmation == "yes"
        and is_question(text)
        and not says_plain_yes(text, language)
        and not COMPENSATION_WORDS.search(normalise(text))
        and not any(COMPENSATION_WORDS.search(normalise(str(t.get("text", "")))) for t in state.get("transcript", []))
    ):
        # "Ah grand so it's still moving at least. Any idea when it'll actually land?" while a coupon
        # nobody asked for is offered: the customer takes in the news and asks on; no yes to the gesture.
        signals = dataclasses.replace(signals, affirmation=None)
        updates["signals"] = dataclasses.asdict(signals)
    if (
        pending
        and pending["tool"] != "issue_coupon"
        # (Only a proposal the customer's own words asked for: "legend, thanks" takes no faster
        # carrier that nobody named.)
        and signals.affirmation is None
        and signals.closing
        and asked_in_words(deps, state, pending)
        and not (signals.angry or signals.wants_human)
        and not is_question(text)
        and not says_goodbye(text)
        and "no" not in answer_words(text, language)
        and not says_not(normalise(text), language)
    ):
        # "merci!", "danke euch", "valeu" to "shall I send it again?" after "ja stuur maar opnieuw":
        # thanks for what was asked and is now proposed take it. (A gesture nobody asked for is taken only when answered, above.)
        signals = dataclasses.replace(signals, affirmation="yes")
        updates["signals"] = dataclasses.asdict(signals)
    if (
        pending
        and signals.affirmation is None
        and len(pending["arguments"].get("item_ids") or []) == 1
        and only_that_one(text, language)
    ):
        # "Just that one, I'm keeping the rest" while the return of that one item waits: a yes.
        signals = dataclasses.replace(signals, affirmation="yes")
        updates["signals"] = dataclasses.asdict(signals)
    if (
        pending
        and pending["tool"] == "issue_coupon"
        # "algo me podríais compensar, no?": a question's tag is no refusal.
        and (signals.affirmation is None or (signals.affirmation == "no" and is_question(text)))
        and COMPENSATION_WORDS.search(normalise(text))
        and not mentions_declined_coupon(deps, text, language)
    ):
        said = normalise(statements_of(text))
        if (
            signals.affirmation is None
            and COMPENSATION_WORDS.search(said)
            # ("pas besoin de geste commercial, je veux juste savoir quand": no gesture wanted.)
            and not says_not(said, language)
            and "no" not in answer_words(text, language)
        ):
            # "쿠폰이라도 주시면 받을게요" (if you give me a coupon, I'll take it), "a small voucher would
            # be nice" while one is offered: said, not asked, it takes the offer.
            signals = dataclasses.replace(signals, affirmation="yes")
            updates["signals"] = dataclasses.asdict(signals)
        else:
            # "Can I at least get something for the wait?" while a coupon waits for a yes: the offer again.
            percent = pending["arguments"].get("percent_off", 10)
            updates.update(intent=pending["intent"], intent_confidence=1.0, pending=pending, status="awaiting_confirmation")
            updates["reply_parts"] = [("offer_coupon", {"discount": f"{percent}%"})]
            return updates
    if (
        pending
        and pending["tool"] == "issue_coupon"
        and signals.affirmation == "yes"
        and mentions_declined_coupon(deps, text, language)
    ):
        # "vale. lo del descuento no me interesa, solo quiero el paquete": the ok is not for the coupon.
        signals = dataclasses.replace(signals, affirmation="no")
        updates["signals"] = dataclasses.asdict(signals)
    if (
        pending
        and pending["tool"] == "issue_coupon"
        and signals.affirmation == "yes"
        and (beyond_answer(text, language) >= NO_AND_MORE_UNITS or THANKS_FOR_EXPLAINING.search(normalise(text)))
        and not COMPENSATION_WORDS.search(normalise(text))
        and not is_question(text)
    ):
        # "ok I'll keep an eye on my emails then, thanks for explaining" while a coupon is offered:
        # the ok is for the explanation; a gesture nobody asked for is taken only when answered.
        signals = dataclasses.replace(signals, affirmation=None, closing=True)
        updates["signals"] = dataclasses.asdict(signals)
        updates.update(pending=None, status="open", declined=[*state.get("declined", []), pending["tool"]])
        pending = None
    if pending and signals.affirmation == "yes" and says_goodbye(text) and not confirms_then_leaves(text, language):
        # "ok, bye" leaves; it does not accept the offer.
        signals = dataclasses.replace(signals, affirmation=None, closing=True)
        updates["signals"] = dataclasses.asdict(signals)
        updates.update(pending=None, status="open", declined=[*state.get("declined", []), pending["tool"]])
        pending = None
    # The requests the message's words name and refuse, read once for the answer's checks and the goal.
    named_requests, taken_back = read_requests(deps, text, language)
    offer = state.get("last_offer")
    # ("sì, fatelo tornare indietro. poi il rimborso come funziona?": a question names no request.)
    asked_again = named_requests
    if offer and not pending and signals.affirmation == "yes" and is_question(text) and statements_of(text).strip():
        asked_again = read_requests(deps, statements_of(text), language)[0]
    if not pending and offer and signals.affirmation == "yes" and asks_again_for(state, offer, asked_again, taken_back):
        # "yes pls resend it" after "no safe place or anything" let the new parcel offered go: the
        # same proposal, asked for again with a yes, is taken.
        pending = offer
        updates.update(pending=offer, declined=[t for t in state.get("declined", []) if t != offer["tool"]])
    if pending and signals.affirmation == "yes" and taken_back & same_requests(pending):
        # "ok, I'll do that: don't call anything back or cancel it": the yes goes with a refusal of
        # the proposal itself.
        signals = dataclasses.replace(signals, affirmation="no")
        updates["signals"] = dataclasses.asdict(signals)
    if pending and signals.affirmation == "yes" and signals.wants_human:
        # "Dobrze, czekam na kontakt" (all right, I'll wait to be contacted): a person is wanted, the
        # offer is not taken.
        signals = dataclasses.replace(signals, affirmation=None)
        updates["signals"] = dataclasses.asdict(signals)
    # The request keywords of the whole message, found once for the two answer checks below.
    request_words = deps.classifier.keyword_matches(text, language) if pending else []
    if pending and signals.affirmation == "no" and not (taken_back & same_requests(pending)):
        # "ok, can you make it come back? I don't want to receive it" while the recall waits: the
        # no belongs to the words that ask for the proposal itself.
        same = same_requests(pending)
        spans = [m for m in request_words if m.label in same]
        if spans and "no" not in (rest := answer_words(without_matches(text, spans), language)):
            signals = dataclasses.replace(signals, affirmation="yes" if "yes" in rest else None)
            updates["signals"] = dataclasses.asdict(signals)
    # ("止められるなら止めてください。お願いします。返金はいつ頃？": the questions wait for their answer.)
    said = statements_of(text) if is_question(text) else text
    said_words = request_words if said == text else deps.classifier.keyword_matches(said, language)
    if (
        pending
        # (A gesture is asked for in words of its own: "pq o rastreio ta parado faz dias", the
        # tracking has stood still for days, names the late parcel the coupon makes up for.)
        and pending["tool"] != "issue_coupon"
        and signals.affirmation is None
        and said
        # ("que vous m'envoyiez le bon": a yes word inside the words of a request says no yes.)
        and answer_words(without_matches(said, said_words), language) == {"yes"}
    ):
        # "If you can just send it again that'd be brilliant, yes please", "おっけー じゃあ返品で進めて
        # ください": the yes stands late, and the words ask for what is proposed.
        said_named, said_back = (named_requests, taken_back) if said == text else read_requests(deps, said, language)
        same = same_requests(pending)
        if any(said_named.get(i) for i in same) and not (said_back & same):
            signals = dataclasses.replace(signals, affirmation="yes")
            updates["signals"] = dataclasses.asdict(signals)
    if (
        pending
        and signals.affirmation == "yes"
        and not (state.get("queued") and says_both(text, language))
        and names_another_request(deps, text, language, pending)
    ):
        # ("ja allebei graag, ook als express wat extra kost" agrees to both the offer and the one queued.)
        # "yes, change the address" while a cancellation waits: the customer asks for something else.
        signals = dataclasses.replace(signals, affirmation=None)
        updates["signals"] = dataclasses.asdict(signals)
        updates.update(pending=None, status="open", declined=[*state.get("declined", []), pending["tool"]])
        pending = None
    if (
        pending
        and signals.affirmation == "no"
        and not taken_back & same_requests(pending)
        and (
            pending.get("tool") == "cancel_order"
            or (taken_back and any(named_requests.get(i) for i in same_requests(pending)))
            # "ja genau, L bitte. NICHT stornieren!!" while the size change waits: the no is for
            # the cancellation asked before.
            or (taken_back and OWN_REQUEST.get(pending["tool"]) not in taken_back)
        )
        and opens_with_yes(text, language)
    ):
        # "evet iptal et", "yes cancel it": the verb repeats the proposal, it does not refuse it.
        # "はい、そのサイズ変更で。キャンセルはしないでください": the no refuses another request.
        # ("dobra to nie anulujcie" — all right, then don't cancel — refuses the proposal itself.)
        signals = dataclasses.replace(signals, affirmation="yes")
        updates["signals"] = dataclasses.asdict(signals)
    if pending and signals.affirmation == "no" and keeps_others_names_proposed(deps, pending, text, language, slots):
        # "yok diğer ürün kalsın aynen, sadece Leather Sneakers" (no, the other item stays as it is,
        # only the sneakers) while the sneakers' change waits: the no leaves the rest alone.
        updates.update(intent=pending["intent"], intent_confidence=1.0, pending=None, status="open")
        return {**updates, "problem": state.get("problem"), "remedy": state.get("remedy")}
    if pending and signals.affirmation == "no" and leaves_alone_only_others(deps, pending, text, language):
        # "non non le Pet Bed on n'y touche pas, juste le deuxième" while the jacket's change waits:
        # the no is for an item the proposal leaves as it is; the proposal stands, made again.
        updates.update(intent=pending["intent"], intent_confidence=1.0, pending=None, status="open")
        return {**updates, "problem": state.get("problem"), "remedy": state.get("remedy")}
    tail = after_change_of_mind(text)
    if tail:
        # "Refund me please… no, actually send me the right one": the last word counts.
        later, later_back = read_requests(deps, tail, language)
        if not any(label in REMEDY_OF for label in later) and len(tail.split()) >= 2:
            read = deps.classifier.classify(tail, language)
            if read.intent in REMEDY_OF and read.intent not in later_back and read.confidence >= UNSURE_READ:
                later = {**later, read.intent: 1.0}
        if any(label in REMEDY_OF for label in (*later, *later_back)):
            named_requests, taken_back = later, later_back
    remedy, refused = wanted_remedy(named_requests, taken_back)
    offered = {"issue_refund": "refund", "create_reshipment": "replacement"}.get(str(pending["tool"])) if pending else None
    if pending and signals.affirmation == "no" and refused and offered and offered not in refused:
        # "I don't want my money back, just send the right one" while a new parcel is offered: the
        # no refuses the other remedy, not the offer; "no, non me lo rimandate, rivoglio i soldi.
        # sulla carta va benissimo" while the money is offered says yes to it.
        agrees = remedy == offered and "yes" in answer_words(text, language)
        signals = dataclasses.replace(signals, affirmation="yes" if agrees else None)
        updates["signals"] = dataclasses.asdict(signals)
    if (
        pending
        and signals.affirmation == "no"
        and taken_back
        and not {pending["intent"], OWN_REQUEST.get(pending["tool"])} & taken_back
        and any(named_requests.get(i) and i not in taken_back for i in same_requests(pending))
    ):
        # "yok değişim istemiyorum, direkt iade olsun" (no, I don't want an exchange, a return
        # straight away) while the return waits: the no refuses another request; the one asked
        # for is the proposal.
        signals = dataclasses.replace(signals, affirmation="yes")
        updates["signals"] = dataclasses.asdict(signals)
    if pending and (pending["intent"] in taken_back or (pending["tool"] == "return_items" and "return_request" in taken_back)):
        # "やっぱりキャンセルしないでおきます", "actually don't cancel it": the proposal itself is refused;
        # a request named besides ("…, can you send it express instead?") is the new one.
        new = named_besides(deps, text, language, taken_back)
        if new is None:
            new = request_read_besides(deps, text, language, taken_back)
        if (
            new in ("modify_order", "exchange_request")
            and slots["address"]
            and not slots["item_hints"]
            and not names_a_variant([text], language)
        ):
            # "iptal etmeyin … Bağdat Cad. … olarak değiştirebilir misiniz": the address changes.
            new = "change_address"
        if new is not None:
            updates.update(
                pending=None,
                status="open",
                declined=[*state.get("declined", []), pending["tool"]],
                intent=new,
                intent_confidence=1.0,
            )
            signals = dataclasses.replace(signals, affirmation=None)
            updates["signals"] = dataclasses.asdict(signals)
            return {**updates, "problem": state.get("problem"), "remedy": state.get("remedy")}
        if signals.affirmation is None:
            signals = dataclasses.replace(signals, affirmation="no")
            updates["signals"] = dataclasses.asdict(signals)
    # "No, I want my money back": the no refuses the proposal, the rest is a request of its own.
    # "不用补发了，直接退款吧" (no resend, just refund) is short and still names the other remedy.
    other_remedy = remedy is not None and offered is not None and remedy != offered
    no_and_more = (
        bool(pending)
        and signals.affirmation == "no"
        and (beyond_answer(text, language) >= NO_AND_MORE_UNITS or other_remedy)
        # "if I have to pay the postage myself, never mind": a closing no answers; the rest is its reason.
        and (other_remedy or not closes_with_no(text, language))
    )
    if pending and signals.affirmation in ("yes", "no") and not no_and_more:
        updates["intent"] = pending["intent"]
        updates["intent_confidence"] = 1.0
        if signals.affirmation == "yes":
            updates["confirming"] = True
            updates["both"] = bool(state.get("queued")) and says_both(text, language)
            asked = without_rule_questions(text)
            named_beside = named_requests if asked == text.strip() else read_requests(deps, asked, language)[0]
            if pending["tool"] == "issue_refund" and not ITEM_BACK.search(normalise(text)):
                # "ok 可以，退回我的卡就好" (yes, back to my card): words of giving back that say the money.
                named_beside = {i: w for i, w in named_beside.items() if i != "return_request"}
            then = request_after_yes(deps, text, language, pending) or partner_named(
                pending, named_beside, taken_back, lambda candidate, same: bare_change(text, language, slots, candidate, same)
            )
            if updates["both"]:
                # "sí, las dos cosas. El reembolso del Mug va a la misma tarjeta no?": both are the
                # offer and the request queued; the money asked about is the return's.
                then = None
            if then is not None:
                # "Yes, change it. And can it go express?": the yes is done first, then the next
                # request is taken up in the same turn.
                updates["then_intent"] = then
                if then == "return_request" and pending["tool"] == "create_reshipment" and named_beside.get(then):
                    # "ارسلوا الصح وسجلوا الارجاع" (send the right one and register the return): the
                    # yes asks for both.
                    updates["both"] = True
                if slots["address"]:
                    updates["address"] = slots["address"]
        else:
            updates["pending"] = None
            updates["status"] = "open"
            updates["declined"] = [*state.get("declined", []), pending["tool"]]
            if not (signals.legal_threat or signals.wants_human):
                # "No coupon. Sort this today or I do a chargeback": the refusal goes on to a person.
                updates["reply_parts"] = [("cancelled_by_customer", {}), ("anything_else", {})]
        return updates
    # "No, keep the backpack, only return the vase": the same request named again, not refused, is
    # a correction of the proposal; it is proposed again as now said.
    # "Both… no, actually only the backpack" changes its mind without opening on a no.
    correction = (
        pending is not None
        and pending["tool"] in ITEM_TOOLS
        and (no_and_more or (tail is not None and signals.affirmation is None))
        and pending["intent"] in named_requests
        and pending["intent"] not in taken_back
        and named_requests[pending["intent"]] >= max(named_requests.values())
    )
    if pending and no_and_more and not correction:
        updates["declined"] = [*state.get("declined", []), pending["tool"]]
    by_brain = deps.brain.classify(text, language, state)
    second: str | None = None
    offline = True  # the embedded classifier read the message (not the model)
    if by_brain is not None and by_brain.get("intent"):
        offline = False
        intent, confidence = str(by_brain["intent"]), 1.0
        updates["model_urgency"] = by_brain.get("urgency")
        updates.update(add_usage({**state, "usage": {}}, by_brain.get("usage") or {}))
    else:
        guess = deps.classifier.classify(text, language)
        intent, confidence, second = reread(deps, state, text, language, guess, named_requests, signals)
    # (The postal code of a new address — "send it to my parents: …, Concord, NH 03301" — proves nothing.)
    own_codes = [code for code in slots["postal_codes"] if not (slots["address"] and code in slots["address"])]
    gives_identity = bool(slots["emails"] or slots["names"] or own_codes or slots["order_ids"] or slots["order_candidates"])
    # A message that mostly carries identity details ("order #1474, email …") continues the goal
    # the customer stated before; only a request of its own, read with confidence, replaces it.
    # "I don't want it sent again, I'd rather have my money back" to a replacement offered for a
    # broken item: the other remedy, unless that one is refused too.
    alternative = {"replacement": "refund", "refund": "replacement"}.get(offered or "")
    if no_and_more and offered in refused and alternative and alternative not in refused and state.get("problem"):
        intent, confidence = ("refund_request" if alternative == "refund" else "reship_request"), 1.0
        remedy = alternative
    elif correction and pending:
        intent, confidence = pending["intent"], 1.0
    elif no_and_more and pending and intent == pending["intent"]:
        # "No, don't cancel it. Can you send it to my office?": the refused request is not the new one.
        runner_up = second if offline else deps.classifier.classify(text, language).runner_up
        intent = runner_up if runner_up and runner_up != pending["intent"] else "other"
    elif (
        pending
        and signals.affirmation is None
        and frozenset({intent, pending["intent"]}) in TOGETHER
        and any(named_requests.get(i) for i in same_requests(pending) - taken_back)
    ):
        # "Send me the right one and I'll send this one back" while the new parcel waits for its
        # yes: the offer stands and the other request comes after it.
        intent, confidence = pending["intent"], 1.0
    if mentions_declined_coupon(deps, text, language):
        updates["declined"] = [*updates.get("declined", state.get("declined", [])), "issue_coupon"]
    pure_details = gives_identity and request_units(text, details(slots)) <= DETAILS_ONLY_UNITS
    goal = state.get("deferred_intent")
    if goal and not pending and goal in taken_back:
        # "No wait, don't cancel it, can it go express?" before identity: the new request replaces
        # the one taken back; a refusal with nothing else keeps the goal to be asked about.
        new = named_besides(deps, text, language, taken_back)
        if new is not None:
            goal, intent, confidence = None, new, 1.0
            updates["deferred_intent"] = None
    if intent in taken_back and intent in ORDER_INTENTS and not pending:
        # "Not the whole order cancelled! Only swap that one thing": what is refused is not the request.
        besides = named_besides(deps, text, language, taken_back)
        intent = besides or request_read_besides(deps, text, language, taken_back) or "other"
    elif intent in taken_back and pending and intent != pending["intent"] and signals.affirmation is None:
        # "пришлите M, а этот оставлю, возвращать не буду" while the right size waits for its yes: the
        # return refused is no request; the offer stands.
        intent, confidence = pending["intent"], 1.0
    unwanted = {"refund": "refund_request", "replacement": "reship_request"}
    if remedy is None and any(intent == unwanted[r] for r in refused):
        # "I don't want my money back, just send the right one" is no refund request: the problem
        # (or the offer waiting) is still what to settle.
        intent = (pending["intent"] if pending else None) or state.get("problem") or state.get("intent") or "other"
        intent = "other" if intent == unwanted[next(iter(refused))] else intent
    if (
        pending
        and offered
        and remedy == offered
        and signals.affirmation is None
        and (intent in ("other", "greeting") or confidence < GOAL_SWITCH_CONFIDENCE)
    ):
        # "환불말고 다시 보내주세요" (not a refund, send it again) while a new parcel is offered: the
        # offer, asked for again, is proposed again.
        intent, confidence = pending["intent"], 1.0
    if (
        pending
        and signals.affirmation is None
        and not named_requests
        # ("Na toll. Und jetzt? Das war ein Geburtstagsgeschenk 😤" while a coupon waits: nothing asked.)
        and (confidence < UNSURE_READ or intent == "other")
        and not (signals.wants_human or signals.legal_threat or signals.closing or gives_identity or slots["address"])
    ):
        # "ja perguntei pro porteiro e pros vizinhos, nada" while a new parcel waits for its yes: more
        # of the story, read unsure and asking for nothing else; the offer stands.
        intent, confidence = pending["intent"], 1.0
    if no_and_more and (intent in ("other", "greeting") or confidence < GOAL_SWITCH_CONFIDENCE):
        # "No, send it to my office: Calle …", "no, just refund me": the address or the remedy says what.
        if slots["address"]:
            intent, confidence = "change_address", 1.0
        elif remedy == "replacement" and named_requests.get("exchange_request", 0.0) >= named_requests.get("reship_request", 0.0):
            # "warte mal… eigentlich, kann man beim Pet Bed statt M einfach L nehmen?" while the
            # cancellation waits: another size, not the same item sent again.
            intent, confidence = "exchange_request", 1.0
        elif remedy:
            intent, confidence = ("refund_request" if remedy == "refund" else "reship_request"), 1.0
    if no_and_more and (intent in ("other", "greeting") or confidence < GOAL_SWITCH_CONFIDENCE):
        # Nothing clear beyond the no ("no, wait, I'll keep it"): only the refusal, unless a
        # chargeback is threatened or a person asked for ("no coupon, sort it or I call my bank").
        updates.update(pending=None, status="open", intent=state.get("intent", "other"), intent_confidence=1.0)
        if not (signals.legal_threat or signals.wants_human):
            updates["reply_parts"] = [("cancelled_by_customer", {}), ("anything_else", {})]
        return updates
    # "El pedido es el n.º 1651" reads as a tracking question; with identity details in it, it is
    # the answer to our question, and the goal stated before stays.
    weak = intent in ("other", "greeting") or (gives_identity and intent == "track_order")
    # "Sorry, wrong number, the right one is …" reads as a request of its own to the classifier;
    # with identity in it and no word of another request, it corrects the details and the goal stays.
    corrects_details = (
        gives_identity and intent not in named_requests and request_units(text, details(slots)) <= SHORT_UNSURE_UNITS
    )
    # "claro, mi pedido es … y el correo con el que compré es …": identity, and a read no word of it
    # asks for; the goal stated before stays.
    unworded = gives_identity and intent not in named_requests
    if goal and (
        weak or pure_details or corrects_details or unworded or (gives_identity and confidence < GOAL_SWITCH_CONFIDENCE)
    ):
        intent = goal
    elif (
        state.get("intent") in ORDER_INTENTS
        and not (signals.closing and signals.affirmation is None and not slots["item_hints"])
        and continues_goal(state, text, intent, confidence, slots, pure_details)
        # ("o Mug eu quero devolver … e o T-Shirt … queria trocar" to "which item?" names two
        # requests of its own: they are the goal now.)
        and len([i for i, w in named_requests.items() if i in WRITE_REQUESTS and w >= OTHER_REQUEST_MIN_WEIGHT]) < 2
    ):
        # ("thank you so much!!" after "which size?" takes leave; it answers nothing.)
        intent = state["intent"]
    elif (
        is_question(text)
        # ("а документы какие-то от меня нужны?" after a customs question: documents for customs;
        # "e se eu não pagar o que acontece?": the duties not paid.)
        and (confidence < UNSURE_READ or intent in ("invoice_request", "payment_issue"))
        and intent not in named_requests
        and state.get("intent") in FOLLOW_UP_TOPICS
        and not (signals.wants_human or signals.legal_threat)
    ):
        # "e se cobrarem taxa, vcs devolvem?" after a customs question, read unsure as a refund:
        # a question that follows one about the rules asks more about them.
        intent = state["intent"]
    elif pure_details and state.get("intent") not in (None, "other", "greeting"):
        # "name is … and postcode …" after a customs question: the identity is for that question.
        intent = state["intent"]
    elif (
        gives_identity
        and request_units(text, details(slots)) <= DETAILS_ONLY_UNITS + GREETING_UNITS
        # ("رقم الكوموند … و الإيميل …" read at 0.36 as an invoice request no word of it names.)
        and (
            intent not in (*ORDER_INTENTS, "greeting")
            or (pure_details and intent not in named_requests and confidence < UNSURE_READ)
        )
        and not (signals.wants_human or signals.legal_threat)
    ):
        # "Good evening. Order no. #1651, email …", nothing asked yet: no request to read into it.
        intent, confidence = "other", 1.0
    if (
        not pending
        and intent in QUESTIONS_WHILE_WAITING
        and is_question(text)
        and "yes" in answer_words(statements_of(text), language)
    ):
        # "sì confermo l'annullamento. il rimborso in quanto tempo arriva?": the sentence that says
        # yes to a change is the request; the question after it waits for its answer.
        stated, stated_back = read_requests(deps, statements_of(text), language)
        wanted = [i for i, w in stated.items() if i in WRITE_REQUESTS and w >= OTHER_REQUEST_MIN_WEIGHT and i not in stated_back]
        if len(wanted) == 1:
            intent, confidence = wanted[0], 1.0
    if not pending and state.get("asked") in VARIANT_QUESTIONS and not names_a_variant([text], language):
        if signals.affirmation == "no":
            # "nie, jednak nic nie zmieniajcie, zostawiam tak jak jest" to "which one instead?":
            # nothing changes, and nobody else needs to find one.
            updates.update(intent="other", intent_confidence=1.0, status="open", pending=None)
            updates["reply_parts"] = [("cancelled_by_customer", {}), ("anything_else", {})]
            return updates
        queued = state.get("queued")
        if signals.affirmation == "yes" and queued and says_both(text, language):
            # "Sim, pode avançar com as duas" to "which one instead?" with a return asked beside
            # the swap: the return is taken up; the swap still waits for its choice.
            updates.update(intent=queued, intent_confidence=1.0, status="open", pending=None, queued=None)
            return updates
        if signals.closing and not is_question(text):
            # "ok danke dir" to "which one instead?": the customer takes leave; nobody else needs
            # to find them one.
            signals = dataclasses.replace(signals, affirmation=None)
            updates.update(intent="greeting", intent_confidence=1.0, status="open", signals=dataclasses.asdict(signals))
            return updates
    if (
        state.get("asked") == "ask_which_order"
        and not slots["order_ids"]
        and not slots["item_hints"]
        and not any(i in ORDER_INTENTS for i in named_requests)
        and (signals.closing or signals.affirmation is not None or says_goodbye(text))
        and not is_question(text)
    ):
        # "ah ok, then I'll wait a few more days. thanks, bye!" to "which order?": the customer takes
        # leave; no order is chosen for them.
        intent, confidence = "greeting", 1.0
        signals = dataclasses.replace(signals, affirmation=None, closing=True)
        updates["signals"] = dataclasses.asdict(signals)
    if (
        (intent in ("other", "complaint") or (intent in WRITE_REQUESTS and intent not in named_requests))
        and state.get("order_id")
        and COMPENSATION_WORDS.search(normalise(text))
        and not mentions_declined_coupon(deps, text, language)
    ):
        # "And for the delay, will you make a gesture?": the late parcel's apology is what is asked.
        intent, confidence = "delivery_delay", 1.0
    kept_goal = goal or (state.get("intent") if state.get("intent") not in (None, "other", "greeting") else None)
    if kept_goal and intent == "change_address" and slots["emails"] and not slots["address"] and pure_details:
        # "the order n° …, with the address bram@…", "Adresse mail : …": the email address, not a
        # delivery address.
        intent = kept_goal
    if intent == "wrong_item" and (slots["emails"] or slots["order_ids"]) and OWN_MISTAKE.search(normalise(text)):
        # "scusate ho sbagliato, quella è di mio marito, la mia è …": the customer's own slip in
        # their details, not a wrong item sent.
        intent = kept_goal or "other"
    if (
        intent in ("other", "greeting")
        and slots["address"]
        and (state.get("intent") == "change_address" or len(slots["address"]) >= ADDRESS_ALONE * len(text.strip()))
    ):
        # "부산광역시 해운대구 센텀중앙로 55, 8층 (48058)" with nothing else: where the parcel should go.
        intent = "change_address"
    elif (
        slots["address"]
        and intent in ("modify_order", "exchange_request")
        and not slots["item_hints"]
        and ("change_address" in [*state.get("worded", []), *named_requests] or not names_a_variant([text], language))
    ):
        # "서울특별시 마포구 … 로 바꿔주세요" after "배송지 잘못 입력했어요", "… Kadıköy/İstanbul olarak
        # değiştirebilir misiniz", read as a change of the order: the address it gives is what changes.
        intent = "change_address"
    if intent in WRITE_REQUESTS and is_question(text) and OBLIGATION.search(normalise(text)) and not slots["address"]:
        # "Do I have to send the wrong one back?": a question about the rules, not a request.
        intent = "policy_question"
    if (
        pending is not None
        and pending["tool"] == "create_reshipment"
        and intent == "refund_status"
        and named_requests.get("refund_request", 0.0) >= OTHER_REQUEST_MIN_WEIGHT
    ):
        # "Savez-vous me rembourser ?" while a new one is offered: the money instead, not news of a refund.
        intent = "refund_request"
    if (
        pending is not None
        and pending["tool"] == "issue_coupon"
        # ("Bit annoying to be honest… Is there anything you can do?" read as an exchange no word names.)
        and (intent == "complaint" or (intent in WRITE_REQUESTS and intent not in named_requests and not slots["address"]))
        and not (signals.angry or signals.legal_threat or signals.wants_human or signals.affirmation)
    ):
        # "そうなんですね…誕生日プレゼントにする予定だったので残念です" (it was to be a birthday present,
        # such a pity) while the coupon for the late parcel waits: sorrow, answered with the apology
        # and the offer again, not a complaint for a person.
        intent = pending["intent"]
    if no_person and intent == "human_agent":
        # "아니요 상담원 연결은 괜찮아요. 감사합니다": thanks, and no person; the goal before stays.
        intent = "greeting" if signals.closing else state.get("intent") or "other"
    elif (
        intent in ("human_agent", "invoice_request")
        and not (signals.wants_human or signals.angry or signals.legal_threat)
        and not named_requests.get(intent)
        and state.get("intent") in FOLLOWED_UP
        and is_question(text)
    ):
        # "а во сколько примерно?", "e se non ci sono lo lasciano a un vicino?" after news of the
        # parcel: a question that follows it, read as a wish for a person by the model alone; "y ya
        # lo recibieron? porque yo tengo el comprobante de la paquetería" after news of the refund
        # is no request for an invoice.
        intent = str(state["intent"])
    elif intent == "human_agent" and not signals.wants_human and state.get("asked") == "ask_address" and slots["address"]:
        # "bitte an meine arbeit: David Williams, c/o Brandt & Partner GmbH, …": the new address asked
        # for, read as a person by the model alone; the goal before stays.
        intent = state.get("intent") or intent
    if (
        pending is not None
        and pending["tool"] == "return_items"
        and intent in PROBLEM_INTENTS
        and not named_requests.get(intent)
        and signals.affirmation is None
    ):
        # "イメージと違ったので…未使用です。" (not as pictured… unused) while the return waits: the
        # reason for it, read as a wrong item by the model alone.
        intent = pending["intent"]
    swap_asked = (
        bool(slots["item_hints"])
        and names_a_variant([text], language)
        and (
            (intent in ("exchange_request", "modify_order") and confidence >= GOAL_SWITCH_CONFIDENCE)
            # ("de Rain Jacket graag in navy ipv grijs" read as a faster carrier: no word asks for one.)
            or (intent in ("switch_carrier", "change_address") and intent not in named_requests and not slots["address"])
            # ("I'd like the Leather Sneakers in navy rather than black please", read as nothing.)
            or (intent == "other" and not set(named_requests) - {"greeting"} and not slots["address"])
            or (
                pending is not None
                and pending["tool"] in CHANGES_OF_DELIVERY
                and intent in ("policy_question", "other")
                and intent not in named_requests
            )
        )
    )
    if swap_asked and intent not in ("exchange_request", "modify_order"):
        intent, confidence = "exchange_request", 1.0
    # ("그리고 Rain Jacket 사이즈 S에서 M으로 바꿀 수 있나요?" while the address change waits: another size
    # of an item named asks for it.)
    if not swap_asked and asks_while_waiting(pending, text, intent, signals, named_requests, slots, state.get("queued")):
        # "How long will the new one take?", "how many days until the money is back?" while a
        # cancellation or a replacement waits: a question about it, answered from the policy.
        intent = "policy_question"
    # "While you're at it: when does the money reach my card?" with an offer waiting: the question
    # is answered and the offer still waits for its yes.
    keeps_offer = (
        pending is not None
        and intent in QUESTIONS_WHILE_WAITING
        and intent != pending["intent"]
        and signals.affirmation != "no"
        and pending["tool"] not in updates.get("declined", state.get("declined", []))
    )
    if keeps_offer:
        updates["status"] = "awaiting_confirmation"
        updates["reply_after"] = [("still_pending", {})]
    updates.update(
        intent=intent,
        intent_confidence=confidence,
        pending=pending if keeps_offer else None,
        misunderstood=(state.get("misunderstood", 0) + 1)
        if intent == "other" and not (signals.closing or signals.affirmation or pure_details)
        else 0,
    )
    problem = state.get("problem")
    named = problem_named(deps, text, language)
    if intent in PROBLEM_INTENTS:
        problem = intent
    elif intent in REMEDY_INTENTS and (second in PROBLEM_INTENTS or named):
        # "The mug arrived broken, I want my money back": the remedy names the request, the problem stays.
        problem = second if second in PROBLEM_INTENTS else named
    elif intent in ("refund_request", "reship_request") and problem is None:
        # The problem told in an earlier message ("the lamp came broken" … "I want my money back").
        for earlier in reversed(state.get("transcript", [])):
            problem = problem_named(deps, str(earlier.get("text", "")), language)
            if problem:
                break
    elif intent in ("delivery_delay", "track_order", "complaint") and named:
        # A long story of a late parcel that arrived broken: the broken item is what is left to settle.
        problem = named
    elif intent not in ("other", "greeting", "refund_request", "reship_request", *PROBLEM_INTENTS):
        problem = None
    updates["problem"] = problem
    if "refund" in refused:
        # "I don't want my money back": no refund is offered in its place later.
        declined = updates.get("declined", state.get("declined", []))
        updates["declined"] = [*declined, "issue_refund"] if "issue_refund" not in declined else declined
    if remedy:
        updates["remedy"] = remedy
        # "Don't send another one, just refund me" after a broken item: the remedy decides.
        if intent == "reship_request" and remedy == "refund":
            updates["intent"] = "refund_request"
        elif intent == "refund_request" and remedy == "replacement":
            updates["intent"] = "reship_request"
    elif intent != state.get("intent") and intent not in ("other", "greeting"):
        updates["remedy"] = None
    # "y ya que estamos, ¿se puede mandar por urgente?" while the address change waits: read as a
    # question, the words name a request that goes with the offer kept.
    kept_for = pending["intent"] if pending is not None and keeps_offer else updates["intent"]
    with_swap = dict(named_requests)
    outside = text.replace(slots["address"], " ") if slots["address"] else ""
    if (
        outside
        and any(hint in outside for hint in slots["item_hints"])
        and "exchange_request" not in with_swap
        and "modify_order" not in with_swap
        and names_a_variant([outside], language)
    ):
        # "kan ik de T-Shirt nog in blauw krijgen ipv rood? en … naar mijn nieuw adres: …": an item
        # named in another colour beside a new address asks for the swap as well.
        with_swap["exchange_request"] = OTHER_REQUEST_MIN_WEIGHT
    swapped, returned = requests_per_item(deps, updates.get("order_id") or state.get("order_id"), text, language)
    if swapped and returned:
        # "the Ceramic Vase i want to return … and Stainless Water Bottle is too tight, i want L
        # size": one item goes back, the other is swapped; each request is taken up in turn.
        for request in ("exchange_request", "return_request"):
            with_swap[request] = max(with_swap.get(request, 0.0), OTHER_REQUEST_MIN_WEIGHT)
    queued = queued_request(state, kept_for, with_swap, taken_back, signals.affirmation == "no", slots)
    if swapped and returned and queued is None:
        # (A swap asked as a change of the order, "ابي ابدله بـ XL", goes with the return too.)
        queued = {"exchange_request": "return_request", "modify_order": "return_request"}.get(
            kept_for, "exchange_request" if kept_for == "return_request" else None
        )
    updates["queued"] = queued
    if slots["address"]:
        updates["address"] = slots["address"]
    elif intent != state.get("intent") and intent not in ("other", "greeting", "change_address") and queued != "change_address":
        updates["address"] = None
    if slots["order_ids"]:
        updates["order_id"] = slots["order_ids"][0]
    if state.get("status") in (None, "awaiting_confirmation") and not keeps_offer:
        updates["status"] = "open"
    worded = [*state.get("worded", []), *(i for i in named_requests if i in ORDER_INTENTS and i not in taken_back)]
    updates["worded"] = list(dict.fromkeys(worded))
    return updates


# Requests that are done one after the other when a customer asks for both in one breath ("change
# the address, and can it go express?", "send the right one and take the wrong one back").
TOGETHER = frozenset(
    {
        frozenset({"change_address", "switch_carrier"}),
        frozenset({"change_address", "modify_order"}),
        frozenset({"change_address", "exchange_request"}),
        frozenset({"switch_carrier", "modify_order"}),
        frozenset({"switch_carrier", "exchange_request"}),
        frozenset({"reship_request", "return_request"}),
        frozenset({"wrong_item", "return_request"}),
        frozenset({"damaged_item", "return_request"}),
        frozenset({"return_request", "exchange_request"}),
    }
)


def partner_named(
    pending: PendingAction, named: dict[str, float], taken_back: frozenset[str], bare: Callable[[str, set[str]], bool]
) -> str | None:
    """A request named beside the yes that goes with the proposal ("send me the right one and I'll
    send this one back"): taken up once the proposal is done. `bare` tells a verb that only
    repeats the proposal ("yes, change it")."""
    same = same_requests(pending)
    for candidate, weight in sorted(named.items(), key=lambda item: -item[1]):
        if weight < OTHER_REQUEST_MIN_WEIGHT or candidate in same or candidate in taken_back or bare(candidate, same):
            continue
        if any(frozenset({candidate, request}) in TOGETHER for request in same):
            return candidate
    return None


def bare_change(text: str, language: str, slots: dict[str, Any], candidate: str, requests: set[str]) -> bool:
    """ "da pra trocar o endereço de entrega?", "isso, pode trocar sim": a change of items that
    names no item, size or colour beside a change of delivery is the delivery's own verb, not a
    second request."""
    return (
        candidate in ("exchange_request", "modify_order")
        and bool(requests & {"change_address", "switch_carrier"})
        and not slots.get("item_hints")
        and not names_a_variant([text], language)
    )


def queued_request(
    state: ConversationState,
    intent: str,
    named: dict[str, float],
    taken_back: frozenset[str],
    refusing: bool,
    slots: dict[str, Any],
) -> str | None:
    """The second request to take up once the current one is done: named in this message beside
    it, or the goal of the messages before, when the two go together; else the one already queued."""
    candidates = sorted(
        (i for i, weight in named.items() if weight >= OTHER_REQUEST_MIN_WEIGHT and i != intent and i not in taken_back),
        key=lambda i: -named[i],
    )
    if slots.get("address") and intent != "change_address":
        # "Send it to 12 Elm Street. Also, can it go express?": the address asks for its change.
        candidates.append("change_address")
    before = state.get("intent")
    if before and before != intent and before not in taken_back and not refusing:
        # The goal of the messages before, not refused: "new address …" then "and can it go express?".
        candidates.append(before)
        waiting = state.get("pending")
        own = OWN_REQUEST.get(waiting["tool"]) if waiting else None
        if own and own != intent and own not in taken_back and frozenset({own, intent}) in TOGETHER:
            # "还有地址也要改一下" (the address too) while the size change of a wrong item waits: the
            # change proposed, all of it said already, goes with the address.
            return own
    for candidate in candidates:
        if frozenset({candidate, intent}) in TOGETHER and not bare_change(
            state.get("message", ""), str(state.get("language") or "en"), slots, candidate, {intent}
        ):
            return candidate
    kept = state.get("queued")
    return kept if kept and kept != intent and kept not in taken_back else None
