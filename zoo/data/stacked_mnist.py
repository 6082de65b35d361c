"""Stacked MNIST: three MNIST digits as the R, G and B channels of one image.

The mode-collapse benchmark of Metz et al. 2016 ("Unrolled Generative
Adversarial Networks", arXiv:1611.02163), Srivastava et al. 2017 (VEEGAN,
arXiv:1705.07761) and Lin et al. 2018 (PacGAN, arXiv:1712.04086): each
image is 28x28x3, its channels three MNIST digits drawn independently and
uniformly at random, so the data has 10**3 = 1,000 modes (digit triples),
each about equally likely. Its label is the mode id ``100 * r + 10 * g + b``.
Scoring a generator on it is ``zoo.metrics.modes``.

``load_arrays("stacked_mnist", split, data_dir)`` (``zoo.data.sources``)
builds a fixed set from that split of MNIST (``STACKED_MNIST_SPLITS``):

* ``train``: 100,000 images from the 60,000 MNIST training digits, seed 0.
  PacGAN's VEEGAN-setting code draws a fixed set of 128,000 (from MNIST's
  train and test digits together); 100,000 keeps to the training digits
  (the test split stays unseen), gives each of the 1,000 modes about 100
  examples, and takes 235 MB as uint8 (CIFAR-10's training set: 154 MB).
* ``test``: 10,000 images from the 10,000 MNIST test digits, seed 1.

The construction is deterministic (a NumPy ``Generator`` with a fixed
seed), so every run and every machine gets the same images.

``stacked_mnist_fresh`` (``FRESH``) trains on stacks drawn afresh at every
step from that split's digits instead, as PacGAN's code does in Metz et
al.'s setting (``make_fresh_stream``): no fixed set, so no stack is seen
twice and 500,000 steps see 64 million of them.
"""

from __future__ import annotations

import os

import numpy as np

from zoo.core.errors import DatasetError

NAME = "stacked_mnist"
FRESH = "stacked_mnist_fresh"
NUM_MODES = 1000
# split -> (number of stacked images, seed); each is built from the same
# split of MNIST.
STACKED_MNIST_SPLITS = {"train": (100_000, 0), "test": (10_000, 1)}


