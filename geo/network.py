"""Walk network as compact arrays: intersections and edges in a CSR graph.

A way is split into edges at every node shared with another way (or repeated in
the same way) and at its ends. Each edge keeps its chain of segments, so points can
be snapped to the true position along an edge (:mod:`geo.snap`). The routing graph is
a symmetric ``scipy.sparse.csr_matrix`` of edge lengths in metres.

Components: the largest connected component is always kept. Other components are
kept as separate *walk regions* when they hold at least ``region_min_share`` of the
walk length (default 10 %): on a roads-only Shanghai extract, Lujiazui is cut off
from Puxi because the Huangpu tunnels are ``foot=no`` and ferries are not in the
extract, and dropping it would drop 小陆家嘴 from every analysis. Everything smaller
is an island: dropped, and counted in :class:`NetworkStats`. Pass
``region_min_share=1.0`` to keep the largest component only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components

from geo.crs import Projector
from geo.errors import InputDataError
from geo.osm import OsmExtract, WayPieces

log = logging.getLogger(__name__)

_MIN_EDGE_M = 1e-3  # csgraph treats explicit zeros as missing edges; keep 1 mm instead


@dataclass(frozen=True)
class NetworkStats:
    """Summary of a built walk network."""

    crs: str
    walkable_ways: int
    vertices: int
    nodes: int
    edges: int
    length_km: float
    components: int
    regions: int
    island_nodes: int
    island_edges: int


@dataclass(frozen=True)
class WalkNetwork:
    """Largest connected walk network in one metric CRS.

    Nodes are intersections and way ends (``node_*``); edges join two nodes
    (``edge_*``) and are drawn by their segments (``seg_*``) between vertices
    (``vertex_*``, every OSM node on a walkable way). ``seg_offset_m`` is the distance
    along the edge from ``edge_u`` to the segment's first vertex.
    """

    crs: str
    node_osm_id: NDArray[np.int64]
    node_vertex: NDArray[np.int64]
    edge_u: NDArray[np.int32]
    edge_v: NDArray[np.int32]
    edge_length_m: NDArray[np.float64]
    edge_way_id: NDArray[np.int64]
    vertex_osm_id: NDArray[np.int64]
    vertex_xy: NDArray[np.float64]
    seg_a: NDArray[np.int64]
    seg_b: NDArray[np.int64]
    seg_edge: NDArray[np.int32]
    seg_offset_m: NDArray[np.float64]
    seg_length_m: NDArray[np.float64]
    graph: sp.csr_matrix
    stats: NetworkStats

    @property
    def n_nodes(self) -> int:
        """Number of graph nodes."""
        return len(self.node_osm_id)

    @property
    def node_xy(self) -> NDArray[np.float64]:
        """Node coordinates in metres, shape ``(n_nodes, 2)``."""
        return self.vertex_xy[self.node_vertex]

    def to_networkx(self) -> nx.MultiGraph:
        """The network as a networkx MultiGraph (for small areas and cross-checks)."""
        g = nx.MultiGraph(crs=self.crs)
        xy = self.node_xy
        for i in range(self.n_nodes):
            g.add_node(i, osmid=int(self.node_osm_id[i]), x=float(xy[i, 0]), y=float(xy[i, 1]))
        for e in range(len(self.edge_u)):
            g.add_edge(
                int(self.edge_u[e]),
                int(self.edge_v[e]),
                key=e,
                length=float(self.edge_length_m[e]),
                osmid=int(self.edge_way_id[e]),
            )
        return g


DEFAULT_REGION_MIN_SHARE = 0.10


def build_walk_network(
    extract: OsmExtract,
    *,
    projector: Projector | None = None,
    region_min_share: float = DEFAULT_REGION_MIN_SHARE,
) -> WalkNetwork:
    """Build the largest connected walk network of ``extract``.

    Parameters
    ----------
    extract
        A read OSM extract.
    projector
        Metric CRS to use; default: the UTM zone of the extract's centre
        (EPSG:32651 for Shanghai).
    region_min_share
        Keep every component holding at least this share of the walk length
        (the largest is always kept); ``1.0`` keeps the largest only.

    Raises
    ------
    InputDataError
        The extract has no walkable ways.
    """
    hw = extract.highways
    if not hw.walkable.any():
        msg = (
            f"{extract.source}: no walkable ways found ({extract.stats.highway_ways} highway "
            f"ways, {extract.stats.ways} ways in all); is this an extract with roads or footways?"
        )
        raise InputDataError(msg)
    if projector is None:
        lon0, lat0, lon1, lat1 = extract.bbox
        projector = Projector.for_lonlat((lon0 + lon1) / 2, (lat0 + lat1) / 2)
    return build_from_pieces(hw, projector=projector, region_min_share=region_min_share)


def build_from_pieces(
    hw: WayPieces, *, projector: Projector, region_min_share: float = DEFAULT_REGION_MIN_SHARE
) -> WalkNetwork:
    """Build the network from the walkable pieces of ``hw`` (see :func:`build_walk_network`)."""
    keep = np.flatnonzero(hw.walkable)
    starts, ends = hw.offsets[keep], hw.offsets[keep + 1]
    lengths = ends - starts
    ref = _ranges(starts, ends)
    piece_way = hw.way_id[keep]
    vertex_osm_id, ref_vertex = np.unique(hw.node_id[ref], return_inverse=True)
    first = np.zeros(len(vertex_osm_id), dtype=np.int64)
    first[ref_vertex[::-1]] = ref[::-1]
    x, y = projector.to_xy(hw.lon[first], hw.lat[first])
    vertex_xy = np.column_stack([x, y])
    full = _split_into_edges(ref_vertex, lengths, piece_way, vertex_xy)
    net = _main_components(
        full, vertex_osm_id, vertex_xy, projector.crs, len(keep), region_min_share
    )
    log.info("walk network: %s", net.stats)
    return net


def _ranges(starts: NDArray[np.int64], ends: NDArray[np.int64]) -> NDArray[np.int64]:
    """Concatenate ``arange(s, e)`` for every pair, vectorised."""
    lengths = ends - starts
    total = int(lengths.sum())
    shift = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.arange(total, dtype=np.int64) + shift


@dataclass(frozen=True)
class _Edges:
    edge_u_vertex: NDArray[np.int64]
    edge_v_vertex: NDArray[np.int64]
    edge_length_m: NDArray[np.float64]
    edge_way_id: NDArray[np.int64]
    seg_a: NDArray[np.int64]
    seg_b: NDArray[np.int64]
    seg_edge: NDArray[np.int64]
    seg_offset_m: NDArray[np.float64]
    seg_length_m: NDArray[np.float64]


def _split_into_edges(
    ref_vertex: NDArray[np.int64],
    lengths: NDArray[np.int64],
    piece_way: NDArray[np.int64],
    vertex_xy: NDArray[np.float64],
) -> _Edges:
    n_ref = len(ref_vertex)
    piece_start = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    piece_last = piece_start + lengths - 1
    is_end = np.zeros(n_ref, dtype=bool)
    is_end[piece_start] = True
    is_end[piece_last] = True
    uses = np.bincount(ref_vertex, minlength=len(vertex_xy))
    is_node_ref = is_end | (uses[ref_vertex] >= 2)
    # segment i joins ref i and ref i+1 unless ref i ends its piece
    seg_from = np.flatnonzero(~np.isin(np.arange(n_ref), piece_last))
    seg_a = ref_vertex[seg_from]
    seg_b = ref_vertex[seg_from + 1]
    d = vertex_xy[seg_b] - vertex_xy[seg_a]
    seg_len = np.hypot(d[:, 0], d[:, 1])
    starts_edge = is_node_ref[seg_from]
    seg_edge = np.cumsum(starts_edge) - 1
    n_edges = int(seg_edge[-1]) + 1 if len(seg_edge) else 0
    cum = np.concatenate([[0.0], np.cumsum(seg_len)])
    edge_first_seg = np.flatnonzero(starts_edge)
    seg_offset = cum[:-1] - cum[edge_first_seg][seg_edge]
    edge_last_seg = np.concatenate([edge_first_seg[1:] - 1, [len(seg_from) - 1]])
    piece_of_ref = np.repeat(np.arange(len(lengths)), lengths)
    return _Edges(
        edge_u_vertex=seg_a[edge_first_seg],
        edge_v_vertex=seg_b[edge_last_seg],
        edge_length_m=np.bincount(seg_edge, weights=seg_len, minlength=n_edges).astype(np.float64),
        edge_way_id=piece_way[piece_of_ref[seg_from[edge_first_seg]]],
        seg_a=seg_a,
        seg_b=seg_b,
        seg_edge=seg_edge,
        seg_offset_m=seg_offset,
        seg_length_m=seg_len,
    )


def _csr(
    u: NDArray[np.integer], v: NDArray[np.integer], w: NDArray[np.float64], n: int
) -> sp.csr_matrix:
    """Symmetric CSR matrix of the shortest parallel edge between each node pair."""
    loop = u == v
    u, v, w = u[~loop], v[~loop], np.maximum(w[~loop], _MIN_EDGE_M)
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((w, hi, lo))
    lo, hi, w = lo[order], hi[order], w[order]
    first = np.ones(len(lo), dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    lo, hi, w = lo[first], hi[first], w[first]
    rows = np.concatenate([lo, hi])
    cols = np.concatenate([hi, lo])
    return sp.csr_matrix((np.concatenate([w, w]), (rows, cols)), shape=(n, n))


def _main_components(
    e: _Edges,
    vertex_osm_id: NDArray[np.int64],
    vertex_xy: NDArray[np.float64],
    crs: str,
    walkable_ways: int,
    region_min_share: float,
) -> WalkNetwork:
    node_vertices = np.unique(np.concatenate([e.edge_u_vertex, e.edge_v_vertex]))
    vertex_node = np.full(len(vertex_xy), -1, dtype=np.int64)
    vertex_node[node_vertices] = np.arange(len(node_vertices))
    u, v = vertex_node[e.edge_u_vertex], vertex_node[e.edge_v_vertex]
    graph = _csr(u, v, e.edge_length_m, len(node_vertices))
    n_comp, labels = connected_components(graph, directed=False)
    comp_km = np.bincount(labels[u], weights=e.edge_length_m, minlength=n_comp)
    kept = comp_km >= region_min_share * comp_km.sum()
    kept[np.argmax(np.bincount(labels))] = True
    keep_node = kept[labels]
    keep_edge = keep_node[u]
    keep_seg = keep_edge[e.seg_edge]
    # re-index nodes, edges and vertices to the kept component
    new_node = np.cumsum(keep_node) - 1
    new_edge = np.cumsum(keep_edge) - 1
    used_vertex = np.zeros(len(vertex_xy), dtype=bool)
    used_vertex[e.seg_a[keep_seg]] = True
    used_vertex[e.seg_b[keep_seg]] = True
    new_vertex = np.cumsum(used_vertex) - 1
    eu, ev = new_node[u[keep_edge]].astype(np.int32), new_node[v[keep_edge]].astype(np.int32)
    lengths = e.edge_length_m[keep_edge]
    n_nodes = int(keep_node.sum())
    stats = NetworkStats(
        crs=crs,
        walkable_ways=walkable_ways,
        vertices=int(used_vertex.sum()),
        nodes=n_nodes,
        edges=int(keep_edge.sum()),
        length_km=round(float(lengths.sum()) / 1000.0, 3),
        components=int(n_comp),
        regions=int(kept.sum()),
        island_nodes=int((~keep_node).sum()),
        island_edges=int((~keep_edge).sum()),
    )
    return WalkNetwork(
        crs=crs,
        node_osm_id=vertex_osm_id[node_vertices[keep_node]],
        node_vertex=new_vertex[node_vertices[keep_node]],
        edge_u=eu,
        edge_v=ev,
        edge_length_m=lengths,
        edge_way_id=e.edge_way_id[keep_edge],
        vertex_osm_id=vertex_osm_id[used_vertex],
        vertex_xy=vertex_xy[used_vertex],
        seg_a=new_vertex[e.seg_a[keep_seg]],
        seg_b=new_vertex[e.seg_b[keep_seg]],
        seg_edge=new_edge[e.seg_edge[keep_seg]].astype(np.int32),
        seg_offset_m=e.seg_offset_m[keep_seg],
        seg_length_m=e.seg_length_m[keep_seg],
        graph=_csr(eu, ev, lengths, n_nodes),
        stats=stats,
    )
