"""SNGAN (Miyato et al. 2018): hinge losses, the standard CNN, spectral
normalisation in training, train step, presets, saving, serving, replicas."""

import zoo  # noqa: F401
import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.core.layers import SpectralNormalization
from zoo.models.sngan import SNGAN, SNGANDiscriminator, SNGANGenerator

from gan_checks import (
    assert_generator_round_trip,
    assert_replicas_match,
    assert_served_without_zoo,
)

SHAPE = (28, 28, 1)


def small_sngan(seed=0, run_eagerly=False, **model_args):
    keras.utils.set_random_seed(seed)
    model = SNGAN(
        SNGANGenerator(SHAPE, latent_dim=8, base_filters=4),
        SNGANDiscriminator(SHAPE, base_filters=4),
        seed=seed,
        **model_args,
    )
    model.compile(run_eagerly=run_eagerly)
    return model


def real_batch(n=8, seed=0, group=None):
    """``[n, H, W, C]``, or ``[n, group, H, W, C]``: ``group`` real batches,
    one per discriminator update (``fresh_real_batches``)."""
    shape = (n,) + ((group,) if group else ()) + SHAPE
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype("float32")


def noise(n=4, dim=8):
    return np.random.default_rng(2).standard_normal((n, dim)).astype("float32")


def _values(variables):
    return [np.array(v.numpy()) for v in variables]


def _normalized_layers(network):
    return [layer for layer in network.layers if isinstance(layer, SpectralNormalization)]


def test_losses_are_the_hinge_losses():
    model = small_sngan()
    real = np.array([[2.0], [0.5]], np.float32)
    fake = np.array([[-3.0], [0.2]], np.float32)
    # max(0, 1 - D(x)) + max(0, 1 + D(G(z))): 0 + 0 = 0 and 0.5 + 1.2 = 1.7.
    np.testing.assert_allclose(model.discriminator_loss(real, fake), [0.0, 1.7], rtol=1e-6)
    # Generator: -D(G(z)).
    np.testing.assert_allclose(model.generator_loss(fake), [3.0, -0.2], rtol=1e-6)


def test_paper_standard_cnn_at_32x32():
    generator = SNGANGenerator((32, 32, 3))
    assert generator.get_layer("project").output.shape[-1] == 4 * 4 * 512
    assert [generator.get_layer(f"up{i}").output.shape[-1] for i in (1, 2, 3)] == [256, 128, 64]
    assert generator.output_shape == (None, 32, 32, 3)
    discriminator = SNGANDiscriminator((32, 32, 3))
    convolutions = [
        layer.layer for layer in _normalized_layers(discriminator) if layer.name != "logits"
    ]
    assert [c.filters for c in convolutions] == [64, 64, 128, 128, 256, 256, 512]
    assert [c.kernel_size[0] for c in convolutions] == [3, 4, 3, 4, 3, 4, 3]
    assert [c.strides[0] for c in convolutions] == [1, 2, 1, 2, 1, 2, 1]
    # Every weight layer is spectrally normalised, the logit included.
    assert len(_normalized_layers(discriminator)) == 8
    assert not any(
        isinstance(layer, keras.layers.BatchNormalization) for layer in discriminator.layers
    )


def test_networks_map_noise_to_images_and_images_to_logits():
    model = small_sngan()
    images = model.generator(noise(3))
    assert images.shape == (3,) + SHAPE and np.all(np.abs(images) <= 1.0)
    logits = model.discriminator(images)
    assert logits.shape == (3, 1) and logits.dtype == "float32"


def test_one_train_step_runs_five_discriminator_updates_then_one_generator_update():
    model = small_sngan(run_eagerly=True)  # eager: no trace of five unrolled steps
    assert model.d_steps == 5
    g_before = _values(model.generator.trainable_weights)
    d_before = _values(model.discriminator.trainable_weights)
    u_before = _values(layer.u for layer in _normalized_layers(model.discriminator))
    logs = model.train_on_batch(real_batch(group=5), return_dict=True)
    assert set(logs) == {"d_loss", "g_loss"} and all(np.isfinite(v) for v in logs.values())
    assert int(model.d_optimizer.iterations.numpy()) == 5
    assert int(model.g_optimizer.iterations.numpy()) == 1
    for before, after in zip(g_before, model.generator.trainable_weights):
        assert not np.allclose(before, after.numpy()), after.path
    for before, after in zip(d_before, model.discriminator.trainable_weights):
        if after.path == "logits/logits/bias":
            # While every logit is in (-1, 1) the hinge loss's bias gradient
            # is sum(-1 over real) + sum(+1 over fake) = 0: Adam leaves it.
            continue
        assert not np.allclose(before, after.numpy()), after.path
    # The power iteration ran: every persistent u moved, and stayed a unit
    # vector (the logit layer's u has one entry, so it is +-1 throughout).
    for before, layer in zip(u_before, _normalized_layers(model.discriminator)):
        np.testing.assert_allclose(np.linalg.norm(layer.u.numpy()), 1.0, rtol=1e-5)
        if layer.u.shape[0] > 1:
            assert not np.allclose(before, layer.u.numpy()), layer.name


def test_each_step_updates_only_its_own_player():
    model = small_sngan(run_eagerly=True)
    real = tf.constant(real_batch())
    g_before = _values(model.generator.trainable_weights)
    d_before = _values(model.discriminator.trainable_weights)
    model.discriminator_step(real)
    for before, after in zip(g_before, model.generator.trainable_weights):
        np.testing.assert_array_equal(before, after.numpy())
    d_before = _values(model.discriminator.trainable_weights)
    model.generator_step(real)
    for before, after in zip(d_before, model.discriminator.trainable_weights):
        np.testing.assert_array_equal(before, after.numpy())


