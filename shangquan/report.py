"""Per-district report of a build (``shangquan report``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from layers.rules import load_rules
from shangquan.build import load_manifest, read_table


def district_table(build: str | Path, *, tier: str | None = None, lang: str = "zh") -> pd.DataFrame:
    """One row per district inside the extract: population placed, share of it covered
    per category (at ``tier``, or each category's first tier), and the composite score.
    ``None`` means no data for that category (no outlet in the inputs), not 0 %.
    """
    folder, _ = load_manifest(build)
    scores = read_table(folder, "area_scores")
    districts = read_table(folder, "districts")
    rules = load_rules()
    if tier is None:
        first = {c: r.tiers[0] for c, r in rules.categories.items()}
        scores = scores[scores["tier"] == scores["category"].map(first)]
    else:
        scores = scores[scores["tier"] == tier]
    wide = scores.pivot_table(
        index="area", columns="category", values="share", aggfunc="first", dropna=False
    )
    wide = (wide * 100).round(1)
    name_col = "name_zh" if lang == "zh" else "name_en"
    d = districts.set_index("adcode")
    placed = d["demand_pop"].reindex(wide.index)
    out = pd.DataFrame(
        {
            "adcode": wide.index,
            "district": d[name_col].reindex(wide.index).to_numpy(),
            "population": placed.round(0).to_numpy(),
            "in_extract_%": (d["covered_share"].reindex(wide.index) * 100).round(1).to_numpy(),
            "off_network": d["pop_off_network"].reindex(wide.index).round(0).to_numpy(),
            "score": d["score"].reindex(wide.index).to_numpy(),
        }
    )
    for cat in wide.columns:
        out[f"{cat}_%"] = wide[cat].to_numpy()
    out = out[out["population"] > 0].sort_values("population", ascending=False)
    return out.replace({np.nan: None}).reset_index(drop=True)


def format_table(df: pd.DataFrame) -> str:
    """Plain-text table ("—" = no data)."""
    shown = df.astype(object).where(df.notna(), "—")
    return shown.to_string(index=False)
