"""Keras callbacks for adversarial training: TensorBoard scalars and sample
grids keyed by the global step, checkpoints that resume with no lost step,
and a stop on NaN that keeps the last good checkpoint.

Everything is keyed by ``model.step`` (the generator's update count, saved
with the optimizer), not by Keras's per-``fit`` batch counter, so that a
resumed run continues the same curves and the same fixed-noise grid.
"""

import glob
import json
import math
import os
import re

import keras
import numpy as np
import tensorflow as tf

from zoo import distribute


def to_uint8(images):
    """``[-1, 1]`` float images -> uint8 ``[0, 255]``, as when saved to PNG."""
    images = np.asarray(images, dtype=np.float32)
    return np.clip(np.round((images + 1.0) * 127.5), 0, 255).astype(np.uint8)


def image_grid(images, columns=None):
    """Tile uint8 images ``[N, H, W, C]`` into one ``[rows*H, columns*W, C]``."""
    images = np.asarray(images)
    num, height, width, channels = images.shape
    columns = columns or int(math.ceil(math.sqrt(num)))
    rows = int(math.ceil(num / columns))
    grid = np.zeros((rows * height, columns * width, channels), dtype=images.dtype)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        grid[r * height : (r + 1) * height, c * width : (c + 1) * width] = image
    return grid


def save_png(path, image):
    """Write a uint8 ``[H, W, C]`` image (C = 1 or 3) as PNG."""
    data = tf.io.encode_png(tf.convert_to_tensor(image, tf.uint8))
    tf.io.write_file(path, data)


class TensorBoardLogger(keras.callbacks.Callback):
    """TensorBoard scalars and fixed-noise sample grids, keyed by global step.

    Args:
        log_dir: TensorBoard log directory. Sample grids are also written as
            ``log_dir/samples/step_XXXXXXXX.png``.
        scalar_every: write every reported value each this many steps.
        sample_every: write a sample grid each this many steps (and at the
            end of every epoch).
        num_samples: images in the grid.
        sample_seed: seed of the fixed noise batch (``GAN.latent_for_seed``):
            the same images evolve across the run, and across resumes.
        labels: for conditional models, the labels of the grid's images.
    """

    def __init__(
        self,
        log_dir,
        scalar_every=50,
        sample_every=None,
        num_samples=64,
        sample_seed=0,
        labels=None,
    ):
        super().__init__()
        self.log_dir = log_dir
        self.scalar_every = scalar_every
        self.sample_every = sample_every
        self.num_samples = num_samples
        self.sample_seed = sample_seed
        self.labels = labels
        self._writer = None
        self._last_grid_step = -1

    @property
    def writer(self):
        if self._writer is None:
            directory = self.log_dir if distribute.is_chief() else _scratch_dir()
            self._writer = tf.summary.create_file_writer(directory)
        return self._writer

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.step.numpy())
        if logs and step % self.scalar_every == 0:
            with self.writer.as_default(step=step):
                for name, value in logs.items():
                    tf.summary.scalar(name, float(value))
        if self.sample_every and step % self.sample_every == 0:
            self.write_samples(step)

    def on_epoch_end(self, epoch, logs=None):
        self.write_samples(int(self.model.step.numpy()))
        self.writer.flush()

    def on_train_end(self, logs=None):
        self.writer.flush()

    def write_samples(self, step):
        """Log the fixed-noise grid at ``step`` (once per step)."""
        if step == self._last_grid_step:
            return
        self._last_grid_step = step
        images = self.model.generate(
            self.num_samples, seed=self.sample_seed, labels=self.labels
        )
        grid = image_grid(to_uint8(images))
        with self.writer.as_default(step=step):
            tf.summary.image("samples", grid[None], step=step)
        if distribute.is_chief():
            samples_dir = os.path.join(self.log_dir, "samples")
            os.makedirs(samples_dir, exist_ok=True)
            save_png(os.path.join(samples_dir, f"step_{step:08d}.png"), grid)


def _scratch_dir():
    # Non-chief workers in multi-worker training must still run every
    # collective the chief runs, but their files are thrown away.
    import tempfile

    return tempfile.mkdtemp(prefix="zoo_worker_")


def _atomic_write_json(path, data):
    temp = f"{path}.tmp{os.getpid()}"
    with open(temp, "w") as f:
        json.dump(data, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, path)


