"""WGAN-GP (Gulrajani et al. 2017): the gradient penalty, train step, presets,
saving, serving, replicas."""

import zoo  # noqa: F401
import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.core.replicas import replica_id
from zoo.core.terms import StepTensors
from zoo.models.dcgan import DCGANDiscriminator, DCGANGenerator
from zoo.models.wgan_gp import WGANGP

from gan_checks import (
    assert_each_step_updates_only_its_player,
    assert_generator_round_trip,
    assert_replicas_match,
    assert_served_without_zoo,
    mirrored,
)

SHAPE = (28, 28, 1)


def small_wgan_gp(seed=0, discriminator=None, **model_args):
    keras.utils.set_random_seed(seed)
    model = WGANGP(
        DCGANGenerator(SHAPE, latent_dim=8, base_filters=8),
        discriminator or DCGANDiscriminator(SHAPE, base_filters=8, batch_norm=False),
        seed=seed,
        **model_args,
    )
    model.compile(
        d_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9),
        g_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9),
    )
    return model


def linear_critic(weights):
    """D(x) = <w, x> + 0: its input gradient is w everywhere, norm ||w||."""
    images = keras.Input(SHAPE, name="images")
    logits = keras.layers.Dense(1, name="logits")(keras.layers.Flatten()(images))
    critic = keras.Model(images, logits)
    kernel = np.zeros((int(np.prod(SHAPE)), 1), np.float32)
    kernel[: len(weights), 0] = weights
    critic.get_layer("logits").kernel.assign(kernel)
    return critic


def real_batch(n=8, seed=0, group=None):
    """``[n, H, W, C]``, or ``[n, group, H, W, C]``: ``group`` real batches,
    one per discriminator update (``fresh_real_batches``)."""
    shape = (n,) + ((group,) if group else ()) + SHAPE
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype("float32")


def fake_batch(n=8):
    return real_batch(n, seed=1)


def _values(variables):
    return [np.array(v.numpy()) for v in variables]



def weighted_penalty(model, real, fake):
    """The critic's only loss term, weighted: lambda * (||grad D(x_hat)|| - 1)^2."""
    [term] = model.discriminator_terms()
    assert term.name == "gradient_penalty" and term.every == 1
    tensors = StepTensors(model=model, real=tf.constant(real), fake=tf.constant(fake))
    return term.weight * term.fn(tensors)


def test_critic_loss_is_the_wasserstein_estimate():
    model = small_wgan_gp()
    real = np.array([[2.0], [-1.0]], np.float32)
    fake = np.array([[-3.0], [0.5]], np.float32)
    np.testing.assert_allclose(model.discriminator_loss(real, fake), [-5.0, 1.5])
    np.testing.assert_allclose(model.generator_loss(fake), [3.0, -0.5])


@pytest.mark.parametrize(
    "weights, penalty",
    [
        ([3.0, 4.0], 160.0),  # ||w|| = 5: 10 * (5 - 1)^2
        ([0.6, 0.8], 0.0),  # ||w|| = 1: no penalty
        ([0.5], 2.5),  # 10 * (0.5 - 1)^2
    ],
)
def test_gradient_penalty_of_a_linear_critic(weights, penalty):
    model = small_wgan_gp(discriminator=linear_critic(weights))
    penalties = weighted_penalty(model, real_batch(), fake_batch())
    np.testing.assert_allclose(penalties, [penalty] * 8, rtol=1e-5, atol=1e-5)


def test_gradient_penalty_differentiates_through_the_input_gradient():
    # P(w) = 10 (||w|| - 1)^2 has gradient 20 (||w|| - 1) w / ||w||:
    # at w = (3, 4): 20 * 4 * (3/5, 4/5) = (48, 64).
    model = small_wgan_gp(discriminator=linear_critic([3.0, 4.0]))
    kernel = model.discriminator.get_layer("logits").kernel
    with tf.GradientTape() as tape:
        mean = tf.reduce_mean(weighted_penalty(model, real_batch(), fake_batch()))
    gradient = tape.gradient(mean, kernel.value).numpy()[:, 0]
    np.testing.assert_allclose(gradient[:2], [48.0, 64.0], rtol=1e-4)
    np.testing.assert_allclose(gradient[2:], 0.0, atol=1e-4)


def test_train_step_reports_the_gradient_penalty():
    model = small_wgan_gp(discriminator=linear_critic([3.0, 4.0]), d_steps=1)
    # Learning rate 0: the reported values are those of the initial critic.
    model.compile(d_optimizer=keras.optimizers.SGD(0.0), g_optimizer=keras.optimizers.SGD(0.0))
    logs = model.train_on_batch(real_batch(), return_dict=True)
    assert set(logs) == {"d_loss", "gradient_penalty", "g_loss"}
    np.testing.assert_allclose(logs["gradient_penalty"], 160.0, rtol=1e-5)


def test_interpolation_weights_one_uniform_per_example_from_the_stream():
    model = small_wgan_gp()
    first, second = model.sample_interpolation_weights(64), model.sample_interpolation_weights(64)
    assert first.shape == (64,)
    assert np.all((first.numpy() >= 0.0) & (first.numpy() <= 1.0))
    assert len(np.unique(first.numpy())) == 64
    assert not np.allclose(first, second)


def test_replicas_draw_different_interpolation_weights():
    strategy = mirrored(2)
    with strategy.scope():
        model = small_wgan_gp()

    @tf.function
    def draw():
        return strategy.run(lambda: model.sample_interpolation_weights(4))

    alpha = strategy.experimental_local_results(draw())
    assert not np.allclose(alpha[0], alpha[1])


