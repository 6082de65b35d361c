"""The command line every recipe shares: ``python recipes/<arch>.py --flags``,
or for any architecture ``python -m zoo.train <arch> --flags``.

A recipe is two lines: ``zoo.training.recipe.main("dcgan",
default_preset=...)``. It builds the model of a preset under the chosen
``tf.distribute`` strategy, loads the dataset, trains with ``fit`` (progress
bar, TensorBoard scalars and fixed-noise sample grids, checkpoints every
``--checkpoint_every`` steps; a preset with training phases runs them in
turn), resumes from ``--logdir`` when a checkpoint is there, and finally
exports the model (``zoo.export``) with its metadata.

Bad input (an unknown dataset, a batch size that cannot work, a checkpoint
of another model, a diverging run) ends with one line on stderr naming the
problem and the fix, and a non-zero exit code: 2 for what was asked, 1 for
what happened in training. Nothing already saved is lost.
"""

import dataclasses
import os
import shlex
import sys
import time
import zlib

from absl import app, flags

import zoo  # noqa: F401  (turns oneDNN on before TensorFlow loads)
import keras

from zoo import export
from zoo.core import phases as phases_lib
from zoo.core import registry, replicas
from zoo.core.optimizers import optimizer_from_config
from zoo.core.errors import ConfigError, TrainingDiverged, ZooError
from zoo.training import distribute
from zoo.training.callbacks import TensorBoardLogger
from zoo.training.checkpoints import Checkpointer, load_weights_exactly
from zoo.training.fid_tracking import CURVE_FILE, FIDTracker, best_weights_file, read_curve
from zoo.training.datasets import load_training_data
from zoo.training.loop import fit_resumable

FLAGS = flags.FLAGS

