"""Styled layers: what each map layer draws, in which colour, with which legend.

One description serves both the interactive folium map (``app/maps.py``) and the offline
briefing export (``app/export.py``), so the PNG/PDF look like the map. No streamlit here.

A :class:`StyledLayer` holds a WGS84 GeoDataFrame whose ``_fill`` / ``_stroke`` columns
carry each feature's colours and whose other columns are the tooltip's text, **raw**: the
folium side escapes every string once, in :func:`app.maps.to_geojson`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from app import data as dat
from app.i18n import fmt_int, fmt_m, fmt_pct, fmt_pop, fmt_score, has, status_label, t, tf

Geom = Literal["polygon", "line", "point"]
Shape = Literal["box", "line", "dot", "ring", "nodata"]

#: Categories' point colours, stable by the taxonomy's order.
PALETTE = (
    "#e6194b",
    "#3cb44b",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#42d4f4",
    "#f032e6",
    "#9a6324",
    "#800000",
    "#469990",
    "#000075",
)
#: Share / score classes (percent) and their colours (YlGn); the last class meets 85 %.
SHARE_BREAKS = (0.0, 20.0, 40.0, 60.0, 85.0, 100.0)
SHARE_COLOURS = ("#ffffcc", "#d9f0a3", "#addd8e", "#41ab5d", "#006837")
NO_DATA = "#d0d0d0"
#: Population classes (10,000 people) for the shipped default.
POP_BREAKS = (0.0, 75.0, 125.0, 200.0, 300.0, 1e9)
POP_COLOURS = ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f")
#: Coverage bands: greens when covered at the chosen tier, oranges/reds when not.
COVERED_COLOURS = ("#1a9850", "#66bd63", "#a6d96a", "#d9ef8b")
UNCOVERED_COLOURS = ("#fdae61", "#f46d43", "#d73027", "#a50026")
GAP_FILL, GAP_STROKE, GAP_SELECTED = "#ef8a62", "#b2182b", "#4d0013"
SITE_COLOUR = "#08519c"
ADDED_COLOUR, REMOVED_COLOUR = "#00a651", "#7f7f7f"
ROAD_COLOUR, OUTLINE_COLOUR, WATER_COLOUR, LAND_COLOUR = "#a3a3a3", "#5f5f5f", "#a8c8e8", "#f5f3ee"
PLANNING_COLOURS = {
    "two_streets": "#6a3d9a",
    "four_districts": "#e31a1c",
    "new_towns": "#ff7f00",
    "municipal_centres": "#1f78b4",
    "nightlife_circles": "#b15928",
    "night_markets": "#e7298a",
    "themed_streets": "#33a02c",
    "riverside_belt": "#0570b0",
}


@dataclass(frozen=True)
class LegendEntry:
    """One row of a legend."""

    label: str
    colour: str
    shape: Shape = "box"


@dataclass(frozen=True)
class StyledLayer:
    """A layer ready to draw: features with colours, tooltip columns and a legend."""

    key: str
    title: str
    gdf: gpd.GeoDataFrame
    geom: Geom
    tooltip: tuple[tuple[str, str], ...] = ()  # (column, label)
    legend: tuple[LegendEntry, ...] = ()
    fill_opacity: float = 0.55
    weight: float = 1.0
    radius: float = 4.0
    dash: str | None = None
    interactive: bool = True
    extra: Mapping[str, object] = field(default_factory=dict)


def shows_title(layer: StyledLayer) -> bool:
    """Whether a legend shows the layer's title above its rows (not when the one row says
    the same, nor for planning layers, whose row is their name)."""
    if layer.key.startswith("planning_"):
        return False
    return not (len(layer.legend) == 1 and layer.legend[0].label == layer.title)


def category_colour(cat: str) -> str:
    """A category's point colour."""
    ids = dat.taxonomy().ids
    i = ids.index(cat) if cat in ids else len(ids) + hash(cat) % len(PALETTE)
    return PALETTE[i % len(PALETTE)]


def _classify(values: pd.Series, breaks: Sequence[float], colours: Sequence[str]) -> pd.Series:
    idx = np.clip(
        np.searchsorted(np.asarray(breaks[1:-1]), values.to_numpy(), side="right"),
        0,
        len(colours) - 1,
    )
    out = pd.Series(np.asarray(colours, dtype=object)[idx], index=values.index)
    return out.where(values.notna(), NO_DATA)


