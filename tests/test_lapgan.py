"""LAPGAN (Denton et al. 2015): the Laplacian pyramid and its inverse, the
sampling chain against its levels, independent levels, the losses,
replicas, resume, serving, the recipe."""

import json

import numpy as np
import pytest
import tensorflow as tf

import keras
import zoo
from zoo import data
from zoo.core.errors import ConfigError
from zoo.models.lapgan import (
    LAPGAN,
    LaplacianPyramidDiscriminator,
    LaplacianPyramidGenerator,
    downsample,
    noise_layout,
    pyramid_sizes,
    upsample,
)

from conftest import shared_path
from gan_checks import (
    assert_generator_round_trip,
    assert_replicas_match,
    assert_resumes_exactly,
    assert_served_without_zoo,
    assert_train_step_updates_both_players,
)

SHAPE = (32, 32, 3)  # a 3-level pyramid 8 -> 16 -> 32, small widths


def small_lapgan(seed=0, optimizer=None, num_classes=None, dropout=0.5):
    keras.utils.set_random_seed(seed)
    model = LAPGAN(
        LaplacianPyramidGenerator(SHAPE, latent_dim=8, base_units=16, filters=4, num_classes=num_classes),
        LaplacianPyramidDiscriminator(SHAPE, base_units=8, filters=4, dropout=dropout, num_classes=num_classes),
        seed=seed,
    )
    if optimizer:
        model.compile(d_optimizer=optimizer(), g_optimizer=optimizer())
    else:
        model.compile()
    return model


def images(n=4, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n,) + SHAPE).astype("float32")


def test_pyramid_sizes_and_noise_layout():
    assert pyramid_sizes(32, 3) == [8, 16, 32]
    # The base's 100 values, then a 16x16 and a 32x32 noise plane.
    layout, total = noise_layout([8, 16, 32], 100)
    assert layout == [(0, (100,)), (100, (16, 16, 1)), (356, (32, 32, 1))] and total == 1380
    assert LAPGAN.from_preset("lapgan_cifar10").latent_dim == 1380
    with pytest.raises(ConfigError, match="divisible by 4"):
        pyramid_sizes(30, 3)


def test_the_real_pyramid_is_a_laplacian_pyramid_that_inverts_exactly():
    model = small_lapgan()
    real = images()
    levels = model.real_pyramid(tf.constant(real))
    assert [tuple(t.shape[1:3]) for t, _ in levels] == [(8, 8), (16, 16), (32, 32)]
    # Base: I_2 = d(d(I)); each finer target is h_k = I_k - u(I_{k+1}).
    np.testing.assert_allclose(levels[0][0], downsample(downsample(real)), atol=1e-6)
    np.testing.assert_allclose(levels[1][1], upsample(levels[0][0]), atol=1e-6)
    # Collapsing the pyramid gives the image back: I = u(u(I_2) + h_1) + h_0.
    rebuilt = levels[0][0]
    for residual, _ in levels[1:]:
        rebuilt = upsample(rebuilt) + residual
    np.testing.assert_allclose(rebuilt, real, atol=1e-5)


def test_the_generator_network_is_the_chain_of_its_levels():
    model = small_lapgan()
    noise = np.random.default_rng(1).standard_normal((3, model.latent_dim)).astype("float32")
    generator = model.generator
    z, plane16, plane32 = generator.split_noise(noise)
    assert (z.shape, plane16.shape, plane32.shape) == ((3, 8), (3, 16, 16, 1), (3, 32, 32, 1))
    base = generator.level(8)(z)
    middle = np.clip(upsample(base) + generator.level(16)([upsample(base), plane16]), -1, 1)
    top = np.clip(upsample(middle) + generator.level(32)([upsample(middle), plane32]), -1, 1)
    np.testing.assert_allclose(generator(noise), top, atol=1e-5)
    np.testing.assert_allclose(generator.pyramid(noise)[1], middle, atol=1e-5)
    grid = model.pyramid_grid(num_images=2)
    assert grid.shape == (2, 3, 32, 32, 3)
    np.testing.assert_allclose(grid[:, -1], model.generate(2, seed=0), atol=1e-5)


def test_each_level_trains_on_the_real_pyramid_alone():
    # A level's generator loss depends on its own weights only: the finer
    # levels see the real coarser image, not the chain's.
    model = small_lapgan(dropout=0.0)
    pyramid = model.real_pyramid(tf.constant(images()))
    noise = model.latent_for_seed(4, [0, 0])
    with tf.GradientTape(persistent=True) as tape:
        fakes = model._fakes(pyramid, noise, None, training=True)
        loss_32 = tf.reduce_mean(model.generator_loss(model._level_outputs(32, fakes[2], pyramid[2][1], None, True)))
    for size in (8, 16):
        gradients = tape.gradient(loss_32, model.generator.level(size).trainable_weights)
        assert all(g is None for g in gradients)
    assert all(g is not None for g in tape.gradient(loss_32, model.generator.level(32).trainable_weights))


def test_losses_match_hand_computed_values_and_the_totals_add_up():
    model = small_lapgan()
    softplus = lambda t: np.logaddexp(0.0, t)  # noqa: E731
    real, fake = np.array([[0.5]], "float32"), np.array([[-1.0]], "float32")
    np.testing.assert_allclose(model.discriminator_loss(real, fake), [softplus(-0.5) + softplus(-1.0)], rtol=1e-6)
    np.testing.assert_allclose(model.generator_loss(fake), [softplus(1.0)], rtol=1e-6)
    logs = model.train_on_batch(images(), return_dict=True)
    for player in ("d_loss", "g_loss"):
        np.testing.assert_allclose(logs[player], sum(logs[f"{player}_{s}"] for s in (8, 16, 32)), rtol=1e-5)


