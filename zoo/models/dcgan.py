"""DCGAN: Radford, Metz & Chintala 2015, "Unsupervised Representation Learning
with Deep Convolutional Generative Adversarial Networks" (arXiv:1511.06434).

The paper's architecture guidelines (section 3): strided convolutions instead
of pooling, batch norm in both networks except the generator's output and the
discriminator's input layer, ReLU in the generator with tanh at its output,
LeakyReLU(0.2) in the discriminator, no fully connected hidden layers, weights
from N(0, 0.02), Adam(2e-4, beta_1=0.5), batch 128.

The 64x64 generator projects z to 4x4x1024 and upsamples with four 5x5
stride-2 transposed convolutions (1024 -> 512 -> 256 -> 128 -> 3); other sizes
use as many stride-2 stages as halve the image to a 4x4..7x7 seed (28x28: two
stages from 7x7; 32x32: three from 4x4).
"""

import keras

from zoo.core import layers
from zoo.core.adversarial import GAN
from zoo.core.errors import ConfigError
from zoo.core.networks import Network, square_image_shape
from zoo.core.optimizers import adam
from zoo.core.registry import register


def weight_init():
    """The paper's initialiser: N(0, 0.02) for every weight."""
    return keras.initializers.RandomNormal(stddev=0.02)


def upsampling_plan(image_size):
    """``(seed_size, stages)`` with ``seed_size * 2**stages == image_size``.

    Halves ``image_size`` while it stays even and the half is at least 4:
    28 -> (7, 2), 32 -> (4, 3), 64 -> (4, 4).
    """
    size, stages = int(image_size), 0
    while size % 2 == 0 and size // 2 >= 4:
        size //= 2
        stages += 1
    if stages == 0:
        raise ConfigError(
            f"DCGAN needs an image size of the form s * 2**k with s >= 4, k >= 1; "
            f"got {image_size}."
        )
    return size, stages


