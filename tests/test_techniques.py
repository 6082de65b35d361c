"""Stabilising techniques: spectral normalisation, minibatch discrimination,
unrolled updates, EMA of the generator, DiffAugment."""

import math

import zoo  # noqa: F401
import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.core import augment, layers, unrolled
from zoo.core.adversarial import noise_for_seed
from zoo.models.dcgan import DCGAN, DCGANDiscriminator, DCGANGenerator

from gan_checks import assert_replicas_match, mirrored

SHAPE = (28, 28, 1)


def small_dcgan(seed=0, d_optimizer=None, g_optimizer=None, **model_args):
    keras.utils.set_random_seed(seed)
    model = DCGAN(
        DCGANGenerator(SHAPE, latent_dim=8, base_filters=4),
        DCGANDiscriminator(SHAPE, base_filters=4),
        seed=seed,
        **model_args,
    )
    model.compile(
        d_optimizer=d_optimizer or keras.optimizers.SGD(0.1),
        g_optimizer=g_optimizer or keras.optimizers.SGD(0.1),
    )
    return model


def real_batch(n=8, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n,) + SHAPE).astype("float32")


def _values(variables):
    return [np.array(v.numpy()) for v in variables]


def _top_singular_value(matrix):
    return np.linalg.svd(np.asarray(matrix, np.float64), compute_uv=False)[0]


# --- Spectral normalisation ------------------------------------------------


def test_spectral_norm_of_the_normalised_kernel_is_one():
    layer = layers.SpectralNormalization(keras.layers.Conv2D(6, 3), power_iterations=1)
    inputs = np.random.default_rng(0).normal(size=(2, 8, 8, 4)).astype("float32")
    layer(inputs)
    kernel = layer.kernel
    kernel.assign(3.0 * kernel.numpy())  # a raw spectral norm far from 1
    raw = _top_singular_value(kernel.numpy().reshape(3 * 3 * 4, 6))
    assert raw > 1.5
    for _ in range(50):  # the persistent u converges over training calls
        layer(inputs, training=True)
    normalized = layer.normalized_kernel().numpy().reshape(3 * 3 * 4, 6)
    assert abs(_top_singular_value(normalized) - 1.0) < 1e-2
    np.testing.assert_allclose(float(layer.sigma()), raw, rtol=1e-2)


def test_spectral_norm_layer_computes_the_wrapped_op_with_the_normalised_kernel():
    conv = keras.layers.Conv2D(3, 3, strides=2, padding="same", activation="relu")
    layer = layers.SpectralNormalization(conv, power_iterations=3)
    inputs = np.random.default_rng(1).normal(size=(2, 6, 6, 2)).astype("float32")
    layer(inputs)
    conv.bias.assign([0.1, -0.2, 0.3])
    u_before = layer.u.numpy().copy()
    inference = layer(inputs)
    np.testing.assert_array_equal(layer.u.numpy(), u_before)  # inference: u kept
    kernel = layer.normalized_kernel()
    expected = tf.nn.relu(tf.nn.conv2d(inputs, kernel, 2, "SAME") + conv.bias)
    np.testing.assert_allclose(inference, expected, atol=1e-5)
    layer(inputs, training=True)
    assert not np.allclose(layer.u.numpy(), u_before)  # training: u iterated

    dense = layers.SpectralNormalization(keras.layers.Dense(4))
    features = np.ones((2, 5), np.float32)
    outputs = dense(features)
    np.testing.assert_allclose(
        outputs,
        features @ dense.normalized_kernel().numpy() + dense.layer.bias.numpy(),
        atol=1e-5,
    )


def test_spectral_norm_gradient_flows_through_sigma():
    # d/dW of sum(x W / sigma(W)) has the -x W u v^T / sigma^2 term of the
    # paper's eq. 12: it is not the plain gradient divided by sigma.
    layer = layers.SpectralNormalization(keras.layers.Dense(3, use_bias=False))
    x = np.random.default_rng(2).normal(size=(4, 5)).astype("float32")
    layer(x)
    for _ in range(30):
        layer(x, training=True)
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(layer(x))
    gradient = tape.gradient(total, layer.kernel).numpy()
    sigma = float(layer.sigma())
    plain = np.tile(x.sum(0)[:, None], (1, 3)) / sigma
    kernel = layer.kernel.numpy()
    u = layer.u.numpy() / np.linalg.norm(layer.u.numpy())
    v = kernel @ u / np.linalg.norm(kernel @ u)
    # sum over outputs of x W: its derivative through sigma = ||W u||.
    through_sigma = -float(x.sum(0) @ kernel @ np.ones(3)) / sigma**2 * np.outer(v, u)
    np.testing.assert_allclose(gradient, plain + through_sigma, atol=1e-5)


