"""Property and regression tests: the TOML data files load, or list their problems.

The real ``data/poi_taxonomy.toml``, ``data/life_circle_rules.toml`` and ``data/places.toml``
are mutated (a value replaced by a generated TOML value; keys, tables and bytes changed by the
fuzz driver's mutators) and loaded. Each load must end in a valid result (finite, positive
distances; a taxonomy the matcher can run) or an :class:`InputDataError` naming the file;
never another exception. The regression tests are the inputs ``benchmarks/fuzz_readers.py``
found. The place catalogue's crashes found by the fuzzer (deep nesting, huge integers, malformed
GeoJSON geometry) were fixed in ``layers/catalogue.py``; they stay below as regression tests.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.fuzz_readers import BYTE_MUTATIONS, SAMPLE_TAGS, TOML_MUTATIONS, Case, run_case
from geo.errors import InputDataError
from geo.features import classify_tags, load_taxonomy
from layers.rules import load_rules
from tests.conftest import REPO

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,  # deterministic in CI: no replay of stored examples
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SEEDS = {
    "taxonomy": REPO / "data" / "poi_taxonomy.toml",
    "rules": REPO / "data" / "life_circle_rules.toml",
    "catalogue": REPO / "data" / "places.toml",
}
READERS = ["taxonomy", "rules", "catalogue"]

# ----------------------------------------------------------------------------- TOML values

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def to_toml(value: Any) -> str:
    """An inline TOML literal for ``value``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(to_toml(v) for v in value) + "]"
    items = (
        f"{k if _BARE_KEY.match(k) else _toml_string(k)} = {to_toml(v)}" for k, v in value.items()
    )
    return "{" + ", ".join(items) + "}"


TEXT = st.one_of(
    st.sampled_from(
        ["", " ", "sourced", "t5", "shop=*", "=x", "<script>alert(1)</script>", "(a+)+$", "乐购"]
    ),
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=20),
)
SCALARS = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
    st.booleans(),
    st.dates(),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["a", "name_zh", "tiers", "x y"]), children, max_size=3)
    ),
    max_leaves=8,
)
_KEY_LINE = re.compile(r"^(\s*[A-Za-z0-9_\-.\"]+\s*=\s*)(.*)$", re.M)


def _value_lines(text: str) -> list[re.Match[str]]:
    """``key = value`` lines whose value sits on that one line."""
    return [
        m
        for m in _KEY_LINE.finditer(text)
        if not m[2].startswith(('"""', "'''")) and m[2].count("[") == m[2].count("]")
    ]


def _load(reader: str, path: Path) -> Any:
    if reader == "taxonomy":
        tax = load_taxonomy(path)
        classify_tags(tax, SAMPLE_TAGS)  # the matcher must run on what loads (no warnings)
        return tax
    if reader == "rules":
        return load_rules(path)
    from layers.catalogue import load_catalogue

    return load_catalogue([path], shipped=None)


def _ends_cleanly(reader: str, path: Path) -> None:
    """The load ends in a checked result or an InputDataError naming the file."""
    result = run_case(Case(reader, 0, path.suffix, b"", [], "toml"), path)
    assert result.outcome in ("ok", "input_error"), (result.kind, result.detail, result.traceback)
    assert not result.warnings, result.warnings


# ----------------------------------------------------------------------------- properties


@SETTINGS
@given(reader=st.sampled_from(READERS), value=VALUES, data=st.data())
def test_any_value_anywhere_loads_or_lists_problems(
    tmp_path_factory: pytest.TempPathFactory, reader: str, value: Any, data: st.DataObject
) -> None:
    text = SEEDS[reader].read_text(encoding="utf-8")
    lines = _value_lines(text)
    m = lines[data.draw(st.integers(0, len(lines) - 1))]
    mutated = text[: m.start(2)] + to_toml(value) + text[m.end(2) :]
    path = tmp_path_factory.mktemp(reader) / f"{reader}.toml"
    path.write_text(mutated, encoding="utf-8")
    _ends_cleanly(reader, path)


#: The driver's "value" mutation may nest arrays 50,000 deep: a known catalogue crash (below).
SAFE_FOR_CATALOGUE = sorted(set(TOML_MUTATIONS) - {"value"})


