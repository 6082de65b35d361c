"""BigGAN (Brock et al. 2019): orthogonal regularisation, conditional batch
norm, self-attention and the projection head against closed forms; the
hierarchical latent's plan; standing statistics as averages of batch
statistics; the truncated normal; the EMA start; replicas; resume; serving
with truncation and label checks; the emoji categories; the recipe."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo import data
from zoo.core.errors import ConfigError
from zoo.metrics.generator_io import draw_latent
from zoo.models.biggan import (
    BigGAN,
    BigGANDiscriminator,
    BigGANGenerator,
    ConditionalBatchNorm,
    OrthogonalRegularizer,
    SelfAttention,
    standing_statistics,
)

from conftest import shared_path
from gan_checks import (
    assert_generator_round_trip,
    assert_replicas_match,
    assert_resumes_exactly,
    assert_served_without_zoo,
    assert_train_step_updates_both_players,
)

SHAPE = (16, 16, 3)
CLASSES = 3


def small_biggan(seed=0, optimizer=None, attention=(), **model_args):
    keras.utils.set_random_seed(seed)
    model = BigGAN(
        BigGANGenerator(SHAPE, num_classes=CLASSES, latent_dim=12, channels=4, channel_multipliers=(2, 2, 1),
                        attention_resolutions=attention),
        BigGANDiscriminator(SHAPE, num_classes=CLASSES, channels=4, channel_multipliers=(1, 2, 2),
                            downsample=(True, True, False), attention_resolutions=attention),
        seed=seed,
        standing_statistics=4,
        **model_args,
    )
    if optimizer:
        model.compile(d_optimizer=optimizer(), g_optimizer=optimizer())
    else:
        model.compile()
    return model


def batch(n=8, seed=0, group=2):
    """``group`` real batches per step (``[n, group, H, W, C]``) and their labels."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(-1, 1, (n, group) + SHAPE).astype("float32")
    return images, rng.integers(0, CLASSES, (n, group)).astype("int32")


# --- Pieces --------------------------------------------------------------------------------


def test_orthogonal_regularisation_is_the_off_diagonal_gram_norm():
    regularizer = OrthogonalRegularizer(0.5)
    np.testing.assert_allclose(regularizer(tf.eye(4)), 0.0)  # orthonormal filters: no penalty
    w = np.array([[1.0, 1.0], [0.0, 2.0], [1.0, 0.0]], "float32")  # [fan_in 3, units 2]
    # W^T W = [[2, 1], [1, 5]]: off-diagonal 1 and 1.
    np.testing.assert_allclose(regularizer(w), 0.5 * 2.0, rtol=1e-6)
    # A conv kernel [k, k, in, out] is the matrix [k k in, out]; the penalty
    # ignores the filters' own norms.
    kernel = np.random.default_rng(0).normal(size=(3, 3, 2, 4)).astype("float32")
    matrix = kernel.reshape(-1, 4)
    gram = matrix.T @ matrix
    np.testing.assert_allclose(regularizer(kernel), 0.5 * np.sum((gram - np.diag(np.diag(gram))) ** 2), rtol=1e-5)
    np.testing.assert_allclose(regularizer(kernel * np.array([1, 2, 3, 4], "float32")) > 0, True)


def test_conditional_batch_norm_scales_and_shifts_by_the_condition():
    rng = np.random.default_rng(1)
    layer = ConditionalBatchNorm(3, spectral=False)
    x = rng.normal(2.0, 3.0, (4, 5, 5, 3)).astype("float32")
    y = rng.normal(size=(4, 6)).astype("float32")
    out = layer([x, y], training=True).numpy()
    mean, variance = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    gain, bias = y @ layer.gain.kernel.numpy(), y @ layer.bias.kernel.numpy()
    expected = (x - mean) / np.sqrt(variance + 1e-4) * (1 + gain[:, None, None]) + bias[:, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-3, atol=1e-3)


