"""Night-economy layers: opening hours, riverside belt, nightlife clusters, night markets."""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, box

from geo.crs import Projector
from geo.errors import InputDataError
from geo.osm import OsmExtract, read_osm
from layers.districts import load_districts
from layers.night import (
    BELT_EXTRA,
    CENTRAL_CITY_ADCODES,
    LAYER_COLUMNS,
    MARKET_EXTRA,
    NIGHTLIFE_EXTRA,
    NO_WATER_MESSAGE,
    central_city,
    density_clusters,
    merge_planner_entries,
    night_hours_overlap,
    night_markets,
    night_venues,
    nightlife_candidates,
    riverside_belt,
)

log = logging.getLogger(__name__)

OSM_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "osm"
UTM = "EPSG:32651"
X0, Y0 = 355_000.0, 3_452_000.0  # a spot in central Shanghai, UTM 51N
PROJ = Projector.for_crs(UTM)


def osm_file(name: str) -> Path:
    """A real extract in ../shared/data/osm; fail (never skip) when it is missing."""
    p = OSM_DIR / name
    if not p.exists():
        pytest.fail(f"real test data {p} is missing: check out ../shared next to the repo")
    return p


def schema(extra: object) -> list[str]:
    return [*LAYER_COLUMNS, *list(extra), "geometry"]  # type: ignore[call-overload]


def pois_at(xy: list[tuple[float, float]], **columns: Sequence[object]) -> gpd.GeoDataFrame:
    """POIs at UTM offsets (metres) from (X0, Y0), in WGS84 like OsmExtract.pois."""
    arr = np.asarray(xy, dtype=float)
    lon, lat = PROJ.to_lonlat(X0 + arr[:, 0], Y0 + arr[:, 1])
    n = len(arr)
    data: dict[str, object] = {
        "osm_type": ["node"] * n,
        "osm_id": np.arange(1, n + 1, dtype=np.int64),
        "lon": lon,
        "lat": lat,
    }
    for col in ("name", "name:zh", "name:en", "brand", "amenity", "opening_hours"):
        data[col] = columns.get(col, [None] * n)
    return gpd.GeoDataFrame(data, geometry=shapely.points(lon, lat), crs="EPSG:4326")


def line_wgs84(xy: list[tuple[float, float]]) -> LineString:
    arr = np.asarray(xy, dtype=float)
    lon, lat = PROJ.to_lonlat(X0 + arr[:, 0], Y0 + arr[:, 1])
    return LineString(np.column_stack([lon, lat]))


def area_m2(geom: object) -> float:
    return float(gpd.GeoSeries([geom], crs="EPSG:4326").to_crs(UTM).area.iloc[0])


# --- opening hours --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Mo-Su 10:00-02:00", True),
        ("18:00-03:00", True),
        ("24/7", True),
        ("Mo-Fr 11:00-23:30; Sa-Su 10:00-24:00", True),
        ("Mo-Fr 09:00-17:00", False),
        ("Mo-Fr 09:00-19:00", False),  # closes as the night starts
        ("Mo-Fr 09:00-19:30", True),
        ("06:00-18:00", False),  # opens as the night ends
        ("05:00-12:00", True),  # 05:00–06:00 is night
        ("Tu-Su 11:00-14:00, 18:00-21:00", True),
        ("Mo-Fr 10:00-18:00; Sa 10:00-15:00; PH off", False),
        ("Mo-Fr 09:00-21:00, Sa 09:00-19:00, Su 11:00-18:00", True),
        ("Su-Tu, Th-Fr 11:30-17:00; Sa 11:30-21:00", True),
        ("11：30-18：00", False),  # full-width colons
        ("11：30-21：00", True),
        ("18:00-27:00", True),
        ("10-18", False),
        ("Mo-Fr 10-20", True),
        ("We-Mo 09:00-16:30", False),
        ("off", False),
        ("Mo-Su 18:00-23:00; Mo-Su 09:00-17:00", False),  # a later rule replaces
        ("Mo-Fr 09:00-17:00, Sa 18:00-23:00", True),  # a comma rule adds
        ("Mo-Su 20:00-23:00; Sa-Su off", True),  # still open late on weekdays
        ("Mo-Fr 20:00-23:00; Mo-Fr off", False),
        ("PH 19:00-23:00; Mo-Fr 09:00-17:00", False),  # holiday rules say nothing of weekdays
    ],
)
def test_night_hours_overlap_known_forms(value: str, expected: bool) -> None:
    assert night_hours_overlap(value) is expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        math.nan,
        "sunrise-sunset",
        "18:00+",
        "Mo-Fr 16:00-",
        "Jun-Aug Mo-Su 10:00-23:00",
        '"by appointment"',
        "Mon-Fri 9am-5pm",
        "Mo-Fr",  # weekdays without times
        'Mo-Fr 08:00-19:00 || "on appointment"',
        "Mo-Fr 25:00-26:00",
        "Mo-Fr 10:61-12:00",
        "Mo-Fr 10:00-12:00 off",
    ],
)
def test_night_hours_overlap_unknown_is_none(value: object) -> None:
    assert night_hours_overlap(value) is None  # type: ignore[arg-type]