def _class_legend(
    breaks: Sequence[float] | list[float],
    colours: Sequence[str],
    lang: str,
    *,
    unit: str,
    last_open: bool,
) -> tuple[LegendEntry, ...]:
    rows = []
    for i, c in enumerate(colours):
        a, b = breaks[i], breaks[i + 1]
        last = last_open and i == len(colours) - 1
        label = f"≥ {a:g}{unit}" if last else f"{a:g}–{b:g}{unit}"
        rows.append(LegendEntry(label, c))
    rows.append(LegendEntry(t("lg_no_data", lang), NO_DATA, "nodata"))
    return tuple(rows)


# ----------------------------------------------------------------------------- districts


def districts_layer(
    data: dat.AppData, *, mode: str, category: str | None, tier: str | None, lang: str
) -> StyledLayer:
    """Districts coloured by composite score, one category's share, or census population.

    ``mode`` is ``score``, ``share`` or ``population``; without a build only ``population``.
    """
    d = data.districts
    study_pop = pd.Series(dtype=float)
    if data.area_scores is not None:
        study_pop = data.area_scores.groupby(data.area_scores["area"].astype(str))["pop"].max()
    if mode == "population" or not data.has_build:
        value = d["population_2020"].astype(float) / 10_000
        fill = _classify(value, POP_BREAKS, POP_COLOURS)
        legend = _class_legend(
            [b if lang == "zh" else b / 100 for b in POP_BREAKS],
            POP_COLOURS,
            lang,
            unit="",
            last_open=True,
        )
        title = t("lg_population", lang)
        shown = [fmt_pop(v, lang) for v in d["population_2020"]]
        fill_opacity = 0.55
    else:
        if mode == "share" and category and tier and data.area_scores is not None:
            share = dat.district_shares(data.area_scores, category, tier)
            value = d["adcode"].map(share).astype(float) * 100
            title = tf(
                "lg_share",
                lang,
                cat=dat.category_label(category, lang),
                tier=dat.tier_label(tier, lang),
            )
            shown = [fmt_pct(v / 100 if pd.notna(v) else np.nan, lang) for v in value]
        else:
            comp = data.composite if data.composite is not None else pd.DataFrame()
            score = comp.set_index(comp["area"].astype(str))["score"] if len(comp) else pd.Series()
            value = d["adcode"].map(score).astype(float)
            title = t("lg_score", lang)
            shown = [fmt_score(v, lang) for v in value]
        in_study = d["adcode"].map(study_pop).fillna(0) > 0
        value = value.where(in_study)
        fill = _classify(value, SHARE_BREAKS, SHARE_COLOURS)
        legend = _class_legend(SHARE_BREAKS, SHARE_COLOURS, lang, unit="%", last_open=True)
        target = t("m_target", lang).format(pct=fmt_pct(dat.target_share(data), lang, digits=0))
        legend = (
            *legend[:-2],
            LegendEntry(f"{legend[-2].label} ({target})", legend[-2].colour),
            legend[-1],
        )
        fill_opacity = 0.6
    name_col = "name_zh" if lang == "zh" else "name_en"
    other_col = "name_en" if lang == "zh" else "name_zh"
    gdf = gpd.GeoDataFrame(
        {
            "name": d[name_col].astype(str),
            "name_other": d[other_col].astype(str),
            "value": shown,
            "population": [fmt_pop(v, lang) for v in d["population_2020"]],
            "study_pop": [fmt_pop(study_pop.get(a, np.nan), lang) for a in d["adcode"]],
            "status": [status_label(s, lang) for s in d.get("status", [""] * len(d))],
            "source": d.get("source", pd.Series([""] * len(d))).fillna("").astype(str),
            "note": d.get("note", pd.Series([""] * len(d))).fillna("").astype(str),
            "_fill": fill.to_numpy(),
            "_stroke": OUTLINE_COLOUR,
            "_nodata": fill.eq(NO_DATA).to_numpy(),
        },
        geometry=shapely.simplify(d.geometry.values, DISTRICT_SIMPLIFY_DEG, preserve_topology=True),
        crs=4326,
    )
    tooltip = [
        ("name", t("tt_name", lang)),
        ("name_other", t("tt_name_en", lang) if lang == "zh" else "中文名"),
        ("value", title),
        ("population", t("tt_population", lang)),
    ]
    if data.has_build:
        tooltip.append(("study_pop", t("tt_study_pop", lang)))
    tooltip += [("status", t("tt_status", lang)), ("source", t("tt_source", lang))]
    return StyledLayer(
        key="districts",
        title=title,
        gdf=gdf,
        geom="polygon",
        tooltip=tuple(tooltip),
        legend=legend,
        fill_opacity=fill_opacity,
        weight=1.2,
    )


