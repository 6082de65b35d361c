"""pix2pix: Isola, Zhu, Zhou & Efros 2017, "Image-to-Image Translation with
Conditional Adversarial Networks" (CVPR 2017, arXiv:1611.07004).

A conditional GAN on image pairs: the generator maps a source image ``x``
to the target ``y``; the discriminator judges pairs ``(x, y)`` against
``(x, G(x))``, patch by patch. The objective (eq. 4) is
``G* = arg min_G max_D L_cGAN(G, D) + lambda L_L1(G)`` with ``lambda = 100``:
the L1 term gets the low frequencies right, the patch discriminator the
high ones. No noise vector: the only randomness is dropout in the generator,
"applied on several layers of our generator at both training and test time"
(section 2.1); here it is applied in training only, so that a served model is
deterministic (the paper observed little stochasticity from it).

Networks, as the paper's appendix (6.1.1), with ``Ck`` = convolution-norm-
ReLU with ``k`` filters and ``CDk`` the same with 50% dropout, 4x4 filters
with stride 2 throughout, weights from N(0, 0.02):

* generator: a U-Net, encoder ``C64-C128-C256-C512-C512-...`` halving the
  image down to 1x1 (8 stages at 256x256, 6 at 64x64), leaky ReLU (0.2),
  no norm on the first layer (nor on the 1x1 bottleneck, where instance
  norm would be zero); decoder mirroring it with ``CD`` on its first three
  layers, ReLU, each layer's output concatenated with the encoder's layer of
  the same size (the skip connections), a transposed convolution to the
  image's channels and tanh;
* discriminator: the PatchGAN, ``C64-C128-...`` on the source and the
  judged image concatenated (no norm on the first layer, leaky ReLU 0.2),
  ``n`` stride-2 layers, one stride-1 layer and a stride-1 convolution to
  one logit per patch. Its receptive field is 70x70 with ``n = 3`` (the
  paper's choice at 256x256, 27% of the width), 34x34 with 2 and 16x16 with
  1. At 64x64 the presets use ``n = 1``: a 16x16 patch covers 25% of the
  width, the share the paper found best; the L1 term keeps the colours
  coherent across patches.

Normalisation: the paper uses batch norm with batch size 1 and test-time
batch statistics, which is instance normalisation with a learned scale and
shift; here it is exactly that (``GroupNormalization(groups=-1)``), so the
network behaves the same at any batch size. The presets train at batch 16
rather than 1 for throughput on a CPU (the paper used 1 to 10).

Training (section 3.3): Adam(2e-4, beta_1=0.5), one discriminator and one
generator update per step, the discriminator's objective divided by 2, the
non-saturating generator loss.

Presets: sketch -> colour on the OpenMoji emoji (line art -> colour, 64x64),
and inpainting (a masked copy -> the image) and colourisation (the grayscale
copy -> the image) on the colour emoji and on CIFAR-10 (32x32); and the L1-only
generator of the paper's ablation (its Table 1) as a baseline.
"""

import math

import keras
from keras import ops

from zoo.core import layers, losses, terms
from zoo.core.errors import ConfigError
from zoo.core.networks import Network, square_image_shape
from zoo.core.registry import register
from zoo.core.translation import PairedTranslation


def weight_init():
    """The paper's initialiser: N(0, 0.02)."""
    return keras.initializers.RandomNormal(stddev=0.02)


def normalization(kind, name):
    """``"instance"`` (with scale and shift: batch norm at batch size 1),
    ``"batch"`` (synchronised across replicas) or ``"none"``."""
    if kind == "instance":
        return layers.instance_norm(name=name)
    if kind == "batch":
        return layers.batch_norm(name=name)
    if kind == "none":
        return keras.layers.Identity(name=name)
    raise ConfigError(f"Unknown normalisation {kind!r}; use instance, batch or none.")


