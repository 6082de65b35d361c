"""StyleGAN / StyleGAN2 (Karras et al. 2019, 2020): modulation and
demodulation against the per-example kernels of the paper's eq. 1-3, AdaIN's
moments, truncation and style mixing in closed form, the tracked w average
and the EMA's half-life, the lazy regularisers (and that they fire on the
same steps after a resume), replicas, serving with truncation and style
mixing, bad inputs, the recipe."""

import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo import data
from zoo.core.errors import ConfigError
from zoo.models.stylegan import (
    StyleDiscriminator,
    StyleGAN,
    StyleGenerator,
    StyleLayer,
    channels_at,
    lazy_adam,
    mix_styles,
    num_styles,
    truncate,
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


def small_stylegan(seed=0, optimizer=None, style_mode="modulated", **model_args):
    keras.utils.set_random_seed(seed)
    model = StyleGAN(
        StyleGenerator(SHAPE, latent_dim=8, w_dim=8, mapping_layers=2, channel_base=64, channel_max=8,
                       style_mode=style_mode),
        StyleDiscriminator(SHAPE, channel_base=64, channel_max=8),
        seed=seed,
        **model_args,
    )
    if optimizer:
        model.compile(d_optimizer=optimizer(), g_optimizer=optimizer())
    else:
        model.compile()
    return model


def reals(count=8, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (count,) + SHAPE).astype("float32")


# --- Layers -------------------------------------------------------------------------------


def test_modulated_convolution_equals_the_papers_per_example_demodulated_kernels():
    rng = np.random.default_rng(0)
    layer = StyleLayer(5, 3, w_index=1, noise=False, activate=False)
    x = rng.normal(size=(2, 6, 6, 4)).astype("float32")
    ws = rng.normal(size=(2, 3, 7)).astype("float32")
    out = layer([x, ws]).numpy()
    styles = ws[:, 1] @ layer.affine_kernel.numpy() / math.sqrt(7) + layer.affine_bias.numpy()
    kernel = layer.kernel.numpy() / math.sqrt(3 * 3 * 4)
    for b in range(2):
        modulated = kernel * styles[b][None, None, :, None]  # eq. 1: w'_ijk = s_i w_ijk
        demodulated = modulated / np.sqrt(np.sum(modulated**2, axis=(0, 1, 2), keepdims=True) + 1e-8)  # eq. 3
        expected = tf.nn.conv2d(x[b : b + 1], demodulated, 1, "SAME").numpy()[0] + layer.bias.numpy()
        np.testing.assert_allclose(out[b], expected, rtol=1e-4, atol=1e-4)
    # Demodulation makes the output's scale independent of the style's.
    scaled = ws.copy()
    layer_no_bias = StyleLayer(5, 3, noise=False, activate=False)
    layer_no_bias([x, ws])
    layer_no_bias.affine_bias.assign(np.zeros(4, "float32"))
    np.testing.assert_allclose(layer_no_bias([x, scaled * 3]).numpy(), layer_no_bias([x, scaled]).numpy(),
                               rtol=1e-4, atol=1e-4)


def test_adain_gives_each_channel_the_styles_mean_and_scale():
    rng = np.random.default_rng(1)
    layer = StyleLayer(4, 3, mode="adain", noise=False)
    x = rng.normal(size=(2, 8, 8, 3)).astype("float32")
    ws = rng.normal(size=(2, 1, 6)).astype("float32")
    out = layer([x, ws]).numpy()
    style = layer.style(ws).numpy()
    np.testing.assert_allclose(out.mean(axis=(1, 2)), style[:, 4:], atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(1, 2)), np.abs(1 + style[:, :4]), rtol=1e-3)


def test_noise_is_fixed_at_inference_and_fresh_in_training():
    layer = StyleLayer(2, 1, seed=3, activate=False)
    x, ws = np.zeros((2, 4, 4, 2), "float32"), np.zeros((2, 1, 3), "float32")
    layer([x, ws])
    layer.noise_strength.assign(1.0)
    inference = [layer([x, ws]).numpy() for _ in range(2)]
    np.testing.assert_array_equal(inference[0], inference[1])
    np.testing.assert_allclose(inference[0][0] - layer.bias.numpy(), np.repeat(layer.fixed_noise.numpy()[0], 2, -1))
    training = [layer([x, ws], training=True).numpy() for _ in range(2)]
    assert not np.allclose(training[0], training[1])
    assert not np.allclose(training[0][0], training[0][1])  # each example its own noise


