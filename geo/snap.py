"""Attach points (POIs, demand points) to the nearest walkable edge.

A point joins the nearest *segment* of the network at its perpendicular foot, so
distances start at the true point and not at the nearest node: it sits
``dist_along_m`` from the edge's ``u`` node and ``edge_length - dist_along_m`` from ``v``.
Points farther than ``max_snap_m`` are flagged unsnapped, never silently joined.
When water features are given, a point never joins an edge across a river or lake:
the connector from the point to the edge may not run through the interior of a water
polygon or cross a river/canal line; the nearest edge that needs no such crossing
(within ``max_snap_m``) is used instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import IntEnum

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from geo.crs import require_same_crs
from geo.network import WalkNetwork

log = logging.getLogger(__name__)

DEFAULT_MAX_SNAP_M = 200.0
#: Water kinds that block snapping (streams and ditches are usually bridged by paths).
BLOCKING_WATER_KINDS = frozenset({"area", "river", "canal"})


class SnapStatus(IntEnum):
    """Outcome of snapping one point."""

    SNAPPED = 0
    TOO_FAR = 1  # no edge within max_snap_m
    ACROSS_WATER = 2  # edges within reach, but only across water
    INVALID = 3  # NaN / empty coordinates


@dataclass(frozen=True)
class Snapped:
    """Snap result, one row per input point (``edge`` is -1 where not snapped)."""

    edge: NDArray[np.int64]
    dist_along_m: NDArray[np.float64]
    snap_dist_m: NDArray[np.float64]
    snapped_xy: NDArray[np.float64]
    status: NDArray[np.int8]
    max_snap_m: float

    @property
    def ok(self) -> NDArray[np.bool_]:
        """Mask of snapped points."""
        return self.status == SnapStatus.SNAPPED

    def take(self, idx: NDArray[np.integer] | NDArray[np.bool_]) -> Snapped:
        """The rows ``idx`` (indices or a mask), as a new result."""
        return Snapped(
            edge=self.edge[idx],
            dist_along_m=self.dist_along_m[idx],
            snap_dist_m=self.snap_dist_m[idx],
            snapped_xy=self.snapped_xy[idx],
            status=self.status[idx],
            max_snap_m=self.max_snap_m,
        )

    def counts(self) -> dict[str, int]:
        """Number of points per :class:`SnapStatus` name (lower case)."""
        return {s.name.lower(): int((self.status == s).sum()) for s in SnapStatus}


@dataclass(frozen=True)
class EdgeIndex:
    """Spatial index over the network's segments (build once, snap many times)."""

    network: WalkNetwork
    tree: shapely.STRtree

    @classmethod
    def build(cls, network: WalkNetwork) -> EdgeIndex:
        """Index every segment of ``network``."""
        a = network.vertex_xy[network.seg_a]
        b = network.vertex_xy[network.seg_b]
        segs = shapely.linestrings(np.stack([a, b], axis=1))
        return cls(network=network, tree=shapely.STRtree(segs))


