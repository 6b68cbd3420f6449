"""Leaflet, served from this package instead of a CDN, so the map works offline.

folium writes ``<script src="https://cdn.jsdelivr.net/…/leaflet.js">`` and streamlit-folium's
frontend loads every such link before it draws the map: offline, the map stays blank. The
planner's map replaces the map's links by ``data:`` URLs of the vendored copy in
``app/static/leaflet-1.9.4`` (see ``app/static/README.md``), and drops the other CDN assets
(jQuery, Bootstrap, Font Awesome), which no element of our maps uses.
"""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path
from typing import Any

STATIC = Path(__file__).resolve().parent / "static" / "leaflet-1.9.4"


@cache
def _data_url(name: str, mime: str) -> str:
    payload = base64.b64encode((STATIC / name).read_bytes()).decode("ascii")
    return f"data:{mime};base64,{payload}"


def leaflet_js_url() -> str:
    """The vendored leaflet.js as a ``data:`` URL."""
    return _data_url("leaflet.js", "text/javascript")


def leaflet_css_url() -> str:
    """The vendored leaflet.css as a ``data:`` URL."""
    return _data_url("leaflet.css", "text/css")


def use_local_leaflet(m: Any) -> Any:
    """Point ``m`` (a folium.Map) at the vendored Leaflet; no CDN link is left."""
    m.default_js = [("leaflet", leaflet_js_url())]
    m.default_css = [("leaflet_css", leaflet_css_url())]
    return m
