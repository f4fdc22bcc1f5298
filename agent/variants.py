"""Which variant of an item the customer asks for instead: a colour, a size or a capacity they
name ("in black", "size L", "the 35L one"), or one size up or down ("a size bigger", "it's too
small"), read against the product's variants in the catalogue."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from agent.understanding import Phrase, _find, _keyword_scores, compile_phrase, item_spots, load_lexicons, normalise

WORDS_FILE = Path(__file__).resolve().parents[1] / "prompts" / "variants.yaml"
OPTION_NAMES_FILE = Path(__file__).resolve().parents[1] / "prompts" / "option_names.yaml"
# The option a customer means by "bigger", in this order of preference.
SIZE_AXES = (
    "size",
    "waist",
    "capacity",
    "case size",
    "band size",
    "diameter",
    "height",
    "length",
    "thickness",
    "blade",
    "weight",
    "pieces",
)
LETTER_SIZES = {"XXS": 0, "XS": 1, "S": 2, "M": 3, "L": 4, "XL": 5, "XXL": 6, "XXXL": 7}
WORD_SIZES = {"mini": 0, "small": 1, "single": 2, "standard": 2, "medium": 3, "double": 4, "large": 5, "king": 6}
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_SENTENCE = re.compile(r"[.;!?。！？\n]+")
# The requests whose words say an item goes back for its money rather than for another variant.
_SENT_BACK = frozenset({"return_request", "refund_request"})


@dataclass(frozen=True)
class VariantWords:
    colours: Mapping[str, tuple[Phrase, ...]]
    bigger: Mapping[str, tuple[Phrase, ...]]
    smaller: Mapping[str, tuple[Phrase, ...]]
    other_items: Mapping[str, tuple[Phrase, ...]]
    sizes: Mapping[str, tuple[Phrase, ...]]


def _compiled(values: Sequence[Any]) -> tuple[Phrase, ...]:
    phrases = []
    for value in values:
        phrase = compile_phrase(str(value))
        if phrase is None:
            continue
        if len(phrase.normalised) == 1 and not phrase.normalised.isascii():
            # "黒があれば黒で": a colour of one Han letter stands anywhere, not only first.
            phrase = Phrase(phrase.text, phrase.normalised, re.compile(re.escape(phrase.normalised)), phrase.weight)
        phrases.append(phrase)
    return tuple(phrases)


@cache
def variant_words(path: Path = WORDS_FILE) -> VariantWords:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return VariantWords(
        colours={base: _compiled(words) for base, words in data["colours"].items()},
        bigger={lang: _compiled(words) for lang, words in data["bigger"].items()},
        smaller={lang: _compiled(words) for lang, words in data["smaller"].items()},
        other_items={lang: _compiled(words) for lang, words in data["other_items"].items()},
        sizes={letter: _compiled(words) for letter, words in data["sizes"].items()},
    )


def size_rank(value: str) -> float | None:
    """Where a size-like value sits on its scale: letter sizes, the first number, or a word."""
    text = str(value).strip()
    head = text.split("/")[0].strip().upper()
    if head in LETTER_SIZES:
        return float(LETTER_SIZES[head])
    number = _NUMBER.search(text)
    if number:
        return float(number.group().replace(",", "."))
    return WORD_SIZES.get(text.lower())


@dataclass(frozen=True)
class VariantChoice:
    """What the customer asked for: the variant to switch to (None when it does not exist or is
    out of stock), the options they changed, and the product's variants still available."""

    wanted: dict[str, str]
    variant: dict[str, Any] | None
    available: list[dict[str, Any]]


