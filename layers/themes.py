"""Street themes: what the shops along a street sell, and data-driven 一街一主题 suggestions.

The plan (沪府发〔2021〕2号 §9) calls for 20 themed commercial streets (一街一主题); their list
was not found (sources.md §3). This module groups POIs into themes (food, fashion, culture,
nightlife, daily needs — ``data/themes.toml``, a planning assumption), profiles a street by the
themes of the POIs within a distance of its lines, and lists streets dominated by one theme as
*suggestions*, never as official themed streets.

Theme rules use the tag-rule syntax of the POI taxonomy (:class:`geo.features.TagRule`). A POI
takes the first theme (in file order) whose rule matches; POIs of no theme are counted in
``n_pois`` but not in the shares. Distances are measured in the UTM zone of the streets.

The suggestion layer is a GeoDataFrame in EPSG:4326 with the columns :data:`LAYER_COLUMNS`, then
:data:`THEMED_EXTRA`, then ``geometry``, even when it is empty; ``checked`` is the date it was
computed.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geo.crs import WGS84, Projector
from geo.errors import InputDataError
from geo.features import STATUSES, TagRule
from geo.tomlfile import raise_problems, read_toml
from layers.catalogue import FRAME_COLUMNS, frame_with_schema
from layers.data_dir import DATA_DIR

log = logging.getLogger(__name__)

#: The shipped theme file.
DEFAULT_THEMES: Final = DATA_DIR / "themes.toml"
#: Columns of every layer here, before the extra columns and ``geometry``.
LAYER_COLUMNS: Final = FRAME_COLUMNS
#: Extra columns of :func:`suggest_themed_streets`.
THEMED_EXTRA: Final[Mapping[str, str]] = MappingProxyType(
    {
        "theme": "str",
        "theme_name_zh": "str",
        "theme_name_en": "str",
        "theme_share": "float64",
        "n_themed": "int64",
        "n_pois": "int64",
        "theme_counts": "str",
    }
)
SUGGESTION_NOTE: Final = "data-driven suggestion, not an official 一街一主题 street"
OSM_SOURCE: Final = "OpenStreetMap (ODbL)"

_THEME_FIELDS: Final = frozenset({"name_zh", "name_en", "status", "note", "tags"})
_REQUIRED: Final = ("name_zh", "name_en", "status")
_ID_RE: Final = re.compile(r"^[a-z][a-z0-9_]*$")
_STREET_NAME_FIELDS: Final = ("name", "name:zh", "name:en")


@dataclass(frozen=True)
class Theme:
    """One street theme and the tag rules of its POIs."""

    id: str
    name_zh: str
    name_en: str
    status: str
    note: str
    rules: tuple[TagRule, ...]

    def matches(self, tags: Mapping[str, Any]) -> bool:
        """Whether any rule matches ``tags``."""
        return any(r.matches(tags) for r in self.rules)


@dataclass(frozen=True)
class Themes:
    """The themes, in file order (the first matching theme wins)."""

    themes: tuple[Theme, ...]
    source: str

    @property
    def ids(self) -> tuple[str, ...]:
        """Theme ids in file order."""
        return tuple(t.id for t in self.themes)

    def theme(self, theme_id: str) -> Theme:
        """The theme ``theme_id``; raise InputDataError naming the known ids."""
        for t in self.themes:
            if t.id == theme_id:
                return t
        msg = f"unknown theme {theme_id!r}; known: {', '.join(self.ids)}"
        raise InputDataError(msg)

    def theme_of(self, tags: Mapping[str, Any]) -> str | None:
        """Id of the first theme matching ``tags``, or None."""
        for t in self.themes:
            if t.matches(tags):
                return t.id
        return None


def load_themes(path: str | Path | None = None) -> Themes:
    """Load and validate a theme file, reporting every problem at once.

    Parameters
    ----------
    path
        A TOML file of ``[theme.<id>]`` tables with ``name_zh``, ``name_en``, ``status``,
        ``tags`` (tag rules) and an optional ``note``. Default :data:`DEFAULT_THEMES`.

    Raises
    ------
    InputDataError
        The file is missing, not TOML, or has problems; the message lists each as
        ``entry: reason``.
    """
    p = Path(path) if path is not None else DEFAULT_THEMES
    data = read_toml(p, what="theme")
    problems: list[str] = []
    raw = data.get("theme")
    themes: list[Theme] = []
    if not isinstance(raw, dict) or not raw:
        problems.append("[theme.*]: no themes defined")
    else:
        themes = [t for tid, entry in raw.items() if (t := _theme(tid, entry, problems))]
    raise_problems(p, problems, title="the theme file")
    return Themes(tuple(themes), str(p))


def _theme(tid: str, raw: Any, problems: list[str]) -> Theme | None:
    where = f"theme.{tid}"
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a table")
        return None
    n_before = len(problems)
    if not _ID_RE.match(tid):
        problems.append(f"{where}: id must be lower_snake_case ASCII")
    for key in sorted(set(raw) - _THEME_FIELDS):
        problems.append(
            f"{where}: unknown field {key!r} (known: {', '.join(sorted(_THEME_FIELDS))})"
        )
    for key in _REQUIRED:
        if not isinstance(raw.get(key), str) or not raw.get(key):
            problems.append(f"{where}: missing field {key!r}")
    status = raw.get("status")
    if isinstance(status, str) and status and status not in STATUSES:
        problems.append(
            f"{where}: unknown status {status!r} (use one of {', '.join(sorted(STATUSES))})"
        )
    tags = raw.get("tags")
    rules: list[TagRule] = []
    if not isinstance(tags, list) or not tags or not all(isinstance(t, str) for t in tags):
        problems.append(f"{where}.tags: must be a non-empty list of tag rules (strings)")
    else:
        for t in tags:
            try:
                rules.append(TagRule.parse(t))
            except ValueError as exc:
                problems.append(f"{where}.tags: {exc}")
    if len(problems) > n_before:
        return None
    return Theme(
        id=tid,
        name_zh=raw["name_zh"],
        name_en=raw["name_en"],
        status=raw["status"],
        note=str(raw.get("note", "")).strip(),
        rules=tuple(rules),
    )


def poi_themes(pois: pd.DataFrame, themes: Themes | None = None) -> pd.Series:
    """The theme id of each POI (None when unthemed), indexed like ``pois``.

    Tags come from the ``tags`` column (a dict per row, as :attr:`geo.osm.OsmExtract.pois`)
    completed by the frame's own text columns (``shop``, ``amenity``…), so a planner's table
    with such columns works too.
    """
    th = themes if themes is not None else load_themes()
    return pd.Series([th.theme_of(t) for t in _tag_dicts(pois)], index=pois.index, dtype=object)


def _tag_dicts(pois: pd.DataFrame) -> list[dict[str, Any]]:
    """Each row's ``tags`` dict, completed by its non-empty text columns."""
    cols = [c for c in pois.columns if isinstance(c, str) and c != "tags"]
    raw_tags = pois["tags"].tolist() if "tags" in pois.columns else [None] * len(pois)
    values = pois[cols].to_numpy(dtype=object)
    out = []
    for raw, row in zip(raw_tags, values, strict=True):
        tags: dict[str, Any] = dict(raw) if isinstance(raw, Mapping) else {}
        for c, v in zip(cols, row, strict=True):
            if c not in tags and isinstance(v, str) and v:
                tags[c] = v
        out.append(tags)
    return out


