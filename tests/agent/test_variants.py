"""Which variant a customer asks for: a size, a colour in their own language, one size up or
down, "too small"; read against the variants the product really has."""

from __future__ import annotations

from typing import Any

import pytest

from agent.variants import choose_variant, names_a_variant, names_other_items, size_rank

JACKET = {"item_id": "v-olive-l", "options": {"color": "olive", "size": "L"}, "quantity": 1}


def variant(item_id: str, color: str, size: str, stock: int | None = 5, available: bool = True) -> dict[str, Any]:
    return {"item_id": item_id, "options": {"color": color, "size": size}, "in_stock": stock, "available": available}


VARIANTS = [
    variant("v-olive-l", "olive", "L"),
    variant("v-olive-m", "olive", "M"),
    variant("v-navy-xl", "navy", "XL"),
    variant("v-black-l", "black", "L"),
    variant("v-yellow-s", "yellow", "S", stock=0),
]


def chosen(text: str, language: str) -> str | None:
    found = choose_variant([text], language, JACKET, VARIANTS).variant
    return found["item_id"] if found else None


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("could you swap it to the next size up?", "en", "v-navy-xl"),
        ("it's too small, can I get it bigger", "en", "v-navy-xl"),
        ("it's too big for me", "en", "v-olive-m"),
        ("size M please", "en", "v-olive-m"),
        ("dann lieber eine Größe größer statt Storno", "de", "v-navy-xl"),
        ("fällt zu groß aus", "de", "v-olive-m"),
        ("se puede cambiar por la talla siguiente? una mas grande", "es", "v-navy-xl"),
        ("il est trop petit, la taille au dessus svp", "fr", "v-navy-xl"),
        ("本当は色を変えたかっただけなので、黒があれば黒で。", "ja", "v-black-l"),
        ("尺寸選錯了 想改大一號", "zh", "v-navy-xl"),
        ("عايزة اغير المقاس لمقاس اكبر بدرجة", "ar", "v-navy-xl"),
        ("한 치수 작은 걸로 바꿔주세요", "ko", "v-olive-m"),
        ("хочу поменять на черный", "ru", "v-black-l"),
        ("bir beden büyüğü ile değiştirebilir miyim", "tr", "v-navy-xl"),
    ],
)
def test_the_variant_asked_for_in_any_language(text: str, language: str, expected: str) -> None:
    assert chosen(text, language) == expected


def test_the_last_colour_named_that_the_product_has() -> None:
    assert chosen("lo vorrei rosa se c'è, sennò va bene anche nero", "it") == "v-black-l"
    assert chosen("pink if you have it, otherwise navy", "en") == "v-navy-xl"


def test_what_the_product_does_not_have_or_has_not_in_stock_is_no_variant() -> None:
    # Pink is not made; yellow is made but none is left; nothing is smaller than S.
    for text in ("in pink please", "in yellow please"):
        choice = choose_variant([text], "en", JACKET, VARIANTS)
        assert choice.variant is None and choice.wanted
    assert {v["item_id"] for v in choose_variant(["in pink"], "en", JACKET, VARIANTS).available} == {
        "v-olive-m",
        "v-navy-xl",
        "v-black-l",
    }


def test_numbers_of_an_email_or_an_order_and_an_i_m_are_no_sizes() -> None:
    shoe = {"item_id": "s40", "options": {"size": "EU 40"}, "quantity": 1}
    shoes = [{"item_id": f"s{n}", "options": {"size": f"EU {n}"}, "in_stock": 3} for n in (38, 40, 42)]
    assert choose_variant(["order #42, email anna42@example.com"], "en", shoe, shoes).wanted == {}
    assert choose_variant(["the 42 please"], "en", shoe, shoes).variant["item_id"] == "s42"  # type: ignore[index]
    assert choose_variant(["I'M not sure what to do"], "en", JACKET, VARIANTS).wanted == {}


def test_the_newest_message_that_names_a_change_decides() -> None:
    texts = ["can I get it in black?", "actually no, one size smaller"]
    assert choose_variant(texts, "en", JACKET, VARIANTS).variant["item_id"] == "v-olive-m"  # type: ignore[index]


