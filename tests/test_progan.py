"""ProGAN (Karras et al. 2018): equalised learning rate, pixel norm,
minibatch standard deviation against closed forms; the grown networks
against the final ones; the fade; the loss terms; resume mid-fade across a
phase boundary; replicas; serving; the recipe."""

import json
import math

import numpy as np
import pytest
import tensorflow as tf

import keras
import zoo
from zoo import data
from zoo.core import losses
from zoo.core.errors import ConfigError
from zoo.core.layers import EqualizedConv2D, EqualizedDense, Fade, MinibatchStdDev, PixelNorm
from zoo.core.phases import Phase, from_config
from zoo.models.progan import (
    ProGAN,
    ProgressiveDiscriminator,
    ProgressiveGenerator,
    feature_maps,
    progressive_phases,
    resolutions,
)

from conftest import shared_path
from gan_checks import (
    KillAt,
    Killed,
    assert_generator_round_trip,
    assert_replicas_match,
    assert_served_without_zoo,
    mirrored,
)
from test_wgan_gp import FixedInterpolationWeights

SHAPE = (16, 16, 3)


def small_progan(seed=0, optimizer=None, **model_args):
    keras.utils.set_random_seed(seed)
    model = ProGAN(
        ProgressiveGenerator(SHAPE, latent_dim=8, fmap_base=32, fmap_max=8),
        ProgressiveDiscriminator(SHAPE, fmap_base=32, fmap_max=8),
        seed=seed,
        **model_args,
    )
    if optimizer:
        model.compile(d_optimizer=optimizer(), g_optimizer=optimizer())
    else:
        model.compile()
    return model


def phase(resolution, steps=10, fade=0):
    return Phase(steps=steps, resolution=resolution, fade_in_steps=fade, name=f"{resolution}x{resolution}").resolved(4)


# --- Layers ------------------------------------------------------------------------


def test_equalized_layers_scale_unit_normal_weights_by_he_constant_at_run_time():
    keras.utils.set_random_seed(0)
    dense = EqualizedDense(300, gain=math.sqrt(2.0))
    x = np.random.default_rng(0).normal(size=(2, 400)).astype("float32")
    y = dense(x).numpy()
    assert abs(np.std(dense.kernel.numpy()) - 1.0) < 0.01  # stored at unit scale
    np.testing.assert_allclose(y, x @ dense.kernel.numpy() * math.sqrt(2.0) / math.sqrt(400), rtol=1e-4, atol=1e-5)
    slow = EqualizedDense(4, lr_multiplier=0.01)
    slow.build((None, 9))
    assert abs(slow.scale - math.sqrt(2.0) / 3 * 0.01) < 1e-12
    conv = EqualizedConv2D(5, 3, gain=1.0)
    image = np.random.default_rng(1).normal(size=(1, 6, 6, 2)).astype("float32")
    out = conv(image).numpy()
    reference = tf.nn.conv2d(image, conv.kernel.numpy() / math.sqrt(3 * 3 * 2), 1, "SAME").numpy()
    np.testing.assert_allclose(out, reference, rtol=1e-4, atol=1e-5)


def test_pixel_norm_gives_each_pixel_unit_root_mean_square():
    x = np.random.default_rng(0).normal(size=(2, 3, 3, 8)).astype("float32") * 5
    y = PixelNorm()(x).numpy()
    np.testing.assert_allclose(np.sqrt(np.mean(y**2, axis=-1)), 1.0, rtol=1e-5)


def test_minibatch_stddev_appends_the_strided_groups_mean_deviation():
    x = np.random.default_rng(0).normal(size=(8, 2, 2, 3)).astype("float32")
    y = MinibatchStdDev(group_size=4)(x).numpy()
    assert y.shape == (8, 2, 2, 4)
    np.testing.assert_array_equal(y[..., :3], x)
    # Groups of 4 taken with stride N / G = 2: {0, 2, 4, 6} and {1, 3, 5, 7}.
    for member in range(8):
        group = x[member % 2 :: 2]
        expected = np.mean(np.sqrt(np.var(group, axis=0) + 1e-8))
        np.testing.assert_allclose(y[member, :, :, 3], expected, rtol=1e-5)
    with pytest.raises(ConfigError, match="a batch of 6 does not divide"):
        MinibatchStdDev(group_size=4)(x[:6])


