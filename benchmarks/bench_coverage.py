"""Benchmark the coverage pipeline: per-category access, baselines, and the whole-city build.

Inputs are the scale series of ``make_scale_series.py`` (the real central-Shanghai roads
extract tiled k×k, up to 1,067,514 OSM nodes at k = 7), cached in ``benchmarks/_cache/``.
Every measurement runs in a FRESH SUBPROCESS, so its peak memory (``ru_maxrss``) is its own;
this process only orchestrates.

Scenario (built the same way, from fixed seeds, in every child)
    ``read_osm`` → ``build_walk_network`` → ``EdgeIndex.build``. Synthetic areas: the
    extract's bounding box cut into k×k tiles (one per copy of the source extract), each
    with ``population = 20,000 × its area in km²``; ``build_demand`` scales that by the
    share of the tile inside the network's hull, so each tile holds ≈ 20,000 residents
    per km² of hull. Demand cells (100 m) are snapped to the network. Outlets of a
    category: ``round(demand population / residents per outlet)`` points, placed in demand
    cells drawn with probability ∝ population, uniformly inside the cell, then snapped.

1. Per category (``category_access``)
    Timed on each size for three categories of different densities (convenience 1 per
    1,000 residents, supermarket 1 per 2,000, wet market 1 per 20,000), cutoff =
    ``rules.max_distance_m()``; median of ``--repeat`` calls. Target: ≤ 2 s per category
    on the 1M-node input.
2. Baselines (same network, same outlets, same cutoff)
    networkx: ``nx.multi_source_dijkstra_path_length(net.to_networkx(), sources, cutoff)``
    where sources are each outlet's nearest graph node (the end of its snapped edge that
    is nearer along the edge). shangquan runs ``distances_from`` on those same node
    sources, and the distances of both are compared at the nearest node of a sample of
    demand cells (must agree within 1 m). pandana (installed with pip if missing):
    ``pandana.Network`` from the CSR edges, ``precompute(cutoff)``, ``set_pois`` at the same
    node sources, ``nearest_pois``. Both are skipped above ``--baseline-max-nodes``.
3. Whole-city build
    ``shangquan.build.run_build`` (read → network → POIs → demand → access for every rules
    category → scores → gaps → write GeoPackage + GeoParquet + manifest) on the largest
    size, in a fresh subprocess, with a generated planner POI CSV (name,lng,lat, WGS84,
    names that ``data/poi_taxonomy.toml`` classifies) and a generated district GeoJSON:
    the 16 real districts unchanged plus, per tile, the part outside them (see
    :func:`hybrid_districts`; ``compute`` needs the real central districts). The only
    difference from ``shangquan build`` is ``BuildOptions(districts_path=...)``, which the
    CLI does not expose. Target on the 1M-node input: ≤ 3 min and ≤ 6 GB peak RSS.

Usage::

    python benchmarks/bench_coverage.py --quick              # sizes 1,2 (debugging)
    python benchmarks/bench_coverage.py --json out.json      # full series 1,2,4,5,7

Exit status: 0 when every evaluated target is met, 1 when one is missed, 2 when a
shangquan run failed (baseline failures are reported in the tables only).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared" / "data"
DEFAULT_CACHE = REPO / "benchmarks" / "_cache"
GENERATOR = Path(__file__).resolve().with_name("make_scale_series.py")

TARGET_NODES = 1_000_000
TARGET_CATEGORY_S = 2.0
TARGET_BUILD_S = 180.0
TARGET_BUILD_MB = 6144.0  # 6 GB (MiB, as ru_maxrss is in KiB)
AGREE_M = 1.0

DENSITY_PER_KM2 = 20_000.0  # residents per km² of each tile's area (scaled to the hull)
CELL_M = 100.0
SEED = 20_251_104
SAMPLE_CELLS = 5_000  # demand cells whose nearest-node distances are compared
#: The three categories of the per-category figure: residents per outlet.
BENCH_CATEGORIES: dict[str, int] = {
    "convenience": 1_000,
    "supermarket": 2_000,
    "wet_market": 20_000,
}
#: Residents per outlet and planner-table names (classified by data/poi_taxonomy.toml)
#: for the whole-city build.
BUILD_POIS: dict[str, tuple[int, tuple[str, ...]]] = {
    "breakfast": (2_000, ("巴比馒头", "肯德基", "早餐店")),
    "wet_market": (20_000, ("菜市场", "农贸市场")),
    "fresh_food": (5_000, ("钱大妈", "生鲜店")),
    "supermarket": (2_000, ("测试超市", "联华超市")),
    "convenience": (1_000, ("全家便利店", "罗森")),
    "bakery": (5_000, ("85度C", "面包房")),
    "pharmacy": (3_000, ("国大药房", "药房")),
    "parcel_locker": (1_000, ("丰巢快递柜", "菜鸟驿站")),
    "restaurant": (500, ("兰州拉面馆", "家常饭店")),
    "canteen": (20_000, ("社区长者食堂", "助餐点")),
    "clinic": (10_000, ("社区卫生服务站", "诊所")),
}
BUILD_INPUT_VERSION = 2  # bump when the generated POI table / districts change
CHILD_TIMEOUT_S = 3600.0
RESULT_PREFIX = "RESULT "


# --------------------------------------------------------------------------- child side


def _peak_mb() -> float:
    """Peak resident set size of this process in MiB (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _status_mb(field: str) -> float | None:
    """``VmRSS`` / ``VmHWM`` of this process from /proc, in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def _scale_file(cache: Path, k: int) -> Path:
    return cache / f"shanghai_tiles_k{k}.osm.pbf"


def tile_areas(bbox: tuple[float, float, float, float], k: int, crs: str) -> Any:
    """k×k tiles over the extract's bbox (WGS84), population = density × tile area."""
    import geopandas as gpd
    import numpy as np
    import shapely

    lon0, lat0, lon1, lat1 = bbox
    dlon, dlat = (lon1 - lon0) / k, (lat1 - lat0) / k
    geoms, ids = [], []
    for row in range(k):
        for col in range(k):
            geoms.append(
                shapely.box(
                    lon0 + col * dlon,
                    lat0 + row * dlat,
                    lon0 + (col + 1) * dlon,
                    lat0 + (row + 1) * dlat,
                )
            )
            ids.append(f"99{row * k + col:04d}")  # six digits, as load_districts requires
    areas = gpd.GeoDataFrame({"area_id": ids}, geometry=geoms, crs="EPSG:4326")
    km2 = areas.to_crs(crs).area.to_numpy() / 1e6
    areas["population"] = np.round(DENSITY_PER_KM2 * km2).astype(np.int64)
    areas["area_km2"] = km2.round(1)
    return areas


def outlet_xy(demand: Any, n: int, seed: int) -> Any:
    """``n`` points in demand cells drawn ∝ population, uniform inside the cell."""
    import numpy as np

    rng = np.random.default_rng(seed)
    pop = demand.cells["pop"].to_numpy(float)
    pick = rng.choice(len(pop), size=n, p=pop / pop.sum())
    jitter = rng.uniform(-demand.cell_m / 2, demand.cell_m / 2, size=(n, 2))
    return demand.xy[pick] + jitter


def build_scenario(
    cache: Path, k: int, categories: dict[str, int], *, real_districts: bool = False
) -> dict[str, Any]:
    """Network, demand cells and snapped outlets of size ``k`` (deterministic).

    Areas are the k×k tiles; with ``real_districts`` the real districts where they overlap
    the extract plus the rest of each tile (see :func:`hybrid_districts`).
    """
    from geo.network import build_walk_network
    from geo.osm import read_osm
    from geo.snap import EdgeIndex, snap_points
    from layers.demand import build_demand

    t = {}
    t0 = time.perf_counter()
    extract = read_osm(_scale_file(cache, k))
    t["read_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    net = build_walk_network(extract)
    t["network_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = EdgeIndex.build(net)
    t["index_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    districts = None
    if real_districts:
        districts = hybrid_districts(extract.bbox, k, net.crs)
        areas = districts.rename(columns={"adcode": "area_id", "population_2020": "population"})
    else:
        areas = tile_areas(extract.bbox, k, net.crs)
    demand = build_demand(areas, extract, net, cell_m=CELL_M)
    t["demand_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    demand_snap = snap_points(index, demand.xy)
    t["demand_snap_s"] = time.perf_counter() - t0
    pop = float(demand.cells["pop"].sum())
    outlets = {}
    t0 = time.perf_counter()
    for i, (cat, per) in enumerate(categories.items()):
        n = max(1, round(pop / per))
        outlets[cat] = snap_points(index, outlet_xy(demand, n, SEED + 1000 * k + i))
    t["outlet_snap_s"] = time.perf_counter() - t0
    return {
        "extract": extract,
        "net": net,
        "index": index,
        "areas": areas,
        "districts": districts,
        "demand": demand,
        "demand_snap": demand_snap,
        "outlets": outlets,
        "pop": pop,
        "timings": {key: round(v, 3) for key, v in t.items()},
    }


def child_access(cache: Path, k: int, repeat: int) -> dict[str, Any]:
    """Time ``category_access`` for the three benchmark categories."""
    import numpy as np

    from layers.coverage import category_access
    from layers.rules import load_rules

    rules = load_rules()
    cutoff = rules.max_distance_m()
    sc = build_scenario(cache, k, BENCH_CATEGORIES)
    net, demand_snap = sc["net"], sc["demand_snap"]
    rss_before = _status_mb("VmRSS")
    cats = {}
    for cat, snapped in sc["outlets"].items():
        times = []
        acc = None
        for _ in range(repeat):
            t0 = time.perf_counter()
            acc = category_access(net, snapped, demand_snap, category=cat, cutoff_m=cutoff)
            times.append(time.perf_counter() - t0)
        assert acc is not None
        reached = np.isfinite(acc.dist_m)
        cats[cat] = {
            "residents_per_outlet": BENCH_CATEGORIES[cat],
            "outlets": len(snapped.edge),
            "outlets_snapped": int(snapped.ok.sum()),
            "times_s": [round(x, 4) for x in times],
            "median_s": float(np.median(times)),
            "min_s": float(np.min(times)),
            "reached_cells": int(reached.sum()),
            "median_dist_m": float(np.median(acc.dist_m[reached])) if reached.any() else None,
        }
    return {
        "k": k,
        "cutoff_m": cutoff,
        "network": sc["net"].stats.__dict__,
        "demand_cells": len(sc["demand"].cells),
        "demand_snapped": int(demand_snap.ok.sum()),
        "demand_pop": sc["pop"],
        "setup_s": sc["timings"],
        "categories": cats,
        "rss_before_access_mb": rss_before,
        "peak_mb": _peak_mb(),
    }


def node_sources(net: Any, snapped: Any) -> Any:
    """Nearest graph node of each snapped outlet (the nearer end of its edge)."""
    import numpy as np

    ok = snapped.ok
    e = snapped.edge[ok]
    along = snapped.dist_along_m[ok]
    near_u = along <= net.edge_length_m[e] / 2
    return np.where(near_u, net.edge_u[e], net.edge_v[e]).astype(np.int64)


def snapped_at_nodes(net: Any, nodes: Any) -> Any:
    """A :class:`Snapped` that puts one source exactly on each node (no access leg)."""
    import numpy as np

    from geo.snap import Snapped, SnapStatus

    n_edges = len(net.edge_u)
    edge_of = np.full(net.n_nodes, -1, dtype=np.int64)
    at_v = np.zeros(net.n_nodes, dtype=bool)
    edge_of[net.edge_v] = np.arange(n_edges)
    at_v[net.edge_v] = True
    edge_of[net.edge_u] = np.arange(n_edges)  # where a node is some edge's u, use that
    at_v[net.edge_u] = False
    e = edge_of[nodes]
    along = np.where(at_v[nodes], net.edge_length_m[e], 0.0)
    m = len(nodes)
    return Snapped(
        edge=e,
        dist_along_m=along,
        snap_dist_m=np.zeros(m),
        snapped_xy=net.node_xy[nodes],
        status=np.full(m, SnapStatus.SNAPPED, dtype=np.int8),
        max_snap_m=0.0,
    )


def _sample_nodes(net: Any, demand_snap: Any, k: int) -> Any:
    """The nearest graph node of a fixed sample of snapped demand cells."""
    import numpy as np

    ok = np.flatnonzero(demand_snap.ok)
    rng = np.random.default_rng(SEED + k)
    pick = rng.choice(ok, size=min(SAMPLE_CELLS, len(ok)), replace=False)
    e = demand_snap.edge[pick]
    along = demand_snap.dist_along_m[pick]
    return np.where(along <= net.edge_length_m[e] / 2, net.edge_u[e], net.edge_v[e])


def _compare(ours: Any, theirs: Any, cutoff: float) -> dict[str, Any]:
    """Max |difference| where both reach the node; reach disagreements away from the cutoff."""
    import numpy as np

    both = np.isfinite(ours) & np.isfinite(theirs)
    diff = np.abs(ours[both] - theirs[both])
    only = np.isfinite(ours) != np.isfinite(theirs)
    finite_one = np.where(np.isfinite(ours), ours, theirs)
    edge_case = only & (finite_one > cutoff - AGREE_M)  # reached by one, just at the cutoff
    return {
        "sample": len(ours),
        "both_reached": int(both.sum()),
        "max_abs_diff_m": float(diff.max()) if len(diff) else None,
        "reach_mismatch": int(only.sum()),
        "reach_mismatch_not_at_cutoff": int((only & ~edge_case).sum()),
    }


def child_networkx(cache: Path, k: int) -> dict[str, Any]:
    """networkx multi-source Dijkstra vs shangquan, same node sources, same cutoff."""
    import networkx as nx
    import numpy as np

    from geo.route import distances_from
    from layers.coverage import category_access
    from layers.rules import load_rules

    rules = load_rules()
    cutoff = rules.max_distance_m()
    sc = build_scenario(cache, k, BENCH_CATEGORIES)
    net = sc["net"]
    sample = _sample_nodes(net, sc["demand_snap"], k)
    t0 = time.perf_counter()
    graph = net.to_networkx()
    convert_s = time.perf_counter() - t0
    cats = {}
    for cat, snapped in sc["outlets"].items():
        src = np.unique(node_sources(net, snapped))
        t0 = time.perf_counter()
        nx_d = nx.multi_source_dijkstra_path_length(
            graph, [int(s) for s in src], cutoff=cutoff, weight="length"
        )
        nx_s = time.perf_counter() - t0
        at_nodes = snapped_at_nodes(net, src)
        t0 = time.perf_counter()
        ours = distances_from(net, at_nodes, cutoff_m=cutoff, include_access=False)
        ours_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        category_access(net, snapped, sc["demand_snap"], category=cat, cutoff_m=cutoff)
        access_s = time.perf_counter() - t0
        theirs = np.array([nx_d.get(int(n), np.inf) for n in sample])
        cats[cat] = {
            "sources": len(src),
            "networkx_s": nx_s,
            "networkx_reached_nodes": len(nx_d),
            "ours_node_sources_s": ours_s,
            "ours_category_access_s": access_s,
            "ours_reached_nodes": int(np.isfinite(ours.dist_m).sum()),
            "agreement": _compare(ours.dist_m[sample], theirs, cutoff),
        }
    return {
        "k": k,
        "graph_nodes": graph.number_of_nodes(),
        "graph_edges": graph.number_of_edges(),
        "convert_s": convert_s,
        "categories": cats,
        "peak_mb": _peak_mb(),
    }


def child_pandana(cache: Path, k: int) -> dict[str, Any]:
    """pandana (contraction hierarchies) on the CSR edges, same node sources, same cutoff."""
    import numpy as np
    import pandana
    import pandas as pd
    import scipy.sparse as sp

    from geo.route import distances_from
    from layers.rules import load_rules

    rules = load_rules()
    cutoff = rules.max_distance_m()
    sc = build_scenario(cache, k, BENCH_CATEGORIES)
    net = sc["net"]
    sample = _sample_nodes(net, sc["demand_snap"], k)
    xy = net.node_xy
    upper = sp.triu(net.graph, format="coo")
    t0 = time.perf_counter()
    pnet = pandana.Network(
        pd.Series(xy[:, 0]),
        pd.Series(xy[:, 1]),
        pd.Series(upper.row.astype(np.int64)),
        pd.Series(upper.col.astype(np.int64)),
        pd.DataFrame({"length": upper.data}),
        twoway=True,
    )
    build_s = time.perf_counter() - t0
    rss_after_build = _status_mb("VmRSS")
    t0 = time.perf_counter()
    pnet.precompute(cutoff)
    precompute_s = time.perf_counter() - t0
    rss_after_precompute = _status_mb("VmRSS")
    cats = {}
    for cat, snapped in sc["outlets"].items():
        src = np.unique(node_sources(net, snapped))
        t0 = time.perf_counter()
        pnet.set_pois(cat, cutoff, 1, pd.Series(xy[src, 0]), pd.Series(xy[src, 1]))
        set_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = pnet.nearest_pois(cutoff, cat, num_pois=1)
        query_s = time.perf_counter() - t0
        d = res.iloc[:, 0].to_numpy(float)
        d = np.where(d >= cutoff, np.inf, d)  # pandana fills "none within" with the distance
        ours = distances_from(
            net, snapped_at_nodes(net, src), cutoff_m=cutoff, include_access=False
        ).dist_m
        mapped = pnet.get_node_ids(pd.Series(xy[src, 0]), pd.Series(xy[src, 1])).to_numpy()
        cats[cat] = {
            "sources": len(src),
            "sources_mapped_to_other_node": int((mapped != src).sum()),
            "set_pois_s": set_s,
            "nearest_pois_s": query_s,
            "agreement": _compare(ours[sample], d[sample], cutoff),
        }
    return {
        "k": k,
        "network_s": build_s,
        "precompute_s": precompute_s,
        "rss_after_network_mb": rss_after_build,
        "rss_after_precompute_mb": rss_after_precompute,
        "categories": cats,
        "peak_mb": _peak_mb(),
        "pandana": version("pandana"),
    }


def child_prep_build(cache: Path, k: int) -> dict[str, Any]:
    """Write the planner POI CSV and the district GeoJSON for the build of size ``k``."""
    import numpy as np
    import pandas as pd

    from geo.crs import Projector

    sc = build_scenario(cache, k, {}, real_districts=True)
    net, demand, extract = sc["net"], sc["demand"], sc["extract"]
    proj = Projector.for_crs(net.crs)
    parts = []
    rng = np.random.default_rng(SEED + k)
    for i, (per, names) in enumerate(BUILD_POIS.values()):
        n = max(1, round(sc["pop"] / per))
        xy = outlet_xy(demand, n, SEED + 5000 + 1000 * k + i)
        lon, lat = proj.to_lonlat(xy[:, 0], xy[:, 1])
        name = np.asarray(names, dtype=object)[rng.integers(0, len(names), n)]
        parts.append(pd.DataFrame({"name": name, "lng": lon.round(7), "lat": lat.round(7)}))
    table = pd.concat(parts, ignore_index=True)
    lon0, lat0, lon1, lat1 = extract.bbox
    inside = table["lng"].between(lon0, lon1) & table["lat"].between(lat0, lat1)
    table = table[inside].sample(frac=1.0, random_state=SEED).reset_index(drop=True)
    csv, geojson, meta = build_input_paths(cache, k)
    table.to_csv(csv, index=False, encoding="utf-8")
    districts = sc["districts"]
    if geojson.exists():
        geojson.unlink()
    districts.to_file(geojson, driver="GeoJSON", engine="pyogrio")
    doc = {
        "version": BUILD_INPUT_VERSION,
        "k": k,
        "pois": len(table),
        "pois_dropped_outside_bbox": int((~inside).sum()),
        "pois_per_category": {
            cat: max(1, round(sc["pop"] / per)) for cat, (per, _) in BUILD_POIS.items()
        },
        "districts": len(districts),
        "real_districts": int((~districts["adcode"].str.startswith("99")).sum()),
        "tile_remainders": int(districts["adcode"].str.startswith("99").sum()),
        "demand_pop": sc["pop"],
        "demand_pop_real_districts": float(
            demand.cells.loc[~demand.cells["area_id"].str.startswith("99"), "pop"].sum()
        ),
        "demand_cells_real_districts": int((~demand.cells["area_id"].str.startswith("99")).sum()),
        "demand_cells": len(demand.cells),
    }
    meta.write_text(json.dumps(doc, indent=2))
    return doc


def hybrid_districts(bbox: tuple[float, float, float, float], k: int, crs: str) -> Any:
    """The real districts (``data/districts.geojson``, unchanged) plus the rest of each tile.

    ``run_build`` needs the real central districts (the riverside-belt layer is clipped to
    them), and the tiled extract reaches far beyond Shanghai (into the sea and Jiangsu).
    So the district file is: the 16 real districts as they are (census population), and for
    each tile the part outside every real district, with ``DENSITY_PER_KM2`` residents per
    km² (adcode ``99xxxx``; parts under 0.01 km² are dropped).
    """
    import pandas as pd
    import shapely

    from layers.districts import load_districts

    real = load_districts(None)
    tiles = tile_areas(bbox, k, crs)
    rest = shapely.difference(tiles.geometry.values, shapely.union_all(real.geometry.values))
    tiles = tiles.set_geometry(rest)
    tiles = tiles[~shapely.is_empty(rest)]
    km2 = tiles.to_crs(crs).area.to_numpy() / 1e6
    tiles = tiles.assign(area_km2=km2.round(2), population=(DENSITY_PER_KM2 * km2).round())
    tiles = tiles[km2 >= 0.01]
    out = pd.concat([real, district_frame(tiles)], ignore_index=True)
    return out.set_crs("EPSG:4326", allow_override=True)


def district_frame(areas: Any) -> Any:
    """Areas (``area_id``, ``population``, ``area_km2``) in the schema ``load_districts`` checks."""
    import geopandas as gpd

    from layers.districts import DISTRICT_COLUMNS

    n = len(areas)
    cols: dict[str, Any] = {
        "adcode": areas["area_id"].tolist(),
        "name_zh": [f"测试区{a}" for a in areas["area_id"]],
        "name_en": [f"Benchmark tile remainder {a}" for a in areas["area_id"]],
        "population_2020": areas["population"].astype(int).tolist(),
        "area_km2": areas["area_km2"].tolist(),
        "area_km2_official": areas["area_km2"].tolist(),
        "status": ["assumption"] * n,
        "source": ["bench_coverage.py: tile part outside every real district"] * n,
        "population_status": ["assumption"] * n,
        "population_source": [f"{DENSITY_PER_KM2:,.0f} residents per km² (synthetic)"] * n,
        "note": [None] * n,
        "checked": ["2026-11-24"] * n,
    }
    assert list(cols) == list(DISTRICT_COLUMNS)
    return gpd.GeoDataFrame(cols, geometry=list(areas.geometry.values), crs="EPSG:4326")


def build_input_paths(cache: Path, k: int) -> tuple[Path, Path, Path]:
    stem = cache / f"coverage_k{k}"
    return (
        stem.with_name(stem.name + "_poi.csv"),
        stem.with_name(stem.name + "_districts.geojson"),
        stem.with_name(stem.name + "_inputs.meta.json"),
    )


def child_build(cache: Path, k: int, keep: Path | None, profile: Path | None) -> dict[str, Any]:
    """``run_build`` on size ``k`` with the generated POI table and districts."""
    import pandas as pd

    from shangquan.build import BuildOptions, run_build

    csv, geojson, _ = build_input_paths(cache, k)
    out = keep if keep is not None else Path(tempfile.mkdtemp(prefix="bench_coverage_build_"))
    stages: list[dict[str, Any]] = []

    def report(stage: str) -> None:
        stages.append(
            {"stage": stage, "t_s": time.perf_counter() - t0, "rss_mb": _status_mb("VmRSS")}
        )

    rss_start = _status_mb("VmRSS")
    t0 = time.perf_counter()
    options = BuildOptions(districts_path=geojson)
    if profile is not None:
        import cProfile

        prof = cProfile.Profile()
        folder = prof.runcall(
            run_build,
            _scale_file(cache, k),
            out,
            poi=csv,
            datum="wgs84",
            options=options,
            report=report,
        )
        prof.dump_stats(str(profile))
    else:
        folder = run_build(
            _scale_file(cache, k), out, poi=csv, datum="wgs84", options=options, report=report
        )
    wall = time.perf_counter() - t0
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    files = {p.name: p.stat().st_size for p in folder.rglob("*") if p.is_file()}
    pois = pd.read_parquet(
        folder / "parquet" / "pois.parquet", columns=["source", "categories", "snap_status"]
    )
    cells = pd.read_parquet(folder / "parquet" / "demand_cells.parquet", columns=["cell_id"])
    result = {
        "k": k,
        "wall_s": wall,
        "timings_s": manifest["timings_s"],
        "network": manifest["network"],
        "stages": stages,
        "rss_start_mb": rss_start,
        "peak_mb": _peak_mb(),
        "vm_hwm_mb": _status_mb("VmHWM"),
        "output_mb": sum(files.values()) / 2**20,
        "gpkg_mb": files.get("shangquan.gpkg", 0) / 2**20,
        "notes": manifest["notes"],
        "pois": len(pois),
        "pois_snapped": int((pois["snap_status"] == 0).sum()),
        "pois_by_category": pois["categories"].value_counts().to_dict(),
        "pois_by_source": pois["source"].value_counts().to_dict(),
        "demand_cells": len(cells),
        "profiled": profile is not None,
    }
    if keep is None:
        shutil.rmtree(out, ignore_errors=True)
    return result


def run_child(args: argparse.Namespace) -> int:
    """Entry point of a subprocess: one measurement, one JSON line on stdout."""
    sys.path.insert(0, str(REPO))
    k = args.k
    if args.child == "access":
        result = child_access(args.cache, k, args.repeat)
    elif args.child == "networkx":
        result = child_networkx(args.cache, k)
    elif args.child == "pandana":
        result = child_pandana(args.cache, k)
    elif args.child == "prep-build":
        result = child_prep_build(args.cache, k)
    else:
        result = child_build(args.cache, k, args.keep_build, args.profile_out)
    print(RESULT_PREFIX + json.dumps(result, default=str), flush=True)
    return 0


# -------------------------------------------------------------------------- parent side


def spawn(mode: str, k: int, args: argparse.Namespace, **extra: Any) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; returns its result or a failure status."""
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        mode,
        "--k",
        str(k),
        "--cache",
        str(args.cache),
        "--repeat",
        str(args.repeat),
    ]
    for key, value in extra.items():
        if value is not None:
            cmd += [f"--{key.replace('_', '-')}", str(value)]
    load_start = os.getloadavg()
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "timeout_s": CHILD_TIMEOUT_S}
    wall = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_PREFIX)]
    if proc.returncode != 0 or not lines:
        err = proc.stderr.strip().splitlines()
        return {
            "status": "error",
            "returncode": proc.returncode,
            "error": err[-1] if err else "",
            "stderr": "\n".join(err[-12:]),
        }
    result: dict[str, Any] = json.loads(lines[-1][len(RESULT_PREFIX) :])
    result["status"] = "ok"
    result["process_wall_s"] = wall
    # 1-minute load average before and after (2 cores: > 2 means other work was running)
    result["loadavg_1m"] = [round(load_start[0], 2), round(os.getloadavg()[0], 2)]
    return result


def prepare_inputs(sizes: list[int], shared: Path, cache: Path) -> dict[int, dict[str, Any]]:
    """Build or reuse the scale series (as bench_network.py does), return each size's meta."""
    cmd = [
        sys.executable,
        str(GENERATOR),
        "--sizes",
        ",".join(map(str, sizes)),
        "--shared",
        str(shared),
        "--cache",
        str(cache),
    ]
    subprocess.run(cmd, check=True)
    return {k: json.loads((cache / f"shanghai_tiles_k{k}.meta.json").read_text()) for k in sizes}


def ensure_pandana() -> dict[str, Any]:
    """Import pandana, or try ``pip install pandana`` into this interpreter; the outcome."""
    probe = [sys.executable, "-c", "import pandana; print(pandana.__version__)"]
    first = subprocess.run(probe, capture_output=True, text=True, check=False)
    if first.returncode == 0:
        return {"status": "ok", "how": "already installed", "version": first.stdout.strip()}
    cmd = [sys.executable, "-m", "pip", "install", "pandana"]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    except subprocess.TimeoutExpired:
        return {"status": "error", "how": "pip install pandana", "error": "timeout after 900 s"}
    secs = time.perf_counter() - t0
    out = (proc.stdout + "\n" + proc.stderr).strip().splitlines()
    out = [ln for ln in out if "is ignored: it is neither a file nor a directory" not in ln]
    if proc.returncode != 0:
        errors = [ln for ln in out if "error" in ln.lower()]
        return {
            "status": "error",
            "how": "pip install pandana",
            "returncode": proc.returncode,
            "error": (errors or out or [""])[-1],
            "tail": out[-15:],
        }
    second = subprocess.run(probe, capture_output=True, text=True, check=False)
    if second.returncode != 0:
        err = second.stderr.strip().splitlines()
        return {
            "status": "error",
            "how": "pip install pandana succeeded, import failed",
            "error": err[-1] if err else "",
        }
    installed = [ln for ln in out if ln.startswith("Successfully installed")]
    return {
        "status": "ok",
        "how": f"pip install pandana ({secs:.0f} s)",
        "version": second.stdout.strip(),
        "installed": installed[-1] if installed else "",
    }


def machine_info() -> dict[str, Any]:
    """Where the figures were measured."""

    def pkg(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    cpu, mem_gb = "unknown", None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    names = ("numpy", "scipy", "shapely", "geopandas", "pyogrio", "networkx", "pandana")
    return {
        "cpu": cpu,
        "nproc": len(os.sched_getaffinity(0)),
        "mem_total_gb": mem_gb,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": {n: pkg(n) for n in names},
    }


# ------------------------------------------------------------------------------ tables


def render_table(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown table (pipes), columns right-aligned except the first."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        out = [cells[0].ljust(widths[0])]
        out += [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "| " + " | ".join(out) + " |"

    sep = (
        "|"
        + "|".join([":" + "-" * (widths[0] + 1)] + ["-" * (w + 1) + ":" for w in widths[1:]])
        + "|"
    )
    return "\n".join([line(headers), sep, *(line(r) for r in rows)])


def _status_cell(r: dict[str, Any]) -> str:
    status = r.get("status")
    if status == "skipped":
        return f"skipped (> {r['max_nodes']:,} nodes)"
    if status == "timeout":
        return f"timeout (> {r['timeout_s']:.0f} s)"
    if status == "error":
        return "error"
    return str(status or "-")


def access_table(rows: list[dict[str, Any]]) -> str:
    headers = ["input", "raw nodes", "graph nodes", "demand cells", "demand pop"]
    for cat, per in BENCH_CATEGORIES.items():
        headers += [f"{cat} outlets (1/{per:,})", f"{cat} s"]
    headers += ["peak MB"]
    out = []
    for row in rows:
        a = row["access"]
        if a.get("status") != "ok":
            out.append([row["input"], f"{row['nodes']:,}"] + [_status_cell(a)] * (len(headers) - 2))
            continue
        cells = [
            row["input"],
            f"{row['nodes']:,}",
            f"{a['network']['nodes']:,}",
            f"{a['demand_cells']:,}",
            f"{a['demand_pop'] / 1e6:,.1f}M",
        ]
        for cat in BENCH_CATEGORIES:
            c = a["categories"][cat]
            cells += [f"{c['outlets']:,}", f"{c['median_s']:.3f}"]
        cells.append(f"{a['peak_mb']:,.0f}")
        out.append(cells)
    return render_table(headers, out)


def setup_table(rows: list[dict[str, Any]]) -> str:
    headers = [
        "input",
        "read s",
        "network s",
        "index s",
        "demand s",
        "snap demand s",
        "snap outlets s",
        "cells reached (conv / super / wet)",
        "median dist m (conv / super / wet)",
    ]
    out = []
    for row in rows:
        a = row["access"]
        if a.get("status") != "ok":
            continue
        s = a["setup_s"]
        cats = [a["categories"][c] for c in BENCH_CATEGORIES]
        out.append(
            [
                row["input"],
                f"{s['read_s']:.2f}",
                f"{s['network_s']:.2f}",
                f"{s['index_s']:.2f}",
                f"{s['demand_s']:.2f}",
                f"{s['demand_snap_s']:.2f}",
                f"{s['outlet_snap_s']:.2f}",
                " / ".join(f"{c['reached_cells'] / a['demand_cells']:.1%}" for c in cats),
                " / ".join(f"{c['median_dist_m']:.0f}" for c in cats),
            ]
        )
    return render_table(headers, out)


def baseline_table(rows: list[dict[str, Any]]) -> str:
    headers = [
        "input",
        "category",
        "node sources",
        "shangquan access s",
        "shangquan node-src s",
        "networkx s",
        "nx / shangquan",
        "nx max abs diff m",
        "pandana nearest_pois s",
        "pandana max abs diff m",
    ]
    out = []
    for row in rows:
        nxr, pdr = row["networkx"], row["pandana"]
        for cat in BENCH_CATEGORIES:
            n_ok, p_ok = nxr.get("status") == "ok", pdr.get("status") == "ok"
            c = nxr["categories"][cat] if n_ok else {}
            p = pdr["categories"][cat] if p_ok else {}
            src = c.get("sources", p.get("sources"))
            out.append(
                [
                    row["input"],
                    cat,
                    f"{src:,}" if src is not None else "-",
                    f"{c['ours_category_access_s']:.3f}" if n_ok else "-",
                    f"{c['ours_node_sources_s']:.3f}" if n_ok else "-",
                    f"{c['networkx_s']:.2f}" if n_ok else _status_cell(nxr),
                    f"{c['networkx_s'] / c['ours_node_sources_s']:.0f}x" if n_ok else "-",
                    _agree_cell(c) if n_ok else "-",
                    f"{p['nearest_pois_s']:.3f}" if p_ok else _status_cell(pdr),
                    _agree_cell(p) if p_ok else "-",
                ]
            )
    return render_table(headers, out)


def _agree_cell(c: dict[str, Any]) -> str:
    a = c["agreement"]
    d = a["max_abs_diff_m"]
    text = f"{d:.4f}" if d is not None else "-"
    if a["reach_mismatch_not_at_cutoff"]:
        text += f" ({a['reach_mismatch_not_at_cutoff']} reach mismatches)"
    return text


def baseline_setup_table(rows: list[dict[str, Any]]) -> str:
    headers = [
        "input",
        "to_networkx s",
        "nx graph nodes / edges",
        "nx peak MB",
        "pandana Network s",
        "pandana precompute s",
        "pandana peak MB",
    ]
    out = []
    for row in rows:
        nxr, pdr = row["networkx"], row["pandana"]
        n_ok, p_ok = nxr.get("status") == "ok", pdr.get("status") == "ok"
        out.append(
            [
                row["input"],
                f"{nxr['convert_s']:.2f}" if n_ok else _status_cell(nxr),
                f"{nxr['graph_nodes']:,} / {nxr['graph_edges']:,}" if n_ok else "-",
                f"{nxr['peak_mb']:,.0f}" if n_ok else "-",
                f"{pdr['network_s']:.2f}" if p_ok else _status_cell(pdr),
                f"{pdr['precompute_s']:.2f}" if p_ok else "-",
                f"{pdr['peak_mb']:,.0f}" if p_ok else "-",
            ]
        )
    return render_table(headers, out)


def build_table(b: dict[str, Any], name: str, nodes: int) -> str:
    """Stage timings as the manifest records them (whatever stages run_build has)."""
    t = b["timings_s"]
    stages = [s for s in t if s != "total"]
    headers = ["input", "raw nodes", *(f"{s} s" for s in stages), "total s", "peak MB", "output MB"]
    row = [
        name,
        f"{nodes:,}",
        *(f"{t[s]:.1f}" for s in stages),
        f"{t['total']:.1f}",
        f"{b['peak_mb']:,.0f}",
        f"{b['output_mb']:,.0f}",
    ]
    return render_table(headers, [row])


def rss_table(b: dict[str, Any]) -> str:
    rows = [[s["stage"], f"{s['t_s']:.1f}", f"{s['rss_mb']:,.0f}"] for s in b["stages"]]
    rows.append(["(end)", f"{b['wall_s']:.1f}", f"peak {b['peak_mb']:,.0f}"])
    return render_table(["stage starts", "at s", "RSS MB"], rows)


# ----------------------------------------------------------------------------- verdicts


def verdicts(
    rows: list[dict[str, Any]], build: dict[str, Any] | None, build_nodes: int
) -> list[tuple[str, bool | None]]:
    out: list[tuple[str, bool | None]] = []
    big = [r for r in rows if r["nodes"] >= TARGET_NODES]
    goal = f"per category on ≥ 1M nodes ≤ {TARGET_CATEGORY_S:.0f} s"
    if not big:
        out.append((f"NOT EVALUATED — {goal}: no input with ≥ {TARGET_NODES:,} nodes", None))
    for r in big:
        a = r["access"]
        if a.get("status") != "ok":
            out.append((f"FAIL — {goal}: {r['input']} {a.get('status')}", False))
            continue
        worst = max(a["categories"].items(), key=lambda kv: kv[1]["median_s"])
        ok = worst[1]["median_s"] <= TARGET_CATEGORY_S
        detail = ", ".join(f"{c} {v['median_s']:.2f} s" for c, v in a["categories"].items())
        out.append(
            (
                f"{'PASS' if ok else 'FAIL'} — {goal}: {r['input']} "
                f"({r['nodes']:,} nodes): {detail}",
                ok,
            )
        )
    agree = []
    for r in rows:
        for engine in ("networkx", "pandana"):
            res = r[engine]
            if res.get("status") == "ok":
                for c in res["categories"].values():
                    agree.append(c["agreement"])
    goal = f"distances agree with the baselines within {AGREE_M:.0f} m"
    if agree:
        worst_d = max((a["max_abs_diff_m"] or 0.0) for a in agree)
        mism = sum(a["reach_mismatch_not_at_cutoff"] for a in agree)
        ok = worst_d <= AGREE_M and mism == 0
        out.append(
            (
                f"{'PASS' if ok else 'FAIL'} — {goal}: max |Δ| {worst_d:.4f} m over "
                f"{sum(a['both_reached'] for a in agree):,} sampled node distances, "
                f"{mism} reach mismatches",
                ok,
            )
        )
    else:
        out.append((f"NOT EVALUATED — {goal}: no baseline ran", None))
    goal = (
        f"whole-city build ≤ {TARGET_BUILD_S / 60:.0f} min "
        f"and ≤ {TARGET_BUILD_MB / 1024:.0f} GB peak"
    )
    if build is None:
        out.append((f"NOT EVALUATED — {goal}: build not run", None))
    elif build.get("status") != "ok":
        out.append((f"FAIL — {goal}: build {build.get('status')}: {build.get('error', '')}", False))
    elif build_nodes < TARGET_NODES:
        out.append(
            (
                f"NOT EVALUATED — {goal}: the build ran on {build_nodes:,} nodes only "
                f"({build['timings_s']['total']:.1f} s, {build['peak_mb']:,.0f} MB)",
                None,
            )
        )
    elif build.get("profiled"):
        out.append((f"NOT EVALUATED — {goal}: the build ran under cProfile", None))
    else:
        total, peak = build["timings_s"]["total"], build["peak_mb"]
        ok = total <= TARGET_BUILD_S and peak <= TARGET_BUILD_MB
        out.append(
            (
                f"{'PASS' if ok else 'FAIL'} — {goal}: {build_nodes:,} nodes: {total:.1f} s, "
                f"{peak:,.0f} MB peak",
                ok,
            )
        )
    return out


# -------------------------------------------------------------------------------- main


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        msg = f"expected comma-separated integers, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if not sizes or min(sizes) < 1:
        msg = f"tiles per side must be ≥ 1, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return sizes


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--sizes",
        type=parse_sizes,
        default=[1, 2, 4, 5, 7],
        help="scale series, tiles per side (default 1,2,4,5,7)",
    )
    p.add_argument("--quick", action="store_true", help="sizes 1,2 only")
    p.add_argument("--skip-baselines", action="store_true", help="no networkx / pandana runs")
    p.add_argument("--skip-build", action="store_true", help="no whole-city build")
    p.add_argument("--build-size", type=int, help="tiles per side of the build (default: largest)")
    p.add_argument(
        "--baseline-max-nodes",
        type=int,
        default=600_000,
        help="skip baselines above this many OSM nodes (default 600000)",
    )
    p.add_argument("--repeat", type=int, default=3, help="category_access calls per category")
    p.add_argument("--no-pip", action="store_true", help="do not try to pip install pandana")
    p.add_argument(
        "--profile",
        type=Path,
        metavar="STATS",
        help="run the build under cProfile, dump stats here (no verdict)",
    )
    p.add_argument(
        "--shared",
        type=Path,
        default=DEFAULT_SHARED,
        help=f"shared data folder (default {DEFAULT_SHARED})",
    )
    p.add_argument(
        "--cache",
        type=Path,
        default=DEFAULT_CACHE,
        help=f"cache folder for generated inputs (default {DEFAULT_CACHE})",
    )
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the results as JSON")
    # internal: one measurement in a fresh subprocess
    p.add_argument(
        "--child",
        choices=["access", "networkx", "pandana", "prep-build", "build"],
        help=argparse.SUPPRESS,
    )
    p.add_argument("--k", type=int, help=argparse.SUPPRESS)
    p.add_argument("--keep-build", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--profile-out", type=Path, help=argparse.SUPPRESS)
    return p


def _say(text: str) -> None:
    print(text, flush=True)


def _build_inputs_ready(cache: Path, k: int) -> bool:
    csv, geojson, meta = build_input_paths(cache, k)
    if not (csv.is_file() and geojson.is_file() and meta.is_file()):
        return False
    return json.loads(meta.read_text()).get("version") == BUILD_INPUT_VERSION


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.child:
        return run_child(args)
    sizes = [1, 2] if args.quick else args.sizes
    build_k = args.build_size or max(sizes)
    metas = prepare_inputs(sorted(set(sizes) | {build_k}), args.shared, args.cache)
    machine = machine_info()
    _say(
        f"machine: {machine['cpu']}, {machine['nproc']} cores, {machine['mem_total_gb']} GB, "
        f"python {machine['python']}, scipy {machine['packages']['scipy']}, "
        f"networkx {machine['packages']['networkx']}"
    )
    pandana_setup: dict[str, Any] = {"status": "not run"}
    if not args.skip_baselines:
        if args.no_pip:
            probe = [sys.executable, "-c", "import pandana"]
            ok = subprocess.run(probe, capture_output=True, check=False).returncode == 0
            pandana_setup = {
                "status": "ok" if ok else "error",
                "how": "--no-pip",
                "error": "" if ok else "pandana not installed",
            }
        else:
            _say("pandana: checking / pip install pandana ...")
            pandana_setup = ensure_pandana()
        _say(f"pandana: {json.dumps(pandana_setup, ensure_ascii=False)}")

    rows: list[dict[str, Any]] = []
    for k in sizes:
        nodes = int(metas[k]["nodes"])
        row: dict[str, Any] = {"input": f"tiles {k}x{k}", "k": k, "nodes": nodes}
        _say(f"[tiles {k}x{k}] category_access ...")
        row["access"] = a = spawn("access", k, args)
        if a["status"] == "ok":
            parts = ", ".join(f"{c} {v['median_s']:.3f} s" for c, v in a["categories"].items())
            _say(
                f"  {a['demand_cells']:,} cells, {a['network']['nodes']:,} graph nodes: {parts}; "
                f"peak {a['peak_mb']:,.0f} MB"
            )
        else:
            _say(f"  {a['status']}: {a.get('error', '')}\n{a.get('stderr', '')}")
        for engine in ("networkx", "pandana"):
            if args.skip_baselines:
                row[engine] = {"status": "not run"}
            elif nodes > args.baseline_max_nodes:
                row[engine] = {"status": "skipped", "max_nodes": args.baseline_max_nodes}
            elif engine == "pandana" and pandana_setup.get("status") != "ok":
                row[engine] = {"status": "not installed", "error": pandana_setup.get("error")}
            else:
                _say(f"[tiles {k}x{k}] {engine} ...")
                row[engine] = r = spawn(engine, k, args)
                if r["status"] == "ok":
                    parts = ", ".join(
                        f"{c} {v.get('networkx_s', v.get('nearest_pois_s')):.3f} s "
                        f"(max |Δ| {v['agreement']['max_abs_diff_m']} m)"
                        for c, v in r["categories"].items()
                    )
                    _say(f"  {parts}; peak {r['peak_mb']:,.0f} MB")
                else:
                    _say(f"  {r['status']}: {r.get('error', '')}\n{r.get('stderr', '')}")
        rows.append(row)

    build: dict[str, Any] | None = None
    build_prep: dict[str, Any] | None = None
    build_nodes = int(metas[build_k]["nodes"])
    if not args.skip_build:
        if not _build_inputs_ready(args.cache, build_k):
            _say(f"[build tiles {build_k}x{build_k}] generating POI table and districts ...")
            build_prep = spawn("prep-build", build_k, args)
            if build_prep["status"] != "ok":
                _say(f"  {build_prep.get('error')}\n{build_prep.get('stderr', '')}")
        if _build_inputs_ready(args.cache, build_k):
            build_prep = json.loads(build_input_paths(args.cache, build_k)[2].read_text())
            _say(f"[build tiles {build_k}x{build_k}] run_build ({build_prep['pois']:,} POIs) ...")
            build = spawn("build", build_k, args, profile_out=args.profile)
            if build["status"] == "ok":
                _say(
                    f"  {json.dumps(build['timings_s'])}; peak {build['peak_mb']:,.0f} MB; "
                    f"load average {build['loadavg_1m'][0]} → {build['loadavg_1m'][1]}"
                )
            else:
                _say(f"  {build['status']}: {build.get('error', '')}\n{build.get('stderr', '')}")
        else:
            build = {"status": "error", "error": "could not generate the build inputs"}

    print()
    print(access_table(rows))
    print()
    print(setup_table(rows))
    if not args.skip_baselines:
        print()
        print(baseline_table(rows))
        print()
        print(baseline_setup_table(rows))
        print(
            f"\npandana: {pandana_setup.get('how', '')}: {pandana_setup.get('status')} "
            f"{pandana_setup.get('version', pandana_setup.get('error', ''))}"
        )
    if build is not None and build.get("status") == "ok":
        print()
        print(build_table(build, f"tiles {build_k}x{build_k}", build_nodes))
        print()
        print(rss_table(build))
    print()
    lines = verdicts(rows, build, build_nodes)
    for text, _ in lines:
        print(text)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": machine,
                    "argv": sys.argv[1:],
                    "verdicts": [t for t, _ in lines],
                    "pandana_setup": pandana_setup,
                    "rows": rows,
                    "build_inputs": build_prep,
                    "build": build,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    if any(r["access"].get("status") != "ok" for r in rows) or (
        build is not None and build.get("status") != "ok"
    ):
        return 2
    return 1 if any(ok is False for _, ok in lines) else 0


if __name__ == "__main__":
    raise SystemExit(main())
