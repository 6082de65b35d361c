"""EBGAN: Zhao, Mathieu & LeCun 2016, "Energy-based Generative Adversarial
Network" (arXiv:1609.03126).

The discriminator is an energy function, low near the data and high
elsewhere: an auto-encoder whose energy is its reconstruction error
``D(x) = ||Dec(Enc(x)) - x||`` (section 2.3). With a margin ``m`` the losses
are (section 2.1, eqs. 1 and 2):

    L_D = D(x) + max(0, m - D(G(z)))
    L_G = D(G(z)) + lambda_PT * PT

where the pulling-away term PT (section 2.4, "EBGAN-PT") is the mean squared
cosine similarity between the encoder's embeddings of distinct generated
examples, which keeps the generator from collapsing onto a few modes. The
paper's MNIST values: ``m = 10``, ``lambda_PT = 0.1``, Adam with learning
rate ``1e-3``; ``beta_1 = 0.5`` (DCGAN's) and batch 64 are choices made here.

PT couples the examples of a batch. Under a ``tf.distribute`` strategy each
replica gathers the fake embeddings of all replicas (``all_gather``, whose
gradient sums the replicas' gradients back) and computes its own examples'
shares of the PT of the *global* batch, so N replicas compute exactly what one
device computes on the whole batch.

The generator is DCGAN's (``zoo.models.dcgan``; the paper's MNIST networks were
fully connected). The auto-encoder is convolutional, in the style of the
paper's for larger images: 4x4 stride-2 convolutions down, transposed
convolutions up, with a dense bottleneck whose output is the embedding PT
uses.
"""

import keras

from zoo.core import layers, losses
from zoo.core.adversarial import GAN
from zoo.core.errors import ConfigError
from zoo.core.networks import Network, square_image_shape
from zoo.core.optimizers import adam
from zoo.core.registry import register
from zoo.core.replicas import global_batch
from zoo.models.dcgan import DCGANGenerator, upsample_to_image, upsampling_plan, weight_init


@keras.saving.register_keras_serializable(package="zoo")
class AutoEncoderDiscriminator(Network):
    """EBGAN's discriminator: images ``[batch, H, W, C]`` ->
    ``{"reconstruction": [batch, H, W, C], "embedding": [batch, embedding_dim]}``,
    both float32.

    Encoder: stride-2 convolutions with ``base_filters * 2**i`` channels down
    to the DCGAN seed size (batch norm on all but the first, LeakyReLU(0.2)),
    then a dense layer to the embedding. Decoder: a dense layer back to the
    seed, stride-2 transposed convolutions (batch norm, ReLU) up to the image,
    with a linear output.

    Args:
        image_shape: ``(H, W, C)``, H == W of the form ``s * 2**k`` (s >= 4).
        base_filters: channels of the first convolution.
        embedding_dim: size of the embedding (the bottleneck).
        kernel_size: (transposed) convolution kernel (4 in the paper).
    """

    def __init__(
        self,
        image_shape=(28, 28, 1),
        base_filters=64,
        embedding_dim=64,
        kernel_size=4,
        **kwargs,
    ):
        image_shape = square_image_shape(image_shape, "EBGAN")
        _, stages = upsampling_plan(image_shape[0])

        images = keras.Input(image_shape, name="images")
        x = images
        for stage in range(stages):
            x = keras.layers.Conv2D(
                base_filters * 2**stage,
                kernel_size,
                strides=2,
                padding="same",
                use_bias=stage == 0,
                kernel_initializer=weight_init(),
                name=f"encode{stage + 1}",
            )(x)
            if stage > 0:
                x = layers.batch_norm(name=f"encode{stage + 1}_bn")(x)
            x = keras.layers.LeakyReLU(0.2)(x)
        x = keras.layers.Flatten()(x)
        # float32: the pulling-away term normalises these vectors.
        embedding = keras.layers.Dense(
            embedding_dim, kernel_initializer=weight_init(), dtype="float32", name="embedding"
        )(x)

        reconstruction = upsample_to_image(
            embedding,
            image_shape,
            base_filters,
            kernel_size,
            prefix="decode",
            output_name="reconstruction",
            output_dtype="float32",
        )
        super().__init__(
            inputs=images,
            outputs={"reconstruction": reconstruction, "embedding": embedding},
            **kwargs,
        )
        self.image_shape = image_shape
        self.base_filters = base_filters
        self.embedding_dim = embedding_dim
        self.kernel_size = kernel_size


