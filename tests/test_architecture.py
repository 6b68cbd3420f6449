"""Import direction: geo ← layers ← shangquan ← app; only the app imports streamlit."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

FORBIDDEN = {
    "geo": {"layers", "shangquan", "app", "streamlit", "streamlit_folium", "folium"},
    "layers": {"shangquan", "app", "streamlit", "streamlit_folium"},
    "shangquan": {"app", "streamlit", "streamlit_folium"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_import_direction(package: str) -> None:
    bad = {
        str(p.relative_to(REPO)): sorted(_imports(p) & FORBIDDEN[package])
        for p in (REPO / package).rglob("*.py")
    }
    assert {k: v for k, v in bad.items() if v} == {}


def test_geo_has_no_print() -> None:
    for p in (REPO / "geo").rglob("*.py"):
        calls = [
            n
            for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
            if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "print"
        ]
        assert not calls, f"{p}: use logging, not print"