def test_night_hours_overlap_custom_window_and_minutes() -> None:
    assert night_hours_overlap("10:00-22:00", start="22:00") is False
    assert night_hours_overlap("10:00-22:30", start="22:00") is True
    assert night_hours_overlap("00:00-04:00", start="22:00", end="06:00") is True
    assert night_hours_overlap("12:00-14:00", start="11:00", end="13:00") is True
    assert night_hours_overlap("08:00-20:00", min_minutes=60) is True
    assert night_hours_overlap("08:00-20:00", min_minutes=61) is False
    assert night_hours_overlap("Fr 18:00-21:00", min_minutes=120) is True
    assert night_hours_overlap("Mo-Su 10:00-20:30", min_minutes=120) is False
    assert night_hours_overlap("24/7", min_minutes=11 * 60) is True
    with pytest.raises(InputDataError, match="start"):
        night_hours_overlap("24/7", start="25:00")
    with pytest.raises(InputDataError, match="end"):
        night_hours_overlap("24/7", end="6pm")
    with pytest.raises(InputDataError, match="min_minutes"):
        night_hours_overlap("24/7", min_minutes=0)


# --- riverside belt -------------------------------------------------------------------------------


def water_frame(**columns: Sequence[object]) -> gpd.GeoDataFrame:
    geoms = columns.pop("geometry")
    return gpd.GeoDataFrame(columns, geometry=geoms, crs="EPSG:4326")


def test_belt_width_on_a_straight_river() -> None:
    length = 10_000.0
    river = line_wgs84([(0, 0), (length, 0)])
    other = line_wgs84([(0, 3000), (length, 3000)])
    water = water_frame(kind=["river", "river"], name=["黄浦江", "其他河"], geometry=[river, other])
    before = water.copy()
    for w in (500.0, 200.0):
        res = riverside_belt(water, width_m=w)
        assert res.drawn
        layer = res.layer
        assert list(layer.columns) == schema(BELT_EXTRA)
        assert layer.crs == "EPSG:4326"
        assert len(layer) == 1
        row = layer.iloc[0]
        assert row["status"] == "approximate"
        assert row["geometry_method"] == f"OSM water buffer {w:g} m"
        assert row["kind"] == "riverside_belt"
        assert row["rivers"] == "黄浦江"
        assert row["n_features"] == 1
        area = area_m2(row.geometry)
        # a round-capped buffer: two sides plus the two half-disc caps
        assert area == pytest.approx(2 * w * length + math.pi * w**2, rel=2e-3)
        assert area == pytest.approx(2 * w * length, rel=0.1)
        assert row["area_km2"] == pytest.approx(area / 1e6, abs=2e-3)
        assert "黄浦江" in res.message and "苏州河" in res.message  # says what was not found
    pd.testing.assert_frame_equal(water, before)