flags.DEFINE_string("preset", None, "Model preset (default: the recipe's); see zoo.presets().")
flags.DEFINE_string(
    "dataset",
    None,
    "TFDS name (mnist, fashion_mnist, cifar10, celeb_a, ...), a folder of IDX "
    "files, a folder of images or a .zip of images. Default: the preset's.",
)
flags.DEFINE_string(
    "data_dir",
    None,
    "Where local copies of named datasets live (e.g. a folder with MNIST's IDX "
    "files); also TFDS's data_dir. $ZOO_DATA_DIR is searched too.",
)
flags.DEFINE_string("split", "train", "Dataset split to train on.")
flags.DEFINE_bool(
    "resize", None, "Centre-crop and resize images to the model's size (default: the preset's)."
)
flags.DEFINE_integer(
    "batch_size",
    None,
    "Global batch size of each update (default: the preset's); WGAN, WGAN-GP and SNGAN "
    "read one such batch per critic update, 5 per step.",
)
flags.DEFINE_integer("epochs", None, "Total epochs (default: the preset's).")
flags.DEFINE_integer(
    "steps_per_epoch", None, "Steps per epoch (default: one pass over the data)."
)
flags.DEFINE_list(
    "phase_steps", None,
    "For a preset with training phases (SRGAN: srresnet, srgan; ProGAN: one per resolution): "
    "the steps of each phase, comma-separated, in place of the preset's; a fade-in keeps its share.",
)
flags.DEFINE_float("learning_rate", None, "Learning rate of a single-optimizer model (PixelRNN; default: the preset's).")
flags.DEFINE_string(
    "variant", None,
    "For an architecture whose presets are named <variant>_<dataset> (pixelrnn: pixelcnn, "
    "row_lstm, diagonal_bilstm): the variant, keeping the preset's dataset.",
)
flags.DEFINE_float("d_learning_rate", None, "Discriminator learning rate (default: the preset's).")
flags.DEFINE_float("g_learning_rate", None, "Generator learning rate (default: the preset's).")
flags.DEFINE_integer("seed", 0, "Seed of the data order, the weights and the noise.")
flags.DEFINE_string(
    "logdir", None, "TensorBoard logs and checkpoints (default: runs/<arch>_<dataset>)."
)
flags.DEFINE_string(
    "export_dir", None, "Where the generator is saved (default: savedmodels/<arch>_<dataset>)."
)
flags.DEFINE_integer("checkpoint_every", 500, "Steps between checkpoints.")
flags.DEFINE_integer("log_every", 50, "Steps between TensorBoard scalar writes.")
flags.DEFINE_integer(
    "sample_every", 0, "Steps between sample grids (0: at the end of each epoch only; -1: none)."
)
flags.DEFINE_enum(
    "strategy",
    "default",
    list(distribute.STRATEGIES),
    "tf.distribute strategy. multiworker reads the cluster from TF_CONFIG; "
    "tpu uses --tpu.",
)
flags.DEFINE_string(
    "tpu", "local", "TPU resolver address for --strategy=tpu: a TPU name, grpc://host:port, or local."
)
flags.DEFINE_integer(
    "cpu_replicas",
    0,
    "With --strategy=mirrored on a machine without GPUs: split the CPU into this many devices.",
)
flags.DEFINE_bool("jit_compile", False, "Compile the train step with XLA.")
flags.DEFINE_bool(
    "mixed_precision",
    False,
    "Mixed precision: float16 with loss scaling on GPUs, bfloat16 elsewhere.",
)
flags.DEFINE_float(
    "ema_decay", None, "Keep an exponential moving average of the generator (e.g. 0.999); it is what is exported."
)
flags.DEFINE_string("augment", None, "DiffAugment policy for both players, e.g. color,translation,cutout.")
flags.DEFINE_integer("unrolled_steps", None, "Unrolled discriminator steps in the generator update (Metz et al. 2016).")
flags.DEFINE_integer(
    "fid_every", 0,
    "Steps between FID evaluations during training (0: none). The curve goes to "
    "<logdir>/fid_curve.json and TensorBoard, and the step with the lowest FID is what is exported.",
)
flags.DEFINE_integer(
    "fid_samples", 5000,
    "Generated images per FID evaluation during training (FID is biased upwards at small "
    "counts: compare values at equal counts; the papers' protocol, 10,000, is zoo.evaluate's default).",
)
flags.DEFINE_enum(
    "fid_network", "inception", ["inception", "classifier"],
    "Features of the FID during training: the standard Inception network, or the zoo's "
    "MNIST / Fashion-MNIST classifier (fast on a CPU; its values are not comparable with FID).",
)
flags.DEFINE_string("fid_split", "test", "Real split the FID during training compares with (all of it).")
flags.DEFINE_integer("verbose", 1, "0: silent, 1: progress bar, 2: one line per epoch.")


def phase_seed(index):
    """The data-order seed of phase ``index``: ``--seed`` for the first
    phase, a hash of (seed, index) for the others, so that no two phases,
    and no phase of another --seed, share an order."""
    if index == 0:
        return FLAGS.seed
    return zlib.crc32(f"{FLAGS.seed}:{index}".encode()) & 0x7FFFFFFF


def _slug(dataset):
    name = os.path.basename(os.path.normpath(str(dataset)))
    return os.path.splitext(name)[0].replace("-", "_")


def _set_precision(enabled):
    import tensorflow as tf

    if not enabled:
        return None
    policy = "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"
    keras.mixed_precision.set_global_policy(policy)
    return policy


