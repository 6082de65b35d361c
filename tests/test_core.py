"""The core's capabilities, each on a tiny model built only for the test:

* an image-conditioned generator without noise (pix2pix's shape) with a
  named L1 term and dropout as its noise;
* two generators and two discriminators with their own optimizers, EMA of
  both generators and an image history per discriminator (CycleGAN's shape);
* a lazy regulariser firing on the right steps, scaled, and after a resume;
* a two-phase run (resolution, batch size and a fade-in change) killed and
  resumed across the phase boundary;
* the model's own step counter against a loss-scale optimizer that skips.

Each gets the two-replica check (MirroredStrategy over two logical CPUs)
and a checkpoint round trip, as the architectures do.
"""

import json

import numpy as np
import pytest
import tensorflow as tf

import keras
import zoo  # noqa: F401
from keras import ops

from zoo.core import conditions, layers, losses, phases, terms
from zoo.core.adversarial import GAN
from zoo.core.errors import CheckpointError, ConfigError
from zoo.core.history import ImageHistory
from zoo.core.networks import Network, freeze
from zoo.training import fit_resumable
from zoo.training.checkpoints import Checkpointer

from gan_checks import (
    Killed,
    KillAt,
    assert_each_step_updates_only_its_player,
    assert_replicas_match,
    assert_served_without_zoo,
    mirrored,
    values,
)

SHAPE = (8, 8, 1)


def images(count, seed, shape=SHAPE):
    """Real-valued test images in [-1, 1] (a smooth pattern plus noise)."""
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(0.0, 0.5, (count,) + shape), -1, 1).astype("float32")


# --- Tiny networks ---------------------------------------------------------------


@keras.saving.register_keras_serializable(package="zoo_tests")
class TinyTranslator(Network):
    """``source`` image -> image: two 3x3 convolutions, dropout as noise."""

    def __init__(self, image_shape=SHAPE, dropout=0.0, **kwargs):
        source = keras.Input(image_shape, name="source")
        x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="hidden")(source)
        x = layers.Dropout(dropout, seed=1, name="noise_dropout")(x)
        out = keras.layers.Conv2D(image_shape[-1], 3, padding="same", activation="tanh", name="out")(x)
        super().__init__(inputs=source, outputs=out, **kwargs)
        self.image_shape = tuple(image_shape)
        self.dropout = dropout


@keras.saving.register_keras_serializable(package="zoo_tests")
class TinyPairCritic(Network):
    """``images`` and ``source`` -> a 4x4 map of logits (PatchGAN's shape)."""

    def __init__(self, image_shape=SHAPE, **kwargs):
        judged = keras.Input(image_shape, name="images")
        source = keras.Input(image_shape, name="source")
        x = keras.layers.Concatenate()([judged, source])
        x = keras.layers.Conv2D(4, 3, strides=2, padding="same", activation="relu", name="down")(x)
        logits = keras.layers.Conv2D(1, 3, padding="same", name="logits")(x)
        super().__init__(inputs=[judged, source], outputs=logits, **kwargs)
        self.image_shape = tuple(image_shape)


@keras.saving.register_keras_serializable(package="zoo_tests")
class TinyCritic(Network):
    """``images`` of any size -> logits ``[batch, 1]`` (global average)."""

    def __init__(self, channels=1, **kwargs):
        judged = keras.Input((None, None, channels), name="images")
        x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(judged)
        x = keras.layers.GlobalAveragePooling2D()(x)
        logits = keras.layers.Dense(1, name="logits")(x)
        super().__init__(inputs=judged, outputs=logits, **kwargs)
        self.channels = channels


@keras.saving.register_keras_serializable(package="zoo_tests")
class TinyNoiseGenerator(Network):
    """``noise`` -> ``size x size`` images."""

    def __init__(self, latent_dim=4, size=8, **kwargs):
        noise = keras.Input((latent_dim,), name="noise")
        x = keras.layers.Dense(size * size, activation="tanh", name="pixels")(noise)
        out = keras.layers.Reshape((size, size, 1))(x)
        super().__init__(inputs=noise, outputs=out, **kwargs)
        self.latent_dim = latent_dim
        self.size = size


def sgd():
    return keras.optimizers.SGD(0.1)


# --- 1. An image-conditioned model without noise ----------------------------------


