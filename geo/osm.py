"""Read an OSM extract (.osm.pbf, .osm, .osm.gz, .osm.bz2) into one intermediate form.

libosmium (through pyosmium) reads every format, so a PBF from Geofabrik, an XML
export from Overpass and a file saved by :func:`geo.overpass.download_extract` all
become the same :class:`OsmExtract`, and one pipeline serves them all.

Everything is kept in WGS84 here; projection to metres happens once, in
:mod:`geo.network` (for the walk network) and by the layer builders.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import shapely
from numpy.typing import NDArray
from tqdm import tqdm

from geo.errors import InputDataError
from geo.walk import DEFAULT_WALK_RULES, WalkRules

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.gz", ".osm.bz2", ".xml", ".xml.gz")

#: Keys that make a tagged object a POI candidate (what the taxonomy classifies).
DEFAULT_POI_KEYS = frozenset(
    {"shop", "amenity", "healthcare", "craft", "office", "tourism", "leisure", "vending"}
)
#: Tags copied into POI columns (the full tag dict is kept in ``tags``).
POI_COLUMNS = (
    "name",
    "name:zh",
    "name:en",
    "brand",
    "shop",
    "amenity",
    "cuisine",
    "healthcare",
    "vending",
    "opening_hours",
)
STREET_COLUMNS = ("name", "name:zh", "name:en", "highway")
WATER_LINE_KINDS = frozenset({"river", "canal", "stream", "drain", "ditch"})
_WATER_AREA_TAGS = {
    "natural": {"water", "bay", "strait"},
    "waterway": {"riverbank", "dock"},
    "landuse": {"reservoir", "basin"},
}
_PROGRESS_EVERY = 20_000
#: libosmium's limits for a PBF BlobHeader and a (compressed or raw) Blob.
_PBF_MAX_HEADER = 64 * 1024
_PBF_MAX_BLOB = 32 * 1024 * 1024


@dataclass(frozen=True)
class WayPieces:
    """Highway ways as flat arrays; piece ``i`` has nodes ``offsets[i]:offsets[i+1]``.

    A way whose nodes are partly missing from the extract (clipped at its edge) is
    split into pieces at the missing nodes; each piece keeps the way's id.
    """

    way_id: NDArray[np.int64]
    offsets: NDArray[np.int64]
    node_id: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    walkable: NDArray[np.bool_]
    attrs: pd.DataFrame  # one row per piece: STREET_COLUMNS

    @property
    def n_pieces(self) -> int:
        """Number of pieces."""
        return len(self.way_id)


@dataclass(frozen=True)
class ReadStats:
    """What was read and what was skipped, so nothing is dropped silently."""

    seconds: float
    tagged_nodes: int
    ways: int
    relations: int
    highway_ways: int
    walkable_ways: int
    missing_node_refs: int
    ways_without_nodes: int
    poi_candidates: int
    relations_without_geometry: int
    invalid_areas: int
    invalid_locations: int = 0  # tagged nodes whose lat/lon is out of range (e.g. swapped)


@dataclass(frozen=True)
class OsmExtract:
    """One OSM extract in WGS84: highways, POI candidates and context features."""

    source: Path
    bbox: tuple[float, float, float, float]  # lon_min, lat_min, lon_max, lat_max
    highways: WayPieces
    pois: gpd.GeoDataFrame
    water: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    landuse: gpd.GeoDataFrame
    admin: gpd.GeoDataFrame
    stats: ReadStats
    named_nodes: gpd.GeoDataFrame  # named non-POI nodes (osm_id, name, name:en): stops, junctions

    @property
    def streets(self) -> gpd.GeoDataFrame:
        """Named highway ways as lines (``name``, ``name:zh``, ``name:en``, ``highway``)."""
        return named_streets(self.highways)


@dataclass
class _Collector:
    """Mutable accumulator used during the single pass (private)."""

    rules: WalkRules
    poi_keys: frozenset[str]
    way_id: list[int] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    node_id: list[int] = field(default_factory=list)
    lon: list[float] = field(default_factory=list)
    lat: list[float] = field(default_factory=list)
    walkable: list[bool] = field(default_factory=list)
    attrs: list[tuple[Any, ...]] = field(default_factory=list)
    pois: list[dict[str, Any]] = field(default_factory=list)
    named_nodes: list[tuple[int, str, str | None, float, float]] = field(default_factory=list)
    water: list[tuple[str, Any, bytes | str]] = field(default_factory=list)
    buildings: list[tuple[str, Any, Any, bytes | str]] = field(default_factory=list)
    landuse: list[tuple[str, Any, bytes | str]] = field(default_factory=list)
    admin: list[tuple[Any, Any, Any, str, bytes | str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    lon_min: float = 180.0
    lat_min: float = 90.0
    lon_max: float = -180.0
    lat_max: float = -90.0

    def bump(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


def check_osm_path(path: str | Path) -> Path:
    """Return ``path`` as a Path if it is a readable, non-empty OSM file, else raise.

    Raises
    ------
    InputDataError
        Missing file, a directory, an unknown extension or an empty file.
    """
    p = Path(path)
    if not p.exists():
        msg = f"{p}: file not found"
        raise InputDataError(msg)
    if p.is_dir():
        msg = f"{p}: is a folder, expected an OSM file ({', '.join(SUPPORTED_SUFFIXES)})"
        raise InputDataError(msg)
    name = p.name.lower()
    if not name.endswith(SUPPORTED_SUFFIXES):
        msg = (
            f"{p}: unknown OSM file type; expected one of {', '.join(SUPPORTED_SUFFIXES)} "
            "(a Geofabrik/BBBike .osm.pbf or an Overpass XML export)"
        )
        raise InputDataError(msg)
    if p.stat().st_size == 0:
        msg = f"{p}: file is empty (0 bytes); download the extract again"
        raise InputDataError(msg)
    return p


def read_osm(
    path: str | Path,
    *,
    walk_rules: WalkRules = DEFAULT_WALK_RULES,
    poi_keys: Iterable[str] = DEFAULT_POI_KEYS,
    progress: bool = False,
) -> OsmExtract:
    """Read an OSM extract in any supported format into an :class:`OsmExtract`.

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.osm``, ``.osm.gz`` or ``.osm.bz2``.
    walk_rules
        Which highway ways are walkable (each way keeps a ``walkable`` flag).
    poi_keys
        Tag keys that make an object a POI candidate.
    progress
        Show a progress bar (objects read) on stderr.

    Raises
    ------
    InputDataError
        The file is missing, empty, of an unknown type, truncated or corrupt, or holds
        no OSM data.
    """
    p = check_osm_path(path)
    if p.name.lower().endswith(".pbf"):
        _check_pbf(p)
    col = _Collector(rules=walk_rules, poi_keys=frozenset(poi_keys))
    t0 = time.perf_counter()
    try:
        _single_pass(p, col, progress=progress)
    except InputDataError:
        raise
    except (RuntimeError, ValueError, OSError, KeyError, osmium.InvalidLocationError) as exc:
        # InvalidLocationError (a bad lat/lon in XML) derives from Exception only
        msg = f"{p}: cannot read OSM data — the file is truncated or corrupt ({exc})"
        raise InputDataError(msg) from exc
    seconds = time.perf_counter() - t0
    if not col.counts.get("objects"):  # untagged objects are filtered out before counting
        msg = f"{p}: contains no OSM nodes, ways or relations with tags (nothing to map)"
        raise InputDataError(msg)
    extract = _finish(p, col, seconds)
    log.info("read %s in %.1f s: %s", p.name, seconds, extract.stats)
    return extract


def _check_pbf(path: Path) -> None:
    """Refuse a PBF whose block structure or header block is broken, before libosmium reads it.

    libosmium (2.23.1, pyosmium 4.3.2) leaks the file descriptor when it meets such a file:
    a long-running app reading bad uploads would run out of descriptors. This walks the block
    headers (a few bytes per block of 8,000 objects; the data is skipped) and has libosmium
    check the header block from memory. Errors inside later blocks do not leak and are left
    to the real read. A file cut 1-3 bytes past a block, which libosmium reads as complete,
    is caught here too; one cut exactly at a block boundary cannot be told from a whole file.

    Raises
    ------
    InputDataError
        A block is cut, too large or of the wrong type, or the header block is corrupt.
    """
    size = path.stat().st_size
    header_block = b""
    with path.open("rb") as f:
        pos = index = 0
        while pos < size:
            where = f"PBF block {index} at byte {pos}"
            prefix = f.read(4)
            hlen = int.from_bytes(prefix, "big")
            if len(prefix) < 4 or not 0 < hlen <= _PBF_MAX_HEADER:
                _pbf_error(path, f"{where}: no valid block header length")
            try:
                fields = _pb_fields(f.read(hlen))
            except ValueError as exc:
                _pbf_error(path, f"{where}: unreadable block header ({exc})")
            kind = fields.get(1, [b""])[0]
            expected = b"OSMHeader" if index == 0 else b"OSMData"
            if kind != expected:
                shown = kind[:20] if isinstance(kind, bytes) else kind
                _pbf_error(path, f"{where}: type {shown!r}, expected {expected.decode()}")
            datasize = fields.get(3, [0])[0]
            end = pos + 4 + hlen + (datasize if isinstance(datasize, int) else 0)
            if not isinstance(datasize, int) or not 0 < datasize <= _PBF_MAX_BLOB or end > size:
                _pbf_error(path, f"{where}: block size {datasize!r} runs past the end of the file")
            if index == 0:
                f.seek(0)
                header_block = f.read(end)
            pos, index = end, index + 1
            f.seek(pos)
    reader = None
    try:  # from memory: no descriptor to leak
        reader = osmium.io.Reader(osmium.io.FileBuffer(header_block, "pbf"), osmium.osm.NOTHING)
        reader.header()
    except (RuntimeError, ValueError) as exc:
        _pbf_error(path, f"PBF header block: {exc}")
    finally:
        if reader is not None:
            reader.close()


def _pbf_error(path: Path, detail: str) -> NoReturn:
    msg = f"{path}: cannot read OSM data — the file is truncated or corrupt ({detail})"
    raise InputDataError(msg)


def _pb_fields(buf: bytes) -> dict[int, list[int | bytes]]:
    """The fields of a protobuf message (wire level): number -> values; ValueError if broken."""
    fields: dict[int, list[int | bytes]] = {}
    i = 0
    while i < len(buf):
        key, i = _pb_varint(buf, i)
        wire = key & 7
        value: int | bytes
        if wire == 0:
            value, i = _pb_varint(buf, i)
        elif wire in (1, 2, 5):
            n = 8 if wire == 1 else 4 if wire == 5 else 0
            if wire == 2:
                n, i = _pb_varint(buf, i)
            if i + n > len(buf):
                raise ValueError("a field runs past the end")
            value, i = buf[i : i + n], i + n
        else:
            raise ValueError(f"wire type {wire}")
        fields.setdefault(key >> 3, []).append(value)
    return fields


def _pb_varint(buf: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while shift < 64:
        if i >= len(buf):
            raise ValueError("a number runs past the end")
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i
        shift += 7
    raise ValueError("a number longer than 64 bits")


def _single_pass(path: Path, col: _Collector, *, progress: bool) -> None:
    fp = (
        osmium.FileProcessor(str(path))
        .with_locations()
        .with_areas()
        .with_filter(osmium.filter.EmptyTagFilter())
    )
    wkb = osmium.geom.WKBFactory()
    bar = tqdm(
        desc=f"reading {path.name}",
        unit=" obj",
        unit_scale=True,
        disable=not progress,
        leave=False,
    )
    n = 0
    try:
        for raw in fp:
            obj: Any = raw  # pyosmium's union type includes Changeset, which never occurs here
            n += 1
            if n % _PROGRESS_EVERY == 0:
                bar.update(_PROGRESS_EVERY)
            if obj.is_node():
                _on_node(obj, col)
            elif obj.is_way():
                _on_way(obj, col)
            elif obj.is_relation():
                col.bump("relations")
                if obj.tags.get("type") not in ("multipolygon", "boundary") and any(
                    k in col.poi_keys for k in obj.tags
                ):
                    col.bump("relations_without_geometry")
            elif obj.is_area():
                _on_area(obj, col, wkb)
    finally:
        bar.close()
    # untagged objects never reach Python (EmptyTagFilter): n counts the tagged ones
    col.bump("objects", n)


def _tags(obj: Any) -> dict[str, str]:
    return {t.k: t.v for t in obj.tags}


def _grow_bbox(col: _Collector, lon: float, lat: float) -> None:
    col.lon_min = min(col.lon_min, lon)
    col.lon_max = max(col.lon_max, lon)
    col.lat_min = min(col.lat_min, lat)
    col.lat_max = max(col.lat_max, lat)


def _on_node(node: Any, col: _Collector) -> None:
    col.bump("tagged_nodes")
    tags = _tags(node)
    if not node.location.valid():
        col.bump("invalid_locations")  # counted in ReadStats, not dropped silently
        return
    lon, lat = node.location.lon, node.location.lat
    if any(k in col.poi_keys for k in tags):
        col.pois.append(_poi_row("node", node.id, lon, lat, tags))
    elif "name" in tags:  # bus stops, named junctions: they name streets the extract may lack
        col.named_nodes.append((node.id, tags["name"], tags.get("name:en"), lon, lat))


def _poi_row(
    osm_type: str, osm_id: int, lon: float, lat: float, tags: dict[str, str]
) -> dict[str, Any]:
    row: dict[str, Any] = {"osm_type": osm_type, "osm_id": osm_id, "lon": lon, "lat": lat}
    for key in POI_COLUMNS:
        row[key] = tags.get(key)
    row["tags"] = tags
    return row


def _on_way(way: Any, col: _Collector) -> None:
    col.bump("ways")
    tags = _tags(way)
    highway = "highway" in tags
    is_poi = any(k in col.poi_keys for k in tags)
    waterline = tags.get("waterway") in WATER_LINE_KINDS
    if not (highway or is_poi or waterline):
        return
    ids: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    pieces: list[tuple[list[int], list[float], list[float]]] = []
    for nd in way.nodes:
        loc = nd.location
        if loc.valid():
            ids.append(nd.ref)
            lons.append(loc.lon)
            lats.append(loc.lat)
        else:
            col.bump("missing_node_refs")
            if len(ids) >= 2:
                pieces.append((ids, lons, lats))
            ids, lons, lats = [], [], []
    if len(ids) >= 2:
        pieces.append((ids, lons, lats))
    if not pieces:
        col.bump("ways_without_nodes")
        return
    if highway:
        _add_highway(way.id, tags, pieces, col)
    if waterline:
        for _, lo, la in pieces:
            col.water.append((tags["waterway"], tags.get("name"), _line_wkb(lo, la)))
    if is_poi:
        lo_all = [x for _, lo, _ in pieces for x in lo]
        la_all = [y for _, _, la in pieces for y in la]
        lon, lat = _representative_lonlat(lo_all, la_all, closed=way.is_closed())
        col.pois.append(_poi_row("way", way.id, lon, lat, tags))


def _add_highway(
    way_id: int,
    tags: Mapping[str, str],
    pieces: list[tuple[list[int], list[float], list[float]]],
    col: _Collector,
) -> None:
    col.bump("highway_ways")
    walkable = col.rules.is_walkable(tags)
    col.bump("walkable_ways", int(walkable))
    attrs = tuple(tags.get(k) for k in STREET_COLUMNS)
    for ids, lons, lats in pieces:
        col.way_id.append(way_id)
        col.lengths.append(len(ids))
        col.node_id.extend(ids)
        col.lon.extend(lons)
        col.lat.extend(lats)
        col.walkable.append(walkable)
        col.attrs.append(attrs)
        _grow_bbox(col, min(lons), min(lats))
        _grow_bbox(col, max(lons), max(lats))


def _line_wkb(lons: list[float], lats: list[float]) -> bytes:
    return shapely.to_wkb(shapely.linestrings(lons, lats))


def _representative_lonlat(
    lons: list[float], lats: list[float], *, closed: bool
) -> tuple[float, float]:
    """A point inside a closed way's polygon, or the middle vertex of an open way."""
    if closed and len(lons) >= 4:
        poly = shapely.polygons(np.column_stack([lons, lats]))
        if shapely.is_valid(poly):
            pt = shapely.point_on_surface(poly)
            return float(shapely.get_x(pt)), float(shapely.get_y(pt))
        return float(np.mean(lons)), float(np.mean(lats))
    mid = len(lons) // 2
    return lons[mid], lats[mid]


