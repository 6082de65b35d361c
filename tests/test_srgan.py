"""SRGAN (Ledig et al. 2017): the pixel shuffle, SRResNet and the
discriminator, the losses against hand-computed values, the two phases,
the data (crops, downsampling, errors), resume across the phase boundary,
replicas, serving any size, the Set14-style scores, presets."""

import numpy as np
import pytest
import tensorflow as tf

import keras
import zoo
from zoo.core.errors import ConfigError, DatasetError
from zoo.core.layers import PixelShuffle
from zoo.core.phases import Phase
from zoo.data import super_resolution as sr
from zoo.metrics.super_resolution import crop_montage, luma_scores, score_super_resolution
from zoo.models.srgan import SRGAN, SRGANDiscriminator, SRResNetGenerator, upscale_factors

from conftest import shared_path
from gan_checks import (
    KillAt,
    Killed,
    assert_generator_round_trip,
    assert_replicas_match,
    assert_served_without_zoo,
    assert_train_step_updates_both_players,
)

CROP = 16


def small_srgan(seed=0, optimizer=None, pretraining=False, **model_args):
    keras.utils.set_random_seed(seed)
    model = SRGAN(
        SRResNetGenerator(filters=4, residual_blocks=2),
        SRGANDiscriminator((CROP, CROP, 3), base_filters=2, dense_units=8),
        seed=seed,
        **model_args,
    )
    if optimizer:
        model.compile(d_optimizer=optimizer(), g_optimizer=optimizer())
    else:
        model.compile()
    if pretraining:
        model.enter_phase(Phase(steps=10, train=("generator",)).resolved(4), 0)
    return model


def pairs(n=4, seed=0):
    rng = np.random.default_rng(seed)
    high = rng.uniform(-1, 1, (n, CROP, CROP, 3)).astype("float32")
    return high, sr.downsample(high, 4).numpy()


def random_photos(sizes, seed=0):
    rng = np.random.default_rng(seed)
    images = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in sizes]
    return sr.HighResolutionSet(images, [f"image{i}" for i in range(len(images))], "random photos")


# --- Layers and networks ------------------------------------------------------------


def test_pixel_shuffle_lays_each_group_of_r2_channels_out_as_an_r_by_r_block():
    # One pixel with channels 0..7 (C = 2, r = 2): channel c of output pixel
    # (i, j) is input channel (i * r + j) * C + c.
    inputs = np.arange(8, dtype="float32").reshape(1, 1, 1, 8)
    outputs = PixelShuffle(2)(inputs).numpy()
    assert outputs.shape == (1, 2, 2, 2)
    np.testing.assert_array_equal(outputs[0, :, :, 0], [[0, 2], [4, 6]])
    np.testing.assert_array_equal(outputs[0, :, :, 1], [[1, 3], [5, 7]])
    images = np.random.default_rng(0).normal(size=(2, 3, 5, 12)).astype("float32")
    np.testing.assert_array_equal(tf.nn.space_to_depth(PixelShuffle(2)(images), 2).numpy(), images)
    with pytest.raises(ConfigError, match="divisible by 4"):
        PixelShuffle(2).compute_output_shape((None, 4, 4, 6))


def test_srresnet_is_the_papers_network_and_upscales_any_size_x4():
    generator = SRResNetGenerator()
    convs = [l for l in generator.layers if isinstance(l, keras.layers.Conv2D)]
    # Head, 16 blocks of two, the trunk conv, two upsampling convs, the output.
    assert len(convs) == 1 + 2 * 16 + 1 + 2 + 1
    assert (convs[0].kernel_size, convs[-1].kernel_size) == ((9, 9), (9, 9))
    assert [l.filters for l in convs if l.name.startswith("upsample")] == [256, 256]
    small = SRResNetGenerator(filters=4, residual_blocks=1)
    for h, w in ((5, 7), (12, 3)):
        assert small(np.zeros((1, h, w, 3), "float32")).shape == (1, 4 * h, 4 * w, 3)
    assert upscale_factors(8) == 3
    with pytest.raises(ConfigError, match="power of two"):
        SRResNetGenerator(scale=3)


