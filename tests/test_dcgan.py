"""DCGAN: networks, one train step, presets, the .keras round trip."""

import zoo  # noqa: F401
import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.core.errors import ConfigError
from zoo.models.dcgan import DCGAN, DCGANDiscriminator, DCGANGenerator, size_ladder, upsampling_plan


def small_dcgan(seed=0, image_shape=(28, 28, 1)):
    keras.utils.set_random_seed(seed)
    model = DCGAN(
        DCGANGenerator(image_shape, latent_dim=8, base_filters=8),
        DCGANDiscriminator(image_shape, base_filters=8),
        seed=seed,
    )
    model.compile()
    return model


def real_batch(n=16, shape=(28, 28, 1), seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (n,) + shape).astype("float32")


@pytest.mark.parametrize(
    "size, plan", [(28, (7, 2)), (32, (4, 3)), (64, (4, 4)), (128, (4, 5))]
)
def test_upsampling_plan(size, plan):
    assert upsampling_plan(size) == plan


def test_size_ladder_halves_exactly_by_default_or_rounding_up_to_a_seed():
    assert size_ladder(28) == [7, 14, 28] and size_ladder(32) == [4, 8, 16, 32]
    assert size_ladder(28, seed_size=4) == [4, 7, 14, 28]
    assert size_ladder(28, seed_size=7) == [7, 14, 28]
    with pytest.raises(ConfigError, match=r"seed_size 5 .* halving gives \[28, 14, 7, 4\]"):
        size_ladder(28, seed_size=5)
    with pytest.raises(ConfigError, match="seed_size 28"):
        size_ladder(28, seed_size=28)


@pytest.mark.parametrize("kernel_size", [3, 4, 5])
def test_a_seed_of_4_reaches_28_through_7_and_14_with_any_kernel(kernel_size):
    generator = DCGANGenerator((28, 28, 3), latent_dim=6, base_filters=2, kernel_size=kernel_size, seed_size=4)
    sizes = [generator.get_layer(n).output.shape[1] for n in ("up1", "up2", "up3")]
    assert sizes == [7, 14, 28] and generator.output.shape[1:] == (28, 28, 3)
    discriminator = DCGANDiscriminator((28, 28, 3), base_filters=2, kernel_size=kernel_size, seed_size=4)
    assert [discriminator.get_layer(f"down{i}").output.shape[1] for i in (1, 2, 3)] == [14, 7, 4]


def test_pacgan_stacked_mnist_preset_has_the_networks_of_pacgans_code():
    model = DCGAN.from_preset("dcgan_stacked_mnist_pacgan")
    generator, discriminator = model.generator, model.discriminator
    shapes = [tuple(generator.get_layer(n).output.shape[1:])
              for n in ("up1", "up2", "up3", "up_output", "images")]
    assert generator.get_layer("project").output.shape[-1] == 4 * 4 * 64
    assert shapes == [(7, 7, 32), (14, 14, 16), (28, 28, 8), (28, 28, 3), (28, 28, 3)]
    # Stride 1, 3x3, to RGB: the last layer keeps the 28x28 of the last up-convolution.
    output = generator.get_layer("up_output")
    assert isinstance(output, keras.layers.Conv2D) and not isinstance(output, keras.layers.Conv2DTranspose)
    assert output.strides == (1, 1) and output.kernel_size == (3, 3)
    assert [tuple(discriminator.get_layer(f"down{i}").output.shape[1:]) for i in (1, 2, 3)] == [
        (14, 14, 2), (7, 7, 4), (4, 4, 8)]
    # Batch norm on every layer, the first included (the paper's guideline
    # leaves it off there); LeakyReLU(0.3); one logit from 4 * 4 * 8 = 128.
    assert all(discriminator.get_layer(f"down{i}_bn") for i in (1, 2, 3))
    slopes = [layer.negative_slope for layer in discriminator.layers if isinstance(layer, keras.layers.LeakyReLU)]
    assert slopes == pytest.approx([0.3] * 3)
    assert discriminator.get_layer("logits").kernel.shape == (128, 1)
    # Weights by hand: convolutions without bias (batch norm follows), 4 per
    # batch-norm channel (2 trained), the logit's 128 + 1.
    assert discriminator.count_params() == (27 * 2 + 8) + (18 * 4 + 16) + (36 * 8 + 32) + 129 == 599
    assert generator.latent_dim == 256 and model.latent_prior()["name"] == "normal"
    training = DCGAN.preset_config("dcgan_stacked_mnist_pacgan")["training"]
    assert training["dataset"] == "stacked_mnist_fresh" and training["batch_size"] == 128
    assert training["epochs"] * 468 == 499_824  # PacGAN's 500,000 iterations, in epochs of 60,000 stacks


