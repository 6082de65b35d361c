"""DiscoGAN: Kim, Cha, Kim, Lee & Kim 2017, "Learning to Discover Cross-Domain
Relations with Generative Adversarial Networks" (ICML 2017, arXiv:1703.05192).

Like CycleGAN, two generators ``G_AB``, ``G_BA`` and two discriminators on
unpaired images, each generator's output mapped back by the other and
compared with the input (the reconstruction loss, section 3.2); unlike it,
an encoder-decoder generator without skips, the reconstruction measured by
the mean squared error, and a discriminator that also gives its hidden
features, which the generators match (feature matching, Salimans et al.
2016). The values are those of the authors' released code
(SKTBrain/DiscoGAN, ``image_translation.py``), which the paper leaves
unstated:

* generator loss per direction:
  ``(0.1 L_GAN + 0.9 L_FM) (1 - r) + r L_recon``, with ``r = 0.01`` for the
  first 10,000 iterations (a "GAN curriculum") and 0.5 after; ``L_GAN`` the
  non-saturating loss on the discriminator of its output domain, ``L_FM``
  the squared difference of the batch means of that discriminator's three
  hidden layers on real and generated images, summed over the layers;
  ``L_recon`` the MSE of the round trip of the other domain's images;
* discriminator loss per domain: ``1/2 BCE(real) + 1/2 BCE(fake)``;
* the discriminators update on every third iteration and the generators on
  the other two (``update_interval = 3``), each iteration on a new batch:
  here one train step is those three iterations, a discriminator update on
  the first of three real batches (fed as ``[batch, 3, H, W, C]``) and a
  generator update on each of the other two;
* Adam(2e-4, beta_1=0.5), batch 64, 64x64 images; the code's weight decay
  1e-5 (an L2 term on every parameter, PyTorch's ``weight_decay``) is an L2
  kernel regulariser on every convolution here (``5e-6 ||w||^2``, the same
  gradient), not on the batch-norm parameters.

Networks (the released ``model.py``): generator, 4x4 stride-2
convolutions 64-128-256-512 (batch norm from the second, leaky ReLU 0.2),
then 4x4 stride-2 transposed convolutions 256-128-64 (batch norm, ReLU)
and one to the image (the code's sigmoid on [0, 1] images is tanh on the
zoo's [-1, 1]); discriminator, convolutions 64-128-256-512 (the last three
with batch norm, leaky ReLU 0.2; their outputs are the matched features) and
a 4x4 valid convolution to one logit. Under a ``tf.distribute`` strategy the
batch means of feature matching are taken over the global batch (gathered),
so N replicas compute what one device does.
"""

import keras
import tensorflow as tf
from keras import ops

from zoo.core import layers, losses, replicas
from zoo.core.errors import ConfigError
from zoo.core.networks import Network, square_image_shape
from zoo.core.registry import register
from zoo.core.translation import TwoWayTranslation
from zoo.models.pix2pix import weight_init

CURRICULUM_ITERATIONS = 10000
STARTING_RATE = 0.01
DEFAULT_RATE = 0.5
UPDATE_INTERVAL = 3


def _regularizer(weight_decay):
    # PyTorch's weight_decay adds wd * w to the gradient: an L2 term wd / 2 ||w||^2.
    return keras.regularizers.L2(weight_decay / 2.0) if weight_decay else None


def _disco_shape(image_shape):
    image_shape = square_image_shape(image_shape, "DiscoGAN")
    if image_shape[0] % 16:
        raise ConfigError(f"DiscoGAN halves the image four times: its size must be a multiple of 16; got {image_shape[0]}.")
    return image_shape


