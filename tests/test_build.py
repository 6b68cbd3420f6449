"""``shangquan build``: layers on disk, manifest checksums, atomicity, report, demand sums."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely

from geo.errors import InputDataError
from geo.network import WalkNetwork
from geo.osm import OsmExtract
from layers.demand import build_demand
from shangquan import build as build_mod
from shangquan.build import LATEST, load_manifest, read_table, resolve_build, run_build
from shangquan.cli import main
from shangquan.report import district_table
from tests.conftest import DATA

TOY = DATA / "toy_walk.osm"


@pytest.fixture(scope="module")
def toy_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("builds")
    run_build(TOY, root)
    return root


def test_build_layout_and_manifest(toy_build: Path) -> None:
    folder, manifest = load_manifest(toy_build)
    assert (toy_build / LATEST).read_text().strip() == folder.name
    layers = set(pyogrio.list_layers(folder / "shangquan.gpkg")[:, 0])
    assert {
        "demand_cells",
        "network_edges",
        "pois",
        "districts",
        "area_scores",
        "composite",
        "gaps_wet_market",
        "gaps_breakfast",
    } <= layers
    assert manifest["inputs"]["osm"]["sha256"] == build_mod.sha256_of(TOY)
    assert manifest["network"]["nodes"] == 7
    assert {"prepare", "demand", "access", "scores", "write", "total"} <= set(manifest["timings_s"])
    assert "numpy" in manifest["versions"] and manifest["parameters"]["cell_m"] == 100.0
    edges = read_table(folder, "network_edges")
    assert isinstance(edges, gpd.GeoDataFrame) and edges.crs.to_epsg() == 4326
    assert len(edges) == 6


def test_altered_build_is_refused(toy_build: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "b"
    shutil.copytree(toy_build, copy)
    folder = resolve_build(copy)
    target = folder / "parquet" / "area_scores.parquet"
    target.write_bytes(target.read_bytes()[:-10])
    with pytest.raises(InputDataError, match="altered since the build"):
        load_manifest(copy)


def test_failed_build_leaves_previous_intact(
    toy_build: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (toy_build / LATEST).read_text()
    folders = sorted(p.name for p in toy_build.iterdir())

    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(build_mod, "write_layers", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        run_build(TOY, toy_build)
    assert (toy_build / LATEST).read_text() == before
    assert sorted(p.name for p in toy_build.iterdir()) == folders  # no partial left behind
    load_manifest(toy_build)  # still verifies


def test_leftover_partial_is_cleaned(tmp_path: Path) -> None:
    (tmp_path / ".partial-old").mkdir()
    (tmp_path / ".partial-old" / "junk").write_text("x")
    run_build(TOY, tmp_path)
    assert not list(tmp_path.glob(".partial-*"))


def test_not_a_build(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="not a shangquan build"):
        resolve_build(tmp_path)


def test_report_cli(toy_build: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(toy_build)]) == 0
    out = capsys.readouterr().out
    assert "district" in out and "supermarket_%" in out
    assert "—" in out  # categories without outlets show as no data, not 0
    table = district_table(toy_build)
    assert table["population"].sum() > 0


def test_demand_sums_to_census_inside_the_extract(
    toy_extract: OsmExtract, toy_net: WalkNetwork
) -> None:
    inside = shapely.box(121.4705, 31.1990, 121.4735, 31.2025)  # within the network's hull
    areas = gpd.GeoDataFrame(
        {"area_id": ["X"], "population": [12_345]}, geometry=[inside], crs="EPSG:4326"
    )
    d = build_demand(areas, toy_extract, toy_net)
    row = d.areas.iloc[0]
    assert row["covered_share"] == pytest.approx(1.0)
    assert d.cells["pop"].sum() == pytest.approx(12_345)
    assert row["method"] == "network"  # the toy has no residential buildings or landuse
    half = gpd.GeoDataFrame(
        {"area_id": ["Y"], "population": [1000]},
        geometry=[shapely.box(121.4730, 31.1990, 121.4790, 31.2025)],
        crs="EPSG:4326",
    )
    part = build_demand(half, toy_extract, toy_net).areas.iloc[0]
    assert 0 < part["covered_share"] < 1
    assert part["demand_pop"] == pytest.approx(1000 * part["covered_share"])
    assert "scaled" in part["note"]


def test_build_cli_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--osm", str(tmp_path / "none.osm"), "--out", str(tmp_path)]) == 2
    assert "file not found" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_manifest_is_json_with_sorted_files(toy_build: Path) -> None:
    folder = resolve_build(toy_build)
    doc = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert "shangquan.gpkg" in doc["files"] and all(len(v) == 64 for v in doc["files"].values())


def test_site_cli_on_real_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import shared_path

    out = tmp_path / "sites.geojson"
    args = [
        "site",
        "--osm",
        str(shared_path("osm", "shanghai_center_roads.osm.gz")),
        "--poi",
        str(shared_path("poi", "shanghai_brand_pois_bd09.csv")),
        "--datum",
        "bd09",
        "--category",
        "breakfast",
        "-n",
        "3",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "exact solution (optimal)" in text and "greedy:" in text
    sites = gpd.read_file(out)
    assert len(sites) == 3
    assert list(sites["rank"]) == [1, 2, 3]
    assert (sites["added_pop"].diff().dropna() <= 0).all()  # ordered by marginal gain
    assert sites.geometry.x.between(121.40, 121.56).all()


def test_site_cli_unknown_category(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["site", "--osm", str(TOY), "--category", "karaoke", "-n", "2"]) == 2
    assert "unknown category 'karaoke'" in capsys.readouterr().err


def test_kyoto_build_explains_what_it_cannot_do(tmp_path: Path) -> None:
    """An extract outside Shanghai builds; the manifest says why nobody was placed and why
    there is no riverside belt, and the data-driven layers still come from its POIs."""
    from tests.conftest import shared_path

    run_build(shared_path("osm", "kyoto_full.osm.gz"), tmp_path)
    folder, manifest = load_manifest(tmp_path)
    text = " ".join(manifest["notes"])
    assert "no population was placed" in text
    assert "riverside belt cannot be drawn" in text
    assert len(read_table(folder, "themed_street_candidates")) >= 1
    assert read_table(folder, "composite").empty


ADMIN_RELATION = """  <node id="70" lat="31.1995" lon="121.4695"/>
  <node id="71" lat="31.1995" lon="121.4765"/>
  <node id="72" lat="31.2035" lon="121.4765"/>
  <node id="73" lat="31.2035" lon="121.4695"/>
  <way id="110"><nd ref="70"/><nd ref="71"/><nd ref="72"/><nd ref="73"/><nd ref="70"/></way>
  <relation id="300">
    <member type="way" ref="110" role="outer"/>
    <tag k="type" v="boundary"/><tag k="boundary" v="administrative"/>
    <tag k="admin_level" v="8"/><tag k="name" v="测试街道"/><tag k="name:en" v="Test Subdistrict"/>
  </relation>
</osm>"""


def test_osm_admin_areas_become_a_layer_and_are_scored(tmp_path: Path) -> None:
    """A 街道 boundary (admin_level 8) in the extract is offered as a layer and scored."""
    osm = tmp_path / "toy_admin.osm"
    osm.write_text(
        TOY.read_text(encoding="utf-8").replace("</osm>", ADMIN_RELATION), encoding="utf-8"
    )
    run_build(osm, tmp_path / "b")
    folder, _ = load_manifest(tmp_path / "b")
    admin = read_table(folder, "osm_admin")
    assert list(admin["name_zh"]) == ["测试街道"] and list(admin["kind"]) == ["admin_level_8"]
    scores = read_table(folder, "place_scores")
    mine = scores[scores["area"] == "admin_level_8:测试街道"]
    assert len(mine) > 0 and mine["pop"].gt(0).all()
