"""Image-to-image data on the real emoji of ../shared: the split, the pairs,
the standard folder layouts users bring, the streams, and clear errors."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from conftest import shared_path
from zoo.core.errors import DatasetError
from zoo.data import translation


@pytest.fixture(scope="module")
def datasets_dir():
    return shared_path("datasets", "emoji").parent


def test_the_split_is_by_emoji_whatever_its_skin_tone_or_vendor():
    assert translation.emoji_key("1F44D-1F3FD.png") == "1f44d"
    assert translation.emoji_key("openmoji/2764-FE0F.png") == "2764"
    variants = ["1f44d.png", "1f44d-1f3fb.png", "1f44d-1f3ff.png"]
    assert len({translation.emoji_split(v) for v in variants}) == 1
    names = [f"{code:x}.png" for code in range(0x1F300, 0x1F600)]
    share = np.mean([translation.emoji_split(n) == "test" for n in names])
    assert 0.06 < share < 0.14


def test_sketch_to_colour_pairs_line_up_and_sit_on_white(datasets_dir):
    test = translation.load_translation("emoji:openmoji_black,openmoji_color", "test", datasets_dir)
    train = translation.load_translation("emoji:openmoji_black,openmoji_color", "train", datasets_dir)
    assert test.paired and test.a.names == test.b.names
    assert test.a.images.shape[1:] == (64, 64, 3) and test.a.images.dtype == np.uint8
    assert 300 < len(test.a) < 600 and len(train.a) + len(test.a) > 4400
    keys = lambda data: {translation.emoji_key(n) for n in data.a.names}  # noqa: E731
    assert not keys(train) & keys(test)
    # Transparent corners composited onto white; line art is black on white.
    assert (test.a.images[:, 0, 0] == 255).all() and (test.b.images[:, 0, 0] == 255).all()
    assert test.a.images.mean() > test.b.images.mean() - 40  # mostly white


def test_the_two_vendors_share_names_and_the_split(datasets_dir):
    data = translation.load_translation("emoji:google,twitter", "test", datasets_dir)
    assert data.paired and data.a.names == data.b.names
    assert not np.array_equal(data.a.images, data.b.images)  # two drawings of each emoji


def _save(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


@pytest.fixture(scope="module")
def emoji_pairs(datasets_dir):
    return translation.load_translation("emoji:google,twitter", "test", datasets_dir)


def test_pix2pix_layout_of_side_by_side_pairs(tmp_path, emoji_pairs):
    for i in range(6):
        _save(tmp_path / "train" / f"{i}.png", np.concatenate([emoji_pairs.a.images[i], emoji_pairs.b.images[i]], 1))
    data = translation.load_translation(tmp_path, "train")
    assert data.paired and len(data.a) == 6
    np.testing.assert_array_equal(data.a.images, emoji_pairs.a.images[:6])
    np.testing.assert_array_equal(data.b.images, emoji_pairs.b.images[:6])
    with pytest.raises(DatasetError, match="no test/ folder .* it has train/"):
        translation.load_translation(tmp_path, "test")
    _save(tmp_path / "narrow" / "train" / "0.png", emoji_pairs.a.images[0])
    with pytest.raises(DatasetError, match="twice as wide as high"):
        translation.load_translation(tmp_path / "narrow", "train")


def test_cyclegan_layout_and_its_errors(tmp_path, emoji_pairs):
    for side, images in (("A", emoji_pairs.a.images), ("B", emoji_pairs.b.images)):
        for i in range(5 if side == "A" else 7):
            _save(tmp_path / f"train{side}" / f"{i}.png", images[i])
    data = translation.load_translation(tmp_path, "train")
    assert (len(data.a), len(data.b)) == (5, 7) and not data.paired
    with pytest.raises(DatasetError, match="testA.* is missing"):
        translation.load_translation(tmp_path, "test")
    # A grayscale image in an RGB domain is named.
    _save(tmp_path / "trainB" / "gray.png", emoji_pairs.b.images[0][..., 0])
    with pytest.raises(DatasetError, match="gray.png is grayscale, but this domain is RGB"):
        translation.load_translation(tmp_path, "train")
    (tmp_path / "trainB" / "gray.png").unlink()
    # Images of another size in one domain.
    _save(tmp_path / "trainB" / "big.png", np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(DatasetError, match="different sizes"):
        translation.load_translation(tmp_path, "train")


def test_unknown_specs_are_named(datasets_dir, tmp_path):
    with pytest.raises(DatasetError, match="two styles of google"):
        translation.load_translation("emoji:google", "train", datasets_dir)
    with pytest.raises(DatasetError, match="unknown emoji style 'apple'"):
        translation.load_translation("emoji:apple,google", "train", datasets_dir)
    with pytest.raises(DatasetError, match="not in .*--data_dir"):
        translation.load_translation("emoji:google,twitter", "train", tmp_path)
    with pytest.raises(DatasetError, match="unknown image-to-image dataset"):
        translation.load_translation("horses", "train")


def test_paired_stream_follows_the_step_and_keeps_pairs(emoji_pairs):
    stream = translation.make_paired_stream(emoji_pairs, 4, seed=3)
    elements = [tuple(t.numpy() for t in element) for element in stream.take(5)]
    resumed = next(iter(translation.make_paired_stream(emoji_pairs, 4, seed=3, start_step=3)))
    np.testing.assert_array_equal(resumed[0].numpy(), elements[3][0])
    target, source = elements[0]
    assert target.shape == source.shape == (4, 64, 64, 3)
    assert target.min() >= -1 and target.max() <= 1
    # Each target's source is its own counterpart.
    a = emoji_pairs.a.images.astype(np.float32) / 127.5 - 1
    b = emoji_pairs.b.images.astype(np.float32) / 127.5 - 1
    for t, s in zip(target, source):
        index = int(np.argmin(np.abs(b - t).reshape(len(b), -1).sum(1)))
        np.testing.assert_allclose(a[index], s)


def test_unpaired_stream_shuffles_each_domain_on_its_own(emoji_pairs):
    b, a = next(iter(translation.make_unpaired_stream(emoji_pairs, 8, seed=0)))
    pairs_a = emoji_pairs.a.images.astype(np.float32) / 127.5 - 1
    pairs_b = emoji_pairs.b.images.astype(np.float32) / 127.5 - 1
    index = lambda images, x: int(np.argmin(np.abs(images - x).reshape(len(images), -1).sum(1)))  # noqa: E731
    assert [index(pairs_a, x) for x in a.numpy()] != [index(pairs_b, x) for x in b.numpy()]
    grouped_b, grouped_a = next(iter(translation.make_unpaired_stream(emoji_pairs, 4, group=3)))
    assert grouped_b.shape == grouped_a.shape == (4, 3, 64, 64, 3)


def test_degradations_are_reproducible_masks_and_gray_copies(emoji_pairs):
    images = tf.constant(emoji_pairs.b.images[:4].astype(np.float32) / 127.5 - 1)
    gray = translation.degrade(images, "grayscale", tf.constant([0, 0], tf.int64)).numpy()
    np.testing.assert_allclose(gray[..., 0], gray[..., 2])
    np.testing.assert_allclose(
        gray[..., 0], (images.numpy() * [0.299, 0.587, 0.114]).sum(-1), rtol=1e-5, atol=1e-6
    )
    seed = tf.constant([5, 9], tf.int64)
    masked = translation.degrade(images, "mask", seed).numpy()
    np.testing.assert_array_equal(masked, translation.degrade(images, "mask", seed).numpy())
    changed = (masked != images.numpy()).any(-1)
    for example in range(4):
        rows, cols = np.nonzero((masked[example] == 0).all(-1))
        # A rectangle of a quarter to a half of each side.
        assert 16 <= rows.max() - rows.min() + 1 <= 32 and 16 <= cols.max() - cols.min() + 1 <= 32
        assert changed[example].any()
    assert not np.array_equal(masked, translation.degrade(images, "mask", tf.constant([5, 10], tf.int64)).numpy())
    with pytest.raises(DatasetError, match="unknown degradation 'blur'"):
        translation.degrade(images, "blur", seed)
