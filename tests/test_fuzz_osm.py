"""Property and regression tests: read_osm loads what was written, or says why it cannot.

Generated OSM XML (random nodes, ways and tags, with markup and unicode in names) must
load with exactly the generated counts, POIs and coordinates, in every container (.osm,
.gz, .bz2); truncated files must raise :class:`InputDataError` rather than load as a
smaller extract; and a fixed sample of the fuzz driver's mutated real seeds must end
cleanly. The regression tests are the inputs ``benchmarks/fuzz_readers.py`` found.
"""

from __future__ import annotations

import bz2
import gzip
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.errors import InputDataError
from geo.osm import read_osm
from tests.conftest import DATA, shared_path

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,  # deterministic in CI: no replay of stored examples
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ----------------------------------------------------------------------------- generation

#: Text XML 1.0 can carry (no control characters, surrogates or non-characters).
XML_TEXT = st.text(
    st.characters(
        blacklist_categories=["Cs", "Cc", "Co"],
        blacklist_characters="\ufffe\uffff\ufeff",
    ),
    min_size=1,
    max_size=40,
)
NAMES = st.one_of(
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            "南京东路 & 西藏中路",
            'a "quoted" name',
            "it's",
            "]]>",
            "&amp; already escaped",
            "𠜎😀\u202e",
        ]
    ),
    XML_TEXT,
)
POI_TAGS = [("shop", "supermarket"), ("amenity", "pharmacy"), ("shop", "bakery")]


def _esc(text: str) -> str:
    """Escape for a double-quoted XML attribute (whitespace too: attributes normalise it)."""
    for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
        text = text.replace(a, b)
    return text.replace("\t", "&#9;").replace("\n", "&#10;").replace("\r", "&#13;")


@dataclass
class Extract:
    """What was generated, and what read_osm must report for it."""

    xml: str
    tagged_nodes: int = 0
    ways: int = 0
    highway_ways: int = 0
    poi_nodes: dict[int, tuple[float, float, str]] = field(default_factory=dict)
    poi_ways: set[int] = field(default_factory=set)


@st.composite
def extracts(draw: st.DrawFn) -> Extract:
    """An OSM XML document with tagged/untagged nodes and tagged ways over them."""
    n_nodes = draw(st.integers(2, 25))
    ids = draw(st.lists(st.integers(1, 2**40), min_size=n_nodes, max_size=n_nodes, unique=True))
    lons = draw(st.lists(st.floats(-180, 180), min_size=n_nodes, max_size=n_nodes))
    lats = draw(st.lists(st.floats(-90, 90), min_size=n_nodes, max_size=n_nodes))
    ex = Extract(xml="")
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for nid, lon, lat in zip(ids, lons, lats, strict=True):
        lon, lat = round(lon, 7), round(lat, 7)  # OSM stores 7 decimals
        kind = draw(st.sampled_from(["plain", "plain", "named", "poi"]))
        head = f'  <node id="{nid}" lat="{lat:.7f}" lon="{lon:.7f}"'
        if kind == "plain":
            parts.append(head + "/>")
            continue
        name = draw(NAMES)
        tags = [("name", name)]
        if kind == "poi":
            tags.append(draw(st.sampled_from(POI_TAGS)))
            ex.poi_nodes[nid] = (lon, lat, name)
        else:
            tags.append(("note", draw(XML_TEXT)))
        ex.tagged_nodes += 1
        body = "".join(f'<tag k="{_esc(k)}" v="{_esc(v)}"/>' for k, v in tags)
        parts.append(f"{head}>{body}</node>")
    for k in range(draw(st.integers(0, 6))):
        wid = 10**12 + k
        refs = draw(st.lists(st.sampled_from(ids), min_size=2, max_size=8))
        kind = draw(st.sampled_from(["highway", "poi", "other"]))
        if kind == "highway":
            tag = ("highway", draw(st.sampled_from(["footway", "residential", "motorway"])))
            ex.highway_ways += 1
        elif kind == "poi":
            tag = draw(st.sampled_from(POI_TAGS))
            ex.poi_ways.add(wid)
        else:
            tag = ("barrier", "wall")
        ex.ways += 1
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        name = _esc(draw(NAMES))
        parts.append(f'  <way id="{wid}">{nds}<tag k="{tag[0]}" v="{tag[1]}"/>')
        parts.append(f'<tag k="name" v="{name}"/></way>')
    parts.append("</osm>\n")
    ex.xml = "\n".join(parts)
    return ex


