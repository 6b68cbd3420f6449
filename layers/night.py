"""Night-economy layers of the "1+12+X" plan: the riverside belt, nightlife clusters, night markets.

The 2021 plan (沪府发〔2021〕2号 §9) names a riverside night-economy belt (滨江夜经济活力带),
12 urban nightlife circles (都市夜生活活力圈) and several signature night markets (标志性夜市);
the later 2022–2025 guideline puts the belt along the Huangpu River and Suzhou Creek, centred on
their confluence. Night-economy hours are 19:00–06:00 (2019 guidance). Neither the belt's extent
nor the full lists of circles and markets were found (sources.md §3), so what this module draws
is labelled:

* :func:`riverside_belt` — OSM water features of the named rivers buffered in metres,
  ``approximate``; an extract without those rivers gives an empty layer and a message, never a
  made-up belt;
* :func:`nightlife_candidates` — dense clusters of bars, pubs, clubs, karaoke and late-night food,
  ``suggestion`` (data-driven, not the official circles);
* :func:`night_markets` — OSM marketplaces open at night or named 夜市 / night market, ``osm``;
  :func:`merge_planner_entries` adds a planner's markets as ``planner-supplied``.

:func:`night_hours_overlap` reads OSM ``opening_hours`` in its common forms; anything it cannot
read is *unknown* (None), never open.

Every layer is a GeoDataFrame in EPSG:4326 with the columns :data:`LAYER_COLUMNS`, then the
layer's documented extra columns, then ``geometry``, even when it is empty. For features computed
from an extract, ``checked`` is the date they were computed. Distances are metres, measured in the
UTM zone of the data (:class:`geo.crs.Projector`).
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from geo.crs import WGS84, Projector
from geo.errors import InputDataError
from layers.catalogue import FRAME_COLUMNS, frame_with_schema

log = logging.getLogger(__name__)

#: Columns of every layer here, before the extra columns and ``geometry``.
LAYER_COLUMNS: Final = FRAME_COLUMNS
#: Licence line of everything drawn from an OSM extract.
OSM_SOURCE: Final = "OpenStreetMap (ODbL)"
#: Night-economy hours (2019 guidance, sources.md §3).
NIGHT_START: Final = "19:00"
NIGHT_END: Final = "06:00"

# --- riverside belt ------------------------------------------------------------------------------

#: Names of the belt's rivers as OSM writes them (name, name:zh or name:en).
BELT_RIVERS: Final = ("黄浦江", "苏州河", "Huangpu River", "Suzhou Creek")
#: Default distance from the water drawn as the belt, each side (a planning assumption).
BELT_WIDTH_M: Final = 500.0
#: The central seven districts (中心城区 in the census sense), by adcode: 黄浦, 徐汇, 长宁,
#: 静安, 普陀, 虹口, 杨浦. Pudong's riverside is not among them.
CENTRAL_CITY_ADCODES: Final = ("310101", "310104", "310105", "310106", "310107", "310109", "310110")
#: Extra columns of the belt layer.
BELT_EXTRA: Final[Mapping[str, str]] = MappingProxyType(
    {
        "width_m": "float64",
        "rivers": "str",
        "n_features": "int64",
        "area_km2": "float64",
    }
)
NO_WATER_MESSAGE: Final = (
    "this extract has no Huangpu/Suzhou Creek water features; the riverside belt cannot be "
    "drawn — use an extract with water (e.g. a Geofabrik PBF)"
)
_NAME_FIELDS: Final = ("name", "name:zh", "name:en")
_QUAD_SEGS: Final = 16


@dataclass(frozen=True)
class BeltResult:
    """The riverside belt layer (one row, or empty) and a sentence saying what was drawn."""

    layer: gpd.GeoDataFrame
    message: str

    @property
    def drawn(self) -> bool:
        """Whether a belt was drawn."""
        return len(self.layer) > 0


def central_city(
    districts: gpd.GeoDataFrame, *, adcodes: Sequence[str] = CENTRAL_CITY_ADCODES
) -> BaseGeometry:
    """The union of the central seven districts, in EPSG:4326, to clip the belt to.

    Parameters
    ----------
    districts
        The district layer (:func:`layers.districts.load_districts`): ``adcode`` and polygons.
        Not modified.
    adcodes
        Which districts make the central city; default :data:`CENTRAL_CITY_ADCODES`. Note that
        the Pudong bank of the Huangpu (浦东新区, 310115) is not one of them: add ``"310115"``
        to keep it.

    Raises
    ------
    InputDataError
        ``districts`` has no ``adcode`` column or lacks one of ``adcodes``.
    """
    if "adcode" not in districts.columns:
        msg = "the district table has no 'adcode' column; pass layers.districts.load_districts()"
        raise InputDataError(msg)
    gdf = _as_wgs84(districts, what="districts")
    codes = gdf["adcode"].astype(str)
    missing = [a for a in adcodes if a not in set(codes)]
    if missing:
        msg = f"districts {', '.join(missing)} are missing from the district table"
        raise InputDataError(msg)
    return shapely.union_all(gdf.geometry.to_numpy()[codes.isin(list(adcodes)).to_numpy()])


def riverside_belt(
    water: gpd.GeoDataFrame,
    *,
    width_m: float = BELT_WIDTH_M,
    rivers: Sequence[str] = BELT_RIVERS,
    clip_to: BaseGeometry | None = None,
) -> BeltResult:
    """The riverside night-economy belt: the named rivers' water buffered by ``width_m``.

    Water features are selected when ``name``, ``name:zh`` or ``name:en`` (where present)
    equals one of ``rivers``: waterway lines (river, canal…) and water polygons alike. When the
    table has a ``water`` column (OSM ``water=*``), unnamed ``water=river`` polygons touching a
    selected feature are taken too (OSM often leaves the river-area pieces unnamed). The
    features are buffered by ``width_m`` in the UTM zone of their centre, merged, and clipped
    to ``clip_to``.

    Parameters
    ----------
    water
        :attr:`geo.osm.OsmExtract.water`: ``kind``, ``name`` and geometry, any CRS. Not
        modified.
    width_m
        Distance from the water (centre line of a waterway line, bank of a water polygon)
        drawn as the belt, each side, in metres.
    rivers
        Names to match exactly.
    clip_to
        A WGS84 (multi)polygon, e.g. :func:`central_city`; None keeps the whole buffer.

    Returns
    -------
    BeltResult
        ``layer``: one row (:data:`LAYER_COLUMNS` + :data:`BELT_EXTRA` + geometry), id
        ``riverside_belt``, status ``approximate``, geometry_method ``OSM water buffer {w} m``;
        or an empty layer with the same columns when the extract has no matching water (or
        nothing is left inside ``clip_to``). ``message`` says which, and how to fix it.

    Raises
    ------
    InputDataError
        ``width_m`` is not positive, or ``water`` has no CRS or no name column.
    """
    if not (math.isfinite(width_m) and width_m > 0):
        msg = f"belt width must be a positive number of metres, not {width_m!r}"
        raise InputDataError(msg)
    wanted = tuple(dict.fromkeys(str(r).strip() for r in rivers))
    if water.empty:
        log.warning("riverside belt: %s", NO_WATER_MESSAGE)
        return BeltResult(_empty_belt(), NO_WATER_MESSAGE)
    gdf = _as_wgs84(water, what="water")
    cols = [c for c in _NAME_FIELDS if c in gdf.columns]
    if not cols:
        msg = "the water table has no 'name' column; pass OsmExtract.water"
        raise InputDataError(msg)
    selected = _select_rivers(gdf, cols, wanted)
    if not selected.any():
        log.warning("riverside belt: %s", NO_WATER_MESSAGE)
        return BeltResult(_empty_belt(), NO_WATER_MESSAGE)
    geoms = gdf.geometry.to_numpy()[selected]
    projector = _projector_for(shapely.total_bounds(geoms))
    buffers = shapely.buffer(_to_metric(geoms, projector), width_m, quad_segs=_QUAD_SEGS)
    belt = shapely.union_all(buffers)
    if clip_to is not None:
        belt = _polygonal(shapely.intersection(belt, _to_metric(clip_to, projector)))
    if belt.is_empty or belt.area == 0:
        msg = "the riverside belt lies entirely outside the clip area; nothing is drawn"
        log.warning("riverside belt: %s", msg)
        return BeltResult(_empty_belt(), msg)
    found = _found_names(gdf[selected], cols, wanted)
    area_km2 = float(belt.area) / 1e6
    row = {
        "id": "riverside_belt",
        "name_zh": "滨江夜经济活力带",
        "name_en": "Riverside night-economy belt",
        "kind": "riverside_belt",
        "status": "approximate",
        "source": (
            "沪府发〔2021〕2号 §9 (滨江夜经济活力带, 1+12+X); extent: "
            f"{OSM_SOURCE} water of {', '.join(found)}"
        ),
        "checked": date.today().isoformat(),
        "geometry_method": f"OSM water buffer {width_m:g} m",
        "note": (
            "The plan names the belt, not its extent; the 2022–2025 guideline places it along "
            "the Huangpu River and Suzhou Creek, centred on their confluence (sources.md §3). "
            f"The {width_m:g} m distance from the water is a planning assumption."
            + (" Clipped to the given area." if clip_to is not None else "")
        ),
        "width_m": float(width_m),
        "rivers": ";".join(found),
        "n_features": int(selected.sum()),
        "area_km2": round(area_km2, 3),
    }
    layer = _layer([row], [_to_wgs84(belt, projector)], BELT_EXTRA)
    not_found = [r for r in wanted if r not in found]
    message = (
        f"riverside belt drawn from {int(selected.sum())} water feature(s) of "
        f"{', '.join(found)}: {area_km2:.2f} km², {width_m:g} m from the water"
    )
    if not_found:
        message += f" (not in this extract: {', '.join(not_found)})"
    log.info("riverside belt: %s", message)
    return BeltResult(layer, message)


def _select_rivers(
    gdf: gpd.GeoDataFrame, cols: Sequence[str], wanted: Sequence[str]
) -> NDArray[np.bool_]:
    """Boolean mask of the water features of the wanted rivers."""
    named = np.zeros(len(gdf), dtype=bool)
    for c in cols:
        named |= gdf[c].isin(list(wanted)).fillna(False).to_numpy(dtype=bool)
    if "water" in gdf.columns and named.any():
        geoms = gdf.geometry.to_numpy()
        polygon = np.isin(shapely.get_type_id(geoms), (3, 6))
        river_area = (gdf["water"] == "river").fillna(False).to_numpy(dtype=bool) & polygon
        candidates = np.flatnonzero(river_area & ~named)
        if len(candidates):
            touching = shapely.intersects(
                geoms[candidates][:, None], shapely.union_all(geoms[named])
            ).ravel()
            named[candidates[touching]] = True
    geoms_all = gdf.geometry.to_numpy()
    valid = ~(shapely.is_missing(geoms_all) | shapely.is_empty(geoms_all))
    return named & np.asarray(valid, dtype=bool)


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """The polygon parts of a (possibly mixed) geometry, merged."""
    parts = shapely.get_parts(shapely.make_valid(geom))
    polys = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
    return shapely.union_all(polys) if len(polys) else shapely.Polygon()


def _found_names(sel: gpd.GeoDataFrame, cols: Sequence[str], wanted: Sequence[str]) -> list[str]:
    values = {v for c in cols for v in sel[c].dropna().astype(str)}
    found = [r for r in wanted if r in values]
    return found or ["unnamed river area"]


def _empty_belt() -> gpd.GeoDataFrame:
    return _layer([], [], BELT_EXTRA)


# --- opening hours -------------------------------------------------------------------------------

_DAY: Final = 1440
_WEEK: Final = 7 * _DAY
_WEEKDAYS: Final = ("mo", "tu", "we", "th", "fr", "sa", "su")
_TOKEN_RE: Final = re.compile(
    r"""
    (?P<time>(?P<h1>\d{1,2})(?::(?P<m1>\d{2}))?\s*-\s*(?P<h2>\d{1,2})(?::(?P<m2>\d{2}))?
        (?P<plus>\+)?)
    |(?P<always>24/7)
    |(?P<days>(?P<d1>mo|tu|we|th|fr|sa|su)(?:\s*-\s*(?P<d2>mo|tu|we|th|fr|sa|su))?)(?![a-z])
    |(?P<hol>ph|sh)(?![a-z])
    |(?P<off>off|closed)(?![a-z])
    |(?P<comma>,)
    |(?P<space>\s+)
    """,
    re.VERBOSE | re.IGNORECASE,
)
_HHMM_RE: Final = re.compile(r"^(\d{1,2}):(\d{2})$")
_NORMALISE: Final = str.maketrans(
    {"：": ":", "－": "-", "–": "-", "—": "-", "~": "-", "～": "-", "〜": "-", "，": ",", "；": ";"}
)


class _UnparseableError(ValueError):
    """An opening_hours value outside the forms this reader understands."""


@dataclass
class _SubRule:
    """One selector + times part of a rule (private, built while parsing)."""

    days: set[int] = field(default_factory=set)
    holiday: bool = False
    times: list[tuple[int, int]] = field(default_factory=list)
    off: bool = False
    always: bool = False

    @property
    def has_times(self) -> bool:
        return bool(self.times) or self.off or self.always


def _parse_rule(text: str) -> list[_SubRule]:
    """Sub-rules of one ``;``-separated rule; a comma before a new weekday starts another."""
    subs = [_SubRule()]
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            raise _UnparseableError(text[pos:])
        pos = m.end()
        cur = subs[-1]
        if m["space"] or m["comma"]:
            continue
        if m["days"] or m["hol"]:
            if cur.has_times:
                cur = _SubRule()
                subs.append(cur)
            if m["hol"]:
                cur.holiday = True
            else:
                cur.days |= _day_range(m["d1"], m["d2"])
        elif m["always"]:
            cur.always = True
        elif m["off"]:
            cur.off = True
        else:
            if m["plus"]:
                raise _UnparseableError("open end")
            cur.times.append(_interval(m))
    for s in subs:
        if not s.has_times or (s.off and (s.times or s.always)):
            raise _UnparseableError(text)
    return subs


def _day_range(d1: str, d2: str | None) -> set[int]:
    a = _WEEKDAYS.index(d1.lower())
    b = _WEEKDAYS.index(d2.lower()) if d2 else a
    return {(a + k) % 7 for k in range((b - a) % 7 + 1)}


def _interval(m: re.Match[str]) -> tuple[int, int]:
    h1, m1, h2, m2 = (int(m[g] or 0) for g in ("h1", "m1", "h2", "m2"))
    if h1 > 24 or h2 > 48 or m1 > 59 or m2 > 59:
        raise _UnparseableError(m[0])
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start >= _DAY:
        raise _UnparseableError(m[0])
    if end <= start:  # past midnight, e.g. 18:00-03:00
        end += _DAY
    return start, min(end, start + _DAY)


def _schedule(text: str) -> list[list[tuple[int, int]]]:
    """Open intervals per weekday (0 = Monday), minutes from that day's midnight (may pass 1440).

    A ``;`` rule replaces the schedule of its weekdays; a ``,`` rule adds to it. Rules for
    public or school holidays only (``PH off``) say nothing about ordinary days and are skipped.
    """
    week: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    rules = [r.strip() for r in text.translate(_NORMALISE).replace("||", ";").split(";")]
    parsed = [_parse_rule(r) for r in rules if r]
    if not parsed:
        raise _UnparseableError(text)
    for subs in parsed:
        for k, s in enumerate(subs):
            if s.holiday and not s.days:
                continue
            days = s.days or set(range(7))
            times = [(0, _DAY)] if s.always else ([] if s.off else s.times)
            for d in days:
                if k == 0 or s.off:
                    week[d] = list(times)
                else:
                    week[d] = week[d] + times
    return week


@functools.lru_cache(maxsize=1024)
def _open_mask(text: str) -> NDArray[np.bool_] | None:
    """Minutes of the week (Monday 00:00 = 0) during which the place is open; None if unknown."""
    try:
        week = _schedule(text)
    except _UnparseableError:
        return None
    mask = np.zeros(_WEEK, dtype=bool)
    for d, intervals in enumerate(week):
        for s, e in intervals:
            _mark(mask, d * _DAY + s, d * _DAY + e)
    mask.setflags(write=False)
    return mask


def _mark(mask: NDArray[np.bool_], a: int, b: int) -> None:
    """Set minutes [a, b) of the circular week."""
    if b <= _WEEK:
        mask[a:b] = True
    else:
        mask[a:] = True
        mask[: b - _WEEK] = True


def _minutes_in_window(mask: NDArray[np.bool_], start: int, end: int) -> NDArray[np.int64]:
    """Open minutes within each day's window [start, end) (crossing midnight when end ≤ start)."""
    length = (end - start) % _DAY or _DAY
    per_day = np.roll(mask, -start).reshape(7, _DAY)[:, :length]
    return per_day.sum(axis=1).astype(np.int64)


