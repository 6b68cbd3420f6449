"""Demand: census population spread over a regular grid of demand cells (dasymetric).

For each area (a district with its census population) the part inside the extract gets
``population × covered_share``, where ``covered_share`` is the share of the area's land
inside the extract's coverage (the convex hull of its walk network). That population is
spread over grid cells in proportion to, in order of preference:

1. ``buildings``: residential floor area (footprint × ``building:levels``, default levels
   when untagged) of residential buildings whose representative point falls in the cell;
2. ``landuse``: area of ``landuse=residential`` inside the cell;
3. ``network``: length of walk network in the cell (an extract with neither).

The method used is recorded per area. Each cell's centroid is its demand point.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from geo.errors import InputDataError
from geo.network import WalkNetwork
from geo.osm import OsmExtract

log = logging.getLogger(__name__)

RESIDENTIAL_BUILDINGS = frozenset(
    {
        "residential",
        "apartments",
        "house",
        "detached",
        "semidetached_house",
        "terrace",
        "dormitory",
        "bungalow",
    }
)
DEFAULT_CELL_M = 100.0
DEFAULT_LEVELS = 1.0
METHODS = ("buildings", "landuse", "network")


@dataclass(frozen=True)
class Demand:
    """Demand cells (network CRS) and how each area's population was placed."""

    cells: gpd.GeoDataFrame  # cell_id, area_id, method, pop, x, y, geometry (square)
    areas: pd.DataFrame  # area_id, population, covered_share, demand_pop, method, note
    cell_m: float

    @property
    def xy(self) -> NDArray[np.float64]:
        """Demand points (cell centroids), shape ``(n, 2)``."""
        return self.cells[["x", "y"]].to_numpy(float)


def coverage_polygon(net: WalkNetwork) -> shapely.Geometry:
    """The extract's coverage: convex hull of the walk network's vertices (network CRS)."""
    return shapely.convex_hull(shapely.multipoints(net.vertex_xy))


def build_demand(
    areas: gpd.GeoDataFrame,
    extract: OsmExtract,
    net: WalkNetwork,
    *,
    cell_m: float = DEFAULT_CELL_M,
    default_levels: float = DEFAULT_LEVELS,
) -> Demand:
    """Spread each area's population over demand cells.

    Parameters
    ----------
    areas
        Polygons with ``area_id`` and ``population`` columns (any CRS; reprojected).
    extract, net
        The OSM extract (buildings, landuse) and its walk network.
    cell_m
        Grid cell size in metres.
    default_levels
        Levels assumed for residential buildings without ``building:levels``.
    """
    _check_areas(areas)
    crs = net.crs
    zones = areas.to_crs(crs).reset_index(drop=True)
    hull = coverage_polygon(net)
    cells = _grid(hull, cell_m, zones)
    weights = {
        "buildings": _building_weights(extract, crs, cells, cell_m, default_levels),
        "landuse": _landuse_weights(extract, crs, cells),
        "network": _network_weights(net, cells, cell_m),
    }
    pop = np.zeros(len(cells))
    method = np.full(len(cells), "", dtype=object)
    rows = []
    for i, zone in zones.iterrows():
        share = float(shapely.area(shapely.intersection(zone.geometry, hull)) / zone.geometry.area)
        in_zone = (cells["area_id"] == zone["area_id"]).to_numpy()
        chosen = next((m for m in METHODS if weights[m][in_zone].sum() > 0), None)
        target = float(zone["population"]) * share
        if chosen is not None and share > 0:
            w = weights[chosen][in_zone]
            pop[in_zone] = target * w / w.sum()
            method[in_zone] = chosen
        rows.append(_area_row(zone, share, target if chosen else 0.0, chosen))
        del i
    cells = cells.assign(pop=pop, method=method)
    cells = cells[cells["pop"] > 0].reset_index(drop=True)
    cells["cell_id"] = np.arange(len(cells))
    return Demand(cells=cells, areas=pd.DataFrame(rows), cell_m=cell_m)


def _check_areas(areas: gpd.GeoDataFrame) -> None:
    missing = [c for c in ("area_id", "population") if c not in areas.columns]
    if missing:
        msg = f"areas for demand need columns {missing}; got {list(areas.columns)}"
        raise InputDataError(msg)
    if areas.crs is None:
        msg = "areas for demand have no CRS; set it (e.g. areas.set_crs('EPSG:4326'))"
        raise InputDataError(msg)


def _area_row(
    zone: pd.Series, share: float, placed: float, method: str | None
) -> dict[str, object]:
    if method is None:
        note = "no network, buildings or landuse inside the extract: population not placed"
    elif share < 0.999:
        note = f"partly inside the extract: census population scaled by {share:.1%}"
    else:
        note = "fully inside the extract"
    return {
        "area_id": zone["area_id"],
        "population": float(zone["population"]),
        "covered_share": round(share, 6),
        "demand_pop": placed,
        "method": method or "none",
        "note": note,
    }