def _on_area(area: Any, col: _Collector, wkb: Any) -> None:
    tags = _tags(area)
    wanted = _area_kind(tags)
    from_relation = not area.from_way()
    is_poi_rel = from_relation and any(k in col.poi_keys for k in tags)
    if not wanted and not is_poi_rel:
        return
    try:
        geom = wkb.create_multipolygon(area)
    except RuntimeError:
        col.bump("invalid_areas")
        return
    osm_id = area.orig_id()
    if is_poi_rel:
        pt = shapely.point_on_surface(shapely.from_wkb(geom))
        col.pois.append(_poi_row("relation", osm_id, shapely.get_x(pt), shapely.get_y(pt), tags))
    if wanted == "water":
        col.water.append(("area", tags.get("name"), geom))
    elif wanted == "building":
        col.buildings.append(
            (tags["building"], tags.get("building:levels"), tags.get("name"), geom)
        )
    elif wanted == "landuse":
        col.landuse.append((tags["landuse"], tags.get("name"), geom))
    elif wanted == "admin":
        col.admin.append(
            (tags.get("name"), tags.get("name:zh"), tags.get("name:en"), tags["admin_level"], geom)
        )


def _area_kind(tags: Mapping[str, str]) -> str | None:
    for key, values in _WATER_AREA_TAGS.items():
        if tags.get(key) in values:
            return "water"
    if "water" in tags and tags.get("natural") in (None, "water"):
        return "water"
    if tags.get("boundary") == "administrative" and "admin_level" in tags:
        return "admin"
    if "building" in tags and tags["building"] != "no":
        return "building"
    if "landuse" in tags:
        return "landuse"
    return None


