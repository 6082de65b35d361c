"""CycleGAN: Zhu, Park, Isola & Efros 2017, "Unpaired Image-to-Image
Translation using Cycle-Consistent Adversarial Networks" (ICCV 2017,
arXiv:1703.10593).

Two generators, ``G: A -> B`` (``generator``) and ``F: B -> A``
(``generator_ba``), and two discriminators, ``D_B`` (``discriminator``) and
``D_A`` (``discriminator_a``), trained on unpaired images of the two domains
with (eq. 3)

    L = L_GAN(G, D_B) + L_GAN(F, D_A) + lambda L_cyc(G, F)
    L_cyc = E ||F(G(a)) - a||_1 + E ||G(F(b)) - b||_1

and the identity term ``0.5 lambda (||G(b) - b||_1 + ||F(a) - a||_1)``
(section 5.2, "identity mapping loss"), ``lambda = 10``. The adversarial
losses are least squares (section 4, after Mao et al. 2017): the
generators minimise ``(D(G(a)) - 1)^2``, the discriminators
``1/2 [(D(b) - 1)^2 + D(G(a))^2]``; each discriminator is updated on a
history of the last 50 generated images (Shrivastava et al. 2017;
``zoo.core.history.ImageHistory``) rather than only the latest ones.

Networks (the paper's appendix 7.2, and the authors' released code):

* generator: ``c7s1-64, d128, d256, R256 x n, u128, u64, c7s1-3``: a 7x7
  convolution, two stride-2 3x3 convolutions down, ``n`` residual blocks
  (two 3x3 convolutions each), two stride-2 3x3 transposed convolutions up
  and a 7x7 convolution to the image with tanh; reflection padding, instance
  normalisation without scale or shift, ReLU. ``n = 6`` for 128x128 images
  and 9 for 256x256; the 64x64 preset uses 6, with half the paper's widths
  (32 filters first, 128 in the residual blocks) for a CPU budget.
* discriminator: the 70x70 PatchGAN of pix2pix (``zoo.models.pix2pix``)
  without the source input; at 64x64 the presets use the 16x16 patch, the
  same fraction of the image (see ``zoo.models.pix2pix``).

Training (section 7.1): Adam(2e-4, beta_1=0.5), the rate constant for the
first half of training and decaying linearly to zero over the second
(``zoo.core.optimizers.LinearDecay``), one generator update (both
generators, one optimizer) then one discriminator update (both
discriminators, one optimizer) per step. The paper's batch size is 1; the
presets use 8 for throughput on a CPU, with instance normalisation keeping
each image's normalisation its own.

Presets: the same emoji drawn by Google (A) and by Twitter (B), 64x64,
trained unpaired; the test split can be scored against the true
counterparts, which unpaired benchmarks do not have.
"""

import keras
import tensorflow as tf
from keras import ops

from zoo.core import layers, losses
from zoo.core import optimizers  # noqa: F401  (registers LinearDecay, which the presets name)
from zoo.core.errors import ConfigError
from zoo.core.history import ImageHistory
from zoo.core.networks import Network, square_image_shape
from zoo.core.registry import register
from zoo.core.translation import TwoWayTranslation
from zoo.models.pix2pix import PatchDiscriminator, weight_init


def _conv(filters, size, name, strides=1):
    return keras.layers.Conv2D(
        filters, size, strides=strides, padding="valid" if strides == 1 else "same",
        kernel_initializer=weight_init(), name=name,
    )