def _write(path: Path, xml: bytes, fmt: str) -> Path:
    if fmt == "gz":
        xml = gzip.compress(xml)
    elif fmt == "bz2":
        xml = bz2.compress(xml)
    path.write_bytes(xml)
    return path


# ----------------------------------------------------------------------------- properties


@SETTINGS
@given(ex=extracts(), fmt=st.sampled_from(["osm", "gz", "bz2"]))
def test_generated_xml_loads_with_matching_counts(
    tmp_path_factory: pytest.TempPathFactory, ex: Extract, fmt: str
) -> None:
    suffix = {"osm": ".osm", "gz": ".osm.gz", "bz2": ".osm.bz2"}[fmt]
    path = _write(tmp_path_factory.mktemp("osm") / f"gen{suffix}", ex.xml.encode(), fmt)
    if not ex.tagged_nodes and not ex.ways:  # untagged nodes only: nothing to map
        with pytest.raises(InputDataError, match=r"gen\.osm.*no OSM nodes, ways or relations"):
            read_osm(path)
        return
    result = read_osm(path)
    assert result.stats.tagged_nodes == ex.tagged_nodes
    assert result.stats.ways == ex.ways
    assert result.stats.highway_ways == ex.highway_ways
    assert result.stats.missing_node_refs == 0
    pois = result.pois
    nodes = pois[pois["osm_type"] == "node"].set_index("osm_id")
    assert set(nodes.index) == set(ex.poi_nodes)
    for nid, (lon, lat, name) in ex.poi_nodes.items():
        assert nodes.loc[nid, "name"] == name  # markup and unicode kept verbatim
        assert abs(nodes.loc[nid, "lon"] - lon) < 1e-7
        assert abs(nodes.loc[nid, "lat"] - lat) < 1e-7
    assert set(pois.loc[pois["osm_type"] == "way", "osm_id"]) == ex.poi_ways
    assert np.isfinite(pois[["lon", "lat"]].to_numpy(dtype=float)).all()
    assert len(result.highways.offsets) == result.highways.n_pieces + 1
    result.streets  # noqa: B018 - building the named street lines works


def _toy() -> bytes:
    return (DATA / "toy_walk.osm").read_bytes()


@SETTINGS
@given(data=st.data(), fmt=st.sampled_from(["osm", "gz", "bz2"]))
def test_truncated_xml_is_an_input_error(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, fmt: str
) -> None:
    """A file cut anywhere before </osm> (or in its compressed stream) must not load."""
    xml = _toy()
    if fmt == "osm":
        cut = data.draw(st.integers(1, xml.rfind(b"</osm>")))
        raw = xml[:cut]
    else:
        packed = gzip.compress(xml) if fmt == "gz" else bz2.compress(xml)
        raw = packed[: data.draw(st.integers(1, len(packed) - 1))]
    path = tmp_path_factory.mktemp("cut") / f"cut.osm{'' if fmt == 'osm' else '.' + fmt}"
    path.write_bytes(raw)
    with pytest.raises(InputDataError, match=r"cut\.osm.*truncated or corrupt"):
        read_osm(path)


@pytest.fixture(scope="module")
def toy_pbf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    from benchmarks.fuzz_readers import _xml_to_pbf

    return _xml_to_pbf(_toy(), tmp_path_factory.mktemp("pbf"))


