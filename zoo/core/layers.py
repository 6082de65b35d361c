"""Layers shared by the zoo's networks.

* ``batch_norm``: batch normalisation synchronised across replicas.
* ``SpectralNormalization``: wraps a ``Dense``, ``Conv1D/2D/3D`` or
  ``Embedding`` layer so that it uses its kernel divided by the kernel's
  largest singular value (Miyato et al. 2018); ``spectral_norm`` switches it
  on with a flag.
* ``MinibatchDiscrimination``: appends to each example's features how close
  it is to the other examples of the batch (Salimans et al. 2016).
* ``Dropout``: dropout whose masks are checkpointed and whose replicas
  together draw the one-device mask.
* ``ReflectionPadding2D``: padding that mirrors the image at its border.
* ``PixelShuffle``: sub-pixel upsampling (depth to space).
* ``EqualizedDense``, ``EqualizedConv2D``, ``PixelNorm``,
  ``MinibatchStdDev``, ``Fade``: the pieces of progressive growing
  (Karras et al. 2018) that StyleGAN keeps (its own layers, styles and
  noise, are in ``zoo.models.stylegan``).
"""

import math

import keras
import tensorflow as tf
from keras import ops

from zoo.core import replicas
from zoo.core.errors import ConfigError


def batch_norm(name=None, **kwargs):
    """Batch normalisation whose statistics span the *global* batch.

    Built inside the scope of a strategy with several replicas, the layer
    all-reduces its batch moments across them (``synchronized=True``), so
    training on N replicas computes what one device computes on the whole
    batch (``tests/test_distribute.py`` checks this). Elsewhere it is the
    ordinary layer: Keras's synchronized path costs an extra pass over the
    activations even with one replica.
    """
    synchronized = (
        tf.distribute.has_strategy()
        and tf.distribute.get_strategy().num_replicas_in_sync > 1
    )
    return keras.layers.BatchNormalization(
        synchronized=synchronized, name=name, **kwargs
    )


def _l2_normalize(vector, epsilon):
    return vector / (ops.sqrt(ops.sum(ops.square(vector))) + epsilon)


_CONVOLUTIONS = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)


