"""The planning place catalogue: 两街四圈, new towns, centres, night economy, themed streets.

The places live in a human-editable TOML file (``data/places.toml`` ships with shangquan);
planners add or replace entries with their own TOML or GeoJSON files. This module knows the file
format, not the places. :func:`load_catalogue` validates every file completely and reports every
problem at once in one :class:`~geo.errors.InputDataError` (file, entry and reason), like
:func:`geo.features.load_taxonomy`.

An entry's geometry is one of: anchor points (``anchor`` + ``anchors``, with their ``datum``,
converted to WGS84 here), OSM street names (``streets``, resolved later by
:func:`layers.places.resolve_streets`), a planner's GeoJSON file (``geometry_file``), or nothing
(``needs = "planner geometry"``: the place is listed, not mapped). Everything is WGS84 after
loading.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.errors
from numpy.typing import NDArray
from shapely.geometry import MultiPoint, Point, shape
from shapely.geometry.base import BaseGeometry

from geo.crs import WGS84
from geo.datum import parse_datum, to_wgs84
from geo.errors import InputDataError

log = logging.getLogger(__name__)

#: Kinds of place, in display order. world_street = 两街, world_district = 四圈.
KINDS: Final = (
    "world_street",
    "world_district",
    "new_town",
    "municipal_centre",
    "nightlife_circle",
    "night_market",
    "themed_street",
)
#: Status of an entry (see ../shared/docs/sources.md); shown next to every place.
STATUSES: Final = ("sourced", "secondary", "approximate", "unverified", "planner-supplied")
#: lon_min, lat_min, lon_max, lat_max: a point outside is almost surely in the wrong datum.
SHANGHAI_BBOX: Final = (120.8, 30.6, 122.2, 31.95)
#: Columns of :meth:`Catalogue.to_frame` (and of every planning layer), before ``geometry``.
FRAME_COLUMNS: Final = (
    "id",
    "name_zh",
    "name_en",
    "kind",
    "status",
    "source",
    "checked",
    "geometry_method",
    "note",
)
# Mirrors shangquan.paths.DATA_DIR: layers may not import shangquan (tests/test_architecture.py).
_DATA_DIR: Final = Path(
    os.environ.get("SHANGQUAN_DATA", Path(__file__).resolve().parents[1] / "data")
)
#: The shipped catalogue.
SHIPPED_PLACES: Final = _DATA_DIR / "places.toml"

_REQUIRED: Final = ("id", "name_zh", "name_en", "kind", "status", "source", "checked")
_OPTIONAL: Final = (
    "anchor",
    "anchors",
    "datum",
    "streets",
    "geometry_file",
    "radius_m",
    "life_circle_radius_m",
    "theme",
    "note",
    "needs",
)
_FIELDS: Final = frozenset(_REQUIRED + _OPTIONAL)
_ID_RE: Final = re.compile(r"^[a-z][a-z0-9_]*$")
_DATE_RE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TOML_SUFFIXES: Final = (".toml",)
_GEOJSON_SUFFIXES: Final = (".geojson", ".json")
_AREA_TYPES: Final = frozenset({"Polygon", "MultiPolygon"})
_LINE_TYPES: Final = frozenset({"LineString", "MultiLineString"})
_POINT_TYPES: Final = frozenset({"Point", "MultiPoint"})

LonLat = tuple[float, float]


@dataclass(frozen=True)
class Place:
    """One place of the catalogue, in WGS84.

    Attributes
    ----------
    id, name_zh, name_en, kind, status, source, checked
        As in the file; ``checked`` is a :class:`datetime.date`.
    anchors
        WGS84 (lon, lat) points, converted from ``datum``; empty when none were given.
    datum
        The datum the coordinates were given in ("wgs84", "gcj02" or "bd09").
    streets
        Street names to resolve from an OSM extract.
    geometry
        A planner's polygon or lines (from ``geometry_file`` or a GeoJSON feature), WGS84.
    geometry_file
        The file ``geometry`` was read from, as written in the entry.
    radius_m
        Extent radius around the anchors; None means the default of the kind.
    life_circle_radius_m
        (min, max) life-circle radius in metres (new towns).
    theme, note, needs
        Free text; ``needs`` says what an unmapped place is waiting for.
    origin
        The file the entry was read from.
    overridden_by
        For an entry replaced by a later file (:attr:`Catalogue.overridden`): that file.
    """

    id: str
    name_zh: str
    name_en: str
    kind: str
    status: str
    source: str
    checked: date
    anchors: tuple[LonLat, ...] = ()
    datum: str = "wgs84"
    streets: tuple[str, ...] = ()
    geometry: BaseGeometry | None = None
    geometry_file: str | None = None
    radius_m: float | None = None
    life_circle_radius_m: tuple[float, float] | None = None
    theme: str = ""
    note: str = ""
    needs: str = ""
    origin: str = ""
    overridden_by: str | None = None

    @property
    def mapped(self) -> bool:
        """Whether the place has any geometry (anchors, streets or a planner geometry)."""
        return bool(self.anchors or self.streets or self.geometry is not None)

    @property
    def geometry_method(self) -> str:
        """How the entry gives its geometry, for a human."""
        if self.geometry is not None:
            src = f"planner file {self.geometry_file}" if self.geometry_file else "GeoJSON feature"
            return f"{src} ({self.geometry.geom_type})"
        parts = []
        if self.streets:
            parts.append("OSM streets " + ", ".join(self.streets))
        if self.anchors:
            n = len(self.anchors)
            conv = "WGS84" if self.datum == "wgs84" else f"{self.datum} → WGS84"
            parts.append(f"{n} anchor point{'s' if n > 1 else ''} ({conv})")
        if parts:
            return "; ".join(parts)
        return f"not mapped (needs {self.needs or 'geometry'})"

    def anchor_geometry(self) -> Point | MultiPoint | None:
        """The anchors as a Point (one) or MultiPoint (several); None without anchors."""
        if not self.anchors:
            return None
        if len(self.anchors) == 1:
            return Point(self.anchors[0])
        return MultiPoint(list(self.anchors))


@dataclass(frozen=True)
class Catalogue:
    """The places in effect after all files were applied, in file order.

    Attributes
    ----------
    places
        Effective entries: shipped ones, replaced in place by planner entries of the same id,
        then new planner entries.
    overridden
        Entries replaced by a later file, each with ``overridden_by`` set.
    files
        The files read, in order.
    """

    places: tuple[Place, ...]
    overridden: tuple[Place, ...] = ()
    files: tuple[str, ...] = ()

    @property
    def ids(self) -> tuple[str, ...]:
        """Place ids in order."""
        return tuple(p.id for p in self.places)

    def get(self, place_id: str) -> Place:
        """The place ``place_id``; raise InputDataError when there is none."""
        for p in self.places:
            if p.id == place_id:
                return p
        msg = f"unknown place id {place_id!r}; see docs/layers.md for the catalogue"
        raise InputDataError(msg)

    def by_kind(self, kind: str) -> tuple[Place, ...]:
        """The places of one kind (one of :data:`KINDS`), in order."""
        if kind not in KINDS:
            msg = f"unknown place kind {kind!r} (use one of {', '.join(KINDS)})"
            raise InputDataError(msg)
        return tuple(p for p in self.places if p.kind == kind)

    def unmapped(self) -> tuple[Place, ...]:
        """Places listed without any geometry ("listed, not mapped")."""
        return tuple(p for p in self.places if not p.mapped)

    def to_frame(self) -> gpd.GeoDataFrame:
        """One row per place with :data:`FRAME_COLUMNS` and ``geometry`` (EPSG:4326).

        The geometry is the planner's polygon or lines, else the anchors (Point or MultiPoint),
        else empty (None): street-only and unmapped places. ``checked`` is an ISO date string.
        """
        rows = [
            {
                "id": p.id,
                "name_zh": p.name_zh,
                "name_en": p.name_en,
                "kind": p.kind,
                "status": p.status,
                "source": p.source,
                "checked": p.checked.isoformat(),
                "geometry_method": p.geometry_method,
                "note": p.note,
            }
            for p in self.places
        ]
        geoms = [p.geometry if p.geometry is not None else p.anchor_geometry() for p in self.places]
        return frame_with_schema(rows, geoms)


def frame_with_schema(
    rows: Sequence[Mapping[str, str]], geoms: Sequence[BaseGeometry | None]
) -> gpd.GeoDataFrame:
    """A GeoDataFrame with exactly :data:`FRAME_COLUMNS` + ``geometry`` (EPSG:4326), even empty."""
    columns = {c: pd.Series([r[c] for r in rows], dtype="str") for c in FRAME_COLUMNS}
    return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries(list(geoms), crs=WGS84), crs=WGS84)


def load_catalogue(
    paths: Sequence[Path] | None = None, *, shipped: Path | None = SHIPPED_PLACES
) -> Catalogue:
    """Load the shipped catalogue, then planner files in order.

    Parameters
    ----------
    paths
        Planner files: TOML in the shipped format (``[[place]]`` entries) or GeoJSON
        FeatureCollections whose feature properties carry the same fields (the geometry then
        comes from the feature). A later entry with an existing ``id`` replaces it; a new ``id``
        extends the catalogue.
    shipped
        The shipped catalogue (default ``data/places.toml``); None to read only ``paths``.

    Returns
    -------
    Catalogue

    Raises
    ------
    InputDataError
        Any file is missing, unreadable or has problems; the message lists every problem of
        every file as ``file: entry: reason``.
    """
    files = [Path(p) for p in ([shipped] if shipped is not None else []) + list(paths or [])]
    problems: list[str] = []
    per_file = [(str(f), _read_places(f, problems)) for f in files]
    if problems:
        listing = "\n  ".join(problems)
        msg = f"{len(problems)} problem(s) in the place catalogue:\n  {listing}"
        raise InputDataError(msg)
    cat = _merge(per_file)
    _log_summary(cat)
    return cat


def _merge(per_file: Iterable[tuple[str, list[Place]]]) -> Catalogue:
    """Apply the files in order: same id replaces (position kept), new id extends."""
    effective: dict[str, Place] = {}
    overridden: list[Place] = []
    files: list[str] = []
    for origin, places in per_file:
        files.append(origin)
        for p in places:
            if p.id in effective:
                overridden.append(replace(effective[p.id], overridden_by=origin))
            effective[p.id] = p
    return Catalogue(tuple(effective.values()), tuple(overridden), tuple(files))


def _log_summary(cat: Catalogue) -> None:
    counts = Counter(p.kind for p in cat.places)
    log.info(
        "place catalogue: %d places (%s) from %d file(s)",
        len(cat.places),
        ", ".join(f"{k} {counts[k]}" for k in KINDS if counts[k]),
        len(cat.files),
    )
    for p in cat.overridden:
        log.info("place %s from %s replaced by %s", p.id, p.origin, p.overridden_by)
    unmapped = cat.unmapped()
    if unmapped:
        log.info(
            "%d place(s) listed, not mapped: %s", len(unmapped), ", ".join(p.id for p in unmapped)
        )


# --- reading files ------------------------------------------------------------------------------


def _read_places(path: Path, problems: list[str]) -> list[Place]:
    """All valid entries of one file; problems of the file are appended to ``problems``."""
    name = path.name.lower()
    if name.endswith(_TOML_SUFFIXES):
        raw = _toml_entries(path, problems)
    elif name.endswith(_GEOJSON_SUFFIXES):
        raw = _geojson_entries(path, problems)
    else:
        problems.append(f"{path}: not a place file (use .toml or .geojson)")
        return []
    places: list[Place] = []
    for where, entry, feature_geom in raw:
        where_id = _where(where, entry)
        before = len(problems)
        p = _place(entry, feature_geom, path=path, problems=problems, where=where_id)
        if p is not None and len(problems) == before:
            places.append(p)
    _check_duplicates(path, raw, problems)
    return places


def _where(where: str, entry: Mapping[str, Any]) -> str:
    pid = entry.get("id")
    return f"{where} id={pid!r}" if isinstance(pid, str) and pid else where


def _check_duplicates(
    path: Path, raw: Sequence[tuple[str, Mapping[str, Any], Any]], problems: list[str]
) -> None:
    ids = [e.get("id") for _, e, _ in raw]
    counts = Counter(i for i in ids if isinstance(i, str) and i)
    for pid, n in counts.items():
        if n > 1:
            wheres = ", ".join(w for w, e, _ in raw if e.get("id") == pid)
            problems.append(f"{path}: id={pid!r}: duplicate id ({n} entries: {wheres})")


RawEntry = tuple[str, Mapping[str, Any], BaseGeometry | None]

#: Everything shapely's ``shape()`` raises for malformed GeoJSON geometry (bad types, a
#: one-point LineString, nested garbage) — a problem to report, never a crash.
_GEOMETRY_ERRORS = (
    ValueError,
    TypeError,
    AttributeError,
    KeyError,
    IndexError,
    RecursionError,
    shapely.errors.ShapelyError,
)


def _short(exc: BaseException, limit: int = 200) -> str:
    """An exception's message cut to ``limit`` characters (fuzzed inputs can be huge)."""
    text = str(exc) or exc.__class__.__name__
    return text if len(text) <= limit else text[:limit] + "…"


