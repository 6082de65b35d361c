"""StyleGAN: Karras, Laine & Aila 2019, "A Style-Based Generator Architecture
for Generative Adversarial Networks" (CVPR 2019, arXiv:1812.04948), in the
form of StyleGAN2: Karras, Laine, Aittala, Hellsten, Lehtinen & Aila 2020,
"Analyzing and Improving the Image Quality of StyleGAN" (CVPR 2020,
arXiv:1912.04958), with the configurations of StyleGAN2-ADA (Karras et al.
2020, arXiv:2006.06676, whose released code has the official CIFAR-10 setup).

Generator (``StyleGenerator``): ``noise`` z -> images, in two networks:

* the **mapping network** (``MappingNetwork``): z pixel-normalised, then
  ``mapping_layers`` equalised dense layers (leaky ReLU) with the learning
  rate multiplied by 0.01 -> the intermediate latent w;
* the **synthesis network** (``StyleSynthesis``): a learned 4x4 constant;
  per resolution two 3x3 convolutions (the first after a 2x bilinear
  upsampling), each driven by its own copy of w (``ws``: ``[batch, num_ws,
  w_dim]``, ``num_ws = 2 log2(size) - 2``) and followed by per-pixel noise
  with a learned strength, a bias and leaky ReLU; RGB outputs per
  resolution, upsampled and summed (StyleGAN2's "skip" generator).
  ``style_mode="modulated"`` (the default, StyleGAN2): the style scales the
  convolution's input channels and the result is demodulated (divided by
  the norm of each output's effective weights, eq. 1-3 of the StyleGAN2
  paper; computed without grouped convolutions, as the official
  non-fused path). ``style_mode="adain"`` (the 2019 paper): an ordinary
  convolution, then adaptive instance normalisation with the style's
  scale and bias; the outputs keep the skip form (the 2019 paper grows
  progressively instead). Upsampling is bilinear before the convolution
  (and for the RGB skip); the official code uses a transposed convolution
  with a [1, 3, 3, 1] filter.
* the **tracked average** of w (``w_avg``, updated as ``lerp(mean w,
  w_avg, 0.995)`` on every training call), which the **truncation trick**
  pulls styles towards: ``w' = w_avg + psi (w - w_avg)``, for the first
  ``truncation_cutoff`` layers (all by default).

At inference the per-pixel noise is a fixed image per layer (StyleGAN2's
``noise_mode="const"``, the default of its ``generate.py``; its FID code
draws random noise), so a seed always gives the same image, in the
model, its ``.keras`` and its SavedModel; in training it is drawn afresh
from each layer's checkpointed seed stream, for the global batch (so two
replicas equal one device).

Discriminator (``StyleDiscriminator``): a 1x1 fromRGB, then per resolution
two 3x3 convolutions and 2x2 average pooling, with a residual 1x1 skip
(``architecture="resnet"``, StyleGAN2) or without (``"orig"``, the ADA
code's CIFAR-10 choice); at 4x4 the minibatch standard deviation (groups
of ``mbstd_group``), a 3x3 convolution, a dense layer and the score. Every
weight has the equalised learning rate. (The official code downsamples
with a [1, 3, 3, 1] blur and a stride-2 convolution; here the convolution
comes first and average pooling after, as ProGAN.)

Training (``StyleGAN``): the non-saturating loss; R1 on reals with gamma
per preset, applied lazily every 16 steps (scaled by 16); optionally the
path-length regulariser (weight 2, every 4 steps, on half the batch);
style-mixing regularisation: with probability ``style_mixing`` (0.9) a
step's ws switch from one z's w to another's at a random layer; Adam(2.5e-3,
0, 0.99) with the lazy players' rate and beta_2 adjusted by ``k / (k +
1)`` as the paper's appendix (the generator's by 4/5 even where path
length is off, as the official code; here a lazy term is added to that
step's loss rather than taken as a separate optimizer step); an
exponential moving average of the
generator whose half-life is ``ema_half_life_images`` images, ramped up
over the first images (half-life at most 5% of the images seen, the
official ``ema_rampup``), which is what is exported.
"""

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from zoo.core import layers, replicas, terms
from zoo.core.adversarial import GAN
from zoo.core.errors import ConfigError
from zoo.core.model import serving_outputs
from zoo.core.networks import Network, square_image_shape
from zoo.core.optimizers import adam
from zoo.core.registry import register

STYLE_MODES = ("modulated", "adain")


def num_styles(image_size):
    """``num_ws`` of a synthesis network of ``image_size``: two per
    resolution from 4x4 (one at 4x4) and one for the last RGB output;
    the size must be a power of two >= 4."""
    steps = int(round(math.log2(image_size))) if image_size >= 4 else 0
    if image_size < 4 or 2**steps != image_size:
        raise ConfigError(
            f"StyleGAN's synthesis doubles from 4x4: the image size must be a power of two >= 4; got {image_size}."
        )
    return 2 * steps - 2


