"""Hand-checkable tests on tests/data/toy_walk.osm (drawing in tests/data/README.md).

Distances are checked against geodesic distances from pyproj.Geod, independent of the
UTM projection the engine uses (scale error at 121.47 E in zone 51N is < 0.02 %).

    lat 31.2030   5 ─────────────── 4                 (way 104)
                  ┆ foot=no (105)   │ (103)
    lat 31.2010   1 ── 2 ──M── 3 ── 6         M = KFC (node 61) at 121.4725, 31.2012
                                     │ bridge (102)
    lat 31.1994   ~~~~~~~ river ~~~~~│~~~~~~  B = bakery (node 65) at 121.4710, 31.1996
    lat 31.1990   ~~~~~~~~~~~~~~~~~~~│~~~~~~      22 m north of the river
    lat 31.1988   8 ────── 9 ─────── 7        (way 101), 22 m south of the river
"""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from geo.crs import Projector
from geo.network import WalkNetwork
from geo.osm import OsmExtract
from geo.route import distances_from, distances_to
from geo.snap import EdgeIndex, SnapStatus, WaterBarrier, snap_points

GEOD = Geod(ellps="WGS84")
REL = 5e-4  # 0.05 %


def geo_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def node_index(net: WalkNetwork, osm_id: int) -> int:
    return int(np.flatnonzero(net.node_osm_id == osm_id)[0])


def snap_lonlat(net: WalkNetwork, lon: float, lat: float, **kw: object):
    x, y = Projector.for_crs(net.crs).to_xy([lon], [lat])
    return snap_points(EdgeIndex.build(net), np.column_stack([x, y]), **kw)  # type: ignore[arg-type]


def test_network_shape(toy_net: WalkNetwork) -> None:
    s = toy_net.stats
    assert s.crs == "EPSG:32651"
    assert s.walkable_ways == 6  # 100-104 and the island 106; 105 is foot=no
    assert set(toy_net.node_osm_id) == {1, 3, 4, 5, 6, 7, 8}  # 2 and 9 are interstitial
    assert s.island_nodes == 2 and s.components == 2
    assert 105 not in set(toy_net.edge_way_id)


def test_edge_lengths_match_geodesic(toy_net: WalkNetwork) -> None:
    a = node_index(toy_net, 1)
    b = node_index(toy_net, 3)
    e = np.flatnonzero((toy_net.edge_u == a) & (toy_net.edge_v == b))[0]
    assert toy_net.edge_length_m[e] == pytest.approx(
        geo_m(121.470, 31.201, 121.474, 31.201), rel=REL
    )
    total = sum(
        geo_m(*p)
        for p in [
            (121.470, 31.201, 121.476, 31.201),  # A
            (121.470, 31.1988, 121.476, 31.1988),  # C
            (121.476, 31.201, 121.476, 31.1988),  # bridge
            (121.474, 31.201, 121.474, 31.203),  # 103
            (121.474, 31.203, 121.470, 31.203),  # 104
        ]
    )
    assert toy_net.stats.length_km * 1000 == pytest.approx(total, rel=REL)


def test_poi_mid_edge_reaches_each_end(toy_net: WalkNetwork) -> None:
    """M snaps to edge 1–3 at its perpendicular foot (121.4725, 31.2010)."""
    s = snap_lonlat(toy_net, 121.4725, 31.2012)
    assert s.status[0] == SnapStatus.SNAPPED
    snap_d = geo_m(121.4725, 31.2012, 121.4725, 31.2010)  # ≈ 22.2 m
    to_1 = geo_m(121.4700, 31.2010, 121.4725, 31.2010)  # ≈ 238.2 m
    to_3 = geo_m(121.4725, 31.2010, 121.4740, 31.2010)  # ≈ 142.9 m
    assert s.snap_dist_m[0] == pytest.approx(snap_d, rel=1e-3)
    assert s.dist_along_m[0] == pytest.approx(to_1, rel=REL)
    d = distances_from(toy_net, s)
    assert d.dist_m[node_index(toy_net, 1)] == pytest.approx(to_1 + snap_d, rel=REL)
    assert d.dist_m[node_index(toy_net, 3)] == pytest.approx(to_3 + snap_d, rel=REL)
    # node 5 lies behind the foot=no way: the walk goes 1 … 3 → 4 → 5, not 1 → 5
    around = (
        to_3 + geo_m(121.474, 31.201, 121.474, 31.203) + geo_m(121.474, 31.203, 121.470, 31.203)
    )
    assert d.dist_m[node_index(toy_net, 5)] == pytest.approx(around + snap_d, rel=REL)
    no_access = distances_from(toy_net, s, include_access=False)
    assert no_access.dist_m[node_index(toy_net, 1)] == pytest.approx(to_1, rel=REL)


