"""Offline understanding of one customer message: what the customer wants (intent), the
details they gave (order numbers, emails, postal codes, names, amounts, an address, item
hints), how they said it (yes/no, asking for a human, legal threats, anger) and how urgent
the case is.

Intents come from two sources that are combined: per-language keyword lexicons and a
nearest-neighbour vote over example messages in all fourteen languages, embedded with the
multilingual embedder. Both live in `prompts/intents/<lang>.yaml`. The language of the
message is detected elsewhere and passed in; keywords of that language and of English
(shoppers everywhere write "refund", "tracking", "ok") are matched.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from agent.intent_head import IntentHead, blend_keywords, load_head
from commerce.models import UrgencyLevel
from knowledge.embedders import Embedder, Vectors

INTENTS: tuple[str, ...] = (
    "track_order",
    "delivery_delay",
    "not_received",
    "damaged_item",
    "wrong_item",
    "missing_item",
    "return_request",
    "exchange_request",
    "refund_request",
    "refund_status",
    "cancel_order",
    "change_address",
    "modify_order",
    "switch_carrier",
    "reship_request",
    "payment_issue",
    "invoice_request",
    "customs_duties",
    "policy_question",
    "complaint",
    "human_agent",
    "greeting",
    "other",
)
LEXICON_INTENTS: tuple[str, ...] = tuple(i for i in INTENTS if i != "other")
LANGUAGES: tuple[str, ...] = ("en", "es", "fr", "de", "it", "pt", "nl", "pl", "tr", "ru", "ar", "zh", "ja", "ko")
FALLBACK_LANGUAGE = "en"
DEFAULT_DIRECTORY = Path(__file__).resolve().parents[1] / "prompts" / "intents"
SIGNAL_KEYS: tuple[str, ...] = (
    "yes",
    "no",
    "human",
    "legal",
    "angry",
    "items",
    "closing",
    "kept_after",
    "kept_before",
    "unchanged",
    "both",
    "only_that",
)

# Bump when the way examples are embedded changes, so stale disk caches are ignored.
CACHE_FORMAT = "intent-examples-v1"

# Classification: each intent's embedding score is the mean similarity of its K nearest
# examples; scores become a distribution with a softmax at this temperature.
NEAREST_K = 3
TEMPERATURE = 0.012
# Weight of the keyword distribution when the message has keyword hits (the rest is the
# embedding distribution). English keywords count a little less in another language.
KEYWORD_WEIGHT = 0.5
FALLBACK_KEYWORD_FACTOR = 0.8
# Below this combined probability the message is "other"; without any keyword hit, a
# nearest example less similar than this also means "other".
MIN_CONFIDENCE = 0.3
MIN_SIMILARITY = 0.83
# A message counts as "just a greeting" when at most this much content is left once the
# greeting words are removed, or when it is this short and nothing else matched.
GREETING_LEFTOVER_UNITS = 2.0
# A thanks or goodbye leaves at most this much else for the message to be a closing.
CLOSING_LEFTOVER_UNITS = 2.0
GREETING_SHORT_UNITS = 6.0
# A short message without greeting words is a greeting only when it is this close to the
# greeting examples ("howdy"), not merely closer to them than to other intents.
GREETING_MIN_SIMILARITY = 0.9
# A message is "essentially an answer" (yes/no) when it is at most this long.
ANSWER_MAX_UNITS = 6.0
# How many of each lexicon's examples must exist per intent.
# A second intent is reported when the head gives it at least this probability.
SECOND_INTENT_MIN = 0.2
MIN_EXAMPLES = 6
MAX_EXAMPLES = 10


# ---------------------------------------------------------------- text normalisation

_CHAR_MAP = str.maketrans(
    {
        "ł": "l",
        "ß": "ss",
        "ı": "i",
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "đ": "d",
        "ё": "е",
        "ـ": "",  # Arabic tatweel
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "’": "'",
        "‘": "'",
        "`": "'",
    }
)
_NON_WORD = re.compile(r"[^\w#]+")
_SPACES = re.compile(r"\s+")


def _is_latin(ch: str) -> bool:
    return ch < "\u0250" or "\u1e00" <= ch <= "\u1eff"


def normalise(text: str) -> str:
    """Lower case, no accents on Latin letters (customers often skip them), light Arabic
    normalisation, punctuation turned into single spaces; kana, Hangul and Cyrillic kept."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_CHAR_MAP)
    out: list[str] = []
    latin_base = False
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch):
            if latin_base or "\u064b" <= ch <= "\u065f" or ch == "\u0670":
                continue
            out.append(ch)
            continue
        latin_base = _is_latin(ch)
        out.append(ch)
    text = unicodedata.normalize("NFC", "".join(out)).replace("_", " ")
    return _SPACES.sub(" ", _NON_WORD.sub(" ", text)).strip()


def _script(text: str) -> str:
    """The script that decides how a phrase is matched: Han/kana, Hangul or Arabic when the
    text has any such letter ("T恤" is Chinese), otherwise space-separated words."""
    found = set()
    for ch in text:
        o = ord(ch)
        if 0x3040 <= o <= 0x30FF or 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF:
            found.add("cjk")
        elif 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F:
            found.add("hangul")
        elif 0x0600 <= o <= 0x06FF or 0x0750 <= o <= 0x077F:
            found.add("arabic")
    for script in ("cjk", "hangul", "arabic"):
        if script in found:
            return script
    return "word"


# The length of one word in units: a word of Latin letters, or two Han or kana letters.
WORD_UNITS = 0.8


def _units(normalised: str) -> float:
    """Length in rough words: Han and kana characters count 0.4 each (no spaces to split on)."""
    cjk = sum(1 for ch in normalised if _is_cjk(ch))
    rest = "".join(" " if _is_cjk(ch) else ch for ch in normalised)
    return len(rest.split()) + 0.4 * cjk


def _cjk_phrase(normalised: str) -> bool:
    """A phrase of three Han or kana letters or more ("还是算了", "不用了")."""
    return len(normalised) >= 3 and all(_is_cjk(ch) for ch in normalised.replace(" ", ""))


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x3040 <= o <= 0x30FF or 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF


# ---------------------------------------------------------------- lexicons


@dataclass(frozen=True)
class Phrase:
    """One lexicon entry, as written and as matched against normalised text."""

    text: str
    normalised: str
    pattern: re.Pattern[str]
    weight: float
    gapped: bool = False  # "send ... back": words between the parts


@dataclass(frozen=True)
class Match:
    label: str
    phrase: Phrase
    start: int
    end: int
    weight: float

    @property
    def length(self) -> int:
        """How much of the text the match spells out: a gapped phrase counts its own words only,
        so "money back" in "send my money back" wins over "send ... back"."""
        if self.phrase.gapped:
            return len(self.phrase.normalised.replace(f" {GAP} ", " "))
        return self.end - self.start


@cache
def compile_phrase(text: str) -> Phrase | None:
    """Han/kana and Hangul phrases match anywhere (no spaces between words); other scripts
    match at a word start, and whole words only when shorter than five letters (longer ones
    also match their inflections: "refund" → "refunded"). A trailing "*" forces a prefix match."""
    if GAP in text:
        return _gapped_phrase(text)
    prefix = text.strip().endswith("*")
    norm = normalise(text.strip().rstrip("*"))
    if not norm:
        return None
    script = _script(norm)
    words = norm.split(" ")
    letters = len(norm.replace(" ", ""))
    last_word = words[-1]
    # Inner words may carry a short inflection or particle the phrase does not spell out
    # ("ponowną wysyłkę", "منتجا خاطئا", "주문을 취소").
    suffix = {"hangul": "[가-힣]{0,2}", "arabic": "[\u0621-\u064a]{0,2}", "word": "[^\\W\\d_]{0,3}"}.get(script, "")
    parts = [re.escape(w) + (suffix if len(w) >= (1 if script == "hangul" else 4) else "") for w in words[:-1]]
    body = r"\s?".join([*parts, re.escape(last_word)])
    if script == "cjk":
        pattern = body if letters >= 2 else "^" + body
        units = max(1.0, letters / 2.0)
    elif script == "hangul":
        pattern = body if letters >= 2 or prefix else r"(?<![가-힣])" + body + r"(?![가-힣])"
        units = float(len(words)) + max(0.0, (letters - 3) / 3.0)
    elif script == "arabic":
        end = "" if prefix or len(last_word) > 2 else r"(?![^\W\d_])"
        pattern = r"(?<![^\W\d_])(?:[وفبلك]|[وفبك]?ال|لل)?" + body + end
        units = float(len(words))
    else:
        # Han, kana and Hangul end a Latin word ("直接refund给我就好", "parcel已经在路上了").
        end = "" if prefix or len(last_word) >= 5 else r"(?![^\W_\u3040-\u30ff\u3400-\u9fff\uac00-\ud7a3])"
        pattern = r"(?<![^\W_\u3040-\u30ff\u3400-\u9fff\uac00-\ud7a3])" + body + end
        units = float(len(words))
    weight = min(3.0, 1.0 + 0.5 * (units - 1.0))
    return Phrase(text=text.strip().rstrip("*"), normalised=norm, pattern=re.compile(pattern), weight=weight)


# "send ... back": the parts in order, with a few words between them ("send the broken one back").
GAP = "..."
GAP_WORDS = 4
GAP_LETTERS = 6


def _gapped_phrase(text: str) -> Phrase | None:
    parts = [compile_phrase(part) for part in text.strip().split(GAP)]
    if len(parts) < 2 or any(part is None for part in parts):
        return None
    kept = [part for part in parts if part is not None]
    cjk = any(_script(part.normalised) in ("cjk", "hangul") for part in kept)
    gap = f".{{0,{GAP_LETTERS}}}?" if cjk else rf"(?:\s+\S+){{0,{GAP_WORDS}}}\s+"
    # Each part keeps its own edges; Han and Hangul parts match anywhere, one letter too ("把…退回").
    bodies = [re.escape(part.normalised).replace(r"\ ", r"\s?") if cjk else part.pattern.pattern for part in kept]
    pattern = gap.join(f"(?:{body})" for body in bodies)
    normalised = " ... ".join(part.normalised for part in kept)
    weight = min(3.0, sum(part.weight for part in kept))
    return Phrase(text=text.strip(), normalised=normalised, pattern=re.compile(pattern), weight=weight, gapped=True)


def _phrases(values: Iterable[Any]) -> tuple[Phrase, ...]:
    out: list[Phrase] = []
    seen: set[str] = set()
    for value in values:
        phrase = compile_phrase(str(value))
        if phrase is not None and phrase.normalised not in seen:
            seen.add(phrase.normalised)
            out.append(phrase)
    return tuple(out)


@dataclass(frozen=True)
class Lexicon:
    """What one `prompts/intents/<lang>.yaml` file holds."""

    language: str
    keywords: Mapping[str, tuple[Phrase, ...]]
    examples: Mapping[str, tuple[str, ...]]
    signals: Mapping[str, tuple[Phrase, ...]]  # yes, no, human, legal, angry, items


def _parse_lexicon(language: str, data: Any, source: str) -> Lexicon:
    if not isinstance(data, dict):
        raise ValueError(f"{source}: expected a mapping at the top level")
    intents = data.get("intents")
    if not isinstance(intents, dict):
        raise ValueError(f"{source}: missing 'intents'")
    unknown = set(intents) - set(LEXICON_INTENTS)
    if unknown:
        raise ValueError(f"{source}: unknown intents {sorted(unknown)}")
    keywords: dict[str, tuple[Phrase, ...]] = {}
    examples: dict[str, tuple[str, ...]] = {}
    for intent in LEXICON_INTENTS:
        entry = intents.get(intent)
        if not isinstance(entry, dict):
            raise ValueError(f"{source}: intent {intent!r} is missing")
        words = entry.get("keywords") or []
        texts = entry.get("examples") or []
        if not isinstance(words, list) or not isinstance(texts, list):
            raise ValueError(f"{source}: {intent}: keywords and examples must be lists")
        if not MIN_EXAMPLES <= len(texts) <= MAX_EXAMPLES:
            raise ValueError(f"{source}: {intent}: {len(texts)} examples, expected {MIN_EXAMPLES}–{MAX_EXAMPLES}")
        keywords[intent] = _phrases(words)
        examples[intent] = tuple(str(t).strip() for t in texts)
    signals: dict[str, tuple[Phrase, ...]] = {}
    for key in SIGNAL_KEYS:
        values = data.get(key, [])
        if not isinstance(values, list):
            raise ValueError(f"{source}: {key!r} must be a list (quote the keys 'yes' and 'no')")
        signals[key] = _phrases(values)
    return Lexicon(language=language, keywords=keywords, examples=examples, signals=signals)


def _lexicon_files(directory: Path) -> list[Path]:
    files = sorted(p for p in directory.glob("*.yaml") if p.is_file())
    if not files:
        raise FileNotFoundError(f"no intent lexicons in {directory}")
    return files