def _finish(path: Path, col: _Collector, seconds: float) -> OsmExtract:
    highways = _way_pieces(col)
    c = col.counts
    stats = ReadStats(
        seconds=round(seconds, 3),
        tagged_nodes=c.get("tagged_nodes", 0),
        ways=c.get("ways", 0),
        relations=c.get("relations", 0),
        highway_ways=c.get("highway_ways", 0),
        walkable_ways=c.get("walkable_ways", 0),
        missing_node_refs=c.get("missing_node_refs", 0),
        ways_without_nodes=c.get("ways_without_nodes", 0),
        poi_candidates=len(col.pois),
        relations_without_geometry=c.get("relations_without_geometry", 0),
        invalid_areas=c.get("invalid_areas", 0),
        invalid_locations=c.get("invalid_locations", 0),
    )
    bbox = (col.lon_min, col.lat_min, col.lon_max, col.lat_max)
    if col.lon_min > col.lon_max:  # no highway at all: fall back to the POIs' extent
        bbox = _bbox_of_points(col.pois)
    return OsmExtract(
        source=path,
        bbox=bbox,
        highways=highways,
        pois=_poi_frame(col.pois),
        water=_frame(col.water, ["kind", "name"]),
        buildings=_frame(col.buildings, ["building", "levels", "name"]),
        landuse=_frame(col.landuse, ["landuse", "name"]),
        admin=_frame(col.admin, ["name", "name:zh", "name:en", "admin_level"]),
        stats=stats,
        named_nodes=_named_node_frame(col.named_nodes),
    )


