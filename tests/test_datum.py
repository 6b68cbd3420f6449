"""Tests for geo.datum: WGS84 / GCJ-02 / BD-09 transforms."""

from __future__ import annotations

import logging

import numpy as np
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import ArrayLike

from geo.datum import (
    DATUMS,
    DatumConversion,
    bd09_from_gcj02,
    bd09_from_wgs84,
    gcj02_from_bd09,
    gcj02_from_wgs84,
    in_china,
    parse_datum,
    to_wgs84,
    wgs84_from_bd09,
    wgs84_from_gcj02,
)
from geo.errors import InputDataError

GEOD = pyproj.Geod(ellps="WGS84")

# Points whose forward shift crosses the edge of the "China" rectangle cannot
# round-trip (the public algorithm tests the rectangle on its input), so random
# points stay 0.1 deg inside it; the shift is < 0.01 deg everywhere.
MARGIN = 0.1
CHINA_LONS = st.floats(72.004 + MARGIN, 137.8347 - MARGIN)
CHINA_LATS = st.floats(0.8293 + MARGIN, 55.8271 - MARGIN)
CHINA_POINTS = st.lists(st.tuples(CHINA_LONS, CHINA_LATS), min_size=1, max_size=50)
DETERMINISTIC = settings(max_examples=60, derandomize=True, database=None, deadline=None)

# Published test vectors of eviltransform (googollee/eviltransform, also in its
# Go, C#, Ruby and Haskell ports): (WGS84 lon, lat), (GCJ-02 lon, lat).
EVILTRANSFORM_VECTORS = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),  # Shanghai
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),  # Shenzhen
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),  # Beijing
]


def shanghai_grid() -> tuple[np.ndarray, np.ndarray]:
    """A 29 x 27 grid over Shanghai, 120.8–122.2 E, 30.6–31.9 N."""
    lon, lat = np.meshgrid(np.linspace(120.8, 122.2, 29), np.linspace(30.6, 31.9, 27))
    return lon.ravel(), lat.ravel()


def metres(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> np.ndarray:
    """Geodesic distances on WGS84 in metres."""
    a, b, c, d = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (lon1, lat1, lon2, lat2))
    )
    return np.asarray(GEOD.inv(a.ravel(), b.ravel(), c.ravel(), d.ravel())[2])


def assert_round_trip(
    lon: np.ndarray, lat: np.ndarray, back_lon: np.ndarray, back_lat: np.ndarray
) -> None:
    """Round trip within 1e-8 degrees and 1 cm."""
    assert np.max(np.abs(back_lon - lon)) < 1e-8
    assert np.max(np.abs(back_lat - lat)) < 1e-8
    assert np.max(metres(lon, lat, back_lon, back_lat)) < 0.01


# ---------------------------------------------------------------- parse_datum


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("WGS84", "wgs84"),
        ("wgs-84", "wgs84"),
        ("wgs84", "wgs84"),
        ("GCJ-02", "gcj02"),
        ("gcj02", "gcj02"),
        ("Gcj_02", "gcj02"),
        ("BD-09", "bd09"),
        ("bd09", "bd09"),
        (" BD09 ", "bd09"),
    ],
)
def test_parse_datum_accepts_common_spellings(text: str, expected: str) -> None:
    assert parse_datum(text) == expected


def test_parse_datum_rejects_unknown_and_lists_valid_values() -> None:
    with pytest.raises(InputDataError, match="CGCS2000") as info:
        parse_datum("CGCS2000")
    for label in ("WGS84", "GCJ-02", "BD-09"):
        assert label in str(info.value)


def test_datums_constant() -> None:
    assert DATUMS == ("wgs84", "gcj02", "bd09")


# ---------------------------------------------------------------- in_china


def test_in_china_rectangle() -> None:
    lon = [121.47, 24.94, 135.76, 72.004, 137.8347, 137.84, np.nan]
    lat = [31.23, 60.17, 35.0, 0.8293, 55.8271, 30.0, 31.0]
    # Kyoto (135.76 E, 35.0 N) IS inside the coarse rectangle of the public algorithm.
    assert in_china(lon, lat).tolist() == [True, False, True, True, True, False, False]


