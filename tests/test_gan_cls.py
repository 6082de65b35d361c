"""GAN-CLS / GAN-INT-CLS (Reed et al. 2016): the matching-aware loss, the
interpolated term, phases (encoder, then GAN with the encoder frozen),
captions in and images out (Python, .keras, SavedModel, saved_model_cli),
bad captions, two replicas, resume, presets and the recipe."""

import json
import os
import subprocess
import sys

import zoo
import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.core import losses
from zoo.core.errors import ConfigError
from zoo.core.phases import Phase
from zoo.core.text import CharCNNRNN, ImageEncoder, tokenize
from zoo.models.gan_cls import GANCLS, MatchingAwareDiscriminator, TextConditionedGenerator

from conftest import shared_path
from gan_checks import (
    FixedNoise,
    assert_generator_round_trip,
    assert_replicas_match,
    assert_resumes_exactly,
    assert_served_without_zoo,
)

SHAPE = (16, 16, 3)
MAX_LENGTH = 16
CAPTIONS = ["red apple", "a cat face", "dog", "blue car", "sun", "crescent moon", "star", "tree"]


def small_encoders(shape=SHAPE, dim=16):
    return (
        CharCNNRNN(max_length=MAX_LENGTH, embedding_dim=dim, char_dim=8, filters=(8, 8), rnn_units=8),
        ImageEncoder(shape, embedding_dim=dim, filters=(8, 8)),
    )


def compile_all(model, optimizer=None):
    if optimizer is None:
        model.compile()
    else:
        model.compile(**{role: optimizer() for role in model.optimizer_variables()})
    return model


def small_gan_cls(seed=0, interpolation=False, optimizer=None):
    keras.utils.set_random_seed(seed)
    model = GANCLS(
        TextConditionedGenerator(SHAPE, latent_dim=8, embedding_dim=16, projected_dim=8, base_filters=8),
        MatchingAwareDiscriminator(SHAPE, embedding_dim=16, projected_dim=8, base_filters=8),
        *small_encoders(), interpolation=interpolation, seed=seed,
    )
    return compile_all(model, optimizer)


def caption_batch(n=8, seed=0, shape=SHAPE):
    images = np.random.default_rng(seed).uniform(-1, 1, (n,) + shape).astype("float32")
    text = {"tokens": tokenize(CAPTIONS[:n], MAX_LENGTH).numpy(), "identity": np.arange(n, dtype="int32")}
    return images, text


def enter(model, train=None, start=0, steps=100):
    model.enter_phase(Phase(steps=steps, train=train).resolved(8), start)
    return model


def _values(network):
    return [w.numpy().copy() for w in network.trainable_weights]


def _moved(before, network):
    return [not np.array_equal(b, w.numpy()) for b, w in zip(before, network.trainable_weights)]


def test_matching_aware_loss_against_a_hand_computed_value():
    real, wrong, fake = np.array([[1.0]]), np.array([[0.5]]), np.array([[-2.0]])
    softplus = lambda x: np.log1p(np.exp(x))  # noqa: E731
    expected = softplus(-1.0) + 0.5 * (softplus(0.5) + softplus(-2.0))
    value = losses.matching_aware_discriminator_loss(losses.minimax_discriminator_loss, real, wrong, fake)
    np.testing.assert_allclose(value, [expected], rtol=1e-6)
    # Hinge: relu(1 - real) + (relu(1 + wrong) + relu(1 + fake)) / 2.
    hinge = losses.matching_aware_discriminator_loss(losses.hinge_discriminator_loss, real, wrong, fake)
    np.testing.assert_allclose(hinge, [0.0 + 0.5 * (1.5 + 0.0)], rtol=1e-6)


