"""Command line: ``shangquan info FILE`` (more commands join as the tool grows).

A user's mistake (bad file, bad option) prints one line naming the input and the
problem and exits with status 2 — never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from geo.datum import parse_datum
from geo.errors import ShangquanError
from shangquan import __version__
from shangquan.paths import DEFAULT_TAXONOMY
from shangquan.pipeline import Options, prepare, summary

log = logging.getLogger("shangquan")

EXIT_INPUT_ERROR = 2
EXIT_INTERRUPTED = 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="shangquan",
        description="商圈 shangquan — Shanghai commercial districts and 15-minute life circles",
    )
    p.add_argument("--version", action="version", version=f"shangquan {__version__}")
    p.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)"
    )
    sub = p.add_subparsers(dest="command", required=True)
    info = sub.add_parser(
        "info",
        help="summarise an OSM extract: walk network, POIs per category, snapping",
        description="Read an OSM extract (.osm.pbf/.osm/.osm.gz/.osm.bz2), build its walk "
        "network and report nodes, edges, km, islands, POIs per category and unsnapped points.",
    )
    info.add_argument("file", type=Path, help="OSM extract")
    info.add_argument(
        "--poi", type=Path, help="extra POI table (CSV/XLSX/GeoJSON) to classify and snap"
    )
    info.add_argument(
        "--datum", default="wgs84", help="datum of --poi: wgs84 | gcj02 | bd09 (default wgs84)"
    )
    info.add_argument("--taxonomy", type=Path, default=DEFAULT_TAXONOMY, help="POI taxonomy TOML")
    info.add_argument(
        "--max-snap-m", type=float, default=200.0, help="max snap distance in metres (default 200)"
    )
    info.add_argument(
        "--largest-only",
        action="store_true",
        help="keep only the largest connected component (default: also keep "
        "components with ≥10%% of the walk length as separate regions)",
    )
    info.add_argument("--json", action="store_true", help="print machine-readable JSON")
    info.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    build = sub.add_parser(
        "build",
        help="compute every layer and life-circle score of an extract into a build folder",
        description="Read the extract, place the census population on demand cells, compute "
        "network access to every POI category per tier, scores per district and gap polygons; "
        "write GeoPackage + GeoParquet + manifest.json into OUT/<build-id>/ atomically.",
    )
    build.add_argument("--osm", type=Path, required=True, help="OSM extract")
    build.add_argument("--poi", type=Path, help="extra POI table (CSV/XLSX/GeoJSON)")
    build.add_argument("--datum", default="wgs84", help="datum of --poi: wgs84 | gcj02 | bd09")
    build.add_argument(
        "--out", type=Path, default=Path("builds"), help="builds folder (default builds/)"
    )
    build.add_argument("--cell-m", type=float, default=100.0, help="demand cell size in metres")
    build.add_argument(
        "--places",
        type=Path,
        action="append",
        default=[],
        help="planner place file (TOML/GeoJSON) replacing or extending the "
        "shipped catalogue; repeatable",
    )
    build.add_argument("-q", "--quiet", action="store_true", help="no stage progress")
    report = sub.add_parser("report", help="print the per-district table of a build")
    report.add_argument(
        "build", type=Path, help="a build folder, or the builds folder (uses LATEST)"
    )
    report.add_argument(
        "--tier", default=None, help="tier to report (default: each category's first)"
    )
    report.add_argument("--lang", choices=["zh", "en"], default="zh")
    report.add_argument("--json", action="store_true", help="machine-readable output")
    site = sub.add_parser(
        "site",
        help="propose N new outlet sites for a category that cover the most uncovered people",
        description="Maximal covering location: keep every existing outlet and choose N "
        "candidate sites (street nodes near existing shops, or --candidates) that newly cover "
        "the most people within the category's gap threshold.",
    )
    site.add_argument("--osm", type=Path, required=True, help="OSM extract")
    site.add_argument("--poi", type=Path, help="extra POI table (CSV/XLSX/GeoJSON)")
    site.add_argument("--datum", default="wgs84", help="datum of --poi and --candidates")
    site.add_argument("--category", required=True, help="POI category id, e.g. breakfast")
    site.add_argument("-n", "--n-sites", type=int, default=5, help="number of new sites")
    site.add_argument("--candidates", type=Path, help="planner table of candidate sites")
    site.add_argument("--out", type=Path, help="write the sites as GeoJSON")
    fetch = sub.add_parser(
        "fetch",
        help="(online, optional) download an area from Overpass into a local .osm file",
        description="Geocode a place (osmnx/Nominatim) or take a bbox, download every OSM object "
        "in it from Overpass and save it, so later runs are reproducible offline.",
    )
    where = fetch.add_mutually_exclusive_group(required=True)
    where.add_argument("--place", help='place name, e.g. "黄浦区, 上海市"')
    where.add_argument("--bbox", help="west,south,east,north in WGS84 degrees")
    fetch.add_argument("--out", type=Path, required=True, help="output .osm file")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``shangquan`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command == "info":
            return _info(args)
        if args.command == "fetch":
            return _fetch(args)
        if args.command == "build":
            return _build(args)
        if args.command == "report":
            return _report(args)
        if args.command == "site":
            return _site(args)
    except ShangquanError as exc:
        _fail(str(exc))
        return EXIT_INPUT_ERROR
    except KeyboardInterrupt:
        print("shangquan: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def _info(args: argparse.Namespace) -> int:
    if args.max_snap_m <= 0:
        _fail("--max-snap-m must be a positive number of metres")
        return EXIT_INPUT_ERROR
    options = Options(
        taxonomy_path=args.taxonomy,
        max_snap_m=args.max_snap_m,
        region_min_share=1.0 if args.largest_only else Options().region_min_share,
        progress=not args.quiet and not args.json and sys.stderr.isatty(),
    )
    prep = prepare(args.file, options=options, poi_table=args.poi, datum=parse_datum(args.datum))
    doc = summary(prep)
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=2, default=str))
    else:
        print(format_info(doc))
    return 0


def _build(args: argparse.Namespace) -> int:
    from shangquan.build import BuildOptions, run_build

    if args.cell_m <= 0:
        _fail("--cell-m must be a positive number of metres")
        return EXIT_INPUT_ERROR
    say = (lambda _: None) if args.quiet else (lambda stage: print(f"… {stage}", file=sys.stderr))
    folder = run_build(
        args.osm,
        args.out,
        poi=args.poi,
        datum=parse_datum(args.datum),
        options=BuildOptions(cell_m=args.cell_m, place_files=tuple(args.places)),
        report=say,
    )
    print(f"build written: {folder}\nnext: shangquan report {args.out}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from shangquan.report import district_table, format_table

    table = district_table(args.build, tier=args.tier, lang=args.lang)
    if args.json:
        print(table.to_json(orient="records", force_ascii=False, indent=2))
    else:
        print(format_table(table))
    return 0


def _site(args: argparse.Namespace) -> int:
    from shangquan.build import compute
    from shangquan.siting_run import planner_candidates, propose_sites

    datum = parse_datum(args.datum)
    res = compute(args.osm, poi=args.poi, datum=datum)
    cand = planner_candidates(res, args.candidates, datum=datum) if args.candidates else None
    prop = propose_sites(res, category=args.category, n_sites=args.n_sites, candidates=cand)
    r = prop.result
    print(
        f"{args.category}: {prop.uncovered_before:,.0f} people beyond {prop.threshold_m:.0f} m; "
        f"{prop.n_candidates:,} candidate sites; {r.method} solution"
        f"{' (optimal)' if r.optimal else ''} adds {r.total_added:,.0f} people"
        + (f" (greedy: {prop.greedy_total:,.0f})" if prop.greedy_total is not None else "")
    )
    for row in prop.sites.itertuples():
        print(
            f"  {row.rank:>3}. {row.geometry.x:.6f}, {row.geometry.y:.6f}  "
            f"+{row.added_pop:,.0f} (cumulative {row.cum_added_pop:,.0f})  {row.area}"
        )
    if args.out:
        prop.sites.to_file(args.out, driver="GeoJSON")
        print(f"written: {args.out}")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from geo.overpass import download_extract, place_bbox

    if args.bbox:
        try:
            w, s, e, n = (float(v) for v in args.bbox.split(","))
        except ValueError:
            _fail("--bbox must be west,south,east,north")
            return EXIT_INPUT_ERROR
        bbox = (w, s, e, n)
    else:
        bbox = place_bbox(args.place)
    out = download_extract(args.out, bbox=bbox)
    print(f"saved {out}; next: shangquan info {out}")
    return 0


def _fail(message: str) -> None:
    """The one line a user sees for their mistake."""
    print(f"shangquan: error: {message}", file=sys.stderr)


def _width(text: str) -> int:
    """Terminal columns of ``text`` (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)


