"""Planning layers drawn from the place catalogue: street lines, corridors and anchor areas.

Every layer is a GeoDataFrame in EPSG:4326 with the fixed schema :data:`LAYER_COLUMNS` +
``geometry``, even when empty, so the map and the exports never special-case a layer.

**Approximations.** The official extents of the places were not found (sources.md §3). What is
drawn is labelled in ``status`` and ``geometry_method``:

* OSM street lines of the 两街 keep the entry's status (the plan names the street; OSM draws it);
* the corridor around a street (:data:`CORRIDOR_WIDTH_M` wide) is ``approximate``;
* the circle around an anchor (a metro station, ±50–100 m) is ``approximate``; its radius is the
  entry's ``radius_m`` or the default of its kind (:data:`DEFAULT_RADIUS_M`);
* a planner's polygon keeps the entry's status.

Unmapped places (listed without geometry) are not drawn: :meth:`Catalogue.unmapped` lists them.
All buffering happens in metres, in the UTM zone of the geometry (:class:`geo.crs.Projector`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components, shortest_path
from shapely.geometry.base import BaseGeometry

from geo.crs import WGS84, Projector
from geo.errors import InputDataError
from layers.catalogue import FRAME_COLUMNS, Catalogue, Place, frame_with_schema

log = logging.getLogger(__name__)

#: Columns of every planning layer, before ``geometry``.
LAYER_COLUMNS: Final = FRAME_COLUMNS
#: Layer key → place kind, in display order.
LAYER_KINDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "two_streets": "world_street",
        "four_districts": "world_district",
        "new_towns": "new_town",
        "municipal_centres": "municipal_centre",
        "nightlife_circles": "nightlife_circle",
        "night_markets": "night_market",
        "themed_streets": "themed_street",
    }
)

#: Total width of the corridor drawn around a street's centre line: the roadway with its
#: sidewalks and the first row of shop fronts. An approximation, not a plan boundary.
CORRIDOR_WIDTH_M: Final = 60.0
#: Radius drawn around an anchor of a 两街 street when the street is not in the extract.
WORLD_STREET_RADIUS_M: Final = 300.0
#: 四圈: a district of about 2 km² around its metro station.
WORLD_DISTRICT_RADIUS_M: Final = 800.0
#: New towns: the commercial core of a new town (城市副中心), not the whole town.
NEW_TOWN_RADIUS_M: Final = 3000.0
#: Municipal centres: ≈113 ha, above the 25 ha minimum cluster of the 2014–2020 criteria.
MUNICIPAL_CENTRE_RADIUS_M: Final = 600.0
#: Nightlife circles: a walkable night-time cluster.
NIGHTLIFE_RADIUS_M: Final = 500.0
#: Night markets: one street market or square.
NIGHT_MARKET_RADIUS_M: Final = 200.0
#: Themed streets drawn from an anchor only: about one block each way.
THEMED_STREET_RADIUS_M: Final = 150.0
#: Default extent radius per kind (planning approximations; an entry's ``radius_m`` wins).
DEFAULT_RADIUS_M: Final[Mapping[str, float]] = MappingProxyType(
    {
        "world_street": WORLD_STREET_RADIUS_M,
        "world_district": WORLD_DISTRICT_RADIUS_M,
        "new_town": NEW_TOWN_RADIUS_M,
        "municipal_centre": MUNICIPAL_CENTRE_RADIUS_M,
        "nightlife_circle": NIGHTLIFE_RADIUS_M,
        "night_market": NIGHT_MARKET_RADIUS_M,
        "themed_street": THEMED_STREET_RADIUS_M,
    }
)
#: A separate piece of a street lying entirely within this distance of the longer pieces
#: already counted is the other carriageway of a dual carriageway, not more street.
PARALLEL_CARRIAGEWAY_M: Final = 40.0
#: Columns of :func:`resolve_streets`, before ``geometry``.
RESOLVED_COLUMNS: Final = ("name", "n_pieces", "osm_ids", "length_m", "total_length_m", "method")
#: A street inferred from junction names needs at least this many distinct junctions.
MIN_JUNCTIONS: Final = 3
#: An inferred street continues a resolved one whose end lies within this distance.
CONTINUE_WITHIN_M: Final = 800.0

_MATCH_COLUMNS: Final = ("name", "name:zh")
_QUAD_SEGS: Final = 16


# --- streets ------------------------------------------------------------------------------------


def resolve_streets(
    streets_gdf: gpd.GeoDataFrame,
    names: Iterable[str],
    *,
    named_nodes: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """The OSM pieces of each named street, merged into one geometry per name.

    Parameters
    ----------
    streets_gdf
        Named street pieces, e.g. :attr:`geo.osm.OsmExtract.streets` (``name``, ``name:zh``,
        lines, any CRS; WGS84 for an extract). Not modified.
    names
        Street names; a piece matches when its ``name`` or ``name:zh`` equals one.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per name found, in the order given: ``name``, ``n_pieces``, ``osm_ids``
        (``;``-joined, when the input has ``osm_id``), ``length_m`` (the centre-line length,
        :func:`centre_line_length_m`), ``total_length_m`` (the sum of all pieces, both
        carriageways included) and the merged lines (``shapely.line_merge``), EPSG:4326.
        ``method`` is ``osm_ways``, or ``inferred_from_junction_names`` for a street the
        extract lacks as ways but names at junctions (see :func:`infer_street`), which is
        tried when ``named_nodes`` (:attr:`geo.osm.OsmExtract.named_nodes`) are given.
        Names still not found are logged and listed in ``.attrs["not_found"]``.
    """
    wanted = tuple(dict.fromkeys(names))
    lines = _as_wgs84(streets_gdf)
    cols = [c for c in _MATCH_COLUMNS if c in lines.columns]
    if not cols:
        msg = "the streets table has no 'name' or 'name:zh' column; pass OsmExtract.streets"
        raise InputDataError(msg)
    projector = _projector_for(lines.total_bounds)
    rows: list[dict[str, Any]] = []
    for name in wanted:
        mask = np.zeros(len(lines), dtype=bool)
        for c in cols:
            mask |= (lines[c] == name).fillna(False).to_numpy(dtype=bool)
        if mask.any():
            rows.append(_resolved_row(lines[mask], name, projector))
    if named_nodes is not None and len(named_nodes):
        known = {r["name"] for r in rows}
        for name in wanted:
            if name not in known:
                inferred = infer_street(
                    named_nodes,
                    name,
                    projector=projector,
                    continue_from=[r["geometry"] for r in rows],
                )
                if inferred is not None:
                    rows.append(inferred)
    found = {r["name"] for r in rows}
    not_found = tuple(n for n in wanted if n not in found)
    if not_found:
        log.warning("street names not found in the street data: %s", ", ".join(not_found))
    out = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=list(RESOLVED_COLUMNS)),
        geometry=gpd.GeoSeries([r["geometry"] for r in rows], crs=WGS84),
        crs=WGS84,
    )
    out.attrs["not_found"] = not_found
    return out


def _resolved_row(pieces: gpd.GeoDataFrame, name: str, projector: Projector) -> dict[str, Any]:
    merged = shapely.line_merge(shapely.union_all(pieces.geometry.to_numpy()))
    metric_pieces = _to_metric(pieces.geometry.to_numpy(), projector)
    ids = ";".join(str(i) for i in pieces["osm_id"]) if "osm_id" in pieces.columns else ""
    return {
        "name": name,
        "n_pieces": len(pieces),
        "osm_ids": ids,
        "length_m": centre_line_length_m(_to_metric(merged, projector)),
        "total_length_m": float(shapely.length(metric_pieces).sum()),
        "method": "osm_ways",
        "geometry": merged,
    }


def infer_street(
    named_nodes: gpd.GeoDataFrame,
    name: str,
    *,
    projector: Projector,
    continue_from: Sequence[BaseGeometry] = (),
) -> dict[str, Any] | None:
    """An approximate centre line of a street the extract lacks as ways.

    A roads-only extract leaves out pedestrian streets such as 南京东路 (步行街), but its
    bus stops and junctions keep the name: ``河南中路南京东路`` is the stop at 河南中路 ×
    南京东路. The junctions whose name contains ``name`` (one point per distinct junction
    name, averaged) are ordered along their main axis and joined; when a resolved street
    (``continue_from``, WGS84) ends within :data:`CONTINUE_WITHIN_M` of the chain, the chain
    starts from that end (南京东路 continues 南京西路). Needs :data:`MIN_JUNCTIONS`
    junctions; returns None otherwise. The result is approximate and labelled so.
    """
    col = named_nodes["name"].astype(str)
    hits = named_nodes[col.str.contains(name, regex=False) & (col != name)]
    if hits.empty:
        return None
    xy = np.column_stack(projector.to_xy(hits.geometry.x.to_numpy(), hits.geometry.y.to_numpy()))
    labels = hits["name"].astype(str).to_numpy()
    uniq = sorted(set(labels))
    if len(uniq) < MIN_JUNCTIONS:
        return None
    pts = np.array([xy[labels == u].mean(axis=0) for u in uniq])
    axis = np.linalg.svd(pts - pts.mean(axis=0))[2][0]
    pts = pts[np.argsort((pts - pts.mean(axis=0)) @ axis)]
    pts = _continue(pts, continue_from, projector)
    line_m = shapely.linestrings(pts)
    ids = ";".join(str(i) for i in hits["osm_id"]) if "osm_id" in hits.columns else ""
    return {
        "name": name,
        "n_pieces": 0,
        "osm_ids": ids,
        "length_m": float(shapely.length(line_m)),
        "total_length_m": float(shapely.length(line_m)),
        "method": "inferred_from_junction_names",
        "geometry": _to_wgs84(line_m, projector),
    }


def _continue(
    pts: NDArray[np.float64], lines: Sequence[BaseGeometry], projector: Projector
) -> NDArray[np.float64]:
    """Prepend/append the nearest end of a resolved street within reach of the chain."""
    best: tuple[float, NDArray[np.float64], bool] | None = None
    for line in lines:
        coords = np.asarray(shapely.get_coordinates(_to_metric(line, projector)))
        if len(coords) == 0:
            continue
        for chain_end, at_start in ((pts[0], True), (pts[-1], False)):
            d = np.hypot(*(coords - chain_end).T)
            k = int(np.argmin(d))
            if d[k] <= CONTINUE_WITHIN_M and (best is None or d[k] < best[0]):
                best = (float(d[k]), coords[k], at_start)
    if best is None:
        return pts
    _, end, at_start = best
    return np.vstack([end, pts]) if at_start else np.vstack([pts, end])


def centre_line_length_m(lines: BaseGeometry) -> float:
    """Length of a street's centre line from its merged OSM pieces, in the units of ``lines``.

    OSM draws a dual carriageway as two one-way lines, so the sum of the pieces of a street can
    be up to twice its length; short link and turn pieces add more. This measures each connected
    part of the (noded) street as a graph of its vertices and segments: the part's length is its
    diameter, the longest of the shortest paths between two vertices. Where both carriageways
    join at their ends, a shortest path runs along one of them only (plus at most the gap between
    them); side links are shorter than the main path and do not count. A separate part lying
    entirely within :data:`PARALLEL_CARRIAGEWAY_M` of the longer parts already counted is a
    parallel carriageway and is skipped; other separate parts (a street interrupted by a square)
    are added.

    Parameters
    ----------
    lines
        LineString or MultiLineString in a metric CRS, noded and merged
        (``shapely.line_merge(shapely.union_all(pieces))``).
    """
    parts = [g for g in shapely.get_parts(lines) if not g.is_empty]
    if not parts:
        return 0.0
    comps = _components(parts)
    ranked = sorted(comps, key=lambda c: c[0], reverse=True)
    total = 0.0
    counted: list[BaseGeometry] = []
    for diameter, members in ranked:
        geom = shapely.MultiLineString([parts[i] for i in members])
        if counted and shapely.union_all(counted).buffer(PARALLEL_CARRIAGEWAY_M).covers(geom):
            continue
        counted.append(geom)
        total += diameter
    return float(total)


def _components(parts: Sequence[BaseGeometry]) -> list[tuple[float, list[int]]]:
    """(diameter, part indices) of each connected group of lines.

    The graph's nodes are all the vertices of the lines (so the far end of a loop is a node even
    where ``line_merge`` joined two pieces there) and its edges the segments between them.
    """
    coords, part_of = shapely.get_coordinates(list(parts), return_index=True)
    uniq, node = np.unique(coords, axis=0, return_inverse=True)
    node = node.ravel()
    same = part_of[:-1] == part_of[1:]
    a, b = node[:-1][same], node[1:][same]
    w = np.hypot(*(coords[1:][same] - coords[:-1][same]).T)
    keep = a != b
    graph = _graph(a[keep], b[keep], w[keep], len(uniq))
    n_comp, labels = connected_components(graph, directed=False)
    out = []
    for c in range(n_comp):
        nodes = np.flatnonzero(labels == c)
        dist = shortest_path(graph, directed=False, indices=nodes)
        diameter = float(np.max(dist[np.isfinite(dist)], initial=0.0))
        members = sorted({int(part_of[k]) for k in np.flatnonzero(labels[node] == c)})
        out.append((diameter, members))
    return out


def _graph(
    a: NDArray[np.intp], b: NDArray[np.intp], w: NDArray[np.float64], n: int
) -> sp.csr_matrix:
    """Symmetric-ready sparse graph keeping the shortest of parallel segments."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    order = np.lexsort((w, hi, lo))
    lo, hi, w = lo[order], hi[order], w[order]
    first = np.ones(len(lo), dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    return sp.csr_matrix((w[first], (lo[first], hi[first])), shape=(n, n))


def street_corridor(
    lines_gdf: gpd.GeoDataFrame, *, width_m: float = CORRIDOR_WIDTH_M
) -> gpd.GeoDataFrame:
    """Corridors of ``width_m`` (total width) around street lines, labelled approximate.

    Parameters
    ----------
    lines_gdf
        Street lines with a CRS (e.g. from :func:`resolve_streets`). Not modified.
    width_m
        Total corridor width in metres (half on each side of the line).

    Returns
    -------
    geopandas.GeoDataFrame
        The input's columns with polygons (EPSG:4326) instead of lines, ``status`` =
        ``"approximate"`` and ``geometry_method`` = ``"street corridor {width_m} m wide"``.
    """
    if not width_m > 0:
        msg = f"corridor width must be a positive number of metres, not {width_m!r}"
        raise InputDataError(msg)
    lines = _as_wgs84(lines_gdf)
    out = lines.copy()
    if len(lines):
        projector = _projector_for(lines.total_bounds)
        metric = _to_metric(lines.geometry.to_numpy(), projector)
        polys = shapely.buffer(metric, width_m / 2, quad_segs=_QUAD_SEGS)
        out = out.set_geometry(gpd.GeoSeries(_to_wgs84(polys, projector), crs=WGS84))
    out["status"] = "approximate"
    out["geometry_method"] = f"street corridor {width_m:g} m wide"
    return out


# --- anchors ------------------------------------------------------------------------------------


def anchor_area(place: Place, *, radius_m: float) -> gpd.GeoDataFrame:
    """A circle of ``radius_m`` around each anchor of ``place``, as one approximate area.

    Parameters
    ----------
    place
        A place with anchors (WGS84).
    radius_m
        Radius in metres, buffered in the anchor's UTM zone.

    Returns
    -------
    geopandas.GeoDataFrame
        One row with :data:`LAYER_COLUMNS`: ``status`` = ``"approximate"``,
        ``geometry_method`` = ``"anchor buffer {radius_m} m"``, and the (multi)polygon, EPSG:4326.
    """
    if not place.anchors:
        msg = f"place {place.id!r} has no anchor to draw an area around"
        raise InputDataError(msg)
    if not radius_m > 0:
        msg = f"anchor radius must be a positive number of metres, not {radius_m!r}"
        raise InputDataError(msg)
    lon, lat = place.anchors[0]
    projector = Projector.for_lonlat(lon, lat)
    pts = shapely.points(np.asarray(place.anchors, dtype=float))
    circles = shapely.buffer(_to_metric(pts, projector), radius_m, quad_segs=_QUAD_SEGS)
    area = _to_wgs84(shapely.union_all(circles), projector)
    row = _row(place, status="approximate", method=f"anchor buffer {radius_m:g} m")
    return frame_with_schema([row], [area])


def default_radius_m(place: Place) -> float:
    """The extent radius drawn around the anchors of ``place``: its own or its kind's default."""
    return place.radius_m if place.radius_m is not None else DEFAULT_RADIUS_M[place.kind]


def describe_method(place: Place) -> str:
    """How :func:`planning_layers` draws ``place``, for a human (docs and the map legend)."""
    r = default_radius_m(place)
    if place.geometry is not None:
        extra = " + street corridor" if place.geometry.geom_type.endswith("LineString") else ""
        return f"{place.geometry_method}{extra}"
    if place.streets:
        text = f"OSM street lines {', '.join(place.streets)} + {CORRIDOR_WIDTH_M:g} m corridor"
        if place.anchors:
            text += f"; streets missing from the extract: anchor buffer {r:g} m"
        return text
    if place.anchors:
        n = len(place.anchors)
        return f"anchor buffer {r:g} m" + (f" around {n} anchors" if n > 1 else "")
    return f"not mapped (needs {place.needs or 'geometry'})"


# --- layers -------------------------------------------------------------------------------------


def planning_layers(
    catalogue: Catalogue,
    *,
    streets: gpd.GeoDataFrame | None = None,
    named_nodes: gpd.GeoDataFrame | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """One layer per kind group (:data:`LAYER_KINDS`), each with the fixed schema.

    Parameters
    ----------
    catalogue
        The places (:func:`layers.catalogue.load_catalogue`).
    streets
        Named street pieces (:attr:`geo.osm.OsmExtract.streets`) to resolve ``streets`` entries;
        None draws every place from its anchors.
    named_nodes
        Named junctions and stops (:attr:`geo.osm.OsmExtract.named_nodes`), used to infer
        streets the extract lacks as ways (:func:`infer_street`).

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        ``two_streets`` (street lines + corridors where the streets resolve, else anchor areas),
        ``four_districts``, ``new_towns``, ``municipal_centres``, ``nightlife_circles``,
        ``night_markets``, ``themed_streets``: :data:`LAYER_COLUMNS` + ``geometry``, EPSG:4326,
        even when empty. Unmapped places are left out (see ``catalogue.unmapped()``).
    """
    resolved = _resolve_all(catalogue, streets, named_nodes)
    layers: dict[str, gpd.GeoDataFrame] = {}
    for key, kind in LAYER_KINDS.items():
        rows: list[dict[str, str]] = []
        geoms: list[BaseGeometry] = []
        for place in catalogue.by_kind(kind):
            for row, geom in _place_rows(place, resolved):
                rows.append(row)
                geoms.append(geom)
        layers[key] = frame_with_schema(rows, geoms)
        log.info("layer %s: %d feature(s)", key, len(rows))
    return layers


def _resolve_all(
    catalogue: Catalogue, streets: gpd.GeoDataFrame | None, named_nodes: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame | None:
    names = [n for p in catalogue.places if p.geometry is None for n in p.streets]
    if streets is None or not names:
        return None
    return resolve_streets(streets, names, named_nodes=named_nodes)


Rows = list[tuple[dict[str, str], BaseGeometry]]


def _place_rows(place: Place, resolved: gpd.GeoDataFrame | None) -> Rows:
    """The features drawn for one place (none when it is unmapped)."""
    if place.geometry is not None:
        return _planner_rows(place)
    if place.streets and resolved is not None:
        return _street_rows(place, resolved)
    if place.anchors:
        return _anchor_rows(place, note="")
    if place.streets:
        log.info("place %s: no street data given and no anchor: not drawn", place.id)
    return []


def _planner_rows(place: Place) -> Rows:
    geom = place.geometry
    assert geom is not None  # the caller checked
    rows: Rows = [(_row(place, status=place.status, method=place.geometry_method), geom)]
    if geom.geom_type.endswith("LineString"):
        rows += _corridor_rows(place, geom, method_prefix=place.geometry_method)
    return rows


def _street_rows(place: Place, resolved: gpd.GeoDataFrame) -> Rows:
    found = resolved[resolved["name"].isin(place.streets)]
    missing = [n for n in place.streets if n not in set(found["name"])]
    rows: Rows = []
    if len(found):
        lengths = ", ".join(
            f"{n} {m:,.0f} m" + (" inferred from junction names" if how != "osm_ways" else "")
            for n, m, how in zip(found.name, found.length_m, found.method, strict=True)
        )
        method = f"OSM street lines ({lengths})"
        lines = shapely.line_merge(shapely.union_all(found.geometry.to_numpy()))
        inferred = bool((found["method"] != "osm_ways").any())
        status = "approximate" if inferred else place.status
        rows.append((_row(place, status=status, method=method), lines))
        rows += _corridor_rows(place, lines, method_prefix="OSM street lines")
    if missing:
        gap = "not in the street data: " + ", ".join(missing)
        log.warning("place %s: %s", place.id, gap)
        rows = [(_with_note(r, gap), g) for r, g in rows]
        if place.anchors:
            rows += _anchor_rows(place, note=gap)
    return rows


def _corridor_rows(place: Place, lines: BaseGeometry, *, method_prefix: str) -> Rows:
    corridor = street_corridor(gpd.GeoDataFrame(geometry=[lines], crs=WGS84))
    method = f"{method_prefix} → {corridor['geometry_method'].iloc[0]}"
    return [(_row(place, status="approximate", method=method), corridor.geometry.iloc[0])]


def _anchor_rows(place: Place, *, note: str) -> Rows:
    area = anchor_area(place, radius_m=default_radius_m(place))
    row = {c: str(area[c].iloc[0]) for c in LAYER_COLUMNS}
    return [(_with_note(row, note) if note else row, area.geometry.iloc[0])]


def _row(place: Place, *, status: str, method: str) -> dict[str, str]:
    """Layer attributes of a feature of ``place``; a changed status is explained in the note."""
    note = place.note
    if status != place.status:
        note = f"catalogue status: {place.status}. {note}".strip()
    return {
        "id": place.id,
        "name_zh": place.name_zh,
        "name_en": place.name_en,
        "kind": place.kind,
        "status": status,
        "source": place.source,
        "checked": place.checked.isoformat(),
        "geometry_method": method,
        "note": note,
    }


def _with_note(row: Mapping[str, str], extra: str) -> dict[str, str]:
    out = dict(row)
    out["note"] = f"{extra}. {out['note']}".strip() if out["note"] else extra
    return out


# --- projection helpers -------------------------------------------------------------------------


def _as_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``gdf`` in EPSG:4326 (a new frame when it had another CRS)."""
    if gdf.crs is None:
        msg = "the street/line table has no CRS; set it (OSM extracts are EPSG:4326)"
        raise InputDataError(msg)
    return gdf if gdf.crs.equals(WGS84) else gdf.to_crs(WGS84)


def _projector_for(bounds: NDArray[np.float64] | Sequence[float]) -> Projector:
    """The UTM projector at the centre of WGS84 ``bounds`` (lon0, lat0, lon1, lat1)."""
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
