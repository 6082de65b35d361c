"""Conditional GAN: labels reach both players, losses, one train step,
generation by label, round trips, serving, two replicas, presets."""

import zoo  # noqa: F401
import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo import data
from zoo.models.cgan import CGAN, ConditionalDiscriminator, ConditionalGenerator

from gan_checks import (
    assert_generator_round_trip,
    assert_replicas_match,
    assert_served_without_zoo,
)

SHAPE = (28, 28, 1)


def small_cgan(seed=0, optimizer=None):
    keras.utils.set_random_seed(seed)
    model = CGAN(
        ConditionalGenerator(SHAPE, num_classes=10, latent_dim=8, base_filters=8),
        ConditionalDiscriminator(SHAPE, num_classes=10, base_filters=8),
        seed=seed,
    )
    if optimizer is None:
        model.compile()
    else:
        model.compile(d_optimizer=optimizer(), g_optimizer=optimizer())
    return model


def real_batch(n=16, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.uniform(-1, 1, (n,) + SHAPE).astype("float32")
    return images, np.arange(n) % 10


def fixed_noise(model, n=16, seed=1):
    noise = tf.constant(np.random.default_rng(seed).normal(size=(n, 8)).astype("float32"))
    model.sample_latent = lambda batch_size: noise
    return noise


def _trainables(network):
    return [w.numpy().copy() for w in network.trainable_weights]


def _unchanged(before, network):
    return all(np.array_equal(b, w.numpy()) for b, w in zip(before, network.trainable_weights))


def _constant_logits(model, value):
    # Zero kernel: the discriminator's logit is its bias for every input.
    logits = model.discriminator.get_layer("logits")
    logits.kernel.assign(tf.zeros_like(logits.kernel))
    logits.bias.assign([value])


def test_networks_take_noise_and_labels_by_name():
    generator = ConditionalGenerator(SHAPE, num_classes=10, latent_dim=8, base_filters=4)
    discriminator = ConditionalDiscriminator(SHAPE, num_classes=10, base_filters=4)
    assert [t.name for t in generator.inputs] == ["noise", "labels"]
    assert generator.inputs[1].dtype == "int32"
    noise = np.random.default_rng(0).normal(size=(3, 8)).astype("float32")
    images = generator({"noise": noise, "labels": np.array([0, 4, 9], "int32")})
    assert images.shape == (3,) + SHAPE
    assert np.all(np.abs(images) <= 1.0)
    # (Keras refuses a dict mixing tensors and arrays: both tensors here.)
    logits = discriminator({"images": images, "labels": tf.constant([0, 4, 9])})
    assert logits.shape == (3, 1)


def test_changing_only_the_label_changes_the_image_and_the_logit():
    model = small_cgan()
    noise = np.repeat(np.random.default_rng(2).normal(size=(1, 8)), 3, 0).astype("float32")
    images = model.generate_from_noise(noise, labels=[3, 3, 7])
    np.testing.assert_array_equal(images[0], images[1])
    assert np.abs(images[0] - images[2]).max() > 1e-4

    same_image = tf.repeat(images[:1], 2, axis=0)
    logits = model.discriminate(same_image, np.array([3, 7]))
    assert abs(float(logits[0, 0] - logits[1, 0])) > 1e-6


def test_losses_on_constant_logits_match_hand_computed_values():
    model = small_cgan()
    _constant_logits(model, 0.5)
    images, labels = real_batch()
    # Every logit is 0.5, real or fake:
    # d_loss = softplus(-0.5) + softplus(0.5) = ln(1 + e^-0.5) + ln(1 + e^0.5)
    #        = ln(1.606531) + ln(2.648721) = 0.474077 + 0.974077 = 1.448154.
    d_logs = model.discriminator_step(tf.constant(images), tf.constant(labels))
    np.testing.assert_allclose(float(d_logs["d_loss"]), 1.448154, rtol=1e-5)

    model = small_cgan()
    _constant_logits(model, 0.5)
    # Non-saturating g_loss = softplus(-0.5) = 0.474077.
    g_logs = model.generator_step(tf.constant(images), tf.constant(labels))
    np.testing.assert_allclose(float(g_logs["g_loss"]), 0.474077, rtol=1e-5)


def test_discriminator_loss_conditions_real_and_fake_on_the_batch_labels():
    model = small_cgan()
    noise = fixed_noise(model)
    images, labels = real_batch()

    def softplus(t):
        return np.logaddexp(0.0, t)

    def expected(label_order):
        # Before the update: -log D(x|y) - log(1 - D(G(z|y)|y)) per example.
        fake = model.generate_images(noise, label_order, training=True)
        real_logits = model.discriminate(images, label_order, training=True).numpy()
        fake_logits = model.discriminate(fake, label_order, training=True).numpy()
        return float(np.mean(softplus(-real_logits) + softplus(fake_logits)))

    with_labels = expected(labels)
    with_other_labels = expected(np.roll(labels, 3))
    assert abs(with_labels - with_other_labels) > 1e-4  # the labels matter
    logs = model.discriminator_step(tf.constant(images), tf.constant(labels))
    np.testing.assert_allclose(float(logs["d_loss"]), with_labels, rtol=1e-5)


def test_each_step_updates_only_its_player():
    model = small_cgan()
    images, labels = real_batch()
    g_before, d_before = _trainables(model.generator), _trainables(model.discriminator)
    model.discriminator_step(tf.constant(images), tf.constant(labels))
    assert _unchanged(g_before, model.generator)
    assert not _unchanged(d_before, model.discriminator)

    d_before = _trainables(model.discriminator)
    model.generator_step(tf.constant(images), tf.constant(labels))
    assert _unchanged(d_before, model.discriminator)
    assert not _unchanged(g_before, model.generator)


def test_fit_on_the_recipes_labelled_stream():
    # zoo.data's stream with labels gives (float32 images, int64 labels), as
    # the recipe feeds conditional models.
    model = small_cgan()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (32,) + SHAPE, dtype=np.uint8)
    labels = rng.integers(0, 10, 32)
    stream = data.make_dataset(images, labels, 16, with_labels=True)
    history = model.fit(stream, epochs=1, steps_per_epoch=2, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss"}
    assert np.isfinite(history.history["d_loss"][0])
    assert int(model.step.numpy()) == 2


def test_training_without_labels_fails_clearly():
    model = small_cgan()
    with pytest.raises(ValueError, match="needs class labels"):
        model.train_on_batch(real_batch()[0])


def test_generate_by_label():
    model = small_cgan()
    default = model.generate(12, seed=3)
    cycling = model.generate(12, seed=3, labels=np.arange(12) % 10)
    assert default.shape == (12,) + SHAPE
    np.testing.assert_array_equal(default, cycling)
    sevens = model.generate(12, seed=3, labels=np.full(12, 7))
    assert np.abs(sevens - default).max() > 1e-4
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 10\)"):
        model.generate(2, seed=0, labels=[0, 10])
    with pytest.raises(ValueError, match=r"labels must have shape \(3,\)"):
        model.generate(3, seed=0, labels=[1, 2])


