"""A build killed with SIGKILL at any stage leaves the previous build intact and usable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from shangquan.build import LATEST, load_manifest, run_build
from shangquan.report import district_table
from tests.conftest import shared_path

STAGES = ["prepare", "layers", "demand", "access", "scores", "write"]


def _start_build(out: Path) -> subprocess.Popen[str]:
    cmd = [
        sys.executable,
        "-m",
        "shangquan.cli",
        "build",
        "--osm",
        str(shared_path("osm", "shanghai_center_roads.osm.gz")),
        "--poi",
        str(shared_path("poi", "shanghai_brand_pois_bd09.csv")),
        "--datum",
        "bd09",
        "--out",
        str(out),
    ]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_at(proc: subprocess.Popen[str], stage: str) -> bool:
    """SIGKILL the build when it announces ``stage``; False if it finished first."""
    assert proc.stderr is not None and proc.stdout is not None
    killed = False
    try:
        for line in proc.stderr:
            if line.strip() == f"… {stage}":
                os.kill(proc.pid, signal.SIGKILL)
                killed = True
                break
        proc.wait(timeout=60)
    finally:
        proc.stderr.close()
        proc.stdout.close()
    return killed


@pytest.fixture(scope="module")
def first_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("builds")
    run_build(
        shared_path("osm", "shanghai_center_roads.osm.gz"),
        out,
        poi=shared_path("poi", "shanghai_brand_pois_bd09.csv"),
        datum="bd09",
    )
    return out


@pytest.mark.parametrize("stage", STAGES)
def test_sigkill_keeps_previous_build(first_build: Path, stage: str) -> None:
    before_latest = (first_build / LATEST).read_text()
    before_table = district_table(first_build)
    proc = _start_build(first_build)
    assert _kill_at(proc, stage), f"the build finished before reaching stage {stage!r}"
    assert proc.returncode == -signal.SIGKILL
    assert (first_build / LATEST).read_text() == before_latest
    folder, _ = load_manifest(first_build)  # verifies every checksum
    assert folder.name == before_latest.strip()
    after_table = district_table(first_build)
    assert after_table.equals(before_table)  # same numbers as before the killed build


def test_next_build_cleans_partials_and_moves_latest(first_build: Path) -> None:
    proc = _start_build(first_build)
    assert _kill_at(proc, "write")
    assert list(first_build.glob(".partial-*")), "the killed build left no partial folder"
    old = (first_build / LATEST).read_text().strip()
    assert load_manifest(first_build)[0].name == old  # the partial one is ignored
    proc = _start_build(first_build)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert not list(first_build.glob(".partial-*"))
    new = (first_build / LATEST).read_text().strip()
    assert new != old
    assert (first_build / old).is_dir()  # earlier builds are kept, never overwritten
    load_manifest(first_build)
