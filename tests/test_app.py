"""Headless app tests (streamlit.testing.v1.AppTest) and the maps' escaping of data.

The planner's map is pointed at a real build made in a fixture (the central-Shanghai roads
extract and the planners' BD-09 POI table, ~3 s) through ``$SHANGQUAN_BUILDS``. The
"explore an extract" page keeps its own tests. The map itself is a custom component that
AppTest cannot drive, but its payload (Leaflet script, overlays, legend, asset links) is in
the element's ``json_args`` and is checked there.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from app import data as dat
from app import view as vw
from app.i18n import fmt_pct, keys, t
from app.maps import build_map, planner_map, standalone_html
from layers.districts import load_districts
from shangquan.build import load_manifest, read_table, run_build, sha256_of
from shangquan.pipeline import Options, prepare
from tests.conftest import DATA, REPO, shared_path

APP = str(REPO / "streamlit_app.py")


def K(key: str, lang: str = "zh") -> str:
    """Widget key of a choice whose labels follow the language (see app/planner.py)."""
    return f"{key}__{lang}"


EVIL = ("<script>window.__pwned=1</script>", '<img src=x onerror="window.__pwned=1">')


# ============================================================================ builds


def make_shanghai_build(root: Path) -> Path:
    """A real build of the central-Shanghai extract with the planners' POI table."""
    return run_build(
        shared_path("osm", "shanghai_center_roads.osm.gz"),
        root,
        poi=shared_path("poi", "shanghai_brand_pois_bd09.csv"),
        datum="bd09",
    )


def inject_layer(folder: Path, name: str, frame: pd.DataFrame) -> None:
    """Write (or replace) one layer of a build and re-record its checksum in the manifest,
    as a future build would (e.g. planning layers, or a planner's names)."""
    path = folder / "parquet" / f"{name}.parquet"
    frame.to_parquet(path)
    manifest_path = folder / "manifest.json"
    doc = json.loads(manifest_path.read_text(encoding="utf-8"))
    doc["files"][f"parquet/{name}.parquet"] = sha256_of(path)
    manifest_path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")


def make_evil_build(root: Path) -> Path:
    """A build whose every data text carries markup: OSM names, a planner POI table, a
    planning layer and a district's names."""
    src = (DATA / "toy_walk.osm").read_text(encoding="utf-8")
    osm = root.parent / f"{root.name}_evil.osm"
    osm.write_text(
        src.replace('v="测试超市"', f"v={quoteattr(EVIL[0] + '超市')}"), encoding="utf-8"
    )
    poi = root.parent / f"{root.name}_evil_pois.csv"
    poi.write_text(
        "name,lng,lat\n"
        f'"{EVIL[1].replace(chr(34), chr(34) * 2)}超市",121.4735,31.2012\n'
        f"{EVIL[0]}早餐,121.4712,31.2009\n",
        encoding="utf-8",
    )
    folder = run_build(osm, root, poi=poi, datum="wgs84")
    x, y = 121.4735, 31.2015
    planning = gpd.GeoDataFrame(
        {
            "id": ["evil_street"],
            "name_zh": [EVIL[0]],
            "name_en": [EVIL[1]],
            "kind": ["world_street"],
            "status": [EVIL[1]],
            "source": [EVIL[0]],
            "checked": ["2026-11-24"],
            "geometry_method": [EVIL[1]],
            "note": [EVIL[0]],
        },
        geometry=[shapely.Point(x, y).buffer(0.002)],
        crs=4326,
    )
    inject_layer(folder, "two_streets", planning)
    districts = read_table(folder, "districts")
    hit = districts["adcode"].astype(str) == "310101"
    districts.loc[hit, "name_zh"] = EVIL[1]
    districts.loc[hit, "name_en"] = EVIL[0]
    inject_layer(folder, "districts", districts)
    load_manifest(folder)  # still a valid build
    return folder


@pytest.fixture(scope="session")
def shanghai_builds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("builds")
    make_shanghai_build(root)
    return root


@pytest.fixture(scope="session")
def evil_builds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("evil_builds")
    make_evil_build(root)
    return root


