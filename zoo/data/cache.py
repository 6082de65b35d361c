"""Cache of decoded datasets: .npz files under ``$ZOO_CACHE_DIR`` (default
``~/.cache/zoo``), in ``data/``, keyed by the source's identity (the content
fingerprint of its files, ``zoo.data.fingerprints``, or TFDS name and
data_dir), split and image size."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import tempfile
import zipfile
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

# Bump when the decoded result of the same files changes (decoding, resizing).
_CACHE_VERSION = 1



def cache_root() -> Path:
    """The root of every zoo cache: ``$ZOO_CACHE_DIR``, or ``~/.cache/zoo``."""
    return Path(os.environ.get("ZOO_CACHE_DIR") or "~/.cache/zoo").expanduser()


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


def cache_file(stem: str, split: str, image_size, identity: tuple) -> Path:
    """Where the decoded arrays of one (source, split, image_size) are cached."""
    key = repr((_CACHE_VERSION, identity, split, image_size))
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{stem}-{split}-{image_size or 'native'}")
    return cache_root() / "data" / f"{readable}-{digest}.npz"


def read_cache(path: Path) -> tuple[np.ndarray, np.ndarray | None] | None:
    """(images, labels) from a cache file, or None if absent or unreadable."""
    arrays = read_cache_arrays(path)
    if arrays is None or "images" not in arrays:
        return None
    return arrays["images"], arrays.get("labels")


def read_cache_arrays(path: Path) -> dict | None:
    """Every array of a cache file by name, or None if absent or unreadable."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        log.warning("ignoring unreadable data cache %s: %s", path, error)
        return None


def write_cache(path: Path, images: np.ndarray, labels: np.ndarray | None, **extra: np.ndarray) -> None:
    """Write atomically (temp file + rename), so readers never see half a file.
    A failure only costs the next load a decode, so it is logged, not raised.
    ``extra`` arrays (e.g. file names) are stored beside the images."""
    arrays = {"images": images, **extra}
    if labels is not None:
        arrays["labels"] = labels
    try:
        with atomic_path(path) as temporary:
            np.savez(temporary, **arrays)
    except OSError as error:
        log.warning("could not write data cache %s: %s", path, error)
