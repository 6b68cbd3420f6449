"""Benchmark the foundation: read OSM → build the walk network → snap points.

For every input (the three shared extracts and each size of the synthetic scale series,
see ``make_scale_series.py``) two engines run, each in a FRESH SUBPROCESS so that peak
memory (``ru_maxrss`` of that process) belongs to that run alone:

shangquan
    ``read_osm`` → ``build_walk_network`` → ``EdgeIndex.build`` + ``snap_points``
    (the sample points, projected with ``Projector.for_crs(net.crs)``).
osmnx
    ``graph_from_xml(bidirectional=True, simplify=True, retain_all=False)`` →
    ``project_graph`` → ``distance.nearest_edges`` on the same points (projected to the
    graph's CRS). osmnx reads XML only, so it gets the ``.osm`` copy from the cache.

Times exclude interpreter start-up and module imports (reported separately in the
JSON). The target is checked on every input with ≥ 1,000,000 nodes:
read + build + snap ≤ 60 s and peak RSS ≤ 4 GB.

Usage::

    python benchmarks/bench_network.py --quick            # sizes 1,2 (debugging)
    python benchmarks/bench_network.py --json out.json    # full series 1,2,4,5,7

Exit status: 0 when the target is met (or not evaluated), 1 when it is missed,
2 when a shangquan run failed (osmnx failures are reported in the table only).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared" / "data"
DEFAULT_CACHE = REPO / "benchmarks" / "_cache"
GENERATOR = Path(__file__).resolve().with_name("make_scale_series.py")

SHARED_FILES = ("shanghai_center_roads.osm.gz", "kyoto_full.osm.gz", "helsinki_full.osm.pbf")
TARGET_NODES = 1_000_000
TARGET_SECONDS = 60.0
TARGET_MB = 4096.0  # 4 GB (MiB, as ru_maxrss is in KiB)
MAX_SNAP_M = 200.0
SHANGQUAN_TIMEOUT_S = 3600.0
RESULT_PREFIX = "RESULT "


# --------------------------------------------------------------------------- child side


def _peak_mb() -> float:
    """Peak resident set size of this process in MiB (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _vm_hwm_mb() -> float | None:
    """``VmHWM`` from /proc (peak RSS of this address space), as a cross-check."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def child_shangquan(osm_path: Path, points_path: Path) -> dict[str, Any]:
    """Run the shangquan path once; returns timings, stats and peak memory."""
    t_imp = time.perf_counter()
    sys.path.insert(0, str(REPO))
    import numpy as np

    from geo.crs import Projector
    from geo.network import build_walk_network
    from geo.osm import read_osm
    from geo.snap import EdgeIndex, snap_points

    lonlat = np.load(points_path)
    import_s = time.perf_counter() - t_imp
    rss_after_import = _peak_mb()

    t0 = time.perf_counter()
    extract = read_osm(osm_path)
    t1 = time.perf_counter()
    net = build_walk_network(extract)
    t2 = time.perf_counter()
    x, y = Projector.for_crs(net.crs).to_xy(lonlat[:, 0], lonlat[:, 1])
    index = EdgeIndex.build(net)
    snapped = snap_points(index, np.column_stack([x, y]), max_snap_m=MAX_SNAP_M)
    t3 = time.perf_counter()

    ok = snapped.ok
    return {
        "read_s": t1 - t0,
        "build_s": t2 - t1,
        "snap_s": t3 - t2,
        "total_s": t3 - t0,
        "import_s": import_s,
        "peak_mb": _peak_mb(),
        "vm_hwm_mb": _vm_hwm_mb(),
        "rss_after_import_mb": rss_after_import,
        "network": asdict(net.stats),
        "points": len(lonlat),
        "snap_counts": snapped.counts(),
        "snap_median_m": float(np.median(snapped.snap_dist_m[ok])) if ok.any() else None,
    }


def child_osmnx(xml_path: Path, points_path: Path) -> dict[str, Any]:
    """Run the osmnx path once; returns timings, graph size and peak memory."""
    t_imp = time.perf_counter()
    import numpy as np
    import osmnx as ox
    from pyproj import Transformer

    lonlat = np.load(points_path)
    import_s = time.perf_counter() - t_imp
    rss_after_import = _peak_mb()

    t0 = time.perf_counter()
    graph = ox.graph_from_xml(xml_path, bidirectional=True, simplify=True, retain_all=False)
    t1 = time.perf_counter()
    graph = ox.project_graph(graph)
    t2 = time.perf_counter()
    to_xy = Transformer.from_crs("EPSG:4326", graph.graph["crs"], always_xy=True)
    x, y = to_xy.transform(lonlat[:, 0], lonlat[:, 1])
    _, dist = ox.distance.nearest_edges(graph, x, y, return_dist=True)
    t3 = time.perf_counter()

    dist = np.asarray(dist, dtype=float)
    return {
        "read_s": t1 - t0,  # parse XML + build MultiDiGraph + largest component + simplify
        "build_s": t2 - t1,  # project_graph
        "snap_s": t3 - t2,  # project points + nearest_edges
        "total_s": t3 - t0,
        "import_s": import_s,
        "peak_mb": _peak_mb(),
        "vm_hwm_mb": _vm_hwm_mb(),
        "rss_after_import_mb": rss_after_import,
        "crs": str(graph.graph["crs"]),
        "graph_nodes": graph.number_of_nodes(),
        "graph_edges": graph.number_of_edges(),
        "points": len(lonlat),
        "within_max_snap": int((dist <= MAX_SNAP_M).sum()),
        "snap_median_m": float(np.median(dist)),
    }


def run_child(args: argparse.Namespace) -> int:
    """Entry point of the subprocess: run one engine on one input, print one JSON line."""
    if args.child == "shangquan":
        result = child_shangquan(args.input, args.points)
    else:
        result = child_osmnx(args.input, args.points)
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


# -------------------------------------------------------------------------- parent side


@dataclass(frozen=True)
class BenchInput:
    """One input: the file the engine reads, its XML copy for osmnx, and sample points."""

    name: str
    kind: str  # "shared" or "scale"
    osm: Path
    xml: Path
    points: Path
    nodes: int
    n_points: int


@dataclass
class Row:
    """Measured figures for one input (both engines)."""

    input: str
    kind: str
    nodes: int
    points: int
    shangquan: dict[str, Any] = field(default_factory=dict)
    osmnx: dict[str, Any] = field(default_factory=dict)


def check_shared(shared: Path) -> Path:
    """The ``osm`` folder of the shared data, or exit with a clear message."""
    osm = shared / "osm"
    missing = [n for n in SHARED_FILES if not (osm / n).is_file()]
    if missing:
        sys.exit(
            f"error: shared OSM data not found: {', '.join(str(osm / m) for m in missing)}\n"
            f"Expected the shared data folder at {shared} (next to the repository); "
            "pass --shared /path/to/shared/data to point elsewhere."
        )
    return osm


def prepare_inputs(
    sizes: list[int], shared: Path, cache: Path, *, with_shared: bool
) -> list[BenchInput]:
    """Build or reuse the cached inputs (in a subprocess, to keep this process small)."""
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
    if with_shared:
        cmd.append("--shared-inputs")
    subprocess.run(cmd, check=True)
    inputs: list[BenchInput] = []
    if with_shared:
        for name in SHARED_FILES:
            stem = name.split(".")[0]
            meta = json.loads((cache / f"shared_{stem}.meta.json").read_text())
            inputs.append(
                BenchInput(
                    name=name,
                    kind="shared",
                    osm=shared / "osm" / name,
                    xml=cache / f"shared_{stem}.osm",
                    points=cache / f"shared_{stem}.points.npy",
                    nodes=int(meta["nodes"]),
                    n_points=int(meta["points"]),
                )
            )
    for k in sizes:
        stem = f"shanghai_tiles_k{k}"
        meta = json.loads((cache / f"{stem}.meta.json").read_text())
        inputs.append(
            BenchInput(
                name=f"tiles {k}x{k}",
                kind="scale",
                osm=cache / f"{stem}.osm.pbf",
                xml=cache / f"{stem}.osm",
                points=cache / f"{stem}.points.npy",
                nodes=int(meta["nodes"]),
                n_points=int(meta["points"]),
            )
        )
    return inputs


def spawn(engine: str, path: Path, points: Path, timeout: float) -> dict[str, Any]:
    """Run one engine in a fresh interpreter; returns its result or a failure status."""
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        engine,
        "--input",
        str(path),
        "--points",
        str(points),
    ]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "timeout_s": timeout}
    wall = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_PREFIX)]
    if proc.returncode != 0 or not lines:
        err_lines = proc.stderr.strip().splitlines()
        return {
            "status": "error",
            "returncode": proc.returncode,
            "error": err_lines[-1] if err_lines else "",
            "stderr": "\n".join(err_lines[-8:]),
        }
    result: dict[str, Any] = json.loads(lines[-1][len(RESULT_PREFIX) :])
    result["status"] = "ok"
    result["process_wall_s"] = wall
    return result


def _fmt_s(x: Any) -> str:
    return f"{x:.2f}" if isinstance(x, int | float) else "-"


def _fmt_mb(x: Any) -> str:
    return f"{x:,.0f}" if isinstance(x, int | float) else "-"


def _osmnx_cell(r: dict[str, Any], key: str, fmt: Any) -> str:
    status = r.get("status")
    if status == "ok":
        return str(fmt(r[key]))
    if status == "skipped":
        return f"skipped (> {r['max_nodes']:,} nodes)"
    if status == "timeout":
        return f"timeout (> {r['timeout_s']:.0f} s)"
    return str(status or "-")


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


def main_table(rows: list[Row]) -> str:
    headers = [
        "input",
        "raw nodes",
        "read s",
        "build s",
        "snap s",
        "total s",
        "peak MB",
        "osmnx total s",
        "osmnx peak MB",
        "osmnx/shangquan",
    ]
    out = []
    for row in rows:
        s, o = row.shangquan, row.osmnx
        ok = s.get("status") == "ok"
        ratio = "-"
        if ok and o.get("status") == "ok":
            ratio = f"{o['total_s'] / s['total_s']:.1f}x"
        out.append(
            [
                row.input,
                f"{row.nodes:,}",
                _fmt_s(s.get("read_s")),
                _fmt_s(s.get("build_s")),
                _fmt_s(s.get("snap_s")),
                _fmt_s(s.get("total_s")) if ok else str(s.get("status")),
                _fmt_mb(s.get("peak_mb")),
                _osmnx_cell(o, "total_s", _fmt_s),
                _osmnx_cell(o, "peak_mb", _fmt_mb),
                ratio,
            ]
        )
    return render_table(headers, out)


def detail_table(rows: list[Row]) -> str:
    headers = [
        "input",
        "points",
        "vertices",
        "net nodes",
        "net edges",
        "km",
        "regions",
        "snapped",
        "too far",
        "median snap m",
        "osmnx nodes",
        "osmnx edges",
        "osmnx ≤200 m",
        "osmnx median m",
        "osmnx read/proj/snap s",
    ]
    out = []
    for row in rows:
        s, o = row.shangquan, row.osmnx
        net = s.get("network", {})
        counts = s.get("snap_counts", {})
        oo = o.get("status") == "ok"
        out.append(
            [
                row.input,
                f"{row.points:,}",
                f"{net.get('vertices', 0):,}",
                f"{net.get('nodes', 0):,}",
                f"{net.get('edges', 0):,}",
                f"{net.get('length_km', 0):,.0f}",
                str(net.get("regions", "-")),
                f"{counts.get('snapped', 0):,}",
                f"{counts.get('too_far', 0):,}",
                f"{s['snap_median_m']:.1f}" if s.get("snap_median_m") is not None else "-",
                f"{o['graph_nodes']:,}" if oo else "-",
                f"{o['graph_edges']:,}" if oo else "-",
                f"{o['within_max_snap']:,}" if oo else "-",
                f"{o['snap_median_m']:.1f}" if oo else "-",
                f"{o['read_s']:.1f} / {o['build_s']:.1f} / {o['snap_s']:.1f}" if oo else "-",
            ]
        )
    return render_table(headers, out)


def target_verdict(rows: list[Row]) -> tuple[str, bool | None]:
    """The PASS/FAIL line for the 1M-node target; ``None`` when no input is big enough."""
    big = [r for r in rows if r.kind == "scale" and r.nodes >= TARGET_NODES]
    goal = (
        f"{TARGET_NODES // 1_000_000}M nodes: read + build + snap ≤ {TARGET_SECONDS:.0f} s "
        f"and ≤ {TARGET_MB / 1024:.0f} GB peak"
    )
    if not big:
        return f"TARGET NOT EVALUATED ({goal}): no input with ≥ {TARGET_NODES:,} nodes", None
    parts = []
    passed = True
    for r in big:
        s = r.shangquan
        if s.get("status") != "ok":
            parts.append(f"{r.input}: {s.get('status')}")
            passed = False
            continue
        ok = s["total_s"] <= TARGET_SECONDS and s["peak_mb"] <= TARGET_MB
        passed &= ok
        parts.append(f"{r.input} ({r.nodes:,} nodes): {s['total_s']:.1f} s, {s['peak_mb']:,.0f} MB")
    verdict = "PASS" if passed else "FAIL"
    return f"{verdict} — target {goal}; " + "; ".join(parts), passed


def machine_info() -> dict[str, Any]:
    """Where the figures were measured."""

    def pkg(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    cpu = "unknown"
    mem_gb = None
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
    return {
        "cpu": cpu,
        "nproc": len(os.sched_getaffinity(0)),
        "mem_total_gb": mem_gb,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": {
            n: pkg(n)
            for n in ("osmium", "osmnx", "networkx", "numpy", "scipy", "shapely", "pyproj")
        },
    }


def parse_sizes(text: str) -> list[int]:
    """``"1,2,4"`` → ``[1, 2, 4]``."""
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
    p.add_argument("--skip-osmnx", action="store_true", help="run the shangquan path only")
    p.add_argument(
        "--skip-shared",
        action="store_true",
        help="skip the three shared extracts (scale series only)",
    )
    p.add_argument(
        "--osmnx-timeout",
        type=float,
        default=900.0,
        help="seconds per osmnx run before it is killed (default 900)",
    )
    p.add_argument(
        "--osmnx-max-nodes",
        type=int,
        default=600_000,
        help="skip osmnx on inputs with more nodes than this (default 600000)",
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
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the rows as JSON")
    # internal: one run in a fresh subprocess
    p.add_argument("--child", choices=["shangquan", "osmnx"], help=argparse.SUPPRESS)
    p.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--points", type=Path, help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.child:
        return run_child(args)
    sizes = [1, 2] if args.quick else args.sizes
    check_shared(args.shared)
    inputs = prepare_inputs(sizes, args.shared, args.cache, with_shared=not args.skip_shared)
    machine = machine_info()
    print(
        f"machine: {machine['cpu']}, {machine['nproc']} cores, {machine['mem_total_gb']} GB, "
        f"python {machine['python']}, osmium {machine['packages']['osmium']}, "
        f"osmnx {machine['packages']['osmnx']}",
        flush=True,
    )

    rows: list[Row] = []
    for inp in inputs:
        row = Row(input=inp.name, kind=inp.kind, nodes=inp.nodes, points=inp.n_points)
        print(f"[{inp.name}] shangquan ...", end=" ", flush=True)
        row.shangquan = spawn("shangquan", inp.osm, inp.points, SHANGQUAN_TIMEOUT_S)
        s = row.shangquan
        if s["status"] == "ok":
            print(
                f"{s['total_s']:.2f} s (read {s['read_s']:.2f}, build {s['build_s']:.2f}, "
                f"snap {s['snap_s']:.2f}), peak {s['peak_mb']:,.0f} MB",
                flush=True,
            )
        else:
            print(s.get("status"), s.get("error", ""), flush=True)
        if args.skip_osmnx:
            row.osmnx = {"status": "not run"}
        elif inp.nodes > args.osmnx_max_nodes:
            row.osmnx = {"status": "skipped", "max_nodes": args.osmnx_max_nodes}
            print(f"[{inp.name}] osmnx skipped (> {args.osmnx_max_nodes:,} nodes)", flush=True)
        else:
            print(f"[{inp.name}] osmnx ...", end=" ", flush=True)
            row.osmnx = spawn("osmnx", inp.xml, inp.points, args.osmnx_timeout)
            o = row.osmnx
            if o["status"] == "ok":
                print(
                    f"{o['total_s']:.2f} s (graph_from_xml {o['read_s']:.2f}, project "
                    f"{o['build_s']:.2f}, nearest_edges {o['snap_s']:.2f}), "
                    f"peak {o['peak_mb']:,.0f} MB",
                    flush=True,
                )
            else:
                print(o.get("status"), o.get("error", ""), flush=True)
        rows.append(row)

    print()
    print(main_table(rows))
    print()
    print(detail_table(rows))
    print()
    for row in rows:
        for engine, result in (("shangquan", row.shangquan), ("osmnx", row.osmnx)):
            if result.get("status") == "error":
                print(f"note: {engine} failed on {row.input}: {result['error']}")
    verdict, passed = target_verdict(rows)
    print(verdict)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": machine,
                    "argv": sys.argv[1:],
                    "verdict": verdict,
                    "rows": [asdict(r) for r in rows],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    if any(r.shangquan.get("status") != "ok" for r in rows):
        return 2
    return 1 if passed is False else 0


if __name__ == "__main__":
    raise SystemExit(main())
