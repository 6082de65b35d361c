"""Text for text-to-image models: character ids, caption checks, the
char-CNN-RNN and image encoders, the joint-embedding loss and R-precision."""

import zoo  # noqa: F401
import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.core.errors import ConfigError
from zoo.core.text import (
    ALPHABET,
    PAD_ID,
    UNKNOWN_ID,
    CharCNNRNN,
    ImageEncoder,
    check_captions,
    contrastive_embedding_loss,
    structured_hinge_embedding_loss,
    tokenize,
)
from zoo.metrics.text_to_image import r_precision

from gan_checks import mirrored


def test_tokenize_lower_cases_maps_the_alphabet_and_pads():
    ids = tokenize(["Red Apple!", "é x"], 12).numpy()
    expected = [ALPHABET.index(c) + 2 for c in "red apple!"] + [PAD_ID, PAD_ID]
    assert ids[0].tolist() == expected
    # A character outside the alphabet (an accented letter) is "unknown", not dropped.
    assert ids[1][:3].tolist() == [UNKNOWN_ID, ALPHABET.index(" ") + 2, ALPHABET.index("x") + 2]
    assert ids.dtype == np.int32 and ids.shape == (2, 12)


@pytest.mark.parametrize(
    "caption, message",
    [
        ("", "a caption is empty"),
        ("   ", "a caption is empty"),
        ("\t\n", "a caption is empty"),
        ("x" * 13, "longer than the 12 characters the text encoder reads"),
        ("\u0130" * 7, "longer than the 12 characters the text encoder reads"),  # lower-cases to 14
        (b"\xff\xfe bad", "not valid UTF-8"),
    ],
)
def test_tokenize_rejects_bad_captions_with_a_message(caption, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        tokenize([caption], 12)


@pytest.mark.parametrize(
    "caption, message",
    [
        ("", "Caption 1 is empty"),
        ("x" * 13, "Caption 1 has 13 characters; the text encoder reads at most 12"),
        (b"\xff\xfe", "Caption 1 is not valid UTF-8"),
        (7, "Caption 1 is a int"),
    ],
)
def test_check_captions_names_the_bad_caption(caption, message):
    with pytest.raises(ConfigError, match=message):
        check_captions(["fine", caption], 12)
    assert check_captions([b"caf\xc3\xa9", "ok"], 12) == ["café", "ok"]


def small_text_encoder(max_length=16, dim=16):
    return CharCNNRNN(max_length=max_length, embedding_dim=dim, char_dim=8, filters=(8, 8), rnn_units=8)


def test_char_cnn_rnn_ignores_padding_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    encoder = small_text_encoder()
    embeddings = encoder.encode(["red apple", "a blue zebra-ish"])
    assert embeddings.shape == (2, 16)
    # Padding is left out of the average: a caption short enough that the
    # convolutions' zero border is out of its reach encodes the same in an
    # encoder that reads more (and pads more).
    longer = small_text_encoder(max_length=32)
    longer.set_weights(encoder.get_weights())
    np.testing.assert_allclose(longer.encode(["red"]), encoder.encode(["red"]), atol=1e-6)
    path = tmp_path / "encoder.keras"
    encoder.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.get_config() == encoder.get_config()
    np.testing.assert_allclose(loaded.encode(["red apple", "a blue zebra-ish"]), embeddings, atol=1e-6)
    with pytest.raises(ConfigError, match="multiple of 4"):
        CharCNNRNN(max_length=10)


def test_image_encoder_shape_and_config():
    encoder = ImageEncoder((16, 16, 3), embedding_dim=5, filters=(4, 8))
    assert encoder(np.zeros((3, 16, 16, 3), "float32")).shape == (3, 5)
    assert ImageEncoder.from_config(encoder.get_config()).get_config() == encoder.get_config()


def _hinge(x):
    return max(0.0, x)


def test_structured_hinge_loss_against_a_hand_computed_value():
    images = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], "float32")
    texts = np.array([[2.0, 0.0], [0.5, 0.5], [0.0, 1.0]], "float32")
    identity = np.array([0, 1, 2])
    scores = images @ texts.T  # F(v_i, t_j)
    expected = []
    for i in range(3):
        others = [j for j in range(3) if j != i]
        image_side = _hinge(1 + max(scores[i, j] for j in others) - scores[i, i])
        text_side = _hinge(1 + max(scores[j, i] for j in others) - scores[i, i])
        expected.append(image_side + text_side)
    loss = structured_hinge_embedding_loss(images, texts, identity).numpy()
    np.testing.assert_allclose(loss, expected, rtol=1e-6)
    # Examples of the same subject are never each other's wrong class:
    # with every example the same subject there is nothing to beat.
    assert np.all(structured_hinge_embedding_loss(images, texts, np.zeros(3, "int32")).numpy() == 0.0)