def test_belt_matches_name_columns_and_river_polygons() -> None:
    creek = line_wgs84([(0, 0), (4000, 0)])
    bank = shapely.Polygon(line_wgs84([(0, -300), (4000, -300), (4000, -100), (0, -100)]).coords)
    water = water_frame(
        kind=["canal", "area"],
        name=["吴淞江", None],
        **{"name:en": ["Suzhou Creek", "Huangpu River"]},
        geometry=[creek, bank],
    )
    res = riverside_belt(water, width_m=100)
    assert res.layer["rivers"].iloc[0] == "Huangpu River;Suzhou Creek"
    assert res.layer["n_features"].iloc[0] == 2
    # an unnamed water=river polygon is taken only when it touches a named feature
    touching = shapely.buffer(creek, 0.0005)
    far = shapely.buffer(line_wgs84([(0, 5000), (4000, 5000)]), 0.0005)
    water2 = water_frame(
        kind=["river", "area", "area"],
        name=["苏州河", None, None],
        water=[None, "river", "river"],
        geometry=[creek, touching, far],
    )
    assert riverside_belt(water2, width_m=100).layer["n_features"].iloc[0] == 2
    assert (
        riverside_belt(water2.drop(columns="water"), width_m=100).layer["n_features"].iloc[0] == 1
    )


def test_belt_clip() -> None:
    river = line_wgs84([(0, 0), (10_000, 0)])
    water = water_frame(kind=["river"], name=["苏州河"], geometry=[river])
    # the box's east edge is the meridian through (X0 + 5000, Y0): it crosses the river there
    lon, lat = PROJ.to_lonlat(np.array([X0 - 1000.0, X0 + 5000.0]), np.array([Y0, Y0]))
    half = box(float(lon[0]), float(lat[0]) - 0.02, float(lon[1]), float(lat[1]) + 0.02)
    full = riverside_belt(water, width_m=500)
    clipped = riverside_belt(water, width_m=500, clip_to=half)
    a_full = area_m2(full.layer.geometry.iloc[0])
    a_clip = area_m2(clipped.layer.geometry.iloc[0])
    # 5 km of straight belt plus the western cap
    assert a_clip == pytest.approx(2 * 500 * 5000 + math.pi * 500**2 / 2, rel=5e-3)
    assert a_clip < a_full
    assert "Clipped" in clipped.layer["note"].iloc[0]
    outside = box(0, 0, 1, 1)
    empty = riverside_belt(water, width_m=500, clip_to=outside)
    assert not empty.drawn
    assert list(empty.layer.columns) == schema(BELT_EXTRA)
    assert "outside the clip area" in empty.message


def test_belt_without_matching_water_is_empty_with_message() -> None:
    lake = water_frame(kind=["area"], name=["淀山湖"], geometry=[box(121.0, 31.0, 121.1, 31.1)])
    for water in (lake, lake.iloc[0:0]):
        res = riverside_belt(water)
        assert not res.drawn
        assert res.message == NO_WATER_MESSAGE
        assert list(res.layer.columns) == schema(BELT_EXTRA)
        assert res.layer.crs == "EPSG:4326"
    with pytest.raises(InputDataError, match="width"):
        riverside_belt(lake, width_m=0)
    with pytest.raises(InputDataError, match="CRS"):
        riverside_belt(gpd.GeoDataFrame({"name": ["黄浦江"]}, geometry=[box(0, 0, 1, 1)]))


def test_central_city_is_the_central_seven_districts() -> None:
    districts = load_districts()
    before = districts.copy()
    cc = central_city(districts)
    seven = districts[districts["adcode"].isin(CENTRAL_CITY_ADCODES)]
    assert len(seven) == 7
    assert area_m2(cc) / 1e6 == pytest.approx(seven["area_km2"].sum(), rel=0.01)
    assert cc.contains(shapely.Point(121.47923, 31.23910))  # 南京东路 station, Huangpu
    assert not cc.contains(shapely.Point(121.49777, 31.24000))  # 陆家嘴 station, Pudong
    with_pudong = central_city(districts, adcodes=(*CENTRAL_CITY_ADCODES, "310115"))
    assert with_pudong.contains(shapely.Point(121.49777, 31.24000))
    pd.testing.assert_frame_equal(districts, before)
    with pytest.raises(InputDataError, match="310199"):
        central_city(districts, adcodes=("310199",))