@keras.saving.register_keras_serializable(package="zoo")
class ResnetGenerator(Network):
    """CycleGAN's generator: ``source`` ``[batch, H, W, C]`` -> images
    ``[batch, H, W, C]`` in ``[-1, 1]`` (H, W multiples of 4).

    Args:
        image_shape: ``(H, W, C)``.
        base_filters: filters of the first layer (64); the residual blocks
            work at 4x that.
        residual_blocks: ``n`` (6 for 128x128 images, 9 for 256x256).
    """

    def __init__(self, image_shape=(64, 64, 3), base_filters=64, residual_blocks=6, **kwargs):
        image_shape = square_image_shape(image_shape, "The ResNet generator")
        if image_shape[0] % 4:
            raise ConfigError(f"The ResNet generator halves the image twice: its size must be a multiple of 4; got {image_shape[0]}.")

        def norm(name):
            return layers.instance_norm(name=name, affine=False)

        source = keras.Input(image_shape, name="source")
        x = layers.ReflectionPadding2D(3)(source)
        x = keras.layers.ReLU()(norm("c7s1_norm")(_conv(base_filters, 7, "c7s1")(x)))
        for i, filters in enumerate((base_filters * 2, base_filters * 4)):
            x = _conv(filters, 3, f"down{i + 1}", strides=2)(x)
            x = keras.layers.ReLU()(norm(f"down{i + 1}_norm")(x))
        for block in range(residual_blocks):
            y = layers.ReflectionPadding2D(1)(x)
            y = keras.layers.ReLU()(norm(f"res{block + 1}a_norm")(_conv(base_filters * 4, 3, f"res{block + 1}a")(y)))
            y = layers.ReflectionPadding2D(1)(y)
            y = norm(f"res{block + 1}b_norm")(_conv(base_filters * 4, 3, f"res{block + 1}b")(y))
            x = keras.layers.Add(name=f"res{block + 1}")([x, y])
        for i, filters in enumerate((base_filters * 2, base_filters)):
            x = keras.layers.Conv2DTranspose(
                filters, 3, strides=2, padding="same", kernel_initializer=weight_init(), name=f"up{i + 1}"
            )(x)
            x = keras.layers.ReLU()(norm(f"up{i + 1}_norm")(x))
        x = _conv(image_shape[-1], 7, "to_image")(layers.ReflectionPadding2D(3)(x))
        images = keras.layers.Activation("tanh", dtype="float32", name="images")(x)
        super().__init__(inputs=source, outputs=images, **kwargs)
        self.image_shape = image_shape
        self.base_filters = base_filters
        self.residual_blocks = residual_blocks


# At 64x64 the emoji preset halves the paper's widths (32 filters in the
# first layer instead of 64): a quarter of the residual blocks' cost, which
# makes a run of a few epochs fit a CPU budget.
EMOJI_PRESET = {
    "image_shape": (64, 64, 3),
    "generator": {"base_filters": 32},
    "generator_ba": {"base_filters": 32},
    "discriminator": {"conditional": False, "stride2_layers": 1, "base_filters": 32},
    "discriminator_a": {"conditional": False, "stride2_layers": 1, "base_filters": 32},
}

PRESETS = {
    "cyclegan_emoji": {
        "description": "Google (A) <-> Twitter (B) emoji, 64x64, unpaired: ResNet generators "
        "with 6 blocks and half the paper's widths, 16x16 PatchGANs, lambda_cyc 10, "
        "identity 5, 50-image histories.",
        **EMOJI_PRESET,
    },
}


def _adam_with_decay():
    schedule = {
        "class_name": "LinearDecay",
        "module": None,
        "registered_name": "zoo>LinearDecay",
        "config": {"initial_learning_rate": 2e-4, "total_steps": None, "decay_start_fraction": 0.5},
    }
    return optimizers.adam(schedule, beta_1=0.5)