def test_minibatch_stddev_groups_over_the_global_batch_on_two_replicas():
    x = np.random.default_rng(2).normal(size=(8, 2, 2, 3)).astype("float32")
    layer = MinibatchStdDev(4)
    expected = layer(x).numpy()
    strategy = mirrored(2)
    values = strategy.experimental_distribute_values_from_function(
        lambda context: x[context.replica_id_in_sync_group * 4 : (context.replica_id_in_sync_group + 1) * 4]
    )
    outputs = strategy.run(tf.function(layer), args=(values,))
    np.testing.assert_allclose(np.concatenate([o.numpy() for o in strategy.experimental_local_results(outputs)]),
                               expected, rtol=1e-5)


def test_fade_is_a_per_example_linear_blend():
    low, high = np.zeros((2, 2, 2, 1), "float32"), np.ones((2, 2, 2, 1), "float32")
    out = Fade()([low, high, np.array([[0.25], [1.0]], "float32")]).numpy()
    np.testing.assert_allclose(out[0], 0.25)
    np.testing.assert_allclose(out[1], 1.0)


# --- Networks ----------------------------------------------------------------------


def test_feature_maps_and_schedule_follow_the_official_code():
    assert [feature_maps(r, 8192, 512) for r in (4, 8, 16, 32, 64, 128)] == [512, 512, 512, 512, 256, 128]
    assert resolutions(32) == [4, 8, 16, 32]
    phases = from_config(progressive_phases(32, 400, final_images=800), 16)
    assert [(p.resolution, p.steps, p.fade_in_steps) for p in phases] == [(4, 25, 0), (8, 50, 25), (16, 50, 25), (32, 50, 25)]
    with pytest.raises(ConfigError, match="power of two"):
        ProgressiveGenerator((24, 24, 3))


def test_the_grown_networks_share_the_final_networks_weights_and_fade_between_resolutions():
    model = small_progan()
    generator, discriminator = model.generator, model.discriminator
    noise = np.random.default_rng(0).normal(size=(4, 8)).astype("float32")
    ones, zeros = np.ones((4, 1), "float32"), np.zeros((4, 1), "float32")
    # Every weight of every grown network is one of the final network's.
    final_ids = {id(w) for w in generator.weights}
    for r in (4, 8, 16):
        assert {id(w) for w in generator.grown(r).weights} <= final_ids
    assert len(generator.weights) == 2 + 2 + 2 * 2 * 2 + 3 * 2  # dense, conv4, two convs at 8 and 16, three toRGB
    np.testing.assert_allclose(generator.grown(16)({"noise": noise, "alpha": ones}), generator(noise), atol=1e-5)
    # alpha = 0: the new resolution shows the previous one, upsampled.
    low = generator.grown(8)({"noise": noise, "alpha": zeros}).numpy()
    np.testing.assert_allclose(low, np.repeat(np.repeat(generator.grown(4)(noise).numpy(), 2, 1), 2, 2), atol=1e-5)
    images = np.random.default_rng(1).uniform(-1, 1, (4,) + SHAPE).astype("float32")
    np.testing.assert_allclose(discriminator.grown(16)({"images": images, "alpha": ones}), discriminator(images), atol=1e-4)
    small = images[:, ::2, ::2]
    pooled = small.reshape(4, 4, 2, 4, 2, 3).mean(axis=(2, 4))
    np.testing.assert_allclose(discriminator.grown(8)({"images": small, "alpha": zeros}),
                               discriminator.grown(4)(pooled), atol=1e-4)


# --- Losses and training --------------------------------------------------------------


def test_gradient_penalty_with_a_target_against_a_linear_critic():
    w = np.array([3.0, 4.0], "float32")  # ||grad D|| = 5 everywhere
    critic = lambda x: tf.reduce_sum(x * w, axis=-1, keepdims=True)  # noqa: E731
    real, fake = np.ones((2, 2), "float32"), np.zeros((2, 2), "float32")
    alpha = np.array([0.3, 0.9], "float32")
    np.testing.assert_allclose(losses.gradient_penalty(critic, real, fake, alpha), [16.0, 16.0], rtol=1e-5)
    np.testing.assert_allclose(losses.gradient_penalty(critic, real, fake, alpha, target=10.0), [0.25, 0.25], rtol=1e-5)


