"""``shangquan build``: every layer and score of one extract, written atomically.

A build is a folder ``OUT/<build_id>/`` holding ``shangquan.gpkg`` (opens in QGIS),
``parquet/<layer>.parquet`` (GeoParquet), ``tables/<table>.csv`` and ``manifest.json``
(inputs' sha256, parameters, package versions, stage timings, and every file's sha256).
It is written into ``OUT/.partial-<build_id>/`` and renamed only when complete; then
``OUT/LATEST`` (a one-line pointer, itself replaced atomically) names it. A failed or
interrupted build therefore never touches earlier builds; leftover partial folders are
removed by the next build. :func:`load_build` refuses a build whose files do not match
its manifest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.crs import WGS84
from geo.datum import Datum
from geo.errors import InputDataError
from geo.snap import Snapped, snap_points
from layers.catalogue import load_catalogue
from layers.coverage import (
    CategoryAccess,
    area_type_of_cells,
    category_access,
    cells_in_polygons,
    composite_score,
    gap_polygons,
    score_areas,
    score_cells,
)
from layers.demand import Demand, build_demand
from layers.districts import admin_layer, load_districts
from layers.night import (
    CENTRAL_CITY_ADCODES,
    central_city,
    merge_planner_entries,
    night_markets,
    nightlife_candidates,
    riverside_belt,
)
from layers.places import planning_layers
from layers.rules import DEFAULT_RULES, Rules, load_rules
from layers.themes import suggest_themed_streets
from shangquan import __version__
from shangquan.pipeline import Options, Prepared, datum_notes, notes, prepare

log = logging.getLogger(__name__)

GPKG = "shangquan.gpkg"
MANIFEST = "manifest.json"
LATEST = "LATEST"
PARTIAL_PREFIX = ".partial-"
PACKAGES = ("shangquan", "numpy", "scipy", "shapely", "pyproj", "geopandas", "pyogrio", "osmium")


@dataclass(frozen=True)
class BuildOptions:
    """Parameters of a build (recorded in the manifest)."""

    rules_path: Path = DEFAULT_RULES
    cell_m: float = 100.0
    default_levels: float = 1.0
    districts_path: Path | None = None
    place_files: tuple[Path, ...] = ()
    pipeline: Options = field(default_factory=Options)


@dataclass(frozen=True)
class BuildResult:
    """Everything computed for a build (kept in memory for the caller, e.g. the app)."""

    prep: Prepared
    rules: Rules
    demand: Demand
    demand_snap: Snapped
    outlets: dict[str, Snapped]
    access: dict[str, CategoryAccess]
    area_scores: pd.DataFrame
    composite: pd.DataFrame
    gaps: dict[str, gpd.GeoDataFrame]
    timings_s: dict[str, float]
    planning: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    place_scores: pd.DataFrame = field(default_factory=pd.DataFrame)
    layer_notes: tuple[str, ...] = ()


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@contextmanager
def _stage(timings: dict[str, float], name: str, report: Callable[[str], None]) -> Iterator[None]:
    report(name)
    t = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - t, 3)


def compute(
    osm: str | Path,
    *,
    poi: str | Path | None = None,
    datum: Datum = "wgs84",
    options: BuildOptions = BuildOptions(),
    report: Callable[[str], None] = lambda _: None,
) -> BuildResult:
    """Run every analysis stage in memory (no files written)."""
    timings: dict[str, float] = {}
    with _stage(timings, "prepare", report):
        prep = prepare(osm, options=options.pipeline, poi_table=poi, datum=datum)
        rules = load_rules(options.rules_path)
        districts = load_districts(options.districts_path)
    with _stage(timings, "layers", report):
        planning = planning_layers(
            load_catalogue(list(options.place_files)),
            streets=prep.extract.streets,
            named_nodes=prep.extract.named_nodes,
        )
        planning, layer_notes = _add_derived_layers(planning, prep, districts)
    with _stage(timings, "demand", report):
        areas = districts.rename(columns={"adcode": "area_id", "population_2020": "population"})
        demand = build_demand(
            areas,
            prep.extract,
            prep.network,
            cell_m=options.cell_m,
            default_levels=options.default_levels,
        )
        demand_snap = snap_points(
            prep.index, demand.xy, max_snap_m=options.pipeline.max_snap_m, water=prep.water
        )
        demand = _with_off_network(demand, demand_snap)
        layer_notes = (*layer_notes, *_placement_notes(demand))
    with _stage(timings, "access", report):
        outlets = category_outlets(prep, rules)
        access = {
            cat: category_access(
                prep.network,
                snapped,
                demand_snap,
                category=cat,
                cutoff_m=rules.max_distance_m(),
                count_radii_m=_count_radii(rules, cat),
            )
            for cat, snapped in outlets.items()
        }
    with _stage(timings, "scores", report):
        cells = demand.cells
        area_type = area_type_of_cells(cells, {"new_town": _polygons(planning["new_towns"])})
        per_cell = score_cells(cells, access, rules, area_type=area_type)
        groups = cells.set_index("cell_id")["area_id"]
        area_scores = score_areas(per_cell, groups, target_share=rules.target_share)
        composite = composite_score(area_scores, rules)
        place_polys = pd.concat([_polygons(planning[k]) for k in SCORED_PLACE_LAYERS])
        place_scores = score_areas(
            per_cell,
            cells_in_polygons(cells, place_polys, key="id"),
            target_share=rules.target_share,
        )
        gaps = {
            cat: gap_polygons(
                cells,
                acc,
                threshold_m=rules.categories[cat].gap_threshold_m,
                area_of_cell=cells["area_id"],
            )
            for cat, acc in access.items()
        }
    return BuildResult(
        prep,
        rules,
        demand,
        demand_snap,
        outlets,
        access,
        area_scores,
        composite,
        gaps,
        timings,
        planning,
        place_scores,
        layer_notes,
    )


#: The riverside belt follows the Huangpu on both banks: Puxi's central seven and Pudong.
BELT_DISTRICTS = (*CENTRAL_CITY_ADCODES, "310115")


def _add_derived_layers(
    planning: dict[str, gpd.GeoDataFrame], prep: Prepared, districts: gpd.GeoDataFrame
) -> tuple[dict[str, gpd.GeoDataFrame], tuple[str, ...]]:
    """Layers derived from the extract: night economy "1+12+X" and themed-street suggestions."""
    ex = prep.extract
    notes: tuple[str, ...] = ()
    try:
        clip = central_city(districts, adcodes=BELT_DISTRICTS)
    except InputDataError as exc:  # a planner's own district file without Shanghai's adcodes
        clip = None
        notes = (f"riverside belt not clipped to the central city: {exc}",)
    belt = riverside_belt(ex.water, clip_to=clip)
    out = dict(planning)
    out["riverside_belt"] = belt.layer
    out["nightlife_candidates"] = nightlife_candidates(ex.pois)
    out["night_markets"] = merge_planner_entries(night_markets(ex.pois), planning["night_markets"])
    out["themed_street_candidates"] = suggest_themed_streets(ex.streets, ex.pois)
    admin = admin_layer(ex.admin)
    out["osm_admin"] = admin.assign(
        id=[f"{k}:{n}" for k, n in zip(admin["kind"], admin["name_zh"], strict=True)]
    )
    notes = (*notes, belt.message) if belt.layer.empty else notes
    return out, notes


def _placement_notes(demand: Demand) -> tuple[str, ...]:
    """Say so when no district overlaps the extract (nobody could be placed)."""
    if demand.areas["demand_pop"].sum() > 0:
        return ()
    return (
        "no district of the district file overlaps this extract: no population was placed, "
        "so coverage scores are empty (pass a district file for this city)",
    )


#: Place layers scored like districts (OSM admin areas too: 街道/镇 when the extract has them).
SCORED_PLACE_LAYERS = (
    "two_streets",
    "four_districts",
    "new_towns",
    "municipal_centres",
    "osm_admin",
)


def _polygons(layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The polygon features of a planning layer (lines and points are not areas)."""
    return layer[layer.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]


