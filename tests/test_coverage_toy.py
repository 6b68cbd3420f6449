"""Coverage, scores and gaps on a street whose answers can be computed by hand.

A straight 1,000 m street runs east along the UTM x axis (EPSG:32651), with nodes every
100 m. Demand: ten 100 m cells centred on the street at x = 50, 150, …, 950 m, 10 people
each. A supermarket sits at x = 0 (the west end)::

    S  c50 c150 c250 | c350 c450 | c550 … c950
    0 ──────────────────────────────────────── 1000 m
       ≤ 300 m (t5)    ≤ 500 m (t10)   ≤ 1000 m (t15)

So t5 covers 3 cells (30 %), t10 5 cells (50 %), t15 all (100 %), and with a 500 m gap
threshold the five eastern cells form one blind spot of 50 people, 550–950 m away.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.network import WalkNetwork
from layers.coverage import (
    category_access,
    composite_score,
    gap_polygons,
    score_areas,
    score_cells,
)
from layers.rules import load_rules
from tests.conftest import X0, snap_xy


def test_nearest_distances_are_along_the_street(street: WalkNetwork, cells) -> None:
    outlets = snap_xy(street, [X0])
    demand = snap_xy(street, list(cells["x"]))
    acc = category_access(street, outlets, demand, category="supermarket", cutoff_m=2000)
    np.testing.assert_allclose(acc.dist_m, np.arange(50, 1000, 100.0), atol=1e-3)
    assert set(acc.nearest) == {0}


def test_tier_shares_and_composite(street: WalkNetwork, cells) -> None:
    rules = load_rules()
    demand = snap_xy(street, list(cells["x"]))
    access = {
        "supermarket": category_access(
            street, snap_xy(street, [X0]), demand, category="supermarket", cutoff_m=2000
        ),
        "wet_market": category_access(
            street, snap_xy(street, []), demand, category="wet_market", cutoff_m=2000
        ),
    }
    per_cell = score_cells(cells, access, rules)
    areas = score_areas(per_cell, cells.set_index("cell_id")["area_id"], target_share=0.85)
    sm = areas[areas["category"] == "supermarket"].set_index("tier")
    assert sm.loc["t5", "share"] == pytest.approx(0.3)
    assert sm.loc["t10", "share"] == pytest.approx(0.5)
    assert sm.loc["t15", "share"] == pytest.approx(1.0)
    assert sm.loc["t10", "pop_uncovered"] == pytest.approx(50)
    assert sm.loc["t15", "meets_target"] is True and sm.loc["t5", "meets_target"] is False
    wm = areas[areas["category"] == "wet_market"]
    assert (wm["status"] == "no_data").all() and wm["share"].isna().all()  # not 0 %
    comp = composite_score(areas, rules).set_index("area")
    assert comp.loc["A", "score"] == pytest.approx(30.0)  # supermarket at t5 only
    assert comp.loc["A", "no_data"] == "wet_market"


def test_new_town_override_widens_t15(street: WalkNetwork, cells) -> None:
    rules = load_rules()
    demand = snap_xy(street, list(cells["x"]))
    # outlet at the west end; with a 1,500 m t15 in new towns the far cells still count
    acc = {
        "restaurant": category_access(
            street, snap_xy(street, [X0]), demand, category="restaurant", cutoff_m=2000
        )
    }
    far = cells.assign(x=cells["x"])  # same cells
    main = score_cells(far, acc, rules)
    new = score_cells(far, acc, rules, area_type=pd.Series(["new_town"] * 10))
    t15_main = main[main["tier"] == "t15"]["covered"].sum()
    t15_new = new[new["tier"] == "t15"]["covered"].sum()
    assert t15_main == 10 and t15_new == 10
    assert rules.distance_m("t15", area_type="new_town") == 1500


def test_min_count_and_counts(street: WalkNetwork, cells) -> None:
    outlets = snap_xy(street, [X0, X0 + 400])
    demand = snap_xy(street, list(cells["x"]))
    acc = category_access(
        street,
        outlets,
        demand,
        category="supermarket",
        cutoff_m=2000,
        count_radii_m={"t5": 300, "t10": 500},
    )
    # cell at 150: outlets at 150 m and 250 m → 2 within 300; cell at 650: 250 m from x=400 only
    assert acc.counts["t5"][1] == 2 and acc.counts["t5"][6] == 1
    assert acc.counts["t10"][9] == 0  # 950: 550 m from the nearer outlet
    np.testing.assert_array_equal(acc.counts["t10"], [2, 2, 2, 2, 2, 1, 1, 1, 1, 0])


def test_gap_polygon(street: WalkNetwork, cells) -> None:
    demand = snap_xy(street, list(cells["x"]))
    acc = category_access(
        street, snap_xy(street, [X0]), demand, category="wet_market", cutoff_m=2000
    )
    gaps = gap_polygons(cells, acc, threshold_m=500, area_of_cell=cells["area_id"])
    assert len(gaps) == 1
    g = gaps.iloc[0]
    assert g["pop"] == pytest.approx(50) and g["n_cells"] == 5
    assert g["min_dist_m"] == pytest.approx(550, abs=1e-3)
    assert g["max_dist_m"] == pytest.approx(950, abs=1e-3)
    assert g["area"] == "A"
    assert g.geometry.area == pytest.approx(5 * 100 * 100, rel=1e-3)
    x0, _, x1, _ = g.geometry.bounds
    assert x0 == pytest.approx(X0 + 500, abs=0.1) and x1 == pytest.approx(X0 + 1000, abs=0.1)


def test_two_separate_gaps_ranked_by_population(street: WalkNetwork, cells) -> None:
    # outlet in the middle (x = 500): cells beyond 300 m on either side are two gaps
    demand = snap_xy(street, list(cells["x"]))
    acc = category_access(street, snap_xy(street, [X0 + 500]), demand, category="x", cutoff_m=2000)
    weighted = cells.assign(pop=[10, 10, 10, 10, 10, 10, 10, 10, 30, 30.0])
    gaps = gap_polygons(weighted, acc, threshold_m=300)
    assert list(gaps["rank"]) == [1, 2]
    assert list(gaps["pop"]) == [60, 20]  # east: cells 850, 950 (30 + 30); west: 50, 150


def test_overlapping_polygons_and_area_types(street: WalkNetwork, cells) -> None:
    from layers.coverage import area_type_of_cells, cells_in_polygons

    west = shapely.box(X0, 3_451_900, X0 + 300, 3_452_100)  # cells 50, 150, 250
    mid = shapely.box(X0 + 200, 3_451_900, X0 + 600, 3_452_100)  # cells 250 … 550
    polys = gpd.GeoDataFrame({"id": ["west", "mid"]}, geometry=[west, mid], crs="EPSG:32651")
    pairs = cells_in_polygons(cells, polys, key="id")
    assert sorted(pairs[pairs["area"] == "west"]["cell_id"]) == [0, 1, 2]
    assert sorted(pairs[pairs["area"] == "mid"]["cell_id"]) == [2, 3, 4, 5]  # cell 2 in both
    rules = load_rules()
    demand = snap_xy(street, list(cells["x"]))
    acc = {
        "supermarket": category_access(
            street, snap_xy(street, [X0]), demand, category="supermarket", cutoff_m=2000
        )
    }
    scores = score_areas(score_cells(cells, acc, rules), pairs, target_share=0.85)
    t5 = scores[scores["tier"] == "t5"].set_index("area")
    assert t5.loc["west", "share"] == pytest.approx(1.0)
    assert t5.loc["mid", "share"] == pytest.approx(0.25)  # only cell 250 of 250 … 550
    types = area_type_of_cells(cells, {"new_town": polys.iloc[[1]]})
    assert list(types) == [
        None,
        None,
        "new_town",
        "new_town",
        "new_town",
        "new_town",
        None,
        None,
        None,
        None,
    ]
