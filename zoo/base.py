"""The base adversarial model every architecture in the zoo extends.

``GAN`` owns a generator, a discriminator, the latent size and a
``keras.random.SeedGenerator``, and implements ``train_step`` as a template:

    for each of d_steps:   discriminator_step(real, labels)
    generator_step(batch_size, labels)

with hooks an architecture overrides: ``discriminator_loss``,
``generator_loss``, ``discriminator_penalty``, ``after_discriminator_step``,
``after_generator_step``, ``generate_images``, ``discriminate`` and
``sample_latent``. It trains with plain ``compile()``/``fit()`` under any
``tf.distribute`` strategy: losses are reduced over the *global* batch
(gradients are summed across replicas), the optimizers are built in
``compile``, and every replica draws different noise.
"""

import keras
import tensorflow as tf
from keras import ops

from zoo import losses as losses_lib


def _replica_id():
    """This replica's index in its sync group (0 outside ``strategy.run``)."""
    context = tf.distribute.get_replica_context()
    if context is None:  # cross-replica context
        return 0
    return context.replica_id_in_sync_group


def _num_replicas():
    return tf.distribute.get_strategy().num_replicas_in_sync


def noise_for_seed(num, latent_dim, seed):
    """Deterministic standard-normal noise ``[num, latent_dim]`` for an int seed.

    Used for fixed sample grids and for ``generate(seed=...)``: the same seed
    gives the same noise in any process, on any device.
    """
    return tf.random.stateless_normal((num, latent_dim), seed=[int(seed), 0])


