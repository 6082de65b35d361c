"""Run a feature network over many uint8 images in batches, with a progress bar.

``FeatureExtractor`` wraps a network (the FID Inception or a domain
classifier) together with its preprocessing in one compiled
``tf.function``, and maps uint8 images [N, H, W, C] to float32 arrays:
``features`` [N, D] and, where the network has them, ``logits`` [N, K].
"""

from __future__ import annotations

from typing import Callable

import keras
import numpy as np
import tensorflow as tf


class FeatureExtractor:
    """uint8 images -> ``{"features": [N, D], "logits": [N, K]?}`` (float32 NumPy).

    Args:
      name: short name of the network, used in cache keys and reports
        ("inception", "classifier_mnist", ...).
      network: callable from preprocessed float32 batches to a tensor
        (taken as features) or a dict with ``features`` and ``logits``.
      preprocess: callable from a uint8 batch tensor to the network's input.
    """

    def __init__(self, name: str, network: Callable, preprocess: Callable):
        self.name = name
        self._network = network
        self._preprocess = preprocess
        self._step = tf.function(self._run, reduce_retracing=True)

    def _run(self, images_uint8):
        out = self._network(self._preprocess(images_uint8), training=False)
        return out if isinstance(out, dict) else {"features": out}

    def __call__(self, images_uint8, batch_size: int = 64, progress: bool = False,
                 description: str = "") -> dict[str, np.ndarray]:
        images_uint8 = np.asarray(images_uint8)
        if images_uint8.dtype != np.uint8 or images_uint8.ndim != 4:
            raise ValueError(f"expected uint8 [N, H, W, C], got {images_uint8.dtype} {images_uint8.shape}")
        bar = keras.utils.Progbar(len(images_uint8), unit_name="image") if progress else None
        if bar is not None and description:
            print(description, flush=True)
        chunks: dict[str, list[np.ndarray]] = {}
        for start in range(0, len(images_uint8), batch_size):
            batch = images_uint8[start:start + batch_size]
            for key, value in self._step(tf.constant(batch)).items():
                chunks.setdefault(key, []).append(value.numpy())
            if bar is not None:
                bar.add(len(batch))
        return {key: np.concatenate(values) for key, values in chunks.items()}


def inception_extractor(with_logits: bool = False) -> FeatureExtractor:
    """The FID Inception (pool3 features; 1008 logits too if ``with_logits``)."""
    from zoo.metrics.inception_weights import load_fid_inception
    from zoo.metrics.preprocess import inception_inputs

    model = load_fid_inception(with_logits=with_logits)
    if with_logits:
        def network(x, training=False):
            out = model(x, training=training)
            return {"features": out["pool3"], "logits": out["logits"]}
    else:
        network = model
    return FeatureExtractor("inception", network, inception_inputs)