@pytest.fixture(scope="module")
def shanghai() -> OsmExtract:
    return read_osm(osm_file("shanghai_center_roads.osm.gz"))


@pytest.fixture(scope="module")
def kyoto() -> OsmExtract:
    return read_osm(osm_file("kyoto_full.osm.gz"))


@pytest.fixture(scope="module")
def helsinki() -> OsmExtract:
    return read_osm(osm_file("helsinki_full.osm.pbf"))


def test_real_shanghai_roads_extract_has_no_belt(shanghai: OsmExtract) -> None:
    res = riverside_belt(shanghai.water, clip_to=central_city(load_districts()))
    assert not res.drawn
    assert res.message == NO_WATER_MESSAGE
    assert list(res.layer.columns) == schema(BELT_EXTRA)
    # no POIs either: every POI layer is empty with its schema
    assert list(nightlife_candidates(shanghai.pois).columns) == schema(NIGHTLIFE_EXTRA)
    assert night_markets(shanghai.pois).empty


def test_real_kyoto_kamo_river_belt(kyoto: OsmExtract) -> None:
    kamo = kyoto.water[kyoto.water["name"] == "鴨川"]
    length = float(kamo.to_crs("EPSG:32653").length.sum())
    assert len(kamo) == 3 and length == pytest.approx(5231, rel=0.01)
    for w in (100.0, 500.0):
        res = riverside_belt(kyoto.water, rivers=("鴨川",), width_m=w)
        area = float(res.layer.to_crs("EPSG:32653").area.iloc[0])
        log.info("Kyoto 鴨川 belt %g m: %.2f km² (%s)", w, area / 1e6, res.message)
        assert 0.9 * 2 * w * length < area < 2 * w * length + len(kamo) * math.pi * w**2
        assert res.layer["n_features"].iloc[0] == 3
    assert not riverside_belt(kyoto.water).drawn  # no Huangpu in Kyoto


# --- nightlife clusters ---------------------------------------------------------------------------


def test_ten_bars_within_100_m_make_one_candidate() -> None:
    xy = [(10.0 * k, 0.0) for k in range(10)]  # 90 m from first to last
    names = [f"Bar {k}" for k in range(10)]
    pois = pois_at(xy, amenity=["bar"] * 10, name=names)
    before = pois.copy()
    out = nightlife_candidates(pois)
    assert list(out.columns) == schema(NIGHTLIFE_EXTRA)
    assert out.crs == "EPSG:4326"
    assert len(out) == 1
    row = out.iloc[0]
    assert (row["n_venues"], row["n_bars"], row["n_late_food"]) == (10, 10, 0)
    assert row["id"] == "nightlife_candidate_1"
    assert row["name_zh"] == "夜生活聚集候选区 #1"
    assert row["name_en"] == "Nightlife cluster candidate #1"
    assert (row["kind"], row["status"]) == ("nightlife_candidate", "suggestion")
    assert row["examples"] == "Bar 0; Bar 1; Bar 2; Bar 3; Bar 4"
    assert row.geometry.contains(shapely.MultiPoint(pois.geometry.to_list()))
    # hull is a 90 m segment; buffered by 50 m: 90 × 100 + π·50²
    assert area_m2(row.geometry) == pytest.approx(90 * 100 + math.pi * 50**2, rel=0.01)
    pd.testing.assert_frame_equal(pois, before)


def test_scattered_bars_make_no_candidate() -> None:
    xy = [(500.0 * k, 0.0) for k in range(10)]
    out = nightlife_candidates(pois_at(xy, amenity=["bar"] * 10))
    assert out.empty
    assert list(out.columns) == schema(NIGHTLIFE_EXTRA)
    assert out.crs == "EPSG:4326"
    assert str(out["n_venues"].dtype) == "int64"


