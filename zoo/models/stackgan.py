"""StackGAN: Zhang, Xu, Li, Zhang, Wang, Huang & Metaxas 2017, "StackGAN:
Text to Photo-realistic Image Synthesis with Stacked Generative Adversarial
Networks" (ICCV, arXiv:1612.03242).

Two stages, each a conditional GAN on the caption's embedding (the zoo's
char-CNN-RNN, ``zoo.core.text``, trained first and then frozen):

* **Conditioning augmentation** (section 3.1): a linear layer maps the
  text embedding to the mean and log-variance of a Gaussian; the
  condition is a sample ``c = mu + sigma * eps`` (reparameterised), and
  the generator pays ``kl_weight * KL(N(mu, sigma^2) || N(0, I))``, the KL
  summed over the condition's dimensions. The paper's text gives the
  weight as 1; the released code uses 2 on the KL *averaged* over the
  dimensions, i.e. ``2 / conditioning_dim`` on the sum, the default here.
  (The shipped ``stackgan_emoji_small`` was trained with 2 on the sum,
  128x the released strength; its preset keeps that so its card's command
  rebuilds it.) Each stage has its own.
* **Stage I** draws a low-resolution image (32x32 here; 64x64 in the
  paper) from ``c`` and noise ``z``.
* **Stage II** encodes the stage-I image down to 8x8, joins ``c``
  (replicated spatially), refines with residual blocks and upsamples to
  64x64 (256x256 in the paper): it corrects and adds detail, and sees no
  noise besides its own ``eps``.
* Both discriminators are matching-aware (``zoo.models.gan_cls``:
  (real, right) real, (real, wrong) and (fake, right) fake).

Training runs in phases (``zoo.core.phases``): the text encoder, then stage
I (its generator and discriminator), then stage II with stage I frozen (in
inference mode, its weights out of every optimizer). Each stage has its own
pair of optimizers (``d_optimizer``/``g_optimizer`` for stage I,
``d2_optimizer``/``g2_optimizer`` for stage II): Adam(2e-4, beta_1=0.5).

The noise of the whole generator is ``[z, eps_I, eps_II]`` (``latent_dim =
z_dim + 2 * conditioning_dim``): all of it comes from the model's seed
stream, so a seed gives the same image anywhere. Deviations: stage I
upsamples with DCGAN's transposed convolutions (the paper: nearest
upsampling and 3x3 convolutions), two residual blocks at 8x8.
"""

import keras
from keras import ops

from zoo.core import layers
from zoo.core import losses as losses_lib
from zoo.core import terms
from zoo.core.errors import ConfigError
from zoo.core.networks import Network
from zoo.core.registry import register
from zoo.core.text import CharCNNRNN, ImageEncoder
from zoo.core.text_to_image import TextToImageGAN
from zoo.models.dcgan import upsample_to_image, weight_init
from zoo.models.gan_cls import MatchingAwareDiscriminator


def conditioning_augmentation(text_embedding, epsilon, conditioning_dim, name):
    """``c = mu + exp(log_var / 2) * eps`` with ``[mu, log_var]`` a linear
    map of the text embedding (the layer is called ``name``)."""
    statistics = keras.layers.Dense(2 * conditioning_dim, kernel_initializer=weight_init(), name=name)(
        text_embedding
    )
    mean, log_variance = split_statistics(statistics)
    return mean + ops.exp(0.5 * log_variance) * epsilon


def split_statistics(statistics):
    """``[mu, log_var]`` ``[batch, 2c]`` -> ``(mu, log_var)``."""
    half = statistics.shape[-1] // 2
    return statistics[:, :half], statistics[:, half:]


