"""The base adversarial model every architecture in the zoo extends.

``GAN`` owns a generator, a discriminator, the latent size and a
``keras.random.SeedGenerator``, and implements ``train_step`` as a template:

    for each of d_steps:   discriminator_step(real, labels)
    generator_step(batch_size, labels)

(``real`` is the step's real batch, or one of ``d_steps`` batches with
``fresh_real_batches``)

with hooks an architecture overrides: ``discriminator_loss``,
``generator_loss``, ``discriminator_penalty``, ``after_discriminator_step``,
``after_generator_step``, ``generate_images``, ``discriminate`` and
``sample_latent``. It trains with plain ``compile()``/``fit()`` under any
``tf.distribute`` strategy: losses are reduced over the *global* batch
(gradients are summed across replicas), the optimizers are built in
``compile``, and every replica draws different noise.

Stabilising techniques any architecture gets from constructor arguments
(all off by default):

* ``augment``: DiffAugment (Zhao et al. 2020) on real and generated images
  before the discriminator, in both players' steps (``zoo.augment``).
* ``ema_decay``: an exponential moving average of the generator's weights
  (Karras et al. 2018; Yazici et al. 2019), which is what gets exported.
* ``unrolled_steps``: the generator trains against the discriminator
  advanced that many steps ahead (Metz et al. 2016).

Spectral normalisation and minibatch discrimination are layers
(``zoo.layers``) that networks use.
"""

import keras
import tensorflow as tf
from keras import ops

from zoo import augment as augment_lib
from zoo import losses as losses_lib


def replica_id():
    """This replica's index in its sync group (0 outside ``strategy.run``)."""
    context = tf.distribute.get_replica_context()
    if context is None:  # cross-replica context
        return 0
    return context.replica_id_in_sync_group


def _num_replicas():
    return tf.distribute.get_strategy().num_replicas_in_sync


def _in_multi_worker_mode():
    """Whether the current strategy is a MultiWorkerMirroredStrategy with
    more than one worker (the case Keras reduces specially)."""
    strategy = tf.distribute.get_strategy()
    return isinstance(
        strategy, tf.distribute.MultiWorkerMirroredStrategy
    ) and strategy.extended._in_multi_worker_mode()