def test_cutoff_limits_search(toy_net: WalkNetwork) -> None:
    s = snap_lonlat(toy_net, 121.4725, 31.2012)
    d = distances_from(toy_net, s, cutoff_m=300.0)
    assert np.isfinite(d.dist_m[node_index(toy_net, 3)])
    assert np.isinf(d.dist_m[node_index(toy_net, 5)])
    assert d.source[node_index(toy_net, 5)] == -1


def test_target_on_same_edge_goes_direct(toy_net: WalkNetwork) -> None:
    src = snap_lonlat(toy_net, 121.4725, 31.2012)
    tgt = snap_lonlat(toy_net, 121.4705, 31.2010)  # on the same edge, 5 m from node 1 side
    d, which = distances_to(toy_net, distances_from(toy_net, src), tgt, sources=src)
    expected = geo_m(121.4705, 31.2010, 121.4725, 31.2010) + geo_m(
        121.4725, 31.2012, 121.4725, 31.2010
    )
    assert d[0] == pytest.approx(expected, rel=REL)
    assert which[0] == 0


def test_snap_never_crosses_the_river(toy_net: WalkNetwork, toy_extract: OsmExtract) -> None:
    """B is 89 m from street C across the river, 155 m from street A on its own bank."""
    water = WaterBarrier.from_frame(toy_extract.water.to_crs(toy_net.crs), crs=toy_net.crs)
    assert water is not None
    naive = snap_lonlat(toy_net, 121.4710, 31.1996)
    assert naive.snap_dist_m[0] == pytest.approx(
        geo_m(121.471, 31.1996, 121.471, 31.1988), rel=1e-3
    )
    guarded = snap_lonlat(toy_net, 121.4710, 31.1996, water=water)
    assert guarded.status[0] == SnapStatus.SNAPPED
    assert guarded.snap_dist_m[0] == pytest.approx(
        geo_m(121.471, 31.1996, 121.471, 31.201), rel=1e-3
    )
    way_of_edge = toy_net.edge_way_id[guarded.edge[0]]
    assert way_of_edge == 100  # street A, same bank
    # with a 120 m limit its own bank is out of reach: flagged, not joined across the water
    blocked = snap_lonlat(toy_net, 121.4710, 31.1996, water=water, max_snap_m=120.0)
    assert blocked.status[0] == SnapStatus.ACROSS_WATER
    assert blocked.edge[0] == -1 and np.isnan(blocked.dist_along_m[0])


def test_points_too_far_or_invalid_are_flagged(toy_net: WalkNetwork) -> None:
    proj = Projector.for_crs(toy_net.crs)
    x, y = proj.to_xy([121.4725, 121.50], [31.2012, 31.25])
    xy = np.column_stack([x, y])
    xy = np.vstack([xy, [np.nan, np.nan]])
    s = snap_points(EdgeIndex.build(toy_net), xy, max_snap_m=200.0)
    assert list(s.status) == [SnapStatus.SNAPPED, SnapStatus.TOO_FAR, SnapStatus.INVALID]
    assert s.counts() == {"snapped": 1, "too_far": 1, "across_water": 0, "invalid": 1}


def test_networkx_agrees(toy_net: WalkNetwork) -> None:
    import networkx as nx
    from scipy.sparse.csgraph import dijkstra

    g = toy_net.to_networkx()
    ref = nx.single_source_dijkstra_path_length(g, 0, weight="length")
    ours = dijkstra(toy_net.graph, directed=False, indices=0)
    for node, dist in ref.items():
        assert ours[node] == pytest.approx(dist, abs=1e-6)


def test_pois_from_nodes_ways_and_relations(toy_extract: OsmExtract) -> None:
    pois = toy_extract.pois.set_index(["osm_type", "osm_id"])
    assert ("way", 108) in pois.index and ("relation", 200) in pois.index
    shop = pois.loc[("way", 108)]
    assert 121.4750 < shop.lon < 121.4753 and 31.2014 < shop.lat < 31.2017
    market = pois.loc[("relation", 200)]
    assert 121.4712 < market.lon < 121.4718 and 31.2018 < market.lat < 31.2022
    assert market["name"] == "测试菜市场"


def test_context_features(toy_extract: OsmExtract) -> None:
    assert list(toy_extract.water["name"]) == ["测试河"]
    streets = toy_extract.streets
    assert {"测试北路", "测试南路", "禁行路"} <= set(streets["name"])
    assert streets.set_index("name").loc["测试北路", "name:en"] == "Test North Road"
    assert list(toy_extract.buildings["building"]) == ["retail"]
