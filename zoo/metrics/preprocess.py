"""The standard way images reach a scoring network.

1. Generated images (float32 in [-1, 1]) are quantised to uint8 exactly as
   if saved as PNG: ``round((x + 1) * 127.5)``, clipped to [0, 255]. Real
   images are uint8 already, so both sides are scored from the same kind
   of data.
2. Grayscale (1 channel) is repeated to RGB for the Inception network.
3. Images are resized to 299x299 with ``tf.image.resize(method="bilinear",
   antialias=False)`` (half-pixel centres), the resize most TF FID code
   used. For 28x28 and 32x32 inputs this is pure upsampling, where
   antialiasing would change nothing anyway. (The original TTUR code let
   the graph's own legacy ``ResizeBilinear`` op, without half-pixel
   centres, do it; that shifts FIDs a little, so compare numbers only
   within one preprocessing.)
4. Pixel values map to [-1, 1] as ``x / 127.5 - 1`` (pytorch-fid's
   convention; the TF graph's own input ops used ``(x - 128) / 128``).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from zoo.metrics.inception import INPUT_SIZE


def quantize_to_uint8(images) -> np.ndarray:
    """Float images in [-1, 1] -> uint8 [0, 255], as a PNG writer would store them.

    Args:
      images: float array [N, H, W, C] in [-1, 1] (values outside are clipped).

    Returns:
      uint8 array of the same shape, ``round((x + 1) * 127.5)``.
    """
    images = np.asarray(images, dtype=np.float32)
    return np.clip(np.rint((images + 1.0) * 127.5), 0, 255).astype(np.uint8)


def inception_inputs(images_uint8) -> tf.Tensor:
    """uint8 [N, H, W, 1 or 3] -> float32 [N, 299, 299, 3] in [-1, 1] for the FID Inception."""
    x = tf.cast(images_uint8, tf.float32)
    if x.shape[-1] == 1:
        x = tf.repeat(x, 3, axis=-1)
    if x.shape[1] != INPUT_SIZE or x.shape[2] != INPUT_SIZE:
        x = tf.image.resize(x, (INPUT_SIZE, INPUT_SIZE), method="bilinear", antialias=False)
    return x / 127.5 - 1.0
