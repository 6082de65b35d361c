"""Fréchet distance between Gaussians fitted to features: FID.

Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge to a
Local Nash Equilibrium", NeurIPS 2017:

    FID = ||mu_1 - mu_2||^2 + Tr(S_1) + Tr(S_2) - 2 Tr((S_1 S_2)^{1/2})

All arithmetic is float64. The trace of the matrix square root is taken
as ``sum(sqrt(eig(A S_2 A)))`` with ``A = S_1^{1/2}`` from a symmetric
eigendecomposition: ``S_1 S_2`` is similar to the symmetric PSD matrix
``A S_2 A``, so their eigenvalues agree, and unlike ``scipy.linalg.sqrtm``
of the non-symmetric product this never returns complex values or NaNs
for singular covariances (fewer samples than feature dimensions).
Eigenvalues below zero that are only rounding noise are clipped to 0.
"""

from __future__ import annotations

import numpy as np


def gaussian_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean [D] and unbiased covariance [D, D] (float64) of features [N, D]."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ValueError(f"need features [N >= 2, D], got shape {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix."""
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T


def trace_sqrt_product(sigma1, sigma2) -> float:
    """``Tr((S_1 S_2)^{1/2})`` for symmetric PSD S_1, S_2 [D, D]."""
    root1 = _psd_sqrt(np.asarray(sigma1, dtype=np.float64))
    middle = root1 @ np.asarray(sigma2, dtype=np.float64) @ root1
    middle = (middle + middle.T) / 2.0  # symmetric up to rounding; make it exact
    return float(np.sqrt(np.clip(np.linalg.eigvalsh(middle), 0.0, None)).sum())


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2); see the module docstring."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f"shape mismatch: {mu1.shape} vs {mu2.shape}, {sigma1.shape} vs {sigma2.shape}")
    diff = mu1 - mu2
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt_product(sigma1, sigma2)
    return max(float(value), 0.0)  # a distance; tiny negatives are rounding


def fid_from_features(features1, features2) -> float:
    """FID between two feature sets [N1, D] and [N2, D]."""
    return frechet_distance(*gaussian_statistics(features1), *gaussian_statistics(features2))
