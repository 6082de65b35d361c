"""BigGAN: Brock, Donahue & Simonyan 2019, "Large Scale GAN Training for High
Fidelity Natural Image Synthesis" (ICLR 2019, arXiv:1809.11096), with the
layer details of the authors' BigGAN-PyTorch code.

Generator (``BigGANGenerator``), class-conditional:

* a **shared class embedding** (``shared_dim``, 128) and a **hierarchical
  latent** (``hierarchical``, the paper's "skip-z"): z is split into one
  chunk per residual block plus one; the first chunk goes to the dense layer
  that makes the 4x4 input, and each block is conditioned on ``[embedding,
  its chunk]``. ``shared_dim=0`` conditions each batch norm on the label
  alone (the released CIFAR-10 script's choice);
* **residual up-blocks**: conditional batch norm, ReLU, 2x nearest
  upsampling, 3x3 convolution, conditional batch norm, ReLU, 3x3
  convolution, plus a 1x1-convolution shortcut of the upsampled input.
  **Conditional batch norm** normalises without its own affine map, then
  scales by ``1 + gain(y)`` and shifts by ``bias(y)``, both linear in the
  block's conditioning vector (embeddings of the label without the shared
  embedding); its statistics span the global batch under a strategy;
* optional **self-attention** (SAGAN's block: 1x1 projections to C/8, C/8
  and C/2 channels, the keys and values max-pooled 2x2, a learned gain
  starting at 0) after the blocks at ``attention_resolutions``;
* batch norm, ReLU, a 3x3 convolution to the image, tanh.

Discriminator (``BigGANDiscriminator``): residual down-blocks (pre-activated
but the first; 2x2 average pooling where the plan says; learnable 1x1
shortcuts), optional self-attention, ReLU, sum over positions, then a linear
score plus the **projection** term ``<embed(y), h>`` (Miyato & Koyama 2018).

Both networks are **spectrally normalised** throughout, weights initialised
orthogonally. Training: **hinge loss**; **orthogonal regularisation** of the
generator's weights, ``beta ||W^T W (1 - I)||_F^2`` with beta = 1e-4 (the
paper's eq. 3; the class embedding is exempt, as in the authors' code);
``d_steps`` = 2 discriminator steps per generator step, each on its own real
batch; Adam(0, 0.999) with G at 5e-5 and D at 2e-4 (the paper's ImageNet
settings); an exponential moving average of the generator (0.9999, from
step ``ema_start``), whose batch norms are given **standing statistics**
for sampling: averages of the batch statistics of ``standing_statistics``
batches of fresh samples (the paper's appendix C.1), computed on a copy
each time the model samples or exports after training moved.

**Truncation** (section 3.1): z drawn from a normal truncated at
``|z| <= threshold`` (the resampling distribution, drawn exactly by the
inverse CDF so that a seed always gives the same image).
"""

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from zoo.core import layers
from zoo.core.adversarial import GAN
from zoo.core.errors import ConfigError
from zoo.core.model import serving_outputs
from zoo.core.networks import Network, square_image_shape
from zoo.core.optimizers import adam
from zoo.core.registry import register


# --- Orthogonal regularisation ------------------------------------------------------------


@keras.saving.register_keras_serializable(package="zoo")
class OrthogonalRegularizer(keras.regularizers.Regularizer):
    """BigGAN's orthogonal regularisation (eq. 3): ``strength * ||W^T W
    (1 - I)||_F^2``, W the kernel as a ``[fan_in, units]`` matrix: it pulls
    the filters towards mutual orthogonality without constraining their
    norms. (The authors' code adds ``2 strength (W^T W (1 - I)) W`` to the
    gradient, half the gradient of eq. 3.)"""

    def __init__(self, strength=1e-4):
        self.strength = float(strength)

    def __call__(self, kernel):
        matrix = ops.reshape(ops.cast(kernel, "float32"), (-1, kernel.shape[-1]))
        gram = ops.matmul(ops.transpose(matrix), matrix)
        off_diagonal = gram * (1.0 - ops.eye(gram.shape[0], dtype="float32"))
        return self.strength * ops.sum(ops.square(off_diagonal))

    def get_config(self):
        return {"strength": self.strength}


