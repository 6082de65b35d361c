"""Captioned images for text-to-image GANs: the emoji's captions built from
../shared's indexes, their split, user CSVs, clear errors, and the resumable
stream of (images, caption tokens, identity)."""

import numpy as np
import pytest
from PIL import Image

from conftest import shared_path
from zoo.core.errors import DatasetError
from zoo.core.text import tokenize
from zoo.data import captions as cap
from zoo.data.translation import emoji_key


@pytest.fixture(scope="module")
def datasets_dir():
    return shared_path("datasets", "emoji").parent


@pytest.fixture(scope="module")
def table(datasets_dir):
    return cap.emoji_captions(datasets_dir)


@pytest.fixture(scope="module")
def emoji_test(datasets_dir):
    return cap.load_captioned("emoji", "test", datasets_dir)


@pytest.fixture(scope="module")
def emoji_train(datasets_dir):
    return cap.load_captioned("emoji", "train", datasets_dir)


# --- Emoji captions ------------------------------------------------------------


def test_known_emoji_have_several_lower_case_captions(table, datasets_dir):
    assert "red apple" in table["1f34e"]
    assert any("fruit" in c for c in table["1f34e"])
    assert "grinning face" in table["1f600"]
    assert "grinning face with smiling eyes" in table["1f604"]
    assert any("laugh" in c for c in table["1f602"])  # a tag, beside the name
    assert "flag of vatican city" in table["1f1fb-1f1e6"]
    assert "e041" in table  # OpenMoji's own extras (pinterest) are described too
    assert len(table) > 2400
    for key, captions in table.items():
        assert 1 <= len(captions) <= 8 and len(set(captions)) == len(captions), key
        assert all(c == c.lower() and c.strip() == c and 0 < len(c) <= 128 for c in captions), key
    assert np.mean([len(c) >= 2 for c in table.values()]) > 0.99
    assert cap.emoji_captions(datasets_dir) == table  # deterministic


def test_a_short_max_length_drops_long_captions_but_keeps_every_emoji(table, datasets_dir):
    short = cap.emoji_captions(datasets_dir, max_length=16)
    assert short.keys() == table.keys()
    for key, captions in short.items():
        assert captions and all(0 < len(c) <= 16 for c in captions), key
    # every caption of 1f604 is longer: its name, cut at a word boundary
    assert short["1f604"] == ["grinning face"]
    assert short["1f34e"] == ["red apple"]


# --- The emoji split -------------------------------------------------------------


def test_emoji_split_holds_out_whole_emoji_in_every_style(emoji_train, emoji_test):
    for data in (emoji_train, emoji_test):
        assert data.images.dtype == np.uint8 and data.images.shape[1:] == (64, 64, 3)
        assert len(data.captions) == len(data.names) == len(data.identity) == len(data)
        assert data.identity.dtype == np.int32
        assert all(1 <= len(c) <= 8 and all(len(x) <= 128 for x in c) for c in data.captions)
    assert 900 < len(emoji_test) < 1400 and len(emoji_train) + len(emoji_test) > 11500
    assert not set(emoji_train.identity) & set(emoji_test.identity)
    keys = lambda data: {emoji_key(n) for n in data.names}  # noqa: E731
    assert not keys(emoji_train) & keys(emoji_test)
    styles = {}
    for name, identity in zip(emoji_test.names, emoji_test.identity):
        styles.setdefault(int(identity), set()).add(name.split("/")[0])
    assert sum(s == set(cap.EMOJI_CAPTION_STYLES) for s in styles.values()) > 100
    assert "emoji google,twitter,openmoji_color test" in emoji_test.description


def test_identity_is_the_emoji_across_vendors_and_skin_tones(emoji_train):
    by_name = dict(zip(emoji_train.names, emoji_train.identity))
    assert by_name["google/1f44d.png"] == by_name["twitter/1f44d.png"] == by_name["openmoji_color/1f44d.png"]
    assert by_name["google/1f44d-1f3fd.png"] == by_name["google/1f44d.png"]
    other = next(n for n in emoji_train.names if n.startswith("google/") and emoji_key(n) != "1f44d")
    assert by_name["google/1f44d.png"] != by_name[other]
    index = emoji_train.names.index("twitter/1f44d-1f3fd.png")
    assert all(c.endswith("medium skin tone") for c in emoji_train.captions[index])
    assert "thumbs up" in emoji_train.captions[emoji_train.names.index("twitter/1f44d.png")]
    # the same key, the same identity, whichever vendor drew it
    for identity in np.unique(emoji_train.identity)[:300]:
        names = [n for n, i in zip(emoji_train.names, emoji_train.identity) if i == identity]
        assert len({emoji_key(n.split("/")[1]) for n in names}) == 1