PRESETS = {
    "ebgan_mnist": {
        "description": "28x28 grayscale (MNIST, Fashion-MNIST): EBGAN-PT, DCGAN "
        "generator, convolutional auto-encoder, margin 10, lambda_PT 0.1, Adam(1e-3).",
        "image_shape": (28, 28, 1),
    },
}


@register("ebgan", presets=PRESETS)
@keras.saving.register_keras_serializable(package="zoo")
class EBGAN(GAN):
    """Energy-based GAN with an auto-encoder discriminator (Zhao et al. 2016).

    ``discriminate`` returns ``{"energy": [batch], "embedding": [batch, d]}``
    instead of logits; the loss hooks take those dicts.

    Args:
        generator: noise ``[batch, latent_dim]`` -> images ``[batch, H, W, C]``.
        discriminator: an ``AutoEncoderDiscriminator`` (or any network with
            its outputs).
        margin: ``m``; generated data with energy above it no longer pushes
            the discriminator (10 on MNIST in the paper, with ``energy="l2"``).
        pt_weight: ``lambda_PT``, weight of the pulling-away term (0.1 in
            the paper; 0 gives plain EBGAN).
        energy: ``"l2"`` (the paper's ``||Dec(Enc(x)) - x||``) or ``"mse"``
            (mean squared error per pixel; needs a margin on its scale, ~1).
        **kwargs: the remaining ``zoo.core.adversarial.GAN`` arguments except
            ``adversarial_loss``: EBGAN's losses replace it.
    """

    network_classes = {"generator": DCGANGenerator, "discriminator": AutoEncoderDiscriminator}
    default_training = {
        **GAN.default_training,
        "batch_size": 64,
        "epochs": 25,
        "d_optimizer": adam(1e-3, beta_1=0.5),
        "g_optimizer": adam(1e-3, beta_1=0.5),
    }
    def __init__(
        self,
        generator,
        discriminator,
        margin=10.0,
        pt_weight=0.1,
        energy="l2",
        adversarial_loss=None,
        **kwargs,
    ):
        if adversarial_loss is not None:
            raise ConfigError(
                "EBGAN trains with its own energy losses; adversarial_loss must be "
                f"None, got {adversarial_loss!r}."
            )
        if energy not in ("l2", "mse"):
            raise ConfigError(f"Unknown energy {energy!r}; use 'l2' or 'mse'.")
        super().__init__(generator, discriminator, adversarial_loss=None, **kwargs)
        self.margin = float(margin)
        self.pt_weight = float(pt_weight)
        self.energy = energy

    def discriminate(self, images, condition=None, training=False):
        """``{"energy": [batch], "embedding": [batch, embedding_dim]}``, float32."""
        outputs = self.discriminator(images, training=training)
        return {
            "energy": losses.reconstruction_energy(
                images, outputs["reconstruction"], self.energy
            ),
            "embedding": keras.ops.cast(outputs["embedding"], "float32"),
        }

    def discriminator_loss(self, real_outputs, fake_outputs):
        """``D(x) + max(0, m - D(G(z)))``, ``[batch]``."""
        return losses.ebgan_discriminator_loss(
            real_outputs["energy"], fake_outputs["energy"], self.margin
        )

    def generator_loss(self, fake_outputs):
        """``D(G(z)) + lambda_PT * pt_i``, ``[batch]``; its global-batch mean is
        ``L_G`` with the PT of the global batch."""
        loss = losses.ebgan_generator_loss(fake_outputs["energy"])
        if self.pt_weight:
            embedding = fake_outputs["embedding"]
            loss = loss + self.pt_weight * losses.pulling_away_term(
                embedding, global_batch(embedding)
            )
        return loss

    def get_config(self):
        return {
            **super().get_config(),
            "margin": self.margin,
            "pt_weight": self.pt_weight,
            "energy": self.energy,
        }