@keras.saving.register_keras_serializable(package="zoo")
class DiscoGenerator(Network):
    """DiscoGAN's encoder-decoder: ``source`` ``[batch, H, W, C]`` -> images
    ``[batch, H, W, C]`` in ``[-1, 1]`` (H divisible by 16).

    Args:
        image_shape: ``(H, W, C)`` (64x64x3 in every experiment of the paper).
        base_filters: filters of the first convolution (64).
        weight_decay: the released code's weight decay (1e-5).
    """

    def __init__(self, image_shape=(64, 64, 3), base_filters=64, weight_decay=1e-5, **kwargs):
        image_shape = _disco_shape(image_shape)
        regularizer = _regularizer(weight_decay)
        source = keras.Input(image_shape, name="source")
        x = source
        for i in range(4):
            x = keras.layers.Conv2D(
                base_filters * 2**i, 4, strides=2, padding="same", use_bias=False,
                kernel_initializer=weight_init(), kernel_regularizer=regularizer, name=f"down{i + 1}",
            )(x)
            if i > 0:
                x = layers.batch_norm(name=f"down{i + 1}_bn")(x)
            x = keras.layers.LeakyReLU(0.2)(x)
        for i in range(3):
            x = keras.layers.Conv2DTranspose(
                base_filters * 2 ** (2 - i), 4, strides=2, padding="same", use_bias=False,
                kernel_initializer=weight_init(), kernel_regularizer=regularizer, name=f"up{i + 1}",
            )(x)
            x = keras.layers.ReLU()(layers.batch_norm(name=f"up{i + 1}_bn")(x))
        x = keras.layers.Conv2DTranspose(
            image_shape[-1], 4, strides=2, padding="same", use_bias=False,
            kernel_initializer=weight_init(), kernel_regularizer=regularizer, name="to_image",
        )(x)
        images = keras.layers.Activation("tanh", dtype="float32", name="images")(x)
        super().__init__(inputs=source, outputs=images, **kwargs)
        self.image_shape = image_shape
        self.base_filters = base_filters
        self.weight_decay = weight_decay


@keras.saving.register_keras_serializable(package="zoo")
class DiscoDiscriminator(Network):
    """DiscoGAN's discriminator: ``images`` ``[batch, H, W, C]`` ->
    ``{"logits": [batch, h, w, 1], "features": [three hidden maps]}``.

    Args:
        image_shape: ``(H, W, C)``.
        base_filters: filters of the first convolution (64).
        weight_decay: the released code's weight decay (1e-5).
    """

    def __init__(self, image_shape=(64, 64, 3), base_filters=64, weight_decay=1e-5, **kwargs):
        image_shape = _disco_shape(image_shape)
        regularizer = _regularizer(weight_decay)
        judged = keras.Input(image_shape, name="images")
        x, features = judged, []
        for i in range(4):
            x = keras.layers.Conv2D(
                base_filters * 2**i, 4, strides=2, padding="same", use_bias=False,
                kernel_initializer=weight_init(), kernel_regularizer=regularizer, name=f"conv{i + 1}",
            )(x)
            if i > 0:
                x = layers.batch_norm(name=f"conv{i + 1}_bn")(x)
            x = keras.layers.LeakyReLU(0.2, dtype="float32", name=f"features{i + 1}")(x)
            if i > 0:
                features.append(x)
        # A valid convolution over the whole remaining map (4x4 at 64x64).
        logits = keras.layers.Conv2D(
            1, image_shape[0] // 16, padding="valid", use_bias=False, kernel_initializer=weight_init(),
            kernel_regularizer=regularizer, dtype="float32", name="logits",
        )(x)
        super().__init__(inputs=judged, outputs={"logits": logits, "features": features}, **kwargs)
        self.image_shape = image_shape
        self.base_filters = base_filters
        self.weight_decay = weight_decay


def feature_matching_loss(real_features, fake_features):
    """``sum_l mean_u (mean_batch f_l(real) - mean_batch f_l(fake))^2`` over
    the layers ``l`` and units ``u`` (the released code's ``get_fm_loss``),
    with the batch means over the *global* batch. Returns each local
    example's share ``[batch]``: its mean over the global batch is the
    loss (so ``reduce_loss`` gives it on any number of replicas)."""
    total = 0.0
    for real, fake in zip(real_features, fake_features):
        real_mean = ops.mean(replicas.global_batch(ops.cast(real, "float32")), axis=0)
        fake_mean = ops.mean(replicas.global_batch(ops.cast(fake, "float32")), axis=0)
        total = total + ops.mean(ops.square(real_mean - fake_mean))
    return ops.ones([ops.shape(real_features[0])[0]]) * total


