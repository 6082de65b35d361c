"""WGAN (Arjovsky et al. 2017): losses, weight clipping, train step, presets,
saving, serving, replicas."""

import zoo  # noqa: F401
import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.models.dcgan import DCGANDiscriminator, DCGANGenerator
from zoo.models.wgan import WGAN

from gan_checks import (
    assert_each_step_updates_only_its_player,
    assert_generator_round_trip,
    assert_replicas_match,
    assert_served_without_zoo,
)

SHAPE = (28, 28, 1)


def small_wgan(seed=0, **model_args):
    keras.utils.set_random_seed(seed)
    model = WGAN(
        DCGANGenerator(SHAPE, latent_dim=8, base_filters=8),
        DCGANDiscriminator(SHAPE, base_filters=8),
        seed=seed,
        **model_args,
    )
    model.compile(
        d_optimizer=keras.optimizers.RMSprop(5e-5), g_optimizer=keras.optimizers.RMSprop(5e-5)
    )
    return model


def real_batch(n=8, seed=0, group=None):
    """``[n, H, W, C]``, or ``[n, group, H, W, C]``: ``group`` real batches,
    one per discriminator update (``fresh_real_batches``)."""
    shape = (n,) + ((group,) if group else ()) + SHAPE
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype("float32")


def _values(variables):
    return [np.array(v.numpy()) for v in variables]



def test_losses_are_the_wasserstein_estimates():
    model = small_wgan()
    real = np.array([[2.0], [-1.0]], np.float32)
    fake = np.array([[-3.0], [0.5]], np.float32)
    # Critic: D(G(z)) - D(x) = -3 - 2 = -5 and 0.5 + 1 = 1.5; generator: -D(G(z)).
    np.testing.assert_allclose(model.discriminator_loss(real, fake), [-5.0, 1.5])
    np.testing.assert_allclose(model.generator_loss(fake), [3.0, -0.5])


def test_clipping_bounds_every_critic_weight_and_nothing_else():
    model = small_wgan(clip_value=0.01)
    critic = model.discriminator
    kernel = critic.get_layer("logits").kernel
    values = np.zeros(kernel.shape, np.float32)
    values[:3, 0] = [0.5, -0.003, -2.0]
    kernel.assign(values)
    moving_variance = critic.get_layer("down2_bn").moving_variance
    generator_before = _values(model.generator.weights)
    model.after_discriminator_step()
    np.testing.assert_allclose(kernel.numpy()[:3, 0], [0.01, -0.003, -0.01])
    for weight in critic.trainable_weights:
        assert np.max(np.abs(weight.numpy())) <= 0.01 + 1e-7, weight.path
    # Batch norm's moving variance (1.0 at start) is a statistic, not a weight.
    np.testing.assert_array_equal(moving_variance.numpy(), 1.0)
    for before, after in zip(generator_before, model.generator.weights):
        np.testing.assert_array_equal(before, after.numpy())


def test_one_train_step_runs_five_clipped_critic_updates_then_one_generator_update():
    model = small_wgan()
    assert model.d_steps == 5
    g_before = _values(model.generator.trainable_weights)
    d_before = _values(model.discriminator.trainable_weights)
    logs = model.train_on_batch(real_batch(group=5), return_dict=True)
    assert set(logs) == {"d_loss", "g_loss"}
    assert all(np.isfinite(v) for v in logs.values())
    assert int(model.d_optimizer.iterations.numpy()) == 5
    assert int(model.g_optimizer.iterations.numpy()) == 1
    for before, after in zip(d_before, model.discriminator.trainable_weights):
        assert np.max(np.abs(after.numpy())) <= 0.01 + 1e-7
        if after.path == "logits/bias":
            # E[D(G(z))] - E[D(x)] does not change when D shifts by a
            # constant: the critic's output bias gets no gradient.
            np.testing.assert_array_equal(after.numpy(), before)
        else:
            assert not np.array_equal(before, after.numpy()), after.path
    for before, after in zip(g_before, model.generator.trainable_weights):
        assert not np.array_equal(before, after.numpy())
    # N(0, 0.02) weights: the generator keeps values beyond c, it is not clipped.
    assert np.max(np.abs(model.generator.get_layer("project").kernel.numpy())) > 0.02


def test_each_players_step_leaves_the_others_weights_alone():
    assert_each_step_updates_only_its_player(small_wgan(), real_batch())

def test_each_critic_update_trains_on_its_own_real_batch():
    # Algorithm 1 samples a new real batch for every critic iteration.
    model = small_wgan(d_steps=3)
    model.compile(
        d_optimizer=keras.optimizers.RMSprop(5e-5),
        g_optimizer=keras.optimizers.RMSprop(5e-5),
        run_eagerly=True,
    )
    assert model.fresh_real_batches and model.real_batches_per_step == 3
    seen = []
    step = model.discriminator_step
    model.discriminator_step = lambda real, labels=None: seen.append(real.numpy()) or step(real, labels)
    batches = real_batch(4, group=3)
    model.train_on_batch(batches)
    assert len(seen) == 3
    for i, real in enumerate(seen):
        np.testing.assert_array_equal(real, batches[:, i])


