"""Tests of zoo.data on the real datasets in ../shared (skipped when it is missing).

Files written to tmp_path are only for layouts and error paths; their pixels
come from the real datasets.
"""

import gzip
import hashlib
import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import zoo  # noqa: F401  (sets TensorFlow's environment before it is imported)
import tensorflow as tf  # noqa: E402

from zoo.data import (  # noqa: E402
    KNOWN_DATASETS,
    DatasetError,
    DatasetInfo,
    load_arrays,
    load_dataset,
    make_dataset,
    steps_per_epoch,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DATASETS = SHARED / "datasets"
CIFAR_ZIP = DATASETS / "cifar10" / "cifar10_jpeg_q75.zip"


@pytest.fixture(scope="session")
def datasets_dir():
    if not (DATASETS / "mnist").is_dir():
        pytest.skip(f"real data not available: {DATASETS / 'mnist'} is missing")
    return DATASETS


@pytest.fixture(scope="module", autouse=True)
def cache_dir(tmp_path_factory):
    """Decoded-data caches go to a temporary folder; no ZOO_DATA_DIR from the shell.

    Module-scoped and autouse, so it is in place before the module's data fixtures load.
    """
    folder = tmp_path_factory.mktemp("zoo_cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZOO_CACHE_DIR", str(folder))
        patch.delenv("ZOO_DATA_DIR", raising=False)
        yield folder


@pytest.fixture
def no_tfds_download(monkeypatch):
    """Fail the test if anything reaches tfds.load (it would try to download)."""
    import tensorflow_datasets as tfds

    def forbidden(*args, **kwargs):
        raise AssertionError(f"tfds.load was called with {args} {kwargs}")

    monkeypatch.setattr(tfds, "load", forbidden)


@pytest.fixture(scope="module")
def mnist_test(datasets_dir):
    return load_arrays("mnist", "test", data_dir=datasets_dir)


@pytest.fixture(scope="module")
def cifar_test(datasets_dir):
    if not CIFAR_ZIP.is_file():
        pytest.skip(f"real data not available: {CIFAR_ZIP} is missing")
    return load_arrays("cifar10", "test", data_dir=datasets_dir)


def collect(dataset, steps=None):
    """The first `steps` elements of a dataset as numpy values."""
    if steps is not None:
        dataset = dataset.take(steps)
    return list(dataset.as_numpy_iterator())


def save_png(path: Path, image: np.ndarray) -> Path:
    """Writes uint8 [H, W, 1 or 3] as a PNG (lossless)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image.squeeze(-1) if image.shape[-1] == 1 else image).save(path)
    return path


# --------------------------------------------------------------------------
# Real datasets


def test_mnist_train_and_test_splits(datasets_dir, mnist_test):
    train_images, train_labels = load_arrays("mnist", "train", data_dir=datasets_dir)
    test_images, test_labels = mnist_test

    assert train_images.shape == (60000, 28, 28, 1) and train_images.dtype == np.uint8
    assert test_images.shape == (10000, 28, 28, 1) and test_images.dtype == np.uint8
    assert train_labels.shape == (60000,) and train_labels.dtype == np.int64
    assert test_labels.shape == (10000,) and test_labels.dtype == np.int64
    # Well-known first labels of MNIST's train and test files.
    assert train_labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert test_labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert train_labels.min() == 0 and train_labels.max() == 9
    assert np.bincount(train_labels).tolist()[:2] == [5923, 6742]
    assert train_images.min() == 0 and train_images.max() == 255
    assert 33 < train_images.mean() < 34  # MNIST's mean pixel is 33.3


def test_fashion_mnist_loads(datasets_dir):
    images, labels = load_arrays("fashion_mnist", "train", data_dir=datasets_dir)
    assert images.shape == (60000, 28, 28, 1) and images.dtype == np.uint8
    assert labels[:5].tolist() == [9, 0, 0, 3, 0]  # ankle boot, t-shirt, t-shirt, dress, ...
    assert np.bincount(labels).tolist() == [6000] * 10
    test_images, _ = load_arrays("fashion_mnist", "test", data_dir=datasets_dir)
    assert test_images.shape == (10000, 28, 28, 1)


def test_known_name_is_found_in_every_documented_place(datasets_dir, mnist_test, monkeypatch):
    expected_images, expected_labels = mnist_test
    # data_dir as the dataset's own folder, and ZOO_DATA_DIR as its parent.
    images, labels = load_arrays("mnist", "test", data_dir=datasets_dir / "mnist")
    np.testing.assert_array_equal(images, expected_images)
    monkeypatch.setenv("ZOO_DATA_DIR", str(datasets_dir))
    images, labels = load_arrays("mnist", "test")
    np.testing.assert_array_equal(images, expected_images)
    np.testing.assert_array_equal(labels, expected_labels)


def test_idx_folder_path_matches_known_name(datasets_dir, mnist_test):
    images, labels = load_arrays(str(datasets_dir / "mnist"), "test")
    np.testing.assert_array_equal(images, mnist_test[0])
    np.testing.assert_array_equal(labels, mnist_test[1])


def test_cifar10_test_split_from_zip(cifar_test, datasets_dir, cache_dir):
    images, labels = cifar_test
    assert images.shape == (10000, 32, 32, 3) and images.dtype == np.uint8
    assert labels.dtype == np.int64
    assert np.bincount(labels).tolist() == [1000] * 10
    # Sorted class folders: airplane=0, ..., truck=9, as in CIFAR-10.
    assert labels[0] == 0 and labels[-1] == 9
    # CIFAR-10's test-set channel means, shifted a little by the JPEG encoding.
    np.testing.assert_allclose(images.reshape(-1, 3).mean(0), [126.0, 123.7, 114.9], atol=1.5)

    # The second load comes from the .npz cache and is identical.
    assert list((cache_dir / "data").glob("cifar10_jpeg_q75.zip-test-*.npz"))
    again_images, again_labels = load_arrays("cifar10", "test", data_dir=datasets_dir)
    np.testing.assert_array_equal(again_images, images)
    np.testing.assert_array_equal(again_labels, labels)


def test_image_size_resizes_idx_data(datasets_dir):
    images, _ = load_arrays(datasets_dir / "mnist", "test", image_size=32)
    assert images.shape == (10000, 32, 32, 1) and images.dtype == np.uint8
    assert images.max() == 255


# --------------------------------------------------------------------------
# make_dataset: values, shapes, order, resume


def test_batches_are_exact_float_images_in_minus_one_to_one(mnist_test):
    images, labels = mnist_test
    stream = make_dataset(images, labels, 256, shuffle=False, with_labels=True)
    batches = collect(stream, 3)
    for step, (batch, batch_labels) in enumerate(batches):
        assert batch.shape == (256, 28, 28, 1) and batch.dtype == np.float32
        assert batch_labels.shape == (256,) and batch_labels.dtype == np.int64
        assert batch.min() == -1.0 and batch.max() == 1.0
        rows = slice(256 * step, 256 * (step + 1))
        np.testing.assert_array_equal(batch, images[rows].astype(np.float32) / 127.5 - 1.0)
        np.testing.assert_array_equal(batch_labels, labels[rows])
    assert stream.element_spec[0].shape == (256, 28, 28, 1)


def index_stream(images, batch_size, **kwargs):
    """Batches labelled with example indices, so each step's examples can be named."""
    return make_dataset(images, np.arange(len(images)), batch_size, with_labels=True, **kwargs)


def test_resumed_stream_equals_uninterrupted_stream(mnist_test):
    images = mnist_test[0][:100]  # 16 per batch: 6 steps per epoch, 4 examples dropped
    full = collect(index_stream(images, 16, seed=7), 20)
    for start_step in (1, 5, 6, 7, 13):  # inside, at and across epoch boundaries
        resumed = collect(index_stream(images, 16, seed=7, start_step=start_step), 20 - start_step)
        assert len(resumed) == 20 - start_step
        for (batch, indices), (expected_batch, expected_indices) in zip(resumed, full[start_step:]):
            np.testing.assert_array_equal(indices, expected_indices)
            np.testing.assert_array_equal(batch, expected_batch)
    # The images really are the indexed examples.
    batch, indices = full[9]
    np.testing.assert_array_equal(batch, images[indices].astype(np.float32) / 127.5 - 1.0)


def test_epochs_are_distinct_permutations_fixed_by_seed(mnist_test):
    images = mnist_test[0][:100]
    steps = collect(index_stream(images, 16, seed=3), 12)
    indices_per_step = [indices for _, indices in steps]
    epochs = [np.concatenate(indices_per_step[e * 6 : (e + 1) * 6]) for e in (0, 1)]
    for order in epochs:
        assert len(set(order.tolist())) == 96  # no example twice within an epoch
    assert not np.array_equal(epochs[0], epochs[1])
    assert sorted(set(epochs[0])) != list(range(96))  # shuffled, not the first 96

    same_seed = collect(index_stream(images, 16, seed=3), 12)
    other_seed = collect(index_stream(images, 16, seed=4), 6)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(steps, same_seed))
    assert not np.array_equal(np.concatenate([i for _, i in other_seed]), epochs[0])