def _toml_entries(path: Path, problems: list[str]) -> list[RawEntry]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"{path}: place file not found")
        return []
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError, ValueError) as exc:
        problems.append(f"{path}: not a valid UTF-8 TOML file ({_short(exc)})")
        return []
    for key in sorted(set(data) - {"place"}):
        problems.append(f"{path}: unknown top-level key {key!r} (entries are [[place]] tables)")
    raw = data.get("place", [])
    if not isinstance(raw, list):
        problems.append(f"{path}: 'place' must be an array of tables ([[place]])")
        return []
    out: list[RawEntry] = []
    for i, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict):
            problems.append(f"{path}: place #{i}: must be a table")
            continue
        out.append((f"place #{i}", entry, None))
    return out


def _geojson_entries(path: Path, problems: list[str]) -> list[RawEntry]:
    data = _read_json(path, problems)
    if data is None:
        return []
    if data.get("type") != "FeatureCollection" or not isinstance(data.get("features"), list):
        problems.append(f"{path}: a planner GeoJSON must be a FeatureCollection")
        return []
    out: list[RawEntry] = []
    for i, feat in enumerate(data["features"], start=1):
        where = f"feature #{i}"
        props = feat.get("properties") if isinstance(feat, dict) else None
        if not isinstance(props, dict):
            problems.append(f"{path}: {where}: a feature with a 'properties' object is needed")
            continue
        geom = None
        if feat.get("geometry") is not None:
            try:
                geom = shape(feat["geometry"])
            except _GEOMETRY_ERRORS as exc:
                problems.append(
                    f"{path}: {_where(where, props)}: unreadable geometry ({_short(exc)})"
                )
                continue
        out.append((where, props, geom))
    return out


