"""PixelRNN and PixelCNN: van den Oord, Kalchbrenner & Kavukcuoglu 2016,
"Pixel Recurrent Neural Networks" (ICML 2016, arXiv:1601.06759).

An autoregressive likelihood model, not a GAN: the probability of an image
is the product of each sub-pixel's probability given every sub-pixel before
it, in raster order (rows top to bottom, pixels left to right, and within a
pixel R, then G, then B):

    p(x) = prod_i p(x_i,R | x_<i) p(x_i,G | x_<i, x_i,R) p(x_i,B | x_<i, x_i,R, x_i,G)

each a 256-way softmax over the intensities (a 2-way one, a Bernoulli, for
binarised MNIST). It trains with plain ``compile(loss=...)``/``fit`` on the
negative log-likelihood, which is also its score: nats per image on MNIST,
bits per dimension on CIFAR-10, the units of the paper's Tables 4 and 5
(CIFAR-10's numbers are directly comparable; MNIST's are close to, not the
same as, the paper's protocol: see ``binarize``).

What keeps a prediction from seeing what it predicts are **masks**
(section 3.4): every convolution's kernel is zero over the pixels below and
to the right of its centre; at the centre, the channels are split into three
groups (R, G, B), and an output of group g sees input groups before g (mask
A, the first layer only, which must not see the pixel it predicts) or up to
and including g (mask B, every later layer). ``tests/test_pixelrnn.py``
checks the consequence: the gradient of output i with respect to input j is
zero for every j >= i.

Variants (``variant``):

* ``"pixelcnn"``: a 7x7 mask-A convolution, then residual blocks of a 1x1,
  a 3x3 mask-B and a 1x1 convolution (the paper's Figure 5), 15 layers in
  the paper.
* ``"row_lstm"``: the image processed row by row, top to bottom; each row's
  LSTM state is computed from the row above's (a 1-D convolution of width 3
  along the row, the state-to-state part) and from the input (a masked 1x3
  convolution along the row, the input-to-state part, computed for all
  rows at once). Its receptive field is a triangle above the pixel.
* ``"diagonal_bilstm"``: the input skewed (row r shifted r pixels to the
  right), so that the image's diagonals become columns; an LSTM runs along
  the columns with a 2x1 state-to-state convolution (the pixel above and the
  one to the left, in image coordinates) and a 1x1 masked input-to-state
  convolution; a second LSTM runs right to left (on the mirrored image), its
  output shifted down one row so that it sees no future pixel, and added.
  Its receptive field is all of the image above and to the left.

Every LSTM layer takes and gives ``2h`` features: ``h`` LSTM units, then a
1x1 convolution back to ``2h`` and a residual connection (section 3.3); and
each layer's output also reaches the output through a learnable skip
connection (a 1x1 mask-B convolution, summed over the layers; section 3.3,
Table 3: residual and skip connections together gave the best
likelihood). The sum goes through two 1x1 mask-B convolutions with ReLU to
the logits.

Channel counts need not be multiples of 3: each layer's channels are split
into R, G, B groups of near-equal contiguous blocks (``channel_groups``),
the same rule everywhere, so ``h = 128`` works as in the paper.
"""

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from zoo.core.errors import ConfigError
from zoo.core.model import ZooModel, serving_outputs
from zoo.core.networks import Network
from zoo.core.optimizers import adam
from zoo.core.registry import register

VARIANTS = ("pixelcnn", "row_lstm", "diagonal_bilstm")


# --- Masks -------------------------------------------------------------------


def channel_groups(channels, groups, period=None):
    """The colour group (0 = R, 1 = G, 2 = B) of each of ``channels``
    channels: contiguous blocks of ``channels / groups``, or with
    ``period`` the blocks of each ``period``-long stretch (the four gates
    of an LSTM each hold ``h`` channels in the same R, G, B order)."""
    period = period or channels
    return (np.arange(channels) % period) * groups // period


