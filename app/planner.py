"""The planner's map page: a build's coverage, gaps, siting, what-if and briefing export.

Caching (a Streamlit server shares one process between users):

* ``st.cache_resource`` holds the loaded build (:class:`app.data.AppData`), the styled layers
  and their GeoJSON, and the recomputed analysis (:class:`shangquan.build.BuildResult`).
  They are shared by every session and **never modified**: every step makes new frames.
* ``st.cache_data`` holds per-request results (siting, what-if scores); each caller gets a
  copy.
* The map is drawn in an ``st.fragment`` whose st_folium returns only ``bounds`` (and the
  clicked point while what-if is on): panning or zooming reruns that fragment only; the
  layers are handed over as ``feature_group_to_add``, so a layer toggle swaps overlays
  without reloading the map or losing the view.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import altair as alt
import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from app import data as dat
from app import engine as eng
from app import export as xp
from app import maps as mp
from app import view as vw
from app.i18n import (
    fmt_date,
    fmt_deg,
    fmt_int,
    fmt_m,
    fmt_pct,
    fmt_pop,
    fmt_score,
    has,
    status_label,
    t,
    tf,
)
from app.safety import inside_allowed
from geo.errors import InputDataError, ShangquanError

log = logging.getLogger(__name__)

SHIPPED_OPTION = "__shipped__"
ALL_AREAS = "__all__"
MAP_HEIGHT_PX = 620
ENV_TIANDITU = "SHANGQUAN_TIANDITU_KEY"
ENV_BASEMAP = "SHANGQUAN_BASEMAP"
SHARED_OSM = dat.REPO.parent / "shared" / "data" / "osm" / "shanghai_center_roads.osm.gz"
SHARED_POI = dat.REPO.parent / "shared" / "data" / "poi" / "shanghai_brand_pois_bd09.csv"


# ============================================================================ caches


@st.cache_resource(show_spinner=False, max_entries=4)
def load_data(folder: str, stamp: str) -> dat.AppData:
    """A verified build (shared, read-only). ``stamp`` (the build id) is part of the key."""
    del stamp
    if folder == SHIPPED_OPTION:
        return dat.shipped_data()
    return dat.load_build_data(folder)


@st.cache_resource(show_spinner=False, max_entries=8)
def base_geometries(folder: str, stamp: str) -> tuple[Any, Any, Any]:
    """Roads, district outlines and water of the offline basemap (shared, read-only)."""
    data = load_data(folder, stamp)
    water = None
    if data.water is not None and not data.water.empty:
        import shapely

        water = shapely.union_all(data.water.geometry.values)
    return vw.road_lines(data.edges), vw.outline_lines(data.districts), water


@st.cache_resource(show_spinner=False, max_entries=128)
def styled(
    folder: str, stamp: str, kind: str, params: tuple[Any, ...], lang: str, gcj: bool
) -> tuple[vw.StyledLayer | None, dict[str, Any] | None]:
    """A styled layer and its escaped GeoJSON (shared, read-only)."""
    data = load_data(folder, stamp)
    layer = _make_layer(data, kind, params, lang)
    return layer, (mp.to_geojson(layer, gcj02=gcj) if layer is not None else None)


def _make_layer(
    data: dat.AppData, kind: str, params: tuple[Any, ...], lang: str
) -> vw.StyledLayer | None:
    if kind == "districts":
        mode, cat, tier = params
        return vw.districts_layer(data, mode=mode, category=cat, tier=tier, lang=lang)
    if kind == "coverage":
        cat, tier = params
        return vw.coverage_layer(data, category=cat, tier=tier, lang=lang)
    if kind == "gaps":
        cat, selected = params
        return vw.gaps_layer(data, category=cat, lang=lang, selected=selected)
    if kind == "pois":
        return vw.pois_layer(data, categories=list(params), lang=lang)
    if kind == "planning":
        (key,) = params
        return vw.planning_layer(key, data.planning[key], lang=lang)
    msg = f"unknown layer kind {kind!r}"
    raise ValueError(msg)


@st.cache_resource(show_spinner=False, max_entries=2)
def analysis(folder: str, stamp: str) -> Any:
    """The build recomputed in memory for siting and what-if (shared, read-only)."""
    data = load_data(folder, stamp)
    return eng.recompute(data.manifest or {})


@st.cache_data(show_spinner=False, max_entries=32)
def siting(folder: str, stamp: str, category: str, n_sites: int) -> dict[str, Any]:
    """Proposed sites and their figures (a copy per caller)."""
    res = analysis(folder, stamp)
    p = eng.proposal(res, category=category, n_sites=n_sites)
    return {
        "category": category,
        "n": n_sites,
        "sites": p.sites,
        "added": float(p.result.total_added),
        "method": p.result.method,
        "optimal": bool(p.result.optimal),
        "n_candidates": p.n_candidates,
        "threshold_m": p.threshold_m,
        "uncovered_before": p.uncovered_before,
    }


@st.cache_data(show_spinner=False, max_entries=64)
def scenario_result(
    folder: str,
    stamp: str,
    category: str,
    added: tuple[tuple[float, float], ...],
    removed: tuple[int, ...],
) -> dict[str, Any]:
    """Scores and distances after a what-if (a copy per caller)."""
    res = analysis(folder, stamp)
    r = eng.apply_scenario(res, eng.Scenario(category, added, removed))
    return {"area_scores": r.area_scores, "dist": eng.scenario_distances(r), "added_ok": r.added_ok}


@st.cache_resource(show_spinner=False, max_entries=8)
def outlets(folder: str, stamp: str, category: str) -> gpd.GeoDataFrame:
    """The category's outlets in the analysis' order (shared, read-only)."""
    return eng.outlet_frame(analysis(folder, stamp), category)


# ============================================================================ page state


@dataclass
class Page:
    """What one run of the page works with."""

    lang: str
    data: dat.AppData
    folder: str
    category: str | None = None
    tier: str | None = None
    layers: list[vw.StyledLayer] = field(default_factory=list)
    geojson: list[dict[str, Any]] = field(default_factory=list)
    scenario: eng.Scenario | None = None
    scenario_scores: pd.DataFrame | None = None
    basemap: str = "offline"
    tianditu_key: str = ""
    focus: tuple[tuple[float, float], int] | None = None

    @property
    def gcj(self) -> bool:
        return self.basemap in mp.GCJ02_BASEMAPS

    @property
    def scores(self) -> pd.DataFrame | None:
        """The build's area scores with this session's what-if applied to its category."""
        base = self.data.area_scores
        if base is None or self.scenario_scores is None or self.scenario is None:
            return base
        cat = self.scenario.category
        keep = base[base["category"] != cat]
        return pd.concat([keep, self.scenario_scores[base.columns]], ignore_index=True)


# ============================================================================ the page


def main(lang: str) -> None:
    """Render the planner's map page."""
    st.title(t("title", lang))
    folder = _build_picker(lang)
    try:
        with st.spinner(t("reading", lang)):
            data = load_data(folder, _stamp(folder))
    except ShangquanError as exc:
        st.error(f"{t('build_error', lang)}: {exc}")
        data = load_data(SHIPPED_OPTION, SHIPPED_OPTION)
        folder = SHIPPED_OPTION
    page = Page(lang=lang, data=data, folder=folder)
    if data.has_build:
        _analysis_controls(page)
        _build_caption(page)
        _run_siting_request(page)
    else:
        _no_build_message(lang)
    _scenario_state(page)
    _basemap_controls(page)
    _layer_controls(page)
    _metrics(page)
    _map_fragment(page)
    if page.gcj:
        st.caption(t("amap_note", lang))
    if data.has_build:
        tabs = st.tabs(
            [
                t(k, lang)
                for k in (
                    "tab_scorecard",
                    "tab_gaps",
                    "tab_siting",
                    "tab_whatif",
                    "tab_export",
                    "tab_about",
                )
            ]
        )
        with tabs[0]:
            _scorecard_tab(page)
        with tabs[1]:
            _gaps_tab(page)
        with tabs[2]:
            _siting_tab(page)
        with tabs[3]:
            _whatif_tab(page)
        with tabs[4]:
            _export_tab(page)
        with tabs[5]:
            _about_tab(page)
    else:
        tabs = st.tabs([t("tab_scorecard", lang), t("tab_export", lang), t("tab_about", lang)])
        with tabs[0]:
            _census_table(page)
        with tabs[1]:
            _export_tab(page)
        with tabs[2]:
            _about_tab(page)