def size_ladder(image_size, seed_size=None):
    """Feature-map sizes from the generator's seed up to the image,
    ``[seed_size, ..., image_size]``, one stride-2 stage per step.

    Without ``seed_size``: ``upsampling_plan``'s exact halvings (28 -> [7, 14,
    28], 32 -> [4, 8, 16, 32]). With it: the image size halved, rounding up
    as a stride-2 "same" convolution does, until it reaches ``seed_size``
    (28 with seed 4 -> [4, 7, 14, 28], the Stacked-MNIST networks of Metz et
    al. 2016's and PacGAN's code).
    """
    if seed_size is None:
        seed, stages = upsampling_plan(image_size)
        return [seed * 2**i for i in range(stages + 1)]
    sizes = [int(image_size)]
    while sizes[-1] > seed_size:
        sizes.append(-(-sizes[-1] // 2))
    if len(sizes) < 2 or sizes[-1] != seed_size:
        raise ConfigError(
            f"seed_size {seed_size} is not reached by halving the image size {image_size} "
            f"(rounding up): halving gives {sizes}; pick one of those below {image_size}."
        )
    return sizes[::-1]


def _output_padding(size_in, size_out, kernel_size):
    """``output_padding`` of a stride-2 "same" transposed convolution from
    ``size_in`` to ``size_out`` (``2 * size_in`` or one less); None, Keras's
    default, for the exact doubling."""
    if size_out == 2 * size_in:
        return None
    return size_out - 2 * size_in + 2 - kernel_size % 2


def upsample_to_image(
    x, image_shape, base_filters=128, kernel_size=5, prefix="up", output_name=None, output_dtype=None,
    seed_size=None, output_convolution=False,
):
    """DCGAN's generator body: features ``[batch, d]`` -> pre-activation images.

    Projects to the ``s x s`` seed of ``size_ladder`` (``upsampling_plan``'s
    unless ``seed_size`` is given; batch norm, ReLU), then ``k`` stride-2
    transposed convolutions halving the channels (batch norm, ReLU), the last
    one to ``image_shape[-1]`` channels; the seed has ``base_filters *
    2**(k-1)`` channels. With ``output_convolution`` all ``k`` are hidden
    layers (the last with ``base_filters`` channels, the seed with
    ``base_filters * 2**k``) and a stride-1 convolution maps to the image
    channels, as in Metz et al.'s and PacGAN's Stacked-MNIST generator.
    Layers are named ``project``, ``<prefix>1`` ... (the output layer
    ``output_name`` if given, computing in ``output_dtype`` if given).
    Shared by DCGAN's generator, the conditional generator and EBGAN's
    decoder.
    """
    sizes = size_ladder(image_shape[0], seed_size)
    stages = len(sizes) - 1
    hidden = stages if output_convolution else stages - 1
    x = keras.layers.Dense(
        sizes[0] * sizes[0] * base_filters * 2**hidden,
        use_bias=False,
        kernel_initializer=weight_init(),
        name="project",
    )(x)
    x = keras.layers.Reshape((sizes[0], sizes[0], base_filters * 2**hidden))(x)
    x = layers.batch_norm(name="project_bn")(x)
    x = keras.layers.ReLU()(x)
    for stage in range(1, hidden + 1):
        x = keras.layers.Conv2DTranspose(
            base_filters * 2 ** (hidden - stage),
            kernel_size,
            strides=2,
            padding="same",
            output_padding=_output_padding(sizes[stage - 1], sizes[stage], kernel_size),
            use_bias=False,
            kernel_initializer=weight_init(),
            name=f"{prefix}{stage}",
        )(x)
        x = layers.batch_norm(name=f"{prefix}{stage}_bn")(x)
        x = keras.layers.ReLU()(x)
    if output_convolution:
        return keras.layers.Conv2D(
            image_shape[-1],
            kernel_size,
            padding="same",
            kernel_initializer=weight_init(),
            dtype=output_dtype,
            name=output_name or f"{prefix}_output",
        )(x)
    return keras.layers.Conv2DTranspose(
        image_shape[-1],
        kernel_size,
        strides=2,
        padding="same",
        output_padding=_output_padding(sizes[-2], sizes[-1], kernel_size),
        kernel_initializer=weight_init(),
        dtype=output_dtype,
        name=output_name or f"{prefix}{stages}",
    )(x)


@keras.saving.register_keras_serializable(package="zoo")
class DCGANGenerator(Network):
    """DCGAN generator: noise ``[batch, latent_dim]`` -> images ``[batch, H, W, C]``
    in ``[-1, 1]``.

    Args:
        image_shape: ``(H, W, C)``, H == W of the form ``s * 2**k`` (s >= 4).
        latent_dim: size of the noise vector (100 in the paper).
        base_filters: channels of the last hidden layer; each earlier stage
            doubles them (128 gives the paper's 1024-512-256-128 at 64x64).
        kernel_size: transposed-convolution kernel (5 in the paper).
        seed_size: side of the projected seed; None (the default) takes
            ``upsampling_plan``'s, otherwise the image size is halved
            (rounding up) down to it (``size_ladder``: 4 at 28x28 gives
            4 -> 7 -> 14 -> 28).
        output_convolution: end with a stride-1 convolution to the image
            channels after ``k`` hidden up-convolutions, instead of an
            up-convolution to them (Metz et al. 2016's and PacGAN's
            Stacked-MNIST generator; ``upsample_to_image``).
    """

    def __init__(
        self,
        image_shape=(64, 64, 3),
        latent_dim=100,
        base_filters=128,
        kernel_size=5,
        seed_size=None,
        output_convolution=False,
        **kwargs,
    ):
        image_shape = square_image_shape(image_shape, "DCGAN")
        noise = keras.Input((latent_dim,), name="noise")
        x = upsample_to_image(noise, image_shape, base_filters, kernel_size,
                              seed_size=seed_size, output_convolution=output_convolution)
        # float32 output: tanh in float16 would quantise the images coarsely.
        images = keras.layers.Activation("tanh", dtype="float32", name="images")(x)
        super().__init__(inputs=noise, outputs=images, **kwargs)
        self.image_shape = image_shape
        self.latent_dim = latent_dim
        self.base_filters = base_filters
        self.kernel_size = kernel_size
        self.seed_size = seed_size
        self.output_convolution = bool(output_convolution)


@keras.saving.register_keras_serializable(package="zoo")
class DCGANDiscriminator(Network):
    """DCGAN discriminator: images ``[batch, H, W, C]`` -> logits ``[batch, 1]``.

    Stride-2 convolutions with ``base_filters * 2**i`` channels halve the image
    down to the generator's seed size; batch norm on all but the first (the
    paper's guideline); LeakyReLU(0.2); a linear logit on the flattened
    features.

    Args:
        image_shape: ``(H, W, C)`` as for the generator.
        base_filters: channels of the first convolution (64 in the paper).
        kernel_size: convolution kernel (5 in the paper).
        batch_norm: set False for critics that must not mix examples (WGAN-GP).
        spectral_norm: wrap every convolution and the logit layer in
            ``zoo.core.layers.SpectralNormalization`` (Miyato et al. 2018); off by
            default, which leaves the paper's network unchanged.
        minibatch_kernels: ``B`` of ``zoo.core.layers.MinibatchDiscrimination``
            (Salimans et al. 2016) between the flattened features and the
            logit; 0 (the default) leaves it out.
        minibatch_kernel_dim: its ``C``, the size of each projected row
            (5, as in the authors' code).
        seed_size: the size the convolutions halve down to (rounding up),
            as for the generator; None takes ``upsampling_plan``'s.
        first_layer_batch_norm: batch-normalise the first convolution too
            (Metz et al.'s and PacGAN's Stacked-MNIST discriminator); only
            with ``batch_norm``.
        leaky_relu_slope: the LeakyReLU's negative slope (0.2 in the paper,
            0.3 in PacGAN's Stacked-MNIST code).
    """

    def __init__(
        self,
        image_shape=(64, 64, 3),
        base_filters=64,
        kernel_size=5,
        batch_norm=True,
        spectral_norm=False,
        minibatch_kernels=0,
        minibatch_kernel_dim=5,
        seed_size=None,
        first_layer_batch_norm=False,
        leaky_relu_slope=0.2,
        **kwargs,
    ):
        image_shape = square_image_shape(image_shape, "DCGAN")
        stages = len(size_ladder(image_shape[0], seed_size)) - 1
        if first_layer_batch_norm and not batch_norm:
            raise ConfigError(
                "DCGANDiscriminator: first_layer_batch_norm=True needs batch_norm=True "
                "(batch_norm=False leaves every layer without it)."
            )
        if minibatch_kernels < 0 or minibatch_kernel_dim < 1:
            raise ConfigError(
                "DCGANDiscriminator: minibatch_kernels must be >= 0 (0: no minibatch "
                f"discrimination) and minibatch_kernel_dim >= 1; got {minibatch_kernels} "
                f"and {minibatch_kernel_dim}."
            )

        images = keras.Input(image_shape, name="images")
        x = images
        for stage in range(stages):
            normalised = batch_norm and (stage > 0 or first_layer_batch_norm)
            x = layers.spectral_norm(
                keras.layers.Conv2D(
                    base_filters * 2**stage,
                    kernel_size,
                    strides=2,
                    padding="same",
                    use_bias=not normalised,
                    kernel_initializer=weight_init(),
                    name=f"down{stage + 1}",
                ),
                enabled=spectral_norm,
            )(x)
            if normalised:
                x = layers.batch_norm(name=f"down{stage + 1}_bn")(x)
            x = keras.layers.LeakyReLU(leaky_relu_slope)(x)
        x = keras.layers.Flatten()(x)
        if minibatch_kernels:
            x = layers.MinibatchDiscrimination(
                minibatch_kernels,
                minibatch_kernel_dim,
                name="minibatch_discrimination",
            )(x)
        logits = layers.spectral_norm(
            keras.layers.Dense(
                1, kernel_initializer=weight_init(), dtype="float32", name="logits"
            ),
            enabled=spectral_norm,
        )(x)
        super().__init__(inputs=images, outputs=logits, **kwargs)
        self.image_shape = image_shape
        self.base_filters = base_filters
        self.kernel_size = kernel_size
        self.batch_norm = batch_norm
        self.spectral_norm = spectral_norm
        self.minibatch_kernels = int(minibatch_kernels)
        self.minibatch_kernel_dim = int(minibatch_kernel_dim)
        self.seed_size = seed_size
        self.first_layer_batch_norm = bool(first_layer_batch_norm)
        self.leaky_relu_slope = float(leaky_relu_slope)


SMALL_DISCRIMINATOR = {"base_filters": 4, "kernel_size": 3}
STACKED_MNIST_SMALL = {
    "description": "Stacked MNIST mode-collapse benchmark after Metz et al.'s small "
    "networks: 256-d noise, 3x3 kernels, generator 32-16 filters, discriminator 4-8 "
    "(a quarter of the generator's), batch 128, Adam 2e-4 (D) / 1e-4 (G), betas (0.5, 0.99).",
    "image_shape": (28, 28, 3),
    "generator": {"latent_dim": 256, "base_filters": 16, "kernel_size": 3},
    "discriminator": SMALL_DISCRIMINATOR,
    "training": {
        "dataset": "stacked_mnist",
        "batch_size": 128,
        "epochs": 10,
        "d_optimizer": adam(2e-4, beta_1=0.5, beta_2=0.99),
        "g_optimizer": adam(1e-4, beta_1=0.5, beta_2=0.99),
    },
}

PRESETS = {
    "dcgan_mnist": {
        "description": "28x28 grayscale (MNIST, Fashion-MNIST): 7x7x256 seed, two 5x5 up-convolutions.",
        "image_shape": (28, 28, 1),
    },
    # After dcgan_mnist: bench/scoreboard.py takes an architecture's first
    # preset ending in _mnist as its MNIST one.
    "dcgan_stacked_mnist": {
        "description": "28x28 RGB Stacked MNIST (three digits as R, G, B; 1,000 modes; "
        "zoo.metrics.modes): dcgan_mnist's networks with 3 channels.",
        "image_shape": (28, 28, 3),
        "training": {"dataset": "stacked_mnist"},
    },
    # Stacked MNIST's mode-collapse setting (Metz et al. 2016, section 3.3;
    # PacGAN, Lin et al. 2018, Table 3): small networks whose discriminator
    # is a quarter of the generator's width, where the papers' DCGAN covers
    # 31 to 79 of the 1,000 modes (this template's covers 910 after 10
    # epochs: bench/stacked_mnist.py, README). The _sn and _mbd presets
    # change only the discriminator; unrolling and DiffAugment are flags.
    "dcgan_stacked_mnist_small": STACKED_MNIST_SMALL,
    "dcgan_stacked_mnist_small_sn": {
        **STACKED_MNIST_SMALL,
        "description": "dcgan_stacked_mnist_small with a spectrally normalised "
        "discriminator in place of its batch norm (Miyato et al. 2018).",
        "discriminator": {**SMALL_DISCRIMINATOR, "batch_norm": False, "spectral_norm": True},
    },
    "dcgan_stacked_mnist_small_mbd": {
        **STACKED_MNIST_SMALL,
        "description": "dcgan_stacked_mnist_small with minibatch discrimination "
        "(Salimans et al. 2016; 50 kernels of 5) before the discriminator's logit.",
        "discriminator": {**SMALL_DISCRIMINATOR, "minibatch_kernels": 50},
    },
    # The networks and schedule of PacGAN's code for Metz et al.'s setting
    # (github.com/fjxmlzn/PacGAN, stacked_MNIST_experiments/
    # unrolled_GAN_experiment, D=0.25G), where its DCGAN covers 78.5 of the
    # 1,000 modes (Lin et al. 2018, Table 3; Metz et al.'s: 30.6).
    "dcgan_stacked_mnist_pacgan": {
        "description": "Stacked MNIST with PacGAN's code's networks for Metz et al.'s setting: "
        "N(0, 1) noise of 256; generator 4x4x64 -> 7x7x32 -> 14x14x16 -> 28x28x8 3x3 "
        "up-convolutions and a 3x3 convolution to RGB; discriminator three 3x3 stride-2 "
        "convolutions of 2, 4 and 8 filters, all batch-normalised, LeakyReLU(0.3); stacks "
        "drawn afresh each step; batch 128, Adam 2e-4 (D) / 1e-4 (G), betas (0.5, 0.99); "
        "1,068 epochs of 468 steps (499,824, PacGAN's 500,000 iterations).",
        "image_shape": (28, 28, 3),
        "generator": {"latent_dim": 256, "base_filters": 8, "kernel_size": 3, "seed_size": 4,
                      "output_convolution": True},
        "discriminator": {"base_filters": 2, "kernel_size": 3, "seed_size": 4,
                          "first_layer_batch_norm": True, "leaky_relu_slope": 0.3},
        # Metz et al.'s batch and optimisers, as in the _small presets.
        "training": {**STACKED_MNIST_SMALL["training"], "dataset": "stacked_mnist_fresh", "epochs": 1068},
    },
    "dcgan_cifar10": {
        "description": "32x32 RGB (CIFAR-10): 4x4x512 seed, three up-convolutions.",
        "image_shape": (32, 32, 3),
        "training": {"dataset": "cifar10", "epochs": 30},
    },
    "dcgan_64": {
        "description": "64x64 RGB, the paper's network (LSUN, CelebA, ImageNet); "
        "images are centre-cropped and resized to 64x64.",
        "image_shape": (64, 64, 3),
        "training": {"dataset": "celeb_a", "epochs": 5, "resize": True},
    },
}


@register("dcgan", presets=PRESETS)
@keras.saving.register_keras_serializable(package="zoo")
class DCGAN(GAN):
    """DCGAN (Radford et al. 2015): the base GAN's non-saturating training
    with the convolutional generator and discriminator above."""

    network_classes = {"generator": DCGANGenerator, "discriminator": DCGANDiscriminator}
