"""What the planner's map shows: a build's layers, or the data that ships with shangquan.

No streamlit here (testable on its own). :func:`load_build_data` and :func:`shipped_data`
return a frozen :class:`AppData`; the app caches it with ``st.cache_resource`` and shares it
between sessions, so nothing in ``app/`` may modify its frames: every function here and in
``app/view.py`` returns new frames.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import InputDataError
from geo.features import Taxonomy, load_taxonomy
from layers.districts import load_districts
from layers.rules import Rules, load_rules
from shangquan.build import LATEST, MANIFEST, PARTIAL_PREFIX, load_manifest, read_table
from shangquan.paths import DEFAULT_TAXONOMY

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
ENV_BUILDS = "SHANGQUAN_BUILDS"
DEFAULT_BUILDS = REPO / "builds"
SHIPPED_KEY = "shipped"

#: Planning layers a build may carry (fixed schema, see layers/places.py), in display order.
PLANNING_LAYERS = (
    "two_streets",
    "four_districts",
    "new_towns",
    "municipal_centres",
    "nightlife_circles",
    "night_markets",
    "themed_streets",
    "riverside_belt",
)


# ----------------------------------------------------------------------------- builds


@dataclass(frozen=True)
class BuildEntry:
    """One finished build found in a builds folder (manifest not yet verified)."""

    folder: Path
    build_id: str
    created_utc: str
    osm_name: str
    latest: bool


def builds_root(configured: str | None = None) -> Path:
    """The builds folder: ``configured``, else ``$SHANGQUAN_BUILDS``, else ``builds/``."""
    if configured:
        return Path(configured).expanduser()
    env = os.environ.get(ENV_BUILDS)
    return Path(env).expanduser() if env else DEFAULT_BUILDS


def list_builds(root: Path) -> list[BuildEntry]:
    """Finished builds under ``root``: the one ``LATEST`` names first, then newest first.

    ``root`` may also be a build folder itself.
    """
    if (root / MANIFEST).is_file():
        candidates, latest = [root], root.name
    elif root.is_dir():
        candidates = [
            p
            for p in root.iterdir()
            if p.is_dir() and not p.name.startswith(PARTIAL_PREFIX) and (p / MANIFEST).is_file()
        ]
        pointer = root / LATEST
        latest = pointer.read_text(encoding="utf-8").strip() if pointer.is_file() else ""
    else:
        return []
    out = []
    for p in candidates:
        try:
            doc = json.loads((p / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log.warning("skipping %s: unreadable manifest", p)
            continue
        osm = (doc.get("inputs") or {}).get("osm") or {}
        out.append(
            BuildEntry(
                folder=p,
                build_id=str(doc.get("build_id", p.name)),
                created_utc=str(doc.get("created_utc", "")),
                osm_name=Path(str(osm.get("path", "?"))).name,
                latest=p.name == latest,
            )
        )
    newest_first = sorted(out, key=lambda b: b.build_id, reverse=True)
    return [b for b in newest_first if b.latest] + [b for b in newest_first if not b.latest]


# ----------------------------------------------------------------------------- app data


@dataclass(frozen=True)
class AppData:
    """Everything the planner's map draws: one build, or the shipped default.

    Shared between sessions: never modify a frame in place.
    """

    key: str  # build id, or SHIPPED_KEY
    folder: Path | None
    manifest: Mapping[str, Any] | None
    districts: gpd.GeoDataFrame  # adcode, name_zh, name_en, population_2020 (+ indicators)
    area_scores: pd.DataFrame | None
    composite: pd.DataFrame | None
    cells: gpd.GeoDataFrame | None
    edges: gpd.GeoDataFrame | None
    pois: gpd.GeoDataFrame | None
    gaps: Mapping[str, gpd.GeoDataFrame]
    planning: Mapping[str, gpd.GeoDataFrame]
    planning_from_build: bool
    water: gpd.GeoDataFrame | None = None
    place_scores: pd.DataFrame | None = None  # like area_scores, area = planning place id
    cell_m: float = 100.0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def has_build(self) -> bool:
        """Whether coverage results are present."""
        return self.area_scores is not None

    @property
    def scored_categories(self) -> list[str]:
        """Categories of the build's scores, in rules order."""
        if self.area_scores is None:
            return []
        present = set(self.area_scores["category"])
        order = list(rules().categories)
        return [c for c in order if c in present] + sorted(present - set(order))

    def categories_with_data(self) -> list[str]:
        """Scored categories with at least one outlet (status ok somewhere)."""
        if self.area_scores is None:
            return []
        ok = set(self.area_scores.loc[self.area_scores["status"] == "ok", "category"])
        return [c for c in self.scored_categories if c in ok]

    def extent(self) -> tuple[float, float, float, float]:
        """West, south, east, north of what the map should open on."""
        for frame in (self.cells, self.edges):
            if frame is not None and len(frame):
                x0, y0, x1, y1 = frame.total_bounds
                return float(x0), float(y0), float(x1), float(y1)
        x0, y0, x1, y1 = self.districts.total_bounds
        return float(x0), float(y0), float(x1), float(y1)

    def district_name(self, adcode: object, lang: str) -> str:
        """The district's name in ``lang``; the raw key when it is not a district."""
        names = _district_names(self.districts, lang)
        return names.get(str(adcode), str(adcode))

    def study_districts(self) -> list[str]:
        """Adcodes of districts with people in the study area, most populous first."""
        if self.area_scores is None:
            return []
        pop = self.area_scores.groupby("area")["pop"].max().sort_values(ascending=False)
        return [str(a) for a in pop.index if pop[a] > 0]

    @cached_property
    def _place_index(self) -> dict[str, tuple[str, str, str]]:
        """place id → (layer, name_zh, name_en), over every planning layer."""
        out: dict[str, tuple[str, str, str]] = {}
        for layer, frame in self.planning.items():
            for pid, zh, en in zip(
                frame["id"].astype(str),
                frame["name_zh"].astype(str),
                frame["name_en"].astype(str),
                strict=True,
            ):
                out.setdefault(pid, (layer, zh, en))
        return out

    @cached_property
    def _scored_places(self) -> list[tuple[str, str]]:
        if self.place_scores is None or self.place_scores.empty:
            return []
        scored = set(self.place_scores["area"].astype(str))
        return [(pid, v[0]) for pid, v in self._place_index.items() if pid in scored]

    def scored_places(self) -> list[tuple[str, str]]:
        """(place id, planning layer) of places with scores, in layer order."""
        return list(self._scored_places)

    def place_name(self, place_id: str, lang: str) -> str:
        """A planning place's name in ``lang``."""
        hit = self._place_index.get(place_id)
        if hit is None:
            return place_id
        return hit[1] if lang == "zh" else hit[2]

    def input_names(self) -> dict[str, str]:
        """File names of the build's inputs (osm, poi_table)."""
        inputs = (self.manifest or {}).get("inputs") or {}
        return {
            k: Path(str(v["path"])).name
            for k, v in inputs.items()
            if isinstance(v, Mapping) and v.get("path")
        }


