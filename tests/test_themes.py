"""Street themes: the theme file, street profiles and data-driven 一街一主题 suggestions."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString

from geo.crs import Projector
from geo.errors import InputDataError
from geo.osm import OsmExtract, read_osm
from layers.themes import (
    DEFAULT_THEMES,
    LAYER_COLUMNS,
    SUGGESTION_NOTE,
    THEMED_EXTRA,
    Themes,
    load_themes,
    poi_themes,
    street_theme_profile,
    suggest_themed_streets,
)

log = logging.getLogger(__name__)

OSM_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "osm"
UTM = "EPSG:32651"
X0, Y0 = 355_000.0, 3_452_000.0
PROJ = Projector.for_crs(UTM)
SCHEMA = [*LAYER_COLUMNS, *THEMED_EXTRA, "geometry"]


def osm_file(name: str) -> Path:
    """A real extract in ../shared/data/osm; fail (never skip) when it is missing."""
    p = OSM_DIR / name
    if not p.exists():
        pytest.fail(f"real test data {p} is missing: check out ../shared next to the repo")
    return p


@pytest.fixture(scope="module")
def themes() -> Themes:
    return load_themes()


# --- the theme file -------------------------------------------------------------------------------


def test_shipped_themes(themes: Themes) -> None:
    assert DEFAULT_THEMES.name == "themes.toml" and DEFAULT_THEMES.exists()
    assert set(themes.ids) == {"food", "fashion", "culture", "nightlife", "daily_needs"}
    for t in themes.themes:
        assert t.name_zh and t.name_en and t.rules
        assert t.status == "assumption"
    cases = {
        "food": [{"amenity": "restaurant"}, {"amenity": "cafe"}, {"shop": "bakery"}],
        "fashion": [{"shop": "clothes"}, {"shop": "shoes"}, {"shop": "jewelry"}],
        "culture": [{"tourism": "museum"}, {"amenity": "theatre"}, {"shop": "books"}],
        "nightlife": [{"amenity": "bar"}, {"amenity": "pub"}, {"amenity": "karaoke_box"}],
        "daily_needs": [{"shop": "supermarket"}, {"amenity": "pharmacy"}, {"shop": "laundry"}],
    }
    for theme_id, tag_sets in cases.items():
        for tags in tag_sets:
            assert themes.theme_of(tags) == theme_id, tags
    assert themes.theme_of({"amenity": "bench"}) is None
    assert themes.theme_of({}) is None
    with pytest.raises(InputDataError, match="known"):
        themes.theme("sports")


def test_bad_theme_file_lists_every_problem(tmp_path: Path) -> None:
    p = tmp_path / "themes.toml"
    p.write_text(
        """
[theme.food]
name_zh = "美食"
name_en = "Food"
status = "official"
tags = ["amenity=restaurant", "amenity"]

