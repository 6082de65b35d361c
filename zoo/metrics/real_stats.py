"""Features of real data, computed once per (network, dataset, split, count) and cached.

The cache entry is
``<cache>/real_features/<network>-<dataset>-<split>-<count>-<source>.npz``,
where ``<source>`` is a digest of what the dataset name resolved to
(``zoo.data.source_identity``: the content fingerprint of its files, the
same for a fresh copy of them, or the TFDS name), so the JPEG CIFAR-10 copy of a local folder and TFDS's original
never share an entry. It holds ``features`` float32 [count, D] (kept for KID
and precision/recall), ``logits`` where the network has them, and the FID
statistics ``mu`` float64 [D] and ``sigma`` float64 [D, D]. When ``count``
is less than the split's size the images are a fixed random subset (seed 0,
drawn without replacement, kept in dataset order) so that a class-sorted
split still gives a representative sample.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from zoo.core.errors import ConfigError
from zoo.metrics.cache import atomic_path, cache_dir
from zoo.metrics.features import FeatureExtractor
from zoo.metrics.frechet import gaussian_statistics

SUBSET_SEED = 0


def real_images(dataset: str, split: str, count: int | None = None,
                data_dir: str | Path | None = None) -> np.ndarray:
    """uint8 images [count, H, W, C] of a dataset split (all of it when count is None)."""
    from zoo.data import load_arrays

    images, _ = load_arrays(dataset, split=split, data_dir=data_dir)
    return fixed_subset(images, count, f"{dataset}/{split}")


def fixed_subset(images: np.ndarray, count: int | None, what: str = "the split") -> np.ndarray:
    """``count`` of ``images`` (all when None): a fixed random subset (seed
    ``SUBSET_SEED``, without replacement, in dataset order)."""
    if count is None or count == len(images):
        return images
    if count > len(images):
        raise ConfigError(f"{what} has {len(images)} images, {count} requested")
    chosen = np.sort(np.random.default_rng(SUBSET_SEED).choice(len(images), count, replace=False))
    return images[chosen]


def real_features(extractor: FeatureExtractor, dataset: str, split: str, count: int | None = None,
                  data_dir: str | Path | None = None, batch_size: int = 64,
                  progress: bool = False) -> dict[str, np.ndarray]:
    """Cached ``{"features", "mu", "sigma", ["logits"]}`` of real images through ``extractor``."""
    from zoo.data import source_identity

    source = hashlib.sha256(source_identity(dataset, split, data_dir).encode()).hexdigest()[:12]
    name = f"{extractor.name}-{Path(str(dataset)).name}-{split}-{count or 'all'}-{source}.npz"
    path = cache_dir() / "real_features" / name
    if path.exists():
        with np.load(path) as cached:
            return dict(cached)
    images = real_images(dataset, split, count, data_dir)
    result = extractor(images, batch_size=batch_size, progress=progress,
                       description=f"{extractor.name} features of {dataset}/{split} ({len(images)} images)")
    result["mu"], result["sigma"] = gaussian_statistics(result["features"])
    with atomic_path(path) as tmp:
        np.savez(tmp, **result)
    return result
