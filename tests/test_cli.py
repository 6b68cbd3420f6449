"""The ``shangquan`` command: reports, JSON, and one clear line for every bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shangquan.cli import main
from tests.conftest import DATA, shared_path


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shangquan.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_info_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(DATA / "toy_walk.osm")]) == 0
    out = capsys.readouterr().out
    assert "EPSG:32651" in out
    assert "7 nodes · 6 edges" in out
    assert "2 island nodes dropped" in out
    assert "breakfast" in out and "早餐" in out
    assert "unmatched 1" in out and "excluded by name 1" in out


def test_info_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(DATA / "toy_walk.osm"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["network"]["nodes"] == 7 and doc["network"]["island_nodes"] == 2
    assert doc["poi_categories"]["supermarket"]["osm"] == 1
    assert doc["poi_categories"]["wet_market"]["name_zh"] == "菜市场"
    assert doc["water_checked_when_snapping"] is True
    assert doc["osm_pois"]["snap"]["snapped"] == 8
    assert set(doc["timings_s"]) == {"read", "network", "pois_snap"}
    assert len(doc["bbox_wgs84"]) == 4


def test_info_with_bd09_table(capsys: pytest.CaptureFixture[str]) -> None:
    osm = shared_path("osm", "shanghai_center_roads.osm.gz")
    poi = shared_path("poi", "shanghai_brand_pois_bd09.csv")
    assert main(["info", str(osm), "--poi", str(poi), "--datum", "bd09", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    t = doc["table"]
    assert sum(1 for p in t["problems"] if p["reason"] == "outside study area") > 900
    assert t["snap"]["snapped"] > 200
    assert doc["poi_categories"]["supermarket"]["table"] > 10
    assert any("BD-09" in n for n in doc["datum_notes"])
    assert any("no footways" in n for n in doc["notes"])
    assert any("no water" in n for n in doc["notes"])


def _bad(tmp: Path, name: str, content: bytes) -> Path:
    p = tmp / name
    p.write_bytes(content)
    return p


@pytest.mark.parametrize(
    ("case", "expect"),
    [
        ("missing", "file not found"),
        ("unknown_ext", "unknown OSM file type"),
        ("truncated_pbf", "truncated or corrupt"),
        ("corrupt_xml", "truncated or corrupt"),
        ("no_walkable", "no walkable ways"),
        ("empty_csv", "empty"),
        ("bad_datum", "datum"),
    ],
)
def test_bad_input_one_line_no_traceback(tmp_path: Path, case: str, expect: str) -> None:
    toy = str(DATA / "toy_walk.osm")
    args = {
        "missing": ["info", str(tmp_path / "nope.osm.pbf")],
        "unknown_ext": ["info", str(_bad(tmp_path, "roads.shp", b"x"))],
        "truncated_pbf": [
            "info",
            str(
                _bad(
                    tmp_path,
                    "cut.osm.pbf",
                    shared_path("osm", "helsinki_full.osm.pbf").read_bytes()[:200_000],
                )
            ),
        ],
        "corrupt_xml": ["info", str(_bad(tmp_path, "bad.osm", b"<osm><way id='1'><nd ref="))],
        "no_walkable": ["info", str(DATA / "no_walkable.osm")],
        "empty_csv": ["info", toy, "--poi", str(_bad(tmp_path, "pois.csv", b""))],
        "bad_datum": [
            "info",
            toy,
            "--poi",
            str(_bad(tmp_path, "p.csv", b"lng,lat\n1,2\n")),
            "--datum",
            "mars",
        ],
    }[case]
    r = run_cli(*args)
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("shangquan: error:") and expect in lines[0]
    assert "Traceback" not in r.stderr


def test_console_script_is_installed() -> None:
    r = subprocess.run(
        [Path(sys.executable).parent / "shangquan", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0 and "shangquan" in r.stdout