def test_training_calls_drive_every_layer_to_spectral_norm_one():
    discriminator = small_sngan().discriminator
    images = real_batch(4)
    for _ in range(40):
        discriminator(images, training=True)
    for layer in _normalized_layers(discriminator):
        kernel = layer.normalized_kernel().numpy()
        matrix = kernel.reshape(-1, kernel.shape[-1])  # [kh*kw*cin, cout]
        top = np.linalg.svd(matrix.astype(np.float64), compute_uv=False)[0]
        assert abs(top - 1.0) < 1e-2, layer.name


def test_generator_keras_round_trip(tmp_path):
    model = small_sngan(run_eagerly=True)
    model.train_on_batch(real_batch(group=5))
    loaded = assert_generator_round_trip(model.generator, tmp_path, noise())
    assert type(loaded) is SNGANGenerator


def test_generator_is_served_without_zoo(tmp_path):
    model = small_sngan()
    _, metadata = assert_served_without_zoo(model, tmp_path, {"noise": noise()})
    assert metadata["architecture"] == "sngan"
    assert metadata["image_shape"] == list(SHAPE)


def test_two_replicas_match_one_device():
    def make_model():
        keras.utils.set_random_seed(3)
        model = SNGAN(
            SNGANGenerator(SHAPE, latent_dim=8, base_filters=4),
            SNGANDiscriminator(SHAPE, base_filters=4),
            d_steps=1,
            seed=3,
        )
        model.compile(
            d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1)
        )
        return model

    # Includes the spectral-norm vectors u, advanced on each replica.
    assert_replicas_match(make_model, real_batch(8, seed=5))


def test_model_config_and_keras_round_trip(tmp_path):
    model = small_sngan(run_eagerly=True, ema_decay=0.9)
    config = model.get_config()
    assert (config["d_steps"], config["adversarial_loss"]) == (5, "hinge")
    clone = SNGAN.from_config(config)
    assert clone.get_config() == config
    model.train_on_batch(real_batch(group=5))
    path = tmp_path / "sngan.keras"
    model.save(path)
    loaded = keras.models.load_model(path, compile=False)
    assert type(loaded) is SNGAN and type(loaded.discriminator) is SNGANDiscriminator
    for saved, restored in zip(
        _normalized_layers(model.discriminator), _normalized_layers(loaded.discriminator)
    ):
        np.testing.assert_array_equal(saved.u.numpy(), restored.u.numpy())
    images = real_batch(4)
    np.testing.assert_allclose(
        loaded.discriminator(images), model.discriminator(images), atol=1e-6
    )
    np.testing.assert_allclose(loaded.generate(2, seed=1), model.generate(2, seed=1), atol=1e-6)


@pytest.mark.parametrize(
    "preset, shape", [("sngan_mnist", (28, 28, 1)), ("sngan_cifar10", (32, 32, 3))]
)
def test_presets_build_with_the_papers_training_settings(preset, shape):
    model = SNGAN.from_preset(preset, seed=0)
    assert model.generator.output_shape == (None,) + shape
    assert model.discriminator.input_shape == (None,) + shape
    assert model.latent_dim == 128 and model.d_steps == 5
    assert model.adversarial_loss == "hinge"
    training = SNGAN.preset_config(preset)["training"]
    assert training["batch_size"] == 64
    adam = {"learning_rate": 2e-4, "beta_1": 0.0, "beta_2": 0.9}
    assert training["d_optimizer"]["config"] == training["g_optimizer"]["config"] == adam
    assert zoo.presets()[preset] == "sngan" and zoo.get("sngan") is SNGAN


def test_sndcgan_preset_trains_the_same_networks_with_the_authors_standard_cnn_settings():
    # chainer-gan-lib's sndcgan, the authors' code for the standard CNN: one
    # discriminator update per step, non-saturating loss, Adam(2e-4, 0.5,
    # 0.999), batch 64, 100k updates.
    model = SNGAN.from_preset("sndcgan_cifar10", seed=0)
    released = SNGAN.from_preset("sngan_cifar10", seed=0)
    assert model.d_steps == 1 and model.fresh_real_batches is False
    assert model.adversarial_loss == "non_saturating"
    assert [w.shape for w in model.generator.weights] == [w.shape for w in released.generator.weights]
    assert [w.shape for w in model.discriminator.weights] == [
        w.shape for w in released.discriminator.weights
    ]
    training = SNGAN.preset_config("sndcgan_cifar10")["training"]
    adam = {"learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.999}
    assert training["d_optimizer"]["config"] == training["g_optimizer"]["config"] == adam
    assert training["batch_size"] == 64 and training["dataset"] == "cifar10"
    assert abs(training["epochs"] * (50_000 // 64) - 100_000) < 50_000 // 64


def test_compile_defaults_to_the_papers_adam():
    model = small_sngan()
    for optimizer in (model.d_optimizer, model.g_optimizer):
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert (optimizer.beta_1, optimizer.beta_2) == (0.0, 0.9)
        np.testing.assert_allclose(float(optimizer.learning_rate), 2e-4)
    assert model.d_optimizer is not model.g_optimizer


def test_u_starts_as_a_unit_vector_so_an_inference_call_never_overestimates_sigma():
    # sigma = ||W u|| is a lower bound of the top singular value for a unit
    # u; an un-normalised u (norm ~ sqrt(64) = 8 here) overestimates it.
    keras.utils.set_random_seed(0)
    layer = SpectralNormalization(keras.layers.Dense(64))
    layer.build((None, 32))
    np.testing.assert_allclose(np.linalg.norm(layer.u.numpy()), 1.0, rtol=1e-6)
    top = np.linalg.svd(layer.kernel.numpy(), compute_uv=False)[0]
    assert float(layer.sigma(training=False)) <= top * (1 + 1e-5)
