"""GAN-CLS and GAN-INT-CLS: Reed, Akata, Yan, Logeswaran, Schiele & Lee 2016,
"Generative Adversarial Text to Image Synthesis" (ICML, arXiv:1605.05396).

A DCGAN whose players both see the caption: its char-CNN-RNN embedding
(``zoo.core.text``, trained first with the paper's joint embedding, then
frozen) is compressed to 128 dimensions by a linear layer with leaky ReLU,
concatenated with the noise (100) in the generator, and replicated over
the discriminator's last 4x4 feature map before a 1x1 convolution and the
4x4 logit (section 4.1). Adam(2e-4, beta_1=0.5), batch 64.

* GAN-CLS: the matching-aware discriminator (Algorithm 1): real image
  with its caption is real; real image with a wrong caption and generated
  image with its caption are fake, half weight each, as the authors' code.
* GAN-INT: the generator also trains on ``beta t1 + (1 - beta) t2``,
  beta = 0.5 (section 4.3); with CLS: GAN-INT-CLS.

Both are ``zoo.core.text_to_image.TextToImageGAN``; the presets differ in
``interpolation``. Deviations: the text encoder's image side is a small
CNN trained from scratch (the paper: fixed GoogLeNet features), and the
captions are emoji names and keywords (``zoo.data.captions``), not the
CUB / Oxford-102 sentences.
"""

import keras

from zoo.core import layers
from zoo.core.networks import Network, square_image_shape
from zoo.core.registry import register
from zoo.core.text import CharCNNRNN, ImageEncoder
from zoo.core.text_to_image import TextToImageGAN
from zoo.models.dcgan import upsample_to_image, upsampling_plan, weight_init


def project_text(text_embedding, projected_dim, name):
    """The paper's text compression: linear to ``projected_dim``, leaky ReLU (0.2)."""
    x = keras.layers.Dense(projected_dim, kernel_initializer=weight_init(), name=name)(text_embedding)
    return keras.layers.LeakyReLU(0.2)(x)


@keras.saving.register_keras_serializable(package="zoo")
class TextConditionedGenerator(Network):
    """``noise`` ``[batch, latent_dim]`` and ``text_embedding`` ``[batch,
    embedding_dim]`` -> images ``[batch, H, W, C]`` in [-1, 1].

    The compressed text (``projected_dim``) joins the noise; DCGAN's body
    (``zoo.models.dcgan.upsample_to_image``, 4x4 kernels as the authors'
    code) upsamples it; tanh output.

    Args:
        image_shape: ``(H, W, C)``, square, ``s * 2**k``.
        latent_dim: noise size (100).
        embedding_dim: the text encoder's output size (1,024 in the paper).
        projected_dim: compressed text size (128).
        base_filters: channels of the last hidden layer (the authors' ngf = 128).
    """

    def __init__(self, image_shape=(64, 64, 3), latent_dim=100, embedding_dim=1024, projected_dim=128,
                 base_filters=128, **kwargs):
        image_shape = square_image_shape(image_shape, "GAN-CLS")
        noise = keras.Input((latent_dim,), name="noise")
        text = keras.Input((embedding_dim,), name="text_embedding")
        x = keras.layers.Concatenate()([noise, project_text(text, projected_dim, "text_projection")])
        x = upsample_to_image(x, image_shape, base_filters, kernel_size=4)
        images = keras.layers.Activation("tanh", dtype="float32", name="images")(x)
        super().__init__(inputs={"noise": noise, "text_embedding": text}, outputs=images, **kwargs)
        self.image_shape = image_shape
        self.latent_dim = latent_dim
        self.embedding_dim = embedding_dim
        self.projected_dim = projected_dim
        self.base_filters = base_filters