def test_self_attention_is_the_identity_at_gamma_zero_and_attends_after():
    rng = np.random.default_rng(2)
    layer = SelfAttention(16)
    x = rng.normal(size=(2, 4, 4, 16)).astype("float32")
    np.testing.assert_allclose(layer(x).numpy(), x)
    layer.gamma.assign(1.0)
    out = layer(x).numpy()
    theta = layer.theta(x).numpy().reshape(2, 16, 2)
    phi = tf.nn.max_pool2d(layer.phi(x), 2, 2, "VALID").numpy().reshape(2, 4, 2)
    g = tf.nn.max_pool2d(layer.g(x), 2, 2, "VALID").numpy().reshape(2, 4, 8)
    logits = theta @ phi.transpose(0, 2, 1)
    attention = np.exp(logits - logits.max(-1, keepdims=True))
    attention /= attention.sum(-1, keepdims=True)
    expected = x + layer.o((attention @ g).reshape(2, 4, 4, 8)).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def test_the_projection_head_adds_the_label_embedding_dot_the_features():
    model = small_biggan()
    discriminator = model.discriminator
    features = keras.Model(discriminator.inputs, discriminator.get_layer("features").output)
    images = np.random.default_rng(3).uniform(-1, 1, (2,) + SHAPE).astype("float32")
    scores = {k: discriminator({"images": images, "labels": np.full(2, k, "int32")}).numpy() for k in (0, 2)}
    h = features({"images": images, "labels": np.zeros(2, "int32")}).numpy()
    embed = discriminator.get_layer("embedding")
    difference = (embed(np.full(2, 0, "int32")).numpy() - embed(np.full(2, 2, "int32")).numpy())
    np.testing.assert_allclose(scores[0] - scores[2], np.sum(difference * h, axis=1, keepdims=True),
                               rtol=1e-4, atol=1e-4)


def test_the_hierarchical_latent_and_the_plan():
    generator = small_biggan().generator
    # z of 12 in 3 chunks of 4 (2 blocks, 4 -> 8 -> 16, and the input): the
    # input layer takes one chunk, each block's norms [shared embedding 128, its chunk].
    assert generator.get_layer("linear").layer.kernel.shape[0] == 4
    assert generator.get_layer("block2_bn1").gain.layer.kernel.shape[0] == 128 + 4
    with pytest.raises(ConfigError, match="multiple of 3; got 10"):
        BigGANGenerator(SHAPE, latent_dim=10, channel_multipliers=(2, 2, 1))
    with pytest.raises(ConfigError, match="needs shared_dim > 0"):
        BigGANGenerator(SHAPE, latent_dim=12, channel_multipliers=(2, 2, 1), shared_dim=0)
    with pytest.raises(ConfigError, match=r"make 32x32 images, not 16x16"):
        BigGANGenerator(SHAPE, latent_dim=16, channel_multipliers=(2, 2, 1, 1))
    flat = BigGANGenerator(SHAPE, latent_dim=10, channel_multipliers=(2, 2, 1), shared_dim=0, hierarchical=False,
                           channels=2)
    assert flat.get_layer("block1_bn1").gain.kernel.shape[0] == 10  # the one-hot label's embedding
    assert len(small_biggan().generator.losses) > 0  # orthogonal regularisation terms


def test_standing_statistics_are_the_averages_of_the_batch_statistics():
    inputs = keras.Input((3,))
    network = keras.Model(inputs, keras.layers.BatchNormalization(momentum=0.9)(inputs))
    batches = [np.random.default_rng(i).normal(i, 1 + i, (16, 3)).astype("float32") for i in range(4)]
    standing_statistics(network, batches)
    norm = network.layers[-1]
    np.testing.assert_allclose(norm.moving_mean.numpy(), np.mean([b.mean(0) for b in batches], 0), rtol=1e-5)
    np.testing.assert_allclose(norm.moving_variance.numpy(), np.mean([b.var(0) for b in batches], 0), rtol=1e-4)
    assert norm.momentum == 0.9  # restored


def test_the_export_generator_has_standing_statistics_on_a_copy():
    model = small_biggan(ema_decay=0.9)
    model.train_on_batch(batch())
    sampling = model.export_generator
    assert sampling is not model.ema_generator and sampling is model.export_generator  # cached per step
    trained = {w.path: w.numpy() for w in model.ema_generator.weights}
    standing = {w.path: w.numpy() for w in sampling.weights}
    moving = [p for p in trained if "moving_mean" in p]
    assert moving and all(not np.allclose(trained[p], standing[p]) for p in moving)
    model.train_on_batch(batch(seed=1))
    assert model.export_generator is not sampling  # made again after training moved
    # The copy's weights are not the model's: checkpoints hold the same variables.
    assert len(model.weights) == len({id(w) for w in model.weights})


def test_the_truncated_normal_stays_within_the_threshold():
    model = small_biggan()
    z = model.truncated_latent(20000, [1, 0], 1.0).numpy()
    assert z.shape == (20000, 12) and np.abs(z).max() <= 1.0 + 1e-6
    # The standard deviation of N(0, 1) truncated to [-1, 1]: 0.5396.
    assert abs(z.std() - 0.5396) < 0.005
    np.testing.assert_array_equal(model.truncated_latent(5, [1, 0], 1.0), model.truncated_latent(5, [1, 0], 1.0))
    drawn = draw_latent(np.random.default_rng(0), 5000, 4, {"name": "truncated_normal", "threshold": 0.5})
    assert np.abs(drawn).max() <= 0.5 and drawn.std() > 0.25