def _stamp(folder: str) -> str:
    if folder == SHIPPED_OPTION:
        return SHIPPED_OPTION
    try:
        return (Path(folder) / "manifest.json").stat().st_mtime_ns.__str__()
    except OSError:
        return "missing"


# ----------------------------------------------------------------------------- sidebar


def _check(container: Any, label: str, key: str, default: bool) -> bool:
    """A checkbox whose default lives in Session State (so code may switch it on too)."""
    if key not in st.session_state:
        st.session_state[key] = default
    return bool(container.checkbox(label, key=key))


# Selectboxes, radios and multiselects whose option labels follow the language carry the
# language in their widget key (``category__zh``): Streamlit keeps showing the old labels of
# a keyed widget whose format_func changed. The value itself lives under the plain key
# (``category``), read with _get and changed by code with _set.


def wkey(key: str, lang: str | None = None) -> str:
    """The widget key of a language-dependent choice."""
    return f"{key}__{lang or st.session_state.get('_lang', 'zh')}"


def _get(key: str, default: Any = None) -> Any:
    """The current value of a language-dependent choice (the widget's, once it exists)."""
    wk = wkey(key)
    if wk in st.session_state:
        return st.session_state[wk]
    return st.session_state.get(key, default)


def _set(key: str, value: Any) -> None:
    """Change a language-dependent choice from code (before its widget is drawn, or in a
    callback)."""
    st.session_state[key] = value
    for lg in ("zh", "en"):
        if wkey(key, lg) in st.session_state:
            st.session_state[wkey(key, lg)] = value


def _choice(
    widget: Any, label: str, options: list[Any], key: str, *, default: Any = None, **kw: Any
) -> Any:
    """A language-dependent selectbox / radio / multiselect (``widget``) keyed ``key``."""
    multi = isinstance(default, list)
    current = _get(key, default)
    if multi:
        current = [v for v in (current or []) if v in options]
    elif current not in options:
        current = default if default in options else (options[0] if options else None)
    st.session_state[wkey(key)] = current
    value = widget(label, options, key=wkey(key), **kw)
    st.session_state[key] = value
    return value


def _default_builds_dir() -> str:
    q = st.query_params.get("builds")
    return str(dat.builds_root(q if isinstance(q, str) and q else None))


def _build_picker(lang: str) -> str:
    sb = st.sidebar
    if "builds_dir" not in st.session_state:
        st.session_state["builds_dir"] = _default_builds_dir()
    root = sb.text_input(t("builds_dir", lang), key="builds_dir", help=t("builds_dir_help", lang))
    builds = []
    if root:
        try:
            builds = dat.list_builds(inside_allowed(root))
        except InputDataError as exc:
            sb.error(str(exc))
    options = [str(b.folder) for b in builds] + [SHIPPED_OPTION]
    labels = {
        str(b.folder): f"{b.build_id} · {b.osm_name}"
        + (f" ({t('latest', lang)})" if b.latest else "")
        for b in builds
    }
    labels[SHIPPED_OPTION] = t("no_build_option", lang)
    return str(
        _choice(
            sb.selectbox,
            t("build", lang),
            options,
            "build",
            default=options[0],
            format_func=labels.__getitem__,
        )
    )


def _analysis_controls(page: Page) -> None:
    lang, data = page.lang, page.data
    sb = st.sidebar
    sb.subheader(t("analysis", lang))
    cats = data.scored_categories
    with_data = set(data.categories_with_data())
    by_outlets = sorted(with_data, key=lambda c: -len(dat.outlets_of(data.pois, c)))
    default_cat = (by_outlets or cats)[0]

    def cat_label(c: str) -> str:
        label = dat.category_label(c, lang)
        return (
            label
            if c in with_data
            else f"{label}（{t('no_data_tag', lang)}）"
            if lang == "zh"
            else f"{label} ({t('no_data_tag', lang)})"
        )

    page.category = _choice(
        sb.selectbox,
        t("category", lang),
        cats,
        "category",
        default=default_cat,
        format_func=cat_label,
    )
    tiers = dat.category_tiers(page.category)
    page.tier = _choice(
        sb.selectbox,
        t("tier", lang),
        tiers,
        "tier",
        default=tiers[-1],
        format_func=lambda x: (
            f"{dat.tier_label(x, lang)} (≤ {fmt_m(dat.tier_distance_m(x), lang)})"
        ),
    )


def _basemap_controls(page: Page) -> None:
    lang = page.lang
    sb = st.sidebar
    env = os.environ.get(ENV_BASEMAP, "offline")
    page.basemap = _choice(
        sb.selectbox,
        t("basemap", lang),
        list(mp.BASEMAPS),
        "basemap",
        default=env if env in mp.BASEMAPS else "offline",
        format_func=lambda b: t(f"basemap_{b}", lang),
    )
    if page.basemap == "tianditu":
        if "tianditu_key" not in st.session_state:
            st.session_state["tianditu_key"] = os.environ.get(ENV_TIANDITU, "")
        page.tianditu_key = sb.text_input(
            t("tianditu_key", lang),
            key="tianditu_key",
            type="password",
            help=t("tianditu_key_help", lang),
        ).strip()
        if not page.tianditu_key:
            sb.warning(t("tianditu_no_key", lang))


