"""SNGAN: Miyato, Kataoka, Koyama & Yoshida 2018, "Spectral Normalization for
Generative Adversarial Networks" (ICLR 2018, arXiv:1802.05957).

Every weight layer of the discriminator is spectrally normalised
(``zoo.core.layers.SpectralNormalization``): its kernel is divided by its largest
singular value, which bounds the discriminator's Lipschitz constant without a
gradient penalty. The singular value is estimated by power iteration with a
persistent vector (the paper's Algorithm 1), one iteration per training-mode
call: each discriminator update calls the network on real and on fake
images and the generator update once more, so with ``n_dis = 5`` the vector
advances 11 times per train step where Algorithm 1 advances it once per
update (it only gets closer to the top singular vector). The vector starts
as a unit vector, so an inference call before any training never
overestimates the singular value.

The networks are the paper's "standard CNN" (its appendix, Table 3):

* generator: ``z`` (128) -> dense to ``s x s x 512`` -> 4x4 stride-2
  transposed convolutions with 256, 128, 64 channels (batch norm, ReLU) ->
  3x3 convolution to the image's channels, tanh (``s = 4`` for 32x32);
* discriminator: pairs of a 3x3 stride-1 and a 4x4 stride-2 convolution with
  64, 128, 256 channels, a 3x3 convolution with 512, a linear logit;
  LeakyReLU(0.1); no batch norm.

Other sizes use as many stride-2 stages as ``zoo.models.dcgan.upsampling_plan``
gives (28x28: two, from 7x7; channels scale with ``base_filters``).

Training uses the hyperparameters of the authors' released configuration
for unconditional CIFAR-10 (pfnet-research/sngan_projection,
``sn_cifar10_unconditional.yml``, written for their ResNet networks): hinge
loss (the paper's eq. 16-17), ``n_dis = 5`` discriminator updates per
generator update, each on its own real batch (``fresh_real_batches``), and
Adam(2e-4, beta_1=0.0, beta_2=0.9) for both players, batch 64. That
configuration also decays the learning rates linearly to 0
over training, which is not done here.

The paper's standard-CNN numbers were not trained with that configuration:
the ``sndcgan_cifar10`` preset takes the settings of the authors' own code
for the standard CNN (pfnet-research/chainer-gan-lib, ``sndcgan``: the
paper's Table 1 setting C): the non-saturating loss, ``n_dis = 1``,
Adam(2e-4, beta_1=0.5, beta_2=0.999), batch 64, 100k updates. The paper
reports FID 29.3 for it on CIFAR-10 (Table 2; 25.5 with the hinge loss).
"""

import keras

from zoo.core import layers
from zoo.core.adversarial import GAN
from zoo.core.networks import Network, square_image_shape
from zoo.core.optimizers import adam
from zoo.core.registry import register
from zoo.models.dcgan import upsampling_plan


@keras.saving.register_keras_serializable(package="zoo")
class SNGANGenerator(Network):
    """The paper's standard CNN generator: noise ``[batch, latent_dim]`` ->
    images ``[batch, H, W, C]`` in ``[-1, 1]``.

    Args:
        image_shape: ``(H, W, C)``, H == W of the form ``s * 2**k`` (s >= 4).
        latent_dim: size of the noise vector (128 in the paper).
        base_filters: channels of the last upsampling stage; each earlier
            stage doubles them (64 gives the paper's 512-256-128-64 at 32x32).
    """

    def __init__(self, image_shape=(32, 32, 3), latent_dim=128, base_filters=64, **kwargs):
        image_shape = square_image_shape(image_shape, "SNGAN")
        seed_size, stages = upsampling_plan(image_shape[0])

        noise = keras.Input((latent_dim,), name="noise")
        x = keras.layers.Dense(
            seed_size * seed_size * base_filters * 2**stages, name="project"
        )(noise)
        x = keras.layers.Reshape((seed_size, seed_size, base_filters * 2**stages))(x)
        x = layers.batch_norm(name="project_bn")(x)
        x = keras.layers.ReLU()(x)
        for stage in range(1, stages + 1):
            x = keras.layers.Conv2DTranspose(
                base_filters * 2 ** (stages - stage),
                4,
                strides=2,
                padding="same",
                name=f"up{stage}",
            )(x)
            x = layers.batch_norm(name=f"up{stage}_bn")(x)
            x = keras.layers.ReLU()(x)
        x = keras.layers.Conv2D(image_shape[-1], 3, padding="same", name="to_image")(x)
        # float32 output: tanh in float16 would quantise the images coarsely.
        images = keras.layers.Activation("tanh", dtype="float32", name="images")(x)
        super().__init__(inputs=noise, outputs=images, **kwargs)
        self.image_shape = image_shape
        self.latent_dim = latent_dim
        self.base_filters = base_filters