def test_the_ema_copies_the_generator_until_ema_start():
    model = small_biggan(ema_start=2)
    model.train_on_batch(batch())
    for average, weight in zip(model.ema_generator.trainable_weights, model.generator.trainable_weights):
        np.testing.assert_allclose(average.numpy(), weight.numpy(), atol=1e-6)
    model.step_counter.assign(2)
    assert float(model.current_ema_decay()) == pytest.approx(0.9999)


# --- Training ----------------------------------------------------------------------------------


def test_a_step_trains_both_players_on_fresh_real_batches():
    model = small_biggan()
    assert model.d_steps == 2 and model.real_batches_per_step == 2 and model.adversarial_loss == "hinge"
    assert_train_step_updates_both_players(model, batch())
    with pytest.raises(ConfigError, match=r"\[batch, 2, H, W, C\]"):
        small_biggan().train_on_batch((np.zeros((8,) + SHAPE, "float32"), np.zeros(8, "int32")))


@pytest.mark.slow  # synchronised batch norm across replicas is checked by default in tests/test_distribute.py (DCGAN) and StackGAN stage I
def test_two_replicas_match_one_device():
    # Synchronised conditional batch norm, spectral norm, orthogonal
    # regularisation (shared out over the replicas), attention, the EMA and
    # the standing statistics of the sampling copy.
    def make():
        return small_biggan(seed=3, optimizer=lambda: keras.optimizers.SGD(0.01), attention=(8,), ema_decay=0.5,
                            ema_start=1)

    # The sampling copy's standing statistics, made after training, too.
    assert_replicas_match(make, batch(8, seed=5), calls_per_step=3, steps=2,
                          also=lambda model: [w.numpy() for w in model.export_generator.weights])


@pytest.mark.slow  # the recipe's and the other architectures' resume tests run by default
def test_a_killed_run_resumes_exactly(tmp_path):
    images, labels = batch(12, seed=6, group=1)
    images = np.round((images[:, 0] + 1) * 127.5).astype("uint8")

    def make_stream(start):
        return data.make_dataset(images, labels[:, 0], 4, start_step=start, group=2, with_labels=True)

    assert_resumes_exactly(lambda: small_biggan(seed=1, ema_start=2), make_stream, tmp_path, epochs=2,
                           steps_per_epoch=3, kill_at=5)


# --- Sampling and serving ---------------------------------------------------------------------


