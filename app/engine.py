"""The analysis behind siting and what-if: the build recomputed in memory, and scenarios on it.

No streamlit here. The app keeps one :class:`~shangquan.build.BuildResult` per build in
``st.cache_resource`` (shared by every session), so nothing here modifies it: what-if
results are new arrays (``layers.whatif`` copies), scores are new frames.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import WGS84, Projector
from geo.errors import InputDataError
from geo.snap import Snapped, snap_points
from layers.coverage import CategoryAccess, score_areas, score_cells
from layers.whatif import add_outlets, remove_outlets
from shangquan.build import BuildOptions, BuildResult, compute, sha256_of
from shangquan.pipeline import Options
from shangquan.siting_run import SiteProposal, propose_sites

log = logging.getLogger(__name__)


def build_inputs(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments of :func:`shangquan.build.compute` that reproduce a build.

    Raises
    ------
    InputDataError
        An input file of the build is gone or changed since the build (it names the file
        and says to rebuild).
    """
    inputs = manifest.get("inputs") or {}
    params = manifest.get("parameters") or {}

    def checked(kind: str) -> Path | None:
        doc = inputs.get(kind)
        if not doc:
            return None
        p = Path(str(doc["path"]))
        if not p.is_file():
            msg = f"the build's {kind} input {p} is missing; restore it or rebuild"
            raise InputDataError(msg)
        if doc.get("sha256") and sha256_of(p) != doc["sha256"]:
            msg = f"the build's {kind} input {p} changed since the build; rebuild it"
            raise InputDataError(msg)
        return p

    osm = checked("osm")
    if osm is None:
        msg = "the build's manifest names no OSM input; rebuild it"
        raise InputDataError(msg)
    rules = checked("rules")
    taxonomy = checked("taxonomy")
    pipeline = Options()
    pipeline = Options(
        taxonomy_path=taxonomy or pipeline.taxonomy_path,
        max_snap_m=float(params.get("max_snap_m", pipeline.max_snap_m)),
        region_min_share=float(params.get("region_min_share", pipeline.region_min_share)),
    )
    defaults = BuildOptions()
    options = BuildOptions(
        rules_path=rules or defaults.rules_path,
        cell_m=float(params.get("cell_m", defaults.cell_m)),
        default_levels=float(params.get("default_levels", defaults.default_levels)),
        pipeline=pipeline,
    )
    return {
        "osm": osm,
        "poi": checked("poi_table"),
        "datum": inputs.get("poi_datum") or "wgs84",
        "options": options,
    }


def recompute(manifest: Mapping[str, Any]) -> BuildResult:
    """The build's analysis in memory (a few seconds for a city centre)."""
    return compute(**build_inputs(manifest))


def proposal(res: BuildResult, *, category: str, n_sites: int) -> SiteProposal:
    """Proposed sites for ``category`` (see :func:`shangquan.siting_run.propose_sites`)."""
    return propose_sites(res, category=category, n_sites=n_sites)


def outlet_frame(res: BuildResult, category: str) -> gpd.GeoDataFrame:
    """The category's outlets in the order of ``res.outlets[category]`` (WGS84).

    Columns: ``outlet`` (index in the outlet list), ``name``, ``source``, ``ok`` (snapped).
    """
    prep = res.prep
    frames = [prep.osm_pois.pois] + ([prep.table_pois.pois] if prep.table_pois is not None else [])
    parts = [
        f.loc[f[category].to_numpy(), ["source", "name", "geometry"]]
        for f in frames
        if category in f
    ]
    if not parts:
        return gpd.GeoDataFrame(
            {"outlet": [], "name": [], "source": [], "ok": []}, geometry=[], crs=WGS84
        )
    out = pd.concat(parts, ignore_index=True)
    ok = res.outlets[category].ok if category in res.outlets else np.ones(len(out), bool)
    out = out.assign(outlet=np.arange(len(out)), ok=ok[: len(out)])
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84)


@dataclass(frozen=True)
class Scenario:
    """A user's edits for one category: outlets added (WGS84 lon, lat) and removed (indices)."""

    category: str
    added: tuple[tuple[float, float], ...] = ()
    removed: tuple[int, ...] = ()

    @property
    def empty(self) -> bool:
        """No edit."""
        return not self.added and not self.removed


@dataclass(frozen=True)
class ScenarioResult:
    """Access and scores after a scenario."""

    access: CategoryAccess
    area_scores: pd.DataFrame  # same columns as the build's, this category only
    added_ok: np.ndarray  # per added point: snapped to the network


def snap_lonlat(res: BuildResult, points: Sequence[tuple[float, float]]) -> Snapped:
    """WGS84 points snapped to the walk network (as outlets are)."""
    proj = Projector.for_crs(res.prep.network.crs)
    lon = np.array([p[0] for p in points], dtype=float)
    lat = np.array([p[1] for p in points], dtype=float)
    x, y = proj.to_xy(lon, lat)
    return snap_points(
        res.prep.index,
        np.column_stack([x, y]),
        max_snap_m=res.prep.osm_pois.snapped.max_snap_m,
        water=res.prep.water,
    )


def apply_scenario(res: BuildResult, sc: Scenario) -> ScenarioResult:
    """Coverage of ``sc.category`` after removing then adding outlets (``res`` unchanged)."""
    if sc.category not in res.access:
        msg = f"unknown category {sc.category!r}; scored: {', '.join(res.access)}"
        raise InputDataError(msg)
    net, demand = res.prep.network, res.demand_snap
    access, outlets = res.access[sc.category], res.outlets[sc.category]
    if sc.removed:
        removed = np.array(sorted(set(sc.removed)), dtype=np.int64)
        access, outlets = remove_outlets(net, access, outlets, demand, removed)
    added_ok = np.zeros(0, dtype=bool)
    if sc.added:
        added = snap_lonlat(res, sc.added)
        added_ok = added.ok.copy()
        access, outlets = add_outlets(net, access, outlets, demand, added)
    cells = res.demand.cells
    per_cell = score_cells(cells, {sc.category: access}, res.rules)
    groups = cells.set_index("cell_id")["area_id"]
    scores = score_areas(per_cell, groups, target_share=res.rules.target_share)
    return ScenarioResult(access=access, area_scores=scores, added_ok=added_ok)


def scenario_distances(result: ScenarioResult) -> np.ndarray:
    """Per demand cell: distance to the nearest outlet after the scenario (inf = none)."""
    return np.asarray(result.access.dist_m, dtype=float)