def test_emoji_styles_can_be_chosen(datasets_dir, emoji_test):
    two = cap.load_captioned("emoji:google,twitter", "test", datasets_dir)
    assert {n.split("/")[0] for n in two.names} == {"google", "twitter"}
    assert len(two) < len(emoji_test)
    with pytest.raises(DatasetError, match="unknown emoji style 'sepia'.*known: google, twitter"):
        cap.load_captioned("emoji:google,sepia", "test", datasets_dir)


def test_a_stream_of_emoji(emoji_test):
    images, labels = next(iter(cap.make_caption_stream(emoji_test, 8, 128, seed=1)))
    assert images.shape == (8, 64, 64, 3) and labels["tokens"].shape == (8, 128)
    assert (labels["tokens"].numpy()[:, 0] > 1).all()


# --- A user's CSV --------------------------------------------------------------------


def _png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def user_folder(tmp_path):
    _png(tmp_path / "img" / "red.png", np.full((8, 8, 3), (200, 0, 0), np.uint8))
    _png(tmp_path / "img" / "green.png", np.full((8, 8, 3), (0, 200, 0), np.uint8))
    _png(tmp_path / "gray.png", np.full((8, 8), 90, np.uint8))
    clear = np.zeros((8, 8, 4), np.uint8)
    clear[:4, :, :] = (0, 0, 255, 255)  # top half blue, bottom half transparent
    _png(tmp_path / "img" / "half.png", clear)
    _write(tmp_path / "captions.csv", (
        "image,caption,split\n"
        "img/red.png,a red square,train\n"
        "img/green.png,a green square,train\n"
        'img/red.png,"a square, all red",train\n'
        "gray.png,a gray square,test\n"
        "img/half.png,blue on top,train\n"
        "img/half.png,  white below  ,train\n"
        "gray.png,a dull square,test\n"
    ))
    return tmp_path


def test_csv_round_trip(user_folder):
    train = cap.load_captioned(user_folder / "captions.csv", "train")
    test = cap.load_captioned(user_folder, "test")  # the folder finds captions.csv
    assert sorted(train.names) == ["img/green.png", "img/half.png", "img/red.png"]
    assert test.names == ["gray.png"] and test.captions == [["a gray square", "a dull square"]]
    by_name = {n: (c, img, i) for n, c, img, i in zip(train.names, train.captions, train.images, train.identity)}
    assert by_name["img/red.png"][0] == ["a red square", "a square, all red"]
    assert by_name["img/half.png"][0] == ["blue on top", "white below"]
    assert train.images.shape == (3, 8, 8, 3) and test.images.shape == (1, 8, 8, 3)
    assert (by_name["img/red.png"][1] == (200, 0, 0)).all()
    half = by_name["img/half.png"][1]
    assert (half[0] == (0, 0, 255)).all() and (half[-1] == 255).all()  # transparency on white
    assert (test.images == 90).all()  # grayscale becomes RGB
    identities = set(train.identity) | set(test.identity)
    assert len(identities) == 4  # one per image file, distinct across splits
    small = cap.load_captioned(user_folder, "train", image_size=4)
    assert small.images.shape == (3, 4, 4, 3)
    assert "train: 3 images" in train.description


def test_csv_without_split_holds_out_a_fixed_tenth(tmp_path):
    rows = ["image,caption"]
    for i in range(60):
        _png(tmp_path / f"{i}.png", np.full((4, 4, 3), i, np.uint8))
        rows += [f"{i}.png,square number {i}", f"{i}.png,a square of gray {i}"]
    _write(tmp_path / "captions.csv", "\n".join(rows) + "\n")
    train, test = (cap.load_captioned(tmp_path, split) for split in ("train", "test"))
    assert 1 <= len(test) <= 15 and len(train) + len(test) == 60
    assert not set(train.names) & set(test.names)
    assert cap.load_captioned(tmp_path, "test").names == test.names
    assert all(len(c) == 2 for c in train.captions)


def test_csv_images_of_different_sizes_need_an_image_size(tmp_path):
    _png(tmp_path / "a.png", np.zeros((8, 8, 3), np.uint8))
    _png(tmp_path / "b.png", np.zeros((6, 10, 3), np.uint8))
    csv = _write(tmp_path / "c.csv", "image,caption,split\na.png,one,train\nb.png,two,train\n")
    with pytest.raises(DatasetError, match=r"c\.csv: images have different sizes.*image_size=.*--resize"):
        cap.load_captioned(csv, "train")
    assert cap.load_captioned(csv, "train", image_size=5).images.shape == (2, 5, 5, 3)