@keras.saving.register_keras_serializable(package="zoo")
class GAN(keras.Model):
    """Generative adversarial network: the base model of the zoo.

    Args:
        generator: ``keras.Model``, noise ``[batch, latent_dim]`` -> images
            ``[batch, H, W, C]`` in ``[-1, 1]``.
        discriminator: ``keras.Model``, images -> logits ``[batch, ...]``.
        latent_dim: size of the noise vector; defaults to
            ``generator.latent_dim``.
        d_steps: discriminator updates per generator update (``n_critic`` in
            the WGAN papers). Each uses the same real batch and fresh noise.
        adversarial_loss: a name from ``zoo.losses.LOSSES``: ``"minimax"``
            (Goodfellow et al. 2014, saturating), ``"non_saturating"``,
            ``"least_squares"``, ``"wasserstein"`` or ``"hinge"``.
        seed: seed of the model's noise stream (``None``: random).
    """

    architecture = "gan"
    # Conditional models train on (images, labels) and generate from labels.
    conditional = False
    # Set by each architecture: the network classes ``from_preset`` builds,
    # and its presets, each holding only what differs from the defaults:
    # ``{"description", "image_shape", "generator": {...},
    #    "discriminator": {...}, "model": {...}, "training": {...}}``.
    generator_class = None
    discriminator_class = None
    presets = {}
    # Training hyperparameters a recipe uses when a preset does not say:
    # the DCGAN paper's Adam(2e-4, beta_1=0.5) and batch 128.
    default_training = {
        "dataset": "mnist",
        "batch_size": 128,
        "epochs": 25,
        "d_optimizer": {"class_name": "Adam", "config": {"learning_rate": 2e-4, "beta_1": 0.5}},
        "g_optimizer": {"class_name": "Adam", "config": {"learning_rate": 2e-4, "beta_1": 0.5}},
    }

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim=None,
        d_steps=1,
        adversarial_loss="non_saturating",
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if d_steps < 1:
            raise ValueError(f"d_steps must be >= 1, got {d_steps}.")
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim or generator.latent_dim)
        self.d_steps = int(d_steps)
        self.adversarial_loss = adversarial_loss
        self._discriminator_loss_fn, self._generator_loss_fn = losses_lib.get(
            adversarial_loss
        )
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {
            name: keras.metrics.Mean(name=name) for name in self.metric_names()
        }
        # The sub-models are Functional, hence built; marking the model built
        # lets strategies and saving see its variables before fit().
        self.built = True

    # --- Presets -----------------------------------------------------------

    @classmethod
    def preset_config(cls, name):
        """The full configuration of preset ``name``, defaults filled in."""
        if name not in cls.presets:
            raise ValueError(
                f"Unknown preset {name!r} for {cls.__name__}; known presets: "
                f"{', '.join(sorted(cls.presets))}."
            )
        preset = cls.presets[name]
        return {
            "description": preset.get("description", ""),
            "image_shape": tuple(preset["image_shape"]),
            "generator": dict(preset.get("generator", {})),
            "discriminator": dict(preset.get("discriminator", {})),
            "model": dict(preset.get("model", {})),
            "training": {**cls.default_training, **preset.get("training", {})},
        }

    @classmethod
    def from_preset(cls, name, **model_overrides):
        """Build the model of preset ``name`` (fresh weights).

        ``model_overrides`` replace constructor arguments of the model, e.g.
        ``seed=0``; ``generator=`` / ``discriminator=`` dicts update the
        networks' arguments.
        """
        preset = cls.preset_config(name)
        generator_args = {**preset["generator"], **model_overrides.pop("generator", {})}
        discriminator_args = {
            **preset["discriminator"],
            **model_overrides.pop("discriminator", {}),
        }
        generator = cls.generator_class(image_shape=preset["image_shape"], **generator_args)
        discriminator = cls.discriminator_class(
            image_shape=preset["image_shape"], **discriminator_args
        )
        return cls(
            generator=generator,
            discriminator=discriminator,
            **{**preset["model"], **model_overrides},
        )

    # --- Hooks an architecture overrides ---------------------------------

    def metric_names(self):
        """Names of the values ``train_step`` reports (one tracker each)."""
        return ["d_loss", "g_loss"]

    def sample_latent(self, batch_size):
        """Noise ``[batch_size, latent_dim]`` from the model's seed stream.

        The replica id is folded into the seed so that the replicas of a
        ``tf.distribute`` strategy draw different noise.
        """
        seed = tf.cast(self.seed_generator.next(), tf.int64)
        seed = tf.random.experimental.stateless_fold_in(seed, _replica_id())
        return tf.random.stateless_normal((batch_size, self.latent_dim), seed=seed)

    def generate_images(self, noise, labels=None, training=False):
        """The generator's images for ``noise`` (conditional models use labels)."""
        return self.generator(noise, training=training)

    def discriminate(self, images, labels=None, training=False):
        """The discriminator's float32 logits for ``images``."""
        return ops.cast(self.discriminator(images, training=training), "float32")

    def discriminator_loss(self, real_logits, fake_logits):
        """Per-example discriminator loss ``[batch]``."""
        return self._discriminator_loss_fn(real_logits, fake_logits)

    def generator_loss(self, fake_logits):
        """Per-example generator loss ``[batch]``."""
        return self._generator_loss_fn(fake_logits)

    def discriminator_penalty(self, real, fake, labels=None):
        """Extra per-example discriminator terms, as a dict ``name -> [batch]``.

        Each is added to the loss and reported under its name (it must be in
        ``metric_names``). The base GAN has none; WGAN-GP adds its gradient
        penalty here.
        """
        return {}

    def after_discriminator_step(self):
        """Runs after each discriminator update (WGAN clips weights here)."""

    def after_generator_step(self):
        """Runs after each generator update (EMA of weights goes here)."""

    # --- Training ----------------------------------------------------------

    def compile(
        self,
        d_optimizer=None,
        g_optimizer=None,
        jit_compile=False,
        steps_per_execution=1,
        **kwargs,
    ):
        """Set and build both players' optimizers.

        Args:
            d_optimizer: discriminator optimizer; default Adam(2e-4, 0.5),
                the DCGAN paper's setting.
            g_optimizer: generator optimizer; same default.
            jit_compile: compile the train step with XLA. Off by default:
                on CPU with oneDNN it is slower (see ``bench/train_step.py``).
            steps_per_execution: train steps per ``tf.function`` call.
        """
        super().compile(
            jit_compile=jit_compile, steps_per_execution=steps_per_execution, **kwargs
        )
        d_optimizer = d_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        g_optimizer = g_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        if keras.mixed_precision.global_policy().name == "mixed_float16":
            # float16 gradients underflow without loss scaling.
            d_optimizer = _loss_scaled(d_optimizer)
            g_optimizer = _loss_scaled(g_optimizer)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        # Building here, inside the strategy scope that compile() runs in,
        # creates the slot variables as distributed variables up front.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    @property
    def metrics(self):
        return list(self.trackers.values())

    @property
    def step(self):
        """Generator updates done so far: the global training step."""
        return self.g_optimizer.iterations

    def reduce_loss(self, per_example_loss):
        """Mean over the global batch of a ``[batch]`` loss.

        Gradients are summed across replicas, so each replica divides by the
        global batch size: N replicas then give the same update as one replica
        with the whole batch.
        """
        per_example_loss = ops.cast(per_example_loss, "float32")
        global_batch = ops.cast(ops.shape(per_example_loss)[0], "float32") * float(
            _num_replicas()
        )
        return ops.sum(per_example_loss) / global_batch

    def _regularization_loss(self, network):
        if not network.losses:
            return 0.0
        return ops.add_n([ops.cast(x, "float32") for x in network.losses]) / float(
            _num_replicas()
        )

    def _apply(self, optimizer, loss, tape, variables):
        gradients = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(gradients, variables))

    def discriminator_step(self, real, labels=None):
        """One discriminator update; returns the values it reports."""
        batch_size = ops.shape(real)[0]
        noise = self.sample_latent(batch_size)
        fake = self.generate_images(noise, labels, training=True)
        variables = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            real_logits = self.discriminate(real, labels, training=True)
            fake_logits = self.discriminate(fake, labels, training=True)
            per_example = self.discriminator_loss(real_logits, fake_logits)
            penalties = self.discriminator_penalty(real, fake, labels)
            total = per_example
            for value in penalties.values():
                total = total + value
            loss = self.reduce_loss(total) + self._regularization_loss(
                self.discriminator
            )
            scaled_loss = self.d_optimizer.scale_loss(loss)
        self._apply(self.d_optimizer, scaled_loss, tape, variables)
        self.after_discriminator_step()
        results = {"d_loss": ops.mean(per_example)}
        results.update({name: ops.mean(v) for name, v in penalties.items()})
        return results

    def generator_step(self, batch_size, labels=None):
        """One generator update; returns the values it reports."""
        noise = self.sample_latent(batch_size)
        variables = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            fake = self.generate_images(noise, labels, training=True)
            fake_logits = self.discriminate(fake, labels, training=True)
            per_example = self.generator_loss(fake_logits)
            loss = self.reduce_loss(per_example) + self._regularization_loss(
                self.generator
            )
            scaled_loss = self.g_optimizer.scale_loss(loss)
        self._apply(self.g_optimizer, scaled_loss, tape, variables)
        self.after_generator_step()
        return {"g_loss": ops.mean(per_example)}

    @staticmethod
    def unpack_batch(data):
        """``images`` or ``(images, labels)`` -> ``(images, labels or None)``."""
        if isinstance(data, (tuple, list)):
            images = data[0]
            labels = data[1] if len(data) > 1 else None
        elif isinstance(data, dict):
            images, labels = data["images"], data.get("labels")
        else:
            images, labels = data, None
        return images, labels

    def train_step(self, data):
        real, labels = self.unpack_batch(data)
        real = ops.cast(real, self.compute_dtype)
        batch_size = ops.shape(real)[0]
        results = {}
        for _ in range(self.d_steps):
            results.update(self.discriminator_step(real, labels))
        results.update(self.generator_step(batch_size, labels))
        for name, value in results.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    # --- Inference ---------------------------------------------------------

    @property
    def export_generator(self):
        """The generator to save and serve (EMA models return the average)."""
        return self.generator

    def call(self, noise, training=False):
        return self.export_generator(noise, training=training)

    def generate(self, num_images, seed=None, labels=None, batch_size=256):
        """``num_images`` samples, float32 ``[num_images, H, W, C]`` in [-1, 1].

        With an int ``seed`` the noise is ``noise_for_seed(num_images, ...)``
        and the result is reproducible; without one, noise comes from the
        model's own stream.
        """
        if seed is None:
            noise = self.sample_latent(num_images)
        else:
            noise = noise_for_seed(num_images, self.latent_dim, seed)
        return self.generate_from_noise(noise, labels, batch_size)

    def generate_from_noise(self, noise, labels=None, batch_size=256):
        """Generator output for given noise, in batches, inference mode."""
        generator = self.export_generator
        outputs = []
        for start in range(0, int(noise.shape[0]), batch_size):
            chunk = noise[start : start + batch_size]
            if labels is None:
                outputs.append(generator(chunk, training=False))
            else:
                chunk_labels = labels[start : start + batch_size]
                outputs.append(
                    generator({"noise": chunk, "labels": chunk_labels}, training=False)
                )
        return ops.cast(ops.concatenate(outputs, axis=0), "float32")

    # --- Serialisation -----------------------------------------------------

    def get_config(self):
        return {
            "name": self.name,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "latent_dim": self.latent_dim,
            "d_steps": self.d_steps,
            "adversarial_loss": self.adversarial_loss,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


def _loss_scaled(optimizer):
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer
    return keras.optimizers.LossScaleOptimizer(optimizer)