@keras.saving.register_keras_serializable(package="zoo")
class StageOneGenerator(Network):
    """Stage I: ``noise`` ``[batch, z_dim + conditioning_dim]`` (``z`` then
    the augmentation's ``eps``) and ``text_embedding`` -> low-resolution
    images ``[batch, s, s, C]``.

    Args:
        image_shape: the stage's ``(s, s, C)``.
        z_dim: noise size (100).
        embedding_dim: text embedding size.
        conditioning_dim: size of ``c`` (128).
        base_filters: channels of the last hidden layer.
    """

    def __init__(self, image_shape=(32, 32, 3), z_dim=100, embedding_dim=1024, conditioning_dim=128,
                 base_filters=64, **kwargs):
        noise = keras.Input((z_dim + conditioning_dim,), name="noise")
        text = keras.Input((embedding_dim,), name="text_embedding")
        code = conditioning_augmentation(text, noise[:, z_dim:], conditioning_dim, "conditioning")
        x = keras.layers.Concatenate(name="condition_and_noise")([code, noise[:, :z_dim]])
        x = upsample_to_image(x, tuple(image_shape), base_filters, kernel_size=4)
        images = keras.layers.Activation("tanh", dtype="float32", name="images")(x)
        super().__init__(inputs={"noise": noise, "text_embedding": text}, outputs=images, **kwargs)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.z_dim = int(z_dim)
        self.embedding_dim = int(embedding_dim)
        self.conditioning_dim = int(conditioning_dim)
        self.base_filters = int(base_filters)

    def get_config(self):
        return {**super().get_config(), "image_shape": list(self.image_shape)}


def _residual_block(x, filters, name):
    """conv3x3-BN-ReLU-conv3x3-BN, added to the input, ReLU."""
    y = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer=weight_init(),
                            name=f"{name}_conv1")(x)
    y = layers.batch_norm(name=f"{name}_bn1")(y)
    y = keras.layers.ReLU()(y)
    y = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer=weight_init(),
                            name=f"{name}_conv2")(y)
    y = layers.batch_norm(name=f"{name}_bn2")(y)
    return keras.layers.ReLU()(keras.layers.Add()([x, y]))