@keras.saving.register_keras_serializable(package="zoo_tests")
class TinyPix2Pix(GAN):
    network_classes = {"generator": TinyTranslator, "discriminator": TinyPairCritic}

    def __init__(self, generator, discriminator, l1_weight=10.0, **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        self.l1_weight = float(l1_weight)

    def generator_terms(self):
        return [terms.reconstruction(self.l1_weight, "l1")]

    def get_config(self):
        return {**super().get_config(), "l1_weight": self.l1_weight}


def tiny_pix2pix(dropout=0.0, optimizer=sgd, **kwargs):
    keras.utils.set_random_seed(0)
    model = TinyPix2Pix(TinyTranslator(dropout=dropout), TinyPairCritic(), seed=0, **kwargs)
    model.compile(d_optimizer=optimizer(), g_optimizer=optimizer())
    return model


def test_image_conditioned_model_has_no_noise_and_an_image_condition():
    model = tiny_pix2pix()
    assert model.latent_dim == 0 and model.sample_latent(4) is None
    assert model.condition == conditions.ImageCondition(SHAPE)
    assert model.metric_names() == ["d_loss", "g_loss", "l1"]
    with pytest.raises(ConfigError, match="source images"):
        model.generate(2)
    with pytest.raises(ConfigError, match=r"\[2, 8, 8, 1\] in \[-1, 1\], one per image"):
        model.generate(condition=np.zeros((2, 4, 4, 1), "float32"))
    with pytest.raises(ConfigError, match=r"\[-1, 1\]"):
        model.generate(condition=np.full((2,) + SHAPE, 3.0, "float32"))
    with pytest.raises(ConfigError, match="needs source images"):
        model.train_on_batch(images(4, 1))


def test_image_conditioned_step_reports_hand_computed_losses():
    model = tiny_pix2pix()
    target, source = images(4, 1), images(4, 2)
    # Before the step (no dropout: the generator is deterministic):
    fake = model.generator(source, training=True)
    real_logits = model.discriminate(target, source, training=True)
    fake_logits = model.discriminate(fake, source, training=True)
    softplus = lambda t: np.logaddexp(0.0, t)  # noqa: E731
    expected_d = np.mean(softplus(-real_logits.numpy()) + softplus(fake_logits.numpy()))
    expected_l1 = 10.0 * np.mean(np.abs(fake.numpy() - target))
    logs = model.train_on_batch((target, source), return_dict=True)
    np.testing.assert_allclose(logs["d_loss"], expected_d, rtol=1e-5)
    # The generator's update runs after the discriminator's, which does not
    # touch the generator, so its L1 is still the one computed above.
    np.testing.assert_allclose(logs["l1"], expected_l1, rtol=1e-5)
    assert int(model.step.numpy()) == 1


def test_image_conditioned_steps_update_only_their_player():
    model = tiny_pix2pix(dropout=0.5)
    assert_each_step_updates_only_its_player(model, images(4, 1), tf.constant(images(4, 2)))


def test_image_conditioned_two_replicas_equal_one_device():
    # Dropout 0.5 in the generator: the masks of the global batch are drawn
    # once and sliced, so the replicas drop what one device drops.
    assert_replicas_match(
        lambda: tiny_pix2pix(dropout=0.5), (images(4, 1), images(4, 2)), steps=2
    )


def test_image_conditioned_model_serves_from_images_alone(tmp_path):
    model = tiny_pix2pix(dropout=0.5)
    model.train_on_batch((images(4, 1), images(4, 2)))
    _, metadata = assert_served_without_zoo(model, tmp_path, {"images": images(3, 3)})
    assert metadata["condition"] == {"kind": "image", "image_shape": [8, 8, 1]}
    assert metadata["latent_dim"] == 0 and metadata["inputs"] == ["source"]


def test_mismatched_image_condition_is_the_next_image_of_the_global_batch():
    condition = conditions.ImageCondition(SHAPE)
    batch = images(4, 5)
    np.testing.assert_array_equal(condition.mismatched(tf.constant(batch)), np.roll(batch, -1, axis=0))
    strategy = mirrored(2)
    shards = strategy.experimental_distribute_values_from_function(
        lambda context: batch[2 * context.replica_id_in_sync_group :][:2]
    )
    result = strategy.run(condition.mismatched, args=(shards,))
    gathered = np.concatenate([t.numpy() for t in strategy.experimental_local_results(result)])
    np.testing.assert_array_equal(gathered, np.roll(batch, -1, axis=0))


def test_mismatched_class_labels_never_match():
    condition = conditions.ClassCondition(3)
    labels = tf.constant(np.arange(300) % 3)
    wrong = condition.mismatched(labels, tf.constant([1, 2], tf.int64)).numpy()
    assert not np.any(wrong == labels.numpy())
    assert set(np.unique((wrong - labels.numpy()) % 3)) == {1, 2}


# --- 2. Two generators, two discriminators ------------------------------------------


@keras.saving.register_keras_serializable(package="zoo_tests")
class TinyCycle(GAN):
    """CycleGAN's shape: ``generator`` A -> B and ``generator_ba`` B -> A,
    ``discriminator`` judging B and ``discriminator_a`` judging A, each
    discriminator on a history of generated images; least squares and
    cycle consistency. Batches are (domain B images, domain A images)."""

    network_classes = {
        "generator": TinyTranslator,
        "discriminator": TinyCritic,
        "generator_ba": TinyTranslator,
        "discriminator_a": TinyCritic,
    }

    def __init__(self, generator, discriminator, generator_ba, discriminator_a,
                 cycle_weight=10.0, history_size=4, **kwargs):
        super().__init__(generator, discriminator, adversarial_loss="least_squares", **kwargs)
        self.generator_ba = generator_ba
        self.discriminator_a = discriminator_a
        self.cycle_weight = float(cycle_weight)
        self.history_size = int(history_size)
        self.history_a = ImageHistory(SHAPE, history_size, name="history_a")
        self.history_b = ImageHistory(SHAPE, history_size, name="history_b")
        self.create_moving_averages()  # of generator_ba too

    def ema_network_names(self):
        return ["generator", "generator_ba"]

    def optimizer_variables(self):
        return {
            "g_optimizer": self.generator.trainable_variables + self.generator_ba.trainable_variables,
            "d_optimizer": self.discriminator.trainable_variables,
            "d_a_optimizer": self.discriminator_a.trainable_variables,
        }

    def metric_names(self):
        return ["g_loss", "cycle", "d_b_loss", "d_a_loss"]

    def training_updates(self, data):
        b, a = self.unpack_batch(data)

        def generators():
            fake_b = self.generator(a, training=True)
            fake_a = self.generator_ba(b, training=True)
            adversarial = losses.least_squares_generator_loss(
                self.discriminator(fake_b, training=True)
            ) + losses.least_squares_generator_loss(self.discriminator_a(fake_a, training=True))
            cycle = losses.mean_absolute_error(self.generator_ba(fake_b, training=True), a)
            cycle += losses.mean_absolute_error(self.generator(fake_a, training=True), b)
            loss = self.reduce_loss(adversarial + self.cycle_weight * cycle)
            return loss, {"g_loss": ops.mean(adversarial), "cycle": ops.mean(cycle),
                          "fakes": (fake_a, fake_b)}

        reports = self.apply_update("g_optimizer", generators)
        fake_a, fake_b = reports.pop("fakes")
        self.after_generator_step()
        seed = self.next_seed(per_replica=False)
        fake_b = self.history_b.query(fake_b, seed)
        fake_a = self.history_a.query(fake_a, tf.random.experimental.stateless_fold_in(seed, 7))

        def critic(network, real, fake, name):
            def objective():
                loss = losses.least_squares_discriminator_loss(
                    network(real, training=True), network(fake, training=True)
                )
                return self.reduce_loss(loss), {name: ops.mean(loss)}

            return objective

        reports.update(self.apply_update("d_optimizer", critic(self.discriminator, b, fake_b, "d_b_loss")))
        reports.update(self.apply_update("d_a_optimizer", critic(self.discriminator_a, a, fake_a, "d_a_loss")))
        return reports

    def get_config(self):
        return {
            **super().get_config(),
            "generator_ba": keras.saving.serialize_keras_object(self.generator_ba),
            "discriminator_a": keras.saving.serialize_keras_object(self.discriminator_a),
            "cycle_weight": self.cycle_weight,
            "history_size": self.history_size,
        }


def tiny_cycle(ema_decay=0.5, optimizer=sgd):
    keras.utils.set_random_seed(0)
    model = TinyCycle(
        TinyTranslator(dropout=0.25), TinyCritic(), TinyTranslator(dropout=0.25), TinyCritic(),
        ema_decay=ema_decay, seed=0,
    )
    model.compile(d_optimizer=optimizer(), g_optimizer=optimizer(), d_a_optimizer=optimizer())
    return model


def cycle_batch(seed=1):
    return images(2, seed), images(2, seed + 100)


CYCLE_ROLES = {
    "g_optimizer": ("generator", "generator_ba"),
    "d_optimizer": ("discriminator",),
    "d_a_optimizer": ("discriminator_a",),
}


@pytest.mark.parametrize("role", list(CYCLE_ROLES))
def test_each_optimizer_of_a_two_player_pair_moves_only_its_networks(role):
    # Only `role` has a non-zero learning rate: exactly its networks move.
    keras.utils.set_random_seed(0)
    model = TinyCycle(TinyTranslator(), TinyCritic(), TinyTranslator(), TinyCritic(), seed=0)
    model.compile(**{r: keras.optimizers.SGD(0.1 if r == role else 0.0) for r in CYCLE_ROLES})
    assert set(model.optimizers) == set(CYCLE_ROLES)
    names = [n for names in CYCLE_ROLES.values() for n in names]
    before = {name: values(getattr(model, name).trainable_weights) for name in names}
    logs = model.train_on_batch(cycle_batch(), return_dict=True)
    assert set(logs) == {"g_loss", "cycle", "d_b_loss", "d_a_loss"}
    for name in names:
        moved = [
            not np.array_equal(b, w.numpy())
            for b, w in zip(before[name], getattr(model, name).trainable_weights)
        ]
        assert all(moved) if name in CYCLE_ROLES[role] else not any(moved), name
    for r in CYCLE_ROLES:
        assert int(model.optimizers[r].iterations.numpy()) == 1


def test_both_generators_keep_a_moving_average():
    model = tiny_cycle(ema_decay=0.5)
    assert model.export_network is model.ema_generator
    start = {name: values(getattr(model, name).trainable_weights) for name in ("generator", "generator_ba")}
    model.train_on_batch(cycle_batch())
    for name in ("generator", "generator_ba"):
        average = getattr(model, f"ema_{name}")
        assert not average.trainable
        for s, w, a in zip(start[name], getattr(model, name).trainable_weights, average.trainable_weights):
            np.testing.assert_allclose(a.numpy(), 0.5 * s + 0.5 * w.numpy(), rtol=1e-5, atol=1e-6)


def test_image_history_fills_then_swaps_and_returns_the_global_batch_slice():
    history = ImageHistory((1, 1, 1), size=3)
    seed = tf.constant([3, 4], tf.int64)
    first = history.query(tf.constant([[[[1.0]]], [[[2.0]]]]), seed)
    np.testing.assert_array_equal(first.numpy().ravel(), [1.0, 2.0])  # filling: returned as is
    assert int(history.count.numpy()) == 2
    second = history.query(tf.constant([[[[3.0]]], [[[4.0]]]]), seed)
    stored = sorted(history.images.numpy().ravel())
    assert int(history.count.numpy()) == 3
    # 3 fills the last place and comes back; 4 either comes back or swaps
    # with a stored image, which is then returned and replaced by 4.
    assert second.numpy().ravel()[0] == 3.0
    returned = second.numpy().ravel()[1]
    if returned == 4.0:
        assert stored == [1.0, 2.0, 3.0]
    else:
        assert returned in (1.0, 2.0, 3.0) and 4.0 in stored and returned not in stored
    with pytest.raises(ConfigError, match=">= 0"):
        ImageHistory((1, 1, 1), size=-1)


def test_histories_and_averages_are_checkpointed(tmp_path):
    model = tiny_cycle()
    for seed in (1, 2, 3):
        model.train_on_batch(cycle_batch(seed))
    assert int(model.history_b.count.numpy()) == 4  # 3 steps x 2 images, capped at 4
    checkpointer = Checkpointer(str(tmp_path))
    checkpointer.save(model)
    restored = tiny_cycle()
    assert checkpointer.restore(restored) == 3
    for a, b in zip(model.weights, restored.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
    # Both go on identically: same dropout masks, history draws and updates.
    logs = [m.train_on_batch(cycle_batch(9), return_dict=True) for m in (model, restored)]
    assert logs[0] == pytest.approx(logs[1], rel=1e-6)
    for a, b in zip(model.weights, restored.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7, err_msg=a.path)


def test_two_player_pairs_on_two_replicas_equal_one_device():
    assert_replicas_match(lambda: tiny_cycle(), (images(4, 1), images(4, 2)), steps=2)


# --- 3. Lazy regularisers -------------------------------------------------------------


@keras.saving.register_keras_serializable(package="zoo_tests")
class LazyGAN(GAN):
    """A GAN whose discriminator carries ``penalty``: ``sum(kernel^2)`` of
    its logit layer, weight 0.5, every ``every`` steps; ``fired`` counts the
    steps it was computed on."""

    network_classes = {"generator": TinyNoiseGenerator, "discriminator": TinyCritic}

    def __init__(self, generator, discriminator, every=3, **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        self.every = every
        self.fired = keras.Variable(0, dtype="int64", trainable=False, name="fired")

    def discriminator_terms(self):
        if not self.every:
            return []

        def penalty(t):
            self.fired.assign_add(1)
            kernel = self.discriminator.get_layer("logits").kernel
            return ops.ones([ops.shape(t.real)[0]]) * ops.sum(ops.square(kernel))

        return [terms.LossTerm("penalty", penalty, weight=0.5, every=self.every)]


def lazy_gan(every=3):
    keras.utils.set_random_seed(0)
    model = LazyGAN(TinyNoiseGenerator(), TinyCritic(), every=every, seed=0)
    model.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1))
    return model


def test_lazy_regulariser_fires_every_k_steps_scaled_by_k():
    model = lazy_gan(every=3)
    kernel = model.discriminator.get_layer("logits").kernel
    reported = []
    for step in range(7):
        expected = 3 * 0.5 * float(np.sum(kernel.numpy() ** 2))
        logs = model.train_on_batch(images(4, step), return_dict=True)
        reported.append(logs["penalty"])
        if step % 3 == 0:
            np.testing.assert_allclose(logs["penalty"], expected, rtol=1e-5)
    assert int(model.fired.numpy()) == 3  # steps 0, 3, 6
    assert [r != 0.0 for r in reported] == [True, False, False, True, False, False, True]


def test_lazy_regulariser_adds_its_scaled_gradient_on_the_steps_it_fires():
    # Same weights and noise, with and without the term: at step 0 (fires)
    # the logit kernels differ by SGD's step on 3 * 0.5 * sum(k^2), i.e.
    # -0.1 * 3 * k; at step 1 (does not fire) the updates are the same.
    with_term, without = lazy_gan(every=3), lazy_gan(every=0)
    kernel_before = with_term.discriminator.get_layer("logits").kernel.numpy()
    for model in (with_term, without):
        model.train_on_batch(images(4, 0))
    difference = (
        with_term.discriminator.get_layer("logits").kernel.numpy()
        - without.discriminator.get_layer("logits").kernel.numpy()
    )
    np.testing.assert_allclose(difference, -0.1 * 3 * kernel_before, rtol=1e-4, atol=1e-7)


def test_lazy_regulariser_fires_on_the_same_steps_after_a_resume(tmp_path):
    model = lazy_gan(every=3)
    for step in range(4):
        model.train_on_batch(images(4, step))
    checkpointer = Checkpointer(str(tmp_path))
    checkpointer.save(model)
    resumed = lazy_gan(every=3)
    assert checkpointer.restore(resumed) == 4
    fired = int(resumed.fired.numpy())
    assert fired == 2  # steps 0 and 3
    for step in range(4, 7):
        logs = resumed.train_on_batch(images(4, step), return_dict=True)
        assert (logs["penalty"] != 0.0) == (step == 6)
    assert int(resumed.fired.numpy()) == 3


# --- 4. Training phases ---------------------------------------------------------------


@keras.saving.register_keras_serializable(package="zoo_tests")
class GrowingGAN(GAN):
    """A 16x16 generator shown at its phase's resolution: average-pooled to
    8x8 in the first phase; in the second, fading from the upsampled 8x8
    image to the full one as ``phase_progress()`` goes 0 -> 1."""

    network_classes = {"generator": TinyNoiseGenerator, "discriminator": TinyCritic}

    def metric_names(self):
        return super().metric_names() + ["alpha"]

    def generate_images(self, noise, condition=None, training=False):
        full = self.generator(noise, training=training)
        coarse = ops.average_pool(full, 2, 2)
        if self.phase is None or self.phase.resolution == 16:
            alpha = self.phase_progress()
            return alpha * full + (1.0 - alpha) * ops.repeat(ops.repeat(coarse, 2, axis=1), 2, axis=2)
        return coarse

    def training_updates(self, data):
        return {**super().training_updates(data), "alpha": self.phase_progress()}


PHASES = [
    phases.Phase(steps=4, name="8x8", batch_size=4, resolution=8),
    phases.Phase(steps=5, name="16x16", batch_size=2, resolution=16, fade_in_steps=3),
]
REAL = images(12, 7, shape=(16, 16, 1))


def growing_gan():
    keras.utils.set_random_seed(0)
    model = GrowingGAN(TinyNoiseGenerator(size=16), TinyCritic(), seed=0)
    model.compile(d_optimizer=keras.optimizers.Adam(1e-2), g_optimizer=keras.optimizers.Adam(1e-2))
    return model


def phase_stream(index, start_step):
    from zoo import data

    phase = PHASES[index]
    real = (np.asarray(ops.average_pool(REAL, 2, 2)) if phase.resolution == 8 else REAL)
    uint8 = np.round((real + 1) * 127.5).astype("uint8")
    return data.make_dataset(uint8, None, phase.batch_size, seed=index, start_step=start_step)


class RecordAlpha(keras.callbacks.Callback):
    def __init__(self, record):
        super().__init__()
        self.record = record

    def on_train_batch_end(self, batch, logs=None):
        self.record[int(self.model.step.numpy())] = float(self.model.phase_progress())


def run_phases(model, directory, callbacks=()):
    return fit_resumable(
        model, phase_stream, phases=PHASES, steps_per_epoch=lambda phase: 3,
        checkpoint_dir=str(directory), checkpoint_every=2, callbacks=list(callbacks), verbose=0,
    )


def test_phases_resolve_images_and_fade_in_to_steps():
    [phase] = phases.from_config([{"images": 1000, "fade_in_images": 500, "resolution": 8}], 64)
    assert (phase.steps, phase.fade_in_steps, phase.batch_size, phase.name) == (15, 7, 64, "phase 1")
    with pytest.raises(ConfigError, match="exactly one of steps and images"):
        phases.from_config([{"resolution": 8}], 64)
    with pytest.raises(ConfigError, match="unknown settings resolutions"):
        phases.from_config([{"steps": 3, "resolutions": 8}], 64)
    assert phases.locate(PHASES, 3) == (0, 0) and phases.locate(PHASES, 4) == (1, 4)
    assert phases.locate(PHASES, 9) == (2, 9)


def test_a_run_killed_in_both_phases_resumes_across_the_boundary(tmp_path):
    straight_alpha = {}
    straight = growing_gan()
    assert run_phases(straight, tmp_path / "straight", [RecordAlpha(straight_alpha)]) == 9
    # The fade-in: 1 in the first phase (no fade), then 1/3, 2/3, 1, 1, 1 as
    # the second phase's steps 5..9 end (progress counted from step 4).
    assert [round(straight_alpha[s], 4) for s in range(1, 10)] == [1, 1, 1, 1, 0.3333, 0.6667, 1, 1, 1]

    killed_alpha = {}
    for kill_at in (3, 5):  # mid first phase (last checkpoint 2), mid second (last 4 = the boundary)
        with pytest.raises(Killed):
            run_phases(growing_gan(), tmp_path / "killed", [KillAt(kill_at), RecordAlpha(killed_alpha)])
    resumed = growing_gan()
    assert run_phases(resumed, tmp_path / "killed", [RecordAlpha(killed_alpha)]) == 9
    assert killed_alpha == pytest.approx(straight_alpha)
    for a, b in zip(straight.weights, resumed.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=a.path)
    for role in ("d_optimizer", "g_optimizer"):
        for a, b in zip(straight.optimizers[role].variables, resumed.optimizers[role].variables):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-7, err_msg=a.path)
    np.testing.assert_array_equal(straight.seed_generator.state.numpy(), resumed.seed_generator.state.numpy())


