"""Adversarial Autoencoder: Makhzani, Shlens, Jaitly, Goodfellow & Frey 2015,
"Adversarial Autoencoders" (arXiv:1511.05644).

An autoencoder whose code distribution is pushed to a prior ``p(z)`` by a GAN
played in latent space: the encoder ``q(z|x)`` is the GAN's generator of
codes, and a discriminator tells codes drawn from the prior ("real") from
codes of encoded images ("fake"). The decoder ``p(x|z)`` then maps the prior
to the data, so it is a generator: here it *is* the zoo's ``generator``
(``generate``, ``export`` and serving all use it: noise -> images).

Training (the paper's section 2) alternates, on every mini-batch,

1. the reconstruction phase: encoder and decoder minimise the reconstruction
   error ``||x - p(q(x))||^2``;
2. the regularisation phase: the latent discriminator is updated to tell
   prior samples from codes, then the encoder is updated to fool it.

Each update has its own optimizer: ``reconstruction_optimizer`` (encoder and
decoder), ``d_optimizer`` (latent discriminator) and ``g_optimizer`` (the
encoder as generator of codes).

The paper's MNIST setting (Appendix, likelihood experiments), used by the
``aae_mnist`` preset: encoder, decoder and discriminator each with two
hidden layers of 1000 ReLU units, a linear code layer, an 8-d code,
weights from N(0, 0.01), batch 100, Euclidean reconstruction cost. The
paper's decoder ends in a sigmoid on [0, 1] pixels; here it ends in tanh on
[-1, 1] pixels, the same function rescaled (``tanh(a) = 2 sigmoid(2a) - 1``).

Optimizers: the paper uses SGD with momentum 0.9, learning rate 0.01 for
the reconstruction and 0.1 for the regularisation phase. With this
initialisation that did not train in our runs (MNIST, batch 100): at 0.1 the
regularisation phase diverged within the first 100 steps (NaN codes), and at
0.01 for all three the codes collapsed to a point while the reconstruction
stalled at the mean image. The defaults are therefore Adam: 1e-3 for the
reconstruction, DCGAN's Adam(2e-4, beta_1=0.5) for both adversarial
updates, which reached code statistics near N(0, I) (mean 0.3, std 1.1)
within 300 steps. Pass SGD optimizers to ``compile`` for the paper's.

Priors: ``"normal"`` (N(0, I), the default) or ``"gaussian_mixture"``, the
paper's mixture of 10 Gaussians (its Figs. 2 and 4, on 2-d codes): the
component means lie evenly spaced on a circle of radius 4 in the first two
code dimensions, each component with standard deviation 0.5 in every
dimension (the paper shows the mixture but gives no parameters; these are
ours).
"""

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from zoo.core.adversarial import GAN
from zoo.core.errors import ConfigError
from zoo.core.networks import Network
from zoo.core.optimizers import adam
from zoo.core.registry import register


def weight_init():
    """The paper's initialiser: N(0, 0.01) for every weight."""
    return keras.initializers.RandomNormal(stddev=0.01)


def _hidden_layers(x, hidden_units):
    for i, units in enumerate(hidden_units):
        x = keras.layers.Dense(
            units, activation="relu", kernel_initializer=weight_init(), name=f"hidden{i + 1}"
        )(x)
    return x


@keras.saving.register_keras_serializable(package="zoo")
class AAEEncoder(Network):
    """Deterministic encoder ``q(z|x)``: images ``[batch, H, W, C]`` -> codes
    ``[batch, latent_dim]`` (float32, linear output).

    Args:
        image_shape: ``(H, W, C)`` of the input.
        latent_dim: size of the code (8 in the paper's MNIST experiment).
        hidden_units: widths of the ReLU hidden layers (1000, 1000 in the paper).
    """

    def __init__(self, image_shape=(28, 28, 1), latent_dim=8, hidden_units=(1000, 1000), **kwargs):
        image_shape = tuple(int(d) for d in image_shape)
        images = keras.Input(image_shape, name="images")
        x = _hidden_layers(keras.layers.Flatten()(images), hidden_units)
        codes = keras.layers.Dense(
            latent_dim, kernel_initializer=weight_init(), dtype="float32", name="codes"
        )(x)
        super().__init__(inputs=images, outputs=codes, **kwargs)
        self.image_shape = image_shape
        self.latent_dim = int(latent_dim)
        self.hidden_units = tuple(hidden_units)


