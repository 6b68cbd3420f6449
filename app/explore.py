"""The "explore an extract" page: the walk network and daily-life POIs of any OSM file."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from app.i18n import t
from app.maps import build_map
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
def load(path: str, mtime: float) -> Prepared:
    """Prepared extract, shared between sessions (frozen results: never mutated)."""
    del mtime  # part of the cache key only: a changed file is read again
    return prepare(path, options=Options())


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
    path = extracts.get(choice) or Path(st.sidebar.text_input(t("path", lang), key="path"))
    if not str(path) or str(path) == ".":
        st.info(t("extract_help", lang))
        return
    try:
        with st.spinner(t("reading", lang)):
            prep = load(str(path), path.stat().st_mtime if path.exists() else 0.0)
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
