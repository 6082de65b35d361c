"""Text for text-to-image models: characters to ids, the char-CNN-RNN text
encoder, the image encoder it is trained with, and their joint-embedding loss.

Reed, Akata, Lee & Schiele 2016, "Learning Deep Representations of
Fine-grained Visual Descriptions" (CVPR): a character-level text encoder
(a convolutional-recurrent net over one-hot characters, its hidden states
averaged over time) trained with an image encoder so that an image scores
higher with its own caption than with any other class's (the deep
symmetric structured joint embedding, DS-SJE, eq. 2-5:
``structured_hinge_embedding_loss``). Being character-level, it encodes
words it never saw. The zoo trains both encoders from scratch, where the
hinge collapses; its default is the same symmetric in-batch objective with a
softmax on cosine similarities (``contrastive_embedding_loss``). Reed et al. 2016 (GAN-CLS)
and StackGAN then condition their GANs on the frozen text encoder.

Characters: ``ALPHABET`` (the 70 of Reed et al.'s code: lower-case letters,
digits, punctuation, space) map to ids ``2..``; ``0`` pads; ``1`` stands
for any other character (accented letters, emoji). Text is lower-cased
(Unicode-aware) first. ``tokenize`` is pure TensorFlow, so exported
SavedModels take raw strings and tokenise them without the zoo; it fails
(``InvalidArgumentError`` with a message naming the problem) on an empty
caption, one longer than ``max_length`` characters, or bytes that are not
UTF-8. ``check_captions`` gives the same errors in Python as
``ConfigError`` before anything runs.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from zoo.core import replicas
from zoo.core.errors import ConfigError
from zoo.core.networks import Network

ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-,;.!?:'\"/\\|_@#$%^&*~`+=<>()[]{} "
PAD_ID = 0
UNKNOWN_ID = 1
VOCABULARY_SIZE = len(ALPHABET) + 2

# What str.isspace() calls whitespace: a caption of these alone is empty.
_WHITESPACE = [c for c in range(0x3001) if chr(c).isspace()]

# Code point -> id for the first 128 code points; anything above is unknown.
_ASCII_IDS = np.full(128, UNKNOWN_ID, dtype=np.int32)
for _index, _char in enumerate(ALPHABET):
    _ASCII_IDS[ord(_char)] = _index + 2


def check_captions(captions, max_length):
    """``captions`` (str or UTF-8 bytes, one or a list) as a list of str;
    ``ConfigError`` naming the caption for one that is empty, longer than
    ``max_length`` characters or not UTF-8."""
    if isinstance(captions, (str, bytes)):
        captions = [captions]
    captions = list(np.asarray(captions, dtype=object).reshape(-1)) if not isinstance(captions, list) else captions
    if not captions:
        raise ConfigError("No captions given: pass one caption (a string) per image.")
    checked = []
    for index, caption in enumerate(captions):
        if isinstance(caption, bytes):
            try:
                caption = caption.decode("utf-8")
            except UnicodeDecodeError as error:
                raise ConfigError(
                    f"Caption {index} is not valid UTF-8 ({error.reason} at byte {error.start}): "
                    "pass text, or bytes encoded as UTF-8."
                ) from None
        if not isinstance(caption, str):
            raise ConfigError(f"Caption {index} is a {type(caption).__name__}, not a string.")
        if "\x00" in caption:
            raise ConfigError(f"Caption {index} holds a NUL character: pass plain text.")
        if not caption.strip():
            raise ConfigError(f"Caption {index} is empty: describe the image in a few words.")
        if len(caption.lower()) > max_length:
            raise ConfigError(
                f"Caption {index} has {len(caption.lower())} characters; the text encoder reads at most "
                f"{max_length}: shorten it."
            )
        checked.append(caption)
    return checked


def tokenize(texts, max_length):
    """Raw UTF-8 strings ``[batch]`` -> character ids int32 ``[batch, max_length]``.

    Pure TensorFlow (it runs inside exported SavedModels). Raises
    ``InvalidArgumentError`` for an empty (or all-space) caption, one longer
    than ``max_length`` characters, or bytes that are not valid UTF-8.
    """
    texts = tf.convert_to_tensor(texts, tf.string)
    # Invalid bytes decode to U+0000, which no caption holds: finding one is
    # the clear error (strict decoding's own says only "Invalid formatting").
    codes = tf.strings.unicode_decode(texts, "UTF-8", errors="replace", replacement_char=0)
    spaces = tf.constant(_WHITESPACE, tf.int32)
    is_space = tf.ragged.map_flat_values(lambda flat: tf.reduce_any(tf.equal(flat[:, None], spaces), axis=1), codes)
    visible = tf.reduce_sum(tf.cast(tf.logical_not(is_space), tf.int32), axis=1)
    checks = [
        tf.debugging.assert_equal(
            tf.reduce_any(tf.equal(codes.flat_values, 0)), False,
            message="text: a caption is not valid UTF-8 (or holds a NUL character); send UTF-8 text",
        ),
        tf.debugging.assert_positive(
            visible, message="text: a caption is empty; describe the image in a few words"
        ),
    ]
    with tf.control_dependencies(checks):
        lowered = tf.strings.lower(texts, encoding="utf-8")
    codes = tf.strings.unicode_decode(lowered, "UTF-8", errors="replace", replacement_char=0)
    # The length that counts is the lowered one (lower-casing may add a code
    # point, as "İ" -> "i̇"), which Python's check_captions measures too.
    too_long = tf.debugging.assert_less_equal(
        tf.cast(codes.row_lengths(), tf.int32), max_length,
        message=f"text: a caption is longer than the {max_length} characters the text encoder reads; shorten it",
    )
    with tf.control_dependencies([too_long]):
        codes = tf.identity(codes)
    table = tf.constant(_ASCII_IDS)
    ids = tf.ragged.map_flat_values(
        lambda flat: tf.where(flat < 128, tf.gather(table, tf.minimum(flat, 127)), UNKNOWN_ID),
        codes,
    )
    return ids.to_tensor(default_value=PAD_ID, shape=[None, max_length])


# --- Encoders -------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="zoo")
class CharCNNRNN(Network):
    """Char-CNN-RNN text encoder (Reed et al. 2016, section 3.2): character
    ids int32 ``[batch, max_length]`` (``tokenize``) -> embedding ``[batch,
    embedding_dim]``.

    Characters are embedded (the paper's one-hot times a learned matrix),
    two 1-D convolutions with max-pooling (x2 each) shorten the sequence
    4x, a GRU runs over what is left, and its hidden states are averaged
    over the positions that hold characters (padding left out), then
    projected linearly. The paper's model has three convolutions (pooling
    3x each) over 201 characters and 1,024 output dimensions; emoji
    captions are shorter.

    Args:
        max_length: characters read; longer captions are an error.
        embedding_dim: size of the text embedding.
        char_dim: size of a character's embedding.
        filters: channels of the two convolutions.
        rnn_units: GRU units.
    """

    def __init__(self, max_length=128, embedding_dim=256, char_dim=32, filters=(128, 256),
                 rnn_units=256, **kwargs):
        filters = tuple(int(f) for f in filters)
        if int(max_length) % 4:
            raise ConfigError(f"max_length must be a multiple of 4 (two 2x poolings), got {max_length}.")
        tokens = keras.Input((max_length,), dtype="int32", name="tokens")
        present = ops.cast(ops.greater(tokens, PAD_ID), "float32")[..., None]
        x = keras.layers.Embedding(VOCABULARY_SIZE, char_dim, name="characters")(tokens)
        for index, count in enumerate(filters[:2]):
            x = keras.layers.Conv1D(count, 4, padding="same", activation="relu", name=f"conv{index + 1}")(x)
            x = keras.layers.MaxPooling1D(2, name=f"pool{index + 1}")(x)
            present = keras.layers.MaxPooling1D(2, name=f"mask_pool{index + 1}")(present)
        hidden = keras.layers.GRU(rnn_units, return_sequences=True, name="rnn")(x)
        # The mean over time of the hidden states (the paper's average),
        # over positions that saw at least one character.
        mean = ops.sum(hidden * present, axis=1) / ops.maximum(ops.sum(present, axis=1), 1.0)
        embedding = keras.layers.Dense(embedding_dim, dtype="float32", name="embedding")(mean)
        super().__init__(inputs=tokens, outputs=embedding, **kwargs)
        self.max_length = int(max_length)
        self.embedding_dim = int(embedding_dim)
        self.char_dim = int(char_dim)
        self.filters = filters
        self.rnn_units = int(rnn_units)

    def get_config(self):
        return {**super().get_config(), "filters": list(self.filters)}

    def encode(self, captions, batch_size=256):
        """Raw captions (checked: ``check_captions``) -> embeddings ``[N, embedding_dim]``."""
        captions = check_captions(captions, self.max_length)
        outputs = [
            self(tokenize(captions[start:start + batch_size], self.max_length), training=False)
            for start in range(0, len(captions), batch_size)
        ]
        return ops.concatenate(outputs, axis=0)


@keras.saving.register_keras_serializable(package="zoo")
class ImageEncoder(Network):
    """The image side of the joint embedding: images ``[batch, H, W, C]`` in
    [-1, 1] -> ``[batch, embedding_dim]``.

    Reed et al. take fixed GoogLeNet features of the image; here a small
    CNN is trained with the text encoder from scratch (stride-2 3x3
    convolutions with LeakyReLU, global average pooling, a linear map). It
    also scores generated images (R-precision, ``zoo.metrics.text_to_image``).

    Args:
        image_shape: ``(H, W, C)``.
        embedding_dim: the text encoder's.
        filters: channels of the stride-2 convolutions.
    """

    def __init__(self, image_shape=(64, 64, 3), embedding_dim=256, filters=(32, 64, 128, 256), **kwargs):
        image_shape = tuple(int(d) for d in image_shape)
        filters = tuple(int(f) for f in filters)
        images = keras.Input(image_shape, name="images")
        x = images
        for index, count in enumerate(filters):
            x = keras.layers.Conv2D(count, 3, strides=2, padding="same", name=f"down{index + 1}")(x)
            x = keras.layers.LeakyReLU(0.2)(x)
        x = keras.layers.GlobalAveragePooling2D()(x)
        embedding = keras.layers.Dense(embedding_dim, dtype="float32", name="embedding")(x)
        super().__init__(inputs=images, outputs=embedding, **kwargs)
        self.image_shape = image_shape
        self.embedding_dim = int(embedding_dim)
        self.filters = filters

    def get_config(self):
        return {**super().get_config(), "image_shape": list(self.image_shape), "filters": list(self.filters)}


# --- The joint embedding's losses ---------------------------------------------------


def _in_batch_scores(image_embeddings, text_embeddings, identity):
    """``(image rows, text rows, wrong, own)`` over the global batch: this
    replica's examples' compatibilities with every caption ``[local,
    global]`` and every image ``[local, global]``, where the other example
    is a different subject (``wrong``), and each row's own column (``own``)."""
    all_images = replicas.global_batch(image_embeddings)
    all_texts = replicas.global_batch(text_embeddings)
    all_identity = replicas.global_batch(ops.cast(identity, "int32"))
    local = ops.shape(image_embeddings)[0]
    own = replicas.replica_id() * local + ops.arange(local)
    image_rows = ops.matmul(image_embeddings, ops.transpose(all_texts))  # F(v_i, t_j)
    text_rows = ops.matmul(text_embeddings, ops.transpose(all_images))  # F(v_j, t_i)
    wrong = ops.not_equal(ops.cast(identity, "int32")[:, None], all_identity[None, :])
    return image_rows, text_rows, wrong, own


