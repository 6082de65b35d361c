"""Adversarial autoencoder: losses, the two training phases and what each
updates, encode/decode, priors, round trips, serving, two replicas, presets."""

import zoo  # noqa: F401
import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.models.aae import (
    AAE,
    AAEDecoder,
    AAEEncoder,
    LatentDiscriminator,
    mixture_means,
    sample_prior,
)
from zoo.core.adversarial import noise_for_seed

from gan_checks import (
    assert_generator_round_trip,
    assert_replicas_match,
    assert_served_without_zoo,
)

SHAPE = (28, 28, 1)
LATENT = 8


def small_aae(seed=0, optimizer=None, prior="normal", latent_dim=LATENT):
    keras.utils.set_random_seed(seed)
    model = AAE(
        generator=AAEDecoder(SHAPE, latent_dim=latent_dim, hidden_units=(16,)),
        discriminator=LatentDiscriminator(latent_dim, hidden_units=(16,)),
        encoder=AAEEncoder(SHAPE, latent_dim=latent_dim, hidden_units=(16,)),
        prior=prior,
        seed=seed,
    )
    if optimizer is None:
        model.compile()
    else:
        model.compile(
            d_optimizer=optimizer(),
            g_optimizer=optimizer(),
            reconstruction_optimizer=optimizer(),
        )
    return model


def real_batch(n=16, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n,) + SHAPE).astype("float32")


def _trainables(network):
    return [w.numpy().copy() for w in network.trainable_weights]


def _unchanged(before, network):
    return all(np.array_equal(b, w.numpy()) for b, w in zip(before, network.trainable_weights))


def _zero_layer(network, name, bias=0.0):
    layer = network.get_layer(name)
    layer.kernel.assign(tf.zeros_like(layer.kernel))
    layer.bias.assign(tf.fill(layer.bias.shape, bias))


def test_networks_map_images_to_codes_to_images():
    encoder = AAEEncoder(SHAPE, latent_dim=LATENT, hidden_units=(16, 16))
    decoder = AAEDecoder(SHAPE, latent_dim=LATENT, hidden_units=(16, 16))
    discriminator = LatentDiscriminator(LATENT, hidden_units=(16, 16))
    codes = encoder(real_batch(3))
    assert codes.shape == (3, LATENT) and codes.dtype == "float32"
    images = decoder(codes)
    assert images.shape == (3,) + SHAPE
    assert np.all(np.abs(images) <= 1.0)
    assert discriminator(codes).shape == (3, 1)
    assert [t.name for t in decoder.inputs] == ["noise"]


def test_reconstruction_loss_is_squared_error_summed_over_pixels():
    model = small_aae()
    images = np.zeros((2, 2, 2, 1), np.float32)
    reconstructed = np.zeros((2, 2, 2, 1), np.float32)
    reconstructed[0] = 0.5  # 2 * 2 pixels * 0.5^2 = 1.0
    reconstructed[1, 0, 0, 0] = -1.0  # (-1)^2 = 1
    reconstructed[1, 1, 1, 0] = 2.0  # + 2^2 = 5.0
    np.testing.assert_allclose(model.reconstruction_loss(images, reconstructed), [1.0, 5.0])


def test_reconstruction_phase_loss_on_fixed_inputs():
    model = small_aae()
    # Zero output layer: the decoder gives tanh(0) = 0 for every pixel, so
    # the loss is sum(x^2): 784 * 0.5^2 = 196 for x = 0.5 and 784 * 1 = 784
    # for x = -1; the batch mean is (196 + 784) / 2 = 490.
    _zero_layer(model.decoder, "pixels")
    images = np.concatenate([np.full((4,) + SHAPE, 0.5), np.full((4,) + SHAPE, -1.0)])
    logs = model.reconstruction_step(tf.constant(images, tf.float32))
    np.testing.assert_allclose(float(logs["reconstruction_loss"]), 490.0, rtol=1e-6)


