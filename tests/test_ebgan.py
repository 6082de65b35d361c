"""EBGAN (Zhao et al. 2016): the auto-encoder discriminator, energies, margin
losses with the pulling-away term, train step, presets, saving, serving,
replicas."""

import zoo  # noqa: F401
import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.core import losses
from zoo.models.dcgan import DCGANGenerator
from zoo.models.ebgan import EBGAN, AutoEncoderDiscriminator, global_batch

from gan_checks import (
    assert_each_step_updates_only_its_player,
    assert_train_step_updates_both_players,
    assert_generator_round_trip,
    assert_replicas_match,
    assert_served_without_zoo,
    mirrored,
)

SHAPE = (28, 28, 1)


def small_ebgan(seed=0, **model_args):
    keras.utils.set_random_seed(seed)
    model = EBGAN(
        DCGANGenerator(SHAPE, latent_dim=8, base_filters=8),
        AutoEncoderDiscriminator(SHAPE, base_filters=8, embedding_dim=6),
        seed=seed,
        **model_args,
    )
    model.compile()
    return model


def real_batch(n=8, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n,) + SHAPE).astype("float32")




@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_auto_encoder_maps_images_to_a_reconstruction_and_an_embedding(shape):
    network = AutoEncoderDiscriminator(shape, base_filters=4, embedding_dim=5)
    images = np.random.default_rng(0).uniform(-1, 1, (3,) + shape).astype("float32")
    outputs = network(images)
    assert set(outputs) == {"reconstruction", "embedding"}
    assert outputs["reconstruction"].shape == (3,) + shape
    assert outputs["embedding"].shape == (3, 5)
    assert outputs["reconstruction"].dtype == "float32"


def test_energy_is_the_reconstruction_error_of_the_auto_encoder():
    model = small_ebgan()
    images = real_batch(3)
    reconstruction = model.discriminator(images)["reconstruction"].numpy()
    # ||Dec(Enc(x)) - x|| per example, computed directly.
    expected = np.sqrt(np.sum((reconstruction - images) ** 2, axis=(1, 2, 3)))
    outputs = model.discriminate(images)
    np.testing.assert_allclose(outputs["energy"], expected, rtol=1e-5)
    mse = small_ebgan(energy="mse").discriminate(images)["energy"]
    expected_mse = np.mean((reconstruction - images) ** 2, axis=(1, 2, 3))
    np.testing.assert_allclose(mse, expected_mse, rtol=1e-5)