def test_grouped_stream_gives_distinct_batches_per_step_and_resumes(mnist_test):
    # group=3 (a model with 3 discriminator updates on fresh real batches):
    # 100 images, batch 8 -> 24 per step, 4 steps per epoch, 4 dropped.
    images = mnist_test[0][:100]
    stream = index_stream(images, 8, seed=2, group=3)
    assert stream.element_spec[0].shape == (8, 3, 28, 28, 1)
    assert stream.element_spec[1].shape == (8, 3)
    steps = collect(stream, 8)
    epoch = np.concatenate([indices.reshape(-1) for _, indices in steps[:4]])
    assert len(set(epoch.tolist())) == 96  # every example once per epoch
    for batch, indices in steps:
        np.testing.assert_array_equal(batch, images[indices].astype(np.float32) / 127.5 - 1.0)
    # The same permutation as the ungrouped stream of batch 24, regrouped.
    flat = collect(index_stream(images, 24, seed=2), 4)
    for (_, grouped), (_, plain) in zip(steps, flat):
        np.testing.assert_array_equal(grouped.reshape(-1), plain)
    resumed = collect(index_stream(images, 8, seed=2, group=3, start_step=5), 3)
    for (_, a), (_, b) in zip(resumed, steps[5:]):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(DatasetError, match="group must be an int >= 1, got 0"):
        make_dataset(images, None, 8, group=0)
    with pytest.raises(DatasetError, match="larger than the dataset"):
        make_dataset(images, None, 40, group=3)


