"""Every loss in zoo.core.losses against values computed by hand."""

import math

import zoo  # noqa: F401
import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.core import losses

REAL = np.array([2.0, -1.0, 0.0], np.float32)
FAKE = np.array([-3.0, 0.5, 1.0], np.float32)


def softplus(t):
    return math.log1p(math.exp(t))


def sigmoid(t):
    return 1.0 / (1.0 + math.exp(-t))


def test_minimax_discriminator_loss_is_binary_cross_entropy():
    expected = [-math.log(sigmoid(r)) - math.log(1 - sigmoid(f)) for r, f in zip(REAL, FAKE)]
    got = losses.minimax_discriminator_loss(REAL, FAKE)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    # D(x)=2, D(G(z))=-3: softplus(-2) + softplus(-3) = 0.126928 + 0.048587.
    np.testing.assert_allclose(got[0], 0.1269280 + 0.0485874, rtol=1e-5)


def test_minimax_generator_loss_is_log_one_minus_d():
    expected = [math.log(1 - sigmoid(f)) for f in FAKE]
    np.testing.assert_allclose(losses.minimax_generator_loss(FAKE), expected, rtol=1e-6)


def test_non_saturating_generator_loss_is_minus_log_d():
    expected = [-math.log(sigmoid(f)) for f in FAKE]
    np.testing.assert_allclose(
        losses.non_saturating_generator_loss(FAKE), expected, rtol=1e-6
    )