def _grid(hull: shapely.Geometry, cell_m: float, zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Square cells over the hull whose centroid lies inside both the hull and an area."""
    x0, y0, x1, y1 = shapely.bounds(hull)
    x0, y0 = np.floor(x0 / cell_m) * cell_m, np.floor(y0 / cell_m) * cell_m
    xs = np.arange(x0, x1 + cell_m, cell_m) + cell_m / 2
    ys = np.arange(y0, y1 + cell_m, cell_m) + cell_m / 2
    cx, cy = (a.ravel() for a in np.meshgrid(xs, ys))
    pts = shapely.points(cx, cy)
    inside = shapely.contains_xy(hull, cx, cy)
    tree = shapely.STRtree(zones.geometry.values)
    pi, zi = tree.query(pts[inside], predicate="within")
    keep = np.flatnonzero(inside)[pi]
    half = cell_m / 2
    boxes = shapely.box(cx[keep] - half, cy[keep] - half, cx[keep] + half, cy[keep] + half)
    return gpd.GeoDataFrame(
        {"area_id": zones["area_id"].to_numpy()[zi], "x": cx[keep], "y": cy[keep]},
        geometry=boxes,
        crs=zones.crs,
    )


def _cell_index(cells: gpd.GeoDataFrame, cell_m: float) -> dict[tuple[int, int], int]:
    keys = zip(
        np.floor(cells["x"].to_numpy() / cell_m).astype(int),
        np.floor(cells["y"].to_numpy() / cell_m).astype(int),
        strict=True,
    )
    return {k: i for i, k in enumerate(keys)}


def _accumulate(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    w: NDArray[np.float64],
    cells: gpd.GeoDataFrame,
    cell_m: float,
) -> NDArray[np.float64]:
    out = np.zeros(len(cells))
    index = _cell_index(cells, cell_m)
    kx, ky = np.floor(x / cell_m).astype(int), np.floor(y / cell_m).astype(int)
    for a, b, weight in zip(kx, ky, w, strict=True):
        j = index.get((int(a), int(b)))
        if j is not None:
            out[j] += weight
    return out


def residential_buildings(extract: OsmExtract, crs: str) -> gpd.GeoDataFrame:
    """Residential buildings (by type, or ``building=yes`` on residential landuse), projected."""
    b = extract.buildings
    if b.empty:
        return b.to_crs(crs)
    b = b.to_crs(crs)
    typed = b["building"].isin(RESIDENTIAL_BUILDINGS).to_numpy()
    generic = (b["building"] == "yes").to_numpy().copy()
    lu = extract.landuse
    if generic.any() and not lu.empty:
        res = lu[lu["landuse"] == "residential"].to_crs(crs)
        if not res.empty:
            inside = shapely.intersects(
                shapely.point_on_surface(b.geometry.values), shapely.union_all(res.geometry.values)
            )
            generic &= inside
        else:
            generic[:] = False
    else:
        generic[:] = False
    return b[typed | generic]


def _building_weights(
    extract: OsmExtract, crs: str, cells: gpd.GeoDataFrame, cell_m: float, default_levels: float
) -> NDArray[np.float64]:
    res = residential_buildings(extract, crs)
    if res.empty:
        return np.zeros(len(cells))
    levels = pd.to_numeric(res["levels"], errors="coerce").to_numpy(float)
    levels = np.where(np.isfinite(levels) & (levels > 0), levels, default_levels)
    floor_area = shapely.area(res.geometry.values) * levels
    pts = shapely.point_on_surface(res.geometry.values)
    return _accumulate(shapely.get_x(pts), shapely.get_y(pts), floor_area, cells, cell_m)


def _landuse_weights(extract: OsmExtract, crs: str, cells: gpd.GeoDataFrame) -> NDArray[np.float64]:
    lu = extract.landuse
    if lu.empty:
        return np.zeros(len(cells))
    res = lu[lu["landuse"] == "residential"]
    if res.empty:
        return np.zeros(len(cells))
    union = shapely.union_all(res.to_crs(crs).geometry.values)
    return shapely.area(shapely.intersection(cells.geometry.values, union))


def _network_weights(
    net: WalkNetwork, cells: gpd.GeoDataFrame, cell_m: float
) -> NDArray[np.float64]:
    mid = (net.vertex_xy[net.seg_a] + net.vertex_xy[net.seg_b]) / 2
    return _accumulate(mid[:, 0], mid[:, 1], net.seg_length_m, cells, cell_m)
