"""Mode collapse on Stacked MNIST: how many of its 1,000 modes a generator covers.

The benchmark of Metz et al. 2016 ("Unrolled Generative Adversarial
Networks", arXiv:1611.02163, section 3.3), Srivastava et al. 2017 (VEEGAN,
arXiv:1705.07761, Table 2) and Lin et al. 2018 (PacGAN, arXiv:1712.04086,
Tables 2 and 3). Each training image stacks three MNIST digits, drawn
independently and uniformly, as its R, G and B channels (28x28x3;
``zoo.data.stacked_mnist``, ``load_arrays("stacked_mnist", ...)``), so
the data has 1,000 equally likely modes, the digit triples.

Protocol (VEEGAN and PacGAN): draw 26,000 samples from the generator (Metz
et al. and PacGAN's unrolled-GAN setting: 25,600), classify each channel with
a pretrained MNIST classifier, and report

* ``modes``: the number of the 1,000 triples given to at least one sample;
* ``kl_to_uniform``: KL(p || uniform over 1,000) = sum_m p_m log(1000 p_m),
  natural log, 0 log 0 = 0, with p the histogram of the samples' triples
  (PacGAN calls it the reverse KL: the generated distribution first). It is
  0 for a perfectly even histogram and log(1000) = 6.91 for one mode.

Real data does not reach exactly 1,000 and 0: 26,000 draws from 1,000 even
modes leave a KL near (1000 - 1) / (2 * 26000) = 0.019, and the classifier
misreads a few digits. ``python -m zoo.evaluate --stacked_mnist real``
scores real stacked training images the same way, as the ceiling.

The classifier here is the zoo's shipped MNIST classifier
(``zoo.metrics.classifier``, 99.45% test accuracy), not the papers' own
Keras CNNs, so scores are comparable with the papers' in protocol but not
digit for digit.
"""

from __future__ import annotations

import functools
import os

import numpy as np

from zoo.core.errors import ConfigError
from zoo.data.stacked_mnist import NUM_MODES, stacked_mnist

PROTOCOL_SAMPLES = 26_000  # VEEGAN's and PacGAN's sample count
IMAGE_SHAPE = (28, 28, 3)

__all__ = [
    "IMAGE_SHAPE",
    "NUM_MODES",
    "PROTOCOL_SAMPLES",
    "check_stacked_images",
    "classify_stacked",
    "mode_statistics",
    "score_stacked_mnist",
    "stacked_mnist",
]


def check_stacked_images(images) -> np.ndarray:
    """``images`` as a uint8 array [N, 28, 28, 3]; a ``ConfigError`` naming
    the shape and dtype it got otherwise."""
    images = np.asarray(images)
    if images.ndim != 4 or tuple(images.shape[1:]) != IMAGE_SHAPE or images.dtype != np.uint8:
        raise ConfigError(
            f"Stacked MNIST scoring needs uint8 images [N, 28, 28, 3], got {images.dtype} "
            f"{tuple(images.shape)}: a generator trained on --dataset=stacked_mnist "
            "(e.g. preset dcgan_stacked_mnist), quantised to uint8"
        )
    return images


@functools.lru_cache(maxsize=1)
def _shipped_classifier():
    from zoo.metrics.classifier import classifier_extractor

    return classifier_extractor("mnist")


def _classifier(classifier):
    if classifier is None:
        return _shipped_classifier()
    if isinstance(classifier, (str, os.PathLike)):
        from zoo.metrics.classifier import classifier_extractor

        return classifier_extractor("mnist", classifier)
    return classifier


def classify_stacked(images, classifier=None, batch_size: int = 1024) -> np.ndarray:
    """Mode ids int64 [N] (``100 * r + 10 * g + b``) of uint8 stacked images [N, 28, 28, 3].

    Each channel is classified on its own as an MNIST digit [28, 28, 1].

    Args:
      images: uint8 [N, 28, 28, 3].
      classifier: None for the shipped MNIST classifier; a path to another
        ``.keras`` classifier of ``zoo.metrics.classifier.build_classifier``'s
        form; or an extractor as ``zoo.metrics.classifier.classifier_extractor``
        returns (uint8 [n, 28, 28, 1] -> ``{"logits": [n, 10], ...}``), whose
        preprocessing is used as is.
      batch_size: digits per classifier batch.
    """
    images = check_stacked_images(images)
    digits = np.ascontiguousarray(np.moveaxis(images, -1, 1)).reshape(-1, 28, 28, 1)
    if len(digits) == 0:
        return np.zeros(0, np.int64)
    logits = _classifier(classifier)(digits, batch_size=batch_size)["logits"]
    labels = np.asarray(logits).argmax(axis=-1).astype(np.int64).reshape(-1, 3)
    return labels @ np.array([100, 10, 1], np.int64)


def mode_statistics(mode_ids, num_modes: int = NUM_MODES) -> dict:
    """``{"modes", "kl_to_uniform", "num_samples", "num_modes"}`` of mode ids in [0, num_modes).

    ``modes``: how many modes have at least one sample; ``kl_to_uniform``:
    KL(p || uniform) in nats, p the empirical histogram (0 log 0 = 0).
    """
    ids = np.asarray(mode_ids)
    if ids.ndim != 1 or not (np.issubdtype(ids.dtype, np.integer) or ids.size == 0):
        raise ConfigError(f"mode ids must be a 1-D integer array, got {ids.dtype} {ids.shape}")
    if not isinstance(num_modes, (int, np.integer)) or num_modes < 1:
        raise ConfigError(f"num_modes must be an int >= 1, got {num_modes!r}")
    if ids.size == 0:
        raise ConfigError("mode statistics need at least one sample, got none")
    if ids.min() < 0 or ids.max() >= num_modes:
        raise ConfigError(f"mode ids must lie in [0, {num_modes}), got {ids.min()}..{ids.max()}")
    counts = np.bincount(ids.astype(np.int64), minlength=num_modes)
    p = counts[counts > 0] / ids.size
    kl = float(np.sum(p * np.log(p * num_modes)))
    return {
        "modes": int(np.count_nonzero(counts)),
        "kl_to_uniform": max(kl, 0.0),  # rounding can leave -1e-16 for an even histogram
        "num_samples": int(ids.size),
        "num_modes": int(num_modes),
    }


def score_stacked_mnist(images, classifier=None, batch_size: int = 1024) -> dict:
    """``mode_statistics`` of uint8 stacked images [N, 28, 28, 3] (generated
    or real) as ``classify_stacked`` reads them."""
    return mode_statistics(classify_stacked(images, classifier, batch_size))