def check_flags():
    """One clear ``ConfigError`` for each flag value that cannot work."""
    positive = ("batch_size", "epochs", "steps_per_epoch", "checkpoint_every", "log_every")
    for name in positive:
        value = getattr(FLAGS, name)
        if value is not None and value < 1:
            raise ConfigError(f"--{name} must be >= 1, got {value}.")
    if FLAGS.sample_every < -1:
        raise ConfigError(
            f"--sample_every must be >= 0 (0: once per epoch) or -1 (no grids), got {FLAGS.sample_every}."
        )
    for name in ("d_learning_rate", "g_learning_rate", "learning_rate"):
        value = getattr(FLAGS, name)
        if value is not None and not value > 0:
            raise ConfigError(f"--{name} must be > 0, got {value}.")
    if FLAGS.ema_decay is not None and not 0.0 <= FLAGS.ema_decay < 1.0:
        raise ConfigError(f"--ema_decay must be in [0, 1) (e.g. 0.999), got {FLAGS.ema_decay}.")
    if FLAGS.unrolled_steps is not None and FLAGS.unrolled_steps < 0:
        raise ConfigError(f"--unrolled_steps must be >= 0, got {FLAGS.unrolled_steps}.")
    if FLAGS.fid_samples < 2:
        raise ConfigError(f"--fid_samples must be >= 2 (FID needs a covariance), got {FLAGS.fid_samples}.")
    if FLAGS.fid_every < 0:
        raise ConfigError(f"--fid_every must be >= 0 (0: no FID during training), got {FLAGS.fid_every}.")
    if FLAGS.cpu_replicas and (FLAGS.cpu_replicas < 2 or FLAGS.strategy != "mirrored"):
        raise ConfigError(
            f"--cpu_replicas needs --strategy=mirrored and a count >= 2, got {FLAGS.cpu_replicas}."
        )


def build_model(model_class, preset):
    """The preset's model with the technique flags (not compiled)."""
    techniques = {
        name: getattr(FLAGS, name)
        for name in ("ema_decay", "augment", "unrolled_steps")
        if getattr(FLAGS, name) is not None
    }
    return model_class.from_preset(preset, seed=FLAGS.seed, **techniques)


def compile_model(model, settings, total_steps):
    """Compile with the preset's optimizers: every ``"<role>_optimizer"``
    (two for a GAN, three for an adversarial autoencoder), their rates
    replaced by ``--d_learning_rate`` / ``--g_learning_rate``, schedules
    sized to the run's ``total_steps``."""
    learning_rates = {
        "d_optimizer": FLAGS.d_learning_rate, "g_optimizer": FLAGS.g_learning_rate,
        "optimizer": FLAGS.learning_rate,
    }
    optimizers = {
        key: optimizer_from_config(value, total_steps, learning_rates.get(key))
        for key, value in settings.items()
        if key.endswith("_optimizer") or key == "optimizer"
    }
    model.compile(jit_compile=FLAGS.jit_compile, **optimizers)


def with_variant(model_class, preset, variant):
    """The preset of ``variant`` for the dataset of ``preset``
    (``diagonal_bilstm_mnist`` with ``row_lstm`` -> ``row_lstm_mnist``)."""
    if variant is None:
        return preset
    prefixes = sorted({p.split("_" + p.rsplit("_", 1)[-1])[0] for p in model_class.presets}, key=len, reverse=True)
    base = next((p for p in prefixes if preset.startswith(p + "_")), None)
    chosen = f"{variant}_{preset[len(base) + 1:]}" if base else None
    if chosen not in model_class.presets:
        raise ConfigError(
            f"No {variant!r} variant of preset {preset!r}: --variant takes "
            f"{', '.join(sorted(prefixes))} for {model_class.__name__}."
        )
    return chosen


def preset_for_dataset(model_class, preset, dataset):
    """``preset`` moved to ``dataset`` when the architecture has a preset
    of the same name for it (``dcgan_mnist`` with ``--dataset=cifar10`` ->
    ``dcgan_cifar10``), so that a dataset flag alone gets that dataset's
    network; otherwise ``preset``."""
    own = _slug(model_class.preset_config(preset)["training"]["dataset"])
    if not dataset or not preset.endswith("_" + own):
        return preset
    candidate = preset[: -len(own)] + _slug(dataset)
    return candidate if candidate in model_class.presets else preset