@dataclass(frozen=True)
class StreetThemeProfile:
    """The themes of the POIs along one street.

    Attributes
    ----------
    name
        The street name asked for.
    distance_m
        POIs within this distance of the street's lines count.
    n_pois
        POIs within the distance (themed or not).
    n_themed
        Of them, POIs with a theme: the denominator of the shares.
    counts, shares
        Per theme id (every theme, file order): POIs and share of ``n_themed`` (0–1; all 0
        when ``n_themed`` is 0).
    dominant
        The theme with the most POIs (the first in file order on a tie), None when unthemed.
    dominant_share
        Its share; NaN when ``dominant`` is None.
    """

    name: str
    distance_m: float
    n_pois: int
    n_themed: int
    counts: Mapping[str, int]
    shares: Mapping[str, float]
    dominant: str | None
    dominant_share: float

    def to_frame(self) -> pd.DataFrame:
        """One row per theme: ``theme``, ``count``, ``share``."""
        return pd.DataFrame(
            {
                "theme": list(self.counts),
                "count": list(self.counts.values()),
                "share": [self.shares[t] for t in self.counts],
            }
        )


def street_theme_profile(
    streets: gpd.GeoDataFrame,
    pois: gpd.GeoDataFrame,
    *,
    name: str,
    distance_m: float = 50.0,
    themes: Themes | None = None,
) -> StreetThemeProfile:
    """The themes of the POIs within ``distance_m`` of the street called ``name``.

    Parameters
    ----------
    streets
        Named street lines (:attr:`geo.osm.OsmExtract.streets`), any CRS. Not modified. Every
        piece whose ``name``, ``name:zh`` or ``name:en`` equals ``name`` belongs to the street.
    pois
        :attr:`geo.osm.OsmExtract.pois`, any CRS. Not modified.
    name
        The street name.
    distance_m
        Distance from the street's centre lines, metres.
    themes
        Theme rules; default :func:`load_themes` (``data/themes.toml``).

    Raises
    ------
    InputDataError
        The street is not in ``streets``, ``distance_m`` is not positive, or a table lacks a
        CRS or name column.
    """
    th = themes if themes is not None else load_themes()
    _check_distance(distance_m)
    lines = _as_wgs84(streets, what="street")
    cols = [c for c in _STREET_NAME_FIELDS if c in lines.columns]
    if not cols:
        msg = "the street table has no 'name' column; pass OsmExtract.streets"
        raise InputDataError(msg)
    mask = np.zeros(len(lines), dtype=bool)
    for c in cols:
        mask |= (lines[c] == name).fillna(False).to_numpy(dtype=bool)
    if not mask.any():
        n = lines[cols[0]].nunique()
        msg = f"street {name!r} is not in the street data ({n} named streets)"
        raise InputDataError(msg)
    sel = lines[mask]
    group = np.zeros(len(sel), dtype=np.int64)
    counts = _street_counts(sel, group, 1, pois, distance_m=distance_m, themes=th)
    return _profile(name, distance_m, counts.iloc[0], th)