@keras.saving.register_keras_serializable(package="zoo")
class SpectralNormalization(keras.layers.Wrapper):
    """Spectral normalisation of a layer's kernel (Miyato et al. 2018,
    "Spectral Normalization for Generative Adversarial Networks", eq. 8 and
    Algorithm 1).

    The wrapped layer computes with ``W / sigma(W)``, where ``W`` is its
    kernel reshaped to a matrix ``[fan_in, units]`` (``[kh*kw*cin, cout]`` for
    a 2-D convolution) and ``sigma(W)`` its largest singular value, so that
    the layer is 1-Lipschitz in the spectral norm. ``sigma`` is estimated by
    power iteration with a persistent vector ``u`` (shape ``[units]``, the
    estimate of the top right singular vector): each training-mode call runs
    ``power_iterations`` steps ``v = normalize(W u); u = normalize(W^T v)``,
    stores ``u`` and uses ``sigma = ||W u||``. Inference-mode calls use the
    stored ``u`` without updating it. ``u`` is a constant for the gradient,
    as in the paper; the gradient still flows through ``sigma``.

    ``keras.layers.SpectralNormalization`` is not used: in training it
    overwrites the kernel variable with ``W / sigma`` (the optimizer then
    steps on the normalised kernel, and the gradient ignores ``sigma``),
    which is not the paper's reparametrisation.

    The power iteration runs in float32 under mixed precision (the wrapper
    does not autocast its variables); the wrapped computation then runs in
    the wrapper's compute dtype. Replicas of a ``tf.distribute`` strategy all
    compute the same ``u`` from the same (mirrored) kernel, so it stays in
    sync without communication.

    Args:
        layer: a ``Dense``, ``Conv1D``, ``Conv2D``, ``Conv3D`` or
            ``Embedding`` layer (its own ``call`` is not used: the wrapper
            applies its kernel, bias and activation).
        power_iterations: power-iteration steps per training call (1 in the
            paper: ``u`` persists, so the estimate improves over training).
        epsilon: added to norms before dividing.
    """

    def __init__(self, layer, power_iterations=1, epsilon=1e-12, **kwargs):
        supported = (keras.layers.Dense, keras.layers.Embedding) + _CONVOLUTIONS
        if not isinstance(layer, supported):
            raise ConfigError(
                "SpectralNormalization wraps Dense, Conv1D/2D/3D or Embedding "
                f"layers; got {type(layer).__name__}."
            )
        if power_iterations < 1:
            raise ConfigError(f"power_iterations must be >= 1, got {power_iterations}.")
        kwargs.setdefault("dtype", layer.dtype_policy)
        # Variables are read in float32 here; call() casts for the op.
        kwargs["autocast"] = False
        super().__init__(layer, **kwargs)
        self.power_iterations = int(power_iterations)
        self.epsilon = float(epsilon)

    @property
    def kernel(self):
        """The wrapped layer's (unnormalised) kernel variable."""
        if isinstance(self.layer, keras.layers.Embedding):
            return self.layer.embeddings
        return self.layer.kernel

    def build(self, input_shape):
        super().build(input_shape)
        self.u = self.add_weight(
            shape=(self.kernel.shape[-1],),
            initializer=keras.initializers.RandomNormal(stddev=1.0),
            trainable=False,
            autocast=False,
            name="u",
        )
        # A unit vector from the start: sigma = ||W u|| is then a lower bound
        # of the largest singular value, even before any power iteration (an
        # un-normalised u scales it by ||u||, ~sqrt(units)).
        self.u.assign(_l2_normalize(self.u, self.epsilon))

    def sigma(self, training=False):
        """The spectral-norm estimate ``||W u||``, a float32 scalar.

        With ``training=True`` first runs the power iterations and stores the
        new ``u``.
        """
        matrix = ops.cast(self.kernel, "float32")
        matrix = ops.reshape(matrix, (-1, matrix.shape[-1]))
        u = ops.cast(self.u, "float32")
        if training:
            for _ in range(self.power_iterations):
                v = _l2_normalize(ops.matmul(matrix, u), self.epsilon)
                u = _l2_normalize(ops.matmul(ops.transpose(matrix), v), self.epsilon)
            self.u.assign(u)
        u = ops.stop_gradient(u)
        return ops.sqrt(ops.sum(ops.square(ops.matmul(matrix, u))))

    def normalized_kernel(self, training=False):
        """``W / sigma(W)`` in the kernel's shape, float32."""
        kernel = ops.cast(self.kernel, "float32")
        return kernel / (self.sigma(training) + self.epsilon)

    def call(self, inputs, training=False):
        dtype = self.compute_dtype
        kernel = ops.cast(self.normalized_kernel(training), dtype)
        layer = self.layer
        if isinstance(layer, keras.layers.Embedding):
            return ops.take(kernel, ops.cast(inputs, "int32"), axis=0)
        inputs = ops.cast(inputs, dtype)
        if isinstance(layer, keras.layers.Dense):
            outputs = ops.matmul(inputs, kernel)
            bias_shape = (layer.units,)
        else:
            outputs = layer.convolution_op(inputs, kernel)
            if layer.data_format == "channels_last":
                bias_shape = (1,) * (layer.rank + 1) + (layer.filters,)
            else:
                bias_shape = (1, layer.filters) + (1,) * layer.rank
        if layer.use_bias:
            outputs = outputs + ops.reshape(ops.cast(layer.bias, dtype), bias_shape)
        if layer.activation is not None:
            outputs = layer.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.pop("autocast", None)
        config.update({"power_iterations": self.power_iterations, "epsilon": self.epsilon})
        return config


def spectral_norm(layer, enabled=True, **kwargs):
    """``SpectralNormalization(layer)`` (named as ``layer``) when ``enabled``,
    else ``layer`` itself.

    Lets a network switch spectral normalisation on with one argument while
    its default layers, and their weight names, stay unchanged.
    """
    if not enabled:
        return layer
    return SpectralNormalization(layer, name=layer.name, **kwargs)


