"""``GAN``: the adversarial model every GAN of the zoo extends.

A ``ZooModel`` (presets, seed stream, global step, optimizers by role,
export) with a generator and a discriminator, and a train step written as a
template:

    for each of d_steps:   discriminator_step(real, condition)
    generator_step(real, condition)

(``real`` is the step's real batch, or one of ``d_steps`` batches with
``fresh_real_batches``). Each step computes the adversarial loss
(``adversarial_loss``, a name from ``zoo.core.losses``) plus the player's
named loss terms (``discriminator_terms``, ``generator_terms``: weighted,
reported under their names, lazy ones applied every k steps; see
``zoo.core.terms``), and applies one optimizer update (``apply_update``).
Hooks an architecture overrides: ``discriminator_loss``, ``generator_loss``,
the term lists, ``after_discriminator_step``, ``after_generator_step``,
``constrain_discriminator_values``, ``generate_images``, ``discriminate``,
``sample_latent``, ``latent_for_seed``. A model with other players
(CycleGAN's two generators and two discriminators, the AAE's encoder)
declares its roles in ``optimizer_variables`` and writes
``training_updates`` from ``apply_update`` calls.

The generator may take noise (``latent_dim > 0``; 0 for a generator whose
only input is its condition, as pix2pix's) and a condition (a class label,
an image, a text embedding: ``zoo.core.conditions``), which the networks'
input names declare. Training batches are ``images`` or
``(images, condition)``.

It trains with plain ``compile()``/``fit()`` under any ``tf.distribute``
strategy: losses are reduced over the *global* batch (gradients are summed
across replicas), the optimizers are built in ``compile``, and every
replica draws its own noise (and WGAN-GP's interpolation weights); the
other draws over the batch (augmentations, dropout masks, mismatched
conditions, image-history draws) are made for the global batch and sliced,
so that with the same noise N replicas compute what one device computes.

Stabilising techniques any architecture gets from constructor arguments
(all off by default):

* ``augment``: DiffAugment (Zhao et al. 2020) on real and generated images
  before the discriminator, in both players' steps (``zoo.core.augment``).
* ``ema_decay``: an exponential moving average of each generator's weights
  (Karras et al. 2018; Yazici et al. 2019), which is what gets exported.
* ``unrolled_steps``: the generator trains against the discriminator
  advanced that many steps ahead (Metz et al. 2016).

Spectral normalisation and minibatch discrimination are layers
(``zoo.core.layers``) that networks use.
"""

import keras
import tensorflow as tf
from keras import ops

from zoo.core import augment as augment_lib
from zoo.core import conditions
from zoo.core import losses as losses_lib
from zoo.core import replicas, terms, unrolled
from zoo.core.errors import ConfigError
from zoo.core.model import ZooModel, serving_outputs
from zoo.core.networks import input_names, network_inputs
from zoo.core.optimizers import adam


def noise_for_seed(num, latent_dim, seed):
    """Deterministic standard-normal noise ``[num, latent_dim]`` for an int seed.

    Used for fixed sample grids and for ``generate(seed=...)``: the same seed
    gives the same noise in any process, on any device.
    """
    return tf.random.stateless_normal((num, latent_dim), seed=[int(seed), 0])


def _float32(outputs):
    return tf.nest.map_structure(lambda x: ops.cast(x, "float32"), outputs)