@pytest.fixture()
def builds_env(shanghai_builds: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(dat.ENV_BUILDS, str(shanghai_builds))
    return shanghai_builds


# ============================================================================ helpers


def _run(at: AppTest | None = None) -> AppTest:
    at = at or AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _unescape_js(text: str) -> str:
    """folium writes data with Jinja's ``tojson``: ``<``, ``&``, ``'`` and non-ASCII as
    \\uXXXX, quotes as \\"."""
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    return text.replace('\\"', '"')


def _map_args(at: AppTest) -> dict[str, Any]:
    """The map component's arguments, with the JavaScript string escapes decoded."""
    maps = [e for e in at.get("component_instance") if e.proto.component_name.endswith("st_folium")]
    assert len(maps) == 1, "the page has no map"
    args = json.loads(maps[0].proto.json_args)
    return {k: _unescape_js(v) if isinstance(v, str) else v for k, v in args.items()}


def _layer_keys(at: AppTest) -> set[str]:
    return {layer.key for layer in at.session_state["_map_layers"]}


def _study_share(root: Path, cat: str, tier: str) -> float:
    folder, _ = load_manifest(root)
    s = read_table(folder, "area_scores")
    s = s[(s["category"] == cat) & (s["tier"] == tier)]
    return float(s["pop_covered"].sum() / s["pop"].sum())


# ============================================================================ planner's map


def test_opens_on_latest_build_in_chinese(builds_env: Path) -> None:
    at = _run()
    assert "商圈" in at.title[0].value
    assert Path(at.selectbox(key=K("build")).value).parent == builds_env
    m = _metrics(at)
    assert "研究区人口" in m and m["研究区人口"].endswith("万")
    assert any("覆盖率" in k for k in m)
    args = _map_args(at)
    assert "L.map" in args["script"]
    assert "shangquan-legend" in args["feature_group"] and "综合得分 (%)" in args["feature_group"]
    assert '<summary class="lg-summary">图例</summary>' in args["feature_group"]
    # offline: Leaflet comes from the package, no CDN link is left
    assert args["js_links"] and all(u.startswith("data:") for u in args["js_links"])
    assert all(u.startswith("data:") for u in args["css_links"])
    # panning must not rerun the app: only the bounds come back
    assert args["returned_objects"] == ["bounds"]


def test_no_build_shows_shipped_districts_and_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "builds"
    monkeypatch.setenv(dat.ENV_BUILDS, str(empty))
    at = _run()
    code = " ".join(c.value for c in at.code)
    assert f"shangquan build --osm YOUR_EXTRACT.osm.pbf --out {empty}" in code
    assert "--datum bd09" in code  # the worked example with the shared data
    assert any(t("no_build_title", "zh") in s.value for s in at.subheader)
    m = _metrics(at)
    assert m[t("m_districts", "zh")] == "16"
    census = load_districts()["population_2020"].sum()
    assert m[t("m_census", "zh")] == f"{census / 1e4:,.1f}万"  # 2020 census, 16 districts
    args = _map_args(at)
    assert "常住人口（万人）" in args["feature_group"]  # population choropleth legend
    assert "黄浦区" in args["feature_group"]


def test_switch_language(builds_env: Path) -> None:
    at = _run()
    at.radio(key="lang").set_value("English")
    _run(at)
    assert at.title[0].value.startswith("shangquan")
    m = _metrics(at)
    assert "People in the study area" in m and "," in m["People in the study area"]
    assert "Composite score (%)" in _map_args(at)["feature_group"]
    assert [tab.label for tab in at.tabs][:3] == ["Scorecard", "Gaps", "Siting"]
    at.radio(key="lang").set_value("中文")
    _run(at)
    assert "研究区人口" in _metrics(at)


def test_toggle_layers(builds_env: Path) -> None:
    at = _run()
    assert {"districts", "coverage", "pois"} <= _layer_keys(at)
    assert "gaps" not in _layer_keys(at)
    at.checkbox(key="layer_gaps").check()
    _run(at)
    assert "gaps" in _layer_keys(at)
    assert "盲区" in _map_args(at)["feature_group"]
    at.checkbox(key="layer_districts").uncheck()
    at.checkbox(key="layer_coverage").uncheck()
    _run(at)
    keys = _layer_keys(at)
    assert "districts" not in keys and "coverage" not in keys
    planning = {k for k in keys if k.startswith("planning_")}
    assert planning  # shipped catalogue layers (the build has none yet)
    at.checkbox(key="layer_planning").uncheck()
    at.multiselect(key=K("poi_categories")).set_value(["supermarket", "breakfast"])
    _run(at)
    keys = _layer_keys(at)
    assert not {k for k in keys if k.startswith("planning_")}
    fg = _map_args(at)["feature_group"]
    assert "超市 (18)" in fg and "早餐 (73)" in fg
    at.selectbox(key=K("basemap")).set_value("amap")
    _run(at)
    assert "autonavi" in _map_args(at)["script"]
    assert any("GCJ-02" in c.value for c in at.caption)


def test_pick_category_and_tier(builds_env: Path) -> None:
    at = _run()
    assert at.selectbox(key=K("category")).value == "breakfast"  # the most outlets
    assert at.selectbox(key=K("tier")).value == "t10"  # its widest tier
    at.selectbox(key=K("category")).set_value("supermarket")
    _run(at)
    assert at.selectbox(key=K("tier")).options == [
        "5分钟生活圈 (≤ 300 米)",
        "10分钟生活圈 (≤ 500 米)",
        "15分钟生活圈 (≤ 1,000 米)",
    ]
    at.selectbox(key=K("tier")).set_value("t15")
    _run(at)
    m = _metrics(at)
    assert m["超市 · 15分钟生活圈 覆盖率"] == fmt_pct(
        _study_share(builds_env, "supermarket", "t15"), "zh"
    )
    fg = _map_args(at)["feature_group"]
    assert "超市 步行距离（15分钟生活圈 ≤ 1,000 米为覆盖）" in fg
    at.radio(key=K("choropleth")).set_value("share")
    _run(at)
    assert "超市 · 15分钟生活圈 覆盖率 (%)" in _map_args(at)["feature_group"]


def test_no_data_is_shown_as_such_never_zero(builds_env: Path) -> None:
    at = _run()
    at.selectbox(key=K("category")).set_value("wet_market")
    _run(at)
    m = _metrics(at)
    assert m["菜市场 · 10分钟生活圈 覆盖率"] == "无数据"
    card = at.dataframe[0].value
    wet = card[card["类别"] == "菜市场"]
    assert len(wet) == 2 and set(wet["覆盖率"]) == {"无数据"} and set(wet["已覆盖"]) == {"无数据"}
    assert not (card["覆盖率"] == "0.0%").any()


def test_scorecard_per_district(builds_env: Path) -> None:
    at = _run()
    assert at.selectbox(key=K("area")).value == "__all__"
    at.selectbox(key=K("area")).set_value("310101")
    _run(at)
    card = at.dataframe[0].value
    row = card[(card["类别"] == "早餐") & (card["层级"] == "5分钟生活圈")].iloc[0]
    folder, _ = load_manifest(builds_env)
    s = read_table(folder, "area_scores")
    ref = s[(s["area"] == "310101") & (s["category"] == "breakfast") & (s["tier"] == "t5")].iloc[0]
    assert row["覆盖率"] == fmt_pct(ref["share"], "zh")
    assert row["目标"] == "85%" and row["达标"] == "否"
    assert len(at.get("vega_lite_chart")) == 2


def test_gap_list_zooms_the_map(builds_env: Path) -> None:
    at = _run()
    gaps = at.dataframe[1].value
    assert list(gaps["排名"][:3]) == [1, 2, 3]
    pops = read_table(load_manifest(builds_env)[0], "gaps_breakfast")["pop"]
    assert pops.is_monotonic_decreasing
    at.selectbox(key=K("gap")).set_value(1)
    _run(at)
    assert at.session_state["layer_gaps"] is True
    args = _map_args(at)
    gap = read_table(load_manifest(builds_env)[0], "gaps_breakfast").iloc[0].geometry
    lat, lon = args["center"]
    assert gap.buffer(1e-6).contains(shapely.Point(lon, lat))
    assert 12 <= args["zoom"] <= 17


def test_run_siting(builds_env: Path) -> None:
    at = _run()
    at.number_input(key="n_sites").set_value(3)
    at.button(key="run_siting").click()
    _run(at)
    prop = at.session_state["siting"]
    assert prop["category"] == "breakfast" and len(prop["sites"]) == 3
    assert prop["added"] > 0
    assert prop["sites"]["added_pop"].is_monotonic_decreasing
    assert "sites" in _layer_keys(at)
    assert "建议选址（早餐）" in _map_args(at)["feature_group"]
    assert any(m.label == "新增覆盖人口" for m in at.metric)


def test_whatif_add_and_remove_without_touching_the_cache(builds_env: Path) -> None:
    at = _run()
    at.selectbox(key=K("category")).set_value("breakfast")
    _run(at)
    at.toggle(key="whatif_on").set_value(True)
    _run(at)
    from app.planner import analysis, load_data

    folder = at.selectbox(key=K("build")).value
    stamp = str((Path(folder) / "manifest.json").stat().st_mtime_ns)
    res = analysis(folder, stamp)
    before_dist = res.access["breakfast"].dist_m.copy()
    cached = load_data(folder, stamp)
    cached_cells = cached.cells.copy()
    label = "早餐 · 10分钟生活圈 覆盖率"
    base = _metrics(at)[label]
    # add an outlet in the largest breakfast gap
    gap = read_table(Path(folder), "gaps_breakfast").iloc[0].geometry.representative_point()
    at.number_input(key="whatif_lon").set_value(round(gap.x, 5))
    at.number_input(key="whatif_lat").set_value(round(gap.y, 5))
    at.button(key="whatif_add").click()
    _run(at)
    after_add = next(m for m in at.metric if m.label == label)
    assert after_add.value != base and after_add.delta.startswith("+")
    assert "whatif" in _layer_keys(at)
    assert any(d.value.columns.tolist() == ["层级", "构建", "情景", "变化"] for d in at.dataframe)
    # remove an existing outlet: coverage drops back below the added scenario
    at.button(key="whatif_remove").click()
    _run(at)
    assert any(c.value == "已添加 1 个，已移除 1 个" for c in at.caption)
    # the shared objects were not modified
    np.testing.assert_array_equal(res.access["breakfast"].dist_m, before_dist)
    pd.testing.assert_frame_equal(cached.cells, cached_cells)
    at.button(key="whatif_reset").click()
    _run(at)
    assert _metrics(at)[label] == base


def test_export_png_and_pdf(builds_env: Path) -> None:
    at = _run()
    at.number_input(key="export_w").set_value(800)
    at.number_input(key="export_h").set_value(600)
    at.selectbox(key="export_dpi").set_value(96)
    at.button(key="export_make").click()
    _run(at)
    made = at.session_state["export"]
    png, pdf = made["png"], made["pdf"]
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == (800, 600)
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "15分钟社区生活圈简报" in text and "OpenStreetMap" in text
    labels = {b.label for b in at.get("download_button")}
    assert {
        "下载 PNG",
        "下载 PDF 简报",
        "下载当前范围数据 (GeoPackage)",
        "下载当前范围数据 (CSV)",
    } <= labels


def test_view_data_downloads(builds_env: Path) -> None:
    from app import export as xp
    from app.planner import Page, load_data, view_frames

    at = _run()
    folder = at.selectbox(key=K("build")).value
    data = load_data(folder, str((Path(folder) / "manifest.json").stat().st_mtime_ns))
    page = Page(lang="zh", data=data, folder=folder, layers=list(at.session_state["_map_layers"]))
    frames = view_frames(page, bounds=(121.47, 31.22, 121.49, 31.24), area="__all__")
    assert {"districts", "demand_cells", "pois", "scorecard"} <= set(frames)
    cells = frames["demand_cells"]
    assert 0 < len(cells) < len(data.cells)
    gpkg = xp.geopackage_bytes(frames)
    assert gpkg[:16] == b"SQLite format 3\x00"
    import io
    import zipfile

    z = zipfile.ZipFile(io.BytesIO(xp.csv_zip_bytes(frames)))
    assert "pois.csv" in z.namelist()
    assert "wkt" in z.read("demand_cells.csv").decode("utf-8-sig").splitlines()[0]


def test_bad_build_is_an_error_not_a_traceback(
    tmp_path: Path, shanghai_builds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "builds"
    shutil.copytree(shanghai_builds, root)
    folder = next(p for p in root.iterdir() if p.is_dir())
    (folder / "parquet" / "pois.parquet").write_bytes(b"tampered")
    monkeypatch.setenv(dat.ENV_BUILDS, str(root))
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception
    assert "altered since the build" in at.error[0].value
    assert _metrics(at)[t("m_districts", "zh")] == "16"  # falls back to the shipped data


# ============================================================================ map code


def test_fast_geojson_layer_writes_what_folium_writes(shanghai_builds: Path) -> None:
    """app.maps.GeoJsonLayer skips a costly second Jinja pass; its JavaScript must stay the
    same as folium.GeoJson's (a folium upgrade that changes the render chain fails here)."""
    import folium
    from streamlit_folium import _get_feature_group_string

    from app import maps as mp

    data = dat.load_build_data(shanghai_builds)
    layer = vw.gaps_layer(data, category="supermarket", lang="zh")
    assert layer is not None
    gj = mp.to_geojson(layer)
    out = []
    for cls in (folium.GeoJson, mp.GeoJsonLayer):
        m = mp.base_map(extent=data.extent())
        group = folium.FeatureGroup(name="gaps")
        tip = folium.GeoJsonTooltip(fields=["rank"])
        cls(gj, style_function=lambda _f: {"color": "#000"}, tooltip=tip).add_to(group)
        m.render()
        out.append(re.sub(r"[0-9a-f]{32}", "ID", _get_feature_group_string(group, m, 0)))
    assert out[0] == out[1]
    assert ".addTo(feature_group_feature_group_0)" in out[1]


# ============================================================================ escaping


def test_planner_map_escapes_markup_in_every_layer(evil_builds: Path) -> None:
    data = dat.load_build_data(evil_builds)
    layers = [
        vw.districts_layer(data, mode="score", category="supermarket", tier="t5", lang="zh"),
        vw.planning_layer("two_streets", data.planning["two_streets"], lang="en"),
        vw.pois_layer(data, categories=["supermarket", "breakfast"], lang="zh"),
    ]
    m, groups = planner_map(layers, extent=data.extent(), roads=vw.road_lines(data.edges))
    out = _unescape_js(standalone_html(m, groups))
    for evil in EVIL:
        assert evil not in out
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in out
    assert "onerror=&quot;" in out


def test_app_escapes_markup(evil_builds: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(dat.ENV_BUILDS, str(evil_builds))
    at = _run()
    at.multiselect(key=K("poi_categories")).set_value(["supermarket", "breakfast"])
    _run(at)
    args = _map_args(at)
    payload = args["feature_group"] + args["script"] + args["html"] + args["header"]
    for evil in EVIL:
        assert evil not in payload
    assert payload.count("&lt;script&gt;window.__pwned=1&lt;/script&gt;") >= 3


@pytest.mark.parametrize("evil", EVIL)
def test_explore_map_escapes_markup_in_names(tmp_path: Path, evil: str) -> None:
    src = (DATA / "toy_walk.osm").read_text(encoding="utf-8")
    p = tmp_path / "evil.osm"
    p.write_text(src.replace('v="测试超市"', f"v={quoteattr(evil)}"), encoding="utf-8")
    prep = prepare(p, options=Options())
    html_out = (
        build_map(
            prep, categories=["supermarket"], lang="zh", basemap=None, network_label="步行网络"
        )
        .get_root()
        .render()
    )
    assert evil not in html_out
    assert "&lt;" in html_out


# ============================================================================ explore page


@pytest.fixture()
def explore(builds_env: Path) -> Iterator[AppTest]:
    at = _run()
    at.switch_page("app/pages/explore.py")
    yield _run(at)


def test_explore_opens_in_chinese_on_real_data(explore: AppTest) -> None:
    assert "OSM" in explore.title[0].value
    assert explore.selectbox(key="extract").value == "shanghai_center_roads.osm.gz"
    assert any(m.label == "节点" for m in explore.metric)


def test_explore_switch_language_and_extract(explore: AppTest) -> None:
    at = explore
    at.selectbox(key="extract").set_value("toy_walk.osm (demo)")
    at.radio(key="lang").set_value("English")
    _run(at)
    assert at.title[0].value.startswith("Explore")
    metrics = _metrics(at)
    assert metrics["nodes"] == "7" and metrics["island nodes (dropped)"] == "2"


def test_explore_bad_path_shows_error_not_traceback(explore: AppTest, tmp_path: Path) -> None:
    at = explore
    at.selectbox(key="extract").set_value("其他文件…").run()
    # a missing file inside an allowed folder (tests/data): "file not found", not a traceback
    at.text_input(key="path").set_value(str(REPO / "tests" / "data" / "missing.osm.pbf")).run()
    assert not at.exception
    assert "file not found" in at.error[0].value


# ============================================================================ strings


def test_every_string_has_both_languages() -> None:
    for key in keys():
        zh, en = t(key, "zh"), t(key, "en")
        assert zh and en, key
    assert t("title", "zh") != t("title", "en")
