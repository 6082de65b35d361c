"""python -m zoo.evaluate end to end with the fast classifier metrics, and generator loading."""

import json

import numpy as np
import pytest
import tensorflow as tf

import keras
from conftest import shared_path
from zoo import evaluate
from zoo.metrics.generator_io import load_sampler, sample_uint8
from zoo.metrics.preprocess import quantize_to_uint8
from zoo.metrics.real_stats import real_features


def _tiny_generator(conditional=False):
    """A functional generator with the zoo's interface: noise [N, 4] (+ labels [N]) -> [N, 28, 28, 1]."""
    noise = keras.Input((4,), name="noise")
    inputs, x = [noise], noise
    if conditional:
        labels = keras.Input((), dtype="int32", name="labels")
        inputs.append(labels)
        x = keras.layers.Concatenate()([noise, keras.layers.Embedding(10, 4)(labels)])
    x = keras.layers.Dense(28 * 28, activation="tanh")(x)
    images = keras.layers.Reshape((28, 28, 1))(x)
    return keras.Model(inputs if conditional else noise, images)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_evaluate_generator_writes_classifier_scores(tmp_path, cache):
    data_dir = shared_path("datasets")
    keras.utils.set_random_seed(0)
    path = tmp_path / "generator.keras"
    _tiny_generator().save(path)
    output = tmp_path / "scores.json"
    printed = evaluate.main(["--generator", str(path), "--dataset", "mnist", "--data_dir", str(data_dir),
                             "--num_samples", "200", "--num_real", "300", "--networks", "classifier",
                             "--output", str(output)])
    scores = json.loads(output.read_text())
    # The JSON holds what main() returned: the same keys, equal numbers (to
    # JSON's float round trip) and equal non-numeric fields.
    assert scores.keys() == printed.keys()
    for key, value in printed.items():
        if isinstance(value, float):
            assert scores[key] == pytest.approx(value, rel=1e-12), key
        else:
            assert scores[key] == value, key
    assert scores["classifier_fid"] > 1.0  # an untrained generator is far from the digits
    assert scores["source_note"] is None  # MNIST's IDX files are the published ones
    assert 1.0 <= scores["classifier_score_mean"] <= 10.0
    assert list(cache.glob("real_features/classifier_mnist_*-mnist-test-300-*.npz"))


def test_real_vs_real_of_one_subset_is_zero_and_cached(cache):
    data_dir = shared_path("datasets")
    result = evaluate.evaluate("mnist", str(data_dir), num_samples=400, real_vs_real="test",
                               num_real=400, networks=["classifier"], progress=False)
    assert result["classifier_fid"] == pytest.approx(0.0, abs=1e-6)
    [cached] = cache.glob("real_features/*-mnist-test-400-*.npz")
    with np.load(cached) as stored:
        assert stored["features"].shape == (400, 128) and stored["sigma"].shape == (128, 128)
    # A different split gives a non-zero distance (mostly the small-sample bias of FID at 400).
    other = evaluate.evaluate("mnist", str(data_dir), num_samples=400, real_vs_real="train",
                              num_real=400, networks=["classifier"], progress=False)
    assert other["classifier_fid"] > 0.0


def test_real_features_of_a_subset_are_a_fixed_sample(cache):
    from zoo.metrics.classifier import classifier_extractor
    from zoo.metrics.real_stats import real_images

    data_dir = shared_path("datasets")
    subset = real_images("mnist", "test", 50, data_dir)
    assert subset.shape == (50, 28, 28, 1)
    np.testing.assert_array_equal(subset, real_images("mnist", "test", 50, data_dir))
    extractor = classifier_extractor("mnist")
    features = real_features(extractor, "mnist", "test", 50, data_dir)["features"]
    np.testing.assert_allclose(features, extractor(subset)["features"], rtol=1e-5, atol=1e-5)


def _export_saved_model(generator, path, conditional):
    """Export like the zoo does: serving_default(noise[, labels]) -> {images, images_uint8}."""
    noise_spec = tf.TensorSpec([None, 4], tf.float32, name="noise")

    def outputs(images):
        return {"images": images, "images_uint8": tf.cast(tf.round((images + 1) * 127.5), tf.uint8)}

    if conditional:
        @tf.function(input_signature=[noise_spec, tf.TensorSpec([None], tf.int32, name="labels")])
        def serve(noise, labels):
            return outputs(generator({"noise": noise, "labels": labels}, training=False))
    else:
        @tf.function(input_signature=[noise_spec])
        def serve(noise):
            return outputs(generator(noise, training=False))

    module = tf.Module()
    module.generator = generator
    tf.saved_model.save(module, str(path), signatures={"serving_default": serve})