# --- 5. The step counter ------------------------------------------------------------


def test_step_counts_train_steps_that_a_loss_scale_optimizer_skips():
    # A loss-scale optimizer skips a step whose gradients are not finite and
    # does not count it; the model's own step still moves, so checkpoints,
    # TensorBoard steps and the data stream stay aligned.
    keras.utils.set_random_seed(0)
    model = LazyGAN(TinyNoiseGenerator(), TinyCritic(), every=0, seed=0)
    model.compile(
        d_optimizer=keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1)),
        g_optimizer=keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1)),
    )
    poisoned = images(4, 0)
    poisoned[0, 0, 0, 0] = np.inf
    model.train_on_batch(poisoned)
    assert int(model.d_optimizer.iterations.numpy()) == 0  # skipped
    assert int(model.step.numpy()) == 1
    model.train_on_batch(images(4, 1))
    assert int(model.d_optimizer.iterations.numpy()) == 1
    assert int(model.step.numpy()) == 2


def test_compile_creates_no_unused_default_optimizer(tmp_path):
    model = lazy_gan()
    assert model.optimizer is None
    assert set(model.optimizers) == {"d_optimizer", "g_optimizer"}
    checkpointer = Checkpointer(str(tmp_path))
    model.train_on_batch(images(4, 0))
    checkpointer.save(model)
    import h5py

    with h5py.File(tmp_path / checkpointer.latest()["weights"]) as stored:
        saved = set(stored.keys())
    # Keras's own `optimizer` (an RMSprop over every weight when compile()
    # is left to its default) is not there; the two players' are.
    assert {"d_optimizer", "g_optimizer"} <= saved and "optimizer" not in saved
    fresh = lazy_gan()
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        checkpointer.restore(fresh)
    assert not [w for w in caught if "Skipping variable loading" in str(w.message)]


