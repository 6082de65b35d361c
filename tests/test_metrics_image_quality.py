"""PSNR, SSIM and the luma channel against closed-form values."""

import numpy as np
import pytest

from zoo.core.errors import ConfigError
from zoo.metrics.image_quality import MAX_PSNR, psnr, ssim, y_channel


def constant(value, shape=(2, 16, 16, 3)):
    return np.full(shape, value, np.uint8)


def test_psnr_of_a_known_mean_squared_error():
    # Every pixel off by 10: MSE 100, PSNR = 10 log10(255^2 / 100) = 28.1308 dB.
    np.testing.assert_allclose(psnr(constant(110), constant(100)), [28.130804] * 2, rtol=1e-6)
    # Half the pixels off by 20 (MSE 200): 3.0103 dB less.
    a, b = constant(100), constant(100)
    a[:, :8] = 120
    np.testing.assert_allclose(psnr(a, b), [28.130804 - 3.010300] * 2, rtol=1e-6)
    assert psnr(constant(7), constant(7)).tolist() == [MAX_PSNR, MAX_PSNR]


def test_ssim_of_identical_and_of_constant_images():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 24, 24, 3), dtype=np.uint8)
    np.testing.assert_allclose(ssim(images, images), [1.0] * 3, rtol=1e-6)
    # Constant images: no variance, so SSIM = (2 a b + C1) / (a^2 + b^2 + C1)
    # with C1 = (0.01 * 255)^2 = 6.5025: a=100, b=110 -> 0.9954763.
    np.testing.assert_allclose(ssim(constant(100), constant(110)), [0.9954763] * 2, rtol=1e-5)
    noisy = np.clip(images.astype(int) + rng.integers(-40, 41, images.shape), 0, 255).astype(np.uint8)
    assert (ssim(noisy, images) < 0.99).all() and (ssim(noisy, images) > 0.5).all()


def test_luma_of_white_black_and_pure_colours():
    pixels = np.array([[[[255, 255, 255], [0, 0, 0], [255, 0, 0], [0, 255, 0]]]], np.uint8)
    np.testing.assert_allclose(y_channel(pixels)[0, 0, :, 0], [235.0, 16.0, 81.481, 144.553], rtol=1e-6)


def test_inputs_must_be_uint8_images_of_one_shape():
    with pytest.raises(ConfigError, match="one shape"):
        psnr(constant(1), constant(1, (2, 8, 8, 3)))
    with pytest.raises(ConfigError, match="uint8"):
        ssim(constant(1).astype(np.float32), constant(1))


def test_ssim_agrees_with_tensorflows_float32_implementation():
    import tensorflow as tf

    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-30, 31, a.shape), 0, 255).astype(np.uint8)
    expected = tf.image.ssim(tf.constant(a, tf.float32), tf.constant(b, tf.float32), 255.0).numpy()
    np.testing.assert_allclose(ssim(a, b), expected, atol=2e-4)
    with pytest.raises(ConfigError, match="11x11"):
        ssim(a[:, :8, :8], b[:, :8, :8])
