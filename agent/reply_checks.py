"""Checks a written reply passes before it reaches the customer.

A reply must be in the customer's language, must not say an action was done unless a tool
really did it, must cite only knowledge chunks that were retrieved for it (an unknown chunk
is invented policy), and must cite at least one when it states policy. Card numbers a
customer pastes into the chat can be masked down to their last four digits.

What counts as "saying an action was done" lives in prompts/llm/claims.yaml, per action
family and language.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from agent.language import SUPPORTED, clean_text, detect_language

__all__ = [
    "ACTION_FAMILIES",
    "CITATION",
    "FAMILIES",
    "CheckResult",
    "check_reply",
    "cited_ids",
    "claimed_actions",
    "mask_card_numbers",
    "strip_citations",
    "unsupported_claims",
]

CLAIMS_PATH = Path(__file__).resolve().parents[1] / "prompts" / "llm" / "claims.yaml"

FAMILIES: tuple[str, ...] = ("refund", "cancel", "reship", "coupon", "address", "return", "exchange", "carrier", "intercept")

# The action family each state-changing tool performs.
ACTION_FAMILIES: dict[str, str] = {
    "issue_refund": "refund",
    "cancel_order": "cancel",
    "create_reshipment": "reship",
    "issue_coupon": "coupon",
    "change_shipping_address": "address",
    "update_customer_address": "address",
    "return_items": "return",
    "exchange_items": "exchange",
    "switch_carrier": "carrier",
    "intercept_parcel": "intercept",
    "modify_order_items": "exchange",
}

# How a problem names each family.
_ACTION_NAMES: dict[str, str] = {
    "refund": "a refund",
    "cancel": "a cancellation",
    "reship": "a reshipment",
    "coupon": "a coupon",
    "address": "an address change",
    "return": "a return",
    "exchange": "an exchange",
    "carrier": "a carrier switch",
    "intercept": "a parcel interception",
}

# What a tool also does as part of its own action: a cancellation refunds what was paid, a
# change of items or of payment method refunds the difference or the old payment, and an
# interception sends the parcel to a new address.
_ALSO_DONE: dict[str, frozenset[str]] = {
    "cancel_order": frozenset({"refund"}),
    "modify_order_items": frozenset({"refund"}),
    "modify_order_payment": frozenset({"refund"}),
    "intercept_parcel": frozenset({"address"}),
}

# Citations of knowledge chunks: [[default/en/returns.md#2]], [[returns-en-3]].
CITATION = re.compile(r"\[\[\s*([\w/.#:@-]+)\s*\]\]")
_CITATIONS_AT_LINE_START = re.compile(rf"(?m)^([ \t]*)(?:{CITATION.pattern}[ \t]*)+")
_CITATION_WITH_SPACE_BEFORE = re.compile(rf"[ \t]*{CITATION.pattern}")

# A run of digit groups separated by single spaces or dashes, not glued to letters, "#" or "+".
_DIGIT_RUN = re.compile(r"(?<![\w+#])\d+(?:[ \u00a0-]\d+)*(?!\w)")
_CARD_DIGITS = range(13, 20)
# Payment cards start with 2 to 6 (Mastercard, Visa, Amex, Discover, JCB, UnionPay...); other
# first digits are tracking numbers, timestamps and the like.
_CARD_FIRST_DIGITS = frozenset("23456")
# Digits next to a card number that are not part of it: an expiry date, a security code.
_MAX_STRAY_DIGITS = 4

# Amounts carry no language: "€12.50", "12,50 €", "EUR 12", "120 zł".
_AMOUNT = re.compile(
    r"(?:\b[A-Z]{3}|[$€£¥₩₽₺₹]|R\$)\s?\d[\d.,\u00a0 ]*"
    r"|\d[\d.,\u00a0 ]*\s?(?:[$€£¥₩₽₺₹]|\b[A-Z]{3}\b|zł|TL\b|kr\b)"
)

# In claim patterns, <w> is one word and the space after it; numbers like 12,50 are one word.
_WORD = r"(?:(?:[^\s.,;:!?()،؛。、]|(?<=\d)[.,](?=\d))+ )"
# In claim patterns, <code> is a coupon code: a word with a digit or a dash in it.
_CODE = r"(?:[a-z0-9]+-[a-z0-9-]+|[a-z-]*[0-9][a-z0-9-]*)\b"
# In claim patterns, <adv> is up to three words between "I have" and the verb: "I've just", "we went ahead and".
_ADVERBS = r"(?:(?:just|now|already|also|fully|successfully|gone ahead and|went ahead and) ){0,3}"
# Where a clause ends: a guard word in an earlier clause does not affect a claim, and a
# clause that ends in a question mark asks rather than claims.
_CLAUSE_END = re.compile(r"[!?;:\n。、،؛؟—–]|[.,](?!\d)| - ")
_QUESTION_MARKS = frozenset("?؟")
# Scripts written without spaces between words.
_SPACELESS = frozenset({"zh", "ja"})
_BLOCKER_WORDS = 3
_CONDITION_WORDS = 6
_SPACELESS_BLOCKER_CHARS = 6

_APOSTROPHES = {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"}
# Arabic hamza seats and alef maqsura, Russian ё, Turkish dotless ı and the dot İ leaves.
_LETTER_FOLDS = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ؤ": "و", "ئ": "ي", "ё": "е", "ı": "i", "\u0307": ""}
_FOLD_TABLE = str.maketrans({**_APOSTROPHES, **_LETTER_FOLDS})
# Arabic short vowels, Quranic marks and the tatweel.
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_SPACES = re.compile(r"\s+")


def _fold(text: str, *, casefold: bool = True) -> str:
    """Text as claims are matched: NFKC, lowercase, straight apostrophes, Arabic without
    vowel marks or hamza seats, ё as е, single spaces."""
    text = unicodedata.normalize("NFKC", text)
    if casefold:
        text = text.casefold()
    text = _ARABIC_MARKS.sub("", text.translate(_FOLD_TABLE))
    return _SPACES.sub(" ", text) if casefold else text


def _base_language(code: str | None) -> str:
    """The language without its region or script: zh-Hans → zh, pt_BR → pt."""
    if not code:
        return "en"
    return re.split(r"[-_]", code.strip().lower())[0]


def _edge(ch: str, *, start: bool) -> str:
    """The word-boundary assertion for one end of a guard word."""
    if not ch.isalnum():
        return ""
    if ord(ch) < 0x0590:
        return r"(?<!\w)" if start else r"(?!\w)"
    if 0x0600 <= ord(ch) <= 0x06FF:
        # Arabic writes "and" (و) and "so" (ف) joined to the next word.
        return r"(?<!\w)[وف]?" if start else r"(?!\w)"
    return ""


def _word_pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    parts = []
    for word in words:
        if not isinstance(word, str):
            raise ValueError(f"claims.yaml: {word!r} is not a word (quote it)")
        folded = _fold(word).strip()
        if folded:
            parts.append(_edge(folded[0], start=True) + re.escape(folded) + _edge(folded[-1], start=False))
    return re.compile("|".join(parts)) if parts else None


def _claim_pattern(entry: Any) -> re.Pattern[str]:
    """A plain entry is a lowercase substring; `re: ...` (a mapping or a string) is a regex."""
    source: str | None = None
    if isinstance(entry, Mapping) and set(entry) == {"re"}:
        source = str(entry["re"])
    elif isinstance(entry, str) and entry.startswith("re:"):
        source = entry[3:].strip()
    if source is not None:
        return re.compile(_fold(source, casefold=False).replace("<w>", _WORD).replace("<code>", _CODE).replace("<adv>", _ADVERBS))
    if isinstance(entry, str) and entry.strip():
        return re.compile(re.escape(_fold(entry).strip()))
    raise ValueError(f"claims.yaml: not a phrase or a `re:` entry: {entry!r}")


@dataclass(frozen=True)
class _Rules:
    claims: dict[str, dict[str, tuple[re.Pattern[str], ...]]]
    blockers: dict[str, re.Pattern[str] | None]
    conditions: dict[str, re.Pattern[str] | None]


def _by_language(section: Any, name: str) -> dict[str, Any]:
    if not isinstance(section, Mapping):
        raise ValueError(f"claims.yaml: {name} must map languages to lists")
    unknown = set(section) - set(SUPPORTED)
    if unknown:
        raise ValueError(f"claims.yaml: {name} has unknown languages {sorted(unknown)}")
    return {str(lang): items or [] for lang, items in section.items()}


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    data = yaml.safe_load(CLAIMS_PATH.read_text(encoding="utf-8"))
    families = data.get("families") if isinstance(data, Mapping) else None
    if not isinstance(families, Mapping):
        raise ValueError("claims.yaml: no `families` section")
    unknown = set(families) - set(FAMILIES)
    if unknown:
        raise ValueError(f"claims.yaml: unknown action families {sorted(unknown)}")
    claims = {
        str(family): {lang: tuple(_claim_pattern(e) for e in entries) for lang, entries in _by_language(section, family).items()}
        for family, section in families.items()
    }
    blockers = {lang: _word_pattern(words) for lang, words in _by_language(data.get("blockers", {}), "blockers").items()}
    conditions = {lang: _word_pattern(words) for lang, words in _by_language(data.get("conditions", {}), "conditions").items()}
    return _Rules(claims=claims, blockers=blockers, conditions=conditions)


def _clause_before(text: str, start: int) -> str:
    """The part of the clause that precedes position `start`."""
    window = text[max(0, start - 300) : start]
    cut = 0
    for end in _CLAUSE_END.finditer(window):
        cut = end.end()
    return window[cut:]


def _is_claim(text: str, match: re.Match[str], language: str, rules: _Rules) -> bool:
    """False when the clause is a question, when one of the language's negations or modal
    verbs sits in or just before the match, or when one of its conditions ("once", "as soon
    as") opens the clause."""
    end = _CLAUSE_END.search(text, match.end())
    if end is not None and end.group() in _QUESTION_MARKS:
        return False
    before = _clause_before(text, match.start())
    if language in _SPACELESS:
        near, clause = before[-_SPACELESS_BLOCKER_CHARS:], before
    else:
        words = before.split()
        near, clause = " ".join(words[-_BLOCKER_WORDS:]), " ".join(words[-_CONDITION_WORDS:])
    blockers, conditions = rules.blockers.get(language), rules.conditions.get(language)
    if blockers is not None and blockers.search(f"{near} {match.group()}"):
        return False
    return conditions is None or not conditions.search(clause)


def claimed_actions(text: str, language: str) -> set[str]:
    """Action families the text says were already done (checks the language's phrases and English's)."""
    rules = _rules()
    lang = _base_language(language)
    languages = [lang, "en"] if lang != "en" else ["en"]
    folded = _fold(text)
    found: set[str] = set()
    for family, by_language in rules.claims.items():
        if any(
            _is_claim(folded, match, code, rules)
            for code in languages
            for pattern in by_language.get(code, ())
            for match in pattern.finditer(folded)
        ):
            found.add(family)
    return found


def _families_done(done_tools: Iterable[str]) -> set[str]:
    done: set[str] = set()
    for name in done_tools:
        name = name.strip()
        if name in ACTION_FAMILIES:
            done.add(ACTION_FAMILIES[name])
        done |= _ALSO_DONE.get(name, frozenset())
        if name in FAMILIES:
            done.add(name)
    return done


def unsupported_claims(text: str, language: str, done_tools: Iterable[str]) -> set[str]:
    """Families claimed in the text for which no tool in done_tools succeeded."""
    return claimed_actions(text, language) - _families_done(done_tools)


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _mask_run(match: re.Match[str]) -> str:
    """The run with the card number in it masked, or unchanged when it holds none."""
    run = match.group()
    groups = [(g.start(), g.end()) for g in re.finditer(r"\d+", run)]
    sizes = [end - start for start, end in groups]
    if sum(sizes) > _CARD_DIGITS[-1] + 2 * _MAX_STRAY_DIGITS:
        return run
    # Longest first: the whole run, then without a short expiry date or security code at either end.
    firsts = [i for i in range(len(groups)) if sum(sizes[:i]) <= _MAX_STRAY_DIGITS]
    lasts = [j for j in range(1, len(groups) + 1) if sum(sizes[j:]) <= _MAX_STRAY_DIGITS]
    for i, j in sorted(((i, j) for i in firsts for j in lasts if i < j), key=lambda span: span[0] - span[1]):
        digits = "".join(run[a:b] for a, b in groups[i:j])
        if len(digits) in _CARD_DIGITS and digits[0] in _CARD_FIRST_DIGITS and _luhn(digits):
            start, end = groups[i][0], groups[j - 1][1]
            return f"{run[:start]}•••• {digits[-4:]}{run[end:]}"
    return run


def mask_card_numbers(text: str) -> str:
    """Card numbers (13–19 digits starting with 2–6, spaces or dashes allowed, passing the Luhn check) become
    '•••• 1234' (last four kept). Order numbers like #W1234567, phone numbers that fail Luhn, tracking numbers with
    letters or starting with another digit stay as they are."""
    return _DIGIT_RUN.sub(_mask_run, text)


def cited_ids(text: str) -> list[str]:
    """The chunk ids the text cites, in order of first citation."""
    return list(dict.fromkeys(m.group(1) for m in CITATION.finditer(text)))


def strip_citations(text: str) -> str:
    """The text without its [[chunk-id]] markers and the spaces in front of them."""
    text = _CITATIONS_AT_LINE_START.sub(r"\1", text)
    return _CITATION_WITH_SPACE_BEFORE.sub("", text)


@dataclass(frozen=True)
class CheckResult:
    """Whether a reply may be sent, what is wrong with it (short English sentences, one per
    failed check) and the chunk ids it cites."""

    ok: bool
    problems: list[str]
    cited: list[str]


def _letters(text: str) -> int:
    return sum(1 for ch in clean_text(text) if unicodedata.category(ch)[0] == "L")


def _listed(items: list[str]) -> str:
    """Items as prose: a; a and b; a, b and c."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def check_reply(
    text: str,
    *,
    language: str,
    done_tools: Iterable[str],
    chunk_ids: Iterable[str],
    needs_citation: bool,
    min_language_chars: int = 24,
) -> CheckResult:
    """(1) language: when the text stripped of citations, order numbers, emails, URLs and amounts has at least
    min_language_chars letters, its detected language must be `language`; (2) no unsupported action claims;
    (3) every cited id must be one of chunk_ids (an id not retrieved is invented policy); (4) when needs_citation
    is true and chunk_ids is non-empty, at least one citation is required. Empty text fails with "the reply is empty"."""
    cited = cited_ids(text)
    body = strip_citations(text).strip()
    if not body:
        return CheckResult(ok=False, problems=["the reply is empty"], cited=cited)

    problems: list[str] = []
    expected = _base_language(language)
    sample = _AMOUNT.sub(" ", body)
    if _letters(sample) >= min_language_chars:
        found = _base_language(detect_language(sample).language)
        if found != expected:
            problems.append(f"the reply is in {found}, the customer writes {expected}")

    claims = unsupported_claims(body, expected, done_tools)
    if claims:
        actions = [_ACTION_NAMES[family] for family in FAMILIES if family in claims]
        were, them = ("was", "it") if len(actions) == 1 else ("were", "them")
        problems.append(f"the reply says {_listed(actions)} {were} done, but no tool did {them}")

    known = {chunk.strip() for chunk in chunk_ids}
    invented = [chunk for chunk in cited if chunk not in known]
    if invented:
        sources = "a source that was" if len(invented) == 1 else "sources that were"
        problems.append(f"the reply cites {sources} not retrieved: {', '.join(invented)}")
    elif needs_citation and known and not cited:
        problems.append("the reply cites none of the retrieved sources")

    return CheckResult(ok=not problems, problems=problems, cited=cited)