# ----------------------------------------------------------------------------- coverage


def band_edges() -> list[float]:
    """Distance band edges: the tiers' distances, ascending."""
    return sorted({t.distance_m for t in dat.rules().tiers.values()})


def coverage_layer(
    data: dat.AppData,
    *,
    category: str,
    tier: str,
    lang: str,
    dist_m: np.ndarray | None = None,
) -> StyledLayer | None:
    """Populated demand cells dissolved by distance band; covered bands in greens.

    ``dist_m`` (per cell, NaN/inf = unreachable) replaces the build's distances (what-if).
    """
    cells = data.cells
    if cells is None or f"dist_{category}" not in cells.columns:
        return None
    dist = cells[f"dist_{category}"].to_numpy(dtype=float) if dist_m is None else dist_m
    dist = np.where(np.isfinite(dist), dist, np.inf)
    limit = dat.tier_distance_m(tier)
    edges = band_edges()
    band = np.searchsorted(np.asarray(edges), dist, side="left")  # 0: ≤ e0, …, len: > last
    pop = cells["pop"].to_numpy(dtype=float)
    keep = pop > 0
    uppers = [*edges, np.inf]
    rows, geoms, legend = [], [], []
    n_cov = sum(1 for u in uppers if u <= limit)
    for b, upper in enumerate(uppers):
        lower = 0.0 if b == 0 else edges[b - 1]
        covered = upper <= limit
        colour = (
            COVERED_COLOURS[min(b, len(COVERED_COLOURS) - 1)]
            if covered
            else UNCOVERED_COLOURS[min(b - n_cov, len(UNCOVERED_COLOURS) - 1)]
        )
        if b == 0:
            label = tf("lg_band_le", lang, b=f"{upper:,.0f}")
        elif np.isinf(upper):
            label = tf("lg_band_gt", lang, a=f"{lower:,.0f}")
        else:
            label = tf("lg_band_range", lang, a=f"{lower:,.0f}", b=f"{upper:,.0f}")
        state = t("lg_covered", lang) if covered else t("lg_uncovered", lang)
        legend.append(LegendEntry(f"{label} · {state}", colour))
        sel = keep & (band == b)
        if not sel.any():
            continue
        geoms.append(_dissolve(cells.geometry.values[sel]))
        rows.append(
            {
                "band": label,
                "state": state,
                "pop": fmt_pop(pop[sel].sum(), lang),
                "_fill": colour,
                "_stroke": colour,
            }
        )
    gdf = (
        gpd.GeoDataFrame(rows, geometry=geoms, crs=4326)
        if rows
        else _empty(["band", "state", "pop", "_fill", "_stroke"])
    )
    title = tf(
        "lg_coverage",
        lang,
        cat=dat.category_label(category, lang),
        tier=dat.tier_label(tier, lang),
        dist=f"{limit:,.0f}",
    )
    return StyledLayer(
        key="coverage",
        title=title,
        gdf=gdf,
        geom="polygon",
        tooltip=(("band", t("tt_band", lang)), ("state", ""), ("pop", t("tt_pop", lang))),
        legend=tuple(legend),
        fill_opacity=0.5,
        weight=0.0,
    )


def _dissolve(polys: np.ndarray) -> shapely.Geometry:
    """Cells merged into one (multi)polygon, without the collinear cell corners."""
    try:
        merged = shapely.coverage_union_all(polys)
        if not shapely.is_valid(merged):
            merged = shapely.union_all(polys)
    except shapely.errors.GEOSException:
        merged = shapely.union_all(polys)
    return shapely.simplify(merged, 1e-7, preserve_topology=True)


def _empty(cols: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {c: pd.Series(dtype=object) for c in cols}, geometry=gpd.GeoSeries([], crs=4326), crs=4326
    )


# ----------------------------------------------------------------------------- gaps