def with_phase_steps(entries, phase_steps, preset):
    """The preset's phase entries with the steps ``--phase_steps`` gives
    (one count per phase), or as they are without it."""
    if not phase_steps:
        return entries
    if not entries:
        raise ConfigError(f"--phase_steps: preset {preset!r} has no training phases (use --epochs).")
    try:
        counts = [int(count) for count in phase_steps]
    except ValueError:
        raise ConfigError(f"--phase_steps takes whole numbers, got {','.join(phase_steps)}.") from None
    if len(counts) != len(entries) or min(counts) < 1:
        names = ", ".join(entry.get("name", "?") for entry in entries)
        raise ConfigError(
            f"--phase_steps needs {len(entries)} positive step counts ({names}); got {','.join(phase_steps)}."
        )
    resized = []
    for entry, count in zip(entries, counts):
        entry = dict(entry)
        length = entry.pop("images", None) or entry.get("steps")
        # A fade-in keeps its share of the phase (ProGAN: half).
        fade = entry.pop("fade_in_images", None) or entry.pop("fade_in_steps", None)
        if fade and length:
            entry["fade_in_steps"] = max(1, round(count * fade / length))
        resized.append({**entry, "steps": count})
    return resized


def run(architecture, preset):
    """Train ``architecture`` with preset ``preset`` as the flags say; returns the model."""
    check_flags()
    model_class = registry.get(architecture)
    preset = with_variant(model_class, preset, FLAGS.variant)
    config = model_class.preset_config(preset)
    settings = config["training"]
    dataset = FLAGS.dataset or settings["dataset"]
    batch_size = FLAGS.batch_size if FLAGS.batch_size is not None else settings["batch_size"]
    epochs = FLAGS.epochs if FLAGS.epochs is not None else settings["epochs"]
    resize = FLAGS.resize if FLAGS.resize is not None else settings.get("resize", False)
    image_shape = config["image_shape"]
    log_dir = FLAGS.logdir or os.path.join("runs", f"{architecture}_{_slug(dataset)}")
    export_dir = FLAGS.export_dir or os.path.join(
        "savedmodels", f"{architecture}_{_slug(dataset)}"
    )

    devices = distribute.split_cpu(FLAGS.cpu_replicas) if FLAGS.cpu_replicas else None
    strategy = distribute.make_strategy(FLAGS.strategy, tpu=FLAGS.tpu, devices=devices)
    replicas.check_global_batch(batch_size, strategy.num_replicas_in_sync, what="--batch_size")
    policy = _set_precision(FLAGS.mixed_precision)

    keras.utils.set_random_seed(FLAGS.seed)
    with strategy.scope():
        model = build_model(model_class, preset)
    check_fid_flags(model, architecture, dataset)
    training_data = load_training_data(
        model, dataset, FLAGS.split, FLAGS.data_dir, image_shape, resize,
        degradation=settings.get("degradation"),
    )

    # A model with fresh_real_batches eats d_steps real batches per step.
    group = getattr(model, "real_batches_per_step", 1)
    phase_entries = with_phase_steps(settings.get("phases"), FLAGS.phase_steps, preset)
    phases = phases_lib.from_config(phase_entries, batch_size) if phase_entries else None

    def steps_in_epoch(batch):
        return FLAGS.steps_per_epoch or training_data.steps_per_epoch(batch)

    if phases:
        for phase in phases:
            replicas.check_global_batch(phase.batch_size, strategy.num_replicas_in_sync,
                                        what=f"batch size of phase {phase.name!r}")
        total_steps = sum(p.steps for p in phases)
        schedule = (
            f"{len(phases)} phases, {total_steps} steps "
            f"({', '.join(f'{p.name}: {p.steps}' for p in phases)})"
        )
        training_args = {
            "phases": phases,
            "steps_per_epoch": lambda phase: steps_in_epoch(phase.batch_size),
        }

        def make_stream(index, start_step):
            phase = phases[index]
            return training_data.stream(phase.batch_size, start_step, phase.resolution, phase_seed(index))

        steps_per_epoch = None
    else:
        steps_per_epoch = steps_in_epoch(batch_size)
        total_steps = epochs * steps_per_epoch
        schedule = f"{epochs} epochs x {steps_per_epoch} steps"
        training_args = {"epochs": epochs, "steps_per_epoch": steps_per_epoch}

        def make_stream(start_step):
            return training_data.stream(batch_size, start_step, None, FLAGS.seed)

    with strategy.scope():
        compile_model(model, settings, total_steps)

    real_per_step = f" ({group} real batches per step)" if group > 1 else ""
    print(
        f"{architecture} ({preset}) on {training_data.description}, batch {batch_size}"
        f"{real_per_step} over {strategy.num_replicas_in_sync} replica(s), {schedule}"
        f"{', ' + policy if policy else ''}. Logs: {log_dir}"
    )

    logger = TensorBoardLogger(
        log_dir,
        scalar_every=FLAGS.log_every,
        sample_every=FLAGS.sample_every or None,
        condition=training_data.grid_condition,
        grid=training_data.grid,
    )
    checkpointer = Checkpointer(os.path.join(log_dir, "checkpoints"), every=FLAGS.checkpoint_every)
    trackers = [fid_tracker(dataset, log_dir, total_steps, checkpointer)] if FLAGS.fid_every else []
    for tracker in trackers:
        tracker.prepare()  # a bad split or missing weights fails now, not after fid_every steps
    started = time.time()
    step = fit_resumable(
        model,
        make_stream,
        checkpoint_dir=checkpointer.directory,
        checkpointer=checkpointer,
        callbacks=[logger],
        after_checkpoint=trackers,
        verbose=FLAGS.verbose,
        **training_args,
    )
    seconds = time.time() - started
    for tracker in trackers:
        tracker.catch_up(model)  # a run killed while scoring its last step
        tracker.close()
    latest = checkpointer.latest() or {}
    selection = restore_best(model, log_dir) if FLAGS.fid_every else None
    if distribute.is_chief():
        command = "python " + " ".join(shlex.quote(a) for a in sys.argv)
        export.save_generator(
            model,
            export_dir,
            {
                "preset": preset,
                "dataset": str(dataset),
                "split": FLAGS.split,
                "batch_size": batch_size,
                "real_batches_per_step": group,
                "epochs": None if phases else epochs,
                "steps_per_epoch": steps_per_epoch,
                "phases": [dataclasses.asdict(p) for p in phases] if phases else None,
                "command": command,
                "seconds_this_run": round(seconds, 1),
                "seconds_total": latest.get("seconds"),
                "hardware": distribute.describe_hardware(),
                "final_step": step,
                "selected_by_fid": selection,
                "fid_curve": read_curve(log_dir) if FLAGS.fid_every else None,
            },
        )
        chosen = f" (the step with the lowest FID, {selection['step']})" if selection else ""
        print(f"Trained to step {step}; generator{chosen} saved to {export_dir}")
    return model