@keras.saving.register_keras_serializable(package="zoo")
class GAN(ZooModel):
    """Generative adversarial network: the base adversarial model of the zoo.

    Args:
        generator: ``keras.Model`` with named inputs: ``noise`` ``[batch,
            latent_dim]`` (unless ``latent_dim`` is 0) and the condition's
            (``labels``, ``source``, ``text_embedding``) -> images ``[batch,
            H, W, C]`` in ``[-1, 1]``.
        discriminator: ``keras.Model``, ``images`` (and the condition, if it
            takes it) -> logits ``[batch, ...]``.
        latent_dim: size of the noise vector; defaults to the generator's
            ``noise`` input (0 if it has none).
        d_steps: discriminator updates per generator update (``n_critic`` in
            the WGAN papers), each with fresh noise.
        fresh_real_batches: with ``d_steps > 1``, give each discriminator
            update its own real batch, as Algorithm 1 of the WGAN papers
            does; the input stream then yields ``d_steps`` batches per step,
            as ``[batch, d_steps, H, W, C]`` (labels ``[batch, d_steps]``):
            ``zoo.data.make_dataset(..., group=model.real_batches_per_step)``.
            False: every update of a step reuses the step's one real batch.
        adversarial_loss: a name from ``zoo.core.losses.LOSSES``:
            ``"minimax"`` (Goodfellow et al. 2014, saturating),
            ``"non_saturating"``, ``"least_squares"``, ``"wasserstein"`` or
            ``"hinge"``; None for an architecture that overrides both loss
            hooks itself (EBGAN).
        seed: seed of the model's random stream (``None``: random).
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
            ``export_network``, ``generate`` and sample grids use.
        augment: DiffAugment policy, e.g. ``"color,translation,cutout"``
            (Zhao et al. 2020; see ``zoo.core.augment``): applied to real
            and generated images before the discriminator in both steps.
    """

    # The DCGAN paper's Adam(2e-4, beta_1=0.5) and batch 128, unless an
    # architecture says otherwise.
    default_training = {
        "dataset": "mnist",
        "batch_size": 128,
        "epochs": 25,
        "d_optimizer": adam(2e-4, beta_1=0.5),
        "g_optimizer": adam(2e-4, beta_1=0.5),
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
        super().__init__(seed=seed, **kwargs)
        if d_steps < 1:
            raise ConfigError(f"d_steps must be >= 1, got {d_steps}.")
        if unrolled_steps < 0:
            raise ConfigError(f"unrolled_steps must be >= 0, got {unrolled_steps}.")
        if ema_decay is not None and not 0.0 <= ema_decay < 1.0:
            raise ConfigError(f"ema_decay must be in [0, 1), got {ema_decay}.")
        self.generator = generator
        self.discriminator = discriminator
        if latent_dim is None:
            latent_dim = getattr(generator, "latent_dim", None)
            if latent_dim is None:
                names = input_names(generator)
                latent_dim = generator.inputs[names.index("noise")].shape[-1] if "noise" in names else 0
        self.latent_dim = int(latent_dim)
        self._condition = conditions.of_network(generator)
        self.d_steps = int(d_steps)
        self.fresh_real_batches = bool(fresh_real_batches)
        self.adversarial_loss = adversarial_loss
        self._discriminator_loss_fn, self._generator_loss_fn = (
            (None, None) if adversarial_loss is None else losses_lib.get(adversarial_loss)
        )
        self.unrolled_steps = int(unrolled_steps)
        self.unrolled_second_order = bool(unrolled_second_order)
        self.augment = ",".join(augment_lib.parse_policy(augment)) or None
        self.ema_decay = None if ema_decay is None else float(ema_decay)
        self.create_moving_averages()
        # The sub-models are Functional, hence built; marking the model built
        # lets strategies and saving see its variables before fit().
        self.built = True

    # --- What the model is made of ------------------------------------------

    @property
    def condition(self):
        return self._condition

    @property
    def conditional(self):
        """Whether the generator takes a condition."""
        return self._condition.kind != "none"

    @property
    def num_classes(self):
        """Classes of a class-conditional model."""
        if self._condition.kind != "class":
            raise AttributeError(f"{type(self).__name__} is not class-conditional.")
        return self._condition.num_classes

    def ema_network_names(self):
        """The generators ``ema_decay`` keeps an average of (``ema_<name>``)."""
        return ["generator"]

    def create_moving_averages(self):
        """Create ``ema_<name>`` for each generator of ``ema_network_names``
        that exists and has none yet (None without ``ema_decay``). The
        constructor calls it; a model that sets further generators after
        ``super().__init__`` calls it again. The averages are attributes of
        the model, so their weights are saved and restored with the model's
        (checkpoints, ``.keras``)."""
        for name in self.ema_network_names():
            network = getattr(self, name, None)
            if network is None or getattr(self, f"ema_{name}", None) is not None:
                continue
            average = None if self.ema_decay is None else _averaged_copy(network)
            setattr(self, f"ema_{name}", average)

    def optimizer_variables(self):
        return {
            "d_optimizer": self.discriminator.trainable_variables,
            "g_optimizer": self.generator.trainable_variables,
        }

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Set and build the optimizers (see ``ZooModel.compile``).

        Args:
            d_optimizer: discriminator optimizer; default: the one in the
                class's ``default_training`` (the architecture paper's; the
                base GAN's is the DCGAN paper's Adam(2e-4, beta_1=0.5)).
            g_optimizer: generator optimizer; same rule.
            **kwargs: optimizers of further roles, ``jit_compile``,
                ``steps_per_execution``.
        """
        super().compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer, **kwargs)
        if self.unrolled_steps:
            unrolled.FunctionalUpdate.check(self.d_optimizer)  # fail now, not mid-fit
            lazy = [t.name for t in self.discriminator_terms() if t.every > 1]
            if lazy:
                # A lazy term runs in a tf.cond, whose state changes cannot
                # leave the stateless scope an unrolled step runs in.
                raise ConfigError(
                    f"unrolled_steps cannot be combined with lazy discriminator terms "
                    f"({', '.join(lazy)}); apply them every step or do not unroll."
                )

    # --- Hooks an architecture overrides ------------------------------------

    def metric_names(self):
        names = ["d_loss"] + [t.name for t in self.discriminator_terms()]
        names += ["g_loss"] + [t.name for t in self.generator_terms()]
        return names

    def discriminator_terms(self):
        """Named terms added to the discriminator's loss (``zoo.core.terms``)."""
        return []

    def generator_terms(self):
        """Named terms added to the generator's loss (``zoo.core.terms``)."""
        return []

    def sample_latent(self, batch_size):
        """Noise ``[batch_size, latent_dim]`` from the model's seed stream,
        different on every replica; None for a generator without noise."""
        if not self.latent_dim:
            return None
        return tf.random.stateless_normal((batch_size, self.latent_dim), seed=self.next_seed())

    def generate_images(self, noise, condition=None, training=False):
        """The generator's images for ``noise`` and ``condition``."""
        inputs = network_inputs(
            self.generator, noise=None if noise is None else ops.convert_to_tensor(noise),
            **self._condition_inputs(condition),
        )
        return self.generator(inputs, training=training)

    def active_discriminator(self):
        """The discriminator the current updates train and consult:
        ``discriminator`` here; a model with several (StackGAN's stages)
        picks the current one, as ``player_roles`` picks its optimizer. A
        method, not a property: Keras's weight files walk a model's
        attributes, and one that changed with the phase would save the same
        weights under another name than it restores them from."""
        return self.discriminator

    def discriminate(self, images, condition=None, training=False):
        """The active discriminator's float32 outputs for ``images``
        (conditioned on ``condition`` if the discriminator takes it)."""
        network = self.active_discriminator()
        inputs = network_inputs(
            network, images=ops.convert_to_tensor(images), **self._condition_inputs(condition),
        )
        return _float32(network(inputs, training=training))

    def _condition_inputs(self, condition):
        name = self._condition.input_name
        if name is None or condition is None:
            return {}
        # Tensors: Keras refuses a dict that mixes tensors and NumPy arrays.
        condition = ops.convert_to_tensor(condition)
        if self._condition.kind == "class":
            condition = ops.cast(condition, "int32")
        return {name: condition}

    def discriminator_loss(self, real_outputs, fake_outputs):
        """Per-example discriminator loss ``[batch]``."""
        return self._discriminator_loss_fn(real_outputs, fake_outputs)

    def discriminator_step_loss(self, real, condition, real_outputs, fake_outputs):
        """The per-example adversarial loss ``[batch]`` of a discriminator
        update, from its outputs on ``real`` and the generated images (both
        as the discriminator saw them): ``discriminator_loss`` here; GAN-CLS
        adds the real images with mismatched conditions."""
        return self.discriminator_loss(real_outputs, fake_outputs)

    def generator_loss(self, fake_outputs):
        """Per-example generator loss ``[batch]``."""
        return self._generator_loss_fn(fake_outputs)

    def after_discriminator_step(self):
        """Runs after each discriminator update (WGAN clips weights here)."""

    def after_generator_step(self, when=None):
        """Runs after each generator update: updates the EMA copies (only
        where ``when`` is true, for a conditional update).

        An architecture overriding it calls ``super().after_generator_step(when)``.
        """
        if self.ema_decay is not None:
            self.update_ema(when)

    def generator_update_condition(self):
        """Whether this train step's generator update takes effect: None
        (always) or a boolean scalar tensor, computed after the
        discriminator's updates (WGAN's authors' schedule). The update is
        computed either way; where the condition is false the generator, its
        optimizer, its EMA and both networks' statistics are left as they
        were, and its reported values are not counted."""
        return None

    def player_roles(self):
        """``(discriminator role, generator role)``: the optimizer roles
        ``discriminator_step`` and ``generator_step`` update. A model with
        several pairs of players trained in turn (StackGAN's stages) picks
        the current pair."""
        return "d_optimizer", "g_optimizer"

    def constrain_discriminator_values(self, values):
        """What ``after_discriminator_step`` does to the discriminator's
        trainable weights, as a function of their values (one tensor per
        ``discriminator.trainable_variables``); used by unrolled steps.
        Identity here."""
        return values

    # --- Stabilising techniques ---------------------------------------------

    def augment_images(self, images):
        """DiffAugment ``images`` with the ``augment`` policy (or return them).

        Each call takes a fresh seed from the model's stream; see
        ``zoo.core.augment`` for the policies and how replicas stay
        consistent.
        """
        if not self.augment:
            return images
        return augment_lib.diff_augment(images, self.augment, self.seed_generator.next())

    def current_ema_decay(self):
        """The EMA's decay at this step: ``ema_decay`` here; StyleGAN ramps
        it up from the images seen (a float or a float32 scalar tensor)."""
        return self.ema_decay

    def update_ema(self, when=None):
        """``ema <- d * ema + (1 - d) * w`` for every float weight of each
        averaged generator (batch-norm statistics included); others are
        copied. With ``when`` (a boolean tensor), only where it is true."""
        decay = self.current_ema_decay()
        for name in self.ema_network_names():
            average_network, network = getattr(self, f"ema_{name}"), getattr(self, name)
            for average, weight in zip(average_network.weights, network.weights):
                if keras.backend.is_float_dtype(average.dtype):
                    value = decay * average + (1.0 - decay) * ops.cast(weight, average.dtype)
                else:
                    value = ops.convert_to_tensor(weight)
                if when is not None:
                    value = ops.where(when, value, ops.convert_to_tensor(average))
                average.assign(value)

    def unrolled_discriminator(self, real, fake, condition=None):
        """The discriminator's trainable values after ``unrolled_steps``
        updates on ``real`` and ``fake`` (Metz et al. 2016, eq. 7), as tensors.

        Each unrolled step computes the discriminator's full loss
        (adversarial loss, terms, regularisers) by re-applying the network
        with the current unrolled values (``keras.StatelessScope``), sums
        its gradient over replicas as the real step does, and applies a
        functional copy of ``d_optimizer``'s update (SGD or Adam, started
        from its current slots and step count), so the first unrolled step
        is exactly the update the discriminator would make on this batch.
        The same real and fake batch serve every step. Variables are never
        assigned, with one exception: the random streams (the model's and
        its layers' seed generators) carry on from one unrolled step to the
        next and end advanced, so each step draws its own augmentations,
        interpolation weights and dropout masks. Batch-norm statistics and
        spectral-norm vectors advanced while unrolling are thrown away.
        After each step the values go through
        ``constrain_discriminator_values`` (WGAN's weight clipping).

        Differentiable in ``fake`` (and through it in the generator's
        weights) when called under a tape that records it.

        Returns:
            List of tensors, one per ``discriminator.trainable_variables``.
        """
        variables = self.discriminator.trainable_variables
        values = [tf.convert_to_tensor(v) for v in variables]
        updates = unrolled.FunctionalUpdate(self.d_optimizer, variables)
        for _ in range(self.unrolled_steps):
            with tf.GradientTape() as tape:
                tape.watch(values)
                loss, _ = self.with_discriminator_values(
                    values, lambda: self._discriminator_objective(real, fake, condition)
                )
            gradients = tape.gradient(loss, values)
            gradients = [ops.zeros_like(v) if g is None else g for g, v in zip(gradients, values)]
            values = updates.step(values, replicas.sum_over_replicas(gradients))
            values = self.constrain_discriminator_values(values)
        return values

    def with_discriminator_values(self, values, fn):
        """``fn()`` with the discriminator's trainable weights reading as
        ``values``; every assignment it makes is thrown away (batch-norm
        statistics, spectral-norm vectors) except those of the random
        streams, which move on as they would for real."""
        variables = self.discriminator.trainable_variables
        seeds = self.seed_states()
        seed_values = [tf.convert_to_tensor(s) for s in seeds]
        with unrolled.values_of(variables + seeds, list(values) + seed_values) as scope:
            result = fn()
        for state, value in zip(seeds, seed_values):
            current = scope.get_current_value(state)
            state.assign(value if current is None else current)
        return result

    # --- The train step -----------------------------------------------------

    def evaluate_terms(self, term_list, tensors, batch_size):
        """``(per-example sum [batch] or None without terms, {name: reported
        value})`` of weighted terms; a lazy term (``every > 1``) is computed in a ``tf.cond`` only
        on steps that are multiples of ``every`` (scaled by ``every``) and
        reported as ``(value, fired)`` so that its running mean is over the
        steps it fired on."""
        total = None
        reports = {}
        for term in term_list:
            if term.every == 1:
                value = term.weight * ops.cast(term.fn(tensors), "float32")
                reports[term.name] = ops.mean(value)
            else:
                fires = ops.equal(self.step_counter % term.every, 0)
                scale = term.weight * term.every

                def computed(term=term, scale=scale):
                    return scale * ops.cast(term.fn(tensors), "float32")

                value = tf.cond(fires, computed, lambda: ops.zeros([batch_size], "float32"))
                reports[term.name] = (ops.mean(value), ops.cast(fires, "float32"))
            total = value if total is None else total + value
        return total, reports

    def _discriminator_objective(self, real, fake, condition):
        """The discriminator's loss (reduced) and reports, for a tape."""
        # The discriminator only ever sees augmented images when augmenting,
        # so its terms are taken on them too.
        real_in = self.augment_images(real)
        fake_in = self.augment_images(fake)
        real_outputs = self.discriminate(real_in, condition, training=True)
        fake_outputs = self.discriminate(fake_in, condition, training=True)
        per_example = self.discriminator_step_loss(real_in, condition, real_outputs, fake_outputs)
        tensors = terms.StepTensors(
            model=self, real=real_in, fake=fake_in, condition=condition,
            real_outputs=real_outputs, fake_outputs=fake_outputs,
        )
        extra, reports = self.evaluate_terms(
            self.discriminator_terms(), tensors, ops.shape(per_example)[0]
        )
        total = per_example if extra is None else per_example + extra
        loss = self.reduce_loss(total) + self.regularization_loss(self.active_discriminator())
        return loss, {"d_loss": ops.mean(per_example), **reports}

    def discriminator_step(self, real, condition=None):
        """One discriminator update; returns the values it reports."""
        noise = self.sample_latent(ops.shape(real)[0])
        fake = self.generate_images(noise, condition, training=True)
        reports = self.apply_update(
            self.player_roles()[0], lambda: self._discriminator_objective(real, fake, condition)
        )
        self.after_discriminator_step()
        return reports

    def generator_step(self, real, condition=None, when=None):
        """One generator update; returns the values it reports.

        ``real`` is the step's real batch: its size is the batch's, terms
        such as pix2pix's L1 compare with it, and unrolled steps train the
        discriminator copy on it. With ``when`` (a boolean tensor) the update
        only takes effect where it is true (``ZooModel.apply_update``).
        """
        noise = self.sample_latent(ops.shape(real)[0])

        def objective(tape):
            fake = self.generate_images(noise, condition, training=True)
            if self.unrolled_steps:
                if self.unrolled_second_order:
                    values = self.unrolled_discriminator(real, fake, condition)
                else:
                    # First-order: the unrolled weights are constants.
                    with tape.stop_recording():
                        values = self.unrolled_discriminator(real, fake, condition)
                fake_in = self.augment_images(fake)
                fake_outputs = self.with_discriminator_values(
                    values, lambda: self.discriminate(fake_in, condition, training=True)
                )
            else:
                fake_in = self.augment_images(fake)
                fake_outputs = self.discriminate(fake_in, condition, training=True)
            per_example = self.generator_loss(fake_outputs)
            tensors = terms.StepTensors(
                model=self, real=real, fake=fake, condition=condition, noise=noise,
                fake_outputs=fake_outputs,
            )
            extra, reports = self.evaluate_terms(
                self.generator_terms(), tensors, ops.shape(per_example)[0]
            )
            total = per_example if extra is None else per_example + extra
            loss = self.reduce_loss(total) + self.regularization_loss(self.generator)
            return loss, {"g_loss": ops.mean(per_example), **reports}

        # A conditional update leaves everything it moved as it was where it
        # does not take effect, the discriminator's statistics included.
        restore = () if when is None else (
            self.generator.non_trainable_weights + self.active_discriminator().non_trainable_weights
        )
        reports = self.apply_update(
            self.player_roles()[1], objective, with_tape=True, when=when, restore=restore
        )
        self.after_generator_step(when)
        return reports

    @staticmethod
    def split_batch(data):
        """``images``, ``(images, condition)`` or ``{"images": ...,
        "condition" or "labels": ...}`` -> ``(images, condition or None)``,
        the condition as given."""
        if isinstance(data, (tuple, list)):
            # Keras packs what train_on_batch gets as (x, y, sample_weight):
            # (images, condition) as x, or images as x and the condition as y.
            x, y, _ = keras.utils.unpack_x_y_sample_weight(tuple(data))
            if y is None and isinstance(x, (tuple, list)):
                x, y = x[0], (x[1] if len(x) > 1 else None)
            if isinstance(x, dict):
                return GAN.split_batch(x)
            return x, y
        if isinstance(data, dict):
            return data["images"], data.get("condition", data.get("labels"))
        return data, None

    def unpack_batch(self, data):
        """``split_batch``, checked: a conditional model needs its condition;
        image and text conditions in the compute dtype."""
        images, condition = self.split_batch(data)
        if self.conditional and condition is None:
            raise ConfigError(
                f"{type(self).__name__} needs {self._condition.noun}: train on "
                f"(images, {self._condition.input_name}) batches."
            )
        if condition is not None and self._condition.kind in ("image", "text"):
            condition = ops.cast(condition, self.compute_dtype)
        return images, condition

    @property
    def real_batches_per_step(self):
        """Real batches one train step consumes: ``d_steps`` with
        ``fresh_real_batches``, else 1. Streams group that many batches per
        element (``zoo.data.make_dataset(group=...)``)."""
        return self.d_steps if self.fresh_real_batches else 1

    def split_real_batches(self, real, condition):
        """The real batch (and condition) of each discriminator update.

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
            raise ConfigError(message + f"{tuple(real.shape)}.")
        if groups == 1:
            return [real] * self.d_steps, [condition] * self.d_steps
        condition_groups = [None if condition is None else condition[:, i] for i in range(groups)]
        return [real[:, i] for i in range(groups)], condition_groups

    def training_updates(self, data):
        real, condition = self.unpack_batch(data)
        real = ops.cast(real, self.compute_dtype)
        real_batches, condition_batches = self.split_real_batches(real, condition)
        results = {}
        for real_batch, batch_condition in zip(real_batches, condition_batches):
            results.update(self.discriminator_step(real_batch, batch_condition))
        # The generator's update uses the last batch (and its condition):
        # the batch the discriminator saw most recently.
        when = self.generator_update_condition()
        reports = self.generator_step(real_batches[-1], condition_batches[-1], when=when)
        if when is not None:
            # Counted only on the steps the generator trained.
            fired = ops.cast(when, "float32")
            reports = {
                name: (value[0], value[1] * fired) if isinstance(value, tuple) else (value, fired)
                for name, value in reports.items()
            }
        results.update(reports)
        return results

    # --- Inference ----------------------------------------------------------

    @property
    def export_generator(self):
        """The generator to save and serve: ``ema_generator`` with
        ``ema_decay``, else ``generator``."""
        if self.ema_decay is not None:
            return self.ema_generator
        return self.generator

    @property
    def export_network(self):
        return self.export_generator

    def call(self, inputs, training=False):
        return self.export_generator(inputs, training=training)

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

    def generate(self, num_images=None, seed=None, *, condition=None, labels=None, batch_size=256):
        """Samples, float32 ``[num_images, H, W, C]`` in [-1, 1].

        With an int ``seed`` the noise is ``latent_for_seed(num_images,
        [seed, 0])`` and the result is reproducible (it equals the exported
        ``sample`` signature's); without one, noise comes from the model's
        own stream. ``condition`` (``labels`` is the same for class
        conditions): class labels ``[num_images]`` (default: the classes in
        turn), or source images / text embeddings, one per image.
        """
        if labels is not None:
            if condition is not None:
                raise ConfigError("Pass labels= or condition=, not both.")
            condition = labels
        kind = self._condition.kind
        if condition is not None and num_images is None and kind != "none":
            num_images = len(condition)
        if num_images is None:
            raise ConfigError("generate needs num_images (or a condition per image).")
        if kind == "class" and condition is None:
            condition = self._condition.grid_values(int(num_images))
        num_images = int(num_images)
        if seed is None:
            noise = self.sample_latent(num_images)
        elif self.latent_dim:
            noise = self.latent_for_seed(num_images, [int(seed), 0])
        else:
            noise = None
        return self.generate_from_noise(noise, condition, batch_size=batch_size, num_images=num_images)

    def generate_from_noise(self, noise, condition=None, *, batch_size=256, labels=None, num_images=None):
        """Generator output for given noise (and condition), in batches,
        inference mode. Conditions are checked (a label outside the class
        range is an error, not a silent all-zero one-hot)."""
        if labels is not None:
            condition = labels
        if noise is not None:
            noise = ops.convert_to_tensor(noise, "float32")
            num_images = int(noise.shape[0])
        elif num_images is None and condition is not None:
            num_images = len(condition)
        if num_images is None:
            raise ConfigError("generate_from_noise needs noise, a condition per image or num_images.")
        if self.conditional:
            condition = self._condition.check(condition, num=num_images)
        elif condition is not None:
            raise ConfigError(f"{type(self).__name__} takes no condition.")
        generator = self.export_generator
        outputs = []
        for start in range(0, num_images, batch_size):
            chunk = slice(start, start + batch_size)
            inputs = network_inputs(
                generator,
                noise=None if noise is None else noise[chunk],
                **self._condition_inputs(None if condition is None else condition[chunk]),
            )
            outputs.append(generator(inputs, training=False))
        return ops.cast(ops.concatenate(outputs, axis=0), "float32")

    # --- Export ---------------------------------------------------------------

    def serving_condition(self, condition):
        """The network's condition input for the served one: identity, but
        a text-conditioned model overrides it to encode the raw strings its
        SavedModel takes (with its frozen text encoder)."""
        return condition

    def export_signatures(self):
        """``serving_default``: noise (if any) and the condition (if any) ->
        images; ``sample`` (models with noise): ``num_images``, ``seed`` (and
        the condition) -> images drawn from the model's prior, equal to
        ``generate(num_images, seed=seed)``."""
        if self._condition.kind == "text" and type(self).serving_condition is GAN.serving_condition:
            raise ConfigError(
                f"{type(self).__name__} is text-conditioned: its SavedModel takes raw "
                "strings, so it must encode them (override serving_condition with its "
                "text encoder) to be exported."
            )
        network = self.export_network
        condition_spec = self._condition.serving_spec()
        noise_spec = tf.TensorSpec([None, self.latent_dim], tf.float32, name="noise")
        count_specs = [
            tf.TensorSpec([], tf.int32, name="num_images"),
            tf.TensorSpec([], tf.int32, name="seed"),
        ]

        def images(noise, condition):
            if condition is not None:
                condition = self.serving_condition(condition)
            inputs = network_inputs(network, noise=noise, **self._condition_inputs(condition))
            return serving_outputs(network(inputs, training=False))

        def noise_for(num_images, seed):
            return self.latent_for_seed(num_images, tf.stack([seed, 0]))

        signatures = {}
        if self.latent_dim and condition_spec is None:
            signatures["serving_default"] = tf.function(
                lambda noise: images(noise, None), input_signature=[noise_spec]
            )
            signatures["sample"] = tf.function(
                lambda num_images, seed: images(noise_for(num_images, seed), None),
                input_signature=count_specs,
            )
        elif self.latent_dim:
            signatures["serving_default"] = tf.function(
                lambda noise, condition: images(noise, condition),
                input_signature=[noise_spec, condition_spec],
            )
            signatures["sample"] = tf.function(
                lambda num_images, seed, condition: images(noise_for(num_images, seed), condition),
                input_signature=count_specs + [condition_spec],
            )
        elif condition_spec is not None:
            signatures["serving_default"] = tf.function(
                lambda condition: images(None, condition), input_signature=[condition_spec]
            )
        else:
            raise ConfigError(f"{type(self).__name__} has neither noise nor a condition to serve.")
        return signatures

    def export_metadata(self):
        return {
            **super().export_metadata(),
            "latent_dim": self.latent_dim,
            "latent_prior": self.latent_prior(),
        }

    # --- Serialisation --------------------------------------------------------

    def get_config(self):
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "latent_dim": self.latent_dim,
            "d_steps": self.d_steps,
            "fresh_real_batches": self.fresh_real_batches,
            "adversarial_loss": self.adversarial_loss,
            "unrolled_steps": self.unrolled_steps,
            "unrolled_second_order": self.unrolled_second_order,
            "ema_decay": self.ema_decay,
            "augment": self.augment,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in cls.network_classes or ("generator", "discriminator"):
            if key in config:
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


def _averaged_copy(network):
    """A non-trainable twin of ``network`` (same class and config, name
    ``<name>_ema``) starting from its current weights."""
    config = dict(network.get_config())
    config["name"] = f"{network.name}_ema"
    twin = type(network).from_config(config)
    twin.set_weights(network.get_weights())
    twin.trainable = False
    return twin
