"""``TextToImageGAN``: the GAN a caption conditions, with its own text encoder.

Shared by Reed et al. 2016 (GAN-CLS, GAN-INT-CLS; ``zoo.models.gan_cls``)
and StackGAN (``zoo.models.stackgan``). The model owns

* a character-level **text encoder** (``zoo.core.text.CharCNNRNN``) and the
  **image encoder** it is trained with (the symmetric joint embedding of
  Reed et al. 2016, CVPR; ``embedding_loss``);
* a generator ``(noise, text_embedding) -> images`` and a discriminator
  ``(images, text_embedding) -> logits``.

Training batches are ``(images, {"tokens": int32 [batch, max_length],
"identity": int32 [batch]})`` (``zoo.data.captions.make_caption_stream``):
character ids of one caption per image, and which subject the image shows.
A run has phases (``zoo.core.phases``): first the text encoder (a phase
whose ``train`` names ``"text_encoder"``: the joint-embedding loss on
images and captions), then the GAN with the encoder frozen: captions are
encoded in inference mode with no gradient, and no GAN optimizer holds
the encoder's weights. A phase's ``train`` names one of ``phase_parts``
(anything else is an error); a model trained without phases trains the GAN
(StackGAN: stage I) on whatever encoder it holds.

The discriminator is matching-aware (GAN-CLS): real images with
mismatched captions (another example's of the global batch) count as
fake, at half weight with the generated ones. With ``interpolation``
(GAN-INT) the generator also learns from embeddings between two captions,
``beta t1 + (1 - beta) t2``, which the discriminator judges against the
same interpolated embedding.

Users give raw captions: ``generate(["a red apple", ...], seed=0)``; the
export network (``TextToImageGenerator``, what ``.keras`` holds) takes
character ids and has the same ``generate``; the SavedModel takes strings
(``text``) and tokenises them itself, so TF Serving needs no zoo.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from zoo.core import losses as losses_lib
from zoo.core import terms
from zoo.core.adversarial import GAN
from zoo.core.errors import ConfigError
from zoo.core.model import serving_outputs
from zoo.core.networks import Network, input_names, network_inputs
from zoo.core.optimizers import adam
from zoo.core.text import (
    EMBEDDING_LOSSES,
    check_captions,
    contrastive_embedding_loss,
    structured_hinge_embedding_loss,
    tokenize,
)


def _deserialized(value):
    return keras.saving.deserialize_keras_object(value) if isinstance(value, dict) else value


@keras.saving.register_keras_serializable(package="zoo")
class TextToImageGenerator(Network):
    """Captions to images: ``noise`` ``[batch, latent_dim]`` and ``tokens``
    (``zoo.core.text.tokenize``) -> images ``[batch, H, W, C]`` in [-1, 1].

    The text encoder and the generator of a text-to-image model, as one
    network: what ``.keras`` exports hold and ``keras.models.load_model``
    returns, with ``generate(captions, seed)``.

    Args:
        text_encoder: a ``CharCNNRNN`` (or its config).
        generator: ``(noise, text_embedding) -> images`` (or its config).
    """

    def __init__(self, text_encoder, generator, **kwargs):
        text_encoder, generator = _deserialized(text_encoder), _deserialized(generator)
        names = input_names(generator)
        latent_dim = int(generator.inputs[names.index("noise")].shape[-1])
        noise = keras.Input((latent_dim,), name="noise")
        tokens = keras.Input((text_encoder.max_length,), dtype="int32", name="tokens")
        embedding = text_encoder(tokens)
        images = generator(network_inputs(generator, noise=noise, text_embedding=embedding))
        super().__init__(inputs={"noise": noise, "tokens": tokens}, outputs=images, **kwargs)
        self.text_encoder = text_encoder
        self.generator = generator
        self.latent_dim = latent_dim
        self.max_length = int(text_encoder.max_length)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "text_encoder": keras.saving.serialize_keras_object(self.text_encoder),
            "generator": keras.saving.serialize_keras_object(self.generator),
        }

    def generate(self, captions, seed=None, batch_size=256):
        """Images for raw ``captions`` (one each), float32 ``[N, H, W, C]``
        in [-1, 1]. An int ``seed`` gives the noise ``TextToImageGAN.generate``
        and the SavedModel's ``sample`` use for it."""
        captions = check_captions(captions, self.max_length)
        if seed is None:
            seed = int(np.random.default_rng().integers(2**31 - 1))
        noise = tf.random.stateless_normal((len(captions), self.latent_dim), seed=[int(seed), 0])
        outputs = [
            self({"noise": noise[start:start + batch_size],
                  "tokens": tokenize(captions[start:start + batch_size], self.max_length)}, training=False)
            for start in range(0, len(captions), batch_size)
        ]
        return ops.cast(ops.concatenate(outputs, axis=0), "float32")


