"""The original GAN (Goodfellow et al. 2014) with MLPs: both losses, the
discriminator's dropout (checkpointed, the same on one device or two),
exact resume, saving, serving, presets."""

import numpy as np
import pytest
import tensorflow as tf

import keras
import zoo
from zoo.core import layers
from zoo.models.gan import MLPDiscriminator, MLPGenerator, VanillaGAN
from zoo.training import fit_resumable
from zoo.training.checkpoints import Checkpointer

from gan_checks import (
    assert_each_step_updates_only_its_player,
    assert_generator_round_trip,
    assert_replicas_match,
    assert_served_without_zoo,
    assert_train_step_updates_both_players,
    mirrored,
)

SHAPE = (28, 28, 1)


def small_gan(seed=0, optimizer=None, **model_args):
    keras.utils.set_random_seed(seed)
    model = VanillaGAN(
        MLPGenerator(SHAPE, latent_dim=8, hidden_units=(16,)),
        MLPDiscriminator(SHAPE, hidden_units=(32, 16), dropout=0.3),
        seed=seed,
        **model_args,
    )
    if optimizer:
        model.compile(d_optimizer=optimizer(), g_optimizer=optimizer())
    else:
        model.compile()
    return model


def real_batch(n=8, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n,) + SHAPE).astype("float32")


def test_losses_of_the_paper_on_constant_logits():
    # D(x) = 0.5 on real, -1 on fake.
    real, fake = np.full((2, 1), 0.5, "float32"), np.full((2, 1), -1.0, "float32")
    softplus = lambda t: np.logaddexp(0.0, t)  # noqa: E731
    minimax = small_gan(adversarial_loss="minimax")
    np.testing.assert_allclose(minimax.discriminator_loss(real, fake), [softplus(-0.5) + softplus(-1.0)] * 2, rtol=1e-6)
    # Saturating: log(1 - sigmoid(D(G(z)))) = -softplus(D(G(z))).
    np.testing.assert_allclose(minimax.generator_loss(fake), [-softplus(-1.0)] * 2, rtol=1e-6)
    # Non-saturating: -log sigmoid(D(G(z))) = softplus(-D(G(z))).
    np.testing.assert_allclose(small_gan().generator_loss(fake), [softplus(1.0)] * 2, rtol=1e-6)


def test_one_train_step_updates_both_players():
    logs = assert_train_step_updates_both_players(small_gan(), real_batch())
    assert set(logs) == {"d_loss", "g_loss"}


def test_each_players_step_leaves_the_others_weights_alone():
    assert_each_step_updates_only_its_player(small_gan(), real_batch())


def test_discriminator_dropout_is_the_zoos_checkpointed_dropout():
    discriminator = MLPDiscriminator(SHAPE, hidden_units=(32, 16), dropout=0.3)
    dropouts = [layer for layer in discriminator.layers if "dropout" in layer.name]
    assert len(dropouts) == 2 and all(type(d) is layers.Dropout for d in dropouts)
    assert all(d.rate == 0.3 for d in dropouts)


def test_dropout_drops_at_its_rate_scales_the_rest_and_is_identity_at_inference():
    layer = layers.Dropout(0.25, seed=3)
    ones = tf.ones((200, 50))
    first, second = layer(ones, training=True).numpy(), layer(ones, training=True).numpy()
    assert set(np.unique(first)) == {0.0, np.float32(1 / 0.75)}
    assert abs((first == 0).mean() - 0.25) < 0.02
    assert not np.array_equal(first, second)  # the stream moved on
    np.testing.assert_array_equal(layer(ones, training=False), ones)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        layers.Dropout(1.0)


def test_dropout_on_two_replicas_draws_the_one_device_mask():
    batch = np.ones((4, 6), "float32")
    single = layers.Dropout(0.5, seed=7)(tf.constant(batch), training=True).numpy()
    strategy = mirrored(2)
    with strategy.scope():
        layer = layers.Dropout(0.5, seed=7)
    shards = strategy.experimental_distribute_values_from_function(
        lambda context: batch[2 * context.replica_id_in_sync_group :][:2]
    )
    result = strategy.run(lambda x: layer(x, training=True), args=(shards,))
    double = np.concatenate([t.numpy() for t in strategy.experimental_local_results(result)])
    np.testing.assert_array_equal(single, double)


def test_two_replicas_match_one_device_with_dropout():
    assert_replicas_match(
        lambda: small_gan(seed=3, optimizer=lambda: keras.optimizers.SGD(0.1)),
        real_batch(8, seed=5),
        steps=2,
    )


def test_a_resumed_run_equals_an_uninterrupted_one(tmp_path):
    # The dropout masks after the resume are the ones the uninterrupted run
    # drew: the layers' seed streams are in the checkpoint.
    def stream(start_step):
        from zoo import data

        uint8 = np.round((real_batch(64, seed=1) + 1) * 127.5).astype("uint8")
        return data.make_dataset(uint8, None, 8, seed=0, start_step=start_step)

    straight = small_gan()
    fit_resumable(straight, stream, epochs=2, steps_per_epoch=4,
                  checkpoint_dir=str(tmp_path / "straight"), verbose=0)

    first = small_gan()
    fit_resumable(first, stream, epochs=1, steps_per_epoch=4,
                  checkpoint_dir=str(tmp_path / "resumed"), verbose=0)
    resumed = small_gan()
    assert fit_resumable(resumed, stream, epochs=2, steps_per_epoch=4,
                         checkpoint_dir=str(tmp_path / "resumed"), verbose=0) == 8
    for a, b in zip(straight.weights, resumed.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7, err_msg=a.path)
    dropout = [v for v in straight.variables if "seed_generator" in v.path]
    assert len(dropout) >= 3  # the model's stream and each dropout layer's
    entry = Checkpointer(str(tmp_path / "resumed")).latest()
    assert len(entry["seed_states"]) == len(dropout)


def test_generator_round_trip_and_serving(tmp_path):
    model = small_gan()
    noise = np.random.default_rng(1).normal(size=(4, 8)).astype("float32")
    assert_generator_round_trip(model.generator, tmp_path, noise)
    _, metadata = assert_served_without_zoo(model, tmp_path, {"noise": noise[:3]})
    assert metadata["architecture"] == "gan"


def test_presets_build():
    assert zoo.get("gan") is VanillaGAN
    model = VanillaGAN.from_preset("gan_mnist", seed=0)
    assert model.generator.hidden_units == (256, 512, 1024)
    assert model.discriminator.dropout == 0.3 and model.adversarial_loss == "non_saturating"
    assert VanillaGAN.from_preset("gan_mnist_minimax").adversarial_loss == "minimax"
    assert VanillaGAN.preset_config("gan_mnist")["training"]["batch_size"] == 64


def test_unrolled_steps_move_the_dropout_streams_on():
    # Each unrolled discriminator step, and the generator's pass through the
    # unrolled discriminator, draws its own dropout masks: the layers'
    # streams end where as many real passes would leave them.
    model = small_gan(unrolled_steps=2)
    dropouts = [l for l in model.discriminator.layers if isinstance(l, layers.Dropout)]
    before = [int(d.seed_generator.state.numpy()[1]) for d in dropouts]
    model.generator_step(tf.constant(real_batch()))
    after = [int(d.seed_generator.state.numpy()[1]) for d in dropouts]
    # 2 unrolled steps x (real + fake pass) + the generator's pass = 5 draws.
    assert [a - b for a, b in zip(after, before)] == [5, 5]