@SETTINGS
@given(
    reader=st.sampled_from(READERS),
    rng=st.randoms(use_true_random=False),
    data=st.data(),
)
def test_structural_mutations_load_or_list_problems(
    tmp_path_factory: pytest.TempPathFactory,
    reader: str,
    rng: random.Random,
    data: st.DataObject,
) -> None:
    allowed = SAFE_FOR_CATALOGUE if reader == "catalogue" else sorted(TOML_MUTATIONS)
    names = data.draw(st.lists(st.sampled_from(allowed), min_size=1, max_size=3))
    text = SEEDS[reader].read_bytes()
    for name in names:
        text = TOML_MUTATIONS[name](rng, text)
    path = tmp_path_factory.mktemp(reader) / f"{reader}.toml"
    path.write_bytes(text)
    _ends_cleanly(reader, path)


@SETTINGS
@given(
    reader=st.sampled_from(READERS),
    rng=st.randoms(use_true_random=False),
    name=st.sampled_from(sorted(BYTE_MUTATIONS)),
)
def test_byte_mutations_load_or_list_problems(
    tmp_path_factory: pytest.TempPathFactory, reader: str, rng: random.Random, name: str
) -> None:
    data = BYTE_MUTATIONS[name](rng, SEEDS[reader].read_bytes())
    path = tmp_path_factory.mktemp(reader) / f"{reader}.toml"
    path.write_bytes(data)
    _ends_cleanly(reader, path)


@pytest.mark.parametrize("reader", READERS)
def test_shipped_files_load(reader: str) -> None:
    _ends_cleanly(reader, SEEDS[reader])
    assert _load(reader, SEEDS[reader])


# ------------------------------------------------------------------ regressions (fuzz finds)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(reader: str, path: Path) -> str:
    with pytest.raises(InputDataError) as info:
        _load(reader, path)
    assert path.name in str(info.value)
    return str(info.value)


DEEP = "x = " + "[" * 5000 + "]" * 5000 + "\n"
CATEGORY = "[category.a]\nname_zh = 'a'\nname_en = 'a'\nstatus = 'sourced'\ntags = ['shop=x']\n"


@pytest.mark.parametrize("reader", ["taxonomy", "rules"])
def test_deeply_nested_toml_is_an_input_error(tmp_path: Path, reader: str) -> None:
    """Was RecursionError from tomllib."""
    msg = _problems(reader, _write(tmp_path, "deep.toml", DEEP))
    assert "nested too deeply" in msg


@pytest.mark.parametrize("reader", ["taxonomy", "rules"])
def test_folder_instead_of_file_is_an_input_error(tmp_path: Path, reader: str) -> None:
    """Was IsADirectoryError."""
    folder = tmp_path / "rules.toml"
    folder.mkdir()
    msg = _problems(reader, folder)
    assert "cannot read" in msg


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("meta = 1\n" + CATEGORY, "meta: must be a table"),  # was AttributeError
        (CATEGORY.replace("tags", "keywords_zh = ''\ntags"), "keywords_zh: must be a list"),
        (CATEGORY.replace("tags", "exclude = false\ntags"), "exclude: must be a list"),
        (CATEGORY.replace("tags", "overlaps = 0\ntags"), "overlaps: must be a list"),
        (CATEGORY.replace("category.a", "category.categories"), "'categories' is reserved"),
        (CATEGORY.replace("category.a", "category.ambiguous"), "'ambiguous' is reserved"),
    ],
)
def test_taxonomy_problems(tmp_path: Path, text: str, expect: str) -> None:
    """Each was a crash (AttributeError, TypeError) or a silently clobbered result column."""
    assert expect in _problems("taxonomy", _write(tmp_path, "tax.toml", text))


def test_many_categories_classify_fast_without_warnings(tmp_path: Path) -> None:
    """Was a hang (one DataFrame insert per category) and a pandas PerformanceWarning."""
    text = "".join(CATEGORY.replace("category.a", f"category.c{i}") for i in range(600))
    tax = load_taxonomy(_write(tmp_path, "many.toml", text))
    df, report = classify_tags(tax, [{"shop": "x"}, {"amenity": "y"}] * 5)
    assert df.shape == (10, 603)
    assert report.matched == 5 and report.per_category["c599"] == 5


