"""Small domain classifiers for fast scores on CPU: MNIST and Fashion-MNIST.

A 4-conv CNN maps uint8-valued images [N, 28, 28, 1] (as float or uint8;
it rescales to [0, 1] itself) to 10-way logits. Its 128-unit penultimate
layer, named ``features``, gives "classifier FID" (the Fréchet distance of
``zoo.metrics.frechet`` on these features instead of Inception's), and its
softmax gives the "classifier score" (the Inception Score formula of
``zoo.metrics.inception_score`` on these logits). Both are far cheaper
than the Inception network (28x28 instead of 299x299 inputs) and, for
digits and clothes, arguably more meaningful; they are comparable only
between runs that use the same shipped classifier file.

Trained by ``python -m zoo.metrics.train_classifier``; shipped under
``savedmodels/classifiers/<dataset>/classifier.keras`` with a model card.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import keras
import tensorflow as tf

from zoo.core.errors import MissingFileError
from zoo.metrics.features import FeatureExtractor

CLASSIFIER_DATASETS = ("mnist", "fashion_mnist")
FEATURE_LAYER = "features"
LOGITS_LAYER = "logits"


def shipped_classifier_path(dataset: str) -> Path:
    """``<repo>/savedmodels/classifiers/<dataset>/classifier.keras``."""
    return Path(__file__).resolve().parents[2] / "savedmodels" / "classifiers" / dataset / "classifier.keras"


def build_classifier(num_classes: int = 10, image_shape=(28, 28, 1)) -> keras.Model:
    """The domain classifier: uint8-valued [N, 28, 28, 1] -> logits [N, num_classes].

    Two stages of conv3x3-ReLU x 2 and 2x2 max-pool (32 and 64 filters), a
    128-unit ReLU layer named ``features`` and a linear ``logits`` layer;
    dropout regularises training only.
    """
    inputs = keras.Input(image_shape, name="images")
    x = keras.layers.Rescaling(1.0 / 255.0)(inputs)
    for filters in (32, 64):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dropout(0.25)(x)
    x = keras.layers.Dense(128, activation="relu", name=FEATURE_LAYER)(x)
    x = keras.layers.Dropout(0.4)(x)
    logits = keras.layers.Dense(num_classes, name=LOGITS_LAYER)(x)
    return keras.Model(inputs, logits, name="domain_classifier")


def load_classifier(dataset: str, path: str | Path | None = None) -> keras.Model:
    """The shipped classifier of ``dataset`` (or the ``.keras`` file at ``path``)."""
    path = Path(path or shipped_classifier_path(dataset))
    if not path.exists():
        raise MissingFileError(
            f"no domain classifier for {dataset!r} at {path}: classifiers ship for "
            f"{', '.join(CLASSIFIER_DATASETS)}; score other data with --networks inception"
        )
    return keras.models.load_model(path, compile=False)


def classifier_extractor(dataset: str, path: str | Path | None = None) -> FeatureExtractor:
    """Extractor giving the classifier's ``features`` [N, 128] and ``logits`` [N, 10].

    Its name carries a hash of the classifier file, so cached real-data
    features are never reused across retrained classifiers.
    """
    path = Path(path or shipped_classifier_path(dataset))
    model = load_classifier(dataset, path)
    both = keras.Model(model.inputs, {"features": model.get_layer(FEATURE_LAYER).output,
                                      "logits": model.get_layer(LOGITS_LAYER).output})
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
    return FeatureExtractor(f"classifier_{dataset}_{digest}", both,
                            lambda images: tf.cast(images, tf.float32))