def test_truncation_and_style_mixing_in_closed_form():
    ws = np.arange(2 * 4 * 3, dtype="float32").reshape(2, 4, 3)
    average = np.array([1.0, -1.0, 0.5], "float32")
    np.testing.assert_allclose(truncate(ws, average, 1.0), ws)
    np.testing.assert_allclose(truncate(ws, average, 0.5), average + 0.5 * (ws - average))
    cut = truncate(ws, average, 0.0, cutoff=2).numpy()
    np.testing.assert_allclose(cut[:, :2], np.broadcast_to(average, (2, 2, 3)))
    np.testing.assert_allclose(cut[:, 2:], ws[:, 2:])
    other = -ws
    mixed = mix_styles(ws, other, 3).numpy()
    np.testing.assert_array_equal(mixed[:, :3], ws[:, :3])
    np.testing.assert_array_equal(mixed[:, 3:], other[:, 3:])


def test_the_plan_feature_maps_and_optimizer_follow_the_official_code():
    assert [num_styles(s) for s in (4, 8, 32, 64, 1024)] == [2, 4, 8, 10, 18]
    assert [channels_at(r, 32768, 512) for r in (4, 32, 64, 128)] == [512, 512, 512, 256]
    with pytest.raises(ConfigError, match="power of two >= 4; got 24"):
        StyleGenerator((24, 24, 3))
    with pytest.raises(ConfigError, match="power of two >= 4; got 2"):
        StyleDiscriminator((2, 2, 3))
    with pytest.raises(ConfigError, match="Unknown style mode 'adaln'"):
        StyleGenerator(SHAPE, style_mode="adaln")
    optimizer = keras.optimizers.get(lazy_adam(0.0025, 16))
    assert float(optimizer.learning_rate) == pytest.approx(0.0025 * 16 / 17)
    assert optimizer.beta_2 == pytest.approx(0.99 ** (16 / 17)) and optimizer.beta_1 == 0.0
    # The generator's is adjusted for path length's interval 4 even where
    # path length is off (the official CIFAR-10 configuration).
    config = StyleGAN.preset_config("stylegan2_cifar10")["training"]["g_optimizer"]
    assert float(keras.optimizers.get(config).learning_rate) == pytest.approx(0.002)


# --- Training -----------------------------------------------------------------------------


def test_a_step_trains_both_players_and_tracks_the_average_w():
    model = small_stylegan()
    assert model.generator.num_ws == 6
    assert_train_step_updates_both_players(model, reals())
    assert np.abs(model.generator.w_avg.numpy()).sum() > 0
    # w_avg <- lerp(mean w, w_avg, beta), on the global batch.
    w = np.random.default_rng(0).normal(size=(4, 8)).astype("float32")
    before = model.generator.w_avg.numpy()
    model.track_w_average(tf.constant(w))
    np.testing.assert_allclose(model.generator.w_avg.numpy(), w.mean(0) + 0.995 * (before - w.mean(0)), rtol=1e-5)
    # The averaged generator truncates towards the trained one's average.
    np.testing.assert_allclose(model.ema_generator.w_avg.numpy(), before, rtol=1e-6)


def test_the_ema_half_life_ramps_up_with_the_images_seen():
    model = small_stylegan(ema_half_life_images=1000, ema_rampup=0.05)
    model._global_batch = tf.constant(10.0)
    model.step_counter.assign(0)  # nothing seen: the average is a copy
    assert float(model.current_ema_decay()) == 0.0
    model.step_counter.assign(100)  # 1,000 images seen before this step: half-life 50
    assert float(model.current_ema_decay()) == pytest.approx(0.5 ** (10 / 50))
    model.step_counter.assign(10000)  # 100,000 images: the half-life is 1,000 images
    assert float(model.current_ema_decay()) == pytest.approx(0.5 ** (10 / 1000))
    constant = small_stylegan(ema_half_life_images=None, ema_decay=0.9)
    assert constant.current_ema_decay() == 0.9


def test_lazy_regularisers_fire_every_k_steps_scaled_by_k():
    model = small_stylegan(r1_every=2, path_length_weight=2.0, path_length_every=3, style_mixing=0.9)
    fired = []
    for step in range(4):
        logs = model.train_on_batch(reals(seed=step), return_dict=True)
        fired.append((logs["r1"] > 0, logs["path_length"] > 0 or step == 0))
    assert [r1 for r1, _ in fired] == [True, False, True, False]
    assert [pl for _, pl in fired][1:3] == [False, False]
    # The running mean length moved only on the firing step (0 and 3).
    assert float(model.path_length_mean.numpy()) > 0