def _read_json(path: Path, problems: list[str]) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"{path}: file not found")
        return None
    except (UnicodeDecodeError, RecursionError, ValueError) as exc:  # JSONDecodeError too
        problems.append(f"{path}: not a valid UTF-8 GeoJSON file ({_short(exc)})")
        return None
    if not isinstance(data, dict):
        problems.append(f"{path}: not a GeoJSON object")
        return None
    return data


# --- one entry ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ctx:
    """Where an entry is, for its problem messages."""

    path: Path
    where: str
    problems: list[str]

    def add(self, reason: str) -> None:
        self.problems.append(f"{self.path}: {self.where}: {reason}")


def _place(
    entry: Mapping[str, Any],
    feature_geom: BaseGeometry | None,
    *,
    path: Path,
    problems: list[str],
    where: str,
) -> Place | None:
    """Validate one entry; append every problem; return the place when it has none."""
    ctx = _Ctx(path, where, problems)
    before = len(problems)
    for key in sorted(set(entry) - _FIELDS):
        ctx.add(f"unknown field {key!r} (known: {', '.join(sorted(_FIELDS))})")
    text = _required_text(entry, ctx)
    checked = _checked(entry.get("checked"), ctx)
    datum = _datum(entry, has_feature=feature_geom is not None, ctx=ctx)
    anchors, geometry = _geometry(entry, feature_geom, datum=datum, ctx=ctx)
    streets = _streets(entry.get("streets"), ctx)
    given = {"anchor", "anchors", "streets", "geometry_file", "needs"} & set(entry)
    if not given and feature_geom is None:
        ctx.add(
            "no geometry: give anchor (+ datum), streets or geometry_file, or mark the place "
            'as listed, not mapped with needs = "planner geometry"'
        )
    radius = _positive(entry.get("radius_m"), "radius_m", ctx)
    life = _life_circle(entry.get("life_circle_radius_m"), ctx)
    extra = {k: _text(entry.get(k), k, ctx) for k in ("theme", "note", "needs")}
    if len(problems) > before or checked is None:
        return None
    return Place(
        id=text["id"],
        name_zh=text["name_zh"],
        name_en=text["name_en"],
        kind=text["kind"],
        status=text["status"],
        source=text["source"],
        checked=checked,
        anchors=anchors,
        datum=datum or "wgs84",
        streets=streets,
        geometry=geometry,
        geometry_file=entry.get("geometry_file"),
        radius_m=radius,
        life_circle_radius_m=life,
        theme=extra["theme"],
        note=extra["note"],
        needs=extra["needs"],
        origin=str(path),
    )