@pytest.mark.parametrize("conditional", [False, True])
def test_saved_model_and_keras_generators_sample_alike(tmp_path, conditional):
    keras.utils.set_random_seed(1)
    generator = _tiny_generator(conditional)
    generator.save(tmp_path / "g.keras")
    _export_saved_model(generator, tmp_path / "export", conditional)

    noise = np.random.default_rng(5).standard_normal((20, 4)).astype(np.float32)
    labels = np.arange(20) % 10
    inputs = {"noise": noise, "labels": labels} if conditional else noise
    expected = quantize_to_uint8(generator(inputs, training=False))
    for path in (tmp_path / "g.keras", tmp_path / "export"):
        sampler = load_sampler(path)
        assert sampler.latent_dim == 4 and sampler.conditional == conditional
        # A bare generator records no class count: it is given.
        images = sample_uint8(sampler, 20, seed=5, batch_size=8, num_classes=10 if conditional else None)
        assert images.shape == (20, 28, 28, 1) and images.dtype == np.uint8
        # Graph and eager float32 may differ in the last bit, which can move a rounding by one.
        assert np.abs(images.astype(int) - expected).max() <= 1


def test_an_exported_mixture_prior_is_what_evaluation_samples(tmp_path):
    # An AAE trained on the Gaussian-mixture prior decodes mixture codes, not
    # N(0, I) noise: metadata.json records the prior and load_sampler uses it.
    from zoo import export
    from zoo.models.aae import AAE, AAEDecoder, AAEEncoder, LatentDiscriminator, mixture_means
    from zoo.metrics.generator_io import draw_latent

    keras.utils.set_random_seed(0)
    model = AAE(
        AAEDecoder((28, 28, 1), latent_dim=2, hidden_units=(8,)),
        LatentDiscriminator(2, hidden_units=(8,)),
        AAEEncoder((28, 28, 1), latent_dim=2, hidden_units=(8,)),
        prior="gaussian_mixture",
    )
    export_dir = export.save_generator(model, tmp_path / "aae")
    prior = {"name": "gaussian_mixture", "components": 10}
    for path in (export_dir, f"{export_dir}/saved_model", f"{export_dir}/generator.keras"):
        assert load_sampler(path).latent_prior == prior, path
    codes = draw_latent(np.random.default_rng(0), 1000, 2, prior)
    nearest = np.linalg.norm(codes[:, None] - mixture_means(10, 2)[None], axis=-1).min(1)
    assert codes.dtype == np.float32 and np.all(nearest < 2.5)
    sampler = load_sampler(f"{export_dir}/generator.keras")
    expected = model.decode(draw_latent(np.random.default_rng(3), 6, 2, prior))
    images = sample_uint8(sampler, 6, seed=3)
    assert np.abs(images.astype(int) - quantize_to_uint8(expected)).max() <= 1
    # A generator without metadata (not exported by the zoo) gets N(0, I).
    model.generator.save(tmp_path / "bare.keras")
    assert load_sampler(tmp_path / "bare.keras").latent_prior == {"name": "normal"}
    with pytest.raises(ValueError, match="Unknown latent prior"):
        draw_latent(np.random.default_rng(0), 2, 2, {"name": "laplace"})


def test_two_sources_of_one_dataset_name_are_cached_apart(tmp_path, cache):
    # "mnist" resolving to another folder (here Fashion-MNIST's files under
    # MNIST's names, as the JPEG CIFAR-10 copy and TFDS's original both
    # answer to "cifar10") must not be served the first folder's features.
    from zoo.metrics.classifier import classifier_extractor

    fashion = shared_path("datasets", "fashion_mnist")
    impostor = tmp_path / "impostor"
    impostor.mkdir()
    for path in fashion.glob("t10k-*"):
        (impostor / path.name).symlink_to(path)
    extractor = classifier_extractor("mnist")
    real = real_features(extractor, "mnist", "test", 200, str(shared_path("datasets", "mnist")))
    other = real_features(extractor, "mnist", "test", 200, str(impostor))
    assert np.abs(real["mu"] - other["mu"]).max() > 0.1
    assert len(list(cache.glob("real_features/*-mnist-test-200-*.npz"))) == 2


def test_a_conditional_generator_is_sampled_over_its_own_classes(tmp_path):
    # A 3-class cGAN: evaluation must draw labels 0..2 (read from the export),
    # not 0..9, which the one-hot layer would silently map to all zeros.
    from zoo import export
    from zoo.core.errors import ConfigError
    from zoo.models.cgan import CGAN, ConditionalDiscriminator, ConditionalGenerator

    keras.utils.set_random_seed(0)
    model = CGAN(
        ConditionalGenerator((28, 28, 1), num_classes=3, latent_dim=4, base_filters=4),
        ConditionalDiscriminator((28, 28, 1), num_classes=3, base_filters=4),
    )
    export_dir = export.save_generator(model, tmp_path / "export")
    assert export.load_metadata(export_dir)["condition"] == {"kind": "class", "num_classes": 3}
    for path in (export_dir, tmp_path / "export" / "generator.keras", tmp_path / "export" / "saved_model"):
        sampler = load_sampler(path)
        assert sampler.conditional and sampler.num_classes == 3
        seen = []
        generate = sampler.generate
        sampler.generate = lambda noise, labels: seen.append(labels) or generate(noise, labels)
        sample_uint8(sampler, 7, batch_size=4)
        assert np.concatenate(seen).tolist() == [0, 1, 2, 0, 1, 2, 0]
    bare = tmp_path / "bare.keras"
    _tiny_generator(conditional=True).save(bare)
    with pytest.raises(ConfigError, match="--num_classes"):
        sample_uint8(load_sampler(bare), 4)