def causal_mask(kernel_size, in_channels, out_channels, mask_type, groups=1, out_period=None):
    """A ``[kh, kw, in, out]`` 0/1 mask for a convolution that must not see
    the future (see the module doc): rows above the centre, and pixels left
    of the centre in its row, are visible; at the centre, output group g
    sees input groups < g (``"A"``) or <= g (``"B"``)."""
    if mask_type not in ("A", "B"):
        raise ConfigError(f"mask_type must be 'A' or 'B', got {mask_type!r}.")
    kh, kw = kernel_size
    mask = np.zeros((kh, kw, in_channels, out_channels), np.float32)
    centre_row, centre_col = kh // 2, kw // 2
    mask[:centre_row] = 1.0
    mask[centre_row, :centre_col] = 1.0
    groups_in = channel_groups(in_channels, groups)[:, None]
    groups_out = channel_groups(out_channels, groups, out_period)[None, :]
    visible = groups_in < groups_out if mask_type == "A" else groups_in <= groups_out
    mask[centre_row, centre_col] = visible.astype(np.float32)
    return mask


@keras.saving.register_keras_serializable(package="zoo")
class MaskedConv2D(keras.layers.Conv2D):
    """A ``Conv2D`` whose kernel is multiplied by ``causal_mask`` (the
    masked convolution of PixelRNN and PixelCNN).

    Args:
        mask_type: ``"A"`` (the first layer) or ``"B"``.
        color_groups: 3 for RGB (channels split R, G, B), 1 otherwise.
        out_period: see ``channel_groups`` (the LSTM gates' layout).
        Other arguments as ``keras.layers.Conv2D`` (``padding`` is "same").
    """

    def __init__(self, filters, kernel_size, mask_type="B", color_groups=1, out_period=None, **kwargs):
        kwargs["padding"] = "same"
        super().__init__(filters, kernel_size, **kwargs)
        self.mask_type = mask_type
        self.color_groups = int(color_groups)
        self.out_period = out_period

    def build(self, input_shape):
        super().build(input_shape)
        self.mask = ops.convert_to_tensor(
            causal_mask(
                self.kernel_size, int(input_shape[-1]), self.filters, self.mask_type,
                self.color_groups, self.out_period,
            )
        )

    def convolution_op(self, inputs, kernel):
        return super().convolution_op(inputs, kernel * ops.cast(self.mask, kernel.dtype))

    def get_config(self):
        config = super().get_config()
        config.pop("padding", None)
        return {**config, "mask_type": self.mask_type, "color_groups": self.color_groups,
                "out_period": self.out_period}


# --- Skewing -------------------------------------------------------------------


def skew(images):
    """``[B, H, W, C]`` -> ``[B, H, W + H - 1, C]``: row r shifted r pixels
    to the right (zeros elsewhere), so that each diagonal of the image is a
    column."""
    height = images.shape[1]
    rows = [
        tf.pad(images[:, r], [[0, 0], [r, height - 1 - r], [0, 0]]) for r in range(height)
    ]
    return tf.stack(rows, axis=1)


def unskew(skewed, width):
    """The inverse of ``skew``: ``[B, H, W + H - 1, C]`` -> ``[B, H, W, C]``."""
    height = skewed.shape[1]
    return tf.stack([skewed[:, r, r : r + width] for r in range(height)], axis=1)


# --- LSTM layers -----------------------------------------------------------------


def _lstm_cell(gates, cell, hidden):
    """One LSTM update from pre-activations ``[..., 4h]`` (o, f, i, g)."""
    o, f, i, g = (gates[..., k * hidden : (k + 1) * hidden] for k in range(4))
    cell = tf.sigmoid(f) * cell + tf.sigmoid(i) * tf.tanh(g)
    return tf.sigmoid(o) * tf.tanh(cell), cell