def test_spectral_norm_rejects_layers_without_a_kernel():
    with pytest.raises(ValueError, match="wraps Dense, Conv1D/2D/3D or Embedding"):
        layers.SpectralNormalization(keras.layers.ReLU())


def test_dcgan_discriminator_spectral_norm_flag(tmp_path):
    plain = DCGANDiscriminator(SHAPE, base_filters=4)
    assert not any(isinstance(l, layers.SpectralNormalization) for l in plain.layers)
    assert plain.get_config()["spectral_norm"] is False
    normalized = DCGANDiscriminator(SHAPE, base_filters=4, spectral_norm=True)
    wrapped = [l.name for l in normalized.layers if isinstance(l, layers.SpectralNormalization)]
    assert wrapped == ["down1", "down2", "logits"]
    # Same trainable weights, plus one non-trainable u per wrapped layer.
    assert [w.shape for w in normalized.trainable_weights] == [
        w.shape for w in plain.trainable_weights
    ]
    images = real_batch(3)
    normalized(images, training=True)
    path = tmp_path / "discriminator.keras"
    normalized.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.get_config() == normalized.get_config()
    np.testing.assert_allclose(loaded(images), normalized(images), atol=1e-6)


# --- Minibatch discrimination ----------------------------------------------


def _minibatch_layer(features):
    layer = layers.MinibatchDiscrimination(num_kernels=2, kernel_dim=2)
    layer.build(features.shape)
    # T[:, 0, :] = I and T[:, 1, :] = 2 I, stored as [A, B*C].
    layer.kernel.assign(np.array([[1, 0, 2, 0], [0, 1, 0, 2]], np.float32))
    return layer


def test_minibatch_discrimination_matches_the_hand_computed_features():
    features = np.array([[1, 0], [0, 1], [1, 1]], np.float32)
    outputs = _minibatch_layer(features)(features).numpy()
    e = math.exp
    # Kernel 0 rows are the features: L1 distances d01 = 2, d02 = 1, d12 = 1;
    # o_i = sum_j exp(-d_ij) with exp(0) = 1 for j = i. Kernel 1 doubles them.
    expected = [
        [1, 0, 1 + e(-2) + e(-1), 1 + e(-4) + e(-2)],
        [0, 1, 1 + e(-2) + e(-1), 1 + e(-4) + e(-2)],
        [1, 1, 1 + e(-1) + e(-1), 1 + e(-2) + e(-2)],
    ]
    np.testing.assert_allclose(outputs, expected, rtol=1e-6)


def test_minibatch_discrimination_couples_the_examples_of_a_batch():
    features = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    layer = layers.MinibatchDiscrimination(num_kernels=5, kernel_dim=3)
    before = layer(features).numpy()
    assert before.shape == (4, 8)
    changed = features.copy()
    changed[2] += 0.5  # only example j = 2 changes
    after = layer(changed).numpy()
    np.testing.assert_array_equal(after[0, :3], before[0, :3])  # own features kept
    assert not np.allclose(after[0, 3:], before[0, 3:])  # similarity of i = 0 moved
    config = layer.get_config()
    clone = layers.MinibatchDiscrimination.from_config(config)
    assert clone.get_config() == config


@pytest.mark.parametrize("synchronized", [True, False])
def test_minibatch_discrimination_across_replicas(synchronized):
    features = np.random.default_rng(1).normal(size=(4, 3)).astype("float32")
    strategy = mirrored(2)
    with strategy.scope():
        layer = layers.MinibatchDiscrimination(3, 2, synchronized=synchronized)
        one_device = layer(features).numpy()  # builds it
    shards = strategy.experimental_distribute_values_from_function(
        lambda context: features[2 * context.replica_id_in_sync_group :][:2]
    )
    outputs = tf.function(lambda x: strategy.run(layer, args=(x,)))(shards)
    replicas = np.concatenate([o.numpy() for o in strategy.experimental_local_results(outputs)])
    if synchronized:  # the sum over j spans the global batch
        np.testing.assert_allclose(replicas, one_device, rtol=1e-5)
    else:  # each replica only sees its own two examples
        assert not np.allclose(replicas[:, 3:], one_device[:, 3:])