def _district_names(districts: gpd.GeoDataFrame, lang: str) -> dict[str, str]:
    col = "name_zh" if lang == "zh" else "name_en"
    return dict(zip(districts["adcode"].astype(str), districts[col].astype(str), strict=True))


@cache
def rules() -> Rules:
    """The shipped life-circle rules (tier names and distances, per-category tiers)."""
    return load_rules()


@cache
def taxonomy() -> Taxonomy:
    """The shipped POI taxonomy (category names in both languages)."""
    return load_taxonomy(DEFAULT_TAXONOMY)


def category_label(cat: str, lang: str) -> str:
    """A category's name in ``lang`` (its id when the taxonomy does not know it)."""
    try:
        return taxonomy().category(cat).label(lang)
    except InputDataError:
        return cat


def tier_label(tier: str, lang: str) -> str:
    """A tier's name in ``lang``."""
    t = rules().tiers.get(tier)
    return t.label(lang) if t else tier


def tier_distance_m(tier: str) -> float:
    """A tier's walking distance."""
    return rules().distance_m(tier)


def category_tiers(cat: str) -> list[str]:
    """The tiers a category is scored against (all tiers when the rules do not know it)."""
    rule = rules().categories.get(cat)
    return list(rule.tiers) if rule else list(rules().tiers)


def gap_threshold_m(cat: str) -> float:
    """The distance beyond which a cell is a gap for ``cat``."""
    rule = rules().categories.get(cat)
    return rule.gap_threshold_m if rule else max(t.distance_m for t in rules().tiers.values())


def target_share(data: AppData | None = None) -> float:
    """The coverage target (85 %), from the build's manifest when it records one."""
    params = ((data.manifest or {}).get("parameters") or {}) if data else {}
    return float(params.get("target_share", rules().target_share))


# ----------------------------------------------------------------------------- loading


def load_build_data(path: str | Path) -> AppData:
    """Read and verify one build (``path`` is a build folder or a builds folder)."""
    folder, manifest = load_manifest(path)
    parquet = folder / "parquet"
    names = {p.stem for p in parquet.glob("*.parquet")}

    def opt(name: str) -> Any:
        return read_table(folder, name) if name in names else None

    districts = _normalise_districts(read_table(folder, "districts"))
    gaps = {
        n[len("gaps_") :]: read_table(folder, n) for n in sorted(names) if n.startswith("gaps_")
    }
    planning = {n: read_table(folder, n) for n in PLANNING_LAYERS if n in names}
    from_build = bool(planning)
    planning = {n: f for n, f in planning.items() if len(f)}
    if not planning:
        planning = dict(shipped_planning_layers())
    return AppData(
        key=str(manifest.get("build_id", folder.name)),
        folder=folder,
        manifest=MappingProxyType(dict(manifest)),
        districts=districts,
        area_scores=opt("area_scores"),
        place_scores=opt("place_scores"),
        composite=opt("composite"),
        cells=opt("demand_cells"),
        edges=opt("network_edges"),
        pois=opt("pois"),
        gaps=MappingProxyType(gaps),
        planning=MappingProxyType(planning),
        planning_from_build=from_build,
        water=opt("water"),
        cell_m=float((manifest.get("parameters") or {}).get("cell_m", 100.0)),
        notes=tuple(manifest.get("notes") or ()),
    )