def test_regularisation_phase_losses_on_constant_logits():
    model = small_aae()
    _zero_layer(model.discriminator, "logits", bias=0.5)
    images = tf.constant(real_batch())
    # Prior codes and encoded codes all get logit 0.5:
    # d_loss = softplus(-0.5) + softplus(0.5) = 0.474077 + 0.974077 = 1.448154.
    logs = model.discriminator_step(images)
    np.testing.assert_allclose(float(logs["d_loss"]), 1.448154, rtol=1e-5)

    model = small_aae()
    _zero_layer(model.discriminator, "logits", bias=0.5)
    # The encoder's non-saturating loss: softplus(-0.5) = 0.474077.
    logs = model.encoder_step(images)
    np.testing.assert_allclose(float(logs["g_loss"]), 0.474077, rtol=1e-5)


def test_discriminator_loss_puts_prior_samples_as_real_and_codes_as_fake():
    model = small_aae()
    images = tf.constant(real_batch())
    prior = tf.constant(np.random.default_rng(3).normal(size=(16, LATENT)), tf.float32)
    model.sample_latent = lambda batch_size: prior
    codes = model.encoder(images)
    # -log D(z_prior) - log(1 - D(q(x))) per example, before the update.
    real_logits = model.discriminator(prior).numpy()
    fake_logits = model.discriminator(codes).numpy()
    expected = np.mean(np.logaddexp(0, -real_logits) + np.logaddexp(0, fake_logits))
    swapped = np.mean(np.logaddexp(0, -fake_logits) + np.logaddexp(0, real_logits))
    assert abs(expected - swapped) > 1e-6
    logs = model.discriminator_step(images)
    np.testing.assert_allclose(float(logs["d_loss"]), expected, rtol=1e-5)


def test_reconstruction_phase_leaves_the_latent_discriminator_alone():
    model = small_aae()
    before = {n: _trainables(getattr(model, n)) for n in ("encoder", "decoder", "discriminator")}
    model.reconstruction_step(tf.constant(real_batch()))
    assert _unchanged(before["discriminator"], model.discriminator)
    assert not _unchanged(before["encoder"], model.encoder)
    assert not _unchanged(before["decoder"], model.decoder)


def test_regularisation_phase_leaves_the_decoder_alone():
    model = small_aae()
    images = tf.constant(real_batch())
    decoder_before = _trainables(model.decoder)
    encoder_before = _trainables(model.encoder)
    d_before = _trainables(model.discriminator)
    model.discriminator_step(images)
    assert not _unchanged(d_before, model.discriminator)
    assert _unchanged(encoder_before, model.encoder)

    d_before = _trainables(model.discriminator)
    model.encoder_step(images)
    assert not _unchanged(encoder_before, model.encoder)
    assert _unchanged(d_before, model.discriminator)
    assert _unchanged(decoder_before, model.decoder)


def test_one_train_step_runs_both_phases_once():
    model = small_aae()
    logs = model.train_on_batch(real_batch(), return_dict=True)
    assert set(logs) == {"reconstruction_loss", "d_loss", "g_loss"}
    assert all(np.isfinite(v) for v in logs.values())
    for optimizer in (model.reconstruction_optimizer, model.d_optimizer, model.g_optimizer):
        assert int(optimizer.iterations.numpy()) == 1
    assert int(model.step.numpy()) == 1


def test_default_optimizers_and_base_generator_step():
    model = small_aae()
    assert isinstance(model.reconstruction_optimizer, keras.optimizers.Adam)
    np.testing.assert_allclose(float(model.reconstruction_optimizer.learning_rate), 1e-3)
    np.testing.assert_allclose(float(model.g_optimizer.learning_rate), 2e-4)
    with pytest.raises(NotImplementedError, match="encoder_step"):
        model.generator_step(tf.zeros((4, 28, 28, 1)))