PRESETS = {
    "discogan_emoji": {
        "description": "Google (A) <-> Twitter (B) emoji, 64x64, unpaired: the released "
        "code's networks, curriculum (r = 0.01 for 10k iterations, then 0.5), feature "
        "matching 0.9, discriminator every third iteration.",
        "image_shape": (64, 64, 3),
    },
    # The paper's equation (4) weighs the GAN and reconstruction terms
    # equally (r = 0.5); the released code's curriculum (r = 0.01 for the
    # first 10,000 iterations) is for runs of 100k+ iterations. A CPU run of
    # a few thousand never leaves it, and here its generators collapsed to
    # one input-independent image within 25 epochs (1,275 iterations).
    "discogan_emoji_no_curriculum": {
        "description": "As discogan_emoji with r = 0.5 from the first iteration (the "
        "paper's equal weighting; no GAN curriculum): for runs far shorter than 10k iterations.",
        "image_shape": (64, 64, 3),
        "model": {"curriculum_iterations": 0},
    },
}


@register("discogan", presets=PRESETS)
@keras.saving.register_keras_serializable(package="zoo")
class DiscoGAN(TwoWayTranslation):
    """DiscoGAN (Kim et al. 2017) with the released code's losses and schedule.

    Batches are ``(domain B, domain A)``, each ``[batch, 3, H, W, C]``: three
    real batches per train step (``real_batches_per_step``), the first for the
    discriminators' update and the others for two generator updates.

    Args:
        generator, discriminator, generator_ba, discriminator_a: see
            ``zoo.core.translation.TwoWayTranslation``.
        curriculum_iterations: iterations with the starting rate (10,000).
        starting_rate, default_rate: ``r`` during and after the curriculum.
        feature_matching: the share of feature matching in the generator's
            adversarial part (0.9; the GAN loss gets the rest).
        **kwargs: the remaining ``zoo.core.adversarial.GAN`` arguments.
    """

    network_classes = {
        "generator": DiscoGenerator,
        "discriminator": DiscoDiscriminator,
        "generator_ba": DiscoGenerator,
        "discriminator_a": DiscoDiscriminator,
    }
    # The GAN's Adam(2e-4, beta_1=0.5) for both optimizers, as the released code.
    default_training = {
        **TwoWayTranslation.default_training,
        "dataset": "emoji:google,twitter",
        "batch_size": 64,
        "epochs": 50,
    }

    def __init__(
        self,
        generator,
        discriminator,
        generator_ba,
        discriminator_a,
        curriculum_iterations=CURRICULUM_ITERATIONS,
        starting_rate=STARTING_RATE,
        default_rate=DEFAULT_RATE,
        feature_matching=0.9,
        **kwargs,
    ):
        super().__init__(generator, discriminator, generator_ba, discriminator_a, **kwargs)
        self.curriculum_iterations = int(curriculum_iterations)
        self.starting_rate = float(starting_rate)
        self.default_rate = float(default_rate)
        self.feature_matching = float(feature_matching)

    @property
    def real_batches_per_step(self):
        return UPDATE_INTERVAL

    def optimizer_variables(self):
        """One optimizer for both generators, one for both discriminators."""
        return {
            "g_optimizer": self.generator.trainable_variables + self.generator_ba.trainable_variables,
            "d_optimizer": self.discriminator.trainable_variables + self.discriminator_a.trainable_variables,
        }

    def metric_names(self):
        return ["d_loss", "g_loss", "feature_matching", "reconstruction", "rate"]

    def reconstruction_rate(self, iteration):
        """``r`` at an iteration (a tensor): the curriculum's, then the default."""
        return ops.where(
            iteration < self.curriculum_iterations, self.starting_rate, self.default_rate
        )

    def _discriminate(self, network, images):
        outputs = network(images, training=True)
        return outputs["logits"], outputs["features"]

    def discriminator_update(self, a, b):
        fake_b = self.generator(a, training=True)
        fake_a = self.generator_ba(b, training=True)

        def objective():
            total = 0.0
            for network, real, fake in ((self.discriminator, b, fake_b), (self.discriminator_a, a, fake_a)):
                real_logits, _ = self._discriminate(network, real)
                fake_logits, _ = self._discriminate(network, fake)
                # 1/2 BCE(real, 1) + 1/2 BCE(fake, 0).
                total = total + 0.5 * losses.minimax_discriminator_loss(real_logits, fake_logits)
            loss = self.reduce_loss(total) + self.regularization_loss(self.discriminator, self.discriminator_a)
            return loss, {"d_loss": ops.mean(total)}

        return self.apply_update("d_optimizer", objective)

    def generator_update(self, a, b, iteration):
        rate = self.reconstruction_rate(iteration)

        def objective():
            fake_b = self.generator(a, training=True)
            fake_a = self.generator_ba(b, training=True)
            total = 0.0
            adversarial, matching, reconstruction = 0.0, 0.0, 0.0
            for network, real, fake, source, back in (
                (self.discriminator, b, fake_b, a, self.generator_ba),
                (self.discriminator_a, a, fake_a, b, self.generator),
            ):
                _, real_features = self._discriminate(network, real)
                fake_logits, fake_features = self._discriminate(network, fake)
                gan = losses.non_saturating_generator_loss(fake_logits)
                fm = feature_matching_loss(real_features, fake_features)
                recon = losses.mean_squared_error(back(fake, training=True), source)
                part = (1.0 - self.feature_matching) * gan + self.feature_matching * fm
                total = total + (1.0 - rate) * part + rate * recon
                adversarial, matching, reconstruction = adversarial + gan, matching + fm, reconstruction + recon
            loss = self.reduce_loss(total) + self.regularization_loss(self.generator, self.generator_ba)
            return loss, {
                "g_loss": ops.mean(adversarial),
                "feature_matching": ops.mean(matching),
                "reconstruction": ops.mean(reconstruction),
                "rate": rate,
            }

        reports = self.apply_update("g_optimizer", objective)
        self.after_generator_step()
        return reports

    def training_updates(self, data):
        b, a = self.unpack_batch(data)
        b, a = ops.cast(b, self.compute_dtype), ops.cast(a, self.compute_dtype)
        message = (
            f"DiscoGAN reads {UPDATE_INTERVAL} real batches per train step, as "
            f"[batch, {UPDATE_INTERVAL}, H, W, C] (zoo.data.translation.make_unpaired_stream"
            f"(..., group={UPDATE_INTERVAL})); got shape "
        )
        if b.shape.rank is None:  # a retrace with relaxed shapes: check when it runs
            check = tf.debugging.assert_equal(tf.rank(b), 5, message=message + "of another rank")
            with tf.control_dependencies([check]):
                b, a = tf.identity(b), tf.identity(a)
            b.set_shape([None] * 5)
            a.set_shape([None] * 5)
        if len(b.shape) != 5 or b.shape[1] not in (None, UPDATE_INTERVAL):
            raise ConfigError(message + f"{tuple(b.shape)}.")
        # Iterations of the released code: three per train step.
        first = self.step_counter * UPDATE_INTERVAL
        results = self.discriminator_update(a[:, 0], b[:, 0])
        for k in (1, 2):
            results.update(self.generator_update(a[:, k], b[:, k], first + k))
        return results

    def get_config(self):
        return {
            **super().get_config(),
            "curriculum_iterations": self.curriculum_iterations,
            "starting_rate": self.starting_rate,
            "default_rate": self.default_rate,
            "feature_matching": self.feature_matching,
        }