def _minutes(hhmm: str, *, what: str) -> int:
    m = _HHMM_RE.match(str(hhmm).strip())
    if not m or int(m[1]) > 24 or int(m[2]) > 59 or int(m[1]) * 60 + int(m[2]) > _DAY:
        msg = f"{what} must be a time HH:MM between 00:00 and 24:00, not {hhmm!r}"
        raise InputDataError(msg)
    return (int(m[1]) * 60 + int(m[2])) % _DAY


def night_hours_overlap(
    opening_hours: str | None,
    *,
    start: str = NIGHT_START,
    end: str = NIGHT_END,
    min_minutes: int = 1,
) -> bool | None:
    """Whether an OSM ``opening_hours`` value is open at some time between ``start`` and ``end``.

    Understood forms: ``24/7``; ``HH:MM-HH:MM`` (several joined by commas; past midnight as
    ``18:00-03:00`` or ``18:00-27:00``; whole hours ``10-18`` too); weekday selectors
    ``Mo-Fr``, ``Sa,Su``, ``We-Mo`` before the times; rules joined by ``;`` (a later rule
    replaces the earlier one for its weekdays) or by ``,`` before a new weekday (it adds to it);
    ``off`` / ``closed``; public- or school-holiday rules (``PH off``), which are ignored;
    full-width ``：`` and ``～``. Every day of the week is tested, so a place open late on
    Fridays only counts. Time spilling past midnight belongs to the day it started on.

    Parameters
    ----------
    opening_hours
        The tag value; None, NaN or "" is unknown.
    start, end
        The window, ``HH:MM``; it crosses midnight when ``end`` ≤ ``start``. Default: the
        night-economy hours 19:00–06:00.
    min_minutes
        Open for at least this many minutes within one day's window (1: any overlap).

    Returns
    -------
    bool or None
        True if open during the window (for ``min_minutes``) on at least one day, False if
        never, None when the value is missing or not in a form understood here
        (``sunset-sunrise``, ``18:00+``, months, comments…) — unknown, never open.

    Raises
    ------
    InputDataError
        ``start`` or ``end`` is not a time ``HH:MM``, or ``min_minutes`` is not ≥ 1.
    """
    s, e = _minutes(start, what="start"), _minutes(end, what="end")
    if not (isinstance(min_minutes, int | np.integer) and min_minutes >= 1):
        msg = f"min_minutes must be a whole number ≥ 1, not {min_minutes!r}"
        raise InputDataError(msg)
    if not isinstance(opening_hours, str) or not opening_hours.strip():
        return None
    mask = _open_mask(opening_hours.strip())
    if mask is None:
        return None
    return bool(_minutes_in_window(mask, s, e).max() >= min_minutes)


