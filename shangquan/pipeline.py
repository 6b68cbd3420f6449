"""Stage functions shared by the CLI and the app: read → network → POIs → snap.

Each stage is a plain function on frozen results, so the CLI, the Streamlit app and
the benchmarks run exactly the same code.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import Projector
from geo.datum import Datum
from geo.features import ClassifyReport, Taxonomy, classify_tags, load_taxonomy
from geo.network import DEFAULT_REGION_MIN_SHARE, WalkNetwork, build_walk_network
from geo.osm import OsmExtract, read_osm
from geo.snap import DEFAULT_MAX_SNAP_M, EdgeIndex, Snapped, WaterBarrier, snap_points
from geo.table_import import PointTable, read_point_table
from shangquan.paths import DEFAULT_TAXONOMY

log = logging.getLogger(__name__)

FOOTWAY_HIGHWAYS = frozenset({"footway", "path", "pedestrian", "steps", "living_street", "track"})


@dataclass(frozen=True)
class Options:
    """Parameters of a run (frozen: safe to share between app sessions)."""

    taxonomy_path: Path = DEFAULT_TAXONOMY
    max_snap_m: float = DEFAULT_MAX_SNAP_M
    region_min_share: float = DEFAULT_REGION_MIN_SHARE
    progress: bool = False


@dataclass(frozen=True)
class PoiSet:
    """Classified and snapped POIs (WGS84 geometry) with their reports."""

    pois: gpd.GeoDataFrame  # one row per POI: source, name, category flags, snap columns
    report: ClassifyReport
    snapped: Snapped
    duplicate_rows: tuple[int, ...] = ()  # table rows dropped as exact repeats of an earlier row


@dataclass(frozen=True)
class Prepared:
    """Everything the foundation stages produce for one extract."""

    extract: OsmExtract
    network: WalkNetwork
    taxonomy: Taxonomy
    osm_pois: PoiSet
    table: PointTable | None
    table_pois: PoiSet | None
    water_checked: bool
    index: EdgeIndex
    water: WaterBarrier | None
    timings_s: dict[str, float] = field(default_factory=dict)


def prepare(
    osm_path: str | Path,
    *,
    options: Options = Options(),
    poi_table: str | Path | None = None,
    datum: Datum = "wgs84",
) -> Prepared:
    """Read an extract, build its walk network, classify and snap its POIs.

    Parameters
    ----------
    osm_path
        OSM extract (.osm.pbf / .osm / .osm.gz / .osm.bz2).
    options
        Taxonomy, snapping and component parameters.
    poi_table
        Optional planner table (CSV/XLSX/GeoJSON) of extra POIs.
    datum
        Datum of ``poi_table`` (``wgs84``, ``gcj02`` or ``bd09``).
    """
    timings: dict[str, float] = {}
    t = time.perf_counter()
    taxonomy = load_taxonomy(options.taxonomy_path)
    extract = read_osm(osm_path, poi_keys=taxonomy.candidate_keys, progress=options.progress)
    timings["read"] = time.perf_counter() - t
    t = time.perf_counter()
    network = build_walk_network(extract, region_min_share=options.region_min_share)
    timings["network"] = time.perf_counter() - t
    t = time.perf_counter()
    projector = Projector.for_crs(network.crs)
    index = EdgeIndex.build(network)
    water = WaterBarrier.from_frame(extract.water.to_crs(network.crs), crs=network.crs)
    osm_pois = _poi_set(
        extract.pois,
        extract.pois["tags"],
        taxonomy,
        index,
        projector,
        water,
        options.max_snap_m,
        source="osm",
    )
    table = table_pois = None
    if poi_table is not None:
        table = read_point_table(poi_table, datum=datum, bbox=extract.bbox)
        points, dup_rows = drop_duplicates(table.points)
        tags = points.drop(columns="geometry").astype(object).where(points.notna(), None)
        table_pois = _poi_set(
            points,
            tags.to_dict("records"),
            taxonomy,
            index,
            projector,
            water,
            options.max_snap_m,
            source="table",
        )
        table_pois = replace(table_pois, duplicate_rows=dup_rows)
    timings["pois_snap"] = time.perf_counter() - t
    return Prepared(
        extract,
        network,
        taxonomy,
        osm_pois,
        table,
        table_pois,
        water is not None,
        index,
        water,
        {k: round(v, 3) for k, v in timings.items()},
    )


def _poi_set(
    points: gpd.GeoDataFrame,
    tag_dicts: Any,
    taxonomy: Taxonomy,
    index: EdgeIndex,
    projector: Projector,
    water: WaterBarrier | None,
    max_snap_m: float,
    *,
    source: str,
) -> PoiSet:
    flags, report = classify_tags(taxonomy, list(tag_dicts))
    x, y = projector.to_xy(points.geometry.x.to_numpy(), points.geometry.y.to_numpy())
    snapped = snap_points(index, np.column_stack([x, y]), max_snap_m=max_snap_m, water=water)
    base = points.drop(columns=[c for c in ("tags",) if c in points.columns]).reset_index(drop=True)
    extra = pd.DataFrame(
        {
            "source": source,
            "edge": snapped.edge,
            "dist_along_m": snapped.dist_along_m,
            "snap_dist_m": snapped.snap_dist_m,
            "snap_status": snapped.status,
        }
    )
    frame = pd.concat([base, flags.reset_index(drop=True), extra], axis=1)
    return PoiSet(gpd.GeoDataFrame(frame, geometry="geometry", crs=points.crs), report, snapped)


DUPLICATE_DECIMALS = 5  # coordinates equal to 1e-5° (≈ 1 m) with the same name are repeats


def drop_duplicates(points: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, tuple[int, ...]]:
    """Drop rows repeating an earlier row's name and position (to ≈ 1 m); return their rows.

    Planner tables often list a shop twice (exported twice, merged sheets); counted twice it
    would inflate outlet counts. The first occurrence is kept and the repeats are reported.
    """
    if points.empty:
        return points, ()
    name = (
        points["name"].astype(str)
        if "name" in points.columns
        else pd.Series("", index=points.index)
    )
    key = pd.DataFrame(
        {
            "name": name.to_numpy(),
            "lon": points.geometry.x.round(DUPLICATE_DECIMALS).to_numpy(),
            "lat": points.geometry.y.round(DUPLICATE_DECIMALS).to_numpy(),
        }
    )
    dup = key.duplicated().to_numpy()
    rows = tuple(int(r) for r in points.loc[dup, "row"]) if "row" in points.columns else ()
    if dup.any():
        log.warning("%d duplicated POI row(s) dropped (same name and position)", int(dup.sum()))
    return points.loc[~dup].reset_index(drop=True), rows


def has_footways(extract: OsmExtract) -> bool:
    """Whether any walkable way is a footway/path/pedestrian street (not roads only)."""
    hw = extract.highways
    kinds = hw.attrs.loc[hw.walkable, "highway"]
    return bool(kinds.isin(FOOTWAY_HIGHWAYS).any())


def summary(prep: Prepared) -> dict[str, Any]:
    """Plain-data summary of a prepared extract (the ``info --json`` document)."""
    ex, net = prep.extract, prep.network
    cats = {}
    for c in prep.taxonomy.categories:
        osm_mask = prep.osm_pois.pois[c.id].to_numpy()
        row = {
            "name_zh": c.name_zh,
            "name_en": c.name_en,
            "status": c.status,
            "osm": int(osm_mask.sum()),
            "osm_unsnapped": int((osm_mask & ~prep.osm_pois.snapped.ok).sum()),
        }
        if prep.table_pois is not None:
            t_mask = prep.table_pois.pois[c.id].to_numpy()
            row["table"] = int(t_mask.sum())
            row["table_unsnapped"] = int((t_mask & ~prep.table_pois.snapped.ok).sum())
        cats[c.id] = row
    doc: dict[str, Any] = {
        "file": str(ex.source),
        "size_bytes": ex.source.stat().st_size,
        "bbox_wgs84": [round(v, 6) for v in ex.bbox],
        "crs": net.crs,
        "read": ex.stats.__dict__,
        "network": net.stats.__dict__,
        "footways": has_footways(ex),
        "water_features": len(ex.water),
        "water_checked_when_snapping": prep.water_checked,
        "context": {
            "named_streets": int(ex.highways.attrs["name"].notna().sum()),
            "buildings": len(ex.buildings),
            "landuse": len(ex.landuse),
            "admin_boundaries": len(ex.admin),
        },
        "poi_categories": cats,
        "osm_pois": _report_doc(prep.osm_pois),
        "max_snap_m": prep.osm_pois.snapped.max_snap_m,
        "datum_notes": datum_notes(prep),
        "notes": notes(prep),
        "timings_s": prep.timings_s,
    }
    if prep.table is not None and prep.table_pois is not None:
        doc["table_duplicates_dropped"] = list(prep.table_pois.duplicate_rows)
        doc["table"] = {
            "file": str(prep.table.source),
            "encoding": prep.table.encoding,
            "summary": prep.table.summary(),
            "problems": [{"row": p.row, "reason": p.reason} for p in prep.table.problems],
            **_report_doc(prep.table_pois),
        }
    return doc


def _report_doc(ps: PoiSet) -> dict[str, Any]:
    r = ps.report
    return {
        "candidates": r.total,
        "matched": r.matched,
        "unmatched": r.unmatched,
        "ignored": r.ignored,
        "excluded": r.excluded,
        "ambiguous": r.ambiguous,
        "top_unmatched": r.top_unmatched,
        "snap": ps.snapped.counts(),
    }


def datum_notes(prep: Prepared) -> list[str]:
    """What datum each input was in and what was done about it."""
    out = ["OSM extract: WGS84 (no conversion)"]
    if prep.table is not None:
        out.append(f"{prep.table.source.name}: {prep.table.datum_note}")
    return out


def notes(prep: Prepared) -> list[str]:
    """Caveats a planner must see next to the figures."""
    out = []
    if not has_footways(prep.extract):
        out.append(
            "no footways or paths in this extract: walking runs on the roads themselves, "
            "so reachability is a lower bound of real walkability"
        )
    if not prep.water_checked:
        out.append("no water features in this extract: snapping cannot check river crossings")
    if prep.network.stats.regions > 1:
        out.append(
            f"the walk network has {prep.network.stats.regions} separate regions "
            "(no walkable link between them in this extract, e.g. across the Huangpu)"
        )
    if prep.extract.stats.missing_node_refs:
        out.append(
            f"{prep.extract.stats.missing_node_refs} way nodes lie outside the extract; "
            "those ways were cut at the extract's edge"
        )
    return out
