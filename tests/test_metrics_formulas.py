"""Known-answer tests for the metric formulas (no TensorFlow, no data)."""

import numpy as np
import pytest
import scipy.linalg

from zoo.metrics import (fid_from_features, frechet_distance, gaussian_statistics, inception_score,
                         kernel_inception_distance, precision_recall)
from zoo.metrics.kid import unbiased_mmd2


def _random_spd(rng, d):
    a = rng.standard_normal((d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


# --- FID (Heusel et al. 2017) ----------------------------------------------------------------

def test_fid_of_identical_sets_is_zero():
    features = np.random.default_rng(0).standard_normal((500, 32))
    assert fid_from_features(features, features) == pytest.approx(0.0, abs=1e-8)


def test_fid_of_diagonal_gaussians_has_closed_form():
    # |mu1 - mu2|^2 = 9 + 16; sum (sqrt(a_i) - sqrt(b_i))^2 = (1 - 2)^2 + (2 - 3)^2.
    value = frechet_distance([0, 0], np.diag([1.0, 4.0]), [3, 4], np.diag([4.0, 9.0]))
    assert value == pytest.approx(27.0, rel=1e-12)


def test_fid_against_identity_covariance_has_closed_form():
    # With S1 = I: FID = Tr(I) + Tr(A) - 2 Tr(A^1/2) = sum_i (1 - sqrt(lambda_i))^2.
    a = _random_spd(np.random.default_rng(1), 20)
    expected = ((1.0 - np.sqrt(np.linalg.eigvalsh(a))) ** 2).sum()
    assert frechet_distance(np.zeros(20), np.eye(20), np.zeros(20), a) == pytest.approx(expected, rel=1e-9)


def test_fid_matches_direct_scipy_computation():
    rng = np.random.default_rng(2)
    mu1, mu2 = rng.standard_normal(64), rng.standard_normal(64)
    s1, s2 = _random_spd(rng, 64), _random_spd(rng, 64)
    direct = (np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2)
              - 2 * np.trace(scipy.linalg.sqrtm(s1 @ s2).real))
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(direct, rel=1e-6)


def test_fid_of_samples_approaches_closed_form():
    rng = np.random.default_rng(3)
    x = rng.normal([0.0, 0.0], [1.0, 2.0], size=(200_000, 2))
    y = rng.normal([3.0, 4.0], [2.0, 3.0], size=(200_000, 2))
    assert fid_from_features(x, y) == pytest.approx(27.0, rel=2e-3)


def test_fid_with_singular_covariances_is_finite():
    # Fewer samples than dimensions: rank-deficient covariances, where sqrtm of S1 S2 goes complex.
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((10, 50)), rng.standard_normal((10, 50)) + 1.0
    value = fid_from_features(x, y)
    assert np.isfinite(value) and value > 40.0  # the mean shift alone contributes about 50


def test_gaussian_statistics_is_mean_and_unbiased_covariance():
    mu, sigma = gaussian_statistics([[0.0, 1.0], [2.0, 3.0], [4.0, 8.0]])
    np.testing.assert_allclose(mu, [2.0, 4.0])
    np.testing.assert_allclose(sigma, [[4.0, 7.0], [7.0, 13.0]])


# --- KID (Binkowski et al. 2018) --------------------------------------------------------------

def test_unbiased_mmd_by_hand():
    # d = 1, k(a, b) = (a b + 1)^3. K_xx off-diagonal: k(0,1) = 1; K_yy: k(1,2) = 27;
    # K_xy: k(0,1) + k(0,2) + k(1,1) + k(1,2) = 1 + 1 + 8 + 27 = 37.
    # MMD^2 = 2*1/2 + 2*27/2 - 2*37/4 = 1 + 27 - 18.5.
    x, y = np.array([[0.0], [1.0]]), np.array([[1.0], [2.0]])
    assert unbiased_mmd2(x, y) == pytest.approx(9.5)
    mean, std = kernel_inception_distance(x, y, num_subsets=5, subset_size=2)
    assert mean == pytest.approx(9.5) and std == pytest.approx(0.0)


def test_kid_is_near_zero_for_one_distribution_and_large_for_two():
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((2000, 16)), rng.standard_normal((2000, 16))
    same_mean, same_std = kernel_inception_distance(x, y, num_subsets=20, subset_size=500)
    identical_mean, _ = kernel_inception_distance(x, x, num_subsets=20, subset_size=500)
    shifted_mean, _ = kernel_inception_distance(x, y + 1.0, num_subsets=20, subset_size=500)
    assert abs(same_mean) < 0.01 and abs(identical_mean) < 0.01
    assert same_std > 0.0
    assert shifted_mean > 1.0


# --- Inception Score (Salimans et al. 2016) ---------------------------------------------------

def test_inception_score_of_uniform_predictions_is_one():
    assert inception_score(np.zeros((100, 10)), splits=10) == pytest.approx((1.0, 0.0))


def test_inception_score_of_confident_spread_predictions_is_num_classes():
    logits = 100.0 * np.eye(10)[np.arange(100) % 10]
    mean, std = inception_score(logits, splits=10)
    assert mean == pytest.approx(10.0, rel=1e-9) and std == pytest.approx(0.0, abs=1e-9)


def test_inception_score_by_hand():
    # p1 = (1, 0), p2 = (1/2, 1/2), p(y) = (3/4, 1/4):
    # KL1 = log(4/3), KL2 = (log(2/3) + log(2)) / 2.
    logits = np.array([[0.0, -1000.0], [0.0, 0.0]])
    expected = np.exp((np.log(4 / 3) + 0.5 * np.log(2 / 3) + 0.5 * np.log(2)) / 2)
    assert inception_score(logits, splits=1)[0] == pytest.approx(expected, rel=1e-12)


def test_inception_score_splits_are_scored_separately():
    confident = 100.0 * np.eye(10)[np.arange(50) % 10]
    logits = np.concatenate([confident, np.zeros((50, 10))])
    assert inception_score(logits, splits=2) == pytest.approx((5.5, 4.5))


# --- Precision and recall (Kynkaanniemi et al. 2019) ------------------------------------------

def test_precision_recall_by_hand_k1():
    # Real points 0..4 have radius 1 (nearest other point). Fake 0.5 is inside, 10 is not.
    # Fake radii (k=1) are 9.5, so the ball around 0.5 covers every real point.
    real = np.arange(5.0)[:, None]
    fake = np.array([[0.5], [10.0]])
    assert precision_recall(real, fake, k=1) == pytest.approx((0.5, 1.0))


def test_precision_recall_by_hand_k3():
    # Real 0..9: the 3rd nearest other point of 0 is 3 away, of 1 is 2, of 9 is 3.
    # Fake -3 is exactly on the ball of 0 (inside); -3.5 and 12.5 are outside; 4.5 is inside.
    real = np.arange(10.0)[:, None]
    fake = np.array([[-3.0], [-3.5], [12.5], [4.5]])
    precision, _ = precision_recall(real, fake, k=3, block=3)
    assert precision == pytest.approx(0.5)
    # Swapped roles: fake radii are the distance to the farthest other of 4 points, so all of
    # real (0..9 lies within 15.5 of -3) is covered: recall = 1.
    assert precision_recall(real, fake, k=3)[1] == pytest.approx(1.0)


def test_precision_recall_of_identical_and_disjoint_sets():
    x = np.random.default_rng(6).standard_normal((300, 8))
    assert precision_recall(x, x) == (1.0, 1.0)
    assert precision_recall(x, x + 100.0) == (0.0, 0.0)
