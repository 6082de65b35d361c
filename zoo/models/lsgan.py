"""LSGAN: Mao, Li, Xie, Lau, Wang & Smolley 2017, "Least Squares Generative
Adversarial Networks" (arXiv:1611.04076).

The discriminator regresses its output onto target values instead of
classifying with a sigmoid cross-entropy (eq. 2):

    min_D 1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2]
    min_G 1/2 E[(D(G(z)) - c)^2]

``a`` and ``b`` are the targets for fake and real data, ``c`` the value the
generator wants the discriminator to give its samples. The paper proposes two
codings: ``a = -1, b = 1, c = 0`` (eq. 8), for which ``b - c = 1`` and
``b - a = 2`` make the game minimise the Pearson chi-squared divergence
between ``p_data + p_g`` and ``2 p_g``; and ``a = 0, b = c = 1`` (eq. 9),
which makes ``G`` generate samples as real as possible. The authors'
released code trains with the 0-1 coding of eq. 9, which is the default here
(preset ``lsgan_mnist``; ``lsgan_mnist_pearson`` uses eq. 8).

Optimizer, as in the authors' code: Adam with ``beta_1 = 0.5`` (following
DCGAN) and learning rate ``2e-4`` for their 28x28 handwritten-character model
(``1e-3`` for the 112x112 LSUN scenes), batch 64. The networks are DCGAN's;
the discriminator's output is the raw regression value.
"""

import keras

from zoo.core import losses
from zoo.core.adversarial import GAN
from zoo.core.errors import ConfigError
from zoo.core.registry import register
from zoo.models.dcgan import DCGANDiscriminator, DCGANGenerator

PRESETS = {
    "lsgan_mnist": {
        "description": "28x28 grayscale (MNIST, Fashion-MNIST): DCGAN networks, "
        "0-1 coding a=0, b=c=1 (eq. 9), Adam(2e-4, 0.5).",
        "image_shape": (28, 28, 1),
    },
    "lsgan_mnist_pearson": {
        "description": "As lsgan_mnist with a=-1, b=1, c=0 (eq. 8): minimises "
        "the Pearson chi-squared divergence.",
        "image_shape": (28, 28, 1),
        "model": {"a": -1.0, "b": 1.0, "c": 0.0},
    },
}


@register("lsgan", presets=PRESETS)
@keras.saving.register_keras_serializable(package="zoo")
class LSGAN(GAN):
    """Least squares GAN (Mao et al. 2017, eq. 2) with targets ``a, b, c``.

    Args:
        generator: noise ``[batch, latent_dim]`` -> images ``[batch, H, W, C]``.
        discriminator: images -> outputs ``[batch, 1]``.
        a: the discriminator's target for generated data.
        b: the discriminator's target for real data.
        c: the target the generator pushes ``D(G(z))`` towards.
        **kwargs: the remaining ``zoo.core.adversarial.GAN`` arguments; ``adversarial_loss``
            can only be ``"least_squares"``.
    """

    network_classes = {"generator": DCGANGenerator, "discriminator": DCGANDiscriminator}
    default_training = {**GAN.default_training, "batch_size": 64, "epochs": 25}
    def __init__(self, generator, discriminator, a=0.0, b=1.0, c=1.0, **kwargs):
        loss = kwargs.pop("adversarial_loss", "least_squares")
        if loss != "least_squares":
            raise ConfigError(
                f"LSGAN trains with the least squares loss; got adversarial_loss={loss!r}."
            )
        super().__init__(generator, discriminator, adversarial_loss=loss, **kwargs)
        self.a, self.b, self.c = float(a), float(b), float(c)

    def discriminator_loss(self, real_logits, fake_logits):
        """``1/2 (D(x) - b)^2 + 1/2 (D(G(z)) - a)^2``, ``[batch]``."""
        return losses.least_squares_discriminator_loss(
            real_logits, fake_logits, a=self.a, b=self.b
        )

    def generator_loss(self, fake_logits):
        """``1/2 (D(G(z)) - c)^2``, ``[batch]``."""
        return losses.least_squares_generator_loss(fake_logits, c=self.c)

    def get_config(self):
        return {**super().get_config(), "a": self.a, "b": self.b, "c": self.c}
