"""GAN Zoo: generative models as Keras 3 models on TensorFlow.

    import zoo
    model = zoo.get("dcgan").from_preset("dcgan_mnist")   # zoo.names(), zoo.presets()

Layout: ``zoo.core`` (the model classes every architecture builds on:
``ZooModel``, ``GAN``; conditions, loss terms, losses, layers, phases),
``zoo.models`` (one module per architecture), ``zoo.data``,
``zoo.training`` (resumable fit, callbacks, checkpoints, strategies, the
recipes' command line), ``zoo.export``, ``zoo.metrics`` and
``zoo.evaluate``.

Importing ``zoo`` before TensorFlow turns on oneDNN's CPU kernels, which
TensorFlow leaves off by default on CPUs without AVX-512 and which make a
DCGAN step about 2x faster there (see ``bench/train_step.py``). Set
``TF_ENABLE_ONEDNN_OPTS=0`` yourself to opt out.
"""

import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.2.0"

# Importing the architecture modules registers them (zoo.get / zoo.names) and
# their networks (keras.models.load_model).
from zoo import models  # noqa: E402,F401
from zoo.core.adversarial import GAN  # noqa: E402,F401
from zoo.core.model import ZooModel  # noqa: E402,F401
from zoo.core.registry import get, names, presets  # noqa: E402,F401
from zoo.pretrained import load, pretrained  # noqa: E402,F401