def test_checkpoint_weights_hold_all_three_optimizers(tmp_path):
    model = small_aae()
    model.train_on_batch(real_batch())
    path = str(tmp_path / "ckpt.weights.h5")
    model.save_weights(path)
    restored = small_aae(seed=1)
    restored.load_weights(path)
    assert int(restored.reconstruction_optimizer.iterations.numpy()) == 1
    for a, b in zip(model.reconstruction_optimizer.variables, restored.reconstruction_optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    images = real_batch(4)
    np.testing.assert_array_equal(restored.encode(images), model.encode(images))


def test_encode_and_decode_shapes_and_batching():
    model = small_aae()
    images = real_batch(10)
    codes = model.encode(images, batch_size=4)
    assert codes.shape == (10, LATENT)
    np.testing.assert_allclose(codes, model.encoder(images), atol=1e-6)
    decoded = model.decode(codes, batch_size=3)
    assert decoded.shape == (10,) + SHAPE
    np.testing.assert_allclose(decoded, model.decoder(codes), atol=1e-6)
    assert model.decoder is model.generator is model.export_generator


def test_normal_prior_generation_decodes_the_seeds_noise():
    model = small_aae()
    np.testing.assert_allclose(
        model.generate(5, seed=7), model.decode(noise_for_seed(5, LATENT, 7)), atol=1e-6
    )


def test_gaussian_mixture_prior():
    # Four components on a circle of radius 4 in the first two dimensions.
    np.testing.assert_allclose(
        mixture_means(4, 3),
        [[4, 0, 0], [0, 4, 0], [-4, 0, 0], [0, -4, 0]],
        atol=1e-6,
    )
    samples = sample_prior(2000, 2, [0, 0], "gaussian_mixture", 10).numpy()
    means = mixture_means(10, 2)
    distances = np.linalg.norm(samples[:, None] - means[None], axis=-1)
    # Standard deviation 0.5: every sample lies near some component mean,
    # and all 10 components are drawn about equally often (200 each).
    assert distances.min(axis=1).max() < 2.5
    counts = np.bincount(distances.argmin(axis=1), minlength=10)
    assert counts.min() > 120 and counts.max() < 280
    np.testing.assert_array_equal(
        samples, sample_prior(2000, 2, [0, 0], "gaussian_mixture", 10).numpy()
    )
    model = small_aae(prior="gaussian_mixture", latent_dim=2)
    codes = model.sample_latent(500).numpy()
    assert np.linalg.norm(codes, axis=1).mean() > 3.0  # not N(0, I)


def test_bad_priors_and_code_sizes_fail_clearly():
    with pytest.raises(ValueError, match="Unknown prior 'laplace'"):
        small_aae(prior="laplace")
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        small_aae(prior="gaussian_mixture", latent_dim=1)
    with pytest.raises(ValueError, match="code sizes must agree"):
        AAE(
            AAEDecoder(SHAPE, latent_dim=8, hidden_units=(4,)),
            LatentDiscriminator(8, hidden_units=(4,)),
            AAEEncoder(SHAPE, latent_dim=4, hidden_units=(4,)),
        )


def test_networks_keras_round_trip(tmp_path):
    model = small_aae()
    model.train_on_batch(real_batch())
    codes = np.random.default_rng(1).normal(size=(4, LATENT)).astype("float32")
    for name in ("decoder", "encoder", "discriminator"):
        (tmp_path / name).mkdir()
    assert_generator_round_trip(model.decoder, tmp_path / "decoder", codes)
    assert_generator_round_trip(model.encoder, tmp_path / "encoder", real_batch(4))
    assert_generator_round_trip(model.discriminator, tmp_path / "discriminator", codes)


def test_whole_model_config_and_keras_round_trip(tmp_path):
    model = small_aae(prior="gaussian_mixture")
    config = model.get_config()
    clone = AAE.from_config(config)
    assert clone.get_config() == config
    assert clone.prior == "gaussian_mixture" and type(clone.encoder) is AAEEncoder
    model.train_on_batch(real_batch())
    path = tmp_path / "aae.keras"
    model.save(path)
    loaded = keras.models.load_model(path, compile=False)
    assert type(loaded) is AAE and loaded.get_config() == config
    images = real_batch(4)
    np.testing.assert_allclose(loaded.encode(images), model.encode(images), atol=1e-6)
    codes = model.encode(images)
    np.testing.assert_allclose(loaded.decode(codes), model.decode(codes), atol=1e-6)
    np.testing.assert_allclose(loaded.generate(3, seed=2), model.generate(3, seed=2), atol=1e-6)


def test_served_savedmodel_is_the_decoder(tmp_path):
    model = small_aae()
    codes = np.random.default_rng(4).normal(size=(5, LATENT)).astype("float32")
    _, metadata = assert_served_without_zoo(model, tmp_path, {"noise": codes})
    assert metadata["architecture"] == "aae" and metadata["latent_prior"] == {"name": "normal"}
    assert metadata["latent_dim"] == LATENT and metadata["image_shape"] == [28, 28, 1]


def test_served_sample_signature_draws_the_mixture_prior(tmp_path):
    # assert_served_without_zoo checks `sample` against model.generate(seed=...),
    # which decodes mixture codes; check those codes are the mixture's.
    model = small_aae(prior="gaussian_mixture")
    codes = model.latent_for_seed(400, [5, 0]).numpy()
    nearest = np.linalg.norm(codes[:, None, :2] - mixture_means(10, LATENT)[None, :, :2], axis=-1).min(1)
    assert np.all(nearest < 2.5) and np.linalg.norm(codes[:, :2], axis=-1).mean() > 3.0
    _, metadata = assert_served_without_zoo(model, tmp_path, {"noise": codes[:5]})
    assert metadata["latent_prior"] == {"name": "gaussian_mixture", "components": 10}


def test_two_replicas_match_one_device():
    # One sample_latent call per step: the prior codes of the discriminator.
    assert_replicas_match(
        lambda: small_aae(seed=3, optimizer=lambda: keras.optimizers.SGD(0.05)),
        real_batch(8, seed=5),
        calls_per_step=1,
    )


def test_presets_build():
    assert zoo.get("aae") is AAE
    model = AAE.from_preset("aae_mnist", seed=0)
    assert not model.conditional and model.condition.kind == "none"
    assert model.encoder.output_shape == (None, 8)
    assert model.decoder.output_shape == (None, 28, 28, 1)
    assert model.encoder.hidden_units == (1000, 1000)
    assert model.discriminator.hidden_units == (1000, 1000)
    assert AAE.preset_config("aae_mnist")["training"]["batch_size"] == 100
    mixture = AAE.from_preset(
        "aae_mnist_mixture", encoder={"hidden_units": (4,)}, generator={"hidden_units": (4,)}
    )
    assert mixture.prior == "gaussian_mixture" and mixture.latent_dim == 2
    assert mixture.encoder.hidden_units == (4,)
    assert {"aae_mnist", "aae_mnist_mixture"} <= set(zoo.presets())


def test_float16_policy_wraps_all_three_optimizers_in_loss_scaling():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = small_aae()
        for optimizer in (model.reconstruction_optimizer, model.d_optimizer, model.g_optimizer):
            assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
        logs = model.train_on_batch(real_batch(), return_dict=True)
        assert all(np.isfinite(v) for v in logs.values())
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_ema_averages_the_decoder_and_image_techniques_are_rejected():
    keras.utils.set_random_seed(0)

    def make(**kwargs):
        return AAE(
            AAEDecoder(SHAPE, latent_dim=LATENT, hidden_units=(16,)),
            LatentDiscriminator(LATENT, hidden_units=(16,)),
            AAEEncoder(SHAPE, latent_dim=LATENT, hidden_units=(16,)),
            seed=0,
            **kwargs,
        )

    model = make(ema_decay=0.5)
    model.compile()
    initial = [w.numpy().copy() for w in model.decoder.weights]
    model.train_on_batch(real_batch())
    # ema = 0.5 * initial + 0.5 * trained, weight by weight.
    for average, start, trained in zip(model.export_generator.weights, initial, model.decoder.weights):
        np.testing.assert_allclose(average.numpy(), 0.5 * start + 0.5 * trained.numpy(), atol=1e-6)
    codes = np.random.default_rng(0).normal(size=(2, LATENT)).astype("float32")
    np.testing.assert_allclose(model.decode(codes), model.export_generator(codes), atol=1e-6)
    for technique in ({"augment": "translation"}, {"unrolled_steps": 1}, {"fresh_real_batches": True}):
        with pytest.raises(ValueError, match="neither augment, unrolled_steps nor fresh_real_batches"):
            make(**technique)