def gaps_layer(
    data: dat.AppData, *, category: str, lang: str, selected: int | None = None
) -> StyledLayer | None:
    """Gap polygons of one category, the selected one outlined darker."""
    g = data.gaps.get(category)
    if g is None:
        return None
    dist = dat.gap_threshold_m(category)
    gdf = gpd.GeoDataFrame(
        {
            "rank": [f"#{int(r)}" for r in g["rank"]],
            "district": [data.district_name(a, lang) for a in g["area"]],
            "pop": [fmt_pop(p, lang) for p in g["pop"]],
            "dist": [fmt_m(x, lang) for x in g["min_dist_m"]],
            "_fill": GAP_FILL,
            "_stroke": [GAP_SELECTED if int(r) == selected else GAP_STROKE for r in g["rank"]],
            "_weight": [4.0 if int(r) == selected else 1.5 for r in g["rank"]],
        },
        geometry=g.geometry.values,
        crs=4326,
    )
    legend = [
        LegendEntry(
            tf("lg_gaps", lang, cat=dat.category_label(category, lang), dist=f"{dist:,.0f}"),
            GAP_FILL,
        )
    ]
    if selected is not None:
        legend.append(LegendEntry(t("lg_selected_gap", lang), GAP_SELECTED, "line"))
    return StyledLayer(
        key="gaps",
        title=legend[0].label,
        gdf=gdf,
        geom="polygon",
        tooltip=(
            ("rank", t("tt_rank", lang)),
            ("district", t("col_district", lang)),
            ("pop", t("tt_pop", lang)),
            ("dist", t("tt_dist", lang)),
        ),
        legend=tuple(legend),
        fill_opacity=0.35,
        weight=1.5,
    )


# ----------------------------------------------------------------------------- POIs


def pois_layer(data: dat.AppData, *, categories: Sequence[str], lang: str) -> StyledLayer | None:
    """Outlets of ``categories`` as points coloured by their first shown category."""
    pois = data.pois
    if pois is None or not categories:
        return None
    cats = pois["categories"].fillna("").astype(str).str.split(";")
    first = cats.apply(lambda xs: next((c for c in categories if c in xs), None))
    sel = pois[first.notna().to_numpy()]
    first = first[first.notna()]
    names = sel["name"].astype(object)
    gdf = gpd.GeoDataFrame(
        {
            "name": [n if isinstance(n, str) and n else t("unnamed", lang) for n in names],
            "category": [
                " / ".join(dat.category_label(c, lang) for c in xs if c) for xs in cats[first.index]
            ],
            "source": [
                t("poi_source_table", lang) if s == "table" else t("poi_source_osm", lang)
                for s in sel["source"].astype(str)
            ],
            "_fill": [category_colour(c) for c in first],
            "_stroke": "#ffffff",
        },
        geometry=sel.geometry.values,
        crs=4326,
    )
    counts = first.value_counts()
    legend = tuple(
        LegendEntry(
            f"{dat.category_label(c, lang)} ({fmt_int(counts.get(c, 0), lang)})",
            category_colour(c),
            "dot",
        )
        for c in categories
    )
    return StyledLayer(
        key="pois",
        title=t("lg_pois", lang),
        gdf=gdf,
        geom="point",
        tooltip=(
            ("name", t("tt_name", lang)),
            ("category", t("tt_category", lang)),
            ("source", t("tt_source", lang)),
        ),
        legend=legend,
        fill_opacity=0.9,
        radius=4.5,
        weight=0.8,
    )


# ----------------------------------------------------------------------------- planning


def planning_layer(key: str, frame: gpd.GeoDataFrame, *, lang: str) -> StyledLayer:
    """One planning layer (fixed schema: id, name_zh, name_en, kind, status, source, …)."""
    colour = PLANNING_COLOURS.get(key, "#444444")
    title = t(f"pl_{key}", lang) if has(f"pl_{key}") else key
    name_col, other_col = ("name_zh", "name_en") if lang == "zh" else ("name_en", "name_zh")

    def col(c: str) -> pd.Series:
        return (
            frame[c].fillna("").astype(str)
            if c in frame.columns
            else pd.Series([""] * len(frame), index=frame.index)
        )

    gdf = gpd.GeoDataFrame(
        {
            "layer": title,
            "name": col(name_col).to_numpy(),
            "name_other": col(other_col).to_numpy(),
            "status": [status_label(s, lang) for s in col("status")],
            "source": col("source").to_numpy(),
            "method": col("geometry_method").to_numpy(),
            "note": col("note").str.slice(0, 240).to_numpy(),
            "_fill": colour,
            "_stroke": colour,
        },
        geometry=frame.geometry.values,
        crs=4326,
    )
    return StyledLayer(
        key=f"planning_{key}",
        title=title,
        gdf=gdf,
        geom="polygon",
        tooltip=(
            ("layer", t("tt_layer", lang)),
            ("name", t("tt_name", lang)),
            ("name_other", t("tt_name_en", lang) if lang == "zh" else "中文名"),
            ("status", t("tt_status", lang)),
            ("source", t("tt_source", lang)),
            ("method", t("tt_method", lang)),
        ),
        legend=(LegendEntry(title, colour, "box"),),
        fill_opacity=0.12,
        weight=2.0,
    )


