"""LAPGAN: Denton, Chintala, Szlam & Fergus 2015, "Deep Generative Image
Models using a Laplacian Pyramid of Adversarial Networks" (NeurIPS 2015,
arXiv:1506.05751).

An image is its Laplacian pyramid: the coarsest image ``I_K`` (8x8 for
CIFAR-10 at 32x32) and, per finer level ``k``, the residual ``h_k = I_k -
u(I_{k+1})`` between the image at that level and the upsampled coarser one
(``d``: downsampling by 2, ``u``: upsampling by 2). LAPGAN models each part
with its own GAN:

* level K (the base): an ordinary GAN ``G_K(z_K) -> I_K``;
* level k < K: a conditional GAN whose generator makes the residual from
  the upsampled coarser image and a noise plane, ``G_k(l_k, z_k) -> h_k``
  with ``l_k = u(I_{k+1})``, and whose discriminator judges ``h_k`` given
  ``l_k`` (it sees ``h_k + l_k``, the image at that level, as the released
  code's ``CAddTable`` does).

Each level trains on the real pyramid, independently of the others (the
paper's section 3.2); one train step here makes one discriminator and one
generator update at every level, the levels' losses summed (the levels
share no weights, so with Adam this is each level trained by its own
optimizer). Sampling runs the chain coarse to fine: ``I_K = G_K(z_K)``,
``I_k = u(I_{k+1}) + G_k(u(I_{k+1}), z_k)``; the generator network *is* that
chain, so ``generate``, ``.keras`` and the SavedModel's ``sample`` signature
all run the whole pyramid. Its ``noise`` input holds ``z_K`` and every
level's noise plane, one vector per image.

Networks for CIFAR-10 (8 -> 16 -> 32), from the paper's section 4 and the
released Torch code (``facebook/eyescream``, ``cifar/scripts``):

* base: fully connected, ReLU; the generator 100 -> 1200 -> 1200 -> 8x8x3
  (tanh: the zoo's images live in [-1, 1]; the code standardises pixels
  instead), the discriminator 8x8x3 -> 600 -> 600 -> 1 with dropout;
* finer levels: the generator convolves ``[l_k, z_k]`` (4 channels) with
  7x7 (64), 7x7 (64) and 5x5 (3) filters, ReLU between, no output
  non-linearity (a residual is signed); the discriminator convolves
  ``h_k + l_k`` with 5x5 (64, valid) and 5x5 stride-2 (64) filters, ReLU,
  dropout and one logit. 64 feature maps are the released code's defaults.
* class-conditional (the paper's CC-LAPGAN): the one-hot label joins the
  base networks' inputs, and at finer levels a linear map of it (ReLU) is
  reshaped to one more input plane of each network, as the released
  ``train_cifar_coarse_to_fine_classcond.lua``.

``d`` is bilinear downsampling with antialiasing (a blur, then decimation)
and ``u`` bilinear upsampling. Noise is standard normal (the code draws
uniform [-1, 1]). Training uses Adam(2e-4, beta_1 = 0.5) at batch 128: the
code's SGD (learning rate 0.02, momentum 0.5 rising to 0.7) was tuned for
standardised pixels and its own networks.
"""

import keras
import numpy as np
from keras import ops

from zoo.core import layers, losses
from zoo.core.adversarial import GAN
from zoo.core.errors import ConfigError
from zoo.core.networks import Network
from zoo.core.registry import register


