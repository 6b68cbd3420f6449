"""Folium maps of a prepared extract (no streamlit here: testable on its own).

Every text that comes from data (names, categories) is HTML-escaped before it reaches
a tooltip, popup or legend: OSM and planner files may contain markup.
"""

from __future__ import annotations

import html
from typing import Any

import folium
import numpy as np
import shapely

from geo.osm import WayPieces
from shangquan.pipeline import Prepared

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
MAX_NETWORK_VERTICES = 300_000  # beyond this the network is not drawn (too heavy for a browser)
OSM_ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"


def category_colours(ids: tuple[str, ...]) -> dict[str, str]:
    """A stable colour per category id."""
    return {cid: PALETTE[i % len(PALETTE)] for i, cid in enumerate(ids)}


def walk_lines(hw: WayPieces) -> shapely.MultiLineString | None:
    """Walkable pieces as one WGS84 multi-line (None when too large to draw)."""
    keep = np.flatnonzero(hw.walkable)
    if len(keep) == 0 or hw.offsets[-1] > MAX_NETWORK_VERTICES:
        return None
    lines = [
        shapely.linestrings(
            hw.lon[hw.offsets[i] : hw.offsets[i + 1]], hw.lat[hw.offsets[i] : hw.offsets[i + 1]]
        )
        for i in keep
    ]
    return shapely.multilinestrings(lines)


def build_map(
    prep: Prepared,
    *,
    categories: list[str],
    lang: str,
    basemap: str | None,
    network_label: str,
) -> folium.Map:
    """Map with the walk network, POIs of ``categories`` and a legend."""
    lon0, lat0, lon1, lat1 = prep.extract.bbox
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
    if basemap == "osm":
        folium.TileLayer("OpenStreetMap", attr=OSM_ATTRIBUTION).add_to(m)
    m.fit_bounds([[lat0, lon0], [lat1, lon1]])
    net = walk_lines(prep.extract.highways)
    if net is not None:
        folium.GeoJson(
            shapely.geometry.mapping(net),
            name=html.escape(network_label),
            style_function=lambda _: {"color": "#555555", "weight": 1.2, "opacity": 0.7},
        ).add_to(m)
    colours = category_colours(prep.taxonomy.ids)
    frames = [prep.osm_pois.pois] + ([prep.table_pois.pois] if prep.table_pois is not None else [])
    for cid in categories:
        cat = prep.taxonomy.category(cid)
        group = folium.FeatureGroup(name=html.escape(cat.label(lang)))
        for frame in frames:
            sel = frame[frame[cid]]
            for name, geom in zip(sel["name"], sel.geometry, strict=True):
                label = html.escape(str(name)) if isinstance(name, str) and name else "—"
                folium.CircleMarker(
                    [geom.y, geom.x],
                    radius=4,
                    color=colours[cid],
                    fill=True,
                    fill_opacity=0.9,
                    weight=1,
                    tooltip=f"{label} · {html.escape(cat.label(lang))}",
                ).add_to(group)
        group.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    root: Any = m.get_root()  # a branca Figure, whose .html the stubs do not declare
    root.html.add_child(folium.Element(_legend_html(prep, categories, lang, network_label)))
    return m


def _legend_html(prep: Prepared, categories: list[str], lang: str, network_label: str) -> str:
    colours = category_colours(prep.taxonomy.ids)
    rows = [
        f'<div><span style="display:inline-block;width:14px;border-top:2px solid #555;'
        f'margin-right:6px"></span>{html.escape(network_label)} '
        f"({prep.network.stats.length_km:,.0f} km)</div>"
    ]
    for cid in categories:
        cat = prep.taxonomy.category(cid)
        n = int(prep.osm_pois.pois[cid].sum())
        if prep.table_pois is not None:
            n += int(prep.table_pois.pois[cid].sum())
        rows.append(
            f'<div><span style="display:inline-block;width:10px;height:10px;border-radius:5px;'
            f'background:{colours[cid]};margin-right:6px"></span>'
            f"{html.escape(cat.label(lang))} ({n})</div>"
        )
    return (
        '<div class="shangquan-legend" style="position:fixed;bottom:24px;left:12px;z-index:9999;'
        "background:white;padding:6px 10px;border:1px solid #999;border-radius:4px;"
        f'font:12px sans-serif">{"".join(rows)}'
        f'<div style="color:#666;margin-top:4px">{html.escape(OSM_ATTRIBUTION)}</div></div>'
    )