def _named_node_frame(rows: list[tuple[int, str, str | None, float, float]]) -> gpd.GeoDataFrame:
    df = pd.DataFrame([r[:3] for r in rows], columns=["osm_id", "name", "name:en"])
    df["osm_id"] = df["osm_id"].astype("int64")
    lon = np.array([r[3] for r in rows], dtype=float)
    lat = np.array([r[4] for r in rows], dtype=float)
    return gpd.GeoDataFrame(df, geometry=shapely.points(lon, lat), crs="EPSG:4326")


def _way_pieces(col: _Collector) -> WayPieces:
    lengths = np.asarray(col.lengths, dtype=np.int64)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return WayPieces(
        way_id=np.asarray(col.way_id, dtype=np.int64),
        offsets=offsets,
        node_id=np.asarray(col.node_id, dtype=np.int64),
        lon=np.asarray(col.lon, dtype=np.float64),
        lat=np.asarray(col.lat, dtype=np.float64),
        walkable=np.asarray(col.walkable, dtype=bool),
        attrs=pd.DataFrame(col.attrs, columns=list(STREET_COLUMNS)),
    )


def _bbox_of_points(rows: list[dict[str, Any]]) -> tuple[float, float, float, float]:
    if not rows:
        return (0.0, 0.0, 0.0, 0.0)
    lons = [r["lon"] for r in rows]
    lats = [r["lat"] for r in rows]
    return (min(lons), min(lats), max(lons), max(lats))