@keras.saving.register_keras_serializable(package="zoo")
class AAEDecoder(Network):
    """Decoder ``p(x|z)``: codes ``[batch, latent_dim]`` -> images
    ``[batch, H, W, C]`` in ``[-1, 1]``.

    Its input is named "noise": as the AAE's generator it maps prior samples
    to images, and ``zoo.export`` serves it under that name.

    Args:
        image_shape: ``(H, W, C)`` of the output.
        latent_dim: size of the code.
        hidden_units: widths of the ReLU hidden layers (1000, 1000 in the paper).
    """

    def __init__(self, image_shape=(28, 28, 1), latent_dim=8, hidden_units=(1000, 1000), **kwargs):
        image_shape = tuple(int(d) for d in image_shape)
        codes = keras.Input((latent_dim,), name="noise")
        x = _hidden_layers(codes, hidden_units)
        x = keras.layers.Dense(
            math.prod(image_shape), kernel_initializer=weight_init(), name="pixels"
        )(x)
        x = keras.layers.Activation("tanh", dtype="float32")(x)
        images = keras.layers.Reshape(image_shape, dtype="float32", name="images")(x)
        super().__init__(inputs=codes, outputs=images, **kwargs)
        self.image_shape = image_shape
        self.latent_dim = int(latent_dim)
        self.hidden_units = tuple(hidden_units)


@keras.saving.register_keras_serializable(package="zoo")
class LatentDiscriminator(Network):
    """Discriminator on codes: ``[batch, latent_dim]`` -> logits ``[batch, 1]``,
    high for samples of the prior, low for encoded images.

    Args:
        latent_dim: size of the code.
        hidden_units: widths of the ReLU hidden layers (1000, 1000 in the paper).
    """

    def __init__(self, latent_dim=8, hidden_units=(1000, 1000), **kwargs):
        codes = keras.Input((latent_dim,), name="codes")
        x = _hidden_layers(codes, hidden_units)
        logits = keras.layers.Dense(
            1, kernel_initializer=weight_init(), dtype="float32", name="logits"
        )(x)
        super().__init__(inputs=codes, outputs=logits, **kwargs)
        self.latent_dim = int(latent_dim)
        self.hidden_units = tuple(hidden_units)


PRIORS = ("normal", "gaussian_mixture")
MIXTURE_RADIUS = 4.0
MIXTURE_STDDEV = 0.5


def mixture_means(num_components, latent_dim):
    """Means ``[num_components, latent_dim]`` of the Gaussian-mixture prior:
    evenly spaced on a circle of radius ``MIXTURE_RADIUS`` in the first two
    dimensions, zero in the others."""
    angles = 2.0 * np.pi * np.arange(num_components) / num_components
    means = np.zeros((num_components, latent_dim), np.float32)
    means[:, 0] = MIXTURE_RADIUS * np.cos(angles)
    means[:, 1] = MIXTURE_RADIUS * np.sin(angles)
    return means


def sample_prior(num, latent_dim, seed, prior="normal", num_components=10):
    """``num`` codes ``[num, latent_dim]`` float32 from the prior, stateless.

    Args:
        num: how many samples (a Python int or a scalar tensor).
        latent_dim: code size.
        seed: shape-``[2]`` int seed of ``tf.random.stateless_*``: the same
            seed gives the same samples. For ``"normal"`` the samples equal
            ``zoo.core.adversarial.noise_for_seed`` with seed ``[s, 0]``.
        prior: a name from ``PRIORS``.
        num_components: components of the ``"gaussian_mixture"`` prior.
    """
    normal = tf.random.stateless_normal(tf.stack([num, latent_dim]), seed=seed)
    if prior == "normal":
        return normal
    components = tf.random.stateless_uniform(
        (num,),
        seed=tf.random.experimental.stateless_fold_in(seed, 1),
        minval=0,
        maxval=num_components,
        dtype=tf.int32,
    )
    means = tf.gather(tf.constant(mixture_means(num_components, latent_dim)), components)
    return means + MIXTURE_STDDEV * normal


PRESETS = {
    "aae_mnist": {
        "description": "The paper's MNIST model: 784-1000-1000-8 encoder, "
        "mirrored decoder, 1000-1000 latent discriminator, N(0, I) prior.",
        "image_shape": (28, 28, 1),
        "model": {"latent_dim": 8},
    },
    "aae_mnist_mixture": {
        "description": "As aae_mnist with 2-d codes and the paper's mixture "
        "of 10 Gaussians as prior (its Fig. 4).",
        "image_shape": (28, 28, 1),
        "model": {"latent_dim": 2, "prior": "gaussian_mixture", "prior_components": 10},
    },
}


