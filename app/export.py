"""Briefing export: PNG of the current map extent, a one-page PDF, and the view's data.

No streamlit here, so it is tested on its own (tests/test_export.py). Maps are drawn with
matplotlib, offline, on the same vector basemap and :class:`~app.view.StyledLayer` colours as
the interactive map (online tiles are never fetched). Chinese needs a CJK font: Noto Sans CJK
from the Debian package ``fonts-noto-cjk`` is looked up through ``matplotlib.font_manager``;
:class:`MissingFontError` names the package when none is installed.

Thread safety: a Streamlit server runs sessions in threads, so this module never touches
``pyplot`` or the global ``rcParams``: each drawing is its own ``Figure`` with an Agg/PDF
canvas, and every text gets its font explicitly.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
import tempfile
import threading
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import FigureCanvasPdf
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrow, Patch, Rectangle
from pyproj import Transformer

from app.view import (
    LAND_COLOUR,
    OUTLINE_COLOUR,
    ROAD_COLOUR,
    WATER_COLOUR,
    StyledLayer,
    shows_title,
)

log = logging.getLogger(__name__)

MAX_DPI = 300
MAX_PIXELS = 8000  # per side
CJK_PACKAGE = "fonts-noto-cjk"
#: Font families tried in order (Simplified Chinese faces first).
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "AR PL UMing CN",
)
OSM_ATTRIBUTION = "© OpenStreetMap contributors, ODbL"
A4_LANDSCAPE_IN = (11.69, 8.27)

_TO_MERC = Transformer.from_crs(4326, 3857, always_xy=True)
_FONT_LOCK = threading.Lock()


class MissingFontError(RuntimeError):
    """No font with Chinese glyphs is installed."""


# ----------------------------------------------------------------------------- fonts


def cjk_family() -> str:
    """The first installed CJK font family; raise :class:`MissingFontError` if none."""
    with _FONT_LOCK:
        names = {f.name for f in font_manager.fontManager.ttflist}
        for fam in CJK_FAMILIES:
            if fam in names:
                return fam
        # fonts installed after matplotlib built its cache: register them once
        for path in font_manager.findSystemFonts():
            if any(k in Path(path).name for k in ("CJK", "wqy", "SourceHanSans", "NotoSansSC")):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError):
                    continue
        names = {f.name for f in font_manager.fontManager.ttflist}
        for fam in CJK_FAMILIES:
            if fam in names:
                return fam
    msg = (
        "no CJK font found for Chinese text in the briefing: install the Debian package "
        f"{CJK_PACKAGE} (apt-get install -y {CJK_PACKAGE}), then restart the app"
    )
    raise MissingFontError(msg)


def _font(size: float, *, bold: bool = False) -> FontProperties:
    return FontProperties(
        family=[cjk_family(), "DejaVu Sans"], size=size, weight="bold" if bold else "normal"
    )


# ----------------------------------------------------------------------------- the briefing


@dataclass(frozen=True)
class Briefing:
    """Everything a briefing shows (texts already in the user's language)."""

    title: str
    subtitle: str
    lang: str
    bounds: tuple[float, float, float, float]  # west, south, east, north (WGS84)
    layers: tuple[StyledLayer, ...]
    roads: shapely.Geometry | None = None
    outlines: shapely.Geometry | None = None
    water: shapely.Geometry | None = None
    scorecard: pd.DataFrame | None = None  # display strings, localised headers
    scorecard_title: str = ""
    legend_title: str = "Legend"
    sources: tuple[str, ...] = ()
    sources_title: str = "Data sources"
    attribution: str = OSM_ATTRIBUTION
    date_text: str = field(default_factory=lambda: dt.date.today().isoformat())
    build_text: str = ""
    north_label: str = "N"


def check_size(width_px: int, height_px: int, dpi: int) -> None:
    """Refuse sizes the export cannot honour, naming the bad value."""
    if not 1 <= dpi <= MAX_DPI:
        msg = f"dpi must be between 1 and {MAX_DPI}, got {dpi}"
        raise ValueError(msg)
    for name, v in (("width_px", width_px), ("height_px", height_px)):
        if not 16 <= v <= MAX_PIXELS:
            msg = f"{name} must be between 16 and {MAX_PIXELS} pixels, got {v}"
            raise ValueError(msg)


def render_png(b: Briefing, *, width_px: int, height_px: int, dpi: int = 150) -> bytes:
    """The map of ``b.bounds`` as a PNG of exactly ``width_px`` × ``height_px`` pixels,
    with legend, scale bar, north arrow and attribution drawn on it."""
    check_size(width_px, height_px, dpi)
    fig = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    scale = min(width_px, height_px) / dpi / 4.0  # text grows with the physical size
    base = float(np.clip(5.5 * scale, 4.5, 9.0))
    _draw_map(ax, b, aspect=width_px / height_px)
    _scale_bar(ax, b.lang, size=base)
    _north_arrow(ax, b.north_label, size=base)
    _legend(ax, b, size=base * 0.85, loc="lower right", ncol=2)
    ax.text(
        0.005,
        0.005,
        b.attribution,
        transform=ax.transAxes,
        fontproperties=_font(base * 0.75),
        color="#333333",
        ha="left",
        va="bottom",
        bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 1.5},
        zorder=30,
    )
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    data = buf.getvalue()
    _check_png_size(data, width_px, height_px)
    return data


