"""layers: planning meaning built on top of :mod:`geo` (districts, life circles, coverage)."""