@keras.saving.register_keras_serializable(package="zoo")
class TextToImageGAN(GAN):
    """A GAN conditioned on captions through its own text encoder (module doc).

    Args:
        generator: ``noise`` and ``text_embedding`` -> images in [-1, 1].
        discriminator: ``images`` and ``text_embedding`` -> logits.
        text_encoder: ``zoo.core.text.CharCNNRNN``.
        image_encoder: ``zoo.core.text.ImageEncoder`` (the text encoder's
            training partner; also what R-precision scores with).
        interpolation: GAN-INT: the generator also trains on interpolated
            caption embeddings.
        interpolation_beta: ``beta`` of the interpolation (0.5 in the paper).
        interpolation_weight: weight of the interpolated term in the
            generator's loss.
        embedding_loss: the text encoder's training loss: ``"contrastive"``
            (default: the symmetric softmax over in-batch subjects on
            cosine similarities, ``zoo.core.text.contrastive_embedding_loss``)
            or ``"hinge"`` (the paper's structured hinge, which collapses
            when both encoders start from scratch; see
            ``structured_hinge_embedding_loss``).
        embedding_margin: the hinge's margin.
        embedding_temperature: the contrastive loss's temperature.
        **kwargs: ``GAN``'s (``adversarial_loss``, ``seed``, ``ema_decay``, ...).
    """

    data_kind = "captions"
    # What a phase may name in ``train``: the encoders' phase, or the GAN's.
    phase_parts = ("text_encoder", "gan")
    default_training = {
        **GAN.default_training,
        "dataset": "emoji",
        "batch_size": 64,
        "e_optimizer": adam(1e-3),
    }

    def __init__(self, generator, discriminator, text_encoder, image_encoder, interpolation=False,
                 interpolation_beta=0.5, interpolation_weight=1.0, embedding_loss="contrastive", embedding_margin=1.0,
                 embedding_temperature=0.1, **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        self.text_encoder = text_encoder
        self.image_encoder = image_encoder
        dims = {
            "text encoder": int(text_encoder.embedding_dim),
            "image encoder": int(image_encoder.embedding_dim),
            "generator's text_embedding input": int(self.condition.embedding_dim),
        }
        if len(set(dims.values())) != 1:
            raise ConfigError(
                "The text embedding must have one size everywhere; got "
                + ", ".join(f"{k} {v}" for k, v in dims.items()) + "."
            )
        if self.condition.kind != "text":
            raise ConfigError(f"{type(self).__name__}'s generator must take a text_embedding input.")
        if not 0.0 <= float(interpolation_beta) <= 1.0:
            raise ConfigError(f"interpolation_beta must be in [0, 1], got {interpolation_beta}.")
        self.interpolation = bool(interpolation)
        self.interpolation_beta = float(interpolation_beta)
        self.interpolation_weight = float(interpolation_weight)
        if embedding_loss not in EMBEDDING_LOSSES:
            raise ConfigError(
                f"Unknown embedding_loss {embedding_loss!r}; use one of {', '.join(EMBEDDING_LOSSES)}."
            )
        if float(embedding_temperature) <= 0:
            raise ConfigError(f"embedding_temperature must be > 0, got {embedding_temperature}.")
        self.embedding_loss = embedding_loss
        self.embedding_margin = float(embedding_margin)
        self.embedding_temperature = float(embedding_temperature)
        self._export_wrapper = None

    @property
    def max_length(self):
        """The longest caption the text encoder reads (characters)."""
        return self.text_encoder.max_length

    def optimizer_variables(self):
        return {
            **super().optimizer_variables(),
            "e_optimizer": self.text_encoder.trainable_variables + self.image_encoder.trainable_variables,
        }

    def metric_names(self):
        return ["embedding_loss"] + super().metric_names()

    def enter_phase(self, phase, start_step):
        if phase is not None and phase.train is not None:
            unknown = [name for name in phase.train if name not in self.phase_parts]
            if unknown or len(phase.train) != 1:
                raise ConfigError(
                    f"Phase {phase.name or '?'} of {type(self).__name__} trains {list(phase.train)}; "
                    f"name exactly one of {', '.join(self.phase_parts)}."
                )
        super().enter_phase(phase, start_step)

    @property
    def trains_text_encoder(self):
        """Whether the current phase trains the joint embedding (the
        encoders) rather than the GAN."""
        return self.phase is not None and self.phase.train is not None and "text_encoder" in self.phase.train

    # --- Captions to embeddings -------------------------------------------------

    def encode_tokens(self, tokens):
        """Frozen text embeddings ``[batch, embedding_dim]`` of character ids."""
        return ops.stop_gradient(self.text_encoder(ops.cast(tokens, "int32"), training=False))

    def encode_text(self, captions, batch_size=256):
        """Raw captions (checked) -> text embeddings ``[N, embedding_dim]``."""
        return self.text_encoder.encode(captions, batch_size=batch_size)

    def _as_embeddings(self, condition):
        """Captions (str / bytes, one or many) -> embeddings; embeddings pass."""
        if condition is None:
            return None
        if isinstance(condition, (str, bytes)):
            return self.encode_text([condition])
        if tf.is_tensor(condition):
            return self.encode_text(list(condition.numpy())) if condition.dtype == tf.string else condition
        if isinstance(condition, (list, tuple)):
            # Captions, or embeddings as nested lists; no captions is an error.
            if not condition or isinstance(condition[0], (str, bytes)):
                return self.encode_text(list(condition))
            return condition
        array = np.asarray(condition)
        if array.dtype.kind in "OUS":
            return self.encode_text(list(array.reshape(-1)))
        return condition

    # --- Training -----------------------------------------------------------------

    def unpack_captions(self, data):
        """``(images, {"tokens", "identity"})`` (or ``(images, tokens)``, or
        ``{"images": ..., "condition": ...}``, as ``GAN.split_batch``) ->
        ``(images, tokens, identity or None)``."""
        images, text = self.split_batch(data)
        if text is None:
            raise ConfigError(
                f"{type(self).__name__} trains on (images, captions) batches: "
                "zoo.data.captions.make_caption_stream yields them."
            )
        if isinstance(text, dict):
            return images, text["tokens"], text.get("identity")
        return images, text, None

    def embedding_objective(self, images, tokens, identity):
        """The joint-embedding loss of the encoders (``embedding_loss``)."""
        if identity is None:
            raise ConfigError(
                "Training the text encoder needs each image's subject: batches of "
                "(images, {'tokens': ..., 'identity': ...})."
            )
        image_embeddings = self.image_encoder(images, training=True)
        text_embeddings = self.text_encoder(ops.cast(tokens, "int32"), training=True)
        if self.embedding_loss == "hinge":
            per_example = structured_hinge_embedding_loss(
                image_embeddings, text_embeddings, identity, self.embedding_margin
            )
        else:
            per_example = contrastive_embedding_loss(
                image_embeddings, text_embeddings, identity, self.embedding_temperature
            )
        return self.reduce_loss(per_example), {"embedding_loss": ops.mean(per_example)}

    def training_updates(self, data):
        images, tokens, identity = self.unpack_captions(data)
        images = ops.cast(images, self.compute_dtype)
        if self.trains_text_encoder:
            return self.apply_update(
                "e_optimizer", lambda: self.embedding_objective(images, tokens, identity)
            )
        return super().training_updates((self.prepare_real(images), self.encode_tokens(tokens)))

    def prepare_real(self, images):
        """The real images the current phase's discriminator sees (StackGAN's
        stage I: downsampled); as they are here."""
        return images

    def discriminator_step_loss(self, real, condition, real_outputs, fake_outputs):
        # GAN-CLS: (real, right text) is real; (real, wrong text) and
        # (fake, right text) are fake, at half weight each.
        wrong_outputs = self.discriminate(real, self.condition.mismatched(condition), training=True)
        return losses_lib.matching_aware_discriminator_loss(
            self.discriminator_loss, real_outputs, wrong_outputs, fake_outputs
        )

    def generator_terms(self):
        if not self.interpolation:
            return []
        return [terms.LossTerm("interpolated", self._interpolated_loss, self.interpolation_weight)]

    def _interpolated_loss(self, t):
        """GAN-INT: the generator's loss on ``beta t1 + (1 - beta) t2``,
        ``t2`` another example's caption, with the step's noise."""
        beta = self.interpolation_beta
        mixed = beta * t.condition + (1.0 - beta) * self.condition.mismatched(t.condition)
        fake = self.generate_images(t.noise, mixed, training=True)
        outputs = self.discriminate(self.augment_images(fake), mixed, training=True)
        return self.generator_loss(outputs)

    # --- Inference and export -------------------------------------------------------

    def generate(self, captions=None, seed=None, *, condition=None, num_images=None, batch_size=256, labels=None):
        """Images for raw ``captions`` (a list of str, one image each),
        float32 ``[N, H, W, C]`` in [-1, 1]; an int ``seed`` makes them
        reproducible (the SavedModel's ``sample`` gives the same). The
        base's ``generate(num_images, seed, condition=embeddings or
        captions)`` also works."""
        if labels is not None:
            raise ConfigError(f"{type(self).__name__} is conditioned on captions, not labels.")
        if isinstance(captions, (int, np.integer)):
            num_images, captions = int(captions), None
        if captions is not None:
            if condition is not None:
                raise ConfigError("Pass captions or condition=, not both.")
            condition = captions
        if condition is None:
            raise ConfigError(f"{type(self).__name__}.generate needs captions, one per image.")
        return super().generate(
            num_images, seed, condition=self._as_embeddings(condition), batch_size=batch_size
        )

    def generate_from_noise(self, noise, condition=None, *, batch_size=256, labels=None, num_images=None):
        if labels is not None:
            raise ConfigError(f"{type(self).__name__} is conditioned on captions, not labels.")
        return super().generate_from_noise(
            noise, self._as_embeddings(condition), batch_size=batch_size, num_images=num_images
        )

    def caption_grid(self, captions, seed=0):
        """Sample-grid images ``[N, H, W, C]`` for ``captions`` (seed fixed)."""
        return self.generate(list(captions), seed=seed)

    def export_signatures(self):
        """``serving_default``: ``noise`` and ``text`` (raw UTF-8 strings) ->
        images; ``sample``: ``num_images``, ``seed`` and ``text`` -> images,
        equal to ``generate(captions, seed=seed)``. Captions are tokenised
        inside (an empty, too long or non-UTF-8 one fails with a message
        saying so)."""
        network = self.export_network
        text_spec = tf.TensorSpec([None], tf.string, name="text")
        noise_spec = tf.TensorSpec([None, self.latent_dim], tf.float32, name="noise")
        count_specs = [tf.TensorSpec([], tf.int32, name="num_images"), tf.TensorSpec([], tf.int32, name="seed")]

        def images(noise, text):
            tokens = tokenize(text, self.max_length)
            return serving_outputs(network({"noise": noise, "tokens": tokens}, training=False))

        def sample(num_images, seed, text):
            check = tf.debugging.assert_equal(
                tf.size(text), num_images, message="text: give one caption per image (num_images of them)"
            )
            with tf.control_dependencies([check]):
                noise = self.latent_for_seed(num_images, tf.stack([seed, 0]))
            return images(noise, text)

        return {
            "serving_default": tf.function(images, input_signature=[noise_spec, text_spec]),
            "sample": tf.function(sample, input_signature=count_specs + [text_spec]),
        }

    @property
    def export_network(self):
        """``TextToImageGenerator`` of the text encoder and the exported
        generator (sharing their weights)."""
        generator = self.export_generator
        if self._export_wrapper is None or self._export_wrapper.generator is not generator:
            self._export_wrapper = TextToImageGenerator(
                self.text_encoder, generator, name=f"{self.name}_text_to_image"
            )
        return self._export_wrapper

    def export_extra_networks(self):
        """Saved beside the generator: the image encoder, which R-precision
        scores generated images with (``zoo.metrics.text_to_image``)."""
        return {"image_encoder": self.image_encoder}

    def export_metadata(self):
        return {**super().export_metadata(), "max_caption_length": int(self.max_length)}

    def get_config(self):
        return {
            **super().get_config(),
            "text_encoder": keras.saving.serialize_keras_object(self.text_encoder),
            "image_encoder": keras.saving.serialize_keras_object(self.image_encoder),
            "interpolation": self.interpolation,
            "interpolation_beta": self.interpolation_beta,
            "interpolation_weight": self.interpolation_weight,
            "embedding_loss": self.embedding_loss,
            "embedding_margin": self.embedding_margin,
            "embedding_temperature": self.embedding_temperature,
        }
