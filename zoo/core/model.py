"""``ZooModel``: the root of every model the zoo ships.

It holds what every architecture needs whatever its objective:

* **presets** and the registry (``zoo.get(name).from_preset(preset)``): the
  preset dictionaries live beside each model, hold only what differs from
  the defaults, and name the networks to build (``network_classes``);
* a **seed stream** (``seed_generator``) for every random draw of training,
  different on every replica (``next_seed``);
* a **global step** of its own (``step``), an int64 variable incremented
  once per train step: not an optimizer's ``iterations``, which a
  loss-scale optimizer does not advance on the steps it skips;
* **optimizers by role** (``optimizer_variables``: ``{"d_optimizer":
  [...], "g_optimizer": [...]}`` for a GAN), each built in ``compile``
  inside the strategy's scope; a model with no roles compiles like any
  Keras model (``compile(optimizer, loss=...)``, as a likelihood model
  such as PixelRNN will);
* **reporting** (``report``): running means of named values, as ``fit``
  logs them;
* **training phases** (``enter_phase``; see ``zoo.core.phases``);
* **inference and export**: ``generate``, ``export_network`` (what is saved
  as ``.keras``), ``export_signatures`` (what the SavedModel serves) and
  ``export_metadata`` (what ``metadata.json`` records);
* a **global-batch check**: ``fit`` rejects a batch that does not split
  evenly over the replicas, which would silently mis-weight the losses.

Everything that changes during training is a variable of the model (the
step, seeds, weights) or of its optimizers, so a checkpoint of the model
(``zoo.training.checkpoints``) resumes it exactly.
"""

import keras
import tensorflow as tf
from keras import ops

from zoo.core import conditions, replicas
from zoo.core.errors import ConfigError
from zoo.core.networks import input_names


def serving_outputs(images):
    """``{"images": float32 in [-1, 1], "images_uint8": uint8 in [0, 255]}``:
    what every image-producing signature of an export returns."""
    images = tf.cast(images, tf.float32)
    images_uint8 = tf.cast(
        tf.clip_by_value(tf.round((images + 1.0) * 127.5), 0.0, 255.0), tf.uint8
    )
    return {"images": images, "images_uint8": images_uint8}


