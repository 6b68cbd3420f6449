"""Where shangquan's shipped data files live (overridable for tests and deployments)."""

from __future__ import annotations

from layers.data_dir import DATA_DIR

__all__ = ["DATA_DIR", "DEFAULT_TAXONOMY"]

DEFAULT_TAXONOMY = DATA_DIR / "poi_taxonomy.toml"
