"""WGAN: Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN"
(arXiv:1701.07875).

The critic ``D`` is trained to maximise ``E[D(x)] - E[D(G(z))]``, an estimate
of the Wasserstein-1 distance between the data and the generator's
distribution, which holds only while ``D`` is K-Lipschitz. The paper keeps it
so by clipping every critic weight to ``[-c, c]`` after each critic update.
Its Algorithm 1, with the default values used in all its experiments:
``c = 0.01``, ``n_critic = 5`` critic updates per generator update, RMSProp
with learning rate ``5e-5`` for both players (the paper found momentum-based
optimizers such as Adam unstable here), batch 64. The networks are DCGAN's
(``zoo.models.dcgan``), as in the paper's main experiments; the critic outputs an
unbounded score instead of a logit.

As in Algorithm 1, each critic update draws its own real batch
(``fresh_real_batches``): one train step consumes ``n_critic`` real batches,
fed as ``[batch, n_critic, H, W, C]`` (``zoo.data.make_dataset(group=5)``;
the recipes do this), and one epoch is ``N // (batch * n_critic)`` generator
updates.
"""

import keras
from keras import ops

from zoo.core.adversarial import GAN
from zoo.core.errors import ConfigError
from zoo.core.registry import register
from zoo.models.dcgan import DCGANDiscriminator, DCGANGenerator

PRESETS = {
    "wgan_mnist": {
        "description": "28x28 grayscale (MNIST, Fashion-MNIST): DCGAN networks, "
        "critic weights clipped to [-0.01, 0.01], 5 critic steps, RMSProp(5e-5).",
        "image_shape": (28, 28, 1),
    },
}


@register("wgan", presets=PRESETS)
@keras.saving.register_keras_serializable(package="zoo")
class WGAN(GAN):
    """Wasserstein GAN with weight clipping (Arjovsky et al. 2017, Algorithm 1).

    Args:
        generator: noise ``[batch, latent_dim]`` -> images ``[batch, H, W, C]``.
        discriminator: the critic, images -> scores ``[batch, 1]``.
        clip_value: ``c``; every trainable critic weight is clipped to
            ``[-c, c]`` after each critic update (0.01 in the paper).
        d_steps: ``n_critic``, critic updates per generator update (5).
        fresh_real_batches: a new real batch for each critic update, as in
            Algorithm 1 (True); False reuses one per train step.
        adversarial_loss: ``"wasserstein"`` (critic ``D(G(z)) - D(x)``,
            generator ``-D(G(z))``); other names from ``zoo.core.losses`` train a
            weight-clipped discriminator with that loss instead.
        **kwargs: the remaining ``zoo.core.adversarial.GAN`` arguments.
    """

    network_classes = {"generator": DCGANGenerator, "discriminator": DCGANDiscriminator}
    default_training = {
        **GAN.default_training,
        "batch_size": 64,
        "epochs": 50,
        "d_optimizer": {"class_name": "RMSprop", "config": {"learning_rate": 5e-5}},
        "g_optimizer": {"class_name": "RMSprop", "config": {"learning_rate": 5e-5}},
    }
    def __init__(
        self,
        generator,
        discriminator,
        clip_value=0.01,
        d_steps=5,
        fresh_real_batches=True,
        adversarial_loss="wasserstein",
        **kwargs,
    ):
        if clip_value <= 0:
            raise ConfigError(f"clip_value must be > 0, got {clip_value}.")
        super().__init__(
            generator,
            discriminator,
            d_steps=d_steps,
            fresh_real_batches=fresh_real_batches,
            adversarial_loss=adversarial_loss,
            **kwargs,
        )
        self.clip_value = float(clip_value)

    def after_discriminator_step(self):
        """Clip every trainable critic weight to ``[-c, c]`` (Algorithm 1, line 8).

        Batch norm's moving statistics are not trained by gradients and are
        left alone, as in the paper's code, which clamps only parameters.
        """
        variables = self.discriminator.trainable_variables
        for variable, value in zip(variables, self.constrain_discriminator_values(variables)):
            variable.assign(value)

    def constrain_discriminator_values(self, values):
        """Every value clipped to ``[-c, c]``: also applied to each unrolled
        critic step (``unrolled_steps``)."""
        return [ops.clip(value, -self.clip_value, self.clip_value) for value in values]

    def get_config(self):
        return {**super().get_config(), "clip_value": self.clip_value}
