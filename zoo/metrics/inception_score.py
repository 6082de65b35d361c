"""Inception Score (IS) from class logits.

Salimans et al., "Improved Techniques for Training GANs", NeurIPS 2016:

    IS = exp( E_x KL( p(y|x) || p(y) ) ),  p(y) = E_x p(y|x),

computed separately on ``splits`` equal consecutive parts of the samples
and reported as the mean and standard deviation over parts (the original
code used 10 splits of 50,000 samples). It ranges from 1 (every sample
gets the same prediction) to the number of classes (confident and evenly
spread predictions).

Which network gives the logits: for the standard score, the FID
Inception's 1008-way ``softmax`` head, which only the official TF graph
carries (``load_fid_inception(with_logits=True)`` downloads it); the
offline TorchScript weights stop at pool3, so without a network the
Inception Score is not reported. For MNIST and Fashion-MNIST, where an
ImageNet classifier's classes mean little anyway, the "classifier score"
is this same formula on the shipped domain classifier's 10-way logits
(``zoo.metrics.classifier``).
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_softmax


def inception_score(logits, splits: int = 10) -> tuple[float, float]:
    """IS of class logits [N, K] (float64 internally).

    Args:
      logits: unnormalised log-probabilities; any softmax-invariant shift is fine.
      splits: number of equal consecutive parts (the last ``N % splits``
        samples are dropped so that parts are equal).

    Returns:
      ``(mean, std)`` over the splits.
    """
    log_p = log_softmax(np.asarray(logits, np.float64), axis=1)
    part_size = len(log_p) // splits
    if part_size < 1:
        raise ValueError(f"{len(log_p)} samples cannot make {splits} splits")
    scores = []
    for i in range(splits):
        part = log_p[i * part_size:(i + 1) * part_size]
        p = np.exp(part)
        log_marginal = np.log(p.mean(axis=0))
        # p * (log p - log p(y)); where p underflows to 0 the term is 0.
        kl = np.where(p > 0, p * (part - log_marginal), 0.0).sum(axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))
