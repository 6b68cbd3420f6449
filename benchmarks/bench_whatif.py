"""What-if timing: add or remove one outlet and update a category's coverage.

Target (issue 4): ≤ 1 s for a district. Measured on the real central-Shanghai extract with the
real BD-09 brand POIs (the breakfast category), and on the tiled scale series (if cached by
bench_network.py / make_scale_series.py) with synthetic outlets.

    .venv/bin/python benchmarks/bench_whatif.py [--sizes 4,7] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.network import build_walk_network  # noqa: E402
from geo.osm import read_osm  # noqa: E402
from geo.snap import EdgeIndex, snap_points  # noqa: E402
from layers.coverage import category_access  # noqa: E402
from layers.whatif import add_outlets, remove_outlets  # noqa: E402
from shangquan.build import compute  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
CACHE = ROOT / "benchmarks" / "_cache"


def _time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def real_shanghai(repeat: int) -> None:
    res = compute(
        SHARED / "osm" / "shanghai_center_roads.osm.gz",
        poi=SHARED / "poi" / "shanghai_brand_pois_bd09.csv",
        datum="bd09",
    )
    cat = "breakfast"
    acc, outs = res.access[cat], res.outlets[cat]
    net, demand = res.prep.network, res.demand_snap
    # a new outlet at the centre of the largest breakfast gap; remove the busiest outlet
    gap = res.gaps[cat].to_crs(net.crs).geometry.iloc[0].representative_point()
    new = snap_points(res.prep.index, np.array([[gap.x, gap.y]]))
    busiest = np.bincount(acc.nearest[acc.nearest >= 0]).argmax()
    t_add = _time(lambda: add_outlets(net, acc, outs, demand, new), repeat)
    t_rm = _time(lambda: remove_outlets(net, acc, outs, demand, np.array([busiest])), repeat)
    t_full = _time(
        lambda: category_access(net, outs, demand, category=cat, cutoff_m=acc.cutoff_m), repeat
    )
    print(
        f"| central Shanghai (real) | {net.n_nodes:,} | {len(demand.edge):,} | "
        f"{int(outs.ok.sum())} | {t_add:.3f} | {t_rm:.3f} | {t_full:.3f} |"
    )


def tiled(k: int, repeat: int) -> None:
    path = CACHE / f"shanghai_tiles_k{k}.osm.pbf"
    if not path.is_file():
        print(f"| tiles {k}x{k} | (not cached: run benchmarks/make_scale_series.py --sizes {k}) |")
        return
    net = build_walk_network(read_osm(path))
    idx = EdgeIndex.build(net)
    rng = np.random.default_rng(5)
    xy = net.node_xy
    demand = snap_points(
        idx, xy[rng.choice(len(xy), len(xy) // 5)] + rng.normal(0, 40, (len(xy) // 5, 2))
    )
    outs = snap_points(idx, xy[rng.choice(len(xy), len(xy) // 200)])
    acc = category_access(net, outs, demand, category="x", cutoff_m=1000)
    new = snap_points(idx, xy[rng.choice(len(xy), 1)])
    t_add = _time(lambda: add_outlets(net, acc, outs, demand, new), repeat)
    t_rm = _time(lambda: remove_outlets(net, acc, outs, demand, np.array([0])), repeat)
    t_full = _time(lambda: category_access(net, outs, demand, category="x", cutoff_m=1000), repeat)
    print(
        f"| tiles {k}x{k} (whole city) | {net.n_nodes:,} | {len(demand.edge):,} | "
        f"{int(outs.ok.sum())} | {t_add:.3f} | {t_rm:.3f} | {t_full:.3f} |"
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="4,7", help="tiled sizes (k) to include, e.g. 4,7")
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    print(
        "| network | nodes | demand points | outlets | add 1 (s) | remove 1 (s) | "
        "full recompute (s) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    real_shanghai(args.repeat)
    for k in (int(s) for s in args.sizes.split(",") if s):
        tiled(k, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
