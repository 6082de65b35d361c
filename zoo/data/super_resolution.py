"""Super-resolution data: high-resolution images, random crops of them and
their low-resolution copies.

``load_high_resolution(spec, split)`` reads one split of:

* ``photos``: the photographs in ``<data_dir>/photos`` (or
  ``$ZOO_DATA_DIR/photos``; the project's ``../shared/datasets/photos``).
  ``PHOTO_TEST`` (astronaut, camera, chelsea, coffee, rocket: natural scenes,
  as Set5 and Set14 hold) is the evaluation split, never trained on; the
  other six (brick, grass, gravel, Hubble deep field, IHC microscopy, retina)
  are the training split. Grayscale photographs become RGB.
* ``cifar10`` (or any dataset ``zoo.data.load_arrays`` reads): each image is
  a high-resolution example (CIFAR-10's 32x32, from 8x8 at x4).
* a folder of images of any sizes: ``train/`` and ``test/`` subfolders where
  it has them, else every image for training.

``downsample`` makes the low-resolution input the way the papers do
(Ledig et al. 2017, as Set5/Set14 benchmarks): bicubic with antialiasing
(MATLAB's ``imresize``), then quantised to 8 bits as a saved image would be.
``make_super_resolution_stream`` yields ``(high, low)`` batches of random
crops (one of the eight flips/rotations each), a pure function of (seed,
step): a resumed run sees what an uninterrupted one would.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import tensorflow as tf

from zoo.core.errors import DatasetError
from zoo.data.images import FolderReader, decode_all
from zoo.data.sources import IMAGE_SUFFIXES, local_folder

PHOTO_TEST = ("astronaut", "camera", "chelsea", "coffee", "rocket")


@dataclasses.dataclass
class HighResolutionSet:
    """uint8 RGB images ``[H_i, W_i, 3]`` (sizes may differ), with names."""

    images: list
    names: list
    description: str

    def __len__(self):
        return len(self.images)


def _rgb(array):
    return np.repeat(array, 3, axis=-1) if array.shape[-1] == 1 else array


def _photos_dir(data_dir):
    return local_folder(
        "photos", data_dir,
        lambda folder: any((folder / f"{name}.png").is_file() for name in PHOTO_TEST),
        f"the photographs ({', '.join(PHOTO_TEST)}, ...)",
    )


def _image_files(folder):
    return sorted(
        p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )


def _decode(files, folder):
    with FolderReader(Path(folder)) as reader:
        arrays = decode_all([f.name for f in files], reader, None)
    return [_rgb(a) for a in arrays]


def load_high_resolution(spec, split="train", data_dir=None):
    """One split of a super-resolution dataset (see the module doc)."""
    spec = os.fspath(spec)
    if spec == "photos":
        folder = _photos_dir(data_dir)
        files = [f for f in _image_files(folder) if (f.stem in PHOTO_TEST) == (split != "train")]
        if not files:
            raise DatasetError(f"no {split} photographs in {folder}")
        return HighResolutionSet(
            _decode(files, folder), [f.stem for f in files],
            f"photos {split} ({', '.join(f.stem for f in files)})",
        )
    path = Path(spec).expanduser()
    if path.is_dir() and not (path / "train-images-idx3-ubyte.gz").exists():
        folder = path / split if (path / split).is_dir() else path
        if folder == path and split != "train" and (path / "train").is_dir():
            raise DatasetError(f"{path} has no {split}/ folder")
        files = _image_files(folder)
        if not files:
            raise DatasetError(f"no images in {folder}; looked for {', '.join(IMAGE_SUFFIXES)}")
        return HighResolutionSet(_decode(files, folder), [f.stem for f in files], f"{folder}: {len(files)} images")
    from zoo import data

    images, _ = data.load_arrays(spec, split, data_dir)
    images = _rgb(images)
    return HighResolutionSet(list(images), [f"{i:06d}" for i in range(len(images))],
                             f"{spec} {split}: {len(images)} images {tuple(images.shape[1:])}")


def check_crop(images, crop, scale):
    """A clear error for a crop size the scale does not divide or an image
    smaller than the crop."""
    if crop % scale:
        raise DatasetError(
            f"the training crop ({crop}x{crop}) must be a multiple of the x{scale} scale, "
            f"so that its low-resolution copy is {crop // scale}x{crop // scale} exactly"
        )
    small = [name for name, image in zip(images.names, images.images) if min(image.shape[:2]) < crop]
    if small:
        raise DatasetError(
            f"{len(small)} image(s) of {images.description} are smaller than the {crop}x{crop} "
            f"training crop (e.g. {small[0]}): remove them or train with smaller crops"
        )


def downsample(high, scale):
    """Low-resolution copies of float images ``[N, H, W, C]`` in [-1, 1]
    (``H``, ``W`` multiples of ``scale``): bicubic with antialiasing, then
    quantised to 8-bit levels, float32 ``[N, H/scale, W/scale, C]``."""
    high = tf.convert_to_tensor(high, tf.float32)
    size = tf.shape(high)[1:3] // scale
    low = tf.image.resize(high, size, method="bicubic", antialias=True)
    return tf.round(tf.clip_by_value((low + 1.0) * 127.5, 0.0, 255.0)) / 127.5 - 1.0


def bicubic_upscale(low, scale):
    """The baseline every SR paper reports: bicubic interpolation,
    float32 ``[N, scale*h, scale*w, C]`` clipped to [-1, 1]."""
    low = tf.convert_to_tensor(low, tf.float32)
    size = tf.shape(low)[1:3] * scale
    return tf.clip_by_value(tf.image.resize(low, size, method="bicubic"), -1.0, 1.0).numpy()


def modcrop(image, scale):
    """``image`` cropped at its bottom and right to multiples of ``scale``,
    as SR evaluations do before downsampling."""
    height, width = (d - d % scale for d in image.shape[:2])
    return image[:height, :width]


def steps_per_epoch(images, batch_size, crop):
    """Steps per epoch: an epoch shows as many high-resolution pixels as
    the set holds (CIFAR-10 at crop 32: its 50,000 images once)."""
    pixels = sum(int(i.shape[0]) * int(i.shape[1]) for i in images.images)
    return max(1, pixels // (crop * crop * batch_size))


def make_super_resolution_stream(images, batch_size, crop, scale, *, seed=0, start_step=0):
    """``(high, low)`` float32 batches in [-1, 1]: ``[batch, crop, crop, 3]``
    random crops (an image drawn with probability proportional to its
    number of crop positions, a position, one of eight flips/rotations) and
    their ``downsample``d copies ``[batch, crop/scale, crop/scale, 3]``.
    Example ``k`` of the stream (step ``k // batch_size``) depends on
    ``(seed, k)`` only."""
    check_crop(images, crop, scale)
    heights = np.array([i.shape[0] for i in images.images], np.int64)
    widths = np.array([i.shape[1] for i in images.images], np.int64)
    positions = (heights - crop + 1) * (widths - crop + 1)
    with tf.device("/CPU:0"):
        if len(set(zip(heights, widths))) == 1:
            stack = tf.convert_to_tensor(np.stack(images.images))
            image_at = lambda index: tf.gather(stack, index)  # noqa: E731
        else:
            ragged = tf.ragged.stack([tf.convert_to_tensor(i) for i in images.images])
            image_at = lambda index: ragged[index].to_tensor()  # noqa: E731
        logits = tf.math.log(tf.convert_to_tensor(positions / positions.sum(), tf.float32))[None]

    def example(k):
        key = tf.random.experimental.stateless_fold_in(tf.constant([int(seed), 0], tf.int64), k)
        keys = tf.random.experimental.stateless_split(key, 3)
        index = tf.random.stateless_categorical(logits, 1, seed=keys[0])[0, 0]
        image = image_at(index)
        shape = tf.shape(image, out_type=tf.int64)
        corner = tf.random.stateless_uniform([2], seed=keys[1], maxval=2**31 - 1, dtype=tf.int64)
        top = corner[0] % (shape[0] - crop + 1)
        left = corner[1] % (shape[1] - crop + 1)
        patch = image[top : top + crop, left : left + crop]
        turn = tf.random.stateless_uniform([], seed=keys[2], maxval=8, dtype=tf.int32)
        patch = tf.image.rot90(patch, turn % 4)
        patch = tf.cond(turn >= 4, lambda: patch[:, ::-1], lambda: patch)
        return tf.cast(patch, tf.float32) / 127.5 - 1.0

    def pair(high):
        high.set_shape([batch_size, crop, crop, 3])
        return high, downsample(high, scale)

    stream = tf.data.Dataset.range(int(start_step) * batch_size, 2**62).map(
        example, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    stream = stream.batch(batch_size, drop_remainder=True).map(pair)
    return stream.apply(tf.data.experimental.assert_cardinality(tf.data.INFINITE_CARDINALITY)).prefetch(
        tf.data.AUTOTUNE
    )


def evaluation_pairs(images, scale):
    """``[(name, high uint8 [H, W, 3], low float32 [1, H/s, W/s, 3])]`` of
    each whole image (``modcrop``ped), for scoring."""
    pairs = []
    for name, image in zip(images.names, images.images):
        high = modcrop(image, scale)
        low = downsample(high[None].astype(np.float32) / 127.5 - 1.0, scale).numpy()
        pairs.append((name, high, low))
    return pairs
