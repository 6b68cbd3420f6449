"""Property and regression tests: point tables never crash, hang or load wrong coordinates.

Generated CSV, XLSX and GeoJSON tables mix good rows (WGS84 truth converted to the file's
datum) with bad ones (NaN, inf, empty, text, out of range, swapped lon/lat, wrong width).
:func:`geo.table_import.read_point_table` must load every good row at its truth (after the
datum round trip) and report every bad row with its spreadsheet row number, or raise
:class:`InputDataError`; never anything else. The regression tests are the inputs the fuzz
driver (``benchmarks/fuzz_readers.py``) found.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.datum import bd09_from_wgs84, gcj02_from_wgs84
from geo.errors import InputDataError
from geo.table_import import (
    REASON_COLUMN_COUNT,
    REASON_MISSING,
    REASON_NON_NUMERIC,
    REASON_NOT_FINITE,
    REASON_OUT_OF_RANGE,
    REASON_OUTSIDE_BBOX,
    read_point_table,
)
from tests.conftest import shared_path

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,  # deterministic in CI: no replay of stored examples
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SHANGHAI = (120.8, 30.6, 122.2, 31.95)
#: Datum round trips agree to ~1e-9 degrees (geo.datum); text keeps 17 significant digits.
TOL_DEG = 1e-8

# ----------------------------------------------------------------------------- strategies

#: Names a planner's table may hold: markup, quotes, separators, line breaks, CJK, emoji.
NAMES = st.one_of(
    st.sampled_from(
        [
            "乐购超市(河南南路店)",
            "<script>alert(1)</script>",
            '"><img src=x onerror=alert(1)>',
            "a,b;c\td",
            'say "hi"',
            "line1\nline2",
            "=cmd|' /C calc'!A0",
            "𠜎😀 \u202e",
            "",
            " padded ",
        ]
    ),
    st.text(
        st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="\ufeff"),
        max_size=30,
    ),
)
BAD_VALUES = {
    REASON_NOT_FINITE: ["NaN", "nan", "-inf", "Infinity", "1e400"],
    REASON_MISSING: ["", "   "],
    REASON_NON_NUMERIC: ["abc", "121.5°", "1,5", "0x79", "1_000", "--1", "null"],
    REASON_OUT_OF_RANGE: ["200", "-181", "1e5"],
}


@dataclass(frozen=True)
class Row:
    """One generated row: good (truth in WGS84) or bad (the reason it must be reported)."""

    name: str
    lon_text: str
    lat_text: str
    truth: tuple[float, float] | None  # WGS84 of a good row
    reason: str | None  # expected RowProblem.reason of a bad row
    extra: str | None = None  # a non-empty extra field: wrong number of columns


def _to_datum(lon: float, lat: float, datum: str) -> tuple[float, float]:
    if datum == "gcj02":
        x, y = gcj02_from_wgs84(lon, lat)
    elif datum == "bd09":
        x, y = bd09_from_wgs84(lon, lat)
    else:
        return lon, lat
    return float(x), float(y)


@st.composite
def rows(draw: st.DrawFn, datum: str, *, text_values: bool = True) -> Row:
    """A good or a bad row in ``datum``."""
    name = draw(NAMES)
    lon, lat = draw(st.floats(121.0, 121.9)), draw(st.floats(30.8, 31.8))
    x, y = _to_datum(lon, lat, datum)
    kind = draw(st.sampled_from(["good", "good", "good", "bad", "swapped", "width"]))
    if kind == "good":
        return Row(name, repr(x), repr(y), (lon, lat), None)
    if kind == "swapped":  # lat in the lon column: 31 is a valid lon, 121 is no latitude
        return Row(name, repr(y), repr(x), None, REASON_OUT_OF_RANGE)
    if kind == "width":
        return Row(name, repr(x), repr(y), None, REASON_COLUMN_COUNT, extra="extra")
    reason = draw(st.sampled_from(sorted(BAD_VALUES)))
    if not text_values and reason in (REASON_NON_NUMERIC, REASON_MISSING):
        reason = REASON_NOT_FINITE
    bad = draw(st.sampled_from(BAD_VALUES[reason]))
    if draw(st.booleans()):
        return Row(name, bad, repr(y), None, reason)
    if reason == REASON_OUT_OF_RANGE:  # a latitude of 200 is out of range too
        return Row(name, repr(x), bad, None, reason)
    return Row(name, repr(x), bad, None, reason)


def _check(table_rows: list[Row], path: Path, datum: str, first_row: int) -> None:
    """Every good row loaded at its truth, every bad row reported at its row number."""
    result = read_point_table(path, datum=datum)  # type: ignore[arg-type]
    loaded = {int(r): i for i, r in enumerate(result.points["row"])}
    problems = {p.row: p.reason for p in result.problems}
    for k, row in enumerate(table_rows):
        number = first_row + k
        if row.truth is None:
            assert number not in loaded, f"bad row {number} ({row.reason}) was loaded"
            assert problems.get(number) == row.reason, (number, row, problems.get(number))
            continue
        assert number in loaded, (number, row, problems.get(number))
        i = loaded[number]
        lon_w, lat_w = result.points["lon_wgs84"].iloc[i], result.points["lat_wgs84"].iloc[i]
        assert abs(lon_w - row.truth[0]) < TOL_DEG and abs(lat_w - row.truth[1]) < TOL_DEG
        geom = result.points.geometry.iloc[i]
        assert (geom.x, geom.y) == (lon_w, lat_w)
    assert len(result.points) + len(result.problems) == len(table_rows)
    assert np.isfinite(result.points[["lon_wgs84", "lat_wgs84"]].to_numpy()).all()


def _write_csv(
    path: Path, table_rows: list[Row], *, delimiter: str, newline: str, enc: str
) -> None:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    writer.writerow(["brand", "name", "lng", "lat"])
    for row in table_rows:
        fields = ["b", row.name, row.lon_text, row.lat_text]
        writer.writerow([*fields, row.extra] if row.extra else fields)
    path.write_bytes(buf.getvalue().encode(enc))


# ----------------------------------------------------------------------------- properties


@SETTINGS
@given(
    datum=st.sampled_from(["wgs84", "gcj02", "bd09"]),
    data=st.data(),
    delimiter=st.sampled_from([",", "\t", ";"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    enc=st.sampled_from(["utf-8", "utf-8-sig"]),
)
def test_csv_good_rows_load_bad_rows_reported(
    tmp_path_factory: pytest.TempPathFactory,
    datum: str,
    data: st.DataObject,
    delimiter: str,
    newline: str,
    enc: str,
) -> None:
    table_rows = data.draw(st.lists(rows(datum), min_size=1, max_size=25))
    path = tmp_path_factory.mktemp("csv") / "pois.csv"
    _write_csv(path, table_rows, delimiter=delimiter, newline=newline, enc=enc)
    _check(table_rows, path, datum, first_row=2)


#: GB18030 is detected only when the bytes are not valid UTF-8: real Chinese names.
GBK_NAMES = st.sampled_from(
    ["乐购超市(河南南路店)", "肯德基(人民广场店)", "世纪华联", "<b>永辉</b>"]
)


@SETTINGS
@given(datum=st.sampled_from(["gcj02", "bd09"]), data=st.data())
def test_gb18030_csv(
    tmp_path_factory: pytest.TempPathFactory, datum: str, data: st.DataObject
) -> None:
    table_rows = data.draw(st.lists(rows(datum), min_size=1, max_size=15))
    table_rows = [
        Row(data.draw(GBK_NAMES), r.lon_text, r.lat_text, r.truth, r.reason, r.extra)
        for r in table_rows
    ]
    path = tmp_path_factory.mktemp("gbk") / "pois.csv"
    _write_csv(path, table_rows, delimiter=",", newline="\r\n", enc="gb18030")
    _check(table_rows, path, datum, first_row=2)


_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _cell(text: str, as_number: bool) -> object:
    """A cell: a number for plain decimal text (float() also takes "1_000"; Excel would not)."""
    if text.strip() == "":
        return None
    if as_number and _DECIMAL.fullmatch(text.strip()):
        value = float(text)
        return value if math.isfinite(value) else text
    return text


@settings(SETTINGS, max_examples=30)
@given(datum=st.sampled_from(["wgs84", "bd09"]), data=st.data(), as_number=st.booleans())
def test_xlsx_good_rows_load_bad_rows_reported(
    tmp_path_factory: pytest.TempPathFactory, datum: str, data: st.DataObject, as_number: bool
) -> None:
    table_rows = data.draw(st.lists(rows(datum), min_size=1, max_size=15))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["brand", "name", "lng", "lat"])
    for row in table_rows:
        name = "".join(c for c in row.name if c.isprintable())
        cells = ["b", name, _cell(row.lon_text, as_number), _cell(row.lat_text, as_number)]
        ws.append([*cells, row.extra] if row.extra else cells)
    path = tmp_path_factory.mktemp("xlsx") / "pois.xlsx"
    wb.save(path)
    expected = [
        Row(r.name, r.lon_text, r.lat_text, r.truth, REASON_MISSING)
        if r.reason == REASON_MISSING
        else r
        for r in table_rows
    ]
    # an extra cell in a column without a header is a data column "unnamed_E", not a width
    # problem: such rows load; their extra text is kept in that column
    expected = [
        Row(r.name, r.lon_text, r.lat_text, _truth_of(r, datum), None) if r.extra else r
        for r in expected
    ]
    _check(expected, path, datum, first_row=2)


def _truth_of(row: Row, datum: str) -> tuple[float, float]:
    from geo.datum import to_wgs84

    conv = to_wgs84([float(row.lon_text)], [float(row.lat_text)], datum)  # type: ignore[arg-type]
    return float(conv.lon[0]), float(conv.lat[0])


@SETTINGS
@given(datum=st.sampled_from(["wgs84", "gcj02", "bd09"]), data=st.data())
def test_geojson_good_features_load_bad_reported(
    tmp_path_factory: pytest.TempPathFactory, datum: str, data: st.DataObject
) -> None:
    table_rows = data.draw(
        st.lists(rows(datum, text_values=False), min_size=1, max_size=20).map(
            lambda rs: [r for r in rs if r.extra is None] or [rs[0]]
        )
    )
    table_rows = [r for r in table_rows if r.extra is None]
    features = []
    for row in table_rows:
        coords = [float(row.lon_text), float(row.lat_text)]
        features.append(
            {
                "type": "Feature",
                "properties": {"name": row.name},
                "geometry": {"type": "Point", "coordinates": coords},
            }
        )
    doc = {"type": "FeatureCollection", "features": features}
    path = tmp_path_factory.mktemp("geojson") / "pois.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False, allow_nan=True), encoding="utf-8")
    if not table_rows:
        with pytest.raises(InputDataError, match="no features"):
            read_point_table(path, datum=datum)  # type: ignore[arg-type]
        return
    _check(table_rows, path, datum, first_row=1)


@SETTINGS
@given(data=st.data())
def test_swapped_columns_never_load(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """A table whose lat values sit in the lng column (and back) loads no point at all."""
    table_rows = data.draw(st.lists(rows("bd09"), min_size=1, max_size=20))
    swapped = [
        Row(r.name, r.lat_text, r.lon_text, None, REASON_OUT_OF_RANGE)
        for r in table_rows
        if r.truth is not None
    ]
    if not swapped:
        return
    path = tmp_path_factory.mktemp("swap") / "swapped.csv"
    _write_csv(path, swapped, delimiter=",", newline="\n", enc="utf-8")
    result = read_point_table(path, datum="bd09", bbox=SHANGHAI)
    assert len(result.points) == 0
    assert {p.reason for p in result.problems} == {REASON_OUT_OF_RANGE}


@SETTINGS
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".geojson", ".xlsx"]))
def test_arbitrary_bytes_end_cleanly(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, suffix: str
) -> None:
    path = tmp_path_factory.mktemp("bytes") / f"junk{suffix}"
    path.write_bytes(data)
    try:
        result = read_point_table(path, datum="wgs84")
    except InputDataError as exc:
        assert path.name in str(exc)
        return
    assert np.isfinite(result.points[["lon_wgs84", "lat_wgs84"]].to_numpy()).all()


# ------------------------------------------------------------------- mutated real seeds


def test_mutated_real_seeds_end_cleanly(tmp_path: Path) -> None:
    """A fixed sample of the fuzz driver's inputs (real POI rows, mutated) ends cleanly."""
    shared_path("poi", "shanghai_brand_pois_bd09.csv")
    from benchmarks.fuzz_readers import load_seeds, make_case, run_case

    seeds = load_seeds(full=False)
    outcomes = []
    for index in range(60):
        case = make_case("table", index, seeds, seed=0)
        path = tmp_path / f"case{index}{case.suffix}"
        path.write_bytes(case.data)
        result = run_case(case, path)
        assert result.outcome in ("ok", "input_error"), (index, case.mutations, result)
        assert not result.warnings, (index, case.mutations, result.warnings)
        outcomes.append(result.outcome)
    assert "ok" in outcomes and "input_error" in outcomes