def _required_text(entry: Mapping[str, Any], ctx: _Ctx) -> dict[str, str]:
    out: dict[str, str] = {}
    for key in ("id", "name_zh", "name_en", "kind", "status", "source"):
        val = entry.get(key)
        if not isinstance(val, str) or not val.strip():
            ctx.add(f"missing field {key!r}")
            continue
        out[key] = _squash(val)
    pid, kind, status = out.get("id"), out.get("kind"), out.get("status")
    if pid is not None and not _ID_RE.match(pid):
        ctx.add(f"id {pid!r} must be lower_snake_case ASCII")
    if kind is not None and kind not in KINDS:
        ctx.add(f"unknown kind {kind!r} (use one of {', '.join(KINDS)})")
    if status is not None and status not in STATUSES:
        ctx.add(f"unknown status {status!r} (use one of {', '.join(STATUSES)})")
    return out


def _text(val: Any, key: str, ctx: _Ctx) -> str:
    if val is None:
        return ""
    if not isinstance(val, str):
        ctx.add(f"{key} must be text")
        return ""
    return _squash(val)


def _squash(text: str) -> str:
    """Text on one line: TOML multi-line strings are wrapped for editing, not for display."""
    return " ".join(text.split())


def _checked(val: Any, ctx: _Ctx) -> date | None:
    if val is None:
        ctx.add("missing field 'checked' (the date the entry was checked, YYYY-MM-DD)")
        return None
    if isinstance(val, date) and not isinstance(val, datetime):
        return val
    if isinstance(val, str) and _DATE_RE.match(val.strip()):
        try:
            return date.fromisoformat(val.strip())
        except ValueError:
            pass
    ctx.add(f'bad date checked={val!r} (use YYYY-MM-DD, e.g. "2026-11-24")')
    return None