# --- Unrolled GAN -------------------------------------------------------------


def test_unrolled_generator_step_leaves_the_discriminator_untouched():
    real = tf.constant(real_batch())
    plain, unrolled = small_dcgan(), small_dcgan(unrolled_steps=3)
    d_before = _values(unrolled.discriminator.weights)  # batch-norm statistics too
    d_optimizer_before = _values(unrolled.d_optimizer.variables)
    g_before = _values(unrolled.generator.trainable_weights)
    plain_loss = float(plain.generator_step(real)["g_loss"])
    unrolled_loss = float(unrolled.generator_step(real)["g_loss"])
    for before, after in zip(d_before, unrolled.discriminator.weights):
        np.testing.assert_array_equal(before, after.numpy())
    for before, after in zip(d_optimizer_before, unrolled.d_optimizer.variables):
        np.testing.assert_array_equal(before, after.numpy())
    for before, after in zip(g_before, unrolled.generator.trainable_weights):
        assert not np.allclose(before, after.numpy())
    # Same weights and noise, but judged by the discriminator 3 steps ahead.
    assert abs(unrolled_loss - plain_loss) > 1e-4


@pytest.mark.parametrize(
    "optimizer",
    [
        lambda: keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
        lambda: keras.optimizers.Adam(1e-2),
    ],
    ids=["sgd_nesterov", "adam"],
)
def test_unrolled_steps_are_the_discriminator_optimizers_own_updates(optimizer):
    model = small_dcgan(unrolled_steps=2, d_optimizer=optimizer())
    real = tf.constant(real_batch())
    model.discriminator_step(real)  # non-zero slots and step count to start from
    fake = model.generator(model.sample_latent(8))
    unrolled = model.unrolled_discriminator(real, fake)
    variables = model.discriminator.trainable_variables
    for _ in range(2):  # the same two updates, applied for real
        with tf.GradientTape() as tape:
            real_logits = model.discriminate(real, training=True)
            fake_logits = model.discriminate(fake, training=True)
            loss = model.reduce_loss(model.discriminator_loss(real_logits, fake_logits))
        model.d_optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    for value, variable in zip(unrolled, variables):
        np.testing.assert_allclose(value, variable.numpy(), atol=1e-6)


class Float64DCGAN(DCGAN):
    """Keeps float64 end to end (the base class reports float32 losses), so
    that central differences resolve the derivative."""

    def discriminate(self, images, labels=None, training=False):
        return self.discriminator(images, training=training)

    def reduce_loss(self, per_example_loss):
        return tf.reduce_mean(per_example_loss)


@pytest.mark.parametrize(
    "optimizer",
    [lambda: keras.optimizers.SGD(1.0), lambda: keras.optimizers.Adam(0.01)],
    ids=["sgd", "adam"],
)
def test_second_order_unrolling_matches_finite_differences(optimizer):
    # The generator's loss as a function of the fake images alone,
    # L(fake) = mean generator loss of D_K(fake), where D_K moved with fake:
    # its full derivative (Metz et al. eq. 12, both terms) must match central
    # differences; dropping the second term must not.
    keras.mixed_precision.set_global_policy("float64")
    try:
        keras.utils.set_random_seed(0)
        images = keras.Input((6, 6, 1), dtype="float64")
        hidden = keras.layers.Dense(8, activation="tanh")(keras.layers.Flatten()(images))
        critic = keras.Model(images, keras.layers.Dense(1)(hidden))
        model = Float64DCGAN(
            DCGANGenerator((8, 8, 1), latent_dim=4, base_filters=2), critic, unrolled_steps=3
        )
        model.compile(d_optimizer=optimizer(), g_optimizer=keras.optimizers.SGD(0.1))
        rng = np.random.default_rng(0)
        real, fake, direction = (tf.constant(rng.normal(size=(4, 6, 6, 1))) for _ in range(3))
        variables = critic.trainable_variables

        def loss(images, second_order=True):
            values = model.unrolled_discriminator(real, images)
            if not second_order:
                values = [tf.stop_gradient(value) for value in values]
            with unrolled.values_of(variables, values):
                logits = model.discriminate(images, training=True)
            return model.reduce_loss(model.generator_loss(logits))

        def directional_derivative(second_order):
            with tf.GradientTape() as tape:
                tape.watch(fake)
                value = loss(fake, second_order)
            return float(tf.reduce_sum(tape.gradient(value, fake) * direction))

        eps = 1e-6
        numeric = (float(loss(fake + eps * direction)) - float(loss(fake - eps * direction))) / (
            2 * eps
        )
        np.testing.assert_allclose(directional_derivative(True), numeric, rtol=1e-5)
        assert abs(directional_derivative(False) - numeric) > 0.1 * abs(numeric)
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_first_order_unrolling_reports_the_same_loss_with_a_different_update():
    real = tf.constant(real_batch())
    full = small_dcgan(unrolled_steps=2)
    first = small_dcgan(unrolled_steps=2, unrolled_second_order=False)
    np.testing.assert_allclose(
        full.generator_step(real)["g_loss"],
        first.generator_step(real)["g_loss"],
        rtol=1e-6,
    )
    differences = [
        np.max(np.abs(a.numpy() - b.numpy()))
        for a, b in zip(full.generator.trainable_weights, first.generator.trainable_weights)
    ]
    assert max(differences) > 1e-7