# ----------------------------------------------------------------------------- sites, what-if


def sites_layer(sites: gpd.GeoDataFrame, *, category: str, lang: str) -> StyledLayer:
    """Proposed sites (rank, added_pop) as numbered points."""
    gdf = gpd.GeoDataFrame(
        {
            "label": [
                tf("site_tooltip", lang, rank=int(r), pop=fmt_pop(p, lang))
                for r, p in zip(sites["rank"], sites["added_pop"], strict=True)
            ],
            "rank": [str(int(r)) for r in sites["rank"]],
            "_fill": SITE_COLOUR,
            "_stroke": "#ffffff",
        },
        geometry=sites.geometry.values,
        crs=4326,
    )
    title = tf("lg_sites", lang, cat=dat.category_label(category, lang))
    return StyledLayer(
        key="sites",
        title=title,
        gdf=gdf,
        geom="point",
        tooltip=(("label", ""),),
        legend=(LegendEntry(title, SITE_COLOUR, "dot"),),
        fill_opacity=1.0,
        radius=9.0,
        weight=2.0,
        extra={"numbered": True},
    )


def whatif_layer(
    added: Sequence[tuple[float, float]], removed: gpd.GeoDataFrame, *, lang: str
) -> StyledLayer | None:
    """Outlets added (green) and removed (grey ring) in the what-if scenario."""
    if not added and removed.empty:
        return None
    pts = [shapely.Point(lon, lat) for lon, lat in added] + list(removed.geometry.values)
    labels = [t("whatif_added_label", lang)] * len(added) + [
        t("whatif_removed_label", lang)
        + ": "
        + (n if isinstance(n, str) and n else t("unnamed", lang))
        for n in removed.get("name", pd.Series([], dtype=object))
    ]
    gdf = gpd.GeoDataFrame(
        {
            "label": labels,
            "_fill": [ADDED_COLOUR] * len(added) + ["#ffffff"] * len(removed),
            "_stroke": [ADDED_COLOUR] * len(added) + [REMOVED_COLOUR] * len(removed),
        },
        geometry=pts,
        crs=4326,
    )
    legend = []
    if added:
        legend.append(LegendEntry(t("whatif_added_label", lang), ADDED_COLOUR, "dot"))
    if not removed.empty:
        legend.append(LegendEntry(t("whatif_removed_label", lang), REMOVED_COLOUR, "ring"))
    return StyledLayer(
        key="whatif",
        title=t("layer_whatif", lang),
        gdf=gdf,
        geom="point",
        tooltip=(("label", ""),),
        legend=tuple(legend),
        fill_opacity=1.0,
        radius=8.0,
        weight=3.0,
    )


# ----------------------------------------------------------------------------- basemap


MAX_ROAD_VERTICES = 250_000  # beyond this only the longest edges are drawn
ROAD_SIMPLIFY_DEG = 0.00004  # ≈ 4 m: invisible at city zooms, a third fewer vertices
DISTRICT_SIMPLIFY_DEG = 0.0001  # ≈ 10 m (the district file is already generalised to 15 m)


def road_lines(edges: gpd.GeoDataFrame | None) -> shapely.Geometry | None:
    """The walk network's edges as one simplified WGS84 multi-line (the offline basemap)."""
    if edges is None or edges.empty:
        return None
    geoms = edges.geometry.values
    n = shapely.get_num_coordinates(geoms)
    if n.sum() > MAX_ROAD_VERTICES:
        order = np.argsort(-edges["length_m"].to_numpy())
        keep = order[np.cumsum(n[order]) <= MAX_ROAD_VERTICES]
        geoms = geoms[np.sort(keep)]
    lines = shapely.simplify(geoms, ROAD_SIMPLIFY_DEG)
    return shapely.multilinestrings(lines)


def outline_lines(districts: gpd.GeoDataFrame) -> shapely.Geometry:
    """District boundaries as lines (simplified for display)."""
    return shapely.simplify(
        shapely.union_all(shapely.boundary(districts.geometry.values)), DISTRICT_SIMPLIFY_DEG
    )
