"""Where the metrics keep converted weights and real-data statistics.

Everything goes under ``$ZOO_CACHE_DIR`` (default ``~/.cache/zoo``). Files
are written atomically: to a temporary name in the same folder, then
renamed, so a reader never sees half a file and two processes computing
the same entry at once both leave a whole one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from zoo.data.cache import cache_root


def cache_dir() -> Path:
    """The cache root, created if missing: ``$ZOO_CACHE_DIR`` or ``~/.cache/zoo``."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    return root


@contextlib.contextmanager
def atomic_path(final: str | Path):
    """Yield a temporary path beside ``final``; rename it onto ``final`` on success.

    The temporary name keeps ``final``'s suffixes (``x.weights.h5`` ->
    ``.x.<random>.weights.h5``) because Keras and NumPy pick the format
    from them. On an exception the temporary file is removed and
    ``final`` is left untouched.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(final.suffixes)
    stem = final.name[: len(final.name) - len(suffix)]
    fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=suffix, dir=final.parent)
    os.close(fd)
    # mkstemp makes the file private (0600); give it the usual umask mode.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield Path(tmp)
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