# ---------------------------------------------------------------- reference values


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM_VECTORS)
def test_gcj02_matches_published_vectors(
    wgs: tuple[float, float], gcj: tuple[float, float]
) -> None:
    lon, lat = gcj02_from_wgs84(*wgs)
    assert abs(float(lon) - gcj[0]) < 1e-9
    assert abs(float(lat) - gcj[1]) < 1e-9
    back_lon, back_lat = wgs84_from_gcj02(*gcj)
    assert metres(back_lon, back_lat, wgs[0], wgs[1])[0] < 0.001


def test_gcj02_offset_in_shanghai_is_east_and_south_about_half_a_km() -> None:
    lon, lat = shanghai_grid()
    glon, glat = gcj02_from_wgs84(lon, lat)
    dlon, dlat = glon - lon, glat - lat
    assert np.all((dlon > 0.0035) & (dlon < 0.0055))
    assert np.all((dlat > -0.003) & (dlat < -0.0012))
    shift = metres(lon, lat, glon, glat)
    assert np.all((shift > 400) & (shift < 600))


def test_bd09_offset_from_gcj02_in_shanghai() -> None:
    glon, glat = gcj02_from_wgs84(*shanghai_grid())
    blon, blat = bd09_from_gcj02(glon, glat)
    dlon, dlat = blon - glon, blat - glat
    assert np.all((dlon > 0.006) & (dlon < 0.007))
    assert np.all((dlat > 0.005) & (dlat < 0.007))
    shift = metres(glon, glat, blon, blat)
    assert np.all((shift > 800) & (shift < 1000))


def test_inverses_shift_the_other_way() -> None:
    lon, lat = shanghai_grid()
    wlon, wlat = wgs84_from_gcj02(lon, lat)
    assert np.all(wlon < lon) and np.all(wlat > lat)
    glon, glat = gcj02_from_bd09(lon, lat)
    assert np.all(glon < lon) and np.all(glat < lat)


def test_bd09_from_wgs84_is_the_composition() -> None:
    lon, lat = shanghai_grid()
    blon, blat = bd09_from_wgs84(lon, lat)
    clon, clat = bd09_from_gcj02(*gcj02_from_wgs84(lon, lat))
    np.testing.assert_array_equal(blon, clon)
    np.testing.assert_array_equal(blat, clat)
    shift = metres(lon, lat, blon, blat)
    assert np.all((shift > 1000) & (shift < 1250))


# ---------------------------------------------------------------- round trips


def test_round_trips_on_shanghai_grid() -> None:
    lon, lat = shanghai_grid()
    assert_round_trip(lon, lat, *wgs84_from_gcj02(*gcj02_from_wgs84(lon, lat)))
    assert_round_trip(lon, lat, *wgs84_from_bd09(*bd09_from_wgs84(lon, lat)))
    assert_round_trip(lon, lat, *gcj02_from_bd09(*bd09_from_gcj02(lon, lat)))


@DETERMINISTIC
@given(CHINA_POINTS)
def test_wgs_gcj_round_trip_over_china(points: list[tuple[float, float]]) -> None:
    lon, lat = np.array(points).T
    assert_round_trip(lon, lat, *wgs84_from_gcj02(*gcj02_from_wgs84(lon, lat)))


@DETERMINISTIC
@given(CHINA_POINTS)
def test_wgs_bd_round_trip_over_china(points: list[tuple[float, float]]) -> None:
    lon, lat = np.array(points).T
    assert_round_trip(lon, lat, *wgs84_from_bd09(*bd09_from_wgs84(lon, lat)))


def test_exact_bd_inverse_beats_the_closed_form() -> None:
    # The widely copied closed-form BD-09 inverse is off by up to ~2e-6 deg;
    # the iterated inverse must reproduce the BD-09 input far better.
    lon, lat = shanghai_grid()
    glon, glat = gcj02_from_bd09(lon, lat)
    blon, blat = bd09_from_gcj02(glon, glat)
    assert np.max(np.abs(blon - lon)) < 1e-9
    assert np.max(np.abs(blat - lat)) < 1e-9


def test_iteration_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="tol_deg"):
        wgs84_from_gcj02(121.0, 31.0, tol_deg=0.0)
    with pytest.raises(ValueError, match="max_iter"):
        gcj02_from_bd09(121.0, 31.0, max_iter=0)


def test_non_convergence_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="geo.datum"):
        wgs84_from_gcj02(121.0, 31.0, tol_deg=1e-30, max_iter=2)
    assert "did not converge" in caplog.text


# ---------------------------------------------------------------- shapes, NaN, inputs