@keras.saving.register_keras_serializable(package="zoo")
class MatchingAwareDiscriminator(Network):
    """``images`` ``[batch, H, W, C]`` and ``text_embedding`` -> logits ``[batch, 1]``.

    Stride-2 4x4 convolutions (batch norm after the first, LeakyReLU 0.2)
    down to DCGAN's seed size s (4 at 32 and 64); the compressed text is
    replicated over that s x s map and concatenated; a 1x1 convolution
    (batch norm, LeakyReLU) mixes them and an s x s convolution gives the
    logit (Reed et al. 2016, section 4.1). StackGAN's discriminators are
    the same network at each stage's size.

    Args:
        image_shape: ``(H, W, C)``.
        embedding_dim: the text embedding's size.
        projected_dim: compressed text size (128).
        base_filters: channels of the first convolution (64).
    """

    def __init__(self, image_shape=(64, 64, 3), embedding_dim=1024, projected_dim=128, base_filters=64,
                 **kwargs):
        image_shape = square_image_shape(image_shape, "the matching-aware discriminator")
        seed_size, stages = upsampling_plan(image_shape[0])
        images = keras.Input(image_shape, name="images")
        text = keras.Input((embedding_dim,), name="text_embedding")
        x = images
        for stage in range(stages):
            x = keras.layers.Conv2D(
                base_filters * 2**stage, 4, strides=2, padding="same", use_bias=stage == 0,
                kernel_initializer=weight_init(), name=f"down{stage + 1}",
            )(x)
            if stage > 0:
                x = layers.batch_norm(name=f"down{stage + 1}_bn")(x)
            x = keras.layers.LeakyReLU(0.2)(x)
        projected = project_text(text, projected_dim, "text_projection")
        tiled = keras.layers.UpSampling2D(seed_size, name="replicate_text")(
            keras.layers.Reshape((1, 1, projected_dim))(projected)
        )
        x = keras.layers.Concatenate()([x, tiled])
        x = keras.layers.Conv2D(
            base_filters * 2 ** (stages - 1), 1, use_bias=False, kernel_initializer=weight_init(), name="joint"
        )(x)
        x = layers.batch_norm(name="joint_bn")(x)
        x = keras.layers.LeakyReLU(0.2)(x)
        x = keras.layers.Conv2D(
            1, seed_size, padding="valid", kernel_initializer=weight_init(), dtype="float32", name="logits"
        )(x)
        logits = keras.layers.Flatten(dtype="float32")(x)
        super().__init__(inputs={"images": images, "text_embedding": text}, outputs=logits, **kwargs)
        self.image_shape = image_shape
        self.embedding_dim = embedding_dim
        self.projected_dim = projected_dim
        self.base_filters = base_filters


# The emoji at the zoo's scale: a 256-d text embedding from captions of at
# most 128 characters; the paper's optimisation. The GAN phase's length is
# 600 epochs of the ~5,600 training images, as the authors trained on CUB.
_EMOJI_TEXT = {"max_length": 128, "embedding_dim": 256}
_EMOJI = {
    "image_shape": (64, 64, 3),
    "generator": {"embedding_dim": 256, "base_filters": 64},
    "discriminator": {"embedding_dim": 256},
    "text_encoder": _EMOJI_TEXT,
    "image_encoder": {"embedding_dim": 256},
    "training": {
        "phases": [
            {"name": "text encoder", "steps": 3000, "train": ["text_encoder"]},
            {"name": "gan", "steps": 52500},
        ],
    },
}

# The CPU scale (what ships): the same 64x64 networks at half the width
# (a quarter of the FLOPs), the phases sized by --phase_steps.
_EMOJI_SMALL = {
    **_EMOJI,
    "generator": {"embedding_dim": 256, "base_filters": 32},
    "discriminator": {"embedding_dim": 256, "base_filters": 32},
}

PRESETS = {
    "gan_cls_emoji": {
        **_EMOJI,
        "description": "GAN-CLS on 64x64 emoji (Google, Twitter, OpenMoji) with their names and keywords as captions.",
    },
    "gan_int_cls_emoji": {
        **_EMOJI,
        "description": "GAN-INT-CLS on 64x64 emoji: GAN-CLS plus the generator on interpolated captions (beta 0.5).",
        "model": {"interpolation": True},
    },
    "gan_cls_emoji_small": {
        **_EMOJI_SMALL,
        "description": "GAN-CLS on 64x64 emoji at the CPU scale: the networks at half the width.",
    },
    "gan_int_cls_emoji_small": {
        **_EMOJI_SMALL,
        "description": "GAN-INT-CLS on 64x64 emoji at the CPU scale: the networks at half the width.",
        "model": {"interpolation": True},
    },
}


@register("gan_cls", presets=PRESETS)
@keras.saving.register_keras_serializable(package="zoo")
class GANCLS(TextToImageGAN):
    """GAN-CLS / GAN-INT-CLS (Reed et al. 2016): see the module doc and
    ``TextToImageGAN`` for the arguments."""

    network_classes = {
        "generator": TextConditionedGenerator,
        "discriminator": MatchingAwareDiscriminator,
        "text_encoder": CharCNNRNN,
        "image_encoder": ImageEncoder,
    }
