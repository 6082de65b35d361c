"""GAN Zoo: generative adversarial networks as Keras 3 models.

Importing ``zoo`` before TensorFlow turns on oneDNN's CPU kernels, which
TensorFlow leaves off by default on AMD CPUs and which make a DCGAN step
about 2x faster there (see ``bench/train_step.py``). Set
``TF_ENABLE_ONEDNN_OPTS=0`` yourself to opt out.
"""

import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

# Importing the architecture modules registers them (zoo.get / zoo.names) and
# their networks (keras.models.load_model).
from zoo import aae, cgan, dcgan, ebgan, gan, lsgan, sngan, wgan, wgan_gp  # noqa: E402,F401
from zoo.base import GAN  # noqa: E402,F401
from zoo.registry import get, names  # noqa: E402,F401


def presets():
    """``{preset name: architecture name}`` for every registered model."""
    return {
        preset: name for name in names() for preset in get(name).presets
    }