def _with_off_network(demand: Demand, snapped: Snapped) -> Demand:
    """Record per area the people whose cell is beyond the snap distance of every edge.

    They stay in the scores as uncovered (nobody reaches them on foot in this network);
    this column says how many there are, so a gap is not mistaken for missing outlets.
    """
    off = demand.cells.loc[~snapped.ok, ["area_id", "pop"]].groupby("area_id")["pop"].sum()
    areas = demand.areas.assign(pop_off_network=demand.areas["area_id"].map(off).fillna(0.0))
    return replace(demand, areas=areas)


def _count_radii(rules: Rules, cat: str) -> dict[str, float] | None:
    rule = rules.categories[cat]
    if rule.min_count <= 1:
        return None
    return {t: rules.distance_m(t) for t in rule.tiers}


def category_outlets(prep: Prepared, rules: Rules) -> dict[str, Snapped]:
    """Snapped outlets per scored category, OSM and planner table together."""
    out = {}
    for cat in rules.categories:
        if cat not in prep.taxonomy.ids:
            continue
        parts = [prep.osm_pois.snapped.take(prep.osm_pois.pois[cat].to_numpy())]
        if prep.table_pois is not None:
            parts.append(prep.table_pois.snapped.take(prep.table_pois.pois[cat].to_numpy()))
        out[cat] = _concat(parts)
    return out


