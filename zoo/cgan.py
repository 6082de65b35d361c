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
  upsampled (as ``zoo.dcgan.DCGANGenerator``);
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
import numpy as np
from keras import ops

from zoo import layers
from zoo.base import GAN
from zoo.dcgan import upsample_to_image, upsampling_plan, weight_init
from zoo.networks import Network, square_image_shape
from zoo.registry import register



def _one_hot(labels, num_classes):
    # CategoryEncoding maps an out-of-range label to all zeros rather than
    # failing; CGAN.generate checks user labels before they get here.
    return keras.layers.CategoryEncoding(
        num_classes, output_mode="one_hot", name="one_hot"
    )(labels)


@keras.saving.register_keras_serializable(package="zoo")
class ConditionalGenerator(Network):
    """Generator ``G(z | y)``: ``{"noise": [batch, latent_dim] float32,
    "labels": [batch] int32}`` -> images ``[batch, H, W, C]`` in ``[-1, 1]``.

    DCGAN's generator (see ``zoo.dcgan``) whose input is the noise
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


def _require_labels(labels):
    if labels is None:
        raise ValueError(
            "CGAN needs class labels: train on (images, labels) batches and pass "
            "labels= to generate."
        )
    # A tensor: Keras refuses a dict that mixes tensors and NumPy arrays.
    return ops.cast(ops.convert_to_tensor(labels), "int32")


@register("cgan")
@keras.saving.register_keras_serializable(package="zoo")
class CGAN(GAN):
    """Conditional GAN (Mirza & Osindero 2014): the base GAN's training with
    both players conditioned on the real batch's labels.

    Train on ``(images, labels)`` batches (``labels`` int ``[batch]`` in
    ``[0, num_classes)``); generate with ``generate(n, seed=..., labels=...)``.
    Accepts every argument of ``zoo.base.GAN``.
    """

    conditional = True
    generator_class = ConditionalGenerator
    discriminator_class = ConditionalDiscriminator
    presets = {
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

    def __init__(self, generator, discriminator, **kwargs):
        if generator.num_classes != discriminator.num_classes:
            raise ValueError(
                f"The generator has {generator.num_classes} classes and the "
                f"discriminator {discriminator.num_classes}; they must agree."
            )
        super().__init__(generator, discriminator, **kwargs)
        self.num_classes = generator.num_classes

    def generate_images(self, noise, labels=None, training=False):
        """``G(z | y)``: images ``[batch, H, W, C]`` for noise and int labels."""
        labels = _require_labels(labels)
        noise = ops.convert_to_tensor(noise)
        return self.generator({"noise": noise, "labels": labels}, training=training)

    def discriminate(self, images, labels=None, training=False):
        """``D(x | y)``: float32 logits ``[batch, 1]`` for images and labels."""
        labels = _require_labels(labels)
        images = ops.convert_to_tensor(images)
        logits = self.discriminator({"images": images, "labels": labels}, training=training)
        return ops.cast(logits, "float32")

    def generate(self, num_images, seed=None, labels=None, batch_size=256):
        """``num_images`` samples ``[num_images, H, W, C]`` for ``labels`` (int
        ``[num_images]``); without labels the classes cycle
        ``0, 1, ..., num_classes - 1, 0, ...``. See ``generate_from_noise``."""
        if labels is None:
            labels = np.arange(num_images) % self.num_classes
        return super().generate(num_images, seed=seed, labels=labels, batch_size=batch_size)

    def generate_from_noise(self, noise, labels=None, batch_size=256):
        """Generator output for noise ``[N, latent_dim]`` and labels ``[N]``.

        Labels outside ``[0, num_classes)`` raise ``ValueError``: the one-hot
        layer would silently map them to an all-zero vector.
        """
        if labels is None:
            raise ValueError("CGAN.generate_from_noise needs labels, one per noise row.")
        noise = ops.convert_to_tensor(noise, "float32")
        labels = np.asarray(labels)
        if labels.shape != (noise.shape[0],):
            raise ValueError(
                f"labels must have shape ({noise.shape[0]},), one per noise row; "
                f"got {labels.shape}."
            )
        if labels.size and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(
                f"labels must lie in [0, {self.num_classes}); got values from "
                f"{labels.min()} to {labels.max()}."
            )
        # Tensors both: Keras refuses a dict that mixes tensors and arrays.
        labels = ops.convert_to_tensor(labels.astype("int32"))
        return super().generate_from_noise(noise, labels, batch_size)