def test_venue_kinds_late_food_and_karaoke() -> None:
    amenity = ["bar", "pub", "nightclub", "biergarten", "karaoke_box", None]
    amenity += ["restaurant", "fast_food", "cafe", "restaurant", "restaurant", "school"]
    names = ["a", "b", "c", "d", "e", "好乐迪KTV", "f", "g", "h", "i", "j", "k"]
    hours = [None] * 6 + ["Mo-Su 11:00-02:00", "24/7", "Fr-Sa 18:00-23:30"]
    hours += ["Mo-Su 10:00-21:00", "sunset-sunrise", "24/7"]
    xy = [(5.0 * k, 0.0) for k in range(12)]
    pois = pois_at(xy, amenity=amenity, name=names, opening_hours=hours)
    kinds = night_venues(pois)
    assert kinds["is_bar"].tolist() == [True] * 6 + [False] * 6
    assert kinds["is_late_food"].tolist() == [False] * 6 + [True] * 3 + [False] * 3
    out = nightlife_candidates(pois, min_venues=8)
    assert out[["n_venues", "n_bars", "n_late_food"]].iloc[0].tolist() == [9, 6, 3]
    assert out["examples"].iloc[0] == "a; b; c; d; e"  # bars first
    # cafés open until 23:30 are late at 22 but not at 23:30 or later
    assert night_venues(pois, late_hour=23)["is_late_food"].tolist()[6:9] == [True, True, True]
    assert night_venues(pois, late_hour=0)["is_late_food"].tolist()[6:9] == [True, True, False]
    for bad in ({"late_hour": 24}, {"eps_m": 0.0}, {"min_venues": 0}):
        with pytest.raises(InputDataError):
            nightlife_candidates(pois, **bad)


def test_two_clusters_numbered_by_size_and_crs_independent() -> None:
    xy = [(10.0 * k, 0.0) for k in range(8)] + [(2000.0 + 10.0 * k, 0.0) for k in range(12)]
    xy.append((1000.0, 0.0))  # a lone bar
    pois = pois_at(xy, amenity=["pub"] * len(xy))
    out = nightlife_candidates(pois)
    assert out["n_venues"].tolist() == [12, 8]
    assert out["id"].tolist() == ["nightlife_candidate_1", "nightlife_candidate_2"]
    metric = nightlife_candidates(pois.to_crs(UTM))
    assert metric["n_venues"].tolist() == [12, 8]
    assert metric.crs == "EPSG:4326"


def test_density_clusters_core_border_noise() -> None:
    # a chain of 5 points 10 m apart, a border point 25 m past the end, and noise
    xy = np.array([[0, 0], [10, 0], [20, 0], [30, 0], [40, 0], [65, 0], [500, 0]], dtype=float)
    labels = density_clusters(xy, eps=30.0, min_points=4)
    assert labels.tolist() == [0, 0, 0, 0, 0, 0, -1]
    assert density_clusters(xy, eps=5.0, min_points=2).tolist() == [-1] * 7
    assert density_clusters(xy[:0], eps=5.0, min_points=2).tolist() == []
    assert brute_force_dbscan(xy, 30.0, 4) == [[0, 1, 2, 3, 4, 5]]


def brute_force_dbscan(xy: np.ndarray, eps: float, min_pts: int) -> list[list[int]]:
    """Reference DBSCAN by full distance matrix (sorted member lists of each cluster)."""
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    near = d <= eps
    core = near.sum(axis=1) >= min_pts
    seen = np.zeros(len(xy), dtype=bool)
    clusters: list[list[int]] = []
    for s in np.flatnonzero(core):
        if seen[s]:
            continue
        comp, queue = [], deque([int(s)])
        seen[s] = True
        while queue:
            i = queue.popleft()
            comp.append(i)
            for j in np.flatnonzero(near[i] & core & ~seen):
                seen[j] = True
                queue.append(int(j))
        clusters.append(comp)
    label = np.full(len(xy), -1)
    for k, comp in enumerate(clusters):
        label[comp] = k
    for b in np.flatnonzero(~core):
        cores = np.flatnonzero(near[b] & core)
        if len(cores):
            label[b] = label[cores[np.argmin(d[b, cores])]]
    return sorted(sorted(np.flatnonzero(label == k).tolist()) for k in range(len(clusters)))