def unet_depth(image_size):
    """Stride-2 stages from ``image_size`` down to 1x1; the size must be a
    power of two (32 -> 5, 64 -> 6, 256 -> 8)."""
    depth = int(round(math.log2(image_size)))
    if image_size < 4 or 2**depth != image_size:
        raise ConfigError(f"The U-Net needs a power-of-two image size >= 4; got {image_size}.")
    return depth


@keras.saving.register_keras_serializable(package="zoo")
class UNetGenerator(Network):
    """pix2pix's U-Net: ``source`` ``[batch, H, W, C_in]`` -> images
    ``[batch, H, W, C_out]`` in ``[-1, 1]`` (H == W, a power of two).

    Args:
        image_shape: ``(H, W, C_in)`` of the source.
        output_channels: ``C_out`` (default: ``C_in``).
        base_filters: filters of the first layer (64); each stage doubles
            them up to ``max_filters`` (512).
        max_filters: the cap.
        dropout: dropout rate of the decoder's first ``dropout_layers``.
        dropout_layers: how many decoder layers drop (3 in the paper).
        norm: ``"instance"``, ``"batch"`` or ``"none"``.
    """

    def __init__(
        self,
        image_shape=(64, 64, 3),
        output_channels=None,
        base_filters=64,
        max_filters=512,
        dropout=0.5,
        dropout_layers=3,
        norm="instance",
        **kwargs,
    ):
        image_shape = square_image_shape(image_shape, "The U-Net")
        depth = unet_depth(image_shape[0])
        output_channels = int(output_channels or image_shape[-1])
        filters = [min(base_filters * 2**i, max_filters) for i in range(depth)]

        source = keras.Input(image_shape, name="source")
        x, skips = source, []
        for i, count in enumerate(filters):
            x = keras.layers.Conv2D(
                count, 4, strides=2, padding="same", kernel_initializer=weight_init(),
                use_bias=i in (0, depth - 1) or norm == "none", name=f"down{i + 1}",
            )(x)
            if 0 < i < depth - 1:
                x = normalization(norm, f"down{i + 1}_norm")(x)
            x = keras.layers.LeakyReLU(0.2)(x)
            skips.append(x)
        for j, i in enumerate(range(depth - 2, -1, -1)):
            x = keras.layers.Conv2DTranspose(
                filters[i], 4, strides=2, padding="same", kernel_initializer=weight_init(),
                use_bias=norm == "none", name=f"up{j + 1}",
            )(x)
            x = normalization(norm, f"up{j + 1}_norm")(x)
            if j < dropout_layers and dropout:
                x = layers.Dropout(dropout, name=f"up{j + 1}_dropout")(x)
            x = keras.layers.ReLU()(x)
            x = keras.layers.Concatenate(name=f"skip{j + 1}")([x, skips[i]])
        x = keras.layers.Conv2DTranspose(
            output_channels, 4, strides=2, padding="same", kernel_initializer=weight_init(),
            name="to_image",
        )(x)
        images = keras.layers.Activation("tanh", dtype="float32", name="images")(x)
        super().__init__(inputs=source, outputs=images, **kwargs)
        self.image_shape = image_shape
        self.output_channels = output_channels
        self.base_filters = base_filters
        self.max_filters = max_filters
        self.dropout = dropout
        self.dropout_layers = dropout_layers
        self.norm = norm


def patch_receptive_field(stride2_layers):
    """The receptive field of a PatchGAN with ``n`` stride-2 layers (4x4
    filters), one stride-1 layer and the stride-1 output layer: 16, 34, 70
    for n = 1, 2, 3."""
    # Walk back from one output pixel: the two stride-1 4x4 layers, then
    # the stride-2 ones (each input pixel span: (span - 1) * stride + 4).
    field = 4 + 3
    for _ in range(stride2_layers):
        field = (field - 1) * 2 + 4
    return field


