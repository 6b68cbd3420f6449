"""Where shangquan's shipped data files live: the repository's ``data/`` or ``$SHANGQUAN_DATA``.

Defined in ``layers`` (the lowest package that reads planning data) so that ``layers``
never imports ``shangquan``; :mod:`shangquan.paths` re-exports it.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR = Path(os.environ.get("SHANGQUAN_DATA", Path(__file__).resolve().parents[1] / "data"))
