"""The command line every recipe shares: ``python recipes/<arch>.py --flags``.

A recipe is two lines: ``zoo.recipe.main("dcgan", default_preset=...)``.
It loads the dataset, builds the model of a preset under the chosen
``tf.distribute`` strategy, trains with ``fit`` (progress bar, TensorBoard
scalars and fixed-noise sample grids, checkpoints every
``--checkpoint_every`` steps), resumes from ``--logdir`` when a checkpoint is
there, and finally exports the generator (``zoo.export``) with a model card.
"""

import os
import shlex
import sys
import time

from absl import app, flags

import zoo  # noqa: F401  (turns oneDNN on before TensorFlow loads)
import keras
import numpy as np

from zoo import data, distribute, export, registry, training
from zoo.callbacks import TensorBoardLogger

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
flags.DEFINE_bool("resize", None, "Resize images to the model's size (default: the preset's).")
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
    "sample_every", 0, "Steps between sample grids (0: at the end of each epoch only)."
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
flags.DEFINE_integer("verbose", 1, "0: silent, 1: progress bar, 2: one line per epoch.")


def _slug(dataset):
    name = os.path.basename(os.path.normpath(str(dataset)))
    return os.path.splitext(name)[0].replace("-", "_")


def _optimizer(config, learning_rate):
    config = {"class_name": config["class_name"], "config": dict(config["config"])}
    if learning_rate is not None:
        config["config"]["learning_rate"] = learning_rate
    return keras.optimizers.get(config)


def _set_precision(enabled):
    import tensorflow as tf

    if not enabled:
        return None
    policy = "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"
    keras.mixed_precision.set_global_policy(policy)
    return policy


def run(architecture, preset):
    """Train ``architecture`` with preset ``preset`` as the flags say."""
    model_class = registry.get(architecture)
    config = model_class.preset_config(preset)
    settings = config["training"]
    dataset = FLAGS.dataset or settings["dataset"]
    batch_size = FLAGS.batch_size or settings["batch_size"]
    epochs = FLAGS.epochs or settings["epochs"]
    resize = FLAGS.resize if FLAGS.resize is not None else settings.get("resize", False)
    image_shape = config["image_shape"]
    log_dir = FLAGS.logdir or os.path.join("runs", f"{architecture}_{_slug(dataset)}")
    export_dir = FLAGS.export_dir or os.path.join(
        "savedmodels", f"{architecture}_{_slug(dataset)}"
    )

    if FLAGS.strategy == "mirrored" and FLAGS.cpu_replicas:
        devices = distribute.split_cpu(FLAGS.cpu_replicas)
    else:
        devices = None
    strategy = distribute.make_strategy(FLAGS.strategy, tpu=FLAGS.tpu, devices=devices)
    policy = _set_precision(FLAGS.mixed_precision)

    images, labels = data.load_arrays(
        dataset, FLAGS.split, FLAGS.data_dir, image_size=image_shape[0] if resize else None
    )
    data.check_image_shape(images, image_shape, str(dataset))
    with_labels = bool(getattr(model_class, "conditional", False))

    keras.utils.set_random_seed(FLAGS.seed)
    with strategy.scope():
        techniques = {
            name: getattr(FLAGS, name)
            for name in ("ema_decay", "augment", "unrolled_steps")
            if getattr(FLAGS, name) is not None
        }
        model = model_class.from_preset(preset, seed=FLAGS.seed, **techniques)
        # Every "<role>_optimizer" of the preset goes to compile(): two for a
        # GAN, three for an adversarial autoencoder.
        learning_rates = {"d_optimizer": FLAGS.d_learning_rate, "g_optimizer": FLAGS.g_learning_rate}
        optimizers = {
            key: _optimizer(value, learning_rates.get(key))
            for key, value in settings.items()
            if key.endswith("_optimizer")
        }
        model.compile(jit_compile=FLAGS.jit_compile, **optimizers)

    # A model with fresh_real_batches eats d_steps real batches per step.
    group = model.real_batches_per_step
    steps_per_epoch = FLAGS.steps_per_epoch or data.steps_per_epoch(
        len(images), batch_size * group
    )
    real_per_step = f" ({group} real batches per step)" if group > 1 else ""
    print(
        f"{architecture} ({preset}) on {dataset} {FLAGS.split}: {len(images)} images "
        f"{tuple(images.shape[1:])}, batch {batch_size}{real_per_step} over "
        f"{strategy.num_replicas_in_sync} replica(s), {epochs} epochs x "
        f"{steps_per_epoch} steps{', ' + policy if policy else ''}. Logs: {log_dir}"
    )

    def make_stream(start_step):
        return data.make_dataset(
            images,
            labels,
            batch_size,
            seed=FLAGS.seed,
            start_step=start_step,
            with_labels=with_labels,
            group=group,
        )

    sample_labels = None
    if with_labels:
        sample_labels = np.arange(64) % model.num_classes
    logger = TensorBoardLogger(
        log_dir,
        scalar_every=FLAGS.log_every,
        sample_every=FLAGS.sample_every or None,
        labels=sample_labels,
    )
    started = time.time()
    step = training.fit_resumable(
        model,
        make_stream,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        checkpoint_dir=os.path.join(log_dir, "checkpoints"),
        checkpoint_every=FLAGS.checkpoint_every,
        callbacks=[logger],
        verbose=FLAGS.verbose,
    )
    seconds = time.time() - started
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
                "epochs": epochs,
                "steps_per_epoch": steps_per_epoch,
                "command": command,
                "seconds_this_run": round(seconds, 1),
            },
        )
        print(f"Trained to step {step}; generator saved to {export_dir}")
    return model


def main(architecture, default_preset):
    """Entry point of ``recipes/<architecture>.py``."""

    def _main(argv):
        if len(argv) > 1:
            raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
        run(architecture, FLAGS.preset or default_preset)

    app.run(_main)