@keras.saving.register_keras_serializable(package="zoo")
class RowLSTM(keras.layers.Layer):
    """The Row LSTM layer: ``[B, H, W, 2h]`` -> ``[B, H, W, h]``.

    Input-to-state: a mask-B 1x``width`` convolution along each row (all
    rows at once). State-to-state: a 1-D convolution of ``width`` along
    the row, on the previous row's hidden state; rows are processed top to
    bottom (``tf.scan``).

    Args:
        hidden: ``h``.
        color_groups: 3 for RGB.
        width: ``k`` (3 in the paper).
    """

    def __init__(self, hidden, color_groups=1, width=3, **kwargs):
        super().__init__(**kwargs)
        self.hidden, self.color_groups, self.width = int(hidden), int(color_groups), int(width)
        self.input_to_state = MaskedConv2D(
            4 * self.hidden, (1, self.width), "B", self.color_groups, out_period=self.hidden,
            name="input_to_state",
        )
        self.state_to_state = keras.layers.Conv1D(
            4 * self.hidden, self.width, padding="same", name="state_to_state"
        )

    def build(self, input_shape):
        self.input_to_state.build(input_shape)
        self.state_to_state.build((None, input_shape[2], self.hidden))
        self.built = True

    def call(self, inputs):
        gates_in = tf.transpose(self.input_to_state(inputs), [1, 0, 2, 3])  # [H, B, W, 4h]
        zeros = tf.zeros_like(gates_in[0][..., : self.hidden])

        def row(state, gates):
            hidden, cell = state
            hidden, cell = _lstm_cell(gates + self.state_to_state(hidden), cell, self.hidden)
            return hidden, cell

        hidden, _ = tf.scan(row, gates_in, initializer=(zeros, zeros))
        return tf.transpose(hidden, [1, 0, 2, 3])

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden, "color_groups": self.color_groups,
                "width": self.width}


@keras.saving.register_keras_serializable(package="zoo")
class DiagonalLSTM(keras.layers.Layer):
    """One direction of the Diagonal BiLSTM, on a skewed map:
    ``[B, H, W', 2h]`` -> ``[B, H, W', h]``, left to right along the skewed
    columns. Input-to-state: a mask-B 1x1 convolution; state-to-state: a
    2x1 convolution along each column on the previous column's state (the
    position itself and the one above)."""

    def __init__(self, hidden, color_groups=1, **kwargs):
        super().__init__(**kwargs)
        self.hidden, self.color_groups = int(hidden), int(color_groups)
        self.input_to_state = MaskedConv2D(
            4 * self.hidden, 1, "B", self.color_groups, out_period=self.hidden, name="input_to_state"
        )
        self.state_to_state = keras.layers.Conv1D(4 * self.hidden, 2, padding="valid", name="state_to_state")

    def build(self, input_shape):
        self.input_to_state.build(input_shape)
        self.state_to_state.build((None, input_shape[1] + 1, self.hidden))
        self.built = True

    def call(self, skewed):
        gates_in = tf.transpose(self.input_to_state(skewed), [2, 0, 1, 3])  # [W', B, H, 4h]
        zeros = tf.zeros_like(gates_in[0][..., : self.hidden])

        def column(state, gates):
            hidden, cell = state
            # The row above and this row of the previous column: pad one row on top.
            above = tf.pad(hidden, [[0, 0], [1, 0], [0, 0]])
            hidden, cell = _lstm_cell(gates + self.state_to_state(above), cell, self.hidden)
            return hidden, cell

        hidden, _ = tf.scan(column, gates_in, initializer=(zeros, zeros))
        return tf.transpose(hidden, [1, 2, 0, 3])

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden, "color_groups": self.color_groups}


@keras.saving.register_keras_serializable(package="zoo")
class DiagonalBiLSTM(keras.layers.Layer):
    """The Diagonal BiLSTM layer: ``[B, H, W, 2h]`` -> ``[B, H, W, h]``, the
    left-to-right diagonal LSTM plus the right-to-left one (run on the
    mirrored image) shifted down one row."""

    def __init__(self, hidden, color_groups=1, **kwargs):
        super().__init__(**kwargs)
        self.hidden, self.color_groups = int(hidden), int(color_groups)
        self.forward_lstm = DiagonalLSTM(self.hidden, self.color_groups, name="left_to_right")
        self.backward_lstm = DiagonalLSTM(self.hidden, self.color_groups, name="right_to_left")

    def build(self, input_shape):
        skewed = (input_shape[0], input_shape[1], input_shape[2] + input_shape[1] - 1, input_shape[3])
        self.forward_lstm.build(skewed)
        self.backward_lstm.build(skewed)
        self.built = True

    def call(self, inputs):
        width = inputs.shape[2]
        left = unskew(self.forward_lstm(skew(inputs)), width)
        mirrored = tf.reverse(inputs, axis=[2])
        right = tf.reverse(unskew(self.backward_lstm(skew(mirrored)), width), axis=[2])
        # Shifted down a row: at row r it has seen rows < r only.
        right = tf.pad(right[:, :-1], [[0, 0], [1, 0], [0, 0], [0, 0]])
        return left + right

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden, "color_groups": self.color_groups}


