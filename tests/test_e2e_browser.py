"""End to end: ``streamlit run`` on 127.0.0.1 and real headless Chromium (Debian's
/usr/bin/chromium, driven by Playwright's Python API; no browser is downloaded).

It checks what a planner sees: the Leaflet map inside the st_folium iframe, the legend and
Chinese labels, a layer toggle, the language switch; saves screenshots (one is copied to
docs/screenshot.png for the README); and proves that markup in data names is shown as text,
never run (``window.__pwned`` stays undefined in the page and in the map's iframe).
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import Image

from tests.conftest import REPO
from tests.test_app import EVIL, make_evil_build, make_shanghai_build

CHROMIUM = Path("/usr/bin/chromium")
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
MAP_FRAME = "iframe[title='streamlit_folium.st_folium']"
SCREENSHOT = REPO / "docs" / "screenshot.png"
MAX_SCREENSHOT_BYTES = 500_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    shanghai = tmp_path_factory.mktemp("e2e_builds")
    make_shanghai_build(shanghai)
    evil = tmp_path_factory.mktemp("e2e_evil")
    make_evil_build(evil)
    return {"shanghai": shanghai, "evil": evil}


@pytest.fixture(scope="module")
def server(roots: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = tmp_path_factory.mktemp("e2e_log") / "streamlit.log"
    env = {
        **os.environ,
        "SHANGQUAN_BUILDS": str(roots["shanghai"]),
        "SHANGQUAN_DATA_ROOTS": str(roots["evil"]),  # the second build is read via ?builds=
    }
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(REPO / "streamlit_app.py"),
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--server.headless=true",
        "--browser.gatherUsageStats=false",
        "--server.fileWatcherType=none",
    ]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture()
def browser(tmp_path: Path) -> Iterator[object]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: run the apt-get line at the top of .ci/run "
            "(apt-get install -y chromium fonts-noto-cjk)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a fresh --user-data-dir
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": 1400, "height": 1000},
            locale="zh-CN",
        )
        try:
            yield context
        finally:
            context.close()


def _open(context: object, url: str) -> tuple[object, object]:
    page = context.new_page()  # type: ignore[attr-defined]
    page.goto(url, wait_until="domcontentloaded")
    frame = page.frame_locator(MAP_FRAME)
    frame.locator(".leaflet-container").wait_for(timeout=90_000)
    frame.locator(".shangquan-legend").wait_for(timeout=90_000)
    return page, frame


def _map_frame(page: object) -> object:
    frames = [f for f in page.frames if "st_folium" in f.url]  # type: ignore[attr-defined]
    assert frames, "no st_folium iframe in the page"
    return frames[0]


def _save_small_png(png: bytes, path: Path) -> None:
    img = Image.open(io.BytesIO(png)).convert("RGB")
    img = img.quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    img.save(path, optimize=True)


def test_map_layers_language_and_screenshot(
    server: str, roots: dict[str, Path], browser: object, tmp_path: Path
) -> None:
    page, frame = _open(browser, f"{server}/?builds={quote(str(roots['shanghai']))}")
    # the map: Leaflet drew into the st_folium iframe, on the offline basemap (no tiles)
    assert frame.locator(".leaflet-container canvas").count() >= 2
    assert frame.locator(".leaflet-tile").count() == 0
    legend = frame.locator(".shangquan-legend")
    assert legend.locator("summary").inner_text() == "图例"
    assert "综合得分 (%)" in legend.inner_text()
    assert "步行距离" in legend.inner_text()
    body = page.locator("section[data-testid='stSidebar']").inner_text()
    for label in ("语言 / Language", "图层", "设施类别", "底图"):
        assert label in body, label
    page.get_by_text("研究区人口").wait_for()
    time.sleep(1.5)  # let the canvas settle before the picture
    shot = page.screenshot()
    (tmp_path / "planner_zh.png").write_bytes(shot)
    _save_small_png(shot, tmp_path / "planner_zh_small.png")
    assert (tmp_path / "planner_zh_small.png").stat().st_size < MAX_SCREENSHOT_BYTES
    shutil.copyfile(tmp_path / "planner_zh_small.png", SCREENSHOT)
    px = Image.open(io.BytesIO(shot)).convert("L")
    assert px.getextrema()[1] - px.getextrema()[0] > 100  # not a blank page

    # toggle a layer: the gaps' legend appears without reloading the map
    page.locator("section[data-testid='stSidebar']").get_by_text("盲区", exact=True).click()
    frame.locator(".shangquan-legend", has_text="盲区（>").wait_for(timeout=30_000)
    assert _map_frame(page).evaluate("() => !!window.map && window.map.getZoom() > 10")

    # switch the language
    page.get_by_text("English", exact=True).click()
    page.get_by_role("heading", name="shangquan · 15-minute community life circle").wait_for(
        timeout=30_000
    )
    frame.locator(".shangquan-legend", has_text="Composite score (%)").wait_for(timeout=30_000)
    assert "People in the study area" in page.locator("[data-testid='stMetric']").first.inner_text()
    time.sleep(1.0)
    page.screenshot(path=str(tmp_path / "planner_en.png"))


def test_markup_in_names_is_shown_not_run(
    server: str, roots: dict[str, Path], browser: object
) -> None:
    page, frame = _open(browser, f"{server}/?builds={quote(str(roots['evil']))}")
    mf = _map_frame(page)
    # hover over the map so tooltips with the names are written into the DOM
    box = page.locator(MAP_FRAME).bounding_box()
    assert box is not None
    seen = ""
    for fx in (0.5, 0.45, 0.55, 0.4, 0.6, 0.35, 0.65):
        for fy in (0.5, 0.45, 0.55, 0.4, 0.6):
            page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
            time.sleep(0.05)
            tips = frame.locator(".leaflet-tooltip")
            if tips.count():
                seen += tips.first.inner_text()
    assert (
        "<script>window.__pwned=1</script>" in seen
        or '<img src=x onerror="window.__pwned=1">' in seen
    ), "no tooltip showed the markup as text"
    time.sleep(0.5)
    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    assert mf.evaluate("() => typeof window.__pwned") == "undefined"
    assert (
        mf.evaluate(
            "() => document.querySelectorAll('.leaflet-tooltip img, .shangquan-legend img').length"
        )
        == 0
    )
    html = mf.content()
    for evil in EVIL:
        assert evil not in html
