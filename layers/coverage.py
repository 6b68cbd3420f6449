"""Life-circle coverage: who reaches which category within each tier, and where the gaps are.

Per category, one multi-source Dijkstra pass (:func:`geo.route.distances_from`) from the
outlets' snapped positions gives every demand cell its network distance to the nearest
outlet and which outlet it is. Where a rule needs more than one outlet, or graded scores
are asked for, outlets reachable within each tier are counted too.

"No data" (a category with no outlet in the inputs) is kept apart from a 0 % score: its
shares are NaN and its status is ``no_data``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components, dijkstra

from geo.network import WalkNetwork
from geo.route import distances_from, distances_to
from geo.snap import Snapped
from layers.rules import Rules

log = logging.getLogger(__name__)

_COUNT_CHUNK = 32  # sources per Dijkstra call when counting (bounds memory: chunk × nodes)


@dataclass(frozen=True)
class CategoryAccess:
    """Network access from every demand cell to one category's outlets."""

    category: str
    n_outlets: int
    dist_m: NDArray[np.float64]  # to the nearest outlet; inf beyond the cutoff or unsnapped
    nearest: NDArray[np.int64]  # index of that outlet in the category's outlet list, -1
    counts: Mapping[str, NDArray[np.int64]]  # tier id → outlets within the tier distance
    cutoff_m: float

    @property
    def has_data(self) -> bool:
        """False when the inputs hold no outlet of this category (never a 0 % gap)."""
        return self.n_outlets > 0


def category_access(
    net: WalkNetwork,
    outlets: Snapped,
    demand: Snapped,
    *,
    category: str,
    cutoff_m: float,
    count_radii_m: Mapping[str, float] | None = None,
) -> CategoryAccess:
    """Distance from each demand point to its nearest outlet, and outlet counts per radius."""
    n_ok = int(outlets.ok.sum())
    node_d = distances_from(net, outlets, cutoff_m=cutoff_m)
    dist, nearest = distances_to(net, node_d, demand, sources=outlets)
    counts = {}
    if count_radii_m and n_ok:
        counts = count_within(net, outlets, demand, radii_m=count_radii_m)
    return CategoryAccess(category, n_ok, dist, nearest, counts, cutoff_m)


def count_within(
    net: WalkNetwork, outlets: Snapped, demand: Snapped, *, radii_m: Mapping[str, float]
) -> dict[str, NDArray[np.int64]]:
    """Number of outlets within each radius of every demand point (network distance).

    Runs one bounded Dijkstra per outlet, in chunks of ``_COUNT_CHUNK`` outlets, so memory
    stays at ``chunk × nodes`` floats.
    """
    limit = max(radii_m.values())
    out = {k: np.zeros(len(demand.edge), dtype=np.int64) for k in radii_m}
    ok = np.flatnonzero(outlets.ok)
    for start in range(0, len(ok), _COUNT_CHUNK):
        chunk = ok[start : start + _COUNT_CHUNK]
        for row in _per_source_rows(net, outlets, demand, chunk, limit):
            for k, r in radii_m.items():
                out[k] += row <= r
    return out


def _per_source_rows(
    net: WalkNetwork, outlets: Snapped, demand: Snapped, chunk: NDArray[np.int64], limit: float
) -> list[NDArray[np.float64]]:
    """Distance rows (demand points) from each outlet in ``chunk``."""
    e = outlets.edge[chunk]
    u, v = net.edge_u[e], net.edge_v[e]
    along, acc = outlets.dist_along_m[chunk], outlets.snap_dist_m[chunk]
    nodes = np.concatenate([u, v])
    d_nodes = dijkstra(net.graph, directed=False, indices=nodes, limit=limit)
    k = len(chunk)
    from_u, from_v = d_nodes[:k], d_nodes[k:]
    # node distance from outlet i = min via its edge's two ends
    node_d = np.minimum(
        from_u + (along + acc)[:, None], from_v + (net.edge_length_m[e] - along + acc)[:, None]
    )
    rows = []
    t_ok = demand.ok
    te = np.where(t_ok, demand.edge, 0)
    t_al, t_acc = demand.dist_along_m, demand.snap_dist_m
    for i in range(k):
        du = node_d[i, net.edge_u[te]] + t_al
        dv = node_d[i, net.edge_v[te]] + (net.edge_length_m[te] - t_al)
        d = np.minimum(du, dv) + t_acc
        same = t_ok & (demand.edge == e[i])
        d = np.where(same, np.minimum(d, np.abs(t_al - along[i]) + t_acc + acc[i]), d)
        rows.append(np.where(t_ok, d, np.inf))
    return rows


