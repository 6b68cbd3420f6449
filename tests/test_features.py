"""POI taxonomy: the shipped file loads; the matcher, exclusions and reports are right."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo.errors import InputDataError
from geo.features import TagRule, classify_tags, load_taxonomy
from geo.osm import OsmExtract
from shangquan.paths import DEFAULT_TAXONOMY

REQUIRED = {
    "breakfast",
    "wet_market",
    "fresh_food",
    "supermarket",
    "convenience",
    "bakery",
    "pharmacy",
    "parcel_locker",
    "restaurant",
    "canteen",
    "clinic",
}


@pytest.fixture(scope="module")
def tax():
    return load_taxonomy(DEFAULT_TAXONOMY)


def test_shipped_taxonomy_has_required_categories(tax) -> None:
    assert set(tax.ids) >= REQUIRED
    for c in tax.categories:
        assert c.name_zh and c.name_en and c.status
        assert c.tag_rules or c.keywords


@pytest.mark.parametrize(
    ("text", "tags", "ok"),
    [
        ("shop=supermarket", {"shop": "supermarket"}, True),
        ("shop=supermarket", {"shop": "convenience"}, False),
        ("shop=greengrocer|butcher", {"shop": "butcher"}, True),
        ("amenity=*", {"amenity": "cafe"}, True),
        ("amenity=*", {"shop": "cafe"}, False),
        ("cuisine~breakfast", {"cuisine": "chinese;breakfast"}, True),
    ],
)
def test_tag_rules(text: str, tags: dict[str, str], ok: bool) -> None:
    assert TagRule.parse(text).matches(tags) is ok


@pytest.mark.parametrize(
    ("tags", "cats"),
    [
        ({"name": "乐购超市(河南南路店)", "brand": "乐购"}, ("supermarket",)),
        ({"name": "乐购数码", "brand": "乐购"}, ()),  # brand noise: electronics
        ({"name": "京世造型龙华乐购店", "brand": "乐购"}, ()),  # a hair salon
        ({"name": "肯德基(南京东路店)"}, ("breakfast",)),
        ({"amenity": "fast_food", "name": "McDonald's"}, ("breakfast", "restaurant")),
        ({"shop": "bakery", "name": "Wholesale Bakery"}, ("bakery",)),
        ({"amenity": "marketplace", "name": "长乐路菜市场"}, ("wet_market",)),
        ({"amenity": "vending_machine", "vending": "parcel_pickup"}, ("parcel_locker",)),
        ({"amenity": "clinic", "name": "宠物诊所"}, ()),
        ({"amenity": "pharmacy", "name": "鸥美药妆"}, ()),
        ({"shop": "clothes", "name": "优衣库"}, ()),
    ],
)
def test_classify(tax, tags: dict[str, str], cats: tuple[str, ...]) -> None:
    assert tax.classify(tags).categories == cats


def test_latin_keywords_match_whole_words(tax) -> None:
    assert tax.classify({"name": "Kfc Kamppi"}).categories == ("breakfast",)
    assert tax.classify({"name": "Pharmacyland"}).categories == ()


def test_report_counts_everything(tax, toy_extract: OsmExtract) -> None:
    flags, rep = classify_tags(tax, toy_extract.pois["tags"])
    assert rep.total == len(toy_extract.pois) == 8
    assert rep.per_category["supermarket"] == 1  # 测试超市; 乐购数码 is excluded
    assert rep.per_category["breakfast"] == 1 and rep.per_category["restaurant"] == 1  # KFC
    assert rep.per_category["convenience"] == 1  # 全家, a building way
    assert rep.per_category["wet_market"] == 1  # the multipolygon relation
    assert rep.per_category["bakery"] == 1
    assert rep.excluded == 1  # 乐购数码
    assert rep.unmatched == 1 and rep.top_unmatched == [("shop=clothes", 1)]
    assert rep.ignored == 1  # the bench
    assert rep.matched + rep.unmatched + rep.excluded + rep.ignored == rep.total
    assert flags.loc[0, "categories"] == "breakfast;restaurant"


def test_ambiguous_is_reported(tax) -> None:
    cl = tax.classify({"shop": "supermarket", "amenity": "pharmacy"})
    assert set(cl.categories) == {"supermarket", "pharmacy"} and cl.ambiguous


def test_bad_taxonomy_lists_every_problem(tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(
        """
[category.ok]
name_zh = "好"
name_en = "OK"
status = "secondary"
tags = ["shop=ok"]
overlaps = ["ghost"]

[category.Bad-Id]
name_zh = "坏"
name_en = "Bad"
status = "sure"
tags = ["shop"]
colour = "red"

[category.empty]
name_en = "Empty"
status = "secondary"
""",
        encoding="utf-8",
    )
    with pytest.raises(InputDataError) as err:
        load_taxonomy(p)
    text = str(err.value)
    for expected in [
        "category.ok.overlaps: unknown category 'ghost'",
        "category.Bad-Id: id must be lower_snake_case",
        "unknown status 'sure'",
        "tag rule 'shop' is not",
        "unknown field 'colour'",
        "category.empty: missing field 'name_zh'",
        "category.empty: needs at least one tag rule or keyword",
    ]:
        assert expected in text
    assert "bad.toml" in text


def test_taxonomy_not_toml(tmp_path: Path) -> None:
    p = tmp_path / "x.toml"
    p.write_text("[category\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="not a valid UTF-8 TOML"):
        load_taxonomy(p)
