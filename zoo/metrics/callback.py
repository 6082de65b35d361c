"""A Keras callback that tracks FID (or classifier FID) of a GAN during ``fit``."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from zoo.core.errors import ConfigError
from zoo.metrics.features import FeatureExtractor
from zoo.metrics.frechet import frechet_distance, gaussian_statistics
from zoo.metrics.preprocess import quantize_to_uint8


class FIDCallback(keras.callbacks.Callback):
    """Every ``every_n_epochs`` epochs, score ``model.generate(num_samples, seed=seed)``.

    The Fréchet distance between the generated images' features and the
    real images' (computed once, on first use) is written to ``logs`` under
    ``metric_name`` ("fid" for the Inception network, "classifier_fid" for a
    domain classifier), so ``History``, ``CSVLogger`` and a ``TensorBoard``
    callback placed *after* this one in the callback list see it too; and,
    with ``log_dir``, to TensorBoard directly via ``tf.summary.scalar`` at
    step ``epoch`` (0-based, as Keras's own TensorBoard callback does).
    Epochs that are skipped log nothing.

    Args:
      network: ``"inception"`` (standard FID; slow on CPU) or
        ``"classifier"`` (the shipped domain classifier of ``dataset``;
        fast), or a ready ``FeatureExtractor``.
      real_images: uint8 [N, H, W, C] real images; or None to use the
        cached features of ``dataset``/``real_split`` (``num_real`` images).
      dataset, data_dir, real_split, num_real: where the real images come
        from when ``real_images`` is None; ``dataset`` also picks the classifier.
      num_samples: generated images per evaluation (FID is biased upwards
        at small counts: compare values only at equal counts).
      every_n_epochs: evaluate after epochs ``n-1, 2n-1, ...`` (0-based).
      seed: noise seed, the same every time so that epochs are comparable.
      log_dir: TensorBoard folder, or None for ``logs`` only.
    """

    def __init__(self, network="classifier", real_images=None, dataset: str | None = None,
                 data_dir=None, real_split: str = "test", num_real: int | None = None,
                 num_samples: int = 1000, every_n_epochs: int = 1, seed: int = 0,
                 log_dir: str | None = None, batch_size: int = 64):
        super().__init__()
        if real_images is None and dataset is None:
            raise ConfigError("give real_images or a dataset")
        self.network = network
        self.real_images = real_images
        self.dataset, self.data_dir = dataset, data_dir
        self.real_split, self.num_real = real_split, num_real
        self.num_samples, self.every_n_epochs, self.seed = num_samples, every_n_epochs, seed
        self.batch_size = batch_size
        self.log_dir = log_dir
        self.metric_name = "fid" if network == "inception" else "classifier_fid"
        self._extractor: FeatureExtractor | None = None
        self._real_stats = None
        self._writer = None

    def _setup(self):
        from zoo.metrics.real_stats import real_features

        if isinstance(self.network, FeatureExtractor):
            self._extractor = self.network
        elif self.network == "inception":
            from zoo.metrics.features import inception_extractor
            self._extractor = inception_extractor()
        elif self.network == "classifier":
            from zoo.metrics.classifier import classifier_extractor
            self._extractor = classifier_extractor(self.dataset)
        else:
            raise ConfigError(f"unknown network {self.network!r}")
        if self.real_images is not None:
            features = self._extractor(self.real_images, batch_size=self.batch_size)["features"]
            self._real_stats = gaussian_statistics(features)
        else:
            real = real_features(self._extractor, self.dataset, self.real_split, self.num_real,
                                 self.data_dir, batch_size=self.batch_size)
            self._real_stats = (real["mu"], real["sigma"])

    def prepare(self):
        """Load the network and the real images' statistics now (they are
        otherwise loaded on first use), so that what is missing shows at once."""
        if self._extractor is None:
            self._setup()

    def compute(self) -> float:
        """The Fréchet distance of ``num_samples`` fresh samples of ``self.model``."""
        self.prepare()
        images = quantize_to_uint8(np.asarray(self.model.generate(self.num_samples, seed=self.seed)))
        features = self._extractor(images, batch_size=self.batch_size)["features"]
        return frechet_distance(*gaussian_statistics(features), *self._real_stats)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        value = self.compute()
        if logs is not None:
            logs[self.metric_name] = value
        self.log(value, step=epoch)

    def log(self, value, step):
        """Write ``value`` to TensorBoard under ``metric_name`` at ``step``
        (nothing without ``log_dir``). The writer opens here, not in setup:
        it closes when training ends, and a later fit() logs again."""
        if self.log_dir is None:
            return
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(str(self.log_dir))
        with self._writer.as_default():
            tf.summary.scalar(self.metric_name, value, step=step)
        self._writer.flush()

    def on_train_end(self, logs=None):
        self.close()

    def close(self):
        """Close the TensorBoard writer (a later ``log`` opens a new one)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