def _n(x: float) -> str:
    return f"{x:,.0f}"


def format_info(doc: dict[str, Any]) -> str:
    """Human-readable ``info`` report."""
    net, rd = doc["network"], doc["read"]
    b = doc["bbox_wgs84"]
    lines = [
        f"{doc['file']}  ({doc['size_bytes'] / 1e6:.1f} MB, read in {rd['seconds']:.1f} s)",
        f"  bbox (WGS84)    {b[0]:.5f}, {b[1]:.5f} — {b[2]:.5f}, {b[3]:.5f}",
        f"  metric CRS      {doc['crs']}",
        f"  walk network    {_n(net['nodes'])} nodes · {_n(net['edges'])} edges · "
        f"{net['length_km']:,.1f} km  ({_n(net['vertices'])} OSM nodes on "
        f"{_n(net['walkable_ways'])} walkable ways of {_n(rd['highway_ways'])} highways)",
        f"  components      {net['components']}: {net['regions']} kept as walk region(s); "
        f"{_n(net['island_nodes'])} island nodes dropped",
        f"  footways        {'yes' if doc['footways'] else 'none (roads only)'}",
        f"  water           {doc['water_features']} features"
        f"{'' if doc['water_checked_when_snapping'] else ' (none block snapping)'}",
        "  context         "
        + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in doc["context"].items()),
        "",
        f"  POIs per category (snap ≤ {doc['max_snap_m']:.0f} m)",
    ]
    has_table = "table" in doc
    head = f"    {'category':<16}{_pad('类别', 18)}{'OSM':>7}{'unsnapped':>11}"
    lines.append(head + (f"{'table':>8}{'unsnapped':>11}" if has_table else ""))
    for cid, c in doc["poi_categories"].items():
        row = f"    {cid:<16}{_pad(c['name_zh'], 18)}{c['osm']:>7}{c['osm_unsnapped']:>11}"
        if has_table:
            row += f"{c['table']:>8}{c['table_unsnapped']:>11}"
        lines.append(row)
    lines += _report_lines("OSM", doc["osm_pois"])
    if has_table:
        t = doc["table"]
        lines += ["", f"  table           {t['file']} ({t['encoding']}): {t['summary']}"]
        lines += [f"    row {p['row']}: {p['reason']}" for p in t["problems"][:10]]
        dups = doc.get("table_duplicates_dropped", [])
        if dups:
            shown = ", ".join(map(str, dups[:10])) + (" …" if len(dups) > 10 else "")
            lines.append(
                f"    {len(dups)} duplicated row(s) dropped (same name and position): {shown}"
            )
        if len(t["problems"]) > 10:
            lines.append(f"    … {len(t['problems']) - 10} more (see --json)")
        lines += _report_lines("table", t)
    lines += ["", "  datum           " + "; ".join(doc["datum_notes"])]
    lines += [f"  note            {n}" for n in doc["notes"]]
    return "\n".join(lines)


def _report_lines(label: str, r: dict[str, Any]) -> list[str]:
    snap = r["snap"]
    top = ", ".join(f"{k} {v}" for k, v in r["top_unmatched"][:5])
    return [
        f"  {label} candidates  {r['candidates']:,}: matched {r['matched']:,}, unmatched "
        f"{r['unmatched']:,}, excluded by name {r['excluded']:,}, ambiguous {r['ambiguous']:,}, "
        f"not daily-life {r['ignored']:,}",
        f"  {label} unsnapped   {snap['too_far'] + snap['across_water'] + snap['invalid']:,} "
        f"(too far {snap['too_far']}, across water {snap['across_water']}, "
        f"invalid {snap['invalid']})",
        *([f"  top unmatched   {top}"] if top else []),
    ]


if __name__ == "__main__":
    sys.exit(main())