@keras.saving.register_keras_serializable(package="zoo")
class PatchDiscriminator(Network):
    """pix2pix's PatchGAN: ``images`` ``[batch, H, W, C]`` judged given
    ``source`` ``[batch, H, W, C_in]`` (omit with ``conditional=False``, as
    CycleGAN's) -> logits ``[batch, H / 2**n, W / 2**n, 1]``, one per patch.

    Args:
        image_shape: ``(H, W, C)`` of the judged images.
        source_channels: ``C_in`` of the source (default: ``C``).
        conditional: whether it sees the source too (pix2pix) or not.
        base_filters: filters of the first layer (64), doubling up to 512.
        stride2_layers: ``n``; the receptive field is
            ``patch_receptive_field(n)`` (70x70 for 3).
        norm: ``"instance"``, ``"batch"`` or ``"none"``.
    """

    def __init__(
        self,
        image_shape=(64, 64, 3),
        source_channels=None,
        conditional=True,
        base_filters=64,
        stride2_layers=3,
        norm="instance",
        **kwargs,
    ):
        image_shape = tuple(int(d) for d in image_shape)
        judged = keras.Input(image_shape, name="images")
        inputs = [judged]
        x = judged
        if conditional:
            channels = int(source_channels or image_shape[-1])
            source = keras.Input(image_shape[:2] + (channels,), name="source")
            inputs.append(source)
            x = keras.layers.Concatenate(name="pair")([judged, source])
        for i in range(stride2_layers + 1):
            stride = 2 if i < stride2_layers else 1
            x = keras.layers.Conv2D(
                min(base_filters * 2**i, 512), 4, strides=stride, padding="same",
                kernel_initializer=weight_init(), use_bias=i == 0 or norm == "none",
                name=f"conv{i + 1}",
            )(x)
            if i > 0:
                x = normalization(norm, f"conv{i + 1}_norm")(x)
            x = keras.layers.LeakyReLU(0.2)(x)
        logits = keras.layers.Conv2D(
            1, 4, padding="same", kernel_initializer=weight_init(), dtype="float32", name="logits"
        )(x)
        super().__init__(inputs=inputs if conditional else judged, outputs=logits, **kwargs)
        self.image_shape = image_shape
        self.source_channels = source_channels
        self.conditional = conditional
        self.base_filters = base_filters
        self.stride2_layers = stride2_layers
        self.norm = norm

    @property
    def receptive_field(self):
        """Side of the square each logit judges, in pixels."""
        return patch_receptive_field(self.stride2_layers)


# At 64x64 the U-Net's encoder is six stages deep (64 -> 1); capping its
# filters at 256 instead of 512 cuts the generator from 29M to 10M weights
# (the 1x1-4x4 stages hold most of them and see little of the image), so a
# pretrained export is 3x smaller; the paper's cap is max_filters=512.
EMOJI = {
    "image_shape": (64, 64, 3),
    "generator": {"max_filters": 256},
    "discriminator": {"stride2_layers": 1},
}
CIFAR = {"image_shape": (32, 32, 3), "discriminator": {"stride2_layers": 1}}

PRESETS = {
    "pix2pix_emoji": {
        "description": "Sketch -> colour: OpenMoji line art -> the same emoji in colour, "
        "64x64; U-Net (filters capped at 256), 16x16 PatchGAN, lambda_L1 100.",
        **EMOJI,
        "training": {"dataset": "emoji:openmoji_black,openmoji_color"},
    },
    "pix2pix_emoji_l1": {
        "description": "As pix2pix_emoji with the L1 term alone (the paper's Table 1 "
        "ablation): the baseline of the GAN's contribution.",
        **EMOJI,
        "model": {"adversarial_weight": 0.0},
        "training": {"dataset": "emoji:openmoji_black,openmoji_color"},
    },
    "pix2pix_emoji_inpainting": {
        "description": "Inpainting: colour OpenMoji with a random rectangle (a quarter "
        "to a half of each side) grayed out -> the whole emoji, 64x64.",
        **EMOJI,
        "training": {"dataset": "emoji:openmoji_color", "degradation": "mask"},
    },
    "pix2pix_emoji_colorization": {
        "description": "Colourisation: the grayscale copy of a colour OpenMoji -> the "
        "colour emoji, 64x64.",
        **EMOJI,
        "training": {"dataset": "emoji:openmoji_color", "degradation": "grayscale"},
    },
    "pix2pix_cifar10_inpainting": {
        "description": "Inpainting on CIFAR-10 (32x32): a random rectangle grayed out -> "
        "the photograph.",
        **CIFAR,
        "training": {"dataset": "cifar10", "degradation": "mask", "epochs": 10},
    },
    "pix2pix_cifar10_colorization": {
        "description": "Colourisation on CIFAR-10 (32x32): the grayscale photograph -> "
        "the colour one.",
        **CIFAR,
        "training": {"dataset": "cifar10", "degradation": "grayscale", "epochs": 10},
    },
}


