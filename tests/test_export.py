"""Briefing export (app/export.py): PNG of the exact extent, a one-page PDF, view data."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
from PIL import Image
from pypdf import PdfReader

from app import data as dat
from app import export as xp
from app import view as vw
from shangquan.build import run_build
from tests.conftest import shared_path

BOUNDS = (121.465, 31.215, 121.495, 31.240)  # around People's Square / the Bund


@pytest.fixture(scope="module")
def build() -> dat.AppData:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        folder = run_build(
            shared_path("osm", "shanghai_center_roads.osm.gz"),
            Path(tmp),
            poi=shared_path("poi", "shanghai_brand_pois_bd09.csv"),
            datum="bd09",
        )
        data = dat.load_build_data(folder)
    return data


def _briefing(
    data: dat.AppData, lang: str = "zh", bounds: tuple[float, ...] = BOUNDS
) -> xp.Briefing:
    layers = (
        vw.districts_layer(data, mode="share", category="supermarket", tier="t10", lang=lang),
        vw.coverage_layer(data, category="supermarket", tier="t10", lang=lang),
        vw.pois_layer(data, categories=["supermarket", "breakfast"], lang=lang),
    )
    card = pd.DataFrame(
        {
            "类别" if lang == "zh" else "Category": ["超市" if lang == "zh" else "Supermarket"],
            "覆盖率": ["10.1%"],
        }
    )
    return xp.Briefing(
        title="15分钟社区生活圈简报" if lang == "zh" else "15-minute life circle briefing",
        subtitle="超市 · 10分钟生活圈" if lang == "zh" else "Supermarket · 10-minute",
        lang=lang,
        bounds=bounds,  # type: ignore[arg-type]
        layers=tuple(x for x in layers if x is not None),
        roads=vw.road_lines(data.edges),
        outlines=vw.outline_lines(data.districts),
        scorecard=card,
        scorecard_title="记分卡：研究区合计" if lang == "zh" else "Scorecard: whole study area",
        legend_title="图例" if lang == "zh" else "Legend",
        sources=("道路与设施：© OpenStreetMap 贡献者，ODbL 许可",),
        sources_title="数据来源" if lang == "zh" else "Data sources",
        date_text="日期：2026年11月24日" if lang == "zh" else "Date: 24 November 2026",
        north_label="北" if lang == "zh" else "N",
    )


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float)


@pytest.mark.parametrize(
    ("w", "h", "dpi"), [(1600, 1000, 150), (800, 800, 96), (1200, 900, 300), (1001, 333, 72)]
)
def test_png_has_the_chosen_size_and_is_not_blank(
    build: dat.AppData, w: int, h: int, dpi: int
) -> None:
    png = xp.render_png(_briefing(build), width_px=w, height_px=h, dpi=dpi)
    img = Image.open(io.BytesIO(png))
    assert img.size == (w, h)
    assert img.info.get("dpi", (dpi, dpi))[0] == pytest.approx(dpi, abs=1)
    px = _pixels(png)
    assert px.std() > 20  # a map, not an empty canvas
    assert len(np.unique(px.reshape(-1, 3), axis=0)) > 200


def test_png_follows_the_extent(build: dat.AppData) -> None:
    a = _pixels(xp.render_png(_briefing(build), width_px=600, height_px=400, dpi=96))
    b = _pixels(
        xp.render_png(
            _briefing(build, bounds=(121.40, 31.17, 121.56, 31.29)),
            width_px=600,
            height_px=400,
            dpi=96,
        )
    )
    assert np.abs(a - b).mean() > 5


def test_view_box_keeps_the_extent_and_the_aspect() -> None:
    from pyproj import Transformer

    to = Transformer.from_crs(4326, 3857, always_xy=True)
    (x0, x1), (y0, y1) = to.transform([BOUNDS[0], BOUNDS[2]], [BOUNDS[1], BOUNDS[3]])
    for aspect in (0.5, 1.0, 1.6, 3.0):
        bx0, by0, bx1, by1 = xp.view_box(BOUNDS, aspect)
        assert bx0 <= x0 + 1e-6 and bx1 >= x1 - 1e-6 and by0 <= y0 + 1e-6 and by1 >= y1 - 1e-6
        assert (bx1 - bx0) / (by1 - by0) == pytest.approx(aspect)
        # one side is exactly the extent's: the view is not padded more than needed
        assert min(abs((bx1 - bx0) - (x1 - x0)), abs((by1 - by0) - (y1 - y0))) < 1e-6


def test_png_refuses_sizes_it_cannot_honour(build: dat.AppData) -> None:
    with pytest.raises(ValueError, match="dpi must be between 1 and 300"):
        xp.render_png(_briefing(build), width_px=800, height_px=600, dpi=301)
    with pytest.raises(ValueError, match="width_px"):
        xp.render_png(_briefing(build), width_px=9, height_px=600, dpi=100)


def test_pdf_is_one_page_with_title_attribution_and_chinese(build: dat.AppData) -> None:
    pdf = xp.render_pdf(_briefing(build))
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(11.69 * 72, abs=1)  # A4 landscape
    assert float(box.height) == pytest.approx(8.27 * 72, abs=1)
    text = reader.pages[0].extract_text()
    for expected in (
        "15分钟社区生活圈简报",  # title
        "© OpenStreetMap contributors, ODbL",  # attribution
        "图例",  # legend
        "超市",  # legend and scorecard
        "记分卡：研究区合计",  # scorecard
        "数据来源",  # sources
        "日期：2026年11月24日",  # date
        "北",  # north arrow
    ):
        assert expected in text, expected
    assert re.search(r"\b0\s+\d+ (米|公里)", text)  # scale bar
    assert not re.search(r"^[xy]$", text, re.M)  # no axis labels on the map


def test_pdf_in_english(build: dat.AppData) -> None:
    text = PdfReader(io.BytesIO(xp.render_pdf(_briefing(build, lang="en")))).pages[0].extract_text()
    for expected in ("15-minute life circle briefing", "Legend", "Data sources", "OpenStreetMap"):
        assert expected in text, expected
    assert re.search(r"\b0\s+\d+ k?m\b", text)


def test_missing_cjk_font_names_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    fm = xp.font_manager
    latin = [f for f in fm.fontManager.ttflist if f.name not in xp.CJK_FAMILIES]
    monkeypatch.setattr(fm.fontManager, "ttflist", latin)
    monkeypatch.setattr(fm, "findSystemFonts", lambda *a, **k: [])
    with pytest.raises(xp.MissingFontError, match="fonts-noto-cjk"):
        xp.cjk_family()


def test_cjk_font_is_installed() -> None:
    assert xp.cjk_family().startswith(("Noto Sans CJK", "Noto Sans SC", "Source Han"))


def test_view_data_as_geopackage_and_csv(build: dat.AppData, tmp_path: Path) -> None:
    frames = xp.clip_to_view(
        {
            "districts": build.districts,
            "pois": build.pois,
            "cells": build.cells,
            "table": pd.DataFrame({"a": [1]}),
        },
        BOUNDS,
    )
    assert 0 < len(frames["cells"]) < len(build.cells)
    w, s, e, n = BOUNDS
    xy = frames["pois"].geometry
    assert ((xy.x >= w) & (xy.x <= e) & (xy.y >= s) & (xy.y <= n)).all()
    gpkg = xp.geopackage_bytes(frames)
    path = tmp_path / "v.gpkg"
    path.write_bytes(gpkg)
    names = {row[0] for row in pyogrio.list_layers(path)}
    assert {"districts", "pois", "cells", "table"} <= names
    z = zipfile.ZipFile(io.BytesIO(xp.csv_zip_bytes(frames)))
    header = z.read("pois.csv").decode("utf-8-sig").splitlines()[0].split(",")
    assert {"name", "lon", "lat", "wkt"} <= set(header)
