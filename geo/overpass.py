"""Optional online source: download raw OSM XML from Overpass, save it, read it offline.

osmnx geocodes a place name to its boundary polygon (Nominatim); the Overpass query then
asks for every object in the polygon's bounding box with full tags, and the answer is
written to a local ``.osm`` file (temp file, then rename). Every later run reads that
file with :func:`geo.osm.read_osm`, so results stay reproducible offline.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import requests

from geo.errors import InputDataError

log = logging.getLogger(__name__)

DEFAULT_OVERPASS_URL = "https://overpass-api.de/api/interpreter"
MAX_BBOX_DEG2 = 1.5  # about the whole of Shanghai; larger areas belong to a Geofabrik extract


def place_bbox(place: str) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` of a place name, geocoded by osmnx (needs network)."""
    import osmnx as ox  # imported lazily: heavy, and only needed online

    try:
        gdf = ox.geocode_to_gdf(place)
    except Exception as exc:  # osmnx raises several types for network and lookup failures
        msg = f"could not geocode {place!r} ({exc}); check the name or pass --bbox"
        raise InputDataError(msg) from exc
    w, s, e, n = (float(v) for v in gdf.total_bounds)
    return w, s, e, n


def overpass_query(bbox: tuple[float, float, float, float], *, timeout_s: int = 180) -> str:
    """Overpass QL for every node, way and relation in ``bbox`` (with their nodes)."""
    w, s, e, n = bbox
    return f"[out:xml][timeout:{timeout_s}];(nwr({s},{w},{n},{e});>;);out body qt;"


def download_extract(
    out: str | Path,
    *,
    bbox: tuple[float, float, float, float],
    url: str = DEFAULT_OVERPASS_URL,
    post: Callable[..., requests.Response] = requests.post,
) -> Path:
    """Download ``bbox`` from Overpass into ``out`` (.osm) atomically.

    Raises
    ------
    InputDataError
        Bad bbox or output name, network failure, or an Overpass error answer.
    """
    target = Path(out)
    if not target.name.endswith(".osm"):
        msg = f"{target}: the output of an Overpass download must end in .osm"
        raise InputDataError(msg)
    w, s, e, n = bbox
    if not (w < e and s < n) or (e - w) * (n - s) > MAX_BBOX_DEG2:
        msg = f"bbox {bbox} is empty or too large for Overpass; use a Geofabrik extract instead"
        raise InputDataError(msg)
    try:
        resp = post(url, data={"data": overpass_query(bbox)}, timeout=300)
    except requests.RequestException as exc:
        msg = (
            f"could not reach Overpass at {url} ({exc.__class__.__name__}); shangquan works "
            "offline from a local extract: download a Geofabrik .osm.pbf instead"
        )
        raise InputDataError(msg) from exc
    if resp.status_code != 200 or b"<osm" not in resp.content[:1000]:
        msg = f"Overpass answered HTTP {resp.status_code}: {resp.text[:200]!r}"
        raise InputDataError(msg)
    return _write_atomic(target, resp.content)


def _write_atomic(target: Path, content: bytes) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    log.info("saved %d bytes to %s", len(content), target)
    return target