def _layer_controls(page: Page) -> None:
    lang, data = page.lang, page.data
    sb = st.sidebar
    sb.subheader(t("layers", lang))
    params_cat = (page.category, page.tier)
    add: list[tuple[str, tuple[Any, ...]]] = []
    if _check(sb, t("layer_districts", lang), "layer_districts", True):
        if data.has_build:
            mode = _choice(
                sb.radio,
                t("choropleth", lang),
                ["score", "share", "population"],
                "choropleth",
                default="score",
                format_func=lambda m: t(f"choro_{m}", lang),
                horizontal=False,
            )
        else:
            mode = "population"
        add.append(("districts", (mode, *params_cat)))
    if data.has_build and _check(sb, t("layer_coverage", lang), "layer_coverage", True):
        add.append(("coverage", params_cat))
    selected_gap = _get("gap") or None
    if data.has_build and _check(sb, t("layer_gaps", lang), "layer_gaps", False):
        add.append(("gaps", (page.category, selected_gap)))
    if data.planning and _check(sb, t("layer_planning", lang), "layer_planning", True):
        keys = list(data.planning)
        chosen = _choice(
            sb.multiselect,
            t("layer_planning", lang),
            keys,
            "planning_layers",
            default=list(keys),
            format_func=lambda k: t(f"pl_{k}", lang),
            label_visibility="collapsed",
        )
        add += [("planning", (k,)) for k in keys if k in chosen]
    poi_cats: list[str] = []
    if data.pois is not None and _check(sb, t("layer_pois", lang), "layer_pois", True):
        cats = data.scored_categories
        poi_cats = _choice(
            sb.multiselect,
            t("poi_categories", lang),
            cats,
            "poi_categories",
            default=[page.category] if page.category else [],
            format_func=lambda c: dat.category_label(c, lang),
        )
        if poi_cats:
            add.append(("pois", tuple(poi_cats)))
    order = {"districts": 0, "planning": 1, "coverage": 2, "gaps": 3, "pois": 4}
    for kind, params in sorted(add, key=lambda a: order[a[0]]):
        if kind == "coverage" and page.scenario is not None and not page.scenario.empty:
            layer = _scenario_coverage(page)
            gj = mp.to_geojson(layer, gcj02=page.gcj) if layer else None
        else:
            layer, gj = styled(page.folder, _stamp(page.folder), kind, params, lang, page.gcj)
        if layer is not None and gj is not None:
            page.layers.append(layer)
            page.geojson.append(gj)
    _dynamic_layers(page)


def _dynamic_layers(page: Page) -> None:
    """Sites and what-if outlets (per session, never cached globally)."""
    lang = page.lang
    sb = st.sidebar
    prop = st.session_state.get("siting")
    if (
        prop
        and prop.get("build") == page.data.key
        and _check(sb, t("layer_sites", lang), "layer_sites", True)
    ):
        layer = vw.sites_layer(prop["sites"], category=prop["category"], lang=lang)
        page.layers.append(layer)
        page.geojson.append(mp.to_geojson(layer, gcj02=page.gcj))
    sc = page.scenario
    if (
        sc is not None
        and not sc.empty
        and _check(sb, t("layer_whatif", lang), "layer_whatif", True)
    ):
        removed = _removed_frame(page)
        layer = vw.whatif_layer(list(sc.added), removed, lang=lang)
        if layer is not None:
            page.layers.append(layer)
            page.geojson.append(mp.to_geojson(layer, gcj02=page.gcj))


# ----------------------------------------------------------------------------- header


def _no_build_message(lang: str) -> None:
    root = st.session_state.get("builds_dir") or str(dat.DEFAULT_BUILDS)
    with st.container(border=True):
        st.subheader(t("no_build_title", lang))
        st.write(t("no_build_body", lang))
        st.code(f"shangquan build --osm YOUR_EXTRACT.osm.pbf --out {root}", language="bash")
        if SHARED_OSM.is_file():
            st.write(t("no_build_example", lang))
            st.code(
                f"shangquan build --osm {SHARED_OSM} --poi {SHARED_POI} --datum bd09 --out {root}",
                language="bash",
            )
        st.write(t("no_build_then", lang))


def _build_caption(page: Page) -> None:
    m = page.data.manifest or {}
    created = str(m.get("created_utc", ""))[:10]
    try:
        date = fmt_date(dt.date.fromisoformat(created), page.lang)
    except ValueError:
        date = created
    km = (m.get("network") or {}).get("length_km", float("nan"))
    st.caption(
        tf(
            "build_caption",
            page.lang,
            build=page.data.key,
            date=date,
            osm=page.data.input_names().get("osm", "?"),
            km=fmt_int(km, page.lang),
        )
    )
    if m.get("footways") is False:
        st.caption("⚠ " + t("network_note_roads_only", page.lang))


def _metrics(page: Page) -> None:
    lang, data = page.lang, page.data
    cols = st.columns(4)
    if not data.has_build:
        cols[0].metric(t("m_districts", lang), fmt_int(len(data.districts), lang))
        cols[1].metric(t("m_census", lang), fmt_pop(data.districts["population_2020"].sum(), lang))
        return
    scores = page.scores
    assert scores is not None and page.category and page.tier
    pop = scores.groupby(scores["area"].astype(str))["pop"].max().sum()
    share = dat.study_share(scores, page.category, page.tier)
    base = (
        dat.study_share(data.area_scores, page.category, page.tier)
        if data.area_scores is not None
        else share
    )
    delta = None
    if (
        page.scenario is not None
        and not page.scenario.empty
        and np.isfinite(share)
        and np.isfinite(base)
    ):
        delta = f"{100 * (share - base):+.1f} pp"
    target = fmt_pct(dat.target_share(data), lang, digits=0)
    cols[0].metric(t("m_population", lang), fmt_pop(pop, lang))
    cols[1].metric(
        tf(
            "m_share",
            lang,
            cat=dat.category_label(page.category, lang),
            tier=dat.tier_label(page.tier, lang),
        ),
        fmt_pct(share, lang),
        delta=delta,
        help=tf("m_target", lang, pct=target),
    )
    cols[2].metric(
        t("m_score", lang),
        fmt_score(dat.pop_weighted_score(data), lang),
        help=tf("m_target", lang, pct=target),
    )
    n = len(dat.outlets_of(data.pois, page.category))
    cols[3].metric(
        tf("m_outlets", lang, cat=dat.category_label(page.category, lang)), fmt_int(n, lang)
    )


# ----------------------------------------------------------------------------- the map