def structured_hinge_embedding_loss(image_embeddings, text_embeddings, identity, margin=1.0):
    """Per-example symmetric structured hinge loss ``[batch]`` (Reed et al.
    2016, "Learning Deep Representations of Fine-grained Visual
    Descriptions", eq. 2-5, DS-SJE), over the global batch.

    Compatibility ``F(v, t) = phi(v) . psi(t)``. Example ``i`` (image
    ``v_i``, its caption ``t_i``, subject ``y_i``) pays

        max(0, max_{j: y_j != y_i} margin + F(v_i, t_j) - F(v_i, t_i))   (image side)
      + max(0, max_{j: y_j != y_i} margin + F(v_j, t_i) - F(v_i, t_i))   (text side)

    with the other examples of the batch as the classes to beat (the paper
    takes each class's mean caption score; here a class is a subject, with
    one caption per image in the batch), and examples of the same subject
    (the same emoji in another style) never counted as wrong.

    With both encoders trained from scratch this loss has a trap: before
    any pair can be told apart, shrinking every embedding lowers it towards
    ``2 * margin``, where all embeddings are equal and the gradient
    vanishes (seen on the emoji within 300 steps). Reed et al. avoid it
    with fixed GoogLeNet image features; the zoo trains with
    ``contrastive_embedding_loss`` by default.

    Returns ``[batch]`` on this replica: the negatives are gathered from
    every replica, so N replicas give what one device gives.
    """
    image_rows, text_rows, wrong, own = _in_batch_scores(image_embeddings, text_embeddings, identity)
    matching = ops.sum(image_embeddings * text_embeddings, axis=-1)  # F(v_i, t_i)
    very_negative = -1e9
    image_side = ops.max(ops.where(wrong, image_rows, very_negative), axis=1)
    text_side = ops.max(ops.where(wrong, text_rows, very_negative), axis=1)
    return ops.relu(margin + image_side - matching) + ops.relu(margin + text_side - matching)


