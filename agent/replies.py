"""The replies the offline brain sends, in the customer's language, and the locale-aware
formatting of the values that go into them (amounts, dates, lists of items).

Each language has one catalogue in ``prompts/replies/<language>.yaml``. English is the
source: every other catalogue must carry exactly its keys, each with exactly the same
``{placeholders}``, so a reply can be rendered in any language from the same values.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path

import yaml
from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.lists import format_list as babel_format_list
from babel.numbers import format_currency, get_currency_precision

from commerce.money import ZERO_DECIMAL_CURRENCIES

__all__ = [
    "SOURCE_LANGUAGE",
    "SUPPORTED",
    "ReplyCatalogue",
    "default_catalogue",
    "format_date",
    "format_list",
    "format_money",
    "locale_for",
    "render_parts",
    "replies_dir",
]

SUPPORTED: tuple[str, ...] = ("en", "es", "fr", "de", "it", "pt", "nl", "pl", "tr", "ru", "ar", "zh", "ja", "ko")
SOURCE_LANGUAGE = "en"

# The locale used for a language when the customer's country is unknown (or Babel has no
# locale for that language in that country).
_DEFAULT_LOCALES: dict[str, str] = {
    "en": "en_US",
    "es": "es_ES",
    "fr": "fr_FR",
    "de": "de_DE",
    "it": "it_IT",
    "pt": "pt_BR",
    "nl": "nl_NL",
    "pl": "pl_PL",
    "tr": "tr_TR",
    "ru": "ru_RU",
    "ar": "ar_SA",
    "zh": "zh_Hans_CN",
    "ja": "ja_JP",
    "ko": "ko_KR",
}

_FORMATTER = string.Formatter()


def replies_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "prompts" / "replies"


def _base_language(language: str) -> str:
    """The primary language subtag: pt-BR, pt_BR and PT all mean pt."""
    return language.strip().replace("-", "_").split("_", 1)[0].lower()


def _placeholders(template: str) -> frozenset[str]:
    """The named fields of a template; raises ValueError on a malformed or unnamed field."""
    names: set[str] = set()
    for _literal, field, _spec, _conversion in _FORMATTER.parse(template):
        if field is None:
            continue
        if not field.isidentifier():
            raise ValueError(f"placeholder {{{field}}} is not a plain name")
        names.add(field)
    return frozenset(names)


class ReplyCatalogue:
    """Every language's replies, loaded and checked against English once."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory if directory is not None else replies_dir()
        source_path = self.directory / f"{SOURCE_LANGUAGE}.yaml"
        if not source_path.is_file():
            raise ValueError(f"{source_path}: the English catalogue is missing")
        source = self._load(source_path)
        self._placeholders: dict[str, frozenset[str]] = {}
        for key, template in source.items():
            try:
                self._placeholders[key] = _placeholders(template)
            except ValueError as exc:
                raise ValueError(f"{source_path.name}: key {key!r}: {exc}") from exc

        self._replies: dict[str, dict[str, str]] = {SOURCE_LANGUAGE: source}
        for path in sorted(self.directory.glob("*.yaml")):
            if path.stem == SOURCE_LANGUAGE:
                continue
            self._replies[path.stem] = self._check(path, self._load(path))

    @staticmethod
    def _load(path: Path) -> dict[str, str]:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ValueError(f"{path.name}: not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError(f"{path.name}: expected a mapping of reply keys to texts")
        replies: dict[str, str] = {}
        for key, value in data.items():
            if not isinstance(value, str):
                raise ValueError(f"{path.name}: key {key!r}: the reply must be a string")
            replies[str(key)] = value
        return replies

    def _check(self, path: Path, replies: Mapping[str, str]) -> dict[str, str]:
        for key, expected in self._placeholders.items():
            if key not in replies:
                raise ValueError(f"{path.name}: key {key!r} is missing")
            try:
                found = _placeholders(replies[key])
            except ValueError as exc:
                raise ValueError(f"{path.name}: key {key!r}: {exc}") from exc
            if found != expected:
                missing = ", ".join(sorted(expected - found)) or "none"
                extra = ", ".join(sorted(found - expected)) or "none"
                raise ValueError(
                    f"{path.name}: key {key!r}: placeholders differ from English (missing: {missing}; unexpected: {extra})"
                )
        for key in replies:
            if key not in self._placeholders:
                raise ValueError(f"{path.name}: key {key!r} is not in the English catalogue")
        return dict(replies)

    def languages(self) -> list[str]:
        """The loaded languages: the supported ones in their usual order, then any others."""
        known = [language for language in SUPPORTED if language in self._replies]
        return known + sorted(set(self._replies) - set(known))

    def placeholders(self, key: str) -> frozenset[str]:
        """The values a reply needs; KeyError for an unknown key."""
        return self._placeholders[key]

    def __contains__(self, key: object) -> bool:
        return key in self._placeholders

    def has_language(self, language: str) -> bool:
        return _base_language(language) in self._replies

    def render(self, key: str, language: str, /, **values: str) -> str:
        """The reply ``key`` in ``language`` (English when the language has no catalogue),
        filled with ``values``. Values the reply does not use are ignored.

        ``key`` and ``language`` are positional-only, so ``language=`` and ``key=`` can be
        passed as values (policy_answer_other_language has a ``{language}`` placeholder)."""
        if key not in self._placeholders:
            raise KeyError(key)
        replies = self._replies.get(_base_language(language), self._replies[SOURCE_LANGUAGE])
        missing = sorted(self._placeholders[key] - values.keys())
        if missing:
            raise ValueError(f"reply {key!r} needs a value for {', '.join(missing)}")
        return replies[key].format_map(values)


@lru_cache(maxsize=1)
def default_catalogue() -> ReplyCatalogue:
    return ReplyCatalogue()


def render_parts(catalogue: ReplyCatalogue, parts: Sequence[tuple[str, Mapping[str, str]]], language: str) -> str:
    """A brain's reply parts as one text: templates filled in the language (a value may itself
    name a template), a model's checked text as written."""
    from agent.brain import NESTED, VERBATIM

    texts = []
    for key, values in parts:
        if key == VERBATIM:
            texts.append(values.get("text", ""))
            continue
        filled = {k: catalogue.render(v[len(NESTED) :], language) if v.startswith(NESTED) else v for k, v in values.items()}
        texts.append(catalogue.render(key, language, **filled))
    return " ".join(t.strip() for t in texts if t.strip())


# ---------------------------------------------------------------- locale-aware values


@lru_cache(maxsize=512)
def locale_for(language: str, country_code: str | None = None) -> str:
    """The Babel locale for a customer: the language in their country when Babel knows that
    combination ("es", "MX" → "es_MX"), otherwise the language's usual locale ("es" → "es_ES").
    Languages without a catalogue are formatted as English, like their replies."""
    base = _base_language(language)
    if base not in _DEFAULT_LOCALES:
        base = SOURCE_LANGUAGE
    if country_code:
        territory = country_code.strip().upper()
        try:
            # Locale.parse fills in the script ("zh", "TW" → zh_Hant_TW) but also falls back
            # silently to another country, so the territory is checked.
            locale = Locale.parse(f"{base}_{territory}")
        except (UnknownLocaleError, ValueError):
            locale = None
        if locale is not None and locale.territory == territory:
            return str(locale)
    return _DEFAULT_LOCALES[base]


def format_money(amount: Decimal, currency: str, language: str, country_code: str | None = None) -> str:
    """An amount with its currency as the customer writes it ("1.234,50 €" in German).
    Rounded half up to the currency's minor unit; JPY and KRW have none."""
    code = currency.strip().upper()
    digits = 0 if code in ZERO_DECIMAL_CURRENCIES else int(get_currency_precision(code))
    rounded = amount.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    # Babel's currency data gives JPY and KRW no decimals, matching the rounding above.
    return str(format_currency(rounded, code, locale=locale_for(language, country_code)))


def format_date(value: dt.date | dt.datetime, language: str, country_code: str | None = None) -> str:
    """A date in the customer's long form ("1 juin 2025"); a datetime counts as its own date."""
    day = value.date() if isinstance(value, dt.datetime) else value
    return str(babel_format_date(day, format="long", locale=locale_for(language, country_code)))


def format_list(items: Sequence[str], language: str) -> str:
    """Items joined the way the language lists things ("a, b et c"); the catalogue's
    separator when Babel cannot."""
    if not items:
        return ""
    try:
        return str(babel_format_list(list(items), locale=locale_for(language)))
    except (UnknownLocaleError, KeyError, ValueError):
        separator = default_catalogue().render("item_list_separator", language)
        return separator.join(items)
