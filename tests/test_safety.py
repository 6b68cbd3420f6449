"""Paths and uploads stay inside their folders; uploads have a size limit (issue 6)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.safety import (
    MAX_UPLOAD_MB,
    allowed_roots,
    check_upload_size,
    inside_allowed,
    safe_upload_name,
    store_upload,
)
from geo.errors import InputDataError
from tests.conftest import DATA, REPO


def test_paths_inside_allowed_roots(tmp_path: Path) -> None:
    root = tmp_path / "builds"
    (root / "b1").mkdir(parents=True)
    assert inside_allowed(root / "b1", roots=[root.resolve()]) == (root / "b1").resolve()
    with pytest.raises(InputDataError, match="outside the folders this server may read"):
        inside_allowed(root / ".." / "elsewhere", roots=[root.resolve()])
    with pytest.raises(InputDataError, match="SHANGQUAN_DATA_ROOTS"):
        inside_allowed("/etc/passwd", roots=[root.resolve()])


def test_symlink_out_of_a_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "builds"
    root.mkdir()
    outside = tmp_path / "secret"
    outside.mkdir()
    (root / "link").symlink_to(outside)
    with pytest.raises(InputDataError, match="outside"):
        inside_allowed(root / "link", roots=[root.resolve()])


def test_default_roots_include_shipped_and_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SHANGQUAN_DATA_ROOTS", os.pathsep.join([str(tmp_path / "a"), ""]))
    roots = allowed_roots()
    assert (REPO / "builds").resolve() in roots and (tmp_path / "a").resolve() in roots
    assert inside_allowed(DATA / "toy_walk.osm") == (DATA / "toy_walk.osm").resolve()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("pois.csv", "pois.csv"),
        ("../../etc/passwd.csv", "passwd.csv"),
        ("C:\\Users\\x\\店铺 列表.xlsx", "店铺_列表.xlsx"),
        ("<b>店</b>.geojson", "b.geojson"),  # "/" in the markup: only the base name is kept
        ("..csv", "upload.csv"),
    ],
)
def test_upload_names_never_become_paths(name: str, expected: str) -> None:
    assert safe_upload_name(name) == expected
    assert not set("/\\<>:") & set(safe_upload_name(name))


def test_upload_type_and_size_limits(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="unsupported file type"):
        safe_upload_name("tool.exe")
    with pytest.raises(InputDataError, match=f"{MAX_UPLOAD_MB} MB upload limit"):
        check_upload_size("big.csv", int((MAX_UPLOAD_MB + 1) * 1024 * 1024))
    p = store_upload("../x/pois.csv", b"name,lng,lat\nA,121.47,31.20\n", folder=tmp_path)
    assert p == tmp_path / "pois.csv" and p.read_bytes().startswith(b"name")


def test_explore_page_refuses_a_path_outside(tmp_path: Path) -> None:
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.switch_page("app/pages/explore.py").run()
    other = next(o for o in at.selectbox(key="extract").options if o.startswith(("其他", "Other")))
    at.selectbox(key="extract").set_value(other).run()
    at.text_input(key="path").set_value("/etc/passwd").run()
    assert not at.exception
    assert "outside the folders this server may read" in at.error[0].value
