"""Fuzz shangquan's input readers, starting from real files.

Every reader must end, for any input, in a clean load or a documented
:class:`geo.errors.InputDataError` that names the file, within a time bound. This driver
builds inputs from REAL seeds, mutates them, runs each one in a worker process under a
per-input time limit, and classifies the outcome:

``ok``
    The reader returned and the result passed its sanity checks (finite, in-range
    coordinates; points inside the study area; counts that add up).
``input_error``
    An ``InputDataError`` whose message names the file, grouped by the kind of message.
``crash``
    Any other exception (traceback recorded), or the worker died (segfault, OOM kill).
``hang``
    The input took longer than ``--timeout`` seconds; the worker is killed and restarted.
``wrong``
    A silently wrong result: the reader returned, but a check failed (a NaN coordinate
    became a point, a truncated file loaded as a smaller extract, swapped coordinate
    columns loaded, an error message without the file name, ...).

Readers and seeds:

``osm``  (:func:`geo.osm.read_osm`)
    ``tests/data/*.osm``; the first 64 KB of the decompressed Kyoto and Shanghai XML,
    closed properly; a consistent excerpt of Kyoto (highways, buildings, shops,
    multipolygons and their nodes); ``helsinki_full.osm.pbf`` and a small PBF made from
    the Kyoto excerpt. Written as ``.osm``, ``.osm.gz``, ``.osm.bz2`` and ``.osm.pbf``.
``table``  (:func:`geo.table_import.read_point_table`)
    Rows of ``shanghai_brand_pois_bd09.csv``, written as CSV/TXT (UTF-8, BOM, GB18030,
    UTF-16; comma, tab, semicolon; LF, CRLF, CR), XLSX and GeoJSON.
``taxonomy``, ``rules``, ``catalogue``
    ``data/poi_taxonomy.toml`` (:func:`geo.features.load_taxonomy`, then the matcher runs
    on sample tags), ``data/life_circle_rules.toml`` (:func:`layers.rules.load_rules`) and
    ``data/places.toml`` plus a planner GeoJSON made from it
    (:func:`layers.catalogue.load_catalogue`, when that module exists).

Usage::

    python benchmarks/fuzz_readers.py                       # 1,000 per reader, about 1 minute
    python benchmarks/fuzz_readers.py --n 200 --seed 7 --json out.json
    python benchmarks/fuzz_readers.py --readers table --n 50 --workers 1
    python benchmarks/fuzz_readers.py --repro osm:123       # rerun one input in-process
    python benchmarks/fuzz_readers.py --atheris csv -- -runs=20000   # coverage-guided

Inputs are deterministic: input ``i`` of reader ``r`` depends only on ``--seed``, ``r`` and
``i``. Inputs that crash, hang or load wrongly are saved to ``--findings``. Exit status 0
when every input ended ok or as an input error, 1 otherwise.
"""

from __future__ import annotations

import argparse
import bz2
import contextlib
import csv
import gzip
import importlib
import io
import json
import logging
import math
import multiprocessing as mp
import os
import platform
import queue
import random
import re
import resource
import struct
import sys
import tempfile
import threading
import time
import tomllib
import traceback
import warnings
import zipfile
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
DEFAULT_FINDINGS = REPO / "benchmarks" / "_cache" / "fuzz_findings"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

READERS = ("osm", "table", "taxonomy", "rules", "catalogue")
OUTCOMES = ("ok", "input_error", "crash", "hang", "wrong")
#: Study area used for half of the table inputs (the catalogue's Shanghai box).
SHANGHAI_BBOX = (120.8, 30.6, 122.2, 31.95)
HEAD_BYTES = 64 * 1024

# ================================================================================ seeds


@dataclass
class Seeds:
    """The real files every input starts from (bytes, or parsed rows for the table)."""

    osm_xml: dict[str, bytes]
    osm_pbf: dict[str, bytes]
    table_header: list[str]
    table_rows: list[list[str]]
    toml: dict[str, bytes]
    catalogue_geojson: bytes


def _xml_head(gz_path: Path, n_bytes: int) -> bytes:
    """The first ``n_bytes`` of a decompressed Overpass XML, closed after the last whole element."""
    with gzip.open(gz_path, "rb") as f:
        head = f.read(n_bytes)
    starts = list(re.finditer(rb"\n  <(?:node|way|relation)\b", head))
    cut = starts[-1].start() if starts else len(head)
    return head[:cut] + b"\n</osm>\n"


_ELEMENT_START = re.compile(r"^  <(node|way|relation) id=\"(-?\d+)\"")
_ND_REF = re.compile(r"<nd ref=\"(-?\d+)\"")
_MEMBER = re.compile(r"<member type=\"(\w+)\" ref=\"(-?\d+)\"")
_TAG = re.compile(r"<tag k=\"([^\"]*)\" v=\"([^\"]*)\"")


def _elements(text: str) -> list[tuple[str, int, str]]:
    """Split an Overpass XML into its top-level elements: (kind, id, text)."""
    out: list[tuple[str, int, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = _ELEMENT_START.match(lines[i])
        if not m:
            i += 1
            continue
        kind, start = m[1], i
        if not lines[i].rstrip().endswith("/>"):
            while i < len(lines) and lines[i].strip() != f"</{kind}>":
                i += 1
        out.append((kind, int(m[2]), "\n".join(lines[start : i + 1])))
        i += 1
    return out


def _xml_subset(gz_path: Path, *, n_highways: int = 80, n_buildings: int = 30) -> bytes:
    """A consistent excerpt: some highways, buildings, shops, multipolygons and their nodes."""
    with gzip.open(gz_path, "rt", encoding="utf-8") as f:
        elements = _elements(f.read())
    by_id = {(k, i): t for k, i, t in elements}
    ways: dict[int, None] = {}
    relations: list[int] = []
    for kind, oid, text in elements:
        if kind != "relation" or len(relations) >= 4:
            continue
        tags = dict(_TAG.findall(text))
        members = [int(r) for t, r in _MEMBER.findall(text) if t == "way"]
        complete = all(("way", m) in by_id for m in members)
        if tags.get("type") == "multipolygon" and 0 < len(members) <= 10 and complete:
            relations.append(oid)
            ways.update(dict.fromkeys(members))
    quota = {"highway": n_highways, "building": n_buildings, "shop": 15, "amenity": 15}
    for kind, oid, text in elements:
        if kind != "way":
            continue
        keys = {k for k, _ in _TAG.findall(text)}
        for key in quota:
            if key in keys and quota[key] > 0:
                quota[key] -= 1
                ways[oid] = None
                break
    nodes = {int(r) for w in ways for r in _ND_REF.findall(by_id[("way", w)])}
    poi_nodes = 0
    for kind, oid, text in elements:
        if kind == "node" and poi_nodes < 40 and re.search(r"k=\"(shop|amenity)\"", text):
            nodes.add(oid)
            poi_nodes += 1
    keep = {("node", n) for n in nodes} | {("way", w) for w in ways}
    keep |= {("relation", r) for r in relations}
    body = "\n".join(t for k, i, t in elements if (k, i) in keep)
    head = '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="fuzz excerpt">\n'
    return (head + body + "\n</osm>\n").encode("utf-8")


def _xml_to_pbf(xml: bytes, workdir: Path) -> bytes:
    """Convert an XML extract to PBF with pyosmium (the seed for PBF mutations)."""
    import osmium

    src, dst = workdir / "seed.osm", workdir / "seed.osm.pbf"
    src.write_bytes(xml)
    dst.unlink(missing_ok=True)
    with osmium.SimpleWriter(str(dst)) as writer:
        for raw in osmium.FileProcessor(str(src)):
            obj: Any = raw  # pyosmium's union includes Changeset, which never occurs here
            if obj.is_node():
                writer.add_node(obj)
            elif obj.is_way():
                writer.add_way(obj)
            elif obj.is_relation():
                writer.add_relation(obj)
    return dst.read_bytes()


def _places_geojson(places_toml: bytes) -> bytes:
    """A planner GeoJSON FeatureCollection made from the anchored entries of places.toml."""
    data = tomllib.loads(places_toml.decode("utf-8"))
    features = []
    for entry in data.get("place", []):
        anchor = entry.get("anchor")
        if not anchor:
            continue
        props = {k: entry[k] for k in ("id", "name_zh", "name_en", "kind", "status", "source")}
        props["checked"] = str(entry["checked"])
        props["datum"] = entry.get("datum", "wgs84")
        features.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": {"type": "Point", "coordinates": anchor},
            }
        )
    doc = {"type": "FeatureCollection", "features": features[:8]}
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


def load_seeds(shared: Path = SHARED, *, full: bool = True) -> Seeds:
    """Load (and derive) every seed.

    Parameters
    ----------
    shared
        The ``shared/data`` folder with the real extracts and the POI table.
    full
        Also build the Kyoto excerpt and take the whole Helsinki PBF (a few seconds);
        False keeps only the committed fixtures and the 64 KB head excerpts (for tests).

    Returns
    -------
    Seeds
    """
    osm_dir = shared / "osm"
    xml: dict[str, bytes] = {
        "toy_walk": (REPO / "tests" / "data" / "toy_walk.osm").read_bytes(),
        "no_walkable": (REPO / "tests" / "data" / "no_walkable.osm").read_bytes(),
        "kyoto_head": _xml_head(osm_dir / "kyoto_full.osm.gz", HEAD_BYTES),
        "shanghai_head": _xml_head(osm_dir / "shanghai_center_roads.osm.gz", HEAD_BYTES),
    }
    if full:
        xml["kyoto_subset"] = _xml_subset(osm_dir / "kyoto_full.osm.gz")
    with tempfile.TemporaryDirectory(prefix="fuzz-seeds-") as tmp:
        pbf = {"toy_walk": _xml_to_pbf(xml["toy_walk"], Path(tmp))}
        if full:
            pbf["kyoto_subset"] = _xml_to_pbf(xml["kyoto_subset"], Path(tmp))
    if full:
        pbf["helsinki_full"] = (osm_dir / "helsinki_full.osm.pbf").read_bytes()
    with (shared / "poi" / "shanghai_brand_pois_bd09.csv").open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    places = (REPO / "data" / "places.toml").read_bytes()
    return Seeds(
        osm_xml=xml,
        osm_pbf=pbf,
        table_header=rows[0],
        table_rows=rows[1:],
        toml={
            "taxonomy": (REPO / "data" / "poi_taxonomy.toml").read_bytes(),
            "rules": (REPO / "data" / "life_circle_rules.toml").read_bytes(),
            "catalogue": places,
        },
        catalogue_geojson=_places_geojson(places),
    )