def test_without_repeat_the_stream_ends_with_the_current_epoch(mnist_test):
    images = mnist_test[0][:100]
    stream = make_dataset(images, None, 16, repeat=False, start_step=8)
    assert int(stream.cardinality()) == 4
    assert len(collect(stream)) == 4
    assert make_dataset(images, None, 16).cardinality() == tf.data.INFINITE_CARDINALITY


def test_load_dataset_returns_stream_and_info(datasets_dir):
    stream, info = load_dataset("mnist", "test", data_dir=datasets_dir, batch_size=64,
                                image_shape=(28, 28, 1), with_labels=True)
    assert info == DatasetInfo(name="mnist", split="test", num_examples=10000,
                               image_shape=(28, 28, 1), num_classes=10, steps_per_epoch=156)
    images, labels = collect(stream, 1)[0]
    assert images.shape == (64, 28, 28, 1) and labels.shape == (64,)
    assert -1.0 <= images.min() and images.max() <= 1.0

    _, resized_info = load_dataset("mnist", "test", data_dir=datasets_dir, batch_size=64,
                                   image_size=32, image_shape=(32, 32, 1))
    assert resized_info.image_shape == (32, 32, 1)


# --------------------------------------------------------------------------
# Image folders and zips


def write_class_folders(root: Path, images, labels, names=("zero", "one", "two")):
    """Real digits as PNGs in root/<class name>/<n>.png; returns the expected
    images and labels in load order."""
    chosen = [i for i in range(len(labels)) if labels[i] < len(names)][:12]
    for i in chosen:
        save_png(root / names[labels[i]] / f"{i:05d}.png", images[i])
    # Load order is sorted path order: class folders alphabetically, then file names.
    order = sorted(chosen, key=lambda i: (names[labels[i]], i))
    class_of_name = {name: rank for rank, name in enumerate(sorted(names))}
    expected_labels = np.array([class_of_name[names[labels[i]]] for i in order])
    return images[order], expected_labels