@register("cyclegan", presets=PRESETS)
@keras.saving.register_keras_serializable(package="zoo")
class CycleGAN(TwoWayTranslation):
    """CycleGAN (Zhu et al. 2017); batches are ``(domain B, domain A)``.

    Args:
        generator, discriminator, generator_ba, discriminator_a: see
            ``zoo.core.translation.TwoWayTranslation``.
        cycle_weight: ``lambda`` (10).
        identity_weight: the identity term's weight relative to
            ``lambda`` (0.5; 0 turns it off).
        history_size: generated images each discriminator keeps (50).
        **kwargs: the remaining ``zoo.core.adversarial.GAN`` arguments.
    """

    network_classes = {
        "generator": ResnetGenerator,
        "discriminator": PatchDiscriminator,
        "generator_ba": ResnetGenerator,
        "discriminator_a": PatchDiscriminator,
    }
    default_training = {
        "dataset": "emoji:google,twitter",
        "batch_size": 8,
        "epochs": 20,
        "g_optimizer": _adam_with_decay(),
        "d_optimizer": _adam_with_decay(),
    }

    def __init__(
        self,
        generator,
        discriminator,
        generator_ba,
        discriminator_a,
        cycle_weight=10.0,
        identity_weight=0.5,
        history_size=50,
        **kwargs,
    ):
        kwargs.setdefault("adversarial_loss", "least_squares")
        super().__init__(generator, discriminator, generator_ba, discriminator_a, **kwargs)
        self.cycle_weight = float(cycle_weight)
        self.identity_weight = float(identity_weight)
        self.history_size = int(history_size)
        shape = tuple(generator.output_shape[1:])
        self.history_a = ImageHistory(shape, history_size, name="history_a")
        self.history_b = ImageHistory(shape, history_size, name="history_b")

    def optimizer_variables(self):
        """One optimizer for both generators, one for both discriminators,
        as the authors' code."""
        return {
            "g_optimizer": self.generator.trainable_variables + self.generator_ba.trainable_variables,
            "d_optimizer": self.discriminator.trainable_variables + self.discriminator_a.trainable_variables,
        }

    def metric_names(self):
        return ["g_loss", "cycle", "identity", "d_loss"]

    def training_updates(self, data):
        b, a = self.unpack_batch(data)
        b, a = ops.cast(b, self.compute_dtype), ops.cast(a, self.compute_dtype)

        def generators():
            fake_b = self.generator(a, training=True)
            fake_a = self.generator_ba(b, training=True)
            # Least squares, generator side: (D(G(a)) - 1)^2, mean over patches.
            adversarial = losses.mean_squared_error(
                self.discriminator(fake_b, training=True), 1.0
            ) + losses.mean_squared_error(self.discriminator_a(fake_a, training=True), 1.0)
            cycle = losses.mean_absolute_error(self.generator_ba(fake_b, training=True), a)
            cycle += losses.mean_absolute_error(self.generator(fake_a, training=True), b)
            total = adversarial + self.cycle_weight * cycle
            identity = ops.zeros_like(cycle)
            if self.identity_weight:
                identity = losses.mean_absolute_error(self.generator(b, training=True), b)
                identity += losses.mean_absolute_error(self.generator_ba(a, training=True), a)
                total += self.identity_weight * self.cycle_weight * identity
            loss = self.reduce_loss(total) + self.regularization_loss(self.generator, self.generator_ba)
            return loss, {
                "g_loss": ops.mean(adversarial), "cycle": ops.mean(cycle),
                "identity": ops.mean(identity), "fakes": (fake_a, fake_b),
            }

        reports = self.apply_update("g_optimizer", generators)
        fake_a, fake_b = reports.pop("fakes")
        self.after_generator_step()
        # The same draws on every replica: the histories stay identical.
        seed = self.next_seed(per_replica=False)
        fake_b = self.history_b.query(fake_b, seed)
        fake_a = self.history_a.query(fake_a, tf.random.experimental.stateless_fold_in(seed, 1))

        def discriminators():
            # 1/2 [(D(b) - 1)^2 + D(G(a))^2] for each discriminator.
            loss_b = losses.least_squares_discriminator_loss(
                self.discriminator(b, training=True), self.discriminator(fake_b, training=True)
            )
            loss_a = losses.least_squares_discriminator_loss(
                self.discriminator_a(a, training=True), self.discriminator_a(fake_a, training=True)
            )
            loss = self.reduce_loss(loss_a + loss_b) + self.regularization_loss(
                self.discriminator, self.discriminator_a
            )
            return loss, {"d_loss": ops.mean(loss_a + loss_b)}

        reports.update(self.apply_update("d_optimizer", discriminators))
        return reports

    def get_config(self):
        return {
            **super().get_config(),
            "cycle_weight": self.cycle_weight,
            "identity_weight": self.identity_weight,
            "history_size": self.history_size,
        }
