"""Build benchmark inputs: city-scale synthetic extracts and sample points.

Scale series
    The real central-Shanghai roads extract (``shanghai_center_roads.osm.gz``: 21,786
    nodes, 4,701 ways) is tiled k×k. Every tile is an exact copy of the extract with
    node and way IDs offset by ``tile × 10**11`` and coordinates shifted by the
    extract's width/height (≈ 0.143° lon × 0.100° lat), so tiles sit side by side.
    All tags are kept, so ``foot=no`` ways stay excluded as in the real data.
    Neighbouring tiles are joined by ~30 synthetic connector ways
    (``highway=residential``, two nodes each): the shared border is cut into 30 equal
    bins, and in each bin the walkable-way node nearest the border on one side is joined
    to the one nearest the border on the other side (see :func:`border_pairs`). The
    result is one walkable city, not k² islands. The extract is roughly round, so
    connectors are long (0.2-12 km; median 2.5 km N-S, 4.5 km E-W) where its edge is far from the
    bounding box; lengths are recorded in ``.meta.json``.

    k = 1, 2, 4, 5, 7 gives ≈ 22k, 87k, 349k, 545k and 1.07M nodes. Each size is written
    as ``.osm.pbf`` (the engine's input) and ``.osm`` XML (osmnx reads XML only).

Sample points
    For each size, nodes/10 points near the network: a random node position plus
    Gaussian noise (σ = 40 m), fixed seed; stored as WGS84 ``(n, 2)`` lon/lat in
    ``.points.npy``. For the shared extracts (``--shared-inputs``): 10,000 points near
    random nodes of highway ways, plus an XML copy of each file for osmnx.

Everything goes to ``benchmarks/_cache/`` (git-ignored) and is reused when present.

Usage::

    python benchmarks/make_scale_series.py --sizes 1,2,4,5,7 [--shared-inputs]
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import osmium
from numpy.typing import NDArray

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared" / "data"
DEFAULT_CACHE = REPO / "benchmarks" / "_cache"
SOURCE_NAME = "shanghai_center_roads.osm.gz"
SHARED_FILES = ("shanghai_center_roads.osm.gz", "kyoto_full.osm.gz", "helsinki_full.osm.pbf")
DEFAULT_SIZES = (1, 2, 4, 5, 7)

ID_STRIDE = 10**11  # per-tile ID offset; real OSM IDs are < 1.4e10 today
CONNECTORS_PER_BORDER = 30
CONNECTOR_TAGS = {"highway": "residential", "note": "synthetic benchmark tile connector"}
POINT_SIGMA_M = 40.0
SHARED_POINTS = 10_000
SEED = 20_250_809
FORMAT_VERSION = 3  # bump to invalidate the cache when the generator changes
_M_PER_DEG = 111_320.0


def check_shared(shared: Path) -> Path:
    """Return the shared data folder, or exit with a clear message if it is missing."""
    osm = shared / "osm"
    missing = [name for name in SHARED_FILES if not (osm / name).is_file()]
    if missing:
        sys.exit(
            f"error: shared OSM data not found: {', '.join(str(osm / m) for m in missing)}\n"
            f"Expected the shared data folder at {shared} (next to the repository); "
            "pass --shared /path/to/shared/data to point elsewhere."
        )
    return osm


@dataclass(frozen=True)
class Source:
    """The source extract held in memory (nodes and ways sorted by id)."""

    node_id: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    node_tags: dict[int, dict[str, str]]  # tagged nodes only
    way_id: NDArray[np.int64]
    way_refs: list[list[int]]
    way_tags: list[dict[str, str]]
    walk_node: NDArray[np.bool_]  # node lies on a walkable way (connector candidates)

    @property
    def width(self) -> float:
        return float(self.lon.max() - self.lon.min())

    @property
    def height(self) -> float:
        return float(self.lat.max() - self.lat.min())


def read_source(path: Path) -> Source:
    """Read every node and way of ``path`` (relations are ignored: the roads extract has none)."""
    sys.path.insert(0, str(REPO))
    from geo.walk import DEFAULT_WALK_RULES

    ids: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    node_tags: dict[int, dict[str, str]] = {}
    way_ids: list[int] = []
    way_refs: list[list[int]] = []
    way_tags: list[dict[str, str]] = []
    for obj in osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY):
        if isinstance(obj, osmium.osm.Node):
            ids.append(obj.id)
            lons.append(obj.location.lon)
            lats.append(obj.location.lat)
            if len(obj.tags):
                node_tags[obj.id] = {t.k: t.v for t in obj.tags}
        elif isinstance(obj, osmium.osm.Way):
            way_ids.append(obj.id)
            way_refs.append([n.ref for n in obj.nodes])
            way_tags.append({t.k: t.v for t in obj.tags})
    node_id = np.asarray(ids, dtype=np.int64)
    order = np.argsort(node_id, kind="stable")
    worder = np.argsort(np.asarray(way_ids, dtype=np.int64), kind="stable")
    node_id = node_id[order]
    walk_refs = {
        r
        for refs, tags in zip(way_refs, way_tags, strict=True)
        if DEFAULT_WALK_RULES.is_walkable(tags)
        for r in refs
    }
    max_id = max(int(node_id.max()), max(way_ids))
    if max_id >= ID_STRIDE:
        msg = f"{path}: OSM id {max_id} does not fit under the tile stride {ID_STRIDE}"
        raise ValueError(msg)
    return Source(
        node_id=node_id,
        lon=np.asarray(lons, dtype=np.float64)[order],
        lat=np.asarray(lats, dtype=np.float64)[order],
        node_tags=node_tags,
        way_id=np.asarray(way_ids, dtype=np.int64)[worder],
        way_refs=[way_refs[i] for i in worder],
        way_tags=[way_tags[i] for i in worder],
        walk_node=np.isin(node_id, np.fromiter(walk_refs, dtype=np.int64)),
    )


def border_pairs(src: Source, *, vertical: bool, n_bins: int) -> list[tuple[int, int, float]]:
    """Source node pairs ``(near, far, metres)`` joining a tile to its east/north neighbour.

    ``vertical=True``: the shared border is the east edge of the west tile (``near`` is a
    node of the west tile, ``far`` of the east tile; pairs are spread along latitude);
    ``False``: the north edge of the south tile (spread along longitude).

    The border is cut into ``n_bins`` equal bins; in each bin the walkable-way node
    nearest the border on the near side is joined to the one nearest the border on the
    far side (bins with no walkable node are skipped). Binning keeps the connectors
    spread over the whole border, so every part of a tile that reaches the border (e.g.
    Pudong, which the ``foot=no`` Huangpu tunnels cut off from Puxi inside a tile) gets
    joined to the neighbour. ``metres`` is the connector length once the far tile is
    shifted into place (equirectangular approximation).
    """
    cand = np.flatnonzero(src.walk_node)
    cos0 = float(np.cos(np.radians(src.lat.mean())))
    x = (src.lon[cand] - src.lon.min()) * _M_PER_DEG * cos0
    y = (src.lat[cand] - src.lat.min()) * _M_PER_DEG
    if vertical:
        pitch = src.width * _M_PER_DEG * cos0
        across, along = x, y
    else:
        pitch = src.height * _M_PER_DEG
        across, along = y, x
    lo, hi = float(along.min()), float(along.max())
    bins = np.minimum(((along - lo) / (hi - lo) * n_bins).astype(np.int64), n_bins - 1)
    pairs: list[tuple[int, int, float]] = []
    for b in range(n_bins):
        in_bin = np.flatnonzero(bins == b)
        if len(in_bin) == 0:
            continue
        near = in_bin[np.argmax(across[in_bin])]  # nearest the east/north edge
        far = in_bin[np.argmin(across[in_bin])]  # nearest the west/south edge
        metres = float(np.hypot(across[far] + pitch - across[near], along[far] - along[near]))
        pairs.append((int(src.node_id[cand[near]]), int(src.node_id[cand[far]]), metres))
    return pairs


@dataclass(frozen=True)
class SeriesFiles:
    """Paths of one scale-series size in the cache."""

    pbf: Path
    xml: Path
    points: Path
    meta: Path

    @classmethod
    def for_size(cls, cache: Path, k: int) -> SeriesFiles:
        stem = cache / f"shanghai_tiles_k{k}"
        return cls(
            pbf=stem.with_name(stem.name + ".osm.pbf"),
            xml=stem.with_name(stem.name + ".osm"),
            points=stem.with_name(stem.name + ".points.npy"),
            meta=stem.with_name(stem.name + ".meta.json"),
        )

    def ready(self) -> bool:
        if not (
            self.meta.is_file()
            and self.pbf.is_file()
            and self.xml.is_file()
            and self.points.is_file()
        ):
            return False
        meta = json.loads(self.meta.read_text())
        return bool(meta.get("format_version") == FORMAT_VERSION)


def write_tiled(src: Source, k: int, files: SeriesFiles) -> dict[str, Any]:
    """Write the k×k tiling of ``src`` as PBF and XML, plus sample points and metadata."""
    t0 = time.perf_counter()
    dlon, dlat = src.width, src.height
    ew = border_pairs(src, vertical=True, n_bins=CONNECTORS_PER_BORDER)
    ns = border_pairs(src, vertical=False, n_bins=CONNECTORS_PER_BORDER)
    tmp_pbf = files.pbf.with_name(files.pbf.name + ".part")
    tmp_xml = files.xml.with_name(files.xml.name + ".part")
    for tmp in (tmp_pbf, tmp_xml):
        tmp.unlink(missing_ok=True)
    n_tiles = k * k
    writers = [
        osmium.SimpleWriter(osmium.io.File(str(tmp_pbf), "pbf")),
        osmium.SimpleWriter(osmium.io.File(str(tmp_xml), "xml")),
    ]
    try:
        # nodes first (sorted by id: tile offsets are increasing), then ways
        for t in range(n_tiles):
            row, col = divmod(t, k)
            off = t * ID_STRIDE
            lons = src.lon + col * dlon
            lats = src.lat + row * dlat
            for i, nid in enumerate(src.node_id.tolist()):
                node = osmium.osm.mutable.Node(
                    id=nid + off,
                    location=(float(lons[i]), float(lats[i])),
                    tags=src.node_tags.get(nid, {}),
                    version=1,
                )
                for w in writers:
                    w.add_node(node)
        for t in range(n_tiles):
            off = t * ID_STRIDE
            for wid, refs, tags in zip(
                src.way_id.tolist(), src.way_refs, src.way_tags, strict=True
            ):
                way = osmium.osm.mutable.Way(
                    id=wid + off, nodes=[r + off for r in refs], tags=tags, version=1
                )
                for w in writers:
                    w.add_way(way)
        n_conn = 0
        conn_base = n_tiles * ID_STRIDE
        for t in range(n_tiles):
            row, col = divmod(t, k)
            neighbours = []
            if col + 1 < k:
                neighbours.append((t + 1, ew))
            if row + 1 < k:
                neighbours.append((t + k, ns))
            for t2, pairs in neighbours:
                for a, b, _ in pairs:
                    n_conn += 1
                    way = osmium.osm.mutable.Way(
                        id=conn_base + n_conn,
                        nodes=[a + t * ID_STRIDE, b + t2 * ID_STRIDE],
                        tags=CONNECTOR_TAGS,
                        version=1,
                    )
                    for w in writers:
                        w.add_way(way)
    finally:
        for w in writers:
            w.close()
    tmp_pbf.replace(files.pbf)
    tmp_xml.replace(files.xml)

    n_nodes = len(src.node_id) * n_tiles
    n_points = n_nodes // 10
    rng = np.random.default_rng(SEED + k)
    tile = rng.integers(0, n_tiles, n_points)
    pick = rng.integers(0, len(src.node_id), n_points)
    tile_row, tile_col = np.divmod(tile, k)
    lon = src.lon[pick] + tile_col * dlon
    lat = src.lat[pick] + tile_row * dlat
    lonlat = _jitter(rng, lon, lat, POINT_SIGMA_M)
    np.save(files.points, lonlat)

    meta: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "name": f"shanghai_tiles_k{k}",
        "source": SOURCE_NAME,
        "tiles": n_tiles,
        "nodes": n_nodes,
        "ways": len(src.way_id) * n_tiles + n_conn,
        "connector_ways": n_conn,
        "connectors_per_border": {"east_west": len(ew), "north_south": len(ns)},
        "connector_m": {
            name: [
                round(min(p[2] for p in prs)),
                round(float(np.median([p[2] for p in prs]))),
                round(max(p[2] for p in prs)),
            ]
            for name, prs in (("east_west", ew), ("north_south", ns))
        },
        "tile_deg": [round(dlon, 7), round(dlat, 7)],
        "points": n_points,
        "point_sigma_m": POINT_SIGMA_M,
        "seed": SEED + k,
        "pbf": files.pbf.name,
        "xml": files.xml.name,
        "pbf_mb": round(files.pbf.stat().st_size / 2**20, 1),
        "xml_mb": round(files.xml.stat().st_size / 2**20, 1),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    files.meta.write_text(json.dumps(meta, indent=2))
    return meta


def _jitter(
    rng: np.random.Generator, lon: NDArray[np.float64], lat: NDArray[np.float64], sigma_m: float
) -> NDArray[np.float64]:
    """Add Gaussian noise of ``sigma_m`` metres to WGS84 points; returns ``(n, 2)`` lon/lat."""
    dx = rng.normal(0.0, sigma_m, len(lon))
    dy = rng.normal(0.0, sigma_m, len(lat))
    out_lat = lat + dy / _M_PER_DEG
    out_lon = lon + dx / (_M_PER_DEG * np.cos(np.radians(lat)))
    return np.column_stack([out_lon, out_lat])


def build_series(sizes: list[int], shared_osm: Path, cache: Path) -> list[dict[str, Any]]:
    """Build (or reuse) every size in ``sizes``; returns their metadata."""
    cache.mkdir(parents=True, exist_ok=True)
    src: Source | None = None
    metas = []
    for k in sizes:
        files = SeriesFiles.for_size(cache, k)
        if files.ready():
            meta = json.loads(files.meta.read_text())
            print(f"k={k}: cached {files.pbf.name} ({meta['nodes']:,} nodes)", flush=True)
        else:
            if src is None:
                src = read_source(shared_osm / SOURCE_NAME)
            print(f"k={k}: writing {k * k} tiles ...", flush=True)
            meta = write_tiled(src, k, files)
            print(
                f"k={k}: {meta['nodes']:,} nodes, {meta['ways']:,} ways "
                f"({meta['connector_ways']} connectors), {meta['points']:,} points, "
                f"pbf {meta['pbf_mb']} MB, xml {meta['xml_mb']} MB in {meta['seconds']} s",
                flush=True,
            )
        metas.append(meta)
    return metas


@dataclass(frozen=True)
class SharedFiles:
    """Cache paths derived from one shared extract."""

    source: Path
    xml: Path
    points: Path
    meta: Path

    @classmethod
    def for_source(cls, source: Path, cache: Path) -> SharedFiles:
        stem = source.name.split(".")[0]
        return cls(
            source=source,
            xml=cache / f"shared_{stem}.osm",
            points=cache / f"shared_{stem}.points.npy",
            meta=cache / f"shared_{stem}.meta.json",
        )


def prepare_shared(shared_osm: Path, cache: Path) -> list[dict[str, Any]]:
    """XML copies (for osmnx) and 10k sample points for each shared extract."""
    cache.mkdir(parents=True, exist_ok=True)
    metas = []
    for name in SHARED_FILES:
        files = SharedFiles.for_source(shared_osm / name, cache)
        if files.meta.is_file() and files.xml.is_file() and files.points.is_file():
            meta = json.loads(files.meta.read_text())
            if meta.get("format_version") == FORMAT_VERSION:
                print(f"{name}: cached", flush=True)
                metas.append(meta)
                continue
        metas.append(_prepare_one_shared(files))
        print(f"{name}: {metas[-1]['nodes']:,} nodes, xml and points written", flush=True)
    return metas


def _prepare_one_shared(files: SharedFiles) -> dict[str, Any]:
    tmp = files.xml.with_name(files.xml.name + ".part")
    tmp.unlink(missing_ok=True)
    name = files.source.name
    if name.endswith(".osm.gz"):
        with gzip.open(files.source, "rb") as fin, tmp.open("wb") as fout:
            shutil.copyfileobj(fin, fout, length=1 << 20)
    elif name.endswith(".osm"):
        shutil.copyfile(files.source, tmp)
    else:  # PBF: osmnx cannot read it; convert to XML with libosmium
        with osmium.SimpleWriter(osmium.io.File(str(tmp), "xml")) as writer:
            for obj in osmium.FileProcessor(str(files.source)):
                writer.add(obj)
    tmp.replace(files.xml)

    n_nodes = 0
    loc: dict[int, tuple[float, float]] = {}
    hw_refs: set[int] = set()
    for obj in osmium.FileProcessor(str(files.source), osmium.osm.NODE | osmium.osm.WAY):
        if isinstance(obj, osmium.osm.Node):
            n_nodes += 1
            if obj.location.valid():
                loc[obj.id] = (obj.location.lon, obj.location.lat)
        elif isinstance(obj, osmium.osm.Way) and "highway" in obj.tags:
            hw_refs.update(n.ref for n in obj.nodes)
    on_highway = np.array(sorted(loc[r] for r in hw_refs if r in loc), dtype=np.float64)
    rng = np.random.default_rng(SEED)
    pick = rng.integers(0, len(on_highway), SHARED_POINTS)
    lonlat = _jitter(rng, on_highway[pick, 0], on_highway[pick, 1], POINT_SIGMA_M)
    np.save(files.points, lonlat)
    meta: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "name": name,
        "nodes": n_nodes,
        "highway_nodes": len(on_highway),
        "points": SHARED_POINTS,
        "point_sigma_m": POINT_SIGMA_M,
        "seed": SEED,
        "xml": files.xml.name,
    }
    files.meta.write_text(json.dumps(meta, indent=2))
    return meta


def parse_sizes(text: str) -> list[int]:
    """``"1,2,4"`` → ``[1, 2, 4]`` (tiles per side, each ≥ 1)."""
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        msg = f"expected comma-separated integers, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if not sizes or min(sizes) < 1:
        msg = f"tiles per side must be ≥ 1, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=list(DEFAULT_SIZES),
        help="tiles per side, comma-separated (default 1,2,4,5,7)",
    )
    parser.add_argument(
        "--shared",
        type=Path,
        default=DEFAULT_SHARED,
        help=f"shared data folder (default {DEFAULT_SHARED})",
    )
    parser.add_argument(
        "--cache", type=Path, default=DEFAULT_CACHE, help=f"output folder (default {DEFAULT_CACHE})"
    )
    parser.add_argument(
        "--shared-inputs",
        action="store_true",
        help="also prepare XML copies and sample points of the shared extracts",
    )
    args = parser.parse_args(argv)
    shared_osm = check_shared(args.shared)
    if args.shared_inputs:
        prepare_shared(shared_osm, args.cache)
    build_series(args.sizes, shared_osm, args.cache)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
