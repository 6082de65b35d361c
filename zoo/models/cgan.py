"""Conditional GAN: Mirza & Osindero 2014, "Conditional Generative Adversarial
Nets" (arXiv:1411.1784).

Both players see the class label ``y``: the generator models ``G(z | y)`` and
the discriminator ``D(x | y)``, and the value function is the GAN's eq. 1
with every term conditioned on ``y`` (the paper's eq. 2). In a training step
the fake images of both updates are generated for the labels of the real
batch, so the discriminator judges each image against the label it claims.

The paper feeds a one-hot ``y`` into fully connected (maxout) networks. Here
the label is one-hot too, but the networks are DCGAN's convolutional ones
(Radford et al. 2015), which train far more reliably on images:

* generator: ``[z, onehot(y)]`` concatenated, projected to the DCGAN seed and
  upsampled (as ``zoo.models.dcgan.DCGANGenerator``);
* discriminator: ``onehot(y)`` tiled into ``num_classes`` constant planes
  concatenated to the image channels, so every convolution sees the label,
  then DCGAN's strided convolutions. (Joining the label only at the last,
  linear layer would make it a per-class bias that cannot judge whether an
  image matches its label.)

Training uses DCGAN's Adam(2e-4, beta_1=0.5): the paper's SGD schedule
(learning rate 0.1 decayed by 1.00004 per update, momentum 0.5 -> 0.7) was
tuned for its maxout MLPs. The paper's noise size (100) and batch size (100)
are kept.
"""

import keras

from zoo.core import layers
from zoo.core.adversarial import GAN
from zoo.core.errors import ConfigError
from zoo.core.networks import Network, square_image_shape
from zoo.core.registry import register
from zoo.models.dcgan import upsample_to_image, upsampling_plan, weight_init


def _one_hot(labels, num_classes):
    # CategoryEncoding maps an out-of-range label to all zeros rather than
    # failing; GAN.generate checks user labels (ClassCondition.check) before
    # they get here.
    return keras.layers.CategoryEncoding(
        num_classes, output_mode="one_hot", name="one_hot"
    )(labels)


@keras.saving.register_keras_serializable(package="zoo")
class ConditionalGenerator(Network):
    """Generator ``G(z | y)``: ``{"noise": [batch, latent_dim] float32,
    "labels": [batch] int32}`` -> images ``[batch, H, W, C]`` in ``[-1, 1]``.

    DCGAN's generator (see ``zoo.models.dcgan``) whose input is the noise
    concatenated with the one-hot label (Mirza & Osindero 2014, section 3.2).

    Args:
        image_shape: ``(H, W, C)``, H == W of the form ``s * 2**k`` (s >= 4).
        num_classes: number of labels; labels are ints in ``[0, num_classes)``.
        latent_dim: size of the noise vector (100 in the paper).
        base_filters: channels of the last hidden layer; each earlier stage
            doubles them.
        kernel_size: transposed-convolution kernel.
    """

    def __init__(
        self,
        image_shape=(28, 28, 1),
        num_classes=10,
        latent_dim=100,
        base_filters=128,
        kernel_size=5,
        **kwargs,
    ):
        image_shape = square_image_shape(image_shape, "CGAN")
        noise = keras.Input((latent_dim,), name="noise")
        labels = keras.Input((), dtype="int32", name="labels")
        x = keras.layers.Concatenate(name="noise_and_label")(
            [noise, _one_hot(labels, num_classes)]
        )
        x = upsample_to_image(x, image_shape, base_filters, kernel_size)
        images = keras.layers.Activation("tanh", dtype="float32", name="images")(x)
        # A list, noise first: callers pass a dict (matched by input name),
        # and zoo.export reads the latent size from the first input.
        super().__init__(inputs=[noise, labels], outputs=images, **kwargs)
        self.image_shape = image_shape
        self.num_classes = int(num_classes)
        self.latent_dim = int(latent_dim)
        self.base_filters = base_filters
        self.kernel_size = kernel_size


