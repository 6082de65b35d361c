"""ProGAN: Karras, Aila, Laine & Lehtinen 2018, "Progressive Growing of
GANs for Improved Quality, Stability, and Variation" (ICLR 2018,
arXiv:1710.10196).

Both networks start at 4x4 and grow: each new resolution is faded in (the
new layers' output blended with the upsampled output of the previous
resolution, ``alpha`` rising 0 -> 1 over the images of the fade), then
trained stable; the real images shown are blended the same way. The
schedule is a list of phases of the core (``zoo.core.phases``), one per
resolution, each ``images`` long with a ``fade_in_images`` ramp; ``alpha``
is computed from the global step in the graph, so a run killed mid-fade
resumes at the same ``alpha``.

Networks (the paper's Table 2 and section 4; the official code's
``networks.py``):

* generator: the latent (512) pixel-normalised, a dense layer to 4x4 (the
  paper's 4x4 convolution of a 1x1 input), a 3x3 convolution; per doubling,
  nearest-neighbour upsampling and two 3x3 convolutions; leaky ReLU (0.2)
  and pixelwise feature normalisation after every convolution; a linear
  1x1 ``toRGB`` per resolution (no tanh);
* discriminator: a 1x1 ``fromRGB`` (leaky ReLU) per resolution; per
  halving, two 3x3 convolutions and 2x2 average pooling; at 4x4 the
  minibatch standard deviation (groups of 4), a 3x3 convolution, a dense
  layer and a linear output;
* every weight with the equalised learning rate (N(0, 1), scaled at run
  time by He's constant; ``zoo.core.layers.EqualizedConv2D``); feature
  maps ``min(fmap_base / 2^stage, fmap_max)``.

Loss: WGAN-GP (lambda 10) plus the drift term ``epsilon_drift * D(x)^2``
on reals (epsilon_drift = 1e-3), one critic step per generator step;
Adam(1e-3, beta_1 = 0, beta_2 = 0.99, epsilon = 1e-8); an exponential
moving average of the generator (0.999), which is what is exported. The
official code resets Adam's state at every new phase; here it carries on
(a reset inside a resumable run would have to happen in the graph at the
phase's first step). Minibatch standard deviation groups 4 examples, as the
official code (the paper: the whole minibatch).

Keras networks have fixed graphs, so each network is built once at the
final resolution (what ``.keras`` saves and the SavedModel serves) and,
from the same layers, once per resolution with the fade (``grown(r)``:
``noise``, ``alpha`` -> ``r x r`` images; ``images``, ``alpha`` -> scores),
which the train step of the current phase uses.
"""

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from zoo.core import layers, terms
from zoo.core.errors import ConfigError
from zoo.core.networks import Network, square_image_shape
from zoo.core.optimizers import adam
from zoo.core.registry import register
from zoo.models.wgan_gp import WGANGP


def resolutions(image_size):
    """``[4, 8, ..., image_size]``; the size must be a power of two >= 4."""
    steps = int(round(math.log2(image_size))) if image_size >= 4 else 0
    if image_size < 4 or 2**steps != image_size:
        raise ConfigError(f"ProGAN grows 4x4 -> ... by doublings: the image size must be a power of two >= 4; got {image_size}.")
    return [2**k for k in range(2, steps + 1)]


def feature_maps(resolution, fmap_base, fmap_max):
    """Feature maps of the block at ``resolution``: ``min(fmap_base /
    2^stage, fmap_max)`` with stage ``log2(resolution) - 1`` (the official
    ``nf``; 512 everywhere up to 32x32 with the defaults)."""
    stage = int(round(math.log2(resolution))) - 1
    return int(min(fmap_base / 2**stage, fmap_max))


def _leaky(x):
    return keras.layers.LeakyReLU(0.2)(x)