# --- The network -----------------------------------------------------------------


@keras.saving.register_keras_serializable(package="zoo")
class PixelNetwork(Network):
    """PixelRNN / PixelCNN: ``images`` int32 ``[B, H, W, C]`` in
    ``[0, levels)`` -> logits float32 ``[B, H, W, C, levels]``, logit
    ``[b, r, c, k]`` a function of the sub-pixels before ``(r, c, k)`` only.

    Args:
        image_shape: ``(H, W, C)``, C = 1 or 3.
        variant: ``"pixelcnn"``, ``"row_lstm"`` or ``"diagonal_bilstm"``.
        num_layers: recurrent layers (or residual blocks for PixelCNN).
        hidden: ``h``; the residual stream has ``2h`` features.
        output_hidden: features of the 1x1 layer before the logits.
        levels: values per sub-pixel: 256, or 2 for binarised images.
        skip_connections: each layer's output also feeds the output stack
            through a 1x1 convolution (the paper's skip connections);
            without, only the last layer's does.
    """

    def __init__(
        self,
        image_shape=(28, 28, 1),
        variant="diagonal_bilstm",
        num_layers=7,
        hidden=16,
        output_hidden=32,
        levels=2,
        skip_connections=True,
        **kwargs,
    ):
        image_shape = tuple(int(d) for d in image_shape)
        if variant not in VARIANTS:
            raise ConfigError(f"Unknown PixelRNN variant {variant!r}; known: {', '.join(VARIANTS)}.")
        channels = image_shape[-1]
        if channels not in (1, 3):
            raise ConfigError(f"PixelRNN models grayscale or RGB images; got {channels} channels.")
        groups = channels
        images = keras.Input(image_shape, dtype="int32", name="images")
        x = keras.layers.Rescaling(2.0 / (levels - 1), offset=-1.0, name="scale")(images)
        x = MaskedConv2D(2 * hidden, 7, "A", groups, name="input_conv")(x)
        skips = []
        for i in range(num_layers):
            if variant == "pixelcnn":
                y = keras.layers.ReLU()(x)
                y = MaskedConv2D(hidden, 1, "B", groups, activation="relu", name=f"block{i + 1}_in")(y)
                y = MaskedConv2D(hidden, 3, "B", groups, activation="relu", name=f"block{i + 1}_conv")(y)
                y = MaskedConv2D(2 * hidden, 1, "B", groups, name=f"block{i + 1}_out")(y)
            else:
                recurrent = RowLSTM if variant == "row_lstm" else DiagonalBiLSTM
                y = recurrent(hidden, groups, name=f"lstm{i + 1}")(x)
                y = MaskedConv2D(2 * hidden, 1, "B", groups, name=f"lstm{i + 1}_out")(y)
            x = keras.layers.Add(name=f"residual{i + 1}")([x, y])
            if skip_connections:
                skips.append(MaskedConv2D(2 * hidden, 1, "B", groups, name=f"skip{i + 1}")(x))
        if len(skips) > 1:
            x = keras.layers.Add(name="skips")(skips)
        elif skips:
            x = skips[0]
        x = keras.layers.ReLU()(x)
        x = MaskedConv2D(output_hidden, 1, "B", groups, activation="relu", name="output_hidden")(x)
        x = MaskedConv2D(channels * levels, 1, "B", groups, dtype="float32", name="logits_flat")(x)
        logits = keras.layers.Reshape(image_shape + (levels,), dtype="float32", name="logits")(x)
        super().__init__(inputs=images, outputs=logits, **kwargs)
        self.image_shape = image_shape
        self.variant = variant
        self.num_layers = num_layers
        self.hidden = hidden
        self.output_hidden = output_hidden
        self.levels = levels
        self.skip_connections = skip_connections


# --- Likelihoods ---------------------------------------------------------------------


def log_likelihood(images, logits):
    """``log p(x)`` per image, nats ``[B]``: the sum over sub-pixels of the
    log-softmax at each true value."""
    logits = ops.cast(logits, "float32")
    log_probs = logits - ops.logsumexp(logits, axis=-1, keepdims=True)
    chosen = ops.take_along_axis(log_probs, ops.expand_dims(ops.cast(images, "int32"), -1), axis=-1)
    return ops.sum(ops.reshape(chosen, (ops.shape(chosen)[0], -1)), axis=1)