def test_the_discriminator_scores_real_right_real_wrong_and_fake_right():
    model = enter(small_gan_cls())
    images, text = caption_batch()
    embedding = model.encode_tokens(text["tokens"])
    fake = model.generate_images(tf.random.normal((8, 8), seed=1), embedding)
    loss, reports = model._discriminator_objective(tf.constant(images), fake, embedding)
    # The wrong caption of example i is example i + 1's.
    wrong = np.roll(embedding.numpy(), -1, axis=0)
    real_out = model.discriminate(images, embedding, training=True)
    wrong_out = model.discriminate(images, wrong, training=True)
    fake_out = model.discriminate(fake, embedding, training=True)
    expected = losses.matching_aware_discriminator_loss(
        losses.minimax_discriminator_loss, real_out, wrong_out, fake_out
    )
    np.testing.assert_allclose(float(loss), float(np.mean(expected)), rtol=1e-5)
    np.testing.assert_allclose(float(reports["d_loss"]), float(np.mean(expected)), rtol=1e-5)


def test_the_encoder_phase_trains_only_the_encoders_and_the_gan_phase_never_touches_them():
    model = small_gan_cls()
    batch = caption_batch()
    networks = [model.generator, model.discriminator, model.text_encoder, model.image_encoder]
    before = [_values(n) for n in networks]
    logs = enter(model, train=["text_encoder"]).train_on_batch(*batch, return_dict=True)
    moved = [any(_moved(b, n)) for b, n in zip(before, networks)]
    assert moved == [False, False, True, True] and logs["embedding_loss"] > 0
    before = [_values(n) for n in networks]
    logs = enter(model, start=1).train_on_batch(*batch, return_dict=True)
    moved = [all(_moved(b, n)) for b, n in zip(before, networks)]
    assert moved[:2] == [True, True] and logs["d_loss"] > 0 and logs["g_loss"] > 0
    assert not any(_moved(before[2], model.text_encoder)) and not any(_moved(before[3], model.image_encoder))


def test_gan_int_adds_the_generators_loss_on_interpolated_captions():
    model = enter(small_gan_cls(interpolation=True))
    images, text = caption_batch()
    noise = np.random.default_rng(2).normal(size=(8, 8)).astype("float32")
    embedding = model.encode_tokens(text["tokens"]).numpy()
    mixed = 0.5 * embedding + 0.5 * np.roll(embedding, -1, axis=0)
    # The generator's update comes after the discriminator's: its value is
    # taken on the discriminator as updated, so compare on a copy stepped the same way.
    FixedNoise(model, [noise, noise])
    expected_model = enter(small_gan_cls(interpolation=True))
    FixedNoise(expected_model, [noise])
    expected_model.discriminator_step(tf.constant(images), tf.constant(embedding))
    fake = expected_model.generate_images(noise, mixed, training=True)
    expected = losses.non_saturating_generator_loss(expected_model.discriminate(fake, mixed, training=True))
    logs = model.train_on_batch(images, text, return_dict=True)
    assert logs["interpolated"] == pytest.approx(float(np.mean(expected)), rel=1e-4)