def test_losses_on_fixed_energies_and_embeddings():
    model = small_ebgan(margin=10.0, pt_weight=0.1)
    real = {"energy": tf.constant([1.0, 2.0, 0.5]), "embedding": tf.ones((3, 2))}
    fake = {
        "energy": tf.constant([4.0, 12.0, 10.0]),
        "embedding": tf.constant([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
    }
    # L_D = D(x) + max(0, 10 - D(G(z))): 1 + 6, 2 + 0, 0.5 + 0.
    np.testing.assert_allclose(model.discriminator_loss(real, fake), [7.0, 2.0, 0.5])
    # L_G = D(G(z)) + 0.1 * pt_i with shares 1/4, 1/4, 1/2
    # (tests/test_losses_energy.py): 4.025, 12.025, 10.05.
    np.testing.assert_allclose(model.generator_loss(fake), [4.025, 12.025, 10.05], rtol=1e-6)
    plain = small_ebgan(pt_weight=0.0)
    np.testing.assert_allclose(plain.generator_loss(fake), [4.0, 12.0, 10.0])


def test_global_batch_gathers_every_replicas_examples_in_order():
    strategy = mirrored(2)

    @tf.function
    def gather():
        def local():
            replica = tf.distribute.get_replica_context().replica_id_in_sync_group
            return global_batch(tf.fill((2, 1), tf.cast(replica, tf.float32)))

        return strategy.run(local)

    for result in strategy.experimental_local_results(gather()):
        np.testing.assert_array_equal(result[:, 0], [0.0, 0.0, 1.0, 1.0])
    single = tf.constant([[1.0], [2.0]])
    assert global_batch(single) is single


def test_pulling_away_term_under_two_replicas_is_the_global_batch_term():
    # Each replica's shares, over the global batch, average to the PT of the
    # whole batch; the gradient of the summed replica losses is the
    # gradient of the whole batch's PT (all_gather sums gradients back).
    strategy = mirrored(2)
    embeddings = np.random.default_rng(3).normal(size=(4, 3)).astype("float32")
    with strategy.scope():
        variable = tf.Variable(embeddings)

    @tf.function
    def replica_losses_and_gradients():
        def local():
            replica = tf.distribute.get_replica_context().replica_id_in_sync_group
            with tf.GradientTape() as tape:
                rows = variable[replica * 2 : replica * 2 + 2]
                loss = tf.reduce_sum(losses.pulling_away_term(rows, global_batch(rows))) / 4.0
            gradient = tape.gradient(loss, variable)
            context = tf.distribute.get_replica_context()
            return context.all_reduce("sum", loss), context.all_reduce("sum", gradient)

        return strategy.run(local)

    loss, gradient = (
        strategy.experimental_local_results(x)[0] for x in replica_losses_and_gradients()
    )
    whole = tf.Variable(embeddings)
    with tf.GradientTape() as tape:
        expected = tf.reduce_mean(losses.pulling_away_term(whole))
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    np.testing.assert_allclose(gradient, tape.gradient(expected, whole), atol=1e-6)


def test_adversarial_loss_and_energy_are_checked():
    with pytest.raises(ValueError, match="adversarial_loss must be None, got 'hinge'"):
        small_ebgan(adversarial_loss="hinge")
    with pytest.raises(ValueError, match="Unknown energy 'l1'"):
        small_ebgan(energy="l1")


def test_one_train_step_updates_both_players():
    logs = assert_train_step_updates_both_players(small_ebgan(), real_batch())
    assert set(logs) == {"d_loss", "g_loss"}

def test_each_players_step_leaves_the_others_weights_alone():
    assert_each_step_updates_only_its_player(small_ebgan(), real_batch())

def test_discriminator_steps_lower_real_energy_and_raise_fake_energy():
    model = small_ebgan()
    model.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.SGD(0.0))
    real = tf.constant(real_batch())
    fake = model.generator(model.sample_latent(8), training=False)

    def mean_energy(images):
        # Batch statistics, as in the discriminator's steps.
        return float(tf.reduce_mean(model.discriminate(images, training=True)["energy"]))

    real_before, fake_before = mean_energy(real), mean_energy(fake)
    assert fake_before < 10.0  # inside the margin: the fakes are pushed up
    for _ in range(5):
        model.discriminator_step(real)
    assert mean_energy(real) < real_before
    assert mean_energy(fake) > fake_before


def test_model_config_round_trip(tmp_path):
    model = small_ebgan(margin=5.0, pt_weight=0.2, energy="mse")
    clone = EBGAN.from_config(model.get_config())
    assert type(clone) is EBGAN
    assert (clone.margin, clone.pt_weight, clone.energy) == (5.0, 0.2, "mse")
    assert clone.adversarial_loss is None
    assert clone.get_config() == model.get_config()
    path = tmp_path / "ebgan.keras"
    model.save(path)
    loaded = keras.models.load_model(path, compile=False)
    assert type(loaded) is EBGAN and type(loaded.discriminator) is AutoEncoderDiscriminator
    images = real_batch(4)
    np.testing.assert_allclose(
        loaded.discriminate(images)["energy"], model.discriminate(images)["energy"], rtol=1e-5
    )


def test_generator_keras_round_trip(tmp_path):
    model = small_ebgan()
    noise = np.random.default_rng(1).normal(size=(4, 8)).astype("float32")
    assert_generator_round_trip(model.generator, tmp_path, noise)


def test_served_without_zoo(tmp_path):
    model = small_ebgan()
    noise = np.random.default_rng(2).normal(size=(3, 8)).astype("float32")
    _, metadata = assert_served_without_zoo(model, tmp_path, {"noise": noise})
    assert metadata["architecture"] == "ebgan"


def test_two_replicas_match_one_device():
    # Exact, not within a tolerance: the pulling-away term is taken over the
    # global batch on every replica (see zoo.models.ebgan).
    def make():
        model = small_ebgan(seed=3)
        model.compile(
            d_optimizer=keras.optimizers.SGD(0.01), g_optimizer=keras.optimizers.SGD(0.01)
        )
        return model

    assert_replicas_match(make, real_batch(8, seed=5))


def test_preset_has_the_papers_mnist_settings():
    assert zoo.get("ebgan") is EBGAN
    training = EBGAN.preset_config("ebgan_mnist")["training"]
    assert training["batch_size"] == 64 and training["dataset"] == "mnist"
    optimizer = keras.optimizers.get(training["g_optimizer"])
    assert isinstance(optimizer, keras.optimizers.Adam)
    assert float(optimizer.learning_rate.numpy()) == pytest.approx(1e-3)
    model = EBGAN.from_preset("ebgan_mnist", seed=0)
    assert (model.margin, model.pt_weight, model.energy) == (10.0, 0.1, "l2")
    assert model.discriminator.get_layer("reconstruction").output.shape == (None, 28, 28, 1)
