"""DiffAugment: Zhao, Liu, Lin, Zhu & Han 2020, "Differentiable Augmentation
for Data-Efficient GAN Training" (arXiv:2006.10738).

The same random, differentiable transformation family ``T`` is applied to
real *and* generated images before the discriminator, in the discriminator's
and in the generator's step (the paper's eq. 3-4), so the generator's
gradient flows back through ``T``. The paper's policies, on images
``[batch, H, W, C]`` in ``[-1, 1]``:

* ``color``: brightness ``x + U(-0.5, 0.5)``; saturation
  ``(x - mean_c) * U(0, 2) + mean_c`` around each pixel's channel mean;
  contrast ``(x - mean) * U(0.5, 1.5) + mean`` around the image's mean.
* ``translation``: shift by integers in ``[-H/8, H/8]`` x ``[-W/8, W/8]``
  (rounded), filling with zeros.
* ``cutout``: zero a square of half the image size (rounded) centred at a
  uniform random position; parts falling outside the image are dropped.

Randomness is per example and comes from a ``seed`` (an int ``[2]`` tensor,
``tf.random`` stateless ops): the same seed gives the same augmentation. Under
a ``tf.distribute`` strategy every replica draws the parameters of the
*global* batch from the same seed and keeps its own slice, so N replicas
augment exactly as one device does on the whole batch.
"""

import tensorflow as tf

from zoo.core import replicas
from zoo.core.errors import ConfigError

POLICIES = ("color", "translation", "cutout")


def per_example_uniform(seed, batch_size, minval=0.0, maxval=1.0, dtype=tf.float32):
    """This replica's share of ``U[minval, maxval)`` draws, one per example.

    Draws ``batch_size * num_replicas`` values from ``seed`` and returns the
    slice of this replica (``[batch_size]``). For integer dtypes ``maxval``
    is excluded, as in ``tf.random.stateless_uniform``.
    """
    values = tf.random.stateless_uniform(
        [batch_size * replicas.num_replicas()], seed=seed, minval=minval, maxval=maxval, dtype=dtype
    )
    return replicas.local_slice(values, batch_size)


def _factor(seed, images, minval, maxval):
    factor = per_example_uniform(seed, tf.shape(images)[0], minval, maxval)
    return tf.cast(tf.reshape(factor, [-1, 1, 1, 1]), images.dtype)


def brightness(images, seed):
    """``x + U(-0.5, 0.5)``, one offset per example."""
    return images + _factor(seed, images, -0.5, 0.5)


def saturation(images, seed):
    """``(x - mean over channels) * U(0, 2) + mean``, per example (no-op for
    one channel)."""
    mean = tf.reduce_mean(images, axis=-1, keepdims=True)
    return (images - mean) * _factor(seed, images, 0.0, 2.0) + mean


def contrast(images, seed):
    """``(x - mean over pixels and channels) * U(0.5, 1.5) + mean``."""
    mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    return (images - mean) * _factor(seed, images, 0.5, 1.5) + mean


def color(images, seed):
    """Brightness, saturation, then contrast, each with its own draws."""
    seeds = tf.random.experimental.stateless_split(seed, 3)
    images = brightness(images, seeds[0])
    images = saturation(images, seeds[1])
    return contrast(images, seeds[2])


def translate(images, shifts):
    """Move each image's content by integer ``shifts`` ``[batch, 2]`` (rows,
    columns; positive is down/right), filling with zeros.

    ``output[b, y, x] = images[b, y - dy, x - dx]`` where that is inside the
    image, else 0. Differentiable in ``images`` (a gather).
    """
    height, width = images.shape[1], images.shape[2]
    shifts = tf.cast(shifts, tf.int32)
    pad = max(height, width)
    padded = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
    rows = tf.range(height)[None, :] - shifts[:, :1] + pad  # [batch, H]
    columns = tf.range(width)[None, :] - shifts[:, 1:] + pad  # [batch, W]
    # Shifts larger than the image land in the zero padding as well.
    rows = tf.clip_by_value(rows, 0, height + 2 * pad - 1)
    columns = tf.clip_by_value(columns, 0, width + 2 * pad - 1)
    images = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(images, columns, axis=2, batch_dims=1)


