"""Propose new outlet sites for a category on a computed build (CLI ``site`` and the app)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import WGS84, Projector
from geo.datum import Datum
from geo.errors import InputDataError
from geo.snap import Snapped, snap_points
from geo.table_import import read_point_table
from layers.siting import SitingResult, coverage_matrix, solve_exact, solve_greedy
from shangquan.build import BuildResult

log = logging.getLogger(__name__)

DEFAULT_CANDIDATE_RADIUS_M = 150.0
EXACT_MAX_NONZEROS = 2_000_000  # coverage-matrix size up to which the exact MILP is used


@dataclass(frozen=True)
class SiteProposal:
    """Proposed sites (WGS84) with the population each newly covers."""

    sites: gpd.GeoDataFrame  # rank, added_pop, cum_added_pop, area, geometry
    category: str
    threshold_m: float
    uncovered_before: float
    result: SitingResult
    greedy_total: float | None  # greedy objective, when the exact solver ran too
    n_candidates: int


def street_candidates(res: BuildResult, *, radius_m: float) -> Snapped:
    """Network nodes within ``radius_m`` of any existing POI candidate ("near existing shops").

    Falls back to every network node when there is no POI in the inputs.
    """
    net = res.prep.network
    proj = Projector.for_crs(net.crs)
    frames = [res.prep.osm_pois.pois] + (
        [res.prep.table_pois.pois] if res.prep.table_pois is not None else []
    )
    pts = pd.concat([f.geometry for f in frames], ignore_index=True)
    nodes = net.node_xy
    if len(pts):
        x, y = proj.to_xy(pts.x.to_numpy(), pts.y.to_numpy())
        tree = shapely.STRtree(shapely.points(x, y))
        near = tree.query(shapely.points(nodes), predicate="dwithin", distance=radius_m)[0]
        keep = np.unique(near)
    else:
        keep = np.arange(len(nodes))
    return snap_points(res.prep.index, nodes[keep], max_snap_m=1.0)


def planner_candidates(res: BuildResult, path: str | Path, *, datum: Datum) -> Snapped:
    """Candidate sites from a planner table (CSV/XLSX/GeoJSON in any datum)."""
    table = read_point_table(path, datum=datum, bbox=res.prep.extract.bbox)
    if table.points.empty:
        msg = f"{path}: no usable candidate sites ({table.summary()})"
        raise InputDataError(msg)
    proj = Projector.for_crs(res.prep.network.crs)
    x, y = proj.to_xy(table.points["lon_wgs84"], table.points["lat_wgs84"])
    return snap_points(
        res.prep.index,
        np.column_stack([x, y]),
        max_snap_m=res.prep.osm_pois.snapped.max_snap_m,
        water=res.prep.water,
    )


def propose_sites(
    res: BuildResult,
    *,
    category: str,
    n_sites: int,
    candidates: Snapped | None = None,
    candidate_radius_m: float = DEFAULT_CANDIDATE_RADIUS_M,
) -> SiteProposal:
    """The ``n_sites`` candidates that newly cover the most people within the category's
    gap threshold, keeping every existing outlet."""
    if category not in res.access:
        msg = f"unknown category {category!r}; scored: {', '.join(res.access)}"
        raise InputDataError(msg)
    threshold = res.rules.categories[category].gap_threshold_m
    cand = (
        candidates
        if candidates is not None
        else street_candidates(res, radius_m=candidate_radius_m)
    )
    pop = res.demand.cells["pop"].to_numpy()
    uncovered = np.where(res.access[category].dist_m > threshold, pop, 0.0)
    cover = coverage_matrix(res.prep.network, cand, res.demand_snap, threshold_m=threshold)
    greedy = solve_greedy(cover, uncovered, n_sites)
    result, greedy_total = greedy, None
    if cover.nnz <= EXACT_MAX_NONZEROS:
        result, greedy_total = solve_exact(cover, uncovered, n_sites), greedy.total_added
    return SiteProposal(
        sites=_sites_frame(res, cand, result),
        category=category,
        threshold_m=threshold,
        uncovered_before=float(uncovered.sum()),
        result=result,
        greedy_total=greedy_total,
        n_candidates=int(cand.ok.sum()),
    )


def _sites_frame(res: BuildResult, cand: Snapped, result: SitingResult) -> gpd.GeoDataFrame:
    xy = cand.snapped_xy[result.chosen]
    lon, lat = Projector.for_crs(res.prep.network.crs).to_lonlat(xy[:, 0], xy[:, 1])
    cells = res.demand.cells
    area = [_nearest_area(cells, p) for p in xy]
    return gpd.GeoDataFrame(
        {
            "rank": np.arange(1, len(result.chosen) + 1),
            "added_pop": result.added_pop.round(0),
            "cum_added_pop": np.cumsum(result.added_pop).round(0),
            "area": area,
        },
        geometry=shapely.points(lon, lat),
        crs=WGS84,
    )


def _nearest_area(cells: gpd.GeoDataFrame, xy: np.ndarray) -> object:
    d = (cells["x"].to_numpy() - xy[0]) ** 2 + (cells["y"].to_numpy() - xy[1]) ** 2
    return cells["area_id"].iat[int(np.argmin(d))] if len(cells) else None