@dataclass(frozen=True)
class MapArgs:
    """Everything the map fragment needs (the fragment reruns with the same object)."""

    lang: str
    folder: str
    stamp: str
    extent: tuple[float, float, float, float]
    basemap: str
    tianditu_key: str
    geojson: tuple[dict[str, Any], ...]
    layers: tuple[vw.StyledLayer, ...]
    focus: tuple[tuple[float, float], int] | None
    click_mode: str | None  # "add" / "remove" while what-if is on


def _map_fragment(page: Page) -> None:
    focus = _gap_focus(page)
    args = MapArgs(
        lang=page.lang,
        folder=page.folder,
        stamp=_stamp(page.folder),
        extent=page.data.extent(),
        basemap=page.basemap
        if not (page.basemap == "tianditu" and not page.tianditu_key)
        else "offline",
        tianditu_key=page.tianditu_key,
        geojson=tuple(page.geojson),
        layers=tuple(page.layers),
        focus=focus,
        click_mode=_get("whatif_mode", "add") if st.session_state.get("whatif_on") else None,
    )
    st.session_state["_map_layers"] = args.layers
    _draw_map(args)


@st.fragment
def _draw_map(args: MapArgs) -> None:
    gcj = args.basemap in mp.GCJ02_BASEMAPS
    roads, outlines, water = base_geometries(args.folder, args.stamp)
    offline = args.basemap == "offline"
    m = mp.base_map(
        extent=args.extent,
        basemap=args.basemap,
        tianditu_key=args.tianditu_key or None,
        roads=roads if offline else None,
        outlines=outlines if offline else None,
        water=water if offline else None,
        height_px=MAP_HEIGHT_PX,
    )
    groups = [
        mp.overlay_group_from(layer, gj)
        for layer, gj in zip(args.layers, args.geojson, strict=True)
    ]
    groups.append(mp.legend_group(list(args.layers), title=t("brief_legend", args.lang)))
    returned = ["bounds"]
    if args.click_mode == "add":
        returned.append("last_clicked")
    elif args.click_mode == "remove":
        returned.append("last_object_clicked")
    center, zoom = (None, None)
    if args.focus is not None:
        (lat, lon), zoom = args.focus
        if gcj:
            x, y = mp.gcj02_from_wgs84(np.array([lon]), np.array([lat]))
            lon, lat = float(x[0]), float(y[0])
        center = (lat, lon)
    out = st_folium(
        m,
        key="map",
        height=MAP_HEIGHT_PX,
        use_container_width=True,
        returned_objects=returned,
        feature_group_to_add=groups,
        center=center,
        zoom=zoom,
        render=False,  # st_folium renders the map itself once more; once is enough
    )
    _remember_bounds(out, gcj=gcj, default=m.get_bounds(), extent=args.extent)
    if args.click_mode:
        _handle_click(out, args, gcj=gcj)


def _remember_bounds(
    out: Any, *, gcj: bool, default: Any, extent: tuple[float, float, float, float]
) -> None:
    b = (out or {}).get("bounds") or {}
    sw, ne = b.get("_southWest") or {}, b.get("_northEast") or {}
    try:
        s, w, n, e = float(sw["lat"]), float(sw["lng"]), float(ne["lat"]), float(ne["lng"])
    except (KeyError, TypeError, ValueError):
        st.session_state["view_bounds"] = extent
        return
    if [[s, w], [n, e]] == default or not (w < e and s < n):
        st.session_state["view_bounds"] = extent  # the frontend has not reported a view yet
        return
    if gcj:
        w, s = mp.unshift_point(w, s, from_gcj02=True)
        e, n = mp.unshift_point(e, n, from_gcj02=True)
    st.session_state["view_bounds"] = (w, s, e, n)


def _handle_click(out: Any, args: MapArgs, *, gcj: bool) -> None:
    key = "last_clicked" if args.click_mode == "add" else "last_object_clicked"
    click = (out or {}).get(key)
    if not click or click == st.session_state.get("_seen_click"):
        return
    st.session_state["_seen_click"] = click
    lon, lat = mp.unshift_point(float(click["lng"]), float(click["lat"]), from_gcj02=gcj)
    if args.click_mode == "add":
        st.session_state["_pending_add"] = (round(lon, 6), round(lat, 6))
    else:
        st.session_state["_pending_pick"] = (lon, lat)
    st.rerun()


def _gap_focus(page: Page) -> tuple[tuple[float, float], int] | None:
    rank = _get("gap")
    if not rank or not page.category:
        return None
    g = page.data.gaps.get(page.category)
    if g is None:
        return None
    row = g[g["rank"] == rank]
    if row.empty:
        return None
    geom = row.geometry.iloc[0]
    x0, y0, x1, y1 = geom.bounds
    span = max(x1 - x0, (y1 - y0) * 1.2, 1e-4)
    zoom = int(np.clip(np.floor(np.log2(360 / span)) - 1, 12, 17))
    c = geom.representative_point()
    return (round(c.y, 6), round(c.x, 6)), zoom


# ----------------------------------------------------------------------------- scorecard


PLACE_PREFIX = "place:"


def _area_options(page: Page) -> list[str]:
    places = [f"{PLACE_PREFIX}{pid}" for pid, _ in page.data.scored_places()]
    return [ALL_AREAS, *page.data.study_districts(), *places]


def _area_label(page: Page, a: str) -> str:
    if a == ALL_AREAS:
        return t("study_area", page.lang)
    if a.startswith(PLACE_PREFIX):
        pid = a[len(PLACE_PREFIX) :]
        layer = dict(page.data.scored_places()).get(pid, "")
        kind = t(f"pl_{layer}", page.lang) if has(f"pl_{layer}") else layer
        return f"{kind} · {page.data.place_name(pid, page.lang)}"
    return page.data.district_name(a, page.lang)


def _area_scores_of(page: Page, area: str) -> pd.DataFrame:
    """Scorecard rows of ``area`` (a district, a planning place, or the whole study area)."""
    if area.startswith(PLACE_PREFIX) and page.data.place_scores is not None:
        return dat.area_table(page.data.place_scores, area[len(PLACE_PREFIX) :])
    scores = page.scores
    assert scores is not None
    return dat.area_table(scores, None if area == ALL_AREAS else area)


