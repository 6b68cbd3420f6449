"""Life-circle rules: tiers, category rules, area-type overrides (data/life_circle_rules.toml).

A category is scored against each tier it lists, separately (GB 50180 tiers are not
inclusive). Its ``gap_threshold_m`` defines a blind spot (盲区): demand farther than this
from every outlet (e.g. wet market 500 m; breakfast 500 m as a named assumption).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from geo.errors import InputDataError
from geo.tomlfile import raise_problems, read_toml
from layers.data_dir import DATA_DIR

DEFAULT_RULES = DATA_DIR / "life_circle_rules.toml"
STATUSES = frozenset({"sourced", "secondary", "assumption", "unverified", "planner-supplied"})


@dataclass(frozen=True)
class Tier:
    """One life-circle tier (e.g. 15 minutes, 1000 m)."""

    id: str
    name_zh: str
    name_en: str
    minutes: float
    distance_m: float
    status: str
    source: str

    def label(self, lang: str = "zh") -> str:
        """Display name."""
        return self.name_zh if lang == "zh" else self.name_en


@dataclass(frozen=True)
class CategoryRule:
    """How one POI category is scored."""

    id: str
    tiers: tuple[str, ...]
    gap_threshold_m: float
    threshold_status: str
    threshold_source: str
    min_count: int
    status: str
    source: str


@dataclass(frozen=True)
class AreaType:
    """An area type whose 15-minute distance differs (new towns, new market towns)."""

    id: str
    name_zh: str
    name_en: str
    t15_distance_m: float
    status: str
    source: str


@dataclass(frozen=True)
class Rules:
    """All life-circle rules, validated."""

    tiers: dict[str, Tier]
    categories: dict[str, CategoryRule]
    area_types: dict[str, AreaType]
    walk_speed_m_per_min: float
    target_share: float
    source: str

    def distance_m(self, tier: str, *, area_type: str | None = None) -> float:
        """Distance of ``tier``, with the area type's 15-minute override applied."""
        if tier == "t15" and area_type is not None and area_type in self.area_types:
            return self.area_types[area_type].t15_distance_m
        return self.tiers[tier].distance_m

    def max_distance_m(self) -> float:
        """The largest distance any rule needs (the search cutoff)."""
        dists = [t.distance_m for t in self.tiers.values()]
        dists += [a.t15_distance_m for a in self.area_types.values()]
        dists += [c.gap_threshold_m for c in self.categories.values()]
        return max(dists)

    def with_speed(self, walk_speed_m_per_min: float) -> Rules:
        """Rules whose tier distances are ``minutes × speed`` (a time-based reading)."""
        if not walk_speed_m_per_min > 0:
            msg = f"walking speed must be positive, got {walk_speed_m_per_min} m/min"
            raise InputDataError(msg)
        tiers = {
            k: replace(t, distance_m=t.minutes * walk_speed_m_per_min)
            for k, t in self.tiers.items()
        }
        return replace(self, tiers=tiers, walk_speed_m_per_min=walk_speed_m_per_min)


def load_rules(path: str | Path = DEFAULT_RULES) -> Rules:
    """Load and validate a rules file, listing every problem at once."""
    p = Path(path)
    data = read_toml(p, what="rules")
    problems: list[str] = []
    rules = _build(data, str(p), problems)
    raise_problems(p, problems, title="the life-circle rules")
    assert rules is not None
    return rules


def _num(raw: dict[str, Any], key: str, where: str, problems: list[str]) -> float:
    val = raw.get(key)
    if (
        isinstance(val, bool)
        or not isinstance(val, int | float)
        or not val > 0
        or not math.isfinite(val)  # inf (TOML allows it) is no distance
    ):
        problems.append(f"{where}.{key}: must be a positive number, got {val!r}")
        return 0.0
    return float(val)


def _status(raw: dict[str, Any], key: str, where: str, problems: list[str]) -> str:
    val = raw.get(key)
    if not isinstance(val, str) or val not in STATUSES:  # a list or table is unhashable
        problems.append(
            f"{where}.{key}: unknown status {val!r} (use {', '.join(sorted(STATUSES))})"
        )
        return ""
    return str(val)