def channels_at(resolution, channel_base, channel_max):
    """Feature maps at ``resolution``: ``min(channel_base / resolution,
    channel_max)`` (the official ``channels_dict``)."""
    return int(min(channel_base // resolution, channel_max))


def per_layer(w, num_ws):
    """w ``[batch, w_dim]`` -> ws ``[batch, num_ws, w_dim]``: one copy per layer."""
    return ops.repeat(w[:, None, :], num_ws, axis=1)


def _activate(x):
    """Leaky ReLU (0.2) times sqrt(2), StyleGAN2's ``lrelu`` with its gain."""
    return ops.leaky_relu(x, 0.2) * math.sqrt(2.0)


# --- Layers ------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="zoo")
class ConstantInput(keras.layers.Layer):
    """The synthesis network's learned input: ``ws`` -> the constant ``[batch,
    size, size, channels]`` (N(0, 1) at initialisation)."""

    def __init__(self, channels, size=4, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.size = int(channels), int(size)

    def build(self, input_shape):
        self.constant = self.add_weight(shape=(1, self.size, self.size, self.channels), name="constant",
                                        initializer=keras.initializers.RandomNormal(stddev=1.0))

    def call(self, ws):
        batch = ops.shape(ws)[0]
        return ops.tile(ops.cast(self.constant, self.compute_dtype), [batch, 1, 1, 1])

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.size, self.size, self.channels)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "size": self.size}


@keras.saving.register_keras_serializable(package="zoo")
class StyleLayer(keras.layers.Layer):
    """One styled layer of the synthesis network: ``[x, ws]`` -> features.

    ``ws[:, w_index]`` goes through an equalised affine map to a style.
    ``mode="modulated"``: the style (bias 1 at initialisation) scales the
    input channels of a ``kernel_size`` convolution, whose output is then
    demodulated (``demodulate``), i.e. divided by ``sqrt(sum (w s)^2 +
    1e-8)`` per example and output channel; ``mode="adain"``: the
    convolution, then per-channel instance normalisation, scaled and
    shifted by the style (``1 + scale``, ``bias``). With ``noise`` a
    per-pixel noise image times a learned strength (0 at initialisation)
    is added, then a bias and, with ``activate``, leaky ReLU times
    sqrt(2). ``upsample`` doubles the input first (bilinear).

    A 1x1 ``StyleLayer`` without demodulation, noise or activation is
    StyleGAN2's toRGB.

    The noise is drawn in training from the layer's own seed stream (a
    variable, so checkpoints resume it) for the global batch, and sliced to
    this replica's share; at inference it is a fixed image stored with
    the weights.
    """

    def __init__(self, filters, kernel_size=3, w_index=0, mode="modulated", demodulate=True, upsample=False,
                 noise=True, activate=True, seed=None, **kwargs):
        super().__init__(**kwargs)
        if mode not in STYLE_MODES:
            raise ConfigError(f"Unknown style mode {mode!r}; use one of {', '.join(STYLE_MODES)}.")
        self.filters, self.kernel_size, self.w_index = int(filters), int(kernel_size), int(w_index)
        self.mode, self.demodulate, self.upsample = mode, bool(demodulate), bool(upsample)
        self.noise, self.activate, self.seed = bool(noise), bool(activate), seed
        self.seed_generator = keras.random.SeedGenerator(seed) if self.noise else None

    def build(self, input_shape):
        x_shape, ws_shape = input_shape
        channels, w_dim = int(x_shape[-1]), int(ws_shape[-1])
        size = int(x_shape[1]) * (2 if self.upsample else 1)
        self.kernel = self.add_weight(shape=(self.kernel_size, self.kernel_size, channels, self.filters),
                                      name="kernel", initializer=keras.initializers.RandomNormal(stddev=1.0))
        self.weight_scale = 1.0 / math.sqrt(self.kernel_size * self.kernel_size * channels)
        style_units = channels if self.mode == "modulated" else 2 * self.filters
        self.affine_kernel = self.add_weight(shape=(w_dim, style_units), name="affine_kernel",
                                             initializer=keras.initializers.RandomNormal(stddev=1.0))
        self.affine_bias = self.add_weight(shape=(style_units,), name="affine_bias",
                                           initializer="ones" if self.mode == "modulated" else "zeros")
        self.affine_scale = 1.0 / math.sqrt(w_dim)
        self.bias = self.add_weight(shape=(self.filters,), name="bias", initializer="zeros")
        if self.noise:
            self.noise_strength = self.add_weight(shape=(), name="noise_strength", initializer="zeros")
            self.fixed_noise = self.add_weight(
                shape=(1, size, size, 1), name="fixed_noise", trainable=False,
                initializer=keras.initializers.RandomNormal(stddev=1.0, seed=self.seed),
            )

    def style(self, ws):
        """The style of this layer: ``[batch, units]``."""
        w = ws[:, self.w_index]
        return ops.matmul(w, ops.cast(self.affine_kernel, w.dtype) * self.affine_scale) + ops.cast(
            self.affine_bias, w.dtype)

    def call(self, inputs, training=False):
        x, ws = inputs
        style = self.style(ws)
        kernel = ops.cast(self.kernel, x.dtype) * self.weight_scale
        if self.upsample:
            x = ops.image.resize(x, (2 * x.shape[1], 2 * x.shape[2]), interpolation="bilinear")
        if self.mode == "modulated":
            x = ops.conv(x * style[:, None, None, :], kernel, padding="same")
            if self.demodulate:
                # sum over (kh, kw, in) of (W s)^2, per example and output.
                squared = ops.matmul(ops.square(style), ops.sum(ops.square(kernel), axis=(0, 1)))
                x = x * ops.rsqrt(squared + 1e-8)[:, None, None, :]
        else:
            x = ops.conv(x, kernel, padding="same")
        if self.noise:
            x = x + ops.cast(self.noise_strength, x.dtype) * self._noise(x, training)
        x = x + ops.cast(self.bias, x.dtype)
        if self.activate:
            x = _activate(x)
        if self.mode == "adain":
            mean, variance = ops.moments(x, axes=[1, 2], keepdims=True)
            x = (x - mean) * ops.rsqrt(variance + 1e-8)
            scale, shift = style[:, : self.filters], style[:, self.filters :]
            x = x * (1.0 + scale[:, None, None, :]) + shift[:, None, None, :]
        return x

    def _noise(self, x, training):
        if not training:
            return ops.cast(self.fixed_noise, x.dtype)
        local = tf.shape(x)[0]
        shape = tf.stack([local * replicas.num_replicas(), tf.shape(x)[1], tf.shape(x)[2], 1])
        seed = tf.cast(self.seed_generator.next(), tf.int64)
        noise = replicas.local_slice(tf.random.stateless_normal(shape, seed=seed), local)
        return tf.cast(noise, x.dtype)

    def compute_output_shape(self, input_shape):
        x_shape = input_shape[0]
        factor = 2 if self.upsample else 1
        height = None if x_shape[1] is None else x_shape[1] * factor
        width = None if x_shape[2] is None else x_shape[2] * factor
        return (x_shape[0], height, width, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "w_index": self.w_index, "mode": self.mode, "demodulate": self.demodulate,
                "upsample": self.upsample, "noise": self.noise, "activate": self.activate, "seed": self.seed}


@keras.saving.register_keras_serializable(package="zoo")
class TrackedAverage(keras.layers.Layer):
    """The identity on w ``[batch, w_dim]``, holding ``w_avg`` ``[w_dim]``,
    the running mean of w that truncation pulls towards (updated by the
    model in training, ``StyleGAN.track_w_average``)."""

    def build(self, input_shape):
        # Every replica computes the same value (the global batch's mean).
        self.w_avg = self.add_weight(shape=(int(input_shape[-1]),), name="w_avg", initializer="zeros",
                                     trainable=False, aggregation="only_first_replica")

    def call(self, w):
        return w

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="zoo")
class BroadcastStyles(keras.layers.Layer):
    """w ``[batch, w_dim]`` -> ws ``[batch, num_ws, w_dim]`` (one copy per layer)."""

    def __init__(self, num_ws, **kwargs):
        super().__init__(**kwargs)
        self.num_ws = int(num_ws)

    def call(self, w):
        return per_layer(w, self.num_ws)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_ws, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "num_ws": self.num_ws}