@register("pix2pix", presets=PRESETS)
@keras.saving.register_keras_serializable(package="zoo")
class Pix2Pix(PairedTranslation):
    """pix2pix (Isola et al. 2017): ``G(x)`` trained on ``(target, source)``
    pairs with the conditional GAN loss and ``l1_weight`` times L1.

    Args:
        generator: source -> image (``UNetGenerator``).
        discriminator: ``(images, source)`` -> patch logits (``PatchDiscriminator``).
        l1_weight: ``lambda`` (100 in the paper).
        adversarial_weight: weight of the generator's GAN loss (1; 0 gives
            the paper's L1-only ablation, which skips the discriminator).
        discriminator_scale: the discriminator's objective is multiplied by
            it (0.5: "we divide the objective by 2 while optimizing D").
        **kwargs: the remaining ``zoo.core.adversarial.GAN`` arguments.
    """

    network_classes = {"generator": UNetGenerator, "discriminator": PatchDiscriminator}
    # The GAN's Adam(2e-4, beta_1=0.5) for both players, as the paper.
    default_training = {
        **PairedTranslation.default_training,
        "dataset": "emoji:openmoji_black,openmoji_color",
        "batch_size": 16,
        "epochs": 20,
    }

    def __init__(
        self,
        generator,
        discriminator,
        l1_weight=100.0,
        adversarial_weight=1.0,
        discriminator_scale=0.5,
        **kwargs,
    ):
        super().__init__(generator, discriminator, **kwargs)
        if self.condition.kind != "image":
            raise ConfigError("pix2pix's generator takes a source image (an input named 'source').")
        self.l1_weight = float(l1_weight)
        self.adversarial_weight = float(adversarial_weight)
        self.discriminator_scale = float(discriminator_scale)

    def metric_names(self):
        if not self.adversarial_weight:
            return ["l1"]
        return super().metric_names()

    def training_updates(self, data):
        """The GAN's step; with ``adversarial_weight=0`` (the L1-only
        ablation) only the generator's update, as nothing reads the
        discriminator."""
        if self.adversarial_weight:
            return super().training_updates(data)
        real, condition = self.unpack_batch(data)
        reports = self.generator_step(ops.cast(real, self.compute_dtype), condition)
        return {"l1": reports["l1"]}

    def discriminator_loss(self, real_outputs, fake_outputs):
        """``0.5 (-log D(x, y) - log(1 - D(x, G(x))))``, per example (patch mean)."""
        return self.discriminator_scale * losses.minimax_discriminator_loss(real_outputs, fake_outputs)

    def generator_loss(self, fake_outputs):
        """``-log D(x, G(x))`` times ``adversarial_weight``, per example."""
        return self.adversarial_weight * losses.non_saturating_generator_loss(fake_outputs)

    def generator_terms(self):
        """``l1``: ``lambda ||y - G(x)||_1`` (mean over pixels), eq. 3-4."""
        return [terms.reconstruction(self.l1_weight, "l1")]

    def get_config(self):
        return {
            **super().get_config(),
            "l1_weight": self.l1_weight,
            "adversarial_weight": self.adversarial_weight,
            "discriminator_scale": self.discriminator_scale,
        }