@keras.saving.register_keras_serializable(package="zoo")
class SNGANDiscriminator(Network):
    """The paper's standard CNN discriminator, every layer spectrally
    normalised: images ``[batch, H, W, C]`` -> logits ``[batch, 1]``.

    Args:
        image_shape: ``(H, W, C)`` as for the generator.
        base_filters: channels of the first stage (64 in the paper); stage
            ``i`` has ``base_filters * 2**i``.
        power_iterations: power-iteration steps per training call of each
            spectral normalisation (1 in the paper).
        negative_slope: LeakyReLU slope (0.1 in the paper).
    """

    def __init__(
        self,
        image_shape=(32, 32, 3),
        base_filters=64,
        power_iterations=1,
        negative_slope=0.1,
        **kwargs,
    ):
        image_shape = square_image_shape(image_shape, "SNGAN")
        _, stages = upsampling_plan(image_shape[0])

        def normalized(layer):
            return layers.spectral_norm(layer, power_iterations=power_iterations)

        images = keras.Input(image_shape, name="images")
        x = images
        for stage in range(stages):
            filters = base_filters * 2**stage
            x = normalized(
                keras.layers.Conv2D(filters, 3, padding="same", name=f"conv{stage + 1}")
            )(x)
            x = keras.layers.LeakyReLU(negative_slope)(x)
            x = normalized(
                keras.layers.Conv2D(
                    filters, 4, strides=2, padding="same", name=f"down{stage + 1}"
                )
            )(x)
            x = keras.layers.LeakyReLU(negative_slope)(x)
        x = normalized(
            keras.layers.Conv2D(
                base_filters * 2**stages, 3, padding="same", name=f"conv{stages + 1}"
            )
        )(x)
        x = keras.layers.LeakyReLU(negative_slope)(x)
        x = keras.layers.Flatten()(x)
        logits = normalized(keras.layers.Dense(1, dtype="float32", name="logits"))(x)
        super().__init__(inputs=images, outputs=logits, **kwargs)
        self.image_shape = image_shape
        self.base_filters = base_filters
        self.power_iterations = power_iterations
        self.negative_slope = negative_slope


PRESETS = {
    "sngan_mnist": {
        "description": "28x28 grayscale (MNIST, Fashion-MNIST): standard CNN "
        "from a 7x7x256 seed, hinge loss, n_dis=5, Adam(2e-4, 0, 0.9).",
        "image_shape": (28, 28, 1),
    },
    "sngan_cifar10": {
        "description": "32x32 RGB (CIFAR-10): the paper's standard CNN, "
        "4x4x512 seed; 50k generator updates at batch 64 as released.",
        "image_shape": (32, 32, 3),
        # 321 epochs x 156 steps (50,000 // (64 x 5)) ~ 50k updates.
        "training": {"dataset": "cifar10", "epochs": 321},
    },
    "sndcgan_cifar10": {
        "description": "32x32 RGB (CIFAR-10): the standard CNN with the settings "
        "of the authors' own code for it (chainer-gan-lib's sndcgan): "
        "non-saturating loss, n_dis=1, Adam(2e-4, 0.5, 0.999), batch 64, "
        "100k updates.",
        "image_shape": (32, 32, 3),
        "model": {"d_steps": 1, "fresh_real_batches": False, "adversarial_loss": "non_saturating"},
        # 128 epochs x 781 steps (50,000 // 64): the nearest whole epoch to 100k updates.
        "training": {
            "dataset": "cifar10",
            "epochs": 128,
            "d_optimizer": adam(2e-4, beta_1=0.5, beta_2=0.999),
            "g_optimizer": adam(2e-4, beta_1=0.5, beta_2=0.999),
        },
    },
}


@register("sngan", presets=PRESETS)
@keras.saving.register_keras_serializable(package="zoo")
class SNGAN(GAN):
    """SNGAN (Miyato et al. 2018): spectrally normalised discriminator, hinge
    loss, ``n_dis = 5``.

    Args:
        generator: noise ``[batch, latent_dim]`` -> images ``[batch, H, W, C]``.
        discriminator: images -> logits ``[batch, 1]``, spectrally normalised.
        d_steps: ``n_dis``, discriminator updates per generator update (5).
        fresh_real_batches: a new real batch for each discriminator update,
            as in the released code's updater (True); False reuses one per
            train step.
        adversarial_loss: ``"hinge"`` (the paper's eq. 16-17); the paper's
            CNN experiments also use ``"non_saturating"``.
        **kwargs: the remaining ``zoo.core.adversarial.GAN`` arguments.
    """

    network_classes = {"generator": SNGANGenerator, "discriminator": SNGANDiscriminator}
    default_training = {
        **GAN.default_training,
        "batch_size": 64,
        "epochs": 20,
        "d_optimizer": adam(2e-4, beta_1=0.0, beta_2=0.9),
        "g_optimizer": adam(2e-4, beta_1=0.0, beta_2=0.9),
    }
    def __init__(
        self,
        generator,
        discriminator,
        d_steps=5,
        fresh_real_batches=True,
        adversarial_loss="hinge",
        **kwargs,
    ):
        super().__init__(
            generator,
            discriminator,
            d_steps=d_steps,
            fresh_real_batches=fresh_real_batches,
            adversarial_loss=adversarial_loss,
            **kwargs,
        )
