"""One projected metric CRS inside: pick it once, project WGS84 in and out.

Shanghai falls in UTM zone 51N (EPSG:32651); any other extract gets its own
UTM zone from the centre of its bounding box, so the engine works for any city.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer

from geo.errors import CRSMismatchError, InputDataError

WGS84 = "EPSG:4326"


def utm_epsg_for(lon: float, lat: float) -> int:
    """EPSG code of the WGS84 UTM zone containing ``(lon, lat)``.

    Parameters
    ----------
    lon, lat
        Degrees, WGS84.
    """
    if not (-180.0 <= lon <= 180.0 and -80.0 <= lat <= 84.0):
        msg = f"({lon}, {lat}) is outside the UTM range; pass an explicit metric CRS instead"
        raise InputDataError(msg)
    zone = min(math.floor((lon + 180.0) / 6.0) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


@dataclass(frozen=True)
class Projector:
    """Forward (WGS84 → metric) and inverse transforms for one metric CRS."""

    crs: str
    _fwd: Transformer = field(repr=False, compare=False)
    _inv: Transformer = field(repr=False, compare=False)

    @classmethod
    def for_crs(cls, crs: str | int) -> Projector:
        """Build a projector for ``crs`` (e.g. ``"EPSG:32651"``); it must be metric."""
        target = CRS.from_user_input(crs)
        if not target.is_projected:
            msg = f"CRS {crs!r} is not projected; use a metric CRS such as EPSG:32651"
            raise CRSMismatchError(msg)
        name = target.to_string()
        return cls(
            crs=name,
            _fwd=Transformer.from_crs(WGS84, target, always_xy=True),
            _inv=Transformer.from_crs(target, WGS84, always_xy=True),
        )

    @classmethod
    def for_lonlat(cls, lon: float, lat: float) -> Projector:
        """Projector for the UTM zone around ``(lon, lat)``."""
        return cls.for_crs(f"EPSG:{utm_epsg_for(lon, lat)}")

    def to_xy(
        self, lon: ArrayLike, lat: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Project WGS84 degrees to metres."""
        x, y = self._fwd.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def to_lonlat(
        self, x: ArrayLike, y: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Unproject metres to WGS84 degrees."""
        lon, lat = self._inv.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def require_same_crs(a: str, b: str, *, what: str) -> None:
    """Raise :class:`CRSMismatchError` unless ``a`` and ``b`` name the same CRS."""
    if CRS.from_user_input(a) != CRS.from_user_input(b):
        msg = (
            f"{what}: CRS {a} does not match {b}; reproject the input with "
            f"GeoDataFrame.to_crs({b!r}) before combining them"
        )
        raise CRSMismatchError(msg)