def test_train_step_updates_every_level_of_both_players():
    assert_train_step_updates_both_players(small_lapgan(), images())


def test_class_conditional_levels_take_the_label_and_bad_labels_are_errors():
    model = small_lapgan(num_classes=3)
    assert model.condition.kind == "class" and model.num_classes == 3
    logs = model.train_on_batch((images(), np.array([0, 1, 2, 0])), return_dict=True)
    assert np.isfinite(logs["d_loss"])
    a = model.generate(2, seed=1, labels=[0, 0])
    b = model.generate(2, seed=1, labels=[2, 2])
    assert not np.allclose(a, b)  # the label changes every level's output
    with pytest.raises(ConfigError, match="labels must lie in \\[0, 3\\)"):
        model.generate(2, seed=1, labels=[0, 3])
    with pytest.raises(ConfigError, match="same levels and classes"):
        LAPGAN(LaplacianPyramidGenerator(SHAPE, latent_dim=8, base_units=16, filters=4),
               LaplacianPyramidDiscriminator(SHAPE, base_units=8, filters=4, num_classes=3))


@pytest.mark.parametrize("num_classes", [None, 3])
def test_two_replicas_match_one_device(num_classes):
    batch = images(4, 5) if num_classes is None else (images(4, 5), np.array([0, 1, 2, 1]))
    assert_replicas_match(
        lambda: small_lapgan(seed=3, optimizer=lambda: keras.optimizers.SGD(0.1), num_classes=num_classes),
        batch, steps=2,
    )


@pytest.mark.slow  # multi-network resume is checked by default in test_recipe, pix2pix, CycleGAN and ProGAN
def test_a_killed_run_resumes_exactly(tmp_path):
    real = np.round((images(12, 2) + 1) * 127.5).astype("uint8")
    assert_resumes_exactly(
        small_lapgan, lambda start: data.make_dataset(real, None, 4, start_step=start), tmp_path
    )


def test_served_without_zoo_and_the_sample_signature_runs_the_whole_chain(tmp_path):
    model = small_lapgan(num_classes=3)
    model.train_on_batch((images(), np.array([0, 1, 2, 0])))
    noise = np.random.default_rng(4).standard_normal((3, model.latent_dim)).astype("float32")
    _, metadata = assert_served_without_zoo(model, tmp_path, {"noise": noise, "labels": np.array([0, 1, 2], "int32")})
    assert metadata["pyramid_sizes"] == [8, 16, 32] and metadata["latent_dim"] == model.latent_dim


def test_generator_round_trip(tmp_path):
    model = small_lapgan(num_classes=3)
    noise = np.random.default_rng(4).standard_normal((2, model.latent_dim)).astype("float32")
    loaded = assert_generator_round_trip(model.generator, tmp_path, {"noise": noise, "labels": np.array([0, 2])})
    assert loaded.level(16).name == "level_16"


def test_presets():
    assert zoo.get("lapgan") is LAPGAN
    model = LAPGAN.from_preset("lapgan_cifar10")
    assert model.sizes == [8, 16, 32] and not model.conditional
    base = model.generator.level(8)
    assert [l.units for l in base.layers if isinstance(l, keras.layers.Dense)] == [1200, 1200, 192]
    convs = [l for l in model.generator.level(32).layers if isinstance(l, keras.layers.Conv2D)]
    assert [(l.filters, l.kernel_size) for l in convs] == [(64, (7, 7)), (64, (7, 7)), (3, (5, 5))]
    assert [l.units for l in model.discriminator.level(8).layers if isinstance(l, keras.layers.Dense)] == [600, 600, 1]
    assert LAPGAN.from_preset("lapgan_cifar10_classcond").num_classes == 10


@pytest.mark.slow
def test_recipe_trains_and_shows_every_level(tmp_path):
    from PIL import Image

    from test_recipe import run_recipe

    root = shared_path("datasets", "cifar10").parent
    code, stdout, stderr = run_recipe(
        f"--data_dir={root}", "--epochs=1", "--steps_per_epoch=2", "--batch_size=4",
        f"--logdir={tmp_path}/run", f"--export_dir={tmp_path}/export", "--verbose=0", script="lapgan",
    )
    assert code == 0, stderr[-3000:]
    assert "Trained to step 2" in stdout
    grid = np.asarray(Image.open(tmp_path / "run" / "samples" / "step_00000002.png"))
    assert grid.shape == (8 * 32, 3 * 32, 3)  # 8 samples: 8x8 | 16x16 | 32x32
    metadata = json.loads((tmp_path / "export" / "metadata.json").read_text())
    assert metadata["pyramid_sizes"] == [8, 16, 32] and metadata["latent_prior"] == {"name": "normal"}
    # The card shows what the SavedModel's sample signature draws.
    from zoo import cards

    cards.main([str(tmp_path / "export"), "--samples", "4"])
    samples = np.asarray(Image.open(tmp_path / "export" / "samples.png"))
    assert samples.shape == (64, 64, 3)
    assert "![samples](samples.png)" in (tmp_path / "export" / "README.md").read_text()