# --- nightlife clusters --------------------------------------------------------------------------

#: amenity values counted as bars (drinking and entertainment venues).
BAR_AMENITIES: Final = frozenset({"bar", "pub", "nightclub", "biergarten", "karaoke_box"})
#: amenity values counted as food, when open late.
FOOD_AMENITIES: Final = frozenset({"restaurant", "fast_food", "cafe"})
#: Name fragments of karaoke venues (case-insensitive).
KARAOKE_NAMES: Final = ("KTV", "卡拉OK", "karaoke", "カラオケ")
#: Hull buffer of a cluster polygon, metres.
CLUSTER_BUFFER_M: Final = 50.0
#: Extra columns of :func:`nightlife_candidates`.
NIGHTLIFE_EXTRA: Final[Mapping[str, str]] = MappingProxyType(
    {
        "n_venues": "int64",
        "n_bars": "int64",
        "n_late_food": "int64",
        "examples": "str",
    }
)
_POI_NAME_FIELDS: Final = ("name", "name:zh", "name:en", "brand")
_KARAOKE_RE: Final = re.compile("|".join(re.escape(k) for k in KARAOKE_NAMES), re.IGNORECASE)


def night_venues(pois: gpd.GeoDataFrame, *, late_hour: int = 22) -> pd.DataFrame:
    """Which POIs are night venues: ``is_bar`` and ``is_late_food`` per row (same index).

    Bars are ``amenity`` in :data:`BAR_AMENITIES` or a name containing one of
    :data:`KARAOKE_NAMES`; late food is ``amenity`` in :data:`FOOD_AMENITIES` whose
    ``opening_hours`` are open at some time between ``late_hour``:00 and 06:00
    (:func:`night_hours_overlap`; unknown hours do not count). Missing columns count as empty.
    """
    _check_late_hour(late_hour)
    amenity = _column(pois, "amenity")
    names = _joined_names(pois)
    karaoke = names.str.contains(_KARAOKE_RE, regex=True).fillna(False).to_numpy(dtype=bool)
    is_bar = amenity.isin(list(BAR_AMENITIES)).to_numpy(dtype=bool) | karaoke
    food = amenity.isin(list(FOOD_AMENITIES)).to_numpy(dtype=bool) & ~is_bar
    hours = _column(pois, "opening_hours")
    late_start = f"{late_hour:02d}:00"
    late = np.array(
        [
            bool(f) and night_hours_overlap(h, start=late_start, end=NIGHT_END) is True
            for f, h in zip(food, hours, strict=True)
        ],
        dtype=bool,
    )
    return pd.DataFrame({"is_bar": is_bar, "is_late_food": late}, index=pois.index)