def test_the_papers_guideline_stays_the_default_and_new_arguments_round_trip(tmp_path):
    plain = DCGANDiscriminator((28, 28, 1), base_filters=4)
    names = {layer.name for layer in plain.layers}
    assert "down1_bn" not in names and "down2_bn" in names
    assert [l.negative_slope for l in plain.layers if isinstance(l, keras.layers.LeakyReLU)] == pytest.approx([0.2] * 2)
    with pytest.raises(ConfigError, match="first_layer_batch_norm=True needs batch_norm=True"):
        DCGANDiscriminator((28, 28, 1), batch_norm=False, first_layer_batch_norm=True)
    generator = DCGANGenerator((28, 28, 3), latent_dim=6, base_filters=2, kernel_size=3, seed_size=4,
                               output_convolution=True)
    path = tmp_path / "generator.keras"
    generator.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.seed_size == 4 and loaded.output_convolution is True
    noise = np.random.default_rng(0).normal(size=(2, 6)).astype("float32")
    np.testing.assert_allclose(loaded(noise).numpy(), generator(noise).numpy(), atol=1e-6)
    discriminator = DCGANDiscriminator((28, 28, 3), base_filters=2, kernel_size=3, seed_size=4,
                                       first_layer_batch_norm=True, leaky_relu_slope=0.3)
    clone = DCGANDiscriminator.from_config(discriminator.get_config())
    assert (clone.seed_size, clone.first_layer_batch_norm, clone.leaky_relu_slope) == (4, True, 0.3)
    assert clone.count_params() == discriminator.count_params()


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3), (64, 64, 3)])
def test_networks_map_noise_to_images_and_images_to_logits(shape):
    generator = DCGANGenerator(shape, latent_dim=10, base_filters=4)
    discriminator = DCGANDiscriminator(shape, base_filters=4)
    images = generator(np.random.normal(size=(3, 10)).astype("float32"))
    assert images.shape == (3,) + shape
    assert np.all(np.abs(images) <= 1.0)
    assert discriminator(images).shape == (3, 1)


def test_paper_network_at_64x64_has_the_papers_channels():
    generator = DCGANGenerator((64, 64, 3))
    channels = [generator.get_layer(n).output.shape[-1] for n in ("up1", "up2", "up3", "up4")]
    assert generator.get_layer("project").output.shape[-1] == 4 * 4 * 1024
    assert channels == [512, 256, 128, 3]


def test_non_square_or_odd_image_shapes_are_rejected():
    with pytest.raises(ValueError, match="square"):
        DCGANGenerator((28, 32, 1))
    with pytest.raises(ValueError, match="image size"):
        DCGANDiscriminator((7, 7, 1))