def contrastive_embedding_loss(image_embeddings, text_embeddings, identity, temperature=0.1):
    """Per-example symmetric softmax loss ``[batch]`` of a joint embedding
    over the global batch: the structured objective of Reed et al. 2016
    (each image should score its own caption above every other subject's,
    and each caption its own image) with a softmax in place of the max and
    the hinge, on L2-normalised embeddings (cosine compatibility, scaled by
    ``1 / temperature``), as CLIP (Radford et al. 2021) trains both encoders
    from scratch. Example ``i`` pays

        -log softmax_j(cos(v_i, t_j) / T)[i] - log softmax_j(cos(v_j, t_i) / T)[i]

    over ``j = i`` and the examples of other subjects (the same subject in
    another style is left out, as in the hinge loss). Unlike the hinge it
    has no collapsed minimum: equal embeddings cost ``2 log n``.
    """
    image_embeddings = _l2_normalize(image_embeddings)
    text_embeddings = _l2_normalize(text_embeddings)
    image_rows, text_rows, wrong, own = _in_batch_scores(image_embeddings, text_embeddings, identity)
    columns = ops.shape(image_rows)[1]
    is_own = ops.equal(ops.arange(columns)[None, :], own[:, None])
    allowed = ops.logical_or(wrong, is_own)

    def side(rows):
        logits = ops.where(allowed, rows / temperature, -1e9)
        own_logit = ops.sum(ops.where(is_own, logits, 0.0), axis=1)
        return ops.logsumexp(logits, axis=1) - own_logit

    return side(image_rows) + side(text_rows)


def _l2_normalize(values):
    return values / ops.maximum(ops.norm(values, axis=-1, keepdims=True), 1e-12)


# The names a model's ``embedding_loss`` takes.
EMBEDDING_LOSSES = ("contrastive", "hinge")