def shipped_data() -> AppData:
    """The default with no build: districts with census population, and the place catalogue."""
    return AppData(
        key=SHIPPED_KEY,
        folder=None,
        manifest=None,
        districts=_normalise_districts(load_districts()),
        area_scores=None,
        composite=None,
        cells=None,
        edges=None,
        pois=None,
        gaps=MappingProxyType({}),
        planning=MappingProxyType(dict(shipped_planning_layers())),
        planning_from_build=False,
    )


@cache
def shipped_planning_layers() -> Mapping[str, gpd.GeoDataFrame]:
    """Planning layers drawn from the shipped catalogue (anchor areas; no OSM streets)."""
    from layers.catalogue import load_catalogue
    from layers.places import planning_layers

    try:
        layers = planning_layers(load_catalogue())
    except InputDataError as exc:  # a broken catalogue must not take the map down
        log.warning("place catalogue not drawn: %s", exc)
        return MappingProxyType({})
    return MappingProxyType({k: v for k, v in layers.items() if len(v)})


def _normalise_districts(d: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One ``note`` column (a merge may leave ``note_x``/``note_y``), adcode as text."""
    out = d.copy()
    if "note" not in out.columns:
        parts = [c for c in ("note_x", "note_y") if c in out.columns]
        if parts:
            joined = (
                out[parts]
                .astype(object)
                .apply(lambda r: "; ".join(str(v) for v in r if isinstance(v, str) and v), axis=1)
            )
            out["note"] = joined.where(joined != "", None)
    out["adcode"] = out["adcode"].astype(str)
    return out


# ----------------------------------------------------------------------------- scorecards


def area_table(area_scores: pd.DataFrame, area: str | None) -> pd.DataFrame:
    """Rows category × tier for one area, or summed over the study area (``area=None``).

    Columns: category, tier, pop, pop_covered, pop_uncovered, share, status. A category
    without data keeps NaN shares and status ``no_data`` (never 0 %).
    """
    cols = ["category", "tier", "pop", "pop_covered", "pop_uncovered", "share", "status"]
    if area is not None:
        return area_scores.loc[area_scores["area"].astype(str) == str(area), cols].reset_index(
            drop=True
        )
    g = area_scores.groupby(["category", "tier"], sort=False)
    out = g.agg(
        pop=("pop", "sum"),
        pop_covered=("pop_covered", lambda s: s.sum(min_count=1)),
        status=("status", "first"),
    ).reset_index()
    no_data = out["status"] == "no_data"
    out.loc[no_data, "pop_covered"] = np.nan
    out["pop_uncovered"] = out["pop"] - out["pop_covered"]
    out["share"] = out["pop_covered"] / out["pop"].where(out["pop"] > 0)
    return out[cols]


def ordered(table: pd.DataFrame) -> pd.DataFrame:
    """A scorecard sorted by the rules' category order, then tier distance."""
    cat_order = {c: i for i, c in enumerate(rules().categories)}
    tier_order = {t: rules().tiers[t].distance_m for t in rules().tiers}
    key = table["category"].map(cat_order).fillna(99) * 1e6 + table["tier"].map(tier_order).fillna(
        0
    )
    return table.assign(_k=key).sort_values("_k", kind="stable").drop(columns="_k")


def district_shares(area_scores: pd.DataFrame, category: str, tier: str) -> pd.Series:
    """Share covered per area (index) for one category and tier; NaN for no data."""
    sel = area_scores[(area_scores["category"] == category) & (area_scores["tier"] == tier)]
    return sel.set_index(sel["area"].astype(str))["share"]


def study_share(area_scores: pd.DataFrame, category: str, tier: str) -> float:
    """Share covered over the whole study area (NaN when the category has no data)."""
    tab = area_table(area_scores, None)
    row = tab[(tab["category"] == category) & (tab["tier"] == tier)]
    return float(row["share"].iloc[0]) if len(row) else float("nan")


def pop_weighted_score(data: AppData) -> float:
    """Composite score over the study area, each district weighted by its people."""
    if data.composite is None or data.area_scores is None or data.composite.empty:
        return float("nan")
    pop = data.area_scores.groupby(data.area_scores["area"].astype(str))["pop"].max()
    comp = data.composite.assign(area=data.composite["area"].astype(str)).dropna(subset=["score"])
    w = comp["area"].map(pop).fillna(0.0)
    return float((comp["score"] * w).sum() / w.sum()) if w.sum() > 0 else float("nan")


def outlets_of(pois: gpd.GeoDataFrame | None, category: str) -> gpd.GeoDataFrame:
    """POIs of one category (``categories`` is ``;``-joined)."""
    if pois is None or pois.empty:
        return gpd.GeoDataFrame({"name": []}, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    cats = pois["categories"].fillna("").astype(str)
    hit = cats.str.split(";").apply(lambda xs: category in xs)
    return pois[hit.to_numpy()]