def _datum(entry: Mapping[str, Any], *, has_feature: bool, ctx: _Ctx) -> str | None:
    """The entry's datum; required with anchors in TOML, WGS84 by default for GeoJSON."""
    raw = entry.get("datum")
    if raw is None:
        if "anchor" in entry and not has_feature:
            ctx.add("missing field 'datum' for the anchor (wgs84, gcj02 or bd09)")
            return None
        return "wgs84"
    if not isinstance(raw, str):
        ctx.add(f"unknown datum {raw!r} (use wgs84, gcj02 or bd09)")
        return None
    try:
        return parse_datum(raw)
    except InputDataError:
        ctx.add(f"unknown datum {raw!r} (use wgs84, gcj02 or bd09)")
        return None


def _streets(val: Any, ctx: _Ctx) -> tuple[str, ...]:
    if val is None:
        return ()
    if not isinstance(val, list) or not val or not all(isinstance(s, str) and s for s in val):
        ctx.add("streets must be a non-empty list of street names")
        return ()
    return tuple(s.strip() for s in val)


def _positive(val: Any, key: str, ctx: _Ctx) -> float | None:
    if val is None:
        return None
    if not _is_number(val) or not val > 0:
        ctx.add(f"{key} must be a positive number of metres, not {val!r}")
        return None
    return float(val)