@keras.saving.register_keras_serializable(package="zoo")
class NegativeLogLikelihood(keras.metrics.Mean):
    """The mean negative log-likelihood of the images seen: nats per image
    (``unit="nats_per_image"``, binarised MNIST's) or bits per dimension
    (``unit="bits_per_dim"``, CIFAR-10's)."""

    def __init__(self, unit="nats_per_image", name=None, **kwargs):
        if unit not in ("nats_per_image", "bits_per_dim"):
            raise ConfigError(f"unit must be nats_per_image or bits_per_dim, got {unit!r}.")
        super().__init__(name=name or unit, **kwargs)
        self.unit = unit

    def update_state(self, y_true, y_pred, sample_weight=None):
        nats = -log_likelihood(y_true, y_pred)
        if self.unit == "bits_per_dim":
            dims = float(np.prod(y_true.shape[1:]))
            nats = nats / (dims * math.log(2.0))
        return super().update_state(nats, sample_weight)

    def get_config(self):
        return {**super().get_config(), "unit": self.unit}


def binarize(images, seed=0):
    """A fixed stochastic binarisation of uint8 grayscale images: each pixel
    1 with probability intensity / 255 (as the binarised MNIST of
    Salakhutdinov & Murray 2008, which is not in ../shared; this one is
    drawn with ``seed``, the same every time), uint8 ``{0, 1}``."""
    rng = np.random.default_rng(seed)
    return (rng.random(images.shape) < images / 255.0).astype(np.uint8)


# --- The model -----------------------------------------------------------------------


MNIST = {"image_shape": (28, 28, 1), "training": {"dataset": "mnist", "batch_size": 16, "epochs": 20}}
CIFAR = {"image_shape": (32, 32, 3), "training": {"dataset": "cifar10", "batch_size": 16, "epochs": 20}}

PRESETS = {
    "diagonal_bilstm_mnist": {
        "description": "Binarised MNIST: 7 Diagonal BiLSTM layers, h = 16 (the paper's "
        "79.20 nats); Bernoulli outputs.",
        **MNIST,
        "network": {"variant": "diagonal_bilstm", "num_layers": 7, "hidden": 16},
    },
    "row_lstm_mnist": {
        "description": "Binarised MNIST: 7 Row LSTM layers, h = 16 (the paper gives no "
        "MNIST Row LSTM; the Diagonal BiLSTM's sizes).",
        **MNIST,
        "network": {"variant": "row_lstm", "num_layers": 7, "hidden": 16},
    },
    "pixelcnn_mnist": {
        "description": "Binarised MNIST: PixelCNN, 15 masked-convolution residual blocks, "
        "h = 16 (the paper's 81.30 nats, for which it gives no sizes: its CIFAR-10 depth, "
        "the Diagonal BiLSTM's width).",
        **MNIST,
        "network": {"variant": "pixelcnn", "num_layers": 15, "hidden": 16},
    },
    "diagonal_bilstm_cifar10": {
        "description": "CIFAR-10: 12 Diagonal BiLSTM layers, h = 128, 256-way softmax per "
        "sub-pixel (the paper's 3.00 bits/dim).",
        **CIFAR,
        "network": {"variant": "diagonal_bilstm", "num_layers": 12, "hidden": 128,
                    "output_hidden": 1024, "levels": 256},
    },
    "row_lstm_cifar10": {
        "description": "CIFAR-10: 12 Row LSTM layers, h = 128 (the paper's 3.07 bits/dim).",
        **CIFAR,
        "network": {"variant": "row_lstm", "num_layers": 12, "hidden": 128,
                    "output_hidden": 1024, "levels": 256},
    },
    "pixelcnn_cifar10": {
        "description": "CIFAR-10: PixelCNN, 15 residual blocks, h = 128 (the paper's 3.14 bits/dim; "
        "its '15 layers' read as 15 residual blocks).",
        **CIFAR,
        "network": {"variant": "pixelcnn", "num_layers": 15, "hidden": 128,
                    "output_hidden": 1024, "levels": 256},
    },
}


