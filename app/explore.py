"""The "explore an extract" page: the walk network and daily-life POIs of any OSM file."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from app.i18n import t
from app.maps import build_map
from app.safety import MAX_UPLOAD_MB, inside_allowed, store_upload
from geo.errors import ShangquanError
from shangquan.pipeline import Options, Prepared, notes, prepare

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[1]
SHIPPED = {"toy_walk.osm (demo)": ROOT / "tests" / "data" / "toy_walk.osm"}
SHARED_OSM = ROOT.parent / "shared" / "data" / "osm"


def available_extracts() -> dict[str, Path]:
    """Extracts the app can open without asking: shared real data first, then the demo."""
    files = sorted(SHARED_OSM.glob("*.osm*"), key=lambda p: ("shanghai" not in p.name, p.name))
    found = {p.name: p for p in files} if SHARED_OSM.is_dir() else {}
    return {**found, **SHIPPED}


@st.cache_resource(show_spinner=False, max_entries=4)
def load(path: str, mtime: float, table: str | None = None, datum: str = "wgs84") -> Prepared:
    """Prepared extract, shared between sessions (frozen results: never mutated)."""
    del mtime  # part of the cache key only: a changed file is read again
    return prepare(path, options=Options(), poi_table=table, datum=datum)  # type: ignore[arg-type]


def _uploaded_table(lang: str) -> tuple[str | None, str]:
    """An uploaded planner POI table, stored under a safe name; (path or None, datum)."""
    up = st.sidebar.file_uploader(
        t("upload_table", lang),
        type=["csv", "txt", "xlsx", "geojson", "json"],
        help=t("upload_help", lang).format(mb=MAX_UPLOAD_MB),
        key="upload",
    )
    datum = st.sidebar.selectbox(t("datum", lang), ["wgs84", "gcj02", "bd09"], key="datum")
    if up is None:
        return None, datum
    cache = st.session_state.setdefault("_uploads", {})
    key = (up.name, up.size)
    if key not in cache:
        cache[key] = str(store_upload(up.name, up.getvalue()))
    return cache[key], datum


def main(lang: str) -> None:
    """Render the explore page."""
    st.title(t("explore_title", lang))
    extracts = available_extracts()
    choice = st.sidebar.selectbox(
        t("extract", lang),
        [*extracts, t("other", lang)],
        help=t("extract_help", lang),
        key="extract",
    )
    typed = "" if choice in extracts else st.sidebar.text_input(t("path", lang), key="path")
    if choice not in extracts and not typed.strip():
        st.info(t("extract_help", lang))
        return
    try:
        path = extracts[choice] if choice in extracts else inside_allowed(typed.strip())
        table, datum = _uploaded_table(lang)
        with st.spinner(t("reading", lang)):
            mtime = path.stat().st_mtime if path.exists() else 0.0
            prep = load(str(path), mtime, table, datum)
    except ShangquanError as exc:
        st.error(f"{t('error', lang)}: {exc}")
        return
    cats = list(prep.taxonomy.ids)
    labels = {c.id: c.label(lang) for c in prep.taxonomy.categories}
    chosen = st.sidebar.multiselect(
        t("categories", lang), cats, default=cats[:5], format_func=labels.__getitem__, key="cats"
    )
    basemap = st.sidebar.radio(
        t("basemap", lang), [t("no_basemap", lang), "OpenStreetMap"], key="explore_basemap"
    )
    s = prep.network.stats
    cols = st.columns(5)
    cols[0].metric(t("nodes", lang), f"{s.nodes:,}")
    cols[1].metric(t("edges", lang), f"{s.edges:,}")
    cols[2].metric(t("km", lang), f"{s.length_km:,.1f}")
    cols[3].metric(t("regions", lang), s.regions)
    cols[4].metric(t("islands", lang), f"{s.island_nodes:,}")
    m = build_map(
        prep,
        categories=chosen,
        lang=lang,
        basemap="osm" if basemap == "OpenStreetMap" else None,
        network_label=t("legend_network", lang),
    )
    st_folium(m, height=560, use_container_width=True, returned_objects=[], key="explore_map")
    st.caption(t("attribution", lang))
    st.dataframe(_category_table(prep, lang), hide_index=True, width="stretch")
    if prep.table is not None:
        st.info(f"{t('upload_table', lang)}: {prep.table.summary()}")
    for line in notes(prep):
        st.warning(line)
    st.caption(t("coming", lang))


def _category_table(prep: Prepared, lang: str) -> pd.DataFrame:
    pois, ok = prep.osm_pois.pois, prep.osm_pois.snapped.ok
    return pd.DataFrame(
        {
            t("categories", lang): [c.label(lang) for c in prep.taxonomy.categories],
            t("pois", lang): [int(pois[c.id].sum()) for c in prep.taxonomy.categories],
            t("unsnapped", lang): [int((pois[c.id] & ~ok).sum()) for c in prep.taxonomy.categories],
            t("status", lang): [c.status for c in prep.taxonomy.categories],
        }
    )
