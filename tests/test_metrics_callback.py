"""FIDCallback on a tiny stand-in GAN, scored with the fast MNIST classifier FID."""

import numpy as np
import pytest

import keras
from conftest import shared_path, tensorboard_scalars
from zoo.metrics import FIDCallback
from zoo.metrics.classifier import classifier_extractor


class TinyGAN(keras.Model):
    """Stand-in for ``zoo.core.adversarial.GAN``: a dense generator with ``latent_dim`` and ``generate``.

    ``fit`` trains the generator to map noise to fixed target images (MSE),
    which is enough to change its samples between epochs.
    """

    def __init__(self, latent_dim=8):
        super().__init__()
        self.latent_dim = latent_dim
        self.generator = keras.Sequential([
            keras.Input((latent_dim,)),
            keras.layers.Dense(28 * 28, activation="tanh"),
            keras.layers.Reshape((28, 28, 1)),
        ])

    def call(self, noise):
        return self.generator(noise)

    def generate(self, num_images, seed=None, labels=None):
        noise = np.random.default_rng(seed).standard_normal((num_images, self.latent_dim))
        return self.generator(noise.astype(np.float32), training=False)


class RealImagesGAN(keras.Model):
    """A "perfect generator": ``generate`` returns the given real uint8 images in [-1, 1]."""

    def __init__(self, images):
        super().__init__()
        self.images = images

    def generate(self, num_images, seed=None, labels=None):
        return self.images[:num_images] / 127.5 - 1.0


@pytest.fixture(scope="module")
def real_images():
    from zoo.data import load_arrays

    images, _ = load_arrays("mnist", split="test", data_dir=shared_path("datasets", "mnist"))
    return images[:300]


def _data():
    noise = np.random.default_rng(1).standard_normal((64, 8)).astype(np.float32)
    return noise, np.ones((64, 28, 28, 1), np.float32)


def _fit(model, callback, epochs):
    keras.utils.set_random_seed(0)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    return model.fit(*_data(), batch_size=32, epochs=epochs, verbose=0, callbacks=[callback])


def test_fid_callback_logs_classifier_fid_to_logs_and_tensorboard(real_images, tmp_path):
    model = TinyGAN()
    callback = FIDCallback("classifier", real_images=real_images, dataset="mnist",
                           num_samples=100, every_n_epochs=2, seed=3, log_dir=tmp_path)
    history = _fit(model, callback, epochs=4)
    values = history.history["classifier_fid"]
    # Logged after epochs 1 and 3 (0-based) only; Keras fills the others' history with nothing.
    assert len(values) == 2 and all(np.isfinite(values)) and min(values) > 0
    assert values[0] != values[1]  # the generator changed between the two evaluations
    assert tensorboard_scalars(tmp_path, "classifier_fid") == pytest.approx({1: values[0], 3: values[1]}, rel=1e-6)
    # The last value is the score of the final generator: recomputing gives it again.
    assert callback.compute() == pytest.approx(values[-1], rel=1e-9)
    # Training on (the writer closed when the first fit ended) logs on.
    more = model.fit(*_data(), batch_size=32, initial_epoch=4, epochs=6, verbose=0, callbacks=[callback])
    logged = tensorboard_scalars(tmp_path, "classifier_fid")
    assert sorted(logged) == [1, 3, 5]
    assert logged[5] == pytest.approx(more.history["classifier_fid"][0], rel=1e-6)


def test_fid_callback_scores_a_perfect_generator_zero(real_images):
    extractor = classifier_extractor("mnist")
    callback = FIDCallback(extractor, real_images=real_images, num_samples=len(real_images))
    callback.set_model(RealImagesGAN(real_images))
    assert callback.compute() == pytest.approx(0.0, abs=1e-6)