@keras.saving.register_keras_serializable(package="zoo")
class MinibatchDiscrimination(keras.layers.Layer):
    """Minibatch discrimination (Salimans et al. 2016, "Improved Techniques
    for Training GANs", section 3.2).

    For features ``f(x_i)`` (shape ``[batch, A]``) and a learned tensor ``T``
    of shape ``[A, B, C]`` (``B = num_kernels``, ``C = kernel_dim``), each
    example's rows ``M_i = f(x_i) T`` (``[B, C]``) are compared with those of
    every example ``j`` of the batch, ``j = i`` included as in the paper:
    ``c_b(x_i, x_j) = exp(-||M_{i,b} - M_{j,b}||_1)`` and
    ``o(x_i)_b = sum_j c_b(x_i, x_j)``. The output is ``[f(x_i), o(x_i)]``,
    shape ``[batch, A + B]``: the discriminator sees how similar an example
    is to the rest of its batch, which exposes a collapsed generator.

    Distribution: the sum over ``j`` couples the examples of a batch. With
    ``synchronized=True`` (the default) and more than one replica in sync,
    every replica all-gathers the others' ``M`` so that the sum runs over the
    *global* batch and N replicas compute what one device computes (the
    gather is differentiable and moves ``[global batch, B, C]`` floats). With
    ``synchronized=False`` the sum runs over each replica's own share only,
    so the features, and the trained model, change with the replica count.

    Args:
        num_kernels: ``B``, the number of similarity features appended.
        kernel_dim: ``C``, the size of each projected row.
        synchronized: sum over the global batch under a strategy (see above).
        kernel_initializer: initialiser of ``T``, stored as ``[A, B * C]``.
    """

    def __init__(
        self,
        num_kernels,
        kernel_dim,
        synchronized=True,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_kernels = int(num_kernels)
        self.kernel_dim = int(kernel_dim)
        self.synchronized = bool(synchronized)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ConfigError(
                f"MinibatchDiscrimination expects features [batch, A]; got {input_shape}."
            )
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.num_kernels * self.kernel_dim),
            initializer=self.kernel_initializer,
            name="kernel",
        )

    def call(self, features):
        rows = ops.reshape(
            ops.matmul(features, self.kernel), (-1, self.num_kernels, self.kernel_dim)
        )
        others = rows
        context = tf.distribute.get_replica_context()
        if self.synchronized and context is not None and context.num_replicas_in_sync > 1:
            others = context.all_gather(rows, axis=0)
        # [batch, 1, B, C] - [1, N, B, C], L1 norm over C: [batch, N, B].
        distances = ops.sum(
            ops.abs(ops.expand_dims(rows, 1) - ops.expand_dims(others, 0)), axis=-1
        )
        similarity = ops.sum(ops.exp(-distances), axis=1)
        return ops.concatenate([features, ops.cast(similarity, features.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1] + self.num_kernels)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_kernels": self.num_kernels,
                "kernel_dim": self.kernel_dim,
                "synchronized": self.synchronized,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="zoo")