def _check_png_size(data: bytes, width_px: int, height_px: int) -> None:
    w = int.from_bytes(data[16:20], "big")
    h = int.from_bytes(data[20:24], "big")
    if (w, h) != (width_px, height_px):  # matplotlib rounds the figure size down
        msg = f"PNG came out {w}×{h}, not {width_px}×{height_px}"
        raise RuntimeError(msg)


def render_pdf(b: Briefing) -> bytes:
    """A one-page A4 landscape briefing: title, map with scale bar and north arrow, legend,
    scorecard table, date, data sources and attribution."""
    fig = Figure(figsize=A4_LANDSCAPE_IN)
    FigureCanvasPdf(fig)
    fig.text(0.03, 0.955, b.title, fontproperties=_font(17, bold=True), va="top")
    fig.text(0.03, 0.905, b.subtitle, fontproperties=_font(10.5), va="top", color="#333333")
    fig.text(0.97, 0.955, b.date_text, fontproperties=_font(9.5), va="top", ha="right")
    if b.build_text:
        fig.text(
            0.97,
            0.925,
            b.build_text,
            fontproperties=_font(8),
            va="top",
            ha="right",
            color="#555555",
        )
    map_box = (0.03, 0.17, 0.58, 0.70)
    ax = fig.add_axes(map_box)
    page_w, page_h = A4_LANDSCAPE_IN
    _draw_map(ax, b, aspect=(map_box[2] * page_w) / (map_box[3] * page_h))
    for side in ax.spines.values():
        side.set_visible(True)
        side.set_color("#888888")
    _scale_bar(ax, b.lang, size=8)
    _north_arrow(ax, b.north_label, size=8)
    side = fig.add_axes((0.63, 0.17, 0.34, 0.70))
    side.set_axis_off()
    leg = _legend(side, b, size=7.0, loc="upper left", frame=False, title=b.legend_title, ncol=2)
    top = 0.87
    if leg is not None:  # the table goes below the legend, whatever its length
        box = leg.get_window_extent(renderer=fig._get_renderer())
        top = float(box.transformed(fig.transFigure.inverted()).y0) - 0.035
    if b.scorecard is not None and not b.scorecard.empty:
        _table(fig, b.scorecard, b.scorecard_title, box=(0.63, 0.13, 0.34, max(top - 0.13, 0.15)))
    lines = [f"{b.sources_title}: " + " · ".join(b.sources)] if b.sources else []
    lines.append(b.attribution)
    fig.text(
        0.03,
        0.115,
        "\n".join(_wrap(line, 150) for line in lines),
        fontproperties=_font(7),
        va="top",
        color="#333333",
        linespacing=1.5,
    )
    buf = io.BytesIO()
    fig.savefig(buf, format="pdf", metadata={"Title": b.title, "Creator": "shangquan"})
    return buf.getvalue()


def _wrap(text: str, width: int) -> str:
    out, line = [], ""
    for word in text.split(" "):
        if len(line) + len(word) + 1 > width and line:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    out.append(line)
    return "\n".join(out)


# ----------------------------------------------------------------------------- map drawing


def _merc(geoms: np.ndarray) -> np.ndarray:
    def fn(xy: np.ndarray) -> np.ndarray:
        x, y = _TO_MERC.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, fn)


def view_box(
    bounds: tuple[float, float, float, float], aspect: float
) -> tuple[float, float, float, float]:
    """The Web-Mercator box that contains ``bounds`` and has width/height = ``aspect``
    (the shorter side is widened around the centre)."""
    w, s, e, n = bounds
    (x0, x1), (y0, y1) = _TO_MERC.transform([w, e], [s, n])
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    dx, dy = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    if dx / dy > aspect:
        dy = dx / aspect
    else:
        dx = dy * aspect
    return cx - dx / 2, cy - dy / 2, cx + dx / 2, cy + dy / 2