def test_with_the_bicubic_skip_an_untrained_residual_of_zero_gives_bicubic_exactly():
    generator = SRResNetGenerator(filters=4, residual_blocks=1, bicubic_skip=True)
    layer = generator.get_layer("to_image")
    layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    low = sr.downsample(np.random.default_rng(0).uniform(-1, 1, (2, 16, 20, 3)), 4).numpy()
    np.testing.assert_allclose(np.clip(generator(low), -1, 1), sr.bicubic_upscale(low, 4), atol=1e-6)


def test_discriminator_halves_four_times_and_needs_a_multiple_of_16():
    discriminator = SRGANDiscriminator((96, 96, 3))
    assert discriminator.get_layer("conv8").output.shape == (None, 6, 6, 512)
    assert [discriminator.get_layer(f"conv{i}").strides[0] for i in range(1, 9)] == [1, 2] * 4
    assert discriminator.output_shape == (None, 1)
    with pytest.raises(ConfigError, match="multiples of 16"):
        SRGANDiscriminator((40, 40, 3))


# --- Losses and the two phases ------------------------------------------------------


def test_losses_match_hand_computed_values():
    model = small_srgan()
    softplus = lambda t: np.logaddexp(0.0, t)  # noqa: E731
    logits = np.array([[0.5], [-2.0]], "float32")
    np.testing.assert_allclose(model.generator_loss(logits), 1e-3 * softplus(-logits[:, 0]), rtol=1e-6)
    np.testing.assert_allclose(
        model.discriminator_loss(logits, -logits), softplus(-logits[:, 0]) + softplus(-logits[:, 0]), rtol=1e-6
    )
    [content] = model.generator_terms()
    assert (content.name, content.weight) == ("content", 1.0)


def test_the_content_loss_is_the_mse_of_scaled_features_of_a_frozen_network():
    model = small_srgan()
    # A fixed linear "feature network": 2 * x summed over channels.
    inputs = keras.Input((None, None, 3))
    network = keras.Model(inputs, keras.layers.Conv2D(1, 1, use_bias=False, kernel_initializer="ones")(inputs) * 2.0)
    network.trainable = False
    model.content_network, model.content_scale = network, 0.5
    [content] = model.generator_terms()
    real = np.full((2, 4, 4, 3), 0.25, "float32")
    fake = np.full((2, 4, 4, 3), -0.25, "float32")
    # Features 2 * 3 * x: 1.5 and -1.5; scaled by 0.5: 0.75 and -0.75; MSE 1.5^2.
    from zoo.core.terms import StepTensors

    np.testing.assert_allclose(content.fn(StepTensors(model=model, real=real, fake=fake)), [2.25, 2.25], rtol=1e-6)


def test_pretraining_trains_the_generator_alone_on_the_pixel_mse():
    model = small_srgan(pretraining=True)
    high, low = pairs()
    expected = np.mean((model.generator(low, training=True).numpy() - high) ** 2)
    d_before = [w.numpy().copy() for w in model.discriminator.weights]
    logs = model.train_on_batch((high, low), return_dict=True)
    np.testing.assert_allclose(logs["mse"], expected, rtol=1e-5)
    assert int(model.g_optimizer.iterations.numpy()) == 1 and int(model.d_optimizer.iterations.numpy()) == 0
    for before, after in zip(d_before, model.discriminator.weights):
        np.testing.assert_array_equal(before, after.numpy())


def test_the_gan_phase_trains_both_players_on_the_perceptual_loss():
    high, low = pairs()
    model = small_srgan()
    expected_content = np.mean((model.generator(low, training=True).numpy() - high) ** 2)
    logs = model.train_on_batch((high, low), return_dict=True)
    # content="mse" (SRGAN-MSE): the content term is the pixel MSE before the update.
    np.testing.assert_allclose(logs["content"], expected_content, rtol=1e-5)
    assert 0 < logs["g_loss"] < 0.01  # 1e-3 * -log D(G(x))
    assert_train_step_updates_both_players(small_srgan(), (high, low))