def test_unrolling_needs_an_optimizer_it_can_unroll():
    with pytest.raises(ValueError, match="SGD or Adam .* got RMSprop"):
        small_dcgan(unrolled_steps=1, d_optimizer=keras.optimizers.RMSprop(1e-3))
    with pytest.raises(ValueError, match="with clipnorm"):
        small_dcgan(unrolled_steps=1, d_optimizer=keras.optimizers.Adam(clipnorm=1.0))


def test_train_step_with_unrolling_updates_both_players():
    model = small_dcgan(unrolled_steps=2, d_optimizer=keras.optimizers.Adam(1e-3))
    g_before = _values(model.generator.trainable_weights)
    logs = model.train_on_batch(real_batch(), return_dict=True)
    assert all(np.isfinite(v) for v in logs.values())
    assert int(model.d_optimizer.iterations.numpy()) == 1  # the unroll never applies
    assert not np.allclose(g_before[0], model.generator.trainable_weights[0].numpy())


# --- EMA of the generator ----------------------------------------------------


def test_ema_weights_are_the_closed_form_average():
    decay = 0.9
    model = small_dcgan(ema_decay=decay)
    snapshots = [_values(model.generator.weights)]  # w0
    for step in range(2):
        model.train_on_batch(real_batch(seed=step))
        snapshots.append(_values(model.generator.weights))  # w1, w2
    w0, w1, w2 = snapshots
    for i, average in enumerate(model.ema_generator.weights):
        # ema2 = d (d w0 + (1 - d) w1) + (1 - d) w2
        expected = decay**2 * w0[i] + decay * (1 - decay) * w1[i] + (1 - decay) * w2[i]
        np.testing.assert_allclose(average.numpy(), expected, atol=1e-6, err_msg=average.path)
    assert not np.allclose(w2[0], w0[0])  # the generator did move


def test_ema_generator_is_what_is_exported_and_sampled():
    model = small_dcgan(ema_decay=0.5)
    assert model.ema_generator is not model.generator
    assert model.ema_generator.name == model.generator.name + "_ema"
    assert type(model.ema_generator) is DCGANGenerator
    assert not model.ema_generator.trainable_weights
    model.train_on_batch(real_batch())
    assert model.export_generator is model.ema_generator
    noise = noise_for_seed(3, 8, 5)
    np.testing.assert_allclose(model.generate(3, seed=5), model.ema_generator(noise), atol=1e-6)
    assert not np.allclose(model.generate(3, seed=5), model.generator(noise))


def test_ema_weights_are_checkpointed(tmp_path):
    model = small_dcgan(ema_decay=0.5)
    model.train_on_batch(real_batch())
    path = str(tmp_path / "ckpt.weights.h5")
    model.save_weights(path)
    restored = small_dcgan(seed=1, ema_decay=0.5)
    restored.load_weights(path)
    for saved, loaded in zip(model.ema_generator.weights, restored.ema_generator.weights):
        np.testing.assert_array_equal(saved.numpy(), loaded.numpy())


