"""Evaluation metrics for GANs: FID, KID, Inception Score, precision/recall.

Formulas on feature arrays (NumPy, float64):

* ``fid_from_features`` / ``frechet_distance`` (Heusel et al. 2017),
* ``kernel_inception_distance`` (Binkowski et al. 2018),
* ``inception_score`` (Salimans et al. 2016),
* ``precision_recall`` (Kynkaanniemi et al. 2019).

Feature networks: the FID Inception-v3 (``inception``,
``inception_weights``) and small domain classifiers (``classifier``),
both behind ``features.FeatureExtractor``. ``FIDCallback`` tracks FID
during training; ``python -m zoo.evaluate`` scores saved generators.

Submodules that need TensorFlow are imported lazily, so the formulas can
be used without it.
"""

from zoo.metrics.frechet import fid_from_features, frechet_distance, gaussian_statistics
from zoo.metrics.inception_score import inception_score
from zoo.metrics.kid import kernel_inception_distance
from zoo.metrics.precision_recall import precision_recall

__all__ = [
    "FIDCallback",
    "fid_from_features",
    "frechet_distance",
    "gaussian_statistics",
    "inception_score",
    "kernel_inception_distance",
    "precision_recall",
]


def __getattr__(name):
    if name == "FIDCallback":
        from zoo.metrics.callback import FIDCallback
        return FIDCallback
    raise AttributeError(f"module 'zoo.metrics' has no attribute {name!r}")