def test_size_scales_and_other_items() -> None:
    assert size_rank("XL") > size_rank("M") > size_rank("S")  # type: ignore[operator]
    assert size_rank("L/XL") > size_rank("S/M")  # type: ignore[operator]
    assert size_rank("35L") > size_rank("25L")  # type: ignore[operator]
    assert size_rank("king") > size_rank("double")  # type: ignore[operator]
    assert names_other_items(["i want to take the sneakers off and add a scarf"], "en")
    assert names_other_items(["注文したスニーカーを別の商品に変えたい"], "ja")
    assert not names_other_items(["a size bigger please"], "en")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("kann man die größe auf L ändern?", True),
        ("prosze zmienic na S", True),
        ("change it to M please", True),
        ("taille: XL", True),
        ("I want a refund in 5 days", False),
        ("go to a shop", False),
    ],
)
def test_a_size_written_out_names_a_variant(text: str, named: bool) -> None:
    assert names_a_variant([text], "en") is named


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        # The size the customer has, named as such, is not the one asked for.
        ("kann man beim Rain Jacket statt M einfach L nehmen?", "de", None),
        ("change it from L to M please", "en", "v-olive-m"),
        ("M에서 L로요", "ko", None),
        ("instead of L, M please", "en", "v-olive-m"),
    ],
)
def test_the_size_the_item_has_named_beside_the_one_wanted(text: str, language: str, expected: str | None) -> None:
    assert chosen(text, language) == expected


def test_in_korean_and_japanese_the_request_after_an_item_is_its_own() -> None:
    from agent.variants import items_swapped_apart

    text = "Leather Sneakers 제품은 반품하고 Coffee Grinder 제품은 사이즈 교환하고 싶어요"
    assert items_swapped_apart([text], "ko", ["Leather Sneakers", "Coffee Grinder"]) == ({"Coffee Grinder"}, {"Leather Sneakers"})
    assert items_swapped_apart(["Mug は返品して、T-Shirt はサイズ交換したいです"], "ja", ["Mug", "T-Shirt"]) == (
        {"T-Shirt"},
        {"Mug"},
    )


def test_the_options_offered_are_written_in_the_customers_language() -> None:
    from agent.variants import option_list

    offered = [{"options": {"color": "black", "size": "EU 37"}}, {"options": {"color": "tan", "size": "EU 37"}}]
    assert option_list(offered, "es") == "negro EU 37; cuero EU 37"
    assert option_list(offered, "zh").startswith("黑色 EU 37")
    assert option_list(offered) == "black EU 37; tan EU 37"


def test_a_whole_range_is_offered_option_by_option_sizes_in_order() -> None:
    from agent.variants import option_list

    offered = [
        {"options": {"color": color, "size": size}}
        for color in ("black", "navy", "beige")
        for size in ("XL", "S", "M", "XS")
        if (color, size) != ("navy", "XS")
    ]
    assert option_list(offered) == "black, navy, beige; XS, S, M, XL"
    assert option_list(offered, "de") == "schwarz, marineblau, beige; XS, S, M, XL"


def test_every_colour_of_the_demo_catalogue_has_a_name_in_every_language() -> None:
    from pathlib import Path

    import yaml

    from agent.understanding import LANGUAGES
    from agent.variants import option_names

    catalogue = yaml.safe_load((Path(__file__).resolve().parents[2] / "commerce" / "data" / "demo_catalogue.yaml").read_text())
    colours: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("options", "more_options") and isinstance(value, dict):
                    found = value.get("color") or []
                    colours.update(str(c) for c in (found if isinstance(found, list) else [found]))
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(catalogue)
    names = option_names()
    missing = {c: sorted(set(LANGUAGES) - {"en"} - set(names.get(c, {}))) for c in colours}
    assert colours and not {c: langs for c, langs in missing.items() if langs}


@pytest.mark.parametrize(
    ("language", "text", "size"),
    [
        ("en", "can i just switch the Rain Jacket to a medium instead of small", "M"),
        ("en", "it's too small, can I get a large", "L"),
        ("es", "la quiero en talla mediana", "M"),
        ("de", "statt S bitte Größe medium", "M"),
        ("fr", "en taille moyenne svp", "M"),
        ("ru", "поменяйте на средний размер", "M"),
    ],
)
def test_a_letter_size_written_as_a_word_is_that_size(language: str, text: str, size: str) -> None:
    from agent.variants import choose_variant

    item = {"item_id": "1", "options": {"color": "yellow", "size": "S"}}
    offered = [
        {"item_id": f"{c}{z}", "options": {"color": c, "size": z}, "in_stock": 5}
        for c in ("yellow", "navy")
        for z in ("S", "M", "L", "XL")
    ]
    choice = choose_variant([text], language, item, offered)
    assert choice.variant is not None and choice.variant["options"] == {"color": "yellow", "size": size}
    # "too small" alone is one size up, not the size S.
    assert choose_variant(["it's too small"], "en", item, offered).wanted == {"size": "M"}