def test_folder_of_pngs_in_class_subfolders_gives_labels(tmp_path, mnist_test):
    expected_images, expected_labels = write_class_folders(tmp_path / "digits", *mnist_test)
    images, labels = load_arrays(tmp_path / "digits")
    assert images.shape == (12, 28, 28, 1)  # grayscale stays one channel
    np.testing.assert_array_equal(images, expected_images)
    np.testing.assert_array_equal(labels, expected_labels)  # one=0, two=1, zero=2


def test_flat_folder_has_no_labels_and_no_test_split(tmp_path, mnist_test):
    for i in range(5):
        save_png(tmp_path / "flat" / f"{i}.png", mnist_test[0][i])
    images, labels = load_arrays(tmp_path / "flat")
    assert images.shape == (5, 28, 28, 1) and labels is None
    with pytest.raises(DatasetError, match="no 'test' split in .*flat"):
        load_arrays(tmp_path / "flat", "test")
    with pytest.raises(DatasetError, match="with_labels=True but this dataset has no labels"):
        make_dataset(images, labels, 2, with_labels=True)


def test_zip_with_split_and_class_folders(tmp_path, cifar_test):
    images, labels = cifar_test
    archive = tmp_path / "small.zip"
    # train: airplane, automobile x2; test: bird, truck.
    picks = {"train": [0, 1000, 1001], "test": [2000, 9999]}
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("small/README.md", "not an image")
        for split, indices in picks.items():
            for i in indices:
                buffer = io.BytesIO()
                Image.fromarray(images[i]).save(buffer, format="PNG")
                zf.writestr(f"small/{split}/class{labels[i]}/{i:05d}.png", buffer.getvalue())
    train_images, train_labels = load_arrays(archive, "train")
    test_images, test_labels = load_arrays(archive, "test")
    np.testing.assert_array_equal(train_images, images[picks["train"]])
    assert train_labels.tolist() == [0, 1, 1]
    np.testing.assert_array_equal(test_images, images[picks["test"]])
    assert test_labels.tolist() == [0, 1]  # classes are per split folder: class2, class9


def test_rgba_and_palette_become_rgb_and_mixed_sets_become_rgb(tmp_path, cifar_test, mnist_test):
    rgb = cifar_test[0][0]
    Image.fromarray(rgb).convert("RGBA").save(tmp_path / "a_rgba.png")  # fully opaque
    Image.fromarray(rgb).convert("P").save(tmp_path / "b_palette.png")
    images, _ = load_arrays(tmp_path)
    assert images.shape == (2, 32, 32, 3)
    np.testing.assert_array_equal(images[0], rgb)

    digit = mnist_test[0][0]
    save_png(tmp_path / "c_gray.png", np.pad(digit, ((2, 2), (2, 2), (0, 0))))  # 32x32
    images, _ = load_arrays(tmp_path)
    assert images.shape == (3, 32, 32, 3)
    np.testing.assert_array_equal(images[2], np.repeat(images[2][..., :1], 3, axis=-1))


# --------------------------------------------------------------------------
# Bad input


def test_unknown_name_fails_clearly_without_tfds_download(no_tfds_download):
    expected = r"unknown dataset 'no_such_dataset_xyz'.*mnist, fashion_mnist, cifar10.*TFDS"
    with pytest.raises(DatasetError, match=expected):
        load_arrays("no_such_dataset_xyz")


def test_known_name_missing_locally_names_the_places_looked(tmp_path, monkeypatch):
    # Stands in for TFDS with no network: the only way to see this message
    # without a download attempt.
    import tensorflow_datasets as tfds

    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(tfds, "load", offline)
    expected = r"not found locally \(looked in: .*empty.*\) nor via TFDS: ConnectionError"
    with pytest.raises(DatasetError, match=expected):
        load_arrays("mnist", data_dir=tmp_path / "empty")