@register("pixelrnn", presets=PRESETS)
@keras.saving.register_keras_serializable(package="zoo")
class PixelRNN(ZooModel):
    """PixelRNN / PixelCNN as a likelihood model (see the module doc).

    Trains on ``(images, images)`` batches of int sub-pixel values (the
    recipes' ``data_kind = "pixels"``), with ``compile()``'s default loss the
    mean negative log-likelihood per sub-pixel (nats) and a metric in the
    dataset's unit. ``log_prob(images)`` scores images, ``generate(n,
    seed=...)`` samples them pixel by pixel inside one ``tf.function``
    (``tf.while_loop``), ``complete(images, rows)`` samples the rows below
    the first ``rows``; the SavedModel serves all three.

    Args:
        network: a ``PixelNetwork``.
        seed: seed of the model's random stream (sampling without a seed).
    """

    data_kind = "pixels"
    network_classes = {"network": PixelNetwork}
    default_training = {
        "dataset": "mnist",
        "batch_size": 16,
        "epochs": 20,
        # The paper trains with RMSProp (MNIST, CIFAR-10); Adam(1e-3) here,
        # which converges faster on a CPU budget.
        "optimizer": adam(1e-3),
    }

    def __init__(self, network, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.network = network
        self.built = True

    @property
    def levels(self):
        return self.network.levels

    @property
    def image_shape(self):
        return tuple(self.network.image_shape)

    @property
    def unit(self):
        """``"nats_per_image"`` (binarised images) or ``"bits_per_dim"``."""
        return "nats_per_image" if self.levels == 2 else "bits_per_dim"

    def compile(self, optimizer=None, loss=None, metrics=None, **kwargs):
        """Keras's ``compile``; by default the paper's objective, the mean
        negative log-likelihood per sub-pixel (sparse categorical
        cross-entropy on the logits), and the metric in the dataset's unit."""
        loss = loss or keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        metrics = metrics if metrics is not None else [NegativeLogLikelihood(self.unit)]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def call(self, images, training=False):
        return self.network(images, training=training)

    # --- Scoring and sampling ---------------------------------------------------

    def log_prob(self, images, batch_size=256):
        """``log p(x)`` in nats per image, float64 ``[N]`` (int images in ``[0, levels)``)."""
        images = np.asarray(images)
        self._check_images(images)
        values = [
            np.asarray(log_likelihood(images[i : i + batch_size], self.network(images[i : i + batch_size], training=False)))
            for i in range(0, len(images), batch_size)
        ]
        return np.concatenate(values).astype(np.float64)

    def _check_images(self, images):
        if images.shape[1:] != self.image_shape or images.min() < 0 or images.max() >= self.levels:
            raise ConfigError(
                f"images must be ints [N, {', '.join(map(str, self.image_shape))}] in [0, {self.levels}); "
                f"got shape {images.shape} with values {images.min()}..{images.max()}."
            )

    def draw_subpixel(self, canvas, index, seed):
        """Sub-pixel ``index`` (raster order, R, G, B within a pixel) drawn
        from the network's distribution given ``canvas``: ``(row, column,
        channel, values [N])``. The draw is seeded by ``seed`` (int ``[2]``)
        folded with ``index``, so any loop over the indices draws the same."""
        height, width, channels = self.image_shape
        r, c, k = index // (width * channels), (index // channels) % width, index % channels
        logits = self.network(canvas, training=False)[:, r, c, k]
        values = tf.random.stateless_categorical(
            tf.cast(logits, tf.float32), 1, seed=tf.random.experimental.stateless_fold_in(seed, index),
            dtype=tf.int32,
        )[:, 0]
        return r, c, k, values

    def sample_loop(self, canvas, first, seed):
        """Sub-pixels ``first`` .. end of ``canvas`` (int32 ``[N, H, W, C]``)
        drawn one after the other, each from the network's distribution
        given all before it: one ``tf.while_loop``, the network re-run per
        sub-pixel. ``seed``: int ``[2]``."""
        total = int(np.prod(self.image_shape))
        rows = tf.range(tf.shape(canvas)[0])

        def draw(index, canvas):
            r, c, k, values = self.draw_subpixel(canvas, index, seed)
            positions = tf.stack([rows, tf.fill(tf.shape(rows), r), tf.fill(tf.shape(rows), c),
                                  tf.fill(tf.shape(rows), k)], axis=1)
            return index + 1, tf.tensor_scatter_nd_update(canvas, positions, values)

        _, canvas = tf.while_loop(lambda index, _: index < total, draw, (first, canvas))
        return canvas

    def _sample_function(self):
        if getattr(self, "_sampler", None) is None:
            self._sampler = tf.function(self.sample_loop)
        return self._sampler

    def generate(self, num_images=None, seed=None, *, condition=None, labels=None, batch_size=64):
        """``num_images`` samples, int32 ``[N, H, W, C]`` in ``[0, levels)``."""
        if num_images is None:
            raise ConfigError("generate needs num_images.")
        seed = self.next_seed(per_replica=False) if seed is None else tf.constant([int(seed), 0], tf.int64)
        # batch_size images at a time (the canvas of thousands of CIFAR
        # images would not fit); chunk j draws with the seed folded with j.
        chunks = []
        for j, start in enumerate(range(0, int(num_images), int(batch_size))):
            canvas = tf.zeros((min(int(batch_size), int(num_images) - start),) + self.image_shape, tf.int32)
            chunk_seed = seed if j == 0 else tf.random.experimental.stateless_fold_in(seed, j)
            chunks.append(self._sample_function()(canvas, tf.constant(0), chunk_seed).numpy())
        return np.concatenate(chunks) if chunks else np.zeros((0,) + self.image_shape, np.int32)

    def complete(self, images, rows, seed=0):
        """The first ``rows`` rows of ``images`` kept, the rest sampled
        (image completion, the paper's Figure 1), int32 ``[N, H, W, C]``."""
        images = np.asarray(images).astype(np.int32)
        self._check_images(images)
        height, width, channels = self.image_shape
        if not 0 <= rows <= height:
            raise ConfigError(f"rows must be in [0, {height}], got {rows}.")
        canvas = images.copy()
        canvas[:, rows:] = 0
        first = tf.constant(rows * width * channels)
        return self._sample_function()(tf.constant(canvas), first, tf.constant([int(seed), 0], tf.int64)).numpy()

    def to_images(self, values):
        """Int values -> float32 images in [-1, 1] (for grids and serving)."""
        return np.asarray(values, np.float32) / (self.levels - 1) * 2.0 - 1.0

    # --- Export ----------------------------------------------------------------

    @property
    def export_network(self):
        return self.network

    def export_signatures(self):
        shape = self.image_shape
        levels = self.levels

        def as_outputs(values):
            return serving_outputs(tf.cast(values, tf.float32) / (levels - 1) * 2.0 - 1.0)

        @tf.function(input_signature=[tf.TensorSpec([], tf.int32, name="num_images"),
                                      tf.TensorSpec([], tf.int32, name="seed")])
        def sample(num_images, seed):
            canvas = tf.zeros(tf.concat([[num_images], shape], 0), tf.int32)
            values = self.sample_loop(canvas, tf.constant(0), tf.cast(tf.stack([seed, 0]), tf.int64))
            return {**as_outputs(values), "values": values}

        @tf.function(input_signature=[tf.TensorSpec((None,) + shape, tf.int32, name="images")])
        def log_prob(images):
            nats = log_likelihood(images, self.network(images, training=False))
            dims = float(np.prod(shape))
            return {"log_prob": nats, "bits_per_dim": -nats / (dims * math.log(2.0))}

        @tf.function(input_signature=[tf.TensorSpec((None,) + shape, tf.int32, name="images"),
                                      tf.TensorSpec([], tf.int32, name="rows"),
                                      tf.TensorSpec([], tf.int32, name="seed")])
        def complete(images, rows, seed):
            keep = tf.reshape(tf.range(shape[0]) < rows, [1, shape[0], 1, 1])
            canvas = tf.where(keep, images, tf.zeros_like(images))
            values = self.sample_loop(canvas, rows * shape[1] * shape[2], tf.cast(tf.stack([seed, 0]), tf.int64))
            return {**as_outputs(values), "values": values}

        return {"serving_default": log_prob, "log_prob": log_prob, "sample": sample, "complete": complete}

    def export_metadata(self):
        return {**super().export_metadata(), "image_shape": list(self.image_shape),
                "levels": self.levels, "unit": self.unit, "variant": self.network.variant}

    def get_config(self):
        return {**super().get_config(), "network": keras.saving.serialize_keras_object(self.network)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["network"] = keras.saving.deserialize_keras_object(config["network"])
        return cls(**config)