def _check_late_hour(late_hour: int) -> None:
    if not (isinstance(late_hour, int | np.integer) and 0 <= late_hour <= 23):
        msg = f"late_hour must be a whole hour 0–23, not {late_hour!r}"
        raise InputDataError(msg)


def nightlife_candidates(
    pois: gpd.GeoDataFrame, *, eps_m: float = 150.0, min_venues: int = 8, late_hour: int = 22
) -> gpd.GeoDataFrame:
    """Dense clusters of night venues: candidates for nightlife circles, labelled suggestions.

    Night venues are found by :func:`night_venues`. A venue with at least ``min_venues`` venues
    (itself included) within ``eps_m`` is a core venue; core venues within ``eps_m`` of each
    other form one cluster (connected components), and every other venue within ``eps_m`` of a
    core venue joins the cluster of its nearest core venue (DBSCAN). Clusters of at least
    ``min_venues`` venues are drawn as the convex hull of their venues buffered by
    :data:`CLUSTER_BUFFER_M`, computed in the UTM zone of the venues.

    Parameters
    ----------
    pois
        :attr:`geo.osm.OsmExtract.pois` (``amenity``, ``name``…, ``opening_hours``, points; any
        CRS). Not modified.
    eps_m
        Neighbourhood radius, metres.
    min_venues
        Venues within ``eps_m`` that make a core venue, and the smallest cluster kept.
    late_hour
        Food places open past this hour (and before 06:00) count as late-night food.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cluster, largest first: :data:`LAYER_COLUMNS` + :data:`NIGHTLIFE_EXTRA` +
        geometry (EPSG:4326). ``id`` ``nightlife_candidate_{k}``, ``name_zh`` "夜生活聚集候选区
        #k", ``name_en`` "Nightlife cluster candidate #k", ``kind`` ``nightlife_candidate``,
        ``status`` ``suggestion``; ``n_venues`` = ``n_bars`` + ``n_late_food``; ``examples``
        up to five venue names joined by "; ". Empty (same columns) when there is no cluster.

    Raises
    ------
    InputDataError
        A parameter is out of range or ``pois`` has no CRS.
    """
    if not (math.isfinite(eps_m) and eps_m > 0):
        msg = f"eps_m must be a positive number of metres, not {eps_m!r}"
        raise InputDataError(msg)
    if not (isinstance(min_venues, int | np.integer) and min_venues >= 1):
        msg = f"min_venues must be a whole number ≥ 1, not {min_venues!r}"
        raise InputDataError(msg)
    _check_late_hour(late_hour)
    if pois.empty:
        return _layer([], [], NIGHTLIFE_EXTRA)
    gdf = _as_wgs84(pois, what="POIs")
    kinds = night_venues(gdf, late_hour=late_hour)
    venue = (kinds["is_bar"] | kinds["is_late_food"]).to_numpy(dtype=bool, copy=True)
    pts = _points(gdf.geometry.to_numpy())
    venue &= ~(shapely.is_missing(pts) | shapely.is_empty(pts))
    idx = np.flatnonzero(venue)
    log.info("nightlife: %d night venue(s) among %d POIs", len(idx), len(gdf))
    if len(idx) < min_venues:
        return _layer([], [], NIGHTLIFE_EXTRA)
    projector = _projector_for(shapely.total_bounds(pts[idx]))
    x, y = projector.to_xy(shapely.get_x(pts[idx]), shapely.get_y(pts[idx]))
    xy = np.column_stack([x, y])
    labels = density_clusters(xy, eps=eps_m, min_points=min_venues)
    is_bar = kinds["is_bar"].to_numpy(dtype=bool)[idx]
    names = _display_names(gdf).to_numpy()[idx]
    clusters = [np.flatnonzero(labels == c) for c in range(labels.max(initial=-1) + 1)]
    clusters = [c for c in clusters if len(c) >= min_venues]
    clusters.sort(key=lambda c: (-len(c), int(c.min())))
    method = (
        f"density clusters of night venues (≥ {min_venues} within {eps_m:g} m), convex hull "
        f"+ {CLUSTER_BUFFER_M:g} m"
    )
    rows: list[dict[str, Any]] = []
    geoms: list[BaseGeometry] = []
    for k, members in enumerate(clusters, start=1):
        hull = shapely.convex_hull(shapely.multipoints(xy[members]))
        geoms.append(_to_wgs84(shapely.buffer(hull, CLUSTER_BUFFER_M, quad_segs=8), projector))
        bars = members[is_bar[members]]
        food = members[~is_bar[members]]
        examples = list(dict.fromkeys(n for n in names[np.concatenate([bars, food])] if n))[:5]
        rows.append(
            {
                "id": f"nightlife_candidate_{k}",
                "name_zh": f"夜生活聚集候选区 #{k}",
                "name_en": f"Nightlife cluster candidate #{k}",
                "kind": "nightlife_candidate",
                "status": "suggestion",
                "source": f"{OSM_SOURCE} POIs",
                "checked": date.today().isoformat(),
                "geometry_method": method,
                "note": (
                    "data-driven suggestion, not one of the official 12 都市夜生活活力圈; late "
                    f"food = restaurants, fast food and cafés open past {late_hour:02d}:00"
                ),
                "n_venues": len(members),
                "n_bars": len(bars),
                "n_late_food": len(food),
                "examples": "; ".join(examples),
            }
        )
    log.info("nightlife: %d candidate cluster(s)", len(rows))
    return _layer(rows, geoms, NIGHTLIFE_EXTRA)