[theme.Fashion]
name_zh = "时尚"
status = "assumption"
colour = "red"
tags = []
""",
        encoding="utf-8",
    )
    with pytest.raises(InputDataError) as err:
        load_themes(p)
    text = str(err.value)
    for fragment in (
        "unknown status 'official'",
        "'amenity' is not key=value",
        "lower_snake_case",
        "unknown field 'colour'",
        "missing field 'name_en'",
        "non-empty list of tag rules",
    ):
        assert fragment in text
    assert "6 problem(s)" in text
    with pytest.raises(InputDataError, match="not found"):
        load_themes(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text("[theme", encoding="utf-8")
    with pytest.raises(InputDataError, match="TOML"):
        load_themes(tmp_path / "bad.toml")


# --- synthetic streets ----------------------------------------------------------------------------


def to_wgs84(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return PROJ.to_lonlat(X0 + np.asarray(x, dtype=float), Y0 + np.asarray(y, dtype=float))


def street_line(x0: float, x1: float, y: float) -> LineString:
    lon, lat = to_wgs84(np.array([x0, x1]), np.array([y, y]))
    return LineString(np.column_stack([lon, lat]))


def streets_frame(rows: list[tuple[str, LineString]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "osm_id": np.arange(1, len(rows) + 1),
            "name": [r[0] for r in rows],
            "name:zh": [None] * len(rows),
            "name:en": [None] * len(rows),
            "highway": ["residential"] * len(rows),
        },
        geometry=[r[1] for r in rows],
        crs="EPSG:4326",
    )


def pois_frame(items: list[tuple[float, float, dict[str, str]]]) -> gpd.GeoDataFrame:
    x = np.array([i[0] for i in items])
    y = np.array([i[1] for i in items])
    lon, lat = to_wgs84(x, y)
    return gpd.GeoDataFrame(
        {
            "osm_id": np.arange(1, len(items) + 1),
            "name": [f"poi {k}" for k in range(len(items))],
            "shop": [i[2].get("shop") for i in items],
            "amenity": [i[2].get("amenity") for i in items],
            "tags": [dict(i[2]) for i in items],
        },
        geometry=shapely.points(lon, lat),
        crs="EPSG:4326",
    )


FOOD = {"amenity": "restaurant"}
CLOTHES = {"shop": "clothes"}
BENCH = {"amenity": "bench"}


def food_street() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """美食街: two pieces 0–200 m and 200–400 m; 10 restaurants at 20 m, 2 clothes shops at
    30 m, a bench at 10 m, 3 restaurants at 80 m; 混合路 at y = 1000 with 8 + 8."""
    streets = streets_frame(
        [
            ("美食街", street_line(0, 200, 0)),
            ("美食街", street_line(200, 400, 0)),
            ("混合路", street_line(0, 400, 1000)),
        ]
    )
    items = [(20.0 + 40 * k, 20.0, FOOD) for k in range(10)]
    items += [(100.0, -30.0, CLOTHES), (300.0, -30.0, CLOTHES), (200.0, 10.0, BENCH)]
    items += [(50.0 + 100 * k, 80.0, FOOD) for k in range(3)]
    items += [(25.0 + 50 * k, 1010.0, FOOD) for k in range(8)]
    items += [(25.0 + 50 * k, 990.0, CLOTHES) for k in range(8)]
    return streets, pois_frame(items)


def test_profile_of_a_synthetic_street(themes: Themes) -> None:
    streets, pois = food_street()
    s_before, p_before = streets.copy(), pois.copy()
    p = street_theme_profile(streets, pois, name="美食街", themes=themes)
    assert (p.n_pois, p.n_themed) == (13, 12)  # the bench at (200, 10) is counted once
    assert p.counts["food"] == 10 and p.counts["fashion"] == 2
    assert sum(p.counts.values()) == p.n_themed
    assert sum(p.shares.values()) == pytest.approx(1.0)
    assert p.dominant == "food" and p.dominant_share == pytest.approx(10 / 12)
    frame = p.to_frame()
    assert frame["theme"].tolist() == list(themes.ids)
    assert frame["count"].sum() == 12
    wide = street_theme_profile(streets, pois, name="美食街", distance_m=100)
    assert (wide.n_pois, wide.counts["food"]) == (16, 13)
    pd.testing.assert_frame_equal(streets, s_before)
    pd.testing.assert_frame_equal(pois, p_before)


def test_profile_without_themed_pois_and_errors() -> None:
    streets, pois = food_street()
    far = streets_frame([("空街", street_line(0, 100, 5000))])
    p = street_theme_profile(far, pois, name="空街")
    assert (p.n_pois, p.n_themed, p.dominant) == (0, 0, None)
    assert math.isnan(p.dominant_share)
    assert set(p.shares.values()) == {0.0}
    with pytest.raises(InputDataError, match="not in the street data"):
        street_theme_profile(streets, pois, name="南京东路")
    with pytest.raises(InputDataError, match="distance_m"):
        street_theme_profile(streets, pois, name="美食街", distance_m=-1)
    with pytest.raises(InputDataError, match="CRS"):
        street_theme_profile(streets.set_crs(None, allow_override=True), pois, name="美食街")


def test_profile_matches_name_zh_and_table_columns_without_tags() -> None:
    streets, pois = food_street()
    streets = streets.assign(
        **{"name:zh": ["美食街"] * 2 + [None], "name": ["Food St"] * 2 + ["x"]}
    )
    plain = pois.drop(columns="tags")  # a planner's table: shop / amenity columns only
    p = street_theme_profile(streets, plain, name="美食街")
    assert (p.n_pois, p.counts["food"], p.counts["fashion"]) == (13, 10, 2)
    assert poi_themes(plain).iloc[:13].tolist() == ["food"] * 10 + ["fashion"] * 2 + [None]


def test_suggest_themed_streets_synthetic() -> None:
    streets, pois = food_street()
    out = suggest_themed_streets(streets, pois, min_pois=10, min_share=0.6)
    assert list(out.columns) == SCHEMA
    assert out.crs == "EPSG:4326"
    assert len(out) == 1  # 混合路 is half food, half fashion
    row = out.iloc[0]
    assert row["name_zh"] == row["name_en"] == "美食街"
    assert row["id"] == "themed_street_candidate_1"
    assert (row["kind"], row["status"]) == ("themed_street_candidate", "suggestion")
    assert row["note"] == SUGGESTION_NOTE
    assert (row["theme"], row["theme_name_zh"], row["theme_name_en"]) == ("food", "美食", "Food")
    assert row["theme_share"] == pytest.approx(10 / 12)
    assert (row["n_themed"], row["n_pois"]) == (12, 13)
    assert row["theme_counts"] == "food:10;fashion:2"
    assert row.geometry.geom_type == "LineString"  # two pieces merged
    lower = suggest_themed_streets(streets, pois, min_pois=10, min_share=0.5)
    assert lower["name_zh"].tolist() == ["美食街", "混合路"]
    assert lower["theme_share"].tolist() == pytest.approx([10 / 12, 0.5])
    none = suggest_themed_streets(streets, pois, min_pois=13)
    assert none.empty and list(none.columns) == SCHEMA
    assert str(none["theme_share"].dtype) == "float64"
    for bad in ({"min_pois": 0}, {"min_share": 0.0}, {"min_share": 1.5}, {"distance_m": 0.0}):
        with pytest.raises(InputDataError):
            suggest_themed_streets(streets, pois, **bad)


# --- real data ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kyoto() -> OsmExtract:
    return read_osm(osm_file("kyoto_full.osm.gz"))


@pytest.fixture(scope="module")
def helsinki() -> OsmExtract:
    return read_osm(osm_file("helsinki_full.osm.pbf"))


KYOTO_STREETS = ("神幸道", "本町通", "師団街道", "京阪国道", "油小路通")


@pytest.mark.parametrize("name", KYOTO_STREETS)
def test_real_kyoto_street_profiles(kyoto: OsmExtract, themes: Themes, name: str) -> None:
    p = street_theme_profile(kyoto.streets, kyoto.pois, name=name, themes=themes)
    log.info("Kyoto %s: %d POIs, %d themed, %s", name, p.n_pois, p.n_themed, dict(p.counts))
    assert p.n_pois >= p.n_themed > 0
    assert sum(p.shares.values()) == pytest.approx(1.0)
    assert sum(p.counts.values()) == p.n_themed
    assert p.dominant is not None and p.shares[p.dominant] == max(p.shares.values())


def test_real_kyoto_fushimi_inari_approach_is_all_food(kyoto: OsmExtract) -> None:
    p = street_theme_profile(kyoto.streets, kyoto.pois, name="神幸道")
    assert (p.n_pois, p.n_themed, p.dominant, p.dominant_share) == (33, 16, "food", 1.0)


def test_real_kyoto_suggestions(kyoto: OsmExtract, themes: Themes) -> None:
    out = suggest_themed_streets(kyoto.streets, kyoto.pois, themes=themes)
    summary = out[["name_zh", "theme", "theme_share", "n_themed", "n_pois"]]
    log.info("Kyoto themed-street candidates:\n%s", summary.to_string())
    assert list(out.columns) == SCHEMA
    assert len(out) == 6
    assert out["name_zh"].iloc[0] == "神幸道"
    assert set(out["theme"]) == {"food"}
    assert (out["theme_share"] >= 0.6).all() and (out["n_themed"] >= 15).all()
    assert out["theme_share"].is_monotonic_decreasing
    assert set(out["status"]) == {"suggestion"}
    assert set(out["name_zh"]) <= set(kyoto.streets["name"])
    # each candidate agrees with its own profile
    for _, row in out.iterrows():
        p = street_theme_profile(kyoto.streets, kyoto.pois, name=row["name_zh"])
        assert (p.n_themed, p.n_pois, p.dominant) == (row["n_themed"], row["n_pois"], row["theme"])
        assert p.dominant_share == pytest.approx(row["theme_share"])
    lowered = suggest_themed_streets(kyoto.streets, kyoto.pois, min_pois=5, min_share=0.5)
    assert len(lowered) == 12
    assert {"food", "daily_needs"} == set(lowered["theme"])
    assert set(out["name_zh"]) <= set(lowered["name_zh"])


def test_real_helsinki_suggestions(helsinki: OsmExtract) -> None:
    out = suggest_themed_streets(helsinki.streets, helsinki.pois)
    log.info("Helsinki candidates: %s", out[["name_zh", "theme", "theme_share"]].values.tolist())
    assert len(out) == 13 and set(out["theme"]) == {"food"}
    assert out["name_zh"].iloc[0] == "Eteläranta"
    kluuvi = street_theme_profile(helsinki.streets, helsinki.pois, name="Kluuvikatu")
    assert (kluuvi.counts["food"], kluuvi.counts["fashion"], kluuvi.n_themed) == (18, 12, 31)


@pytest.mark.parametrize(
    "text",
    ["x = " + "[" * 5000 + "]" * 5000 + "\n", "x = " + "1" * 5000 + "\n", "[theme\n"],
)
def test_broken_theme_files_are_input_errors(tmp_path: Path, text: str) -> None:
    """Deep nesting and huge integers crashed this loader before it shared geo.tomlfile."""
    p = tmp_path / "themes.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputDataError, match=r"themes\.toml"):
        load_themes(p)