def test_scalars_and_shapes() -> None:
    lon, _ = gcj02_from_wgs84(121.47, 31.23)
    assert lon.dtype == np.float64 and lon.shape == ()
    grid = np.full((2, 3), 121.47), np.full((2, 3), 31.23)
    for func in (gcj02_from_wgs84, wgs84_from_gcj02, bd09_from_gcj02, gcj02_from_bd09):
        out_lon, out_lat = func(*grid)
        assert out_lon.shape == (2, 3) and out_lat.dtype == np.float64
    out_lon, _ = wgs84_from_bd09([121.0, 121.5], 31.0)  # broadcasting a scalar
    assert out_lon.shape == (2,)


def test_inputs_are_not_mutated() -> None:
    lon, lat = np.array([121.47, 24.94]), np.array([31.23, 60.17])
    before = lon.copy(), lat.copy()
    for func in (gcj02_from_wgs84, wgs84_from_gcj02, bd09_from_wgs84, wgs84_from_bd09):
        func(lon, lat)
    to_wgs84(lon, lat, "bd09")
    np.testing.assert_array_equal(lon, before[0])
    np.testing.assert_array_equal(lat, before[1])


@pytest.mark.parametrize(
    "func",
    [
        gcj02_from_wgs84,
        wgs84_from_gcj02,
        bd09_from_gcj02,
        gcj02_from_bd09,
        wgs84_from_bd09,
        bd09_from_wgs84,
    ],
)
def test_nan_propagates(func: object) -> None:
    lon = np.array([121.47, np.nan, 121.5])
    lat = np.array([np.nan, 31.2, 31.3])
    out_lon, out_lat = func(lon, lat)  # type: ignore[operator]
    assert np.isnan(out_lon[:2]).tolist() == [False, True]
    assert np.isnan(out_lat[:2]).tolist() == [True, False]
    assert np.isfinite(out_lon[2]) and np.isfinite(out_lat[2])


# ---------------------------------------------------------------- outside China, to_wgs84


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_outside_china_untouched_and_warned(datum: str, caplog: pytest.LogCaptureFixture) -> None:
    lon = np.array([24.94, 121.47, 135.76])  # Helsinki, Shanghai, Kyoto
    lat = np.array([60.17, 31.23, 35.0])
    with caplog.at_level(logging.WARNING, logger="geo.datum"):
        result = to_wgs84(lon, lat, datum)  # type: ignore[arg-type]
    assert isinstance(result, DatumConversion)
    assert result.outside_china.tolist() == [True, False, False]
    assert (result.lon[0], result.lat[0]) == (24.94, 60.17)
    # Kyoto is inside the coarse rectangle, so it IS shifted, like Shanghai.
    assert np.all(metres(lon[1:], lat[1:], result.lon[1:], result.lat[1:]) > 300)
    assert "1 of 3 points outside China left unchanged" in result.note
    assert "outside China" in caplog.text


def test_to_wgs84_bd09_note_and_values() -> None:
    lon, lat = shanghai_grid()
    blon, blat = bd09_from_wgs84(lon, lat)
    result = to_wgs84(blon, blat, "bd09")
    assert result.note == f"BD-09 → WGS84 ({lon.size} points)"
    assert not result.outside_china.any()
    assert_round_trip(lon, lat, result.lon, result.lat)


def test_to_wgs84_gcj02_matches_inverse() -> None:
    lon, lat = shanghai_grid()
    result = to_wgs84(lon, lat, "gcj02")
    expected = wgs84_from_gcj02(lon, lat)
    np.testing.assert_array_equal(result.lon, expected[0])
    np.testing.assert_array_equal(result.lat, expected[1])


def test_to_wgs84_wgs84_is_identity_without_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="geo.datum"):
        result = to_wgs84([24.94, 121.47], [60.17, 31.23], "WGS84")  # type: ignore[arg-type]
    assert result.lon.tolist() == [24.94, 121.47]
    assert result.outside_china.tolist() == [True, False]
    assert result.note.startswith("WGS84")
    assert caplog.text == ""


def test_to_wgs84_nan_is_not_outside_china() -> None:
    result = to_wgs84([np.nan, 121.47], [31.0, 31.23], "gcj02")
    assert result.outside_china.tolist() == [False, False]
    assert np.isnan(result.lon[0])


def test_to_wgs84_rejects_unknown_datum() -> None:
    with pytest.raises(InputDataError, match="unknown datum"):
        to_wgs84(121.0, 31.0, "utm51")  # type: ignore[arg-type]