def suggest_themed_streets(
    streets: gpd.GeoDataFrame,
    pois: gpd.GeoDataFrame,
    *,
    min_pois: int = 15,
    min_share: float = 0.6,
    distance_m: float = 50.0,
    themes: Themes | None = None,
) -> gpd.GeoDataFrame:
    """Named streets dominated by one theme: candidates for 一街一主题, labelled suggestions.

    Every named street (pieces grouped by ``name``) is profiled as in
    :func:`street_theme_profile`; a street is a candidate when it has at least ``min_pois``
    *themed* POIs within ``distance_m`` and one theme has at least ``min_share`` of them.

    Parameters
    ----------
    streets
        Named street lines (:attr:`geo.osm.OsmExtract.streets`), any CRS. Not modified.
    pois
        :attr:`geo.osm.OsmExtract.pois`, any CRS. Not modified.
    min_pois
        Fewest themed POIs along a candidate street.
    min_share
        Smallest share (0–1] of the dominant theme.
    distance_m
        Distance from the street's centre lines, metres.
    themes
        Theme rules; default :func:`load_themes`.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per candidate, highest share first (then most themed POIs, then name):
        :data:`LAYER_COLUMNS` + :data:`THEMED_EXTRA` + geometry (the street's pieces merged,
        EPSG:4326). ``id`` ``themed_street_candidate_{k}``, ``name_zh`` the street's
        ``name:zh`` (else ``name``), ``name_en`` its ``name:en`` (else ``name``), ``kind``
        ``themed_street_candidate``, ``status`` ``suggestion``, ``note``
        :data:`SUGGESTION_NOTE`; ``theme_counts`` lists ``theme:count`` for every theme
        present. Empty (same columns) when no street qualifies.

    Raises
    ------
    InputDataError
        A parameter is out of range, or a table lacks a CRS or ``name`` column.
    """
    th = themes if themes is not None else load_themes()
    _check_distance(distance_m)
    if not (isinstance(min_pois, int | np.integer) and min_pois >= 1):
        msg = f"min_pois must be a whole number ≥ 1, not {min_pois!r}"
        raise InputDataError(msg)
    if not (0 < min_share <= 1):
        msg = f"min_share must be in (0, 1], not {min_share!r}"
        raise InputDataError(msg)
    lines = _as_wgs84(streets, what="street")
    if "name" not in lines.columns:
        msg = "the street table has no 'name' column; pass OsmExtract.streets"
        raise InputDataError(msg)
    lines = lines[lines["name"].notna().to_numpy(dtype=bool)]
    if lines.empty or pois.empty:
        return _layer([], [])
    codes, names = pd.factorize(lines["name"].astype(str), sort=True)
    counts = _street_counts(lines, codes, len(names), pois, distance_m=distance_m, themes=th)
    profiles = [_profile(str(n), distance_m, counts.iloc[k], th) for k, n in enumerate(names)]
    chosen = [
        (k, p)
        for k, p in enumerate(profiles)
        if p.n_themed >= min_pois and p.dominant is not None and p.dominant_share >= min_share
    ]
    chosen.sort(key=lambda kp: (-kp[1].dominant_share, -kp[1].n_themed, kp[1].name))
    log.info(
        "themed streets: %d candidate(s) among %d named streets (≥ %d themed POIs, share ≥ %g)",
        len(chosen),
        len(names),
        min_pois,
        min_share,
    )
    rows: list[dict[str, Any]] = []
    geoms: list[BaseGeometry] = []
    geo = lines.geometry.to_numpy()
    for rank, (k, p) in enumerate(chosen, start=1):
        members = np.flatnonzero(codes == k)
        geoms.append(shapely.line_merge(shapely.union_all(geo[members])))
        assert p.dominant is not None  # filtered above
        theme = th.theme(p.dominant)
        rows.append(
            {
                "id": f"themed_street_candidate_{rank}",
                "name_zh": _first_name(lines, members, ("name:zh", "name")),
                "name_en": _first_name(lines, members, ("name:en", "name")),
                "kind": "themed_street_candidate",
                "status": "suggestion",
                "source": f"{OSM_SOURCE} streets and POIs; themes: {Path(th.source).name}",
                "checked": date.today().isoformat(),
                "geometry_method": f"OSM street lines merged by name; POIs within {distance_m:g} m",
                "note": SUGGESTION_NOTE,
                "theme": theme.id,
                "theme_name_zh": theme.name_zh,
                "theme_name_en": theme.name_en,
                "theme_share": p.dominant_share,
                "n_themed": p.n_themed,
                "n_pois": p.n_pois,
                "theme_counts": ";".join(f"{t}:{c}" for t, c in p.counts.items() if c),
            }
        )
    return _layer(rows, geoms)


