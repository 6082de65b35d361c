"""StackGAN (Zhang et al. 2017): conditioning augmentation and its KL term,
stage I on downsampled images, stage II with stage I frozen, serving raw
captions, two replicas, resume across the stages, presets and the recipe."""

import json

import zoo
import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.core import losses
from zoo.core.phases import Phase
from zoo.models.gan_cls import MatchingAwareDiscriminator
from zoo.models.stackgan import StackGAN, StackGANGenerator

from conftest import shared_path
from gan_checks import (
    assert_generator_round_trip,
    assert_replicas_match,
    assert_resumes_exactly,
    assert_served_without_zoo,
)
from test_gan_cls import caption_batch, compile_all, repeating_stream, small_encoders

SHAPE = (32, 32, 3)
LATENT = 8 + 2 * 4  # z, then each stage's augmentation noise


def small_stackgan(seed=0, optimizer=None):
    keras.utils.set_random_seed(seed)
    model = StackGAN(
        StackGANGenerator(SHAPE, stage_one_size=16, z_dim=8, embedding_dim=16, conditioning_dim=4,
                          stage_one_filters=8, stage_two_filters=4, residual_blocks=1),
        MatchingAwareDiscriminator((16, 16, 3), embedding_dim=16, projected_dim=8, base_filters=8),
        MatchingAwareDiscriminator(SHAPE, embedding_dim=16, projected_dim=8, base_filters=8),
        *small_encoders(SHAPE), seed=seed,
    )
    return compile_all(model, optimizer)


def enter(model, stage, start=0):
    model.enter_phase(Phase(steps=100, train=(stage,)).resolved(8), start)
    return model


def _values(weights):
    return [w.numpy().copy() for w in weights]


def _moved(before, weights):
    return [not np.array_equal(b, w.numpy()) for b, w in zip(before, weights)]


def test_conditioning_augmentation_is_mean_plus_sigma_times_epsilon():
    model = small_stackgan()
    stage_one = model.generator.stage_one
    text = np.random.default_rng(0).normal(size=(3, 16)).astype("float32")
    epsilon = np.random.default_rng(1).normal(size=(3, 4)).astype("float32")
    dense = stage_one.get_layer("conditioning")
    statistics = text @ dense.kernel.numpy() + dense.bias.numpy()
    mean, log_variance = statistics[:, :4], statistics[:, 4:]
    got_mean, got_log_variance = model.generator.conditioning_statistics(text, "one")
    np.testing.assert_allclose(got_mean, mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_log_variance, log_variance, rtol=1e-5, atol=1e-6)
    # The code reaching the generator: the augmentation layer's output.
    code_model = keras.Model(stage_one.inputs, stage_one.get_layer("condition_and_noise").input[0])
    noise = np.concatenate([np.zeros((3, 8), "float32"), epsilon], axis=1)
    code = code_model({"noise": noise, "text_embedding": text})
    np.testing.assert_allclose(code, mean + np.exp(0.5 * log_variance) * epsilon, rtol=1e-5, atol=1e-6)


def test_stage_one_trains_on_downsampled_images_with_the_kl_term():
    model = enter(small_stackgan(), "stage_one")
    images, text = caption_batch(shape=SHAPE)
    low = model.prepare_real(tf.constant(images)).numpy()
    expected = images.reshape(8, 16, 2, 16, 2, 3).mean(axis=(2, 4))  # area averaging, 2x2
    np.testing.assert_allclose(low, expected, atol=1e-6)
    embedding = model.encode_tokens(text["tokens"])
    mean, log_variance = model.generator.conditioning_statistics(embedding, "one")
    kl = model.kl_weight * np.mean(losses.kl_to_standard_normal(mean, log_variance))
    networks = {
        "stage one": model.generator.stage_one.trainable_weights, "stage two": model.generator.stage_two.trainable_weights,
        "d1": model.discriminator.trainable_weights, "d2": model.discriminator_two.trainable_weights,
    }
    before = {k: _values(v) for k, v in networks.items()}
    logs = model.train_on_batch(images, text, return_dict=True)
    # The released code's 2 on the KL averaged over the 4 dimensions.
    assert logs["kl"] == pytest.approx(kl, rel=1e-4) and model.kl_weight == 2.0 / 4
    moved = {k: any(_moved(before[k], v)) for k, v in networks.items()}
    assert moved == {"stage one": True, "stage two": False, "d1": True, "d2": False}


