"""The training stream: uint8 arrays in memory -> endless, resumable batches.

``make_dataset`` turns the arrays into an endless stream of float32 batches in
[-1, 1] whose order depends only on (seed, global step), so a resumed run sees
exactly the batches an uninterrupted run would have seen. ``load_dataset``
does ``zoo.data.load_arrays`` and ``make_dataset`` and returns a
``DatasetInfo`` alongside; ``check_image_shape`` and ``steps_per_epoch`` are
its checks, for callers that use the first two directly.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import tensorflow as tf

from zoo.core.errors import DatasetError
from zoo.data.sources import load_arrays


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What ``load_dataset`` loaded; ``image_shape`` is (H, W, C)."""

    name: str
    split: str
    num_examples: int
    image_shape: tuple[int, int, int]
    num_classes: int | None
    steps_per_epoch: int



def make_dataset(
    images: np.ndarray,
    labels: np.ndarray | None,
    batch_size: int,
    *,
    shuffle: bool = True,
    seed: int = 0,
    start_step: int = 0,
    repeat: bool = True,
    with_labels: bool = False,
    group: int = 1,
) -> tf.data.Dataset:
    """Training stream of batches of exactly ``batch_size`` examples.

    ``images`` is uint8 [N, H, W, C]; each element is float32 images
    [batch_size, H, W, C] in [-1, 1], or (images, int64 labels [batch_size])
    when ``with_labels``. Epoch e visits a permutation seeded by (seed, e) and
    drops its last N % (batch_size * group) examples. The element at position
    i of the stream is global step ``start_step + i`` of that sequence, so a
    stream started at ``start_step`` continues an interrupted one with no
    lost or repeated step. Without ``repeat`` the stream ends with the epoch
    that contains ``start_step``.

    With ``group = k > 1`` each element holds k distinct batches, as images
    [batch_size, k, H, W, C] (labels [batch_size, k]): one per discriminator
    update of a model with ``fresh_real_batches`` (its
    ``real_batches_per_step``), and an epoch has N // (batch_size * k) steps.
    """
    _check_arrays(images, labels)
    if not isinstance(group, (int, np.integer)) or group < 1:
        raise DatasetError(f"group must be an int >= 1, got {group!r}")
    steps = steps_per_epoch(len(images), batch_size * group)
    if not isinstance(start_step, (int, np.integer)) or start_step < 0:
        raise DatasetError(f"start_step must be an int >= 0, got {start_step!r}")
    if with_labels and labels is None:
        raise DatasetError("with_labels=True but this dataset has no labels")

    start_epoch, steps_to_skip = divmod(int(start_step), steps)
    index_batches = _index_batches(
        len(images), batch_size * group, steps, shuffle, seed, start_epoch, repeat
    ).skip(steps_to_skip)
    if group > 1:
        index_batches = index_batches.map(lambda indices: tf.reshape(indices, [batch_size, group]))

    # The uint8 arrays live once in host memory (4x smaller than float32);
    # each batch is gathered by index and only then converted to float.
    with tf.device("/CPU:0"):
        images_tensor = tf.convert_to_tensor(images)
        labels_tensor = tf.convert_to_tensor(labels.astype(np.int64)) if with_labels else None

    def gather_batch(indices):
        batch = tf.cast(tf.gather(images_tensor, indices), tf.float32) / 127.5 - 1.0
        if labels_tensor is None:
            return batch
        return batch, tf.gather(labels_tensor, indices)

    stream = index_batches.map(
        gather_batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    # flat_map hides the length; state it so Keras and callers can rely on it.
    length = tf.data.INFINITE_CARDINALITY if repeat else steps - steps_to_skip
    stream = stream.apply(tf.data.experimental.assert_cardinality(length))
    return stream.prefetch(tf.data.AUTOTUNE)


def load_dataset(
    dataset: str | os.PathLike,
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    batch_size: int = 64,
    *,
    image_shape: tuple[int, int, int] | None = None,
    image_size: int | None = None,
    seed: int = 0,
    start_step: int = 0,
    with_labels: bool = False,
    repeat: bool = True,
    group: int = 1,
) -> tuple[tf.data.Dataset, DatasetInfo]:
    """``load_arrays`` + checks + ``make_dataset``.

    ``image_size`` resizes (see ``load_arrays``); ``image_shape`` (H, W, C) is
    only checked, never converted to: a mismatch raises DatasetError.
    """
    _check_batch_size(batch_size)  # fail before a possibly long load
    images, labels = load_arrays(dataset, split, data_dir, image_size)
    name = os.fspath(dataset)
    check_image_shape(images, image_shape, name)
    stream = make_dataset(
        images,
        labels,
        batch_size,
        seed=seed,
        start_step=start_step,
        repeat=repeat,
        with_labels=with_labels,
        group=group,
    )
    info = DatasetInfo(
        name=name,
        split=split,
        num_examples=len(images),
        image_shape=tuple(int(d) for d in images.shape[1:]),
        num_classes=None if labels is None or len(labels) == 0 else int(labels.max()) + 1,
        steps_per_epoch=len(images) // (batch_size * group),
    )
    return stream, info


# --------------------------------------------------------------------------
# Checks


def steps_per_epoch(num_examples: int, batch_size: int) -> int:
    """Full batches per epoch (num_examples // batch_size); raises DatasetError
    for a batch size < 1 or larger than the dataset."""
    _check_batch_size(batch_size)
    if batch_size > num_examples:
        raise DatasetError(
            f"batch_size {batch_size} is larger than the dataset ({num_examples} examples)"
        )
    return num_examples // batch_size


def check_image_shape(images: np.ndarray, image_shape, name: str) -> None:
    """Raises DatasetError unless images [N, H, W, C] have (H, W, C) == image_shape
    (when it is not None); the message names both shapes."""
    if image_shape is None:
        return
    actual = tuple(int(d) for d in images.shape[1:])
    expected = tuple(int(d) for d in image_shape)
    if actual != expected:
        hint = ""
        if actual[:2] == expected[:2]:
            hint = " (grayscale vs RGB: the channel counts differ)"
        elif actual[2:] == expected[2:]:
            hint = " (resize them: image_size= in zoo.data, --resize in a recipe)"
        raise DatasetError(
            f"{name} images have shape {actual} but image_shape {expected} was expected{hint}"
        )


def _check_batch_size(batch_size) -> None:
    """Raises unless batch_size is an int >= 1."""
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise DatasetError(f"batch_size must be an int >= 1, got {batch_size!r}")


def _check_arrays(images: np.ndarray, labels: np.ndarray | None) -> None:
    """Raises unless images is uint8 [N, H, W, C] and labels is None or [N]."""
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 4:
        raise DatasetError(
            "images must be a uint8 array [N, H, W, C], got "
            f"{getattr(images, 'dtype', type(images).__name__)} {getattr(images, 'shape', '')}"
        )
    if labels is not None and np.shape(labels) != (len(images),):
        raise DatasetError(
            f"labels must have shape ({len(images)},) to match images, got {np.shape(labels)}"
        )


# --------------------------------------------------------------------------
# Index stream: which examples make up each global step


def _index_batches(
    num_examples: int,
    batch_size: int,
    steps_in_epoch: int,
    shuffle: bool,
    seed: int,
    start_epoch: int,
    repeat: bool,
) -> tf.data.Dataset:
    """int64 [batch_size] example indices per step, from the first step of start_epoch."""
    used = steps_in_epoch * batch_size

    def epoch_batches(epoch):
        order = tf.range(num_examples, dtype=tf.int64)
        if shuffle:
            # Stateless and keyed by the epoch: epoch e's order is the same
            # whether or not epochs before it were ever produced. Philox is
            # named so that CPU and GPU kernels cannot pick different ones.
            order = tf.random.experimental.stateless_shuffle(
                order, seed=tf.stack([tf.constant(seed, tf.int64), epoch]), alg="philox"
            )
        return tf.data.Dataset.from_tensor_slices(
            tf.reshape(order[:used], [steps_in_epoch, batch_size])
        )

    last_epoch = np.iinfo(np.int64).max if repeat else start_epoch + 1
    return tf.data.Dataset.range(start_epoch, last_epoch).flat_map(epoch_batches)

