"""Shared test fixtures: paths to the committed toy data and to ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest

from geo.network import WalkNetwork, build_walk_network
from geo.osm import OsmExtract, read_osm

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