def _draw_map(ax: object, b: Briefing, *, aspect: float) -> None:
    x0, y0, x1, y1 = view_box(b.bounds, aspect)
    ax.set_facecolor(LAND_COLOUR)  # type: ignore[attr-defined]
    clip = shapely.box(x0, y0, x1, y1)
    for i, layer in enumerate(b.layers):
        _draw_layer(ax, layer, clip, zorder=2 + i)
    for geom, colour, width, z in (
        (b.water, WATER_COLOUR, 0.0, 1),
        (b.outlines, OUTLINE_COLOUR, 0.8, 20),
        (b.roads, ROAD_COLOUR, 0.35, 19),
    ):
        if geom is None:
            continue
        g = shapely.intersection(_merc(np.array([geom]))[0], clip.buffer((x1 - x0) * 0.05))
        if g.is_empty:
            continue
        gs = gpd.GeoSeries([g])
        if geom is b.water:
            gs.plot(ax=ax, color=colour, linewidth=0, zorder=z)
        else:
            gs.plot(ax=ax, color=colour, linewidth=width, zorder=z)
    ax.set_xlim(x0, x1)  # type: ignore[attr-defined]
    ax.set_ylim(y0, y1)  # type: ignore[attr-defined]
    ax.set_aspect("equal")  # type: ignore[attr-defined]
    ax.set_xticks([])  # type: ignore[attr-defined]
    ax.set_yticks([])  # type: ignore[attr-defined]
    ax.set_xlabel("")  # type: ignore[attr-defined]
    ax.set_ylabel("")  # type: ignore[attr-defined]
    for side in ax.spines.values():  # type: ignore[attr-defined]
        side.set_visible(False)


def _draw_layer(ax: object, layer: StyledLayer, clip: shapely.Geometry, *, zorder: int) -> None:
    gdf = layer.gdf
    if gdf.empty:
        return
    geoms = _merc(gdf.geometry.values)
    hit = shapely.intersects(geoms, clip.buffer(max(clip.bounds[2] - clip.bounds[0], 1) * 0.02))
    if not hit.any():
        return
    geoms, sub = geoms[hit], gdf[hit]
    fills = [
        to_rgba(c, layer.fill_opacity) for c in sub.get("_fill", pd.Series(["#888888"] * len(sub)))
    ]
    strokes = list(sub.get("_stroke", pd.Series(["#444444"] * len(sub))))
    gs = gpd.GeoSeries(geoms)
    if layer.geom == "point":
        xy = shapely.get_coordinates(geoms)
        size = (layer.radius * 1.6) ** 2
        ax.scatter(
            xy[:, 0],
            xy[:, 1],
            s=size,
            c=fills,
            edgecolors=strokes,
            linewidths=max(layer.weight * 0.6, 0.3),
            zorder=zorder + 20,
        )  # type: ignore[attr-defined]
        if layer.extra.get("numbered"):
            for (x, y), r in zip(xy, sub["rank"], strict=True):
                ax.text(
                    x,
                    y,
                    str(r),
                    ha="center",
                    va="center",
                    color="white",
                    fontproperties=_font(6, bold=True),
                    zorder=zorder + 21,
                )  # type: ignore[attr-defined]
        return
    if layer.geom == "line":
        gs.plot(ax=ax, color=strokes, linewidth=max(layer.weight * 0.6, 0.4), zorder=zorder)
        return
    widths = sub.get("_weight", pd.Series([layer.weight] * len(sub))).astype(float) * 0.6
    nodata = sub.get("_nodata", pd.Series([False] * len(sub))).astype(bool).to_numpy()
    gs.plot(ax=ax, facecolor=fills, edgecolor="none", linewidth=0, zorder=zorder)
    if layer.weight > 0:
        gs[~nodata].plot(
            ax=ax,
            facecolor="none",
            edgecolor=[s for s, nd in zip(strokes, nodata, strict=True) if not nd],
            linewidth=list(widths[~nodata]),
            zorder=zorder + 0.5,
        )
        if nodata.any():
            gs[nodata].plot(
                ax=ax,
                facecolor="none",
                edgecolor="#777777",
                linewidth=0.5,
                linestyle="--",
                hatch="///",
                zorder=zorder + 0.5,
            )