def density_clusters(xy: NDArray[np.float64], *, eps: float, min_points: int) -> NDArray[np.int64]:
    """DBSCAN labels of metric points: cluster number from 0, or -1 for noise.

    A point with at least ``min_points`` points (itself included) within ``eps`` is a core
    point; core points within ``eps`` of each other share a cluster (connected components, in
    order of their first point); a non-core point within ``eps`` of a core point takes the
    cluster of the nearest one.
    """
    n = len(xy)
    labels = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return labels
    tree = cKDTree(xy)
    counts = np.asarray(tree.query_ball_point(xy, r=eps, return_length=True))
    core = counts >= min_points
    if not core.any():
        return labels
    pairs = tree.query_pairs(eps, output_type="ndarray")
    pairs = pairs[core[pairs[:, 0]] & core[pairs[:, 1]]]
    graph = sp.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    core_idx = np.flatnonzero(core)
    _, first = np.unique(comp[core_idx], return_index=True)
    order = {int(c): k for k, c in enumerate(comp[core_idx][np.sort(first)])}
    labels[core_idx] = [order[int(c)] for c in comp[core_idx]]
    border = np.flatnonzero(~core)
    if len(border):
        dist, nearest = cKDTree(xy[core_idx]).query(xy[border], distance_upper_bound=eps)
        near = np.isfinite(dist) & (dist <= eps)
        labels[border[near]] = labels[core_idx[nearest[near]]]
    return labels


