"""Export: .keras for Keras users, SavedModel for TF Serving (no zoo needed)."""

import json
import os
import shutil
import subprocess

import zoo  # noqa: F401
import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo import export
from zoo.core.errors import ConfigError
from zoo.models.dcgan import DCGAN, DCGANDiscriminator, DCGANGenerator
from zoo.models.discogan import DiscoGAN
from zoo.models.sngan import SNGAN

from gan_checks import assert_generator_round_trip, assert_served_without_zoo


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    model = DCGAN(
        DCGANGenerator((28, 28, 1), latent_dim=8, base_filters=8),
        DCGANDiscriminator((28, 28, 1), base_filters=8),
        seed=0,
    )
    model.compile()
    images = np.random.default_rng(0).uniform(-1, 1, (8, 28, 28, 1)).astype("float32")
    model.train_on_batch(images)  # move batch-norm statistics off their init
    return model


def noise(n=4, dim=8):
    return np.random.default_rng(2).standard_normal((n, dim)).astype("float32")


def test_generator_keras_round_trip(model, tmp_path):
    assert_generator_round_trip(model.generator, tmp_path, noise())


def test_saved_model_serves_without_zoo(model, tmp_path):
    export_dir, metadata = assert_served_without_zoo(model, tmp_path, {"noise": noise()})
    assert metadata["architecture"] == "dcgan"
    assert metadata["latent_dim"] == 8
    assert metadata["image_shape"] == [28, 28, 1]
    assert metadata["step"] == 1
    loaded = keras.models.load_model(os.path.join(export_dir, "generator.keras"))
    assert type(loaded) is DCGANGenerator


def test_saved_model_stores_each_weight_once(model, tmp_path):
    # Keras's ExportArchive writes every weight twice (keras#23553): the
    # SavedModel would be twice the size and load twice the memory.
    import tensorflow as tf

    path = export.save_generator(model, tmp_path / "export")
    reader = tf.train.load_checkpoint(os.path.join(path, "saved_model", "variables", "variables"))
    stored = sum(int(np.prod(shape)) for name, shape in reader.get_variable_to_shape_map().items()
                 if name != "_CHECKPOINTABLE_OBJECT_GRAPH")
    assert stored == model.generator.count_params()


