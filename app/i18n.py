"""UI strings in Chinese (default) and English."""

from __future__ import annotations

LANGS = ("zh", "en")

_T: dict[str, tuple[str, str]] = {
    "title": ("商圈 · 15分钟社区生活圈", "shangquan · 15-minute community life circle"),
    "lang": ("语言 / Language", "语言 / Language"),
    "extract": ("OSM 数据", "OSM extract"),
    "extract_help": (
        "选择随项目提供的数据或输入本地文件路径 (.osm.pbf / .osm / .osm.gz / .osm.bz2)",
        "Pick a shipped extract or type a local path (.osm.pbf / .osm / .osm.gz / .osm.bz2)",
    ),
    "path": ("本地文件路径", "Local file path"),
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
        "规划图层、覆盖率评分与简报导出将在后续版本提供。",
        "Planning layers, coverage scores and briefing export come next.",
    ),
}


def t(key: str, lang: str) -> str:
    """The UI string ``key`` in ``lang`` (``zh`` or ``en``)."""
    zh, en = _T[key]
    return zh if lang == "zh" else en
