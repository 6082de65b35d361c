"""GAN Zoo: generative adversarial networks as Keras 3 models.

Importing ``zoo`` before TensorFlow turns on oneDNN's CPU kernels, which
TensorFlow leaves off by default on AMD CPUs and which make a DCGAN step
about 2.5x faster there (see ``bench/train_step.py``). Set
``TF_ENABLE_ONEDNN_OPTS=0`` yourself to opt out.
"""

import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