def downsample(images):
    """``d``: half the size, bilinear with antialiasing."""
    height, width = images.shape[1], images.shape[2]
    return ops.image.resize(images, (height // 2, width // 2), interpolation="bilinear", antialias=True)


def upsample(images):
    """``u``: twice the size, bilinear."""
    height, width = images.shape[1], images.shape[2]
    return ops.image.resize(images, (height * 2, width * 2), interpolation="bilinear")


def pyramid_sizes(image_size, levels):
    """Image sizes from the base up: ``(32, 3)`` -> ``[8, 16, 32]``."""
    base = image_size // 2 ** (levels - 1)
    if levels < 1 or base < 2 or base * 2 ** (levels - 1) != image_size:
        raise ConfigError(
            f"A {levels}-level Laplacian pyramid needs an image size divisible by "
            f"{2 ** (levels - 1)} with a base of at least 2x2; got {image_size}."
        )
    return [base * 2**k for k in range(levels)]


@keras.saving.register_keras_serializable(package="zoo")
class NoiseSlice(keras.layers.Layer):
    """``noise[:, offset : offset + prod(shape)]`` reshaped to ``[batch,
    *shape]``: one level's share of the pyramid's noise vector."""

    def __init__(self, offset, shape, **kwargs):
        super().__init__(**kwargs)
        self.offset = int(offset)
        self.slice_shape = tuple(int(d) for d in shape)

    def call(self, noise):
        size = int(np.prod(self.slice_shape))
        return ops.reshape(noise[:, self.offset : self.offset + size], (-1,) + self.slice_shape)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self.slice_shape

    def get_config(self):
        return {**super().get_config(), "offset": self.offset, "shape": list(self.slice_shape)}


@keras.saving.register_keras_serializable(package="zoo")
class ClipToImage(keras.layers.Layer):
    """Clips to [-1, 1]: a sampled level is an image before the next level
    conditions on it."""

    def call(self, images):
        return ops.clip(images, -1.0, 1.0)


def _one_hot(labels, num_classes, name):
    return keras.layers.CategoryEncoding(num_classes, output_mode="one_hot", name=name)(labels)


def _class_plane(labels, num_classes, size, name):
    """A linear map of the one-hot label (ReLU) reshaped to one ``size x
    size`` plane (the released class-conditional code's)."""
    x = keras.layers.Dense(size * size, activation="relu", name=f"{name}_dense")(
        _one_hot(labels, num_classes, f"{name}_one_hot")
    )
    return keras.layers.Reshape((size, size, 1), name=f"{name}_plane")(x)


def noise_layout(sizes, latent_dim):
    """``[(offset, shape)]`` of each level's noise in the noise vector: the
    base's ``latent_dim`` values, then one ``size x size`` plane per finer
    level; and the vector's length."""
    layout, offset = [(0, (latent_dim,))], latent_dim
    for size in sizes[1:]:
        layout.append((offset, (size, size, 1)))
        offset += size * size
    return layout, offset


@keras.saving.register_keras_serializable(package="zoo")
class LaplacianPyramidGenerator(Network):
    """The sampling chain: ``noise`` ``[batch, noise_dim]`` (and ``labels``
    ``[batch]`` with ``num_classes``) -> images ``[batch, H, W, C]`` in
    [-1, 1]. Each level is a sub-network, ``level(size)``: the base maps
    ``noise`` ``[batch, latent_dim]`` (and ``labels``) to ``[batch, s, s,
    C]``; a finer one maps ``coarse`` (the upsampled coarser image),
    ``noise`` ``[batch, s, s, 1]`` (and ``labels``) to the residual.

    Args:
        image_shape: ``(H, W, C)`` of the finest level (H == W).
        levels: pyramid levels (3: 8 -> 16 -> 32 for CIFAR-10).
        latent_dim: the base level's noise (100).
        base_units: hidden units of the base generator's two layers (1200).
        filters: feature maps of the finer levels' convolutions (64).
        num_classes: class-conditional with this many classes; None: not.
    """

    def __init__(self, image_shape=(32, 32, 3), levels=3, latent_dim=100, base_units=1200,
                 filters=64, num_classes=None, **kwargs):
        image_shape = tuple(int(d) for d in image_shape)
        sizes = pyramid_sizes(image_shape[0], levels)
        channels = image_shape[-1]
        layout, noise_dim = noise_layout(sizes, latent_dim)
        conditional = num_classes is not None

        # The levels, each its own network.
        z = keras.Input((latent_dim,), name="noise")
        label = keras.Input((), dtype="int32", name="labels")
        x = keras.layers.Concatenate()([z, _one_hot(label, num_classes, "one_hot")]) if conditional else z
        for i in range(2):
            x = keras.layers.Dense(base_units, activation="relu", name=f"dense{i + 1}")(x)
        x = keras.layers.Dense(sizes[0] * sizes[0] * channels, name="to_image")(x)
        x = keras.layers.Reshape((sizes[0], sizes[0], channels))(x)
        x = keras.layers.Activation("tanh", dtype="float32", name="image")(x)
        base = keras.Model([z, label] if conditional else z, x, name=f"level_{sizes[0]}")
        refiners = []
        for size in sizes[1:]:
            coarse = keras.Input((size, size, channels), name="coarse")
            plane = keras.Input((size, size, 1), name="noise")
            label = keras.Input((), dtype="int32", name="labels")
            parts = [coarse, plane] + ([_class_plane(label, num_classes, size, "class")] if conditional else [])
            x = keras.layers.Concatenate()(parts)
            x = keras.layers.Conv2D(filters, 7, padding="same", activation="relu", name="conv1")(x)
            x = keras.layers.Conv2D(filters, 7, padding="same", activation="relu", name="conv2")(x)
            residual = keras.layers.Conv2D(channels, 5, padding="same", dtype="float32", name="residual")(x)
            inputs = [coarse, plane, label] if conditional else [coarse, plane]
            refiners.append(keras.Model(inputs, residual, name=f"level_{size}"))

        # The chain, coarse to fine.
        noise = keras.Input((noise_dim,), name="noise")
        labels = keras.Input((), dtype="int32", name="labels")
        extra = [labels] if conditional else []
        z = NoiseSlice(*layout[0], name="noise_base")(noise)
        image = base([z] + extra) if conditional else base(z)
        for refiner, (offset, shape), size in zip(refiners, layout[1:], sizes[1:]):
            coarse = keras.layers.UpSampling2D(2, interpolation="bilinear", name=f"up_{size}")(image)
            plane = NoiseSlice(offset, shape, name=f"noise_{size}")(noise)
            residual = refiner([coarse, plane] + extra)
            image = ClipToImage(name=f"image_{size}")(keras.layers.Add()([coarse, residual]))
        super().__init__(inputs=[noise] + extra if conditional else noise, outputs=image, **kwargs)
        self.image_shape = image_shape
        self.levels = levels
        self.latent_dim = latent_dim
        self.base_units = base_units
        self.filters = filters
        self.num_classes = num_classes

    @property
    def sizes(self):
        """Image size at each level, base first."""
        return pyramid_sizes(self.image_shape[0], self.levels)

    @property
    def noise_dim(self):
        """Length of the noise vector: the base's and every noise plane."""
        return noise_layout(self.sizes, self.latent_dim)[1]

    def level(self, size):
        """The sub-network of the level whose images are ``size x size``."""
        return self.get_layer(f"level_{size}")

    def split_noise(self, noise):
        """``[z_base, plane_1, ...]`` of noise vectors ``[batch, noise_dim]``."""
        layout, _ = noise_layout(self.sizes, self.latent_dim)
        return [
            ops.reshape(noise[:, offset : offset + int(np.prod(shape))], (-1,) + shape)
            for offset, shape in layout
        ]

    def pyramid(self, noise, labels=None, training=False):
        """The chain's image at every level, base first: what the network
        computes, step by step."""
        pieces = self.split_noise(ops.convert_to_tensor(noise, "float32"))
        extra = [] if self.num_classes is None else [ops.cast(ops.convert_to_tensor(labels), "int32")]
        base_inputs = [pieces[0]] + extra if extra else pieces[0]
        images = [self.level(self.sizes[0])(base_inputs, training=training)]
        for size, plane in zip(self.sizes[1:], pieces[1:]):
            coarse = upsample(images[-1])
            residual = self.level(size)([coarse, plane] + extra, training=training)
            images.append(ops.clip(coarse + residual, -1.0, 1.0))
        return images


@keras.saving.register_keras_serializable(package="zoo")
class LaplacianPyramidDiscriminator(Network):
    """One discriminator per level, ``level(size)``: the base judges images
    ``[batch, s, s, C]`` (and ``labels``); a finer one judges ``residual``
    given ``coarse`` (both ``[batch, s, s, C]``; and ``labels``). Each
    returns one logit ``[batch, 1]``; the network's outputs are all of
    them, base first.

    Args:
        image_shape: ``(H, W, C)`` of the finest level.
        levels: pyramid levels.
        base_units: hidden units of the base's two layers (600).
        filters: feature maps of the finer levels' convolutions (64).
        dropout: dropout rate before each level's output (0.5).
        num_classes: class-conditional with this many classes; None: not.
    """

    def __init__(self, image_shape=(32, 32, 3), levels=3, base_units=600, filters=64, dropout=0.5,
                 num_classes=None, **kwargs):
        image_shape = tuple(int(d) for d in image_shape)
        sizes = pyramid_sizes(image_shape[0], levels)
        channels = image_shape[-1]
        conditional = num_classes is not None
        networks = []
        image = keras.Input((sizes[0], sizes[0], channels), name="images")
        label = keras.Input((), dtype="int32", name="labels")
        x = keras.layers.Flatten()(image)
        if conditional:
            x = keras.layers.Concatenate()([x, _one_hot(label, num_classes, "one_hot")])
        for i in range(2):
            x = keras.layers.Dense(base_units, activation="relu", name=f"dense{i + 1}")(x)
            x = layers.Dropout(dropout, name=f"dropout{i + 1}")(x)
        logit = keras.layers.Dense(1, dtype="float32", name="logit")(x)
        networks.append(keras.Model([image, label] if conditional else image, logit, name=f"level_{sizes[0]}"))
        for size in sizes[1:]:
            residual = keras.Input((size, size, channels), name="residual")
            coarse = keras.Input((size, size, channels), name="coarse")
            label = keras.Input((), dtype="int32", name="labels")
            x = keras.layers.Add(name="image")([residual, coarse])
            if conditional:
                x = keras.layers.Concatenate()([x, _class_plane(label, num_classes, size, "class")])
            x = keras.layers.Conv2D(filters, 5, activation="relu", name="conv1")(x)
            x = keras.layers.Conv2D(filters, 5, strides=2, activation="relu", name="conv2")(x)
            x = layers.Dropout(dropout, name="dropout")(keras.layers.Flatten()(x))
            logit = keras.layers.Dense(1, dtype="float32", name="logit")(x)
            inputs = [residual, coarse, label] if conditional else [residual, coarse]
            networks.append(keras.Model(inputs, logit, name=f"level_{size}"))

        inputs, outputs = [], []
        labels = keras.Input((), dtype="int32", name="labels")
        extra = [labels] if conditional else []
        base_images = keras.Input((sizes[0], sizes[0], channels), name=f"images_{sizes[0]}")
        inputs.append(base_images)
        outputs.append(networks[0]([base_images] + extra if conditional else base_images))
        for network, size in zip(networks[1:], sizes[1:]):
            residual = keras.Input((size, size, channels), name=f"residual_{size}")
            coarse = keras.Input((size, size, channels), name=f"coarse_{size}")
            inputs += [residual, coarse]
            outputs.append(network([residual, coarse] + extra))
        super().__init__(inputs=inputs + extra, outputs=outputs, **kwargs)
        self.image_shape = image_shape
        self.levels = levels
        self.base_units = base_units
        self.filters = filters
        self.dropout = dropout
        self.num_classes = num_classes

    def level(self, size):
        """The discriminator of the level whose images are ``size x size``."""
        return self.get_layer(f"level_{size}")


CIFAR = {"image_shape": (32, 32, 3)}

PRESETS = {
    "lapgan_cifar10": {
        "description": "LAPGAN on CIFAR-10: an 8x8 base GAN, then residual GANs at 16x16 and 32x32.",
        **CIFAR,
        "training": {"dataset": "cifar10"},
    },
    "lapgan_cifar10_classcond": {
        "description": "Class-conditional LAPGAN (the paper's CC-LAPGAN) on CIFAR-10: every "
        "level's generator and discriminator sees the label.",
        **CIFAR,
        "generator": {"num_classes": 10},
        "discriminator": {"num_classes": 10},
        "training": {"dataset": "cifar10"},
    },
}


@register("lapgan", presets=PRESETS)
@keras.saving.register_keras_serializable(package="zoo")
class LAPGAN(GAN):
    """LAPGAN (Denton et al. 2015): a GAN per level of a Laplacian pyramid.

    Args:
        generator: ``LaplacianPyramidGenerator`` (the sampling chain).
        discriminator: ``LaplacianPyramidDiscriminator`` with the same levels.
        **kwargs: the remaining ``zoo.core.adversarial.GAN`` arguments
            (``adversarial_loss``: "non_saturating" as the released code,
            whose generator trains on the target 1).
    """

    network_classes = {"generator": LaplacianPyramidGenerator, "discriminator": LaplacianPyramidDiscriminator}
    default_training = {**GAN.default_training, "dataset": "cifar10", "batch_size": 128, "epochs": 25}

    def __init__(self, generator, discriminator, **kwargs):
        # The noise vector carries every level's noise, not only the base's.
        kwargs["latent_dim"] = generator.noise_dim
        super().__init__(generator, discriminator, **kwargs)
        if (discriminator.levels, discriminator.num_classes) != (generator.levels, generator.num_classes):
            raise ConfigError(
                "LAPGAN's generator and discriminator must have the same levels and classes; got "
                f"{generator.levels} and {discriminator.levels} levels, classes "
                f"{generator.num_classes} and {discriminator.num_classes}."
            )
        if self.unrolled_steps or self.augment:
            raise ConfigError("LAPGAN trains each level on its own: unrolled steps and DiffAugment are not supported.")

    @property
    def sizes(self):
        """Image size at each level, base first (8, 16, 32)."""
        return self.generator.sizes

    def metric_names(self):
        names = ["d_loss", "g_loss"]
        for size in self.sizes:
            names += [f"d_loss_{size}", f"g_loss_{size}"]
        return names

    def real_pyramid(self, images):
        """``[(target, coarse)]`` per level, base first: the base's target is
        the image at its size (no coarse); a finer level's is the residual
        ``h_k = I_k - u(I_{k+1})`` with ``coarse = u(I_{k+1})``."""
        gaussian = [images]
        for _ in self.sizes[1:]:
            gaussian.insert(0, downsample(gaussian[0]))
        levels = [(gaussian[0], None)]
        for coarser, image in zip(gaussian[:-1], gaussian[1:]):
            coarse = upsample(coarser)
            levels.append((image - coarse, coarse))
        return levels

    def _level_outputs(self, size, target, coarse, labels, training):
        network = self.discriminator.level(size)
        extra = [] if labels is None else [labels]
        if coarse is None:
            inputs = [target] + extra if extra else target
        else:
            inputs = [target, coarse] + extra
        return ops.cast(network(inputs, training=training), "float32")

    def _fakes(self, pyramid, noise, labels, training):
        """Each level's generated target from the real coarser image."""
        pieces = self.generator.split_noise(noise)
        extra = [] if labels is None else [labels]
        fakes = []
        for (target, coarse), size, piece in zip(pyramid, self.sizes, pieces):
            network = self.generator.level(size)
            inputs = [piece] + extra if coarse is None else [coarse, piece] + extra
            fakes.append(network(inputs if len(inputs) > 1 else inputs[0], training=training))
        return fakes

    def training_updates(self, data):
        real, labels = self.unpack_batch(data)
        if labels is not None:
            labels = ops.cast(labels, "int32")
        pyramid = self.real_pyramid(ops.cast(real, "float32"))
        batch = ops.shape(real)[0]

        noise = self.sample_latent(batch)
        fakes = [ops.stop_gradient(f) for f in self._fakes(pyramid, noise, labels, training=True)]

        def discriminator_objective():
            total, reports = 0.0, {}
            for (target, coarse), fake, size in zip(pyramid, fakes, self.sizes):
                per_example = self.discriminator_loss(
                    self._level_outputs(size, target, coarse, labels, True),
                    self._level_outputs(size, fake, coarse, labels, True),
                )
                reports[f"d_loss_{size}"] = ops.mean(per_example)
                total += self.reduce_loss(per_example)
            reports["d_loss"] = sum(reports[f"d_loss_{s}"] for s in self.sizes)
            return total + self.regularization_loss(self.discriminator), reports

        results = self.apply_update("d_optimizer", discriminator_objective)
        noise = self.sample_latent(batch)

        def generator_objective():
            total, reports = 0.0, {}
            for (target, coarse), fake, size in zip(pyramid, self._fakes(pyramid, noise, labels, True), self.sizes):
                per_example = self.generator_loss(self._level_outputs(size, fake, coarse, labels, True))
                reports[f"g_loss_{size}"] = ops.mean(per_example)
                total += self.reduce_loss(per_example)
            reports["g_loss"] = sum(reports[f"g_loss_{s}"] for s in self.sizes)
            return total + self.regularization_loss(self.generator), reports

        results.update(self.apply_update("g_optimizer", generator_objective))
        self.after_generator_step()
        return results

    def pyramid_grid(self, num_images=8, seed=0):
        """``[num_images, levels, H, W, C]``: each sample at every level of
        its chain, base first, enlarged (nearest) to the final size; for a
        class-conditional model the classes in turn."""
        noise = self.latent_for_seed(num_images, [seed, 0])
        labels = None if self.generator.num_classes is None else np.arange(num_images) % self.generator.num_classes
        generator = self.export_generator
        images = generator.pyramid(noise, labels)
        size = self.sizes[-1]
        enlarged = [
            np.asarray(ops.image.resize(image, (size, size), interpolation="nearest")) for image in images
        ]
        return np.stack(enlarged, axis=1)

    def training_grid(self):
        """The TensorBoard grid: every level of fixed samples (``pyramid_grid``)."""
        return self.pyramid_grid()

    def export_metadata(self):
        return {**super().export_metadata(), "pyramid_sizes": self.sizes}

    def discriminate(self, images, condition=None, training=False):
        """The finest level's discriminator on ``images`` (its residual
        against their own downsampled-and-upsampled copy)."""
        images = ops.convert_to_tensor(images, "float32")
        coarse = upsample(downsample(images))
        labels = None if condition is None else ops.cast(condition, "int32")
        return self._level_outputs(self.sizes[-1], images - coarse, coarse, labels, training)