def check_fid_flags(model, architecture, dataset):
    """--fid_every for generators of noise (and class labels) only;
    --fid_network=classifier only where a classifier ships."""
    from zoo.core.adversarial import GAN
    from zoo.metrics.classifier import CLASSIFIER_DATASETS

    kind = getattr(getattr(model, "_condition", None), "kind", None)
    if FLAGS.fid_every and (not isinstance(model, GAN) or kind not in ("none", "class")):
        raise ConfigError(
            f"--fid_every scores generators of noise (and class labels); {architecture} "
            f"{'is not a GAN' if not isinstance(model, GAN) else 'generates from ' + str(kind) + ' inputs'}: "
            "score its export with python -m zoo.evaluate instead."
        )
    if FLAGS.fid_every and FLAGS.fid_network == "classifier" and _slug(dataset) not in CLASSIFIER_DATASETS:
        raise ConfigError(
            f"--fid_network=classifier needs a dataset with a shipped classifier "
            f"({', '.join(CLASSIFIER_DATASETS)}), not {dataset}; use --fid_network=inception."
        )


def fid_tracker(dataset, log_dir, total_steps, checkpointer):
    """The ``FIDTracker`` that --fid_every, --fid_samples, --fid_network and --fid_split ask for."""
    from zoo.metrics.callback import FIDCallback
    from zoo.metrics.classifier import classifier_extractor

    # The classifier is the dataset's by name (a folder named mnist too).
    network = classifier_extractor(_slug(dataset)) if FLAGS.fid_network == "classifier" else "inception"
    scorer = FIDCallback(
        network, dataset=str(dataset), data_dir=FLAGS.data_dir,
        real_split=FLAGS.fid_split, num_samples=FLAGS.fid_samples, seed=FLAGS.seed, log_dir=log_dir,
    )
    description = {
        "network": FLAGS.fid_network, "num_samples": FLAGS.fid_samples,
        "dataset": str(dataset), "real_split": FLAGS.fid_split, "seed": FLAGS.seed,
    }
    return FIDTracker(scorer, log_dir, FLAGS.fid_every, total_steps, checkpointer, description)