def test_ungrouped_real_batch_is_rejected_or_reused_as_asked():
    model = small_wgan(d_steps=5)
    with pytest.raises(ValueError, match=r"expects real images \[batch, 5, H, W, C\].*group=5.*got shape \(8, 28, 28, 1\)"):
        model.train_on_batch(real_batch(8))
    with pytest.raises(ValueError, match=r"\[batch, 5, H, W, C\].*got shape \(8, 3, 28, 28, 1\)"):
        model.train_on_batch(real_batch(8, group=3))
    reused = small_wgan(d_steps=5, fresh_real_batches=False)
    assert reused.real_batches_per_step == 1
    logs = reused.train_on_batch(real_batch(8), return_dict=True)
    assert int(reused.d_optimizer.iterations.numpy()) == 5 and np.isfinite(logs["d_loss"])
    # A second input shape retraces with relaxed (unknown-rank) shapes, so
    # the check runs in the graph.
    with pytest.raises(
        (ValueError, tf.errors.InvalidArgumentError), match=r"expects real images \[batch, H, W, C\]"
    ):
        reused.train_on_batch(real_batch(8, group=5))


def test_unrolled_critic_steps_are_clipped_too():
    keras.utils.set_random_seed(0)
    model = WGAN(
        DCGANGenerator(SHAPE, latent_dim=8, base_filters=8),
        DCGANDiscriminator(SHAPE, base_filters=8),
        unrolled_steps=2,
    )
    # A large step pushes many weights past c, where clipping must hold them.
    # (Unrolling needs SGD or Adam: RMSprop's update is not unrolled.)
    model.compile(d_optimizer=keras.optimizers.SGD(1.0), g_optimizer=keras.optimizers.SGD(0.1))
    real = tf.constant(real_batch())
    fake = model.generator(np.random.default_rng(0).normal(size=(8, 8)).astype("float32"))
    values = model.unrolled_discriminator(real, fake)
    at_bound = 0
    for value, variable in zip(values, model.discriminator.trainable_variables):
        assert np.max(np.abs(value.numpy())) <= 0.01 + 1e-7, variable.path
        at_bound += int(np.sum(np.isclose(np.abs(value.numpy()), 0.01)))
    assert at_bound > 0


def test_clip_value_must_be_positive():
    with pytest.raises(ValueError, match="clip_value must be > 0, got 0"):
        small_wgan(clip_value=0)


def test_model_config_round_trip(tmp_path):
    model = small_wgan(clip_value=0.05, d_steps=3)
    clone = WGAN.from_config(model.get_config())
    assert type(clone) is WGAN
    assert (clone.clip_value, clone.d_steps, clone.adversarial_loss) == (0.05, 3, "wasserstein")
    assert clone.fresh_real_batches is True
    assert clone.get_config() == model.get_config()
    path = tmp_path / "wgan.keras"
    model.save(path)
    loaded = keras.models.load_model(path, compile=False)
    assert type(loaded) is WGAN and loaded.clip_value == 0.05
    images = real_batch(4)
    np.testing.assert_allclose(
        loaded.discriminator(images), model.discriminator(images), atol=1e-6
    )


def test_generator_keras_round_trip(tmp_path):
    model = small_wgan()
    noise = np.random.default_rng(1).normal(size=(4, 8)).astype("float32")
    assert_generator_round_trip(model.generator, tmp_path, noise)


def test_served_without_zoo(tmp_path):
    model = small_wgan()
    noise = np.random.default_rng(2).normal(size=(3, 8)).astype("float32")
    _, metadata = assert_served_without_zoo(model, tmp_path, {"noise": noise})
    assert metadata["architecture"] == "wgan"


def test_two_replicas_match_one_device():
    def make():
        model = small_wgan(seed=3, d_steps=2)
        model.compile(
            d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1)
        )
        return model

    # Two critic updates, each on its own real batch: a replica's share of
    # update i must be its share of the same global batch as on one device.
    assert_replicas_match(make, real_batch(8, seed=5, group=2), calls_per_step=3)


def test_preset_has_the_papers_hyperparameters():
    assert zoo.get("wgan") is WGAN
    config = WGAN.preset_config("wgan_mnist")
    training = config["training"]
    assert training["batch_size"] == 64 and training["dataset"] == "mnist"
    for key in ("d_optimizer", "g_optimizer"):
        optimizer = keras.optimizers.get(training[key])
        assert isinstance(optimizer, keras.optimizers.RMSprop)
        assert float(optimizer.learning_rate.numpy()) == pytest.approx(5e-5)
    model = WGAN.from_preset("wgan_mnist", seed=0)
    assert (model.clip_value, model.d_steps, model.latent_dim) == (0.01, 5, 100)
    assert model.critic_schedule == "authors"  # the released code's 100-update stretches
    assert model.generator.output_shape == (None, 28, 28, 1)


