"""EBGAN's energy, margin losses and pulling-away term against hand-computed
values (Zhao, Mathieu & LeCun 2016)."""

import zoo  # noqa: F401
import numpy as np
import pytest
import tensorflow as tf

from zoo.core import losses


def test_reconstruction_energy_is_the_l2_norm_or_the_mse_of_the_error():
    images = np.zeros((2, 1, 2, 1), np.float32)
    reconstructions = np.array([[[[3.0], [4.0]]], [[[0.0], [-1.0]]]], np.float32)
    # Errors (3, 4) and (0, -1): norms 5 and 1; squared errors averaged over
    # the 2 pixels: (9 + 16) / 2 = 12.5 and (0 + 1) / 2 = 0.5.
    np.testing.assert_allclose(
        losses.reconstruction_energy(images, reconstructions), [5.0, 1.0], rtol=1e-6
    )
    np.testing.assert_allclose(
        losses.reconstruction_energy(images, reconstructions, kind="mse"), [12.5, 0.5]
    )


def test_reconstruction_energy_has_a_finite_gradient_at_a_perfect_reconstruction():
    images = tf.ones((1, 2, 2, 1))
    reconstructions = tf.Variable(tf.ones((1, 2, 2, 1)))
    with tf.GradientTape() as tape:
        energy = losses.reconstruction_energy(images, reconstructions)
    assert np.all(np.isfinite(tape.gradient(energy, reconstructions).numpy()))
    np.testing.assert_allclose(energy, [0.0], atol=1e-5)


def test_unknown_energy_kind_is_rejected():
    with pytest.raises(ValueError, match="Unknown energy kind 'l1'"):
        losses.reconstruction_energy(np.zeros((1, 2)), np.zeros((1, 2)), kind="l1")


def test_ebgan_discriminator_loss_pushes_fake_energy_up_to_the_margin():
    real = np.array([1.0, 2.0, 0.5], np.float32)
    fake = np.array([4.0, 12.0, 10.0], np.float32)
    # m = 10: 1 + max(0, 10 - 4) = 7; 2 + max(0, 10 - 12) = 2; 0.5 + 0 = 0.5.
    np.testing.assert_allclose(
        losses.ebgan_discriminator_loss(real, fake, margin=10.0), [7.0, 2.0, 0.5]
    )


def test_ebgan_discriminator_loss_has_no_gradient_from_fakes_beyond_the_margin():
    fake = tf.constant([4.0, 12.0])
    with tf.GradientTape() as tape:
        tape.watch(fake)
        loss = tf.reduce_sum(losses.ebgan_discriminator_loss(tf.zeros(2), fake, 10.0))
    np.testing.assert_allclose(tape.gradient(loss, fake), [-1.0, 0.0])


def test_ebgan_generator_loss_is_the_fake_energy():
    np.testing.assert_allclose(losses.ebgan_generator_loss([4.0, 12.0]), [4.0, 12.0])


def test_pulling_away_term_of_orthogonal_vectors_is_zero():
    embeddings = np.array([[1.0, 0.0], [0.0, 2.0]], np.float32)
    np.testing.assert_allclose(losses.pulling_away_term(embeddings), [0.0, 0.0], atol=1e-7)


def test_pulling_away_term_of_parallel_vectors_is_one():
    # cos = 1 (or -1 for opposite directions: it is squared), whatever the norms.
    for second in ([3.0, 0.0], [-0.5, 0.0]):
        embeddings = np.array([[1.0, 0.0], second], np.float32)
        np.testing.assert_allclose(losses.pulling_away_term(embeddings), [1.0, 1.0], rtol=1e-6)


def test_pulling_away_term_of_three_vectors():
    # S = (1, 0), (0, 1), (1, 1): cos^2 = 0 between the first two and 1/2
    # between either and the third. Shares pt_i = sum_{j != i} cos^2 / (N - 1):
    # (0 + 1/2) / 2 = 1/4, 1/4, (1/2 + 1/2) / 2 = 1/2. Their mean is the
    # paper's PT = 1/(3 * 2) * 2 * (0 + 1/2 + 1/2) = 1/3.
    embeddings = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], np.float32)
    shares = losses.pulling_away_term(embeddings)
    np.testing.assert_allclose(shares, [0.25, 0.25, 0.5], rtol=1e-6)
    np.testing.assert_allclose(np.mean(shares), 1.0 / 3.0, rtol=1e-6)


def test_pulling_away_shares_of_a_slice_of_the_batch():
    # The shares of rows 0 and 2 of the three-vector batch above, computed
    # with the whole batch (as each replica does with the global batch).
    batch = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], np.float32)
    shares = losses.pulling_away_term(batch[[0, 2]], batch_embeddings=batch)
    np.testing.assert_allclose(shares, [0.25, 0.5], rtol=1e-6)


def test_pulling_away_term_of_a_single_example_is_zero():
    np.testing.assert_allclose(losses.pulling_away_term(np.ones((1, 3), np.float32)), [0.0])


def test_pulling_away_gradient_matches_the_paper_formula():
    # The mean of the shares and the paper's double sum over i != j, written
    # directly from the cosine matrix: same value and same gradient.
    embeddings = tf.Variable(tf.random.normal((5, 4), seed=7))
    with tf.GradientTape(persistent=True) as tape:
        ours = tf.reduce_mean(losses.pulling_away_term(embeddings))
        unit = embeddings / tf.norm(embeddings, axis=1, keepdims=True)
        cosines = tf.matmul(unit, unit, transpose_b=True)
        off_diagonal = tf.reduce_sum(tf.square(cosines)) - tf.reduce_sum(
            tf.square(tf.linalg.diag_part(cosines))
        )
        paper = off_diagonal / (5 * 4)
    np.testing.assert_allclose(ours, paper, rtol=1e-5)
    np.testing.assert_allclose(
        tape.gradient(ours, embeddings), tape.gradient(paper, embeddings), atol=1e-5
    )