def test_a_batch_norm_critic_is_rejected():
    with pytest.raises(ValueError, match="must not use batch normalization"):
        WGANGP(
            DCGANGenerator(SHAPE, latent_dim=8, base_filters=4),
            DCGANDiscriminator(SHAPE, base_filters=4, batch_norm=True),
        )


def test_one_train_step_updates_both_players_with_five_critic_steps():
    model = small_wgan_gp()
    assert (model.d_steps, model.gp_weight, model.real_batches_per_step) == (5, 10.0, 5)
    g_before = _values(model.generator.trainable_weights)
    d_before = _values(model.discriminator.trainable_weights)
    logs = model.train_on_batch(real_batch(group=5), return_dict=True)
    assert all(np.isfinite(v) for v in logs.values())
    assert logs["gradient_penalty"] > 0.0
    assert int(model.d_optimizer.iterations.numpy()) == 5
    assert int(model.g_optimizer.iterations.numpy()) == 1
    for before, after in zip(d_before, model.discriminator.trainable_weights):
        if after.path == "logits/bias":
            # Neither E[D(G(z))] - E[D(x)] nor the input gradient changes
            # when D shifts by a constant: the output bias gets no gradient.
            np.testing.assert_array_equal(after.numpy(), before)
        else:
            assert not np.array_equal(before, after.numpy()), after.path
    for before, after in zip(g_before, model.generator.trainable_weights):
        assert not np.array_equal(before, after.numpy()), after.path


def test_each_players_step_leaves_the_others_weights_alone():
    assert_each_step_updates_only_its_player(small_wgan_gp(), real_batch())

def test_model_config_round_trip(tmp_path):
    model = small_wgan_gp(gp_weight=5.0, d_steps=2)
    clone = WGANGP.from_config(model.get_config())
    assert type(clone) is WGANGP and (clone.gp_weight, clone.d_steps) == (5.0, 2)
    assert clone.get_config() == model.get_config()
    path = tmp_path / "wgan_gp.keras"
    model.save(path)
    loaded = keras.models.load_model(path, compile=False)
    assert type(loaded) is WGANGP and loaded.gp_weight == 5.0
    images = real_batch(4)
    np.testing.assert_allclose(
        loaded.discriminator(images), model.discriminator(images), atol=1e-6
    )


def test_generator_keras_round_trip(tmp_path):
    model = small_wgan_gp()
    noise = np.random.default_rng(1).normal(size=(4, 8)).astype("float32")
    assert_generator_round_trip(model.generator, tmp_path, noise)


def test_served_without_zoo(tmp_path):
    model = small_wgan_gp()
    noise = np.random.default_rng(2).normal(size=(3, 8)).astype("float32")
    _, metadata = assert_served_without_zoo(model, tmp_path, {"noise": noise})
    assert metadata["architecture"] == "wgan_gp"


class FixedInterpolationWeights:
    """Make ``sample_interpolation_weights`` return this replica's slice of
    fixed global weights, so one and two replicas penalise the same points
    (as ``gan_checks.FixedNoise`` does for the noise)."""

    def __init__(self, model, alpha):
        self.alpha = tf.constant(alpha)
        self.original = model.sample_interpolation_weights
        model.sample_interpolation_weights = self.sample

    def sample(self, batch_size):
        self.original(batch_size)  # keep the seed stream's operations
        start = replica_id() * batch_size
        return self.alpha[start : start + batch_size]


def test_two_replicas_match_one_device():
    alpha = np.random.default_rng(4).uniform(size=8).astype("float32")

    def make():
        model = small_wgan_gp(seed=3, d_steps=1)
        model.compile(
            d_optimizer=keras.optimizers.SGD(0.01), g_optimizer=keras.optimizers.SGD(0.01)
        )
        FixedInterpolationWeights(model, alpha)
        return model

    assert_replicas_match(make, real_batch(8, seed=5), calls_per_step=2)


def test_preset_has_the_papers_hyperparameters():
    assert zoo.get("wgan_gp") is WGANGP
    config = WGANGP.preset_config("wgan_gp_mnist")
    training = config["training"]
    assert training["batch_size"] == 64
    for key in ("d_optimizer", "g_optimizer"):
        optimizer = keras.optimizers.get(training[key])
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert float(optimizer.learning_rate.numpy()) == pytest.approx(1e-4)
        assert (optimizer.beta_1, optimizer.beta_2) == (0.0, 0.9)
    model = WGANGP.from_preset("wgan_gp_mnist", seed=0)
    assert (model.gp_weight, model.d_steps) == (10.0, 5)
    assert not any(
        isinstance(layer, keras.layers.BatchNormalization) for layer in model.discriminator.layers
    )


def test_each_unrolled_step_draws_its_own_interpolation_weights():
    # Unrolled critic steps run in a stateless scope that throws away every
    # assignment; the random streams must still move on between them.
    model = small_wgan_gp(unrolled_steps=3, fresh_real_batches=False)
    drawn = []
    original = model.sample_interpolation_weights

    def recording(batch_size):
        alpha = original(batch_size)
        drawn.append(alpha.numpy())
        return alpha

    model.sample_interpolation_weights = recording
    real = tf.constant(real_batch())
    fake = model.generator(model.sample_latent(8))
    state = model.seed_generator.state.numpy().copy()
    model.unrolled_discriminator(real, fake)
    assert len(drawn) == 3
    assert not np.allclose(drawn[0], drawn[1]) and not np.allclose(drawn[1], drawn[2])
    # The stream ends where three real critic steps would leave it.
    assert model.seed_generator.state.numpy()[1] == state[1] + 3
