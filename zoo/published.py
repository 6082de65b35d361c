"""Published scores to set beside the zoo's, with where each comes from.

``PUBLISHED_FID[(architecture, dataset)]`` lists ``(label, fid, source)``:
FID of 10,000 generated images against the 10,000 real test images with the
standard Inception network, the protocol ``zoo.evaluate`` follows. Lucic et
al. 2018 searched 100 hyperparameter settings per loss and dataset with one
shared (InfoGAN-style) architecture, batch 64, then retrained the best
setting with 50 seeds: their Table 2 gives the mean (the +- is omitted
here). The zoo's architectures map to the loss they train with (DCGAN, GAN
and cGAN use the non-saturating loss: "NS GAN"). StudioGAN's 48.29 for DCGAN
on CIFAR-10 is at 50,000 samples against the training set; at this
protocol its older tables give 49.03. Miyato et al.'s 29.3 for SNGAN's
standard CNN is the one value at another protocol (10,000 generated
against 5,000 real images, the split not stated): its label says so.
"""

from __future__ import annotations

LUCIC = ("Lucic et al. 2018, *Are GANs Created Equal?*, Table 2: the best of 100 hyperparameter settings, "
         "mean of 50 seeds, 10k samples against the test set")
STUDIOGAN = ("Kang et al., PyTorch-StudioGAN, README benchmark of 2021-2022 (DCGAN, 10k samples against "
             "the test set; the current benchmark's 48.29 is 50k against the training set)")
MIYATO = ("Miyato et al. 2018, *Spectral Normalization for GANs*, Table 2: the standard CNN with the "
          "non-saturating loss, 100k generator updates; FID over 10,000 generated and 5,000 real images")

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
    ("dcgan", "cifar10"): [("NS GAN", 58.5, LUCIC), ("StudioGAN DCGAN", 49.03, STUDIOGAN)],
    ("wgan_gp", "cifar10"): [("WGAN GP", 55.8, LUCIC)],
    ("sngan", "cifar10"): [("SN-GAN standard CNN, 10k vs 5k real", 29.3, MIYATO)],
}


def dataset_name(dataset):
    """The name a dataset is known by (``../shared/datasets/mnist`` -> ``mnist``)."""
    return str(dataset).rstrip("/").rsplit("/", 1)[-1].replace("-", "_")


def published_fid(architecture, dataset):
    """``[(label, fid, source), ...]`` for an architecture on a dataset
    (``"mnist"``, ``"fashion_mnist"``, ``"cifar10"``), or ``[]``."""
    return list(PUBLISHED_FID.get((architecture, dataset_name(dataset)), []))