def test_saturating_and_non_saturating_gradients_differ_where_the_paper_says():
    # Goodfellow et al. 2014, section 3: when D confidently rejects a sample
    # (logit -10), log(1 - D) saturates while -log D does not.
    logit = tf.constant([-10.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(logit)
        saturating = losses.minimax_generator_loss(logit)
        non_saturating = losses.non_saturating_generator_loss(logit)
    assert abs(float(tape.gradient(saturating, logit)[0])) < 1e-4
    assert abs(float(tape.gradient(non_saturating, logit)[0])) > 0.99


def test_losses_stay_finite_for_extreme_logits():
    big = np.array([1e4, -1e4], np.float32)
    for value in (
        losses.minimax_discriminator_loss(big, -big),
        losses.minimax_generator_loss(big),
        losses.non_saturating_generator_loss(-big),
    ):
        assert np.all(np.isfinite(value))
    np.testing.assert_allclose(losses.non_saturating_generator_loss(-big), [1e4, 0.0])


def test_least_squares_losses():
    # a=0, b=1: 0.5 (2-1)^2 + 0.5 (-3-0)^2 = 0.5 + 4.5
    got = losses.least_squares_discriminator_loss(REAL, FAKE)
    np.testing.assert_allclose(got, [5.0, 0.5 * 4 + 0.5 * 0.25, 0.5 + 0.5], rtol=1e-6)
    # a=-1, b=1 (paper's eq. 8): 0.5 (2-1)^2 + 0.5 (-3+1)^2 = 0.5 + 2
    got = losses.least_squares_discriminator_loss(REAL, FAKE, a=-1.0, b=1.0)
    np.testing.assert_allclose(got[0], 2.5, rtol=1e-6)
    np.testing.assert_allclose(
        losses.least_squares_generator_loss(FAKE), [8.0, 0.125, 0.0], rtol=1e-6
    )
    np.testing.assert_allclose(
        losses.least_squares_generator_loss(FAKE, c=0.0), [4.5, 0.125, 0.5], rtol=1e-6
    )


def test_wasserstein_losses():
    np.testing.assert_allclose(
        losses.wasserstein_discriminator_loss(REAL, FAKE), [-5.0, 1.5, 1.0]
    )
    np.testing.assert_allclose(losses.wasserstein_generator_loss(FAKE), [3.0, -0.5, -1.0])


def test_hinge_losses():
    # relu(1-2)+relu(1-3)=0; relu(1+1)+relu(1+0.5)=3.5; relu(1)+relu(2)=3
    np.testing.assert_allclose(losses.hinge_discriminator_loss(REAL, FAKE), [0.0, 3.5, 3.0])
    np.testing.assert_allclose(losses.hinge_generator_loss(FAKE), [3.0, -0.5, -1.0])


def test_patch_outputs_are_averaged_per_example():
    # A PatchGAN map [batch, 2, 2, 1] counts as the mean of its cells.
    real = np.arange(8, dtype=np.float32).reshape(2, 2, 2, 1)
    fake = np.zeros_like(real)
    got = losses.wasserstein_discriminator_loss(real, fake)
    np.testing.assert_allclose(got, [-1.5, -5.5])
    assert got.shape == (2,)


def linear_critic(weights):
    """D(x) = <w, x>: its input gradient is w everywhere."""
    w = tf.constant(weights)

    def critic(x):
        return tf.reduce_sum(x * w, axis=[1, 2, 3])[:, None]

    return critic


def test_gradient_penalty_of_a_linear_critic():
    weights = np.zeros((2, 2, 1), np.float32)
    weights[0, 0, 0], weights[1, 1, 0] = 3.0, 4.0  # ||w|| = 5
    real = tf.random.normal((4, 2, 2, 1), seed=1)
    fake = tf.random.normal((4, 2, 2, 1), seed=2)
    alpha = tf.constant([0.0, 0.3, 0.7, 1.0])
    penalty = losses.gradient_penalty(linear_critic(weights), real, fake, alpha)
    np.testing.assert_allclose(penalty, [16.0] * 4, rtol=1e-5)  # (5 - 1)^2


def test_gradient_penalty_interpolates_with_one_alpha_per_example():
    # D(x) = 0.5 ||x||^2 has gradient x, so the penalty is (||x_hat|| - 1)^2
    # with x_hat = alpha * real + (1 - alpha) * fake.
    def critic(x):
        return 0.5 * tf.reduce_sum(tf.square(x), axis=[1, 2, 3])

    real = np.full((2, 1, 1, 4), 1.0, np.float32)  # ||real|| = 2
    fake = np.zeros((2, 1, 1, 4), np.float32)
    alpha = np.array([0.25, 1.0], np.float32)  # ||x_hat|| = 0.5, 2
    penalty = losses.gradient_penalty(critic, tf.constant(real), tf.constant(fake), alpha)
    np.testing.assert_allclose(penalty, [0.25, 1.0], rtol=1e-5)


def test_gradient_penalty_is_differentiable_where_the_gradient_vanishes():
    # A constant critic has zero input gradient: sqrt(0) would give a NaN
    # gradient without the epsilon inside the square root.
    scale = tf.Variable(0.0)

    def critic(x):
        return scale * tf.reduce_sum(x, axis=[1, 2, 3])

    real = tf.ones((2, 2, 2, 1))
    with tf.GradientTape() as tape:
        penalty = tf.reduce_mean(losses.gradient_penalty(critic, real, real * 0, tf.ones(2)))
    gradient = tape.gradient(penalty, scale)
    np.testing.assert_allclose(penalty, 1.0, rtol=1e-5)
    assert np.isfinite(gradient.numpy())


def test_r1_penalty_of_a_linear_critic():
    weights = np.zeros((2, 2, 1), np.float32)
    weights[0, 1, 0] = 2.0  # ||w||^2 = 4
    real = tf.random.normal((3, 2, 2, 1), seed=3)
    penalty = losses.r1_penalty(linear_critic(weights), real, gamma=10.0)
    np.testing.assert_allclose(penalty, [20.0] * 3, rtol=1e-5)  # 10/2 * 4


def test_unknown_loss_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="Unknown adversarial loss 'wgan'.*hinge"):
        losses.get("wgan")
    assert losses.get("hinge") == (
        losses.hinge_discriminator_loss,
        losses.hinge_generator_loss,
    )


def test_losses_accept_mixed_precision_logits():
    got = losses.minimax_discriminator_loss(
        keras.ops.cast(REAL, "float16"), keras.ops.cast(FAKE, "float16")
    )
    expected = losses.minimax_discriminator_loss(REAL, FAKE)
    np.testing.assert_allclose(np.asarray(got, np.float32), expected, rtol=1e-2)
