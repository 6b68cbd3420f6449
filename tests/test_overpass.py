"""The optional Overpass download: atomic write, and a clear error when offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from geo.errors import InputDataError
from geo.osm import read_osm
from geo.overpass import download_extract, overpass_query
from shangquan.cli import main
from tests.conftest import DATA

BBOX = (121.46, 31.19, 121.48, 31.21)


class _Resp:
    def __init__(self, status: int, content: bytes) -> None:
        self.status_code, self.content = status, content
        self.text = content.decode("utf-8", "replace")


def test_query_is_bbox_in_overpass_order() -> None:
    q = overpass_query(BBOX)
    assert "nwr(31.19,121.46,31.21,121.48)" in q and "[out:xml]" in q


def test_download_saves_a_readable_file(tmp_path: Path) -> None:
    body = (DATA / "toy_walk.osm").read_bytes()
    seen: dict[str, Any] = {}

    def fake_post(url: str, **kw: Any) -> _Resp:
        seen.update(kw)
        return _Resp(200, body)

    out = download_extract(tmp_path / "area.osm", bbox=BBOX, post=fake_post)
    assert "nwr(" in seen["data"]["data"]
    assert read_osm(out).stats.walkable_ways == 6
    assert [p.name for p in tmp_path.iterdir()] == ["area.osm"]  # no temp file left


def test_offline_gives_a_clear_error_and_keeps_old_file(tmp_path: Path) -> None:
    old = tmp_path / "area.osm"
    old.write_bytes(b"<osm/>")

    def offline(url: str, **kw: Any) -> _Resp:
        raise requests.ConnectionError("no network")

    with pytest.raises(InputDataError, match="works offline from a local extract"):
        download_extract(old, bbox=BBOX, post=offline)
    assert old.read_bytes() == b"<osm/>"


def test_error_answer_is_not_saved(tmp_path: Path) -> None:
    def busy(url: str, **kw: Any) -> _Resp:
        return _Resp(429, b"rate limited")

    with pytest.raises(InputDataError, match="HTTP 429"):
        download_extract(tmp_path / "a.osm", bbox=BBOX, post=busy)
    assert not list(tmp_path.iterdir())


def test_cli_rejects_bad_bbox(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["fetch", "--bbox", "1,2,3", "--out", str(tmp_path / "x.osm")]) == 2
    assert main(["fetch", "--bbox", "121,31,125,35", "--out", str(tmp_path / "x.osm")]) == 2
    assert "too large" in capsys.readouterr().err