def scorecard_display(page: Page, area: str) -> pd.DataFrame:
    """The scorecard of ``area`` with localised headers and formatted values."""
    lang = page.lang
    tab = dat.ordered(_area_scores_of(page, area))
    target = dat.target_share(page.data)
    no_data = tab["status"] == "no_data"
    rules = dat.rules().categories
    return pd.DataFrame(
        {
            t("col_category", lang): [dat.category_label(c, lang) for c in tab["category"]],
            t("col_tier", lang): [dat.tier_label(x, lang) for x in tab["tier"]],
            t("col_pop", lang): [fmt_pop(v, lang) for v in tab["pop"]],
            t("col_covered", lang): [
                t("no_data", lang) if nd else fmt_pop(v, lang)
                for v, nd in zip(tab["pop_covered"], no_data, strict=True)
            ],
            t("col_uncovered", lang): [
                t("no_data", lang) if nd else fmt_pop(v, lang)
                for v, nd in zip(tab["pop_uncovered"], no_data, strict=True)
            ],
            t("col_share", lang): [fmt_pct(v, lang) for v in tab["share"]],
            t("col_target", lang): fmt_pct(target, lang, digits=0),
            t("col_meets", lang): [
                "—" if nd or pd.isna(s) else (t("yes", lang) if s >= target else t("no", lang))
                for s, nd in zip(tab["share"], no_data, strict=True)
            ],
            t("col_status", lang): [
                status_label(rules[c].status if c in rules else "", lang) for c in tab["category"]
            ],
        }
    )


def _scorecard_tab(page: Page) -> None:
    lang = page.lang
    options = _area_options(page)
    area = _choice(
        st.selectbox,
        t("area", lang),
        options,
        "area",
        default=ALL_AREAS,
        format_func=lambda a: _area_label(page, a),
    )
    table = scorecard_display(page, area)
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(
        t("no_data_note", lang) + " " + tf("scorecard_note", lang, cell=f"{page.data.cell_m:g}")
    )
    c1, c2 = st.columns(2)
    with c1:
        st.vega_lite_chart(_share_chart(page, area).to_dict(validate=False), width="stretch")
    with c2:
        st.vega_lite_chart(_district_chart(page).to_dict(validate=False), width="stretch")


def _share_chart(page: Page, area: str) -> alt.Chart:
    lang = page.lang
    tab = dat.ordered(_area_scores_of(page, area))
    df = pd.DataFrame(
        {
            "cat": [dat.category_label(c, lang) for c in tab["category"]],
            "tier": [dat.tier_label(x, lang) for x in tab["tier"]],
            "share": (tab["share"] * 100).round(1),
            "label": [fmt_pct(v, lang) for v in tab["share"]],
        }
    )
    target = 100 * dat.target_share(page.data)
    order = list(dict.fromkeys(df["cat"]))
    title = tf(
        "chart_title", lang, area=_area_label(page, area), pct=fmt_pct(target / 100, lang, digits=0)
    )
    y_title = f"{t('col_share', lang)} (%)"
    bars = (
        alt.Chart(df.dropna(subset=["share"]))
        .mark_bar()
        .encode(
            x=alt.X("cat:N", sort=order, title=None, axis=alt.Axis(labelAngle=-40)),
            xOffset=alt.XOffset("tier:N"),
            y=alt.Y("share:Q", scale=alt.Scale(domain=[0, 100]), title=y_title),
            color=alt.Color("tier:N", title=t("col_tier", lang)),
            tooltip=[
                alt.Tooltip("cat:N", title=t("col_category", lang)),
                alt.Tooltip("tier:N", title=t("col_tier", lang)),
                alt.Tooltip("label:N", title=t("col_share", lang)),
            ],
        )
    )
    nd = df[df["share"].isna()].drop_duplicates("cat").assign(y=2, text=t("no_data", lang))
    no_data = (
        alt.Chart(nd)
        .mark_text(angle=270, align="left", color="#777777", fontSize=11)
        .encode(x=alt.X("cat:N", sort=order), y="y:Q", text="text:N")
    )
    rule = (
        alt.Chart(pd.DataFrame({"y": [target]}))
        .mark_rule(color="#d62728", strokeDash=[5, 3])
        .encode(y="y:Q")
    )
    return (bars + no_data + rule).properties(title=title, height=300)


def _district_chart(page: Page) -> alt.Chart:
    lang = page.lang
    scores = page.scores
    assert scores is not None and page.category and page.tier
    shares = dat.district_shares(scores, page.category, page.tier)
    df = pd.DataFrame(
        {
            "district": [page.data.district_name(a, lang) for a in shares.index],
            "share": (shares.to_numpy() * 100).round(1),
            "label": [fmt_pct(v, lang) for v in shares],
        }
    )
    target = 100 * dat.target_share(page.data)
    title = tf(
        "chart_districts",
        lang,
        cat=dat.category_label(page.category, lang),
        tier=dat.tier_label(page.tier, lang),
    )
    bars = (
        alt.Chart(df.dropna(subset=["share"]))
        .mark_bar(color="#41ab5d")
        .encode(
            y=alt.Y("district:N", sort="-x", title=None),
            x=alt.X(
                "share:Q", scale=alt.Scale(domain=[0, 100]), title=f"{t('col_share', lang)} (%)"
            ),
            tooltip=[
                alt.Tooltip("district:N", title=t("col_district", lang)),
                alt.Tooltip("label:N", title=t("col_share", lang)),
            ],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"x": [target]}))
        .mark_rule(color="#d62728", strokeDash=[5, 3])
        .encode(x="x:Q")
    )
    return (bars + rule).properties(title=title, height=300)


def _census_table(page: Page) -> None:
    lang, d = page.lang, page.data.districts
    name = "name_zh" if lang == "zh" else "name_en"
    area = d["area_km2_official"] if "area_km2_official" in d.columns else d.get("area_km2")
    table = pd.DataFrame(
        {
            t("col_district", lang): d[name].astype(str),
            t("tt_population", lang): [fmt_pop(v, lang) for v in d["population_2020"]],
            t("col_area_km2", lang): [f"{v:,.0f}" for v in area],
            t("col_density", lang): [
                f"{p / a:,.0f} /km²" for p, a in zip(d["population_2020"], area, strict=True)
            ],
            t("col_status", lang): [status_label(s, lang) for s in d["status"]],
            t("col_source", lang): d["source"].astype(str),
        }
    )
    st.dataframe(table, hide_index=True, width="stretch")


# ----------------------------------------------------------------------------- gaps


def gap_table(page: Page) -> pd.DataFrame | None:
    """The category's gaps with localised headers, ranked by population."""
    lang, cat = page.lang, page.category
    g = page.data.gaps.get(cat or "")
    if g is None or g.empty:
        return None
    cell_km2 = page.data.cell_m**2 / 1e6
    return pd.DataFrame(
        {
            t("col_rank", lang): g["rank"].astype(int).to_numpy(),
            t("col_district", lang): [page.data.district_name(a, lang) for a in g["area"]],
            t("col_pop", lang): [fmt_pop(v, lang) for v in g["pop"]],
            t("col_cells", lang): g["n_cells"].astype(int).to_numpy(),
            t("col_area_km2", lang): (g["n_cells"] * cell_km2).round(2).to_numpy(),
            t("col_min_dist", lang): [fmt_m(v, lang) for v in g["min_dist_m"]],
            t("col_max_dist", lang): [fmt_m(v, lang) for v in g["max_dist_m"]],
        }
    )