def test_a_batch_whose_sizes_do_not_differ_by_the_scale_is_a_clear_error():
    model = small_srgan()
    high, _ = pairs()
    with pytest.raises(ConfigError, match="sizes differ by 4; got \\(16, 16\\) and \\(8, 8\\)"):
        model.train_on_batch((high, high[:, :8, :8]))


@pytest.mark.parametrize("pretraining", [True, pytest.param(False, marks=pytest.mark.slow)])
def test_two_replicas_match_one_device(pretraining):
    assert_replicas_match(
        lambda: small_srgan(seed=3, optimizer=lambda: keras.optimizers.SGD(0.1), pretraining=pretraining),
        pairs(4, 5), steps=2,
    )


# --- Data -----------------------------------------------------------------------------


def test_stream_is_a_function_of_seed_and_step_and_pairs_each_crop_with_its_downsampled_copy():
    photos = random_photos([(40, 60), (33, 20), (64, 64)])
    first = list(sr.make_super_resolution_stream(photos, 4, 16, 4, seed=3).take(3))
    resumed = next(iter(sr.make_super_resolution_stream(photos, 4, 16, 4, seed=3, start_step=2)))
    np.testing.assert_array_equal(first[2][0], resumed[0])
    other = next(iter(sr.make_super_resolution_stream(photos, 4, 16, 4, seed=4)))
    assert not np.array_equal(first[0][0], other[0])
    high, low = first[0]
    assert high.shape == (4, 16, 16, 3) and low.shape == (4, 4, 4, 3)
    np.testing.assert_array_equal(low, sr.downsample(high, 4))
    # Every crop is a window of one of the images, up to a flip or rotation.
    pixels = np.round((high.numpy() + 1) * 127.5).astype(np.uint8)
    for crop in pixels:
        views = [np.rot90(crop, k) for k in range(4)] + [np.rot90(crop[:, ::-1], k) for k in range(4)]
        assert any(
            np.array_equal(view, image[t : t + 16, l : l + 16])
            for image in photos.images for view in views
            for t in range(image.shape[0] - 15) for l in range(image.shape[1] - 15)
            if image[t, l, 0] == view[0, 0, 0]
        )


def test_downsampling_is_antialiased_bicubic_quantised_to_8_bits():
    flat = np.full((1, 8, 8, 3), 0.5, "float32")
    low = sr.downsample(flat, 4).numpy()
    assert low.shape == (1, 2, 2, 3)
    np.testing.assert_allclose(low, np.round(1.5 * 127.5) / 127.5 - 1, atol=1e-6)
    levels = (sr.downsample(np.random.default_rng(0).uniform(-1, 1, (1, 16, 16, 3)), 4).numpy() + 1) * 127.5
    np.testing.assert_allclose(levels, np.round(levels), atol=1e-4)
    np.testing.assert_allclose(sr.bicubic_upscale(low, 4), np.full((1, 8, 8, 3), low[0, 0, 0, 0]), atol=1e-6)
    assert sr.modcrop(np.zeros((13, 10, 3)), 4).shape == (12, 8, 3)


def test_bad_crops_and_small_images_are_clear_errors():
    photos = random_photos([(40, 60), (20, 90)])
    with pytest.raises(DatasetError, match="must be a multiple of the x4 scale"):
        sr.check_crop(photos, 30, 4)
    with pytest.raises(DatasetError, match="1 image\\(s\\) of random photos are smaller than the 32x32 training crop \\(e.g. image1\\)"):
        sr.check_crop(photos, 32, 4)
    assert sr.steps_per_epoch(photos, 2, 16) == (40 * 60 + 20 * 90) // (16 * 16 * 2)