def test_one_train_step_updates_both_players():
    model = small_dcgan()
    g_before = [w.numpy().copy() for w in model.generator.trainable_weights]
    d_before = [w.numpy().copy() for w in model.discriminator.trainable_weights]
    logs = model.train_on_batch(real_batch(), return_dict=True)
    assert set(logs) == {"d_loss", "g_loss"}
    assert all(np.isfinite(v) for v in logs.values())
    for before, after in zip(g_before, model.generator.trainable_weights):
        assert not np.allclose(before, after.numpy())
    for before, after in zip(d_before, model.discriminator.trainable_weights):
        assert not np.allclose(before, after.numpy())
    assert int(model.step.numpy()) == 1
    assert int(model.d_optimizer.iterations.numpy()) == 1


def _trainables(network):
    return [w.numpy().copy() for w in network.trainable_weights]


def _unchanged(before, network):
    return all(np.array_equal(b, w.numpy()) for b, w in zip(before, network.trainable_weights))


def test_discriminator_step_leaves_the_generator_alone_and_vice_versa():
    model = small_dcgan()
    real = tf.constant(real_batch())
    g_before, d_before = _trainables(model.generator), _trainables(model.discriminator)
    model.discriminator_step(real)
    assert _unchanged(g_before, model.generator)
    assert not _unchanged(d_before, model.discriminator)

    g_before, d_before = _trainables(model.generator), _trainables(model.discriminator)
    model.generator_step(real)
    assert _unchanged(d_before, model.discriminator)
    assert not _unchanged(g_before, model.generator)


def test_discriminator_step_lowers_its_loss_on_the_same_batch():
    model = small_dcgan()
    model.compile(
        d_optimizer=keras.optimizers.SGD(0.05), g_optimizer=keras.optimizers.SGD(0.0)
    )
    real = tf.constant(real_batch())
    noise = model.sample_latent(16)

    def d_loss():
        fake = model.generator(noise, training=False)
        r = model.discriminate(real, training=False)
        f = model.discriminate(fake, training=False)
        return float(tf.reduce_mean(model.discriminator_loss(r, f)))

    before = d_loss()
    for _ in range(3):
        model.discriminator_step(real)
    assert d_loss() < before


def test_d_steps_runs_that_many_discriminator_updates():
    model = small_dcgan()
    model.d_steps = 3
    model.train_on_batch(real_batch())
    assert int(model.d_optimizer.iterations.numpy()) == 3
    assert int(model.g_optimizer.iterations.numpy()) == 1


def test_generate_is_reproducible_with_a_seed():
    model = small_dcgan()
    a = model.generate(5, seed=7)
    b = model.generate(5, seed=7)
    c = model.generate(5, seed=8)
    assert a.shape == (5, 28, 28, 1)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_noise_stream_differs_between_calls():
    model = small_dcgan()
    assert not np.allclose(model.sample_latent(4), model.sample_latent(4))


def test_presets_build_and_unknown_preset_is_named():
    model = DCGAN.from_preset("dcgan_cifar10", seed=0)
    assert model.generator.output_shape == (None, 32, 32, 3)
    assert model.latent_dim == 100
    with pytest.raises(ValueError, match="Unknown preset 'dcgan_foo'.*dcgan_mnist"):
        DCGAN.from_preset("dcgan_foo")


def test_registry_names_and_unknown_architecture():
    assert {"dcgan", "gan"} <= set(zoo.names())
    assert zoo.get("dcgan") is DCGAN
    with pytest.raises(ValueError, match="Unknown architecture 'dcgann'.*dcgan"):
        zoo.get("dcgann")


def test_generator_keras_round_trip(tmp_path):
    model = small_dcgan()
    model.train_on_batch(real_batch())
    path = tmp_path / "generator.keras"
    model.generator.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is DCGANGenerator
    assert loaded.get_config() == model.generator.get_config()
    noise = np.random.default_rng(1).normal(size=(4, 8)).astype("float32")
    np.testing.assert_allclose(loaded(noise), model.generator(noise), atol=1e-6)