def _concat(parts: list[Snapped]) -> Snapped:
    if len(parts) == 1:
        return parts[0]
    from layers.whatif import concat_snapped

    return concat_snapped(parts[0], _concat(parts[1:]))


# ----------------------------------------------------------------------------- layers


def layer_frames(res: BuildResult) -> dict[str, pd.DataFrame]:
    """Every layer and table of a build (geometries in WGS84)."""
    prep, crs = res.prep, res.prep.network.crs
    cells = res.demand.cells
    cov = cells[["cell_id", "area_id", "method", "pop"]].copy()
    for cat, acc in res.access.items():
        cov[f"dist_{cat}"] = np.where(np.isfinite(acc.dist_m), acc.dist_m.round(1), np.nan)
    frames: dict[str, pd.DataFrame] = {
        "demand_cells": gpd.GeoDataFrame(cov, geometry=cells.geometry.values, crs=crs).to_crs(
            WGS84
        ),
        "network_edges": _edges_frame(res).to_crs(WGS84),
        "water": prep.extract.water[["kind", "name", "geometry"]],
        "pois": _pois_frame(prep),
        "districts": _district_frame(res),
        "area_scores": res.area_scores,
        "composite": res.composite,
        "demand_areas": res.demand.areas,
    }
    for name, layer in res.planning.items():
        frames[name] = layer
    if not res.place_scores.empty:
        frames["place_scores"] = res.place_scores
    for cat, g in res.gaps.items():
        frames[f"gaps_{cat}"] = (
            g.to_crs(WGS84) if not g.empty else g.set_crs(crs, allow_override=True).to_crs(WGS84)
        )
    return frames


def _edges_frame(res: BuildResult) -> gpd.GeoDataFrame:
    """Edges as lines (vectorised: each edge's segments in order, then its last vertex),
    with the ``highway`` class and ``name`` of their way for drawing a basemap."""
    net = res.prep.network
    order = np.lexsort((net.seg_offset_m, net.seg_edge))
    e = net.seg_edge[order]
    starts = np.flatnonzero(np.r_[True, e[1:] != e[:-1]])
    last = np.r_[starts[1:] - 1, len(order) - 1]
    n_edges = len(starts)
    verts = np.insert(net.seg_a[order], last + 1, net.seg_b[order][last])
    per_edge = np.repeat(np.arange(n_edges), last - starts + 1)
    idx = np.insert(per_edge, last + 1, np.arange(n_edges))
    lines = shapely.linestrings(net.vertex_xy[verts], indices=idx)
    eid = e[starts]
    way = net.edge_way_id[eid]
    hw = res.prep.extract.highways
    attrs = hw.attrs.assign(way_id=hw.way_id).drop_duplicates("way_id").set_index("way_id")
    return gpd.GeoDataFrame(
        {
            "edge": eid,
            "way_id": way,
            "highway": attrs["highway"].reindex(way).to_numpy(),
            "name": attrs["name"].reindex(way).to_numpy(),
            "length_m": net.edge_length_m[eid].round(2),
        },
        geometry=lines,
        crs=net.crs,
    )


