"""Real extracts from ../shared/data: summary statistics that catch drift (momepy style)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import shapely

from geo.crs import Projector
from geo.features import classify_tags, load_taxonomy
from geo.network import WalkNetwork, build_from_pieces, build_walk_network
from geo.osm import OsmExtract, read_osm
from geo.snap import EdgeIndex, snap_points
from geo.table_import import read_point_table
from shangquan.paths import DEFAULT_TAXONOMY
from shangquan.pipeline import has_footways
from tests.conftest import shared_path

pytestmark = pytest.mark.realdata


def test_shanghai_roads_read(shanghai_extract: OsmExtract) -> None:
    st = shanghai_extract.stats
    assert st.highway_ways == 4701
    assert st.missing_node_refs == 0
    assert len(np.unique(shanghai_extract.highways.node_id)) == 21_786  # every node in the file
    lon0, lat0, lon1, lat1 = shanghai_extract.bbox
    assert lon0 == pytest.approx(121.409, abs=2e-3) and lon1 == pytest.approx(121.552, abs=2e-3)
    assert lat0 == pytest.approx(31.179, abs=2e-3) and lat1 == pytest.approx(31.279, abs=2e-3)
    assert not has_footways(shanghai_extract)
    assert shanghai_extract.water.empty  # roads only: the caller must say so


def test_shanghai_all_roads_about_975_km_one_dominant_component(
    shanghai_extract: OsmExtract,
) -> None:
    every = dataclasses.replace(
        shanghai_extract.highways, walkable=np.ones(shanghai_extract.highways.n_pieces, bool)
    )
    net = build_from_pieces(every, projector=Projector.for_crs("EPSG:32651"), region_min_share=1.0)
    assert net.stats.length_km == pytest.approx(975, rel=0.01)
    assert net.stats.vertices == pytest.approx(21_786, rel=0.01)
    assert net.stats.island_nodes < 0.01 * net.stats.nodes


def test_shanghai_walk_network(shanghai_net: WalkNetwork) -> None:
    s = shanghai_net.stats
    assert s.crs == "EPSG:32651"
    assert s.walkable_ways == 4546  # 155 ways are foot=no / access=no
    # Puxi and Lujiazui are separate walk regions: no foot link across the Huangpu here
    assert s.regions == 2
    assert s.length_km == pytest.approx(911.7, rel=0.01)
    assert s.island_nodes == pytest.approx(17, abs=5)
    largest = build_walk_network(
        read_osm(shared_path("osm", "shanghai_center_roads.osm.gz")), region_min_share=1.0
    )
    assert largest.stats.length_km == pytest.approx(750, rel=0.02)
    assert largest.stats.length_km / s.length_km > 0.8  # one dominant component


def test_shanghai_networkx_spot_checks(shanghai_net: WalkNetwork) -> None:
    import networkx as nx
    from scipy.sparse.csgraph import dijkstra

    g = shanghai_net.to_networkx()
    rng = np.random.default_rng(7)
    src = rng.choice(shanghai_net.n_nodes, 5, replace=False)
    ours = dijkstra(shanghai_net.graph, directed=False, indices=src)
    for k, s in enumerate(src):
        ref = nx.single_source_dijkstra_path_length(g, int(s), weight="length")
        targets = rng.choice(list(ref), 50)
        for t in targets:
            assert ours[k, t] == pytest.approx(ref[t], abs=1.0)


@pytest.fixture(scope="module")
def kyoto() -> OsmExtract:
    return read_osm(shared_path("osm", "kyoto_full.osm.gz"))


@pytest.fixture(scope="module")
def helsinki() -> OsmExtract:
    return read_osm(shared_path("osm", "helsinki_full.osm.pbf"))


def test_kyoto(kyoto: OsmExtract) -> None:
    assert has_footways(kyoto)
    net = build_walk_network(kyoto)
    assert net.crs == "EPSG:32653"
    assert net.stats.length_km == pytest.approx(276, rel=0.02)
    assert len(kyoto.buildings) == pytest.approx(15_869, abs=10)
    assert {"river", "area"} <= set(kyoto.water["kind"])
    _, rep = classify_tags(load_taxonomy(DEFAULT_TAXONOMY), kyoto.pois["tags"])
    assert rep.per_category["convenience"] >= 42  # 42 shop=convenience in the README
    assert rep.per_category["supermarket"] >= 7
    assert rep.per_category["restaurant"] > 50 and rep.per_category["bakery"] > 5
    assert rep.per_category["clinic"] > 0 and rep.per_category["pharmacy"] > 0


def test_helsinki_pbf(helsinki: OsmExtract) -> None:
    assert has_footways(helsinki)
    kinds = helsinki.highways.attrs["highway"].value_counts()
    assert kinds["footway"] >= 1000  # 1,097 footways in the README
    assert helsinki.stats.missing_node_refs > 0  # ways cut at the extract's edge, counted
    net = build_walk_network(helsinki)
    assert net.crs == "EPSG:32635"
    assert net.stats.length_km == pytest.approx(88.6, rel=0.02)
    _, rep = classify_tags(load_taxonomy(DEFAULT_TAXONOMY), helsinki.pois["tags"])
    assert rep.per_category["restaurant"] >= 214 + 54 - 5  # restaurants + fast food
    nonzero = [c for c, n in rep.per_category.items() if n > 0]
    assert len(nonzero) >= 8
    assert rep.unmatched > 0 and rep.top_unmatched  # reported, not dropped


def test_bd09_pois_land_on_their_streets_only_after_conversion(
    shanghai_extract: OsmExtract, shanghai_net: WalkNetwork
) -> None:
    """Names like 乐购超市(河南南路店) name their street: measure the offset to it."""
    table = read_point_table(
        shared_path("poi", "shanghai_brand_pois_bd09.csv"), datum="bd09", bbox=shanghai_extract.bbox
    )
    pts = table.points
    proj = Projector.for_crs(shanghai_net.crs)
    raw = np.column_stack(proj.to_xy(pts["lng"].astype(float), pts["lat"].astype(float)))
    conv = np.column_stack(proj.to_xy(pts["lon_wgs84"], pts["lat_wgs84"]))
    streets = shanghai_extract.streets.to_crs(shanghai_net.crs).dissolve("name")
    names = sorted((s for s in streets.index if len(s) >= 3), key=len, reverse=True)
    own = [next((s for s in names if s in str(n)), None) for n in pts["name"]]
    idx = [i for i, s in enumerate(own) if s]
    assert len(idx) >= 50
    geoms = streets.geometry.loc[[own[i] for i in idx]].to_numpy()
    d_raw = shapely.distance(shapely.points(raw[idx]), geoms)
    d_conv = shapely.distance(shapely.points(conv[idx]), geoms)
    assert np.median(d_raw) > 500  # ≈ 985 m measured: BD-09 left as is is off the street
    assert np.median(d_conv) < 50  # ≈ 28 m measured: on its street after BD-09 → WGS84
    assert (d_conv < 60).mean() > 0.6 > 0.2 > (d_raw < 60).mean()
    snapped = snap_points(EdgeIndex.build(shanghai_net), conv)
    assert snapped.ok.mean() > 0.7  # the rest lie in the bbox corners outside the road extract


def test_coverage_distances_match_networkx(shanghai_net: WalkNetwork) -> None:
    """Point-to-point distances (true positions on edges, access legs included) agree
    with networkx on a graph where every outlet and demand point is an explicit node."""
    import networkx as nx

    from layers.coverage import category_access

    rng = np.random.default_rng(11)
    idx = EdgeIndex.build(shanghai_net)
    xy = shanghai_net.node_xy
    outlets = snap_points(idx, xy[rng.choice(len(xy), 25)] + rng.normal(0, 30, (25, 2)))
    demand = snap_points(idx, xy[rng.choice(len(xy), 60)] + rng.normal(0, 30, (60, 2)))
    acc = category_access(shanghai_net, outlets, demand, category="x", cutoff_m=5000)
    g = nx.DiGraph()
    for u, v, w in zip(
        shanghai_net.edge_u, shanghai_net.edge_v, shanghai_net.edge_length_m, strict=True
    ):
        for a, b in ((int(u), int(v)), (int(v), int(u))):
            if not g.has_edge(a, b) or g[a][b]["w"] > w:
                g.add_edge(a, b, w=float(w))
    net = shanghai_net

    def attach(name: str, s, i: int, outgoing: bool) -> None:
        e = int(s.edge[i])
        legs = {
            int(net.edge_u[e]): s.dist_along_m[i],
            int(net.edge_v[e]): net.edge_length_m[e] - s.dist_along_m[i],
        }
        for node, d in legs.items():
            w = float(d + s.snap_dist_m[i])
            g.add_edge(*((name, node) if outgoing else (node, name)), w=w)

    for i in np.flatnonzero(outlets.ok):
        attach(f"o{i}", outlets, int(i), outgoing=True)
        g.add_edge("S", f"o{i}", w=0.0)
    for i in np.flatnonzero(demand.ok):
        attach(f"d{i}", demand, int(i), outgoing=False)
    ref = nx.single_source_dijkstra_path_length(g, "S", weight="w")
    checked = 0
    for i in np.flatnonzero(demand.ok):
        same = [j for j in np.flatnonzero(outlets.ok) if outlets.edge[j] == demand.edge[i]]
        if same:  # networkx cannot walk along a shared edge between two virtual nodes
            continue
        expected = ref.get(f"d{i}", np.inf)
        assert acc.dist_m[i] == pytest.approx(expected, abs=1.0)
        checked += 1
    assert checked >= 40
