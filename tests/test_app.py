"""Headless app tests (streamlit.testing.v1.AppTest) and the map's escaping of data."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.maps import build_map
from shangquan.pipeline import Options, prepare
from tests.conftest import REPO

APP = str(REPO / "streamlit_app.py")


def _run(**select: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    for key, value in select.items():
        at.selectbox(key=key).set_value(value).run()
    assert not at.exception, at.exception
    return at


def test_app_opens_in_chinese_on_real_data() -> None:
    at = _run()
    assert "商圈" in at.title[0].value
    assert at.selectbox(key="extract").value == "shanghai_center_roads.osm.gz"
    assert any(m.label == "节点" for m in at.metric)


def test_switch_language_and_extract() -> None:
    at = _run(extract="toy_walk.osm (demo)")
    at.radio(key="lang").set_value("English").run()
    assert not at.exception
    assert at.title[0].value.startswith("shangquan")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["nodes"] == "7" and metrics["island nodes (dropped)"] == "2"


def test_bad_path_shows_error_not_traceback(tmp_path: Path) -> None:
    at = _run()
    at.selectbox(key="extract").set_value("其他文件…").run()
    at.text_input(key="path").set_value(str(tmp_path / "missing.osm.pbf")).run()
    assert not at.exception
    assert "file not found" in at.error[0].value


@pytest.mark.parametrize(
    "evil", ["<script>window.pwned=1</script>", '<img src=x onerror="alert(1)">']
)
def test_map_escapes_markup_in_names(tmp_path: Path, evil: str) -> None:
    src = (REPO / "tests" / "data" / "toy_walk.osm").read_text(encoding="utf-8")
    from xml.sax.saxutils import quoteattr

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