class Dropout(keras.layers.Layer):
    """Dropout (Srivastava et al. 2014) that resumes exactly and is the same
    on one device or several.

    ``keras.layers.Dropout`` draws its masks from a seed stream that is not
    part of the saved weights and, under a strategy, gives every replica the
    same mask for its own share of the batch, so a resumed run and an
    N-replica run both draw other masks than the uninterrupted one-device
    run. Here each training call takes one seed from the layer's
    ``SeedGenerator`` (its state is among ``model.variables``, which the
    zoo's checkpoints save), draws the mask of the *global* batch from it,
    the same on every replica, and keeps this replica's rows. Inverted
    dropout: kept units are scaled by ``1 / (1 - rate)``.

    Args:
        rate: fraction of units to drop, in ``[0, 1)``.
        seed: seed of the layer's stream (None: random).
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= float(rate) < 1.0:
            raise ConfigError(f"Dropout rate must be in [0, 1), got {rate}.")
        self.rate = float(rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0.0:
            return inputs
        seed = tf.cast(self.seed_generator.next(), tf.int64)
        local = tf.shape(inputs)[0]
        shape = tf.concat([[local * replicas.num_replicas()], tf.shape(inputs)[1:]], axis=0)
        keep = tf.random.stateless_uniform(shape, seed=seed) >= self.rate
        keep = replicas.local_slice(keep, local)
        scale = tf.cast(1.0 / (1.0 - self.rate), inputs.dtype)
        return tf.where(keep, inputs * scale, tf.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


@keras.saving.register_keras_serializable(package="zoo")
class ReflectionPadding2D(keras.layers.Layer):
    """Pads height and width by ``padding`` pixels, reflecting the image
    at its border (no edge pixel repeated), as CycleGAN's ResNet generator
    does before its 7x7 and 3x3 convolutions (Zhu et al. 2017, appendix
    7.2), which avoids the dark frames zero padding leaves.

    Args:
        padding: pixels added on each side.
    """

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        self.padding = int(padding)

    def call(self, inputs):
        p = self.padding
        return tf.pad(inputs, [[0, 0], [p, p], [p, p], [0, 0]], mode="REFLECT")

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        grow = lambda d: None if d is None else d + 2 * self.padding  # noqa: E731
        return (batch, grow(height), grow(width), channels)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


@keras.saving.register_keras_serializable(package="zoo")
class PixelShuffle(keras.layers.Layer):
    """Sub-pixel upsampling (Shi et al. 2016, "Real-Time Single Image and
    Video Super-Resolution Using an Efficient Sub-Pixel Convolutional Neural
    Network"): ``[batch, H, W, C * r^2]`` -> ``[batch, H * r, W * r, C]``,
    each group of ``r^2`` channels laid out as an ``r x r`` block of pixels
    (TensorFlow's ``depth_to_space``). SRGAN's generator upsamples with it.

    Args:
        factor: ``r``.
    """

    def __init__(self, factor=2, **kwargs):
        super().__init__(**kwargs)
        self.factor = int(factor)
        if self.factor < 2:
            raise ConfigError(f"PixelShuffle's factor must be >= 2, got {factor}.")

    def call(self, inputs):
        return tf.nn.depth_to_space(inputs, self.factor)

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        r = self.factor
        if channels is not None and channels % (r * r):
            raise ConfigError(
                f"PixelShuffle x{r} needs channels divisible by {r * r}; got {channels}."
            )
        grow = lambda d: None if d is None else d * r  # noqa: E731
        return (batch, grow(height), grow(width), None if channels is None else channels // (r * r))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="zoo")
class BicubicUpscale(keras.layers.Layer):
    """Bicubic interpolation by an integer ``factor`` (TensorFlow's
    ``resize(..., "bicubic")``) of images of any size: the output size is
    taken from the input at run time, so a SavedModel with ``None`` height
    and width serves it (``UpSampling2D`` needs them static).

    Args:
        factor: the upscaling factor.
    """

    def __init__(self, factor=2, **kwargs):
        super().__init__(**kwargs)
        self.factor = int(factor)

    def call(self, inputs):
        size = tf.shape(inputs)[1:3] * self.factor
        return tf.image.resize(inputs, size, method="bicubic")

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        grow = lambda d: None if d is None else d * self.factor  # noqa: E731
        return (batch, grow(height), grow(width), channels)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def instance_norm(name=None, affine=True):
    """Instance normalisation (Ulyanov et al. 2016): each example's channels
    normalised over height and width, as ``GroupNormalization`` with one
    group per channel; ``affine=False`` drops the learned scale and shift
    (CycleGAN's)."""
    return keras.layers.GroupNormalization(
        groups=-1, epsilon=1e-5, center=affine, scale=affine, name=name
    )


# --- Progressive growing (Karras, Aila, Laine & Lehtinen 2018) ---------------------


@keras.saving.register_keras_serializable(package="zoo")
class EqualizedDense(keras.layers.Layer):
    """A dense layer with the equalised learning rate (Karras et al. 2018,
    "Progressive Growing of GANs", section 4.1): weights drawn from N(0, 1)
    (divided by ``lr_multiplier``) and scaled at run time by ``gain /
    sqrt(fan_in) * lr_multiplier``, so that Adam's per-weight step sizes
    give every layer the same effective learning rate. ``lr_multiplier``
    (StyleGAN's mapping network: 0.01) scales the layer's learning rate.

    Args:
        units: output features.
        gain: ``sqrt(2)`` before a (leaky) ReLU, 1 for a linear output.
        use_bias: add a bias (zeros), scaled by ``lr_multiplier`` too.
        lr_multiplier: the learning-rate multiplier.
    """

    def __init__(self, units, gain=math.sqrt(2.0), use_bias=True, lr_multiplier=1.0, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.gain = float(gain)
        self.use_bias = bool(use_bias)
        self.lr_multiplier = float(lr_multiplier)

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        self.scale = self.gain / math.sqrt(fan_in) * self.lr_multiplier
        self.kernel = self.add_weight(
            shape=(fan_in, self.units), name="kernel",
            initializer=keras.initializers.RandomNormal(stddev=1.0 / self.lr_multiplier),
        )
        self.bias = self.add_weight(shape=(self.units,), name="bias", initializer="zeros") if self.use_bias else None

    def call(self, inputs):
        outputs = ops.matmul(inputs, ops.cast(self.kernel, inputs.dtype) * self.scale)
        if self.bias is not None:
            outputs = outputs + ops.cast(self.bias, inputs.dtype) * self.lr_multiplier
        return outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "gain": self.gain,
                "use_bias": self.use_bias, "lr_multiplier": self.lr_multiplier}


@keras.saving.register_keras_serializable(package="zoo")
class EqualizedConv2D(keras.layers.Layer):
    """A stride-1 ``same`` convolution with the equalised learning rate
    (see ``EqualizedDense``): kernel ``[k, k, C_in, filters]`` from N(0, 1),
    scaled by ``gain / sqrt(k * k * C_in)`` at run time.

    Args:
        filters: output channels.
        kernel_size: ``k``.
        gain: ``sqrt(2)``, or 1 for ProGAN's linear toRGB layers.
        use_bias: add a bias (zeros).
    """

    def __init__(self, filters, kernel_size, gain=math.sqrt(2.0), use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.gain = float(gain)
        self.use_bias = bool(use_bias)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.scale = self.gain / math.sqrt(self.kernel_size * self.kernel_size * channels)
        self.kernel = self.add_weight(
            shape=(self.kernel_size, self.kernel_size, channels, self.filters), name="kernel",
            initializer=keras.initializers.RandomNormal(stddev=1.0),
        )
        self.bias = self.add_weight(shape=(self.filters,), name="bias", initializer="zeros") if self.use_bias else None

    def call(self, inputs):
        outputs = ops.conv(inputs, ops.cast(self.kernel, inputs.dtype) * self.scale, padding="same")
        if self.bias is not None:
            outputs = outputs + ops.cast(self.bias, inputs.dtype)
        return outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.filters,)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "gain": self.gain, "use_bias": self.use_bias}


@keras.saving.register_keras_serializable(package="zoo")
class PixelNorm(keras.layers.Layer):
    """Pixelwise feature normalisation (Karras et al. 2018, section 4.2):
    each pixel's feature vector divided by its root mean square,
    ``x / sqrt(mean_c(x^2) + epsilon)`` with ``epsilon = 1e-8``."""

    def __init__(self, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, inputs):
        return inputs * ops.rsqrt(ops.mean(ops.square(inputs), axis=-1, keepdims=True) + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="zoo")
class MinibatchStdDev(keras.layers.Layer):
    """Minibatch standard deviation (Karras et al. 2018, section 3): the
    batch is split into groups of ``group_size`` (example ``b`` in group ``b
    mod (N / G)``, as the official code's reshape); the standard deviation
    of each feature over its group, averaged over features and pixels, is
    appended as one more channel ``[batch, H, W, C + 1]``.

    Under a strategy with several replicas the groups are formed over the
    *global* batch (the features are all-gathered, differentiably), so N
    replicas compute what one device computes.

    Args:
        group_size: ``G`` (4); the global batch must be a multiple of
            ``min(G, batch)``.
    """

    def __init__(self, group_size=4, **kwargs):
        super().__init__(**kwargs)
        self.group_size = int(group_size)

    def call(self, inputs):
        local = ops.shape(inputs)[0]
        everyone = replicas.global_batch(inputs)
        total = everyone.shape[0]
        group = min(self.group_size, total) if total is not None else self.group_size
        if total is not None and total % group:
            raise ConfigError(
                f"MinibatchStdDev groups the batch in {group}s: a batch of {total} does not "
                f"divide; use a multiple of {group}."
            )
        x = ops.cast(everyone, "float32")
        shape = ops.shape(x)
        grouped = ops.reshape(x, (group, -1, shape[1], shape[2], shape[3]))
        std = ops.sqrt(ops.var(grouped, axis=0) + 1e-8)  # [N / G, H, W, C]
        per_group = ops.mean(std, axis=[1, 2, 3])  # [N / G]
        per_example = ops.tile(per_group, [group])  # example b gets group b mod (N / G)
        per_example = replicas.local_slice(per_example, local)
        feature = ops.ones_like(inputs[..., :1]) * ops.cast(
            ops.reshape(per_example, (-1, 1, 1, 1)), inputs.dtype
        )
        return ops.concatenate([inputs, feature], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (input_shape[-1] + 1,)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size}


@keras.saving.register_keras_serializable(package="zoo")
class Fade(keras.layers.Layer):
    """The fade-in of a new resolution: ``[low, high, alpha]`` ->
    ``low + alpha (high - low)``, ``alpha`` ``[batch, 1]`` in [0, 1]."""

    def call(self, inputs):
        low, high, alpha = inputs
        alpha = ops.reshape(ops.cast(alpha, high.dtype), (-1,) + (1,) * (len(high.shape) - 1))
        return low + alpha * (high - low)

    def compute_output_shape(self, input_shape):
        return input_shape[1]


@keras.saving.register_keras_serializable(package="zoo")
class TakeFirst(keras.layers.Layer):
    """Returns the first of its inputs. The others stay in the network's
    graph, so layers used only by other graphs built from the same layers
    (ProGAN's lower-resolution toRGB and fromRGB) are saved with it."""

    def call(self, inputs):
        return inputs[0]

    def compute_output_shape(self, input_shape):
        return input_shape[0]