@dataclass(frozen=True)
class WaterBarrier:
    """Water geometries (metric CRS) that a snap connector may not cross."""

    geoms: NDArray[np.object_]
    tree: shapely.STRtree

    @classmethod
    def from_frame(cls, water: gpd.GeoDataFrame, *, crs: str) -> WaterBarrier | None:
        """Barrier from a water layer with a ``kind`` column; None when it has no blocking water."""
        if water.empty:
            return None
        require_same_crs(str(water.crs), crs, what="water layer for snapping")
        blocking = water[water["kind"].isin(BLOCKING_WATER_KINDS)]
        geoms = shapely.make_valid(np.asarray(blocking.geometry.values, dtype=object))
        geoms = geoms[~shapely.is_empty(geoms)]
        if len(geoms) == 0:
            return None
        return cls(geoms=geoms, tree=shapely.STRtree(geoms))

    def blocks(self, starts: NDArray[np.float64], ends: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Which connectors ``starts[i] → ends[i]`` run through water (touching is allowed)."""
        lines = shapely.linestrings(np.stack([starts, ends], axis=1))
        hit = np.zeros(len(lines), dtype=bool)
        li, wi = self.tree.query(lines, predicate="intersects")
        if len(li):
            crosses = shapely.relate_pattern(lines[li], self.geoms[wi], "T********")
            hit[np.unique(li[crosses])] = True
        return hit


def snap_points(
    index: EdgeIndex,
    xy: ArrayLike,
    *,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    water: WaterBarrier | None = None,
) -> Snapped:
    """Snap points (metres, network CRS) to the nearest edge within ``max_snap_m``.

    Parameters
    ----------
    index
        Segment index of the network.
    xy
        Point coordinates, shape ``(n, 2)``, in the network's CRS.
    max_snap_m
        Points farther than this from every edge are ``TOO_FAR``.
    water
        Water barrier; when given, no connector crosses water.
    """
    pts_xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    n = len(pts_xy)
    seg = np.full(n, -1, dtype=np.int64)
    status = np.full(n, SnapStatus.TOO_FAR, dtype=np.int8)
    valid = np.isfinite(pts_xy).all(axis=1)
    status[~valid] = SnapStatus.INVALID
    points = shapely.points(pts_xy[valid])
    vi = np.flatnonzero(valid)
    pi, si = index.tree.query_nearest(points, max_distance=max_snap_m, all_matches=False)
    seg[vi[pi]] = si
    status[vi[pi]] = SnapStatus.SNAPPED
    foot, t = _project(index.network, pts_xy, seg)
    if water is not None:
        _avoid_water(index, pts_xy, seg, foot, t, status, water, max_snap_m)
    return _result(index.network, pts_xy, seg, foot, t, status, max_snap_m)


def _project(
    net: WalkNetwork, pts_xy: NDArray[np.float64], seg: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Foot of the perpendicular from each point onto its segment, and its fraction t."""
    s = np.where(seg >= 0, seg, 0)
    a = net.vertex_xy[net.seg_a[s]]
    b = net.vertex_xy[net.seg_b[s]]
    d = b - a
    dd = np.einsum("ij,ij->i", d, d)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.einsum("ij,ij->i", pts_xy - a, d) / dd
    t = np.clip(np.nan_to_num(t, nan=0.0), 0.0, 1.0)
    return a + t[:, None] * d, t


def _avoid_water(
    index: EdgeIndex,
    pts_xy: NDArray[np.float64],
    seg: NDArray[np.int64],
    foot: NDArray[np.float64],
    t: NDArray[np.float64],
    status: NDArray[np.int8],
    water: WaterBarrier,
    max_snap_m: float,
) -> None:
    """Re-snap (in place) the points whose connector crosses water."""
    snapped = np.flatnonzero(status == SnapStatus.SNAPPED)
    blocked = snapped[water.blocks(pts_xy[snapped], foot[snapped])]
    for i in blocked:
        cand = index.tree.query(shapely.points(pts_xy[i]), predicate="dwithin", distance=max_snap_m)
        cand_seg = np.asarray(cand, dtype=np.int64)
        c_foot, c_t = _project(
            index.network, np.repeat(pts_xy[i : i + 1], len(cand_seg), 0), cand_seg
        )
        dist = np.hypot(*(c_foot - pts_xy[i]).T)
        order = np.argsort(dist, kind="stable")
        ok = ~water.blocks(np.repeat(pts_xy[i : i + 1], len(order), 0), c_foot[order])
        if ok.any():
            j = order[np.argmax(ok)]
            seg[i], foot[i], t[i] = cand_seg[j], c_foot[j], c_t[j]
        else:
            seg[i] = -1
            status[i] = SnapStatus.ACROSS_WATER
    if len(blocked):
        log.info("%d points would have snapped across water; re-snapped or flagged", len(blocked))


def _result(
    net: WalkNetwork,
    pts_xy: NDArray[np.float64],
    seg: NDArray[np.int64],
    foot: NDArray[np.float64],
    t: NDArray[np.float64],
    status: NDArray[np.int8],
    max_snap_m: float,
) -> Snapped:
    ok = status == SnapStatus.SNAPPED
    s = np.where(ok, seg, 0)
    along = net.seg_offset_m[s] + t * net.seg_length_m[s]
    edge = np.where(ok, net.seg_edge[s], -1).astype(np.int64)
    return Snapped(
        edge=edge,
        dist_along_m=np.where(ok, along, np.nan),
        snap_dist_m=np.where(ok, np.hypot(*(foot - pts_xy).T), np.nan),
        snapped_xy=np.where(ok[:, None], foot, np.nan),
        status=status,
        max_snap_m=max_snap_m,
    )
