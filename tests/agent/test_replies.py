"""Reply catalogues in every language, and amounts, dates and lists in the customer's locale."""

from __future__ import annotations

import datetime as dt
import re
import string
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from agent.replies import (
    SUPPORTED,
    ReplyCatalogue,
    default_catalogue,
    format_date,
    format_list,
    format_money,
    locale_for,
    replies_dir,
)

REPLIES = replies_dir()
UI_FILE = REPLIES.parent / "ui.yaml"
OTHER_LANGUAGES = [language for language in SUPPORTED if language != "en"]


def _load(path: Path) -> dict[str, str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _fields(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def _has_words(template: str) -> bool:
    """Whether a reply has text of its own beyond placeholders and punctuation."""
    return bool(re.search(r"[^\W\d_]", re.sub(r"\{\w+\}", "", template)))


ENGLISH = _load(REPLIES / "en.yaml")
SAMPLE_VALUES = {field: f"<{field}>" for template in ENGLISH.values() for field in _fields(template)}


# ---------------------------------------------------------------- the catalogue files


def test_there_is_one_catalogue_per_supported_language() -> None:
    assert sorted(path.stem for path in REPLIES.glob("*.yaml")) == sorted(SUPPORTED)


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_each_catalogue_has_exactly_the_english_keys_and_placeholders(language: str) -> None:
    replies = _load(REPLIES / f"{language}.yaml")
    assert list(replies) == list(ENGLISH)
    for key, template in ENGLISH.items():
        assert isinstance(replies[key], str), key
        assert _fields(replies[key]) == _fields(template), key


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_each_catalogue_starts_with_a_comment_naming_its_language(language: str) -> None:
    first_line = (REPLIES / f"{language}.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first_line.startswith("# ")


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_replies_are_translated(language: str) -> None:
    replies = _load(REPLIES / f"{language}.yaml")
    for key, template in ENGLISH.items():
        if _has_words(template):
            assert replies[key] != template, f"{language}.{key} is still English"
        else:
            # Placeholder-only replies (a colleague's own words) and separators stay as they are
            # or take the language's punctuation.
            assert _fields(replies[key]) == _fields(template)


SCRIPTS = {
    "ar": r"[\u0600-\u06FF]",
    "ru": r"[\u0400-\u04FF]",
    "zh": r"[\u4E00-\u9FFF]",
    "ja": r"[\u3040-\u30FF]",
    "ko": r"[\uAC00-\uD7AF]",
}


@pytest.mark.parametrize(("language", "letters"), sorted(SCRIPTS.items()))
def test_replies_are_written_in_the_language_script(language: str, letters: str) -> None:
    replies = _load(REPLIES / f"{language}.yaml")
    for key, template in ENGLISH.items():
        if _has_words(template):
            assert re.search(letters, replies[key]), f"{language}.{key}"
            assert not re.search(r"[A-Za-z]", re.sub(r"\{\w+\}", "", replies[key])), f"{language}.{key} has Latin letters"


def test_list_separators_follow_the_language() -> None:
    catalogue = default_catalogue()
    assert catalogue.render("item_list_separator", "ja") == "、"
    assert catalogue.render("item_list_separator", "zh") == "、"
    assert catalogue.render("item_list_separator", "ar") == "، "
    assert catalogue.render("item_list_separator", "fr") == ", "


def test_widget_labels_exist_for_every_language() -> None:
    labels = yaml.safe_load(UI_FILE.read_text(encoding="utf-8"))
    assert sorted(labels) == sorted(SUPPORTED)
    for language, words in labels.items():
        assert set(words) == {"yes", "no", "send", "placeholder", "rate", "title", "thanks", "error", "wait", "team"}, language
        assert all(isinstance(text, str) and text.strip() for text in words.values()), language
    assert labels["de"]["yes"] == "Ja"
    assert labels["en"]["no"] == "No"


# ---------------------------------------------------------------- rendering


def test_the_catalogue_loads_every_language() -> None:
    assert default_catalogue().languages() == list(SUPPORTED)
    assert default_catalogue() is default_catalogue()


def test_render_fills_the_values() -> None:
    catalogue = default_catalogue()
    assert catalogue.render("identity_ok", "en", name="Ana") == "Thank you, Ana, I've found your account."
    assert catalogue.render("identity_ok", "es", name="Ana") == "Gracias, Ana. He encontrado su cuenta."
    text = catalogue.render("order_not_found", "de", order_id="HW-1042")
    assert "HW-1042" in text
    assert "{" not in text


@pytest.mark.parametrize("language", SUPPORTED)
def test_every_reply_renders_in_every_language(language: str) -> None:
    catalogue = default_catalogue()
    for key in ENGLISH:
        text = catalogue.render(key, language, **SAMPLE_VALUES)
        assert "{" not in text and "}" not in text, f"{language}.{key}"
        for field in _fields(ENGLISH[key]):
            assert f"<{field}>" in text, f"{language}.{key} lost {field}"


def test_braces_in_values_are_kept_as_they_are() -> None:
    assert default_catalogue().render("human_reply", "fr", text="{not a placeholder}") == "{not a placeholder}"


def test_values_a_reply_does_not_use_are_ignored() -> None:
    assert default_catalogue().render("anything_else", "en", name="Ana") == ENGLISH["anything_else"]


def test_an_unknown_language_falls_back_to_english() -> None:
    catalogue = default_catalogue()
    assert catalogue.render("identity_ok", "sv", name="Ana") == "Thank you, Ana, I've found your account."
    assert catalogue.render("anything_else", "xx") == ENGLISH["anything_else"]


def test_regional_language_tags_use_the_language_catalogue() -> None:
    catalogue = default_catalogue()
    assert catalogue.render("anything_else", "pt-BR") == catalogue.render("anything_else", "pt")
    assert catalogue.render("anything_else", "FR") == catalogue.render("anything_else", "fr")


def test_an_unknown_key_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        default_catalogue().render("no_such_reply", "en")


def test_a_missing_value_is_named() -> None:
    with pytest.raises(ValueError, match="order_id"):
        default_catalogue().render("order_not_found", "it")
    with pytest.raises(ValueError, match=r"carrier.*tracking"):
        default_catalogue().render("track_delivered", "ja", order_id="1", date="x")


def test_arabic_replies_are_in_arabic() -> None:
    text = default_catalogue().render("order_not_found", "ar", order_id="HW-1042")
    assert re.search(r"[\u0600-\u06FF]", text)
    assert "HW-1042" in text


# ---------------------------------------------------------------- broken catalogues


def _catalogue_dir(tmp_path: Path, **languages: dict[str, str]) -> Path:
    (tmp_path / "en.yaml").write_text(yaml.safe_dump(ENGLISH, allow_unicode=True), encoding="utf-8")
    for language, replies in languages.items():
        (tmp_path / f"{language}.yaml").write_text(yaml.safe_dump(replies, allow_unicode=True), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("language", "key", "value", "error"),
    [
        pytest.param("es", "propose_refund", None, r"es\.yaml.*propose_refund", id="missing-key"),
        pytest.param("de", "identity_ok", "Danke, {customer}!", r"de\.yaml.*identity_ok", id="changed-placeholder"),
        pytest.param("fr", "done_refund", "C'est fait : {amount}.", r"fr\.yaml.*done_refund.*arrival", id="dropped-placeholder"),
        pytest.param("nl", "surprise", "Verrassing", r"nl\.yaml.*surprise", id="extra-key"),
        pytest.param("it", "identity_ok", "Grazie, {name", r"it\.yaml.*identity_ok", id="malformed-template"),
    ],
)
def test_a_broken_catalogue_names_the_file_and_key(
    tmp_path: Path, language: str, key: str, value: str | None, error: str
) -> None:
    """A missing or extra key, a changed or dropped placeholder, a malformed template (a value of None deletes the key)."""
    broken = dict(_load(REPLIES / f"{language}.yaml"))
    if value is None:
        del broken[key]
    else:
        broken[key] = value
    with pytest.raises(ValueError, match=error):
        ReplyCatalogue(_catalogue_dir(tmp_path, **{language: broken}))


def test_a_catalogue_directory_can_hold_only_some_languages(tmp_path: Path) -> None:
    catalogue = ReplyCatalogue(_catalogue_dir(tmp_path, ko=_load(REPLIES / "ko.yaml")))
    assert catalogue.languages() == ["en", "ko"]
    assert catalogue.render("anything_else", "es") == ENGLISH["anything_else"]


# ---------------------------------------------------------------- locales and values


@pytest.mark.parametrize(
    ("language", "country", "expected"),
    [
        ("es", "MX", "es_MX"),
        ("es", None, "es_ES"),
        ("pt", None, "pt_BR"),
        ("pt", "PT", "pt_PT"),
        ("en", "GB", "en_GB"),
        ("en", None, "en_US"),
        ("zh", None, "zh_Hans_CN"),
        ("zh", "TW", "zh_Hant_TW"),
        ("ar", None, "ar_SA"),
        ("ar", "eg", "ar_EG"),
        ("de", "AT", "de_AT"),
        ("ja", None, "ja_JP"),
        ("ko", None, "ko_KR"),
        ("es", "JP", "es_ES"),  # Babel has no Spanish for Japan
        ("fr", "ZZ", "fr_FR"),
        ("sv", None, "en_US"),  # no catalogue: formatted like the English reply
    ],
)
def test_locale_for(language: str, country: str | None, expected: str) -> None:
    assert locale_for(language, country) == expected


def test_money_in_german() -> None:
    text = format_money(Decimal("1234.5"), "EUR", "de")
    assert "1.234,50" in text
    assert "€" in text


def test_money_in_english_and_french() -> None:
    assert format_money(Decimal("1234.5"), "USD", "en") == "$1,234.50"
    french = format_money(Decimal("1234.5"), "EUR", "fr")
    assert re.sub(r"\s", " ", french) == "1 234,50 €"


@pytest.mark.parametrize("language", SUPPORTED)
def test_yen_and_won_have_no_decimals(language: str) -> None:
    for currency in ("JPY", "KRW"):
        text = format_money(Decimal("1234.5"), currency, language)
        assert not re.search(r"\d[.,]\d{2}(?!\d)", text), text
        assert re.search(r"1\D?23[45]", text), text


def test_yen_rounds_half_up() -> None:
    assert format_money(Decimal("1234.5"), "JPY", "ja") == "￥1,235"
    assert format_money(Decimal("1234.4"), "JPY", "ja") == "￥1,234"


def test_money_rounds_to_the_minor_unit() -> None:
    assert format_money(Decimal("10.005"), "EUR", "en", "IE") == "€10.01"


def test_money_follows_the_country() -> None:
    assert "CA$" not in format_money(Decimal("10"), "CAD", "en", "CA")
    assert "CA$" in format_money(Decimal("10"), "CAD", "en")


def test_dates_in_french_use_french_month_names() -> None:
    assert format_date(dt.date(2025, 6, 1), "fr") == "1 juin 2025"
    assert "février" in format_date(dt.date(2025, 2, 14), "fr")


def test_datetimes_are_formatted_as_their_date() -> None:
    moment = dt.datetime(2025, 6, 1, 23, 30, tzinfo=dt.UTC)
    assert format_date(moment, "de") == format_date(dt.date(2025, 6, 1), "de") == "1. Juni 2025"


def test_dates_in_other_languages() -> None:
    day = dt.date(2025, 6, 1)
    assert format_date(day, "en") == "June 1, 2025"
    assert format_date(day, "en", "GB") == "1 June 2025"
    assert format_date(day, "ja") == "2025年6月1日"
    assert "junio" in format_date(day, "es")
    assert re.search(r"[\u0600-\u06FF]", format_date(day, "ar"))


def test_lists_follow_the_language() -> None:
    assert format_list(["a", "b", "c"], "fr") == "a, b et c"
    assert format_list(["a", "b"], "de") == "a und b"
    assert format_list(["a", "b", "c"], "ja") == "a、b、c"
    assert format_list(["a"], "en") == "a"
    assert format_list([], "en") == ""
    assert format_list(["a", "b"], "xx") == "a and b"


def test_a_language_placeholder_does_not_clash_with_the_reply_language() -> None:
    text = default_catalogue().render("policy_answer_other_language", "de", language="Englisch", answer="30 days.")
    assert text == "Das steht in unseren Richtlinien (dieser Teil ist nur auf Englisch verfügbar): 30 days."
