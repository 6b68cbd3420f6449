"""Tests for geo.table_import: planners' point tables in CSV, XLSX and GeoJSON."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pyproj
import pytest

from geo.datum import bd09_from_wgs84, wgs84_from_bd09
from geo.errors import InputDataError
from geo.table_import import (
    REASON_COLUMN_COUNT,
    REASON_MISSING,
    REASON_NO_GEOMETRY,
    REASON_NON_NUMERIC,
    REASON_NOT_FINITE,
    REASON_NOT_POINT,
    REASON_OUT_OF_RANGE,
    REASON_OUTSIDE_BBOX,
    REASON_UNDECODABLE,
    PointTable,
    RowProblem,
    read_point_table,
)
from tests.conftest import shared_path

SHANGHAI_BBOX = (120.8, 30.6, 122.2, 31.95)
GEOD = pyproj.Geod(ellps="WGS84")


def write(directory: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    """Write a fixture file and return its path."""
    path = directory / name
    path.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
    return path


def reasons(table: PointTable) -> list[tuple[int, str]]:
    """The problems as (row, reason) pairs."""
    return [(problem.row, problem.reason) for problem in table.problems]


# ---------------------------------------------------------------- CSV


def test_utf8_csv_loads_with_text_kept(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "shops.csv",
        "\ufeff id , name ,lng,lat\n"
        "1,乐购超市(河南南路店),121.496068,31.229093\n"
        '2,"<b>Tom & Jerry</b>, 2F",121.487969,31.233124\n'
        "3,  spaced  ,121.451907,31.197178\n",
    )
    table = read_point_table(path, datum="wgs84")
    points = table.points
    assert table.problems == ()
    assert table.encoding == "utf-8-sig"
    assert list(points.columns) == [
        "id",
        "name",
        "lng",
        "lat",
        "row",
        "lon_wgs84",
        "lat_wgs84",
        "geometry",
    ]
    assert points["name"].tolist() == [
        "乐购超市(河南南路店)",
        "<b>Tom & Jerry</b>, 2F",
        "  spaced  ",
    ]
    assert points["id"].tolist() == ["1", "2", "3"]
    assert points["row"].tolist() == [2, 3, 4]
    assert points["lng"].dtype == np.float64
    assert points.crs.to_epsg() == 4326
    assert points.geometry.x.tolist() == points["lng"].tolist()  # WGS84 in, no shift
    assert table.summary() == "3 points loaded, no rows skipped"


def test_gbk_csv_with_chinese_headers(tmp_path: Path) -> None:
    content = "名称,经度,纬度\n人民广场,121.475,31.228\n静安寺,121.445,31.223\n"
    path = write(tmp_path, "gbk.csv", content, encoding="gbk")
    table = read_point_table(path, datum="gcj02")
    assert table.encoding == "gb18030"
    assert table.points["名称"].tolist() == ["人民广场", "静安寺"]
    assert table.points["经度"].tolist() == [121.475, 121.445]
    # GCJ-02 → WGS84 moves points west (~0.0045 deg) and north.
    assert np.all(table.points["lon_wgs84"] < table.points["经度"] - 0.003)
    assert np.all(table.points["lat_wgs84"] > table.points["纬度"])
    assert table.datum == "gcj02"
    assert table.datum_note == "GCJ-02 → WGS84 (2 points)"


def test_bad_rows_are_reported_and_good_rows_load(tmp_path: Path) -> None:
    content = (
        b"name,lng,lat\n"  # line 1
        + "好店,121.47,31.23\n".encode()  # 2 ok
        + "缺纬度,121.48,\n".encode()  # 3 blank lat
        + "坏经度,abc,31.2\n".encode()  # 4 non-numeric lon
        + "超范围,121.4,999\n".encode()  # 5 lat out of range
        + "少列,121.4\n".encode()  # 6 too few columns
        + b"\xff\xfe\xe4\xb9,121.5,31.2\n"  # 7 invalid bytes
        + "无穷,inf,31.2\n".encode()  # 8 not finite
        + "末店,121.50,31.25\n".encode()  # 9 ok
    )
    path = write(tmp_path, "bad_rows.csv", content)
    table = read_point_table(path, datum="wgs84")
    assert table.points["name"].tolist() == ["好店", "末店"]  # no mojibake
    assert table.points["row"].tolist() == [2, 9]
    assert reasons(table) == [
        (3, REASON_MISSING),
        (4, REASON_NON_NUMERIC),
        (5, REASON_OUT_OF_RANGE),
        (6, REASON_COLUMN_COUNT),
        (7, REASON_UNDECODABLE),
        (8, REASON_NOT_FINITE),
    ]
    assert REASON_UNDECODABLE == "undecodable text (not UTF-8 or GBK)"
    assert table.encoding == "utf-8-sig"
    assert len(table.points) + len(table.problems) == 8


def test_truncated_utf8_line_does_not_turn_file_into_gbk_mojibake(tmp_path: Path) -> None:
    # b"\xe4\xb9" is half a UTF-8 character; the whole file happens to decode as
    # GB18030, but as mojibake. The mostly-UTF-8 file must stay UTF-8.
    content = (
        "name,lng,lat\n乐购,121.47,31.23\n联华,121.48,31.24\n".encode()
        + b"x\xe4\xb9,121.5,31.2\n"
        + "家乐福,121.49,31.25\n".encode()
    )
    path = write(tmp_path, "truncated.csv", content)
    table = read_point_table(path, datum="wgs84")
    assert table.points["name"].tolist() == ["乐购", "联华", "家乐福"]
    assert table.problems == (RowProblem(4, REASON_UNDECODABLE),)
    assert table.encoding == "utf-8-sig"


def test_explicit_encoding(tmp_path: Path) -> None:
    path = write(tmp_path, "big5ish.csv", "名称,lng,lat\n店,121.47,31.23\n", encoding="gbk")
    table = read_point_table(path, datum="wgs84", encoding="gbk")
    assert table.encoding == "gbk"
    assert table.points["名称"].tolist() == ["店"]
    with pytest.raises(InputDataError, match=r"big5ish\.csv.*unknown encoding"):
        read_point_table(path, datum="wgs84", encoding="no-such-codec")


@pytest.mark.parametrize(("name", "sep"), [("tabs.txt", "\t"), ("semi.csv", ";")])
def test_tab_and_semicolon_delimiters(tmp_path: Path, name: str, sep: str) -> None:
    lines = ["name,shop", "LNG", "LAT"]
    rows = [sep.join(lines), sep.join(["a,b", "121.47", "31.23"])]
    path = write(tmp_path, name, "\n".join(rows) + "\n")
    table = read_point_table(path, datum="wgs84")
    assert table.points["name,shop"].tolist() == ["a,b"]
    assert table.points["LNG"].tolist() == [121.47]


def test_quoted_multiline_field_counts_as_one_spreadsheet_row(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "multiline.csv",
        'name,note,lng,lat\na,"two\nlines",121.4,31.2\n\nb,x,abc,31.2\nc,"5"" screen",121.5,31.3\n',
    )
    table = read_point_table(path, datum="wgs84")
    assert table.points["note"].tolist() == ["two\nlines", '5" screen']
    assert table.points["row"].tolist() == [2, 5]
    assert reasons(table) == [(4, REASON_NON_NUMERIC)]  # line 3 is blank


def test_explicit_coordinate_columns_and_trailing_separators(tmp_path: Path) -> None:
    path = write(tmp_path, "en.csv", "name,E,N,X\nshop,121.47,31.23,9,\n")
    table = read_point_table(path, datum="wgs84", lon_col="e", lat_col="N")
    assert table.points["E"].tolist() == [121.47]
    assert table.points["X"].tolist() == ["9"]  # "x" is not used once lon_col is given


def test_bbox_is_checked_after_datum_conversion(tmp_path: Path) -> None:
    # Two shops at WGS84 lon 121.470 and 121.480; in BD-09 both read ~0.011 deg further east.
    wgs_lon, wgs_lat = np.array([121.470, 121.480]), np.array([31.23, 31.23])
    bd_lon, bd_lat = bd09_from_wgs84(wgs_lon, wgs_lat)
    assert np.all(bd_lon > 121.478)  # both raw values would be inside the box
    pairs = zip(bd_lon.tolist(), bd_lat.tolist(), strict=True)
    rows = "".join(f"s{i},{x!r},{y!r}\n" for i, (x, y) in enumerate(pairs))
    path = write(tmp_path, "baidu.csv", "name,lng,lat\n" + rows)
    table = read_point_table(path, datum="bd09", bbox=(121.475, 31.0, 121.6, 31.5))
    assert table.points["name"].tolist() == ["s1"]
    assert table.problems == (RowProblem(2, REASON_OUTSIDE_BBOX),)
    assert abs(table.points["lon_wgs84"].iloc[0] - 121.480) < 1e-9
    assert table.points["lng"].iloc[0] == bd_lon[1]  # original value kept
    assert table.summary() == "1 point loaded, 1 row skipped (1 outside study area)"


def test_summary_and_problems_by_reason(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "mixed.csv",
        "name,lng,lat\na,121.47,31.23\nb,,31.2\nc,130.0,45.0\nd,131.0,46.0\n",
    )
    table = read_point_table(path, datum="wgs84", bbox=SHANGHAI_BBOX)
    assert table.problems_by_reason() == {REASON_OUTSIDE_BBOX: 2, REASON_MISSING: 1}
    assert table.summary() == (
        "1 point loaded, 3 rows skipped (2 outside study area, 1 missing coordinate)"
    )


def test_result_column_names_do_not_clobber_input(tmp_path: Path) -> None:
    path = write(tmp_path, "row.csv", "row,lng,lat\nA7,121.47,31.23\n")
    table = read_point_table(path, datum="wgs84")
    assert table.points["row_original"].tolist() == ["A7"]
    assert table.points["row"].tolist() == [2]


def test_points_outside_china_load_unchanged_with_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, "abroad.csv", "name,lng,lat\nHelsinki,24.94,60.17\nSH,121.47,31.23\n")
    with caplog.at_level(logging.WARNING):
        table = read_point_table(path, datum="gcj02")
    assert table.points["lon_wgs84"].iloc[0] == 24.94
    assert "1 of 2 points outside China" in table.datum_note
    assert "outside China" in caplog.text


def test_all_rows_bad_gives_empty_table(tmp_path: Path) -> None:
    path = write(tmp_path, "utm.csv", "name,x,y\na,351000,3456000\nb,352000,3457000\n")
    table = read_point_table(path, datum="wgs84")
    assert len(table.points) == 0
    assert "geometry" in table.points.columns
    assert [p.reason for p in table.problems] == [REASON_OUT_OF_RANGE] * 2


# ---------------------------------------------------------------- XLSX


def test_xlsx(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append([" 编号 ", "名称", "Longitude", "Latitude"])
    sheet.append([1001, "五角场", 121.514, 31.299])
    sheet.append([1002, "徐家汇", "abc", 31.195])
    sheet.append([1003, "陆家嘴", 121.505, None])
    sheet.append([None, None, None, None])
    sheet.append([1005, "中山公园", "121.418", "31.221"])
    path = tmp_path / "pois.xlsx"
    workbook.save(path)
    table = read_point_table(path, datum="wgs84")
    assert table.encoding is None
    assert table.points["编号"].tolist() == ["1001", "1005"]
    assert table.points["Longitude"].tolist() == [121.514, 121.418]
    assert table.points["row"].tolist() == [2, 6]
    assert reasons(table) == [(3, REASON_NON_NUMERIC), (4, REASON_MISSING)]


def test_broken_xlsx(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.xlsx", b"PK\x03\x04 this is not a workbook")
    with pytest.raises(InputDataError, match=r"broken\.xlsx.*cannot read as an Excel"):
        read_point_table(path, datum="wgs84")


# ---------------------------------------------------------------- GeoJSON


def point(lon: Any, lat: Any, /, **props: Any) -> dict[str, Any]:
    """A GeoJSON Point feature."""
    geometry = {"type": "Point", "coordinates": [lon, lat]}
    return {"type": "Feature", "properties": props, "geometry": geometry}


def test_geojson_points_and_problems(tmp_path: Path) -> None:
    line = {
        "type": "Feature",
        "properties": {"name": "路"},
        "geometry": {"type": "LineString", "coordinates": [[121.4, 31.2], [121.5, 31.3]]},
    }
    no_geometry = {"type": "Feature", "properties": {"name": "无"}, "geometry": None}
    features = [
        point(121.47, 31.23, name="新天地", rank=1),
        line,
        point(121.48, 31.24, name="<i>豫园</i>", extra={"a": 1}),
        no_geometry,
        point(121.49, 95.0, name="bad"),
    ]
    collection = {"type": "FeatureCollection", "features": features}
    path = write(tmp_path, "pois.geojson", json.dumps(collection, ensure_ascii=False))
    table = read_point_table(path, datum="gcj02")
    points = table.points
    assert points["name"].tolist() == ["新天地", "<i>豫园</i>"]
    assert points["rank"].tolist() == ["1", None]
    assert points["extra"].tolist() == [None, '{"a": 1}']
    assert points["lon"].tolist() == [121.47, 121.48]
    assert points["row"].tolist() == [1, 3]
    assert reasons(table) == [
        (2, REASON_NOT_POINT),
        (4, REASON_NO_GEOMETRY),
        (5, REASON_OUT_OF_RANGE),
    ]
    assert table.encoding == "utf-8"


def test_geojson_property_named_lon_is_kept(tmp_path: Path) -> None:
    collection = {"type": "FeatureCollection", "features": [point(121.47, 31.23, lon="east")]}
    path = write(tmp_path, "p.json", json.dumps(collection))
    table = read_point_table(path, datum="wgs84")
    assert table.points["lon"].tolist() == ["east"]
    assert table.points["lon_geojson"].tolist() == [121.47]


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ('{"type": "FeatureCollection", "features": [', "not valid GeoJSON"),
        ('{"type": "Polygon", "coordinates": []}', "expected a GeoJSON FeatureCollection"),
        ('{"type": "FeatureCollection", "features": []}', "no data rows"),
    ],
)
def test_bad_geojson_files(tmp_path: Path, content: str, match: str) -> None:
    path = write(tmp_path, "broken.geojson", content)
    with pytest.raises(InputDataError, match=match) as info:
        read_point_table(path, datum="wgs84")
    assert "broken.geojson" in str(info.value)


# ---------------------------------------------------------------- whole-file errors


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match=r"nowhere\.csv.*not found"):
        read_point_table(tmp_path / "nowhere.csv", datum="wgs84")


def test_directory(tmp_path: Path) -> None:
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(InputDataError, match=r"folder\.csv.*directory"):
        read_point_table(tmp_path / "folder.csv", datum="wgs84")


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("empty.csv", b"", "empty"),
        ("header.csv", b"name,lng,lat\n", "no data rows"),
        ("header_blank.csv", b"name,lng,lat\n\n\n", "no data rows"),
        ("blank.csv", b"\n \n", "no data rows"),
        ("shapes.dbf", b"whatever", r"unsupported file type '\.dbf'.*\.csv.*\.xlsx.*\.geojson"),
        ("nocoords.csv", b"name,address\na,b\n", r"no lon column.*'name', 'address'.*lon_col"),
    ],
)
def test_bad_whole_files(tmp_path: Path, name: str, content: bytes, match: str) -> None:
    path = write(tmp_path, name, content)
    with pytest.raises(InputDataError, match=match) as info:
        read_point_table(path, datum="wgs84")
    assert name in str(info.value)


def test_missing_lat_column_and_unknown_option(tmp_path: Path) -> None:
    path = write(tmp_path, "onlylon.csv", "name,lng\na,121.4\n")
    with pytest.raises(InputDataError, match=r"onlylon\.csv.*no lat column.*lat_col"):
        read_point_table(path, datum="wgs84")
    with pytest.raises(InputDataError, match=r"onlylon\.csv.*'east'.*lon_col"):
        read_point_table(path, datum="wgs84", lon_col="east")


def test_bad_options(tmp_path: Path) -> None:
    path = write(tmp_path, "ok.csv", "name,lng,lat\na,121.47,31.23\n")
    with pytest.raises(InputDataError, match="unknown datum"):
        read_point_table(path, datum="utm")  # type: ignore[arg-type]
    with pytest.raises(InputDataError, match="bbox"):
        read_point_table(path, datum="wgs84", bbox=(122.2, 30.6, 120.8, 31.95))


# ---------------------------------------------------------------- real data


@pytest.mark.realdata
def test_real_baidu_pois() -> None:
    table = read_point_table(
        shared_path("poi", "shanghai_brand_pois_bd09.csv"), datum="bd09", bbox=SHANGHAI_BBOX
    )
    points = table.points
    assert len(points) + len(table.problems) == 1293
    assert len(points) > 1280
    assert set(table.problems_by_reason()) <= {REASON_OUTSIDE_BBOX}
    assert list(points.columns[:4]) == ["brand", "name", "lng", "lat"]
    shift = GEOD.inv(points["lng"], points["lat"], points["lon_wgs84"], points["lat_wgs84"])[2]
    assert 700 < float(np.median(shift)) < 1200
    lon_min, lat_min, lon_max, lat_max = SHANGHAI_BBOX
    assert points["lon_wgs84"].between(lon_min, lon_max).all()
    assert points["lat_wgs84"].between(lat_min, lat_max).all()
    # Converting back reproduces the raw Baidu values.
    back_lon, back_lat = bd09_from_wgs84(points["lon_wgs84"], points["lat_wgs84"])
    assert np.max(np.abs(back_lon - points["lng"].to_numpy())) < 1e-8
    assert np.max(np.abs(back_lat - points["lat"].to_numpy())) < 1e-8
    expected = wgs84_from_bd09(points["lng"], points["lat"])
    np.testing.assert_allclose(points["lon_wgs84"], expected[0], rtol=0, atol=1e-12)