def _axes(variants: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    axes: dict[str, list[str]] = {}
    for variant in variants:
        for axis, value in (variant.get("options") or {}).items():
            values = axes.setdefault(axis, [])
            if str(value) not in values:
                values.append(str(value))
    return axes


# Words that mark the size the customer has, not the one they want: "statt M", "instead of 42",
# "from M to L", "M에서 L로", "M yerine L", "从M换成L".
_FROM_BEFORE = re.compile(
    r"(?i)(?:(?<![^\W\d_])(?:instead\s+of|rather\s+than|from|statt|anstatt|anstelle\s+von|von|au\s+lieu\s+d[eu']|invece\s+d[ie]l?|"
    r"en\s+vez\s+de|en\s+lugar\s+de|em\s+vez\s+de|no\s+lugar\s+d[eo]|in\s+plaats\s+van|zamiast|вместо|с|из)|从|由)\s*$"
)
_FROM_AFTER = re.compile(r"^\s*(?:에서|から|yerine|->|→|码?换成|號?換成|改成)")


def _the_old_value(raw: str, start: int, end: int) -> bool:
    """Whether a size named at raw[start:end] is the one the customer has ("statt M einfach L")."""
    return bool(_FROM_BEFORE.search(raw[max(0, start - 20) : start]) or _FROM_AFTER.match(raw[end : end + 6]))


def _value_named(value: str, text: str, raw: str) -> int:
    """Where a catalogue value is named in the message (its position), -1 when it is not."""
    if value.upper() in LETTER_SIZES:
        # "M" or "XL" written as a size: a capital standing alone, not "I'M" or "A".
        found = [
            m.start()
            # (Next to Chinese or Japanese letters too: "换成L码", "Mサイズ".)
            for m in re.finditer(rf"(?<![A-Za-z0-9_'’]){re.escape(value.upper())}(?![A-Za-z0-9_'’])", raw)
            if not _the_old_value(raw, m.start(), m.end())
        ]
        return found[-1] if found else -1
    number = _NUMBER.search(value)
    if number:
        unit = value[number.end() :].strip().lower()
        pattern = rf"(?<![#\w.,]){re.escape(number.group())}(?![\d])"
        if unit and (len(number.group()) == 1 or not re.fullmatch(r"[a-z]{1,3}", unit)):
            # "4K", "1L", "2x24kg": a bare digit is too common to stand for the value.
            pattern += rf"\s?{re.escape(unit)}"
        found = [m.start() for m in re.finditer(pattern, raw, flags=re.IGNORECASE) if not _the_old_value(raw, m.start(), m.end())]
        return found[-1] if found else -1
    phrase = compile_phrase(value)
    if phrase is None:
        return -1
    hits = [m.start() for m in phrase.pattern.finditer(text)]
    return hits[-1] if hits else -1


def _colours_named(text: str, words: VariantWords) -> list[tuple[int, str]]:
    """The colours the message names in any language, as (position, English colour word)."""
    groups = [(base, phrases, 1.0) for base, phrases in words.colours.items()]
    return [(m.start, m.label) for m in _find(text, groups)]


def _sizes_named(text: str, words: VariantWords) -> list[tuple[int, str]]:
    """Letter sizes written as words ("a medium", "talla mediana"), as (position, letter): not a
    word inside "too small" or "más grande", nor the size the customer has ("instead of small")."""
    groups = [(letter, phrases, 1.0) for letter, phrases in words.sizes.items()]
    for lexicon in (words.bigger, words.smaller):
        groups += [("", phrases, 1.0) for phrases in lexicon.values()]
    return [(m.start, m.label) for m in _find(text, groups) if m.label and not _the_old_value(text, m.start, m.end)]


def _size_direction(text: str, language: str, words: VariantWords) -> int:
    """+1 for "a size up" or "too small", -1 for "a size down" or "too big", 0 for neither (the
    last said wins when both are)."""
    groups = []
    for lang in dict.fromkeys([language, "en"]):
        groups += [("up", words.bigger.get(lang, ()), 1.0), ("down", words.smaller.get(lang, ()), 1.0)]
    found = sorted(_find(text, groups), key=lambda m: m.start)
    if not found:
        return 0
    return 1 if found[-1].label == "up" else -1


def _changes_in(raw: str, language: str, current: Mapping[str, str], axes: Mapping[str, list[str]]) -> dict[str, str]:
    """The options one message asks to change, each to a value the catalogue has."""
    text = normalise(raw)
    words = variant_words()
    wanted: dict[str, tuple[int, str]] = {}
    for axis, values in axes.items():
        for value in values:
            if value == current.get(axis):
                continue
            at = _value_named(value, text, raw)
            if at >= 0 and (axis not in wanted or at > wanted[axis][0]):
                wanted[axis] = (at, value)
    named_colours = _colours_named(text, words)
    by_colour: dict[str, tuple[int, str]] = {}
    for at, colour in named_colours:
        # "black if you have it, otherwise navy": the last one named that the product comes in.
        for axis, values in axes.items():
            if axis in wanted:
                continue
            fitting = [v for v in values if colour in v.lower().replace("/", " ").split() and v != current.get(axis)]
            if fitting and (axis not in by_colour or at > by_colour[axis][0]):
                exact = [v for v in fitting if v.lower() == colour]
                by_colour[axis] = (at, (exact or fitting)[0])
    wanted.update(by_colour)
    direction = _size_direction(text, language, words)
    letter_axis = next((a for a in SIZE_AXES if any(v.upper() in LETTER_SIZES for v in axes.get(a, []))), None)
    if letter_axis is not None:
        ordered = LETTER_SIZES.get(current.get(letter_axis, "").upper())
        for at, letter in _sizes_named(text, words):
            if letter == current.get(letter_axis, "").upper() or (letter_axis in wanted and wanted[letter_axis][0] >= at):
                continue
            if direction and ordered is not None and (LETTER_SIZES[letter] - ordered) * direction < 0:
                # "a bit small, I'd like it one size bigger": the word tells how it fits, not the size wanted.
                continue
            # "a medium instead of small": the size the product comes in, or one it is not made in.
            value = next((v for v in axes[letter_axis] if v.upper() == letter), "")
            wanted[letter_axis] = (at, value)
    fits_current = any(
        colour in str(value).lower().replace("/", " ").split() for _, colour in named_colours for value in current.values()
    )
    if named_colours and not by_colour and not fits_current and "color" in axes and "color" not in wanted:
        wanted["color"] = (named_colours[-1][0], "")  # a colour the product does not come in
    size_axis = next((a for a in SIZE_AXES if len(axes.get(a, [])) > 1), None)
    if direction and size_axis is not None and size_axis not in wanted and size_rank(current.get(size_axis, "")) is not None:
        axis = size_axis
        here = size_rank(current[axis]) or 0.0
        ranked = sorted(
            (rank, value) for value in axes[axis] if (rank := size_rank(value)) is not None and (rank - here) * direction > 0
        )
        if ranked:
            wanted[axis] = (0, (ranked[0] if direction > 0 else ranked[-1])[1])
        else:
            wanted[axis] = (0, "")  # asked for a size the product does not come in
    return {axis: value for axis, (_, value) in wanted.items()}


# A size written out: after a size word ("größe auf L", "taille 40") or, in capitals, after "to"
# ("change it to M", "zmienić na S", "auf XL", "gegen M tauschen", "ابدله بـ XL").
_SIZE_NAMED = re.compile(
    r"(?i:(?<![^\W\d_])(?:size|talla|taille|gr(?:ö|oe?)(?:ß|ss)e|taglia|tamanho|maat|rozmiar|beden|размер|مقاس|尺码|尺寸|サイズ|사이즈)"
    r"[^.!?\n\d]{0,12}?)(?<![^\W\d_])(?:[2-5]?X{0,3}[SML]|XX?L|\d{2}(?:[.,]5)?)(?![0-9A-Za-z\u00c0-\u024f_])"
    r"|(?<![^\W\d_])(?i:to|auf|gegen|na|en|in|em|op|на|a|بـ|ب)\s*(?:[2-5]?X{1,3}[SL]|XS|S|M|L)(?![\w])"
)


def names_a_variant(texts: Sequence[str], language: str) -> bool:
    """Whether the messages name a colour, a size, or one size up or down ("хочу черный", "a size
    bigger", "auf L ändern")."""
    words = variant_words()
    return any(
        _colours_named(normalise(t), words) or _size_direction(normalise(t), language, words) or _SIZE_NAMED.search(t)
        for t in texts
    )


def names_other_items(texts: Sequence[str], language: str) -> bool:
    """Whether the messages speak of adding or removing items, or of another product: a change
    no variant of the ordered items makes."""
    words = variant_words()
    groups = [("other", words.other_items.get(lang, ()), 1.0) for lang in dict.fromkeys([language, "en"])]
    return any(_find(normalise(text), groups) for text in texts)


# Languages whose verb follows its object: an item's request is written after it.
VERB_LAST = frozenset({"ko", "ja", "tr"})


def items_swapped_apart(texts: Sequence[str], language: str, names: Sequence[str]) -> tuple[set[str], set[str]]:
    """In messages that send one item back and ask another in a different size ("the bottle I
    return for my money; the tracker one size smaller, please"): the named items that go with the
    swap and those that go back, each by the request words nearest to it in its sentence."""
    lexicons = load_lexicons()
    words = variant_words()
    sizes = [
        ("exchange_request", phrases, 1.0)
        for lang in dict.fromkeys([language, "en"])
        for phrases in (words.bigger.get(lang, ()), words.smaller.get(lang, ()))
    ]
    swapped: set[str] = set()
    returned: set[str] = set()
    for text in texts:
        for sentence in _SENTENCE.split(text):
            norm = normalise(sentence)
            spots = item_spots(norm, names)
            if not spots:
                continue
            matches = [m for m in _keyword_scores(norm, language, lexicons)[1] if m.label in _SENT_BACK | {"exchange_request"}]
            signals = [(m.start, m.end, m.label) for m in matches + _find(norm, sizes)]
            # "und Coffee Grinder bitte in S statt M": a size written out asks for a swap too.
            signals += [(m.start(), m.end(), "exchange_request") for m in _SIZE_NAMED.finditer(sentence)]
            ordered = sorted(spots)
            for index, (start, end, name) in enumerate(ordered):
                outside = [s for s in signals if s[1] <= start or s[0] >= end]
                following = ordered[index + 1][0] if index + 1 < len(ordered) else len(norm) + 1
                after = [s for s in outside if end <= s[0] < following]
                if (language in VERB_LAST and any(s[0] >= end for s in outside)) or (index > 0 and after):
                    # "A 제품은 반품하고 B 제품은 사이즈 교환": the verb after an item is its request;
                    # "ال Vase … ابي ارجعه، وال Bottle … ابي ابدله بـ XL": the words between two items
                    # belong to the first, when the second has words of its own after it.
                    outside = after if after and language not in VERB_LAST else [s for s in outside if s[0] >= end]
                if not outside:
                    continue
                nearest = min(outside, key=lambda s: start - s[1] if s[1] <= start else s[0] - end)
                (swapped if nearest[2] == "exchange_request" else returned).add(name)
    return swapped, returned


def in_stock(variant: Mapping[str, Any], quantity: int = 1) -> bool:
    units = variant.get("in_stock")
    return bool(variant.get("available", True)) and (units is None or int(units) >= quantity)


def choose_variant(
    texts: Sequence[str], language: str, item: Mapping[str, Any], variants: Sequence[Mapping[str, Any]]
) -> VariantChoice:
    """The variant of this item the customer's messages ask for, newest message first."""
    own = next((v for v in variants if v.get("item_id") == item.get("item_id")), {})
    current = {str(k): str(v) for k, v in (item.get("options") or own.get("options") or {}).items()}
    others = [dict(v) for v in variants if v.get("item_id") != item.get("item_id")]
    quantity = int(item.get("quantity") or 1)
    available = [v for v in others if in_stock(v, quantity)]
    axes = _axes([*variants, {"options": current}])
    wanted: dict[str, str] = {}
    for raw in reversed(list(texts)):
        wanted = _changes_in(raw, language, current, axes)
        if wanted:
            break
    if not wanted or "" in wanted.values():
        return VariantChoice(wanted, None, available)
    fitting = [v for v in available if all(str(v["options"].get(a)) == value for a, value in wanted.items())]
    if not fitting:
        return VariantChoice(wanted, None, available)
    # The one that keeps the most of the item's other options.
    kept = max(fitting, key=lambda v: sum(str(v["options"].get(a)) == value for a, value in current.items()))
    return VariantChoice(wanted, kept, available)


def describe(name: str, options: Mapping[str, Any]) -> str:
    shown = " ".join(str(v) for v in options.values())
    return f"{name} ({shown})" if shown else name


@cache
def option_names(path: Path = OPTION_NAMES_FILE) -> dict[str, dict[str, str]]:
    """The catalogue's option values in each language ("black" -> {"es": "negro", …})."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(value): {str(k): str(v) for k, v in names.items()} for value, names in data.items()}


def shown_option(value: Any, language: str) -> str:
    """An option value as the customer's language writes it; sizes and codes stay as they are."""
    return option_names().get(str(value), {}).get(language, str(value))


# Up to this many variants are listed one by one; a bigger range is shown option by option.
LISTED_VARIANTS = 6


def option_list(variants: Sequence[Mapping[str, Any]], language: str = "en") -> str:
    """The options still to be had, in the customer's language: one group per variant for a few
    ("black 35L nylon; grey 25L nylon", "negro EU 37; cuero EU 37"), the values of each option for
    a whole range ("white, black, navy; XS, S, M, L, XL")."""
    if len(variants) <= LISTED_VARIANTS:
        return "; ".join(
            " ".join(shown_option(v, language) for v in (variant.get("options") or {}).values()) for variant in variants
        )
    groups = []
    for values in _axes(variants).values():
        if len(values) < 2:
            continue
        ranks = [size_rank(v) for v in values]
        if all(rank is not None for rank in ranks):
            values = [v for _, v in sorted(zip(ranks, values, strict=True), key=lambda pair: pair[0] or 0.0)]
        groups.append(", ".join(shown_option(v, language) for v in values))
    return "; ".join(groups)