def _regularizer(strength):
    return OrthogonalRegularizer(strength) if strength else None


def _conv(filters, size, name, orthogonal=0.0, use_bias=True):
    """A spectrally normalised ``same`` convolution, orthogonally initialised."""
    return layers.spectral_norm(keras.layers.Conv2D(
        filters, size, padding="same", use_bias=use_bias, kernel_initializer="orthogonal",
        kernel_regularizer=_regularizer(orthogonal), name=name))


def _dense(units, name, orthogonal=0.0, use_bias=True, **kwargs):
    return layers.spectral_norm(keras.layers.Dense(
        units, use_bias=use_bias, kernel_initializer="orthogonal", kernel_regularizer=_regularizer(orthogonal),
        name=name, **kwargs))


# --- Layers -------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="zoo")
class ConditionalBatchNorm(keras.layers.Layer):
    """``[x, y]`` -> ``BN(x) (1 + gain(y)) + bias(y)``: batch norm without its
    own affine map (statistics over the global batch under a strategy),
    then a per-example scale and shift linear in the conditioning vector
    ``y`` ``[batch, D]`` (spectrally normalised unless ``spectral`` is
    False: the one-hot label's gains and biases are plain embeddings).

    Args:
        channels: x's channels.
        spectral: spectrally normalise ``gain`` and ``bias``.
        orthogonal: orthogonal regularisation strength of their kernels.
        epsilon, momentum: the batch norm's (1e-4: the paper's raised
            epsilon; 0.9: PyTorch's momentum 0.1).
    """

    def __init__(self, channels, spectral=True, orthogonal=0.0, epsilon=1e-4, momentum=0.9, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.spectral, self.orthogonal = int(channels), bool(spectral), float(orthogonal)
        self.epsilon, self.momentum = float(epsilon), float(momentum)
        self.norm = layers.batch_norm(center=False, scale=False, epsilon=self.epsilon, momentum=self.momentum,
                                      name="norm")

        def linear(name):
            dense = keras.layers.Dense(self.channels, use_bias=False, kernel_initializer="orthogonal",
                                       kernel_regularizer=_regularizer(self.orthogonal), name=name)
            return layers.spectral_norm(dense, enabled=self.spectral)

        self.gain, self.bias = linear("gain"), linear("bias")

    def build(self, input_shape):
        x_shape, y_shape = input_shape
        self.norm.build(x_shape)
        self.gain.build(y_shape)
        self.bias.build(y_shape)

    def call(self, inputs, training=False):
        x, y = inputs
        normalized = self.norm(x, training=training)
        gain = ops.cast(self.gain(y, training=training), normalized.dtype)[:, None, None, :]
        bias = ops.cast(self.bias(y, training=training), normalized.dtype)[:, None, None, :]
        return normalized * (1.0 + gain) + bias

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "spectral": self.spectral,
                "orthogonal": self.orthogonal, "epsilon": self.epsilon, "momentum": self.momentum}


