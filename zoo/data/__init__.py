"""Training data: load a dataset into memory and stream it as resumable batches.

* ``sources``: ``load_arrays`` reads one split of a dataset (a known local
  copy, TFDS, a folder of IDX files, a folder or zip of images) into uint8
  arrays ``[N, H, W, C]`` and labels; ``stacked_mnist`` builds the
  Stacked-MNIST mode-collapse benchmark (three digits as R, G, B) from MNIST.
* ``images``: decoding image files (grayscale or RGB, transparency on white,
  centre crop and resize).
* ``cache``: decoded datasets cached as .npz under ``$ZOO_CACHE_DIR``.
* ``fingerprints``: cache keys from the files' contents, so a fresh copy of
  the same files finds its caches.
* ``stream``: ``make_dataset``, the endless stream of float32 batches in
  [-1, 1] whose order depends only on (seed, global step), so a resumed run
  sees exactly the batches an uninterrupted run would have seen;
  ``load_dataset`` does both.
"""

from zoo.core.errors import DatasetError
from zoo.data.sources import (
    DERIVED_DATASETS,
    IMAGE_SUFFIXES,
    KNOWN_DATASETS,
    LOCAL_SPLITS,
    load_arrays,
    source_identity,
    source_note,
)
from zoo.data.stream import DatasetInfo, check_image_shape, load_dataset, make_dataset, steps_per_epoch

__all__ = [
    "DatasetError",
    "DatasetInfo",
    "DERIVED_DATASETS",
    "IMAGE_SUFFIXES",
    "KNOWN_DATASETS",
    "LOCAL_SPLITS",
    "check_image_shape",
    "load_arrays",
    "load_dataset",
    "make_dataset",
    "source_identity",
    "source_note",
    "steps_per_epoch",
]
