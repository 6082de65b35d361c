"""Where the metrics keep converted weights and real-data statistics.

Everything goes under ``$ZOO_CACHE_DIR`` (default ``~/.cache/zoo``). Files
are written atomically: to a temporary name in the same folder, then
renamed, so a reader never sees half a file and two processes computing
the same entry at once both leave a whole one.
"""

from __future__ import annotations

from pathlib import Path

# One atomic writer for every cache; the metrics import it from here.
from zoo.data.cache import atomic_path, cache_root

__all__ = ["atomic_path", "cache_dir"]


def cache_dir() -> Path:
    """The cache root, created if missing: ``$ZOO_CACHE_DIR`` or ``~/.cache/zoo``."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    return root