@register("aae", presets=PRESETS)
@keras.saving.register_keras_serializable(package="zoo")
class AAE(GAN):
    """Adversarial autoencoder (Makhzani et al. 2015).

    Args:
        generator: the decoder ``p(x|z)``, codes -> images (``AAEDecoder``).
        discriminator: the latent discriminator, codes -> logits.
        encoder: ``q(z|x)``, images -> codes ``[batch, latent_dim]``.
        prior: the code prior, a name from ``PRIORS``.
        prior_components: components of the ``"gaussian_mixture"`` prior.
        d_steps: latent-discriminator updates per encoder update in the
            regularisation phase (1 in the paper).
        adversarial_loss: as for ``zoo.core.adversarial.GAN``; the paper's is the
            original GAN loss, here with the non-saturating generator loss
            (the default).
        ema_decay: as for ``zoo.core.adversarial.GAN``: an average of the decoder, which
            ``decode``, ``generate`` and the export then use.
        Other arguments as for ``zoo.core.adversarial.GAN``, except ``augment`` and
        ``unrolled_steps`` (image-space techniques; rejected).
    """

    network_classes = {
        "generator": AAEDecoder,
        "discriminator": LatentDiscriminator,
        "encoder": AAEEncoder,
    }
    default_training = {
        "dataset": "mnist",
        "batch_size": 100,
        "epochs": 50,  # the paper does not say
        # Not the paper's SGD, which did not train here (see the module doc).
        "reconstruction_optimizer": adam(1e-3),
        "d_optimizer": adam(2e-4, beta_1=0.5),
        "g_optimizer": adam(2e-4, beta_1=0.5),
    }
    def __init__(
        self,
        generator,
        discriminator,
        encoder,
        prior="normal",
        prior_components=10,
        **kwargs,
    ):
        if prior not in PRIORS:
            raise ConfigError(f"Unknown prior {prior!r}; known priors: {', '.join(PRIORS)}.")
        if prior == "gaussian_mixture" and encoder.output.shape[-1] < 2:
            raise ConfigError("The gaussian_mixture prior needs codes of at least 2 dimensions.")
        sizes = {
            "encoder output": encoder.output.shape[-1],
            "decoder input": generator.input.shape[-1],
            "discriminator input": discriminator.input.shape[-1],
        }
        if len(set(sizes.values())) != 1:
            raise ConfigError(f"The code sizes must agree; got {sizes}.")
        super().__init__(generator, discriminator, **kwargs)
        if self.augment or self.unrolled_steps or self.fresh_real_batches:
            # All act on images before the discriminator, which here sees codes.
            raise ConfigError(
                "AAE supports neither augment, unrolled_steps nor "
                "fresh_real_batches: its discriminator judges codes, not images."
            )
        self.encoder = encoder
        self.prior = prior
        self.prior_components = int(prior_components)

    @property
    def decoder(self):
        """The decoder ``p(x|z)`` (the same network as ``generator``)."""
        return self.generator

    # --- Presets -----------------------------------------------------------

    @classmethod
    def network_defaults(cls, role, preset, model_args):
        """The model's ``latent_dim`` (default 8) sets the code size of all
        three networks."""
        defaults = super().network_defaults(role, preset, model_args)
        return {**defaults, "latent_dim": model_args.get("latent_dim") or 8}

    # --- Prior, encoding and decoding ----------------------------------------

    def metric_names(self):
        return ["reconstruction_loss", "d_loss", "g_loss"]

    def sample_latent(self, batch_size):
        """Codes ``[batch_size, latent_dim]`` from the prior, from the model's
        seed stream (different on every replica)."""
        seed = self.next_seed()
        return sample_prior(
            batch_size, self.latent_dim, seed, self.prior, self.prior_components
        )

    def latent_prior(self):
        """``{"name": prior}``, plus ``"components"`` for the mixture."""
        if self.prior == "gaussian_mixture":
            return {"name": self.prior, "components": self.prior_components}
        return {"name": self.prior}

    def latent_for_seed(self, num_images, seed):
        """Stateless prior codes ``[num_images, latent_dim]`` for a ``[2]``
        int seed (``sample_prior``): what ``generate(seed=...)`` decodes and
        the exported ``sample`` signature draws."""
        return sample_prior(
            num_images, self.latent_dim, seed, self.prior, self.prior_components
        )

    def encode(self, images, batch_size=256):
        """Codes float32 ``[N, latent_dim]`` of images ``[N, H, W, C]`` in
        ``[-1, 1]`` (inference mode, in batches)."""
        images = ops.convert_to_tensor(images)
        codes = [
            self.encoder(images[start : start + batch_size], training=False)
            for start in range(0, int(images.shape[0]), batch_size)
        ]
        return ops.cast(ops.concatenate(codes, axis=0), "float32")

    def decode(self, codes, batch_size=256):
        """Images float32 ``[N, H, W, C]`` in ``[-1, 1]`` of codes ``[N, latent_dim]``."""
        return self.generate_from_noise(ops.convert_to_tensor(codes), batch_size=batch_size)

    # --- Losses --------------------------------------------------------------

    def reconstruction_loss(self, images, reconstructed):
        """Per-example Euclidean cost ``||x - x_hat||^2`` (the paper's
        reconstruction phase): squared error summed over pixels, ``[batch]``."""
        error = ops.cast(reconstructed, "float32") - ops.cast(images, "float32")
        return ops.sum(ops.reshape(ops.square(error), (ops.shape(error)[0], -1)), axis=1)

    # --- Training ------------------------------------------------------------

    def optimizer_variables(self):
        """Three updates (see the module doc): ``reconstruction_optimizer``
        trains encoder and decoder, ``d_optimizer`` the latent discriminator,
        ``g_optimizer`` the encoder as the generator of codes."""
        return {
            "reconstruction_optimizer": (
                self.encoder.trainable_variables + self.generator.trainable_variables
            ),
            "d_optimizer": self.discriminator.trainable_variables,
            "g_optimizer": self.encoder.trainable_variables,
        }

    def compile(self, d_optimizer=None, g_optimizer=None, reconstruction_optimizer=None, **kwargs):
        """Set and build the three optimizers (defaults from
        ``default_training``: Adam(2e-4, beta_1=0.5) for ``d_optimizer`` and
        ``g_optimizer``, Adam(1e-3) for ``reconstruction_optimizer``)."""
        super().compile(
            d_optimizer=d_optimizer,
            g_optimizer=g_optimizer,
            reconstruction_optimizer=reconstruction_optimizer,
            **kwargs,
        )

    def reconstruction_step(self, images):
        """Reconstruction phase: one update of encoder and decoder on
        ``reconstruction_loss``; returns the values it reports."""

        def objective():
            codes = self.encoder(images, training=True)
            reconstructed = self.generator(codes, training=True)
            per_example = self.reconstruction_loss(images, reconstructed)
            loss = self.reduce_loss(per_example) + self.regularization_loss(
                self.encoder, self.generator
            )
            return loss, {"reconstruction_loss": ops.mean(per_example)}

        return self.apply_update("reconstruction_optimizer", objective)

    def discriminator_step(self, real, condition=None):
        """Regularisation phase, first half: one update of the latent
        discriminator, prior samples as "real" and codes of the images
        ``real`` as "fake"."""
        prior_codes = self.sample_latent(ops.shape(real)[0])
        codes = self.encoder(real, training=True)

        def objective():
            prior_logits = self.discriminate(prior_codes, training=True)
            code_logits = self.discriminate(codes, training=True)
            per_example = self.discriminator_loss(prior_logits, code_logits)
            loss = self.reduce_loss(per_example) + self.regularization_loss(self.discriminator)
            return loss, {"d_loss": ops.mean(per_example)}

        reports = self.apply_update("d_optimizer", objective)
        self.after_discriminator_step()
        return reports

    def encoder_step(self, images):
        """Regularisation phase, second half: one update of the encoder (the
        generator of codes) to make the discriminator call its codes prior
        samples."""

        def objective():
            codes = self.encoder(images, training=True)
            per_example = self.generator_loss(self.discriminate(codes, training=True))
            loss = self.reduce_loss(per_example) + self.regularization_loss(self.encoder)
            return loss, {"g_loss": ops.mean(per_example)}

        return self.apply_update("g_optimizer", objective)

    def discriminate(self, codes, condition=None, training=False):
        """The latent discriminator's float32 logits for codes."""
        return ops.cast(self.discriminator(codes, training=training), "float32")

    def generator_step(self, real, condition=None):
        raise NotImplementedError(
            "An AAE has no generator step on noise: its decoder trains in "
            "reconstruction_step and its encoder, the generator of codes, in "
            "encoder_step(images)."
        )

    def training_updates(self, data):
        images, _ = self.unpack_batch(data)
        images = ops.cast(images, self.compute_dtype)
        results = self.reconstruction_step(images)
        for _ in range(self.d_steps):
            results.update(self.discriminator_step(images))
        results.update(self.encoder_step(images))
        # The decoder (the generator) changed in this step: EMA and the like.
        self.after_generator_step()
        return results

    # --- Serialisation -------------------------------------------------------

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "prior": self.prior,
            "prior_components": self.prior_components,
        }
