"""LSGAN (Mao et al. 2017): both target codings, train step, presets, saving,
serving, replicas."""

import zoo  # noqa: F401
import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.models.dcgan import DCGANDiscriminator, DCGANGenerator
from zoo.models.lsgan import LSGAN

from gan_checks import (
    assert_each_step_updates_only_its_player,
    assert_train_step_updates_both_players,
    assert_generator_round_trip,
    assert_replicas_match,
    assert_served_without_zoo,
)

SHAPE = (28, 28, 1)
REAL = np.array([[2.0], [-1.0], [0.0]], np.float32)
FAKE = np.array([[-3.0], [0.5], [1.0]], np.float32)


def small_lsgan(seed=0, **model_args):
    keras.utils.set_random_seed(seed)
    model = LSGAN(
        DCGANGenerator(SHAPE, latent_dim=8, base_filters=8),
        DCGANDiscriminator(SHAPE, base_filters=8),
        seed=seed,
        **model_args,
    )
    model.compile()
    return model


def real_batch(n=8, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n,) + SHAPE).astype("float32")




def test_default_is_the_zero_one_coding_of_eq_9():
    model = small_lsgan()
    assert (model.a, model.b, model.c) == (0.0, 1.0, 1.0)
    # 1/2 (D(x) - 1)^2 + 1/2 (D(G(z)) - 0)^2:
    # 0.5 * 1 + 0.5 * 9 = 5; 0.5 * 4 + 0.5 * 0.25 = 2.125; 0.5 * 1 + 0.5 * 1 = 1.
    np.testing.assert_allclose(model.discriminator_loss(REAL, FAKE), [5.0, 2.125, 1.0])
    # 1/2 (D(G(z)) - 1)^2: 0.5 * 16 = 8; 0.5 * 0.25 = 0.125; 0.
    np.testing.assert_allclose(model.generator_loss(FAKE), [8.0, 0.125, 0.0])


def test_pearson_coding_of_eq_8():
    model = small_lsgan(a=-1.0, b=1.0, c=0.0)
    # 1/2 (D(x) - 1)^2 + 1/2 (D(G(z)) + 1)^2:
    # 0.5 * 1 + 0.5 * 4 = 2.5; 0.5 * 4 + 0.5 * 2.25 = 3.125; 0.5 + 0.5 * 4 = 2.5.
    np.testing.assert_allclose(model.discriminator_loss(REAL, FAKE), [2.5, 3.125, 2.5])
    # 1/2 D(G(z))^2: 4.5, 0.125, 0.5.
    np.testing.assert_allclose(model.generator_loss(FAKE), [4.5, 0.125, 0.5])


def test_the_generator_gradient_does_not_vanish_for_confident_rejections():
    # The paper's motivation: a sample far on the fake side
    # (D(G(z)) = -10) still gets a gradient D(G(z)) - c = -11 from the least
    # squares loss, where the sigmoid cross-entropy's would be ~0.
    model = small_lsgan()
    fake = tf.constant([[-10.0]])
    with tf.GradientTape() as tape:
        tape.watch(fake)
        loss = model.generator_loss(fake)
    np.testing.assert_allclose(tape.gradient(loss, fake), [[-11.0]])


def test_other_adversarial_losses_are_rejected():
    with pytest.raises(ValueError, match="least squares loss; got adversarial_loss='hinge'"):
        small_lsgan(adversarial_loss="hinge")


def test_one_train_step_updates_both_players():
    logs = assert_train_step_updates_both_players(small_lsgan(), real_batch())
    assert set(logs) == {"d_loss", "g_loss"}

def test_each_players_step_leaves_the_others_weights_alone():
    assert_each_step_updates_only_its_player(small_lsgan(), real_batch())

def test_model_config_round_trip(tmp_path):
    model = small_lsgan(a=-1.0, b=1.0, c=0.0)
    clone = LSGAN.from_config(model.get_config())
    assert type(clone) is LSGAN and (clone.a, clone.b, clone.c) == (-1.0, 1.0, 0.0)
    assert clone.get_config() == model.get_config()
    path = tmp_path / "lsgan.keras"
    model.save(path)
    loaded = keras.models.load_model(path, compile=False)
    assert type(loaded) is LSGAN and (loaded.a, loaded.c) == (-1.0, 0.0)
    np.testing.assert_allclose(
        loaded.discriminator_loss(REAL, FAKE), model.discriminator_loss(REAL, FAKE)
    )


def test_generator_keras_round_trip(tmp_path):
    model = small_lsgan()
    noise = np.random.default_rng(1).normal(size=(4, 8)).astype("float32")
    assert_generator_round_trip(model.generator, tmp_path, noise)


def test_served_without_zoo(tmp_path):
    model = small_lsgan()
    noise = np.random.default_rng(2).normal(size=(3, 8)).astype("float32")
    _, metadata = assert_served_without_zoo(model, tmp_path, {"noise": noise})
    assert metadata["architecture"] == "lsgan"


def test_two_replicas_match_one_device():
    def make():
        model = small_lsgan(seed=3, a=-1.0, b=1.0, c=0.0)
        model.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1))
        return model

    assert_replicas_match(make, real_batch(8, seed=5))


def test_presets_build_with_the_papers_settings():
    assert zoo.get("lsgan") is LSGAN
    training = LSGAN.preset_config("lsgan_mnist")["training"]
    assert training["batch_size"] == 64 and training["dataset"] == "mnist"
    optimizer = keras.optimizers.get(training["d_optimizer"])
    assert isinstance(optimizer, keras.optimizers.Adam) and optimizer.beta_1 == 0.5
    assert float(optimizer.learning_rate.numpy()) == pytest.approx(2e-4)
    default = LSGAN.from_preset("lsgan_mnist", seed=0)
    pearson = LSGAN.from_preset("lsgan_mnist_pearson", seed=0)
    assert (default.a, default.b, default.c) == (0.0, 1.0, 1.0)
    assert (pearson.a, pearson.b, pearson.c) == (-1.0, 1.0, 0.0)
    assert pearson.generator.output_shape == (None, 28, 28, 1)