def _life_circle(val: Any, ctx: _Ctx) -> tuple[float, float] | None:
    if val is None:
        return None
    ok = isinstance(val, list) and len(val) == 2 and all(_is_number(v) and v > 0 for v in val)
    if not ok or val[0] > val[1]:
        ctx.add(f"life_circle_radius_m must be [min, max] metres, e.g. [800, 1500], not {val!r}")
        return None
    return float(val[0]), float(val[1])


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


# --- geometry -----------------------------------------------------------------------------------


def _geometry(
    entry: Mapping[str, Any],
    feature_geom: BaseGeometry | None,
    *,
    datum: str | None,
    ctx: _Ctx,
) -> tuple[tuple[LonLat, ...], BaseGeometry | None]:
    """Anchors (WGS84) and planner geometry of an entry; problems go to ``ctx``."""
    has_anchor = "anchor" in entry or "anchors" in entry
    sources = [has_anchor, "geometry_file" in entry, feature_geom is not None]
    if sum(sources) > 1:
        ctx.add("give only one of anchor, geometry_file or a feature geometry")
        return (), None
    if "anchors" in entry and "anchor" not in entry:
        ctx.add("'anchors' adds points to 'anchor': give 'anchor' first")
        return (), None
    if datum is None:
        return (), None
    if has_anchor:
        return _anchors(entry, datum, ctx), None
    if feature_geom is not None:
        return _from_feature(feature_geom, datum, ctx)
    if "geometry_file" in entry:
        return (), _geometry_file(entry["geometry_file"], datum, ctx)
    return (), None


def _anchors(entry: Mapping[str, Any], datum: str, ctx: _Ctx) -> tuple[LonLat, ...]:
    pairs: list[tuple[str, Any]] = [("anchor", entry["anchor"])]
    more = entry.get("anchors", [])
    if not isinstance(more, list):
        ctx.add("anchors must be a list of [lon, lat] pairs")
        more = []
    pairs += [(f"anchors[{i}]", v) for i, v in enumerate(more)]
    good: list[tuple[str, float, float]] = []
    for label, val in pairs:
        if not (isinstance(val, list) and len(val) == 2 and all(_is_number(v) for v in val)):
            ctx.add(f"{label} {val!r} is not [lon, lat] (two numbers)")
            continue
        good.append((label, float(val[0]), float(val[1])))
    if len(good) < len(pairs):
        return ()
    conv = to_wgs84([g[1] for g in good], [g[2] for g in good], parse_datum(datum))
    out = []
    for (label, lon, lat), wlon, wlat in zip(good, conv.lon, conv.lat, strict=True):
        if not _in_shanghai(float(wlon), float(wlat)):
            ctx.add(_outside_msg(f"{label} [{lon}, {lat}] ({datum})"))
        out.append((float(wlon), float(wlat)))
    return tuple(out)


def _outside_msg(what: str) -> str:
    lon0, lat0, lon1, lat1 = SHANGHAI_BBOX
    return (
        f"{what} is outside Shanghai ({lon0}–{lon1} E, {lat0}–{lat1} N) — wrong datum? "
        "or lon/lat swapped? (write [lon, lat])"
    )


def _in_shanghai(lon: float, lat: float) -> bool:
    lon0, lat0, lon1, lat1 = SHANGHAI_BBOX
    return lon0 <= lon <= lon1 and lat0 <= lat <= lat1