def _pois_frame(prep: Prepared) -> gpd.GeoDataFrame:
    frames = [prep.osm_pois.pois] + ([prep.table_pois.pois] if prep.table_pois is not None else [])
    keep = [
        "source",
        "name",
        "categories",
        "excluded_from",
        "ambiguous",
        "snap_status",
        "snap_dist_m",
        "geometry",
    ]
    parts = [f[[c for c in keep if c in f.columns]] for f in frames]
    out = pd.concat(parts, ignore_index=True)
    out["name"] = out["name"].astype(object).where(out["name"].notna(), None)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84)


def _district_frame(res: BuildResult) -> gpd.GeoDataFrame:
    d = load_districts(None)
    comp = res.composite.rename(columns={"area": "adcode"})
    areas = res.demand.areas.rename(
        columns={"area_id": "adcode", "note": "placement_note", "method": "placement_method"}
    )[
        [
            "adcode",
            "covered_share",
            "demand_pop",
            "pop_off_network",
            "placement_method",
            "placement_note",
        ]
    ]
    out = d.merge(areas, on="adcode", how="left").merge(comp, on="adcode", how="left")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84)


# ----------------------------------------------------------------------------- writing


def run_build(
    osm: str | Path,
    out: str | Path,
    *,
    poi: str | Path | None = None,
    datum: Datum = "wgs84",
    options: BuildOptions = BuildOptions(),
    report: Callable[[str], None] = lambda _: None,
) -> Path:
    """Compute and write a build under ``out``; returns the finished build folder."""
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    clean_partials(root)
    t0 = time.perf_counter()
    res = compute(osm, poi=poi, datum=datum, options=options, report=report)
    build_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"
    partial = root / f"{PARTIAL_PREFIX}{build_id}"
    partial.mkdir()
    try:
        report("write")
        t = time.perf_counter()
        files = write_layers(layer_frames(res), partial)
        timings = {**res.timings_s, "write": round(time.perf_counter() - t, 3)}
        timings["total"] = round(time.perf_counter() - t0, 3)
        manifest = _manifest(res, osm, poi, datum, options, files, timings, build_id)
        _write_json_atomic(partial / MANIFEST, manifest)
        final = root / build_id
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    _write_text_atomic(root / LATEST, build_id + "\n")
    log.info("build %s written in %.1f s", final, timings["total"])
    return final


def clean_partials(root: Path) -> list[Path]:
    """Remove leftover ``.partial-*`` folders of interrupted builds."""
    removed = []
    for p in root.glob(f"{PARTIAL_PREFIX}*"):
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    if removed:
        log.warning("removed %d incomplete build(s): %s", len(removed), [p.name for p in removed])
    return removed