def test_photos_hold_out_the_five_evaluation_images():
    folder = shared_path("datasets", "photos")
    train = sr.load_high_resolution("photos", "train", folder.parent)
    test = sr.load_high_resolution("photos", "test", folder.parent)
    assert sorted(test.names) == sorted(sr.PHOTO_TEST)
    assert not set(train.names) & set(test.names) and len(train) == 6
    assert all(image.ndim == 3 and image.shape[-1] == 3 and image.dtype == np.uint8 for image in train.images)
    with pytest.raises(DatasetError, match="pass --data_dir pointing at the folder holding photos/"):
        sr.load_high_resolution("photos", "test", folder.parent / "mnist")


# --- Resume, serving, scores -----------------------------------------------------------


@pytest.mark.slow  # phase-crossing resume is checked by default in test_core
def test_a_run_killed_in_the_gan_phase_resumes_from_the_srresnet_phase_exactly(tmp_path):
    from zoo.training import fit_resumable

    photos = random_photos([(24, 40), (32, 32)], seed=2)
    phases = [Phase(steps=3, name="srresnet", train=("generator",)).resolved(2), Phase(steps=3, name="srgan").resolved(2)]

    def make_stream(index, start):
        return sr.make_super_resolution_stream(photos, 2, CROP, 4, seed=index, start_step=start)

    def run(directory, callbacks=()):
        model = small_srgan(seed=1)
        fit_resumable(model, make_stream, phases=phases, checkpoint_dir=str(directory),
                      checkpoint_every=2, callbacks=list(callbacks), verbose=0)
        return model

    straight = run(tmp_path / "straight")
    with pytest.raises(Killed):
        run(tmp_path / "killed", [KillAt(4)])  # last checkpoint: step 2, in the SRResNet phase
    resumed = run(tmp_path / "killed")
    assert int(resumed.step.numpy()) == 6 and int(resumed.d_optimizer.iterations.numpy()) == 3
    for a, b in zip(straight.weights, resumed.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=a.path)


@pytest.mark.parametrize("bicubic_skip", [pytest.param(False, marks=pytest.mark.slow), True])
def test_served_without_zoo_at_any_size(tmp_path, bicubic_skip):
    keras.utils.set_random_seed(0)
    model = SRGAN(
        SRResNetGenerator(filters=4, residual_blocks=2, bicubic_skip=bicubic_skip),
        SRGANDiscriminator((CROP, CROP, 3), base_filters=2, dense_units=8),
        seed=0,
    )
    model.compile()
    model.train_on_batch(pairs())
    low = sr.downsample(np.random.default_rng(3).uniform(-1, 1, (2, 20, 28, 3)), 4).numpy()
    export_dir, metadata = assert_served_without_zoo(model, tmp_path, {"images": low})
    assert metadata["scale"] == 4 and metadata["crop_shape"] == [CROP, CROP, 3]
    assert metadata["condition"] == {"kind": "image", "image_shape": [None, None, 3]}
    loaded = tf.saved_model.load(f"{export_dir}/saved_model")
    assert set(loaded.signatures) == {"serving_default", "serving_default_uint8", "upscale", "upscale_uint8"}
    odd = np.zeros((1, 3, 9, 3), np.uint8)
    assert loaded.signatures["upscale_uint8"](images=tf.constant(odd))["images"].shape == (1, 12, 36, 3)


def test_generator_round_trip(tmp_path):
    assert_generator_round_trip(small_srgan().generator, tmp_path, pairs()[1])


