"""pix2pix (Isola et al. 2017): the U-Net and the PatchGAN, the loss against
hand-computed values, a train step, resume, replicas, serving, presets."""

import numpy as np
import pytest
import tensorflow as tf

import keras
import zoo
from zoo.core.errors import ConfigError
from zoo.models.pix2pix import PatchDiscriminator, Pix2Pix, UNetGenerator, patch_receptive_field

from gan_checks import (
    assert_each_step_updates_only_its_player,
    assert_generator_round_trip,
    assert_replicas_match,
    assert_resumes_exactly,
    assert_served_without_zoo,
    assert_train_step_updates_both_players,
)

SHAPE = (16, 16, 3)


def small_pix2pix(seed=0, optimizer=None, dropout=0.5, **model_args):
    keras.utils.set_random_seed(seed)
    model = Pix2Pix(
        UNetGenerator(SHAPE, base_filters=4, max_filters=16, dropout=dropout),
        PatchDiscriminator(SHAPE, base_filters=4, stride2_layers=1),
        seed=seed,
        **model_args,
    )
    if optimizer:
        model.compile(d_optimizer=optimizer(), g_optimizer=optimizer())
    else:
        model.compile()
    return model


def pairs(n=4, seed=0):
    rng = np.random.default_rng(seed)
    target = rng.uniform(-1, 1, (n,) + SHAPE).astype("float32")
    return target, np.clip(target + rng.normal(0, 0.3, target.shape), -1, 1).astype("float32")


def test_unet_halves_to_one_pixel_and_drops_in_its_first_three_decoder_layers():
    generator = UNetGenerator((64, 64, 3))
    downs = [l for l in generator.layers if l.name.startswith("down") and isinstance(l, keras.layers.Conv2D)]
    assert [l.filters for l in downs] == [64, 128, 256, 512, 512, 512]
    assert generator.get_layer("down6").output.shape[1:3] == (1, 1)
    assert [l.name for l in generator.layers if "dropout" in l.name] == ["up1_dropout", "up2_dropout", "up3_dropout"]
    # Each decoder layer is joined to the encoder layer of its size.
    assert generator.get_layer("skip5").output.shape == (None, 32, 32, 128)
    assert generator.output_shape == (None, 64, 64, 3)
    with pytest.raises(ConfigError, match="power-of-two"):
        UNetGenerator((48, 48, 3))


@pytest.mark.parametrize("layers, field", [(1, 16), (2, 34), (3, 70)])
def test_patchgan_receptive_field(layers, field):
    # Measured: the input pixels one interior logit depends on.
    assert patch_receptive_field(layers) == field
    keras.utils.set_random_seed(0)
    size = 128
    discriminator = PatchDiscriminator((size, size, 3), base_filters=2, stride2_layers=layers, norm="none")
    images = tf.random.normal((1, size, size, 3))
    with tf.GradientTape() as tape:
        tape.watch(images)
        logits = discriminator({"images": images, "source": tf.zeros_like(images)})
        centre = logits.shape[1] // 2
        value = logits[0, centre, centre, 0]
    rows, cols = np.nonzero(np.abs(tape.gradient(value, images).numpy()[0]).sum(-1))
    assert rows.max() - rows.min() + 1 == field and cols.max() - cols.min() + 1 == field


def test_losses_match_hand_computed_values():
    model = small_pix2pix()
    real, fake = np.full((2, 4, 4, 1), 0.5, "float32"), np.full((2, 4, 4, 1), -1.0, "float32")
    softplus = lambda t: np.logaddexp(0.0, t)  # noqa: E731
    # The discriminator's objective halved: 0.5 (softplus(-0.5) + softplus(-1)).
    np.testing.assert_allclose(model.discriminator_loss(real, fake), [0.5 * (softplus(-0.5) + softplus(-1.0))] * 2, rtol=1e-6)
    np.testing.assert_allclose(model.generator_loss(fake), [softplus(1.0)] * 2, rtol=1e-6)
    [l1] = model.generator_terms()
    assert (l1.name, l1.weight) == ("l1", 100.0)


