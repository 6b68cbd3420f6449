"""Every supported format reads to the same extract; bad files give one clear error."""

from __future__ import annotations

import bz2
import gzip
import shutil
from pathlib import Path

import numpy as np
import osmium
import pytest

from geo.errors import InputDataError
from geo.network import build_walk_network
from geo.osm import OsmExtract, read_osm
from tests.conftest import DATA, shared_path


def _to_pbf(src: Path, dst: Path) -> Path:
    with osmium.SimpleWriter(str(dst)) as w:
        for obj in osmium.FileProcessor(str(src)):
            if obj.is_node():
                w.add_node(obj)
            elif obj.is_way():
                w.add_way(obj)
            elif obj.is_relation():
                w.add_relation(obj)
    return dst


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory, toy_path: Path) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("formats")
    raw = toy_path.read_bytes()
    (d / "toy.osm.gz").write_bytes(gzip.compress(raw))
    (d / "toy.osm.bz2").write_bytes(bz2.compress(raw))
    shutil.copy(toy_path, d / "toy.osm")
    return {
        "osm": d / "toy.osm",
        "gz": d / "toy.osm.gz",
        "bz2": d / "toy.osm.bz2",
        "pbf": _to_pbf(toy_path, d / "toy.osm.pbf"),
    }


@pytest.mark.parametrize("fmt", ["osm", "gz", "bz2", "pbf"])
def test_all_formats_give_the_same_extract(
    fmt: str, variants: dict[str, Path], toy_extract: OsmExtract
) -> None:
    ex = read_osm(variants[fmt])
    assert ex.stats.walkable_ways == toy_extract.stats.walkable_ways
    np.testing.assert_array_equal(ex.highways.node_id, toy_extract.highways.node_id)
    assert sorted(ex.pois["osm_id"]) == sorted(toy_extract.pois["osm_id"])
    assert len(ex.water) == 1 and len(ex.buildings) == 1
    assert build_walk_network(ex).stats == build_walk_network(toy_extract).stats


def _truncate(src: Path, dst: Path, keep: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep)])
    return dst


@pytest.mark.parametrize(
    ("name", "make", "expect"),
    [
        ("missing.osm.pbf", None, "file not found"),
        ("empty.osm.pbf", lambda p: p.write_bytes(b""), "empty"),
        ("notes.txt", lambda p: p.write_text("hello"), "unknown OSM file type"),
        (
            "garbage.osm.pbf",
            lambda p: p.write_bytes(b"\x00\x01garbage" * 50),
            "truncated or corrupt",
        ),
        ("broken.osm", lambda p: p.write_text("<osm><node id='1' lat="), "truncated or corrupt"),
        ("nothing.osm", lambda p: p.write_text("<osm version='0.6'></osm>"), "no OSM"),
    ],
)
def test_bad_files_raise_one_clear_error(tmp_path: Path, name: str, make, expect: str) -> None:
    p = tmp_path / name
    if make:
        make(p)
    with pytest.raises(InputDataError) as err:
        read_osm(p)
    assert expect in str(err.value)
    assert name in str(err.value)


def test_folder_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="is a folder"):
        read_osm(tmp_path)


def test_truncated_real_pbf(tmp_path: Path) -> None:
    src = shared_path("osm", "helsinki_full.osm.pbf")
    with pytest.raises(InputDataError, match="truncated or corrupt"):
        read_osm(_truncate(src, tmp_path / "cut.osm.pbf", 0.6))


def test_truncated_real_gz(tmp_path: Path) -> None:
    src = shared_path("osm", "shanghai_center_roads.osm.gz")
    with pytest.raises(InputDataError, match="truncated or corrupt"):
        read_osm(_truncate(src, tmp_path / "cut.osm.gz", 0.5))


def test_no_walkable_ways() -> None:
    ex = read_osm(DATA / "no_walkable.osm")
    with pytest.raises(InputDataError, match="no walkable ways"):
        build_walk_network(ex)