@SETTINGS
@given(data=st.data())
def test_pbf_cut_inside_a_block_is_an_input_error(
    tmp_path_factory: pytest.TempPathFactory, toy_pbf: bytes, data: st.DataObject
) -> None:
    from benchmarks.fuzz_readers import pbf_boundaries

    silent = set(pbf_boundaries(toy_pbf))
    cut = data.draw(st.integers(1, len(toy_pbf) - 1).filter(lambda c: c not in silent))
    path = tmp_path_factory.mktemp("pbf") / "cut.osm.pbf"
    path.write_bytes(toy_pbf[:cut])
    with pytest.raises(InputDataError, match=r"cut\.osm\.pbf"):
        read_osm(path)


def test_pbf_cut_at_a_block_boundary_is_a_known_limit(tmp_path: Path, toy_pbf: bytes) -> None:
    """PBF has no end marker: a file cut exactly at a block boundary reads as a shorter file.

    This documents the limit (docs/reliability.md); if it is ever detected, this test fails
    and the limit can be struck from the docs.
    """
    from benchmarks.fuzz_readers import pbf_boundaries

    ends = pbf_boundaries(toy_pbf)
    path = tmp_path / "short.osm.pbf"
    path.write_bytes(toy_pbf[: ends[-2]])
    assert read_osm(path).stats.tagged_nodes >= 0  # loads, without an error


@pytest.mark.parametrize("extra", [1, 2, 3])
def test_pbf_cut_just_past_a_block_boundary_is_an_input_error(
    tmp_path: Path, toy_pbf: bytes, extra: int
) -> None:
    """Was a silent short load: libosmium reads a partial 4-byte block length as the end."""
    from benchmarks.fuzz_readers import pbf_boundaries

    ends = pbf_boundaries(toy_pbf)
    path = tmp_path / "cut.osm.pbf"
    path.write_bytes(toy_pbf[: ends[-2] + extra])
    with pytest.raises(InputDataError, match=r"cut\.osm\.pbf.*no valid block header length"):
        read_osm(path)


def _open_fds() -> int:
    return len(list(Path("/proc/self/fd").iterdir()))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc/self/fd (Linux)")