@pytest.mark.parametrize(
    "text, pattern",
    [
        ("picture,caption\na.png,hello\n", r"c\.csv has no image column"),
        ("image,text\na.png,hello\n", "has no caption column"),
        ("image,caption\na.png,hello\nmissing.png,hi\n", r"row 3: image 'missing.png' not found"),
        ("image,caption\na.png,   \n", "row 2: the caption of a.png is empty"),
        ("image,caption\na.png,hello\na.png," + "x" * 40 + "\n", "row 3: the caption has 40 characters.*limit of 32"),
        ("image,caption,split\na.png,hello,valid\n", "row 2: split 'valid' is not train or test"),
        ("image,caption,split\na.png,hello,train\na.png,hi,test\n", "row 3 puts a.png in test but row 2"),
        ("image,caption\n,hello\n", "row 2 has no image path"),
        ("", "is empty"),
    ],
)
def test_csv_errors_name_the_row_and_the_fix(tmp_path, text, pattern):
    _png(tmp_path / "a.png", np.zeros((4, 4, 3), np.uint8))
    csv = _write(tmp_path / "c.csv", text)
    with pytest.raises(DatasetError, match=pattern):
        cap.load_captioned(csv, "train", max_length=32)


def test_other_bad_specs(tmp_path):
    _png(tmp_path / "a.png", np.zeros((4, 4, 3), np.uint8))
    latin = _write(tmp_path / "latin.csv", "image,caption\na.png,pi\u00f1ata\n", encoding="latin-1")
    with pytest.raises(DatasetError, match=r"latin\.csv is not UTF-8 \(byte \d+, line 2\)"):
        cap.load_captioned(latin)
    with pytest.raises(DatasetError, match="unknown captioned dataset 'no/such/thing'"):
        cap.load_captioned("no/such/thing")
    with pytest.raises(DatasetError, match="has no captions.csv"):
        cap.load_captioned(tmp_path)
    with pytest.raises(DatasetError, match="unknown split 'val'"):
        cap.load_captioned(tmp_path, "val")
    only_train = _write(tmp_path / "t.csv", "image,caption,split\na.png,hello,train\n")
    with pytest.raises(DatasetError, match="no test images"):
        cap.load_captioned(only_train, "test")


# --- The stream ---------------------------------------------------------------------


@pytest.fixture
def small():
    count = 10
    images = np.stack([np.full((4, 4, 3), 20 * i, np.uint8) for i in range(count)])
    captions = [[f"image {i} caption {c}" for c in "abcd"[: 1 + i % 4]] for i in range(count)]
    return cap.CaptionedImages(
        images, captions, np.arange(count, dtype=np.int32), [str(i) for i in range(count)], "small"
    )


def _take(stream, count):
    return [(images.numpy(), labels["tokens"].numpy(), labels["identity"].numpy())
            for images, labels in stream.take(count)]


def test_stream_shapes_types_and_captions_of_their_own_image(small):
    assert cap.caption_steps_per_epoch(small, 4) == 2  # the remainder is dropped
    stream = cap.make_caption_stream(small, 4, 24, seed=3)
    own = {i: tokenize(c, 24).numpy() for i, c in enumerate(small.captions)}
    for images, tokens, identity in _take(stream, 6):
        assert images.dtype == np.float32 and images.shape == (4, 4, 4, 3)
        assert tokens.dtype == np.int32 and tokens.shape == (4, 24)
        assert identity.dtype == np.int32 and identity.shape == (4,)
        assert images.min() >= -1 and images.max() <= 1
        for image, row, i in zip(images, tokens, identity):
            assert np.allclose(image, 20 * i / 127.5 - 1)  # the image of this identity
            assert any((row == candidate).all() for candidate in own[i])  # one of its captions


def test_stream_resumes_exactly_and_varies_captions_across_epochs(small):
    whole = _take(cap.make_caption_stream(small, 4, 24, seed=7), 40)
    resumed = _take(cap.make_caption_stream(small, 4, 24, seed=7, start_step=5), 35)
    for a, b in zip(whole[5:], resumed):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    seen = {}  # identity -> distinct caption token rows seen over 20 epochs
    for _, tokens, identity in whole:
        for row, i in zip(tokens, identity):
            seen.setdefault(int(i), set()).add(row.tobytes())
    assert len(seen[3]) >= 3  # image 3 has four captions
    assert len(seen[0]) == 1  # image 0 has one
    other = _take(cap.make_caption_stream(small, 4, 24, seed=8), 40)
    assert any((a[2] != b[2]).any() for a, b in zip(whole, other))  # the seed changes the order


def test_stream_errors(small):
    with pytest.raises(DatasetError, match="batch_size 11 is larger than the dataset"):
        cap.caption_steps_per_epoch(small, 11)
    with pytest.raises(DatasetError, match="has 17 characters, more than max_length 10"):
        cap.make_caption_stream(small, 4, 10)