def test_path_length_mean_moves_towards_the_measured_lengths():
    model = small_stylegan(path_length_weight=1.0, path_length_every=1, path_length_decay=0.5)
    from zoo.core.terms import StepTensors

    noise = tf.constant(np.random.default_rng(0).normal(size=(4, 8)).astype("float32"))
    penalty = model.path_length_penalty(StepTensors(model=model, noise=noise)).numpy()
    mean = float(model.path_length_mean.numpy())
    assert mean > 0 and penalty.shape == (4,) and np.all(penalty == penalty[0])
    # From 0 with decay 0.5: the mean is half the measured lengths' mean,
    # so each length deviates from it by about as much again.
    assert penalty[0] > 0


@pytest.mark.slow  # the lazy schedule is a function of the step, checked by default in test_lazy_regularisers_fire_every_k_steps_scaled_by_k
def test_a_run_killed_between_lazy_steps_resumes_exactly(tmp_path):
    images = np.round((reals(12, seed=3) + 1) * 127.5).astype("uint8")

    def make_model():
        return small_stylegan(seed=1, r1_every=2, path_length_weight=2.0, path_length_every=2, style_mixing=0.9)

    def make_stream(start):
        return data.make_dataset(images, None, 4, start_step=start)

    straight, resumed = assert_resumes_exactly(make_model, make_stream, tmp_path, epochs=2, steps_per_epoch=3,
                                               kill_at=5)
    np.testing.assert_allclose(straight.path_length_mean.numpy(), resumed.path_length_mean.numpy(), rtol=1e-5)


@pytest.mark.parametrize("style_mode", ["modulated", pytest.param("adain", marks=pytest.mark.slow)])
def test_two_replicas_match_one_device(style_mode):
    def make():
        return small_stylegan(seed=3, optimizer=lambda: keras.optimizers.SGD(0.01), style_mode=style_mode,
                              r1_every=1, path_length_weight=1.0, path_length_every=1, style_mixing=1.0,
                              ema_half_life_images=100)

    # Per step: the D update's z and mixing z, the G update's.
    assert_replicas_match(make, reals(8, seed=5), calls_per_step=4, steps=2, atol=2e-5)


# --- Sampling, serving, bad inputs ----------------------------------------------------------


def test_generate_truncates_and_mixes_styles():
    model = small_stylegan()
    model.train_on_batch(reals())
    average = model.generator.w_avg.numpy()
    full = model.generate(3, seed=2).numpy()
    np.testing.assert_allclose(model.generate(3, seed=2, truncation=1.0).numpy(), full, atol=1e-5)
    # psi -> 0: every image is the average w's image.
    flat = model.generate(3, seed=2, truncation=1e-6).numpy()
    at_average = model.export_generator.synthesis(np.broadcast_to(average, (1, 6, 8)).astype("float32")).numpy()
    np.testing.assert_allclose(flat, np.repeat(at_average, 3, 0), atol=1e-4)
    # Mixing at layer 6 (= num_ws) changes nothing; at 1, the fine styles of seed 7.
    np.testing.assert_allclose(model.generate(3, seed=2, mix_at=6, mix_seed=7).numpy(), full, atol=1e-5)
    mixed = model.generate(3, seed=2, mix_at=1, mix_seed=7).numpy()
    assert not np.allclose(mixed, full)
    grid = model.style_mixing_grid(rows=2, columns=3, mix_at=6)
    assert grid.shape == (3, 4) + SHAPE
    np.testing.assert_allclose(grid[1:, 1:], np.repeat(grid[:1, 1:], 2, 0), atol=1e-5)  # all coarse = column


def test_bad_truncation_and_mixing_layers_are_clear_errors():
    model = small_stylegan()
    for psi in (0.0, 1.5, -0.2):
        with pytest.raises(ConfigError, match=r"truncation \(psi\) must be in \(0, 1\]"):
            model.generate(2, seed=0, truncation=psi)
    with pytest.raises(ConfigError, match=r"must be in \[1, 6\]; got 0"):
        model.generate(2, seed=0, mix_at=0)
    with pytest.raises(ConfigError, match=r"truncation \(psi\) must be in \(0, 1\]"):
        small_stylegan(truncation=2.0)
    with pytest.raises(ConfigError, match="style_mixing is a probability"):
        small_stylegan(style_mixing=1.5)


