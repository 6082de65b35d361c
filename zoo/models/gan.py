"""The original GAN: Goodfellow et al. 2014, "Generative Adversarial Nets"
(arXiv:1406.2661), with fully connected networks.

The paper's generator is an MLP with ReLU hidden units and its discriminator
an MLP with maxout units and dropout. Here the generator's hidden layers use
ReLU with batch norm and a tanh output (images in [-1, 1], as everywhere in
the zoo); the discriminator uses LeakyReLU(0.2) and dropout. Both the
saturating minimax loss of the paper's eq. 1 (``adversarial_loss="minimax"``)
and the non-saturating generator loss the paper recommends in practice (the
default) are available.

The discriminator's dropout is ``zoo.core.layers.Dropout``: its masks come
from a seed stream the checkpoints save and are drawn for the global batch,
so a resumed run and a run on several replicas draw the masks of the
uninterrupted one-device run.
"""

import math

import keras

from zoo.core import layers
from zoo.core.adversarial import GAN
from zoo.core.networks import Network
from zoo.core.registry import register


@keras.saving.register_keras_serializable(package="zoo")
class MLPGenerator(Network):
    """Fully connected generator: noise ``[batch, latent_dim]`` -> images
    ``[batch, H, W, C]`` in ``[-1, 1]``.

    Args:
        image_shape: ``(H, W, C)`` of the output.
        latent_dim: size of the noise vector.
        hidden_units: widths of the hidden layers, in order.
    """

    def __init__(
        self,
        image_shape=(28, 28, 1),
        latent_dim=100,
        hidden_units=(256, 512, 1024),
        **kwargs,
    ):
        image_shape = tuple(int(d) for d in image_shape)
        noise = keras.Input((latent_dim,), name="noise")
        x = noise
        for i, units in enumerate(hidden_units):
            x = keras.layers.Dense(units, name=f"hidden{i + 1}")(x)
            x = layers.batch_norm(name=f"hidden{i + 1}_bn")(x)
            x = keras.layers.ReLU()(x)
        x = keras.layers.Dense(math.prod(image_shape), name="pixels")(x)
        x = keras.layers.Activation("tanh", dtype="float32")(x)
        images = keras.layers.Reshape(image_shape, dtype="float32", name="images")(x)
        super().__init__(inputs=noise, outputs=images, **kwargs)
        self.image_shape = image_shape
        self.latent_dim = latent_dim
        self.hidden_units = tuple(hidden_units)


@keras.saving.register_keras_serializable(package="zoo")
class MLPDiscriminator(Network):
    """Fully connected discriminator: images ``[batch, H, W, C]`` -> logits
    ``[batch, 1]``.

    Args:
        image_shape: ``(H, W, C)`` of the input.
        hidden_units: widths of the hidden layers, in order.
        dropout: dropout rate after each hidden layer (the paper used
            dropout in the discriminator).
    """

    def __init__(
        self,
        image_shape=(28, 28, 1),
        hidden_units=(1024, 512, 256),
        dropout=0.3,
        **kwargs,
    ):
        image_shape = tuple(int(d) for d in image_shape)
        images = keras.Input(image_shape, name="images")
        x = keras.layers.Flatten()(images)
        for i, units in enumerate(hidden_units):
            x = keras.layers.Dense(units, name=f"hidden{i + 1}")(x)
            x = keras.layers.LeakyReLU(0.2)(x)
            x = layers.Dropout(dropout, name=f"hidden{i + 1}_dropout")(x)
        logits = keras.layers.Dense(1, dtype="float32", name="logits")(x)
        super().__init__(inputs=images, outputs=logits, **kwargs)
        self.image_shape = image_shape
        self.hidden_units = tuple(hidden_units)
        self.dropout = dropout


PRESETS = {
    "gan_mnist": {
        "description": "MLP GAN on 28x28 grayscale (MNIST, Fashion-MNIST).",
        "image_shape": (28, 28, 1),
        "training": {"batch_size": 64, "epochs": 50},
    },
    "gan_mnist_minimax": {
        "description": "As gan_mnist with the paper's saturating minimax loss.",
        "image_shape": (28, 28, 1),
        "model": {"adversarial_loss": "minimax"},
        "training": {"batch_size": 64, "epochs": 50},
    },
}


@register("gan", presets=PRESETS)
@keras.saving.register_keras_serializable(package="zoo")
class VanillaGAN(GAN):
    """GAN of Goodfellow et al. 2014 with MLP networks.

    ``adversarial_loss="minimax"`` trains the generator on the saturating
    ``log(1 - D(G(z)))`` of the paper's eq. 1; the default
    ``"non_saturating"`` uses ``-log D(G(z))``, as the paper advises.
    """

    network_classes = {"generator": MLPGenerator, "discriminator": MLPDiscriminator}
