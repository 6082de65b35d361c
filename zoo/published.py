"""Published scores to set beside the zoo's, with where each comes from.

``PUBLISHED_FID[(architecture, dataset)]`` lists ``(label, fid, source)``:
FID of 10,000 generated images against the real test images with the
standard Inception network, the protocol ``zoo.evaluate`` follows. Lucic et
al. 2018 report the best FID of a large hyperparameter search (100 settings
per model and dataset) for each loss with one shared architecture; the zoo's
architectures map to the loss they train with (DCGAN, GAN and cGAN use the
non-saturating loss: "NS GAN").
"""

from __future__ import annotations

LUCIC = "Lucic et al. 2018, *Are GANs Created Equal?*, Table 2 (best FID of a 100-setting search)"
STUDIOGAN = "Kang et al., PyTorch-StudioGAN benchmark (DCGAN, CIFAR-10, 10k samples vs the test set)"

PUBLISHED_FID = {
    ("gan", "mnist"): [("NS GAN", 6.8, LUCIC)],
    ("cgan", "mnist"): [("NS GAN (unconditional)", 6.8, LUCIC)],
    ("dcgan", "mnist"): [("NS GAN", 6.8, LUCIC)],
    ("wgan", "mnist"): [("WGAN", 6.7, LUCIC)],
    ("wgan_gp", "mnist"): [("WGAN GP", 20.3, LUCIC)],
    ("lsgan", "mnist"): [("LSGAN", 7.8, LUCIC)],
    ("dcgan", "fashion_mnist"): [("NS GAN", 26.5, LUCIC)],
    ("wgan", "fashion_mnist"): [("WGAN", 21.5, LUCIC)],
    ("wgan_gp", "fashion_mnist"): [("WGAN GP", 24.5, LUCIC)],
    ("dcgan", "cifar10"): [("NS GAN", 58.5, LUCIC), ("DCGAN", 48.3, STUDIOGAN)],
    ("wgan_gp", "cifar10"): [("WGAN GP", 55.8, LUCIC)],
}


def published_fid(architecture, dataset):
    """``[(label, fid, source), ...]`` for an architecture on a dataset
    (``"mnist"``, ``"fashion_mnist"``, ``"cifar10"``), or ``[]``."""
    name = str(dataset).rstrip("/").rsplit("/", 1)[-1].replace("-", "_")
    return list(PUBLISHED_FID.get((architecture, name), []))