RULES = (REPO / "data" / "life_circle_rules.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "expect"),
    [
        ("[meta]\n", "meta = 1\n[metax]\n", "meta: must be a table"),  # was AttributeError
        ("[tier.t5]", "[tierx.t5]", ""),
        ("distance_m = 300", "distance_m = inf", "distance_m: must be a positive number"),
        ("distance_m = 300", "distance_m = nan", "distance_m: must be a positive number"),
        ("minutes = 5\n", "minutes = -inf\n", "minutes: must be a positive number"),
        ('tiers = ["t10", "t15"]\nthreshold_m', "tiers = 5\nthreshold_m", "must list at least"),
        ('tiers = ["t10", "t15"]\nthreshold_m', 'tiers = "t10"\nthreshold_m', "must list at"),
        ('status = "sourced"', "status = []", "unknown status []"),  # was TypeError: unhashable
        ('status = "sourced"', "status = {a = 1}", "unknown status {'a': 1}"),
        ("[category.wet_market]", "[category.wet_market]\nmin_count = true", "min_count"),
    ],
)
def test_rules_problems(tmp_path: Path, old: str, new: str, expect: str) -> None:
    """Each was a crash, or (inf, true) silently accepted as a number."""
    assert old in RULES
    msg = _problems("rules", _write(tmp_path, "rules.toml", RULES.replace(old, new, 1)))
    assert expect in msg


@pytest.mark.parametrize(
    "extra",
    ["tier = 5\n", "category = []\n", "area_type = 'x'\n"],
)
def test_rules_sections_of_the_wrong_type(tmp_path: Path, extra: str) -> None:
    """Was AttributeError: a section that is not a table of tables."""
    key = extra.split(" ")[0]
    text = extra + RULES.replace(f"[{key}.", f"[{key}_renamed.")
    msg = _problems("rules", _write(tmp_path, "rules.toml", text))
    assert f"{key}: must be a table of tables" in msg


def test_rules_entry_that_is_not_a_table(tmp_path: Path) -> None:
    text = RULES.replace("[tier.t5]\n", "[tier]\nt0 = 5\n[tier.t5]\n", 1)
    assert "tier.t0: must be a table" in _problems("rules", _write(tmp_path, "rules.toml", text))


# ------------------------------------------------------------- place catalogue (reported)

_PLACE = """[[place]]
id = "p"
name_zh = "测试"
name_en = "Test"
kind = "night_market"
status = "planner-supplied"
source = "test"
checked = "2026-11-24"
"""
_FEATURE = (
    '{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
    '{"id":"p","name_zh":"测试","name_en":"Test","kind":"night_market",'
    '"status":"planner-supplied","source":"test","checked":"2026-11-24"},'
    '"geometry":%s}]}'
)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deep.toml", _PLACE + DEEP.replace("x =", "note =")),  # RecursionError (tomllib)
        ("deep.geojson", _FEATURE % ("[" * 100_000 + "]" * 100_000)),  # RecursionError (json)
        ("bigint.geojson", _FEATURE % ('{"type":"Point","coordinates":[' + "1" * 5000 + ",31]}")),
        ("badtype.geojson", _FEATURE % '{"type":"Nope","coordinates":[1,2]}'),  # GeometryTypeError
        ("line1.geojson", _FEATURE % '{"type":"LineString","coordinates":[[121.4,31.2]]}'),  # GEOS
        ("bigint.toml", _PLACE + "radius_m = " + "1" * 5000 + "\n"),  # ValueError (tomllib)
    ],
)
def test_catalogue_former_crashes(tmp_path: Path, name: str, text: str) -> None:
    _problems("catalogue", _write(tmp_path, name, text))


@pytest.mark.parametrize("reader", ["taxonomy", "rules"])
def test_integer_over_python_digit_limit_is_an_input_error(tmp_path: Path, reader: str) -> None:
    """Was ValueError: tomllib converts a 5000-digit literal with int(), which refuses it."""
    msg = _problems(reader, _write(tmp_path, "bigint.toml", "x = " + "1" * 5000 + "\n"))
    assert "not a valid UTF-8 TOML file" in msg