def test_generate_from_captions_in_python_after_load_model_and_in_the_saved_model(tmp_path):
    model = enter(small_gan_cls())
    model.train_on_batch(*caption_batch())
    captions = ["a red apple", "a purple cat"]
    images = model.generate(captions, seed=3)
    assert images.shape == (2,) + SHAPE
    np.testing.assert_allclose(model.export_network.generate(captions, seed=3), images, atol=1e-6)
    noise = np.random.default_rng(1).normal(size=(2, 8)).astype("float32")
    loaded = assert_generator_round_trip(
        model.export_network, tmp_path, {"noise": tf.constant(noise), "tokens": tokenize(captions, MAX_LENGTH)}
    )
    np.testing.assert_allclose(loaded.generate(captions, seed=3), images, atol=1e-5)
    served_captions = captions + ["a dog"]  # the served check draws three
    export_dir, metadata = assert_served_without_zoo(
        model, tmp_path,
        {"noise": np.random.default_rng(2).normal(size=(3, 8)).astype("float32"), "text": np.array(served_captions)},
    )
    assert metadata["condition"] == {"kind": "text", "embedding_dim": 16}
    assert metadata["max_caption_length"] == MAX_LENGTH
    assert os.path.exists(os.path.join(export_dir, "image_encoder.keras"))
    served = tf.saved_model.load(os.path.join(export_dir, "saved_model"))
    for bad, message in [("", "a caption is empty"), ("x" * 17, "longer than the 16 characters"),
                         (b"\xc3\x28", "not valid UTF-8")]:
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            served.signatures["sample"](num_images=tf.constant(1), seed=tf.constant(0), text=tf.constant([bad]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="one caption per image"):
        served.signatures["sample"](num_images=tf.constant(3), seed=tf.constant(0), text=tf.constant(captions))

    # TF Serving's own command-line runner, with a raw string as users send it.
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    result = subprocess.run(
        [cli, "run", "--dir", os.path.join(export_dir, "saved_model"), "--tag_set", "serve",
         "--signature_def", "sample", "--input_exprs", 'num_images=1;seed=3;text=["a red apple"]',
         "--outdir", str(tmp_path / "cli"), "--overwrite"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    np.testing.assert_allclose(np.load(tmp_path / "cli" / "images.npy"), model.generate(["a red apple"], seed=3),
                               atol=1e-5)


@pytest.mark.parametrize(
    "captions, message",
    [([""], "Caption 0 is empty"), (["x" * 17], "Caption 0 has 17 characters"),
     ([b"\xff"], "Caption 0 is not valid UTF-8"), ([], "No captions given")],
)
def test_bad_captions_are_clear_errors(captions, message):
    model = small_gan_cls()
    with pytest.raises(ConfigError, match=message):
        model.generate(captions, seed=0)
    with pytest.raises(ConfigError, match=message):
        model.export_network.generate(captions, seed=0)


def test_a_phase_naming_an_unknown_part_is_an_error():
    with pytest.raises(ConfigError, match=r"trains \['txt_encoder'\]; name exactly one of text_encoder, gan"):
        enter(small_gan_cls(), train=["txt_encoder"])


def test_embedding_sizes_must_agree():
    text, image = small_encoders(dim=12)
    with pytest.raises(ConfigError, match="one size everywhere"):
        GANCLS(TextConditionedGenerator(SHAPE, latent_dim=8, embedding_dim=16, base_filters=8),
               MatchingAwareDiscriminator(SHAPE, embedding_dim=16, base_filters=8), text, image)


@pytest.mark.parametrize("train", [None, ["text_encoder"]], ids=["gan", "encoder"])
def test_two_replicas_match_one_device(train):
    def make():
        return enter(small_gan_cls(seed=1, interpolation=True, optimizer=lambda: keras.optimizers.SGD(0.05)),
                     train=train)

    images, text = caption_batch()
    encoders = None if train is None else (
        lambda model: model.text_encoder.trainable_weights + model.image_encoder.trainable_weights
    )
    assert_replicas_match(make, (images, text), calls_per_step=2, moving=encoders)


def repeating_stream(batch, size=4):
    """``(phase index, step in phase) -> `` the batch's examples ``size`` at
    a time, cycling: a stream that resumes at any step."""
    count = len(batch[0]) // size

    def make_stream(index, start):
        dataset = tf.data.Dataset.from_tensor_slices(batch).batch(size, drop_remainder=True).repeat()
        return dataset.skip(start % count)

    return make_stream


@pytest.mark.slow  # phase-crossing resume is checked by default in test_core
def test_a_run_killed_in_the_gan_phase_resumes_exactly(tmp_path):
    phases = [Phase(steps=2, name="text encoder", train=("text_encoder",)).resolved(4),
              Phase(steps=4, name="gan").resolved(4)]
    assert_resumes_exactly(lambda: small_gan_cls(seed=2, interpolation=True), repeating_stream(caption_batch(8)),
                           tmp_path, kill_at=5, phases=phases)


def test_presets():
    assert zoo.get("gan_cls") is GANCLS
    model = GANCLS.from_preset("gan_int_cls_emoji")
    assert model.interpolation and model.interpolation_beta == 0.5 and model.latent_dim == 100
    assert model.text_encoder.max_length == 128 and model.condition.embedding_dim == 256
    assert model.generator.output_shape == (None, 64, 64, 3)
    phases = GANCLS.preset_config("gan_cls_emoji")["training"]["phases"]
    assert [p["train"] if "train" in p else None for p in phases] == [["text_encoder"], None]
    assert not GANCLS.from_preset("gan_cls_emoji").interpolation


def _write_captions_csv(folder, rows):
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for name, _ in rows:
        if name.startswith("present"):
            Image.new("RGB", (64, 64), (200, 30, 30)).save(folder / name)
    lines = ["image,caption"] + [f"{name},{caption}" for name, caption in rows]
    (folder / "captions.csv").write_text("\n".join(lines) + "\n")
    return folder / "captions.csv"


def test_a_captions_file_with_a_missing_image_is_a_one_line_error(tmp_path):
    from test_recipe import run_recipe

    csv = _write_captions_csv(tmp_path / "data", [("present.png", "a red square"), ("absent.png", "a ghost")])
    code, _, stderr = run_recipe(f"--dataset={csv}", f"--logdir={tmp_path}/run", f"--export_dir={tmp_path}/export",
                                 script="gan_cls")
    assert code == 2 and "Traceback" not in stderr, stderr[-2000:]
    last = stderr.strip().splitlines()[-1]
    assert "absent.png" in last and "row 3" in last, last


@pytest.mark.slow
def test_recipe_trains_both_phases_on_the_emoji_and_exports_a_text_model(tmp_path):
    from test_recipe import run_recipe

    root = shared_path("datasets", "emoji").parent
    code, stdout, stderr = run_recipe(
        f"--data_dir={root}", "--phase_steps=2,2", "--batch_size=8", f"--logdir={tmp_path}/run",
        f"--export_dir={tmp_path}/export", "--verbose=0", "--sample_every=2", "--variant=gan_int_cls",
        script="gan_cls",
    )
    assert code == 0, stderr[-3000:]
    assert "2 phases, 4 steps (text encoder: 2, gan: 2)" in stdout
    metadata = json.loads((tmp_path / "export" / "metadata.json").read_text())
    assert metadata["preset"] == "gan_int_cls_emoji" and metadata["step"] == 4
    loaded = keras.models.load_model(tmp_path / "export" / "generator.keras")
    assert loaded.generate(["a red apple"], seed=0).shape == (1, 64, 64, 3)
    assert (tmp_path / "run" / "samples" / "step_00000004.png").exists()


@pytest.mark.parametrize("name", ["gan_cls_emoji_small", "gan_int_cls_emoji_small", "stackgan_emoji_small"])
def test_the_shipped_models_generate_from_captions_as_their_saved_models_do(name):
    from conftest import REPO

    folder = REPO / "savedmodels" / name
    metadata = json.loads((folder / "metadata.json").read_text())
    captions = ["a red apple", "a blue heart with a smiling face"]
    model = zoo.get(metadata["architecture"]).from_preset(metadata["preset"], pretrained=True)
    images = model.generate(captions, seed=7)
    np.testing.assert_allclose(zoo.load(name).generate(captions, seed=7), images, atol=1e-5)
    served = tf.saved_model.load(str(folder / "saved_model")).signatures["sample"]
    out = served(num_images=tf.constant(2), seed=tf.constant(7), text=tf.constant(captions))["images"]
    np.testing.assert_allclose(out, images, atol=1e-4)
    # The encoders came with it: the text encoder is the trained one, not a fresh one.
    fresh = zoo.get(metadata["architecture"]).from_preset(metadata["preset"])
    assert not np.allclose(fresh.encode_text(captions), model.encode_text(captions))
    assert model.image_encoder.get_weights()[0].shape == fresh.image_encoder.get_weights()[0].shape