def test_optimizer_roles_are_checked():
    model = LazyGAN(TinyNoiseGenerator(), TinyCritic(), every=0, seed=0)
    with pytest.raises(ConfigError, match="no optimizer role e_optimizer"):
        model.compile(e_optimizer=sgd())
    with pytest.raises(ConfigError, match="one optimizer per role"):
        model.compile(optimizer=sgd())


def test_global_batch_that_does_not_split_over_replicas_is_rejected():
    strategy = mirrored(2)
    with strategy.scope():
        model = lazy_gan(every=0)
    dataset = tf.data.Dataset.from_tensors(images(3, 0)).repeat(2)
    with pytest.raises(ConfigError, match="global batch of 3 does not divide evenly over 2 replicas"):
        model.fit(dataset, epochs=1, verbose=0)


# --- 6. Frozen auxiliary networks and a content term ---------------------------------


@keras.saving.register_keras_serializable(package="zoo_tests")
class ContentPix2Pix(TinyPix2Pix):
    """TinyPix2Pix with a content loss through a frozen feature network."""

    def __init__(self, generator, discriminator, features, **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        self.features = freeze(features)

    def generator_terms(self):
        return super().generator_terms() + [terms.content(self.features, weight=2.0)]


def test_a_frozen_network_is_used_but_never_trained():
    keras.utils.set_random_seed(0)
    features = TinyCritic(name="features")
    model = ContentPix2Pix(TinyTranslator(), TinyPairCritic(), features, seed=0)
    model.compile(d_optimizer=sgd(), g_optimizer=sgd())
    assert model.metric_names() == ["d_loss", "g_loss", "l1", "content"]
    frozen = {id(v) for v in features.weights}
    assert not frozen & {id(v) for v in model.trainable_weights}
    for role, variables in model.optimizer_variables().items():
        assert not frozen & {id(v) for v in variables}, role
    before = values(features.weights)
    target, source = images(4, 1), images(4, 2)
    fake = model.generator(source, training=True)
    expected = 2.0 * np.mean((features(fake).numpy() - features(target).numpy()) ** 2)
    logs = model.train_on_batch((target, source), return_dict=True)
    np.testing.assert_allclose(logs["content"], expected, rtol=1e-5)
    for b, w in zip(before, features.weights):
        np.testing.assert_array_equal(b, w.numpy())
    with pytest.raises(ConfigError, match="must be frozen"):
        terms.content(TinyCritic(), weight=1.0)


# --- 7. Text conditions ------------------------------------------------------------


@keras.saving.register_keras_serializable(package="zoo_tests")
class TinyTextGenerator(Network):
    """``noise`` and a ``text_embedding`` -> 8x8 images."""

    def __init__(self, latent_dim=4, embedding_dim=6, **kwargs):
        noise = keras.Input((latent_dim,), name="noise")
        text = keras.Input((embedding_dim,), name="text_embedding")
        x = keras.layers.Concatenate()([noise, text])
        x = keras.layers.Dense(64, activation="tanh", name="pixels")(x)
        super().__init__(inputs=[noise, text], outputs=keras.layers.Reshape(SHAPE)(x), **kwargs)
        self.latent_dim = latent_dim
        self.embedding_dim = embedding_dim


def test_text_condition_trains_generates_and_pairs_wrong_text():
    keras.utils.set_random_seed(0)
    model = GAN(TinyTextGenerator(), TinyCritic(), seed=0)
    model.compile(d_optimizer=sgd(), g_optimizer=sgd())
    assert model.condition == conditions.TextCondition(6) and model.latent_dim == 4
    embeddings = np.random.default_rng(3).normal(size=(4, 6)).astype("float32")
    logs = model.train_on_batch((images(4, 1), embeddings), return_dict=True)
    assert np.isfinite(logs["d_loss"]) and np.isfinite(logs["g_loss"])
    assert model.generate(seed=1, condition=embeddings).shape == (4,) + SHAPE
    np.testing.assert_array_equal(
        model.condition.mismatched(tf.constant(embeddings)), np.roll(embeddings, -1, axis=0)
    )
    assert model.condition.serving_spec().dtype == tf.string  # raw text, encoded by the model
    # The base model has no text encoder: exporting it says what is missing.
    with pytest.raises(ConfigError, match="override serving_condition"):
        model.export_signatures()
    with pytest.raises(ConfigError, match=r"\[3, 6\], one per image"):
        model.generate_from_noise(np.zeros((3, 4), "float32"), embeddings)
    with pytest.raises(ConfigError, match=r"\[4, 6\], one per image; got \(4, 5\)"):
        model.generate(condition=np.zeros((4, 5), "float32"))
    assert conditions.from_description(model.condition.describe()) == model.condition


def test_a_checkpoint_whose_optimizer_state_does_not_fit_is_refused(tmp_path):
    # Keras would only warn and keep fresh slots: a resume that is not exact.
    model = lazy_gan(every=0)
    model.train_on_batch(images(4, 0))
    checkpointer = Checkpointer(str(tmp_path))
    checkpointer.save(model)
    other = LazyGAN(TinyNoiseGenerator(), TinyCritic(), every=0, seed=0)
    other.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    with pytest.raises(CheckpointError, match="Cannot restore checkpoint .* exactly.*another --logdir"):
        checkpointer.restore(other)


def test_the_best_checkpoint_is_exported_only_if_it_fits_exactly(tmp_path):
    from zoo.training.recipe import restore_best

    model = lazy_gan(every=0)
    model.train_on_batch(images(4, 0))
    best = Checkpointer(str(tmp_path / "best"))
    best.save(model)
    name = best.latest()["weights"]
    (tmp_path / "fid_curve.json").write_text(json.dumps(
        {"metric": "fid", "network": "inception", "num_samples": 10, "points": [],
         "best": {"step": 1, "fid": 5.0, "weights": name}}))
    fresh = lazy_gan(every=0)
    assert restore_best(fresh, tmp_path)["step"] == 1
    for a, b in zip(fresh.weights, model.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # Another optimizer's slots: Keras would warn and export anyway.
    other = LazyGAN(TinyNoiseGenerator(), TinyCritic(), every=0, seed=0)
    other.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    with pytest.raises(CheckpointError, match=r"Cannot restore the best checkpoint .*best/ckpt-00000001"
                                              r"\.weights\.h5 \(step 1\) exactly"):
        restore_best(other, tmp_path)


def test_lazy_discriminator_terms_cannot_be_unrolled():
    keras.utils.set_random_seed(0)
    model = LazyGAN(TinyNoiseGenerator(), TinyCritic(), every=4, seed=0, unrolled_steps=2)
    with pytest.raises(ConfigError, match="lazy discriminator terms .penalty."):
        model.compile(d_optimizer=sgd(), g_optimizer=sgd())
