"""Network distances from points on edges (multi-source, one Dijkstra pass).

Each snapped source becomes a virtual node with two one-way links, to its edge's
``u`` (``dist_along_m``) and ``v`` (``length - dist_along_m``), plus the access leg
from the true point to the edge when ``include_access`` is set. One
``scipy.sparse.csgraph.dijkstra(..., min_only=True)`` pass then gives every node its
distance to the nearest source and which source that is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra

from geo.network import WalkNetwork
from geo.snap import Snapped


@dataclass(frozen=True)
class NodeDistances:
    """Distance from every node to its nearest source (``inf`` beyond the cutoff)."""

    dist_m: NDArray[np.float64]
    source: NDArray[np.int64]  # index into the snapped sources, -1 where unreached
    cutoff_m: float


def _access(snapped: Snapped, include_access: bool) -> NDArray[np.float64]:
    return snapped.snap_dist_m if include_access else np.zeros(len(snapped.edge))


def distances_from(
    net: WalkNetwork,
    sources: Snapped,
    *,
    cutoff_m: float = np.inf,
    include_access: bool = True,
) -> NodeDistances:
    """Distance from each network node to the nearest snapped source.

    Parameters
    ----------
    net
        Walk network.
    sources
        Snapped source points; unsnapped ones are ignored.
    cutoff_m
        Stop searching beyond this distance (nodes farther away get ``inf``).
    include_access
        Add the straight leg from each source's true position to its edge.
    """
    ok = np.flatnonzero(sources.ok)
    n = net.n_nodes
    if len(ok) == 0:
        return NodeDistances(np.full(n, np.inf), np.full(n, -1, dtype=np.int64), cutoff_m)
    e = sources.edge[ok]
    acc = _access(sources, include_access)[ok]
    along = sources.dist_along_m[ok]
    virt = n + np.arange(len(ok))
    rows = np.concatenate([virt, virt])
    cols = np.concatenate([net.edge_u[e], net.edge_v[e]])
    w = np.concatenate([along + acc, net.edge_length_m[e] - along + acc])
    w = np.maximum(w, 1e-3)  # explicit zeros would be read as missing links
    links = sp.csr_matrix((w, (rows, cols)), shape=(n + len(ok), n + len(ok)))
    base = sp.csr_matrix((net.graph.data, net.graph.indices, net.graph.indptr), shape=(n, n))
    graph = sp.block_diag([base, sp.csr_matrix((len(ok), len(ok)))], format="csr") + links
    dist, _, src = dijkstra(
        graph, directed=True, indices=virt, min_only=True, limit=cutoff_m, return_predecessors=True
    )
    src_idx = np.where(src[:n] >= n, ok[np.clip(src[:n] - n, 0, len(ok) - 1)], -1)
    return NodeDistances(dist_m=dist[:n], source=src_idx.astype(np.int64), cutoff_m=cutoff_m)


def distances_to(
    net: WalkNetwork,
    node_dist: NodeDistances,
    targets: Snapped,
    *,
    sources: Snapped,
    include_access: bool = True,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Distance from each snapped target to its nearest source, and that source's index.

    A target reaches its edge's ends through ``node_dist``; a source on the same edge is
    also reached directly along the edge. Unsnapped targets, and targets beyond the
    cutoff, get ``inf`` and -1.
    """
    ok = targets.ok
    e = np.where(ok, targets.edge, 0)
    along = targets.dist_along_m
    acc = _access(targets, include_access)
    via_u = node_dist.dist_m[net.edge_u[e]] + along
    via_v = node_dist.dist_m[net.edge_v[e]] + (net.edge_length_m[e] - along)
    dist = np.minimum(via_u, via_v) + acc
    src = np.where(via_u <= via_v, node_dist.source[net.edge_u[e]], node_dist.source[net.edge_v[e]])
    same_d, same_s = _same_edge(targets, sources, include_access)
    better = same_d < dist
    dist = np.where(better, same_d, dist)
    src = np.where(better, same_s, src)
    reached = ok & (dist <= node_dist.cutoff_m)
    return np.where(reached, dist, np.inf), np.where(reached, src, -1).astype(np.int64)


def _same_edge(
    targets: Snapped, sources: Snapped, include_access: bool
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Best direct distance to a source on the same edge (``inf`` where there is none)."""
    n = len(targets.edge)
    best = np.full(n, np.inf)
    best_src = np.full(n, -1, dtype=np.int64)
    t_ok, s_ok = np.flatnonzero(targets.ok), np.flatnonzero(sources.ok)
    if len(t_ok) == 0 or len(s_ok) == 0:
        return best, best_src
    t = pd.DataFrame({"t": t_ok, "edge": targets.edge[t_ok]})
    s = pd.DataFrame({"s": s_ok, "edge": sources.edge[s_ok]})
    pairs = t.merge(s, on="edge")
    if pairs.empty:
        return best, best_src
    ti, si = pairs["t"].to_numpy(), pairs["s"].to_numpy()
    d = np.abs(targets.dist_along_m[ti] - sources.dist_along_m[si])
    d = d + _access(targets, include_access)[ti] + _access(sources, include_access)[si]
    order = np.lexsort((d, ti))
    ti, si, d = ti[order], si[order], d[order]
    first = np.ones(len(ti), dtype=bool)
    first[1:] = ti[1:] != ti[:-1]
    best[ti[first]] = d[first]
    best_src[ti[first]] = si[first]
    return best, best_src