# --- night markets -------------------------------------------------------------------------------

#: Minutes open within 19:00–06:00 that make a marketplace a night market (an assumption: a
#: market open until 21:00 qualifies, a market hall closing at 20:00 does not).
NIGHT_MARKET_MIN_MINUTES: Final = 120
#: Name fragments of night markets (case-insensitive).
NIGHT_MARKET_NAMES: Final = ("夜市", "night market")
#: Extra columns of :func:`night_markets`.
MARKET_EXTRA: Final[Mapping[str, str]] = MappingProxyType(
    {
        "osm_type": "str",
        "osm_id": "Int64",
        "amenity": "str",
        "opening_hours": "str",
        "match": "str",
    }
)
_MARKET_RE: Final = re.compile("|".join(re.escape(k) for k in NIGHT_MARKET_NAMES), re.IGNORECASE)


def night_markets(
    pois: gpd.GeoDataFrame, *, min_night_minutes: int = NIGHT_MARKET_MIN_MINUTES
) -> gpd.GeoDataFrame:
    """Night markets in an OSM extract.

    A POI is taken when it is an ``amenity=marketplace`` whose ``opening_hours`` reach at least
    ``min_night_minutes`` into the night-economy hours 19:00–06:00 on some day
    (:func:`night_hours_overlap`), or when one of its names contains 夜市 or "night market"
    (whatever its tags: check ``amenity``).

    Parameters
    ----------
    pois
        :attr:`geo.osm.OsmExtract.pois`, any CRS. Not modified.
    min_night_minutes
        Minutes open after 19:00 (or before 06:00) that make a marketplace a night market;
        the default :data:`NIGHT_MARKET_MIN_MINUTES` leaves out market halls closing at 20:00.
        1 takes any overlap.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`LAYER_COLUMNS` + :data:`MARKET_EXTRA` + geometry (the POI's point), EPSG:4326:
        ``id`` ``night_market_{osm_type}_{osm_id}``, ``kind`` ``night_market``, ``status``
        ``osm``, ``match`` ``opening_hours``, ``name`` or both. Empty when none is found.
    """
    if pois.empty:
        return _layer([], [], MARKET_EXTRA)
    gdf = _as_wgs84(pois, what="POIs")
    amenity = _column(gdf, "amenity")
    hours = _column(gdf, "opening_hours")
    by_hours = np.array(
        [
            a == "marketplace" and night_hours_overlap(h, min_minutes=min_night_minutes) is True
            for a, h in zip(amenity, hours, strict=True)
        ],
        dtype=bool,
    )
    by_name = _joined_names(gdf).str.contains(_MARKET_RE, regex=True).fillna(False)
    by_name_arr = by_name.to_numpy(dtype=bool)
    hit = np.flatnonzero(by_hours | by_name_arr)
    names = _display_names(gdf).to_numpy()
    osm_type = _column(gdf, "osm_type").to_numpy()
    osm_id = _column(gdf, "osm_id").to_numpy()
    pts = _points(gdf.geometry.to_numpy())
    rows: list[dict[str, Any]] = []
    for i in hit:
        match = "+".join(
            m for m, ok in (("opening_hours", by_hours[i]), ("name", by_name_arr[i])) if ok
        )
        ident = f"{osm_type[i]}_{osm_id[i]}" if osm_id[i] is not None else f"row_{i}"
        rows.append(
            {
                "id": f"night_market_{ident}",
                "name_zh": names[i] or "(unnamed marketplace)",
                "name_en": _first(gdf, int(i), ("name:en",)) or names[i] or "(unnamed marketplace)",
                "kind": "night_market",
                "status": "osm",
                "source": OSM_SOURCE,
                "checked": date.today().isoformat(),
                "geometry_method": "OSM POI point",
                "note": "found in OSM; not a confirmed signature night market (标志性夜市)",
                "osm_type": osm_type[i],
                "osm_id": None if osm_id[i] is None else int(osm_id[i]),
                "amenity": amenity.iloc[i],
                "opening_hours": hours.iloc[i],
                "match": match,
            }
        )
    log.info("night markets: %d found in %d POIs", len(rows), len(gdf))
    return _layer(rows, list(pts[hit]), MARKET_EXTRA)


