"""Content fingerprints of data files, the keys of every cache built from them.

The caches of a dataset (its decoded arrays, the Inception features of its
real images) are keyed by what its files hold, not by where they are or
when they were written, so a fresh copy of the same files (``cp`` or
``rsync`` without ``-t``, a container layer, a re-download, a shared drive
mounted anew) still finds them: the 10,000 MNIST test images' Inception
features cost a 2-core CPU about 12 minutes to recompute.

Reading every byte on each load would cost more than the caches save on
large folders, so a digest is remembered under the files' stat fingerprint
(absolute path, size and modification time):
``<cache>/fingerprints/<stat digest>.txt``. Files whose stat is unchanged
are not read again. As with any stat-keyed cache, a file rewritten with the
same size and its old modification time restored is not noticed.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Iterable, Sequence

from zoo.core.errors import DatasetError
from zoo.data.cache import atomic_path, cache_root

_CHUNK = 1 << 20
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def content_fingerprint(files: Iterable[str | os.PathLike], names: Sequence[str] | None = None) -> str:
    """SHA-256 (hex) of the files' names, sizes and bytes, in the given order.

    Args:
        files: the files, in a fixed order (callers sort them).
        names: the name each file is hashed under (default: its base name);
            a folder's relative paths, so that a renamed class folder, which
            changes the labels, changes the fingerprint.

    The same bytes under the same names give the same fingerprint wherever
    they are and whatever their times; a digest is remembered per stat
    fingerprint, so unchanged files are read once.

    Raises:
        DatasetError: naming a file that is missing or cannot be read.
    """
    files = [Path(file) for file in files]
    names = [file.name for file in files] if names is None else list(names)
    if len(names) != len(files):
        raise ValueError(f"{len(files)} files but {len(names)} names")
    stats = []
    for file in files:
        try:
            stat = file.stat()
        except OSError as error:
            raise _unreadable(file, error) from error
        stats.append((str(file.resolve()), stat.st_size, stat.st_mtime_ns))
    stat_digest = hashlib.sha256(repr(list(zip(names, stats))).encode()).hexdigest()
    memo = cache_root() / "fingerprints" / f"{stat_digest[:32]}.txt"
    remembered = _read_memo(memo)
    if remembered is not None:
        return remembered
    digest = hashlib.sha256()
    for name, file, (_, size, _) in zip(names, files, stats):
        # Name and size delimit each file, so two files' bytes cannot be
        # regrouped into another pair with the same digest.
        digest.update(f"{name}\0{size}\0".encode())
        try:
            with open(file, "rb") as stream:
                for chunk in iter(lambda: stream.read(_CHUNK), b""):
                    digest.update(chunk)
        except OSError as error:
            raise _unreadable(file, error) from error
    result = digest.hexdigest()
    _write_memo(memo, result)
    return result


def _unreadable(file: Path, error: OSError) -> DatasetError:
    """The error for a data file that is missing or cannot be read."""
    return DatasetError(f"cannot read {file}: {error.strerror or error}")


def _read_memo(path: Path) -> str | None:
    try:
        text = path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if _HEX64.match(text) else None


def _write_memo(path: Path, digest: str) -> None:
    # A memo that cannot be written only costs the next call a re-read.
    try:
        with atomic_path(path) as temporary:
            temporary.write_text(digest + "\n")
    except OSError:
        pass