def test_drift_term_is_epsilon_times_the_squared_real_score():
    model = small_progan()
    [_, drift] = model.discriminator_terms()
    from zoo.core.terms import StepTensors

    outputs = np.array([[2.0], [-3.0]], "float32")
    assert drift.weight == 1e-3
    np.testing.assert_allclose(drift.fn(StepTensors(model=model, real_outputs=outputs)), [4.0, 9.0])


def test_a_step_at_4x4_trains_only_the_4x4_layers_and_reports_the_resolution():
    model = small_progan()
    model.enter_phase(phase(4), 0)
    weights = model.generator.weights + model.discriminator.weights
    before = [w.numpy().copy() for w in weights]
    logs = model.train_on_batch(np.random.default_rng(0).uniform(-1, 1, (4, 4, 4, 3)).astype("float32"), return_dict=True)
    assert logs["resolution"] == 4.0 and logs["alpha"] == 1.0 and "drift" in logs
    for w, old in zip(weights, before):
        moved = not np.array_equal(old, w.numpy())
        assert moved == ("4x4" in w.path or w.path.startswith("score")), w.path
    with pytest.raises((ConfigError, tf.errors.InvalidArgumentError), match="training at 4x4 but the batch is"):
        model.train_on_batch(np.zeros((4, 8, 8, 3), "float32"))
    with pytest.raises(ConfigError, match="trains at 64x64"):
        model.enter_phase(phase(64), 0)


def test_alpha_ramps_over_the_fade_in_from_the_global_step():
    model = small_progan()
    model.enter_phase(phase(8, steps=8, fade=4), 2)
    model.step_counter.assign(4)
    assert float(model.phase_progress()) == 0.5
    model.step_counter.assign(9)
    assert float(model.phase_progress()) == 1.0


def test_a_run_killed_mid_fade_resumes_exactly(tmp_path):
    from zoo.training import fit_resumable

    real = np.round((np.random.default_rng(3).uniform(-1, 1, (12,) + SHAPE) + 1) * 127.5).astype("uint8")
    phases = [phase(4, steps=3), phase(8, steps=4, fade=3)]

    def make_stream(index, start):
        r = phases[index].resolution
        small = tf.image.resize(real, (r, r), method="area").numpy().round().astype("uint8")
        return data.make_dataset(small, None, 4, start_step=start)

    def run(directory, callbacks=()):
        model = small_progan(seed=1, ema_decay=0.9)
        fit_resumable(model, make_stream, phases=phases, checkpoint_dir=str(directory),
                      checkpoint_every=2, callbacks=list(callbacks), verbose=0)
        return model

    straight = run(tmp_path / "straight")
    with pytest.raises(Killed):
        run(tmp_path / "killed", [KillAt(5)])  # mid-fade; the last checkpoint is step 4, in the fade
    resumed = run(tmp_path / "killed")
    assert int(resumed.step.numpy()) == 7
    for a, b in zip(straight.weights, resumed.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=a.path)


def test_fid_is_tracked_only_once_the_final_resolution_is_faded_in(tmp_path, capsys):
    # Before that, generate() (the final-resolution export) is the output of
    # layers not trained yet: scoring it would fill the curve with noise.
    from zoo.training.checkpoints import Checkpointer
    from zoo.training.fid_tracking import FIDTracker

    model = small_progan()
    assert model.exported_generator_is_trained()  # no phase: the final networks
    tracker = FIDTracker(None, tmp_path, every=2, final_step=40, checkpointer=Checkpointer(str(tmp_path)))
    tracker.set_model(model)
    model.enter_phase(phase(8), 0)
    assert not tracker._due(2) and not tracker._due(4)
    assert capsys.readouterr().out.count("step 2 is not scored") == 1  # said once
    model.enter_phase(phase(16, steps=8, fade=4), 10)
    model.step_counter.assign(12)  # alpha 0.5
    assert not model.exported_generator_is_trained() and not tracker._due(12)
    model.step_counter.assign(14)  # alpha 1
    assert model.exported_generator_is_trained() and tracker._due(14) and not tracker._due(15)