def _sum_over_replicas(values):
    """All-reduce (sum) a list of tensors across the replicas in sync.

    Differentiable: TensorFlow's gradient of a summing all-reduce is the
    summing all-reduce of the gradients.
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return values
    return context.all_reduce(tf.distribute.ReduceOp.SUM, values)


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
            the WGAN papers), each with fresh noise.
        fresh_real_batches: with ``d_steps > 1``, give each discriminator
            update its own real batch, as Algorithm 1 of the WGAN papers
            does; the input stream then yields ``d_steps`` batches per step,
            as ``[batch, d_steps, H, W, C]`` (labels ``[batch, d_steps]``):
            ``zoo.data.make_dataset(..., group=model.real_batches_per_step)``.
            False: every update of a step reuses the step's one real batch.
        adversarial_loss: a name from ``zoo.losses.LOSSES``: ``"minimax"``
            (Goodfellow et al. 2014, saturating), ``"non_saturating"``,
            ``"least_squares"``, ``"wasserstein"`` or ``"hinge"``.
        seed: seed of the model's noise stream (``None``: random).
        unrolled_steps: ``K``; with ``K > 0`` each generator update uses the
            discriminator advanced ``K`` steps on the current batch (Metz et
            al. 2016, "Unrolled Generative Adversarial Networks", eq. 6-7);
            the discriminator's own weights are not changed by it. See
            ``unrolled_discriminator``. Needs an SGD or Adam ``d_optimizer``.
        unrolled_second_order: with ``unrolled_steps``, differentiate the
            generator's loss through the unrolled updates (the paper's
            gradient, eq. 12, both terms); False drops the second term: the
            unrolled weights are constants, which is cheaper (no
            second-order derivatives).
        ema_decay: ``d``; keep ``ema_generator``, an exponential moving
            average ``ema <- d * ema + (1 - d) * w`` of the generator's
            weights after every generator update (Karras et al. 2018,
            "Progressive Growing of GANs", 0.999; Yazici et al. 2019, "The
            Unusual Effectiveness of Averaging in GAN Training"). It is what
            ``export_generator``, ``generate`` and sample grids use.
        augment: DiffAugment policy, e.g. ``"color,translation,cutout"``
            (Zhao et al. 2020; see ``zoo.augment``): applied to real and
            generated images before the discriminator in both steps.
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
        fresh_real_batches=False,
        adversarial_loss="non_saturating",
        seed=None,
        unrolled_steps=0,
        unrolled_second_order=True,
        ema_decay=None,
        augment=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if d_steps < 1:
            raise ValueError(f"d_steps must be >= 1, got {d_steps}.")
        if unrolled_steps < 0:
            raise ValueError(f"unrolled_steps must be >= 0, got {unrolled_steps}.")
        if ema_decay is not None and not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {ema_decay}.")
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim or generator.latent_dim)
        self.d_steps = int(d_steps)
        self.fresh_real_batches = bool(fresh_real_batches)
        self.adversarial_loss = adversarial_loss
        # None: the architecture overrides both loss hooks itself (EBGAN).
        self._discriminator_loss_fn, self._generator_loss_fn = (
            (None, None) if adversarial_loss is None else losses_lib.get(adversarial_loss)
        )
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.unrolled_steps = int(unrolled_steps)
        self.unrolled_second_order = bool(unrolled_second_order)
        self.augment = ",".join(augment_lib.parse_policy(augment)) or None
        self.ema_decay = None if ema_decay is None else float(ema_decay)
        # An attribute of the model, so its weights are saved and restored
        # with the model's (save_weights, checkpoints, .keras).
        self.ema_generator = None
        if self.ema_decay is not None:
            self.ema_generator = _averaged_copy(generator)
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
        seed = tf.random.experimental.stateless_fold_in(seed, replica_id())
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
        """Runs after each generator update: updates ``ema_generator``.

        An architecture overriding it calls ``super().after_generator_step()``.
        """
        if self.ema_generator is not None:
            self.update_ema()

    # --- Stabilising techniques --------------------------------------------

    def augment_images(self, images):
        """DiffAugment ``images`` with the ``augment`` policy (or return them).

        Each call takes a fresh seed from the model's stream; see
        ``zoo.augment`` for the policies and how replicas stay consistent.
        """
        if not self.augment:
            return images
        return augment_lib.diff_augment(images, self.augment, self.seed_generator.next())

    def update_ema(self):
        """``ema <- d * ema + (1 - d) * w`` for every float weight of the
        generator (batch-norm statistics included); others are copied."""
        decay = self.ema_decay
        for average, weight in zip(self.ema_generator.weights, self.generator.weights):
            if keras.backend.is_float_dtype(average.dtype):
                average.assign(decay * average + (1.0 - decay) * ops.cast(weight, average.dtype))
            else:
                average.assign(weight)

    def unrolled_discriminator(self, real, fake, labels=None):
        """The discriminator's trainable values after ``unrolled_steps``
        updates on ``real`` and ``fake`` (Metz et al. 2016, eq. 7), as tensors.

        Each unrolled step computes the discriminator's full loss (adversarial
        loss, penalties, regularisers) by re-applying the network with the
        current unrolled values (``keras.StatelessScope``), sums its gradient
        over replicas as the real step does, and applies a functional copy of
        ``d_optimizer``'s update (SGD or Adam, started from its current
        slots and step count), so the first unrolled step is exactly the
        update the discriminator would make on this batch. The same real and
        fake batch serve every step; each step draws fresh augmentations.
        Variables are never assigned: batch-norm statistics and spectral-norm
        vectors advanced while unrolling are thrown away. After each step the
        values go through ``constrain_discriminator_values``, the functional
        form of ``after_discriminator_step`` (WGAN's weight clipping).

        Differentiable in ``fake`` (and through it in the generator's
        weights) when called under a tape that records it.

        Returns:
            List of tensors, one per ``discriminator.trainable_variables``.
        """
        variables = self.discriminator.trainable_variables
        values = [tf.convert_to_tensor(v) for v in variables]
        updates = _FunctionalUpdate(self.d_optimizer, variables)
        for _ in range(self.unrolled_steps):
            real_in = self.augment_images(real)
            fake_in = self.augment_images(fake)
            with tf.GradientTape() as tape:
                tape.watch(values)
                with _values_of(variables, values):
                    real_logits = self.discriminate(real_in, labels, training=True)
                    fake_logits = self.discriminate(fake_in, labels, training=True)
                    total = self.discriminator_loss(real_logits, fake_logits)
                    for value in self.discriminator_penalty(real_in, fake_in, labels).values():
                        total = total + value
                    loss = self.reduce_loss(total) + self._regularization_loss(
                        self.discriminator
                    )
            gradients = tape.gradient(loss, values)
            gradients = [
                ops.zeros_like(v) if g is None else g for g, v in zip(gradients, values)
            ]
            values = updates.step(values, _sum_over_replicas(gradients))
            values = self.constrain_discriminator_values(values)
        return values

    def constrain_discriminator_values(self, values):
        """What ``after_discriminator_step`` does to the discriminator's
        trainable weights, as a function of their values (one tensor per
        ``discriminator.trainable_variables``); used by unrolled steps.
        Identity here."""
        return values

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
            d_optimizer: discriminator optimizer; default: the one in the
                class's ``default_training`` (the architecture paper's; the
                base GAN's is the DCGAN paper's Adam(2e-4, beta_1=0.5)).
            g_optimizer: generator optimizer; same rule.
            jit_compile: compile the train step with XLA. Off by default:
                on CPU with oneDNN it is slower (see ``bench/train_step.py``).
            steps_per_execution: train steps per ``tf.function`` call.
        """
        super().compile(
            jit_compile=jit_compile, steps_per_execution=steps_per_execution, **kwargs
        )
        d_optimizer = d_optimizer or self.default_optimizer("d_optimizer")
        g_optimizer = g_optimizer or self.default_optimizer("g_optimizer")
        if keras.mixed_precision.global_policy().name == "mixed_float16":
            # float16 gradients underflow without loss scaling.
            d_optimizer = _loss_scaled(d_optimizer)
            g_optimizer = _loss_scaled(g_optimizer)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        if self.unrolled_steps:
            _FunctionalUpdate.check(d_optimizer)  # fail now, not mid-fit
        # Building here, inside the strategy scope that compile() runs in,
        # creates the slot variables as distributed variables up front.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    @classmethod
    def default_optimizer(cls, role):
        """A fresh optimizer from ``default_training[role]`` (e.g. "d_optimizer")."""
        config = cls.default_training[role]
        return keras.optimizers.get(
            {"class_name": config["class_name"], "config": dict(config["config"])}
        )

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
            # The discriminator only ever sees augmented images when
            # augmenting, so its penalties are taken on them too.
            real = self.augment_images(real)
            fake = self.augment_images(fake)
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

    def generator_step(self, batch_size, labels=None, real=None):
        """One generator update; returns the values it reports.

        ``real`` (the batch's real images) is needed with ``unrolled_steps``,
        to unroll the discriminator; ``train_step`` passes it only then.
        """
        if self.unrolled_steps and real is None:
            raise ValueError(
                "unrolled_steps > 0: generator_step needs the real batch (real=...)."
            )
        noise = self.sample_latent(batch_size)
        variables = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            fake = self.generate_images(noise, labels, training=True)
            if self.unrolled_steps:
                if self.unrolled_second_order:
                    unrolled = self.unrolled_discriminator(real, fake, labels)
                else:
                    with tape.stop_recording():
                        unrolled = self.unrolled_discriminator(real, fake, labels)
                fake_in = self.augment_images(fake)
                # Only reads of the discriminator's trainable variables are
                # redirected; whatever it would assign is discarded.
                with _values_of(self.discriminator.trainable_variables, unrolled):
                    fake_logits = self.discriminate(fake_in, labels, training=True)
            else:
                fake_logits = self.discriminate(
                    self.augment_images(fake), labels, training=True
                )
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

    @property
    def real_batches_per_step(self):
        """Real batches one train step consumes: ``d_steps`` with
        ``fresh_real_batches``, else 1. Streams group that many batches per
        element (``zoo.data.make_dataset(group=...)``)."""
        return self.d_steps if self.fresh_real_batches else 1

    def split_real_batches(self, real, labels):
        """The real batch (and labels) of each discriminator update.

        ``real`` is ``[batch, H, W, C]`` (reused by every update) or, with
        ``real_batches_per_step = k > 1``, ``[batch, k, H, W, C]``, of which
        update ``i`` takes ``real[:, i]``. Grouping along axis 1 rather than
        the batch axis keeps each update's batch the same global batch when
        a strategy splits the input across replicas.
        """
        groups = self.real_batches_per_step
        expected_rank = len(self.generator.output_shape) + (1 if groups > 1 else 0)
        if groups > 1:
            wanted = (
                f"[batch, {groups}, H, W, C]: {groups} real batches per step, one per "
                "discriminator update (fresh_real_batches=True); build the stream with "
                f"zoo.data.make_dataset(..., group={groups}) or pass "
                "fresh_real_batches=False"
            )
        else:
            wanted = "[batch, H, W, C]"
        message = f"{type(self).__name__} expects real images {wanted}; got shape "
        if real.shape.rank is None:
            # A retrace with relaxed shapes: check the rank when it runs.
            check = tf.debugging.assert_equal(
                tf.rank(real), expected_rank, message=message + "another rank"
            )
            with tf.control_dependencies([check]):
                real = tf.identity(real)
            real.set_shape([None] * expected_rank)
        if len(real.shape) != expected_rank or (
            groups > 1 and real.shape[1] not in (None, groups)
        ):
            raise ValueError(message + f"{tuple(real.shape)}.")
        if groups == 1:
            return [real] * self.d_steps, [labels] * self.d_steps
        label_groups = [None if labels is None else labels[:, i] for i in range(groups)]
        return [real[:, i] for i in range(groups)], label_groups

    def train_step(self, data):
        real, labels = self.unpack_batch(data)
        real = ops.cast(real, self.compute_dtype)
        real_batches, label_batches = self.split_real_batches(real, labels)
        batch_size = ops.shape(real_batches[0])[0]
        results = {}
        for real_batch, batch_labels in zip(real_batches, label_batches):
            results.update(self.discriminator_step(real_batch, batch_labels))
        # The generator's update uses the last batch's labels (and, unrolled,
        # its images): the batch the discriminator saw most recently.
        if self.unrolled_steps:
            results.update(
                self.generator_step(batch_size, label_batches[-1], real=real_batches[-1])
            )
        else:
            results.update(self.generator_step(batch_size, label_batches[-1]))
        return self.report(results)

    def report(self, results):
        """Update the trackers with a step's ``{name: value}`` and return
        what ``fit`` logs: each tracker's running mean.

        Under a multi-worker ``MultiWorkerMirroredStrategy``, Keras 3 reduces
        the per-replica outputs of a train step with
        ``strategy.reduce(MEAN, value, axis=0)``, which fails on scalars
        ("Invalid reduction dimension 0 for input with 0 dimensions",
        tensorflow/tensorflow#72388); there each value goes out as ``[1]``,
        which that reduction turns into the scalar mean over replicas.
        """
        for name, value in results.items():
            self.trackers[name].update_state(value)
        logs = {name: tracker.result() for name, tracker in self.trackers.items()}
        if _in_multi_worker_mode():
            logs = {name: ops.reshape(value, [1]) for name, value in logs.items()}
        return logs

    # --- Inference ---------------------------------------------------------

    @property
    def export_generator(self):
        """The generator to save and serve: ``ema_generator`` with
        ``ema_decay``, else ``generator``."""
        if self.ema_generator is not None:
            return self.ema_generator
        return self.generator

    def call(self, noise, training=False):
        return self.export_generator(noise, training=training)

    def latent_prior(self):
        """The generator's input distribution, as recorded in metadata.json
        and used by ``zoo.evaluate``: ``{"name": "normal"}`` (N(0, I))."""
        return {"name": "normal"}

    def latent_for_seed(self, num_images, seed):
        """Stateless generator input ``[num_images, latent_dim]`` for a
        ``[2]`` int seed: the same seed gives the same noise anywhere.

        Standard normal here (``[s, 0]`` gives ``noise_for_seed(..., s)``);
        a model with another prior (AAE) overrides it. Pure TensorFlow ops,
        so the exported ``sample`` signature can use it without the zoo.
        """
        return tf.random.stateless_normal(
            tf.stack([num_images, self.latent_dim]), seed=seed
        )

    def generate(self, num_images, seed=None, labels=None, batch_size=256):
        """``num_images`` samples, float32 ``[num_images, H, W, C]`` in [-1, 1].

        With an int ``seed`` the noise is ``latent_for_seed(num_images,
        [seed, 0])`` and the result is reproducible (it equals the exported
        ``sample`` signature's); without one, noise comes from the model's
        own stream.
        """
        if seed is None:
            noise = self.sample_latent(num_images)
        else:
            noise = self.latent_for_seed(num_images, [int(seed), 0])
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
            "fresh_real_batches": self.fresh_real_batches,
            "adversarial_loss": self.adversarial_loss,
            "seed": self.seed,
            "unrolled_steps": self.unrolled_steps,
            "unrolled_second_order": self.unrolled_second_order,
            "ema_decay": self.ema_decay,
            "augment": self.augment,
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


def _averaged_copy(generator):
    """A non-trainable twin of ``generator`` (same class and config, name
    ``<name>_ema``) starting from its current weights."""
    config = dict(generator.get_config())
    config["name"] = f"{generator.name}_ema"
    twin = type(generator).from_config(config)
    twin.set_weights(generator.get_weights())
    twin.trainable = False
    return twin


def _values_of(variables, values):
    """Scope in which ``variables`` read as ``values`` and assignments to
    any variable are discarded: a functional re-application of a network."""
    return keras.StatelessScope(
        state_mapping=list(zip(variables, values)), initialize_variables=False
    )


class _FunctionalUpdate:
    """A differentiable copy of an optimizer's update rule, on tensors.

    Starts from the optimizer's current slots and step count (read, never
    written) and reproduces Keras's SGD (plain, momentum, Nesterov) and Adam
    updates: Metz et al. 2016 unroll the discriminator's own optimizer.
    """

    UNSUPPORTED_OPTIONS = (
        "weight_decay",
        "clipnorm",
        "clipvalue",
        "global_clipnorm",
        "use_ema",
        "gradient_accumulation_steps",
    )

    @classmethod
    def check(cls, optimizer):
        """The plain optimizer inside ``optimizer`` (unwrapping loss scaling);
        raises ``ValueError`` if its update cannot be unrolled."""
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        supported = isinstance(optimizer, keras.optimizers.SGD) or (
            type(optimizer) is keras.optimizers.Adam and not optimizer.amsgrad
        )
        options = [name for name in cls.UNSUPPORTED_OPTIONS if getattr(optimizer, name, None)]
        if not supported or options:
            raise ValueError(
                "unrolled_steps needs a discriminator optimizer whose update it "
                "can unroll: SGD or Adam (no amsgrad), without "
                f"{', '.join(cls.UNSUPPORTED_OPTIONS)}; got {type(optimizer).__name__}"
                + (f" with {', '.join(options)}." if options else ".")
            )
        return optimizer

    def __init__(self, optimizer, variables):
        self.optimizer = optimizer = self.check(optimizer)
        self.learning_rate = tf.convert_to_tensor(optimizer.learning_rate)
        self.step_count = tf.convert_to_tensor(optimizer.iterations)
        indices = [optimizer._get_variable_index(v) for v in variables]
        self.momentums = self.velocities = None
        if isinstance(optimizer, keras.optimizers.SGD):
            if optimizer.momentum:
                self.momentums = [tf.convert_to_tensor(optimizer.momentums[i]) for i in indices]
        else:
            self.momentums = [tf.convert_to_tensor(optimizer._momentums[i]) for i in indices]
            self.velocities = [tf.convert_to_tensor(optimizer._velocities[i]) for i in indices]

    def step(self, values, gradients):
        """The values after one update with ``gradients``."""
        self.step_count = self.step_count + 1
        return [
            self._update(index, value, ops.cast(gradient, value.dtype))
            for index, (value, gradient) in enumerate(zip(values, gradients))
        ]

    def _update(self, index, value, gradient):
        optimizer, dtype = self.optimizer, value.dtype
        learning_rate = ops.cast(self.learning_rate, dtype)
        if isinstance(optimizer, keras.optimizers.SGD):
            if self.momentums is None:
                return value - learning_rate * gradient
            momentum = ops.cast(optimizer.momentum, dtype)
            velocity = ops.cast(self.momentums[index], dtype) * momentum
            velocity = velocity - learning_rate * gradient
            self.momentums[index] = velocity
            if optimizer.nesterov:
                return value + velocity * momentum - learning_rate * gradient
            return value + velocity
        beta_1 = ops.cast(optimizer.beta_1, dtype)
        beta_2 = ops.cast(optimizer.beta_2, dtype)
        step = ops.cast(self.step_count, dtype)
        alpha = learning_rate * ops.sqrt(1.0 - beta_2**step) / (1.0 - beta_1**step)
        first = ops.cast(self.momentums[index], dtype)
        second = ops.cast(self.velocities[index], dtype)
        first = first + (gradient - first) * (1.0 - beta_1)
        second = second + (ops.square(gradient) - second) * (1.0 - beta_2)
        self.momentums[index], self.velocities[index] = first, second
        # sqrt's derivative is infinite at 0 (a weight whose gradient is
        # exactly 0); the floor keeps second-order gradients finite and is
        # far below epsilon in the forward value.
        root = ops.sqrt(ops.maximum(second, 1e-30))
        return value - alpha * first / (root + optimizer.epsilon)