def _nice_length(max_m: float) -> float:
    prev = 10
    for v in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000):
        if v > max_m:
            return float(prev)
        prev = v
    return float(prev)


def _scale_bar(ax: object, lang: str, *, size: float) -> None:
    x0, x1 = ax.get_xlim()  # type: ignore[attr-defined]
    y0, y1 = ax.get_ylim()  # type: ignore[attr-defined]
    lat = math.degrees(2 * math.atan(math.exp((y0 + y1) / 2 / 6378137.0)) - math.pi / 2)
    k = math.cos(math.radians(lat))  # ground metres per Mercator metre
    length_m = _nice_length((x1 - x0) * k / 5)
    bar = length_m / k
    bx, by = x0 + (x1 - x0) * 0.03, y0 + (y1 - y0) * 0.06
    h = (y1 - y0) * 0.008
    for i in range(2):
        ax.add_patch(
            Rectangle(
                (bx + i * bar / 2, by),
                bar / 2,
                h,
                facecolor="black" if i == 0 else "white",
                edgecolor="black",
                linewidth=0.6,
                zorder=31,
            )
        )  # type: ignore[attr-defined]
    if length_m >= 1000:
        label = f"{length_m / 1000:g} 公里" if lang == "zh" else f"{length_m / 1000:g} km"
    else:
        label = f"{length_m:g} 米" if lang == "zh" else f"{length_m:g} m"
    ax.text(
        bx,
        by + h * 1.6,
        "0",
        fontproperties=_font(size * 0.85),
        ha="center",
        va="bottom",
        zorder=31,
    )  # type: ignore[attr-defined]
    ax.text(
        bx + bar,
        by + h * 1.6,
        label,
        fontproperties=_font(size * 0.85),
        ha="center",
        va="bottom",
        zorder=31,
    )  # type: ignore[attr-defined]


def _north_arrow(ax: object, label: str, *, size: float) -> None:
    x0, x1 = ax.get_xlim()  # type: ignore[attr-defined]
    y0, y1 = ax.get_ylim()  # type: ignore[attr-defined]
    ax_w, ax_h = x1 - x0, y1 - y0
    cx, base = x1 - ax_w * 0.04, y1 - ax_h * 0.16
    length = ax_h * 0.08
    ax.add_patch(
        FancyArrow(
            cx,
            base,
            0,
            length,
            width=ax_w * 0.006,
            head_width=ax_w * 0.02,
            head_length=length * 0.45,
            length_includes_head=True,
            color="#222222",
            zorder=31,
        )
    )  # type: ignore[attr-defined]
    ax.text(
        cx,
        base + length + ax_h * 0.01,
        label,
        fontproperties=_font(size, bold=True),
        ha="center",
        va="bottom",
        zorder=31,
    )  # type: ignore[attr-defined]


def _legend(
    ax: object,
    b: Briefing,
    *,
    size: float,
    loc: str,
    frame: bool = True,
    title: str = "",
    ncol: int = 1,
) -> object | None:
    """Draw the legend of ``b``'s layers (group titles in bold); return it."""
    handles, labels, bold = [], [], []
    for layer in b.layers:
        if not layer.legend:
            continue
        if shows_title(layer):
            handles.append(Line2D([], [], linestyle="none"))
            labels.append(layer.title)
            bold.append(True)
        for e in layer.legend:
            handles.append(_handle(e.colour, e.shape))
            labels.append(e.label)
            bold.append(False)
    if not handles:
        return None
    leg = ax.legend(  # type: ignore[attr-defined]
        handles,
        labels,
        loc=loc,
        ncol=ncol if len(handles) > 14 else 1,
        columnspacing=1.0,
        prop=_font(size),
        frameon=frame,
        framealpha=0.92,
        borderpad=0.6,
        handlelength=1.3,
        handletextpad=0.5,
        labelspacing=0.3,
        title=title or None,
        title_fontproperties=_font(size * 1.1, bold=True) if title else None,
        alignment="left",
    )
    leg.set_zorder(40)
    for text, is_title in zip(leg.get_texts(), bold, strict=True):
        if is_title:
            text.set_fontproperties(_font(size, bold=True))
    if loc == "upper left" and not frame:
        leg.set_bbox_to_anchor((0.0, 1.0), transform=ax.transAxes)  # type: ignore[attr-defined]
    return leg


