"""Stacked MNIST (Metz et al. 2016, VEEGAN, PacGAN): the data source, mode
counting and KL to uniform in closed form, classification of real stacked
digits with the shipped classifier, the evaluate command and the preset."""

import json
import math

import numpy as np
import pytest

import keras
from conftest import shared_path
from zoo.core.errors import ConfigError, DatasetError
from zoo.data import load_arrays, source_identity
from zoo.metrics.modes import classify_stacked, mode_statistics, score_stacked_mnist, stacked_mnist


@pytest.fixture(scope="module")
def data_dir():
    return shared_path("datasets")


@pytest.fixture(scope="module")
def stacked_test(data_dir):
    return load_arrays("stacked_mnist", split="test", data_dir=data_dir)


# --------------------------------------------------------------------------
# mode_statistics: pure NumPy, closed forms


def test_kl_of_an_even_histogram_is_zero_and_of_one_mode_is_log_1000():
    even = mode_statistics(np.tile(np.arange(1000), 3))
    assert even == {"modes": 1000, "kl_to_uniform": pytest.approx(0.0, abs=1e-12),
                    "num_samples": 3000, "num_modes": 1000}
    one = mode_statistics(np.full(26_000, 417))
    assert one["modes"] == 1 and one["num_samples"] == 26_000
    assert one["kl_to_uniform"] == pytest.approx(math.log(1000), rel=1e-12)
    # Two equal modes: log(1000 / 2).
    assert mode_statistics(np.array([3, 999] * 50))["kl_to_uniform"] == pytest.approx(math.log(500), rel=1e-12)


def test_modes_and_kl_of_a_hand_built_id_array():
    ids = np.array([0, 0, 5, 999, 5, 0, 999, 0, 5, 5])  # 0: 4, 5: 4, 999: 2
    stats = mode_statistics(ids)
    assert stats["modes"] == 3 and stats["num_samples"] == 10
    expected = 0.4 * math.log(400) + 0.4 * math.log(400) + 0.2 * math.log(200)
    assert stats["kl_to_uniform"] == pytest.approx(expected, rel=1e-12)
    assert mode_statistics(np.array([1, 2, 2, 9]), num_modes=10)["modes"] == 3


def test_mode_ids_out_of_range_or_missing_are_rejected():
    with pytest.raises(ConfigError, match=r"\[0, 1000\), got 0\.\.1000"):
        mode_statistics(np.array([0, 1000]))
    with pytest.raises(ConfigError, match="at least one sample"):
        mode_statistics(np.zeros(0, np.int64))
    with pytest.raises(ConfigError, match="1-D integer"):
        mode_statistics(np.array([0.5, 1.0]))


# --------------------------------------------------------------------------
# stacked_mnist: the construction


def test_stacked_mnist_is_deterministic_and_each_channel_is_a_digit_of_its_label():
    # Digit image k is filled with the value k, so a channel names its source.
    images = np.broadcast_to(np.arange(50, dtype=np.uint8)[:, None, None], (50, 28, 28)).copy()
    labels = np.arange(50) % 10
    stacked, modes = stacked_mnist(images, labels, count=400, seed=7)
    assert stacked.shape == (400, 28, 28, 3) and stacked.dtype == np.uint8
    assert modes.shape == (400,) and modes.dtype == np.int64
    sources = stacked[:, 0, 0, :].astype(int)  # [400, 3] source indices
    assert (stacked == stacked[:, :1, :1, :]).all()  # each channel is one whole digit image
    np.testing.assert_array_equal(modes, labels[sources] @ np.array([100, 10, 1]))
    again, modes_again = stacked_mnist(images[..., None], labels, count=400, seed=7)  # [M, H, W, 1] too
    np.testing.assert_array_equal(again, stacked)
    np.testing.assert_array_equal(modes_again, modes)
    other, _ = stacked_mnist(images, labels, count=400, seed=8)
    assert not np.array_equal(other, stacked)
    # Independent uniform draws: every source image and every channel position is used.
    assert set(np.unique(sources)) == set(range(50))


def test_stacked_test_split_is_built_from_real_mnist_test_digits(data_dir, stacked_test):
    images, modes = stacked_test
    assert images.shape == (10_000, 28, 28, 3) and images.dtype == np.uint8
    assert modes.dtype == np.int64 and modes.min() >= 0 and modes.max() <= 999
    again, modes_again = load_arrays("stacked_mnist", split="test", data_dir=data_dir)
    np.testing.assert_array_equal(again, images)
    np.testing.assert_array_equal(modes_again, modes)
    digits, digit_labels = load_arrays("mnist", split="test", data_dir=data_dir)
    flat = digits.reshape(len(digits), -1)
    for i in range(0, 10_000, 997):
        for c in range(3):
            matches = np.flatnonzero((flat == images[i, :, :, c].reshape(-1)).all(axis=1))
            assert len(matches) >= 1, (i, c)
            wanted = modes[i] // 10 ** (2 - c) % 10
            assert wanted in set(digit_labels[matches].tolist()), (i, c)
    # Its cache identity is not MNIST's, and names the construction.
    identity = source_identity("stacked_mnist", "test", data_dir)
    assert identity.startswith("stacked_mnist:10000:1:")
    assert identity.endswith(source_identity("mnist", "test", data_dir))