# ================================================================================ mutators

#: Byte strings that break parsers: markup, quotes, separators, encodings, numbers.
TOKENS: tuple[bytes, ...] = (
    b"<script>alert(1)</script>",
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\xe4\xb8",  # half a UTF-8 character
    b"\x81\x30",  # half a GB18030 four-byte character
    b"NaN",
    b"-inf",
    b"1e309",
    b"9" * 400,
    b'"',
    b"'",
    b"&amp;",
    b"&#0;",
    b"&#xD800;",
    b"]]>",
    b"<![CDATA[x]]>",
    b"<!--",
    b"\r",
    b"\n",
    b"\r\n",
    b"\t",
    b";",
    b",",
    b"=",
    b"[",
    b"{",
    b"}",
    "𠜎\u202e\u200b".encode(),
    b"%s%n",
    b"\\u0000",
    b"\\",
    b"#",
)
#: Coordinate-like values that must never become a point.
BAD_NUMBERS: tuple[str, ...] = (
    "NaN",
    "nan",
    "-nan",
    "inf",
    "-Infinity",
    "1e400",
    "-1e400",
    "9" * 400,
    "",
    "  ",
    "abc",
    "121.5°",
    "1,5",
    "121_5",
    "0x79",
    "None",
    "null",
    "1e5",
    "-181",
    "181",
    "--1",
    "1.2.3",
    "<script>alert(1)</script>",
)
MARKUP_TEXT: tuple[str, ...] = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "&lt;b&gt;&amp;",
    "乐购 \u202e右到左",
    "𠜎𠜱😀",
    "a\x00b",
    "\u200b",
    "x" * 5000,
    "=cmd|' /C calc'!A0",
    "line1\nline2",
    'quote " inside',
    "semi;colon,comma\ttab",
    "Robert'); DROP TABLE pois;--",
)

Mutation = Callable[[random.Random, bytes], bytes]


def _at(rng: random.Random, data: bytes) -> int:
    return rng.randrange(len(data) + 1)


def m_flip(rng: random.Random, data: bytes) -> bytes:
    """Flip 1-8 random bits."""
    if not data:
        return data
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(buf))
        buf[i] ^= 1 << rng.randrange(8)
    return bytes(buf)


def m_truncate(rng: random.Random, data: bytes) -> bytes:
    """Cut the file at a random offset."""
    return data[: rng.randrange(len(data))] if data else data


def m_insert(rng: random.Random, data: bytes) -> bytes:
    """Insert a break-everything token or random bytes at a random offset."""
    i = _at(rng, data)
    junk = rng.choice(TOKENS) if rng.random() < 0.7 else rng.randbytes(rng.randint(1, 64))
    return data[:i] + junk + data[i:]


def m_delete(rng: random.Random, data: bytes) -> bytes:
    """Delete a random range of bytes."""
    i = _at(rng, data)
    return data[:i] + data[i + rng.randint(1, 256) :]


def m_duplicate(rng: random.Random, data: bytes) -> bytes:
    """Duplicate a random range of bytes in place."""
    i = _at(rng, data)
    j = min(len(data), i + rng.randint(1, 512))
    return data[:j] + data[i:j] + data[j:]


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [data]


def m_lines(rng: random.Random, data: bytes) -> bytes:
    """Duplicate, delete or swap random lines."""
    lines = _lines(data)
    for _ in range(rng.randint(1, 4)):
        op, i = rng.randrange(3), rng.randrange(len(lines))
        if op == 0:
            lines.insert(i, lines[i])
        elif op == 1 and len(lines) > 1:
            del lines[i]
        else:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
    return b"".join(lines)


def m_long_line(rng: random.Random, data: bytes) -> bytes:
    """Insert a very long line (past csv's 128 KiB field limit)."""
    lines = _lines(data)
    unit = rng.choice([b"x", b"9", b"\xe4\xb9\x90", b",", b'"', b"a;"])
    lines.insert(rng.randrange(len(lines) + 1), unit * rng.randint(50_000, 300_000) + b"\n")
    return b"".join(lines)


def m_newlines(rng: random.Random, data: bytes) -> bytes:
    """Change line endings to CRLF or CR, or mix them."""
    style = rng.choice([b"\r\n", b"\r", b"mixed"])
    if style != b"mixed":
        return data.replace(b"\n", style)
    return b"".join(
        line.rstrip(b"\n") + rng.choice([b"\n", b"\r\n", b"\r"]) for line in _lines(data)
    )