def _log_softmax_own(row, own):
    row = np.asarray(row, np.float64)
    return np.log(np.sum(np.exp(row))) - row[own]


def test_contrastive_loss_against_a_hand_computed_value():
    images = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0], [3.0, -1.0]], "float32")
    texts = np.array([[2.0, 0.0], [0.5, 0.5], [0.0, 1.0], [1.0, 1.0]], "float32")
    identity = np.array([0, 1, 2, 1])  # examples 1 and 3: the same subject
    unit = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)  # noqa: E731
    cosine = unit(images) @ unit(texts).T / 0.5  # [image, caption] / temperature
    expected = []
    for i in range(4):
        allowed = [j for j in range(4) if j == i or identity[j] != identity[i]]
        own = allowed.index(i)
        expected.append(_log_softmax_own(cosine[i, allowed], own) + _log_softmax_own(cosine[allowed, i], own))
    loss = contrastive_embedding_loss(images, texts, identity, temperature=0.5).numpy()
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    # Equal embeddings cost 2 log n: no collapsed minimum.
    same = np.ones((4, 2), "float32")
    np.testing.assert_allclose(contrastive_embedding_loss(same, same, np.arange(4)), 2 * np.log(4), rtol=1e-6)


@pytest.mark.parametrize("loss", [structured_hinge_embedding_loss, contrastive_embedding_loss])
def test_embedding_losses_on_two_replicas_see_the_global_batch(loss):
    rng = np.random.default_rng(0)
    images = rng.normal(size=(4, 3)).astype("float32")
    texts = rng.normal(size=(4, 3)).astype("float32")
    identity = np.array([0, 1, 2, 1], "int32")
    single = loss(images, texts, identity).numpy()
    strategy = mirrored(2)
    dataset = strategy.experimental_distribute_dataset(
        tf.data.Dataset.from_tensors((images, texts, identity))
    )
    per_replica = strategy.run(lambda b: loss(*b), args=(next(iter(dataset)),))
    double = np.concatenate([v.numpy() for v in strategy.experimental_local_results(per_replica)])
    np.testing.assert_allclose(double, single, rtol=1e-6)


def test_r_precision_is_one_for_aligned_and_zero_for_opposed_embeddings():
    embeddings = np.eye(6)
    identity = np.arange(6)
    assert r_precision(embeddings, embeddings, identity, candidates=4, repeats=3) == (1.0, 0.0)
    assert r_precision(embeddings, -embeddings, identity, candidates=4, repeats=3) == (0.0, 0.0)
    # Image 0 matches caption 1 better than its own: it misses whenever
    # caption 1 is among the candidates (always, with every caption drawn).
    images = embeddings.copy()
    images[0] = [0.1, 1.0, 0, 0, 0, 0]
    assert r_precision(images, embeddings, identity, candidates=6, repeats=2)[0] == pytest.approx(5 / 6)
    with pytest.raises(ConfigError, match="needs 5 captions of other subjects"):
        r_precision(embeddings, embeddings, np.array([0, 0, 0, 1, 1, 1]), candidates=6)