def test_missing_path(tmp_path, no_tfds_download):
    with pytest.raises(DatasetError, match=r"not found: .*missing_folder"):
        load_arrays(tmp_path / "missing_folder")
    with pytest.raises(DatasetError, match=r"not found: .*images\.zip"):
        load_arrays("some/relative/images.zip")


def test_empty_folder(tmp_path):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "notes.txt").write_text("no images here")
    with pytest.raises(DatasetError, match=r"no images found in .*empty"):
        load_arrays(tmp_path / "empty")
    with zipfile.ZipFile(tmp_path / "no_images.zip", "w") as zf:
        zf.writestr("notes.txt", "no images here")
    with pytest.raises(DatasetError, match=r"no images found in .*no_images\.zip"):
        load_arrays(tmp_path / "no_images.zip")
    (tmp_path / "not_a.zip").write_bytes(b"plain bytes")
    with pytest.raises(DatasetError, match=r"cannot read zip file .*not_a\.zip"):
        load_arrays(tmp_path / "not_a.zip")


def test_corrupt_and_truncated_images_are_named(tmp_path, mnist_test):
    save_png(tmp_path / "garbage" / "good.png", mnist_test[0][0])
    (tmp_path / "garbage" / "bad.jpg").write_bytes(b"this is not a jpeg")
    with pytest.raises(DatasetError, match=r"corrupt or unreadable image .*bad\.jpg"):
        load_arrays(tmp_path / "garbage")

    if not CIFAR_ZIP.is_file():
        pytest.skip(f"real data not available: {CIFAR_ZIP} is missing")
    with zipfile.ZipFile(CIFAR_ZIP) as zf:
        jpeg = zf.read("cifar10/test/airplane/0000.jpg")
    (tmp_path / "truncated").mkdir()
    (tmp_path / "truncated" / "cut.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    with pytest.raises(DatasetError, match=r"corrupt or unreadable image .*cut\.jpg"):
        load_arrays(tmp_path / "truncated")


def test_mixed_sizes_are_named_unless_image_size_is_given(tmp_path, mnist_test, cifar_test):
    save_png(tmp_path / "mixed" / "a_digit.png", mnist_test[0][0])
    save_png(tmp_path / "mixed" / "b_photo.png", cifar_test[0][0])
    expected = r"different sizes.*a_digit\.png is 28x28.*b_photo\.png is 32x32"
    with pytest.raises(DatasetError, match=expected):
        load_arrays(tmp_path / "mixed")
    images, labels = load_arrays(tmp_path / "mixed", image_size=16)
    assert images.shape == (2, 16, 16, 3) and labels is None


def write_idx(path: Path, payload: bytes) -> Path:
    with gzip.open(path, "wb") as stream:
        stream.write(payload)
    return path


def test_corrupt_and_truncated_idx_files(tmp_path, datasets_dir):
    with gzip.open(datasets_dir / "mnist" / "t10k-labels-idx1-ubyte.gz", "rb") as stream:
        real_labels = stream.read()
    real_images = datasets_dir / "mnist" / "t10k-images-idx3-ubyte.gz"

    bad_magic = tmp_path / "bad_magic"
    bad_magic.mkdir()
    (bad_magic / "t10k-images-idx3-ubyte.gz").write_bytes(real_images.read_bytes())
    write_idx(bad_magic / "t10k-labels-idx1-ubyte.gz", b"\x00\x00\x08\x03" + real_labels[4:])
    expected = r"t10k-labels-idx1-ubyte\.gz: bad magic number 0x00000803"
    with pytest.raises(DatasetError, match=expected):
        load_arrays(bad_magic, "test")

    short = tmp_path / "short"
    short.mkdir()
    (short / "t10k-images-idx3-ubyte.gz").write_bytes(real_images.read_bytes())
    write_idx(short / "t10k-labels-idx1-ubyte.gz", real_labels[:-10])
    with pytest.raises(DatasetError, match=r"t10k-labels-idx1-ubyte\.gz: wrong length.*9990"):
        load_arrays(short, "test")

    cut_gzip = tmp_path / "cut_gzip"
    cut_gzip.mkdir()
    compressed = (datasets_dir / "mnist" / "t10k-labels-idx1-ubyte.gz").read_bytes()
    (cut_gzip / "t10k-labels-idx1-ubyte.gz").write_bytes(compressed[: len(compressed) // 2])
    (cut_gzip / "t10k-images-idx3-ubyte.gz").write_bytes(real_images.read_bytes())
    with pytest.raises(DatasetError, match=r"corrupt IDX file .*t10k-labels-idx1-ubyte\.gz"):
        load_arrays(cut_gzip, "test")


def test_image_shape_mismatch_names_both_shapes(datasets_dir):
    expected = r"\(28, 28, 1\) but image_shape \(28, 28, 3\).*grayscale vs RGB"
    with pytest.raises(DatasetError, match=expected):
        load_dataset("mnist", "test", data_dir=datasets_dir, image_shape=(28, 28, 3))
    with pytest.raises(DatasetError, match=r"\(28, 28, 1\) but image_shape \(32, 32, 1\)"):
        load_dataset("mnist", "test", data_dir=datasets_dir, image_shape=(32, 32, 1))


def test_bad_batch_sizes(mnist_test, datasets_dir):
    images = mnist_test[0][:10]
    expected = r"batch_size 11 is larger than the dataset \(10 examples\)"
    with pytest.raises(DatasetError, match=expected):
        make_dataset(images, None, 11)
    with pytest.raises(DatasetError, match=expected):
        steps_per_epoch(10, 11)
    assert steps_per_epoch(10, 10) == 1 and steps_per_epoch(100, 16) == 6
    for bad in (0, -3):
        with pytest.raises(DatasetError, match=rf"batch_size must be an int >= 1, got {bad}"):
            load_dataset("mnist", "test", data_dir=datasets_dir, batch_size=bad)


def test_unknown_split(datasets_dir, tmp_path, mnist_test):
    with pytest.raises(DatasetError, match=r"unknown split 'validation' for mnist"):
        load_arrays("mnist", "validation", data_dir=datasets_dir)
    with pytest.raises(DatasetError, match=r"unknown split 'valid' for IDX folder"):
        load_arrays(datasets_dir / "mnist", "valid")
    save_png(tmp_path / "pngs" / "0.png", mnist_test[0][0])
    with pytest.raises(DatasetError, match=r"unknown split 'dev' for .*pngs"):
        load_arrays(tmp_path / "pngs", "dev")


def test_known_datasets_cover_the_shared_files(datasets_dir):
    assert set(KNOWN_DATASETS) == {"mnist", "fashion_mnist", "cifar10"}
    for name, layout in KNOWN_DATASETS.items():
        for split, files in layout["splits"].items():
            folder = datasets_dir / name
            present = [(folder / f).exists() or (folder / (f + ".gz")).exists() for f in files]
            assert all(present), (name, split, files)


# --------------------------------------------------------------------------
# Cache keys: what the files hold, not where they are or when they were written


def copy_without_times(source: Path, destination: Path):
    """Copy a file as ``cp`` without ``-p`` does: same bytes, a new modification time."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(source.read_bytes())


def test_content_fingerprint_ignores_place_and_time_but_not_bytes_or_names(tmp_path):
    from zoo.data.fingerprints import content_fingerprint

    original = tmp_path / "a" / "data.bin"
    original.parent.mkdir()
    original.write_bytes(bytes(range(256)) * 10)
    copy = tmp_path / "b" / "data.bin"
    copy_without_times(original, copy)
    os.utime(copy, ns=(1, 1))
    assert content_fingerprint([copy]) == content_fingerprint([original])
    assert content_fingerprint([original]) == hashlib.sha256(b"data.bin\x002560\x00" + original.read_bytes()).hexdigest()
    assert content_fingerprint([copy], ["other.bin"]) != content_fingerprint([original])
    changed = bytearray(original.read_bytes())
    changed[100] ^= 1
    copy.write_bytes(bytes(changed))  # the same size, one bit differs
    assert content_fingerprint([copy]) != content_fingerprint([original])
    with pytest.raises(ValueError, match="1 files but 2 names"):
        content_fingerprint([original], ["a", "b"])
    with pytest.raises(DatasetError, match=r"cannot read .*missing\.bin: No such file"):
        content_fingerprint([original, tmp_path / "missing.bin"])
    (tmp_path / "folder.bin").mkdir()  # listed as a file, but cannot be read as one
    with pytest.raises(DatasetError, match=r"cannot read .*folder\.bin"):
        content_fingerprint([tmp_path / "folder.bin"])


def test_content_fingerprint_reads_unchanged_files_once(tmp_path, monkeypatch):
    from zoo.data import fingerprints

    file = tmp_path / "data.bin"
    file.write_bytes(b"digits" * 1000)
    first = fingerprints.content_fingerprint([file])

    def no_reading(*args, **kwargs):
        raise AssertionError("an unchanged file was read again")

    monkeypatch.setattr(fingerprints, "open", no_reading, raising=False)
    assert fingerprints.content_fingerprint([file]) == first
    os.utime(file, ns=(10**18, 10**18))  # a new stat: the bytes are read (and found unchanged)
    with pytest.raises(AssertionError, match="read again"):
        fingerprints.content_fingerprint([file])
    monkeypatch.undo()
    assert fingerprints.content_fingerprint([file]) == first


def test_a_fresh_copy_of_mnist_keeps_its_cache_identity(tmp_path, datasets_dir):
    """The Inception features of the real images are cached under this
    identity: a re-synced copy of the same files must find them."""
    from zoo.data import source_identity

    for source in (datasets_dir / "mnist").iterdir():
        copy_without_times(source, tmp_path / "mnist" / source.name)
    assert source_identity("mnist", "test", tmp_path) == source_identity("mnist", "test", datasets_dir)
    assert source_identity("mnist", "train", tmp_path) != source_identity("mnist", "test", tmp_path)


def test_scores_against_the_jpeg_cifar10_copy_are_noted_and_the_originals_are_not(datasets_dir, tmp_path,
                                                                                   monkeypatch):
    """zoo.evaluate records this note, and cards print it beside the scores."""
    from zoo.data import source_note

    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    assert source_note("cifar10", "test", datasets_dir) == "JPEG q75 copy"
    assert source_note("cifar10", "train", datasets_dir / "cifar10") == "JPEG q75 copy"
    # No local copy there: load_arrays would read TFDS's lossless originals.
    assert source_note("cifar10", "test", tmp_path) is None
    assert source_note("mnist", "test", datasets_dir) is None


def test_a_moved_folder_finds_its_decoded_cache_unless_its_labels_change(tmp_path, mnist_test, cache_dir):
    from zoo.data import source_identity

    write_class_folders(tmp_path / "digits", *mnist_test, names=("a", "b", "c"))
    images_before, labels_before = load_arrays(tmp_path / "digits")
    cached = set((cache_dir / "data").glob("digits-*.npz"))
    moved = tmp_path / "elsewhere" / "digits"
    for file in sorted((tmp_path / "digits").rglob("*.png")):
        copy_without_times(file, moved / file.relative_to(tmp_path / "digits"))
    assert source_identity(moved) == source_identity(tmp_path / "digits")
    _, labels_moved = load_arrays(moved)
    np.testing.assert_array_equal(labels_moved, labels_before)
    assert set((cache_dir / "data").glob("digits-*.npz")) == cached  # read from the cache
    (moved / "a").rename(moved / "z")  # class "a" now sorts last: every label changes
    assert source_identity(moved) != source_identity(tmp_path / "digits")
    images_renamed, labels_renamed = load_arrays(moved)
    np.testing.assert_array_equal(images_renamed[labels_renamed == 2], images_before[labels_before == 0])
    np.testing.assert_array_equal(images_renamed[labels_renamed == 0], images_before[labels_before == 1])
    assert len(set((cache_dir / "data").glob("digits-*.npz")) - cached) == 1