@keras.saving.register_keras_serializable(package="zoo")
class ProgressiveGenerator(Network):
    """ProGAN's generator at its final resolution: ``noise`` ``[batch,
    latent_dim]`` -> images ``[batch, H, W, C]`` (linear output, [-1, 1]
    in training). ``grown(r)`` is the same network at resolution ``r``
    with the fade from ``r / 2``.

    Args:
        image_shape: ``(H, W, C)`` of the final resolution.
        latent_dim: noise size (512).
        fmap_base, fmap_max: feature maps per block (see ``feature_maps``).
        normalize_latent: pixel-normalise the noise first (True).
    """

    def __init__(self, image_shape=(32, 32, 3), latent_dim=512, fmap_base=8192, fmap_max=512,
                 normalize_latent=True, **kwargs):
        image_shape = square_image_shape(image_shape, "ProGAN")
        sizes = resolutions(image_shape[0])
        channels = image_shape[-1]
        nf = lambda r: feature_maps(r, fmap_base, fmap_max)  # noqa: E731
        # The weighted layers, shared by the final network and every grown one.
        parts = {
            "dense": layers.EqualizedDense(nf(4) * 16, gain=math.sqrt(2.0) / 4, name="dense_4x4"),
            "conv_4": layers.EqualizedConv2D(nf(4), 3, name="conv_4x4"),
        }
        for r in sizes[1:]:
            parts[f"conv1_{r}"] = layers.EqualizedConv2D(nf(r), 3, name=f"conv1_{r}x{r}")
            parts[f"conv2_{r}"] = layers.EqualizedConv2D(nf(r), 3, name=f"conv2_{r}x{r}")
        for r in sizes:
            parts[f"to_rgb_{r}"] = layers.EqualizedConv2D(channels, 1, gain=1.0, name=f"to_rgb_{r}x{r}")
        object.__setattr__(self, "_parts", parts)
        object.__setattr__(self, "_grown", {})
        object.__setattr__(self, "_config", (sizes, nf, latent_dim, normalize_latent))

        noise = keras.Input((latent_dim,), name="noise")
        features = self._features(noise, sizes[-1])
        rgb = [parts[f"to_rgb_{r}"](features[r]) for r in sizes]
        # The final image; the lower resolutions' toRGB ride along so that
        # their weights are part of (and saved with) this network.
        images = layers.TakeFirst(name="images", dtype="float32")([rgb[-1]] + rgb[:-1])
        super().__init__(inputs=noise, outputs=images, **kwargs)
        self.image_shape = image_shape
        self.latent_dim = latent_dim
        self.fmap_base = fmap_base
        self.fmap_max = fmap_max
        self.normalize_latent = normalize_latent

    def _features(self, noise, until):
        sizes, nf, _, normalize_latent = self._config
        parts = self._parts
        x = layers.PixelNorm()(noise) if normalize_latent else noise
        x = parts["dense"](x)
        x = keras.layers.Reshape((4, 4, nf(4)))(x)
        x = layers.PixelNorm()(_leaky(x))
        x = layers.PixelNorm()(_leaky(parts["conv_4"](x)))
        features = {4: x}
        for r in sizes[1:]:
            if r > until:
                break
            x = keras.layers.UpSampling2D(2)(x)
            x = layers.PixelNorm()(_leaky(parts[f"conv1_{r}"](x)))
            x = layers.PixelNorm()(_leaky(parts[f"conv2_{r}"](x)))
            features[r] = x
        return features

    @property
    def resolutions(self):
        return resolutions(self.image_shape[0])

    def grown(self, resolution):
        """The generator at ``resolution``: ``{"noise", "alpha" [batch, 1]}``
        -> ``[batch, r, r, C]``, ``alpha`` fading from ``r / 2``'s output
        (upsampled, nearest) to ``r``'s; at 4x4, ``noise`` alone."""
        if resolution not in self.resolutions:
            raise ConfigError(f"ProGAN's generator has resolutions {self.resolutions}; got {resolution}.")
        if resolution not in self._grown:
            noise = keras.Input((self.latent_dim,), name="noise")
            features = self._features(noise, resolution)
            high = self._parts[f"to_rgb_{resolution}"](features[resolution])
            if resolution == 4:
                model = keras.Model(noise, high, name=f"{self.name}_4x4")
            else:
                alpha = keras.Input((1,), name="alpha")
                low = keras.layers.UpSampling2D(2)(self._parts[f"to_rgb_{resolution // 2}"](features[resolution // 2]))
                images = layers.Fade()([low, high, alpha])
                model = keras.Model({"noise": noise, "alpha": alpha}, images, name=f"{self.name}_{resolution}x{resolution}")
            self._grown[resolution] = model
        return self._grown[resolution]


@keras.saving.register_keras_serializable(package="zoo")
class ProgressiveDiscriminator(Network):
    """ProGAN's discriminator at its final resolution: ``images`` ``[batch,
    H, W, C]`` -> scores ``[batch, 1]``; ``grown(r)`` judges ``r x r``
    images with the fade from ``r / 2``.

    Args:
        image_shape: ``(H, W, C)`` of the final resolution.
        fmap_base, fmap_max: feature maps per block.
        group_size: the minibatch standard deviation's group (4).
    """

    def __init__(self, image_shape=(32, 32, 3), fmap_base=8192, fmap_max=512, group_size=4, **kwargs):
        image_shape = square_image_shape(image_shape, "ProGAN")
        sizes = resolutions(image_shape[0])
        nf = lambda r: feature_maps(r, fmap_base, fmap_max)  # noqa: E731
        parts = {}
        for r in sizes:
            parts[f"from_rgb_{r}"] = layers.EqualizedConv2D(nf(r), 1, name=f"from_rgb_{r}x{r}")
        for r in sizes[1:]:
            parts[f"conv1_{r}"] = layers.EqualizedConv2D(nf(r), 3, name=f"conv1_{r}x{r}")
            parts[f"conv2_{r}"] = layers.EqualizedConv2D(nf(r // 2), 3, name=f"conv2_{r}x{r}")
        parts["conv_4"] = layers.EqualizedConv2D(nf(4), 3, name="conv_4x4")
        parts["dense"] = layers.EqualizedDense(nf(2), name="dense_4x4")  # nf(0) of the official code
        parts["score"] = layers.EqualizedDense(1, gain=1.0, name="score")
        object.__setattr__(self, "_parts", parts)
        object.__setattr__(self, "_grown", {})
        object.__setattr__(self, "_config", (sizes, group_size))

        images = keras.Input(image_shape, name="images")
        top = sizes[-1]
        x = _leaky(parts[f"from_rgb_{top}"](images))
        # The lower resolutions' fromRGB ride along (see TakeFirst).
        others, pooled = [], images
        for r in reversed(sizes[:-1]):
            pooled = keras.layers.AveragePooling2D(2)(pooled)
            others.append(parts[f"from_rgb_{r}"](pooled))
        x = layers.TakeFirst()([x] + others)
        scores = self._from(x, top)
        super().__init__(inputs=images, outputs=scores, **kwargs)
        self.image_shape = image_shape
        self.fmap_base = fmap_base
        self.fmap_max = fmap_max
        self.group_size = group_size

    def _block(self, x, resolution):
        """The block at ``resolution`` (> 4): two convolutions, then 2x2 pooling."""
        x = _leaky(self._parts[f"conv1_{resolution}"](x))
        x = _leaky(self._parts[f"conv2_{resolution}"](x))
        return keras.layers.AveragePooling2D(2)(x)

    def _from(self, x, resolution):
        """From features at ``resolution`` down to the score."""
        sizes, group_size = self._config
        for r in reversed(sizes[1:]):
            if r <= resolution:
                x = self._block(x, r)
        x = layers.MinibatchStdDev(group_size)(x)
        x = _leaky(self._parts["conv_4"](x))
        x = _leaky(self._parts["dense"](keras.layers.Flatten()(x)))
        return keras.layers.Activation("linear", dtype="float32")(self._parts["score"](x))

    @property
    def resolutions(self):
        return resolutions(self.image_shape[0])

    def grown(self, resolution):
        """The discriminator at ``resolution``: ``{"images" [batch, r, r, C],
        "alpha" [batch, 1]}`` -> scores, the input faded from ``r / 2``'s
        fromRGB (of the 2x2-pooled images) to ``r``'s first block; at 4x4,
        ``images`` alone."""
        if resolution not in self.resolutions:
            raise ConfigError(f"ProGAN's discriminator has resolutions {self.resolutions}; got {resolution}.")
        if resolution not in self._grown:
            images = keras.Input((resolution, resolution, self.image_shape[-1]), name="images")
            x = _leaky(self._parts[f"from_rgb_{resolution}"](images))
            if resolution == 4:
                model = keras.Model(images, self._from(x, 4), name=f"{self.name}_4x4")
            else:
                alpha = keras.Input((1,), name="alpha")
                high = self._block(x, resolution)
                low = _leaky(self._parts[f"from_rgb_{resolution // 2}"](keras.layers.AveragePooling2D(2)(images)))
                x = layers.Fade()([low, high, alpha])
                model = keras.Model({"images": images, "alpha": alpha}, self._from(x, resolution // 2),
                                    name=f"{self.name}_{resolution}x{resolution}")
            self._grown[resolution] = model
        return self._grown[resolution]


def progressive_phases(final_resolution, images_per_phase, final_images=None, batch_sizes=None):
    """The growing schedule as phase dicts: 4x4 for ``images_per_phase``
    images, then per resolution a fade of ``images_per_phase`` and as many
    stable images (the last resolution ``final_images`` in all)."""
    sizes = resolutions(final_resolution)
    phases = [{"name": "4x4", "resolution": 4, "images": images_per_phase}]
    for r in sizes[1:]:
        total = 2 * images_per_phase if r < sizes[-1] or final_images is None else final_images
        phases.append({"name": f"{r}x{r}", "resolution": r, "images": total, "fade_in_images": images_per_phase})
    for phase in phases:
        if batch_sizes and phase["resolution"] in batch_sizes:
            phase["batch_size"] = batch_sizes[phase["resolution"]]
    return phases


# CIFAR-10 as the paper's section 6.5 (the setup behind its Inception Score
# of 8.80, the released Theano code's config): 128 feature maps and a
# 128-d latent, 400k images per fade and per stable phase, batch 16, the
# gradient penalty's target gamma = 750; 20M images in all.
CIFAR = {
    "image_shape": (32, 32, 3),
    "generator": {"latent_dim": 128, "fmap_base": 4096, "fmap_max": 128},
    "discriminator": {"fmap_base": 4096, "fmap_max": 128},
    "model": {"ema_decay": 0.999, "gradient_target": 750.0},
}

PRESETS = {
    "progan_cifar10": {
        "description": "ProGAN on CIFAR-10, 4x4 -> 32x32, the paper's CIFAR setup: 128 feature "
        "maps, 400k images per fade and per stable phase, batch 16, gamma 750, EMA 0.999.",
        **CIFAR,
        "training": {"dataset": "cifar10", "batch_size": 16,
                     "phases": progressive_phases(32, 400_000, final_images=20_000_000 - 2_800_000)},
    },
    "progan_emoji": {
        "description": "ProGAN on Google's colour emoji, 4x4 -> 64x64: the official code's "
        "defaults (512 feature maps at 4-32, 256 at 64; 600k images per fade and per stable "
        "phase; batch 128 up to 16x16, 64 at 32, 32 at 64).",
        "image_shape": (64, 64, 3),
        "model": {"ema_decay": 0.999},
        "training": {"dataset": "emoji:google", "batch_size": 32,
                     "phases": progressive_phases(64, 600_000, final_images=3_000_000,
                                                  batch_sizes={4: 128, 8: 128, 16: 128, 32: 64, 64: 32})},
    },
}


@register("progan", presets=PRESETS)
@keras.saving.register_keras_serializable(package="zoo")
class ProGAN(WGANGP):
    """Progressive growing of GANs (Karras et al. 2018).

    Args:
        generator: ``ProgressiveGenerator``.
        discriminator: ``ProgressiveDiscriminator`` of the same final size.
        gp_weight: WGAN-GP's lambda (10).
        drift_weight: ``epsilon_drift`` (1e-3), times ``D(x)^2`` on reals.
        gradient_target: ``gamma``, the gradient norm the penalty pulls to,
            as ``((||grad|| - gamma) / gamma)^2`` (1; 750 for CIFAR-10).
        **kwargs: the remaining ``zoo.models.wgan_gp.WGANGP`` arguments
            (one critic step per generator step, as the paper).
    """

    network_classes = {"generator": ProgressiveGenerator, "discriminator": ProgressiveDiscriminator}
    default_training = {
        **WGANGP.default_training,
        "dataset": "cifar10",
        "batch_size": 64,
        "d_optimizer": adam(1e-3, beta_1=0.0, beta_2=0.99, epsilon=1e-8),
        "g_optimizer": adam(1e-3, beta_1=0.0, beta_2=0.99, epsilon=1e-8),
    }

    def __init__(self, generator, discriminator, gp_weight=10.0, drift_weight=1e-3, gradient_target=1.0,
                 d_steps=1, fresh_real_batches=False, **kwargs):
        super().__init__(generator, discriminator, gp_weight=gp_weight, d_steps=d_steps,
                         fresh_real_batches=fresh_real_batches, **kwargs)
        self.gradient_target = float(gradient_target)
        if tuple(discriminator.image_shape) != tuple(generator.image_shape):
            raise ConfigError(
                f"ProGAN's networks must share the final size; got {generator.image_shape} and "
                f"{discriminator.image_shape}."
            )
        if self.unrolled_steps:
            raise ConfigError("ProGAN does not support unrolled steps.")
        self.drift_weight = float(drift_weight)

    # --- The current resolution ---------------------------------------------------

    @property
    def resolution(self):
        """The resolution being trained: the phase's, or the final one."""
        if self.phase is not None and self.phase.resolution:
            return int(self.phase.resolution)
        return self.generator.resolutions[-1]

    def enter_phase(self, phase, start_step):
        if phase.resolution and phase.resolution not in self.generator.resolutions:
            raise ConfigError(
                f"Phase {phase.name!r} trains at {phase.resolution}x{phase.resolution}, which ProGAN's "
                f"networks do not have ({self.generator.resolutions})."
            )
        super().enter_phase(phase, start_step)

    def exported_generator_is_trained(self):
        """False before the final resolution is faded in (``alpha`` 1): the
        export is the final-resolution generator, whose upper layers the
        earlier phases do not train (FID of those steps would score them)."""
        return (self.resolution == self.generator.resolutions[-1]
                and float(self.phase_progress()) >= 1.0)

    def _alpha(self, batch):
        return ops.broadcast_to(ops.reshape(self.phase_progress(), (1, 1)), (batch, 1))

    def _grown_inputs(self, key, values):
        if self.resolution == 4:
            return values
        return {key: values, "alpha": self._alpha(ops.shape(values)[0])}

    def optimizer_variables(self):
        """All weights before a phase is entered (what ``compile`` builds the
        optimizers over), then those of the current resolution."""
        if self.phase is None:
            return super().optimizer_variables()
        return {
            "d_optimizer": self.discriminator.grown(self.resolution).trainable_variables,
            "g_optimizer": self.generator.grown(self.resolution).trainable_variables,
        }

    def generate_images(self, noise, condition=None, training=False):
        generator = self.generator.grown(self.resolution)
        return generator(self._grown_inputs("noise", ops.convert_to_tensor(noise)), training=training)

    def discriminate(self, images, condition=None, training=False):
        discriminator = self.discriminator.grown(self.resolution)
        images = ops.convert_to_tensor(images)
        return ops.cast(discriminator(self._grown_inputs("images", images), training=training), "float32")

    def discriminator_terms(self):
        """The gradient penalty and ``drift``: ``epsilon_drift * D(x)^2``."""
        drift = terms.LossTerm("drift", lambda t: ops.mean(ops.square(t.real_outputs), axis=-1), self.drift_weight)
        return super().discriminator_terms() + [drift]

    def metric_names(self):
        return super().metric_names() + ["alpha", "resolution"]

    def training_updates(self, data):
        """The WGAN-GP step at the current resolution, on reals faded like
        the generator's output: ``alpha`` between their 2x2-pooled
        (nearest-upsampled) copy and themselves."""
        real, _ = self.unpack_batch(data)
        real = ops.cast(real, self.compute_dtype)
        size = "another size" if real.shape[1] is None else f"{real.shape[1]}x{real.shape[2]}"
        message = (
            f"ProGAN is training at {self.resolution}x{self.resolution} but the batch is "
            f"{size}: stream the phase's resolution."
        )
        if real.shape[1] is None:  # a retrace with relaxed shapes: check when it runs
            check = tf.debugging.assert_equal(tf.shape(real)[1], self.resolution, message=message)
            with tf.control_dependencies([check]):
                real = tf.identity(real)
        elif real.shape[1] != self.resolution:
            raise ConfigError(message)
        alpha = self.phase_progress()
        if self.resolution > 4:
            low = ops.repeat(ops.repeat(ops.average_pool(real, 2, 2), 2, axis=1), 2, axis=2)
            real = low + alpha * (real - low)
        results = super().training_updates(real)
        results["alpha"] = alpha
        results["resolution"] = ops.convert_to_tensor(float(self.resolution))
        return results

    # --- Sampling at the current resolution --------------------------------------------

    def training_grid(self, num_images=64, seed=0):
        """The TensorBoard grid: fixed samples of the (averaged) generator
        at the current resolution and ``alpha``, enlarged (nearest) to the
        final size."""
        generator = (self.ema_generator if self.ema_decay is not None else self.generator).grown(self.resolution)
        noise = self.latent_for_seed(num_images, [seed, 0])
        inputs = noise if self.resolution == 4 else {"noise": noise, "alpha": self._alpha(num_images)}
        images = np.asarray(generator(inputs, training=False))
        size = self.generator.image_shape[0]
        return np.clip(np.asarray(tf.image.resize(images, (size, size), method="nearest")), -1.0, 1.0)

    def get_config(self):
        return {**super().get_config(), "drift_weight": self.drift_weight,
                "gradient_target": self.gradient_target}
