"""Speed of the planner's map: first paint and a layer toggle, on a built city.

Two measurements, both on a build of ../shared/data (central Shanghai roads + the planners'
BD-09 POI table), or on ``--builds DIR``:

* **AppTest** (``streamlit.testing.v1``): the script's run time, server-side only.
  ``cold`` is the first run in a fresh Python process (imports, reading and verifying the
  build, styling every layer); ``new session`` is a first run when the server's caches are
  warm (another user already opened the app); then a layer toggle, a category change and
  the language switch.
* **Browser** (``streamlit run`` on 127.0.0.1 + headless Debian Chromium via Playwright):
  from navigation until the Leaflet map *and its legend* are drawn in the st_folium iframe
  (first paint), for the first visit after the server started and for a new session; then
  from a click on a layer checkbox until the map's legend shows the new layer.

Run: ``python benchmarks/bench_app.py [--builds DIR] [--repeat 5] [--no-browser]``.
Prints a table; the figures are recorded in docs/app.md.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
APP = str(REPO / "streamlit_app.py")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def make_build(root: Path) -> None:
    sys.path.insert(0, str(REPO))
    from shangquan.build import run_build

    run_build(
        SHARED / "osm" / "shanghai_center_roads.osm.gz",
        root,
        poi=SHARED / "poi" / "shanghai_brand_pois_bd09.csv",
        datum="bd09",
    )


_COLD = r"""
import os, sys, time, json
t0 = time.perf_counter()
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=300)
at.run()
assert not at.exception, at.exception
print(json.dumps({"cold": time.perf_counter() - t0}))
"""


def apptest_cold(builds: Path, repeat: int) -> list[float]:
    env = {**os.environ, "SHANGQUAN_BUILDS": str(builds)}
    out = []
    for _ in range(repeat):
        r = subprocess.run(
            [sys.executable, "-c", _COLD, APP], env=env, capture_output=True, text=True, check=True
        )
        out.append(json.loads(r.stdout.strip().splitlines()[-1])["cold"])
    return out


def apptest_warm(builds: Path, repeat: int) -> dict[str, list[float]]:
    os.environ["SHANGQUAN_BUILDS"] = str(builds)
    sys.path.insert(0, str(REPO))
    from streamlit.testing.v1 import AppTest

    times: dict[str, list[float]] = {
        "new session": [],
        "layer toggle": [],
        "category": [],
        "language": [],
    }
    warm = AppTest.from_file(APP, default_timeout=300)
    warm.run()  # fills the caches, as an earlier user would
    for _ in range(repeat):
        at = AppTest.from_file(APP, default_timeout=300)
        t = time.perf_counter()
        at.run()
        times["new session"].append(time.perf_counter() - t)
        for name, action in (
            ("layer toggle", lambda a: a.checkbox(key="layer_gaps").check()),
            ("category", lambda a: a.selectbox(key="category__zh").set_value("supermarket")),
            ("language", lambda a: a.radio(key="lang").set_value("English")),
        ):
            action(at)
            t = time.perf_counter()
            at.run()
            times[name].append(time.perf_counter() - t)
            assert not at.exception, at.exception
    return times


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def browser(builds: Path, repeat: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    port = _free_port()
    env = {**os.environ, "SHANGQUAN_BUILDS": str(builds)}
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", APP,
            "--server.address=127.0.0.1", f"--server.port={port}", "--server.headless=true",
            "--browser.gatherUsageStats=false", "--server.fileWatcherType=none",
        ],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    times: dict[str, list[float]] = {"first visit": [], "new session": [], "layer toggle": []}
    try:
        for _ in range(200):
            try:
                with urllib.request.urlopen(url + "_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
            ctx = pw.chromium.launch_persistent_context(
                profile, executable_path="/usr/bin/chromium", headless=True, args=FLAGS,
                viewport={"width": 1400, "height": 1000},
            )  # fmt: skip
            for i in range(repeat + 1):
                page = ctx.new_page()
                t = time.perf_counter()
                page.goto(url, wait_until="commit")
                frame = page.frame_locator("iframe[title='streamlit_folium.st_folium']")
                frame.locator(".shangquan-legend").wait_for(timeout=120_000)
                frame.locator(".leaflet-container canvas").first.wait_for(timeout=120_000)
                times["first visit" if i == 0 else "new session"].append(time.perf_counter() - t)
                box = page.locator("section[data-testid='stSidebar']").get_by_text(
                    "盲区", exact=True
                )
                t = time.perf_counter()
                box.click()
                frame.locator(".shangquan-legend", has_text="盲区（>").wait_for(timeout=60_000)
                times["layer toggle"].append(time.perf_counter() - t)
                page.close()
            ctx.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return times


def _row(name: str, xs: list[float]) -> str:
    return f"| {name} | {statistics.median(xs):.2f} | {min(xs):.2f} | {max(xs):.2f} | {len(xs)} |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--builds", type=Path, help="a builds folder (default: build the shared data)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        builds = args.builds or Path(tmp)
        if args.builds is None:
            t = time.perf_counter()
            make_build(builds)
            print(f"build: {time.perf_counter() - t:.1f} s")
        print("| measurement | median s | min s | max s | n |")
        print("|---|---|---|---|---|")
        print(
            _row(
                "AppTest: cold first run (fresh process)", apptest_cold(builds, min(args.repeat, 3))
            )
        )
        for name, xs in apptest_warm(builds, args.repeat).items():
            print(_row(f"AppTest: {name}", xs))
        if not args.no_browser:
            for name, xs in browser(builds, args.repeat).items():
                print(_row(f"browser: {name}", xs))


if __name__ == "__main__":
    main()
