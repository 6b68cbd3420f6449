"""Many planners at once (issue 6): 20 sessions on one app process share its caches.

Each session is an AppTest with its own language, category, tier and layers. Their reruns go
through a thread pool, as a Streamlit server runs sessions in threads. Afterwards every session
still shows its own choices; the cached build and analysis (``st.cache_resource``, shared by
all) are byte-for-byte unchanged; peak memory growth stays bounded. ``benchmarks/bench_sessions.py``
prints the same figures for docs/reliability.md.
"""

from __future__ import annotations

import resource
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

from tests.test_app import APP, K, _layer_keys, builds_env, shanghai_builds  # noqa: F401

N_SESSIONS = 20
CATEGORIES = ("breakfast", "supermarket", "restaurant")
MAX_GROWTH_MB = 1500


def _config(i: int) -> dict[str, object]:
    cat = CATEGORIES[i % len(CATEGORIES)]
    return {
        "lang": "English" if i % 2 else "中文",
        "code": "en" if i % 2 else "zh",
        "category": cat,
        "tier": "t10",
        "gaps": i % 3 == 0,
        "districts": i % 4 != 0,
    }


def _step(at: AppTest) -> AppTest:
    at.run(timeout=300)
    assert not at.exception, at.exception
    return at


def _parallel(sessions: list[AppTest]) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(_step, sessions))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_twenty_sessions_keep_their_own_state(builds_env: Path) -> None:  # noqa: F811
    from app.planner import analysis, load_data

    start_mb = _rss_mb()
    sessions = [AppTest.from_file(APP, default_timeout=300) for _ in range(N_SESSIONS)]
    _parallel(sessions)
    folder = sessions[0].selectbox(key=K("build")).value
    stamp = str((Path(folder) / "manifest.json").stat().st_mtime_ns)
    cached = load_data(folder, stamp)
    cells_before = cached.cells.copy()
    for at, cfg in zip(sessions, map(_config, range(N_SESSIONS)), strict=True):
        at.radio(key="lang").set_value(cfg["lang"])
    _parallel(sessions)
    for at, cfg in zip(sessions, map(_config, range(N_SESSIONS)), strict=True):
        lang = str(cfg["code"])
        at.selectbox(key=K("category", lang)).set_value(cfg["category"])
        if cfg["gaps"]:
            at.checkbox(key="layer_gaps").check()
        if not cfg["districts"]:
            at.checkbox(key="layer_districts").uncheck()
    _parallel(sessions)
    res = analysis(folder, stamp)
    dist_before = {c: a.dist_m.copy() for c, a in res.access.items()}
    _parallel(sessions)  # one more round of reruns on the warm caches
    for i, (at, cfg) in enumerate(zip(sessions, map(_config, range(N_SESSIONS)), strict=True)):
        lang = str(cfg["code"])
        title = at.title[0].value
        assert title.startswith("shangquan") == (lang == "en"), (i, title)
        assert at.selectbox(key=K("category", lang)).value == cfg["category"], i
        keys = _layer_keys(at)
        assert ("gaps" in keys) == cfg["gaps"], (i, keys)
        assert ("districts" in keys) == cfg["districts"], (i, keys)
    pd.testing.assert_frame_equal(load_data(folder, stamp).cells, cells_before)
    assert load_data(folder, stamp) is cached  # one shared object, never copied per session
    for cat, before in dist_before.items():
        np.testing.assert_array_equal(analysis(folder, stamp).access[cat].dist_m, before)
    growth = _rss_mb() - start_mb
    assert growth < MAX_GROWTH_MB, f"peak memory grew by {growth:.0f} MB for {N_SESSIONS} sessions"
