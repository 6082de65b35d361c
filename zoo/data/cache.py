"""Cache of decoded datasets: .npz files under ``$ZOO_CACHE_DIR`` (default
``~/.cache/zoo``), in ``data/``, keyed by the source's identity (the content
fingerprint of its files, ``zoo.data.fingerprints``, or TFDS name and
data_dir), split and image size."""

from __future__ import annotations

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
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=path.parent, prefix=path.name + ".", suffix=".tmp", delete=False
        ) as stream:
            temporary = stream.name
            np.savez(stream, **arrays)
        os.replace(temporary, path)
    except OSError as error:
        log.warning("could not write data cache %s: %s", path, error)
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)

