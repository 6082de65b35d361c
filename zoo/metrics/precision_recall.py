"""Improved precision and recall of generative models.

Kynkaanniemi et al., "Improved Precision and Recall Metric for Assessing
Generative Models", NeurIPS 2019. Each feature set approximates its
manifold by the union of balls centred on its samples, each ball's radius
being the distance to that sample's k-th nearest neighbour in its own set
(the sample itself not counted; k = 3 in the paper). Then

* precision = fraction of generated samples inside the real manifold;
* recall = fraction of real samples inside the generated manifold,

"inside" meaning within distance <= radius of at least one ball.
Distances are Euclidean, computed in float64 in row blocks to bound memory.
"""

from __future__ import annotations

import numpy as np


def _pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances [len(a), len(b)] via |a|^2 + |b|^2 - 2 a.b (float64)."""
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.clip(squared, 0.0, None))


def _kth_neighbour_radii(features: np.ndarray, k: int, block: int) -> np.ndarray:
    """Distance from each sample to its k-th nearest other sample [N]."""
    if len(features) <= k:
        raise ValueError(f"need more than k={k} samples, got {len(features)}")
    radii = np.empty(len(features))
    for start in range(0, len(features), block):
        d = _pairwise_distances(features[start:start + block], features)
        # Column k of the sorted row: column 0 is the sample's distance to itself.
        radii[start:start + block] = np.partition(d, k, axis=1)[:, k]
    return radii


def precision_recall(real_features, fake_features, k: int = 3, block: int = 1000) -> tuple[float, float]:
    """Improved precision and recall of fake [M, D] against real [N, D] features.

    Returns:
      ``(precision, recall)``, each in [0, 1].
    """
    real = np.asarray(real_features, np.float64)
    fake = np.asarray(fake_features, np.float64)
    real_radii = _kth_neighbour_radii(real, k, block)
    fake_radii = _kth_neighbour_radii(fake, k, block)
    # One pass over the fake-to-real distances answers both questions: a row
    # says whether that fake sample is in some real ball, a column whether
    # that real sample is in some fake ball.
    fake_inside = 0
    real_inside = np.zeros(len(real), dtype=bool)
    for start in range(0, len(fake), block):
        d = _pairwise_distances(fake[start:start + block], real)
        fake_inside += int(np.any(d <= real_radii[None, :], axis=1).sum())
        real_inside |= np.any(d <= fake_radii[start:start + block, None], axis=0)
    return fake_inside / len(fake), float(real_inside.mean())