def test_stacked_train_split_has_every_mode_and_unknown_splits_are_named(data_dir):
    images, modes = load_arrays("stacked_mnist", split="train", data_dir=data_dir)
    assert images.shape == (100_000, 28, 28, 3)
    counts = np.bincount(modes, minlength=1000)
    assert counts.min() > 50 and counts.max() < 160  # about 100 each
    with pytest.raises(DatasetError, match="unknown split 'valid' for stacked_mnist"):
        load_arrays("stacked_mnist", split="valid", data_dir=data_dir)


# --------------------------------------------------------------------------
# Classification and scoring


def test_shipped_classifier_recovers_the_triples_of_real_stacked_test_images(stacked_test):
    images, modes = stacked_test
    predicted = classify_stacked(images[:3000])
    assert predicted.shape == (3000,) and predicted.dtype == np.int64
    assert (predicted == modes[:3000]).mean() >= 0.95
    scores = mode_statistics(predicted)
    truth = mode_statistics(modes[:3000])
    assert abs(scores["modes"] - truth["modes"]) <= 20
    assert scores["kl_to_uniform"] == pytest.approx(truth["kl_to_uniform"], abs=0.05)


def test_a_bad_shape_raises_config_error_naming_it():
    with pytest.raises(ConfigError, match=r"\(5, 28, 28, 1\)"):
        classify_stacked(np.zeros((5, 28, 28, 1), np.uint8))
    with pytest.raises(ConfigError, match=r"\(2, 32, 32, 3\)"):
        score_stacked_mnist(np.zeros((2, 32, 32, 3), np.uint8))
    with pytest.raises(ConfigError, match=r"float32 \(4, 28, 28, 3\)"):
        classify_stacked(np.zeros((4, 28, 28, 3), np.float32))


# --------------------------------------------------------------------------
# python -m zoo.evaluate --stacked_mnist


def _rgb_generator():
    noise = keras.Input((4,), name="noise")
    x = keras.layers.Dense(28 * 28 * 3, activation="tanh")(noise)
    return keras.Model(noise, keras.layers.Reshape((28, 28, 3))(x))


def test_evaluate_stacked_mnist_real_and_generator(tmp_path, data_dir, monkeypatch, capsys):
    from zoo import evaluate

    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    output = tmp_path / "real.json"
    real = evaluate.main(["--stacked_mnist", "real", "--data_dir", str(data_dir),
                          "--num_samples", "3000", "--output", str(output)])
    written = json.loads(output.read_text())
    assert written["modes"] == real["modes"] and written["command"].startswith("python -m zoo.evaluate")
    # 3,000 draws from 1,000 even modes cover about 1000 * (1 - e**-3) = 950.
    assert 920 <= real["modes"] <= 980 and real["num_samples"] == 3000
    assert real["kl_to_uniform"] < 0.3
    assert "kl_to_uniform" in capsys.readouterr().out

    keras.utils.set_random_seed(0)
    path = tmp_path / "generator.keras"
    _rgb_generator().save(path)
    fake = evaluate.main(["--stacked_mnist", str(path), "--num_samples", "200"])
    assert 1 <= fake["modes"] <= 200 and fake["kl_to_uniform"] > real["kl_to_uniform"]

    gray = tmp_path / "gray.keras"
    noise = keras.Input((4,), name="noise")
    keras.Model(noise, keras.layers.Reshape((28, 28, 1))(keras.layers.Dense(784, activation="tanh")(noise))).save(gray)
    with pytest.raises(SystemExit) as exited:
        evaluate.main(["--stacked_mnist", str(gray), "--num_samples", "8"])
    assert exited.value.code == 2
    assert "(8, 28, 28, 1)" in capsys.readouterr().err


# --------------------------------------------------------------------------
# Training on it


def test_dcgan_stacked_mnist_preset_and_training_stream(data_dir):
    from zoo.data import load_dataset
    from zoo.models.dcgan import DCGAN
    from zoo.training.recipe import preset_for_dataset

    model = DCGAN.from_preset("dcgan_stacked_mnist", seed=0)
    assert model.generator.output_shape == (None, 28, 28, 3)
    assert model.discriminator.input_shape == (None, 28, 28, 3)
    assert DCGAN.preset_config("dcgan_stacked_mnist")["training"]["dataset"] == "stacked_mnist"
    assert preset_for_dataset(DCGAN, "dcgan_mnist", "stacked_mnist") == "dcgan_stacked_mnist"
    stream, info = load_dataset("stacked_mnist", "test", data_dir, batch_size=16, image_shape=(28, 28, 3))
    assert info.num_classes == 1000 and info.num_examples == 10_000
    batch = next(iter(stream))
    assert batch.shape == (16, 28, 28, 3) and -1.0 <= float(batch.numpy().min()) <= float(batch.numpy().max()) <= 1.0