@keras.saving.register_keras_serializable(package="zoo")
class ConditionalDiscriminator(Network):
    """Discriminator ``D(x | y)``: ``{"images": [batch, H, W, C],
    "labels": [batch] int32}`` -> logits ``[batch, 1]``.

    The one-hot label, tiled to ``[H, W, num_classes]``, is concatenated to
    the image's channels; then DCGAN's stride-2 convolutions (batch norm on
    all but the first, LeakyReLU(0.2)) and a linear logit.

    Args:
        image_shape: ``(H, W, C)`` as for the generator.
        num_classes: number of labels.
        base_filters: channels of the first convolution.
        kernel_size: convolution kernel.
        batch_norm: set False for critics that must not mix examples.
    """

    def __init__(
        self,
        image_shape=(28, 28, 1),
        num_classes=10,
        base_filters=64,
        kernel_size=5,
        batch_norm=True,
        **kwargs,
    ):
        image_shape = square_image_shape(image_shape, "CGAN")
        _, stages = upsampling_plan(image_shape[0])

        images = keras.Input(image_shape, name="images")
        labels = keras.Input((), dtype="int32", name="labels")
        planes = keras.layers.Reshape((1, 1, num_classes))(_one_hot(labels, num_classes))
        planes = keras.layers.UpSampling2D(image_shape[:2], name="label_planes")(planes)
        x = keras.layers.Concatenate(name="image_and_label")([images, planes])
        for stage in range(stages):
            x = keras.layers.Conv2D(
                base_filters * 2**stage,
                kernel_size,
                strides=2,
                padding="same",
                use_bias=not (batch_norm and stage > 0),
                kernel_initializer=weight_init(),
                name=f"down{stage + 1}",
            )(x)
            if batch_norm and stage > 0:
                x = layers.batch_norm(name=f"down{stage + 1}_bn")(x)
            x = keras.layers.LeakyReLU(0.2)(x)
        x = keras.layers.Flatten()(x)
        logits = keras.layers.Dense(
            1, kernel_initializer=weight_init(), dtype="float32", name="logits"
        )(x)
        super().__init__(inputs=[images, labels], outputs=logits, **kwargs)
        self.image_shape = image_shape
        self.num_classes = int(num_classes)
        self.base_filters = base_filters
        self.kernel_size = kernel_size
        self.batch_norm = batch_norm


PRESETS = {
    "cgan_mnist": {
        "description": "28x28 grayscale with 10 classes (MNIST, Fashion-MNIST): "
        "7x7x256 seed, two 5x5 up-convolutions; the paper's noise size and batch.",
        "image_shape": (28, 28, 1),
        "generator": {"num_classes": 10},
        "discriminator": {"num_classes": 10},
        "training": {"batch_size": 100},
    },
    "cgan_cifar10": {
        "description": "32x32 RGB with 10 classes (CIFAR-10): 4x4x512 seed, "
        "three up-convolutions.",
        "image_shape": (32, 32, 3),
        "generator": {"num_classes": 10},
        "discriminator": {"num_classes": 10},
        "training": {"dataset": "cifar10", "batch_size": 100, "epochs": 30},
    },
}


@register("cgan", presets=PRESETS)
@keras.saving.register_keras_serializable(package="zoo")
class CGAN(GAN):
    """Conditional GAN (Mirza & Osindero 2014): the base GAN's training with
    both players conditioned on the real batch's labels.

    The class condition is the core's (``zoo.core.conditions.ClassCondition``,
    from the networks' ``labels`` inputs): train on ``(images, labels)``
    batches (``labels`` int ``[batch]`` in ``[0, num_classes)``); generate
    with ``generate(n, seed=..., labels=...)`` (without labels the classes
    cycle ``0, 1, ..., num_classes - 1, 0, ...``; a label outside the range
    is an error). Accepts every argument of ``zoo.core.adversarial.GAN``.
    """

    network_classes = {"generator": ConditionalGenerator, "discriminator": ConditionalDiscriminator}

    def __init__(self, generator, discriminator, **kwargs):
        if generator.num_classes != discriminator.num_classes:
            raise ConfigError(
                f"The generator has {generator.num_classes} classes and the "
                f"discriminator {discriminator.num_classes}; they must agree."
            )
        super().__init__(generator, discriminator, **kwargs)
