"""Image-to-image translation models: the parts pix2pix, CycleGAN and
DiscoGAN share.

* ``PairedTranslation``: a ``GAN`` whose generator maps a source image to a
  target image (an image condition, no noise), trained on ``(target,
  source)`` pairs (pix2pix).
* ``TwoWayTranslation``: two generators, A -> B (``generator``) and B -> A
  (``generator_ba``), and two discriminators, judging B (``discriminator``)
  and A (``discriminator_a``), trained on unpaired ``(domain B, domain A)``
  batches (CycleGAN, DiscoGAN).

Both translate with ``translate(images)`` (``direction="b_to_a"`` for the
second generator of a two-way model) and export SavedModels whose
signatures take images: ``serving_default`` (``images`` float32 in [-1, 1];
for a two-way model A -> B, also as ``a_to_b``, with ``b_to_a`` beside it)
and the same with ``images_uint8`` (uint8 in [0, 255], what a user has after
decoding a PNG) as ``<name>_uint8``. Each returns ``images`` and
``images_uint8``.

``sample_grid(source, target)`` lays out ``input | output | target`` rows
for TensorBoard and model cards.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from zoo.core.adversarial import GAN
from zoo.core.errors import ConfigError
from zoo.core.model import serving_outputs


def _check_images(images, shape, what):
    array = np.asarray(images, np.float32)
    if array.ndim != 4 or any(e is not None and e != a for e, a in zip(shape, array.shape[1:])):
        raise ConfigError(
            f"{what} must be [batch, {', '.join(str(d) for d in shape)}] in [-1, 1]; "
            f"got shape {array.shape}."
        )
    return array


def translation_signatures(functions, image_shape):
    """Signatures from ``{name: network}``: each network as ``<name>``
    (float32 ``images`` in [-1, 1]) and ``<name>_uint8`` (uint8 ``images``)."""
    float_spec = tf.TensorSpec((None,) + tuple(image_shape), tf.float32, name="images")
    uint8_spec = tf.TensorSpec((None,) + tuple(image_shape), tf.uint8, name="images")
    def float_signature(network):
        # A closure per network: a default argument would become an input.
        return tf.function(
            lambda images: serving_outputs(network(images, training=False)),
            input_signature=[float_spec],
        )

    def uint8_signature(network):
        return tf.function(
            lambda images: serving_outputs(
                network(tf.cast(images, tf.float32) / 127.5 - 1.0, training=False)
            ),
            input_signature=[uint8_spec],
        )

    signatures = {}
    for name, network in functions.items():
        signatures[name] = float_signature(network)
        signatures[f"{name}_uint8"] = uint8_signature(network)
    return signatures


class PairedTranslation(GAN):
    """A GAN translating source images to target images, trained on pairs."""

    data_kind = "paired"

    def translate(self, images, batch_size=64):
        """Translated images, float32 ``[N, H, W, C]`` in [-1, 1], of source
        images ``[N, H, W, C]`` in [-1, 1] (inference mode)."""
        return self.generate(condition=images, batch_size=batch_size)

    def sample_grid(self, source, target):
        """``[N, 3, H, W, C]``: each source, its translation, its target."""
        return np.stack([np.asarray(source), np.asarray(self.translate(source)), np.asarray(target)], axis=1)

    def export_signatures(self):
        return translation_signatures({"serving_default": self.export_network}, self.condition.image_shape)


class TwoWayTranslation(GAN):
    """Two generators and two discriminators between domains A and B,
    trained on unpaired ``(domain B, domain A)`` batches.

    Args:
        generator: A -> B (``source`` input: an A image).
        discriminator: judges B images.
        generator_ba: B -> A.
        discriminator_a: judges A images.
        **kwargs: the remaining ``zoo.core.adversarial.GAN`` arguments.
    """

    data_kind = "unpaired"

    def __init__(self, generator, discriminator, generator_ba, discriminator_a, **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        if self.latent_dim:
            raise ConfigError(f"{type(self).__name__}'s generators take images only, no noise.")
        self.generator_ba = generator_ba
        self.discriminator_a = discriminator_a
        self.create_moving_averages()

    def ema_network_names(self):
        return ["generator", "generator_ba"]

    @property
    def export_generator_ba(self):
        """B -> A as exported: its moving average with ``ema_decay``."""
        return self.ema_generator_ba if self.ema_decay is not None else self.generator_ba

    def translate(self, images, direction="a_to_b", batch_size=64):
        """Translated images, float32 ``[N, H, W, C]`` in [-1, 1]:
        ``direction="a_to_b"`` by ``generator``, ``"b_to_a"`` by
        ``generator_ba`` (inference mode, their averages with EMA)."""
        networks = {"a_to_b": self.export_generator, "b_to_a": self.export_generator_ba}
        if direction not in networks:
            raise ConfigError(f"direction must be 'a_to_b' or 'b_to_a', got {direction!r}.")
        network = networks[direction]
        images = _check_images(images, network.inputs[0].shape[1:], "images")
        outputs = [
            network(ops.convert_to_tensor(images[start : start + batch_size]), training=False)
            for start in range(0, len(images), batch_size)
        ]
        return ops.cast(ops.concatenate(outputs, axis=0), "float32")

    def generate(self, num_images=None, seed=None, *, condition=None, labels=None, batch_size=64):
        """``translate(condition)`` (A -> B): a two-way model has no noise."""
        if condition is None:
            raise ConfigError(f"{type(self).__name__} translates images: pass condition=images.")
        return self.translate(condition, batch_size=batch_size)

    def generate_from_noise(self, noise, condition=None, *, batch_size=64, labels=None, num_images=None):
        if noise is not None:
            raise ConfigError(f"{type(self).__name__}'s generators take no noise.")
        return self.translate(condition, batch_size=batch_size)

    def sample_grid(self, source, target, direction="a_to_b"):
        """``[N, 3, H, W, C]``: each source, its translation, and ``target``
        (the true counterpart where the data is paired, else another image
        of the target domain)."""
        translated = np.asarray(self.translate(source, direction))
        return np.stack([np.asarray(source), translated, np.asarray(target)], axis=1)

    def export_tracked(self):
        return [self.export_generator, self.export_generator_ba]

    def export_signatures(self):
        shape = self.condition.image_shape
        signatures = translation_signatures(
            {"a_to_b": self.export_generator, "b_to_a": self.export_generator_ba}, shape
        )
        serving = translation_signatures({"serving_default": self.export_generator}, shape)
        return {"serving_default": serving["serving_default"], **signatures}

    def export_metadata(self):
        return {**super().export_metadata(), "directions": ["a_to_b", "b_to_a"]}

    def get_config(self):
        return {
            **super().get_config(),
            "generator_ba": keras.saving.serialize_keras_object(self.generator_ba),
            "discriminator_a": keras.saving.serialize_keras_object(self.discriminator_a),
        }