def _street_counts(
    lines: gpd.GeoDataFrame,
    group: NDArray[np.int64],
    n_groups: int,
    pois: gpd.GeoDataFrame,
    *,
    distance_m: float,
    themes: Themes,
) -> pd.DataFrame:
    """Per street group: ``n_pois`` and one count column per theme (POIs counted once each)."""
    cols = ["n_pois", *themes.ids]
    out = pd.DataFrame(0, index=pd.RangeIndex(n_groups), columns=cols, dtype=np.int64)
    if pois.empty or lines.empty:
        return out
    pts_gdf = _as_wgs84(pois, what="POI")
    projector = _projector_for(lines.total_bounds)
    line_m = _to_metric(lines.geometry.to_numpy(), projector)
    pts = _to_metric(_points(pts_gdf.geometry.to_numpy()), projector)
    present = ~(shapely.is_missing(pts) | shapely.is_empty(pts))
    tree = shapely.STRtree(pts)
    li, pi = tree.query(line_m, predicate="dwithin", distance=distance_m)
    keep = present[pi]
    pairs = pd.DataFrame({"street": group[li[keep]], "poi": pi[keep]}).drop_duplicates()
    if pairs.empty:
        return out
    near = np.unique(pairs["poi"].to_numpy())
    theme_of = pd.Series(
        [themes.theme_of(t) for t in _tag_dicts(pts_gdf.iloc[near])], index=near, dtype=object
    )
    pairs["theme"] = pairs["poi"].map(theme_of)
    out["n_pois"] = pairs.groupby("street").size().reindex(out.index, fill_value=0)
    themed = pairs.dropna(subset=["theme"])
    table = pd.crosstab(themed["street"], themed["theme"])
    table = table.reindex(index=out.index, columns=list(themes.ids), fill_value=0)
    out[list(themes.ids)] = table.to_numpy(dtype=np.int64)
    return out


