"""Many planners at once: N AppTest sessions on one process, reruns through a thread pool.

Prints wall time per round and peak memory before/after, on a real central-Shanghai build.

    .venv/bin/python benchmarks/bench_sessions.py [--sessions 20]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from shangquan.build import run_build  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _round(sessions: list[AppTest], label: str) -> None:
    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda at: at.run(timeout=300), sessions))
    bad = sum(1 for at in sessions if at.exception)
    print(f"| {label} | {time.perf_counter() - t:.1f} | {_rss_mb():,.0f} | {bad} |")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sessions", type=int, default=20)
    args = p.parse_args()
    builds = Path(tempfile.mkdtemp(prefix="bench-sessions-"))
    run_build(
        SHARED / "osm" / "shanghai_center_roads.osm.gz",
        builds,
        poi=SHARED / "poi" / "shanghai_brand_pois_bd09.csv",
        datum="bd09",
    )
    os.environ["SHANGQUAN_BUILDS"] = str(builds)
    print(f"{args.sessions} sessions; peak RSS before: {_rss_mb():,.0f} MB")
    print("| round | wall s | peak RSS MB | sessions with an exception |")
    print("|---|---:|---:|---:|")
    sessions = [AppTest.from_file(str(ROOT / "streamlit_app.py")) for _ in range(args.sessions)]
    _round(sessions, "first paint, all sessions")
    for i, at in enumerate(sessions):
        at.radio(key="lang").set_value("English" if i % 2 else "中文")
    _round(sessions, "switch language")
    for i, at in enumerate(sessions):
        if i % 3 == 0:
            at.checkbox(key="layer_gaps").check()
    _round(sessions, "toggle a layer")
    _round(sessions, "rerun on warm caches")
    return 0


if __name__ == "__main__":
    sys.exit(main())