def _gaps_tab(page: Page) -> None:
    lang, cat = page.lang, page.category
    assert cat is not None
    st.write(
        tf(
            "gaps_intro",
            lang,
            cat=dat.category_label(cat, lang),
            dist=f"{dat.gap_threshold_m(cat):,.0f}",
        )
    )
    if cat not in page.data.categories_with_data():
        st.info(t("gaps_no_data", lang))
        return
    table = gap_table(page)
    if table is None:
        st.success(t("gaps_none", lang))
        return
    g = page.data.gaps[cat]
    ranks = [0, *g["rank"].astype(int).tolist()]
    pops = dict(zip(g["rank"].astype(int), g["pop"], strict=True))
    areas = dict(zip(g["rank"].astype(int), g["area"], strict=True))
    _choice(
        st.selectbox,
        t("gap_zoom", lang),
        ranks,
        "gap",
        default=0,
        on_change=_show_gaps,
        format_func=lambda r: (
            t("gap_none_selected", lang)
            if r == 0
            else tf(
                "gap_option",
                lang,
                rank=r,
                district=page.data.district_name(areas[r], lang),
                pop=fmt_pop(pops[r], lang),
            )
        ),
    )
    st.dataframe(table, hide_index=True, width="stretch", height=min(420, 38 + 35 * len(table)))


def _show_gaps() -> None:
    if _get("gap"):
        st.session_state["layer_gaps"] = True


# ----------------------------------------------------------------------------- siting


def _siting_tab(page: Page) -> None:
    lang, cat = page.lang, page.category
    assert cat is not None
    st.write(tf("siting_intro", lang, dist=f"{dat.gap_threshold_m(cat):,.0f}"))
    if cat not in page.data.categories_with_data():
        st.info(t("siting_no_data", lang))
    st.number_input(t("n_sites", lang), min_value=1, max_value=30, value=5, step=1, key="n_sites")
    st.button(
        t("run_siting", lang),
        key="run_siting",
        type="primary",
        on_click=_request_siting,
        args=(cat,),
    )
    err = st.session_state.pop("_siting_error", None)
    if err:
        st.error(f"{t('engine_error', lang)}: {err}")
    prop = st.session_state.get("siting")
    if not prop or prop.get("build") != page.data.key:
        return
    pcat = prop["category"]
    c1, c2 = st.columns(2)
    c1.metric(t("siting_added", lang), fmt_pop(prop["added"], lang))
    tiers = [
        x
        for x in dat.category_tiers(pcat)
        if abs(dat.tier_distance_m(x) - prop["threshold_m"]) < 1e-6
    ]
    if tiers and page.data.area_scores is not None:
        tab = dat.area_table(page.data.area_scores, None)
        row = tab[(tab["category"] == pcat) & (tab["tier"] == tiers[0])]
        if len(row) and row["pop"].iloc[0] > 0:
            before = row["share"].iloc[0]
            before = 0.0 if pd.isna(before) else float(before)
            after = before + prop["added"] / float(row["pop"].iloc[0])
            c2.metric(
                tf("siting_share", lang, tier=dat.tier_label(tiers[0], lang)),
                fmt_pct(after, lang),
                delta=f"{100 * (after - before):+.1f} pp",
            )
    st.caption(
        tf("siting_method", lang, method=prop["method"], n=fmt_int(prop["n_candidates"], lang))
    )
    sites = prop["sites"]
    table = pd.DataFrame(
        {
            t("col_rank", lang): sites["rank"].astype(int),
            t("col_added", lang): [fmt_pop(v, lang) for v in sites["added_pop"]],
            t("col_cum_added", lang): [fmt_pop(v, lang) for v in sites["cum_added_pop"]],
            t("col_district", lang): [page.data.district_name(a, lang) for a in sites["area"]],
            t("whatif_lon", lang): sites.geometry.x.round(6),
            t("whatif_lat", lang): sites.geometry.y.round(6),
        }
    )
    st.dataframe(table, hide_index=True, width="stretch")
    pts = tuple((round(float(p.x), 6), round(float(p.y), 6)) for p in sites.geometry)
    st.button(
        t("whatif_add", lang) + " → " + t("tab_whatif", lang),
        key="siting_to_whatif",
        on_click=_sites_to_whatif,
        args=(page.data.key, pcat, pts),
    )


def _request_siting(category: str) -> None:
    st.session_state["_siting_request"] = (category, int(st.session_state.get("n_sites", 5)))
    st.session_state["layer_sites"] = True


def _run_siting_request(page: Page) -> None:
    """Compute a siting asked for by the button (before the map is drawn)."""
    req = st.session_state.pop("_siting_request", None)
    if not req or not page.data.has_build:
        return
    category, n = req
    try:
        with st.spinner(t("siting_running", page.lang)):
            result = siting(page.folder, _stamp(page.folder), category, n)
    except ShangquanError as exc:
        st.session_state["_siting_error"] = str(exc)
        return
    st.session_state["siting"] = {**result, "build": page.data.key}


def _sites_to_whatif(data_key: str, category: str, pts: tuple[tuple[float, float], ...]) -> None:
    _edit_store(data_key, category, add=pts)
    st.session_state["whatif_on"] = True


# ----------------------------------------------------------------------------- what-if


def _scenario_state(page: Page) -> None:
    """This session's what-if for the chosen category (pending map clicks applied)."""
    if not page.data.has_build or not page.category:
        return
    store = st.session_state.setdefault("scenarios", {})
    key = (page.data.key, page.category)
    pending = st.session_state.pop("_pending_add", None)
    if pending is not None:
        _edit_scenario(page, page.category, add=(pending,))
    pick = st.session_state.pop("_pending_pick", None)
    if pick is not None:
        _pick_nearest_outlet(page, pick)
    sc = store.get(key)
    if sc is None or sc.empty or not st.session_state.get("whatif_on"):
        return
    page.scenario = sc
    try:
        r = scenario_result(page.folder, _stamp(page.folder), sc.category, sc.added, sc.removed)
    except ShangquanError as exc:
        st.error(f"{t('engine_error', page.lang)}: {exc}")
        page.scenario = None
        return
    page.scenario_scores = r["area_scores"]
    st.session_state["_scenario_dist"] = r["dist"]
    st.session_state["_scenario_added_ok"] = r["added_ok"]


def _edit_scenario(
    page: Page,
    category: str,
    *,
    add: tuple[tuple[float, float], ...] = (),
    remove: tuple[int, ...] = (),
) -> None:
    _edit_store(page.data.key, category, add=add, remove=remove)