def test_replicas_match_with_every_technique_on():
    # The unrolled gradients are summed over replicas, augmentations are
    # drawn for the global batch, the averages follow mirrored weights. The
    # discriminator has no batch norm here: differentiating the unrolled
    # step through it amplifies the float32 rounding that separates Keras's
    # synchronised moments (E[x^2] - E[x]^2, two replicas) from the two-pass
    # ones (one device) beyond this tolerance; with the same formula on both
    # sides they agree to 1e-6.
    def make_model():
        keras.utils.set_random_seed(3)
        model = DCGAN(
            DCGANGenerator(SHAPE, latent_dim=8, base_filters=4),
            DCGANDiscriminator(SHAPE, base_filters=4, batch_norm=False),
            seed=3,
            ema_decay=0.5,
            augment="color,translation,cutout",
            unrolled_steps=1,
        )
        model.compile(
            d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1)
        )
        return model

    assert_replicas_match(make_model, real_batch(8, seed=5))


# --- DiffAugment ---------------------------------------------------------------


SEED = tf.constant([3, 4], tf.int64)


@pytest.mark.parametrize("policy", ["color", "translation", "cutout"])
def test_gradients_flow_through_each_augmentation(policy):
    rng = np.random.default_rng(0)
    images = tf.constant(rng.uniform(-1, 1, (4, 16, 16, 3)), tf.float32)
    weights = tf.constant(rng.normal(size=(4, 16, 16, 3)), tf.float32)
    direction = tf.constant(rng.normal(size=(4, 16, 16, 3)), tf.float32)

    def objective(x):
        return tf.reduce_sum(augment.diff_augment(x, policy, SEED) * weights)

    with tf.GradientTape() as tape:
        tape.watch(images)
        value = objective(images)
    gradient = tape.gradient(value, images)
    assert gradient is not None and float(tf.reduce_max(tf.abs(gradient))) > 0
    # For fixed random parameters each augmentation is affine in the images,
    # so central differences are exact up to rounding.
    numeric = (objective(images + direction) - objective(images - direction)) / 2.0
    np.testing.assert_allclose(
        float(tf.reduce_sum(gradient * direction)), float(numeric), rtol=1e-3
    )


def test_translate_moves_content_by_the_given_shift_with_zero_fill():
    image = np.zeros((1, 8, 8, 1), np.float32)
    image[0, 3, 4, 0] = 1.0
    images = np.repeat(image, 3, axis=0)
    moved = augment.translate(images, [[2, -1], [0, 0], [-4, 0]]).numpy()
    assert moved[0, 5, 3, 0] == 1.0 and moved[0].sum() == 1.0  # 2 down, 1 left
    np.testing.assert_array_equal(moved[1], image[0])
    assert moved[2].sum() == 0.0  # pushed out of the frame: zeros came in


def test_random_translation_moves_by_at_most_one_eighth():
    image = np.zeros((1, 16, 16, 1), np.float32)
    image[0, 8, 8, 0] = 1.0
    moved = augment.translation(np.repeat(image, 300, axis=0), SEED).numpy()
    assert np.all(moved.reshape(300, -1).sum(axis=1) == 1.0)  # never cropped away
    rows, columns = np.nonzero(moved[..., 0])[1:]
    shifts = np.stack([rows - 8, columns - 8], axis=1)
    # 16 / 8 = 2: every shift in -2..2 on each axis, and only those.
    assert set(shifts[:, 0]) == set(range(-2, 3)) == set(shifts[:, 1])


def test_cut_out_zeroes_a_quarter_at_the_given_centre():
    ones = np.ones((1, 8, 8, 1), np.float32)
    cut = augment.cut_out(ones, [[3, 5]], (4, 4)).numpy()[0, ..., 0]
    expected = np.ones((8, 8), np.float32)
    expected[1:5, 3:7] = 0.0  # rows 3-2..3+1, columns 5-2..5+1
    np.testing.assert_array_equal(cut, expected)
    assert (cut == 0).mean() == 0.25


def test_random_cutout_zeroes_at_most_a_quarter_and_exactly_a_quarter_inside():
    cut = augment.cutout(np.ones((200, 16, 16, 2), np.float32), SEED).numpy()
    fraction = (cut == 0).reshape(200, -1).mean(axis=1)
    assert fraction.max() == 0.25  # an 8x8 square on 16x16, fully inside
    assert fraction.min() >= 1 / 16  # a centre on the border keeps a 4x4 quarter
    assert np.all(cut[..., 0] == cut[..., 1])  # all channels of a pixel