def venue_xy(pois: gpd.GeoDataFrame) -> np.ndarray:
    kinds = night_venues(pois)
    v = pois[(kinds["is_bar"] | kinds["is_late_food"]).to_numpy()]
    lon0, lat0, lon1, lat1 = v.total_bounds
    proj = Projector.for_lonlat((lon0 + lon1) / 2, (lat0 + lat1) / 2)
    return np.column_stack(proj.to_xy(v.geometry.x.to_numpy(), v.geometry.y.to_numpy()))


def test_real_kyoto_has_too_few_night_venues(kyoto: OsmExtract) -> None:
    kinds = night_venues(kyoto.pois)
    n_bars, n_late = int(kinds["is_bar"].sum()), int(kinds["is_late_food"].sum())
    log.info("Kyoto: %d bars/pubs, %d late food", n_bars, n_late)
    assert (n_bars, n_late) == (6, 1)  # 3 bars, 3 pubs; 和食さと open until 00:30
    out = nightlife_candidates(kyoto.pois)
    xy = venue_xy(kyoto.pois)
    expected = [c for c in brute_force_dbscan(xy, 150.0, 8) if len(c) >= 8]
    assert len(out) == len(expected) == 0
    assert list(out.columns) == schema(NIGHTLIFE_EXTRA)
    # with a lower threshold the detector still agrees with the reference
    small = nightlife_candidates(kyoto.pois, min_venues=3)
    assert len(small) == len([c for c in brute_force_dbscan(xy, 150.0, 3) if len(c) >= 3])


@pytest.mark.parametrize("eps", [150.0, 100.0, 75.0, 50.0])
def test_real_helsinki_clusters_match_reference(helsinki: OsmExtract, eps: float) -> None:
    out = nightlife_candidates(helsinki.pois, eps_m=eps)
    xy = venue_xy(helsinki.pois)
    expected = sorted((len(c) for c in brute_force_dbscan(xy, eps, 8) if len(c) >= 8), reverse=True)
    log.info("Helsinki eps %g m: %s venues per cluster", eps, out["n_venues"].tolist())
    assert out["n_venues"].tolist() == expected
    assert (out["n_venues"] == out["n_bars"] + out["n_late_food"]).all()
    assert list(out.columns) == schema(NIGHTLIFE_EXTRA)
    assert set(out["status"]) <= {"suggestion"}


def test_real_helsinki_summary(helsinki: OsmExtract) -> None:
    kinds = night_venues(helsinki.pois)
    assert int(kinds["is_bar"].sum()) == 81  # 51 pubs, 22 bars, 8 nightclubs
    assert int(kinds["is_late_food"].sum()) == 72
    out = nightlife_candidates(helsinki.pois)
    # the compact centre chains into one cluster at 150 m; 75 m separates three cores
    assert out[["n_venues", "n_bars", "n_late_food"]].iloc[0].tolist() == [136, 72, 64]
    assert len(out) == 1
    assert out["examples"].iloc[0].count("; ") == 4
    assert nightlife_candidates(helsinki.pois, eps_m=75)["n_venues"].tolist() == [44, 14, 13]


# --- night markets --------------------------------------------------------------------------------


def market_pois() -> gpd.GeoDataFrame:
    amenity = ["marketplace", "marketplace", "marketplace", None, "marketplace", "restaurant"]
    names = ["黄河路市集", "Hall", "Early hall", "宁波路夜市", "Unknown", "Thai Night Market"]
    hours = [
        "Mo-Su 17:00-23:00",
        "Mo-Sa 08:00-18:00",
        "Mo-Fr 08:00-20:00",
        None,
        "sunset-sunrise",
        "10:00-14:00",
    ]
    xy = [(100.0 * k, 0.0) for k in range(6)]
    return pois_at(xy, amenity=amenity, name=names, opening_hours=hours)