def m_bom(rng: random.Random, data: bytes) -> bytes:
    """Prepend a byte-order mark (UTF-8, UTF-16 or UTF-32), possibly twice."""
    bom = rng.choice([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00"])
    return bom * rng.randint(1, 2) + data


def m_reencode(rng: random.Random, data: bytes) -> bytes:
    """Re-encode the text as UTF-16, GB18030, Big5, Latin-1 or Shift-JIS."""
    text = data.decode("utf-8", errors="replace")
    enc = rng.choice(["utf-16", "utf-16-le", "gb18030", "big5", "latin-1", "shift_jis"])
    return text.encode(enc, errors="replace")


def m_splice(rng: random.Random, data: bytes, other: bytes) -> bytes:
    """Join the head of this input to the tail of another seed."""
    return data[: _at(rng, data)] + other[_at(rng, other) :]


BYTE_MUTATIONS: dict[str, Mutation] = {
    "flip": m_flip,
    "truncate": m_truncate,
    "insert": m_insert,
    "delete": m_delete,
    "duplicate": m_duplicate,
    "lines": m_lines,
    "long_line": m_long_line,
    "newlines": m_newlines,
    "bom": m_bom,
    "reencode": m_reencode,
}


# --------------------------------------------------------------------------- OSM XML


def _xml_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


_ATTR = re.compile(rb'\b(lat|lon|id|ref|k|v|version|role|type)="([^"]*)"')
_OSM_NUMBERS = (
    *BAD_NUMBERS,
    "99999999999999999999",
    "-1",
    "0",
    "1.5",
    " 1",
    "-0",
    "180.0000001",
    "89.99999999999",
    "1e2",
    ".5",
    "-90",
    "180",
)


def x_attr_value(rng: random.Random, data: bytes) -> bytes:
    """Replace one attribute value (lat, lon, id, ref, k, v ...) with a hostile one."""
    hits = list(_ATTR.finditer(data))
    if not hits:
        return data
    m = rng.choice(hits)
    if m[1] in (b"k", b"v", b"role", b"type"):
        value = _xml_escape(rng.choice([*MARKUP_TEXT, "", "highway", "multipolygon", "outer"]))
    else:
        value = _xml_escape(rng.choice(_OSM_NUMBERS))
    return data[: m.start(2)] + value.encode("utf-8") + data[m.end(2) :]


def x_markup_tag(rng: random.Random, data: bytes) -> bytes:
    """Add a name/shop tag with markup, escaped (valid XML) or raw (invalid XML)."""
    ends = [m.start() for m in re.finditer(rb"</(?:node|way)>", data)]
    if not ends:
        return data
    text = rng.choice(MARKUP_TEXT)
    key = rng.choice(["name", "shop", "amenity", "name:zh", "brand", "", "k" * 300])
    value = _xml_escape(text) if rng.random() < 0.8 else text
    tag = f'    <tag k="{_xml_escape(key)}" v="{value}"/>\n'.encode(errors="surrogatepass")
    i = rng.choice(ends)
    return data[:i] + tag + data[i:]


def _after_decl(data: bytes) -> int:
    m = re.match(rb"<\?xml[^>]*\?>", data)
    return m.end() if m else 0


def x_entities(rng: random.Random, data: bytes) -> bytes:
    """Add a DOCTYPE: billion laughs, quadratic blow-up, external or parameter entities."""
    kind = rng.randrange(4)
    if kind == 0:
        decls = '<!ENTITY l0 "lol">' + "".join(
            f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
        )
        ref = "&l9;"
    elif kind == 1:
        decls, ref = f'<!ENTITY big "{"x" * 100_000}">', "&big;" * 200
    elif kind == 2:
        decls, ref = '<!ENTITY ext SYSTEM "file:///etc/passwd">', "&ext;"
    else:
        decls, ref = '<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;', "x"
    doctype = f"\n<!DOCTYPE osm [{decls}]>\n".encode()
    i = _after_decl(data)
    out = data[:i] + doctype + data[i:]
    hit = re.search(rb'<tag k="[^"]*" v="', out)
    if hit:
        out = out[: hit.end()] + ref.encode() + out[hit.end() :]
    return out


def x_deep(rng: random.Random, data: bytes) -> bytes:
    """Nest thousands of elements inside <osm> (or inside a node)."""
    depth = rng.choice([100, 10_000, 100_000])
    name = rng.choice([b"tag", b"node", b"x", b"osm"])
    block = (b"<" + name + b">") * depth + (b"</" + name + b">") * depth
    m = re.search(rb"<osm[^>]*>", data)
    i = m.end() if m else _at(rng, data)
    return data[:i] + block + data[i:]


def x_drop_close(rng: random.Random, data: bytes) -> bytes:
    """Remove one closing tag (</node>, </way>, </relation> or </osm>)."""
    hits = list(re.finditer(rb"</(?:node|way|relation|osm)>", data))
    if not hits:
        return data
    m = rng.choice(hits)
    return data[: m.start()] + data[m.end() :]


_TOP = re.compile(rb"^  <(node|way|relation) [^\n]*?(?:/>|>\n.*?\n  </\1>)$", re.M | re.S)


def x_dup_element(rng: random.Random, data: bytes) -> bytes:
    """Duplicate a top-level element (same id), sometimes at another place or position."""
    hits = list(_TOP.finditer(data))
    if not hits:
        return data
    m = rng.choice(hits)
    copy = m[0]
    if rng.random() < 0.5:
        copy = re.sub(rb'lat="[^"]*"', b'lat="%.7f"' % rng.uniform(-90, 90), copy)
    target = rng.choice(hits).end()
    return data[:target] + b"\n" + copy + data[target:]


def x_way_refs(rng: random.Random, data: bytes) -> bytes:
    """Break a way's node list: missing refs, one node many times, no nodes, closed loop."""
    ways = list(re.finditer(rb"<way [^>]*>(.*?)</way>", data, re.S))
    if not ways:
        return data
    m = rng.choice(ways)
    body = m[1]
    refs = re.findall(rb'<nd ref="[^"]*"/>', body)
    tags = b"".join(re.findall(rb"\s*<tag [^>]*/>", body))
    op = rng.randrange(5)
    if op == 0:
        new_refs = [b'<nd ref="%d"/>' % rng.randint(1, 2**62) for _ in refs]
    elif op == 1 and refs:
        new_refs = [refs[0]] * rng.choice([2, 1000, 20_000])
    elif op == 2:
        new_refs = []
    elif op == 3 and refs:
        new_refs = [*refs, refs[0]]
        tags += rng.choice([b'<tag k="building" v="yes"/>', b'<tag k="shop" v="mall"/>'])
    else:
        new_refs = refs[::-1] + refs
    new_body = b"\n    " + b"\n    ".join(new_refs) + tags + b"\n  "
    return data[: m.start(1)] + new_body + data[m.end(1) :]


def x_relation(rng: random.Random, data: bytes) -> bytes:
    """Add a multipolygon/boundary relation over random ways with random roles and tags."""
    way_ids = re.findall(rb'<way id="(-?\d+)"', data)
    node_ids = re.findall(rb'<node id="(-?\d+)"', data)
    members = []
    for _ in range(rng.randint(0, 6)):
        if way_ids and rng.random() < 0.8:
            ref, kind = rng.choice(way_ids), b"way"
        elif node_ids:
            ref, kind = rng.choice(node_ids), b"node"
        else:
            ref, kind = b"%d" % rng.randint(1, 10**9), b"way"
        role = rng.choice([b"outer", b"inner", b"", b"&lt;script&gt;", b"outer"])
        members.append(b'<member type="%s" ref="%s" role="%s"/>' % (kind, ref, role))
    tags = rng.choice(
        [
            b'<tag k="type" v="multipolygon"/><tag k="building" v="yes"/>',
            b'<tag k="type" v="multipolygon"/><tag k="shop" v="mall"/><tag k="name" v="M"/>',
            b'<tag k="type" v="boundary"/><tag k="boundary" v="administrative"/>'
            b'<tag k="admin_level" v="8"/>',
            b'<tag k="type" v="multipolygon"/><tag k="natural" v="water"/>',
            b'<tag k="type" v="route"/><tag k="amenity" v="school"/>',
        ]
    )
    rel = b'  <relation id="%d">\n    ' % rng.randint(1, 10**12)
    rel += b"\n    ".join(members) + tags + b"\n  </relation>\n"
    i = data.rfind(b"</osm>")
    i = i if i >= 0 else len(data)
    return data[:i] + rel + data[i:]


def x_bowtie(rng: random.Random, data: bytes) -> bytes:
    """Add nodes and a closed, self-intersecting (bow-tie) or degenerate tagged way."""
    base = 10**15 + rng.randint(0, 10**6)
    x0, y0 = rng.uniform(120, 122), rng.uniform(30, 32)
    shapes: list[list[tuple[float, float]]] = [
        [(0, 0), (1, 1), (1, 0), (0, 1)],  # bow-tie
        [(0, 0), (0, 0), (0, 0)],  # all the same point
        [(0, 0), (1, 0), (2, 0)],  # collinear
        [(0, 0), (1e-9, 0), (0, 1e-9)],  # tiny
    ]
    pts = rng.choice(shapes)
    nodes = b"".join(
        b'  <node id="%d" lat="%.9f" lon="%.9f"/>\n' % (base + k, y0 + dy * 1e-3, x0 + dx * 1e-3)
        for k, (dx, dy) in enumerate(pts)
    )
    refs = b"".join(b'<nd ref="%d"/>' % (base + k) for k in [*range(len(pts)), 0])
    tag = rng.choice([b"building", b"shop", b"landuse", b"natural", b"amenity"])
    way = b'  <way id="%d">%s<tag k="%s" v="water"/></way>\n' % (base, refs, tag)
    first = re.search(rb"\n  <(?:way|relation)\b", data)
    i = first.start() + 1 if first else max(data.rfind(b"</osm>"), 0)
    return data[:i] + nodes + data[i:].replace(b"</osm>", way + b"</osm>", 1)


def x_encoding_decl(rng: random.Random, data: bytes) -> bytes:
    """Declare another (or a bogus) encoding in the XML declaration."""
    enc = rng.choice([b"UTF-16", b"GBK", b"ISO-8859-1", b"bogus-8", b"", b"UTF-32"])
    decl = b'<?xml version="1.0" encoding="%s"?>' % enc
    return decl + data[_after_decl(data) :]


def x_swap_latlon(rng: random.Random, data: bytes) -> bytes:
    """Swap lat and lon values on every node (coordinates out of range for East Asia)."""
    return re.sub(rb'lat="([^"]*)" lon="([^"]*)"', rb'lat="\2" lon="\1"', data)


#: Mutations that keep the XML well-formed (mostly): they reach the loader's logic.
XML_MUTATIONS: dict[str, Mutation] = {
    "attr_value": x_attr_value,
    "markup_tag": x_markup_tag,
    "dup_element": x_dup_element,
    "way_refs": x_way_refs,
    "relation": x_relation,
    "bowtie": x_bowtie,
    "swap_latlon": x_swap_latlon,
}
#: Mutations that break the XML on purpose: they reach the parser's error paths.
XML_BREAKING: dict[str, Mutation] = {
    "entities": x_entities,
    "deep": x_deep,
    "drop_close": x_drop_close,
    "encoding_decl": x_encoding_decl,
}


# --------------------------------------------------------------------------- OSM PBF


def _varint(value: int) -> bytes:
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _read_varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def _pb_fields(buf: bytes) -> list[tuple[int, int, Any]]:
    """Decode a protobuf message into (field, wire type, value) triples (varint and bytes)."""
    out: list[tuple[int, int, Any]] = []
    i = 0
    while i < len(buf):
        key, i = _read_varint(buf, i)
        num, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, i = _read_varint(buf, i)
        elif wire == 2:
            n, i = _read_varint(buf, i)
            value, i = buf[i : i + n], i + n
        else:
            raise ValueError(f"wire type {wire}")
        out.append((num, wire, value))
    return out


def _pb_encode(fields: list[tuple[int, int, Any]]) -> bytes:
    out = bytearray()
    for num, wire, value in fields:
        out += _varint(num << 3 | wire)
        out += _varint(value) if wire == 0 else _varint(len(value)) + value
    return bytes(out)


@dataclass
class Blob:
    """One PBF file block: its BlobHeader fields and its Blob bytes."""

    header: list[tuple[int, int, Any]]
    data: bytes

    def encode(self, datasize: int | None = None) -> bytes:
        """The block as written in the file (length, BlobHeader, Blob)."""
        size = len(self.data) if datasize is None else datasize
        header = [(n, w, size if n == 3 else v) for n, w, v in self.header]
        hb = _pb_encode(header)
        return struct.pack(">I", len(hb)) + hb + self.data


def pbf_blobs(data: bytes) -> list[Blob]:
    """Split a PBF file into its blocks."""
    blobs, pos = [], 0
    while pos + 4 <= len(data):
        (hlen,) = struct.unpack(">I", data[pos : pos + 4])
        header = _pb_fields(data[pos + 4 : pos + 4 + hlen])
        size = next(v for n, _, v in header if n == 3)
        start = pos + 4 + hlen
        blobs.append(Blob(header, data[start : start + size]))
        pos = start + size
    return blobs


def pbf_boundaries(data: bytes) -> list[int]:
    """File offsets where a block ends (a cut there leaves a shorter, valid-looking file)."""
    ends, pos = [], 0
    for blob in pbf_blobs(data):
        pos += len(blob.encode())
        ends.append(pos)
    return ends


def p_header_len(rng: random.Random, data: bytes) -> bytes:
    """Corrupt one block's 4-byte BlobHeader length."""
    starts = [0, *pbf_boundaries(data)[:-1]]
    at = rng.choice(starts)
    (hlen,) = struct.unpack(">I", data[at : at + 4])
    new = rng.choice([0, 1, hlen - 1, hlen + 1, 64 * 1024 + 1, 0xFFFFFFFF, 0x7FFFFFFF])
    return data[:at] + struct.pack(">I", new & 0xFFFFFFFF) + data[at + 4 :]


def p_datasize(rng: random.Random, data: bytes) -> bytes:
    """Give one block a wrong Blob size in its header."""
    blobs = pbf_blobs(data)
    k = rng.randrange(len(blobs))
    size = len(blobs[k].data)
    new = rng.choice([0, 1, size - 1, size + 1, 33 * 1024 * 1024, 2**31 - 1, 2**40])
    return b"".join(b.encode(new if i == k else None) for i, b in enumerate(blobs))


def p_type(rng: random.Random, data: bytes) -> bytes:
    """Change a block's type string (OSMHeader/OSMData)."""
    blobs = pbf_blobs(data)
    blob = rng.choice(blobs)
    kind = rng.choice([b"OSMData", b"OSMHeader", b"OSMDatb", b"", b"x" * 100])
    blob.header = [(n, w, kind if n == 1 else v) for n, w, v in blob.header]
    return b"".join(b.encode() for b in blobs)


def p_blob_flip(rng: random.Random, data: bytes) -> bytes:
    """Flip bits inside one compressed block."""
    blobs = pbf_blobs(data)
    blob = rng.choice(blobs)
    blob.data = m_flip(rng, blob.data)
    return b"".join(b.encode() for b in blobs)


def p_raw_size(rng: random.Random, data: bytes) -> bytes:
    """Give one block a wrong uncompressed size."""
    blobs = pbf_blobs(data)
    blob = rng.choice(blobs)
    fields = _pb_fields(blob.data)
    sizes = [v for n, _, v in fields if n == 2]
    size = sizes[0] if sizes else 0
    new = rng.choice([0, 1, size - 1, size + 1, 32 * 1024 * 1024 + 1, 2**31 - 1])
    blob.data = _pb_encode([(n, w, new if n == 2 else v) for n, w, v in fields])
    return b"".join(b.encode() for b in blobs)


def p_recompress(rng: random.Random, data: bytes) -> bytes:
    """Mutate one block's decompressed protobuf, then recompress it with a correct size.

    This reaches libosmium's protobuf decoder with garbage that passes the zlib layer.
    """
    blobs = pbf_blobs(data)
    blob = rng.choice(blobs)
    fields = _pb_fields(blob.data)
    zdata = next((v for n, _, v in fields if n == 3), None)
    if zdata is None:
        return data
    raw = zlib.decompress(zdata)
    mutate = rng.choice([m_flip, m_truncate, m_insert, m_delete, m_duplicate])
    raw = mutate(rng, raw)
    blob.data = _pb_encode([(2, 0, len(raw)), (3, 2, zlib.compress(raw))])
    return b"".join(b.encode() for b in blobs)


def p_blocks(rng: random.Random, data: bytes) -> bytes:
    """Drop, duplicate or swap whole blocks, or put garbage between them."""
    blobs = [b.encode() for b in pbf_blobs(data)]
    op, i = rng.randrange(4), rng.randrange(len(blobs))
    if op == 0 and len(blobs) > 1:
        del blobs[i]
    elif op == 1:
        blobs.insert(i, blobs[i])
    elif op == 2:
        j = rng.randrange(len(blobs))
        blobs[i], blobs[j] = blobs[j], blobs[i]
    else:
        blobs.insert(i, rng.randbytes(rng.randint(1, 32)))
    return b"".join(blobs)


PBF_MUTATIONS: dict[str, Mutation] = {
    "header_len": p_header_len,
    "datasize": p_datasize,
    "type": p_type,
    "blob_flip": p_blob_flip,
    "raw_size": p_raw_size,
    "recompress": p_recompress,
    "blocks": p_blocks,
}


# --------------------------------------------------------------------------- TOML


_KEY_LINE = re.compile(rb"^(\s*)([A-Za-z0-9_\-.\"]+)(\s*=\s*)(.*)$", re.M)
_HEADER_LINE = re.compile(rb"^\[{1,2}([^\[\]\n]*)\]{1,2}", re.M)


def _toml_value(rng: random.Random) -> bytes:
    """A hostile TOML value."""
    depth = rng.choice([3, 50, 500, 5000, 50_000])
    pool = [
        b"inf",
        b"-inf",
        b"nan",
        b"-1",
        b"0",
        b"0.0",
        b"1e309",
        b"99999999999999999999999",
        b'""',
        b'" "',
        b"[]",
        b"{}",
        b'[1, "a"]',
        b"true",
        b"1979-05-27",
        b"1979-05-27T07:32:00Z",
        b"07:32:00",
        b'"<script>alert(1)</script>"',
        b'"\\u0000"',
        b'"' + b"x" * 100_000 + b'"',
        b'[""]',
        b'["*"]',
        b'["=x", "k~", "a=b=c"]',
        b'["(a+)+$", "((((", "\\\\"]',
        b'["shop=*"]',
        b'["t5", "t5"]',
        b"[" * depth + b"]" * depth,
        b"{a = " * depth + b"1" + b"}" * depth,
        b"0.85",
        b"1",
        b"1.5",
        b'"2026-02-30"',
        b"2026-11-24",
        b"[121.47, 31.23]",
        b"[[121.47, 31.23], [200, 100]]",
        b'["nan", "inf"]',
        b"[nan, inf]",
        b"[1e308, -1e308]",
        b'"../../../../etc/passwd"',
        b'"/dev/zero"',
        b'"sourced"',
        b'"planner-supplied"',
    ]
    return rng.choice(pool)


def t_value(rng: random.Random, data: bytes) -> bytes:
    """Replace the value of one single-line ``key = value`` with a hostile value."""
    hits = [
        m
        for m in _KEY_LINE.finditer(data)
        if not m[4].startswith((b'"""', b"'''")) and m[4].count(b"[") == m[4].count(b"]")
    ]
    if not hits:
        return data
    m = rng.choice(hits)
    return data[: m.start(4)] + _toml_value(rng) + data[m.end(4) :]


def t_key(rng: random.Random, data: bytes) -> bytes:
    """Rename, delete or duplicate one key."""
    hits = list(_KEY_LINE.finditer(data))
    if not hits:
        return data
    m = rng.choice(hits)
    op = rng.randrange(3)
    if op == 0:
        new = rng.choice([b"unknown_key", b"name_zh", b"tiers", b"status", b"id", b"x.y", b'""'])
        return data[: m.start(2)] + new + data[m.end(2) :]
    if op == 1:
        return data[: m.start()] + data[m.end() :]
    return data[: m.end()] + b"\n" + m[0] + data[m.end() :]


def t_header(rng: random.Random, data: bytes) -> bytes:
    """Change one table header: drop or add a segment, array-of-tables, rename."""
    hits = list(_HEADER_LINE.finditer(data))
    if not hits:
        return data
    m = rng.choice(hits)
    name = m[1]
    new = rng.choice(
        [
            b"[" + name.split(b".")[0] + b"]",
            b"[" + name + b".extra]",
            b"[[" + name + b"]]",
            b"[" + name.replace(b".", b"x", 1) + b"]",
            b"[" + name + b"]\n[" + name + b"]",
            b'["' + name + b'"]',
            b"[category.Bad-ID]",
            b"[tier.t5]",
            b"[place]",
        ]
    )
    return data[: m.start()] + new + data[m.end() :]


def t_top(rng: random.Random, data: bytes) -> bytes:
    """Put a top-level key of the wrong type before the first table."""
    key = rng.choice([b"meta", b"tier", b"category", b"area_type", b"place", b"extra"])
    value = rng.choice([b"1", b'"x"', b"[]", b"[1, 2]", b"{}", b"{a = 1}", b"true", b"[[1]]"])
    return key + b" = " + value + b"\n" + data


def t_many(rng: random.Random, data: bytes) -> bytes:
    """Copy one table many times under new names (a big file)."""
    hits = list(_HEADER_LINE.finditer(data))
    if not hits:
        return data
    k = rng.randrange(len(hits))
    start = hits[k].start()
    end = hits[k + 1].start() if k + 1 < len(hits) else len(data)
    block = data[start:end]
    name = hits[k][1]
    copies = []
    for n in range(rng.choice([10, 200, 1000])):
        copies.append(block.replace(name, name + b"_c%d" % n, 1))
    return data + b"\n" + b"".join(copies)


TOML_MUTATIONS: dict[str, Mutation] = {
    "value": t_value,
    "key": t_key,
    "header": t_header,
    "top": t_top,
    "many": t_many,
}


# --------------------------------------------------------------------------- tables


@dataclass
class TableModel:
    """A table before it is written: header, rows and what each row must become."""

    header: list[str]
    rows: list[list[str]]
    lon_at: int
    lat_at: int
    bad: set[int] = field(default_factory=set)  # row indices that must not load
    swapped: set[int] = field(default_factory=set)  # rows whose lon/lat are swapped
    notes: list[str] = field(default_factory=list)


def _table_model(rng: random.Random, seeds: Seeds) -> TableModel:
    k = rng.choice([1, 5, 20, 60, 200])
    start = rng.randrange(max(1, len(seeds.table_rows) - k))
    rows = [list(r) for r in seeds.table_rows[start : start + k]]
    header = list(seeds.table_header)
    return TableModel(header, rows, header.index("lng"), header.index("lat"))


def r_swap(rng: random.Random, t: TableModel) -> None:
    """Swap the lon and lat values (header unchanged) on some or all rows."""
    every = rng.random() < 0.5
    for i, row in enumerate(t.rows):
        if (every or rng.random() < 0.3) and max(t.lon_at, t.lat_at) < len(row):
            row[t.lon_at], row[t.lat_at] = row[t.lat_at], row[t.lon_at]
            t.swapped ^= {i}  # swapping twice restores the row
    t.notes.append("swap_all" if every else "swap_some")


def _set(row: list[str], at: int, value: str) -> None:
    """Set a cell, padding a row that lost fields (it stays bad: wrong width)."""
    row.extend([""] * (at + 1 - len(row)))
    row[at] = value


def r_bad_coord(rng: random.Random, t: TableModel) -> None:
    """Put NaN, inf, huge, empty or non-numeric text in coordinates."""
    for _ in range(rng.randint(1, 5)):
        i = rng.randrange(len(t.rows))
        at = rng.choice([t.lon_at, t.lat_at])
        _set(t.rows[i], at, rng.choice(BAD_NUMBERS))
        t.bad.add(i)
    t.notes.append("bad_coord")


def r_ok_coord(rng: random.Random, t: TableModel) -> None:
    """Rewrite coordinates in other valid notations (spaces, sign, exponent)."""
    for row in t.rows:
        for at in (t.lon_at, t.lat_at):
            v = float(row[at]) if at < len(row) and _is_float(row[at]) else None
            if v is None:
                continue
            row[at] = rng.choice(
                [f" {row[at]} ", f"+{row[at]}", f"{v:e}", f"{v:.12f}", row[at], _wide(row[at])]
            )
    t.notes.append("ok_coord")


def _wide(text: str) -> str:
    """The digits as full-width (Chinese IME) or Arabic-Indic digits: float() reads both."""
    base = 0xFF10 if len(text) % 2 else 0x0660
    return "".join(chr(base + int(c)) if c.isdigit() else c for c in text)


def _is_float(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def r_markup(rng: random.Random, t: TableModel) -> None:
    """Put markup, control characters, quotes, separators and huge text in names."""
    for _ in range(rng.randint(1, 5)):
        row = rng.choice(t.rows)
        at = rng.choice([i for i in range(len(t.header)) if i not in (t.lon_at, t.lat_at)])
        _set(row, at, rng.choice(MARKUP_TEXT))
    t.notes.append("markup")


def r_width(rng: random.Random, t: TableModel) -> None:
    """Give some rows an extra or a missing field."""
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(t.rows))
        if rng.random() < 0.5:
            t.rows[i].append("extra")
        elif t.rows[i]:
            del t.rows[i][-1]
    t.notes.append("width")  # which rows end up bad is decided per format (_width_bad)


def r_header(rng: random.Random, t: TableModel) -> None:
    """Rename coordinate headers (other known names, case, spaces), or break them."""
    names = {
        t.lon_at: ["经度", "LNG", " Longitude ", "x", "lon", "lng"],
        t.lat_at: ["纬度", "LAT", " latitude", "y", "lat"],
    }
    for at, choices in names.items():
        t.header[at] = rng.choice(choices)
    if rng.random() < 0.2:
        t.header[t.lat_at] = rng.choice(["", "lat2", "lng", "<script>"])
        t.notes.append("header_broken")
    t.notes.append("header")


def r_shuffle_columns(rng: random.Random, t: TableModel) -> None:
    """Permute the columns, header included."""
    order = list(range(len(t.header)))
    rng.shuffle(order)
    t.header = [t.header[i] for i in order]
    t.rows = [[r[i] for i in order if i < len(r)] for r in t.rows]
    t.lon_at, t.lat_at = order.index(t.lon_at), order.index(t.lat_at)
    t.notes.append("shuffle_columns")


def r_duplicate_rows(rng: random.Random, t: TableModel) -> None:
    """Repeat the rows (many points with the same coordinates)."""
    times = min(rng.choice([2, 10, 100]), max(1, 5000 // len(t.rows)))
    n = len(t.rows)
    t.rows = [list(r) for r in t.rows * times]
    t.bad = {i + k * n for k in range(times) for i in t.bad}
    t.swapped = {i + k * n for k in range(times) for i in t.swapped}
    t.notes.append("duplicate_rows")


ROW_MUTATIONS: dict[str, Callable[[random.Random, TableModel], None]] = {
    "swap": r_swap,
    "bad_coord": r_bad_coord,
    "ok_coord": r_ok_coord,
    "markup": r_markup,
    "width": r_width,
    "header": r_header,
    "shuffle_columns": r_shuffle_columns,
    "duplicate_rows": r_duplicate_rows,
}


def _width_bad(t: TableModel, fmt: str) -> set[int]:
    """Rows a wrong field count makes bad: any width in text, a lost coordinate elsewhere."""
    width = len(t.header)
    if fmt in ("csv", "txt"):
        return {
            i for i, r in enumerate(t.rows) if len(r) < width or any(f.strip() for f in r[width:])
        }
    return {i for i, r in enumerate(t.rows) if max(t.lon_at, t.lat_at) >= len(r)}


def write_csv(rng: random.Random, t: TableModel) -> tuple[bytes, str]:
    """Write the table as delimited text; return the bytes and a description."""
    delim = rng.choice([",", ",", "\t", ";"])
    newline = rng.choice(["\n", "\n", "\r\n", "\r"])
    enc = rng.choice(["utf-8", "utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
    buf = io.StringIO(newline="")
    # csv quotes a field only for the characters of its own line terminator: with "\r", a
    # name holding "\n" would go out bare and break the row (and the row numbers after it)
    quoting = csv.QUOTE_ALL if newline == "\r" else csv.QUOTE_MINIMAL
    writer = csv.writer(buf, delimiter=delim, lineterminator=newline, quoting=quoting)  # type: ignore[arg-type]
    writer.writerow(t.header)
    writer.writerows(t.rows)
    return buf.getvalue().encode(enc, errors="replace"), f"{enc}/{delim!r}/{newline!r}"


def write_xlsx(rng: random.Random, t: TableModel) -> bytes:
    """Write the table as an .xlsx workbook, coordinates as numbers or as text."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(t.header)
    as_number = rng.random() < 0.7
    for row in t.rows:
        cells: list[Any] = []
        for i, v in enumerate(row):
            if i in (t.lon_at, t.lat_at) and as_number and _is_float(v):
                cells.append(float(v))
            elif v == "":
                cells.append(None)
            else:
                cells.append(_xlsx_safe(v))
        ws.append(cells)
    if rng.random() < 0.2:
        ws.cell(row=rng.choice([5000, 1_048_576]), column=rng.choice([3, 50, 16384]), value="far")
    if rng.random() < 0.1:
        wb.create_sheet("second").append(["lng", "lat"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _xlsx_safe(text: str) -> str:
    """Drop the control characters openpyxl refuses to write."""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text)


def x_zip_member(rng: random.Random, data: bytes) -> bytes:
    """Mutate one XML member of an xlsx (the sheet, shared strings, workbook), or drop it."""
    src = zipfile.ZipFile(io.BytesIO(data))
    names = src.namelist()
    target = rng.choice([n for n in names if n.endswith(".xml")] or names)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in names:
            body = src.read(name)
            if name == target:
                op = rng.randrange(5)
                if op == 0:
                    continue  # drop the member
                if op == 1:
                    body = x_entities(rng, body)
                elif op == 2:
                    body = re.sub(
                        rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', body
                    )
                else:
                    body = rng.choice([m_flip, m_truncate, m_insert, m_delete])(rng, body)
            dst.writestr(name, body)
    return out.getvalue()


def write_geojson(rng: random.Random, t: TableModel) -> bytes:
    """Write the table as a GeoJSON FeatureCollection of Points."""
    features = []
    for row in t.rows:
        props = {h: (row[i] if i < len(row) else None) for i, h in enumerate(t.header)}
        props.pop(t.header[t.lon_at], None)
        props.pop(t.header[t.lat_at], None)
        coords = [_json_number(row, t.lon_at), _json_number(row, t.lat_at)]
        features.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": {"type": "Point", "coordinates": coords},
            }
        )
    doc: Any = {"type": "FeatureCollection", "features": features}
    return json.dumps(doc, ensure_ascii=rng.random() < 0.3, allow_nan=True).encode("utf-8")


def _json_number(row: list[str], at: int) -> Any:
    text = row[at] if at < len(row) else None
    if text is None:
        return None
    try:
        return float(text) if text.strip() else text
    except ValueError:
        return text


def g_feature(rng: random.Random, doc: Any, bad: set[int]) -> None:
    """Break one feature: geometry type, coordinates, properties."""
    feats = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(feats, list) or not feats:
        return
    i = rng.randrange(len(feats))
    f = feats[i]
    if not isinstance(f, dict) or not isinstance(f.get("geometry"), dict):
        return
    choices: list[Any] = [
        None,
        [],
        [121.4],
        ["121.47", "31.23"],
        [float("nan"), 31.2],
        [1e308 * 10, 31.2],
        [BIG, 31],
        [True, False],
        [[121.4, 31.2]],
        [121.4, 31.2, 5.0],
        {"lon": 121.4},
        "121.4,31.2",
        [-200, 95],
    ]
    op = rng.randrange(5)
    if op == 0:
        coords = rng.choice(choices)
        f["geometry"]["coordinates"] = coords
        if coords in (["121.47", "31.23"], [121.4, 31.2, 5.0]):
            bad.discard(i)  # valid again (text numbers and a height are accepted)
        else:
            bad.add(i)
    elif op == 1:
        f["geometry"] = rng.choice(
            [
                None,
                {},
                {"type": "LineString", "coordinates": [[1, 2], [3, 4]]},
                {"type": "point"},
                7,
            ]
        )
        bad.add(i)
    elif op == 2:
        f["properties"] = rng.choice(
            [
                None,
                [],
                "x",
                {"lon": "1", "row": 5, "": "empty", " ": 1},
                {"a": {"b": [1, {"c": None}]}},
            ]
        )
    elif op == 3:
        f["properties"] = {"deep": DEEP}
    else:
        feats[i] = rng.choice([None, [], "feature", 5])
        bad.add(i)


def g_document(rng: random.Random, doc: Any) -> Any:
    """Replace the document: wrong top-level type, no features, a lone Feature, deep nesting."""
    feats = doc.get("features", []) if isinstance(doc, dict) else []
    choices: list[Any] = [
        [],
        "FeatureCollection",
        None,
        {"type": "FeatureCollection"},
        {"type": "FeatureCollection", "features": {}},
        {"type": "FeatureCollection", "features": []},
        feats[0] if feats else {},
        {"type": "GeometryCollection", "geometries": []},
    ]
    return rng.choice(choices)


def _dumps_deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


#: A placeholder replaced, after ``json.dumps``, by a deeply nested array (json.dumps itself
#: would recurse too deep on such an object).
DEEP = "__deep_nesting__"
#: Likewise for an integer literal too long for Python's int() (over 4300 digits).
BIG = "__big_integer__"


def dumps_with_deep(rng: random.Random, doc: Any) -> bytes:
    """``json.dumps`` the document, then put deep nesting where :data:`DEEP` stands."""
    text = json.dumps(doc, ensure_ascii=False, allow_nan=True, default=str).encode("utf-8")
    depth = rng.choice([5, 500, 100_000])
    text = text.replace(f'"{BIG}"'.encode(), b"1" * 5000)
    return text.replace(f'"{DEEP}"'.encode(), b"[" * depth + b"1" + b"]" * depth)


# ================================================================================ cases


@dataclass
class Case:
    """One fuzz input: what to write, how it was made and what the reader must do."""

    reader: str
    index: int
    suffix: str
    data: bytes
    mutations: list[str]
    fmt: str
    expect_error: bool = False  # a detectable truncation: must not load
    known_limit: str | None = None  # e.g. a PBF cut at a block boundary (undetectable)
    bad_rows: list[int] = field(default_factory=list)  # spreadsheet rows that must not load
    swap_all: bool = False
    datum: str = "bd09"
    bbox: tuple[float, float, float, float] | None = None


def case_rng(seed: int, reader: str, index: int) -> random.Random:
    """The random generator of one input (independent of order and worker)."""
    return random.Random(f"{seed}:{reader}:{index}")


def make_case(reader: str, index: int, seeds: Seeds, seed: int = 0) -> Case:
    """Build input ``index`` of ``reader``.

    Parameters
    ----------
    reader
        One of :data:`READERS`.
    index
        The input number.
    seeds
        From :func:`load_seeds`.
    seed
        The run's seed.

    Returns
    -------
    Case
    """
    rng = case_rng(seed, reader, index)
    if reader == "osm":
        return _osm_case(rng, index, seeds)
    if reader == "table":
        return _table_case(rng, index, seeds)
    return _toml_case(rng, reader, index, seeds)


def _byte_mutations(rng: random.Random, data: bytes, names: list[str], k: int) -> bytes:
    for _ in range(k):
        name = rng.choice(list(BYTE_MUTATIONS))
        data = BYTE_MUTATIONS[name](rng, data)
        names.append(name)
    return data


def _osm_case(rng: random.Random, index: int, seeds: Seeds) -> Case:
    if rng.random() < 0.3:
        return _pbf_case(rng, index, seeds)
    seed_name = rng.choice(list(seeds.osm_xml))
    data = seeds.osm_xml[seed_name]
    names: list[str] = [f"seed={seed_name}"]
    expect_error = False
    roll = rng.random()
    if roll < 0.45:
        for _ in range(rng.choice([1, 1, 2, 3])):
            name = rng.choice(list(XML_MUTATIONS))
            data = XML_MUTATIONS[name](rng, data)
            names.append(name)
    elif roll < 0.55:
        name = rng.choice(list(XML_BREAKING))
        data = XML_BREAKING[name](rng, data)
        names.append(name)
    elif roll < 0.7:
        cut = rng.randrange(len(data))
        expect_error = cut <= data.rfind(b"</osm>")
        data = data[:cut]
        names.append("truncate_xml")
    elif roll < 0.8:
        other = seeds.osm_xml[rng.choice(list(seeds.osm_xml))]
        data = m_splice(rng, data, other)
        names.append("splice")
    else:
        data = _byte_mutations(rng, data, names, rng.choice([1, 1, 2]))
    fmt = rng.choice(["osm", "osm", "gz", "bz2"])
    if fmt == "gz":
        data = gzip.compress(data, compresslevel=1)
    elif fmt == "bz2":
        data = bz2.compress(data, compresslevel=1)
    if fmt != "osm" and rng.random() < 0.35:
        if rng.random() < 0.6:
            data = data[: rng.randrange(len(data))]
            expect_error = True
            names.append(f"truncate_{fmt}")
        else:
            data = m_flip(rng, data)
            names.append(f"flip_{fmt}")
    suffix = {"osm": rng.choice([".osm", ".osm", ".xml"]), "gz": ".osm.gz", "bz2": ".osm.bz2"}
    return Case("osm", index, suffix[fmt], data, names, fmt, expect_error=expect_error)


def _pbf_case(rng: random.Random, index: int, seeds: Seeds) -> Case:
    # the whole Helsinki PBF is slow to read (~0.6 s): use it for a quarter of PBF inputs
    names_all = list(seeds.osm_pbf)
    small = [n for n in names_all if n != "helsinki_full"] or names_all
    seed_name = rng.choice(names_all if rng.random() < 0.25 else small)
    data = seeds.osm_pbf[seed_name]
    names = [f"seed={seed_name}"]
    expect_error, known_limit = False, None
    roll = rng.random()
    if roll < 0.6:
        name = rng.choice(list(PBF_MUTATIONS))
        data = PBF_MUTATIONS[name](rng, data)
        names.append(name)
    elif roll < 0.8:
        ends = pbf_boundaries(data)
        # a file that ends exactly at a block boundary reads as complete: the format has no
        # end marker (1-3 bytes past one, a partial length prefix, is caught by read_osm)
        silent = set(ends)
        if rng.random() < 0.4 and len(ends) > 2:
            extra = rng.choice([0, 0, 0, 1, 2, 3])
            data = data[: rng.choice(ends[1:-1]) + extra]
            if extra:
                expect_error = True
            else:
                known_limit = "PBF cut at a block boundary: no end marker in the format"
            names.append("truncate_at_block")
        else:
            cut = rng.randrange(1, len(data))
            while cut in silent:
                cut -= 1
            data = data[:cut]
            expect_error = True
            names.append("truncate_mid_block")
    else:
        data = _byte_mutations(rng, data, names, 1)
    return Case(
        "osm",
        index,
        ".osm.pbf",
        data,
        names,
        "pbf",
        expect_error=expect_error,
        known_limit=known_limit,
    )


def _table_case(rng: random.Random, index: int, seeds: Seeds) -> Case:
    t = _table_model(rng, seeds)
    names: list[str] = []
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        name = rng.choice(list(ROW_MUTATIONS))
        ROW_MUTATIONS[name](rng, t)
        names.append(name)
    fmt = rng.choice(["csv", "csv", "csv", "txt", "xlsx", "geojson"])
    datum = rng.choice(["bd09", "bd09", "gcj02", "wgs84"])
    bbox = SHANGHAI_BBOX if rng.random() < 0.5 else None
    exact = True  # row numbers still match the model
    bad = t.bad | t.swapped | _width_bad(t, fmt)
    if fmt in ("csv", "txt"):
        data, how = write_csv(rng, t)
        names.append(f"write={how}")
        exact = not how.startswith("utf-16")
        first_row = 2
    elif fmt == "xlsx":
        data = write_xlsx(rng, t)
        first_row = 2
        if rng.random() < 0.3:
            data = x_zip_member(rng, data)
            names.append("zip_member")
            exact = False
    else:
        doc: Any = json.loads(write_geojson(rng, t))
        first_row = 1
        roll = rng.random()
        if roll < 0.4:
            for _ in range(rng.randint(1, 3)):
                g_feature(rng, doc, bad)
            names.append("feature")
        elif roll < 0.5:
            doc = g_document(rng, doc)
            names.append("document")
            exact = False
        data = dumps_with_deep(rng, doc)
        if rng.random() < 0.05:
            data = _dumps_deep(rng.choice([1000, 100_000]))
            names.append("deep_document")
    if rng.random() < 0.3:
        if fmt == "xlsx":
            data = rng.choice([m_flip, m_truncate, m_insert, m_delete])(rng, data)
            names.append("xlsx_bytes")
        else:
            data = _byte_mutations(rng, data, names, rng.choice([1, 1, 2]))
        exact = False
    suffix = {"csv": ".csv", "txt": ".txt", "xlsx": ".xlsx", "geojson": ".geojson"}[fmt]
    swap_all = len(t.swapped) == len(t.rows) and exact and "header_broken" not in t.notes
    return Case(
        "table",
        index,
        suffix,
        data,
        [*t.notes, *names],
        fmt,
        bad_rows=sorted(i + first_row for i in bad) if exact else [],
        swap_all=swap_all,
        datum=datum,
        bbox=bbox,
    )


def _toml_case(rng: random.Random, reader: str, index: int, seeds: Seeds) -> Case:
    data = seeds.toml[reader]
    suffix, fmt = ".toml", "toml"
    if reader == "catalogue" and rng.random() < 0.3:
        data, suffix, fmt = seeds.catalogue_geojson, ".geojson", "geojson"
    names: list[str] = []
    roll = rng.random()
    if fmt == "geojson":
        data = _geojson_catalogue_mutation(rng, data, names)
        if rng.random() < 0.4:
            data = _byte_mutations(rng, data, names, 1)
    elif roll < 0.7:
        for _ in range(rng.choice([1, 1, 2, 3])):
            name = rng.choice(list(TOML_MUTATIONS))
            data = TOML_MUTATIONS[name](rng, data)
            names.append(name)
    elif roll < 0.75:
        depth = rng.choice([1000, 100_000])
        data = b"x = " + b"[" * depth + b"]" * depth + b"\n" + data
        names.append("deep_array")
    else:
        data = _byte_mutations(rng, data, names, rng.choice([1, 1, 2]))
    return Case(reader, index, suffix, data, names, fmt)


def _geojson_catalogue_mutation(rng: random.Random, data: bytes, names: list[str]) -> bytes:
    doc = json.loads(data)
    feats = doc["features"]
    f = rng.choice(feats)
    op = rng.randrange(5)
    if op == 0:
        key = rng.choice(list(f["properties"]))
        f["properties"][key] = rng.choice(
            [None, 1, BIG, [], {}, "", "<script>alert(1)</script>", float("nan"), True]
        )
        names.append("property")
    elif op == 1:
        f["geometry"] = rng.choice(
            [
                None,
                {"type": "Point", "coordinates": [float("nan"), 31.2]},
                {"type": "Point", "coordinates": [200, 100]},
                {"type": "Polygon", "coordinates": [[[121, 31], [122, 31], [121, 31]]]},
                {"type": "Polygon", "coordinates": [[[121, 31], [122, 32], [122, 31], [121, 32]]]},
                {"type": "Point", "coordinates": []},
                {"type": "Point"},
                {"type": "Nope", "coordinates": [1, 2]},
                {"type": "Point", "coordinates": [BIG, 31]},
                {"type": "LineString", "coordinates": [[121.4, 31.2]]},
            ]
        )
        names.append("geometry")
    elif op == 2:
        del f["properties"][rng.choice(list(f["properties"]))]
        names.append("drop_property")
    elif op == 3:
        feats.append(dict(f))
        names.append("duplicate_feature")
    else:
        f["properties"]["note"] = DEEP
        names.append("deep_property")
    return dumps_with_deep(rng, doc)


# ================================================================================ running


@dataclass
class Result:
    """How one input ended."""

    outcome: str
    kind: str = ""
    detail: str = ""
    traceback: str = ""
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


_NUM_RE = re.compile(r"\d+")


def error_kind(message: str, path: Path) -> str:
    """Group an InputDataError message: drop the path, numbers and details in brackets."""
    text = message.replace(str(path), "").replace(path.name, "")
    text = text.lstrip(": ").split("\n")[0]
    text = re.split(r"\(|;|—| -- ", text)[0]
    text = _NUM_RE.sub("N", text).strip(" :,.")
    return text[:80] or "(empty message)"


def check_outcome(case: Case, path: Path, value: Any) -> str | None:
    """Sanity checks of a successful load; the reason it is wrong, or None."""
    if case.expect_error:
        return "a truncated file loaded without error"
    if case.reader == "osm":
        return _check_osm(value)
    if case.reader == "table":
        return _check_table(case, value)
    if case.reader == "rules":
        return _check_rules(value)
    if case.reader == "catalogue":
        return _check_catalogue(value)
    return None


def _finite_lonlat(lon: Any, lat: Any) -> bool:
    import numpy as np

    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    ok &= (lon >= -180) & (lon <= 180) & (lat >= -90) & (lat <= 90)
    return bool(ok.all())


def _check_osm(ex: Any) -> str | None:
    hw = ex.highways
    if not _finite_lonlat(hw.lon, hw.lat):
        return "a highway node has a NaN or out-of-range coordinate"
    if len(hw.offsets) != hw.n_pieces + 1 or (hw.n_pieces and hw.offsets[-1] != len(hw.node_id)):
        return "highway offsets do not match the nodes"
    if len(ex.pois) and not _finite_lonlat(ex.pois["lon"], ex.pois["lat"]):
        return "a POI has a NaN or out-of-range coordinate"
    if not all(math.isfinite(v) for v in ex.bbox):
        return "the extract's bbox is not finite"
    ex.streets  # noqa: B018 - building the street lines must work too
    return None


def _check_table(case: Case, table: Any) -> str | None:
    pts = table.points
    if len(pts) and not _finite_lonlat(pts["lon_wgs84"], pts["lat_wgs84"]):
        return "a loaded point has a NaN or out-of-range WGS84 coordinate"
    if pts.geometry.is_empty.any():
        return "a loaded point has an empty geometry"
    if case.bbox is not None and len(pts):
        lo0, la0, lo1, la1 = case.bbox
        inside = pts["lon_wgs84"].between(lo0, lo1) & pts["lat_wgs84"].between(la0, la1)
        if not inside.all():
            return "a point outside the study area was loaded"
    loaded = set(pts["row"].tolist())
    problems = [p.row for p in table.problems]
    if len(loaded) != len(pts) or len(set(problems)) != len(problems) or loaded & set(problems):
        return "a row is loaded twice or both loaded and reported"
    wrongly = loaded & set(case.bad_rows)
    if wrongly:
        return f"rows with bad coordinates were loaded: {sorted(wrongly)[:5]}"
    if case.swap_all and len(pts):
        return "a file with swapped lon/lat columns loaded points"
    return None


def _check_rules(rules: Any) -> str | None:
    values = [t.distance_m for t in rules.tiers.values()] + [
        t.minutes for t in rules.tiers.values()
    ]
    values += [a.t15_distance_m for a in rules.area_types.values()]
    values += [c.gap_threshold_m for c in rules.categories.values()]
    values.append(rules.walk_speed_m_per_min)
    if not all(math.isfinite(v) and v > 0 for v in values):
        return "a distance, time or speed is not a finite positive number"
    if not 0 < rules.target_share <= 1:
        return "target share outside (0, 1]"
    for c in rules.categories.values():
        if not c.tiers or any(t not in rules.tiers for t in c.tiers) or c.min_count < 1:
            return f"category {c.id} has no valid tiers or min_count"
    if not math.isfinite(rules.max_distance_m()):
        return "max_distance_m is not finite"
    return None


def _check_catalogue(cat: Any) -> str | None:
    for p in cat.places:
        if p.anchors and not _finite_lonlat([a[0] for a in p.anchors], [a[1] for a in p.anchors]):
            return f"place {p.id} has a NaN or out-of-range anchor"
    cat.to_frame()
    return None


#: Tags the taxonomy matcher is run on after a mutated taxonomy loads.
SAMPLE_TAGS: tuple[dict[str, Any], ...] = (
    {"shop": "supermarket", "name": "乐购超市"},
    {"amenity": "pharmacy", "name": "<script>alert(1)</script>"},
    {"shop": "bakery", "name": "x" * 5000, "name:en": "Bread (((("},
    {"amenity": "fast_food", "brand": "肯德基", "name": None},
    {"shop": "", "name": "𠜎\u202e"},
    {"name": "乐购数码", "shop": "electronics"},
    {},
)


def run_reader(case: Case, path: Path) -> Any:
    """Call the reader of ``case`` on ``path`` (and, for the taxonomy, the matcher)."""
    if case.reader == "osm":
        from geo.osm import read_osm

        return read_osm(path)
    if case.reader == "table":
        from geo.table_import import read_point_table

        return read_point_table(path, datum=case.datum, bbox=case.bbox)  # type: ignore[arg-type]
    if case.reader == "taxonomy":
        from geo.features import classify_tags, load_taxonomy

        tax = load_taxonomy(path)
        classify_tags(tax, SAMPLE_TAGS)
        return tax
    if case.reader == "rules":
        from layers.rules import load_rules

        return load_rules(path)
    if case.reader == "catalogue":
        from layers.catalogue import load_catalogue

        return load_catalogue([path], shipped=None)
    raise ValueError(f"unknown reader {case.reader!r}")


def run_case(case: Case, path: Path) -> Result:
    """Run one input in this process and classify how it ended (no time limit here)."""
    from geo.errors import InputDataError

    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = run_reader(case, path)
        except InputDataError as exc:
            msg = str(exc)
            res = Result("input_error", error_kind(msg, path), msg[:500])
            if path.name not in msg:
                res = Result("wrong", "error message does not name the file", msg[:500])
        except RecursionError as exc:  # kept apart: its traceback is thousands of frames
            res = Result("crash", "RecursionError", str(exc)[:300], _short_tb(exc))
        except Exception as exc:
            kind = f"{type(exc).__module__}.{type(exc).__name__}".removeprefix("builtins.")
            res = Result("crash", kind, str(exc)[:500], _short_tb(exc))
        else:
            try:
                problem = check_outcome(case, path, value)
            except Exception as exc:
                problem = f"checking the result raised {type(exc).__name__}: {exc}"
            res = Result("wrong", problem) if problem else Result("ok")
            if res.outcome == "ok" and case.known_limit:
                res.kind = case.known_limit
    res.seconds = time.perf_counter() - t0
    res.warnings = sorted({f"{w.category.__name__}: {str(w.message)[:120]}" for w in caught})
    return res


def _short_tb(exc: BaseException) -> str:
    lines = traceback.format_exception(exc)
    text = "".join([*lines[:3], "  ...\n", *lines[-12:]]) if len(lines) > 20 else "".join(lines)
    return text[-4000:]


# --------------------------------------------------------------------------- workers


def _worker_main(conn: Any, mem_mb: int) -> None:
    """A worker process: run the cases it is sent, one at a time, and send back results."""
    if mem_mb > 0:
        limit = mem_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    logging.basicConfig(level=logging.CRITICAL)
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        case, path = msg
        conn.send(asdict(run_case(case, Path(path))))


class Worker:
    """A worker process with a per-input time limit; killed and restarted on a hang."""

    def __init__(self, ctx: Any, mem_mb: int) -> None:
        self._ctx, self._mem_mb = ctx, mem_mb
        self._start()

    def _start(self) -> None:
        self.conn, child = self._ctx.Pipe()
        self.proc = self._ctx.Process(target=_worker_main, args=(child, self._mem_mb), daemon=True)
        self.proc.start()
        child.close()

    def restart(self) -> None:
        """Kill the worker and start a fresh one."""
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()
        self._start()

    def run(self, case: Case, path: Path, timeout: float) -> Result:
        """Run one input; a hang or a dead worker becomes a Result too."""
        t0 = time.perf_counter()
        self.conn.send((case, str(path)))
        try:
            if not self.conn.poll(timeout):
                self.restart()
                return Result("hang", f"no result within {timeout:g} s", seconds=timeout)
            return Result(**self.conn.recv())
        except (EOFError, OSError, ConnectionError):
            self.proc.join(5)
            code = self.proc.exitcode
            self.restart()
            return Result(
                "crash",
                f"worker died (exit code {code})",
                "segfault, abort or out-of-memory kill",
                seconds=time.perf_counter() - t0,
            )

    def stop(self) -> None:
        """Stop the worker."""
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()


# --------------------------------------------------------------------------- the run


@dataclass
class Tally:
    """Counts for one reader."""

    tried: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    error_kinds: Counter[str] = field(default_factory=Counter)
    crash_kinds: Counter[str] = field(default_factory=Counter)
    wrong_kinds: Counter[str] = field(default_factory=Counter)
    known_limits: Counter[str] = field(default_factory=Counter)
    by_format: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    by_mutation: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    warnings: Counter[str] = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)

    def add(self, case: Case, res: Result) -> None:
        """Count one result."""
        self.tried += 1
        self.outcomes[res.outcome] += 1
        if res.outcome == "input_error":
            self.error_kinds[res.kind] += 1
        elif res.outcome in ("crash", "hang"):
            self.crash_kinds[f"{res.outcome}: {res.kind}"] += 1
        elif res.outcome == "wrong":
            self.wrong_kinds[res.kind] += 1
        elif res.kind:
            self.known_limits[res.kind] += 1
        self.by_format[case.fmt][res.outcome] += 1
        for m in case.mutations:
            self.by_mutation[m.split("=")[0] if m.startswith("seed=") else m][res.outcome] += 1
        self.warnings.update(res.warnings)
        self.seconds.append(res.seconds)

    def to_json(self) -> dict[str, Any]:
        """The counts as plain JSON."""
        secs = sorted(self.seconds) or [0.0]
        return {
            "tried": self.tried,
            "outcomes": {o: self.outcomes.get(o, 0) for o in OUTCOMES},
            "input_error_kinds": dict(self.error_kinds.most_common()),
            "crash_kinds": dict(self.crash_kinds.most_common()),
            "wrong_kinds": dict(self.wrong_kinds.most_common()),
            "known_limits": dict(self.known_limits),
            "by_format": {k: dict(v) for k, v in sorted(self.by_format.items())},
            "by_mutation": {k: dict(v) for k, v in sorted(self.by_mutation.items())},
            "warnings": dict(self.warnings.most_common(20)),
            "seconds": {
                "total": round(sum(self.seconds), 2),
                "median": round(secs[len(secs) // 2], 3),
                "max": round(secs[-1], 3),
            },
        }


def available_readers() -> list[str]:
    """The readers that exist in this checkout (the catalogue may not yet)."""
    out = list(READERS)
    try:
        from layers.catalogue import load_catalogue  # noqa: F401
    except ImportError:
        out.remove("catalogue")
    return out


def fuzz(args: argparse.Namespace) -> dict[str, Any]:
    """Run the whole fuzz campaign and return the report."""
    readers = [r for r in args.readers.split(",") if r] if args.readers else available_readers()
    t0 = time.perf_counter()
    seeds = load_seeds(Path(args.shared))
    print(f"seeds loaded in {time.perf_counter() - t0:.1f} s", flush=True)
    tasks: queue.Queue[tuple[str, int] | None] = queue.Queue()
    for i in range(args.n):
        for r in readers:
            tasks.put((r, i))
    tallies = {r: Tally() for r in readers}
    findings: list[dict[str, Any]] = []
    generator_errors: list[str] = []
    lock = threading.Lock()
    findings_dir = Path(args.findings)
    ctx = mp.get_context("spawn")
    done = [0]
    total = args.n * len(readers)

    def loop(k: int) -> None:
        worker = Worker(ctx, args.mem_mb)
        with tempfile.TemporaryDirectory(prefix=f"fuzz-w{k}-") as tmp:
            while True:
                try:
                    task = tasks.get_nowait()
                except queue.Empty:
                    break
                if task is None:
                    break
                reader, index = task
                try:
                    case = make_case(reader, index, seeds, args.seed)
                except Exception as exc:  # a bug in this driver, not in a reader
                    print(f"  generator failed for {reader}:{index}: {exc!r}", flush=True)
                    with lock:
                        generator_errors.append(f"{reader}:{index}: {exc!r}")
                    continue
                path = Path(tmp) / f"{reader}_{index}{case.suffix}"
                path.write_bytes(case.data)
                res = worker.run(case, path, args.timeout)
                path.unlink(missing_ok=True)
                with lock:
                    tallies[reader].add(case, res)
                    done[0] += 1
                    if res.outcome in ("crash", "hang", "wrong"):
                        findings.append(_finding(case, res, findings_dir))
                        print(
                            f"  {res.outcome.upper()} {reader}:{index} {res.kind} "
                            f"[{', '.join(case.mutations)}]",
                            flush=True,
                        )
                    if done[0] % 250 == 0:
                        el = time.perf_counter() - t0
                        print(f"  {done[0]}/{total} inputs, {el:.0f} s", flush=True)
        worker.stop()

    threads = [threading.Thread(target=loop, args=(k,)) for k in range(args.workers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t0
    return {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": _machine(),
        "config": {
            "n_per_reader": args.n,
            "seed": args.seed,
            "timeout_s": args.timeout,
            "workers": args.workers,
            "mem_mb": args.mem_mb,
            "seeds": {
                "osm_xml": sorted(seeds.osm_xml),
                "osm_pbf": sorted(seeds.osm_pbf),
                "table_rows": len(seeds.table_rows),
                "toml": sorted(seeds.toml),
            },
        },
        "elapsed_s": round(elapsed, 1),
        "readers": {r: t.to_json() for r, t in tallies.items()},
        "findings": sorted(findings, key=lambda f: (f["reader"], f["index"])),
        "generator_errors": generator_errors,
    }


def _finding(case: Case, res: Result, findings_dir: Path) -> dict[str, Any]:
    findings_dir.mkdir(parents=True, exist_ok=True)
    saved = findings_dir / f"{case.reader}_{case.index}{case.suffix}"
    saved.write_bytes(case.data)
    return {
        "reader": case.reader,
        "index": case.index,
        "format": case.fmt,
        "mutations": case.mutations,
        "outcome": res.outcome,
        "kind": res.kind,
        "detail": res.detail,
        "traceback": res.traceback,
        "saved": str(saved),
    }


def _machine() -> dict[str, Any]:
    import osmium.version

    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "pyosmium": osmium.version.pyosmium_release,
        "libosmium": osmium.version.libosmium_version,
        "expat": __import__("pyexpat").EXPAT_VERSION,
    }


def print_report(report: dict[str, Any]) -> None:
    """Print the counts per reader and per outcome."""
    print(f"\n{'reader':<10} {'tried':>6} " + " ".join(f"{o:>11}" for o in OUTCOMES))
    for r, t in report["readers"].items():
        counts = " ".join(f"{t['outcomes'][o]:>11}" for o in OUTCOMES)
        print(f"{r:<10} {t['tried']:>6} {counts}")
    for r, t in report["readers"].items():
        print(f"\n{r}: input errors by kind")
        for kind, n in list(t["input_error_kinds"].items())[:12]:
            print(f"  {n:>6}  {kind}")
        for label in ("crash_kinds", "wrong_kinds", "known_limits"):
            for kind, n in t[label].items():
                print(f"  {n:>6}  {label.split('_')[0].upper()}: {kind}")
        s = t["seconds"]
        print(f"  time: {s['total']} s total, median {s['median']} s, max {s['max']} s")
    print(f"\n{report['elapsed_s']} s elapsed, {len(report['findings'])} findings")


# --------------------------------------------------------------------------- atheris


ATHERIS_TARGETS = {
    "osm-xml": ("osm", ".osm"),
    "osm-pbf": ("osm", ".osm.pbf"),
    "csv": ("table", ".csv"),
    "xlsx": ("table", ".xlsx"),
    "geojson": ("table", ".geojson"),
    "taxonomy": ("taxonomy", ".toml"),
    "rules": ("rules", ".toml"),
    "catalogue": ("catalogue", ".toml"),
}


def run_atheris(target: str, libfuzzer_args: list[str], shared: Path) -> None:
    """Coverage-guided fuzzing of one reader with atheris (``pip install atheris``).

    The corpus starts from the real seeds; any exception other than InputDataError is a
    crash that libFuzzer reports and saves. Pass libFuzzer options after ``--``, e.g.
    ``-runs=20000 -timeout=10 -rss_limit_mb=4096``.
    """
    import atheris

    reader, suffix = ATHERIS_TARGETS[target]
    seeds = load_seeds(shared, full=False)
    corpus = Path(tempfile.mkdtemp(prefix=f"atheris-{target}-"))
    for i in range(20):
        case = make_case(reader, i, seeds, 0)
        if case.suffix == suffix or reader in ("taxonomy", "rules"):
            (corpus / f"seed{i}").write_bytes(case.data)
    if target == "osm-xml":
        for name, data in seeds.osm_xml.items():
            (corpus / name).write_bytes(data)
    elif target == "osm-pbf":
        for name, data in seeds.osm_pbf.items():
            (corpus / name).write_bytes(data)
    elif reader in ("taxonomy", "rules", "catalogue"):
        (corpus / "real").write_bytes(seeds.toml[reader])
    with atheris.instrument_imports(include=["geo", "layers"]):
        for module in ("geo.osm", "geo.table_import", "geo.features", "layers.rules"):
            importlib.import_module(module)
        with contextlib.suppress(ImportError):
            importlib.import_module("layers.catalogue")
    from geo.errors import InputDataError

    work = Path(tempfile.mkdtemp(prefix="atheris-input-"))
    path = work / f"input{suffix}"
    logging.basicConfig(level=logging.CRITICAL)
    warnings.simplefilter("ignore")

    def one_input(data: bytes) -> None:
        path.write_bytes(data)
        with contextlib.suppress(InputDataError):
            run_reader(Case(reader, 0, suffix, data, [], target), path)

    atheris.Setup([sys.argv[0], str(corpus), *libfuzzer_args], one_input)
    atheris.Fuzz()


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    argv = sys.argv[1:] if argv is None else argv
    extra: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, extra = argv[:at], argv[at + 1 :]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="inputs per reader (default 1000)")
    ap.add_argument("--seed", type=int, default=0, help="run seed (default 0)")
    ap.add_argument("--json", type=Path, help="write the report as JSON here")
    ap.add_argument("--readers", default="", help=f"comma-separated subset of {READERS}")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per input (default 10)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="worker processes")
    ap.add_argument("--mem-mb", type=int, default=4096, help="address-space limit per worker")
    ap.add_argument("--shared", default=str(SHARED), help="the shared/data folder")
    ap.add_argument("--findings", default=str(DEFAULT_FINDINGS), help="save bad inputs here")
    ap.add_argument("--repro", help="READER:INDEX - rebuild one input, run it here, print all")
    ap.add_argument("--atheris", choices=sorted(ATHERIS_TARGETS), help="coverage-guided mode")
    args = ap.parse_args(argv)
    if args.atheris:
        run_atheris(args.atheris, extra, Path(args.shared))
        return 0
    if args.repro:
        reader, index = args.repro.split(":")
        case = make_case(reader, int(index), load_seeds(Path(args.shared)), args.seed)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"repro{case.suffix}"
            path.write_bytes(case.data)
            res = run_case(case, path)
        print(f"mutations: {case.mutations}\nbad_rows: {case.bad_rows}")
        print(json.dumps(asdict(res), indent=1, ensure_ascii=False))
        return 0 if res.outcome in ("ok", "input_error") else 1
    report = fuzz(args)
    print_report(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
        print(f"report written to {args.json}")
    bad = sum(
        t["outcomes"][o] for t in report["readers"].values() for o in ("crash", "hang", "wrong")
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