def test_two_replicas_match_one_device_mid_fade():
    weights = np.random.default_rng(4).uniform(size=8).astype("float32")

    def make():
        model = small_progan(seed=3, optimizer=lambda: keras.optimizers.SGD(0.01), ema_decay=0.5)
        model.enter_phase(phase(8, steps=10, fade=4), 0)
        FixedInterpolationWeights(model, weights)
        return model

    batch = np.random.default_rng(5).uniform(-1, 1, (8, 8, 8, 3)).astype("float32")
    assert_replicas_match(make, batch, calls_per_step=2, steps=2)


def test_served_without_zoo_and_round_trip(tmp_path):
    model = small_progan(ema_decay=0.9)
    model.enter_phase(phase(16), 0)
    model.train_on_batch(np.random.default_rng(0).uniform(-1, 1, (4,) + SHAPE).astype("float32"))
    noise = np.random.default_rng(1).normal(size=(3, 8)).astype("float32")
    _, metadata = assert_served_without_zoo(model, tmp_path, {"noise": noise})
    assert metadata["image_shape"] == [16, 16, 3]
    loaded = assert_generator_round_trip(model.generator, tmp_path, noise)
    np.testing.assert_allclose(loaded.grown(8)({"noise": noise, "alpha": np.ones((3, 1), "float32")}),
                               model.generator.grown(8)({"noise": noise, "alpha": np.ones((3, 1), "float32")}), atol=1e-5)


def test_presets():
    assert zoo.get("progan") is ProGAN
    config = ProGAN.preset_config("progan_cifar10")
    model = ProGAN.from_preset("progan_cifar10")
    assert model.generator.latent_dim == 128 and model.gradient_target == 750.0 and model.ema_decay == 0.999
    assert model.drift_weight == 1e-3 and model.gp_weight == 10.0 and model.d_steps == 1
    optimizer = keras.optimizers.get(config["training"]["g_optimizer"])
    assert (optimizer.beta_1, optimizer.beta_2, optimizer.epsilon) == (0.0, 0.99, 1e-8)
    assert float(optimizer.learning_rate) == pytest.approx(1e-3)
    assert [p["resolution"] for p in config["training"]["phases"]] == [4, 8, 16, 32]
    emoji = ProGAN.preset_config("progan_emoji")
    assert emoji["image_shape"] == (64, 64, 3) and emoji["training"]["phases"][0]["batch_size"] == 128


@pytest.mark.slow
def test_recipe_grows_through_every_resolution(tmp_path):
    from PIL import Image

    from test_recipe import run_recipe

    root = shared_path("datasets", "cifar10").parent
    code, stdout, stderr = run_recipe(
        f"--data_dir={root}", "--phase_steps=1,2,2,2", "--batch_size=4", f"--logdir={tmp_path}/run",
        f"--export_dir={tmp_path}/export", "--verbose=0", "--sample_every=2", script="progan",
    )
    assert code == 0, stderr[-3000:]
    assert "4 phases, 7 steps (4x4: 1, 8x8: 2, 16x16: 2, 32x32: 2)" in stdout
    grid = np.asarray(Image.open(tmp_path / "run" / "samples" / "step_00000002.png"))
    assert grid.shape == (8 * 32, 8 * 32, 3)
    # At step 2 the grid is the 8x8 generator enlarged: blocks of 4x4 equal pixels.
    assert np.array_equal(grid[::4, ::4].repeat(4, 0).repeat(4, 1), grid)
    metadata = json.loads((tmp_path / "export" / "metadata.json").read_text())
    assert metadata["image_shape"] == [32, 32, 3] and metadata["phases"][1]["fade_in_steps"] == 1


def test_a_dataset_of_another_size_is_a_one_line_error(tmp_path):
    from test_recipe import run_recipe

    root = shared_path("datasets", "mnist").parent
    code, _, stderr = run_recipe(f"--data_dir={root}", "--dataset=mnist", f"--logdir={tmp_path}/run",
                                 f"--export_dir={tmp_path}/export", script="progan")
    assert code == 2 and "Traceback" not in stderr, stderr[-2000:]
    assert "(28, 28, 1) but image_shape (32, 32, 3)" in stderr.strip().splitlines()[-1]