def _edit_store(
    data_key: str,
    category: str,
    *,
    add: tuple[tuple[float, float], ...] = (),
    remove: tuple[int, ...] = (),
) -> None:
    store = st.session_state.setdefault("scenarios", {})
    key = (data_key, category)
    sc = store.get(key) or eng.Scenario(category)
    store[key] = eng.Scenario(
        category, sc.added + add, tuple(sorted(set(sc.removed) | set(remove)))
    )


def _pick_nearest_outlet(page: Page, lonlat: tuple[float, float]) -> None:
    if not page.category:
        return
    try:
        frame = outlets(page.folder, _stamp(page.folder), page.category)
    except ShangquanError:
        return
    if frame.empty:
        return
    d2 = (frame.geometry.x - lonlat[0]) ** 2 + (frame.geometry.y - lonlat[1]) ** 2
    i = int(np.argmin(d2.to_numpy()))
    if d2.iloc[i] ** 0.5 < 0.0005:  # ≈ 50 m
        _set("whatif_remove_pick", int(frame["outlet"].iloc[i]))


def _scenario_coverage(page: Page) -> vw.StyledLayer | None:
    dist = st.session_state.get("_scenario_dist")
    assert page.category and page.tier
    return vw.coverage_layer(
        page.data, category=page.category, tier=page.tier, lang=page.lang, dist_m=dist
    )