def _tables(data: dict[str, Any], key: str, problems: list[str]) -> dict[str, dict[str, Any]]:
    """The sub-tables of ``[key.*]``; a problem for ``key`` or an entry that is not a table."""
    raw = data.get(key, {})
    if not isinstance(raw, dict):
        problems.append(f"{key}: must be a table of tables ([{key}.<id>]), got {raw!r}")
        return {}
    out = {}
    for k, v in raw.items():
        if isinstance(v, dict):
            out[k] = v
        else:
            problems.append(f"{key}.{k}: must be a table ([{key}.{k}]), got {v!r}")
    return out


def _build(data: dict[str, Any], source: str, problems: list[str]) -> Rules | None:
    meta: Any = data.get("meta", {})
    if not isinstance(meta, dict):
        problems.append(f"meta: must be a table ([meta]), got {meta!r}")
        meta = {}
    checked = meta.get("checked")
    if not isinstance(checked, dt.date):
        problems.append("meta.checked: must be a date such as 2026-11-24")
    speed = _num(meta, "walk_speed_m_per_min", "meta", problems)
    target = meta.get("target_share")
    if not isinstance(target, float) or not 0 < target <= 1:
        problems.append(f"meta.target_share: must be a share in (0, 1], got {target!r}")
    tiers = {k: _tier(k, v, problems) for k, v in _tables(data, "tier", problems).items()}
    if not tiers:
        problems.append("[tier.*]: no tiers defined")
    cats = {
        k: _category(k, v, tiers, problems) for k, v in _tables(data, "category", problems).items()
    }
    areas = {k: _area(k, v, problems) for k, v in _tables(data, "area_type", problems).items()}
    if problems:
        return None
    return Rules(tiers, cats, areas, speed, float(target), source)


def _tier(tid: str, raw: dict[str, Any], problems: list[str]) -> Tier:
    w = f"tier.{tid}"
    return Tier(
        id=tid,
        name_zh=str(raw.get("name_zh", tid)),
        name_en=str(raw.get("name_en", tid)),
        minutes=_num(raw, "minutes", w, problems),
        distance_m=_num(raw, "distance_m", w, problems),
        status=_status(raw, "status", w, problems),
        source=str(raw.get("source", "")),
    )


def _category(
    cid: str, raw: dict[str, Any], tiers: dict[str, Tier], problems: list[str]
) -> CategoryRule:
    w = f"category.{cid}"
    names = raw.get("tiers", [])
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        problems.append(f"{w}.tiers: must list at least one tier id")
        names = []
    for n in names:
        if n not in tiers:
            problems.append(f"{w}.tiers: unknown tier {n!r} (known: {', '.join(tiers)})")
    if "threshold_m" in raw:
        gap = _num(raw, "threshold_m", w, problems)
        t_status = _status(raw, "threshold_status", w, problems)
        t_source = str(raw.get("threshold_source", ""))
    else:
        first = tiers.get(names[0]) if names else None
        gap = first.distance_m if first else 0.0
        t_status = first.status if first else ""
        t_source = f"distance of tier {names[0]}" if names else ""
    min_count = raw.get("min_count", 1)
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        problems.append(f"{w}.min_count: must be a whole number ≥ 1")
        min_count = 1
    status = _status(raw, "status", w, problems) if "status" in raw else t_status
    return CategoryRule(
        id=cid,
        tiers=tuple(names),
        gap_threshold_m=gap,
        threshold_status=t_status,
        threshold_source=t_source,
        min_count=min_count,
        status=status,
        source=str(raw.get("source", t_source)),
    )


def _area(aid: str, raw: dict[str, Any], problems: list[str]) -> AreaType:
    w = f"area_type.{aid}"
    return AreaType(
        id=aid,
        name_zh=str(raw.get("name_zh", aid)),
        name_en=str(raw.get("name_en", aid)),
        t15_distance_m=_num(raw, "t15_distance_m", w, problems),
        status=_status(raw, "status", w, problems),
        source=str(raw.get("source", "")),
    )
