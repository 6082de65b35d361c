"""Kernel Inception Distance (KID).

Binkowski et al., "Demystifying MMD GANs", ICLR 2018: the squared maximum
mean discrepancy between two feature sets under the cubic polynomial
kernel ``k(x, y) = (x . y / d + 1)^3`` (d = feature dimension), with the
unbiased estimator

    MMD^2 = sum_{i != j} k(x_i, x_j) / (m (m - 1))
          + sum_{i != j} k(y_i, y_j) / (m (m - 1))
          - 2 sum_{i, j} k(x_i, y_j) / m^2,

computed on ``num_subsets`` random subsets of ``subset_size`` samples
drawn without replacement from each set, and reported as the mean and
standard deviation over subsets. Being unbiased it can be slightly
negative when the two sets come from one distribution.
"""

from __future__ import annotations

import numpy as np


def polynomial_kernel(x, y) -> np.ndarray:
    """``(x . y / d + 1)^3`` for x [N, D], y [M, D] -> [N, M] (float64)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def unbiased_mmd2(x, y) -> float:
    """Unbiased MMD^2 between x [m, D] and y [m, D] with the cubic polynomial kernel."""
    m = x.shape[0]
    if y.shape[0] != m or m < 2:
        raise ValueError(f"need two sets of equal size >= 2, got {x.shape[0]} and {y.shape[0]}")
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within - 2.0 * k_xy.sum() / (m * m))


def kernel_inception_distance(features1, features2, num_subsets: int = 100,
                              subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
    """KID between features1 [N1, D] and features2 [N2, D].

    Args:
      num_subsets: how many random subset pairs to average over.
      subset_size: samples per subset, capped at ``min(N1, N2)``.
      seed: seeds the subset draws, so results are reproducible.

    Returns:
      ``(mean, std)`` of the per-subset unbiased MMD^2.
    """
    features1 = np.asarray(features1, np.float64)
    features2 = np.asarray(features2, np.float64)
    m = min(subset_size, len(features1), len(features2))
    rng = np.random.default_rng(seed)
    values = [
        unbiased_mmd2(features1[rng.choice(len(features1), m, replace=False)],
                      features2[rng.choice(len(features2), m, replace=False)])
        for _ in range(num_subsets)
    ]
    return float(np.mean(values)), float(np.std(values))