def test_fresh_stacks_are_new_each_step_resume_exactly_and_come_from_the_digits():
    from zoo.data.stacked_mnist import fresh_steps_per_epoch, make_fresh_stream

    # Digit k is filled with 2k, so each channel of a stack names its source.
    digits = np.broadcast_to((2 * np.arange(60, dtype=np.uint8))[:, None, None], (60, 28, 28)).copy()
    batches = [b.numpy() for b in make_fresh_stream(digits, 8, seed=3).take(40)]
    assert all(b.shape == (8, 28, 28, 3) and b.dtype == np.float32 for b in batches)
    sources = np.stack([np.rint((b[:, 0, 0, :] + 1.0) * 127.5 / 2) for b in batches])  # [40, 8, 3]
    for b, s in zip(batches, sources):
        np.testing.assert_allclose(b, np.broadcast_to((2 * s[:, None, None, :]) / 127.5 - 1.0, b.shape),
                                   atol=1e-6)  # whole digits
    # Drawn afresh: consecutive steps differ, and 960 draws of 60 use them all.
    assert not any(np.array_equal(sources[i], sources[i + 1]) for i in range(39))
    assert set(np.unique(sources)) == set(range(60))
    # A stream started at step 25 is the same stream from its 26th element on.
    resumed = [b.numpy() for b in make_fresh_stream(digits[..., None], 8, seed=3, start_step=25).take(15)]
    np.testing.assert_array_equal(np.stack(resumed), np.stack(batches[25:]))
    other = next(iter(make_fresh_stream(digits, 8, seed=4))).numpy()
    assert not np.array_equal(other, batches[0])
    grouped = next(iter(make_fresh_stream(digits, 4, seed=3, group=2))).numpy()
    assert grouped.shape == (4, 2, 28, 28, 3)
    assert fresh_steps_per_epoch(60_000, 128) == 468
    with pytest.raises(DatasetError, match="uint8 digit images"):
        make_fresh_stream(digits.astype(np.float32), 8)
    with pytest.raises(DatasetError, match=r"batch_size 61 is larger than the dataset \(60 examples\)"):
        make_fresh_stream(digits, 61)


def test_pacgan_preset_trains_on_fresh_stacks_of_real_digits(data_dir):
    from zoo.models.cgan import CGAN
    from zoo.models.dcgan import DCGAN
    from zoo.training.datasets import load_training_data

    model = DCGAN.from_preset("dcgan_stacked_mnist_pacgan", seed=0)
    model.compile()
    data = load_training_data(model, "stacked_mnist_fresh", "test", data_dir, (28, 28, 3), resize=False)
    assert data.image_shape == (28, 28, 3) and data.num_examples == 10_000
    assert data.steps_per_epoch(128) == 78 and "drawn afresh" in data.description
    first = next(iter(data.stream(16, 0, None, 0))).numpy()
    assert first.shape == (16, 28, 28, 3) and -1.0 <= first.min() < first.max() <= 1.0
    before = [w.numpy().copy() for w in model.discriminator.trainable_weights]
    model.fit(data.stream(16, 0, None, 0), epochs=1, steps_per_epoch=2, verbose=0)
    assert int(model.step.numpy()) == 2
    assert any(not np.allclose(a, w.numpy()) for a, w in zip(before, model.discriminator.trainable_weights))
    conditional = CGAN.from_preset("cgan_mnist")
    with pytest.raises(DatasetError, match="stacked_mnist_fresh has no labels"):
        load_training_data(conditional, "stacked_mnist_fresh", "test", data_dir, (28, 28, 1), resize=False)
    with pytest.raises(DatasetError, match=r"stacked_mnist_fresh images have shape \(28, 28, 3\) but the "
                       r"model takes \(32, 32, 3\) \(--resize"):
        load_training_data(model, "stacked_mnist_fresh", "test", data_dir, (32, 32, 3), resize=False)


def test_missing_mnist_is_named_as_the_source_of_stacked_mnist(tmp_path):
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "train-images-idx3-ubyte").write_bytes(b"\0\0\x08\x03")  # truncated
    (tmp_path / "mnist" / "train-labels-idx1-ubyte").write_bytes(b"\0\0\x08\x01\0\0\0\0")
    with pytest.raises(DatasetError, match="stacked_mnist is built from MNIST.*truncated header"):
        load_arrays("stacked_mnist", split="train", data_dir=tmp_path)


def test_evaluate_flags_default_to_the_papers_sample_count_and_need_no_dataset():
    from zoo import evaluate

    args = evaluate._parse_args(["--stacked_mnist", "real"])
    assert args.num_samples == 26_000 and args.dataset == "stacked_mnist"
    assert evaluate._parse_args(["--generator", "g.keras", "--dataset", "mnist"]).num_samples == 10_000
    with pytest.raises(SystemExit):
        evaluate._parse_args(["--stacked_mnist", "real", "--dataset", "mnist"])
    with pytest.raises(SystemExit):
        evaluate._parse_args(["--generator", "g.keras"])  # --dataset still required there