def test_a_train_step_reports_lambda_times_l1_of_the_generators_output():
    model = small_pix2pix(dropout=0.0)
    target, source = pairs()
    expected = 100.0 * np.mean(np.abs(model.generator(source, training=True).numpy() - target))
    logs = model.train_on_batch((target, source), return_dict=True)
    assert set(logs) == {"d_loss", "g_loss", "l1"}
    np.testing.assert_allclose(logs["l1"], expected, rtol=1e-5)


def test_the_l1_only_ablation_trains_the_generator_alone():
    model = small_pix2pix(adversarial_weight=0.0)
    d_before = [w.numpy().copy() for w in model.discriminator.trainable_weights]
    logs = model.train_on_batch(pairs(), return_dict=True)
    assert set(logs) == {"l1"} and logs["l1"] > 0
    assert int(model.g_optimizer.iterations.numpy()) == 1 and int(model.d_optimizer.iterations.numpy()) == 0
    for before, after in zip(d_before, model.discriminator.trainable_weights):
        np.testing.assert_array_equal(before, after.numpy())


def test_train_step_updates_both_players_and_each_step_only_its_own():
    target, source = pairs()
    assert_train_step_updates_both_players(small_pix2pix(), (target, source))
    assert_each_step_updates_only_its_player(small_pix2pix(), target, tf.constant(source))


def test_two_replicas_match_one_device_with_dropout():
    assert_replicas_match(
        lambda: small_pix2pix(seed=3, optimizer=lambda: keras.optimizers.SGD(0.1)), pairs(4, 5), steps=2
    )


def test_a_killed_run_resumes_exactly(tmp_path):
    from zoo.data import translation

    target, source = pairs(12, 1)
    uint8 = lambda x: np.round((x + 1) * 127.5).astype("uint8")  # noqa: E731
    data = translation.TranslationData(
        translation.ImageSet(uint8(source), list("abcdefghijkl")),
        translation.ImageSet(uint8(target), list("abcdefghijkl")), True, "test pairs",
    )
    assert_resumes_exactly(
        small_pix2pix, lambda start: translation.make_paired_stream(data, 4, start_step=start), tmp_path
    )


def test_served_without_zoo_from_float_and_uint8_images(tmp_path):
    model = small_pix2pix()
    model.train_on_batch(pairs())
    _, source = pairs(3, 9)
    export_dir, metadata = assert_served_without_zoo(model, tmp_path, {"images": source})
    assert metadata["condition"] == {"kind": "image", "image_shape": [16, 16, 3]} and metadata["latent_dim"] == 0
    loaded = tf.saved_model.load(f"{export_dir}/saved_model")
    assert set(loaded.signatures) == {"serving_default", "serving_default_uint8"}
    as_uint8 = np.round((source + 1) * 127.5).astype(np.uint8)
    served = loaded.signatures["serving_default_uint8"](images=tf.constant(as_uint8))["images"].numpy()
    np.testing.assert_allclose(served, model.translate(as_uint8 / 127.5 - 1), atol=1e-5)


def test_generator_round_trip(tmp_path):
    assert_generator_round_trip(small_pix2pix().generator, tmp_path, pairs()[1])


def test_presets_build_with_the_papers_settings():
    assert zoo.get("pix2pix") is Pix2Pix
    model = Pix2Pix.from_preset("pix2pix_emoji")
    assert model.l1_weight == 100.0 and model.latent_dim == 0
    assert model.discriminator.receptive_field == 16  # 25% of 64, as 70 of 256
    assert model.generator.output_shape == (None, 64, 64, 3)
    training = Pix2Pix.preset_config("pix2pix_emoji")["training"]
    assert training["dataset"] == "emoji:openmoji_black,openmoji_color"
    optimizer = keras.optimizers.get(training["g_optimizer"])
    assert optimizer.beta_1 == 0.5 and float(optimizer.learning_rate) == pytest.approx(2e-4)
    assert Pix2Pix.from_preset("pix2pix_emoji_l1").adversarial_weight == 0.0
    assert Pix2Pix.preset_config("pix2pix_cifar10_colorization")["training"]["degradation"] == "grayscale"
    assert Pix2Pix.from_preset("pix2pix_cifar10_inpainting").generator.output_shape == (None, 32, 32, 3)