def test_night_markets_from_hours_and_names() -> None:
    pois = market_pois()
    before = pois.copy()
    out = night_markets(pois)
    assert list(out.columns) == schema(MARKET_EXTRA)
    assert out["name_zh"].tolist() == ["黄河路市集", "宁波路夜市", "Thai Night Market"]
    assert out["match"].tolist() == ["opening_hours", "name", "name"]
    assert set(out["status"]) == {"osm"} and set(out["kind"]) == {"night_market"}
    assert out["id"].tolist() == [
        "night_market_node_1",
        "night_market_node_4",
        "night_market_node_6",
    ]
    assert out["osm_id"].tolist() == [1, 4, 6]
    assert out.geometry.geom_equals(pois.geometry.iloc[[0, 3, 5]].reset_index(drop=True)).all()
    # a hall open until 20:00 reaches 60 minutes into the night
    assert "Early hall" in night_markets(pois, min_night_minutes=1)["name_zh"].tolist()
    pd.testing.assert_frame_equal(pois, before)
    empty = night_markets(pois.iloc[0:0])
    assert empty.empty and list(empty.columns) == schema(MARKET_EXTRA)


def test_merge_planner_entries() -> None:
    layer = night_markets(market_pois())
    planner = gpd.GeoDataFrame(
        {
            "id": ["night_market_node_4", "planner_dingxiang"],
            "name_zh": ["宁波路夜市 (规划)", "定西路夜市"],
            "source": ["district plan 2024", None],
            "population": [1, 2],  # dropped
        },
        geometry=[box(121.48, 31.24, 121.481, 31.241), shapely.Point(121.42, 31.21)],
        crs="EPSG:4326",
    )
    layer_before, planner_before = layer.copy(), planner.copy()
    out = merge_planner_entries(layer, planner)
    assert list(out.columns) == schema(MARKET_EXTRA)
    assert out["id"].tolist() == [
        "night_market_node_1",
        "night_market_node_6",
        "night_market_node_4",
        "planner_dingxiang",
    ]
    assert out["status"].tolist() == ["osm", "osm", "planner-supplied", "planner-supplied"]
    assert out["source"].tolist()[2:] == ["district plan 2024", "planner"]
    assert out["kind"].tolist()[2:] == ["night_market", "night_market"]
    assert out["osm_id"].isna().tolist() == [False, False, True, True]
    assert out.geometry.iloc[2].geom_type == "Polygon"
    pd.testing.assert_frame_equal(layer, layer_before)
    pd.testing.assert_frame_equal(planner, planner_before)
    # into an empty layer, reprojected
    empty = night_markets(market_pois().iloc[0:0])
    merged = merge_planner_entries(empty, planner.to_crs(UTM))
    assert merged["status"].tolist() == ["planner-supplied"] * 2
    assert merged.crs == "EPSG:4326"
    assert merged.geometry.iloc[1].distance(shapely.Point(121.42, 31.21)) < 1e-9
    with pytest.raises(InputDataError, match="name"):
        merge_planner_entries(layer, planner.drop(columns="name_zh"))
    dup = planner.assign(id=["x", "x"])
    with pytest.raises(InputDataError, match="duplicate"):
        merge_planner_entries(layer, dup)


def test_real_night_markets(kyoto: OsmExtract, helsinki: OsmExtract) -> None:
    assert night_markets(kyoto.pois).empty  # Kyoto extract: no marketplace
    assert night_markets(helsinki.pois).empty  # two market halls, closing at 18:00 and 20:00
    loose = night_markets(helsinki.pois, min_night_minutes=1)
    assert loose["name_zh"].tolist() == ["Hakaniemen kauppahallin väistötila"]
    assert loose["opening_hours"].tolist() == ["Mo-Fr 08:00-20:00; Sa 08:00-18:00"]