@pytest.mark.skipif(shutil.which("saved_model_cli") is None, reason="saved_model_cli not on PATH")
def test_saved_model_cli_runs_the_serving_signature(model, tmp_path):
    export_dir = export.save_generator(model, tmp_path / "export")
    np.save(tmp_path / "noise.npy", noise(2))
    result = subprocess.run(
        [
            "saved_model_cli", "run",
            "--dir", os.path.join(export_dir, "saved_model"),
            "--tag_set", "serve",
            "--signature_def", "serving_default",
            "--inputs", f"noise={tmp_path / 'noise.npy'}",
            "--outdir", str(tmp_path / "out"),
        ],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    images = np.load(tmp_path / "out" / "images_uint8.npy")
    assert images.shape == (2, 28, 28, 1) and images.dtype == np.uint8
    expected = np.asarray(model.generator(noise(2), training=False))
    np.testing.assert_allclose(np.load(tmp_path / "out" / "images.npy"), expected, atol=1e-5)


def test_export_replaces_an_existing_folder_whole(model, tmp_path):
    target = tmp_path / "export"
    export.save_generator(model, target, {"run": 1})
    (target / "stale.txt").write_text("old")
    export.save_generator(model, target, {"run": 2})
    assert not (target / "stale.txt").exists()
    assert json.loads((target / "metadata.json").read_text())["run"] == 2
    assert not [p for p in os.listdir(tmp_path) if ".tmp" in p or ".old" in p]


def test_export_rejects_a_generator_without_noise_input():
    inputs = keras.Input((4,), name="z")
    generator = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    with pytest.raises(ValueError, match="input named 'noise'"):
        export.export_saved_model(generator, "/tmp/never_written")


def test_shipped_dcgan_mnist_loads_and_matches_its_saved_model():
    # Issue 2, item 3: load_model returns the generator class; the SavedModel
    # next to it computes the same images.
    export_dir = os.path.join(os.path.dirname(__file__), "..", "savedmodels", "dcgan_mnist")
    generator = keras.models.load_model(os.path.join(export_dir, "generator.keras"))
    assert type(generator) is DCGANGenerator
    import tensorflow as tf

    serve = tf.saved_model.load(os.path.join(export_dir, "saved_model")).signatures["serving_default"]
    z = noise(3, 100)
    np.testing.assert_allclose(serve(noise=tf.constant(z))["images"], generator(z), atol=1e-5)
    metadata = export.load_metadata(export_dir)
    # The shipped generator is the step with the lowest FID of its training run.
    assert metadata["step"] == metadata["selected_by_fid"]["step"] <= metadata["final_step"]


def test_pretrained_models_load_by_name_with_clear_errors(tmp_path, monkeypatch):
    import zoo
    from zoo.core.errors import MissingFileError

    shipped = zoo.pretrained()
    assert shipped["dcgan_mnist"]["architecture"] == "dcgan"
    assert shipped["dcgan_mnist"]["step"] == export.load_metadata(shipped["dcgan_mnist"]["path"])["step"]
    assert shipped["dcgan_mnist"]["scores"]["num_samples"] == 10000
    assert type(zoo.load("dcgan_mnist")) is DCGANGenerator
    with pytest.raises(MissingFileError, match="no pretrained model 'dcgan_moon'.*dcgan_mnist"):
        zoo.load("dcgan_moon")
    # A corrupt file is named, with what to do.
    broken = tmp_path / "broken_model"
    shutil.copytree(os.path.join(os.path.dirname(__file__), "..", "savedmodels", "dcgan_mnist"), broken)
    (broken / "generator.keras").write_bytes(b"version https://git-lfs.github.com/spec/v1\n")
    monkeypatch.setenv("ZOO_MODELS_DIR", str(tmp_path))
    with pytest.raises(MissingFileError, match="broken_model/generator.keras could not be read"):
        zoo.load("broken_model")


def test_a_preset_built_with_its_pretrained_generator():
    model = DCGAN.from_preset("dcgan_mnist", pretrained=True)
    shipped = keras.models.load_model(
        os.path.join(os.path.dirname(__file__), "..", "savedmodels", "dcgan_mnist", "generator.keras")
    )
    z = noise(3, 100)
    np.testing.assert_allclose(model.generator(z, training=False), shipped(z, training=False), atol=1e-6)
    with pytest.raises(Exception, match="does not fit this model"):
        DCGAN.from_preset("dcgan_mnist", pretrained=True, generator={"base_filters": 8})


def test_a_model_trained_on_other_data_is_built_from_the_preset_its_metadata_names():
    # dcgan_fashion_mnist is the dcgan_mnist preset trained on Fashion-MNIST:
    # no preset has its name, its metadata says which one built it.
    assert zoo.pretrained()["dcgan_fashion_mnist"]["preset"] == "dcgan_mnist"
    model = DCGAN.from_preset("dcgan_fashion_mnist", pretrained=True)
    z = noise(3, 100)
    fashion = zoo.load("dcgan_fashion_mnist")(z, training=False)
    np.testing.assert_allclose(model.generator(z, training=False), fashion, atol=1e-6)
    digits = zoo.load("dcgan_mnist")(z, training=False)
    assert np.abs(np.asarray(fashion) - np.asarray(digits)).max() > 0.1
    with pytest.raises(ConfigError, match="Unknown preset 'dcgan_moon'"):
        DCGAN.from_preset("dcgan_moon", pretrained=True)


def test_a_pretrained_model_is_built_from_its_training_preset_even_where_its_name_is_a_preset():
    # discogan_emoji is also a preset (the 10k-iteration curriculum); the
    # shipped model was trained from discogan_emoji_no_curriculum, and
    # fine-tuning it continues with that setting.
    assert zoo.pretrained()["discogan_emoji"]["preset"] == "discogan_emoji_no_curriculum"
    model = DiscoGAN.from_preset("discogan_emoji", pretrained=True)
    assert model.curriculum_iterations == 0
    assert DiscoGAN.from_preset("discogan_emoji").curriculum_iterations == 10_000
    images = np.linspace(-1, 1, 2 * 64 * 64 * 3, dtype="float32").reshape(2, 64, 64, 3)
    np.testing.assert_allclose(
        model.generator(images, training=False), zoo.load("discogan_emoji")(images, training=False), atol=1e-5
    )


def test_sngan_cifar10_fine_tunes_with_the_settings_of_the_standard_cnn_it_was_trained_with():
    # The sngan_cifar10 preset is the released ResNet setting (n_dis=5,
    # hinge loss); the shipped model is the standard CNN trained from
    # sndcgan_cifar10 (n_dis=1, non-saturating loss), and fine-tuning keeps that.
    assert zoo.pretrained()["sngan_cifar10"]["preset"] == "sndcgan_cifar10"
    model = SNGAN.from_preset("sngan_cifar10", pretrained=True)
    assert (model.d_steps, SNGAN.from_preset("sngan_cifar10").d_steps) == (1, 5)
    z = noise(3, 128)
    np.testing.assert_allclose(
        model.generator(z, training=False), zoo.load("sngan_cifar10")(z, training=False), atol=1e-5
    )


@pytest.mark.parametrize("name, inputs", [
    ("srresnet_photos", {"images": np.linspace(-1, 1, 2 * 7 * 9 * 3, dtype="float32").reshape(2, 7, 9, 3)}),
    ("srgan_photos", {"images": np.linspace(-1, 1, 2 * 7 * 9 * 3, dtype="float32").reshape(2, 7, 9, 3)}),
    ("lapgan_cifar10", None),
    ("progan_cifar10", None),
])
def test_shipped_resolution_models_serve_what_load_model_computes(name, inputs):
    folder = os.path.join(os.path.dirname(__file__), "..", "savedmodels", name)
    generator = zoo.load(name)
    serving = tf.saved_model.load(os.path.join(folder, "saved_model")).signatures["serving_default"]
    if inputs is None:  # a noise-driven generator: the sample signature runs the whole network
        noise = np.random.default_rng(0).standard_normal((2, generator.inputs[0].shape[-1])).astype("float32")
        inputs = {"noise": noise}
        expected = generator(noise, training=False)
    else:
        expected = generator(inputs["images"], training=False)
        assert expected.shape == (2, 28, 36, 3)  # x4 of an odd size
    served = serving(**{k: tf.constant(v) for k, v in inputs.items()})["images"]
    np.testing.assert_allclose(served, expected, atol=1e-4)


def test_a_failed_export_leaves_nothing_behind_and_keeps_the_previous_export(tmp_path):
    target = tmp_path / "export"
    target.mkdir()
    (target / "metadata.json").write_text("{}")

    class Unsavable(keras.Model):
        def save(self, *args, **kwargs):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        export.save_generator(Unsavable(), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]
    assert (target / "metadata.json").read_text() == "{}"


CLASSIC_ZOO = sorted(name for name, facts in zoo.pretrained().items()
                     if (facts["scores"] or {}).get("num_samples") == 10000 and "fid" in facts["scores"])


@pytest.mark.parametrize("name", CLASSIC_ZOO)
def test_classic_pretrained_models_load_by_name_in_a_fresh_process(name):
    # As a new user would: a fresh interpreter, zoo.load, the SavedModel beside it.
    script = f"""
import numpy as np, tensorflow as tf, zoo
facts = zoo.pretrained()[{name!r}]
generator = zoo.load({name!r})
serve = tf.saved_model.load(facts["path"] + "/saved_model").signatures["sample"]
inputs = dict(num_images=tf.constant(4), seed=tf.constant(0))
if "labels" in serve.structured_input_signature[1]:  # a class-conditional generator
    inputs["labels"] = tf.constant([0, 3, 7, 9])
served = serve(**inputs)["images"].numpy()
assert served.shape[1:] == tuple(generator.output.shape[1:]), (served.shape, generator.output.shape)
assert np.isfinite(served).all() and -1 <= served.min() and served.max() <= 1
assert facts["scores"]["fid"] > 0 and facts["scores"]["command"].startswith("python -m zoo.evaluate")
print("ok", facts["step"])
"""
    import sys

    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-3000:]