# --- Networks -------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="zoo")
class MappingNetwork(Network):
    """z ``[batch, latent_dim]`` -> w ``[batch, w_dim]``: pixel norm, then
    ``num_layers`` equalised dense layers with leaky ReLU and the
    learning-rate multiplier ``lr_multiplier`` (0.01)."""

    def __init__(self, latent_dim=512, w_dim=512, num_layers=8, lr_multiplier=0.01, **kwargs):
        noise = keras.Input((latent_dim,), name="noise")
        x = layers.PixelNorm()(noise)
        for i in range(num_layers):
            x = layers.EqualizedDense(w_dim, lr_multiplier=lr_multiplier, name=f"dense{i + 1}")(x)
            x = keras.layers.LeakyReLU(0.2)(x)
        super().__init__(inputs=noise, outputs=x, **kwargs)
        self.latent_dim = latent_dim
        self.w_dim = w_dim
        self.num_layers = num_layers
        self.lr_multiplier = lr_multiplier


@keras.saving.register_keras_serializable(package="zoo")
class StyleSynthesis(Network):
    """ws ``[batch, num_ws, w_dim]`` -> images ``[batch, H, W, C]`` (linear
    output; see the module doc).

    Args:
        image_shape: ``(H, W, C)``, H = W a power of two >= 4.
        w_dim: style size.
        channel_base, channel_max: feature maps (``channels_at``).
        style_mode: ``"modulated"`` (StyleGAN2) or ``"adain"`` (StyleGAN).
        seed: seed of the noise streams and fixed noise images (layer i
            uses ``seed + i``).
    """

    def __init__(self, image_shape=(32, 32, 3), w_dim=512, channel_base=16384, channel_max=512,
                 style_mode="modulated", seed=0, **kwargs):
        image_shape = square_image_shape(image_shape, "StyleGAN")
        size, channels = image_shape[0], image_shape[-1]
        count = num_styles(size)
        nf = lambda r: channels_at(r, channel_base, channel_max)  # noqa: E731
        demodulate = style_mode == "modulated"
        seeds = iter(range(int(seed), int(seed) + 4 * count))

        def styled(x, ws, filters, index, name, upsample=False):
            return StyleLayer(filters, 3, index, style_mode, demodulate, upsample, seed=next(seeds), name=name)(
                [x, ws])

        def to_rgb(x, ws, index, name):
            return StyleLayer(channels, 1, index, "modulated", demodulate=False, noise=False, activate=False,
                              name=name)([x, ws])

        ws = keras.Input((count, w_dim), name="ws")
        x = ConstantInput(nf(4), name="constant_4x4")(ws)
        x = styled(x, ws, nf(4), 0, "conv_4x4")
        rgb = to_rgb(x, ws, 1, "to_rgb_4x4")
        index, resolution = 1, 4
        while resolution < size:
            resolution *= 2
            name = f"{resolution}x{resolution}"
            x = styled(x, ws, nf(resolution), index, f"conv0_{name}", upsample=True)
            x = styled(x, ws, nf(resolution), index + 1, f"conv1_{name}")
            rgb = keras.layers.UpSampling2D(2, interpolation="bilinear")(rgb)
            rgb = keras.layers.Add()([rgb, to_rgb(x, ws, index + 2, f"to_rgb_{name}")])
            index += 2
        images = keras.layers.Activation("linear", dtype="float32", name="images")(rgb)
        super().__init__(inputs=ws, outputs=images, **kwargs)
        self.image_shape = image_shape
        self.w_dim = w_dim
        self.channel_base = channel_base
        self.channel_max = channel_max
        self.style_mode = style_mode
        self.seed = seed