class ZooModel(keras.Model):
    """Base of the zoo's models. Subclasses set:

    * ``network_classes``: ``{role: Network class}`` that ``from_preset``
      builds, each from the preset's ``role`` dictionary (plus
      ``image_shape`` where the class takes it);
    * ``default_training``: recipe defaults (dataset, batch size, epochs or
      phases, one ``"<role>"`` optimizer config per optimizer role, or
      ``"optimizer"`` for a single-optimizer model);
    * ``presets`` (attached by ``zoo.core.registry.register``).

    Args:
        seed: seed of the model's random stream (``None``: random).
    """

    architecture = None
    presets = {}
    network_classes = {}
    default_training = {"dataset": "mnist", "batch_size": 128, "epochs": 25}

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        # int64 so it never wraps; one value for all replicas, which all
        # increment it identically.
        self.step_counter = keras.Variable(
            0, dtype="int64", trainable=False, name="step", aggregation="only_first_replica"
        )
        # Filled by compile(): an architecture's metric names may depend on
        # attributes its constructor sets after this one returns.
        self.trackers = {}
        self.phase = None
        self.phase_start_step = 0
        # Role names only: a container of variables set as an attribute
        # would be tracked as the model's own weights.
        self._optimizer_roles = []

    # --- Presets ------------------------------------------------------------

    @classmethod
    def preset_config(cls, name):
        """The full configuration of preset ``name``, defaults filled in:
        ``{"description", "image_shape", <role>: {...} for each network,
        "model": {...}, "training": {...}}``."""
        if name not in cls.presets:
            known = ", ".join(sorted(cls.presets)) or "none"
            raise ConfigError(
                f"Unknown preset {name!r} for {cls.__name__}; known presets: {known}."
            )
        preset = cls.presets[name]
        config = {
            "description": preset.get("description", ""),
            "image_shape": tuple(preset["image_shape"]) if "image_shape" in preset else None,
            "model": dict(preset.get("model", {})),
            "training": {**cls.default_training, **preset.get("training", {})},
        }
        for role in cls.network_classes:
            config[role] = dict(preset.get(role, {}))
        return config

    @classmethod
    def network_defaults(cls, role, preset, model_args):
        """Arguments every network of ``role`` gets unless the preset says
        otherwise: ``image_shape`` for classes that take it."""
        network_class = cls.network_classes[role]
        arguments = network_class.constructor_arguments()
        if "image_shape" in arguments and preset["image_shape"] is not None:
            return {"image_shape": preset["image_shape"]}
        return {}

    @classmethod
    def from_preset(cls, name, pretrained=False, **overrides):
        """Build the model of preset ``name``: fresh weights, or with
        ``pretrained=True`` the trained generator the zoo ships under that
        name (``zoo.pretrained``), ready to sample or fine-tune.

        With ``pretrained=True`` the model is built from the preset the
        shipped model's metadata names, which may differ from its name: a
        preset trained on other data (``dcgan_fashion_mnist``, the
        ``dcgan_mnist`` preset on Fashion-MNIST) or another preset of the
        same networks (``discogan_emoji``, trained from
        ``discogan_emoji_no_curriculum``),
        so that fine-tuning continues with the training settings it had.

        ``overrides`` replace constructor arguments of the model, e.g.
        ``seed=0``; a dict under a network's role (``generator={...}``)
        updates that network's arguments.
        """
        preset_name = name
        if pretrained:
            from zoo.pretrained import pretrained as shipped

            preset_name = (shipped().get(name) or {}).get("preset") or name
        preset = cls.preset_config(preset_name)
        model_args = {**preset["model"], **overrides}
        networks = {}
        for role, network_class in cls.network_classes.items():
            arguments = {
                **cls.network_defaults(role, preset, model_args),
                **preset[role],
                **model_args.pop(role, {}),
            }
            networks[role] = network_class(**arguments)
        model = cls(**networks, **model_args)
        if pretrained:
            from zoo.pretrained import load_into

            load_into(model, name)
        return model

    # --- Random draws and the step ------------------------------------------

    def next_seed(self, per_replica=True):
        """A fresh int64 ``[2]`` seed from the model's stream. With
        ``per_replica`` the replica id is folded in, so that the replicas of
        a strategy draw different values; without it every replica gets the
        same seed (for draws over the global batch that each replica
        slices, which is how N replicas reproduce one device)."""
        seed = tf.cast(self.seed_generator.next(), tf.int64)
        if per_replica:
            seed = tf.random.experimental.stateless_fold_in(seed, replicas.replica_id())
        return seed

    def seed_states(self):
        """The state variables of every seed generator of the model, its own
        and its layers' (Dropout's): ``variables`` that are not weights. Keras
        weight files leave them out; the zoo's checkpoints save them."""
        weight_ids = {id(weight) for weight in self.weights}
        return [variable for variable in self.variables if id(variable) not in weight_ids]

    @property
    def step(self):
        """Train steps done so far: the global step (an int64 variable)."""
        return self.step_counter

    # --- Optimizers ---------------------------------------------------------

    def optimizer_variables(self):
        """``{role: trainable variables}`` of each optimizer the model trains
        with; ``{}`` for a model compiled like a plain Keras model."""
        return {}

    @classmethod
    def default_optimizer(cls, role):
        """A fresh optimizer from ``default_training[role]``."""
        if role not in cls.default_training:
            raise ConfigError(
                f"{cls.__name__} has no default for {role!r}; pass {role}= to compile()."
            )
        config = cls.default_training[role]
        return keras.optimizers.get(
            {"class_name": config["class_name"], "config": dict(config["config"])}
        )

    def compile(self, optimizer=None, jit_compile=False, steps_per_execution=1, **kwargs):
        """Set and build the optimizers.

        A model with optimizer roles (``optimizer_variables``) takes one
        optimizer per role as a keyword (``d_optimizer=``, ``g_optimizer=``,
        ...), each defaulting to ``default_training[role]`` (the
        architecture paper's), and builds each over its variables here, in
        the strategy scope ``compile`` runs in; under ``mixed_float16`` each
        is wrapped in a ``LossScaleOptimizer``. No Keras default optimizer is
        created (it would hold slots for every weight and be checkpointed).
        A model without roles compiles as Keras does, ``optimizer``
        defaulting to ``default_training["optimizer"]``.

        Args:
            jit_compile: compile the train step with XLA. Off by default: on
                CPU with oneDNN it is slower (``bench/train_step.py``).
            steps_per_execution: train steps per ``tf.function`` call.
        """
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.metric_names()}
        roles = self.optimizer_variables()
        given = {key: kwargs.pop(key) for key in list(kwargs) if key in roles}
        stray = [key for key in kwargs if key.endswith("_optimizer")]
        if stray:
            raise ConfigError(
                f"{type(self).__name__} has no optimizer role {', '.join(stray)}; "
                f"its roles are: {', '.join(roles) or 'none (pass optimizer=)'}."
            )
        if not roles:
            optimizer = optimizer or self.default_optimizer("optimizer")
            super().compile(
                optimizer=optimizer, jit_compile=jit_compile,
                steps_per_execution=steps_per_execution, **kwargs,
            )
            # Built here, in the strategy's scope, so that a checkpoint
            # restores its slots before the first step.
            self.optimizer.build(self.trainable_variables)
            return
        if optimizer is not None:
            raise ConfigError(
                f"{type(self).__name__} trains with one optimizer per role "
                f"({', '.join(roles)}); pass them by name, not optimizer=."
            )
        super().compile(
            optimizer=None, jit_compile=jit_compile,
            steps_per_execution=steps_per_execution, **kwargs,
        )
        mixed_float16 = keras.mixed_precision.global_policy().name == "mixed_float16"
        self._optimizer_roles = list(roles)
        for role, variables in roles.items():
            role_optimizer = given.get(role) or self.default_optimizer(role)
            if mixed_float16 and not isinstance(role_optimizer, keras.optimizers.LossScaleOptimizer):
                # float16 gradients underflow without loss scaling.
                role_optimizer = keras.optimizers.LossScaleOptimizer(role_optimizer)
            # Built inside the strategy scope compile() runs in, so its slot
            # variables are distributed variables from the start.
            role_optimizer.build(variables)
            setattr(self, role, role_optimizer)

    @property
    def optimizers(self):
        """``{role: optimizer}`` after ``compile`` (``{}`` before, and for a
        model compiled with a single Keras optimizer)."""
        return {role: getattr(self, role) for role in self._optimizer_roles}

    def apply_update(self, role, loss_fn, with_tape=False, when=None, restore=()):
        """One optimizer update of ``role``'s variables.

        ``loss_fn() -> (loss, reports)`` runs under a gradient tape (it is
        given the tape with ``with_tape``, to pause recording): ``loss`` is
        the scalar to minimise (already reduced over the global batch,
        ``reduce_loss``), ``reports`` the values to log. Returns ``reports``.

        ``when``, a boolean scalar tensor, makes the update conditional
        without control flow (an optimizer update inside ``tf.cond`` cannot
        synchronise replicas): the update is computed, then the variables,
        the optimizer's state and ``restore`` (e.g. batch-norm statistics
        the loss moved) are put back where ``when`` is false.
        """
        optimizer = getattr(self, role)
        variables = self.optimizer_variables()[role]
        if when is not None:
            # A loss-scale optimizer's variables include its inner optimizer's.
            state = list(variables) + list(optimizer.variables) + list(restore)
            saved = [tf.identity(ops.convert_to_tensor(v)) for v in state]
        with tf.GradientTape() as tape:
            loss, reports = loss_fn(tape) if with_tape else loss_fn()
            scaled_loss = optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled_loss, variables)
        optimizer.apply_gradients(zip(gradients, variables))
        if when is not None:
            for variable, old in zip(state, saved):
                variable.assign(ops.where(when, ops.convert_to_tensor(variable), old))
        return reports

    # --- Losses and reporting -----------------------------------------------

    def reduce_loss(self, per_example_loss):
        """Mean over the global batch of a ``[batch]`` loss.

        Gradients are summed across replicas, so each replica divides by the
        global batch size: N replicas then give the same update as one
        replica with the whole batch.
        """
        per_example_loss = ops.cast(per_example_loss, "float32")
        global_batch = ops.cast(ops.shape(per_example_loss)[0], "float32") * float(
            replicas.num_replicas()
        )
        return ops.sum(per_example_loss) / global_batch

    def regularization_loss(self, *networks):
        """The networks' own losses (kernel regularisers), shared out over
        the replicas so that their gradient sums to one copy's."""
        values = [ops.cast(x, "float32") for network in networks for x in network.losses]
        if not values:
            return 0.0
        return ops.sum(ops.stack(values)) / float(replicas.num_replicas())

    def metric_names(self):
        """Names of the values ``train_step`` reports (one tracker each)."""
        return []

    @property
    def metrics(self):
        # The trackers are all a model with its own train step logs; Keras's
        # own (the compiled loss) only serve a model compiled with a loss.
        if self.trackers:
            return list(self.trackers.values())
        return super().metrics

    def report(self, results):
        """Update the trackers with a step's ``{name: value}`` (or ``{name:
        (value, weight)}`` for a value computed on some steps only, weight 0
        on the others) and return what ``fit`` logs: each tracker's running
        mean.

        Under a multi-worker ``MultiWorkerMirroredStrategy``, Keras 3 reduces
        the per-replica outputs of a train step with
        ``strategy.reduce(MEAN, value, axis=0)``, which fails on scalars
        ("Invalid reduction dimension 0 for input with 0 dimensions",
        tensorflow/tensorflow#72388); there each value goes out as ``[1]``,
        which that reduction turns into the scalar mean over replicas.
        """
        for name, value in results.items():
            if name not in self.trackers:
                raise ConfigError(
                    f"{type(self).__name__} reports {name!r}, which is not in metric_names()."
                )
            # (value, weight): a value computed on some steps only (weight 0
            # on the others, which then leave its running mean alone).
            value, weight = value if isinstance(value, tuple) else (value, None)
            self.trackers[name].update_state(value, sample_weight=weight)
        logs = {name: tracker.result() for name, tracker in self.trackers.items()}
        if replicas.in_multi_worker_mode():
            logs = {name: ops.reshape(value, [1]) for name, value in logs.items()}
        return logs

    # --- The train step -----------------------------------------------------

    def train_step(self, data):
        """``training_updates(data)``, then the global step advances by one.

        A model with optimizer roles implements ``training_updates`` (its
        objective, returning ``{name: value}`` to report); one without uses
        Keras's own compiled-loss step.
        """
        if self._optimizer_roles:
            results = self.training_updates(data)
            self.step_counter.assign_add(1)
            return self.report(results)
        logs = super().train_step(data)
        self.step_counter.assign_add(1)
        return logs

    def training_updates(self, data):
        """The updates of one train step; returns ``{name: value}`` to log
        (see ``report``)."""
        raise NotImplementedError

    def fit(self, x=None, *args, **kwargs):
        """Keras's ``fit``, after checking that the global batch splits
        evenly over the replicas (see ``replicas.check_global_batch``)."""
        if isinstance(x, tf.data.Dataset):
            spec = tf.nest.flatten(x.element_spec)[0]
            if spec.shape.rank:
                replicas.check_global_batch(
                    spec.shape[0], self.distribute_strategy.num_replicas_in_sync
                )
        return super().fit(x, *args, **kwargs)

    # --- Training phases ----------------------------------------------------

    def enter_phase(self, phase, start_step):
        """Called by the trainer before the steps of ``phase`` (a
        ``zoo.core.phases.Phase``) that starts at global step
        ``start_step``. The base stores it (``self.phase``) and drops the
        compiled train function, so the next ``fit`` traces the step anew
        with the phase's settings; a model whose networks grow or freeze
        per phase overrides this (and calls it)."""
        self.phase = phase
        self.phase_start_step = int(start_step)
        self.train_function = None

    def phase_progress(self):
        """The fade-in ramp ``alpha`` of the current phase: 0 at its start,
        1 after ``phase.fade_in_steps`` steps (1 without a fade-in); a
        float32 scalar computed from the global step in the graph."""
        if self.phase is None or not self.phase.fade_in_steps:
            return ops.convert_to_tensor(1.0, "float32")
        done = ops.cast(self.step_counter - self.phase_start_step, "float32")
        return ops.clip(done / float(self.phase.fade_in_steps), 0.0, 1.0)

    def exported_generator_is_trained(self):
        """Whether what ``generate`` and the export use is the network the
        current step trains, so that scoring it now means something. True
        here; a progressive model (ProGAN) says False until its final
        resolution is fully faded in, since before that its full-size
        output comes from layers not trained yet. The FID tracker scores
        only steps where this holds."""
        return True

    # --- Inference and export -----------------------------------------------

    @property
    def condition(self):
        """What the model is conditioned on (``zoo.core.conditions``)."""
        return conditions.Condition()

    @property
    def export_network(self):
        """The network saved as ``.keras`` and served by the SavedModel."""
        raise NotImplementedError

    def export_tracked(self):
        """Every network the export signatures call (tracked by the archive)."""
        return [self.export_network]

    def export_signatures(self):
        """``{name: tf.function with an input_signature}`` for the SavedModel;
        ``serving_default`` first."""
        raise NotImplementedError

    def export_metadata(self):
        """Facts about the model for ``metadata.json``."""
        network = self.export_network
        return {
            "architecture": self.architecture,
            "condition": self.condition.describe(),
            "image_shape": [None if d is None else int(d) for d in network.outputs[0].shape[1:]],
            "inputs": input_names(network),
            "step": int(self.step.numpy()),
        }

    def generate(self, num_images=None, seed=None, condition=None, batch_size=256):
        """Sample images, float32 ``[N, H, W, C]`` in [-1, 1]."""
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "seed": self.seed}