def test_whole_model_config_round_trip(tmp_path):
    model = small_dcgan()
    model.d_steps = 2
    clone = DCGAN.from_config(model.get_config())
    assert clone.get_config()["generator"] == model.get_config()["generator"]
    assert clone.d_steps == 2
    path = tmp_path / "dcgan.keras"
    model.save(path)
    loaded = keras.models.load_model(path, compile=False)
    assert type(loaded) is DCGAN and type(loaded.discriminator) is DCGANDiscriminator
    images = real_batch(4)
    np.testing.assert_allclose(
        loaded.discriminator(images), model.discriminator(images), atol=1e-6
    )


def test_fit_with_jit_compile():
    model = small_dcgan()
    model.compile(jit_compile=True)
    data = tf.data.Dataset.from_tensor_slices(real_batch(32)).batch(16)
    history = model.fit(data, epochs=1, verbose=0)
    assert np.isfinite(history.history["g_loss"][0])
    assert int(model.step.numpy()) == 2


def test_fit_with_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = small_dcgan()
        assert model.generator.get_layer("up1").compute_dtype == "bfloat16"
        data = tf.data.Dataset.from_tensor_slices(real_batch(32)).batch(16)
        history = model.fit(data, epochs=1, verbose=0)
        assert np.isfinite(history.history["d_loss"][0])
        assert model.generate(2, seed=0).dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_float16_policy_wraps_optimizers_in_loss_scaling():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = small_dcgan()
        assert isinstance(model.d_optimizer, keras.optimizers.LossScaleOptimizer)
        assert isinstance(model.g_optimizer, keras.optimizers.LossScaleOptimizer)
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_minibatch_discrimination_makes_a_logit_depend_on_the_rest_of_the_batch():
    discriminator = DCGANDiscriminator((28, 28, 1), base_filters=4, minibatch_kernels=6)
    layer = discriminator.get_layer("minibatch_discrimination")
    assert layer.num_kernels == 6 and layer.kernel_dim == 5
    images = real_batch(8)
    alone = discriminator(images[:1]).numpy()
    together = discriminator(images).numpy()
    assert together.shape == (8, 1)
    # Example 0's logit changes when other examples share its batch; without
    # the layer it does not.
    assert not np.allclose(alone[0], together[0], atol=1e-6)
    plain = DCGANDiscriminator((28, 28, 1), base_filters=4)
    np.testing.assert_allclose(plain(images[:1]).numpy()[0], plain(images).numpy()[0], atol=1e-5)
    clone = DCGANDiscriminator.from_config(discriminator.get_config())
    assert clone.minibatch_kernels == 6 and clone.count_params() == discriminator.count_params()


def test_minibatch_discrimination_sizes_are_checked():
    with pytest.raises(ValueError, match="minibatch_kernels must be >= 0"):
        DCGANDiscriminator((28, 28, 1), minibatch_kernels=-1)


def test_stacked_mnist_small_presets_narrow_the_discriminator_to_a_quarter():
    for preset in ("dcgan_stacked_mnist_small", "dcgan_stacked_mnist_small_sn",
                   "dcgan_stacked_mnist_small_mbd"):
        model = DCGAN.from_preset(preset)
        generator, discriminator = model.generator, model.discriminator
        assert generator.output.shape[1:] == (28, 28, 3) and generator.latent_dim == 256
        generator_widths = [generator.get_layer("up1").output.shape[-1],
                            generator.get_layer("project").output.shape[-1] // 49]
        widths = [discriminator.get_layer(n).output.shape[-1] for n in ("down1", "down2")]
        # The discriminator mirrors the generator at a quarter of its width.
        assert [4 * w for w in widths] == generator_widths == [16, 32]
        assert discriminator.spectral_norm == preset.endswith("_sn")
        assert discriminator.batch_norm != preset.endswith("_sn")
        assert (discriminator.minibatch_kernels > 0) == preset.endswith("_mbd")
    assert DCGAN.preset_config("dcgan_stacked_mnist_small")["training"]["dataset"] == "stacked_mnist"