@pytest.mark.slow  # truncation and mixing are checked by default in test_generate_truncates_and_mixes_styles, serving on the other architectures
def test_served_without_zoo_with_truncation_and_style_mixing(tmp_path):
    model = small_stylegan(truncation=0.7)
    model.train_on_batch(reals())
    noise = np.random.default_rng(1).normal(size=(3, 8)).astype("float32")
    export_dir, metadata = assert_served_without_zoo(model, tmp_path, {"noise": noise})
    assert metadata["truncation"] == 0.7 and metadata["num_ws"] == 6
    served = tf.saved_model.load(f"{export_dir}/saved_model").signatures
    n, seed = tf.constant(2), tf.constant(4)
    np.testing.assert_allclose(served["sample_truncated"](num_images=n, seed=seed, truncation=tf.constant(0.5))["images"],
                               model.generate(2, seed=4, truncation=0.5), atol=1e-5)
    np.testing.assert_allclose(
        served["style_mix"](num_images=n, seed=seed, mix_seed=tf.constant(9), mix_at=tf.constant(2),
                            truncation=tf.constant(1.0))["images"],
        model.generate(2, seed=4, mix_at=2, mix_seed=9, truncation=1.0), atol=1e-5)
    np.testing.assert_allclose(served["truncated"](noise=tf.constant(noise), truncation=tf.constant(0.7))["images"],
                               served["serving_default"](noise=tf.constant(noise))["images"], atol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"truncation must be in \(0, 1\]"):
        served["sample_truncated"](num_images=n, seed=seed, truncation=tf.constant(1.5))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"mix_at must be in \[1, 6\]"):
        served["style_mix"](num_images=n, seed=seed, mix_seed=seed, mix_at=tf.constant(7), truncation=tf.constant(1.0))
    # The card names the truncation signatures and labels each row of a truncation sweep.
    from zoo import cards

    for psi, fid in ((None, 30.0), (0.5, 40.0)):
        (tmp_path / f"fid_{psi}.json").write_text(json.dumps({"fid": fid, "truncation": psi, "num_samples": 10}))
    card = cards.write_card(export_dir, scores=[tmp_path / "fid_None.json", tmp_path / "fid_0.5.json"])
    assert "`style_mix` (`num_images`, `seed`, `mix_seed`, `mix_at`, `truncation`" in card
    assert "| **export**, truncation 0.5 | 40.00 |" in card and "| **export** | 30.00 |" in card
    # The .keras generator keeps its parts: truncation after load_model.
    loaded = assert_generator_round_trip(model.export_generator, tmp_path, noise)
    np.testing.assert_allclose(loaded.w_avg.numpy(), model.export_generator.w_avg.numpy())
    np.testing.assert_allclose(loaded.synthesis(loaded.styles(noise, 0.7)), model.generate_from_noise(noise), atol=1e-5)


def test_presets():
    assert zoo.get("stylegan") is StyleGAN
    model = StyleGAN.from_preset("stylegan2_cifar10")
    assert model.generator.mapping_layers == 2 and model.discriminator.architecture == "orig"
    assert model.discriminator.mbstd_group == 32 and model.r1_gamma == 0.01 and model.style_mixing == 0.0
    assert model.ema_half_life_images == 500_000 and model.generator.num_ws == 8
    assert channels_at(32, model.generator.channel_base, model.generator.channel_max) == 512
    emoji = StyleGAN.preset_config("stylegan2_emoji")
    assert emoji["image_shape"] == (64, 64, 3) and emoji["model"]["path_length_weight"] == 2.0
    assert StyleGAN(StyleGenerator(SHAPE), StyleDiscriminator(SHAPE)).style_mixing == 0.9  # the paper's default


@pytest.mark.slow
def test_recipe_trains_and_writes_a_style_mixing_grid(tmp_path):
    from test_recipe import run_short_recipe

    code, stdout, stderr = run_short_recipe("stylegan", tmp_path, shared_path("datasets", "cifar10").parent)
    assert code == 0, stderr[-3000:]
    assert "stylegan (stylegan2_cifar10_small) on cifar10 train" in stdout
    assert (tmp_path / "run" / "samples" / "style_mixing_step_00000002.png").exists()
    assert (tmp_path / "export" / "saved_model").exists()


def test_the_shipped_model_serves_what_load_model_computes():
    from conftest import REPO

    generator = zoo.load("stylegan2_cifar10_small")
    assert type(generator) is StyleGenerator
    served = tf.saved_model.load(str(REPO / "savedmodels" / "stylegan2_cifar10_small" / "saved_model")).signatures
    noise = np.random.default_rng(0).standard_normal((2, 128)).astype("float32")
    np.testing.assert_allclose(served["serving_default"](noise=tf.constant(noise))["images"],
                               generator(noise, training=False), atol=1e-4)
    np.testing.assert_allclose(served["truncated"](noise=tf.constant(noise), truncation=tf.constant(0.7))["images"],
                               generator.synthesis(generator.styles(noise, 0.7)), atol=1e-4)
