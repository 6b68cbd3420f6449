"""Chinese map datums: WGS84, GCJ-02 and BD-09, converted with vectorised numpy.

Maps served in mainland China do not use WGS84 directly. Coordinates from
Amap (高德), Tencent and Apple Maps in China are in **GCJ-02** ("Mars
coordinates"), an obfuscated WGS84; Baidu adds a second shift on top of
GCJ-02, **BD-09**. This module implements the public reimplementation of the
GCJ-02 forward transform, the public Baidu BD-09 formula, and exact inverses of
both found by fixed-point iteration (round trips agree to better than 1e-9
degrees, well under a millimetre). See ``docs/datum.md``.

Every transform applies only inside the rectangle that the public GCJ-02
algorithm treats as China (:func:`in_china`); points outside it, and NaN
points, are returned unchanged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal, cast

import numpy as np
import numpy.typing as npt

from geo.errors import InputDataError

logger = logging.getLogger(__name__)

Datum = Literal["wgs84", "gcj02", "bd09"]
DATUMS: tuple[str, ...] = ("wgs84", "gcj02", "bd09")

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
LonLat = tuple[FloatArray, FloatArray]

# Krasovsky 1940 ellipsoid, as used by the public GCJ-02 reimplementation.
_GCJ_A: Final = 6378245.0
_GCJ_EE: Final = 0.00669342162296594323
# Baidu's constant.
_X_PI: Final = np.pi * 3000.0 / 180.0

# The rectangle the public GCJ-02 algorithm uses for "inside China".
_CHINA_LON: Final = (72.004, 137.8347)
_CHINA_LAT: Final = (0.8293, 55.8271)

# Defaults of the fixed-point inverses: 1e-10 deg is ~0.01 mm.
_TOL_DEG: Final = 1e-10
_MAX_ITER: Final = 30

_DATUM_LABELS: Final[dict[str, str]] = {"wgs84": "WGS84", "gcj02": "GCJ-02", "bd09": "BD-09"}


def parse_datum(text: str) -> Datum:
    """Parse a datum name as a planner would type it.

    Parameters
    ----------
    text
        A datum name, case-insensitive, with or without a hyphen, underscore or
        space: "WGS84", "wgs-84", "GCJ-02", "gcj02", "BD-09", "bd09".

    Returns
    -------
    Datum
        The canonical name: "wgs84", "gcj02" or "bd09".

    Raises
    ------
    InputDataError
        If the name is not one of the known datums.
    """
    key = re.sub(r"[\s_\-]", "", str(text)).lower()
    if key not in DATUMS:
        valid = ", ".join(_DATUM_LABELS.values())
        raise InputDataError(
            f"unknown datum {text!r}: use one of {valid} "
            "(case and hyphens do not matter, e.g. 'bd09' or 'GCJ-02')"
        )
    return cast(Datum, key)


def in_china(lon: npt.ArrayLike, lat: npt.ArrayLike) -> BoolArray:
    """Tell which points lie in the rectangle the GCJ-02 algorithm treats as China.

    The rectangle is lon 72.004–137.8347, lat 0.8293–55.8271 (bounds included).
    It is coarse: it also covers e.g. most of Japan and Korea. NaN is outside.

    Parameters
    ----------
    lon, lat
        Longitudes and latitudes in degrees (scalars or array-likes that broadcast).

    Returns
    -------
    numpy.ndarray
        Boolean mask of the broadcast shape.
    """
    x, y = _as_float_arrays(lon, lat)
    return cast(
        BoolArray,
        (x >= _CHINA_LON[0]) & (x <= _CHINA_LON[1]) & (y >= _CHINA_LAT[0]) & (y <= _CHINA_LAT[1]),
    )


def gcj02_from_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    """Convert WGS84 to GCJ-02 with the standard public forward formula.

    Parameters
    ----------
    lon, lat
        WGS84 longitudes and latitudes in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 (lon, lat); points outside China and NaN are unchanged.
    """
    return _apply_in_china(_gcj_forward, lon, lat)


def wgs84_from_gcj02(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    *,
    tol_deg: float = _TOL_DEG,
    max_iter: int = _MAX_ITER,
) -> LonLat:
    """Convert GCJ-02 to WGS84 exactly, by fixed-point iteration of the forward formula.

    Starting from ``w = g`` the iteration ``w <- w - (f(w) - g)`` converges in
    a handful of steps because the GCJ-02 shift varies slowly with position.

    Parameters
    ----------
    lon, lat
        GCJ-02 longitudes and latitudes in degrees.
    tol_deg
        Stop when ``|f(w) - g|`` is below this many degrees for every point.
    max_iter
        Give up after this many iterations (a warning is logged).

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 (lon, lat); points outside China and NaN are unchanged.
    """
    _check_iteration(tol_deg, max_iter)
    return _apply_in_china(
        lambda x, y: _gcj_inverse(x, y, tol_deg=tol_deg, max_iter=max_iter), lon, lat
    )


def bd09_from_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    """Convert GCJ-02 to BD-09 with the public Baidu formula.

    Parameters
    ----------
    lon, lat
        GCJ-02 longitudes and latitudes in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 (lon, lat); points outside China and NaN are unchanged.
    """
    return _apply_in_china(_bd_forward, lon, lat)


def gcj02_from_bd09(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    *,
    tol_deg: float = _TOL_DEG,
    max_iter: int = _MAX_ITER,
) -> LonLat:
    """Convert BD-09 to GCJ-02 exactly.

    The widely copied closed-form BD-09 inverse is only an approximation
    (errors up to ~2e-6 degrees, ~0.2 m); it is used here as the starting
    point of the same fixed-point iteration as :func:`wgs84_from_gcj02`, so
    that ``bd09_from_gcj02`` and this function are exact inverses.

    Parameters
    ----------
    lon, lat
        BD-09 longitudes and latitudes in degrees.
    tol_deg
        Stop when the forward transform reproduces the input within this many degrees.
    max_iter
        Give up after this many iterations (a warning is logged).

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 (lon, lat); points outside China and NaN are unchanged.
    """
    _check_iteration(tol_deg, max_iter)
    return _apply_in_china(
        lambda x, y: _bd_inverse(x, y, tol_deg=tol_deg, max_iter=max_iter), lon, lat
    )


def wgs84_from_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    """Convert BD-09 to WGS84 (BD-09 → GCJ-02 → WGS84, both exact).

    Parameters
    ----------
    lon, lat
        BD-09 longitudes and latitudes in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 (lon, lat); points outside China and NaN are unchanged.
    """
    return _apply_in_china(
        lambda x, y: _gcj_inverse(
            *_bd_inverse(x, y, tol_deg=_TOL_DEG, max_iter=_MAX_ITER),
            tol_deg=_TOL_DEG,
            max_iter=_MAX_ITER,
        ),
        lon,
        lat,
    )


def bd09_from_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    """Convert WGS84 to BD-09 (WGS84 → GCJ-02 → BD-09).

    Parameters
    ----------
    lon, lat
        WGS84 longitudes and latitudes in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 (lon, lat); points outside China and NaN are unchanged.
    """
    return _apply_in_china(lambda x, y: _bd_forward(*_gcj_forward(x, y)), lon, lat)


@dataclass(frozen=True, eq=False)
class DatumConversion:
    """The result of :func:`to_wgs84`.

    Attributes
    ----------
    lon, lat
        WGS84 coordinates (float64 arrays).
    outside_china
        True where a finite input point lies outside China and was left unchanged.
    note
        One line for a human, e.g. "BD-09 → WGS84 (3 of 1293 points outside
        China left unchanged)".
    """

    lon: FloatArray
    lat: FloatArray
    outside_china: BoolArray
    note: str


_TO_WGS84: Final[dict[str, Callable[[npt.ArrayLike, npt.ArrayLike], LonLat]]] = {
    "gcj02": wgs84_from_gcj02,
    "bd09": wgs84_from_bd09,
}


def to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike, datum: Datum) -> DatumConversion:
    """Convert coordinates in any supported datum to WGS84.

    Parameters
    ----------
    lon, lat
        Longitudes and latitudes in degrees, in ``datum``.
    datum
        The datum of the input ("wgs84", "gcj02" or "bd09"; other spellings
        accepted by :func:`parse_datum` work too).

    Returns
    -------
    DatumConversion
        WGS84 coordinates, the mask of points outside China and a one-line note.
    """
    canonical = parse_datum(datum)
    x, y = _as_float_arrays(lon, lat)
    finite = np.isfinite(x) & np.isfinite(y)
    outside = finite & ~in_china(x, y)
    if canonical == "wgs84":
        return DatumConversion(x, y, outside, f"WGS84 (no conversion, {x.size} points)")
    wx, wy = _TO_WGS84[canonical](x, y)
    note = _conversion_note(canonical, int(outside.sum()), x.size)
    if outside.any():
        logger.warning("%s; they are probably not in the datum you gave", note)
    return DatumConversion(wx, wy, outside, note)


def _conversion_note(datum: str, n_outside: int, n_total: int) -> str:
    """Describe a conversion in one line."""
    head = f"{_DATUM_LABELS[datum]} → WGS84"
    if n_outside == 0:
        return f"{head} ({n_total} points)"
    return f"{head} ({n_outside} of {n_total} points outside China left unchanged)"


def _as_float_arrays(lon: npt.ArrayLike, lat: npt.ArrayLike) -> LonLat:
    """Broadcast two array-likes to fresh float64 arrays of one shape."""
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)


def _apply_in_china(
    func: Callable[[FloatArray, FloatArray], LonLat],
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
) -> LonLat:
    """Apply ``func`` to the points inside China; leave the others (and NaN) unchanged."""
    x, y = _as_float_arrays(lon, lat)
    inside = in_china(x, y)
    if inside.any():
        x[inside], y[inside] = func(x[inside], y[inside])
    return x, y


def _check_iteration(tol_deg: float, max_iter: int) -> None:
    """Reject iteration settings that cannot work (a programming error)."""
    if not tol_deg > 0:
        raise ValueError(f"tol_deg must be positive, got {tol_deg}")
    if max_iter < 1:
        raise ValueError(f"max_iter must be at least 1, got {max_iter}")


def _invert(
    forward: Callable[[FloatArray, FloatArray], LonLat],
    target_x: FloatArray,
    target_y: FloatArray,
    start_x: FloatArray,
    start_y: FloatArray,
    *,
    tol_deg: float,
    max_iter: int,
) -> LonLat:
    """Solve ``forward(w) = target`` by the fixed-point iteration ``w <- w - (f(w) - target)``."""
    wx, wy = start_x.copy(), start_y.copy()
    for _ in range(max_iter):
        fx, fy = forward(wx, wy)
        dx, dy = fx - target_x, fy - target_y
        if not (np.abs(dx) >= tol_deg).any() and not (np.abs(dy) >= tol_deg).any():
            return wx, wy
        wx, wy = wx - dx, wy - dy
    fx, fy = forward(wx, wy)
    worst = float(np.nanmax(np.maximum(np.abs(fx - target_x), np.abs(fy - target_y))))
    if worst >= tol_deg:
        logger.warning(
            "datum inverse did not converge in %d iterations (worst residual %.3g deg)",
            max_iter,
            worst,
        )
    return wx, wy


def _gcj_inverse(lon: FloatArray, lat: FloatArray, *, tol_deg: float, max_iter: int) -> LonLat:
    """GCJ-02 → WGS84 without the China test (exact, iterative)."""
    return _invert(_gcj_forward, lon, lat, lon, lat, tol_deg=tol_deg, max_iter=max_iter)


def _bd_inverse(lon: FloatArray, lat: FloatArray, *, tol_deg: float, max_iter: int) -> LonLat:
    """BD-09 → GCJ-02 without the China test (exact, iterative from the closed form)."""
    x0, y0 = _bd_inverse_approx(lon, lat)
    return _invert(_bd_forward, lon, lat, x0, y0, tol_deg=tol_deg, max_iter=max_iter)


def _gcj_delta_lat(x: FloatArray, y: FloatArray) -> FloatArray:
    """The public GCJ-02 latitude polynomial (x, y relative to 105 E, 35 N)."""
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return cast(FloatArray, ret)


def _gcj_delta_lon(x: FloatArray, y: FloatArray) -> FloatArray:
    """The public GCJ-02 longitude polynomial (x, y relative to 105 E, 35 N)."""
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return cast(FloatArray, ret)


def _gcj_forward(lon: FloatArray, lat: FloatArray) -> LonLat:
    """WGS84 → GCJ-02 without the China test."""
    dlat = _gcj_delta_lat(lon - 105.0, lat - 35.0)
    dlon = _gcj_delta_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _GCJ_EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrtmagic * np.cos(radlat) * np.pi)
    return lon + dlon, lat + dlat


def _bd_forward(lon: FloatArray, lat: FloatArray) -> LonLat:
    """GCJ-02 → BD-09 (Baidu's formula) without the China test."""
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_inverse_approx(lon: FloatArray, lat: FloatArray) -> LonLat:
    """BD-09 → GCJ-02, the widely copied closed-form approximation (~2e-6 deg)."""
    x = lon - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)
