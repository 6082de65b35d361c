"""DiscoGAN (Kim et al. 2017) with the released code's losses and schedule:
feature matching against numpy, the curriculum, one discriminator and two
generator updates per step, resume, replicas, serving."""

import numpy as np
import pytest
import tensorflow as tf

import keras
import zoo
from zoo.core.errors import ConfigError
from zoo.models.discogan import DiscoDiscriminator, DiscoGAN, DiscoGenerator, feature_matching_loss

from gan_checks import assert_replicas_match, assert_resumes_exactly, assert_served_without_zoo

SHAPE = (32, 32, 3)


def small_discogan(seed=0, optimizer=None, **model_args):
    keras.utils.set_random_seed(seed)
    model = DiscoGAN(
        DiscoGenerator(SHAPE, base_filters=4),
        DiscoDiscriminator(SHAPE, base_filters=4),
        DiscoGenerator(SHAPE, base_filters=4),
        DiscoDiscriminator(SHAPE, base_filters=4),
        seed=seed,
        **model_args,
    )
    optimizer = optimizer or (lambda: keras.optimizers.Adam(2e-4, beta_1=0.5))
    model.compile(g_optimizer=optimizer(), d_optimizer=optimizer())
    return model


def grouped(n=4, seed=0):
    rng = np.random.default_rng(seed)
    return tuple(rng.uniform(-1, 1, (n, 3) + SHAPE).astype("float32") for _ in range(2))


def test_networks_follow_the_released_code():
    generator, discriminator = DiscoGenerator(), DiscoDiscriminator()
    assert generator.output_shape == (None, 64, 64, 3)
    assert [l.filters for l in generator.layers if isinstance(l, keras.layers.Conv2D)
            and not isinstance(l, keras.layers.Conv2DTranspose)] == [64, 128, 256, 512]
    outputs = discriminator(tf.zeros((2, 64, 64, 3)))
    assert outputs["logits"].shape == (2, 1, 1, 1)
    assert [f.shape[1:] for f in outputs["features"]] == [(16, 16, 128), (8, 8, 256), (4, 4, 512)]
    # The released code's weight decay 1e-5 as an L2 term of the same gradient.
    assert generator.get_layer("down1").kernel_regularizer.l2 == pytest.approx(5e-6)


def test_feature_matching_is_the_squared_distance_of_batch_means():
    rng = np.random.default_rng(0)
    real = [rng.normal(size=(4, 3, 3, 2)).astype("float32"), rng.normal(size=(4, 5)).astype("float32")]
    fake = [rng.normal(size=(4, 3, 3, 2)).astype("float32"), rng.normal(size=(4, 5)).astype("float32")]
    expected = sum(np.mean((r.mean(0) - f.mean(0)) ** 2) for r, f in zip(real, fake))
    shares = feature_matching_loss(real, fake).numpy()
    np.testing.assert_allclose(shares, [expected] * 4, rtol=1e-5)


def test_one_step_is_one_discriminator_and_two_generator_updates():
    model = small_discogan()
    logs = model.train_on_batch(grouped(), return_dict=True)
    assert set(logs) == {"d_loss", "g_loss", "feature_matching", "reconstruction", "rate"}
    assert int(model.d_optimizer.iterations.numpy()) == 1
    assert int(model.g_optimizer.iterations.numpy()) == 2
    assert logs["rate"] == pytest.approx(0.01)
    with pytest.raises(ConfigError, match=r"\[batch, 3, H, W, C\]"):
        small_discogan().train_on_batch(tuple(x[:, 0] for x in grouped()))


def test_the_curriculum_ends_after_10000_iterations():
    model = small_discogan()
    # Train step 3333 holds iterations 9999 (discriminator), 10000 and 10001.
    model.step_counter.assign(3333)
    logs = model.train_on_batch(grouped(), return_dict=True)
    assert logs["rate"] == pytest.approx(0.5)
    model.step_counter.assign(3332)  # iterations 9996..9998: still 0.01
    assert model.train_on_batch(grouped(), return_dict=True)["rate"] == pytest.approx(0.01)


def test_the_no_curriculum_preset_weighs_reconstruction_half_from_the_start():
    from zoo.models.discogan import DiscoGAN

    model = DiscoGAN.from_preset("discogan_emoji_no_curriculum")
    assert model.curriculum_iterations == 0
    assert float(model.reconstruction_rate(0)) == pytest.approx(0.5)
    assert float(DiscoGAN.from_preset("discogan_emoji").reconstruction_rate(0)) == pytest.approx(0.01)


@pytest.mark.slow  # CycleGAN's replica test runs the shared two-domain step by default
def test_two_replicas_match_one_device():
    # Batch norm synchronised, feature-matching means over the global batch.
    assert_replicas_match(
        lambda: small_discogan(seed=3, optimizer=lambda: keras.optimizers.SGD(0.05)), grouped(4, 5)
    )


@pytest.mark.slow  # CycleGAN's and pix2pix's resume tests run the translation stream by default
def test_a_killed_run_resumes_exactly(tmp_path):
    from zoo.data import translation

    rng = np.random.default_rng(1)
    a, b = (rng.integers(0, 256, (36,) + SHAPE, dtype=np.uint8) for _ in range(2))
    data = translation.TranslationData(translation.ImageSet(a, []), translation.ImageSet(b, []), False, "test")
    assert_resumes_exactly(
        small_discogan,
        lambda start: translation.make_unpaired_stream(data, 2, start_step=start, group=3),
        tmp_path,
    )


@pytest.mark.slow  # CycleGAN's and pix2pix's serving tests run by default
def test_served_without_zoo(tmp_path):
    model = small_discogan()
    model.train_on_batch(grouped())
    _, metadata = assert_served_without_zoo(model, tmp_path, {"images": grouped(3, 4)[0][:, 0]})
    assert metadata["architecture"] == "discogan"


def test_presets_build():
    assert zoo.get("discogan") is DiscoGAN
    model = DiscoGAN.from_preset("discogan_emoji")
    assert (model.curriculum_iterations, model.starting_rate, model.default_rate) == (10000, 0.01, 0.5)
    assert model.real_batches_per_step == 3
    assert DiscoGAN.preset_config("discogan_emoji")["training"]["batch_size"] == 64