def _profile(name: str, distance_m: float, counts: pd.Series, themes: Themes) -> StreetThemeProfile:
    per = {t: int(counts[t]) for t in themes.ids}
    n_themed = sum(per.values())
    shares = {t: (c / n_themed if n_themed else 0.0) for t, c in per.items()}
    dominant = max(per, key=lambda t: per[t]) if n_themed else None
    return StreetThemeProfile(
        name=name,
        distance_m=float(distance_m),
        n_pois=int(counts["n_pois"]),
        n_themed=n_themed,
        counts=MappingProxyType(per),
        shares=MappingProxyType(shares),
        dominant=dominant,
        dominant_share=shares[dominant] if dominant is not None else math.nan,
    )


def _first_name(lines: gpd.GeoDataFrame, members: NDArray[np.int64], cols: Sequence[str]) -> str:
    for c in cols:
        if c in lines.columns:
            values = lines[c].iloc[members].dropna().astype(str)
            values = values[values != ""]
            if len(values):
                return str(values.mode().iloc[0])
    return ""


def _check_distance(distance_m: float) -> None:
    if not (math.isfinite(distance_m) and distance_m > 0):
        msg = f"distance_m must be a positive number of metres, not {distance_m!r}"
        raise InputDataError(msg)


def _layer(rows: Sequence[Mapping[str, Any]], geoms: Sequence[BaseGeometry]) -> gpd.GeoDataFrame:
    """:data:`LAYER_COLUMNS` + :data:`THEMED_EXTRA` + geometry, EPSG:4326, even empty."""
    out = frame_with_schema(rows, geoms)
    for col, dtype in THEMED_EXTRA.items():
        out[col] = pd.Series([r.get(col) for r in rows], dtype=dtype)
    return out[[*LAYER_COLUMNS, *THEMED_EXTRA, "geometry"]]


def _as_wgs84(gdf: gpd.GeoDataFrame, *, what: str) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        msg = f"the {what} table has no CRS; set it (OSM extracts are EPSG:4326)"
        raise InputDataError(msg)
    return gdf if gdf.crs.equals(WGS84) else gdf.to_crs(WGS84)


def _points(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    out = np.asarray(geoms, dtype=object).copy()
    present = ~(shapely.is_missing(out) | shapely.is_empty(out))
    not_point = present & (shapely.get_type_id(out) != 0)
    if not_point.any():
        out[not_point] = shapely.point_on_surface(out[not_point])
    return out


def _projector_for(bounds: NDArray[np.float64] | Sequence[float]) -> Projector:
    lon0, lat0, lon1, lat1 = (float(v) for v in bounds)
    if not np.isfinite([lon0, lat0, lon1, lat1]).all():
        msg = "cannot choose a metric CRS: the street geometries are empty"
        raise InputDataError(msg)
    return Projector.for_lonlat((lon0 + lon1) / 2, (lat0 + lat1) / 2)


def _to_metric(geoms: Any, projector: Projector) -> Any:
    return shapely.transform(geoms, lambda xy: np.column_stack(projector.to_xy(xy[:, 0], xy[:, 1])))
