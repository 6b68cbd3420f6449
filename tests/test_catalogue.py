"""Place catalogue: the shipped file, the loader's validation, planner overrides."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
import shapely

from geo.datum import bd09_from_wgs84
from geo.errors import InputDataError
from layers.catalogue import (
    FRAME_COLUMNS,
    KINDS,
    SHIPPED_PLACES,
    Catalogue,
    load_catalogue,
)
from tests.conftest import REPO

SOURCES_MD = REPO.parent / "shared" / "docs" / "sources.md"

EXPECTED_COUNTS = {
    "world_street": 2,
    "world_district": 4,
    "new_town": 5,
    "municipal_centre": 15,
    "nightlife_circle": 6,
}
EXPECTED_UNMAPPED = {
    "centre_sichuan_road_north",
    "centre_middle_ring_zhenbei",
    "centre_xiao_lujiazui_zhangyang_road",
    "centre_international_resort",
    "centre_new_hongqiao_tianshan",
    "nightlife_bund",
    "nightlife_jingan_temple",
    "nightlife_pudong_riverside",
}

HEADER = 'checked = "2026-11-24"\n'


def _entry(
    pid: str, kind: str = "themed_street", status: str = "planner-supplied", **geo: str
) -> str:
    lines = [
        "[[place]]",
        f'id = "{pid}"',
        f'name_zh = "{pid}中文"',
        f'name_en = "{pid} en"',
        f'kind = "{kind}"',
        f'status = "{status}"',
        'source = "test"',
        'checked = "2026-11-24"',
    ]
    lines += [f"{k} = {v}" for k, v in geo.items()]
    return "\n".join(lines) + "\n\n"


@pytest.fixture(scope="module")
def shipped() -> Catalogue:
    return load_catalogue()


# --- the shipped catalogue -----------------------------------------------------------------------


def test_shipped_catalogue_path_is_the_repo_data_file() -> None:
    assert SHIPPED_PLACES == REPO / "data" / "places.toml"


def test_shipped_counts_per_kind(shipped: Catalogue) -> None:
    counts = Counter(p.kind for p in shipped.places)
    assert dict(counts) == EXPECTED_COUNTS
    assert len(set(shipped.ids)) == len(shipped.ids)
    for kind, n in EXPECTED_COUNTS.items():
        assert len(shipped.by_kind(kind)) == n


def test_no_themed_streets_or_night_markets_shipped(shipped: Catalogue) -> None:
    assert shipped.by_kind("themed_street") == ()
    assert shipped.by_kind("night_market") == ()


def test_two_streets_and_four_districts(shipped: Catalogue) -> None:
    nanjing = shipped.get("nanjing_road")
    assert nanjing.streets == ("南京东路", "南京西路")
    assert nanjing.anchors == ((121.47923, 31.23910), (121.45573, 31.23185))
    huaihai = shipped.get("huaihai_road_xintiandi")
    assert huaihai.streets == ("淮海中路",)  # the plan does not name 淮海东路
    assert len(huaihai.anchors) == 2
    districts = {p.name_zh: p for p in shipped.by_kind("world_district")}
    assert set(districts) == {"豫园", "小陆家嘴", "徐家汇", "北外滩"}
    for p in districts.values():
        assert p.status == "approximate"
        assert "±50–100 m" in p.note


def test_new_towns_have_the_draft_life_circle_radius(shipped: Catalogue) -> None:
    towns = shipped.by_kind("new_town")
    assert {p.name_zh for p in towns} == {
        "嘉定新城",
        "青浦新城",
        "松江新城",
        "奉贤新城",
        "南汇新城",
    }
    for p in towns:
        assert p.life_circle_radius_m == (800.0, 1500.0)
        assert p.status == "approximate"
        assert len(p.anchors) == 1


def test_municipal_centres_list(shipped: Catalogue) -> None:
    names = {p.name_zh for p in shipped.by_kind("municipal_centre")}
    assert names == {
        "南京东路",
        "南京西路",
        "四川北路",
        "豫园商城",
        "徐家汇",
        "中环(真北)",
        "淮海中路",
        "小陆家嘴-张杨路",
        "五角场",
        "中山公园",
        "国际旅游度假区",
        "虹桥商务区",
        "新虹桥-天山",
        "大宁",
        "真如",
    }
    for p in shipped.by_kind("municipal_centre"):
        if not p.mapped:
            assert p.status == "unverified"
            assert p.needs == "planner geometry"


def test_unmapped_entries_are_reported(
    shipped: Catalogue, caplog: pytest.LogCaptureFixture
) -> None:
    assert {p.id for p in shipped.unmapped()} == EXPECTED_UNMAPPED
    for p in shipped.unmapped():
        assert not p.anchors and not p.streets and p.geometry is None
    with caplog.at_level("INFO", logger="layers.catalogue"):
        load_catalogue()
    assert "8 place(s) listed, not mapped" in caplog.text


def test_nightlife_circles_are_secondary(shipped: Catalogue) -> None:
    circles = shipped.by_kind("nightlife_circle")
    assert {p.name_zh for p in circles} == {
        "外滩",
        "陆家嘴",
        "新天地—思南",
        "静安寺",
        "徐家汇",
        "浦东滨江",
    }
    assert {p.status for p in circles} == {"secondary"}


def test_every_shipped_entry_is_complete(shipped: Catalogue) -> None:
    for p in shipped.places:
        assert p.name_zh and p.name_en and p.source
        assert p.checked == date(2026, 11, 24)
        assert p.datum == "wgs84"
        assert p.origin == str(SHIPPED_PLACES)


def test_shipped_anchors_come_from_sources_md(shipped: Catalogue) -> None:
    """No invented coordinates: every anchor is one of the WGS84 pairs of sources.md §3."""
    if not SOURCES_MD.exists():
        pytest.fail(f"{SOURCES_MD} is missing: check out ../shared next to the repo")
    text = SOURCES_MD.read_text(encoding="utf-8")
    pairs = {(float(a), float(b)) for a, b in re.findall(r"(1[12]\d\.\d{5}), (3\d\.\d{5})", text)}
    assert len(pairs) == 19
    anchors = {a for p in shipped.places for a in p.anchors}
    # every pair but 前滩's (东方体育中心 station: association unverified, 前滩 not shipped)
    assert anchors == pairs - {(121.47597, 31.15553)}


def test_to_frame_schema(shipped: Catalogue) -> None:
    frame = shipped.to_frame()
    assert list(frame.columns) == [*FRAME_COLUMNS, "geometry"]
    assert frame.crs.to_epsg() == 4326
    assert len(frame) == len(shipped.places)
    kinds = dict(zip(frame["id"], frame.geometry, strict=True))
    assert kinds["yuyuan"].geom_type == "Point"
    assert kinds["nanjing_road"].geom_type == "MultiPoint"
    assert kinds["nightlife_bund"] is None
    assert set(frame["checked"]) == {"2026-11-24"}


def test_empty_catalogue_frame_keeps_schema() -> None:
    frame = Catalogue(places=()).to_frame()
    assert list(frame.columns) == [*FRAME_COLUMNS, "geometry"]
    assert frame.crs.to_epsg() == 4326
    assert frame.empty


def test_by_kind_rejects_unknown_kind(shipped: Catalogue) -> None:
    with pytest.raises(InputDataError, match="unknown place kind 'mall'"):
        shipped.by_kind("mall")
    assert set(KINDS) >= {p.kind for p in shipped.places}


# --- validation ----------------------------------------------------------------------------------


def test_bad_file_reports_every_problem_at_once(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        _entry("bowtie", geometry_file='"bowtie.geojson"')
        + _entry("not_a_pair", anchor="[121.47]", datum='"wgs84"')
        + "[[place]]\n"
        'id = "no_name_en"\nname_zh = "缺英文名"\nkind = "new_town"\nstatus = "sourced"\n'
        'source = "test"\nchecked = "2026-11-24"\nneeds = "planner geometry"\n\n'
        + _entry("odd_status", status="official", needs='"planner geometry"')
        + _entry("twice", needs='"planner geometry"')
        + _entry("twice", needs='"planner geometry"')
        + _entry("swapped", anchor="[31.23910, 121.47923]", datum='"wgs84"')
        + _entry("odd_kind", kind="mall", needs='"planner geometry"')
        + _entry("odd_datum", anchor="[121.47923, 31.23910]", datum='"utm"')
        + _entry("missing_file", geometry_file='"nowhere.geojson"')
        + _entry("bad_date", needs='"planner geometry"').replace(
            'checked = "2026-11-24"\nneeds', 'checked = "24.11.2026"\nneeds'
        ),
        encoding="utf-8",
    )
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[121.40, 31.20], [121.42, 31.22], [121.42, 31.20], [121.40, 31.22], [121.40, 31.20]]
        ],
    }
    (tmp_path / "bowtie.geojson").write_text(json.dumps(bowtie), encoding="utf-8")
    with pytest.raises(InputDataError) as err:
        load_catalogue([bad])
    msg = str(err.value)
    expected = [
        r"id='bowtie': geometry_file 'bowtie.geojson': invalid geometry \(Self-intersection",
        r"id='not_a_pair': anchor \[121.47\] is not \[lon, lat\] \(two numbers\)",
        r"id='no_name_en': missing field 'name_en'",
        r"id='odd_status': unknown status 'official'",
        r"id='twice': duplicate id \(2 entries: place #5, place #6\)",
        r"id='swapped': anchor \[31.2391, 121.47923\] \(wgs84\) is outside Shanghai"
        r" .* wrong datum\?",
        r"id='odd_kind': unknown kind 'mall'",
        r"id='odd_datum': unknown datum 'utm'",
        r"id='missing_file': geometry_file 'nowhere.geojson' is missing",
        r"id='bad_date': bad date checked='24.11.2026'",
    ]
    for pattern in expected:
        assert re.search(pattern, msg), f"{pattern!r} not in:\n{msg}"
    assert msg.startswith("10 problem(s) in the place catalogue")
    assert all(line.strip().startswith(str(bad)) for line in msg.splitlines()[1:])


def test_missing_geometry_without_needs_is_a_problem(tmp_path: Path) -> None:
    f = tmp_path / "p.toml"
    f.write_text(_entry("nowhere"), encoding="utf-8")
    with pytest.raises(InputDataError, match=r"id='nowhere': no geometry: .*needs = "):
        load_catalogue([f], shipped=None)


def test_anchor_needs_its_datum_and_unknown_fields_are_reported(tmp_path: Path) -> None:
    f = tmp_path / "p.toml"
    f.write_text(
        _entry("no_datum", anchor="[121.47923, 31.23910]")
        + _entry("typo", anchor="[121.47923, 31.23910]", datum='"wgs84"', raduis_m="300"),
        encoding="utf-8",
    )
    with pytest.raises(InputDataError) as err:
        load_catalogue([f], shipped=None)
    msg = str(err.value)
    assert "id='no_datum': missing field 'datum' for the anchor" in msg
    assert "id='typo': unknown field 'raduis_m'" in msg


def test_problems_of_several_files_are_reported_together(tmp_path: Path) -> None:
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text(_entry("one", status="draft", needs='"planner geometry"'), encoding="utf-8")
    b.write_text("this is = not toml = at all", encoding="utf-8")
    with pytest.raises(InputDataError) as err:
        load_catalogue([a, b, tmp_path / "c.csv"])
    msg = str(err.value)
    assert f"{a}: place #1 id='one': unknown status 'draft'" in msg
    assert f"{b}: not a valid UTF-8 TOML file" in msg
    assert "c.csv: not a place file (use .toml or .geojson)" in msg


def test_missing_planner_file(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="place file not found"):
        load_catalogue([tmp_path / "absent.toml"])


def test_bd09_anchor_is_converted_to_wgs84(tmp_path: Path) -> None:
    lon, lat = 121.47923, 31.23910
    blon, blat = bd09_from_wgs84(lon, lat)
    f = tmp_path / "p.toml"
    f.write_text(
        _entry("baidu", anchor=f"[{float(blon)!r}, {float(blat)!r}]", datum='"BD-09"'),
        encoding="utf-8",
    )
    place = load_catalogue([f], shipped=None).get("baidu")
    assert place.datum == "bd09"
    assert place.anchors[0] == pytest.approx((lon, lat), abs=1e-8)
    assert "bd09 → WGS84" in place.geometry_method


# --- planner overrides ---------------------------------------------------------------------------


def _square(lon: float, lat: float, d: float = 0.01) -> dict[str, object]:
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_planner_toml_replaces_and_extends(tmp_path: Path, shipped: Catalogue) -> None:
    (tmp_path / "jiading.geojson").write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": {}, "geometry": _square(121.22, 31.31, 0.05)}
                ],
            }
        ),
        encoding="utf-8",
    )
    planner = tmp_path / "planner.toml"
    planner.write_text(
        _entry(
            "jiading_new_town",
            kind="new_town",
            geometry_file='"jiading.geojson"',
            life_circle_radius_m="[800, 1500]",
        )
        + _entry("guochao_street", theme='"国潮品牌"', streets='["测试路"]'),
        encoding="utf-8",
    )
    cat = load_catalogue([planner])
    assert len(cat.places) == len(shipped.places) + 1  # one replaced, one added
    assert cat.ids[: len(shipped.ids)] == shipped.ids  # the replacement keeps its position
    jiading = cat.get("jiading_new_town")
    assert jiading.status == "planner-supplied"
    assert jiading.origin == str(planner)
    assert jiading.geometry is not None and jiading.geometry.geom_type == "Polygon"
    assert jiading.geometry_method == "planner file jiading.geojson (Polygon)"
    assert [p.id for p in cat.overridden] == ["jiading_new_town"]
    assert cat.overridden[0].overridden_by == str(planner)
    assert cat.overridden[0].origin == str(SHIPPED_PLACES)
    assert cat.overridden[0].anchors == ((121.25001, 31.33207),)
    themed = cat.by_kind("themed_street")
    assert [p.id for p in themed] == ["guochao_street"]
    assert themed[0].theme == "国潮品牌"
    assert themed[0].streets == ("测试路",)
    assert cat.files == (str(SHIPPED_PLACES), str(planner))


def test_planner_geojson_replaces_and_extends(tmp_path: Path) -> None:
    base = {"source": "区商务委", "checked": "2026-11-24", "status": "planner-supplied"}
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    **base,
                    "id": "songjiang_new_town",
                    "name_zh": "松江新城",
                    "name_en": "Songjiang New Town",
                    "kind": "new_town",
                },
                "geometry": _square(121.20, 31.00, 0.06),
            },
            {
                "type": "Feature",
                "properties": {
                    **base,
                    "id": "test_night_market",
                    "name_zh": "测试夜市",
                    "name_en": "Test Night Market",
                    "kind": "night_market",
                },
                "geometry": {"type": "Point", "coordinates": [121.45, 31.22]},
            },
        ],
    }
    gj = tmp_path / "planner.geojson"
    gj.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    cat = load_catalogue([gj])
    songjiang = cat.get("songjiang_new_town")
    assert songjiang.geometry is not None
    assert shapely.equals(songjiang.geometry, shapely.geometry.shape(_square(121.20, 31.00, 0.06)))
    assert songjiang.geometry_method == "GeoJSON feature (Polygon)"
    assert cat.overridden[0].id == "songjiang_new_town"
    assert cat.overridden[0].overridden_by == str(gj)
    market = cat.get("test_night_market")
    assert market.anchors == ((121.45, 31.22),)
    assert market.kind == "night_market"


def test_later_planner_file_wins(tmp_path: Path) -> None:
    one, two = tmp_path / "one.toml", tmp_path / "two.toml"
    one.write_text(
        _entry("yuyuan", kind="world_district", anchor="[121.48, 31.23]", datum='"wgs84"'),
        encoding="utf-8",
    )
    two.write_text(
        _entry("yuyuan", kind="world_district", anchor="[121.49, 31.23]", datum='"wgs84"'),
        encoding="utf-8",
    )
    cat = load_catalogue([one, two])
    assert cat.get("yuyuan").anchors == ((121.49, 31.23),)
    assert [p.overridden_by for p in cat.overridden] == [str(one), str(two)]


def test_planner_geojson_problems(tmp_path: Path) -> None:
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "id": "far_away",
                    "name_zh": "远",
                    "name_en": "Far",
                    "kind": "night_market",
                    "status": "planner-supplied",
                    "source": "x",
                    "checked": "2026-11-24",
                },
                "geometry": {"type": "Point", "coordinates": [139.7, 35.7]},
            },
            {"type": "Feature", "geometry": None},
        ],
    }
    gj = tmp_path / "p.geojson"
    gj.write_text(json.dumps(fc), encoding="utf-8")
    with pytest.raises(InputDataError) as err:
        load_catalogue([gj], shipped=None)
    msg = str(err.value)
    assert "feature #1 id='far_away': feature geometry (bounds 139.7000" in msg
    assert "wrong datum?" in msg
    assert "feature #2: a feature with a 'properties' object is needed" in msg