@pytest.mark.parametrize("damage", ["garbage", "cut", "header_length", "header_block"])
def test_broken_pbf_does_not_leak_file_descriptors(
    tmp_path: Path, toy_pbf: bytes, damage: str
) -> None:
    """Was one leaked descriptor per failed read (libosmium); atheris ran out after 24,432."""
    from benchmarks.fuzz_readers import pbf_blobs

    blobs = pbf_blobs(toy_pbf)
    if damage == "garbage":
        data = b"\x00\x01garbage" * 50
    elif damage == "cut":
        data = toy_pbf[: len(toy_pbf) // 2]
    elif damage == "header_length":
        data = b"\xff\xff\xff\xff" + toy_pbf[4:]
    else:  # the header block's zlib stream
        blobs[0].data = blobs[0].data[:8] + b"\xff" * 16 + blobs[0].data[24:]
        data = b"".join(b.encode() for b in blobs)
    path = tmp_path / "broken.osm.pbf"
    path.write_bytes(data)
    before = _open_fds()
    for _ in range(30):
        with pytest.raises(InputDataError, match=r"broken\.osm\.pbf.*truncated or corrupt"):
            read_osm(path)
    assert _open_fds() == before


@SETTINGS
@given(
    attr=st.sampled_from(["lat", "lon"]),
    value=st.sampled_from(["nan", "inf", "999", "", "  3", "0x10", "1,5", "12°", "abc"]),
)
def test_bad_coordinate_text_is_an_input_error(
    tmp_path_factory: pytest.TempPathFactory, attr: str, value: str
) -> None:
    """Was osmium.InvalidLocationError (an Exception, not a RuntimeError) escaping read_osm."""
    coords = {"lat": "31.2", "lon": "121.4", attr: value}
    xml = (
        f'<osm version="0.6"><node id="1" lat="{coords["lat"]}" lon="{coords["lon"]}">'
        '<tag k="shop" v="x"/></node></osm>'
    )
    path = tmp_path_factory.mktemp("loc") / "badloc.osm"
    path.write_text(xml, encoding="utf-8")
    with pytest.raises(InputDataError, match=r"badloc\.osm: cannot read OSM data"):
        read_osm(path)


# ------------------------------------------------------------------- mutated real seeds


def test_mutated_real_seeds_end_cleanly(tmp_path: Path) -> None:
    """A fixed sample of the fuzz driver's inputs (real extracts, mutated) ends cleanly."""
    shared_path("osm", "kyoto_full.osm.gz")
    from benchmarks.fuzz_readers import load_seeds, make_case, run_case

    seeds = load_seeds(full=False)
    outcomes = []
    for index in range(60):
        case = make_case("osm", index, seeds, seed=0)
        path = tmp_path / f"case{index}{case.suffix}"
        path.write_bytes(case.data)
        result = run_case(case, path)
        assert result.outcome in ("ok", "input_error"), (index, case.mutations, result)
        assert not result.warnings, (index, case.mutations, result.warnings)
        outcomes.append(result.outcome)
    assert "ok" in outcomes and "input_error" in outcomes


# ------------------------------------------------------------------ regressions and limits


def _osm(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(
        '<?xml version="1.0"?>\n' + body.replace("OSM", '<osm version="0.6">', 1), "utf-8"
    )
    return path


@pytest.mark.parametrize(
    "doctype",
    [
        '<!ENTITY a "aa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;">',
        '<!ENTITY ext SYSTEM "file:///etc/passwd">',
        '<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;',
    ],
)
def test_entities_are_refused_fast(tmp_path: Path, doctype: str) -> None:
    """libosmium refuses every entity declaration: no billion laughs, no external reads."""
    path = _osm(
        tmp_path,
        "ent.osm",
        f"<!DOCTYPE osm [{doctype}]>\nOSM<node id='1' lat='1' lon='1'>"
        "<tag k='name' v='x'/></node></osm>",
    )
    t0 = time.perf_counter()
    with pytest.raises(InputDataError, match=r"ent\.osm.*(entities|XML)"):
        read_osm(path)
    assert time.perf_counter() - t0 < 5


def test_deep_nesting_is_an_input_error(tmp_path: Path) -> None:
    path = _osm(tmp_path, "deep.osm", "OSM" + "<x>" * 100_000 + "</x>" * 100_000 + "</osm>")
    with pytest.raises(InputDataError, match=r"deep\.osm.*nested too deep"):
        read_osm(path)


def test_out_of_range_nodes_are_dropped_but_ways_count_them(tmp_path: Path) -> None:
    """lat/lon swapped (lat 121): no point is made; the way reports its missing nodes."""
    path = _osm(
        tmp_path,
        "swapped.osm",
        "OSM<node id='1' lat='121.4' lon='31.2'/><node id='2' lat='121.5' lon='31.2'/>"
        "<node id='3' lat='121.5' lon='31.3'><tag k='shop' v='x'/></node>"
        "<way id='9'><nd ref='1'/><nd ref='2'/><tag k='highway' v='footway'/></way></osm>",
    )
    result = read_osm(path)
    assert len(result.pois) == 0 and result.highways.n_pieces == 0
    assert result.stats.missing_node_refs == 2 and result.stats.ways_without_nodes == 1
    assert result.stats.invalid_locations == 1  # the tagged node: counted, not dropped silently


def test_tag_longer_than_libosmium_limit_is_an_input_error(tmp_path: Path) -> None:
    """OSM limits tags to 255 characters; libosmium refuses values over 1024 bytes."""
    path = _osm(
        tmp_path,
        "longtag.osm",
        f"OSM<node id='1' lat='1' lon='1'><tag k='name' v='{'x' * 2000}'/></node></osm>",
    )
    with pytest.raises(InputDataError, match=r"longtag\.osm.*too long"):
        read_osm(path)