def merge_planner_entries(
    layer: gpd.GeoDataFrame, planner_gdf: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Append a planner's entries to a night layer, as ``planner-supplied`` rows.

    Parameters
    ----------
    layer
        A layer from this module (e.g. :func:`night_markets`). Not modified.
    planner_gdf
        The planner's features with a CRS: ``name_zh`` (or ``name``) is required; ``id``,
        ``name_en``, ``kind``, ``source``, ``checked``, ``note`` and ``geometry_method`` are
        taken when present (defaults: ``planner_{k}``, ``name_zh``, the layer's kind or
        ``night_market``, ``planner``, today, ``planner-supplied geometry``, ""). Other columns
        are dropped (logged). An ``id`` equal to an existing row's replaces that row.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer's rows (minus replaced ones) then the planner's, same columns, EPSG:4326;
        planner rows have ``status`` ``planner-supplied`` and empty extra columns.

    Raises
    ------
    InputDataError
        ``planner_gdf`` has no CRS, no name column, empty geometries or duplicate ids.
    """
    extra = {c: str(layer[c].dtype) for c in layer.columns if c not in (*LAYER_COLUMNS, "geometry")}
    if planner_gdf.empty:
        return _layer(_records(layer), list(layer.geometry.to_numpy()), extra)
    planner = _as_wgs84(planner_gdf, what="planner entries")
    name_col = "name_zh" if "name_zh" in planner.columns else "name"
    if name_col not in planner.columns:
        msg = "planner entries need a 'name_zh' (or 'name') column"
        raise InputDataError(msg)
    geoms = planner.geometry.to_numpy()
    bad = np.flatnonzero(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if len(bad):
        msg = f"planner entries {', '.join(str(b) for b in bad)} have no geometry"
        raise InputDataError(msg)
    dropped = [
        c for c in planner.columns if c not in (*LAYER_COLUMNS, "name", planner.geometry.name)
    ]
    if dropped:
        log.info("planner entries: ignoring columns %s", ", ".join(map(str, dropped)))
    kind = str(layer["kind"].iloc[0]) if len(layer) else "night_market"
    new_rows = [_planner_row(planner, i, name_col, kind) for i in range(len(planner))]
    ids = [r["id"] for r in new_rows]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        msg = f"planner entries have duplicate ids: {', '.join(dup)}"
        raise InputDataError(msg)
    keep = ~layer["id"].isin(ids).to_numpy(dtype=bool)
    if not keep.all():
        log.info("planner entries replace %d row(s)", int((~keep).sum()))
    old = [r for r, k in zip(_records(layer), keep, strict=True) if k]
    all_geoms = list(layer.geometry.to_numpy()[keep]) + list(geoms)
    return _layer(old + new_rows, all_geoms, extra)


def _planner_row(planner: gpd.GeoDataFrame, i: int, name_col: str, kind: str) -> dict[str, Any]:
    def get(col: str, default: str) -> str:
        if col not in planner.columns:
            return default
        v = planner[col].iloc[i]
        return default if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)

    name_zh = get(name_col, "")
    if not name_zh:
        msg = f"planner entry {i} has no name"
        raise InputDataError(msg)
    return {
        "id": get("id", f"planner_{i + 1}"),
        "name_zh": name_zh,
        "name_en": get("name_en", name_zh),
        "kind": get("kind", kind),
        "status": "planner-supplied",
        "source": get("source", "planner"),
        "checked": get("checked", date.today().isoformat()),
        "geometry_method": get("geometry_method", "planner-supplied geometry"),
        "note": get("note", ""),
    }


# --- helpers -------------------------------------------------------------------------------------


def _layer(
    rows: Sequence[Mapping[str, Any]],
    geoms: Sequence[BaseGeometry],
    extra: Mapping[str, str],
) -> gpd.GeoDataFrame:
    """:data:`LAYER_COLUMNS` + ``extra`` (column → dtype) + geometry, EPSG:4326, even empty."""
    out = frame_with_schema(rows, geoms)
    for col, dtype in extra.items():
        out[col] = pd.Series([r.get(col) for r in rows], dtype=dtype)
    return out[[*LAYER_COLUMNS, *extra, "geometry"]]


def _records(layer: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    cols = [c for c in layer.columns if c != layer.geometry.name]
    return [
        {c: (None if pd.isna(v) else v) for c, v in zip(cols, vals, strict=True)}
        for vals in layer[cols].itertuples(index=False, name=None)
    ]


def _as_wgs84(gdf: gpd.GeoDataFrame, *, what: str) -> gpd.GeoDataFrame:
    """``gdf`` in EPSG:4326 (a new frame when it had another CRS)."""
    if gdf.crs is None:
        msg = f"the {what} table has no CRS; set it (OSM extracts are EPSG:4326)"
        raise InputDataError(msg)
    return gdf if gdf.crs.equals(WGS84) else gdf.to_crs(WGS84)


def _column(gdf: pd.DataFrame, col: str) -> pd.Series:
    """Column ``col`` as objects with None for missing values (all None when absent)."""
    if col not in gdf.columns:
        return pd.Series([None] * len(gdf), index=gdf.index, dtype=object)
    s = gdf[col].astype(object)
    return s.where(s.notna(), None)


def _joined_names(gdf: pd.DataFrame) -> pd.Series:
    parts = [_column(gdf, c).fillna("").astype(str) for c in _POI_NAME_FIELDS]
    joined = parts[0]
    for p in parts[1:]:
        joined = joined + " | " + p
    return joined


def _display_names(gdf: pd.DataFrame) -> pd.Series:
    """The first present of name, name:zh, name:en, brand; "" when none."""
    out = pd.Series([""] * len(gdf), index=gdf.index, dtype=object)
    for c in reversed(_POI_NAME_FIELDS):
        v = _column(gdf, c)
        out = v.where(v.notna() & (v.astype(str) != ""), out).astype(object)
    return out


def _first(gdf: pd.DataFrame, i: int, cols: Iterable[str]) -> str:
    for c in cols:
        v = _column(gdf, c).iloc[i]
        if v:
            return str(v)
    return ""


def _points(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Points as they are; other geometries by a point on their surface."""
    out = np.asarray(geoms, dtype=object).copy()
    present = ~(shapely.is_missing(out) | shapely.is_empty(out))
    not_point = present & (shapely.get_type_id(out) != 0)
    if not_point.any():
        out[not_point] = shapely.point_on_surface(out[not_point])
    return out


def _projector_for(bounds: NDArray[np.float64] | Sequence[float]) -> Projector:
    lon0, lat0, lon1, lat1 = (float(v) for v in bounds)
    if not np.isfinite([lon0, lat0, lon1, lat1]).all():
        msg = "cannot choose a metric CRS: the geometries are empty"
        raise InputDataError(msg)
    return Projector.for_lonlat((lon0 + lon1) / 2, (lat0 + lat1) / 2)


def _to_metric(geoms: Any, projector: Projector) -> Any:
    return shapely.transform(geoms, lambda xy: np.column_stack(projector.to_xy(xy[:, 0], xy[:, 1])))


def _to_wgs84(geoms: Any, projector: Projector) -> Any:
    return shapely.transform(
        geoms, lambda xy: np.column_stack(projector.to_lonlat(xy[:, 0], xy[:, 1]))
    )