def test_scores_are_psnr_and_ssim_on_the_luma_without_the_border():
    rng = np.random.default_rng(0)
    target = rng.integers(0, 250, (24, 24, 3), dtype=np.uint8)
    shifted = target + np.uint8(3)
    # Errors only in the 4-pixel border do not count.
    framed = target.copy()
    framed[:4] = 0
    assert luma_scores(framed, target, 4) == (100.0, pytest.approx(1.0))
    assert luma_scores(framed, target, 0)[0] < 30
    # An offset of 3 levels in R, G and B moves the luma by 3 * (65.481 +
    # 128.553 + 24.966) / 255 everywhere.
    d = 3 * (65.481 + 128.553 + 24.966) / 255
    assert luma_scores(shifted, target, 4)[0] == pytest.approx(10 * np.log10(255**2 / d**2), rel=1e-9)
    pairs_ = [("a", target, (target[None].astype("float32") / 127.5 - 1))]
    scores, outputs = score_super_resolution({"identity": lambda low: low}, pairs_, 4)
    assert scores["identity"]["psnr"] == 100.0 and list(scores["identity"]["per_image"]) == ["a"]
    assert crop_montage(outputs, pairs_, crop=8).shape == (8, 16, 3)


# --- Presets ----------------------------------------------------------------------------


def test_presets_have_the_papers_settings():
    assert zoo.get("srgan") is SRGAN
    config = SRGAN.preset_config("srgan_photos")
    assert config["image_shape"] == (96, 96, 3) and config["training"]["batch_size"] == 16
    phases = config["training"]["phases"]
    assert [p["name"] for p in phases] == ["srresnet", "srgan"] and phases[0]["train"] == ("generator",)
    assert [p["steps"] for p in phases] == [1_000_000, 200_000]
    optimizer = keras.optimizers.get(config["training"]["g_optimizer"])
    assert optimizer.beta_1 == 0.9 and float(optimizer.learning_rate) == pytest.approx(1e-4)
    assert SRGAN.preset_config("srgan_photos_vgg54")["model"] == {
        "content": "vgg19:block5_conv4", "content_scale": pytest.approx(1 / 12.75)
    }
    assert SRGAN.preset_config("srgan_photos_vgg54")["generator"] == {}  # the paper's network
    assert config["generator"] == {"bicubic_skip": True}
    assert [p["name"] for p in SRGAN.preset_config("srresnet_photos")["training"]["phases"]] == ["srresnet"]
    with pytest.raises(ConfigError, match="Unknown content network 'alexnet'"):
        SRGAN(SRResNetGenerator(filters=4, residual_blocks=1), SRGANDiscriminator((16, 16, 3)), content="alexnet")


def test_the_vgg54_content_network_takes_zoo_images_the_way_vgg19_expects():
    from zoo.models.srgan import VGGInput, content_network

    # [-1, 1] RGB -> 0-255 BGR minus the ImageNet means ("caffe" preprocessing).
    pixel = np.array([[[[-1.0, 0.0, 1.0]]]], "float32")
    expected = np.array([255.0 - 103.939, 127.5 - 116.779, 0.0 - 123.68])
    np.testing.assert_allclose(VGGInput()(pixel).numpy()[0, 0, 0], expected, rtol=1e-5)
    network = content_network("vgg19:block5_conv4", weights=None)
    assert not network.trainable and network(np.zeros((1, 96, 96, 3), "float32")).shape == (1, 6, 6, 512)
    with pytest.raises(ConfigError, match="VGG19 has no layer 'block9_conv1'"):
        content_network("vgg19:block9_conv1", weights=None)


@pytest.mark.parametrize("preset, dataset", [("srgan_photos", "photos"), pytest.param("srgan_cifar10", "cifar10", marks=pytest.mark.slow)])
def test_the_content_scale_brings_a_bicubic_upscales_content_loss_to_its_pixel_mse(preset, dataset):
    # The paper rescales VGG54 features by 1/12.75 "to obtain VGG losses of a
    # scale that is comparable to the MSE loss"; the offline presets' scales
    # do the same for their FID Inception layers, measured here.
    shared_path("weights")
    root = shared_path("datasets", "photos").parent
    model = SRGAN.from_preset(preset)
    images = sr.load_high_resolution(dataset, "train", root)
    high, low = next(iter(sr.make_super_resolution_stream(images, 32, model.crop_shape[0], 4, seed=1)))
    bicubic = sr.bicubic_upscale(low, 4)
    pixel_mse = np.mean((bicubic - high.numpy()) ** 2)
    features = lambda x: model.content_network(x) * model.content_scale  # noqa: E731
    content = np.mean((features(bicubic) - features(high)).numpy() ** 2)
    assert 0.5 < content / pixel_mse < 2.0