def _poi_frame(rows: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    cols = ["osm_type", "osm_id", "lon", "lat", *POI_COLUMNS, "tags"]
    df = pd.DataFrame(rows, columns=cols)
    df["osm_id"] = df["osm_id"].astype("int64")
    geometry = shapely.points(df["lon"].to_numpy(float), df["lat"].to_numpy(float))
    return gpd.GeoDataFrame(df, geometry=geometry, crs="EPSG:4326")


def _frame(rows: list[tuple[Any, ...]], columns: list[str]) -> gpd.GeoDataFrame:
    df = pd.DataFrame([r[:-1] for r in rows], columns=columns)
    geoms = shapely.from_wkb([r[-1] for r in rows]) if rows else []
    return gpd.GeoDataFrame(df, geometry=geoms, crs="EPSG:4326")


def named_streets(highways: WayPieces) -> gpd.GeoDataFrame:
    """Named highway pieces as WGS84 lines with ``osm_id`` and the street columns."""
    named = highways.attrs["name"].notna().to_numpy()
    idx = np.flatnonzero(named)
    starts, ends = highways.offsets[idx], highways.offsets[idx + 1]
    sel = (
        np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=True)])
        if len(idx)
        else np.zeros(0, dtype=np.int64)
    )
    piece = np.repeat(np.arange(len(idx)), ends - starts)
    lines = (
        shapely.linestrings(highways.lon[sel], highways.lat[sel], indices=piece) if len(idx) else []
    )
    df = highways.attrs.iloc[idx].reset_index(drop=True)
    df.insert(0, "osm_id", highways.way_id[idx])
    return gpd.GeoDataFrame(df, geometry=lines, crs="EPSG:4326")
