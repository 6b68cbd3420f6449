"""Where shangquan's shipped data files live (overridable for tests and deployments)."""

from __future__ import annotations

import os
from pathlib import Path

#: The repository's ``data/`` folder (or ``$SHANGQUAN_DATA``).
DATA_DIR = Path(os.environ.get("SHANGQUAN_DATA", Path(__file__).resolve().parents[1] / "data"))
DEFAULT_TAXONOMY = DATA_DIR / "poi_taxonomy.toml"
