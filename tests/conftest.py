"""Shared test fixtures: paths to the committed toy data and to ../shared/data."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.crs import Projector
from geo.network import WalkNetwork, build_from_pieces, build_walk_network
from geo.osm import OsmExtract, WayPieces, read_osm
from geo.snap import EdgeIndex, Snapped, snap_points

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
REPO = TESTS.parent
SHARED = REPO.parent / "shared" / "data"


def shared_path(*parts: str) -> Path:
    """A file in ../shared/data; fail loudly (not skip) when it is missing — CI has it."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.fail(f"real test data {p} is missing: check out ../shared next to the repo")
    return p


@pytest.fixture(scope="session")
def toy_path() -> Path:
    return DATA / "toy_walk.osm"


@pytest.fixture(scope="session")
def toy_extract(toy_path: Path) -> OsmExtract:
    return read_osm(toy_path)


@pytest.fixture(scope="session")
def toy_net(toy_extract: OsmExtract) -> WalkNetwork:
    return build_walk_network(toy_extract)


@pytest.fixture(scope="session")
def shanghai_extract() -> OsmExtract:
    return read_osm(shared_path("osm", "shanghai_center_roads.osm.gz"))


@pytest.fixture(scope="session")
def shanghai_net(shanghai_extract: OsmExtract) -> WalkNetwork:
    return build_walk_network(shanghai_extract)


# A straight 1,000 m street along the UTM x axis (see tests/test_coverage_toy.py).
X0, Y0 = 355_000.0, 3_452_000.0  # a spot in Shanghai, UTM 51N
CRS = "EPSG:32651"


@pytest.fixture(scope="module")
def street() -> WalkNetwork:
    proj = Projector.for_crs(CRS)
    xs = X0 + np.arange(0, 1001, 100.0)
    lon, lat = proj.to_lonlat(xs, np.full(len(xs), Y0))
    pieces = WayPieces(
        way_id=np.array([1], dtype=np.int64),
        offsets=np.array([0, len(xs)], dtype=np.int64),
        node_id=np.arange(1, len(xs) + 1, dtype=np.int64),
        lon=lon,
        lat=lat,
        walkable=np.array([True]),
        attrs=pd.DataFrame(
            {"name": ["直街"], "name:zh": [None], "name:en": [None], "highway": ["residential"]}
        ),
    )
    return build_from_pieces(pieces, projector=proj)


@pytest.fixture(scope="module")
def cells() -> gpd.GeoDataFrame:
    cx = X0 + np.arange(50, 1000, 100.0)
    boxes = shapely.box(cx - 50, Y0 - 50, cx + 50, Y0 + 50)
    return gpd.GeoDataFrame(
        {"cell_id": np.arange(10), "pop": 10.0, "x": cx, "y": Y0, "area_id": "A"},
        geometry=boxes,
        crs=CRS,
    )


def snap_xy(net: WalkNetwork, xs: list[float]) -> Snapped:
    return snap_points(EdgeIndex.build(net), np.column_stack([xs, [Y0] * len(xs)]))