def _handle(colour: str, shape: str) -> object:
    if shape == "line":
        return Line2D([], [], color=colour, linewidth=2.5)
    if shape == "dot":
        return Line2D(
            [],
            [],
            marker="o",
            linestyle="none",
            markerfacecolor=colour,
            markeredgecolor="white",
            markersize=7,
        )
    if shape == "ring":
        return Line2D(
            [],
            [],
            marker="o",
            linestyle="none",
            markerfacecolor="white",
            markeredgecolor=colour,
            markeredgewidth=1.8,
            markersize=7,
        )
    if shape == "nodata":
        return Patch(facecolor=colour, edgecolor="#777777", hatch="///", linestyle="--")
    return Patch(facecolor=colour, edgecolor="#666666")


def _table(
    fig: Figure, table: pd.DataFrame, title: str, *, box: tuple[float, float, float, float]
) -> None:
    x, y, w, h = box
    n = len(table) + 1
    row_h = min(0.022, (h - 0.03) / n)
    y = y + (h - 0.03) - row_h * n  # hang the table from the top of its box
    font_pt = min(6.5, row_h * fig.get_figheight() * 72 * 0.55)
    ax = fig.add_axes((x, y, w, row_h * n))
    ax.set_axis_off()
    fig.text(x, y + row_h * n + 0.006, title, fontproperties=_font(8.5, bold=True), va="bottom")
    cells = table.astype(str).to_numpy().tolist()
    tab = ax.table(
        cellText=cells,
        colLabels=[str(c) for c in table.columns],
        loc="upper left",
        cellLoc="left",
        bbox=(0, 0, 1, 1),
    )
    tab.auto_set_font_size(False)
    for (r, _c), cell in tab.get_celld().items():
        cell.set_text_props(fontproperties=_font(font_pt, bold=r == 0))
        cell.set_edgecolor("#cccccc")
        cell.set_linewidth(0.4)
        if r == 0:
            cell.set_facecolor("#eeeeee")
    widths = _col_widths(table)
    for (_r, c), cell in tab.get_celld().items():
        cell.set_width(widths[c])


def _col_widths(table: pd.DataFrame) -> list[float]:
    def width(s: str) -> float:
        return sum(2.0 if ord(ch) > 0x2E80 else 1.0 for ch in s)

    raw = [max([width(str(c))] + [width(str(v)) for v in table[c]]) + 1.5 for c in table.columns]
    total = sum(raw)
    return [r / total for r in raw]


# ----------------------------------------------------------------------------- data downloads


def clip_to_view(
    frames: Mapping[str, pd.DataFrame], bounds: tuple[float, float, float, float]
) -> dict[str, pd.DataFrame]:
    """Each layer's features that touch ``bounds`` (tables without geometry kept whole)."""
    w, s, e, n = bounds
    out: dict[str, pd.DataFrame] = {}
    for name, df in frames.items():
        if isinstance(df, gpd.GeoDataFrame):
            if df.empty:
                continue
            out[name] = df.cx[w:e, s:n]
        else:
            out[name] = df
    return out


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Columns a GeoPackage/CSV can hold (lists, dicts → text; private columns dropped)."""
    keep = [c for c in df.columns if not str(c).startswith("_")]
    out = df[keep].copy()
    for c in out.columns:
        if c == getattr(df, "_geometry_column_name", None):
            continue
        if out[c].dtype == object:
            out[c] = out[c].map(
                lambda v: v if v is None or isinstance(v, str | int | float | bool) else str(v)
            )
    return out


def geopackage_bytes(frames: Mapping[str, pd.DataFrame]) -> bytes:
    """A GeoPackage (one layer per frame; plain tables as attribute tables)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "view.gpkg"
        for name, df in frames.items():
            pyogrio.write_dataframe(_plain(df), path, layer=name, driver="GPKG")
        return path.read_bytes()


def csv_zip_bytes(frames: Mapping[str, pd.DataFrame]) -> bytes:
    """A ZIP with one UTF-8 (BOM, for Excel) CSV per frame; geometry as WKT + lon/lat."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, df in frames.items():
            table = _plain(df)
            if isinstance(df, gpd.GeoDataFrame):
                geom = df.geometry
                pts = geom.representative_point()
                table = pd.DataFrame(table.drop(columns=geom.name)).assign(
                    lon=pts.x.round(6),
                    lat=pts.y.round(6),
                    wkt=shapely.to_wkt(geom.values, rounding_precision=6),
                )
            z.writestr(f"{name}.csv", table.to_csv(index=False).encode("utf-8-sig"))
    return buf.getvalue()


def scorecard_rows(display: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The scorecard columns that fit the PDF's side panel."""
    return display[[c for c in columns if c in display.columns]]
