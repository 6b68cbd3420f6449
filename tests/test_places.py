"""Planning layers: street resolution and centre-line length, corridors, anchor areas, layers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import LineString, MultiLineString

from geo.errors import InputDataError
from geo.osm import OsmExtract
from layers.catalogue import Catalogue, load_catalogue
from layers.places import (
    CORRIDOR_WIDTH_M,
    DEFAULT_RADIUS_M,
    LAYER_COLUMNS,
    LAYER_KINDS,
    RESOLVED_COLUMNS,
    anchor_area,
    centre_line_length_m,
    describe_method,
    planning_layers,
    resolve_streets,
    street_corridor,
)

SCHEMA = [*LAYER_COLUMNS, "geometry"]
GEOD = Geod(ellps="WGS84")
# 64-gon (quad_segs=16) area relative to the circle
POLYGON_FACTOR = 64 / 2 * math.sin(2 * math.pi / 64) / math.pi


@pytest.fixture(scope="module")
def shipped() -> Catalogue:
    return load_catalogue()


def _geodesic_m(line: LineString) -> float:
    return float(GEOD.geometry_length(line))


def _metric_area(frame: gpd.GeoDataFrame) -> float:
    return float(frame.to_crs("EPSG:32651").area.sum())


def _assert_schema(frame: gpd.GeoDataFrame) -> None:
    assert list(frame.columns) == SCHEMA
    assert frame.crs is not None and frame.crs.to_epsg() == 4326
    for c in LAYER_COLUMNS:
        assert frame[c].dtype == "str", c


# --- centre-line length --------------------------------------------------------------------------


def _merged(*lines: list[tuple[float, float]]) -> shapely.Geometry:
    return shapely.line_merge(shapely.union_all([LineString(c) for c in lines]))


def test_centre_line_of_a_single_line() -> None:
    assert centre_line_length_m(_merged([(0, 0), (600, 0), (1000, 0)])) == pytest.approx(1000)


def test_centre_line_counts_a_joined_dual_carriageway_once() -> None:
    merged = _merged(
        [(-200, 0), (0, 0)],  # single-carriageway tail
        [(0, 0), (1000, 0)],  # one carriageway
        [(1000, 0), (1000, 20), (0, 20), (0, 0)],  # the other, joined at both ends
        [(500, 0), (500, -60)],  # a short side link
    )
    assert shapely.length(merged) == pytest.approx(2300)
    # 200 + 1000 + the 20 m between the carriageways (the far corner of the loop)
    assert centre_line_length_m(merged) == pytest.approx(1220)


def test_centre_line_skips_a_separate_parallel_carriageway() -> None:
    merged = _merged([(0, 0), (1000, 0)], [(0, 20), (1000, 20)])
    assert centre_line_length_m(merged) == pytest.approx(1000)


def test_centre_line_adds_separate_pieces_of_an_interrupted_street() -> None:
    merged = _merged([(0, 0), (1000, 0)], [(1500, 0), (2000, 0)])
    assert centre_line_length_m(merged) == pytest.approx(1500)


def test_centre_line_of_a_ring_is_half_its_length() -> None:
    ring = LineString(shapely.Point(0, 0).buffer(100, quad_segs=64).exterior.coords)
    assert centre_line_length_m(ring) == pytest.approx(ring.length / 2)
    assert centre_line_length_m(MultiLineString([])) == 0.0


# --- resolve_streets -----------------------------------------------------------------------------


def _toy_streets() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "osm_id": [1, 2, 3, 4],
            "name": ["测试路", "测试路", None, "别的路"],
            "name:zh": [None, None, "测试路", "别的路"],
            "highway": ["secondary"] * 4,
        },
        geometry=[
            LineString([(121.470, 31.200), (121.475, 31.200)]),
            LineString([(121.475, 31.200), (121.480, 31.200)]),
            LineString([(121.480, 31.200), (121.480, 31.205)]),
            LineString([(121.470, 31.210), (121.480, 31.210)]),
        ],
        crs="EPSG:4326",
    )


def test_resolve_streets_merges_pieces_by_name_and_name_zh(
    caplog: pytest.LogCaptureFixture,
) -> None:
    streets = _toy_streets()
    before = streets.copy()
    with caplog.at_level("WARNING", logger="layers.places"):
        out = resolve_streets(streets, ["测试路", "不存在路", "测试路"])
    assert list(out.columns) == [*RESOLVED_COLUMNS, "geometry"]
    assert out.crs.to_epsg() == 4326
    assert list(out["name"]) == ["测试路"]
    row = out.iloc[0]
    assert row["n_pieces"] == 3
    assert row["osm_ids"] == "1;2;3"
    assert row.geometry.geom_type == "LineString"  # merged into one line
    expected = _geodesic_m(row.geometry)
    assert row["length_m"] == pytest.approx(expected, rel=2e-3)  # UTM scale error ≈ 4e-4
    assert row["total_length_m"] == pytest.approx(row["length_m"])
    assert out.attrs["not_found"] == ("不存在路",)
    assert "不存在路" in caplog.text
    assert streets.equals(before)  # input untouched


def test_resolve_streets_reprojects_and_checks_its_input() -> None:
    streets = _toy_streets()
    projected = resolve_streets(streets.to_crs("EPSG:32651"), ["别的路"])
    assert projected.crs.to_epsg() == 4326
    assert projected["length_m"].iloc[0] == pytest.approx(951.7, rel=5e-3)
    with pytest.raises(InputDataError, match="no 'name' or 'name:zh' column"):
        resolve_streets(streets.drop(columns=["name", "name:zh"]), ["测试路"])
    with pytest.raises(InputDataError, match="has no CRS"):
        resolve_streets(streets.set_crs(None, allow_override=True), ["测试路"])


# --- corridors and anchor areas ------------------------------------------------------------------


def test_street_corridor_is_buffered_in_metres() -> None:
    lines = resolve_streets(_toy_streets(), ["别的路"])
    before = lines.copy()
    out = street_corridor(lines, width_m=60)
    assert list(out.columns) == [*RESOLVED_COLUMNS, "geometry", "status", "geometry_method"]
    assert out.crs.to_epsg() == 4326
    assert list(out["status"]) == ["approximate"]
    assert list(out["geometry_method"]) == ["street corridor 60 m wide"]
    length = lines["length_m"].iloc[0]
    expected = length * 60 + math.pi * 30**2
    assert _metric_area(out) == pytest.approx(expected, rel=5e-3)
    assert lines.equals(before)
    with pytest.raises(InputDataError, match="positive"):
        street_corridor(lines, width_m=0)


def test_anchor_area_is_a_circle_in_metres(shipped: Catalogue) -> None:
    place = shipped.get("yuyuan")
    area = anchor_area(place, radius_m=800)
    _assert_schema(area)
    assert len(area) == 1
    row = area.iloc[0]
    assert row["status"] == "approximate"
    assert row["geometry_method"] == "anchor buffer 800 m"
    assert row["id"] == "yuyuan"
    assert "catalogue status: approximate" not in row["note"]  # status unchanged: no remark
    assert _metric_area(area) == pytest.approx(math.pi * 800**2 * POLYGON_FACTOR, rel=2e-3)
    centroid = row.geometry.centroid
    assert (centroid.x, centroid.y) == pytest.approx(place.anchors[0], abs=1e-5)


def test_anchor_area_of_several_anchors_and_of_none(shipped: Catalogue) -> None:
    two = anchor_area(shipped.get("nanjing_road"), radius_m=300)
    assert two.geometry.iloc[0].geom_type == "MultiPolygon"  # the stations are 2.4 km apart
    assert "catalogue status: sourced" in two["note"].iloc[0]
    with pytest.raises(InputDataError, match="no anchor"):
        anchor_area(shipped.get("nightlife_bund"), radius_m=300)


# --- planning layers -----------------------------------------------------------------------------


def test_planning_layers_without_streets(shipped: Catalogue) -> None:
    layers = planning_layers(shipped, streets=None)
    assert list(layers) == list(LAYER_KINDS)
    for frame in layers.values():
        _assert_schema(frame)
    assert layers["night_markets"].empty and layers["themed_streets"].empty
    drawn = {i for f in layers.values() for i in f["id"]}
    assert drawn == {p.id for p in shipped.places if p.mapped}
    assert not drawn & {p.id for p in shipped.unmapped()}
    two = layers["two_streets"]
    assert list(two["geometry_method"]) == ["anchor buffer 300 m"] * 2
    towns = layers["new_towns"]
    assert set(towns["geometry_method"]) == {f"anchor buffer {DEFAULT_RADIUS_M['new_town']:g} m"}
    assert set(towns["status"]) == {"approximate"}
    circles = layers["nightlife_circles"]
    assert set(circles["status"]) == {"approximate"}
    assert all(n.startswith("catalogue status: secondary.") for n in circles["note"])


def test_planning_layers_draw_planner_geometry(tmp_path: Path) -> None:
    square = [[121.20, 31.30], [121.26, 31.30], [121.26, 31.36], [121.20, 31.36], [121.20, 31.30]]
    base = {"source": "区商务委", "checked": "2026-11-24", "status": "planner-supplied"}
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    **base,
                    "id": "jiading_new_town",
                    "name_zh": "嘉定新城",
                    "name_en": "Jiading New Town",
                    "kind": "new_town",
                },
                "geometry": {"type": "Polygon", "coordinates": [square]},
            },
            {
                "type": "Feature",
                "properties": {
                    **base,
                    "id": "test_street",
                    "name_zh": "测试街",
                    "name_en": "Test Street",
                    "kind": "themed_street",
                    "theme": "国潮品牌",
                },
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[121.47, 31.20], [121.48, 31.20]],
                },
            },
        ],
    }
    gj = tmp_path / "planner.geojson"
    gj.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    cat = load_catalogue([gj])
    layers = planning_layers(cat, streets=None)
    town = layers["new_towns"].set_index("id").loc["jiading_new_town"]
    assert town["status"] == "planner-supplied"
    assert town["geometry_method"] == "GeoJSON feature (Polygon)"
    assert town.geometry.equals(shapely.Polygon(square))
    themed = layers["themed_streets"]
    _assert_schema(themed)
    assert list(themed["geometry_method"]) == [
        "GeoJSON feature (LineString)",
        "GeoJSON feature (LineString) → street corridor 60 m wide",
    ]
    assert list(themed["status"]) == ["planner-supplied", "approximate"]
    assert describe_method(cat.get("test_street")).endswith("+ street corridor")


# --- real data -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_streets(shanghai_extract: OsmExtract) -> gpd.GeoDataFrame:
    """Named streets of ../shared/data/osm/shanghai_center_roads.osm.gz (fails if missing)."""
    return shanghai_extract.streets


@pytest.mark.realdata
def test_real_street_lengths(real_streets: gpd.GeoDataFrame) -> None:
    """Centre-line lengths of the 两街 streets in the roads-only central Shanghai extract.

    The pieces include both carriageways where a street is split and short links, so their
    sum overstates the street: 南京西路 has 30 pieces summing to ≈ 4.24 km (a dual carriageway
    near its east end and a link), its centre line is ≈ 3.92 km (longest shortest path through
    the merged lines, :func:`centre_line_length_m`). 淮海中路: 31 pieces, ≈ 5.20 km summed,
    ≈ 5.08 km centre line.

    南京东路 is a pedestrian street (highway=pedestrian): a roads-only extract has no way of
    that name, so it is reported as not found (and the 两街 layer falls back to its anchor).
    """
    out = resolve_streets(real_streets, ["南京东路", "南京西路", "淮海中路"]).set_index("name")
    assert out.attrs["not_found"] == ("南京东路",)
    assert 3000 <= out.loc["南京西路", "length_m"] <= 4000
    assert 5000 <= out.loc["淮海中路", "length_m"] <= 6000
    assert out.loc["南京西路", "length_m"] == pytest.approx(3918, abs=20)
    assert out.loc["淮海中路", "length_m"] == pytest.approx(5079, abs=20)
    assert out.loc["南京西路", "total_length_m"] > out.loc["南京西路", "length_m"] + 250
    assert out.loc["南京西路", "n_pieces"] == 30
    assert out.loc["淮海中路", "n_pieces"] == 31


@pytest.mark.realdata
def test_real_planning_layers(shipped: Catalogue, real_streets: gpd.GeoDataFrame) -> None:
    before = real_streets.copy()
    layers = planning_layers(shipped, streets=real_streets)
    assert list(layers) == list(LAYER_KINDS)
    for frame in layers.values():
        _assert_schema(frame)
        assert frame.geometry.is_valid.all()
        assert not frame.geometry.is_empty.any()
    two = layers["two_streets"]
    methods = list(zip(two["id"], two["geometry_method"], strict=True))
    assert methods == [
        ("nanjing_road", "OSM street lines (南京西路 3,918 m)"),
        ("nanjing_road", f"OSM street lines → street corridor {CORRIDOR_WIDTH_M:g} m wide"),
        ("nanjing_road", "anchor buffer 300 m"),
        ("huaihai_road_xintiandi", "OSM street lines (淮海中路 5,079 m)"),
        (
            "huaihai_road_xintiandi",
            f"OSM street lines → street corridor {CORRIDOR_WIDTH_M:g} m wide",
        ),
    ]
    assert list(two["status"]) == [
        "sourced",
        "approximate",
        "approximate",
        "sourced",
        "approximate",
    ]
    assert all(n.startswith("not in the street data: 南京东路") for n in two["note"][:3])
    line = two.geometry.iloc[0]
    assert line.geom_type in {"LineString", "MultiLineString"}
    corridor_m2 = float(gpd.GeoSeries([two.geometry.iloc[4]], crs=4326).to_crs(32651).area.iloc[0])
    assert corridor_m2 == pytest.approx(5079 * CORRIDOR_WIDTH_M, rel=0.1)
    assert real_streets.equals(before)
    assert np.isin(
        ["yuyuan", "xiao_lujiazui", "xujiahui", "north_bund"], layers["four_districts"]["id"]
    ).all()


@pytest.mark.realdata
def test_nanjing_east_road_inferred_from_junction_names(shanghai_extract: OsmExtract) -> None:
    """南京东路 (步行街) is not a way in the roads-only extract, but its junctions are named:
    湖北路南京东路, 福建中路南京东路, 河南中路南京东路, 中山东一路南京东路. Joined in order and
    continued from 南京西路's east end they give ≈ 1.73 km: inside the real street's 1.5–3 km.
    """
    out = resolve_streets(
        shanghai_extract.streets,
        ["南京东路", "南京西路", "淮海中路"],
        named_nodes=shanghai_extract.named_nodes,
    ).set_index("name")
    assert out.attrs["not_found"] == ()
    east = out.loc["南京东路"]
    assert east["method"] == "inferred_from_junction_names" and east["n_pieces"] == 0
    assert 1500 <= east["length_m"] <= 3000
    assert east["length_m"] == pytest.approx(1733, abs=30)
    west_end = out.loc["南京西路"].geometry
    assert shapely.distance(east.geometry, west_end) < 1e-6  # continues 南京西路
    assert out.loc["南京西路", "method"] == "osm_ways"


@pytest.mark.realdata
def test_two_streets_layer_with_inferred_street(
    shipped: Catalogue, shanghai_extract: OsmExtract
) -> None:
    layers = planning_layers(
        shipped, streets=shanghai_extract.streets, named_nodes=shanghai_extract.named_nodes
    )
    two = layers["two_streets"]
    nanjing = two[two["id"] == "nanjing_road"]
    assert "南京东路 1,733 m inferred from junction names" in nanjing["geometry_method"].iloc[0]
    assert nanjing["status"].iloc[0] == "approximate"
    assert not nanjing["note"].str.contains("not in the street data").any()