def _from_feature(
    geom: BaseGeometry, datum: str, ctx: _Ctx
) -> tuple[tuple[LonLat, ...], BaseGeometry | None]:
    """A GeoJSON feature's geometry: points become anchors, polygons and lines the geometry."""
    checked = _checked_geometry(geom, datum, ctx, what="feature geometry", allow_points=True)
    if checked is None:
        return (), None
    if checked.geom_type in _POINT_TYPES:
        pts = shapely.get_coordinates(checked)
        return tuple((float(x), float(y)) for x, y in pts), None
    return (), checked


def _geometry_file(val: Any, datum: str, ctx: _Ctx) -> BaseGeometry | None:
    if not isinstance(val, str) or not val:
        ctx.add("geometry_file must be a path relative to the place file")
        return None
    path = ctx.path.parent / val
    if not path.is_file():
        ctx.add(f"geometry_file {val!r} is missing (looked for {path})")
        return None
    sub: list[str] = []
    data = _read_json(path, sub)
    if data is None:
        for s in sub:
            ctx.add(f"geometry_file {s}")
        return None
    geoms = _geojson_geometries(data)
    if geoms is None:
        ctx.add(f"geometry_file {val!r}: no readable GeoJSON geometry")
        return None
    combined = _combine(geoms)
    if combined is None:
        ctx.add(f"geometry_file {val!r}: mixes polygons, lines or points; give one type")
        return None
    return _checked_geometry(combined, datum, ctx, what=f"geometry_file {val!r}")


def _geojson_geometries(data: Mapping[str, Any]) -> list[BaseGeometry] | None:
    """Geometries of a FeatureCollection, Feature or bare geometry; None when unreadable."""
    kind = data.get("type")
    if kind == "FeatureCollection":
        raws = [f.get("geometry") for f in data.get("features", []) if isinstance(f, dict)]
    elif kind == "Feature":
        raws = [data.get("geometry")]
    else:
        raws = [data]
    try:
        geoms = [shape(g) for g in raws if g is not None]
    except _GEOMETRY_ERRORS:
        return None
    return geoms or None


def _combine(geoms: list[BaseGeometry]) -> BaseGeometry | None:
    """One geometry of one family (polygons or lines); None when families are mixed."""
    if len(geoms) == 1:
        return geoms[0]
    types = {g.geom_type for g in geoms}
    if types <= _AREA_TYPES:
        polys = [p for g in geoms for p in getattr(g, "geoms", [g])]
        return shapely.MultiPolygon(polys)
    if types <= _LINE_TYPES:
        lines = [ln for g in geoms for ln in getattr(g, "geoms", [g])]
        return shapely.MultiLineString(lines)
    return None


def _checked_geometry(
    geom: BaseGeometry, datum: str, ctx: _Ctx, *, what: str, allow_points: bool = False
) -> BaseGeometry | None:
    """Validate type, validity and position; convert to WGS84."""
    allowed = _AREA_TYPES | _LINE_TYPES | (_POINT_TYPES if allow_points else frozenset())
    if geom.geom_type not in allowed:
        hint = "" if allow_points else " (for points use anchor)"
        ctx.add(f"{what}: {geom.geom_type} is not supported{hint}")
        return None
    if geom.is_empty:
        ctx.add(f"{what}: empty geometry")
        return None
    if not shapely.is_valid(geom):
        ctx.add(f"{what}: invalid geometry ({shapely.is_valid_reason(geom)})")
        return None
    wgs = _to_wgs84_geometry(geom, datum)
    lon0, lat0, lon1, lat1 = wgs.bounds
    if not (_in_shanghai(lon0, lat0) and _in_shanghai(lon1, lat1)):
        ctx.add(_outside_msg(f"{what} (bounds {lon0:.4f}, {lat0:.4f}, {lon1:.4f}, {lat1:.4f})"))
        return None
    return wgs


def _to_wgs84_geometry(geom: BaseGeometry, datum: str) -> BaseGeometry:
    if datum == "wgs84":
        return geom

    def convert(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        c = to_wgs84(xy[:, 0], xy[:, 1], parse_datum(datum))
        return np.column_stack([c.lon, c.lat])

    fn: Callable[[NDArray[np.float64]], NDArray[np.float64]] = convert
    return shapely.transform(geom, fn)
