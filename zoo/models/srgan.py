"""SRGAN: Ledig, Theis, Huszar, Caballero, Cunningham, Acosta, Aitken,
Tejani, Totz, Wang & Shi 2017, "Photo-Realistic Single Image
Super-Resolution Using a Generative Adversarial Network" (CVPR 2017,
arXiv:1609.04802).

A generator that upscales a low-resolution image ``x4`` (the *condition*,
``source``) to the high-resolution one (the *target*), trained in two phases:

1. **SRResNet**: the generator alone, on the pixel-wise MSE (eq. 4), the
   paper's PSNR-oriented baseline and the initialisation of the GAN;
2. **SRGAN**: the *perceptual loss* (eq. 3), a content loss plus
   ``10^-3`` times the adversarial loss, against a discriminator judging
   high-resolution images. The content loss (eq. 5) is the MSE between the
   feature maps of a frozen network on the generated and the real image:
   the paper's VGG54 (VGG19's ``block5_conv4``, after its ReLU, features
   rescaled by ``1/12.75``) where ImageNet weights can be downloaded, or,
   offline, the FID Inception network whose weights the project ships
   (``fid_inception:<layer>``, scale chosen the same way: to bring the loss
   to the MSE's magnitude; see the presets).

Networks (the paper's Figure 4):

* generator (SRResNet): a 9x9 convolution (64) and PReLU; ``B = 16``
  residual blocks (3x3 conv, BN, PReLU, 3x3 conv, BN, plus the input); a 3x3
  conv and BN added to the first layer's output (the long skip); per factor
  of 2, a 3x3 conv to 256 channels, a pixel shuffle x2 and PReLU; a 9x9
  convolution to the image's channels. Fully convolutional, so a trained
  generator upscales an image of any size; its output goes through tanh
  (the zoo's images live in [-1, 1]; the paper feeds LR images in [0, 1] and
  HR ones in [-1, 1]: here both are in [-1, 1]).
* discriminator: eight 3x3 convolutions (64, 64, 128, 128, 256, 256, 512,
  512 filters, stride 2 on every second one), leaky ReLU (0.2) and batch
  norm (not on the first), then dense 1024, leaky ReLU and one logit. Its
  dense layers fix the size it judges: the training crop (96x96 in the
  paper).

Batch norm is synchronised across replicas (``zoo.core.layers.batch_norm``),
so N replicas train as one device. Adam(1e-4, beta_1 = 0.9) for both
players, as the paper (which pre-trains 10^6 steps and then trains the GAN
10^5 steps at 1e-4 and 10^5 at 1e-5: the presets' budgets are a CPU's, see
the model card).
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from zoo.core import layers, losses, terms
from zoo.core.errors import ConfigError
from zoo.core.networks import Network, freeze
from zoo.core.optimizers import adam
from zoo.core.registry import register
from zoo.core.translation import PairedTranslation, translation_signatures


def upscale_factors(scale):
    """The x2 upsampling stages of a power-of-two ``scale`` (4 -> 2)."""
    stages = int(round(np.log2(scale))) if scale >= 2 else 0
    if scale < 2 or 2**stages != scale:
        raise ConfigError(f"The upscaling factor must be a power of two >= 2 (2, 4, 8); got {scale}.")
    return stages


@keras.saving.register_keras_serializable(package="zoo")
class SRResNetGenerator(Network):
    """SRGAN's generator: ``source`` ``[batch, h, w, C]`` in [-1, 1] (any
    ``h, w``) -> ``[batch, scale * h, scale * w, C]`` in [-1, 1].

    Args:
        channels: ``C``.
        scale: upscaling factor, a power of two (4 in the paper).
        filters: width of the residual trunk (64).
        residual_blocks: ``B`` (16).
        bicubic_skip: add the bicubic upscale of the input to the output
            (global residual learning, Kim et al. 2016, "Accurate Image
            Super-Resolution Using Very Deep Convolutional Networks"), which
            then has no tanh: the network starts at bicubic quality and only
            learns the missing detail. Not in the SRGAN paper (False); the
            presets trained on a CPU budget use it.
    """

    def __init__(self, channels=3, scale=4, filters=64, residual_blocks=16, bicubic_skip=False, **kwargs):
        stages = upscale_factors(scale)
        source = keras.Input((None, None, channels), name="source")
        x = keras.layers.Conv2D(filters, 9, padding="same", name="head")(source)
        head = x = keras.layers.PReLU(shared_axes=[1, 2], name="head_prelu")(x)
        for b in range(residual_blocks):
            y = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"block{b + 1}_conv1")(x)
            y = layers.batch_norm(name=f"block{b + 1}_bn1")(y)
            y = keras.layers.PReLU(shared_axes=[1, 2], name=f"block{b + 1}_prelu")(y)
            y = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"block{b + 1}_conv2")(y)
            y = layers.batch_norm(name=f"block{b + 1}_bn2")(y)
            x = keras.layers.Add(name=f"block{b + 1}")([x, y])
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name="trunk_conv")(x)
        x = layers.batch_norm(name="trunk_bn")(x)
        x = keras.layers.Add(name="long_skip")([head, x])
        for s in range(stages):
            x = keras.layers.Conv2D(filters * 4, 3, padding="same", name=f"upsample{s + 1}_conv")(x)
            x = layers.PixelShuffle(2, name=f"upsample{s + 1}_shuffle")(x)
            x = keras.layers.PReLU(shared_axes=[1, 2], name=f"upsample{s + 1}_prelu")(x)
        x = keras.layers.Conv2D(channels, 9, padding="same", name="to_image")(x)
        if bicubic_skip:
            upscaled = layers.BicubicUpscale(scale, name="bicubic")(source)
            images = keras.layers.Add(name="images", dtype="float32")([upscaled, x])
        else:
            images = keras.layers.Activation("tanh", dtype="float32", name="images")(x)
        super().__init__(inputs=source, outputs=images, **kwargs)
        self.channels = channels
        self.scale = scale
        self.filters = filters
        self.residual_blocks = residual_blocks
        self.bicubic_skip = bicubic_skip


@keras.saving.register_keras_serializable(package="zoo")
class SRGANDiscriminator(Network):
    """SRGAN's discriminator: ``images`` ``[batch, H, W, C]`` (the training
    crop's size) -> one logit ``[batch, 1]``.

    Args:
        image_shape: ``(H, W, C)``; ``H`` and ``W`` divisible by 16.
        base_filters: filters of the first two layers (64), doubling every
            two layers.
        dense_units: width of the dense layer (1024).
    """

    def __init__(self, image_shape=(96, 96, 3), base_filters=64, dense_units=1024, **kwargs):
        image_shape = tuple(int(d) for d in image_shape)
        if len(image_shape) != 3 or image_shape[0] % 16 or image_shape[1] % 16:
            raise ConfigError(
                f"SRGAN's discriminator halves the image four times: its size must be "
                f"(H, W, C) with H and W multiples of 16; got {image_shape}."
            )
        images = keras.Input(image_shape, name="images")
        x = images
        for i in range(8):
            x = keras.layers.Conv2D(
                base_filters * 2 ** (i // 2), 3, strides=1 + i % 2, padding="same",
                use_bias=i == 0, name=f"conv{i + 1}",
            )(x)
            if i:
                x = layers.batch_norm(name=f"conv{i + 1}_bn")(x)
            x = keras.layers.LeakyReLU(0.2)(x)
        x = keras.layers.Flatten()(x)
        x = keras.layers.Dense(dense_units, name="dense")(x)
        x = keras.layers.LeakyReLU(0.2)(x)
        logits = keras.layers.Dense(1, dtype="float32", name="logits")(x)
        super().__init__(inputs=images, outputs=logits, **kwargs)
        self.image_shape = image_shape
        self.base_filters = base_filters
        self.dense_units = dense_units


# --- Content networks ---------------------------------------------------------------


@keras.saving.register_keras_serializable(package="zoo")
class VGGInput(keras.layers.Layer):
    """Images in [-1, 1] -> what ``keras.applications`` VGG19 takes: BGR,
    0-255, minus the ImageNet channel means ("caffe" preprocessing)."""

    def call(self, images):
        pixels = (ops.cast(images, "float32") + 1.0) * 127.5
        bgr = pixels[..., ::-1]
        return bgr - ops.convert_to_tensor([103.939, 116.779, 123.68], "float32")


def content_network(spec, weights="imagenet"):
    """The frozen feature network of a content loss, from its spec:

    * ``"vgg19:<layer>"``: ``keras.applications.VGG19`` with ImageNet
      weights (downloaded once by Keras) cut after ``<layer>``;
      ``vgg19:block5_conv4`` is the paper's VGG54, ``vgg19:block2_conv2``
      its VGG22;
    * ``"fid_inception:<layer>"``: the FID Inception network
      (``zoo.metrics.inception``) cut after ``<layer>``, from the weights in
      ``../shared/weights`` (or ``$ZOO_FID_TORCHSCRIPT``): offline.

    Returns a frozen ``keras.Model`` from images in [-1, 1] of any size to
    the feature map. ``weights=None`` builds VGG19 untrained (no download).
    """
    kind, _, layer = str(spec).partition(":")
    if kind == "vgg19":
        vgg = keras.applications.VGG19(include_top=False, weights=weights, input_shape=(None, None, 3))
        if layer not in [l.name for l in vgg.layers]:
            raise ConfigError(f"VGG19 has no layer {layer!r} (the paper's VGG54 is block5_conv4).")
        cut = keras.Model(vgg.input, vgg.get_layer(layer).output)
        images = keras.Input((None, None, 3), name="images")
        network = keras.Model(images, cut(VGGInput()(images)), name=f"vgg19_{layer}")
    elif kind == "fid_inception":
        from zoo.metrics.inception import FEATURE_LAYERS
        from zoo.metrics.inception_weights import load_fid_inception_features

        if layer not in FEATURE_LAYERS:
            raise ConfigError(
                f"The FID Inception has no layer {layer!r}; use one of {', '.join(FEATURE_LAYERS)}."
            )
        try:
            network = load_fid_inception_features(layer)
        except FileNotFoundError as error:
            raise ConfigError(
                f"The content network needs the FID Inception weights ({error}); point "
                "$ZOO_FID_TORCHSCRIPT at fid_inception_2015-12-05_torchscript.pt or use "
                "content='vgg19:block5_conv4' where ImageNet weights can be downloaded."
            ) from None
    else:
        raise ConfigError(
            f"Unknown content network {spec!r}: use 'vgg19:<layer>' (the paper's "
            "vgg19:block5_conv4), 'fid_inception:<layer>' (offline) or 'mse'."
        )
    return freeze(network)


# --- Presets ------------------------------------------------------------------------

# Photographs: the paper's 96x96 high-resolution crops (24x24 inputs), batch
# 16, the offline content network at mixed_2 (9x9x288 features of a 96x96
# crop, the depth and grid of VGG54's 6x6x512); its scale brings the content
# loss of a bicubic upscale to the MSE's magnitude, as 1/12.75 does for VGG54
# (measured in tests/test_srgan.py).
#
# The offline presets add the bicubic upscale to the generator's output
# (bicubic_skip): in the 2,500 MSE steps a CPU affords, the paper's
# SRResNet was still below bicubic interpolation (its training MSE fell
# from 0.148 to 0.010 in 1,100 steps, against bicubic's 0.0056), while the
# skip starts it at bicubic quality. srgan_photos_vgg54 is the paper's
# network and loss.
PHOTOS = {
    "image_shape": (96, 96, 3),
    "generator": {"bicubic_skip": True},
    "model": {"content": "fid_inception:mixed_2", "content_scale": 0.2},
}
PHOTO_TRAINING = {"dataset": "photos", "batch_size": 16}
# The paper's budget: 10^6 SRResNet steps, then 2 x 10^5 GAN steps (a GPU's
# days; --phase_steps shortens both, as the shipped models were trained).
SRRESNET_PHASE = {"name": "srresnet", "steps": 1_000_000, "train": ("generator",)}
SRGAN_PHASE = {"name": "srgan", "steps": 200_000}
# CIFAR-10: 32x32 targets from 8x8 inputs; mixed_2 would be 1x1 there, so
# the content network is cut at conv_4 (4x4x192).
CIFAR = {
    "image_shape": (32, 32, 3),
    "generator": {"bicubic_skip": True},
    "model": {"content": "fid_inception:conv_4", "content_scale": 0.16},
}
CIFAR_TRAINING = {"dataset": "cifar10", "batch_size": 16}

PRESETS = {
    "srgan_photos": {
        "description": "SRGAN x4 on photographs: 96x96 crops of the training photos "
        "(24x24 inputs), SRResNet with a bicubic skip; MSE phase, then the perceptual loss "
        "with FID Inception mixed_2 features (offline).",
        **PHOTOS,
        "training": {**PHOTO_TRAINING, "phases": [SRRESNET_PHASE, SRGAN_PHASE]},
    },
    "srresnet_photos": {
        "description": "SRResNet x4 on photographs: srgan_photos's first phase alone "
        "(the MSE-trained generator; srgan_photos resumes from its checkpoint).",
        **PHOTOS,
        "training": {**PHOTO_TRAINING, "phases": [SRRESNET_PHASE]},
    },
    "srgan_photos_vgg54": {
        "description": "The paper's SRGAN: its SRResNet (no bicubic skip) and content loss, "
        "VGG19 block5_conv4 features / 12.75 (downloads VGG19's ImageNet weights once).",
        "image_shape": (96, 96, 3),
        "model": {"content": "vgg19:block5_conv4", "content_scale": 1.0 / 12.75},
        "training": {**PHOTO_TRAINING, "phases": [SRRESNET_PHASE, SRGAN_PHASE]},
    },
    "srgan_cifar10": {
        "description": "SRGAN x4 on CIFAR-10: 32x32 images from 8x8 inputs; SRResNet phase, "
        "then the perceptual loss with FID Inception conv_4 features.",
        **CIFAR,
        "training": {**CIFAR_TRAINING, "phases": [SRRESNET_PHASE, SRGAN_PHASE]},
    },
    "srresnet_cifar10": {
        "description": "SRResNet x4 on CIFAR-10 (srgan_cifar10's first phase alone).",
        **CIFAR,
        "training": {**CIFAR_TRAINING, "phases": [SRRESNET_PHASE]},
    },
}


@register("srgan", presets=PRESETS)
@keras.saving.register_keras_serializable(package="zoo")
class SRGAN(PairedTranslation):
    """SRGAN (Ledig et al. 2017): ``G(x_LR)`` trained on ``(x_HR, x_LR)``
    pairs, first on the MSE alone (a phase whose ``train`` is
    ``("generator",)``: SRResNet), then on ``content + adversarial_weight *
    -log D(G(x_LR))`` against the discriminator.

    Args:
        generator: ``SRResNetGenerator``.
        discriminator: ``SRGANDiscriminator`` for the training crop's size.
        content: the content loss: ``"mse"`` (pixels: the paper's
            SRGAN-MSE), or a ``content_network`` spec (``"vgg19:block5_conv4"``,
            VGG54; ``"fid_inception:mixed_2"``).
        content_scale: features are multiplied by it before the MSE (1/12.75
            for VGG54, the paper's rescaling).
        adversarial_weight: weight of the generator's adversarial loss (1e-3).
        **kwargs: the remaining ``zoo.core.adversarial.GAN`` arguments.
    """

    network_classes = {"generator": SRResNetGenerator, "discriminator": SRGANDiscriminator}
    data_kind = "super_resolution"
    default_training = {
        **PairedTranslation.default_training,
        "dataset": "photos",
        "batch_size": 16,
        "d_optimizer": adam(1e-4, beta_1=0.9),
        "g_optimizer": adam(1e-4, beta_1=0.9),
    }

    def __init__(
        self,
        generator,
        discriminator,
        content="mse",
        content_scale=1.0,
        adversarial_weight=1e-3,
        **kwargs,
    ):
        super().__init__(generator, discriminator, **kwargs)
        if self.condition.kind != "image":
            raise ConfigError("SRGAN's generator takes a low-resolution image (an input named 'source').")
        self.content = str(content)
        self.content_scale = float(content_scale)
        self.adversarial_weight = float(adversarial_weight)
        self.content_network = None if self.content == "mse" else content_network(self.content)

    @classmethod
    def network_defaults(cls, role, preset, model_args):
        if role == "generator":
            return {"channels": preset["image_shape"][-1]} if preset["image_shape"] else {}
        return super().network_defaults(role, preset, model_args)

    @property
    def scale(self):
        """The upscaling factor."""
        return int(self.generator.scale)

    @property
    def crop_shape(self):
        """``(H, W, C)`` of the high-resolution training crops (the
        discriminator's input)."""
        return tuple(self.discriminator.inputs[0].shape[1:])

    @property
    def pretraining(self):
        """Whether the current phase trains the generator alone on the MSE."""
        return self.phase is not None and self.phase.train == ("generator",)

    def metric_names(self):
        return ["d_loss", "g_loss", "content", "mse"]

    def generator_loss(self, fake_outputs):
        """``adversarial_weight * -log D(G(x_LR))`` per example (eq. 6)."""
        return self.adversarial_weight * losses.non_saturating_generator_loss(fake_outputs)

    def generator_terms(self):
        """``content``: eq. 5 through the content network (or eq. 4, the
        pixel MSE, with ``content="mse"``)."""
        if self.content_network is None:
            return [terms.reconstruction(1.0, "l2", name="content")]
        return [terms.content(self.content_network, 1.0, scale=self.content_scale)]

    def training_updates(self, data):
        """The SRResNet step (MSE, generator only) in a pre-training phase,
        else the GAN's step with the perceptual loss."""
        real, source = self.unpack_batch(data)
        real = ops.cast(real, self.compute_dtype)
        self.check_scale(real, source)
        if not self.pretraining:
            return super().training_updates((real, source))

        def objective():
            fake = self.generator(source, training=True)
            per_example = losses.mean_squared_error(fake, real)
            loss = self.reduce_loss(per_example) + self.regularization_loss(self.generator)
            return loss, {"mse": ops.mean(per_example)}

        reports = self.apply_update("g_optimizer", objective)
        self.after_generator_step()
        return reports

    def check_scale(self, real, source):
        """A clear error (at trace time) for a batch whose high-resolution
        images are not ``scale`` times the size of their sources."""
        high, low = tuple(real.shape[1:3]), tuple(source.shape[1:3])
        if None in high + low:
            return
        if high != (low[0] * self.scale, low[1] * self.scale):
            raise ConfigError(
                f"SRGAN x{self.scale} trains on (high-res, low-res) pairs whose sizes differ "
                f"by {self.scale}; got {high} and {low}."
            )

    def upscale(self, images, batch_size=16):
        """Super-resolved images, float32 ``[N, s*h, s*w, C]`` in [-1, 1], of
        low-resolution ``images`` ``[N, h, w, C]`` in [-1, 1] (inference
        mode: batch-norm moving statistics)."""
        return self.translate(images, batch_size=batch_size)

    def sample_grid(self, source, target):
        """``[N, 4, H, W, C]``: each low-resolution input (nearest-neighbour
        enlarged, to show its pixels), its bicubic upscale, the generator's
        and the high-resolution target."""
        from zoo.data.super_resolution import bicubic_upscale

        source = np.asarray(source, np.float32)
        size = np.asarray(target).shape[1:3]
        nearest = tf.image.resize(source, size, method="nearest").numpy()
        bicubic = bicubic_upscale(source, self.scale)
        return np.stack([nearest, bicubic, np.asarray(self.upscale(source)), np.asarray(target)], axis=1)

    def export_signatures(self):
        """``serving_default`` (and ``upscale``): low-resolution ``images``
        ``[N, h, w, C]`` float32 in [-1, 1], any ``h, w`` -> ``images`` (and
        ``images_uint8``) ``[N, scale*h, scale*w, C]``; ``*_uint8`` take uint8."""
        shape = (None, None, self.generator.channels)
        signatures = translation_signatures({"serving_default": self.export_network}, shape)
        named = translation_signatures({"upscale": self.export_network}, shape)
        return {**signatures, **named}

    def export_metadata(self):
        return {**super().export_metadata(), "scale": self.scale, "crop_shape": list(self.crop_shape)}

    def get_config(self):
        return {
            **super().get_config(),
            "content": self.content,
            "content_scale": self.content_scale,
            "adversarial_weight": self.adversarial_weight,
        }