@keras.saving.register_keras_serializable(package="zoo")
class SelfAttention(keras.layers.Layer):
    """SAGAN's self-attention block (Zhang et al. 2019), as BigGAN uses it:
    ``x + gamma o(softmax(theta(x)^T phi(x)) g(x))``, with theta, phi 1x1
    projections to C/8 channels and g to C/2 (phi and g max-pooled 2x2), o
    back to C, all spectrally normalised, ``gamma`` a learned scalar from 0.
    ``[batch, H, W, C]`` -> the same."""

    def __init__(self, channels, orthogonal=0.0, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.orthogonal = int(channels), float(orthogonal)
        reduced = max(self.channels // 8, 1)
        self.theta = _conv(reduced, 1, "theta", self.orthogonal, use_bias=False)
        self.phi = _conv(reduced, 1, "phi", self.orthogonal, use_bias=False)
        self.g = _conv(max(self.channels // 2, 1), 1, "g", self.orthogonal, use_bias=False)
        self.o = _conv(self.channels, 1, "o", self.orthogonal, use_bias=False)

    def build(self, input_shape):
        self.theta.build(input_shape)
        self.phi.build(input_shape)
        self.g.build(input_shape)
        self.o.build(tuple(input_shape[:-1]) + (max(self.channels // 2, 1),))
        self.gamma = self.add_weight(shape=(), name="gamma", initializer="zeros")

    def call(self, x, training=False):
        height, width = x.shape[1], x.shape[2]
        batch = ops.shape(x)[0]
        theta = ops.reshape(self.theta(x, training=training), (batch, height * width, -1))
        phi = ops.max_pool(self.phi(x, training=training), 2, 2)
        phi = ops.reshape(phi, (batch, (height // 2) * (width // 2), -1))
        g = ops.max_pool(self.g(x, training=training), 2, 2)
        g = ops.reshape(g, (batch, (height // 2) * (width // 2), -1))
        attention = ops.softmax(ops.matmul(theta, ops.transpose(phi, (0, 2, 1))), axis=-1)
        attended = ops.reshape(ops.matmul(attention, g), (batch, height, width, -1))
        return x + ops.cast(self.gamma, x.dtype) * self.o(attended, training=training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "orthogonal": self.orthogonal}


@keras.saving.register_keras_serializable(package="zoo")
class LatentChunks(keras.layers.Layer):
    """z ``[batch, n * k]`` -> ``n`` chunks ``[batch, k]`` (the hierarchical latent)."""

    def __init__(self, num_chunks, **kwargs):
        super().__init__(**kwargs)
        self.num_chunks = int(num_chunks)

    def call(self, z):
        return ops.split(z, self.num_chunks, axis=-1)

    def compute_output_shape(self, input_shape):
        return [(input_shape[0], input_shape[-1] // self.num_chunks)] * self.num_chunks

    def get_config(self):
        return {**super().get_config(), "num_chunks": self.num_chunks}


@keras.saving.register_keras_serializable(package="zoo")
class SumPooling(keras.layers.Layer):
    """``[batch, H, W, C]`` -> ``[batch, C]``, the sum over positions."""

    def call(self, x):
        return ops.sum(x, axis=(1, 2))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


# --- Networks -------------------------------------------------------------------------------


def _plan(image_size, multipliers, owner):
    """The resolutions after each of the ``len(multipliers) - 1`` doubling
    blocks from 4x4; an error when they do not reach ``image_size``."""
    blocks = len(multipliers) - 1
    if blocks < 1 or 4 * 2**blocks != image_size:
        raise ConfigError(
            f"{owner}: {blocks} doubling blocks from 4x4 make {4 * 2**max(blocks, 0)}x{4 * 2**max(blocks, 0)} "
            f"images, not {image_size}x{image_size}; give channel_multipliers one entry per block plus one "
            f"({int(round(math.log2(max(image_size, 4) / 4))) + 1} for {image_size}x{image_size})."
        )
    return [4 * 2 ** (i + 1) for i in range(blocks)]


@keras.saving.register_keras_serializable(package="zoo")
class BigGANGenerator(Network):
    """BigGAN's generator: ``noise`` ``[batch, latent_dim]``, ``labels``
    ``[batch]`` -> images ``[batch, H, W, C]`` in [-1, 1].

    Args:
        image_shape: ``(H, W, C)``, H = 4 * 2^blocks.
        num_classes: classes of ``labels``.
        latent_dim: z's size (128 at 32x32; a multiple of blocks + 1 with
            ``hierarchical``).
        channels: ``ch`` (64 in the CIFAR-10 script, 96 in the paper's).
        channel_multipliers: ``ch`` multiples of the 4x4 input and of each
            block's output (BigGAN-PyTorch's ``arch``: (4, 4, 4, 4) at
            32x32, (16, 16, 8, 4, 2) at 64x64).
        shared_dim: the shared class embedding's size (128); 0: none.
        hierarchical: split z over the blocks (needs ``shared_dim``).
        attention_resolutions: resolutions to put self-attention after.
        orthogonal: orthogonal regularisation strength (1e-4).
    """

    def __init__(self, image_shape=(32, 32, 3), num_classes=10, latent_dim=128, channels=64,
                 channel_multipliers=(4, 4, 4, 4), shared_dim=128, hierarchical=True, attention_resolutions=(),
                 orthogonal=1e-4, **kwargs):
        image_shape = square_image_shape(image_shape, "BigGAN")
        channel_multipliers = tuple(int(m) for m in channel_multipliers)
        attention_resolutions = tuple(int(r) for r in attention_resolutions)
        sizes = _plan(image_shape[0], channel_multipliers, "BigGAN's generator")
        blocks = len(sizes)
        if hierarchical and not shared_dim:
            raise ConfigError("A hierarchical latent conditions each block on [shared embedding, chunk]: "
                              "it needs shared_dim > 0.")
        if hierarchical and latent_dim % (blocks + 1):
            raise ConfigError(f"A hierarchical latent splits z into {blocks + 1} equal chunks: latent_dim "
                              f"must be a multiple of {blocks + 1}; got {latent_dim}.")
        noise = keras.Input((latent_dim,), name="noise")
        labels = keras.Input((), dtype="int32", name="labels")
        if shared_dim:
            # The embedding is exempt from orthogonal regularisation (authors' code).
            condition = keras.layers.Embedding(num_classes, shared_dim, name="shared")(labels)
        else:
            condition = keras.layers.CategoryEncoding(num_classes, output_mode="one_hot", name="one_hot")(labels)
        if hierarchical:
            chunks = LatentChunks(blocks + 1, name="chunks")(noise)
            first = chunks[0]
            conditions = [keras.layers.Concatenate(name=f"condition{i + 1}")([condition, chunks[i + 1]])
                          for i in range(blocks)]
        else:
            first, conditions = noise, [condition] * blocks
        width = channels * channel_multipliers[0]
        x = _dense(4 * 4 * width, "linear", orthogonal)(first)
        x = keras.layers.Reshape((4, 4, width))(x)
        spectral_condition = bool(shared_dim)
        for i, (size, multiplier) in enumerate(zip(sizes, channel_multipliers[1:])):
            filters, name = channels * multiplier, f"block{i + 1}"
            h = ConditionalBatchNorm(x.shape[-1], spectral_condition, orthogonal, name=f"{name}_bn1")(
                [x, conditions[i]])
            h = keras.layers.UpSampling2D(2)(keras.layers.ReLU()(h))
            h = _conv(filters, 3, f"{name}_conv1", orthogonal)(h)
            h = ConditionalBatchNorm(filters, spectral_condition, orthogonal, name=f"{name}_bn2")([h, conditions[i]])
            h = _conv(filters, 3, f"{name}_conv2", orthogonal)(keras.layers.ReLU()(h))
            shortcut = _conv(filters, 1, f"{name}_shortcut", orthogonal)(keras.layers.UpSampling2D(2)(x))
            x = keras.layers.Add()([h, shortcut])
            if size in attention_resolutions:
                x = SelfAttention(filters, orthogonal, name=f"attention_{size}x{size}")(x)
        x = layers.batch_norm(epsilon=1e-4, momentum=0.9, name="output_bn")(x)
        x = _conv(image_shape[-1], 3, "to_image", orthogonal)(keras.layers.ReLU()(x))
        images = keras.layers.Activation("tanh", dtype="float32", name="images")(x)
        super().__init__(inputs={"noise": noise, "labels": labels}, outputs=images, **kwargs)
        self.image_shape = image_shape
        self.num_classes = num_classes
        self.latent_dim = latent_dim
        self.channels = channels
        self.channel_multipliers = channel_multipliers
        self.shared_dim = shared_dim
        self.hierarchical = hierarchical
        self.attention_resolutions = attention_resolutions
        self.orthogonal = orthogonal


@keras.saving.register_keras_serializable(package="zoo")
class BigGANDiscriminator(Network):
    """BigGAN's projection discriminator: ``images``, ``labels`` -> scores ``[batch, 1]``.

    Args:
        image_shape: ``(H, W, C)``.
        num_classes: classes of ``labels``.
        channels: ``ch``.
        channel_multipliers: ``ch`` multiples of each block's output
            ((4, 4, 4, 4) at 32x32, (1, 2, 4, 8, 16) at 64x64).
        downsample: which blocks halve the resolution ((True, True, False,
            False) at 32x32).
        attention_resolutions: resolutions to put self-attention after.
    """

    def __init__(self, image_shape=(32, 32, 3), num_classes=10, channels=64, channel_multipliers=(4, 4, 4, 4),
                 downsample=(True, True, False, False), attention_resolutions=(), **kwargs):
        image_shape = square_image_shape(image_shape, "BigGAN")
        channel_multipliers = tuple(int(m) for m in channel_multipliers)
        downsample = tuple(bool(d) for d in downsample)
        attention_resolutions = tuple(int(r) for r in attention_resolutions)
        if len(downsample) != len(channel_multipliers):
            raise ConfigError(f"BigGAN's discriminator needs one downsample flag per block: "
                              f"{len(channel_multipliers)} blocks, {len(downsample)} flags.")
        images = keras.Input(image_shape, name="images")
        labels = keras.Input((), dtype="int32", name="labels")
        x, size = images, image_shape[0]
        for i, (multiplier, down) in enumerate(zip(channel_multipliers, downsample)):
            filters, name = channels * multiplier, f"block{i + 1}"
            h = x if i == 0 else keras.layers.ReLU()(x)  # the first block is not pre-activated
            h = _conv(filters, 3, f"{name}_conv1")(h)
            h = _conv(filters, 3, f"{name}_conv2")(keras.layers.ReLU()(h))
            shortcut = x
            if i == 0 and down:
                shortcut = keras.layers.AveragePooling2D(2)(shortcut)
            if down or x.shape[-1] != filters:
                shortcut = _conv(filters, 1, f"{name}_shortcut")(shortcut)
            if down:
                h = keras.layers.AveragePooling2D(2)(h)
                if i > 0:
                    shortcut = keras.layers.AveragePooling2D(2)(shortcut)
                size //= 2
            x = keras.layers.Add()([h, shortcut])
            if size in attention_resolutions:
                x = SelfAttention(filters, name=f"attention_{size}x{size}")(x)
        h = SumPooling(name="features")(keras.layers.ReLU()(x))
        score = _dense(1, "linear", dtype="float32")(h)
        embedding = layers.spectral_norm(keras.layers.Embedding(num_classes, h.shape[-1], name="embedding"))(labels)
        projection = keras.layers.Dot(axes=1, dtype="float32")([embedding, h])
        scores = keras.layers.Add(dtype="float32", name="scores")([score, projection])
        super().__init__(inputs={"images": images, "labels": labels}, outputs=scores, **kwargs)
        self.image_shape = image_shape
        self.num_classes = num_classes
        self.channels = channels
        self.channel_multipliers = channel_multipliers
        self.downsample = downsample
        self.attention_resolutions = attention_resolutions


# --- Standing statistics ---------------------------------------------------------------------


def standing_statistics(network, batches):
    """Replace every batch norm's moving statistics of ``network`` by the
    averages of its batch statistics over ``batches`` (an iterable of
    inputs run in training mode): the cumulative average, by giving pass
    ``i`` the momentum ``i / (i + 1)`` (BigGAN's standing statistics)."""
    norms = [layer for layer in network._flatten_layers(include_self=False, recursive=True)
             if isinstance(layer, keras.layers.BatchNormalization)]
    momenta = [norm.momentum for norm in norms]
    try:
        for i, inputs in enumerate(batches):
            for norm in norms:
                norm.momentum = i / (i + 1.0)
            network(inputs, training=True)
    finally:
        for norm, momentum in zip(norms, momenta):
            norm.momentum = momentum
    return network


# --- Presets -------------------------------------------------------------------------------------


# The released CIFAR-10 script (BigGAN-PyTorch, scripts/launch_cifar_ema.sh):
# ch 64, batch 50, 4 D steps, lr 2e-4 for both players, EMA from step 1000,
# 500 epochs; it turns off the shared embedding, the hierarchical latent,
# attention and orthogonal regularisation, which the preset keeps (the
# paper trained CIFAR-10 with all of them on, its Table 1 row 8 setup).
CIFAR = {
    "image_shape": (32, 32, 3),
    "generator": {"channel_multipliers": (4, 4, 4, 4)},
    "discriminator": {"channel_multipliers": (4, 4, 4, 4), "downsample": (True, True, False, False)},
    "model": {"d_steps": 4, "ema_start": 1000},
    "training": {"dataset": "cifar10", "batch_size": 50, "epochs": 500,
                 "d_optimizer": adam(2e-4, beta_1=0.0, beta_2=0.999, epsilon=1e-8),
                 "g_optimizer": adam(2e-4, beta_1=0.0, beta_2=0.999, epsilon=1e-8)},
}

PRESETS = {
    "biggan_cifar10": {
        "description": "BigGAN on CIFAR-10, class-conditional: the released CIFAR-10 script's "
        "networks (ch 64) and optimisation (batch 50, 4 D steps, lr 2e-4 both, EMA 0.9999 from "
        "step 1000, 500 epochs), with the paper's shared embedding, hierarchical z and "
        "orthogonal regularisation on.",
        **CIFAR,
    },
    "biggan_cifar10_small": {
        "description": "biggan_cifar10 at a CPU's scale: ch 16 (64 feature maps), batch 32.",
        **CIFAR,
        "generator": {**CIFAR["generator"], "channels": 16},
        "discriminator": {**CIFAR["discriminator"], "channels": 16},
        "training": {**CIFAR["training"], "batch_size": 32},
    },
    "biggan_emoji": {
        "description": "BigGAN on Google's emoji at 64x64, conditioned on the emoji's category "
        "(10 Unicode groups): BigGAN-PyTorch's 64x64 networks (ch 64, self-attention at 32x32), "
        "z 125 in 5 chunks, the paper's optimisation (2 D steps, G 5e-5, D 2e-4), batch 64.",
        "image_shape": (64, 64, 3),
        "generator": {"num_classes": 10, "latent_dim": 125, "channel_multipliers": (16, 16, 8, 4, 2),
                      "attention_resolutions": (32,)},
        "discriminator": {"num_classes": 10, "channel_multipliers": (1, 2, 4, 8, 16),
                          "downsample": (True, True, True, True, False), "attention_resolutions": (32,)},
        "training": {"dataset": "emoji:google", "batch_size": 64, "epochs": 2000},
    },
}


# --- The model --------------------------------------------------------------------------------------


@register("biggan", presets=PRESETS)
@keras.saving.register_keras_serializable(package="zoo")
class BigGAN(GAN):
    """BigGAN (see the module doc): hinge loss, ``d_steps`` discriminator
    steps on fresh real batches, EMA with standing statistics, truncation.

    Args:
        generator: ``BigGANGenerator``.
        discriminator: ``BigGANDiscriminator``.
        d_steps: discriminator steps per generator step (2; the CIFAR-10
            script: 4).
        ema_decay: the generator EMA's decay (0.9999).
        ema_start: the EMA copies the generator until this step (the
            CIFAR-10 script: 1000).
        standing_statistics: batches averaged for the sampling generator's
            batch-norm statistics (16, BigGAN-PyTorch's default; 0: the
            moving averages as trained).
        truncation: the default threshold of ``generate``, ``sample`` and
            ``serving_default`` (None: no truncation), the model card's.
        **kwargs: the remaining ``zoo.core.adversarial.GAN`` arguments.
    """

    network_classes = {"generator": BigGANGenerator, "discriminator": BigGANDiscriminator}
    default_training = {
        **GAN.default_training,
        "dataset": "cifar10",
        "batch_size": 64,
        "epochs": 500,
        "d_optimizer": adam(2e-4, beta_1=0.0, beta_2=0.999, epsilon=1e-8),
        "g_optimizer": adam(5e-5, beta_1=0.0, beta_2=0.999, epsilon=1e-8),
    }

    def __init__(self, generator, discriminator, d_steps=2, fresh_real_batches=True, adversarial_loss="hinge",
                 ema_decay=0.9999, ema_start=0, standing_statistics=16, truncation=None, **kwargs):
        super().__init__(generator, discriminator, d_steps=d_steps, fresh_real_batches=fresh_real_batches,
                         adversarial_loss=adversarial_loss, ema_decay=ema_decay, **kwargs)
        if truncation is not None:
            check_threshold(truncation)
        self.ema_start = int(ema_start)
        self.standing_statistics = int(standing_statistics)
        self.truncation = None if truncation is None else float(truncation)
        # (step, network): the sampling copy, outside Keras's tracking so
        # that its weights are not the model's (checkpoints, .keras).
        object.__setattr__(self, "_standing", (None, None))

    def current_ema_decay(self):
        """0 (a copy) before ``ema_start``, then ``ema_decay``."""
        if not self.ema_start:
            return self.ema_decay
        return ops.where(self.step_counter < self.ema_start, 0.0, self.ema_decay)

    # --- Sampling -----------------------------------------------------------------------------

    @property
    def export_generator(self):
        """The averaged generator with standing statistics (a copy, made
        again when training has moved), or as trained."""
        network = self.ema_generator if self.ema_decay is not None else self.generator
        if not self.standing_statistics or not tf.executing_eagerly():
            return network
        step = int(self.step.numpy())
        if self._standing[0] != step:
            twin = type(network).from_config({**network.get_config(), "name": f"{network.name}_standing"})
            twin.set_weights(network.get_weights())
            twin.trainable = False
            batches = self.standing_batches(self.standing_statistics)
            object.__setattr__(self, "_standing", (step, standing_statistics(twin, batches)))
        return self._standing[1]

    def standing_batches(self, count, batch_size=64, seed=0):
        """The inputs standing statistics average over: fresh N(0, I) noise
        and every class in turn, the same every time (seeded)."""
        for i in range(count):
            noise = tf.random.stateless_normal((batch_size, self.latent_dim), seed=[seed, i + 1])
            labels = tf.constant((np.arange(batch_size) + i * batch_size) % self.num_classes, tf.int32)
            yield {"noise": noise, "labels": labels}

    def truncated_latent(self, num_images, seed, threshold):
        """z ``[num_images, latent_dim]`` from N(0, I) truncated to ``|z| <=
        threshold``, elementwise, for an int ``[2]`` seed: uniform draws
        between the normal CDF at -threshold and +threshold mapped through
        the inverse CDF (the distribution of the paper's resampling)."""
        shape = tf.stack([num_images, self.latent_dim])
        threshold = tf.cast(threshold, tf.float32)
        low = 0.5 * tf.math.erfc(threshold / math.sqrt(2.0))  # Phi(-threshold)
        uniform = tf.random.stateless_uniform(shape, seed=seed, minval=0.0, maxval=1.0)
        return tf.math.ndtri(low + uniform * (1.0 - 2.0 * low))

    def latent_for_seed(self, num_images, seed):
        """N(0, I), or the default truncation's truncated normal."""
        if self.truncation is None:
            return super().latent_for_seed(num_images, seed)
        return self.truncated_latent(num_images, seed, self.truncation)

    def generate(self, num_images=None, seed=None, *, truncation=None, condition=None, labels=None,
                 batch_size=256):
        """Samples ``[N, H, W, C]`` in [-1, 1]; ``truncation``: the threshold
        on |z| (default: the model's); ``labels`` default to the classes in turn."""
        if truncation is None:
            return super().generate(num_images, seed, condition=condition, labels=labels, batch_size=batch_size)
        check_threshold(truncation)
        labels = condition if labels is None else labels
        if num_images is None:
            num_images = None if labels is None else len(labels)
        if num_images is None:
            raise ConfigError("generate needs num_images (or a label per image).")
        if labels is None:
            labels = self.condition.grid_values(int(num_images))
        seed = self.next_seed(per_replica=False) if seed is None else tf.constant([int(seed), 0], tf.int64)
        noise = self.truncated_latent(int(num_images), seed, truncation)
        return self.generate_from_noise(noise, labels, batch_size=batch_size)

    def class_grid(self, per_class=8, seed=0):
        """``[num_classes, per_class, H, W, C]``: one row per class, the same
        noise down each column (TensorBoard's grid)."""
        noise = self.latent_for_seed(per_class, [seed, 0])
        noise = tf.tile(noise, [self.num_classes, 1])
        labels = np.repeat(np.arange(self.num_classes), per_class).astype("int32")
        images = np.asarray(self.generate_from_noise(noise, labels))
        return images.reshape((self.num_classes, per_class) + images.shape[1:])

    def training_grid(self):
        return self.class_grid()

    # --- Export -----------------------------------------------------------------------------------

    def serving_condition(self, labels):
        """Served labels outside ``[0, num_classes)`` fail with a message."""
        message = f"labels must be in [0, {self.num_classes})"
        checks = [tf.debugging.assert_non_negative(labels, message=message),
                  tf.debugging.assert_less(labels, self.num_classes, message=message)]
        with tf.control_dependencies(checks):
            return tf.identity(labels)

    def export_signatures(self):
        """The GAN signatures (``serving_default``: noise, labels; ``sample``:
        ``num_images``, ``seed``, labels, at the model's truncation) and
        ``sample_truncated`` (the same with ``truncation``, the threshold
        on |z|, > 0)."""
        signatures = super().export_signatures()
        network = self.export_network

        def sample_truncated(num_images, seed, labels, truncation):
            check = tf.debugging.assert_positive(truncation, message="truncation (the |z| threshold) must be > 0")
            with tf.control_dependencies([check]):
                noise = self.truncated_latent(num_images, tf.stack([seed, 0]), truncation)
            inputs = {"noise": noise, "labels": self.serving_condition(labels)}
            return serving_outputs(network(inputs, training=False))

        signatures["sample_truncated"] = tf.function(sample_truncated, input_signature=[
            tf.TensorSpec([], tf.int32, name="num_images"), tf.TensorSpec([], tf.int32, name="seed"),
            tf.TensorSpec([None], tf.int32, name="labels"), tf.TensorSpec([], tf.float32, name="truncation"),
        ])
        return signatures

    def export_metadata(self):
        return {**super().export_metadata(), "truncation": self.truncation,
                "standing_statistics": self.standing_statistics}

    def latent_prior(self):
        if self.truncation is None:
            return super().latent_prior()
        return {"name": "truncated_normal", "threshold": self.truncation}

    def get_config(self):
        return {**super().get_config(), "ema_start": self.ema_start,
                "standing_statistics": self.standing_statistics, "truncation": self.truncation}


def check_threshold(threshold):
    """A truncation threshold must be a positive number of standard deviations."""
    if not float(threshold) > 0.0:
        raise ConfigError(f"truncation (the |z| threshold) must be > 0, got {threshold}.")