def translation(images, seed, ratio=0.125):
    """Random ``translate`` by up to ``round(ratio * size)`` pixels each way
    (the paper's 1/8 of the image), uniform over the integers."""
    height, width = images.shape[1], images.shape[2]
    max_rows, max_columns = int(height * ratio + 0.5), int(width * ratio + 0.5)
    seeds = tf.random.experimental.stateless_split(seed, 2)
    batch_size = tf.shape(images)[0]
    shifts = tf.stack(
        [
            per_example_uniform(seeds[0], batch_size, -max_rows, max_rows + 1, tf.int32),
            per_example_uniform(seeds[1], batch_size, -max_columns, max_columns + 1, tf.int32),
        ],
        axis=1,
    )
    return translate(images, shifts)


def cut_out(images, centers, size):
    """Zero a ``size = (rows, columns)`` rectangle per image whose top-left
    corner is ``centers - size // 2`` (``centers`` ``[batch, 2]``); the part
    outside the image is dropped."""
    height, width = images.shape[1], images.shape[2]
    centers = tf.cast(centers, tf.int32)
    top = centers[:, :1] - size[0] // 2  # [batch, 1]
    left = centers[:, 1:] - size[1] // 2
    rows = tf.range(height)[None, :]
    columns = tf.range(width)[None, :]
    inside_rows = (rows >= top) & (rows < top + size[0])  # [batch, H]
    inside_columns = (columns >= left) & (columns < left + size[1])  # [batch, W]
    cut = inside_rows[:, :, None] & inside_columns[:, None, :]
    return images * tf.cast(~cut, images.dtype)[:, :, :, None]


def cutout(images, seed, ratio=0.5):
    """Random ``cut_out`` of a square ``s = round(ratio * size)`` on a side
    (the paper's half size). As in the paper's code, the centre is uniform
    over ``0 .. size - s % 2`` on each axis, so the square may hang over the
    border; the zeroed fraction is ``ratio**2`` when it does not and less
    when it does."""
    height, width = images.shape[1], images.shape[2]
    size = (int(height * ratio + 0.5), int(width * ratio + 0.5))
    seeds = tf.random.experimental.stateless_split(seed, 2)
    batch_size = tf.shape(images)[0]
    centers = tf.stack(
        [
            per_example_uniform(seeds[0], batch_size, 0, height + 1 - size[0] % 2, tf.int32),
            per_example_uniform(seeds[1], batch_size, 0, width + 1 - size[1] % 2, tf.int32),
        ],
        axis=1,
    )
    return cut_out(images, centers, size)


_AUGMENTATIONS = {"color": color, "translation": translation, "cutout": cutout}


def parse_policy(policy):
    """``"color,translation"`` (or a list) -> ``("color", "translation")``;
    ``None`` or ``""`` -> ``()``. Raises on unknown names."""
    if not policy:
        return ()
    names = policy.split(",") if isinstance(policy, str) else list(policy)
    names = tuple(name.strip() for name in names if name.strip())
    unknown = [name for name in names if name not in _AUGMENTATIONS]
    if unknown:
        raise ConfigError(
            f"Unknown DiffAugment policy {', '.join(unknown)}; known: {', '.join(POLICIES)}."
        )
    return names


def diff_augment(images, policy, seed):
    """Apply the augmentations of ``policy`` in order (the paper's order is
    ``color,translation,cutout``), each with a seed derived from ``seed``.

    Args:
        images: ``[batch, H, W, C]``, values in ``[-1, 1]``.
        policy: a string like ``"color,translation,cutout"`` or a list.
        seed: int ``[2]`` tensor; the same seed gives the same output.
    Returns:
        Augmented images, same shape and dtype.
    """
    names = parse_policy(policy)
    if not names:
        return images
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), len(names))
    for index, name in enumerate(names):
        images = _AUGMENTATIONS[name](images, seeds[index])
    return images