def test_compile_without_optimizers_uses_the_papers_rmsprop():
    model = WGAN.from_preset("wgan_mnist")
    model.compile()
    for optimizer in (model.d_optimizer, model.g_optimizer):
        assert isinstance(optimizer, keras.optimizers.RMSprop)
        assert float(optimizer.learning_rate) == pytest.approx(5e-5)


# --- The authors' critic schedule ------------------------------------------------


def _trainables(network):
    return [np.array(w.numpy()) for w in network.trainable_weights]


def test_authors_schedule_waits_for_100_critic_updates_during_the_warm_up():
    model = small_wgan(critic_schedule="authors")
    assert model.metric_names() == ["d_loss", "g_loss"]
    g_before = _trainables(model.generator)
    for step in range(19):
        logs = model.train_on_batch(real_batch(4, step, group=5), return_dict=True)
        assert logs["g_loss"] == 0.0  # no generator update, nothing reported
    for before, after in zip(g_before, model.generator.trainable_weights):
        np.testing.assert_array_equal(before, after.numpy(), err_msg=after.path)
    assert int(model.g_optimizer.iterations.numpy()) == 0
    assert int(model.d_optimizer.iterations.numpy()) == 95
    assert int(model.critic_updates_pending.numpy()) == 95
    logs = model.train_on_batch(real_batch(4, 19, group=5), return_dict=True)
    assert logs["g_loss"] != 0.0
    assert int(model.generator_updates.numpy()) == 1 and int(model.g_optimizer.iterations.numpy()) == 1
    assert int(model.d_optimizer.iterations.numpy()) == 100 and int(model.step.numpy()) == 20
    assert int(model.critic_updates_pending.numpy()) == 0
    assert all(not np.array_equal(b, a.numpy()) for b, a in zip(g_before, model.generator.trainable_weights))


def test_authors_schedule_is_five_critic_updates_between_the_500th_generator_updates():
    model = small_wgan(critic_schedule="authors")
    model.generator_updates.assign(25)  # warm-up over
    model.train_on_batch(real_batch(4, 0, group=5))
    assert int(model.generator_updates.numpy()) == 26
    model.generator_updates.assign(500)  # every 500th: 100 again
    for step in range(20):
        model.train_on_batch(real_batch(4, step, group=5))
        assert int(model.generator_updates.numpy()) == (501 if step == 19 else 500)
    with pytest.raises(ValueError, match="d_steps dividing 100"):
        small_wgan(critic_schedule="authors", d_steps=3)
    with pytest.raises(ValueError, match="None or 'authors'"):
        small_wgan(critic_schedule="paper")


@pytest.mark.slow  # WGAN's plain replica test and the schedule's resume test run by default
def test_authors_schedule_on_two_replicas_matches_one_device():
    def make():
        model = small_wgan(seed=3, critic_schedule="authors", ema_decay=0.5)
        model.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1))
        model.generator_updates.assign(499)  # an update, then the start of a 100-update stretch
        return model

    assert_replicas_match(make, real_batch(8, seed=5, group=5), calls_per_step=6, steps=2)


def test_authors_schedule_resumes_mid_stretch(tmp_path):
    from zoo.training.checkpoints import Checkpointer

    model = small_wgan(critic_schedule="authors")
    for step in range(7):
        model.train_on_batch(real_batch(4, step, group=5))
    checkpointer = Checkpointer(str(tmp_path))
    checkpointer.save(model)
    resumed = small_wgan(critic_schedule="authors")
    assert checkpointer.restore(resumed) == 7
    assert int(resumed.critic_updates_pending.numpy()) == 35
    for m in (model, resumed):
        for step in range(7, 21):
            m.train_on_batch(real_batch(4, step, group=5))
    assert int(resumed.generator_updates.numpy()) == int(model.generator_updates.numpy()) == 1
    for a, b in zip(model.weights, resumed.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-8, err_msg=a.path)


def test_a_skipped_generator_update_leaves_every_statistic_as_the_critic_steps_left_it():
    # The generator's loss runs both networks in training mode; where its
    # update does not take effect, their batch-norm statistics must be what
    # the five critic updates alone left (a twin runs just those).
    scheduled = small_wgan(critic_schedule="authors")
    twin = small_wgan(critic_schedule="authors")
    batch = real_batch(4, 0, group=5)
    scheduled.train_on_batch(batch)
    for i in range(5):
        twin.discriminator_step(tf.constant(batch[:, i]))
    for network in ("generator", "discriminator"):
        statistics = [w for w in getattr(scheduled, network).non_trainable_weights if "moving" in w.path]
        expected = [w for w in getattr(twin, network).non_trainable_weights if "moving" in w.path]
        assert statistics and len(statistics) == len(expected)
        for a, b in zip(statistics, expected):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7, err_msg=a.path)