def write_layers(frames: dict[str, pd.DataFrame], folder: Path) -> dict[str, str]:
    """GeoPackage + GeoParquet + CSV tables; returns relative path → sha256."""
    gpkg = folder / GPKG
    (folder / "parquet").mkdir()
    (folder / "tables").mkdir()
    for name, df in frames.items():
        if isinstance(df, gpd.GeoDataFrame):
            pyogrio.write_dataframe(df, gpkg, layer=name, driver="GPKG")
            df.to_parquet(folder / "parquet" / f"{name}.parquet")
        else:
            pyogrio.write_dataframe(df, gpkg, layer=name, driver="GPKG")
            df.to_parquet(folder / "parquet" / f"{name}.parquet")
            df.to_csv(folder / "tables" / f"{name}.csv", index=False, encoding="utf-8-sig")
    return {
        str(p.relative_to(folder)): sha256_of(p) for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def _input_doc(path: str | Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    p = Path(path)
    return {"path": str(p.resolve()), "bytes": p.stat().st_size, "sha256": sha256_of(p)}


def _manifest(
    res: BuildResult,
    osm: str | Path,
    poi: str | Path | None,
    datum: Datum,
    options: BuildOptions,
    files: dict[str, str],
    timings: dict[str, float],
    build_id: str,
) -> dict[str, Any]:
    prep = res.prep
    return {
        "format": "shangquan-build/1",
        "build_id": build_id,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "shangquan": __version__,
        "inputs": {
            "osm": _input_doc(osm),
            "poi_table": _input_doc(poi),
            "poi_datum": datum if poi else None,
            "rules": _input_doc(options.rules_path),
            "taxonomy": _input_doc(options.pipeline.taxonomy_path),
        },
        "parameters": {
            "cell_m": options.cell_m,
            "default_levels": options.default_levels,
            "max_snap_m": options.pipeline.max_snap_m,
            "region_min_share": options.pipeline.region_min_share,
            "walk_speed_m_per_min": res.rules.walk_speed_m_per_min,
            "target_share": res.rules.target_share,
        },
        "network": asdict(prep.network.stats),
        "footways": "footway" in set(prep.extract.highways.attrs["highway"]),
        "datum_notes": datum_notes(prep),
        "notes": [*notes(prep), *res.layer_notes],
        "versions": _versions(),
        "timings_s": timings,
        "files": files,
    }


def _write_json_atomic(path: Path, doc: dict[str, Any]) -> None:
    _write_text_atomic(path, json.dumps(doc, ensure_ascii=False, indent=2, default=str))


def _write_text_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    Path(tmp).chmod(0o644)  # mkstemp creates 0600; builds are shared with QGIS users
    Path(tmp).replace(path)


# ----------------------------------------------------------------------------- reading


def resolve_build(path: str | Path) -> Path:
    """A build folder: ``path`` itself, or the one ``path/LATEST`` names."""
    p = Path(path)
    if (p / MANIFEST).is_file():
        return p
    pointer = p / LATEST
    if pointer.is_file():
        target = p / pointer.read_text(encoding="utf-8").strip()
        if (target / MANIFEST).is_file():
            return target
        msg = f"{pointer} names {target.name}, which is missing or incomplete; rebuild"
        raise InputDataError(msg)
    msg = f"{p}: not a shangquan build (no {MANIFEST} or {LATEST}); run 'shangquan build'"
    raise InputDataError(msg)


def load_manifest(path: str | Path, *, verify: bool = True) -> tuple[Path, dict[str, Any]]:
    """The build folder and its manifest, after checking every file's sha256."""
    folder = resolve_build(path)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        msg = f"{folder / MANIFEST}: damaged manifest ({exc}); rebuild"
        raise InputDataError(msg) from exc
    if verify:
        bad = [
            rel
            for rel, digest in manifest.get("files", {}).items()
            if not (folder / rel).is_file() or sha256_of(folder / rel) != digest
        ]
        if bad:
            msg = (
                f"{folder}: {len(bad)} file(s) missing or altered since the build "
                f"({', '.join(bad[:5])}); the build is refused — rebuild it"
            )
            raise InputDataError(msg)
    return folder, manifest


def read_table(folder: Path, name: str) -> pd.DataFrame:
    """One layer (GeoDataFrame) or table (DataFrame) of a verified build folder."""
    path = folder / "parquet" / f"{name}.parquet"
    if not path.is_file():
        msg = f"{folder}: the build has no layer {name!r}"
        raise InputDataError(msg)
    try:
        return gpd.read_parquet(path)
    except ValueError:  # no geometry metadata: a plain table
        return pd.read_parquet(path)