def test_stage_two_refines_with_stage_one_frozen_in_inference_mode():
    model = enter(small_stackgan(), "stage_two")
    images, text = caption_batch(shape=SHAPE)
    frozen = model.generator.stage_one.weights  # batch-norm statistics included
    before = _values(frozen)
    networks = {"stage two": model.generator.stage_two.trainable_weights,
                "d1": model.discriminator.trainable_weights, "d2": model.discriminator_two.trainable_weights}
    before_networks = {k: _values(v) for k, v in networks.items()}
    logs = model.train_on_batch(images, text, return_dict=True)
    assert not any(_moved(before, frozen))
    moved = {k: any(_moved(before_networks[k], v)) for k, v in networks.items()}
    assert moved == {"stage two": True, "d1": False, "d2": True}
    assert logs["d_loss"] > 0 and logs["kl"] > 0


@pytest.mark.parametrize("stage", ["stage_one", pytest.param("stage_two", marks=pytest.mark.slow)])
def test_two_replicas_match_one_device(stage):
    def make():
        return enter(small_stackgan(seed=1, optimizer=lambda: keras.optimizers.SGD(0.05)), stage)

    part = "stage_one" if stage == "stage_one" else "stage_two"
    moving = lambda model: getattr(model.generator, part).trainable_weights  # noqa: E731
    assert_replicas_match(make, caption_batch(shape=SHAPE), calls_per_step=2, moving=moving)


@pytest.mark.slow  # phase-crossing resume is checked by default in test_core
def test_a_run_killed_in_stage_two_resumes_exactly(tmp_path):
    phases = [Phase(steps=2, name="text encoder", train=("text_encoder",)).resolved(4),
              Phase(steps=2, name="stage I", train=("stage_one",)).resolved(4),
              Phase(steps=3, name="stage II", train=("stage_two",)).resolved(4)]
    # Killed in stage II; the last checkpoint is step 4, its start.
    assert_resumes_exactly(lambda: small_stackgan(seed=2), repeating_stream(caption_batch(8, shape=SHAPE)),
                           tmp_path, kill_at=6, phases=phases)


@pytest.mark.slow  # the shipped StackGAN's SavedModel is run by default in test_gan_cls
def test_served_without_zoo_round_trip_and_grid(tmp_path):
    model = enter(small_stackgan(), "stage_two")
    model.train_on_batch(*caption_batch(shape=SHAPE))
    captions = np.array(["a red apple", "a purple cat", "a dog"])
    noise = np.random.default_rng(1).normal(size=(3, LATENT)).astype("float32")
    _, metadata = assert_served_without_zoo(model, tmp_path, {"noise": noise, "text": captions})
    assert metadata["image_shape"] == [32, 32, 3] and metadata["latent_dim"] == LATENT
    loaded = assert_generator_round_trip(
        model.export_network, tmp_path, {"noise": tf.constant(noise), "tokens": zoo.core.text.tokenize(captions, 16)}
    )
    np.testing.assert_allclose(loaded.generate(list(captions), seed=4), model.generate(list(captions), seed=4),
                               atol=1e-5)
    grid = model.caption_grid(["a red apple", "a dog"])
    assert grid.shape == (2, 2) + SHAPE
    # The second column is the model's own image for the caption.
    np.testing.assert_allclose(grid[:, 1], model.generate(["a red apple", "a dog"], seed=0), atol=1e-5)


def test_presets():
    assert zoo.get("stackgan") is StackGAN
    model = StackGAN.from_preset("stackgan_emoji")
    assert model.generator.output_shape == (None, 64, 64, 3) and model.generator.stage_one_size == 32
    assert model.latent_dim == 100 + 2 * 128 and model.kl_weight == 2.0 / 128
    assert StackGAN.from_preset("stackgan_emoji_small").kl_weight == 2.0  # what shipped
    phases = StackGAN.preset_config("stackgan_emoji")["training"]["phases"]
    assert [p["train"] for p in phases] == [["text_encoder"], ["stage_one"], ["stage_two"]]
    assert set(model.optimizer_variables()) == {"d_optimizer", "g_optimizer", "d2_optimizer", "g2_optimizer",
                                                "e_optimizer"}


@pytest.mark.slow
def test_recipe_trains_every_phase_on_the_emoji(tmp_path):
    from test_recipe import run_recipe

    root = shared_path("datasets", "emoji").parent
    code, stdout, stderr = run_recipe(
        f"--data_dir={root}", "--phase_steps=1,2,2", "--batch_size=8", f"--logdir={tmp_path}/run",
        f"--export_dir={tmp_path}/export", "--verbose=0", "--sample_every=5", script="stackgan",
    )
    assert code == 0, stderr[-3000:]
    assert "3 phases, 5 steps (text encoder: 1, stage I: 2, stage II: 2)" in stdout
    metadata = json.loads((tmp_path / "export" / "metadata.json").read_text())
    assert metadata["preset"] == "stackgan_emoji" and metadata["step"] == 5
    loaded = keras.models.load_model(tmp_path / "export" / "generator.keras")
    assert loaded.generate(["a red apple"], seed=0).shape == (1, 64, 64, 3)