@keras.saving.register_keras_serializable(package="zoo")
class StyleGenerator(Network):
    """StyleGAN's generator: ``noise`` z ``[batch, latent_dim]`` -> images
    ``[batch, H, W, C]`` (no truncation): the mapping network, the tracked
    average, one w per layer, the synthesis network. ``mapping``,
    ``synthesis``, ``w_avg`` and ``styles`` give the parts, for truncation
    and style mixing (after ``keras.models.load_model`` too).

    Args:
        image_shape: ``(H, W, C)``.
        latent_dim: z's size (512).
        w_dim: w's size (512).
        mapping_layers: depth of the mapping network (8; the official
            CIFAR-10 configuration: 2).
        mapping_lr_multiplier: the mapping network's learning-rate
            multiplier (0.01).
        channel_base, channel_max, style_mode, seed: see ``StyleSynthesis``.
    """

    def __init__(self, image_shape=(32, 32, 3), latent_dim=512, w_dim=512, mapping_layers=8,
                 mapping_lr_multiplier=0.01, channel_base=16384, channel_max=512, style_mode="modulated",
                 seed=0, **kwargs):
        image_shape = square_image_shape(image_shape, "StyleGAN")
        count = num_styles(image_shape[0])
        mapping = MappingNetwork(latent_dim, w_dim, mapping_layers, mapping_lr_multiplier, name="mapping")
        synthesis = StyleSynthesis(image_shape, w_dim, channel_base, channel_max, style_mode, seed,
                                   name="synthesis")
        noise = keras.Input((latent_dim,), name="noise")
        w = TrackedAverage(name="w_average")(mapping(noise))
        images = synthesis(BroadcastStyles(count, name="broadcast")(w))
        super().__init__(inputs=noise, outputs=images, **kwargs)
        self.image_shape = image_shape
        self.latent_dim = latent_dim
        self.w_dim = w_dim
        self.mapping_layers = mapping_layers
        self.mapping_lr_multiplier = mapping_lr_multiplier
        self.channel_base = channel_base
        self.channel_max = channel_max
        self.style_mode = style_mode
        self.seed = seed

    @property
    def num_ws(self):
        return num_styles(self.image_shape[0])

    @property
    def mapping(self):
        return self.get_layer("mapping")

    @property
    def synthesis(self):
        return self.get_layer("synthesis")

    @property
    def w_avg(self):
        """The tracked average of w, a ``[w_dim]`` variable."""
        return self.get_layer("w_average").w_avg

    def styles(self, noise, truncation=1.0, truncation_cutoff=None, training=False):
        """ws ``[batch, num_ws, w_dim]`` of ``noise``, truncated: ``w_avg +
        psi (w - w_avg)`` on layers below ``truncation_cutoff`` (all when
        None). ``truncation`` (psi) may be a tensor."""
        ws = per_layer(self.mapping(noise, training=training), self.num_ws)
        return truncate(ws, self.w_avg, truncation, truncation_cutoff)


def truncate(ws, w_avg, psi, cutoff=None):
    """The truncation trick on w (Karras et al. 2019, the StyleGAN paper's
    appendix B): ``w_avg + psi (ws - w_avg)`` on the
    layers ``< cutoff`` (all when None); ``ws`` ``[batch, num_ws, w_dim]``."""
    num_ws = ws.shape[1]
    psi = ops.cast(psi, ws.dtype)
    if cutoff is not None:
        layer = ops.arange(num_ws)[None, :, None]
        psi = ops.where(layer < ops.cast(cutoff, "int32"), psi, ops.ones_like(psi))
    w_avg = ops.cast(ops.convert_to_tensor(w_avg), ws.dtype)
    return w_avg + psi * (ws - w_avg)


def mix_styles(ws_a, ws_b, mix_at):
    """Style mixing: the layers ``< mix_at`` from ``ws_a`` (coarse styles:
    pose, shape), the rest from ``ws_b`` (fine styles: colour, texture)."""
    layer = ops.arange(ws_a.shape[1])[None, :, None]
    return ops.where(layer < ops.cast(mix_at, "int32"), ws_a, ws_b)


