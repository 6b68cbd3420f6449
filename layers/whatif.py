"""What-if: add or remove outlets and update coverage without starting over.

* Adding outlets is incremental: one bounded Dijkstra pass from the *new* outlets only,
  then each demand cell keeps the nearer of its old and new outlet.
* Removing outlets re-runs the nearest-outlet pass for the remaining outlets (one bounded
  pass) and updates only the cells whose nearest outlet was removed.

Outlet indices: the result's ``nearest`` indexes the concatenated outlet list (old outlets
first, then the added ones). Tier counts are not updated (``counts`` is emptied).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from geo.network import WalkNetwork
from geo.route import distances_from, distances_to
from geo.snap import Snapped, SnapStatus
from layers.coverage import CategoryAccess


def concat_snapped(a: Snapped, b: Snapped) -> Snapped:
    """Snapped points of ``a`` followed by those of ``b``."""
    return Snapped(
        edge=np.concatenate([a.edge, b.edge]),
        dist_along_m=np.concatenate([a.dist_along_m, b.dist_along_m]),
        snap_dist_m=np.concatenate([a.snap_dist_m, b.snap_dist_m]),
        snapped_xy=np.concatenate([a.snapped_xy, b.snapped_xy]),
        status=np.concatenate([a.status, b.status]),
        max_snap_m=a.max_snap_m,
    )


def add_outlets(
    net: WalkNetwork, access: CategoryAccess, outlets: Snapped, demand: Snapped, added: Snapped
) -> tuple[CategoryAccess, Snapped]:
    """Access after adding ``added`` outlets, and the combined outlet list."""
    node_d = distances_from(net, added, cutoff_m=access.cutoff_m)
    d_new, near_new = distances_to(net, node_d, demand, sources=added)
    better = d_new < access.dist_m
    dist = np.where(better, d_new, access.dist_m)
    nearest = np.where(better, near_new + len(outlets.edge), access.nearest)
    n_ok = access.n_outlets + int(added.ok.sum())
    return (
        replace(access, dist_m=dist, nearest=nearest.astype(np.int64), n_outlets=n_ok, counts={}),
        concat_snapped(outlets, added),
    )


def remove_outlets(
    net: WalkNetwork,
    access: CategoryAccess,
    outlets: Snapped,
    demand: Snapped,
    removed: NDArray[np.int64],
) -> tuple[CategoryAccess, Snapped]:
    """Access after removing the outlets with indices ``removed`` (indices stay stable)."""
    status = outlets.status.copy()
    status[removed] = SnapStatus.INVALID  # masked: kept in the list so indices stay stable
    remaining = replace(outlets, status=status)
    affected = np.isin(access.nearest, removed)
    dist, nearest = access.dist_m.copy(), access.nearest.copy()
    if affected.any():
        node_d = distances_from(net, remaining, cutoff_m=access.cutoff_m)
        d, near = distances_to(net, node_d, demand, sources=remaining)
        dist[affected], nearest[affected] = d[affected], near[affected]
    n_ok = int(remaining.ok.sum())
    return replace(access, dist_m=dist, nearest=nearest, n_outlets=n_ok, counts={}), remaining