_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_lexicon_files(directory: Path) -> tuple[dict[str, Lexicon], bytes]:
    """Parse every `<lang>.yaml` of a directory; also return the raw contents (for hashing)."""
    lexicons: dict[str, Lexicon] = {}
    raw = bytearray()
    for path in _lexicon_files(directory):
        content = path.read_bytes()
        raw += path.name.encode() + b"\0" + content + b"\0"
        data = yaml.load(content.decode("utf-8"), Loader=_YAML_LOADER)  # a safe loader: no object construction
        lexicons[path.stem] = _parse_lexicon(path.stem, data, str(path))
    return lexicons, bytes(raw)


@lru_cache(maxsize=8)
def _load_lexicons_cached(directory: Path) -> dict[str, Lexicon]:
    return read_lexicon_files(directory)[0]


def load_lexicons(directory: Path | None = None) -> dict[str, Lexicon]:
    """All languages' lexicons from a directory (default `prompts/intents`), loaded once."""
    return _load_lexicons_cached((directory or DEFAULT_DIRECTORY).resolve())


def _find(text: str, groups: Iterable[tuple[str, Iterable[Phrase], float]]) -> list[Match]:
    """Every lexicon hit in normalised text, then the longest non-overlapping ones ("where
    is my refund" beats "refund"; "no problem" beats "no")."""
    found: list[Match] = []
    for label, phrases, factor in groups:
        for phrase in phrases:
            for m in phrase.pattern.finditer(text):
                if m.end() > m.start():
                    found.append(Match(label, phrase, m.start(), m.end(), phrase.weight * factor))
    found.sort(key=lambda match: (-match.length, -match.weight, match.start))
    chosen: list[Match] = []
    for match in found:
        if all(match.end <= c.start or match.start >= c.end for c in chosen):
            chosen.append(match)
    chosen.sort(key=lambda m: m.start)
    return chosen


def _without(norm: str, matches: Iterable[Match]) -> str:
    """The normalised text with the matched phrases cut out."""
    for m in sorted(matches, key=lambda m: -m.start):
        norm = norm[: m.start] + " " + norm[m.end :]
    return _SPACES.sub(" ", norm).strip()


def without_matches(text: str, matches: Iterable[Match]) -> str:
    """The message, normalised, with the given keyword matches cut out."""
    return _without(normalise(text), matches)


def _languages(language: str, lexicons: Mapping[str, Lexicon]) -> list[tuple[Lexicon, float]]:
    out: list[tuple[Lexicon, float]] = []
    if language in lexicons:
        out.append((lexicons[language], 1.0))
    if language != FALLBACK_LANGUAGE and FALLBACK_LANGUAGE in lexicons:
        out.append((lexicons[FALLBACK_LANGUAGE], FALLBACK_KEYWORD_FACTOR))
    return out


# ---------------------------------------------------------------- intents

# Words that label an email or order number ("order no.", "E-Mail:", "Bestellung"): noise with the value.
_IDENTITY_LABEL = (
    r"(?:(?:my\s+|mi\s+|mon\s+|ma\s+|meine?\s+|il\s+mio\s+|o\s+meu\s+|mijn\s+)?"
    r"(?:e-?mail(?:\s+address)?|mail|correo|courriel|adresse\s+mail|почта|no\.?|nr\.?|number|num[eé]ro|nummer|numer|номер|"
    r"ご?注文番号|订单号|訂單號|주문\s?번호|メールアドレス|メール|邮箱|이메일)"
    r"(?:\s*(?:is|es|est|ist|è|é|:|は|是|는|은))?\s*[:#：]?\s*)?"
)
IDENTITY_NOISE = re.compile(
    _IDENTITY_LABEL + r"(?:[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
    r"|#?[A-Za-z]?\d(?:[\d-]|\s\d){3,}[A-Za-z0-9]*|#[A-Za-z0-9-]*\d[A-Za-z0-9-]*)"
    r"|\b(?:e-?mail|correo|courriel)\b\s*:?",
    re.IGNORECASE,
)
_GOODBYE = re.compile(
    r"(?i)(?<![^\W\d_])(?:bye|goodbye|bye\s+bye|see\s+you|adi[oó]s|chao|chau|hasta\s+luego|au\s+revoir|[àa]\s+bient[ôo]t|tsch[üu]ss?|"
    r"auf\s+wiedersehen|arrivederci|ciao|tchau|adeus|at[ée]\s+logo|doei|tot\s+ziens|do\s+widzenia|ho[sş][cç]a\s+kal(?:[ıi]n)?|"
    r"g[öo]r[üu][sş][üu]r[üu]z|пока|до\s+свидания|всего\s+доброго|regards|cheers|saludos|cordialement|gr[üu](?:ß|ss)e|saluti|"
    r"cumprimentos|groetjes|pozdrawiam|selamlar|с\s+уважением)(?![^\W\d_])|مع\s+السلامة|再见|拜拜|さようなら|失礼します|안녕히"
)


def says_goodbye(text: str) -> bool:
    """Whether the customer takes leave ("ok, bye"): not an answer to a question."""
    return bool(_GOODBYE.search(text))


_DETAIL_WORDS = re.compile(
    r"(?i)(?<![^\W\d_])(?:my|mine|the|is|it|its|and|here|order|number|no|nr|e-?mail|mail|zip|code|postal|postcode|name|"
    r"i\s*am|i['’]m|this|sorry|oh|ok|okay|correct|right|pedido|correo|mi|es|commande|mon|ma|est|bestellung|bestellnummer|"
    r"meine|mein|ist|ordine|il|mio|la|encomenda|bestelling|mijn|zam[oó]wienie|numer|sipari[sş]|numaram|numaras[ıi]|"
    r"заказ|номер|почта|мой|моя|我的|订单|邮箱|注文番号|メール|주문번호|이메일|رقم|الطلب|بريدي|و|الايميل|الإيميل|ايميل|إيميل|الكوموند|كوموند|الكومند|الاوردر|اوردر)(?![^\W\d_])"
)


def request_units(text: str, names: Sequence[str] = ()) -> float:
    """How long the message's request is once emails, order numbers, names and the words that
    label them are out: "order #1474, email a@b.c" has none."""
    rest = IDENTITY_NOISE.sub(" ", text)
    for name in names:
        rest = rest.replace(name, " ")
    return _units(normalise(_DETAIL_WORDS.sub(" ", rest)))


def request_text(text: str) -> str:
    """The message without emails and order numbers, so identity details do not drown the request."""
    cleaned = re.sub(r"\s+", " ", IDENTITY_NOISE.sub(" ", text)).strip(" ,.:;-")
    return cleaned if len(cleaned) >= 3 else text


@dataclass(frozen=True)
class IntentGuess:
    """The intent (one of INTENTS), how sure (0–1), the next best intent and what decided:
    "keyword", "embedding" or "combined" (both agreed)."""

    intent: str
    confidence: float
    runner_up: str | None
    method: str


def _keyword_scores(norm: str, language: str, lexicons: Mapping[str, Lexicon]) -> tuple[dict[str, float], list[Match]]:
    groups: list[tuple[str, Iterable[Phrase], float]] = []
    for lexicon, factor in _languages(language, lexicons):
        for intent in LEXICON_INTENTS:
            groups.append((intent, lexicon.keywords[intent], factor))
    matches = _find(norm, groups)
    scores: dict[str, float] = {}
    for match in matches:
        scores[match.label] = scores.get(match.label, 0.0) + match.weight
    return scores, matches


def keyword_distribution(text: str, language: str, labels: Sequence[str], lexicons: Mapping[str, Lexicon]) -> Any:
    """The share of keyword weight each label gets in the text; all zeros when no keyword matches."""
    scores = _keyword_scores(normalise(text), language, lexicons)[0]
    row = np.zeros(len(labels), dtype=np.float32)
    total = sum(scores.values())
    if total > 0:
        for index, label in enumerate(labels):
            row[index] = scores.get(label, 0.0) / total
    return row


