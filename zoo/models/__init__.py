"""The zoo's architectures, one module each: networks, presets, the model.

Importing this package registers every architecture (``zoo.get``) and its
networks (``keras.models.load_model``).
"""

from zoo.models import aae, cgan, dcgan, ebgan, gan, lsgan, sngan, wgan, wgan_gp  # noqa: F401
