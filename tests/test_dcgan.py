"""DCGAN: networks, one train step, presets, the .keras round trip."""

import zoo  # noqa: F401
import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.models.dcgan import DCGAN, DCGANDiscriminator, DCGANGenerator, upsampling_plan


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