@pytest.mark.slow  # the class-conditional SavedModel is checked by default in test_cgan; BigGAN's truncated noise in test_the_truncated_normal_stays_within_the_threshold and test_the_evaluation_sampler_truncates_z_for_biggan_and_w_for_stylegan
def test_served_without_zoo_with_truncation_and_label_checks(tmp_path):
    model = small_biggan(ema_decay=0.9, attention=(8,))
    model.train_on_batch(batch())
    noise = np.random.default_rng(1).normal(size=(3, 12)).astype("float32")
    labels = np.array([0, 2, 1], "int32")
    export_dir, metadata = assert_served_without_zoo(model, tmp_path, {"noise": noise, "labels": labels})
    assert metadata["condition"] == {"kind": "class", "num_classes": 3} and metadata["truncation"] is None
    served = tf.saved_model.load(f"{export_dir}/saved_model").signatures
    np.testing.assert_allclose(
        served["sample_truncated"](num_images=tf.constant(3), seed=tf.constant(4), labels=tf.constant(labels),
                                   truncation=tf.constant(0.5))["images"],
        model.generate(3, seed=4, labels=labels, truncation=0.5), atol=1e-5)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"labels must be in \[0, 3\)"):
        served["serving_default"](noise=tf.constant(noise), labels=tf.constant([0, 3, 1]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="must be > 0"):
        served["sample_truncated"](num_images=tf.constant(2), seed=tf.constant(0), labels=tf.constant([0, 1]),
                                   truncation=tf.constant(0.0))
    with pytest.raises(ConfigError, match=r"labels must lie in \[0, 3\)"):
        model.generate(2, seed=0, labels=[0, 5])
    with pytest.raises(ConfigError, match="must be > 0"):
        model.generate(2, seed=0, truncation=-1.0)
    # The card's sample grid: one row per class, from the served `sample`.
    from PIL import Image

    from zoo import cards

    cards.write_samples(export_dir, 6)
    assert np.asarray(Image.open(f"{export_dir}/samples.png")).shape == (3 * 16, 2 * 16, 3)
    loaded = assert_generator_round_trip(model.export_generator, tmp_path, {"noise": noise, "labels": labels})
    assert type(loaded) is BigGANGenerator
    grid = model.class_grid(per_class=2)
    assert grid.shape == (3, 2) + SHAPE


def test_emoji_categories_label_each_emoji_for_a_class_conditional_model():
    from zoo.data.translation import EMOJI_CATEGORIES, emoji_categories
    from zoo.training.datasets import load_training_data

    root = shared_path("datasets", "emoji").parent
    labels = emoji_categories(["1f600.png", "1f44d-1f3fd.png", "1f1eb-1f1f7.png"], root)
    assert [EMOJI_CATEGORIES[k] for k in labels] == ["Smileys & Emotion", "People & Body", "Flags"]
    with pytest.raises(Exception, match="have no category"):
        emoji_categories(["zzzz.png"], root)
    # The emoji preset's stream: (images, category) batches, every category present.
    model = BigGAN.from_preset("biggan_emoji", generator={"channels": 2}, discriminator={"channels": 2})
    training = load_training_data(model, "emoji:google", "train", root, (64, 64, 3), False)
    images, labels = next(iter(training.stream(256, 0)))
    assert images.shape == (256, 2, 64, 64, 3) and labels.shape == (256, 2)
    assert len(np.unique(labels.numpy())) >= 8 and labels.numpy().max() <= 9


def test_presets():
    assert zoo.get("biggan") is BigGAN
    model = BigGAN.from_preset("biggan_cifar10")
    assert model.d_steps == 4 and model.ema_start == 1000 and model.generator.hierarchical
    assert model.generator.latent_dim == 128 and model.generator.shared_dim == 128
    emoji = BigGAN.preset_config("biggan_emoji")
    assert emoji["generator"]["latent_dim"] == 125 and emoji["image_shape"] == (64, 64, 3)
    defaults = BigGAN.default_training
    g, d = (keras.optimizers.get(defaults[k]) for k in ("g_optimizer", "d_optimizer"))
    assert float(g.learning_rate) == pytest.approx(5e-5) and float(d.learning_rate) == pytest.approx(2e-4)
    assert (g.beta_1, g.beta_2) == (0.0, 0.999)


@pytest.mark.slow
def test_recipe_trains_with_one_grid_row_per_class(tmp_path):
    from PIL import Image

    from test_recipe import run_short_recipe

    code, stdout, stderr = run_short_recipe("biggan", tmp_path, shared_path("datasets", "cifar10").parent)
    assert code == 0, stderr[-3000:]
    assert "biggan (biggan_cifar10_small) on cifar10 train" in stdout
    grid = np.asarray(Image.open(tmp_path / "run" / "samples" / "step_00000002.png"))
    assert grid.shape == (10 * 32, 8 * 32, 3)
    assert json.loads((tmp_path / "export" / "metadata.json").read_text())["standing_statistics"] == 16


def test_the_shipped_model_serves_what_load_model_computes():
    from conftest import REPO

    generator = zoo.load("biggan_cifar10_small")
    assert type(generator) is BigGANGenerator and generator.num_classes == 10
    served = tf.saved_model.load(str(REPO / "savedmodels" / "biggan_cifar10_small" / "saved_model")).signatures
    inputs = {"noise": np.random.default_rng(0).standard_normal((3, 128)).astype("float32"),
              "labels": np.array([0, 4, 9], "int32")}
    np.testing.assert_allclose(served["serving_default"](**{k: tf.constant(v) for k, v in inputs.items()})["images"],
                               generator(inputs, training=False), atol=1e-4)


def test_the_evaluation_sampler_truncates_z_for_biggan_and_w_for_stylegan():
    from conftest import REPO
    from zoo.metrics.generator_io import load_sampler

    biggan = load_sampler(REPO / "savedmodels" / "biggan_cifar10_small", truncation=0.5)
    assert not biggan.truncates_w and biggan.latent_prior == {"name": "truncated_normal", "threshold": 0.5}
    with pytest.raises(ConfigError, match="must be > 0"):
        load_sampler(REPO / "savedmodels" / "biggan_cifar10_small", truncation=0.0)
    stylegan = load_sampler(REPO / "savedmodels" / "stylegan2_cifar10_small", truncation=0.5)
    assert stylegan.truncates_w and stylegan.latent_prior == {"name": "normal"}