def test_color_changes_brightness_saturation_and_contrast_per_example():
    gray = np.full((64, 4, 4, 1), 0.25, np.float32)
    bright = augment.brightness(gray, SEED).numpy()
    offsets = bright[:, 0, 0, 0] - 0.25
    assert np.all(np.abs(offsets) <= 0.5) and np.std(offsets) > 0.1
    np.testing.assert_array_equal(augment.saturation(gray, SEED), gray)  # one channel
    images = np.random.default_rng(0).uniform(-1, 1, (64, 4, 4, 3)).astype("float32")
    contrasted = augment.contrast(images, SEED).numpy()
    np.testing.assert_allclose(
        contrasted.mean(axis=(1, 2, 3)), images.mean(axis=(1, 2, 3)), atol=1e-5
    )
    ratio = contrasted.std(axis=(1, 2, 3)) / images.std(axis=(1, 2, 3))
    assert ratio.min() >= 0.5 - 1e-4 and ratio.max() <= 1.5 + 1e-4


def test_same_seed_same_augmentation():
    images = np.random.default_rng(1).uniform(-1, 1, (6, 16, 16, 3)).astype("float32")
    policy = "color,translation,cutout"
    a = augment.diff_augment(images, policy, SEED)
    b = augment.diff_augment(images, policy, SEED)
    c = augment.diff_augment(images, policy, tf.constant([3, 5], tf.int64))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    with pytest.raises(ValueError, match="Unknown DiffAugment policy zoom"):
        augment.parse_policy("color,zoom")


def test_two_replicas_augment_as_one_device():
    images = np.random.default_rng(2).uniform(-1, 1, (4, 16, 16, 3)).astype("float32")
    one_device = augment.diff_augment(images, "color,translation,cutout", SEED).numpy()
    strategy = mirrored(2)
    shards = strategy.experimental_distribute_values_from_function(
        lambda context: images[2 * context.replica_id_in_sync_group :][:2]
    )
    outputs = tf.function(
        lambda x: strategy.run(
            augment.diff_augment, args=(x, "color,translation,cutout", SEED)
        )
    )(shards)
    replicas = np.concatenate([o.numpy() for o in strategy.experimental_local_results(outputs)])
    np.testing.assert_allclose(replicas, one_device, atol=1e-6)


class RecordingDCGAN(DCGAN):
    """Keeps what the discriminator was shown (eager calls only)."""

    def discriminate(self, images, labels=None, training=False):
        self.shown.append(np.array(images))
        return super().discriminate(images, labels, training)


def test_both_steps_show_the_discriminator_augmented_images():
    keras.utils.set_random_seed(0)
    model = RecordingDCGAN(
        DCGANGenerator(SHAPE, latent_dim=8, base_filters=4),
        DCGANDiscriminator(SHAPE, base_filters=4),
        augment="cutout",
        seed=0,
    )
    model.compile()
    model.shown = []
    model.discriminator_step(tf.ones((4,) + SHAPE))
    model.generator_step(tf.ones((4,) + SHAPE))
    real, fake, generated = model.shown
    zeros = [(batch == 0).reshape(4, -1).sum(axis=1) for batch in (real, fake, generated)]
    # A 14x14 cutout square (half of 28) keeps at least a 7x7 corner inside;
    # tanh outputs are never exactly 0 otherwise.
    for count in zeros:
        assert np.all(count >= 49) and np.all(count <= 196)


# --- Configuration -------------------------------------------------------------


def test_techniques_are_off_by_default_and_round_trip_through_the_config(tmp_path):
    plain = small_dcgan()
    config = plain.get_config()
    assert (config["unrolled_steps"], config["ema_decay"], config["augment"]) == (0, None, None)
    assert plain.ema_generator is None and plain.export_generator is plain.generator

    model = small_dcgan(
        unrolled_steps=2,
        unrolled_second_order=False,
        ema_decay=0.99,
        augment=["translation", "color"],
    )
    config = model.get_config()
    assert config["augment"] == "translation,color"
    clone = DCGAN.from_config(config)
    assert clone.get_config() == config
    assert clone.ema_generator is not None and clone.unrolled_steps == 2

    model.train_on_batch(real_batch())
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path, compile=False)
    assert loaded.get_config() == config
    for saved, restored in zip(model.ema_generator.weights, loaded.ema_generator.weights):
        np.testing.assert_array_equal(saved.numpy(), restored.numpy())

    with pytest.raises(ValueError, match="ema_decay must be in"):
        small_dcgan(ema_decay=1.0)
    with pytest.raises(ValueError, match="unrolled_steps must be >= 0"):
        small_dcgan(unrolled_steps=-1)