def stacked_mnist(images: np.ndarray, labels: np.ndarray, count: int,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``count`` stacked images from single-digit ``images``.

    Args:
      images: uint8 [M, H, W] or [M, H, W, 1] (MNIST digits).
      labels: int [M], their digits 0..9.
      count: how many stacked images to make.
      seed: seed of the NumPy ``Generator`` that draws, for each stacked
        image, three indices into ``images`` independently and uniformly
        (with replacement).

    Returns:
      uint8 [count, H, W, 3], channel c of image i being
      ``images[k]`` for the k drawn for (i, c); and int64 mode ids [count],
      ``100 * labels[k_r] + 10 * labels[k_g] + labels[k_b]``.
    """
    images = _digit_images(images)
    labels = np.asarray(labels)
    if labels.shape != (len(images),):
        raise DatasetError(f"labels must have shape ({len(images)},) to match the images, got {labels.shape}")
    if labels.min() < 0 or labels.max() > 9:
        raise DatasetError(f"digit labels must be in 0..9, got {labels.min()}..{labels.max()}")
    if not isinstance(count, (int, np.integer)) or count < 0:
        raise DatasetError(f"count must be an int >= 0, got {count!r}")
    chosen = np.random.default_rng(seed).integers(0, len(images), size=(int(count), 3))
    stacked = np.ascontiguousarray(np.moveaxis(images[chosen], 1, -1))  # [count, H, W, 3]
    digits = labels.astype(np.int64)[chosen]
    return stacked, digits @ np.array([100, 10, 1], np.int64)


def load_stacked_mnist(split: str, data_dir: str | os.PathLike | None = None,
                       image_size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The fixed stacked set of ``split`` (``STACKED_MNIST_SPLITS``), built
    from the same split of MNIST as ``load_arrays("mnist", split, data_dir,
    image_size)`` reads it (a local copy, else TFDS)."""
    from zoo.data.sources import load_arrays

    if split not in STACKED_MNIST_SPLITS:
        raise DatasetError(
            f"unknown split {split!r} for {NAME}: expected one of {', '.join(STACKED_MNIST_SPLITS)}"
        )
    count, seed = STACKED_MNIST_SPLITS[split]
    try:
        digits, labels = load_arrays("mnist", split, data_dir, image_size)
    except DatasetError as error:
        raise DatasetError(f"{NAME} is built from MNIST, which could not be read: {error}") from error
    if labels is None:
        raise DatasetError(f"{NAME} needs MNIST's labels, but the {split!r} split was read without them")
    return stacked_mnist(digits, labels, count, seed)


def source_identity(split: str, data_dir) -> str:
    """What ``load_stacked_mnist(split, data_dir)`` is built from, for cache keys."""
    from zoo.data.sources import source_identity as mnist_identity

    count, seed = STACKED_MNIST_SPLITS.get(split, (None, None))
    return f"{NAME}:{count}:{seed}:" + mnist_identity("mnist", split, data_dir)


def _digit_images(images: np.ndarray) -> np.ndarray:
    """``images`` as uint8 ``[M, H, W]`` (a trailing channel of 1 dropped),
    or DatasetError."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.dtype != np.uint8 or images.ndim != 3 or len(images) == 0:
        raise DatasetError(
            f"stacked MNIST needs uint8 digit images [M, H, W] or [M, H, W, 1], M >= 1; got "
            f"{images.dtype} {tuple(np.shape(images))}"
        )
    return images


def fresh_steps_per_epoch(num_digits: int, batch_size: int) -> int:
    """Steps of a nominal epoch of fresh stacks: as many stacks as there are
    digits (``num_digits // batch_size``; 468 for 60,000 at batch 128)."""
    from zoo.data.stream import steps_per_epoch

    return steps_per_epoch(num_digits, batch_size)


def make_fresh_stream(digits: np.ndarray, batch_size: int, *, seed: int = 0, start_step: int = 0,
                      group: int = 1):
    """Endless training stream of stacks drawn afresh at every step.

    Args:
      digits: uint8 ``[M, H, W]`` or ``[M, H, W, 1]`` MNIST digits.
      batch_size: stacks per batch.
      seed: with the global step, the key of the draw.
      start_step: the global step of the stream's first element.
      group: ``k`` batches per element, for a model with
        ``real_batches_per_step`` k (one per discriminator update).

    Returns:
      a ``tf.data.Dataset`` whose element at position i is global step
      ``start_step + i``: float32 ``[batch_size, H, W, 3]`` in [-1, 1]
      (``[batch_size, k, H, W, 3]`` when ``group`` k > 1). Its
      ``3 * batch_size * k`` digit indices are drawn uniformly, with
      replacement, by a stateless Philox generator keyed by (seed, step), so
      a resumed stream continues exactly where an interrupted one stopped.
    """
    import tensorflow as tf

    digits = _digit_images(digits)
    if not isinstance(group, (int, np.integer)) or group < 1:
        raise DatasetError(f"group must be an int >= 1, got {group!r}")
    if not isinstance(start_step, (int, np.integer)) or start_step < 0:
        raise DatasetError(f"start_step must be an int >= 0, got {start_step!r}")
    fresh_steps_per_epoch(len(digits), int(batch_size))  # checks the batch size
    count = int(batch_size) * int(group)
    height, width = digits.shape[1:]
    with tf.device("/CPU:0"):
        digits_tensor = tf.convert_to_tensor(digits)

    def batch_at(step):
        indices = tf.random.stateless_uniform(
            [count, 3], seed=tf.stack([tf.constant(seed, tf.int64), step]),
            minval=0, maxval=len(digits), dtype=tf.int64, alg="philox",
        )
        stacks = tf.transpose(tf.gather(digits_tensor, indices), [0, 2, 3, 1])  # [count, H, W, 3]
        stacks = tf.cast(stacks, tf.float32) / 127.5 - 1.0
        if group > 1:
            stacks = tf.reshape(stacks, [int(batch_size), int(group), height, width, 3])
        return stacks

    steps = tf.data.Dataset.counter(int(start_step), dtype=tf.int64)
    return steps.map(batch_at, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(
        tf.data.AUTOTUNE
    )
