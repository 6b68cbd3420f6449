"""Classify tagged features (OSM objects, table rows) into POI categories.

The categories live in a human-editable TOML file (``data/poi_taxonomy.toml`` ships
with shangquan); this module knows the file format, not the categories. A feature
belongs to a category when any of its tag rules or name keywords match, unless one
of its names contains an exclusion keyword. Nothing is dropped silently: the
:class:`ClassifyReport` counts unmatched, excluded and ambiguous features.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from geo.errors import InputDataError
from geo.tomlfile import raise_problems, read_toml

STATUSES = frozenset({"sourced", "secondary", "assumption", "unverified", "planner-supplied"})
_CATEGORY_FIELDS = frozenset(
    {
        "name_zh",
        "name_en",
        "status",
        "note",
        "tags",
        "keywords_zh",
        "keywords_en",
        "exclude",
        "overlaps",
    }
)
_REQUIRED = ("name_zh", "name_en", "status")
#: Column names of the :func:`classify_tags` frame; a category id may not take one.
_RESULT_COLUMNS = frozenset({"categories", "excluded_from", "ambiguous"})
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_RULE_RE = re.compile(r"^(?P<key>[^=~\s]+)(?P<op>[=~])(?P<val>[^=~]+)$")


@dataclass(frozen=True)
class TagRule:
    """``key=value``, ``key=v1|v2``, ``key=*`` or ``key~text`` (value contains text)."""

    key: str
    values: frozenset[str] | None  # None: any value
    contains: str | None = None

    @classmethod
    def parse(cls, text: str) -> TagRule:
        """Parse a rule; raise ValueError with the reason when malformed."""
        m = _RULE_RE.match(text.strip())
        if not m:
            msg = f"tag rule {text!r} is not key=value, key=v1|v2, key=* or key~text"
            raise ValueError(msg)
        key, op, val = m["key"], m["op"], m["val"]
        if op == "~":
            return cls(key, None, val)
        return cls(key, None if val == "*" else frozenset(val.split("|")))

    def matches(self, tags: Mapping[str, Any]) -> bool:
        """Whether ``tags`` satisfy the rule."""
        value = tags.get(self.key)
        if value is None or value == "":
            return False
        if self.contains is not None:
            return self.contains in str(value)
        return self.values is None or str(value) in self.values


def _keyword_regex(words: Sequence[str]) -> re.Pattern[str] | None:
    """One regex for all keywords; Latin keywords must stand as whole words."""
    if not words:
        return None
    parts = []
    for w in sorted(words, key=len, reverse=True):
        esc = re.escape(w)
        parts.append(rf"(?<![A-Za-z]){esc}(?![A-Za-z])" if w.isascii() else esc)
    return re.compile("|".join(parts), re.IGNORECASE)


@dataclass(frozen=True)
class Category:
    """One POI category with its matching rules."""

    id: str
    name_zh: str
    name_en: str
    status: str
    note: str
    tag_rules: tuple[TagRule, ...]
    keywords: tuple[str, ...]
    exclude: tuple[str, ...]
    overlaps: frozenset[str]
    _kw: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _ex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_kw", _keyword_regex(self.keywords))
        object.__setattr__(self, "_ex", _keyword_regex(self.exclude))

    def hit(self, tags: Mapping[str, Any], names: str) -> bool:
        """Whether a rule or keyword matches (before exclusions)."""
        if any(r.matches(tags) for r in self.tag_rules):
            return True
        return bool(self._kw and names and self._kw.search(names))

    def excluded(self, names: str) -> bool:
        """Whether an exclusion keyword appears in the names."""
        return bool(self._ex and names and self._ex.search(names))

    def label(self, lang: str = "zh") -> str:
        """Display name in ``lang`` (``zh`` or ``en``)."""
        return self.name_zh if lang == "zh" else self.name_en


@dataclass(frozen=True)
class Classification:
    """Categories of one feature, and the categories its names excluded it from."""

    categories: tuple[str, ...]
    excluded: tuple[str, ...]
    ambiguous: bool


@dataclass(frozen=True)
class ClassifyReport:
    """Counts over a classified set; nothing dropped without a count."""

    total: int
    per_category: dict[str, int]
    matched: int
    unmatched: int
    ignored: int
    excluded: int
    ambiguous: int
    top_unmatched: list[tuple[str, int]]


@dataclass(frozen=True)
class Taxonomy:
    """POI categories and the rules that decide what is a candidate."""

    categories: tuple[Category, ...]
    name_fields: tuple[str, ...]
    candidate_keys: frozenset[str]
    ignore: tuple[TagRule, ...]
    source: str

    @property
    def ids(self) -> tuple[str, ...]:
        """Category ids in file order."""
        return tuple(c.id for c in self.categories)

    def category(self, cat_id: str) -> Category:
        """The category ``cat_id``; raise InputDataError naming the known ids."""
        for c in self.categories:
            if c.id == cat_id:
                return c
        msg = f"unknown POI category {cat_id!r}; known: {', '.join(self.ids)}"
        raise InputDataError(msg)

    def names_of(self, tags: Mapping[str, Any]) -> str:
        """All name fields of ``tags`` joined for keyword search."""
        return " | ".join(str(tags[f]) for f in self.name_fields if tags.get(f))

    def classify(self, tags: Mapping[str, Any]) -> Classification:
        """Categories of one feature."""
        names = self.names_of(tags)
        cats: list[str] = []
        excluded: list[str] = []
        for c in self.categories:
            if c.hit(tags, names):
                (excluded if c.excluded(names) else cats).append(c.id)
        return Classification(tuple(cats), tuple(excluded), self._ambiguous(cats))

    def _ambiguous(self, cats: Sequence[str]) -> bool:
        by_id = {c.id: c for c in self.categories}
        for i, a in enumerate(cats):
            for b in cats[i + 1 :]:
                if b not in by_id[a].overlaps and a not in by_id[b].overlaps:
                    return True
        return False

    def is_ignored(self, tags: Mapping[str, Any]) -> bool:
        """Whether a candidate is listed as not a daily-life service."""
        return any(r.matches(tags) for r in self.ignore)


def classify_tags(
    taxonomy: Taxonomy, tag_dicts: Iterable[Mapping[str, Any]]
) -> tuple[pd.DataFrame, ClassifyReport]:
    """Classify many features.

    Returns
    -------
    A frame (one row per feature, in order) with a boolean column per category id,
    ``categories`` (``;``-joined ids), ``excluded_from`` and ``ambiguous``; and the report.
    """
    rows = []
    unmatched: Counter[str] = Counter()
    ignored = 0
    for tags in tag_dicts:
        cl = taxonomy.classify(tags)
        rows.append((cl.categories, cl.excluded, cl.ambiguous))
        if not cl.categories:
            if taxonomy.is_ignored(tags):
                ignored += 1
            elif not cl.excluded:
                unmatched[_main_tag(tags, taxonomy.candidate_keys)] += 1
    # all columns at once: one insert per category is quadratic (and warns) with many of them
    df = pd.DataFrame(
        {
            "categories": [";".join(r[0]) for r in rows],
            "excluded_from": [";".join(r[1]) for r in rows],
            "ambiguous": [r[2] for r in rows],
            **{cid: [cid in r[0] for r in rows] for cid in taxonomy.ids},
        },
        index=pd.RangeIndex(len(rows)),
    )
    report = ClassifyReport(
        total=len(rows),
        per_category={cid: int(df[cid].sum()) for cid in taxonomy.ids},
        matched=int((df["categories"] != "").sum()),
        unmatched=sum(unmatched.values()),
        ignored=ignored,
        excluded=int(((df["excluded_from"] != "") & (df["categories"] == "")).sum()),
        ambiguous=int(df["ambiguous"].sum()),
        top_unmatched=unmatched.most_common(10),
    )
    return df, report


def _main_tag(tags: Mapping[str, Any], keys: frozenset[str]) -> str:
    for k in sorted(keys):
        if tags.get(k):
            return f"{k}={tags[k]}"
    return "(name only)"


def load_taxonomy(path: str | Path) -> Taxonomy:
    """Load and validate a taxonomy TOML file, reporting every problem at once.

    Raises
    ------
    InputDataError
        The file is missing, not TOML, or has problems; the message lists each
        problem as ``entry: reason``.
    """
    p = Path(path)
    data = read_toml(p, what="taxonomy")
    problems: list[str] = []
    tax = _build_taxonomy(data, str(p), problems)
    raise_problems(p, problems, title="the POI taxonomy")
    assert tax is not None  # no problems means it was built
    return tax


def _build_taxonomy(data: dict[str, Any], source: str, problems: list[str]) -> Taxonomy | None:
    meta = data.get("meta", {})
    if not isinstance(meta, dict):
        problems.append("meta: must be a table ([meta])")
        meta = {}
    cats_raw = data.get("category")
    if not isinstance(cats_raw, dict) or not cats_raw:
        problems.append("[category.*]: no categories defined")
        return None
    cats = [c for cid, raw in cats_raw.items() if (c := _category(cid, raw, problems))]
    ids = {c.id for c in cats}
    for c in cats:
        for other in sorted(c.overlaps - ids):
            problems.append(f"category.{c.id}.overlaps: unknown category {other!r}")
    ignore = _rules(meta.get("ignore", []), "meta.ignore", problems)
    name_fields = meta.get("name_fields", ["name"])
    keys = meta.get("candidate_keys", ["shop", "amenity"])
    if not _str_list(name_fields) or not _str_list(keys):
        problems.append("meta: name_fields and candidate_keys must be lists of strings")
        return None
    return Taxonomy(tuple(cats), tuple(name_fields), frozenset(keys), ignore, source)


def _str_list(x: Any) -> bool:
    return isinstance(x, list) and all(isinstance(s, str) and s for s in x)


def _rules(raw: Any, where: str, problems: list[str]) -> tuple[TagRule, ...]:
    if not _str_list(raw):
        problems.append(f"{where}: must be a list of tag rules (strings)")
        return ()
    out = []
    for r in raw:
        try:
            out.append(TagRule.parse(r))
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
    return tuple(out)


def _category(cid: str, raw: Any, problems: list[str]) -> Category | None:
    where = f"category.{cid}"
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a table")
        return None
    n_before = len(problems)
    if not _ID_RE.match(cid):
        problems.append(f"{where}: id must be lower_snake_case ASCII")
    elif cid in _RESULT_COLUMNS:
        problems.append(f"{where}: id {cid!r} is reserved (a column of the classification)")
    for key in sorted(set(raw) - _CATEGORY_FIELDS):
        problems.append(
            f"{where}: unknown field {key!r} (known: {', '.join(sorted(_CATEGORY_FIELDS))})"
        )
    for key in _REQUIRED:
        if not isinstance(raw.get(key), str) or not raw.get(key):
            problems.append(f"{where}: missing field {key!r}")
    status = raw.get("status")
    if isinstance(status, str) and status and status not in STATUSES:
        problems.append(
            f"{where}: unknown status {status!r} (use one of {', '.join(sorted(STATUSES))})"
        )
    rules = _rules(raw.get("tags", []), f"{where}.tags", problems)
    lists = {}
    for key in ("keywords_zh", "keywords_en", "exclude", "overlaps"):
        val = raw.get(key, [])
        if not _str_list(val):  # also "", 0, false: falsy, but not lists
            problems.append(f"{where}.{key}: must be a list of non-empty strings")
            val = []
        lists[key] = val
    if not rules and not lists["keywords_zh"] and not lists["keywords_en"]:
        problems.append(f"{where}: needs at least one tag rule or keyword")
    if len(problems) > n_before:
        return None
    return Category(
        id=cid,
        name_zh=raw["name_zh"],
        name_en=raw["name_en"],
        status=raw["status"],
        note=str(raw.get("note", "")).strip(),
        tag_rules=rules,
        keywords=tuple(lists["keywords_zh"] + lists["keywords_en"]),
        exclude=tuple(lists["exclude"]),
        overlaps=frozenset(lists["overlaps"]),
    )
