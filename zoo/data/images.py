"""Decoding image files to uint8 arrays: grayscale or RGB, transparency on
white, optional centre crop and resize; readers for folders and zips."""

from __future__ import annotations

import concurrent.futures
import io
import os
import threading
import zipfile
import zlib
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image

from zoo.core.errors import DatasetError


class FolderReader:
    """Reads image files below a folder by relative POSIX path."""

    def __init__(self, folder: Path):
        self.folder = folder

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None

    def read(self, member: str) -> bytes:
        return (self.folder / member).read_bytes()

    def describe(self, member: str) -> str:
        return str(self.folder / member)


class ZipReader:
    """Reads members of a zip file, safely from several threads."""

    def __init__(self, path: Path):
        self.path = path
        self._archive = zipfile.ZipFile(path)
        # One file handle is shared, so reads take turns; decoding, the slow
        # part, still runs in parallel.
        self._lock = threading.Lock()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._archive.close()

    def names(self) -> list[str]:
        """Every member's name."""
        return self._archive.namelist()

    def read(self, member: str) -> bytes:
        with self._lock:
            return self._archive.read(member)

    def describe(self, member: str) -> str:
        return f"{member} in {self.path}"


def decode_all(members: list[str], reader, image_size, chunk: int = 256) -> list[np.ndarray]:
    """Decoded uint8 [H, W, C] arrays of ``members``, in order."""

    def decode_chunk(start: int) -> list[np.ndarray]:
        arrays = []
        for member in members[start : start + chunk]:
            try:
                data = reader.read(member)
            except (OSError, zipfile.BadZipFile, zlib.error) as error:
                raise DatasetError(
                    f"cannot read image {reader.describe(member)}: {error}"
                ) from error
            arrays.append(decode_image(data, reader.describe(member), image_size))
        return arrays

    # PIL releases the GIL while decoding, so threads help with big images;
    # chunks keep the per-task overhead small for tiny ones (CIFAR).
    starts = range(0, len(members), chunk)
    with concurrent.futures.ThreadPoolExecutor(min(8, os.cpu_count() or 1)) as pool:
        try:
            return [array for arrays in pool.map(decode_chunk, starts) for array in arrays]
        except BaseException:
            pool.shutdown(cancel_futures=True)  # don't decode the rest after a failure
            raise


def decode_image(data: bytes, description: str, image_size: int | None) -> np.ndarray:
    """Encoded image bytes -> uint8 [H, W, C], C = 1 for grayscale, else 3."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image_size is not None:
                # JPEG only: decode at a reduced scale that still covers the target.
                image.draft(image.mode, (image_size, image_size))
            image.load()
            image = to_gray_or_rgb(image)
            if image_size is not None and image.size != (image_size, image_size):
                image = crop_and_resize_pil(image, image_size)
            array = np.asarray(image, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise DatasetError(f"corrupt or unreadable image {description}: {error}") from error
    return array[:, :, np.newaxis] if array.ndim == 2 else array


def to_gray_or_rgb(image: Image.Image) -> Image.Image:
    """Mode "L" for grayscale images, "RGB" for all others; transparent
    pixels are composited onto white (their hidden colour is arbitrary)."""
    if image.mode == "P":
        image = image.convert("RGBA")  # keeps a palette's transparency
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        gray = image.mode in ("LA", "La")
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image.convert("RGBA"))
        return image.convert("L" if gray else "RGB")
    if image.mode in ("1", "L", "I", "I;16", "F"):
        return image.convert("L")
    return image.convert("RGB")


def crop_and_resize_pil(image: Image.Image, size: int) -> Image.Image:
    """Central square crop, then resize to size x size."""
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    square = image.crop((left, top, left + side, top + side))
    # PIL widens the bilinear filter when shrinking, so this is antialiased
    # (the same filter as tf.image.resize(antialias=True) in crop_and_resize).
    return square.resize((size, size), Image.Resampling.BILINEAR)


def crop_and_resize(images: tf.Tensor, size: int) -> tf.Tensor:
    """uint8 [..., H, W, C] -> uint8 [..., size, size, C]: central square crop, then
    antialiased bilinear resize."""
    shape = tf.shape(images)
    height, width = shape[-3], shape[-2]
    side = tf.minimum(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = images[..., top : top + side, left : left + side, :]
    resized = tf.image.resize(square, [size, size], method="bilinear", antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)


def resize_array(images: np.ndarray, size: int, chunk: int = 4096) -> np.ndarray:
    """uint8 [N, H, W, C] -> uint8 [N, size, size, C], in chunks to bound float memory."""
    parts = [
        crop_and_resize(tf.constant(images[i : i + chunk]), size).numpy()
        for i in range(0, len(images), chunk)
    ]
    return np.concatenate(parts)


def stack_images(arrays: list[np.ndarray], names: list[str]) -> np.ndarray:
    """[H, W, C] arrays -> uint8 [N, H, W, C]; a set mixing grayscale and RGB becomes RGB."""
    first_size = arrays[0].shape[:2]
    for array, name in zip(arrays, names):
        if array.shape[:2] != first_size:
            raise DatasetError(
                f"images have different sizes (height x width): {names[0]} is "
                f"{first_size[0]}x{first_size[1]} but {name} is {array.shape[0]}x{array.shape[1]}; "
                "resize them all (image_size= in zoo.data, --resize in a recipe)"
            )
    if any(a.shape[2] == 3 for a in arrays):
        arrays = [np.repeat(a, 3, axis=2) if a.shape[2] == 1 else a for a in arrays]
    return np.stack(arrays)

