"""Edge cases with a clear outcome (issue 6): no data, duplicates, outside the area,
outside China, districts without people, disconnected islands."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from geo.datum import to_wgs84
from shangquan.build import compute
from shangquan.cli import main
from shangquan.pipeline import Options, prepare
from tests.conftest import DATA

TOY = DATA / "toy_walk.osm"


@pytest.fixture(scope="module")
def toy_result():
    return compute(TOY)


def test_category_without_outlets_is_no_data_not_zero(toy_result) -> None:
    s = toy_result.area_scores
    pharmacy = s[s["category"] == "pharmacy"]  # the toy extract has no pharmacy
    assert len(pharmacy) and (pharmacy["status"] == "no_data").all()
    assert pharmacy["share"].isna().all() and pharmacy["meets_target"].isna().all()
    market = s[s["category"] == "wet_market"]  # it has one wet market
    assert (market["status"] == "ok").all() and market["share"].notna().all()
    assert "pharmacy" in toy_result.composite["no_data"].iloc[0]
    assert toy_result.gaps["pharmacy"].empty  # no blind spots drawn where there is no data


def test_duplicated_table_rows_are_dropped_and_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "pois.csv"
    csv.write_text(
        "name,lng,lat\n"
        "测试超市A,121.4745,31.2005\n"
        "测试超市A,121.4745,31.2005\n"  # exact repeat → dropped (row 3)
        "测试超市A,121.474500001,31.2005\n"  # same to 1 m → dropped (row 4)
        "测试超市B,121.4745,31.2005\n",  # another name at the same spot → kept
        encoding="utf-8",
    )
    prep = prepare(TOY, options=Options(), poi_table=csv)
    assert prep.table_pois is not None
    assert prep.table_pois.duplicate_rows == (3, 4)
    assert len(prep.table_pois.pois) == 2
    assert main(["info", str(TOY), "--poi", str(csv)]) == 0
    assert "2 duplicated row(s) dropped" in capsys.readouterr().out


def test_points_outside_the_study_area_are_reported(tmp_path: Path) -> None:
    csv = tmp_path / "far.csv"
    csv.write_text("name,lng,lat\n近,121.4745,31.2005\n远,121.60,31.30\n", encoding="utf-8")
    prep = prepare(TOY, options=Options(), poi_table=csv)
    assert prep.table is not None
    assert [(p.row, p.reason) for p in prep.table.problems] == [(3, "outside study area")]
    assert len(prep.table_pois.pois) == 1  # type: ignore[union-attr]


def test_chinese_datums_outside_china_left_untouched(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        conv = to_wgs84(np.array([24.94, 121.47]), np.array([60.17, 31.23]), "gcj02")
    assert conv.outside_china.tolist() == [True, False]
    assert conv.lon[0] == 24.94 and conv.lat[0] == 60.17
    assert conv.lon[1] != 121.47
    assert any("outside China" in r.message for r in caplog.records)


def test_districts_without_people_in_the_extract(toy_result) -> None:
    areas = toy_result.demand.areas.set_index("area_id")
    assert len(areas) == 16  # every district is listed …
    empty = areas[areas["demand_pop"] == 0]
    assert len(empty) >= 14  # … most lie outside this tiny extract
    assert (empty["covered_share"] == 0).all()
    scored = set(toy_result.area_scores["area"])
    assert not scored & set(empty.index)  # no 0 % scores for districts with nobody placed


def test_disconnected_islands_are_counted_not_routed(toy_result) -> None:
    stats = toy_result.prep.network.stats
    assert stats.components == 2 and stats.regions == 1 and stats.island_nodes == 2


def test_info_json_lists_duplicates_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "p.csv"
    csv.write_text("name,lng,lat\nA,121.4745,31.2005\nA,121.4745,31.2005\n", encoding="utf-8")
    assert main(["info", str(TOY), "--poi", str(csv), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["table_duplicates_dropped"] == [3]
