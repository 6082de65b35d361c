"""Standard preprocessing: PNG-like quantisation, gray to RGB, resize to 299, [-1, 1] scaling."""

import numpy as np
import tensorflow as tf

from zoo.metrics.preprocess import inception_inputs, quantize_to_uint8


def test_quantize_rounds_like_a_png_writer():
    images = np.array([-1.5, -1.0, -0.999, 0.0, 0.5, 1.0, 2.0], np.float32).reshape(1, 7, 1, 1)
    # (x + 1) * 127.5 = -63.75, 0, 0.1275, 127.5, 191.25, 255, 382.5 -> rounded and clipped.
    expected = np.array([0, 0, 0, 128, 191, 255, 255], np.uint8).reshape(1, 7, 1, 1)
    np.testing.assert_array_equal(quantize_to_uint8(images), expected)


def test_quantize_inverts_the_uint8_to_unit_range_map():
    pixels = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1)
    np.testing.assert_array_equal(quantize_to_uint8(pixels / 127.5 - 1.0), pixels)


def test_inception_inputs_repeat_gray_resize_and_scale():
    gray = np.zeros((2, 28, 28, 1), np.uint8)
    gray[0] = 255  # constant images stay constant under bilinear resizing
    gray[1, :, :14] = 0
    gray[1, :, 14:] = 51
    x = inception_inputs(tf.constant(gray)).numpy()
    assert x.shape == (2, 299, 299, 3) and x.dtype == np.float32
    np.testing.assert_allclose(x[0], 1.0, atol=1e-6)
    np.testing.assert_array_equal(x[..., 0], x[..., 2])
    # Far from the edge the halves keep their values: 0 -> -1 and 51 -> 51/127.5 - 1 = -0.6.
    np.testing.assert_allclose(x[1, :, :100], -1.0, atol=1e-6)
    np.testing.assert_allclose(x[1, :, 200:], -0.6, atol=1e-6)


def test_inception_inputs_leave_299_images_unresized():
    images = np.random.default_rng(0).integers(0, 256, (1, 299, 299, 3), dtype=np.uint8)
    np.testing.assert_allclose(inception_inputs(tf.constant(images)).numpy(), images / 127.5 - 1.0, atol=1e-6)
