"""The shipped domain classifiers meet their accuracy bars on the full real test sets."""

import numpy as np
import pytest

from conftest import shared_path
from zoo.metrics.classifier import classifier_extractor, load_classifier, shipped_classifier_path

BARS = {"mnist": 0.990, "fashion_mnist": 0.910}


@pytest.mark.parametrize("dataset", sorted(BARS))
def test_shipped_classifier_accuracy_on_full_test_set(dataset):
    from zoo.data import load_arrays

    path = shipped_classifier_path(dataset)
    assert path.exists(), f"{path} is not shipped"
    assert path.stat().st_size < 5_000_000
    images, labels = load_arrays(dataset, split="test", data_dir=shared_path("datasets", dataset))
    assert len(images) == 10_000
    logits = load_classifier(dataset).predict(images, batch_size=1000, verbose=0)
    assert (logits.argmax(axis=1) == labels).mean() >= BARS[dataset]


def test_classifier_extractor_gives_penultimate_features_and_logits():
    extractor = classifier_extractor("mnist")
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28, 1), dtype=np.uint8)
    out = extractor(images, batch_size=2)
    assert out["features"].shape == (5, 128) and out["logits"].shape == (5, 10)
    assert (out["features"] >= 0).all()  # ReLU layer
    np.testing.assert_allclose(out["logits"], load_classifier("mnist").predict(images, verbose=0),
                               rtol=1e-5, atol=1e-5)