@keras.saving.register_keras_serializable(package="zoo")
class StageTwoGenerator(Network):
    """Stage II: ``source`` (stage-I images ``[batch, s, s, C]``), ``noise``
    (its augmentation's ``eps``, ``[batch, conditioning_dim]``) and
    ``text_embedding`` -> images ``[batch, H, W, C]``.

    Downsampling encoder to ``H / 8`` (stride-2 convolutions), the
    condition replicated and concatenated, a 3x3 joining convolution,
    ``residual_blocks`` residual blocks, then nearest-neighbour upsampling
    with 3x3 convolutions (batch norm, ReLU) by 2x three times; tanh.

    Args:
        image_shape: output ``(H, W, C)``, ``H`` a multiple of 8.
        source_size: the stage-I image size ``s`` (``H / s`` a power of 2).
        embedding_dim, conditioning_dim: as stage I's.
        base_filters: channels at the output's resolution (doubling
            per halving).
        residual_blocks: residual blocks at ``H / 8`` (4 in the paper).
    """

    def __init__(self, image_shape=(64, 64, 3), source_size=32, embedding_dim=1024, conditioning_dim=128,
                 base_filters=32, residual_blocks=2, **kwargs):
        image_shape = tuple(int(d) for d in image_shape)
        size, channels = image_shape[0], image_shape[-1]
        inner = size // 8
        downs = (int(source_size) // inner).bit_length() - 1
        if size % 8 or inner * 2**downs != int(source_size) or downs < 0:
            raise ConfigError(
                f"Stage II needs an output size divisible by 8 and a stage-I size of (output / 8) * 2**k; "
                f"got {size} and {source_size}."
            )
        source = keras.Input((source_size, source_size, channels), name="source")
        epsilon = keras.Input((conditioning_dim,), name="noise")
        text = keras.Input((embedding_dim,), name="text_embedding")
        code = conditioning_augmentation(text, epsilon, conditioning_dim, "conditioning")
        x = keras.layers.Conv2D(base_filters, 3, padding="same", kernel_initializer=weight_init(),
                                name="encode0")(source)
        x = keras.layers.ReLU()(x)
        filters = base_filters
        for index in range(downs):
            filters = base_filters * 2 ** (index + 1)
            x = keras.layers.Conv2D(filters, 4, strides=2, padding="same", use_bias=False,
                                    kernel_initializer=weight_init(), name=f"encode{index + 1}")(x)
            x = layers.batch_norm(name=f"encode{index + 1}_bn")(x)
            x = keras.layers.ReLU()(x)
        tiled = keras.layers.UpSampling2D(inner, name="replicate_condition")(
            keras.layers.Reshape((1, 1, conditioning_dim))(code)
        )
        top = base_filters * 8
        x = keras.layers.Concatenate()([x, tiled])
        x = keras.layers.Conv2D(top, 3, padding="same", use_bias=False, kernel_initializer=weight_init(),
                                name="joint")(x)
        x = layers.batch_norm(name="joint_bn")(x)
        x = keras.layers.ReLU()(x)
        for index in range(residual_blocks):
            x = _residual_block(x, top, f"residual{index + 1}")
        for index in range(3):
            x = keras.layers.UpSampling2D(2, interpolation="nearest")(x)
            x = keras.layers.Conv2D(top // 2 ** (index + 1), 3, padding="same", use_bias=False,
                                    kernel_initializer=weight_init(), name=f"up{index + 1}")(x)
            x = layers.batch_norm(name=f"up{index + 1}_bn")(x)
            x = keras.layers.ReLU()(x)
        x = keras.layers.Conv2D(channels, 3, padding="same", kernel_initializer=weight_init(), name="to_rgb")(x)
        images = keras.layers.Activation("tanh", dtype="float32", name="images")(x)
        super().__init__(inputs={"source": source, "noise": epsilon, "text_embedding": text}, outputs=images,
                         **kwargs)
        self.image_shape = image_shape
        self.source_size = int(source_size)
        self.embedding_dim = int(embedding_dim)
        self.conditioning_dim = int(conditioning_dim)
        self.base_filters = int(base_filters)
        self.residual_blocks = int(residual_blocks)

    def get_config(self):
        return {**super().get_config(), "image_shape": list(self.image_shape)}


@keras.saving.register_keras_serializable(package="zoo")
class StackGANGenerator(Network):
    """Both stages: ``noise`` ``[batch, z_dim + 2 * conditioning_dim]``
    (``z``, stage I's ``eps``, stage II's ``eps``) and ``text_embedding`` ->
    images ``[batch, H, W, C]``. ``stage_one`` and ``stage_two`` are the
    stages' networks (what training calls).

    Args:
        image_shape: final ``(H, W, C)``.
        stage_one_size: stage I's image size.
        z_dim, embedding_dim, conditioning_dim: as the stages'.
        stage_one_filters, stage_two_filters: the stages' ``base_filters``.
        residual_blocks: stage II's.
    """

    def __init__(self, image_shape=(64, 64, 3), stage_one_size=32, z_dim=100, embedding_dim=1024,
                 conditioning_dim=128, stage_one_filters=64, stage_two_filters=32, residual_blocks=2, **kwargs):
        image_shape = tuple(int(d) for d in image_shape)
        stage_one = StageOneGenerator(
            (stage_one_size, stage_one_size, image_shape[-1]), z_dim, embedding_dim, conditioning_dim,
            stage_one_filters, name="stage_one",
        )
        stage_two = StageTwoGenerator(
            image_shape, stage_one_size, embedding_dim, conditioning_dim, stage_two_filters, residual_blocks,
            name="stage_two",
        )
        first = z_dim + conditioning_dim
        noise = keras.Input((first + conditioning_dim,), name="noise")
        text = keras.Input((embedding_dim,), name="text_embedding")
        low = stage_one({"noise": noise[:, :first], "text_embedding": text})
        images = stage_two({"source": low, "noise": noise[:, first:], "text_embedding": text})
        super().__init__(inputs={"noise": noise, "text_embedding": text}, outputs=images, **kwargs)
        self.stage_one = stage_one
        self.stage_two = stage_two
        self.image_shape = image_shape
        self.stage_one_size = int(stage_one_size)
        self.z_dim = int(z_dim)
        self.embedding_dim = int(embedding_dim)
        self.conditioning_dim = int(conditioning_dim)
        self.stage_one_filters = int(stage_one_filters)
        self.stage_two_filters = int(stage_two_filters)
        self.residual_blocks = int(residual_blocks)

    def get_config(self):
        return {**super().get_config(), "image_shape": list(self.image_shape)}

    def split_noise(self, noise):
        """``(stage I's noise [z, eps_I], stage II's eps_II)``."""
        first = self.z_dim + self.conditioning_dim
        return noise[:, :first], noise[:, first:]

    def stage_one_images(self, noise, text_embedding, training=False):
        """Stage I's images for the whole generator's noise."""
        first, _ = self.split_noise(noise)
        return self.stage_one({"noise": first, "text_embedding": text_embedding}, training=training)

    def refine(self, noise, text_embedding, training=False):
        """Stage II's images with stage I in inference mode (frozen)."""
        first, second = self.split_noise(noise)
        low = self.stage_one({"noise": first, "text_embedding": text_embedding}, training=False)
        low = ops.stop_gradient(low)
        return self.stage_two({"source": low, "noise": second, "text_embedding": text_embedding},
                              training=training)

    def conditioning_statistics(self, text_embedding, stage):
        """``(mu, log_var)`` of stage ``"one"`` or ``"two"``'s conditioning augmentation."""
        network = self.stage_one if stage == "one" else self.stage_two
        return split_statistics(network.get_layer("conditioning")(text_embedding))


_EMOJI_TEXT = {"max_length": 128, "embedding_dim": 256}

PRESETS = {
    "stackgan_emoji": {
        "description": "StackGAN on emoji with their names and keywords as captions: stage I at 32x32, "
        "stage II at 64x64.",
        "image_shape": (64, 64, 3),
        "generator": {"embedding_dim": 256},
        "discriminator": {"image_shape": (32, 32, 3), "embedding_dim": 256},
        "discriminator_two": {"embedding_dim": 256},
        "text_encoder": _EMOJI_TEXT,
        "image_encoder": {"embedding_dim": 256},
        "training": {
            # The released code's 600 + 600 epochs, of ~5,600 training images.
            "phases": [
                {"name": "text encoder", "steps": 3000, "train": ["text_encoder"]},
                {"name": "stage I", "steps": 52500, "train": ["stage_one"]},
                {"name": "stage II", "steps": 52500, "train": ["stage_two"]},
            ],
        },
    },
}
# The CPU scale (what ships): both stages and both discriminators at half the width.
PRESETS["stackgan_emoji_small"] = {
    **PRESETS["stackgan_emoji"],
    "description": "StackGAN on emoji at the CPU scale: stage I at 32x32, stage II at 64x64, half the width.",
    "generator": {"embedding_dim": 256, "stage_one_filters": 32, "stage_two_filters": 16},
    "discriminator": {"image_shape": (32, 32, 3), "embedding_dim": 256, "base_filters": 32},
    "discriminator_two": {"embedding_dim": 256, "base_filters": 32},
    # What the shipped model was trained with: 2 on the KL summed over the
    # 128 dimensions, 128x the released code's strength (the default).
    "model": {"kl_weight": 2.0},
}


@register("stackgan", presets=PRESETS)
@keras.saving.register_keras_serializable(package="zoo")
class StackGAN(TextToImageGAN):
    """StackGAN (Zhang et al. 2017): see the module doc.

    Args:
        generator: a ``StackGANGenerator``.
        discriminator: stage I's ``MatchingAwareDiscriminator`` (at its size).
        discriminator_two: stage II's.
        text_encoder, image_encoder: as ``TextToImageGAN``'s.
        kl_weight: weight of the conditioning augmentation's KL term, summed
            over the condition's dimensions; default ``2 / conditioning_dim``,
            the released code's 2 on the KL averaged over the dimensions (the
            paper's text says 1).
        **kwargs: ``TextToImageGAN``'s.
    """

    network_classes = {
        "generator": StackGANGenerator,
        "discriminator": MatchingAwareDiscriminator,
        "discriminator_two": MatchingAwareDiscriminator,
        "text_encoder": CharCNNRNN,
        "image_encoder": ImageEncoder,
    }
    default_training = {
        **TextToImageGAN.default_training,
        "d2_optimizer": TextToImageGAN.default_training["d_optimizer"],
        "g2_optimizer": TextToImageGAN.default_training["g_optimizer"],
    }

    def __init__(self, generator, discriminator, discriminator_two, text_encoder, image_encoder, kl_weight=None,
                 **kwargs):
        super().__init__(generator, discriminator, text_encoder, image_encoder, **kwargs)
        self.discriminator_two = discriminator_two
        if tuple(discriminator.image_shape[:2]) != (generator.stage_one_size,) * 2:
            raise ConfigError(
                f"Stage I's discriminator takes {discriminator.image_shape[0]}x{discriminator.image_shape[1]} "
                f"images but stage I draws {generator.stage_one_size}x{generator.stage_one_size}."
            )
        if tuple(discriminator_two.image_shape) != tuple(generator.image_shape):
            raise ConfigError(
                f"Stage II's discriminator takes {discriminator_two.image_shape} images but the generator "
                f"draws {generator.image_shape}."
            )
        if kl_weight is None:
            kl_weight = 2.0 / generator.conditioning_dim
        self.kl_weight = float(kl_weight)

    phase_parts = ("text_encoder", "stage_one", "stage_two")

    @property
    def stage(self):
        """``"two"`` in a phase that trains ``stage_two``, else ``"one"``."""
        trains = self.phase.train if self.phase is not None and self.phase.train else ()
        return "two" if "stage_two" in trains else "one"

    def optimizer_variables(self):
        generator = self.generator
        return {
            "d_optimizer": self.discriminator.trainable_variables,
            "g_optimizer": generator.stage_one.trainable_variables,
            "d2_optimizer": self.discriminator_two.trainable_variables,
            "g2_optimizer": generator.stage_two.trainable_variables,
            "e_optimizer": self.text_encoder.trainable_variables + self.image_encoder.trainable_variables,
        }

    def player_roles(self):
        return ("d2_optimizer", "g2_optimizer") if self.stage == "two" else ("d_optimizer", "g_optimizer")

    def prepare_real(self, images):
        if self.stage == "two":
            return images
        size = self.generator.stage_one_size
        # Area averaging: the low-resolution image the stage-I generator
        # should match, without aliasing.
        return ops.cast(ops.image.resize(images, (size, size), interpolation="area"), images.dtype)

    def generate_images(self, noise, condition=None, training=False):
        if not training:
            return super().generate_images(noise, condition, training=False)
        condition = ops.convert_to_tensor(condition)
        if self.stage == "two":
            return self.generator.refine(noise, condition, training=True)
        return self.generator.stage_one_images(noise, condition, training=True)

    def active_discriminator(self):
        return self.discriminator_two if self.stage == "two" else self.discriminator

    def generator_terms(self):
        def kl(t):
            mean, log_variance = self.generator.conditioning_statistics(t.condition, self.stage)
            return losses_lib.kl_to_standard_normal(mean, log_variance)

        return super().generator_terms() + [terms.LossTerm("kl", kl, self.kl_weight)]

    def caption_grid(self, captions, seed=0):
        """Rows ``[N, 2, H, W, C]``: stage I's image (upsampled) | stage II's."""
        embeddings = self._as_embeddings(captions)
        noise = self.latent_for_seed(len(captions), [int(seed), 0])
        generator = self.export_generator
        low = generator.stage_one_images(noise, embeddings)
        size = generator.image_shape[0]
        low = ops.image.resize(low, (size, size), interpolation="nearest")
        high = generator({"noise": noise, "text_embedding": embeddings}, training=False)
        return ops.stack([low, high], axis=1)

    def get_config(self):
        return {
            **super().get_config(),
            "discriminator_two": keras.saving.serialize_keras_object(self.discriminator_two),
            "kl_weight": self.kl_weight,
        }