def tier_columns(rules: Rules, category: str) -> list[str]:
    """The tier ids a category is scored against."""
    return list(rules.categories[category].tiers)


def score_cells(
    cells: pd.DataFrame,
    access: Mapping[str, CategoryAccess],
    rules: Rules,
    *,
    area_type: pd.Series | None = None,
) -> pd.DataFrame:
    """Long table: one row per demand cell × category × tier, with ``covered``.

    ``area_type`` (per cell, e.g. ``new_town``) applies the rules' 15-minute override.
    Categories without data get ``covered = NaN`` and ``status = no_data``.
    """
    parts = []
    at = area_type.to_numpy() if area_type is not None else np.full(len(cells), None)
    for cat, acc in access.items():
        rule = rules.categories[cat]
        for tier in rule.tiers:
            limit = np.array([rules.distance_m(tier, area_type=a) for a in at])
            covered = acc.dist_m <= limit
            if rule.min_count > 1 and tier in acc.counts:
                covered &= acc.counts[tier] >= rule.min_count
            parts.append(
                pd.DataFrame(
                    {
                        "cell_id": cells["cell_id"].to_numpy(),
                        "category": cat,
                        "tier": tier,
                        "pop": cells["pop"].to_numpy(),
                        "dist_m": acc.dist_m,
                        "covered": covered.astype(float) if acc.has_data else np.nan,
                        "status": "ok" if acc.has_data else "no_data",
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


def score_areas(
    cell_scores: pd.DataFrame, groups: pd.Series | pd.DataFrame, *, target_share: float
) -> pd.DataFrame:
    """Population covered / uncovered per area × category × tier.

    ``groups`` maps ``cell_id`` → area key: a Series indexed by cell id (one area per cell,
    e.g. adcode) or a DataFrame with columns ``cell_id, area`` (a cell may belong to several
    overlapping areas, e.g. 两街四圈 and a planner polygon). Cells without an area are skipped.
    """
    if isinstance(groups, pd.Series):
        df = cell_scores.assign(area=cell_scores["cell_id"].map(groups)).dropna(subset=["area"])
    else:
        df = cell_scores.merge(groups[["cell_id", "area"]], on="cell_id", how="inner")
    df = df.assign(pop_covered=df["pop"] * df["covered"])
    g = df.groupby(["area", "category", "tier"], sort=True)
    out = g.agg(pop=("pop", "sum"), pop_covered=("pop_covered", "sum"), status=("status", "first"))
    out = out.reset_index()
    no_data = out["status"] == "no_data"
    out.loc[no_data, "pop_covered"] = np.nan
    out["pop_uncovered"] = out["pop"] - out["pop_covered"]
    out["share"] = out["pop_covered"] / out["pop"].where(out["pop"] > 0)
    out["meets_target"] = np.where(no_data, None, out["share"] >= target_share)
    return out


def cells_in_polygons(
    cells: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame, *, key: str
) -> pd.DataFrame:
    """``cell_id, area`` pairs for cells whose centroid lies in each polygon (overlaps kept)."""
    if polygons.empty:
        return pd.DataFrame({"cell_id": pd.Series(dtype="int64"), "area": pd.Series(dtype=object)})
    polys = polygons.to_crs(cells.crs)
    centroids = shapely.points(cells["x"].to_numpy(), cells["y"].to_numpy())
    ci, pi = shapely.STRtree(polys.geometry.values).query(centroids, predicate="within")
    return pd.DataFrame(
        {"cell_id": cells["cell_id"].to_numpy()[ci], "area": polys[key].to_numpy()[pi]}
    )


def area_type_of_cells(
    cells: gpd.GeoDataFrame, typed_polygons: Mapping[str, gpd.GeoDataFrame]
) -> pd.Series:
    """Area type per cell (e.g. ``new_town``) from polygons per type; None elsewhere.

    When polygons of several types overlap, the first type in ``typed_polygons`` wins.
    """
    out = pd.Series([None] * len(cells), index=cells.index, dtype=object)
    for kind, polys in reversed(list(typed_polygons.items())):
        if polys.empty:
            continue
        hit = cells_in_polygons(cells, polys.assign(_k=kind), key="_k")["cell_id"]
        out[cells["cell_id"].isin(hit).to_numpy()] = kind
    return out


def composite_score(area_scores: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Life-circle score per area: mean over categories with data of the share covered at
    each category's first (strictest) tier, in percent. Categories without data are left
    out and listed, never counted as 0 %.
    """
    first = {c: r.tiers[0] for c, r in rules.categories.items()}
    sel = area_scores[area_scores["tier"] == area_scores["category"].map(first)]
    rows = []
    for area, df in sel.groupby("area"):
        ok = df[df["status"] == "ok"]
        rows.append(
            {
                "area": area,
                "score": round(100 * float(ok["share"].mean()), 1) if len(ok) else np.nan,
                "categories_scored": len(ok),
                "no_data": ";".join(sorted(df.loc[df["status"] == "no_data", "category"])),
            }
        )
    return pd.DataFrame(rows, columns=["area", "score", "categories_scored", "no_data"])


def gap_polygons(
    cells: gpd.GeoDataFrame,
    access: CategoryAccess,
    *,
    threshold_m: float,
    area_of_cell: pd.Series | None = None,
) -> gpd.GeoDataFrame:
    """Contiguous populated cells farther than ``threshold_m`` from every outlet, merged.

    Cells are merged only within the same area (district) when ``area_of_cell`` is given,
    so every blind spot belongs to one district. Returns one polygon per blind spot,
    ranked by population, with its population, the distance to the nearest outlet (min /
    max over its cells; inf = none within the search cutoff) and its area. Empty when the
    category has no data.
    """
    cols = ["rank", "pop", "n_cells", "min_dist_m", "max_dist_m", "area", "geometry"]
    far = (access.dist_m > threshold_m) & (cells["pop"].to_numpy() > 0)
    if not access.has_data or not far.any():
        return gpd.GeoDataFrame(columns=cols, geometry="geometry", crs=cells.crs)
    areas = area_of_cell.to_numpy() if area_of_cell is not None else np.full(len(cells), None)
    pieces = [
        _merge_cells(cells, access, np.flatnonzero(far & (areas == a) if a is not None else far), a)
        for a in pd.unique(areas[far])
    ]
    gaps = pd.concat(pieces, ignore_index=True)
    gaps = gaps.sort_values("pop", ascending=False, kind="stable").reset_index(drop=True)
    gaps.insert(0, "rank", np.arange(1, len(gaps) + 1))
    return gpd.GeoDataFrame(gaps[cols], geometry="geometry", crs=cells.crs)


def _merge_cells(
    cells: gpd.GeoDataFrame, access: CategoryAccess, idx: NDArray[np.int64], area: object
) -> pd.DataFrame:
    """Merge edge-adjacent cells ``idx`` into polygons with their population and distances.

    Cells lie on a regular grid, so blind spots are the connected components of the grid
    (4-neighbour adjacency, found with scipy); each is merged with
    ``shapely.coverage_union_all``, which is exact because neighbouring boxes share their edges.
    """
    boxes = cells.geometry.values[idx]
    x0, y0, x1, _ = shapely.bounds(boxes[0])
    size = x1 - x0
    ix = np.floor((cells["x"].to_numpy()[idx] - x0) / size).astype(np.int64)
    iy = np.floor((cells["y"].to_numpy()[idx] - y0) / size).astype(np.int64)
    label = _grid_components(ix, iy)
    frame = pd.DataFrame(
        {"part": label, "pop": cells["pop"].to_numpy()[idx], "dist": access.dist_m[idx]}
    )
    agg = frame.groupby("part").agg(
        pop=("pop", "sum"),
        n_cells=("pop", "size"),
        min_dist_m=("dist", "min"),
        max_dist_m=("dist", "max"),
    )
    order = np.argsort(label, kind="stable")
    bounds = np.searchsorted(label[order], agg.index.to_numpy())
    ends = np.r_[bounds[1:], len(order)]
    agg["area"] = area
    agg["geometry"] = [
        shapely.coverage_union_all(boxes[order[a:b]]) for a, b in zip(bounds, ends, strict=True)
    ]
    return agg.reset_index(drop=True)


def _grid_components(ix: NDArray[np.int64], iy: NDArray[np.int64]) -> NDArray[np.int64]:
    """Connected-component label of each grid cell (edge neighbours only)."""
    key = pd.Series(np.arange(len(ix)), index=pd.MultiIndex.from_arrays([ix, iy]))
    rows, cols = [], []
    for dx, dy in ((1, 0), (0, 1)):
        nb = key.reindex(pd.MultiIndex.from_arrays([ix + dx, iy + dy])).to_numpy()
        ok = ~np.isnan(nb)
        rows.append(np.flatnonzero(ok))
        cols.append(nb[ok].astype(np.int64))
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(ix), len(ix)))
    return connected_components(graph, directed=False)[1].astype(np.int64)