# --- The recipe, as a user runs it ---------------------------------------------------------


@pytest.mark.slow
def test_recipe_trains_both_phases_exports_scores_and_gets_a_card(tmp_path):
    import json

    from PIL import Image

    from test_recipe import run_recipe
    from zoo import cards, evaluate

    root = shared_path("datasets", "photos").parent
    shared_path("weights")
    code, stdout, stderr = run_recipe(
        f"--data_dir={root}", "--phase_steps=1,1", "--batch_size=2", f"--logdir={tmp_path}/run",
        f"--export_dir={tmp_path}/export", "--verbose=0", script="srgan",
    )
    assert code == 0, stderr[-3000:]
    assert "2 phases, 2 steps (srresnet: 1, srgan: 1)" in stdout and "Trained to step 2" in stdout
    grid = np.asarray(Image.open(tmp_path / "run" / "samples" / "step_00000002.png"))
    assert grid.shape == (4 * 96, 4 * 96, 3)  # 4 held-out crops: LR | bicubic | SRGAN | HR
    result = evaluate.main([
        "--super_resolution", str(tmp_path / "export"), "--dataset", "photos", "--data_dir", str(root),
        "--num_images", "1", "--montage", str(tmp_path / "export" / "montage.png"),
        "--output", str(tmp_path / "scores.json"),
    ])
    assert result["images"] == ["astronaut"] and result["border"] == 4
    assert 20 < result["scores"]["bicubic"]["psnr"] < 40 and "export" in result["scores"]
    assert np.asarray(Image.open(tmp_path / "export" / "montage.png")).shape == (96, 3 * 96, 3)
    metadata = json.loads((tmp_path / "export" / "metadata.json").read_text())
    assert result["training_commands"][str(tmp_path / "export")] == metadata["command"]
    text = cards.write_card(tmp_path / "export", [str(tmp_path / "scores.json")])
    assert "| astronaut |" in text and "![montage](montage.png)" in text and metadata["command"] in text


# Each case starts the recipe (about 9 s of TensorFlow import): the default
# run keeps one check of --phase_steps and the too-small images; the rest run
# with -m slow. "{small}" and "{tmp}" are filled in by the test.
BAD_SRGAN_INPUT = [
    (["--phase_steps=5"], "--phase_steps needs 2 positive step counts (srresnet, srgan); got 5."),
    pytest.param(["--phase_steps=5,x"], "--phase_steps takes whole numbers, got 5,x.", marks=pytest.mark.slow),
    (["--dataset={small}", "--phase_steps=1,1"],
     "are smaller than the 96x96 training crop (e.g. 1): remove them or train with smaller crops"),
    pytest.param(["--dataset={tmp}/none"], "dataset path not found", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("extra, message", BAD_SRGAN_INPUT)
def test_bad_srgan_input_is_one_line(tmp_path, extra, message):
    from PIL import Image

    from test_recipe import run_recipe

    root = shared_path("datasets", "photos").parent
    small = tmp_path / "small"
    small.mkdir()
    for i, size in enumerate([(120, 100), (64, 200)]):
        Image.fromarray(np.zeros(size + (3,), np.uint8)).save(small / f"{i}.png")
    extra = [flag.format(small=small, tmp=tmp_path) for flag in extra]
    code, _, stderr = run_recipe(f"--data_dir={root}", f"--logdir={tmp_path}/run",
                                 f"--export_dir={tmp_path}/export", *extra, script="srgan")
    assert code == 2 and "Traceback" not in stderr, (extra, stderr[-2000:])
    assert message in stderr.strip().splitlines()[-1], (extra, stderr[-2000:])
