"""Scores of a super-resolution model, as the papers report them on Set5
and Set14 (Ledig et al. 2017, section 3.1; Dong et al. 2014): each
held-out image is cropped to a multiple of the scale, downsampled
(``zoo.data.super_resolution.downsample``: bicubic with antialiasing, 8-bit),
upscaled by the model and quantised to uint8 as a saved image; PSNR and SSIM
(``zoo.metrics.image_quality``) are computed on the luma (ITU-R BT.601 Y, in
[16, 235], not rounded) with a border of ``scale`` pixels removed, per image
and as the mean over images. Bicubic interpolation is the baseline row.
"""

from __future__ import annotations

import numpy as np

from zoo.metrics.image_quality import psnr_float, ssim_float, y_channel
from zoo.metrics.preprocess import quantize_to_uint8


def luma_scores(outputs, target, border):
    """``(psnr, ssim)`` of one uint8 image ``[H, W, 3]`` against another on
    the Y channel with ``border`` pixels cut from each side."""
    y_out, y_target = y_channel(outputs[None]), y_channel(target[None])
    if border:
        y_out = y_out[:, border:-border, border:-border]
        y_target = y_target[:, border:-border, border:-border]
    return float(psnr_float(y_out, y_target)[0]), float(ssim_float(y_out, y_target)[0])


def score_super_resolution(methods, pairs, scale):
    """Scores of each upscaling method on ``pairs``
    (``zoo.data.super_resolution.evaluation_pairs``).

    Args:
        methods: ``{name: upscale}``, ``upscale`` taking float32 ``[1, h, w,
            3]`` in [-1, 1] to ``[1, scale*h, scale*w, 3]``.
        pairs: ``[(image name, high uint8 [H, W, 3], low float32 [1, h, w, 3])]``.
        scale: the factor; also the border removed.

    Returns:
        ``({name: {"psnr": mean, "ssim": mean, "per_image": {image: {"psnr",
        "ssim"}}}}, {name: [uint8 outputs]})``.
    """
    scores, outputs = {}, {}
    for name, upscale in methods.items():
        per_image, images = {}, []
        for image_name, high, low in pairs:
            output = quantize_to_uint8(np.asarray(upscale(low)))[0]
            if output.shape != high.shape:
                raise ValueError(f"{name} upscaled {image_name} to {output.shape}, expected {high.shape}")
            psnr, ssim = luma_scores(output, high, scale)
            per_image[image_name] = {"psnr": psnr, "ssim": ssim}
            images.append(output)
        scores[name] = {
            "psnr": float(np.mean([v["psnr"] for v in per_image.values()])),
            "ssim": float(np.mean([v["ssim"] for v in per_image.values()])),
            "per_image": per_image,
        }
        outputs[name] = images
    return scores, outputs


def crop_montage(outputs, pairs, crop=96, order=None):
    """uint8 ``[rows * crop, columns * crop, 3]``: one row per image (a
    ``crop`` x ``crop`` window at its centre), one column per method in
    ``order`` (default: as given) and the high-resolution original last."""
    order = list(order or outputs)
    rows = []
    for index, (_, high, _) in enumerate(pairs):
        top = max(0, (high.shape[0] - crop) // 2)
        left = max(0, (high.shape[1] - crop) // 2)
        window = lambda image: image[top : top + crop, left : left + crop]  # noqa: E731
        rows.append(np.concatenate([window(outputs[name][index]) for name in order] + [window(high)], axis=1))
    return np.concatenate(rows, axis=0)