# ------------------------------------------------------------------ regressions (fuzz finds)


def test_header_field_over_csv_limit_is_an_input_error(tmp_path: Path) -> None:
    """Was csv.Error from the delimiter sniffer (a header field over 131072 characters)."""
    path = tmp_path / "longheader.csv"
    path.write_text("lng,lat," + "x" * 200_000 + "\n121.4,31.2,a\n", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"longheader\.csv: the header line cannot be parsed"):
        read_point_table(path, datum="wgs84")


def test_broken_first_record_does_not_promote_a_data_row_to_header(tmp_path: Path) -> None:
    path = tmp_path / "promote.csv"
    path.write_text("x" * 200_000 + "\nlng,lat\n121.4,31.2\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="header line cannot be parsed"):
        read_point_table(path, datum="wgs84")


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_geojson_is_an_input_error(tmp_path: Path, depth: int) -> None:
    """Was RecursionError from json.loads."""
    path = tmp_path / "deep.geojson"
    path.write_bytes(b"[" * depth + b"]" * depth)
    with pytest.raises(InputDataError, match=r"deep\.geojson"):
        read_point_table(path, datum="wgs84")


def test_deeply_nested_property_is_an_input_error(tmp_path: Path) -> None:
    feature = '{"type":"Feature","properties":{"deep":%s},"geometry":{"type":"Point",'
    feature += '"coordinates":[121.4,31.2]}}'
    body = feature % ("[" * 50_000 + "]" * 50_000)
    path = tmp_path / "deepprop.geojson"
    path.write_text('{"type":"FeatureCollection","features":[' + body + "]}", encoding="utf-8")
    with pytest.raises(InputDataError, match="nested too deeply"):
        read_point_table(path, datum="wgs84")


def test_integer_over_python_digit_limit_is_a_row_problem(tmp_path: Path) -> None:
    """Was ValueError (int max str digits) for a 5000-digit coordinate or property."""
    big = "1" * 5000
    feats = [
        '{"type":"Feature","properties":{"n":1},"geometry":{"type":"Point",'
        f'"coordinates":[{big},31.2]}}}}',
        '{"type":"Feature","properties":{"n":' + big + '},"geometry":{"type":"Point",'
        '"coordinates":[121.4,31.2]}}',
    ]
    path = tmp_path / "bigint.geojson"
    path.write_text('{"type":"FeatureCollection","features":[' + ",".join(feats) + "]}")
    result = read_point_table(path, datum="wgs84")
    assert [(p.row, p.reason) for p in result.problems] == [(1, REASON_NOT_FINITE)]
    assert result.points["row"].tolist() == [2]
    assert result.points["n"].tolist() == ["inf"]


def test_workbook_without_worksheet_is_an_input_error(tmp_path: Path) -> None:
    """Was IndexError: an .xlsx whose sheet part is missing opens with no worksheet."""
    good = tmp_path / "good.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["lng", "lat"])
    wb.save(good)
    path = tmp_path / "nosheet.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
        for name in src.namelist():
            if name != "xl/worksheets/sheet1.xml":
                dst.writestr(name, src.read(name))
    with pytest.raises(InputDataError, match=r"nosheet\.xlsx.*(no worksheet|cannot read)"):
        read_point_table(path, datum="wgs84")


@pytest.mark.parametrize(("row", "column"), [(1_048_576, 3), (3, 16_384), (1_048_576, 16_384)])
def test_stray_far_cell_does_not_hang(tmp_path: Path, row: int, column: int) -> None:
    """Was a hang: one cell at the sheet's far edge made openpyxl walk 17e9 empty cells."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["name", "lng", "lat"])
    ws.append(["a", 121.4, 31.2])
    ws.cell(row=row, column=column, value="stray")
    path = tmp_path / "stray.xlsx"
    wb.save(path)
    t0 = time.perf_counter()
    result = read_point_table(path, datum="wgs84")
    assert time.perf_counter() - t0 < 5
    assert result.points["row"].tolist() == [2]
    if row > 3:  # the stray cell is a row of its own, without coordinates
        assert [(p.row, p.reason) for p in result.problems] == [(row, REASON_MISSING)]


def test_unicode_digits_are_numbers(tmp_path: Path) -> None:
    """Full-width (Chinese IME) and Arabic-Indic digits read as the number they spell."""
    path = tmp_path / "wide.csv"
    path.write_text("lng,lat\n１２１.４,３１.２\n١٢١.٥,٣١.٣\n", encoding="utf-8")
    result = read_point_table(path, datum="wgs84")
    assert result.points["lng"].tolist() == [121.4, 121.5]
    assert result.points["lat"].tolist() == [31.2, 31.3]


def test_outside_bbox_after_conversion_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "far.csv"
    path.write_text("lng,lat\n116.4,39.9\n121.4,31.2\n", encoding="utf-8")
    result = read_point_table(path, datum="bd09", bbox=SHANGHAI)
    assert [(p.row, p.reason) for p in result.problems] == [(2, REASON_OUTSIDE_BBOX)]


def test_many_repeated_header_names_are_fast_and_the_message_is_short(tmp_path: Path) -> None:
    """Was a hang: naming 243,000 duplicate columns "a.1", "a.2", ... was quadratic.

    The error then listed every column (3 MB in a one-line message); it lists 30 now.
    """
    path = tmp_path / "dupes.csv"
    path.write_text("a;" * 243_000 + "\n1;2\n", encoding="utf-8")
    t0 = time.perf_counter()
    with pytest.raises(InputDataError, match=r"dupes\.csv: no lon column") as info:
        read_point_table(path, datum="wgs84")
    assert time.perf_counter() - t0 < 5
    assert "'a.29'] and 242971 more" in str(info.value) and len(str(info.value)) < 1000


def test_duplicate_names_are_numbered_as_before(tmp_path: Path) -> None:
    path = tmp_path / "dupes.csv"
    path.write_text("a,a.1,a,a,,lng,lat,a.2\n1,2,3,4,5,121.4,31.2,8\n", encoding="utf-8")
    columns = list(read_point_table(path, datum="wgs84").points.columns)
    assert columns[:8] == ["a", "a.1", "a.2", "a.3", "unnamed_5", "lng", "lat", "a.2.1"]


def test_very_wide_table_loads_fast(tmp_path: Path) -> None:
    """Was ~25 s for 100,000 columns: one pandas Series per text column."""
    path = tmp_path / "wide.csv"
    header = ",".join(["lng", "lat"] + [f"c{i}" for i in range(100_000)])
    row = ",".join(["121.4", "31.2"] + ["x"] * 100_000)
    path.write_text(f"{header}\n{row}\n{row}\n", encoding="utf-8")
    t0 = time.perf_counter()
    result = read_point_table(path, datum="wgs84")
    assert time.perf_counter() - t0 < 5
    assert result.points.shape == (2, 100_006)
    assert result.points["c99999"].tolist() == ["x", "x"]
    assert str(result.points["lng"].dtype) == "float64"


def test_broken_workbook_closes_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Was a ResourceWarning (unclosed file), depending on when the garbage collector ran.

    openpyxl left the file it opened unclosed when a broken workbook failed half-way (fuzz
    input table:2408: a bad token in the sheet XML). The reader now opens the file itself.
    """
    handles: list[object] = []

    def fails_half_way(handle: object, **kwargs: object) -> None:
        handles.append(handle)
        handle.read(16)  # type: ignore[attr-defined]
        raise KeyError("broken sheet")

    monkeypatch.setattr(openpyxl, "load_workbook", fails_half_way)
    path = tmp_path / "badsheet.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    with pytest.raises(InputDataError, match=r"badsheet\.xlsx: cannot read as an Excel"):
        read_point_table(path, datum="wgs84")
    assert len(handles) == 1 and getattr(handles[0], "closed", False)