def test_players_must_agree_on_the_classes():
    with pytest.raises(ValueError, match="10 classes and the discriminator 5"):
        CGAN(
            ConditionalGenerator(SHAPE, num_classes=10, latent_dim=8, base_filters=4),
            ConditionalDiscriminator(SHAPE, num_classes=5, base_filters=4),
        )


def test_networks_keras_round_trip(tmp_path):
    model = small_cgan()
    model.train_on_batch(*real_batch())
    noise = np.random.default_rng(1).normal(size=(4, 8)).astype("float32")
    labels = np.array([0, 3, 5, 9], "int32")
    assert_generator_round_trip(
        model.generator, tmp_path, {"noise": noise, "labels": labels}
    )
    path = tmp_path / "discriminator.keras"
    model.discriminator.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is ConditionalDiscriminator
    images = real_batch(4)[0]
    np.testing.assert_allclose(
        loaded({"images": images, "labels": labels}),
        model.discriminator({"images": images, "labels": labels}),
        atol=1e-6,
    )


def test_whole_model_config_and_keras_round_trip(tmp_path):
    model = small_cgan()
    model.d_steps = 2
    clone = CGAN.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    assert clone.num_classes == 10 and clone.d_steps == 2
    path = tmp_path / "cgan.keras"
    model.save(path)
    loaded = keras.models.load_model(path, compile=False)
    assert type(loaded) is CGAN and type(loaded.generator) is ConditionalGenerator
    np.testing.assert_allclose(
        loaded.generate(4, seed=1, labels=[1, 2, 3, 4]),
        model.generate(4, seed=1, labels=[1, 2, 3, 4]),
        atol=1e-6,
    )


def test_served_savedmodel_takes_noise_and_labels(tmp_path):
    model = small_cgan()
    noise = np.random.default_rng(4).normal(size=(5, 8)).astype("float32")
    labels = np.array([0, 1, 2, 8, 9], "int32")
    _, metadata = assert_served_without_zoo(
        model, tmp_path, {"noise": noise, "labels": labels}
    )
    assert metadata["architecture"] == "cgan"
    assert metadata["inputs"] == ["noise", "labels"]
    assert metadata["latent_dim"] == 8


def test_two_replicas_match_one_device():
    images, labels = real_batch(8, seed=5)
    assert_replicas_match(
        lambda: small_cgan(seed=3, optimizer=lambda: keras.optimizers.SGD(0.1)),
        (images, labels),
    )


def test_presets_build():
    assert zoo.get("cgan") is CGAN
    model = CGAN.from_preset("cgan_mnist", seed=0)
    assert model.conditional and model.condition.describe() == {"kind": "class", "num_classes": 10}
    assert model.generator.output_shape == (None, 28, 28, 1)
    assert model.num_classes == 10 and model.latent_dim == 100
    assert CGAN.preset_config("cgan_mnist")["training"]["batch_size"] == 100
    cifar = CGAN.from_preset("cgan_cifar10", seed=0)
    assert cifar.generator.output_shape == (None, 32, 32, 3)
    assert {"cgan_mnist", "cgan_cifar10"} <= set(zoo.presets())


def test_train_step_and_generation_with_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = small_cgan()
        logs = model.train_on_batch(*real_batch(), return_dict=True)
        assert all(np.isfinite(v) for v in logs.values())
        assert model.generate(3, seed=0).dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")