def _removed_frame(page: Page) -> gpd.GeoDataFrame:
    sc = page.scenario
    if sc is None or not sc.removed:
        return gpd.GeoDataFrame({"name": []}, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    frame = outlets(page.folder, _stamp(page.folder), sc.category)
    return frame[frame["outlet"].isin(sc.removed)]


def _whatif_tab(page: Page) -> None:
    lang, cat = page.lang, page.category
    assert cat is not None and page.tier is not None
    st.write(t("whatif_intro", lang))
    if not st.toggle(t("whatif_on", lang), key="whatif_on"):
        return
    try:
        with st.spinner(t("siting_running", lang)):
            frame = outlets(page.folder, _stamp(page.folder), cat)
    except ShangquanError as exc:
        st.error(f"{t('engine_error', lang)}: {exc}")
        return
    _choice(
        st.radio,
        " ",
        ["add", "remove"],
        "whatif_mode",
        default="add",
        horizontal=True,
        label_visibility="collapsed",
        format_func=lambda m: (
            tf("whatif_click", lang, cat=dat.category_label(cat, lang))
            if m == "add"
            else t("whatif_remove_pick", lang)
        ),
    )
    c1, c2, c3 = st.columns([2, 2, 1])
    w, s, e, n = st.session_state.get("view_bounds") or page.data.extent()
    lon = c1.number_input(
        t("whatif_lon", lang), value=round((w + e) / 2, 5), format="%.5f", key="whatif_lon"
    )
    lat = c2.number_input(
        t("whatif_lat", lang), value=round((s + n) / 2, 5), format="%.5f", key="whatif_lat"
    )
    c3.write("")
    if c3.button(t("whatif_add", lang), key="whatif_add"):
        _edit_scenario(page, cat, add=((round(float(lon), 6), round(float(lat), 6)),))
        st.rerun()
    names = {
        int(o): f"{_name_or(n, lang)} ({_lonlat_text(p.x, p.y, lang)})"
        for o, n, p in zip(frame["outlet"], frame["name"], frame.geometry, strict=True)
    }
    sc = (st.session_state.get("scenarios") or {}).get((page.data.key, cat)) or eng.Scenario(cat)
    choices = [o for o in names if o not in sc.removed]
    if choices:
        d1, d2 = st.columns([4, 1])
        pick = _choice(
            d1.selectbox,
            t("whatif_remove_pick", lang),
            choices,
            "whatif_remove_pick",
            default=choices[0],
            format_func=names.__getitem__,
        )
        d2.write("")
        if d2.button(t("whatif_remove", lang), key="whatif_remove"):
            _edit_scenario(page, cat, remove=(int(pick),))
            st.rerun()
    st.caption(tf("whatif_added_n", lang, n=len(sc.added), m=len(sc.removed)))
    ok = st.session_state.get("_scenario_added_ok")
    if ok is not None and len(ok) and not np.all(ok):
        params = (page.data.manifest or {}).get("parameters") or {}
        st.warning(tf("whatif_unsnapped", lang, dist=f"{params.get('max_snap_m', 200):g}"))
    if st.button(t("whatif_reset", lang), key="whatif_reset"):
        st.session_state.get("scenarios", {}).pop((page.data.key, cat), None)
        st.rerun()
    if page.scenario_scores is not None and page.data.area_scores is not None:
        st.dataframe(whatif_table(page), hide_index=True, width="stretch")


def _name_or(name: object, lang: str) -> str:
    return name if isinstance(name, str) and name else t("unnamed", lang)


def _lonlat_text(lon: float, lat: float, lang: str) -> str:
    return f"{fmt_deg(lon, lang, lon=True)}, {fmt_deg(lat, lang, lon=False)}"


def whatif_table(page: Page) -> pd.DataFrame:
    """Before/after shares of the what-if category, per tier, over the study area."""
    lang, cat = page.lang, page.category
    assert page.data.area_scores is not None and page.scenario_scores is not None and cat
    before = dat.area_table(page.data.area_scores, None)
    after = dat.area_table(page.scenario_scores, None)
    rows = []
    for tier in dat.category_tiers(cat):
        b = before[(before["category"] == cat) & (before["tier"] == tier)]["share"]
        a = after[(after["category"] == cat) & (after["tier"] == tier)]["share"]
        bv = float(b.iloc[0]) if len(b) else float("nan")
        av = float(a.iloc[0]) if len(a) else float("nan")
        rows.append(
            {
                t("col_tier", lang): dat.tier_label(tier, lang),
                t("whatif_before", lang): fmt_pct(bv, lang),
                t("whatif_after", lang): fmt_pct(av, lang),
                t("whatif_delta", lang): "—"
                if not (np.isfinite(av) and np.isfinite(bv))
                else f"{100 * (av - bv):+.1f} pp",
            }
        )
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- export


def briefing(page: Page, *, title: str) -> xp.Briefing:
    """The briefing of the current view (texts in the page's language)."""
    lang, data = page.lang, page.data
    roads, outlines, water = base_geometries(page.folder, _stamp(page.folder))
    bounds = st.session_state.get("view_bounds") or data.extent()
    area = _get("area", ALL_AREAS)
    if data.has_build and page.category and page.tier:
        subtitle = tf(
            "brief_subtitle",
            lang,
            cat=dat.category_label(page.category, lang),
            tier=dat.tier_label(page.tier, lang),
            area=_area_label(page, area),
        )
        card = xp.scorecard_rows(
            scorecard_display(page, area),
            [t(k, lang) for k in ("col_category", "col_tier", "col_pop", "col_share", "col_meets")],
        )
        build = tf("brief_build", lang, build=data.key)
    else:
        subtitle, card, build = t("brief_no_build", lang), None, ""
    sources = [
        t("src_osm", lang),
        t("src_districts", lang),
        t("src_places", lang),
        t("src_rules", lang),
    ]
    poi = data.input_names().get("poi_table")
    if poi:
        sources.insert(1, tf("src_poi_table", lang, name=poi))
    layers = st.session_state.get("_map_layers") or tuple(page.layers)
    return xp.Briefing(
        title=title,
        subtitle=subtitle,
        lang=lang,
        bounds=tuple(bounds),
        layers=tuple(layers),
        roads=roads,
        outlines=outlines,
        water=water,
        scorecard=card,
        scorecard_title=tf("brief_scorecard", lang, area=_area_label(page, area)),
        legend_title=t("brief_legend", lang),
        sources=tuple(sources),
        sources_title=t("brief_sources", lang),
        attribution=xp.OSM_ATTRIBUTION + (" · " + t("attribution", lang) if lang == "zh" else ""),
        date_text=tf("brief_date", lang, date=fmt_date(dt.date.today(), lang)),
        build_text=build,
        north_label=t("brief_north", lang),
    )


def view_frames(
    page: Page,
    *,
    bounds: tuple[float, float, float, float],
    area: str,
    sites: dict[str, Any] | None = None,
) -> dict[str, pd.DataFrame]:
    """The raw data of the visible layers, clipped to ``bounds`` (WGS84), with the
    scorecard of ``area``."""
    data = page.data
    frames: dict[str, pd.DataFrame] = {"districts": data.districts}
    keys = {layer.key for layer in page.layers}
    if data.cells is not None and "coverage" in keys:
        frames["demand_cells"] = data.cells
    if data.pois is not None and "pois" in keys:
        frames["pois"] = data.pois
    if page.category and page.category in data.gaps and "gaps" in keys:
        frames[f"gaps_{page.category}"] = data.gaps[page.category]
    for k, f in data.planning.items():
        if f"planning_{k}" in keys:
            frames[k] = f
    if sites and sites.get("build") == data.key and "sites" in keys:
        frames[f"sites_{sites['category']}"] = sites["sites"]
    out = xp.clip_to_view(frames, bounds)
    if page.scores is not None:
        out["scorecard"] = dat.ordered(_area_scores_of(page, area))
    return out


def _export_tab(page: Page) -> None:
    lang = page.lang
    w, s, e, n = st.session_state.get("view_bounds") or page.data.extent()
    bounds_text = (
        f"{fmt_deg(w, lang, lon=True)}–{fmt_deg(e, lang, lon=True)}, "
        f"{fmt_deg(s, lang, lon=False)}–{fmt_deg(n, lang, lon=False)}"
    )
    st.write(tf("export_intro", lang, bounds=bounds_text))
    if "export_title" not in st.session_state or st.session_state.get("_export_title_lang") != lang:
        st.session_state["export_title"] = t("brief_title", lang)
        st.session_state["_export_title_lang"] = lang
    title = st.text_input(t("export_title", lang), key="export_title")
    c1, c2, c3 = st.columns(3)
    width = int(
        c1.number_input(t("export_width", lang), 200, xp.MAX_PIXELS, 1600, step=100, key="export_w")
    )
    height = int(
        c2.number_input(
            t("export_height", lang), 200, xp.MAX_PIXELS, 1000, step=100, key="export_h"
        )
    )
    dpi = int(c3.selectbox(t("export_dpi", lang), [96, 150, 200, 300], index=1, key="export_dpi"))
    if st.button(t("export_make", lang), key="export_make", type="primary"):
        try:
            with st.spinner("…"):
                b = briefing(page, title=title)
                st.session_state["export"] = {
                    "png": xp.render_png(b, width_px=width, height_px=height, dpi=dpi),
                    "pdf": xp.render_pdf(b),
                    "w": width,
                    "h": height,
                    "dpi": dpi,
                }
        except (xp.MissingFontError, ValueError) as exc:
            st.error(f"{t('export_font_error', lang)}: {exc}")
    made = st.session_state.get("export")
    stem = f"shangquan_{page.data.key}_{dt.date.today():%Y%m%d}"
    if made:
        st.success(tf("export_done", lang, w=made["w"], h=made["h"], dpi=made["dpi"]))
        d1, d2 = st.columns(2)
        d1.download_button(
            t("export_png", lang),
            made["png"],
            file_name=f"{stem}.png",
            mime="image/png",
            key="dl_png",
            on_click="ignore",
        )
        d2.download_button(
            t("export_pdf", lang),
            made["pdf"],
            file_name=f"{stem}.pdf",
            mime="application/pdf",
            key="dl_pdf",
            on_click="ignore",
        )
        st.image(made["png"], width="stretch")
    frames = view_frames(
        page,
        bounds=tuple(st.session_state.get("view_bounds") or page.data.extent()),
        area=_get("area", ALL_AREAS),
        sites=st.session_state.get("siting"),
    )
    g1, g2 = st.columns(2)
    g1.download_button(
        t("export_gpkg", lang),
        lambda: xp.geopackage_bytes(frames),
        file_name=f"{stem}.gpkg",
        mime="application/geopackage+sqlite3",
        key="dl_gpkg",
        on_click="ignore",
    )
    g2.download_button(
        t("export_csv", lang),
        lambda: xp.csv_zip_bytes(frames),
        file_name=f"{stem}_csv.zip",
        mime="application/zip",
        key="dl_csv",
        on_click="ignore",
    )


# ----------------------------------------------------------------------------- about


def _about_tab(page: Page) -> None:
    lang, data = page.lang, page.data
    if data.manifest:
        m = data.manifest
        st.subheader(t("about_build", lang))
        inputs = m.get("inputs") or {}
        rows = [
            (
                t(f"in_{k}", lang) if has(f"in_{k}") else k,
                Path(str(v.get("path", ""))).name,
                str(v.get("sha256", ""))[:12],
            )
            for k, v in inputs.items()
            if isinstance(v, dict)
        ]
        cols = [t("about_input", lang), t("about_file", lang), "sha256"]
        st.dataframe(pd.DataFrame(rows, columns=cols), hide_index=True, width="stretch")
        st.json(
            {
                k: m.get(k)
                for k in ("build_id", "created_utc", "parameters", "network", "timings_s")
            },
            expanded=False,
        )
        notes = list(m.get("notes") or []) + list(m.get("datum_notes") or [])
        if notes:
            st.subheader(t("about_notes", lang))
            for line in notes:
                st.text("• " + str(line))
    if not data.planning_from_build and data.planning:
        st.caption(t("planning_from_catalogue", lang))
    st.caption(t("about_shift", lang))
    st.caption(" · ".join([t("src_osm", lang), t("src_districts", lang), t("src_places", lang)]))