class IntentClassifier:
    """The trained head over the message's embedding when one ships for the embedder
    (`agent/intent_head.py`); otherwise keyword lexicons plus nearest examples.

    The fallback's example vectors are computed on first use; with `cache_dir` they are also
    stored on disk, keyed by the lexicon files' contents and the embedder, so a restart does
    not embed the examples again."""

    def __init__(
        self,
        embedder: Embedder,
        directory: Path | None = None,
        cache_dir: Path | None = None,
        head: IntentHead | bool | None = True,
    ) -> None:
        self.embedder = embedder
        self.directory = (directory or DEFAULT_DIRECTORY).resolve()
        self.lexicons, raw = read_lexicon_files(self.directory)
        self.head: IntentHead | None = load_head(embedder.name, embedder.dimension) if head is True else (head or None)
        # Which policy document a question is about: a prior for the knowledge search.
        self.topic_head: IntentHead | None = load_head(embedder.name, embedder.dimension, kind="topic") if head is True else None
        labels: list[int] = []
        texts: list[str] = []
        for language in sorted(self.lexicons):
            for index, intent in enumerate(LEXICON_INTENTS):
                for example in self.lexicons[language].examples[intent]:
                    labels.append(index)
                    texts.append(example)
        order = np.argsort(np.asarray(labels), kind="stable")
        self._texts = [texts[i] for i in order]
        self._labels = np.asarray(labels, dtype=np.int64)[order]
        bounds = np.searchsorted(self._labels, np.arange(len(LEXICON_INTENTS) + 1))
        self._slices = [(int(bounds[i]), int(bounds[i + 1])) for i in range(len(LEXICON_INTENTS))]
        self.cache_key = self._cache_key(raw)
        self.cache_path = cache_dir / f"{CACHE_FORMAT}-{self.cache_key[:24]}.npz" if cache_dir is not None else None
        self._matrix: Vectors | None = None
        self._matrix_lock = threading.Lock()
        if self.head is None:
            self._matrix = self._load_or_embed()

    @property
    def method(self) -> str:
        return "trained head" if self.head is not None else "nearest examples"

    @property
    def matrix(self) -> Vectors:
        with self._matrix_lock:
            if self._matrix is None:
                self._matrix = self._load_or_embed()
            return self._matrix

    # -------------------------------------------------------------- example vectors

    def _cache_key(self, raw: bytes) -> str:
        digest = hashlib.sha256()
        digest.update(f"{CACHE_FORMAT}\0{self.embedder.name}\0{self.embedder.dimension}\0".encode())
        digest.update(raw)
        return digest.hexdigest()

    def _load_or_embed(self) -> Vectors:
        path = self.cache_path
        if path is not None and path.exists():
            try:
                with np.load(path) as data:
                    cached = np.asarray(data["vectors"], dtype=np.float32)
                if cached.shape == (len(self._texts), self.embedder.dimension):
                    return cached
            except (OSError, ValueError, KeyError):
                pass  # unreadable cache: embed again and overwrite it
        matrix = self.embedder.embed_queries(self._texts).astype(np.float32)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_ident()}.partial.npz")
            np.savez(partial, vectors=matrix)
            partial.replace(path)
        return matrix

    # -------------------------------------------------------------- classification

    def classify(self, text: str, language: str) -> IntentGuess:
        return self.classify_many([text], [language])[0]

    def classify_many(self, texts: Sequence[str], languages: Sequence[str]) -> list[IntentGuess]:
        """The intent of each message. Emails and order numbers are left out first, so identity
        details do not drown the request."""
        if len(texts) != len(languages):
            raise ValueError("classify_many needs one language per text")
        requests = [request_text(t) for t in texts]
        wanted = [i for i, t in enumerate(requests) if normalise(t)]
        vectors = self.embedder.embed_queries([requests[i] for i in wanted]) if wanted else None
        guesses = [IntentGuess("other", 1.0, None, "keyword")] * len(texts)
        if vectors is None:
            return guesses
        if self.head is not None:
            probabilities = self.head.probabilities(vectors)
            if self.head.keyword_weight > 0:
                keywords = np.stack(
                    [keyword_distribution(requests[i], languages[i], self.head.labels, self.lexicons) for i in wanted]
                )
                probabilities = blend_keywords(probabilities, keywords, self.head.keyword_weight)
            for row, index in enumerate(wanted):
                guesses[index] = self._decide_by_head(requests[index], languages[index], probabilities[row])
            return guesses
        for row, index in enumerate(wanted):
            guesses[index] = self._decide(requests[index], languages[index], vectors[row])
        return guesses

    def _decide_by_head(self, text: str, language: str, probabilities: Any) -> IntentGuess:
        assert self.head is not None
        labels = self.head.labels
        ranking = np.argsort(-probabilities)
        best, second = int(ranking[0]), int(ranking[1])
        intent, confidence = labels[best], float(probabilities[best])
        if intent == "greeting" and self._beyond_greeting(text, language) > GREETING_LEFTOVER_UNITS and labels[second] != "other":
            # "hi, the candle was missing from my parcel": a greeting before a request is not the request.
            best, second = second, int(ranking[2])
            intent, confidence = labels[best], float(probabilities[best])
        runner_up = labels[second] if float(probabilities[second]) >= SECOND_INTENT_MIN else None
        if intent != "other" and confidence < self.head.threshold:
            return IntentGuess("other", round(1.0 - confidence, 4), intent, "trained")
        return IntentGuess(intent, round(confidence, 4), runner_up, "trained")

    def _beyond_greeting(self, text: str, language: str) -> float:
        """How much of the message is not a greeting word ("Hallo, ich möchte … zurückgeben": a lot)."""
        norm = normalise(text)
        matches = [m for m in _keyword_scores(norm, language, self.lexicons)[1] if m.label == "greeting"]
        return _units(_without(norm, matches))

    def keyword_matches(self, text: str, language: str) -> list[Match]:
        """The intent keywords found in the normalised text, with their positions."""
        return _keyword_scores(normalise(text), language, self.lexicons)[1]

    def keyword_scores(self, text: str, language: str) -> dict[str, float]:
        """Summed weights of the intents' keywords found in the text."""
        return _keyword_scores(normalise(text), language, self.lexicons)[0]

    def _keyword_scores(self, norm: str, language: str) -> tuple[dict[str, float], list[Match]]:
        return _keyword_scores(norm, language, self.lexicons)

    def embedding_scores(self, vector: Vectors) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Per intent, the mean cosine similarity of its nearest examples."""
        sims = self.matrix @ np.asarray(vector, dtype=np.float32).reshape(-1)
        scores = np.empty(len(LEXICON_INTENTS), dtype=np.float64)
        for index, (start, stop) in enumerate(self._slices):
            block = sims[start:stop]
            k = min(NEAREST_K, block.shape[0])
            scores[index] = float(np.mean(np.partition(block, -k)[-k:])) if k else -1.0
        return scores

    def _decide(self, text: str, language: str, vector: Vectors) -> IntentGuess:
        norm = normalise(text)
        kw_scores, matches = self._keyword_scores(norm, language)
        emb = self.embedding_scores(vector)
        greeting = LEXICON_INTENTS.index("greeting")
        if not self._just_greeting(norm, matches, emb):
            emb[greeting] = -1.0
            kw_scores.pop("greeting", None)
        logits = (emb - emb.max()) / TEMPERATURE
        emb_dist = np.exp(logits)
        emb_dist /= emb_dist.sum()
        if kw_scores:
            total = sum(kw_scores.values())
            kw_dist = np.array([kw_scores.get(i, 0.0) / total for i in LEXICON_INTENTS])
            combined = (1.0 - KEYWORD_WEIGHT) * emb_dist + KEYWORD_WEIGHT * kw_dist
        else:
            combined = emb_dist
        ranking = np.argsort(-combined)
        best, second = int(ranking[0]), int(ranking[1])
        intent, runner_up = LEXICON_INTENTS[best], LEXICON_INTENTS[second]
        confidence = float(combined[best])
        if not kw_scores:
            method = "embedding"
        elif LEXICON_INTENTS[int(np.argmax(emb_dist))] == intent and max(kw_scores, key=kw_scores.__getitem__) == intent:
            method = "combined"
        elif max(kw_scores, key=kw_scores.__getitem__) == intent:
            method = "keyword"
        else:
            method = "embedding"
        too_far = not kw_scores and float(emb.max()) < MIN_SIMILARITY
        if confidence < MIN_CONFIDENCE or too_far:
            return IntentGuess("other", round(1.0 - confidence, 4), intent, method)
        return IntentGuess(intent, round(confidence, 4), runner_up, method)

    def _just_greeting(self, norm: str, matches: Sequence[Match], emb: np.ndarray[Any, np.dtype[np.float64]]) -> bool:
        others = [m for m in matches if m.label != "greeting"]
        if others:
            return False
        if _units(_without(norm, matches)) <= GREETING_LEFTOVER_UNITS and matches:
            return True
        greeting = LEXICON_INTENTS.index("greeting")
        return (
            _units(norm) <= GREETING_SHORT_UNITS
            and int(np.argmax(emb)) == greeting
            and float(emb[greeting]) >= GREETING_MIN_SIMILARITY
        )


# ---------------------------------------------------------------- signals


@dataclass(frozen=True)
class Signals:
    """How the customer said it: an answer to a yes/no question ("yes", "no" or None), a
    request for a human, a legal or dispute threat, strong frustration."""

    affirmation: str | None
    wants_human: bool
    legal_threat: bool
    angry: bool
    closing: bool = False  # thanks, bye and nothing else


_CLAUSE_END = re.compile(r"[.!?;,。！？、，…]|\s-\s")
_SHOUTING_MIN_LETTERS = 12


def _signal_groups(language: str, key: str, lexicons: Mapping[str, Lexicon]) -> list[tuple[str, Iterable[Phrase], float]]:
    return [(key, lexicon.signals[key], factor) for lexicon, factor in _languages(language, lexicons)]


# English answer words that are other words in a language: Portuguese "no cartão" (on the card),
# Polish "no dobra" (well, fine), Turkish "ya", Spanish "y" (and).
_ENGLISH_ANSWERS_NOT_IN: dict[str, frozenset[str]] = {
    "pt": frozenset({"no"}),
    "pl": frozenset({"no"}),
    # Turkish "ya bu ne ya" (what is this), Spanish "ya" (already, now).
    "tr": frozenset({"ya"}),
    "es": frozenset({"y"}),
}


def _answer_groups(language: str, lexicons: Mapping[str, Lexicon]) -> list[tuple[str, Iterable[Phrase], float]]:
    """The yes and the no words of the language (and English)."""
    groups = _signal_groups(language, "yes", lexicons) + _signal_groups(language, "no", lexicons)
    unfit = _ENGLISH_ANSWERS_NOT_IN.get(language)
    if not unfit or FALLBACK_LANGUAGE not in lexicons:
        return groups
    english = lexicons[FALLBACK_LANGUAGE]
    return [
        (label, [p for p in phrases if p.normalised not in unfit], factor)
        if phrases is english.signals.get(label)
        else (label, phrases, factor)
        for label, phrases, factor in groups
    ]


# "If you don't refund me, I'll file a chargeback": a condition, not a refusal.
CONDITIONAL = re.compile(
    r"(?i)(?<![^\W\d_])(?:if|unless|otherwise|si|sinon|wenn|falls|sonst|se|altrimenti|als|anders|jesli|jezeli|inaczej|eger|"
    r"yoksa|если|иначе|إذا|اذا|لو|وإلا)(?![^\W\d_])|如果|要是|否则|もし|(?<!それ)なら|만약|만일|않으면"
)


# Condition words that are something else in a language: Spanish "se" ("se puede cambiar…").
NOT_A_CONDITION = {"es": frozenset({"se"})}


def _conditional_yes(norm: str, matches: list[Match], language: str) -> list[Match]:
    """The answer words without a yes that a condition puts before ("if yes I prefer that", "wenn ja,
    gerne", "si oui"): that yes waits for the shop's answer and agrees to nothing yet."""
    ignored = NOT_A_CONDITION.get(language, frozenset())
    kept = []
    for m in matches:
        before = re.search(r"(\S+)\s+$", norm[: m.start])
        word = before.group(1) if before else ""
        if m.label == "yes" and CONDITIONAL.fullmatch(word) and word not in ignored:
            continue
        kept.append(m)
    return kept


# "Wait", "hold on" in the normalised text: a no to go ahead now, or only a pause before a question.
HOLD_ON = frozenset(
    {"wait", "hold on", "warte", "warten sie", "moment", "attendez", "attends", "espera", "aspetta", "aspetti", "espere",
     "wacht", "wacht even", "chwila", "poczekaj", "prosze poczekac", "bekle", "bekleyin", "подождите", "подожди",
     "постойте", "لحظة", "انتظر", "等一下", "等等", "ちょっと待って", "待って", "잠깐", "잠깐만요"}
)  # fmt: skip


# "Ok, I understand", "d'accord, je vois": words that take in what the shop said (normalised). With
# an answer word and nothing more, they agree to no offer.
ACKNOWLEDGED = re.compile(
    r"(?:(?<![^\W\d_])(?:i\s+(?:understand|see|get\s+it)|understood|got\s+it|noted|(?:ya\s+)?entiendo|entendido|ya\s+veo|"
    r"je\s+(?:comprends|vois)|compris|ich\s+verstehe|verstehe|verstanden|(?:ho\s+)?capito|capisco|entendi|entendo|compreendo|"
    r"ik\s+(?:snap|begrijp)\s+het|snap\s+ik|begrepen|rozumiem|anlad[iı]m|anl[iı]yorum|понятно|понял|поняла|ясно|فهمت|"
    r"明白了?|了解了|なるほど|그렇군요)(?![^\W\d_])|\s)+"
)


def _only_acknowledged(rest: str) -> bool:
    return bool(rest) and ACKNOWLEDGED.fullmatch(rest) is not None


def _affirmation(text: str, language: str, lexicons: Mapping[str, Lexicon]) -> str | None:
    norm = normalise(text)
    if not norm:
        return None
    groups = _answer_groups(language, lexicons)
    matches = _conditional_yes(norm, _find(norm, groups), language)
    if not matches:
        return None
    if is_question(text) and _units(_without(norm, matches)) > 0:
        # "ça coûte combien exactement ?", "yes but how much is it?": a question waits for its
        # answer and accepts nothing; a no still refuses. A sentence of its own that answers
        # does ("oui c'est parfait. et en express ?", "do I print a label? and yes, open it").
        sentences = [s for s in _STATEMENT.findall(text) if s.strip()]
        statements = [s for s in sentences if not s.rstrip().endswith(QUESTION_MARKS)]
        # "ايوه الغيه لو سمحت، والفلوس هترجع امتى؟" (yes cancel it, and when does the money come?):
        # the clauses before a question's last comma answer as a sentence would.
        statements += [s.rsplit(c, 1)[0] for s in sentences if s.rstrip().endswith(QUESTION_MARKS) for c in ",،，" if c in s]
        # "네 그걸로 바꿔주세요 혹시 추가 비용 있어요?": a word that opens a question ends the answer before it.
        statements += [
            s.split(opener, 1)[0]
            for s in sentences
            if s.rstrip().endswith(QUESTION_MARKS)
            for opener in QUESTION_OPENERS
            if opener in s
        ]
        for statement in statements:
            answer = _statement_answer(statement, language, lexicons)
            if answer is not None:
                return answer
        first_word = norm[matches[0].start : matches[0].end]
        if first_word in HOLD_ON:
            # "подождите, а доставку обратно я сам оплачиваю?": "wait" before a question asks it first.
            return None
        return "no" if matches[0].start == 0 and matches[0].label == "no" else None
    if _units(norm) <= ANSWER_MAX_UNITS:
        if any(m.label == "no" for m in matches):
            return "no"
        return None if _only_acknowledged(_without(norm, matches)) else "yes"
    if matches[0].start > _INTERJECTION_CHARS:
        if closes_with_no(text, language, lexicons):
            # "반품 배송비 제가 내야되는거면.. 그냥 안할래요. 됐어요" (if I pay the return postage, I'll
            # leave it. never mind): a no of some words closes the message.
            return "no"
        if language == "ja" and _ends_a_sentence_with_yes(text, language, lexicons) and not any(m.label == "no" for m in matches):
            # "再送していただけるのでしたら、それでお願いいたします。": the answer closes the sentence.
            return "yes"
        answers = {_statement_answer(s, language, lexicons) for s in _STATEMENT.findall(text) if s.strip()}
        if answers == {"yes", None} or answers == {"yes"}:
            # "Se o expresso tiver custo extra não faz mal. Sim, podem avançar com as duas alterações":
            # a later sentence opens with the answer.
            return "yes"
        return None
    # A longer message that opens with an answer: the opening clause decides, unless the
    # customer changes their mind further on ("yes… actually no, keep it"). "Not yet" before more
    # words of its clause negates them ("sí, paradlo. la dirección todavía no la sé").
    matches = [
        m for m in matches if not (m.start > 0 and m.phrase.normalised in _NOT_YET and re.match(r"\s*[^\W\d_]", norm[m.end :]))
    ]
    first_clause = normalise(_CLAUSE_END.split(text.strip(), maxsplit=1)[0])
    opening = [m for m in matches if m.end <= max(len(first_clause), matches[0].end)]
    if any(m.label == "no" and (_units(m.phrase.normalised) >= 2 or _cjk_phrase(m.phrase.normalised)) for m in matches):
        # "yes… actually no", "嗯…还是算了": a no of some words (or three Han letters) further on wins.
        return "no"
    return "no" if any(m.label == "no" for m in opening) else "yes"


# "Not yet" in the no words of the languages (normalised).
_NOT_YET = frozenset(
    {"not yet", "todavia no", "aun no", "pas encore", "noch nicht", "ancora no", "non ancora", "ainda nao", "nog niet",
     "jeszcze nie", "henuz degil", "еще нет", "ещё нет", "пока нет"}
)  # fmt: skip
# "ah oui …", "oh yes …": a short sound before the answer still opens the message with it.
_INTERJECTION_CHARS = 3


def closes_with_no(text: str, language: str, lexicons: Mapping[str, Lexicon] | None = None) -> bool:
    """Whether the message ends on a no of some words ("…, so never mind", "그냥 안할래요. 됐어요"):
    what comes before it is its reason."""
    lexicons = lexicons or load_lexicons()
    sentences = [s for s in re.split(r"[。.!！?？\n]+", text) if normalise(s)]
    if not sentences:
        return False
    norm = normalise(sentences[-1])
    found = _find(norm, _answer_groups(language, lexicons))
    return bool(
        found
        and found[-1].label == "no"
        and found[-1].end == len(norm)
        and (
            _units(phrase := found[-1].phrase.normalised) >= 2
            or _cjk_phrase(phrase)
            or re.search(r"[\uac00-\ud7a3]{2}", phrase) is not None  # "됐어요", a Korean word of its own
        )
    )


def _ends_a_sentence_with_yes(text: str, language: str, lexicons: Mapping[str, Lexicon]) -> bool:
    for sentence in re.split(r"[。.!！?？\n]+", text):
        norm = normalise(sentence)
        found = _find(norm, _answer_groups(language, lexicons)) if norm else []
        if found and found[-1].label == "yes" and found[-1].end == len(norm):
            return True
    return False


# Sentences with their end mark ("oui c'est parfait." / "et en express ?" / "and yes open it").
# A sentence ends at its mark, at an emoji ("tak, wymieniamy 👍 a jak mam to odesłać?") or at a
# chat tilde ("네네 그렇게 해주세요~ 반송은 어떻게 보내면 돼요?").
_STATEMENT = re.compile(
    r"[^.!?。！？؟~～\n\u2600-\u27bf\U0001f300-\U0001faff]+[.!?。！？؟~～\n\u2600-\u27bf\U0001f300-\U0001faff\ufe0f]*"
)


def punctuated_sentences(text: str) -> list[str]:
    """The message's sentences with their closing marks, which tell a question."""
    return [s.strip() for s in _STATEMENT.findall(text) if s.strip()]


QUESTION_MARKS = ("?", "？", "؟")


def is_question(text: str) -> bool:
    """Whether the message asks something: a question mark of any script."""
    return any(mark in text for mark in QUESTION_MARKS)


# Words that open a question in the middle of a message ("혹시 …?", "ちなみに …？", "请问 …？").
# ("네 부탁드려요 언제쯤 도착할까요?", "好 兩個都麻煩你了 運費差多少？": when, how much, how long.)
QUESTION_OPENERS = (
    "혹시", "ちなみに", "请问", "請問", "언제", "얼마", "며칠", "어떻게", "多久", "什么时候", "什麼時候", "几天", "幾天",
    "运费", "運費", "多少钱", "多少錢", "いつ", "いくら", "どのくらい",
)  # fmt: skip


# A word such as "and", "so" may come before the answer of a sentence ("and yes, open it").
_LEAD_IN_CHARS = 5


def _plain_yes(lexicon: Lexicon) -> str | None:
    """The language's own word for yes (the first of its yes words, normalised): "yes", "oui", "是"."""
    phrases = lexicon.signals.get("yes")
    return phrases[0].normalised if phrases else None


def _clause_closes_with_yes(statement: str, language: str, lexicons: Mapping[str, Lexicon]) -> bool:
    """Whether a clause of the sentence ends on the language's own word for yes, and no word of it
    says no ("quero o preto certo sim, manda": I want the right black one, yes, send it; not "it
    arrived ok, but…")."""
    groups = _answer_groups(language, lexicons)
    word = _plain_yes(lexicons[language]) if language in lexicons else None
    if not word:
        return False
    closing = False
    for clause in re.split(r"[,;:]", statement):
        norm = normalise(clause)
        matches = _conditional_yes(norm, _find(norm, groups), language)
        if any(m.label == "no" for m in matches):
            return False
        last = matches[-1] if matches else None
        # ("…かかってもいいので手続きお願いします": a yes phrase of Han or kana letters closes it too.)
        if last is None or last.end != len(norm) or last.start == 0:
            continue
        closing = closing or last.phrase.normalised == word or (last.label == "yes" and _cjk_phrase(last.phrase.normalised))
    return closing


def _statement_answer(statement: str, language: str, lexicons: Mapping[str, Lexicon]) -> str | None:
    """A yes or no that opens a sentence without a question mark and says more than the answer
    word ("oui c'est parfait.", "and yes please open it"; a bare "ok." before a question is no answer)."""
    norm = normalise(statement)
    groups = _answer_groups(language, lexicons)
    matches = _conditional_yes(norm, _find(norm, groups), language)
    if matches and matches[0].start > _LEAD_IN_CHARS:
        return "yes" if _clause_closes_with_yes(statement, language, lexicons) else None
    if not matches:
        return None
    # The rest of a word an answer opens is the answer still ("righto", "okayy").
    end = matches[0].end
    while end < len(norm) and norm[end].isalnum():
        end += 1
    phrase = matches[0].phrase.normalised
    if matches[0].start == 0 and len(matches) < 2 and not norm[end:].strip() and _units(phrase) < 2 and not _cjk_phrase(phrase):
        # ("确定取消，钱多久退回来？": a yes of four Han letters, "confirm the cancellation", answers.)
        return None
    if _units(_without(norm, matches)) < WORD_UNITS and len(matches) < 2 and _units(phrase) < 2 and not _cjk_phrase(phrase):
        # A bare "ok." before a question is none; "네 변경해주세요!" (yes, change it!) is two answers,
        # "tak, poproszę." (yes, please) one of two words, "好 退吧。" (fine, refund it) a yes and a verb.
        return None
    if any(m.label == "no" for m in matches):
        return "no"
    # "Ok I understand. And if I don't pay?": the customer takes in an answer, and agrees to nothing.
    return None if _only_acknowledged(_without(norm, matches)) else "yes"


def beyond_answer(text: str, language: str, directory: Path | None = None) -> float:
    """How much of the message is left once its yes/no words are out ("no, wait, I changed my mind": nothing)."""
    lexicons = load_lexicons(directory)
    norm = normalise(text)
    groups = _answer_groups(language, lexicons)
    return _units(_without(norm, _find(norm, groups)))


# A coupon named, or the discount an apology offers ("lo del descuento no me interesa").
COUPON_WORDS = re.compile(
    r"(?i)coupon|voucher|discount\s+code|cup[oó]n|bon\s+de\s+r[ée]duction|bon\s+d['’\s]?achat|pour\s+le\s+bon(?![^\W\d_])|code\s+promo|gutschein|rabattcode|buono|cupom|"
    r"kortingsbon|kortingscode|kupon|kupon(?:u|a)?|купон|промокод|كوبون|قسيمة|优惠券|クーポン|쿠폰|"
    r"discount|descuento|r[ée]duction|rabatt|sconto|desconto|korting|rabat|indirim|скидк|خصم|折扣|割引|할인"
)

# Words asking for a gesture: a coupon, a discount, compensation.
COMPENSATION_WORDS = re.compile(
    COUPON_WORDS.pattern
    + r"|discount|compensat|something\s+for|goodwill|inconvenien|make\s+(?:it\s+)?up\s+for|for\s+the\s+(?:wait|delay|trouble)|"
    r"descuento|compensa(?:ci|r)|reduction|geste|rabatt|entschadig|sconto|"
    r"risarciment|descont|compensa[cç]|korting|compensatie|tegemoetkoming|rabat|rekompensat|indirim|telafi|скидк|компенсац|خصم|تعويض|"
    r"折扣|补偿|賠償|割引|補償|할인|보상|"
    # "algo por las molestias": something for the trouble.
    r"molestias|disagi|desagrement|derangement|unannehmlichkeit|ongemak|niedogodnos|rahatsizlik|неудобств|إزعاج|不便|ご迷惑|불편"
)


# Thanks for an explanation (in normalised text): the customer acknowledges what they were told.
THANKS_FOR_EXPLAINING = re.compile(
    r"(?<![^\W\d_])(?:thanks?(?:\s+you)?\s+for\s+(?:explaining|the\s+(?:explanation|info(?:rmation)?|update)|clarifying|letting\s+me\s+know)|"
    r"gracias\s+por\s+(?:explicar|la\s+(?:explicacion|informacion|info))|merci\s+pour\s+(?:l\s?explication|les?\s+infos?|l\s?info)|"
    r"danke\s+fur\s+(?:die\s+(?:erklarung|infos?|auskunft))|grazie\s+(?:per\s+(?:la\s+spiegazione|l\s?informazione|le\s+info))|"
    r"obrigad[oa]\s+pela\s+(?:explicacao|informacao|info)|bedankt\s+voor\s+(?:de\s+(?:uitleg|info(?:rmatie)?))|"
    r"dzieki\s+za\s+(?:wyjasnienie|informacje|info)|dziekuje\s+za\s+(?:wyjasnienie|informacje)|"
    r"(?:aciklama|bilgi(?:lendirme)?)\s+icin\s+tesekkur(?:ler|ederim)|спасибо\s+за\s+(?:объяснение|информацию|разъяснение)|"
    r"شكرا\s+(?:علي|على)\s+(?:التوضيح|المعلومات|الشرح))(?![^\W\d_])|谢谢(?:你的|您的)?(?:解释|说明)|感谢(?:解释|说明)|"
    r"説明(?:して(?:くれて|いただき))?ありがと|설명\s?(?:해\s?주셔서\s?)?감사"
)


def only_that_one(text: str, language: str, directory: Path | None = None) -> bool:
    """Whether the message points to one thing alone ("just that one", "solo quello")."""
    return bool(_find(normalise(text), _signal_groups(language, "only_that", load_lexicons(directory))))


def says_unchanged(text: str, language: str, directory: Path | None = None) -> bool:
    """Whether the message says things stay as they are ("nessuna modifica", "leave it as it is")."""
    return bool(_find(normalise(text), _signal_groups(language, "unchanged", load_lexicons(directory))))


def answer_words(text: str, language: str, directory: Path | None = None) -> set[str]:
    """Which answers ("yes", "no") the message's words hold, wherever they stand."""
    norm = normalise(text)
    return {m.label for m in _find(norm, _answer_groups(language, load_lexicons(directory)))}


def says_plain_yes(text: str, language: str, directory: Path | None = None) -> bool:
    """Whether the message holds a language's own word for yes ("sì", "oui", "yes"; "oui merci" in
    an English chat too), not only an "ok" or "va bene" that may just take in what was said."""
    lexicons = load_lexicons(directory)
    norm = normalise(text)
    words = set(norm.split())
    for lexicon in lexicons.values():
        plain = _plain_yes(lexicon)
        # (Letters without spaces between words, "是", "はい", "네", are found inside the text.)
        if plain and (plain in words or (not plain.isascii() and _is_cjk(plain[0]) and plain in norm)):
            return True
    return False


def opens_with_yes(text: str, language: str, directory: Path | None = None) -> bool:
    """Whether the message starts with a yes ("evet iptal et", "yes, cancel it")."""
    lexicons = load_lexicons(directory)
    matches = _find(normalise(text), _answer_groups(language, lexicons))
    return bool(matches) and matches[0].start == 0 and matches[0].label == "yes"


def _shouting(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha() and ch.lower() != ch.upper()]
    if len(letters) < _SHOUTING_MIN_LETTERS:
        return False
    return sum(1 for ch in letters if ch.isupper()) / len(letters) >= 0.7


_ITEM_CLAUSE = re.compile(r"[.;!?。！？\n,，、]+")


def item_spots(norm: str, names: Sequence[str]) -> list[tuple[int, int, str]]:
    """Where in the normalised text each of the item `names` is named, by its longer words:
    (start, end, name), for the names found."""
    spots = []
    for name in names:
        words = [w for w in normalise(name).split() if len(w) > 2]
        hits = [(norm.find(w), norm.find(w) + len(w)) for w in words if w in norm]
        if hits:
            spots.append((min(a for a, _ in hits), max(b for _, b in hits), name))
    return spots


def kept_items(
    texts: Sequence[str], language: str, names: Sequence[str], directory: Path | None = None, *, unchanged_only: bool = False
) -> set[str]:
    """Which of the item `names` the customer says are fine or that they keep ("the vase is
    fine", "Travel Backpack zostawiam", "I'll keep the hoodie"): in the same clause, words after
    an item's name speak of that item, and "keep the …" of the item that follows. With
    `unchanged_only`, only those said to stay as they are ("Pet Bed不用动", "mag blijven")."""
    lexicons = load_lexicons(directory)
    after = _signal_groups(language, "kept_after", lexicons) if not unchanged_only else []
    after += _signal_groups(language, "unchanged", lexicons)
    before = _signal_groups(language, "kept_before", lexicons) if not unchanged_only else []
    fine = _signal_groups(language, "kept_after", lexicons)
    kept: set[str] = set()
    for text in texts:
        said_fine: str | None = None
        for clause in _ITEM_CLAUSE.split(text):
            norm = normalise(clause)
            spots = item_spots(norm, names)
            if len(spots) == 0:
                if said_fine and _find(norm, after):
                    # "The Pet Bed is fine, no change for that one please": the item said fine
                    # just before is the one to leave as it is.
                    kept.add(said_fine)
                said_fine = None
                continue
            fine_words = [m for m in _find(norm, fine) if m.start >= max(spot[1] for spot in spots)]
            said_fine = max(spots)[2] if fine_words else None
            for m in _find(norm, after):
                earlier = [spot for spot in spots if spot[1] <= m.start]
                if earlier:
                    kept.add(max(earlier)[2])
            for m in _find(norm, before):
                later = [spot for spot in spots if spot[0] >= m.end]
                if later:
                    kept.add(min(later)[2])
    return kept


# Staff who are not the shop's, in the normalised text: "I asked the building manager" asks for no
# manager of ours.
OTHER_PEOPLES_STAFF = re.compile(
    r"(?<![^\W\d_])(?:(?:building|property|site|apartment|block|house|estate|office|store|post\s+office)\s+manager|"
    # "Nobody has called me": a call that did not come is no call asked for.
    r"(?:nobody|no\s+one|noone|hasn\s?t|has\s+not|didn\s?t|did\s+not|never)\s+(?:has\s+)?(?:called|rang|contacted|phoned)\s+me)"
    r"(?![^\W\d_])"
)


def human_spots(text: str, language: str, directory: Path | None = None) -> tuple[str, list[tuple[int, int]]]:
    """The normalised message and the spans of its words for a person to talk to."""
    norm = OTHER_PEOPLES_STAFF.sub(" ", normalise(text))
    return norm, [(m.start, m.end) for m in _find(norm, _signal_groups(language, "human", load_lexicons(directory)))]


def read_signals(text: str, language: str, directory: Path | None = None) -> Signals:
    """Yes/no, human, legal and anger signals from the lexicons of the message's language
    and English. "yes"/"no" only when the message is essentially an answer (short, or opens
    with it); "no" wins over "yes" ("yes... actually no")."""
    lexicons = load_lexicons(directory)
    norm = normalise(text)
    wants_human = bool(_find(OTHER_PEOPLES_STAFF.sub(" ", norm), _signal_groups(language, "human", lexicons)))
    legal = bool(_find(norm, _signal_groups(language, "legal", lexicons)))
    angry = bool(_find(norm, _signal_groups(language, "angry", lexicons))) or _shouting(text) or "!!!" in text
    return Signals(
        affirmation=_affirmation(text, language, lexicons),
        wants_human=wants_human,
        legal_threat=legal,
        angry=angry,
        closing=_closing(norm, language, lexicons),
    )


def says_both(text: str, language: str, directory: Path | None = None) -> bool:
    """Whether the message speaks of two things at once ("yes, do both", "jedno i drugie")."""
    return bool(_find(normalise(text), _signal_groups(language, "both", load_lexicons(directory))))


def _closing(norm: str, language: str, lexicons: Mapping[str, Lexicon]) -> bool:
    """Thanks or goodbye with at most a few words around them ("ok thanks, bye!")."""
    groups = _signal_groups(language, "closing", lexicons)
    matches = _find(norm, groups)
    if not matches:
        return False
    leftover = _without(norm, matches)
    others = _find(leftover, _answer_groups(language, lexicons))
    rest = _units(leftover) - sum(_units(m.phrase.normalised) for m in others)
    return rest <= CLOSING_LEFTOVER_UNITS


# ---------------------------------------------------------------- slots


@dataclass(frozen=True)
class Slots:
    """Details found in the message. Order numbers are normalised ("#1001", "#W1234567",
    "123-1234567-1234567"); amounts carry an ISO currency code when one is given."""

    order_ids: tuple[str, ...]
    emails: tuple[str, ...]
    postal_codes: tuple[str, ...]
    names: tuple[str, ...]
    amounts: tuple[tuple[Decimal, str | None], ...]
    address: str | None
    item_hints: tuple[str, ...]
    # Unlabelled numbers that may be order numbers; used only when the store has such an order.
    order_candidates: tuple[str, ...] = ()
    # Capitalised pairs and postal-code shapes found without a pattern that expects them: tried
    # against the store only together with a name or postal code, never a proof on their own.
    name_candidates: tuple[str, ...] = ()
    postal_candidates: tuple[str, ...] = ()


_NB = r"(?<![0-9A-Za-z-])"  # not glued to a preceding ASCII letter, digit or dash
_NA = r"(?![0-9A-Za-z-])"
_AMAZON = re.compile(_NB + r"(\d{3})[-\s](\d{7})[-\s](\d{7})" + _NA)
_EBAY = re.compile(_NB + r"\d{2}-\d{5}-\d{5}" + _NA)
_W_ORDER = re.compile(r"(?<![0-9A-Za-z])#?\s?([Ww]\d{7})(?!\d)")
_HASH_ORDER = re.compile(r"(?<![0-9A-Za-z&])#\s?(\d{3,10})(?![\d.,]?\d)")
# Words that follow an order number ("1348 nolu sipariş", "1348번 주문", "1348号订单").
# "1348 nolu", "1348번", "1348号"; not a room or a house number ("305号室", "张杨路500号", "18번지").
_SUFFIXED_ORDER = re.compile(
    r"(?<![\d.,])(?<![路街道巷弄里])(\d{3,10})\s*(?:no['’]?lu|numaral[ıi]|번(?!지)|號|号)(?![室楼樓棟館馆])"
)
# A bare number in a message that names no order otherwise: an order number only if the store has it.
_BARE_NUMBER = re.compile(r"(?<![\d.,:/+-])(?<![A-Za-z])(\d{4,12})(?![\d.,:/]?\d)(?![A-Za-z])")
# Introductions that are ordinary words too ("I'm", "soy", "ich bin"): a name follows only when
# it is written as one, two or three capitalised words.
_WEAK_INTRO = (
    r"(?:i['’]?m|i\s+am|this\s+is|it['’]s|soy|je\s+suis|moi\s+c['’]est|ich\s+bin|hier\s+ist|sono|qui\s+[èe]|sou|aqui\s+[ée]|"
    r"ik\s+ben|met|jestem|z\s+tej\s+strony|ben|я|это|أنا|我是|我叫|私は|わたしは|저는|제\s?이름은)"
)
_CAPITALISED_NAME = re.compile(
    r"(?i:(?<![^\W\d_])" + _WEAK_INTRO + r")[\s:,]*((?:[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'’-]+)(?:[ \t]+[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'’-]+){1,2})"
    r"(?=\s*(?:$|[,.;:!?、。，]|です|입니다|이에요|and|y|et|und|e|en|i|ve|и|و|zip|postal|my|mi|mon|mein|il|o|\())"
)

# Words that introduce an order number. Latin and Cyrillic labels must start a word; Han,
# kana, Hangul and Arabic ones attach to what precedes them ("我的订单1001").
_ORDER_LABEL_WORDS = (
    r"(?:order|order\s+id|ord|pedido|encomenda|commande|cde|bestellung|bestellnummer|bestellnr\.?|best\.?(?:-nr\.?)?|auftragsnummer|auftrag|"
    r"nr\.?|n\.|n[°º]\.?|№|no\.?|zam\.?|"
    r"ordine|bestelling|bestelnummer|ordernummer|zam[oó]wieni[ae]|sipari[sş](?:im|imin)?|номер\s+заказа|заказ[а-я]*)"
)
_ORDER_LABEL_ATTACHED = r"(?:رقم\s+الطلب|رقم\s+طلبي|الطلب|طلبي|طلب|订单号?|訂單號?|注文番号|ご注文番号|注文|주문\s?번호|주문)"
_ORDER_FILLER = (
    r"(?:\s*(?:number|num\.?|no\.?|nr\.?|n\.?\s?[°ºo]\.?|id|#|:|：|número|numero|nummer|numer|numaras[ıi]|numaram|"
    r"номер|№|رقم|号|號|は|是|为|：|은|는|ist|est|es|è|é|is)\s*)*"
)
_LABELLED_ORDER = re.compile(
    r"(?i)(?:(?<![^\W\d_])"
    + _ORDER_LABEL_WORDS
    + r"|"
    + _ORDER_LABEL_ATTACHED
    + r")"
    + _ORDER_FILLER
    + r"\s*#?\s?(\d{3,10})(?![\d.,]?\d)"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")

_POSTAL_PATTERNS: tuple[str, ...] = (
    r"\d{5}-\d{3}",  # Brazil
    r"\d{4}-\d{3}",  # Portugal
    r"\d{5}-\d{4}",  # US ZIP+4
    r"\d{3}-\d{4}",  # Japan
    r"\d{2}-\d{3}",  # Poland
    r"\d{4}\s?[A-Z]{2}",  # Netherlands
    r"[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}",  # United Kingdom
    r"[A-Z]\d{2}[A-Z]\d[A-Z]\d",  # Kazakhstan
    r"[AC-FHKNPRTV-Y]\d{2}\s?[AC-FHKNPRTV-Y0-9]{4}",  # Ireland (Eircode)
    r"[A-Z]\d[A-Z]\s?\d[A-Z]\d",  # Canada
    r"\d{5}",  # US, Germany, France, Spain, Italy, Korea…
    r"\d{6}",  # China, Kazakhstan (old), Russia
)
_POSTAL_ANY = r"(?:" + "|".join(_POSTAL_PATTERNS) + r")"
_POSTAL_LABEL = re.compile(
    r"(?i)(?<![^\W\d_])(?:postal\s?code|post\s?code|zip\s?code|zip|plz|postleitzahl|code\s+postal|c\.p\.|cp|c[oó]digo\s+postal|cap|cep|"
    r"kod\s+pocztowy|posta\s+kodu|почтовый\s+индекс|индекс|الرمز\s+البريدي|邮编|邮政编码|郵便番号|〒|우편\s?번호)"
    r"(?:\s*(?:is|es|est|ist|è|é|:|：|は|是|는|은|-))*\s*(" + _POSTAL_ANY.replace("[A-Z]", "[A-Za-z]") + r"|\d{4})" + _NA
)
# Inside an address also: Argentina's "C1045AAF", and four digits before the city ("8001 Zürich",
# "1180 Uccle", "1010 Wien") that alone would be any number.
_ADDRESS_POSTAL = (
    r"(?:" + _POSTAL_ANY + r"|[A-Z]\d{4}[A-Z]{3}|\d{4}(?=\s+[A-ZÀ-Ý][^\W\d_]{2,})"
    # Australian: the state, then four digits ("Brunswick VIC 3056").
    r"|(?<=(?:NSW|VIC|QLD|TAS|ACT)\s)\d{4}|(?<=(?:NT|SA|WA)\s)\d{4})"
)
_POSTAL_IN_ADDRESS = re.compile(_NB + r"(" + _ADDRESS_POSTAL + r")" + _NA)
_POSTAL_BEFORE_CITY = re.compile(
    _NB + r"(\d{5}(?:-\d{3,4})?|\d{4}\s?[A-Z]{2}|\d{2}-\d{3})\s+(?=[A-ZÀ-ÝŁŚŻŹĆŃÓ][a-zà-ÿąćęłńóśźżğışç]{2,})"
)
_POSTAL_AFTER_STATE = re.compile(r"(?<![A-Za-z])[A-Z]{2}\s+(\d{5}(?:-\d{4})?)" + _NA)

_NAME_WORD = r"[^\W\d_](?:[^\W\d_]|['’-](?=[^\W\d_]))*"
_LATIN_NAME_INTRO = (
    r"my\s+name\s+is|my\s+name's|(?:the\s+)?name\s+is|name(?=\s*:)|me\s+llamo|mi\s+nombre\s+es|je\s+m['’]\s?appelle|mon\s+nom\s+est|"
    r"ich\s+hei(?:ß|ss)e|mein\s+name\s+ist|mi\s+chiamo|il\s+mio\s+nome\s+[èe]|meu\s+nome\s+[ée]|me\s+chamo|chamo-me|"
    r"mijn\s+naam\s+is|ik\s+heet|nazywam\s+si[ęe]|mam\s+na\s+imi[ęe]|(?:benim\s+)?ad[ıi]m|ismim|меня\s+зовут|моё\s+имя|мое\s+имя"
)
_LATIN_NAME = re.compile(
    r"(?i:(?<![^\W\d_])(" + _LATIN_NAME_INTRO + r"))[\s:,]+(" + _NAME_WORD + r"(?:[ \t]+" + _NAME_WORD + r"){0,3})"
)
# Introductions that are also ordinary words ("adım" is "step" in Turkish).
_WEAK_NAME_INTROS = frozenset({"adim", "ismim"})
_ARABIC_NAME = re.compile(r"(?:اسمي|إسمي|أنا\s+اسمي)\s*[:：]?\s+([\u0621-\u064a]+(?:\s+[\u0621-\u064a]+)?)")
_CHINESE_NAME = re.compile(
    r"(?:我叫|我的名字是|我的名字叫|我名叫)\s*([\u4e00-\u9fff]{1,4}?)(?=[\s,，。.!！?？、;；]|我|的|订单|想|要|在|$)"
)
_JAPANESE_NAME = re.compile(
    r"(?:私の名前は|名前は|わたしは|私は)\s*([\u4e00-\u9fff\u30a0-\u30ffー々・A-Za-z ]{1,12}?)"
    r"\s*(?:です|と申します|といいます|と言います)"
)
_JAPANESE_MOSHIMASU = re.compile(r"(?<![\u4e00-\u9fff\u30a0-\u30ffー々])([\u4e00-\u9fff\u30a0-\u30ffー々]{2,8})と申します")
_KOREAN_NAME = re.compile(r"(?:제\s?이름은|이름은)\s*([가-힣]{2,4}?)(?:입니다|이에요|예요|이고|이며|라고|이라고|\s|[.,!]|$)")
_KOREAN_JEONEUN = re.compile(r"저는\s*([가-힣]{2,4}?)(?:입니다|이에요|예요|이라고\s?합니다|라고\s?합니다)")
_NAME_PARTICLES = frozenset(
    {"de", "da", "do", "dos", "das", "del", "della", "di", "van", "von", "der", "den", "la", "le", "du", "ten"}
)
_NAME_STOP = frozenset(
    {
        "and", "i", "my", "the", "from", "here", "please", "y", "et", "und", "e", "en", "ve", "и", "mi", "mon", "mein",
        "il", "meu", "mijn", "moje", "moj", "benim", "order", "pedido", "commande", "bestellung", "ordine", "im",
        "a", "an", "au", "aus", "de", "da", "por", "pour", "para", "per", "voor", "z", "ze", "with", "con", "avec", "mit",
        "com", "met", "ich", "je", "yo", "io", "eu", "ik", "ja", "ben", "я", "а", "but", "pero", "mais", "aber",
        "ma", "mas", "maar", "ale", "ama", "но", "is", "es", "est", "ist", "è", "é", "zamowienie", "siparis",
    }
)  # fmt: skip
_ARABIC_NAME_STOP = frozenset({"و", "من", "في", "رقم", "طلبي", "وطلبي", "ورقم", "واريد", "وأريد", "اريد", "أريد", "عندي", "لدي"})

_CURRENCY_PREFIX: dict[str, str] = {
    "R$": "BRL", "US$": "USD", "CA$": "CAD", "C$": "CAD", "AU$": "AUD", "A$": "AUD", "MX$": "MXN", "HK$": "HKD",
    "€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY", "₩": "KRW", "₺": "TRY", "₽": "RUB", "₹": "INR", "zł": "PLN",
}  # fmt: skip
_CURRENCY_CODES = (
    "EUR", "USD", "GBP", "JPY", "CNY", "RMB", "KRW", "TRY", "PLN", "BRL", "RUB", "CHF", "SEK", "NOK", "DKK", "CAD", "AUD",
    "MXN", "AED", "SAR", "EGP", "MAD", "HKD", "TWD", "INR", "CZK", "HUF", "RON",
)  # fmt: skip
_CURRENCY_SUFFIX: dict[str, str] = {
    "€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY", "円": "JPY", "元": "CNY", "块": "CNY", "塊": "CNY", "원": "KRW",
    "₩": "KRW", "₺": "TRY", "tl": "TRY", "zł": "PLN", "zl": "PLN", "złotych": "PLN", "zlotych": "PLN", "złote": "PLN",
    "₽": "RUB", "руб": "RUB", "руб.": "RUB", "рублей": "RUB", "рубля": "RUB", "р.": "RUB", "euro": "EUR", "euros": "EUR",
    "eur": "EUR", "евро": "EUR", "dollars": "USD", "dollar": "USD", "dólares": "USD", "dolares": "USD", "dollari": "USD",
    "долларов": "USD", "pounds": "GBP", "livres": "GBP", "yen": "JPY", "yuan": "CNY", "won": "KRW",
    "lira": "TRY", "liras": "TRY", "lire": "TRY", "reais": "BRL", "usd": "USD", "pln": "PLN",
    "يورو": "EUR", "دولار": "USD", "ريال": "SAR", "درهم": "AED", "جنيه": "EGP", "юаней": "CNY", "фунтов": "GBP",
    "ユーロ": "EUR", "ドル": "USD", "欧元": "EUR", "美元": "USD", "유로": "EUR", "달러": "USD",
}  # fmt: skip
_NUMBER = r"\d{1,3}(?:[.,'\u00a0\u202f ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"


def _alternatives(tokens: Iterable[str]) -> str:
    return "|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True))


_AMOUNT_PREFIX = re.compile(
    r"(?<![A-Za-z0-9])(?P<cur>" + _alternatives(_CURRENCY_PREFIX) + r"|" + "|".join(_CURRENCY_CODES) + r")"
    r"\s?(?P<num>" + _NUMBER + r")(?![\d])"
)
_AMOUNT_SUFFIX = re.compile(
    r"(?<![\d.,])(?P<num>" + _NUMBER + r")\s?(?P<cur>" + _alternatives(_CURRENCY_SUFFIX) + r"|" + "|".join(_CURRENCY_CODES) + r")"
    r"(?![A-Za-z\u0400-\u04ff\u0600-\u06ff])",
    re.IGNORECASE,
)

_ADDRESS_STRONG = (
    r"new\s+(?:delivery\s+|shipping\s+)?address(?:\s+is)?|my\s+(?:new\s+)?address\s+is|ship\s+(?:it\s+)?to|deliver\s+(?:it\s+)?to|"
    r"send\s+it\s+to|nueva\s+direcci[oó]n(?:\s+es)?|mi\s+(?:nueva\s+)?direcci[oó]n\s+es|enviar(?:lo)?\s+a|"
    r"nouvelle\s+adresse(?:\s+est)?|mon\s+(?:adresse|nouvelle\s+adresse)\s+est|livrer\s+[àa]|"
    r"neue\s+(?:liefer)?adresse(?:\s+ist)?|meine\s+(?:neue\s+)?adresse\s+ist|liefern\s+an|"
    r"nuovo\s+indirizzo(?:\s+[èe])?|il\s+mio\s+(?:nuovo\s+)?indirizzo\s+[èe]|"
    r"novo\s+endere[çc]o(?:\s+[ée])?|nova\s+morada|meu\s+(?:novo\s+)?endere[çc]o\s+[ée]|a\s+minha\s+morada\s+[ée]|"
    r"nieuw\s+adres(?:\s+is)?|mijn\s+(?:nieuwe\s+)?adres\s+is|nowy\s+adres(?:\s+to)?|m[oó]j\s+(?:nowy\s+)?adres\s+to|"
    r"yeni\s+adres(?:im)?|adresim|новый\s+адрес|мой\s+(?:новый\s+)?адрес|(?:отправьте|доставьте|пришлите)(?:\s+пожалуйста)?\s+на|"
    r"العنوان\s+الجديد|عنواني\s+الجديد|عنواني|新地址|新的地址|新しい住所|新住所|새\s?주소"
)
# Chinese writes no spaces: "改送到我公司：…" (deliver it to my office instead: …) needs no word boundary;
# a Japanese address opens with its postal mark ("〒150-0001 東京都…").
_ADDRESS_CJK = (
    r"(?:改)?(?:送|寄|发|發)到(?:我(?:的)?(?:公司|家|单位|單位))?\s*[:：]\s*|新住所\s*[:：]?\s*|(?=〒\s?\d{3}-?\d{4})"
    # "배송지는 (13561) 경기도 성남시 …": the Korean address word, then a postal code or a province or city.
    r"|(?:배송지|배송\s?주소|주소)(?:는|은|를)?\s*[:：]?\s*(?=\(?\d{5}\)?\s|[가-힣]{2,}(?:시|도)\s)"
    # "서울특별시 마포구 성미산로 123 …" on its own: a province or city, then a district.
    r"|(?<![가-힣])(?=[가-힣]{2,}(?:특별시|광역시|특별자치시|특별자치도|도)\s+[가-힣]+(?:구|군|시)\s)"
    # "改成 浙江省杭州市西湖区…": a change to a province and a city.
    r"|(?:改成|改为|改為|改到|换成|換成)\s*[:：]?\s*(?=[\u4e00-\u9fff]{2,3}(?:省|自治区)[\u4e00-\u9fff]{2,}市|[\u4e00-\u9fff]{2}市[\u4e00-\u9fff]{2,}区)"
)
_ADDRESS_WEAK = (
    r"address|shipping\s+address|delivery\s+address|direcci[oó]n|adresse|lieferadresse|anschrift|indirizzo|endere[çc]o|morada|"
    r"adres|адрес|العنوان|地址|收货地址|住所|お届け先|주소|배송지"
)
# "adres is Lindenlaan 23, …": the address word with "is", when a number follows soon ("the address
# is wrong" gives none).
_ADDRESS_IS = (
    r"(?:address|adres|adresse|direcci[oó]n|indirizzo|endere[çc]o|morada)\s+(?:is|ist|est|es|[èe]|[ée]|to)\s+(?=[^\n?]{0,40}\d)"
)
_ADDRESS = re.compile(
    r"(?i)(?:(?<![^\W\d_])"
    + _ADDRESS_IS
    + r"|(?<![^\W\d_])(?:"
    + _ADDRESS_STRONG
    + r")(?:\s*[:：]\s*|\s*(?:は|是|为|는|은)\s*|\s+)"
    # "bitte an folgende Adresse liefern: …": a few words may stand between the address word and the
    # colon; a Korean particle may close the word ("배송지도 회사로 변경해 주세요: …").
    r"|(?<![^\W\d_])(?:"
    + _ADDRESS_WEAK
    + r")(?:도|는|은|를|가)?(?:\s+[^\W\d_]+){0,3}\s*[:：]\s*|"
    + _ADDRESS_CJK
    + r")(?P<addr>[^\n]+)"
)
# Sentence ends inside an address: not after an abbreviation ("ул. Ленина, д. 12", "Cad. No: 45").
_SENTENCE_SPLIT = re.compile(r"(?<=[!?。！？])\s*|(?<=[^\W\d_]{4}\.)(?<!str\.)\s+|(?<=\d\.)\s+")
_ADDRESS_TAIL = re.compile(
    r"(?i)(?:[,;]?\s*(?:please|thanks|thank\s+you|thx|gracias|por\s+favor|merci|s'il\s+vous\s+pla[iî]t|danke|bitte|grazie|"
    r"per\s+favore|obrigad[oa]|bedankt|alstublieft|dzi[eę]kuj[eę]|prosz[eę]|te[sş]ekk[uü]rler|l[uü]tfen|спасибо|пожалуйста|"
    r"شكرا|من\s+فضلك|谢谢|请|ありがとう(?:ございます)?|(?:に|へ|で)?(?:送って|変更して|届けて)?(?:ください|下さい|お願いします)|"
    r"감사합니다))+\s*[.!。！]*\s*$"
)
_SIZE_LABEL = re.compile(
    r"(?i)(?<![^\W\d_])(size|talla|taille|gr[öo](?:ß|ss)e|taglia|tamanho|maat|rozmiar|beden|размер|مقاس|尺码|尺寸|サイズ|사이즈)"
    r"\s*[:：]?\s*(\d{1,2}(?:[.,]5)?|[2-5]?X{0,3}[SML]|XX?L)(?![\w])"
)
_SIZE_TOKEN = re.compile(r"(?<![\w])((?:[2-5]X|X{1,3})[SL]|XS)(?![\w])")


def _clean_name(words: list[str]) -> str | None:
    kept: list[str] = []
    capitalised = words[0][:1].isupper()
    for index, word in enumerate(words):
        word = word.strip(".'’-")
        if not word:
            break
        low = word.lower()
        if capitalised:
            if word[:1].isupper() or (
                low in _NAME_PARTICLES and kept and index + 1 < len(words) and words[index + 1][:1].isupper()
            ):
                kept.append(word)
            else:
                break
        else:
            if low in _NAME_STOP or len(kept) >= 2:
                break
            kept.append(word.capitalize())
    return " ".join(kept) if kept else None


def _names(text: str) -> list[str]:
    names: list[str] = []
    for m in _LATIN_NAME.finditer(text):
        words = m.group(2).split()
        if m.group(1).lower().replace("ı", "i") in _WEAK_NAME_INTROS and not words[0][:1].isupper():
            continue
        name = _clean_name(words)
        if name:
            names.append(name)
    for m in _ARABIC_NAME.finditer(text):
        words = m.group(1).split()
        kept = [words[0]] if words[0] not in _ARABIC_NAME_STOP else []
        if kept and len(words) > 1 and words[1] not in _ARABIC_NAME_STOP and not words[1].startswith("و"):
            kept.append(words[1])
        if kept:
            names.append(" ".join(kept))
    for m in _CAPITALISED_NAME.finditer(text):
        name = _clean_name(m.group(1).split())
        if name and name not in names:
            names.append(name)
    for pattern in (_CHINESE_NAME, _JAPANESE_NAME, _JAPANESE_MOSHIMASU, _KOREAN_NAME, _KOREAN_JEONEUN):
        for m in pattern.finditer(text):
            name = m.group(1).strip()
            if name:
                names.append(name)
    return names


_UPPER = r"[A-ZÀ-ÖØ-ÞĀ-Žא-תА-ЯЁ]"
_LOWER = r"[a-zß-öø-ÿā-žа-яё'’-]"
# Two or three capitalised words: a first name, a last name and perhaps a second one.
_FULL_NAME = _UPPER + _LOWER + r"+(?:[ \t]+" + _UPPER + _LOWER + r"+){1,2}"
# A name written without an introduction, next to a postal code: "Louis Martin, 31000",
# "name is Carmen González, postcode 41019", "Александр Попов cp Z00T0A1".
_BARE_NAME = re.compile(
    r"(?:^|(?<=[\s,:;]))(?:(?i:(?:full\s+)?name(?:\s+is)?|nombre|nom|name|naam|imi[eę]|isim|имя)\s*[:,]?\s*)?"
    r"(" + _FULL_NAME + r")(?=\s*(?:[,;(]|$|\s+(?i:zip|post|plz|cp|c\.p\.|cap|cep|code|kod|индекс|\d)))"
)
# A message that is only a name and a postal code: "Davi Ferreira, 22691-674".
_NAME_THEN_POSTAL = re.compile(
    r"^(?:(?i:(?:full\s+)?name(?:\s+is)?)\s*[:,]?\s*)?(" + _FULL_NAME + r")"
    r"\s*[,;]?\s*(" + _POSTAL_ANY + r")\s*[.!]?$"
)
_LOWER_NAME_INTRO = re.compile(r"(?i)(?<![^\W\d_])(?:full\s+)?name\s+is\s+([^\W\d_]+\s+[^\W\d_]+)")
# Capitalised words that open a message and are no name: greetings and the like ("Guten Tag, David Williams").
_NOT_NAMES = frozenset(
    {"hi", "hello", "hey", "hola", "bonjour", "hallo", "ciao", "olá", "ola", "hej", "dear", "thanks", "thank", "my", "the",
     "good", "morning", "afternoon", "evening", "guten", "tag", "morgen", "abend", "servus", "moin", "buenos", "buenas",
     "días", "dias", "tardes", "noches", "bonsoir", "salut", "buongiorno", "buonasera", "salve", "bom", "boa", "dia",
     "tarde", "goedemorgen", "goedemiddag", "goedenavond", "dag", "dzień", "dzien", "dobry", "merhaba", "selam",
     "здравствуйте", "добрый", "день", "вечер", "привет"}
)  # fmt: skip


# Capitalised words of the cased scripts, whatever is glued around them ("Ивановです", "Pérez、").
_CAPITALISED_WORD = re.compile(r"(?<![A-Za-zÀ-ÖØ-ÿĀ-žА-яЁё'’-])" + _UPPER + _LOWER + r"+(?![A-Za-zÀ-ÖØ-ÿĀ-žА-яЁё])")
_LOOSE_POSTAL = re.compile(r"(?<![0-9A-Za-z-])(" + _POSTAL_ANY.replace("[A-Z]", "[A-Za-z]") + r")(?![0-9A-Za-z-])")
LOOSE_NAMES = 4


def _loose_names(text: str) -> list[str]:
    """Every pair of capitalised words in a row (and the triple, for a middle name), first to last."""
    found: list[str] = []
    words = list(_CAPITALISED_WORD.finditer(text))
    for index in range(len(words) - 1):
        run = [words[index]]
        for following in words[index + 1 : index + 3]:
            if text[run[-1].end() : following.start()].strip(" \t") != "":
                break
            run.append(following)
        if len(run) >= 2:
            found.append(f"{run[0].group()} {run[1].group()}")
        if len(run) == 3:
            found.append(" ".join(m.group() for m in run))
    return [n for n in dict.fromkeys(found) if n.split()[0].lower() not in _NOT_NAMES][:LOOSE_NAMES]


_LONE_NAME = re.compile(
    r"^\s*(?:(?i:(?:my\s+)?(?:full\s+)?name(?:\s+is)?|i['’]?m|soy|je\s+suis|ich\s+bin|sono|sou|ik\s+ben|jestem|я)\s*[:,]?\s*)?("
    + _FULL_NAME
    + r")\s*[.!]?\s*$"
)


def lone_name(text: str) -> str | None:
    """The name, when the message is a name and nothing else ("David Williams", "name: Ana Costa")."""
    m = _LONE_NAME.match(unicodedata.normalize("NFKC", text))
    if not m or m.group(1).split()[0].lower() in _NOT_NAMES:
        return None
    return m.group(1)


def _bare_names(text: str) -> list[str]:
    """Names given without an introduction, in a message that carries a postal code."""
    found = []
    for m in _BARE_NAME.finditer(text):
        words = m.group(1).split()
        while words and words[0].lower() in _NOT_NAMES:
            words = words[1:]
        if len(words) >= 2:
            found.append(" ".join(words))
    for m in _LOWER_NAME_INTRO.finditer(text):
        found.append(" ".join(w.capitalize() for w in m.group(1).split()))
    return found[:1]


def _parse_number(raw: str) -> Decimal | None:
    s = raw.replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("'", "")
    if "," in s and "." in s:
        decimal_mark = "," if s.rfind(",") > s.rfind(".") else "."
        s = s.replace("." if decimal_mark == "," else ",", "").replace(decimal_mark, ".")
    elif "," in s or "." in s:
        mark = "," if "," in s else "."
        parts = s.split(mark)
        s = parts[0] + "." + parts[1] if len(parts) == 2 and len(parts[1]) in (1, 2) else "".join(parts)
    try:
        return Decimal(s)
    except InvalidOperation:
        return None


def _currency(token: str, language: str) -> str | None:
    if token in _CURRENCY_CODES:
        return "CNY" if token == "RMB" else token
    code = _CURRENCY_PREFIX.get(token) or _CURRENCY_SUFFIX.get(token) or _CURRENCY_SUFFIX.get(token.lower())
    if code == "JPY" and token == "¥" and language == "zh":
        return "CNY"
    return code


def _overlaps(span: tuple[int, int], spans: Iterable[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in spans)


def _dedupe(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


_STREET_WORD = (
    r"(?i)(?<![^\W\d_])(?:street|st\.?|road|rd\.?|avenue|ave\.?|lane|drive|dr\.?|boulevard|blvd|way|place|crescent|close|court|terrace|gardens|park|square|rue|avenue|bd|all[ée]e|"
    r"chemin|calle|carrer|passeig|rambla|c/|avenida|avda\.?|plaza|paseo|camino|via|viale|piazza|corso|rua|travessa|largo|pra[çc]a|stra(?:ß|ss)e|str\.|weg|"
    r"platz|allee|gasse|laan|straat|plein|gracht|steenweg|dreef|kade|singel|chauss[ée]e|av\.|ul\.?|ulica|al\.?|aleja|cad(?:desi)?\.?|sok(?:ak|a[gğ][ıi])?\.?|mah(?:allesi)?\.?|"
    r"улица|ул\.|проспект|пр\.|шоссе|شارع|طريق)(?![^\W\d_])|[a-zäöüß]+(?:stra(?:ß|ss)e|str\.|weg|platz|gasse|laan|straat|gracht|kade|singel|dijk|plein)"
)
_STREET_RE = re.compile(_STREET_WORD)
_CLAUSE_START = re.compile(r"[?!:;]|(?<=[a-z])\.\s")


_POINTING_INTRO = re.compile(
    r"(?i)(?:(?:la|el|the|my|mi|le|die|il|a|o|het|de)\s+)?(?:buena|correcta|nueva|right\s+one|correct\s+one|new\s+one|bonne|"
    r"nouvelle|richtige|neue|giusta|nuova|certa|nova|juiste|nieuwe)\s+(?:es|is|est|ist|è|é|e|to)\s+"
)
# Words that introduce an address and are not part of it: "o endereço novo é …", "c'est …",
# "lautet …", "new one is …".
_ADDRESS_INTRO = re.compile(
    r"(?i)^(?:(?:o|a|la|el|le|the|my|mi|meu|minha|mon|ma|die|meine|de|het|mijn|il|l['’])\s+)?"
    r"(?:(?:new|nuevo|nueva|novo|nova|nouvelle|neue|nuovo|nuova|nieuwe?|nowy|yeni)\s+)?"
    r"(?:one|address|endere[çc]o|morada|direcci[oó]n|adresse|indirizzo|adres|anschrift|адрес)?"
    r"(?:\s+(?:new|nuevo|nueva|novo|nova|nouvelle|neue|nuovo|nuova|nieuwe?|nowy|yeni))?"
    r"\s*(?:is|é|e|è|es|est|c['’]est|ist|lautet|wäre|wordt|to|это|será|sera|would\s+be|will\s+be)\s+(?=[^\n]{0,40}\d)"
)


# A request written after the address it gives: "… 34728 Kadıköy/İstanbul olarak değiştirebilir misiniz".
_ADDRESS_REQUEST_AFTER = re.compile(
    r"(?i)\s+(?:olarak|adresine|adrese)\s+(?:[^\W\d_]+\s*){1,4}[?.!]*$|\s+(?:olarak|adresine|adrese)[?.!]*$"
)
# The Turkish word for "my address" before the address ("adresimi Bağdat Cad. … olarak değiştirin").
_ADDRESS_OBJECT = re.compile(r"(?i)^(?:yeni\s+)?adres(?:imi|i)\s+(?=[^\n]{0,40}\d)")


# A label before a colon ("send it to my work: 4th Floor, …", "naar mijn nieuw adres sturen: …").
_ADDRESS_LABEL = re.compile(r"^[^\d:：\n]{1,60}[:：]\s*(?=\S)")
# The request before the place it names ("kann man das noch umleiten auf Bahnhofstrasse 12, …").
_ADDRESS_AFTER_VERB = re.compile(
    r"^(?:[^\W\d_]+\s+){2,}?(?:[^\W\d_]+\s+)*?(?i:auf|nach|to|naar|à|au|para|pra|per|na|do|на)\s+(?=\d|[A-ZÄÖÜÀ-Þ])"
)
# A sentence after the address that is no part of it ("… Glasgow G12 9UP. And can ye send it express?").
_ADDRESS_SENTENCE = re.compile(r"(?<=[.?!])\s+(?=[A-ZÀ-Þ¿¡])")


def _without_intro(address: str) -> str:
    address = _ADDRESS_REQUEST_AFTER.sub("", address)
    intro = _ADDRESS_INTRO.match(address) or _ADDRESS_OBJECT.match(address)
    address = address[intro.end() :] if intro and intro.end() < len(address) else address
    label = _ADDRESS_LABEL.match(address)
    if label and label.end() < len(address) and not _STREET_RE.search(label.group()):
        address = address[label.end() :]
    verb = _ADDRESS_AFTER_VERB.match(address)
    if verb and not _STREET_RE.search(address[: verb.end()]) and any(ch.isdigit() for ch in address[verb.end() :]):
        address = address[verb.end() :]
    parts = _ADDRESS_SENTENCE.split(address)
    kept = parts[:1]
    for part in parts[1:]:
        wordy = not any(ch.isdigit() for ch in part) and (part.rstrip().endswith(("?", "!")) or len(part.split()) >= 4)
        if wordy:
            break
        kept.append(part)
    return " ".join(kept).rstrip(" .") if len(kept) < len(parts) else address


def _loose_address(text: str) -> tuple[str | None, tuple[int, int] | None]:
    """An address written without an introduction: a street word and a postal code in one
    clause ("can you send it to my office? Calle de Alcalá 120, 28009 Madrid")."""
    for postal in _POSTAL_IN_ADDRESS.finditer(text):
        street = None
        for m in _STREET_RE.finditer(text, max(0, postal.start() - 80), postal.start()):
            street = m
        if street is None:
            # Postal code first, as Russia and others write it: "620014, г. Екатеринбург, ул. Ленина, д. 15".
            after = _STREET_RE.search(text, postal.end(), postal.end() + 60)
            before = text[: postal.start()].rstrip()
            opens = postal.start() == 0 or before.endswith((":", ",", ";", "—", "-", " на", " to", " a", " à", " an"))
            if after is None or not opens:
                continue
            end_match = re.search(r"[!?\n]|\.(?:\s|$)(?![^.!?\n]*\d)|$", text[after.end() :])
            end = after.end() + (end_match.start() if end_match else 0)
            address = text[postal.start() : end].strip().rstrip(".,;")
            if any(ch.isdigit() for ch in address[after.end() - postal.start() :]):
                return address, (postal.start(), end)
            continue
        starts = [c.end() for c in _CLAUSE_START.finditer(text, 0, street.start())]
        start = starts[-1] if starts else 0
        while start < len(text) and not (text[start].isalnum()):
            start += 1
        end_match = re.search(r"[.!?\n]|$", text[postal.end() :])
        end = postal.end() + (end_match.start() if end_match else 0)
        address = text[start:end].strip().rstrip(".,;")
        if any(ch.isdigit() for ch in address[: postal.start() - start]) or street.start() > start:
            # "la buena es Carrer de Provença 281, …": the words that point at it are not part of it.
            intro = _POINTING_INTRO.match(address)
            cleaned = address[intro.end() :] if intro else _without_intro(address)
            return cleaned, (start + (intro.end() if intro else 0), end)
    return None, None


def _address(text: str) -> tuple[str | None, tuple[int, int] | None]:
    m = _ADDRESS.search(text)
    if m is None:
        return _loose_address(text)
    raw = m.group("addr")
    segments = [s for s in _SENTENCE_SPLIT.split(raw) if s.strip()]
    if not segments:
        return None, None
    if len(segments) > 1 and not any(ch.isdigit() for ch in segments[0]) and any(ch.isdigit() for ch in segments[1]):
        # "send it to my office? Calle de Alcalá 120, 28009 Madrid": the address follows the question.
        segments = segments[1:]
    kept = [segments[0]]
    for segment in segments[1:]:
        if not any(ch.isdigit() for ch in segment):
            break
        kept.append(segment)
    joined = " ".join(s.strip() for s in kept)
    # "… 203동 1501호로 바꿔 주시고요, …": the Korean request verb ends the address.
    joined = _KOREAN_ADDRESS_END.split(joined, maxsplit=1)[0]
    address = _without_intro(_ADDRESS_TAIL.sub("", joined).strip().rstrip(".。,，;"))
    if "@" in address:
        # "Adresse mail : …": an email address.
        return None, None
    if not address or not any(ch.isdigit() or ch.isalpha() for ch in address):
        return None, None
    if not any(ch.isdigit() for ch in address) and (_units(normalise(address)) < 2 or address.rstrip().endswith(QUESTION_MARKS)):
        # ("can you send it to my parents place instead?": a place asked about, no address yet.)
        return None, None
    return address, (m.start("addr"), m.start("addr") + len(raw))


_ANSWER_INTRO = re.compile(r"(?i)^[^\d:：]{0,24}?(?:\s(?:is|es|est|ist|[èeé]|to|это)\s+|[:：]\s*)(?=\S*\d|[^\d]{0,30}\d)")


def address_answer(text: str) -> str | None:
    """The message as an address, when it answers our question for one without introducing it
    ("la nueva es Gurruchaga 1850, piso 3, C1414DHN, CABA"): a number and at least two parts."""
    text = _ADDRESS_TAIL.sub("", text.strip()).strip().rstrip(".。")
    question, mark, after = text.rpartition("?")
    if mark and any(ch.isdigit() for ch in after) and not any(ch.isdigit() for ch in question):
        # "tem como mandar pro meu trabalho? Av. Paulista, 1578, …": the address follows the question.
        text = after.strip()
    if not any(ch.isdigit() for ch in text) or len(text) > 200 or "@" in text:
        return None
    if len([part for part in re.split(r"[,，、\n]", text) if part.strip()]) < 2 and not _STREET_RE.search(text):
        return None
    return _without_intro(_ANSWER_INTRO.sub("", text, count=1).strip()) or None


_KOREAN_ADDRESS_END = re.compile(r"(?<=[\d호동층)])\s?(?:으로|로)\s*(?:바꿔|변경|배송|보내|해\s?주|부탁)")
_EASTERN_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def extract_slots(text: str, language: str, directory: Path | None = None) -> Slots:
    """Order numbers, emails, postal codes, names, amounts, a new address and item hints."""
    text = unicodedata.normalize("NFKC", text).translate(_EASTERN_DIGITS)
    taken: list[tuple[int, int]] = []
    orders: list[tuple[int, str]] = []

    def take(start: int, end: int, value: str) -> None:
        if not _overlaps((start, end), taken):
            taken.append((start, end))
            orders.append((start, value))

    for m in _AMAZON.finditer(text):
        take(m.start(), m.end(), "-".join(m.groups()))
    for m in _EBAY.finditer(text):
        take(m.start(), m.end(), m.group(0))
    for m in _W_ORDER.finditer(text):
        take(m.start(), m.end(), "#" + m.group(1).upper())
    for m in _HASH_ORDER.finditer(text):
        take(m.start(), m.end(), "#" + m.group(1))
    emails = [m.group(0).lower() for m in _EMAIL.finditer(text)]
    email_spans = [m.span() for m in _EMAIL.finditer(text)]

    amounts: list[tuple[int, Decimal, str | None]] = []
    amount_spans: list[tuple[int, int]] = []
    for pattern in (_AMOUNT_PREFIX, _AMOUNT_SUFFIX):
        for m in pattern.finditer(text):
            if _overlaps(m.span(), taken + amount_spans + email_spans):
                continue
            value = _parse_number(m.group("num"))
            if value is not None:
                amounts.append((m.start(), value, _currency(m.group("cur"), language)))
                amount_spans.append(m.span())

    # "Bağdat Cad. No:145 D:7": a number inside the new address is a house number, not an order.
    address, address_span = _address(text)
    in_address = [address_span] if address_span is not None else []
    for m in _LABELLED_ORDER.finditer(text):
        span = m.span(1)
        if not _overlaps(span, amount_spans + email_spans + in_address):
            take(span[0], span[1], "#" + m.group(1))

    for m in _SUFFIXED_ORDER.finditer(text):
        if not _overlaps(m.span(1), amount_spans + email_spans + in_address):
            take(m.start(1), m.end(1), "#" + m.group(1))

    postal: list[tuple[int, str]] = []
    blocked = taken + amount_spans + email_spans

    def add_postal(start: int, end: int, value: str) -> None:
        if not _overlaps((start, end), blocked) and all(start != s for s, _ in postal):
            postal.append((start, _SPACES.sub(" ", value.upper())))

    for m in _POSTAL_LABEL.finditer(text):
        add_postal(m.start(1), m.end(1), m.group(1))
    if address_span is not None:
        offset = address_span[0]
        for m in _POSTAL_IN_ADDRESS.finditer(text[address_span[0] : address_span[1]]):
            add_postal(offset + m.start(1), offset + m.end(1), m.group(1))
    for pattern in (_POSTAL_BEFORE_CITY, _POSTAL_AFTER_STATE):
        for m in pattern.finditer(text):
            add_postal(m.start(1), m.end(1), m.group(1))

    if not postal and not orders:
        whole = _NAME_THEN_POSTAL.match(text.strip())
        if whole:
            postal.append((whole.start(2), _SPACES.sub(" ", whole.group(2).upper())))
    candidates: list[str] = []
    if not orders:
        used = taken + amount_spans + email_spans + [(start, start + len(v)) for start, v in postal]
        candidates = ["#" + m.group(1) for m in _BARE_NUMBER.finditer(text) if not _overlaps(m.span(1), used)]

    lexicons = load_lexicons(directory)
    hints = [m.phrase.text for m in _find(normalise(text), _signal_groups(language, "items", lexicons))]
    hints += [f"{m.group(1)} {m.group(2)}" for m in _SIZE_LABEL.finditer(text)]
    hints += [m.group(1) for m in _SIZE_TOKEN.finditer(text)]

    names = _names(text) or (_bare_names(text) if postal and not address else [])
    if not address and not (names and postal):
        # A name and a postal code in words no pattern expects ("الاسم David Williams والرمز البريدي
        # 02111", "Mateo Pérez、郵便番号41012です"): every capitalised pair and every code shaped like a
        # postal code are candidates, and the store, which must match both, decides.
        loose_names = _loose_names(text)
        loose_postal = [
            (m.start(1), _SPACES.sub(" ", m.group(1).upper()))
            for m in _LOOSE_POSTAL.finditer(text)
            if not _overlaps(m.span(1), taken + amount_spans + email_spans)
        ]
        if not ((names or loose_names) and (postal or loose_postal)):
            loose_names, loose_postal = [], []
    else:
        loose_names, loose_postal = [], []
    return Slots(
        order_ids=_dedupe(v for _, v in sorted(orders)),
        emails=_dedupe(emails),
        postal_codes=_dedupe(v for _, v in sorted(postal)),
        names=_dedupe(names),
        name_candidates=_dedupe(n for n in loose_names if n not in names),
        postal_candidates=_dedupe(v for _, v in sorted(loose_postal) if all(v != p for _, p in postal)),
        amounts=tuple(dict.fromkeys((v, c) for _, v, c in sorted(amounts, key=lambda a: a[0]))),
        address=address,
        item_hints=_dedupe(hints),
        order_candidates=_dedupe(candidates),
    )


# ---------------------------------------------------------------- urgency


@dataclass(frozen=True)
class UrgencyAssessment:
    """The case's level and, in plain English, every factor that set it."""

    level: UrgencyLevel
    reasons: tuple[str, ...]


HIGH_VALUE_EUR = Decimal(500)
DAYS_LATE_ORANGE = 3
DAYS_WITHOUT_SCAN_ORANGE = 5
_RANK = {UrgencyLevel.BLUE: 0, UrgencyLevel.YELLOW: 1, UrgencyLevel.ORANGE: 2, UrgencyLevel.RED: 3}

# Problems with the goods themselves or their delivery.
SEVERE_INTENTS: dict[str, str] = {
    "not_received": "parcel not received",
    "damaged_item": "damaged item",
    "wrong_item": "wrong item sent",
    "missing_item": "item missing from the parcel",
}
ROUTINE_INTENTS: dict[str, str] = {
    "delivery_delay": "delivery delay",
    "return_request": "return request",
    "exchange_request": "exchange request",
    "refund_request": "refund request",
    "refund_status": "refund status question",
    "cancel_order": "cancellation request",
    "change_address": "address change",
    "modify_order": "order change",
    "switch_carrier": "carrier change",
    "reship_request": "reshipment request",
    "payment_issue": "payment issue",
    "customs_duties": "customs or duties question",
    "complaint": "complaint",
    "human_agent": "asks for a human agent",
}
# Intents that count as "a problem" for a VIP customer.
PROBLEM_INTENTS: frozenset[str] = frozenset(SEVERE_INTENTS) | {
    "delivery_delay", "refund_status", "payment_issue", "customs_duties", "complaint", "reship_request",
}  # fmt: skip


def _amount_text(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return str(value.quantize(Decimal("0.01")))


def assess_urgency(
    *,
    intent: str,
    signals: Signals,
    order_value_eur: Decimal | None = None,
    customer_is_vip: bool = False,
    days_since_last_scan: int | None = None,
    promised_date_passed: bool = False,
    days_late: int = 0,
) -> UrgencyAssessment:
    """red: legal/chargeback/dispute risk, or a high-value order (≥ 500 EUR) that did not
    arrive or arrived damaged; orange: non-delivery, damage, wrong or missing items, ≥ 3
    days past the promised date, ≥ 5 days without a scan, a VIP with a problem, an angry
    customer; yellow: short delays, returns, exchanges, refunds, changes, cancellations,
    payments; blue: questions, invoices, greetings, anything else."""
    level = UrgencyLevel.BLUE
    reasons: list[str] = []

    def raise_to(new: UrgencyLevel, reason: str) -> None:
        nonlocal level
        if _RANK[new] > _RANK[level]:
            level = new
        if reason not in reasons:
            reasons.append(reason)

    late_days = max(days_late, 0)
    stalled = days_since_last_scan is not None and days_since_last_scan >= DAYS_WITHOUT_SCAN_ORANGE
    very_late = promised_date_passed and late_days >= DAYS_LATE_ORANGE
    non_delivery = intent in SEVERE_INTENTS or (intent in ("delivery_delay", "track_order") and (stalled or very_late))
    high_value = order_value_eur is not None and order_value_eur >= HIGH_VALUE_EUR

    if signals.legal_threat:
        raise_to(UrgencyLevel.RED, "legal, chargeback or platform-dispute threat")
    if high_value and non_delivery and order_value_eur is not None:
        raise_to(UrgencyLevel.RED, f"order value {_amount_text(order_value_eur)} EUR")
    if intent in SEVERE_INTENTS:
        raise_to(UrgencyLevel.ORANGE, SEVERE_INTENTS[intent])
    late = f" {late_days} day{'s' if late_days != 1 else ''} ago" if late_days else ""
    if very_late:
        raise_to(UrgencyLevel.ORANGE, f"promised delivery date passed{late}")
    elif promised_date_passed:
        raise_to(UrgencyLevel.YELLOW, f"promised delivery date passed{late}")
    if stalled:
        raise_to(UrgencyLevel.ORANGE, f"{days_since_last_scan} days without a tracking scan")
    if customer_is_vip and (intent in PROBLEM_INTENTS or stalled or promised_date_passed):
        raise_to(UrgencyLevel.ORANGE, "VIP customer with a problem")
    if signals.angry:
        raise_to(UrgencyLevel.ORANGE, "angry tone")
    if intent in ROUTINE_INTENTS:
        raise_to(UrgencyLevel.YELLOW, ROUTINE_INTENTS[intent])
    if signals.wants_human and intent != "human_agent":
        raise_to(UrgencyLevel.YELLOW, "asks for a human agent")
    if not reasons:
        reasons.append({"greeting": "greeting", "policy_question": "policy question", "invoice_request": "invoice request",
                        "track_order": "tracking question"}.get(intent, "general question"))  # fmt: skip
    return UrgencyAssessment(level=level, reasons=tuple(reasons))
