"""Scores of an image-to-image model on a held-out split.

``score_translation(translate, source, target, ...)`` translates the
``source`` images and compares the outputs with ``target``:

* paired (the target is the source's true counterpart: pix2pix's pairs, and
  the two emoji vendors, whose hidden pairs unpaired benchmarks lack):
  ``psnr`` and ``ssim`` (``zoo.metrics.image_quality``, on RGB composited on
  white, as the images are stored);
* as a distribution: ``fid`` and ``kid_mean``/``kid_std`` of the outputs'
  Inception features against the target images' (KID is the one to trust
  at a few hundred images: it is unbiased, FID is not);
* two-way models: ``cycle_l1``, the mean absolute difference between the
  source and its round trip, in [-1, 1] units;
* ``baseline_identity``: the same scores for the source left unchanged,
  the floor a translation has to beat.

Every translated image is quantised to uint8 first, as a user would save it.
"""

from __future__ import annotations

import numpy as np

from zoo.metrics.frechet import frechet_distance, gaussian_statistics
from zoo.metrics.image_quality import psnr, ssim
from zoo.metrics.kid import kernel_inception_distance
from zoo.metrics.preprocess import quantize_to_uint8


def _to_float(images_uint8):
    return np.asarray(images_uint8, np.float32) / 127.5 - 1.0


def _translate_all(translate, images_uint8, batch_size):
    outputs = [
        quantize_to_uint8(np.asarray(translate(_to_float(images_uint8[start : start + batch_size]))))
        for start in range(0, len(images_uint8), batch_size)
    ]
    return np.concatenate(outputs)


def image_scores(outputs, target, extractor=None, target_features=None, paired=True):
    """PSNR/SSIM (paired) and FID/KID (with an Inception ``extractor``) of
    uint8 ``outputs`` against uint8 ``target``."""
    scores = {}
    if paired:
        scores["psnr"] = float(np.mean(psnr(outputs, target)))
        scores["ssim"] = float(np.mean(ssim(outputs, target)))
    if extractor is not None:
        if target_features is None:
            target_features = extractor(target)["features"]
        features = extractor(outputs)["features"]
        scores["fid"] = frechet_distance(*gaussian_statistics(features), *gaussian_statistics(target_features))
        # Subsets as large as the smaller set allows (at a few hundred
        # images that is the whole set, and the spread over subsets is 0).
        subset = min(1000, len(features), len(target_features))
        scores["kid_mean"], scores["kid_std"] = kernel_inception_distance(
            features, target_features, subset_size=subset
        )
    return scores


def score_translation(translate, source, target, *, extractor=None, back=None, paired=True, batch_size=64):
    """Scores of ``translate`` (float32 images in [-1, 1] -> same) on uint8
    ``source`` against uint8 ``target``; ``back`` (the reverse translation
    of a two-way model) adds ``cycle_l1``. See the module doc."""
    outputs = _translate_all(translate, source, batch_size)
    target_features = None if extractor is None else extractor(target)["features"]
    scores = image_scores(outputs, target, extractor, target_features, paired)
    if back is not None:
        round_trip = _translate_all(back, outputs, batch_size)
        scores["cycle_l1"] = float(np.mean(np.abs(_to_float(round_trip) - _to_float(source))))
    scores["baseline_identity"] = image_scores(source, target, extractor, target_features, paired)
    scores["num_images"] = int(len(source))
    return scores, outputs


def load_translator(path, direction=None):
    """``(translate, back)`` of an exported image-to-image model (its
    SavedModel, no zoo needed): ``translate`` is ``direction`` (``a_to_b``,
    ``b_to_a``; default ``serving_default``), ``back`` the other direction of
    a two-way model (else None). Both map float32 images in [-1, 1] to the
    same."""
    from pathlib import Path

    import tensorflow as tf

    from zoo.core.errors import ConfigError

    path = Path(path)
    if (path / "saved_model").is_dir():
        path = path / "saved_model"
    if not (path / "saved_model.pb").is_file():
        raise ConfigError(f"no SavedModel at {path}: pass an export folder of an image-to-image model")
    signatures = tf.saved_model.load(str(path)).signatures
    name = direction or "serving_default"
    if name not in signatures:
        raise ConfigError(f"{path} has no {name!r} signature; it has {', '.join(sorted(signatures))}")
    inputs = signatures[name].structured_input_signature[1]
    if "images" not in inputs:
        raise ConfigError(f"{path} is not an image-to-image model: its {name} takes {', '.join(inputs)}")

    def call(signature):
        return lambda images: signature(images=tf.constant(images, tf.float32))["images"].numpy()

    reverse = {"a_to_b": "b_to_a", "b_to_a": "a_to_b", "serving_default": "b_to_a"}.get(name)
    back = call(signatures[reverse]) if reverse in signatures else None
    return call(signatures[name]), back
