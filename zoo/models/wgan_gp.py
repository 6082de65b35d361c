"""WGAN-GP: Gulrajani, Ahmed, Arjovsky, Dumoulin & Courville 2017, "Improved
Training of Wasserstein GANs" (arXiv:1704.00028).

WGAN (``zoo.models.wgan``) with the critic kept 1-Lipschitz by a soft constraint
instead of weight clipping: the critic loss gains
``lambda * (||grad_x D(x_hat)||_2 - 1)^2`` at random points
``x_hat = alpha x + (1 - alpha) G(z)`` on lines between real and generated
examples, one ``alpha ~ U[0, 1]`` per example. The paper's Algorithm 1 and
defaults: ``lambda = 10``, ``n_critic = 5``, Adam with learning rate
``1e-4``, ``beta_1 = 0``, ``beta_2 = 0.9``, batch 64. The penalty is taken
per example, so the critic must not mix examples: no batch norm (section 4,
"No critic batch normalization"; the paper suggests layer norm instead). The
networks are DCGAN's, the critic without batch norm.
"""

import keras
import tensorflow as tf

from zoo.core import losses, terms
from zoo.core.adversarial import GAN
from zoo.core.errors import ConfigError
from zoo.core.optimizers import adam
from zoo.core.registry import register
from zoo.models.dcgan import DCGANDiscriminator, DCGANGenerator

PRESETS = {
    "wgan_gp_mnist": {
        "description": "28x28 grayscale (MNIST, Fashion-MNIST): DCGAN networks, "
        "critic without batch norm, gradient penalty 10, 5 critic steps, "
        "Adam(1e-4, 0, 0.9).",
        "image_shape": (28, 28, 1),
        "discriminator": {"batch_norm": False},
    },
}


def _has_batch_norm(network):
    """Whether ``network`` or a model nested in it has a BatchNormalization."""
    return any(
        isinstance(layer, keras.layers.BatchNormalization) or _has_batch_norm(layer)
        for layer in getattr(network, "layers", [])
    )


@register("wgan_gp", presets=PRESETS)
@keras.saving.register_keras_serializable(package="zoo")
class WGANGP(GAN):
    """Wasserstein GAN with gradient penalty (Gulrajani et al. 2017, Algorithm 1).

    Args:
        generator: noise ``[batch, latent_dim]`` -> images ``[batch, H, W, C]``.
        discriminator: the critic, images -> scores ``[batch, 1]``; must not
            contain batch normalization.
        gp_weight: ``lambda``, the weight of the gradient penalty (10).
        d_steps: ``n_critic``, critic updates per generator update (5).
        fresh_real_batches: a new real batch for each critic update, as in
            the paper's Algorithm 1 (True); False reuses one per train step.
        adversarial_loss: ``"wasserstein"``, or another name from
            ``zoo.core.losses`` to add the penalty to that loss instead.
        **kwargs: the remaining ``zoo.core.adversarial.GAN`` arguments.

    Raises:
        ConfigError: if the critic has batch normalization.
    """

    network_classes = {"generator": DCGANGenerator, "discriminator": DCGANDiscriminator}
    default_training = {
        **GAN.default_training,
        "batch_size": 64,
        "epochs": 50,
        "d_optimizer": adam(1e-4, beta_1=0.0, beta_2=0.9),
        "g_optimizer": adam(1e-4, beta_1=0.0, beta_2=0.9),
    }
    def __init__(
        self,
        generator,
        discriminator,
        gp_weight=10.0,
        d_steps=5,
        fresh_real_batches=True,
        adversarial_loss="wasserstein",
        **kwargs,
    ):
        if _has_batch_norm(discriminator):
            raise ConfigError(
                "WGAN-GP penalises each example's input gradient, so its critic "
                "must not use batch normalization (e.g. "
                "DCGANDiscriminator(batch_norm=False))."
            )
        super().__init__(
            generator,
            discriminator,
            d_steps=d_steps,
            fresh_real_batches=fresh_real_batches,
            adversarial_loss=adversarial_loss,
            **kwargs,
        )
        self.gp_weight = float(gp_weight)

    # The norm the penalty pulls the critic's gradient to (1 in the paper;
    # ProGAN's CIFAR-10 setup uses 750).
    gradient_target = 1.0

    def sample_interpolation_weights(self, batch_size):
        """``alpha ~ U[0, 1]``, ``[batch_size]``, from the model's seed stream
        (different on every replica, as the noise)."""
        return tf.random.stateless_uniform((batch_size,), seed=self.next_seed())

    def discriminator_terms(self):
        """``gradient_penalty``: ``lambda * (||grad D(x_hat)|| - 1)^2`` per example."""

        def penalty(t):
            alpha = self.sample_interpolation_weights(tf.shape(t.real)[0])

            def critic(images):
                return self.discriminate(images, t.condition, training=True)

            return losses.gradient_penalty(critic, t.real, t.fake, alpha, target=self.gradient_target)

        return [terms.LossTerm("gradient_penalty", penalty, weight=self.gp_weight)]

    def get_config(self):
        return {**super().get_config(), "gp_weight": self.gp_weight}