def restore_best(model, log_dir):
    """Load the checkpoint with the lowest FID the run measured into
    ``model`` (for the export); returns ``{"step", "fid", ...}`` or None."""
    curve = read_curve(log_dir)
    best = (curve or {}).get("best")
    if not best:
        return None
    path = best_weights_file(log_dir, curve)
    if not os.path.exists(path):
        raise ConfigError(
            f"{path} (step {best['step']}, the lowest FID) is missing: restore it, or delete "
            f"{os.path.join(log_dir, CURVE_FILE)} to export the last step."
        )
    load_weights_exactly(model, path, f"the best checkpoint {path} (step {best['step']})")
    return {"step": best["step"], "fid": best["fid"], "metric": curve["metric"],
            "network": curve.get("network"), "num_samples": curve.get("num_samples"),
            "real_split": curve.get("real_split")}


def _fail(error):
    """Print a ``ZooError`` as one line and exit: 1 if training diverged,
    2 if what was asked cannot work (bad flags or data, a checkpoint of
    another model)."""
    code = 1 if isinstance(error, TrainingDiverged) else 2
    message = " ".join(str(error).split())
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


def _quiet_unless_asked():
    """TensorFlow's INFO messages (every file an export writes) drown the
    progress bar; show warnings and errors only, unless --verbosity asks."""
    from absl import logging

    if not FLAGS["verbosity"].present:
        logging.set_verbosity(logging.WARNING)


def main(architecture, default_preset):
    """Entry point of ``recipes/<architecture>.py``."""

    def _main(argv):
        _quiet_unless_asked()
        if len(argv) > 1:
            _fail(ConfigError(f"Unexpected arguments: {' '.join(argv[1:])} (flags start with --)."))
        try:
            model_class = registry.get(architecture)
            run(architecture, FLAGS.preset or preset_for_dataset(model_class, default_preset, FLAGS.dataset))
        except ZooError as error:
            _fail(error)

    app.run(_main)


def main_any():
    """Entry point of ``python -m zoo.train <architecture> [--flags]``: the
    recipe of any architecture (``--preset`` alone also names it)."""

    def _main(argv):
        _quiet_unless_asked()
        try:
            if len(argv) > 2:
                raise ConfigError(f"Unexpected arguments: {' '.join(argv[2:])} (flags start with --).")
            if len(argv) == 2:
                architecture = argv[1]
                model_class = registry.get(architecture)
            elif FLAGS.preset:
                architecture = registry.architecture_of_preset(FLAGS.preset)
                model_class = registry.get(architecture)
            else:
                raise ConfigError(
                    "Name an architecture: python -m zoo.train <architecture> [--flags]; "
                    f"architectures: {', '.join(registry.names())}."
                )
            preset = FLAGS.preset or preset_for_dataset(model_class, next(iter(model_class.presets)), FLAGS.dataset)
            if preset not in model_class.presets:
                raise ConfigError(
                    f"Preset {preset!r} is not one of {architecture}'s: "
                    f"{', '.join(model_class.presets)}."
                )
            run(architecture, preset)
        except ZooError as error:
            _fail(error)

    app.run(_main)
