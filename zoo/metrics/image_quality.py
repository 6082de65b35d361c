"""Full-reference image quality: PSNR and SSIM against a target image.

Both take uint8 images ``[N, H, W, C]`` (what a user saves and looks at:
generated images are quantised as if written to PNG first) and return one
value per image; an evaluation reports their means.

* ``psnr``: ``10 log10(255^2 / MSE)`` over all pixels and channels, in dB
  (infinite for identical images; capped at 100 dB here so that means stay
  finite).
* ``ssim``: the structural similarity of Wang, Bovik, Sheikh & Simoncelli
  2004, "Image Quality Assessment: From Error Visibility to Structural
  Similarity" (eq. 13): an 11x11 Gaussian window with sigma 1.5,
  ``K1 = 0.01``, ``K2 = 0.03``, ``L = 255``, averaged over positions (valid
  windows only) and channels, as the paper's reference code (and
  ``tf.image.ssim``, which agrees to ~1e-4, its float32 rounding).
* ``y_channel``: the luma of ITU-R BT.601 (``16 + (65.481 R + 128.553 G +
  24.966 B) / 255``), on which super-resolution papers score PSNR/SSIM.

For RGBA sources (emoji), images are composited onto white before they get
here (``zoo.data``), so a score compares what a viewer sees on a white page.
"""

from __future__ import annotations

import numpy as np

from zoo.core.errors import ConfigError

MAX_PSNR = 100.0


def _check_pair(predictions, targets):
    predictions, targets = np.asarray(predictions), np.asarray(targets)
    if predictions.shape != targets.shape or predictions.ndim != 4:
        raise ConfigError(
            f"PSNR/SSIM compare images of one shape [N, H, W, C]; got {predictions.shape} "
            f"and {targets.shape}"
        )
    if predictions.dtype != np.uint8 or targets.dtype != np.uint8:
        raise ConfigError("PSNR/SSIM take uint8 images (quantise generated ones first)")
    return predictions, targets


def psnr(predictions, targets):
    """Peak signal-to-noise ratio per image, dB, float64 ``[N]``."""
    predictions, targets = _check_pair(predictions, targets)
    return psnr_float(predictions, targets)


def _gaussian_window(size=11, sigma=1.5):
    offsets = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    window = np.exp(-(offsets**2) / (2.0 * sigma**2))
    return window / window.sum()


def _filter_valid(images, window):
    """Separable filtering of ``[N, H, W, C]`` by ``window`` along H and W,
    keeping positions where the window fits (no padding)."""
    from scipy.ndimage import correlate1d

    size, half = len(window), len(window) // 2
    out = correlate1d(images, window, axis=1, mode="constant")
    out = correlate1d(out, window, axis=2, mode="constant")
    return out[:, half : images.shape[1] - (size - 1 - half), half : images.shape[2] - (size - 1 - half)]


def ssim(predictions, targets):
    """Structural similarity per image (Wang et al. 2004), float64 ``[N]``,
    computed in float64 (a float32 implementation loses ~1e-4 to
    cancellation in ``E[x^2] - E[x]^2``)."""
    predictions, targets = _check_pair(predictions, targets)
    return ssim_float(predictions, targets)


def ssim_float(predictions, targets, data_range=255.0):
    """``ssim`` of float images ``[N, H, W, C]`` on a scale of
    ``data_range`` (255: uint8 levels; the luma of ``y_channel`` is on it
    too), float64 ``[N]``."""
    predictions, targets = np.asarray(predictions), np.asarray(targets)
    if predictions.shape != targets.shape or predictions.ndim != 4:
        raise ConfigError(
            f"SSIM compares images of one shape [N, H, W, C]; got {predictions.shape} and {targets.shape}"
        )
    if min(predictions.shape[1:3]) < 11:
        raise ConfigError(f"SSIM's 11x11 window needs images of at least 11x11; got {predictions.shape[1:3]}")
    x, y = predictions.astype(np.float64), targets.astype(np.float64)
    window = _gaussian_window()
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mu_x, mu_y = _filter_valid(x, window), _filter_valid(y, window)
    var_x = _filter_valid(x * x, window) - mu_x**2
    var_y = _filter_valid(y * y, window) - mu_y**2
    cov = _filter_valid(x * y, window) - mu_x * mu_y
    index = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return index.reshape(len(index), -1).mean(axis=1)


def psnr_float(predictions, targets, data_range=255.0):
    """``psnr`` of float images ``[N, H, W, C]`` on a scale of ``data_range``,
    dB, float64 ``[N]`` (capped at ``MAX_PSNR``)."""
    predictions, targets = np.asarray(predictions, np.float64), np.asarray(targets, np.float64)
    if predictions.shape != targets.shape or predictions.ndim != 4:
        raise ConfigError(
            f"PSNR compares images of one shape [N, H, W, C]; got {predictions.shape} and {targets.shape}"
        )
    mse = np.mean(np.square(predictions - targets).reshape(len(predictions), -1), axis=1)
    with np.errstate(divide="ignore"):
        values = 10.0 * np.log10(data_range**2 / mse)
    return np.minimum(values, MAX_PSNR)


def y_channel(images):
    """BT.601 luma of uint8 RGB images, float64 ``[N, H, W, 1]`` in [16, 235]."""
    images = np.asarray(images, np.float64)
    weights = np.array([65.481, 128.553, 24.966]) / 255.0
    return (16.0 + images @ weights)[..., None]