@keras.saving.register_keras_serializable(package="zoo")
class StyleDiscriminator(Network):
    """StyleGAN2's discriminator: images ``[batch, H, W, C]`` -> scores
    ``[batch, 1]`` (see the module doc).

    Args:
        image_shape: ``(H, W, C)``.
        channel_base, channel_max: feature maps (``channels_at``).
        architecture: ``"resnet"`` (StyleGAN2) or ``"orig"`` (no skips).
        mbstd_group: the minibatch standard deviation's group (4; the
            official CIFAR-10 configuration: 32).
    """

    def __init__(self, image_shape=(32, 32, 3), channel_base=16384, channel_max=512, architecture="resnet",
                 mbstd_group=4, **kwargs):
        image_shape = square_image_shape(image_shape, "StyleGAN")
        num_styles(image_shape[0])  # the size check
        if architecture not in ("resnet", "orig"):
            raise ConfigError(f"architecture must be 'resnet' or 'orig', got {architecture!r}.")
        nf = lambda r: channels_at(r, channel_base, channel_max)  # noqa: E731

        def conv(x, filters, size, name, **kwargs):
            return keras.layers.LeakyReLU(0.2)(layers.EqualizedConv2D(filters, size, name=name, **kwargs)(x))

        images = keras.Input(image_shape, name="images")
        resolution = image_shape[0]
        x = conv(images, nf(resolution), 1, f"from_rgb_{resolution}x{resolution}")
        while resolution > 4:
            name = f"{resolution}x{resolution}"
            y = conv(x, nf(resolution), 3, f"conv0_{name}")
            y = conv(y, nf(resolution // 2), 3, f"conv1_{name}")
            y = keras.layers.AveragePooling2D(2)(y)
            if architecture == "resnet":
                skip = layers.EqualizedConv2D(nf(resolution // 2), 1, gain=1.0, use_bias=False,
                                              name=f"skip_{name}")(keras.layers.AveragePooling2D(2)(x))
                y = keras.layers.Rescaling(math.sqrt(0.5))(keras.layers.Add()([y, skip]))
            x = y
            resolution //= 2
        x = layers.MinibatchStdDev(mbstd_group)(x)
        x = conv(x, nf(4), 3, "conv_4x4")
        x = keras.layers.LeakyReLU(0.2)(layers.EqualizedDense(nf(4), name="dense_4x4")(keras.layers.Flatten()(x)))
        scores = layers.EqualizedDense(1, gain=1.0, name="score", dtype="float32")(x)
        super().__init__(inputs=images, outputs=scores, **kwargs)
        self.image_shape = image_shape
        self.channel_base = channel_base
        self.channel_max = channel_max
        self.architecture = architecture
        self.mbstd_group = mbstd_group


# --- Presets -------------------------------------------------------------------------------


def lazy_adam(learning_rate, every):
    """Adam(lr, 0, 0.99, 1e-8) for a player regularised every ``every``
    steps, adjusted as the StyleGAN2 paper's appendix B: ``c = every /
    (every + 1)``, lr ``c * lr``, beta_2 ``0.99^c``."""
    ratio = every / (every + 1.0) if every > 1 else 1.0
    return adam(learning_rate * ratio, beta_1=0.0, beta_2=0.99**ratio, epsilon=1e-8)


PRESETS = {
    "stylegan2_cifar10": {
        "description": "StyleGAN2 on CIFAR-10, the StyleGAN2-ADA code's 'cifar' configuration "
        "(without ADA): 2 mapping layers, 512 feature maps, minibatch-stddev groups of 32, "
        "no residual discriminator, R1 gamma 0.01, no style mixing or path length, EMA "
        "half-life 500k images, batch 64, 100M images (2,000 epochs).",
        "image_shape": (32, 32, 3),
        "generator": {"mapping_layers": 2, "channel_base": 32768},
        "discriminator": {"channel_base": 32768, "architecture": "orig", "mbstd_group": 32},
        "model": {"r1_gamma": 0.01, "style_mixing": 0.0, "ema_half_life_images": 500_000},
        "training": {"dataset": "cifar10", "batch_size": 64, "epochs": 2000,
                     "d_optimizer": lazy_adam(0.0025, 16), "g_optimizer": lazy_adam(0.0025, 4)},
    },
    "stylegan2_cifar10_small": {
        "description": "StyleGAN2 on CIFAR-10 at a CPU's scale: stylegan2_cifar10 with 128-d z "
        "and w, 128 feature maps (64 at 32x32), batch 32, EMA half-life 10k images.",
        "image_shape": (32, 32, 3),
        "generator": {"latent_dim": 128, "w_dim": 128, "mapping_layers": 2, "channel_base": 2048,
                      "channel_max": 128},
        "discriminator": {"channel_base": 2048, "channel_max": 128, "architecture": "orig", "mbstd_group": 4},
        "model": {"r1_gamma": 0.01, "style_mixing": 0.0, "ema_half_life_images": 10_000},
        "training": {"dataset": "cifar10", "batch_size": 32, "epochs": 100,
                     "d_optimizer": lazy_adam(0.0025, 16), "g_optimizer": lazy_adam(0.0025, 4)},
    },
    "stylegan2_emoji": {
        "description": "StyleGAN2 on Google's colour emoji at 64x64, the ADA code's 'auto' "
        "configuration for 64x64 on one GPU: 2 mapping layers, channel base 16384 (256 "
        "feature maps at 64x64), batch 32, R1 gamma 0.0256 (0.0002 x 64^2 / 32), style "
        "mixing 0.9, path length 2, EMA half-life 10k images.",
        "image_shape": (64, 64, 3),
        "generator": {"mapping_layers": 2, "channel_base": 16384},
        "discriminator": {"channel_base": 16384},
        "model": {"r1_gamma": 0.0256, "path_length_weight": 2.0, "ema_half_life_images": 10_000},
        "training": {"dataset": "emoji:google", "batch_size": 32, "epochs": 5000,
                     "d_optimizer": lazy_adam(0.0025, 16), "g_optimizer": lazy_adam(0.0025, 4)},
    },
}


# --- The model -----------------------------------------------------------------------------


@register("stylegan", presets=PRESETS)
@keras.saving.register_keras_serializable(package="zoo")
class StyleGAN(GAN):
    """StyleGAN / StyleGAN2 (see the module doc).

    Args:
        generator: ``StyleGenerator``.
        discriminator: ``StyleDiscriminator`` (or any images -> scores network).
        r1_gamma: R1's gamma (StyleGAN2: 10 for FFHQ; the official CIFAR-10: 0.01).
        r1_every: apply R1 every this many steps (16: lazy regularisation).
        style_mixing: probability that a training batch mixes two ws (0.9).
        path_length_weight: the path-length regulariser's weight (0: off;
            StyleGAN2: 2).
        path_length_every: apply it every this many steps (4).
        path_length_decay: the decay of its running mean length (0.01).
        w_average_beta: the tracked average of w moves as ``lerp(mean w,
            w_avg, beta)`` (0.995).
        ema_half_life_images: the generator EMA's half-life in images
            (StyleGAN2: 10k; the official CIFAR-10: 500k), ramped up over
            the first images (``ema_rampup``); None: a constant ``ema_decay``.
        ema_rampup: the half-life is at most this fraction of the images
            seen (0.05).
        truncation: psi of ``generate``, ``serving_default`` and ``sample``
            (1: none), the model card's default.
        truncation_cutoff: truncate only layers below this (None: all).
        ema_decay: the EMA's constant decay when ``ema_half_life_images`` is None.
        **kwargs: the remaining ``zoo.core.adversarial.GAN`` arguments.
    """

    network_classes = {"generator": StyleGenerator, "discriminator": StyleDiscriminator}
    default_training = {
        **GAN.default_training,
        "dataset": "cifar10",
        "batch_size": 32,
        "d_optimizer": lazy_adam(0.0025, 16),
        "g_optimizer": lazy_adam(0.0025, 4),
    }

    def __init__(self, generator, discriminator, r1_gamma=10.0, r1_every=16, style_mixing=0.9,
                 path_length_weight=0.0, path_length_every=4, path_length_decay=0.01, w_average_beta=0.995,
                 ema_half_life_images=10_000, ema_rampup=0.05, truncation=1.0, truncation_cutoff=None,
                 ema_decay=0.999, adversarial_loss="non_saturating", **kwargs):
        super().__init__(generator, discriminator, adversarial_loss=adversarial_loss, ema_decay=ema_decay,
                         **kwargs)
        check_truncation(truncation)
        if not 0.0 <= style_mixing <= 1.0:
            raise ConfigError(f"style_mixing is a probability in [0, 1]; got {style_mixing}.")
        if int(r1_every) < 1 or int(path_length_every) < 1:
            raise ConfigError("r1_every and path_length_every must be >= 1.")
        self.check_cutoff(truncation_cutoff)
        self.r1_gamma, self.r1_every = float(r1_gamma), int(r1_every)
        self.style_mixing = float(style_mixing)
        self.path_length_weight = float(path_length_weight)
        self.path_length_every, self.path_length_decay = int(path_length_every), float(path_length_decay)
        self.w_average_beta = float(w_average_beta)
        self.ema_half_life_images = None if ema_half_life_images is None else float(ema_half_life_images)
        self.ema_rampup = float(ema_rampup)
        self.truncation = float(truncation)
        self.truncation_cutoff = truncation_cutoff
        # The running mean path length (a model variable: checkpointed).
        self.path_length_mean = keras.Variable(0.0, dtype="float32", trainable=False, name="path_length_mean",
                                               aggregation="only_first_replica")
        self._global_batch = None

    @property
    def num_ws(self):
        return self.generator.num_ws

    def check_cutoff(self, cutoff):
        if cutoff is not None and not 1 <= int(cutoff) <= self.generator.num_ws:
            raise ConfigError(f"A style layer index must be in [1, {self.generator.num_ws}]; got {cutoff}.")

    # --- Training ---------------------------------------------------------------------------

    def metric_names(self):
        return super().metric_names() + ["path_length_mean"] * bool(self.path_length_weight)

    def discriminator_terms(self):
        """R1 on the reals, every ``r1_every`` steps."""
        return [terms.r1(self.r1_gamma, every=self.r1_every)] if self.r1_gamma else []

    def generator_terms(self):
        """The path-length regulariser, when its weight is not 0."""
        if not self.path_length_weight:
            return []
        return [terms.LossTerm("path_length", self.path_length_penalty, self.path_length_weight)]

    def training_updates(self, data):
        real, _ = self.unpack_batch(data)
        # The global batch, for the EMA's half-life in images.
        self._global_batch = ops.cast(ops.shape(real)[0] * replicas.num_replicas(), "float32")
        results = super().training_updates(data)
        if self.path_length_weight:
            results["path_length_mean"] = ops.convert_to_tensor(self.path_length_mean)
        return results

    def generate_images(self, noise, condition=None, training=False):
        """In training: mapping (tracking w's average), style mixing with
        probability ``style_mixing``, synthesis; at inference the generator
        as it is."""
        if not training:
            return super().generate_images(noise, condition, training)
        generator = self.generator
        w = generator.mapping(noise, training=True)
        self.track_w_average(w)
        ws = per_layer(w, self.num_ws)
        if self.style_mixing:
            # One cutoff for the batch, the same on every replica.
            seed = self.next_seed(per_replica=False)
            cutoff = tf.random.stateless_uniform([], seed, minval=1, maxval=self.num_ws, dtype=tf.int32)
            mixes = tf.random.stateless_uniform([], tf.random.experimental.stateless_fold_in(seed, 1)) < self.style_mixing
            cutoff = tf.where(mixes, cutoff, self.num_ws)
            other = generator.mapping(self.sample_latent(ops.shape(noise)[0]), training=True)
            ws = mix_styles(ws, per_layer(other, self.num_ws), cutoff)
        return generator.synthesis(ws, training=True)

    def track_w_average(self, w):
        """``w_avg <- lerp(mean of w over the global batch, w_avg, beta)``."""
        w = ops.stop_gradient(ops.cast(w, "float32"))
        [total] = replicas.sum_over_replicas([ops.sum(w, axis=0)])
        mean = total / ops.cast(ops.shape(w)[0] * replicas.num_replicas(), "float32")
        average = self.generator.w_avg
        average.assign(mean + self.w_average_beta * (ops.convert_to_tensor(average) - mean))

    def path_length_penalty(self, t):
        """The path-length regulariser (StyleGAN2 paper, eq. 4), every
        ``path_length_every`` steps (scaled by it) on every other example:
        ``(|J_w^T y| - a)^2`` with ``y`` image-sized N(0, 1) / sqrt(H W)
        and ``a`` the running mean length (decay ``path_length_decay``).

        Laziness here is a ``tf.cond`` around the gradient only (zero
        lengths on other steps): the running mean is a sum over replicas,
        which cannot run inside a ``tf.cond``."""
        fires = ops.equal(self.step_counter % self.path_length_every, 0)
        batch = ops.shape(t.noise)[0]
        # Every other example (the official pl_batch_shrink = 2): on N
        # replicas these are the same examples of the global batch.
        noise = t.noise[::2]
        half = ops.shape(noise)[0]
        seed = self.next_seed(per_replica=False)

        def lengths():
            ws = per_layer(self.generator.mapping(noise, training=True), self.num_ws)
            with tf.GradientTape() as tape:
                tape.watch(ws)
                images = ops.cast(self.generator.synthesis(ws, training=True), "float32")
                height, width = images.shape[1], images.shape[2]
                # Drawn for the global batch and sliced, as the noise is.
                shape = tf.concat([[half * replicas.num_replicas()], tf.shape(images)[1:]], axis=0)
                directions = replicas.local_slice(tf.random.stateless_normal(shape, seed), half)
                directions = directions / math.sqrt(height * width)
                projected = ops.sum(images * directions)
            gradients = tape.gradient(projected, ws)
            return ops.sqrt(ops.mean(ops.sum(ops.square(ops.cast(gradients, "float32")), axis=2), axis=1))

        values = tf.cond(fires, lengths, lambda: ops.zeros([half], "float32"))
        [total] = replicas.sum_over_replicas([ops.sum(ops.stop_gradient(values))])
        mean = total / ops.cast(half * replicas.num_replicas(), "float32")
        current = ops.convert_to_tensor(self.path_length_mean)
        updated = ops.where(fires, current + self.path_length_decay * (mean - current), current)
        self.path_length_mean.assign(updated)
        penalty = ops.where(fires, ops.square(values - updated) * float(self.path_length_every), 0.0)
        # One value per example of the batch: the penalty's mean over the
        # half it was computed on, for every example.
        return ops.ones([batch], "float32") * ops.mean(penalty)

    def current_ema_decay(self):
        """``0.5 ** (batch / half_life)``, the half-life ``min(ema_half_life_images,
        ema_rampup * images seen)`` (StyleGAN2-ADA's ``ema_kimg`` and ``ema_rampup``)."""
        if self.ema_half_life_images is None or self._global_batch is None:
            return self.ema_decay
        # Images seen before this batch (0 at the first step: a copy).
        seen = ops.cast(self.step_counter, "float32") * self._global_batch
        half_life = ops.minimum(self.ema_half_life_images, seen * self.ema_rampup)
        return ops.power(0.5, self._global_batch / ops.maximum(half_life, 1e-8))

    def after_generator_step(self, when=None):
        super().after_generator_step(when)
        # The averaged generator truncates towards the trained one's w average.
        if self.ema_decay is not None:
            self.ema_generator.w_avg.assign(ops.convert_to_tensor(self.generator.w_avg))

    # --- Sampling --------------------------------------------------------------------------

    def styles(self, noise, truncation=None, truncation_cutoff=None):
        """ws of the exported generator for ``noise``, truncated (default:
        the model's ``truncation`` and ``truncation_cutoff``)."""
        psi = self.truncation if truncation is None else truncation
        cutoff = self.truncation_cutoff if truncation_cutoff is None else truncation_cutoff
        return self.export_generator.styles(ops.convert_to_tensor(noise, "float32"), psi, cutoff)

    def generate(self, num_images=None, seed=None, *, truncation=None, truncation_cutoff=None, mix_at=None,
                 mix_seed=None, condition=None, labels=None, batch_size=256):
        """Samples, float32 ``[N, H, W, C]`` in about [-1, 1].

        ``truncation``: psi in (0, 1] (default: the model's, the card's);
        ``mix_at``: style mixing, the layers from ``mix_at`` on take the
        styles of ``mix_seed``'s noise (default ``seed + 1``).
        """
        if truncation is not None:
            check_truncation(truncation)
        if mix_at is None and truncation is None and truncation_cutoff is None:
            return super().generate(num_images, seed, condition=condition, labels=labels, batch_size=batch_size)
        if num_images is None:
            raise ConfigError("generate needs num_images.")
        if condition is not None or labels is not None:
            raise ConfigError("StyleGAN takes no condition.")
        def noise_of(seed):  # None: the model's own stream, as GAN.generate
            if seed is None:
                return self.sample_latent(int(num_images))
            return self.latent_for_seed(int(num_images), [int(seed), 0])

        ws = self.styles(noise_of(seed), truncation, truncation_cutoff)
        if mix_at is not None:
            self.check_cutoff(mix_at)
            if mix_seed is None and seed is not None:
                mix_seed = int(seed) + 1
            ws = mix_styles(ws, self.styles(noise_of(mix_seed), truncation, truncation_cutoff), int(mix_at))
        synthesis = self.export_generator.synthesis
        return ops.concatenate([synthesis(ws[i : i + batch_size], training=False)
                                for i in range(0, int(num_images), batch_size)], axis=0)

    def generate_from_noise(self, noise, condition=None, *, batch_size=256, labels=None, num_images=None):
        """The exported generator on ``noise`` at the model's default truncation."""
        if self.truncation == 1.0 and self.truncation_cutoff is None:
            return super().generate_from_noise(noise, condition, batch_size=batch_size, labels=labels,
                                               num_images=num_images)
        ws = self.styles(noise)
        return ops.cast(self.export_generator.synthesis(ws, training=False), "float32")

    def style_mixing_grid(self, rows=4, columns=4, mix_at=None, seed=0):
        """``[rows + 1, columns + 1, H, W, C]``: a blank corner, the
        ``columns`` sources of coarse styles across the top, the ``rows``
        sources of fine styles down the left, and each mix (coarse from the
        column, fine from the row, switching at ``mix_at``: default half the
        layers) inside, as the StyleGAN paper's Figure 3."""
        mix_at = self.num_ws // 2 if mix_at is None else int(mix_at)
        self.check_cutoff(mix_at)
        coarse = self.styles(self.latent_for_seed(columns, [seed, 0]))
        fine = self.styles(self.latent_for_seed(rows, [seed + 1, 0]))
        synthesis = self.export_generator.synthesis
        top = np.asarray(synthesis(coarse, training=False))
        left = np.asarray(synthesis(fine, training=False))
        shape = (rows * columns,) + tuple(coarse.shape[1:])
        mixed = mix_styles(ops.reshape(ops.repeat(coarse[None], rows, axis=0), shape),
                           ops.reshape(ops.repeat(fine[:, None], columns, axis=1), shape), mix_at)
        inside = np.asarray(synthesis(mixed, training=False)).reshape((rows, columns) + top.shape[1:])
        grid = np.full((rows + 1, columns + 1) + top.shape[1:], -1.0, np.float32)
        grid[0, 1:], grid[1:, 0], grid[1:, 1:] = top, left, inside
        return grid

    def extra_grids(self):
        """TensorBoard's style-mixing grid, beside the samples."""
        return {"style_mixing": self.style_mixing_grid()}

    # --- Export ------------------------------------------------------------------------------

    def export_signatures(self):
        """``serving_default`` (noise -> images) and ``sample`` (``num_images``,
        ``seed``) at the model's truncation; ``truncated`` (noise,
        ``truncation``), ``sample_truncated`` (``num_images``, ``seed``,
        ``truncation``) and ``style_mix`` (``num_images``, ``seed``,
        ``mix_seed``, ``mix_at``, ``truncation``: the layers from ``mix_at``
        on from ``mix_seed``). ``truncation`` outside (0, 1] and ``mix_at``
        outside [1, num_ws] fail with a message."""
        generator = self.export_generator
        latent, count = self.latent_dim, self.num_ws
        cutoff = self.truncation_cutoff

        def noise_for(num_images, seed):
            return self.latent_for_seed(num_images, tf.stack([seed, 0]))

        def checked(psi):
            psi = tf.cast(psi, tf.float32)
            message = "truncation must be in (0, 1]"
            checks = [tf.debugging.assert_greater(psi, 0.0, message=message),
                      tf.debugging.assert_less_equal(psi, 1.0, message=message)]
            with tf.control_dependencies(checks):
                return tf.identity(psi)

        def images(noise, psi):
            ws = generator.styles(noise, checked(psi), cutoff)
            return serving_outputs(generator.synthesis(ws, training=False))

        def style_mix(num_images, seed, mix_seed, mix_at, truncation):
            message = f"mix_at must be in [1, {count}]"
            checks = [tf.debugging.assert_greater_equal(mix_at, 1, message=message),
                      tf.debugging.assert_less_equal(mix_at, count, message=message)]
            with tf.control_dependencies(checks):
                mix_at = tf.identity(mix_at)
            first = generator.styles(noise_for(num_images, seed), checked(truncation), cutoff)
            second = generator.styles(noise_for(num_images, mix_seed), checked(truncation), cutoff)
            return serving_outputs(generator.synthesis(mix_styles(first, second, mix_at), training=False))

        noise_spec = tf.TensorSpec([None, latent], tf.float32, name="noise")
        psi_spec = tf.TensorSpec([], tf.float32, name="truncation")
        count_specs = [tf.TensorSpec([], tf.int32, name="num_images"), tf.TensorSpec([], tf.int32, name="seed")]
        default = self.truncation
        return {
            "serving_default": tf.function(lambda noise: images(noise, default), input_signature=[noise_spec]),
            "sample": tf.function(lambda num_images, seed: images(noise_for(num_images, seed), default),
                                  input_signature=count_specs),
            "truncated": tf.function(images, input_signature=[noise_spec, psi_spec]),
            "sample_truncated": tf.function(
                lambda num_images, seed, truncation: images(noise_for(num_images, seed), truncation),
                input_signature=count_specs + [psi_spec]),
            "style_mix": tf.function(style_mix, input_signature=count_specs + [
                tf.TensorSpec([], tf.int32, name="mix_seed"), tf.TensorSpec([], tf.int32, name="mix_at"),
                psi_spec]),
        }

    def export_metadata(self):
        return {**super().export_metadata(), "truncation": self.truncation,
                "truncation_cutoff": self.truncation_cutoff, "num_ws": self.num_ws}

    def get_config(self):
        return {
            **super().get_config(),
            "r1_gamma": self.r1_gamma, "r1_every": self.r1_every, "style_mixing": self.style_mixing,
            "path_length_weight": self.path_length_weight, "path_length_every": self.path_length_every,
            "path_length_decay": self.path_length_decay, "w_average_beta": self.w_average_beta,
            "ema_half_life_images": self.ema_half_life_images, "ema_rampup": self.ema_rampup,
            "truncation": self.truncation, "truncation_cutoff": self.truncation_cutoff,
        }


def check_truncation(psi):
    """psi must be in (0, 1]: 0 would give every image the average w, more
    than 1 exaggerates away from it."""
    if not 0.0 < float(psi) <= 1.0:
        raise ConfigError(f"truncation (psi) must be in (0, 1], got {psi}.")
