"""Siting (MCLP): exact optimum by hand, and greedy's gap on a case built to expose it."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from geo.errors import InputDataError
from geo.network import WalkNetwork
from layers.coverage import category_access
from layers.siting import coverage_matrix, solve_exact, solve_greedy
from tests.conftest import X0, snap_xy


def test_greedy_can_be_beaten_and_exact_is_optimal() -> None:
    """Sets A = {0,1,2,3}, B = {0,1,4}, C = {2,3,5}, one person per cell, two sites.

    Greedy takes A (4) then B or C (+1) = 5; the optimum is B + C = 6.
    """
    cover = sp.csr_matrix(
        np.array([[1, 1, 1, 1, 0, 0], [1, 1, 0, 0, 1, 0], [0, 0, 1, 1, 0, 1]], dtype=bool)
    )
    w = np.ones(6)
    g = solve_greedy(cover, w, 2)
    e = solve_exact(cover, w, 2)
    assert g.total_added == 5 and g.chosen[0] == 0
    assert e.total_added == 6 and set(e.chosen) == {1, 2} and e.optimal
    assert e.added_pop.sum() == pytest.approx(6)


def test_already_covered_people_do_not_count() -> None:
    cover = sp.csr_matrix(np.array([[1, 1, 0], [0, 0, 1]], dtype=bool))
    w = np.array([0.0, 0.0, 5.0])  # the first two cells are covered already
    assert list(solve_greedy(cover, w, 1).chosen) == [1]
    assert list(solve_exact(cover, w, 1).chosen) == [1]
    with pytest.raises(InputDataError, match="at least 1"):
        solve_greedy(cover, w, 0)


def test_siting_on_the_street(street: WalkNetwork, cells) -> None:
    """Supermarket at x = 0, 300 m rule: cells 350 … 950 (70 people) are uncovered.

    Candidates at every node (x = 0, 100, …, 1000). One site covers at most 6 of the
    7 uncovered cells (e.g. x = 600 reaches 350 … 850); two sites cover all 70.
    """
    demand = snap_xy(street, list(cells["x"]))
    acc = category_access(
        street, snap_xy(street, [X0]), demand, category="supermarket", cutoff_m=2000
    )
    uncovered = np.where(acc.dist_m > 300, cells["pop"].to_numpy(), 0.0)
    assert uncovered.sum() == 70
    cand = snap_xy(street, [X0 + d for d in range(0, 1001, 100)])
    cover = coverage_matrix(street, cand, demand, threshold_m=300)
    assert cover[6].toarray().ravel().tolist() == [0, 0, 0, 1, 1, 1, 1, 1, 1, 0]  # x = 600
    one = solve_exact(cover, uncovered, 1)
    assert one.total_added == pytest.approx(60)
    two_g, two_e = solve_greedy(cover, uncovered, 2), solve_exact(cover, uncovered, 2)
    assert two_e.total_added == pytest.approx(70) and two_g.total_added == pytest.approx(70)


def test_whatif_add_and_remove_match_a_full_recompute(street: WalkNetwork, cells) -> None:
    from layers.whatif import add_outlets, remove_outlets

    demand = snap_xy(street, list(cells["x"]))
    base_out = snap_xy(street, [X0, X0 + 900])
    acc = category_access(street, base_out, demand, category="x", cutoff_m=2000)
    added = snap_xy(street, [X0 + 500])
    acc2, out2 = add_outlets(street, acc, base_out, demand, added)
    full = category_access(street, out2, demand, category="x", cutoff_m=2000)
    np.testing.assert_allclose(acc2.dist_m, full.dist_m)
    np.testing.assert_array_equal(acc2.nearest, full.nearest)
    assert acc2.nearest[5] == 2  # the cell at 550 now uses the new outlet (index 2)
    acc3, out3 = remove_outlets(street, acc2, out2, demand, np.array([1]))
    full3 = category_access(street, out3, demand, category="x", cutoff_m=2000)
    np.testing.assert_allclose(acc3.dist_m, full3.dist_m)
    assert acc3.dist_m[9] == pytest.approx(450)  # 950 → outlet at 500 after 900 is removed
    assert acc3.n_outlets == 2