class Checkpointer(keras.callbacks.Callback):
    """Checkpoints that resume training with no lost or repeated step.

    A checkpoint is ``ckpt-XXXXXXXX.weights.h5`` (both networks, both
    optimizers with their step counters) plus the model's noise-stream state,
    and becomes current only when ``checkpoint.json`` is atomically replaced
    to name it: a run killed mid-write leaves the previous checkpoint current
    and intact. Non-finite weights are never saved.

    Args:
        directory: where checkpoints live.
        every: save each this many steps (and at the end of every epoch).
        keep: how many checkpoints to keep.
    """

    INDEX = "checkpoint.json"

    def __init__(self, directory, every=500, keep=2):
        super().__init__()
        self.directory = directory
        self.every = every
        self.keep = keep
        self._last_saved = None

    @property
    def index_path(self):
        return os.path.join(self.directory, self.INDEX)

    def latest(self):
        """The current checkpoint's index entry, or None."""
        if not os.path.exists(self.index_path):
            return None
        with open(self.index_path) as f:
            return json.load(f)

    def restore(self, model):
        """Load the current checkpoint into ``model`` (compiled); return its step
        (0 when there is none)."""
        entry = self.latest()
        if entry is None:
            return 0
        path = os.path.join(self.directory, entry["weights"])
        try:
            model.load_weights(path)
        except Exception as error:
            raise RuntimeError(
                f"Cannot restore checkpoint {path} (step {entry['step']}): {error}. "
                "Was it written by a different model or preset? Use another "
                "--log_dir to start afresh."
            ) from error
        model.seed_generator.state.assign(
            np.asarray(entry["seed_state"], dtype=model.seed_generator.state.dtype)
        )
        step = int(model.step.numpy())
        if step != entry["step"]:
            raise RuntimeError(
                f"Checkpoint {path} holds step {step}, index says {entry['step']}."
            )
        self._last_saved = step
        return step

    def save(self, model):
        step = int(model.step.numpy())
        if step == self._last_saved:
            return
        bad = [v.path for v in model.weights if not _all_finite(v)]
        bad += [
            v.path
            for optimizer in _optimizers(model)
            for v in optimizer.variables
            if not _all_finite(v)
        ]
        if bad:
            raise FloatingPointError(
                f"Not saving a checkpoint at step {step}: non-finite values in "
                f"{', '.join(bad[:5])}. The last good checkpoint "
                f"({self._describe_latest()}) is kept."
            )
        directory = self.directory if distribute.is_chief() else _scratch_dir()
        os.makedirs(directory, exist_ok=True)
        name = f"ckpt-{step:08d}.weights.h5"
        temp = os.path.join(directory, f".{name}.tmp{os.getpid()}.weights.h5")
        model.save_weights(temp)
        os.replace(temp, os.path.join(directory, name))
        if distribute.is_chief():
            _atomic_write_json(
                self.index_path,
                {
                    "step": step,
                    "weights": name,
                    "seed_state": np.asarray(
                        model.seed_generator.state.numpy()
                    ).tolist(),
                },
            )
            self._prune(name)
        self._last_saved = step

    def _describe_latest(self):
        entry = self.latest()
        if entry is None:
            return "none yet"
        return f"step {entry['step']}, {os.path.join(self.directory, entry['weights'])}"

    def _prune(self, current):
        pattern = os.path.join(self.directory, "ckpt-*.weights.h5")
        paths = sorted(p for p in glob.glob(pattern) if re.search(r"ckpt-\d{8}", p))
        for path in paths[: max(0, len(paths) - self.keep)]:
            if os.path.basename(path) != current:
                os.remove(path)

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.step.numpy()) % self.every == 0:
            self.save(self.model)

    def on_epoch_end(self, epoch, logs=None):
        self.save(self.model)


def _optimizers(model):
    """Every optimizer the model holds as an attribute (two for a GAN, three
    for an adversarial autoencoder)."""
    return [
        value
        for value in vars(model).values()
        if isinstance(value, keras.optimizers.Optimizer)
    ]


def _all_finite(variable):
    value = variable.numpy()
    if not np.issubdtype(value.dtype, np.floating):
        return True
    return bool(np.isfinite(value).all())


class StopOnNaN(keras.callbacks.Callback):
    """Stop training at the first non-finite reported value.

    Raises ``FloatingPointError`` naming the value and the step. Place it
    before the ``Checkpointer`` so that the bad step is never saved.
    """

    def on_train_batch_end(self, batch, logs=None):
        for name, value in (logs or {}).items():
            if not math.isfinite(float(value)):
                step = int(self.model.step.numpy())
                raise FloatingPointError(
                    f"{name} is {float(value)} at step {step}: training stopped. "
                    "Checkpoints written before this step are intact; try a "
                    "lower learning rate, or --mixed_precision off."
                )
