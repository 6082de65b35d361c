"""The zoo's architectures, one module each: networks, presets, the model.

Importing this package registers every architecture (``zoo.get``) and its
networks (``keras.models.load_model``).
"""

from zoo.models import (  # noqa: F401
    aae,
    biggan,
    cgan,
    cyclegan,
    dcgan,
    discogan,
    ebgan,
    gan,
    gan_cls,
    lapgan,
    lsgan,
    pix2pix,
    pixelrnn,
    progan,
    sngan,
    srgan,
    stackgan,
    stylegan,
    wgan,
    wgan_gp,
)
