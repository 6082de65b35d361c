"""Keras callbacks for the zoo's training: TensorBoard scalars and sample
grids keyed by the global step, and a stop on NaN that keeps the last good
checkpoint (checkpoints themselves: ``zoo.training.checkpoints``).

Everything is keyed by ``model.step`` (the model's own global step, saved
in its checkpoints), not by Keras's per-``fit`` batch counter, so that a
resumed run continues the same curves and the same fixed-noise grid.
"""

import math
import os

import keras
import numpy as np
import tensorflow as tf

from zoo.core.errors import TrainingDiverged
from zoo.metrics.preprocess import quantize_to_uint8
from zoo.training import distribute


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
            end of every epoch); ``-1``: no sample grids (a PixelRNN grid
            re-runs its network once per sub-pixel, minutes on a CPU).
        num_samples: images in the grid.
        sample_seed: seed of the fixed noise batch (``GAN.latent_for_seed``):
            the same images evolve across the run, and across resumes.
        condition: for conditional models, the conditions of the grid's
            images (class labels, source images, ...); ``labels`` is the
            same for class labels.
        grid: ``model -> images`` to show instead of fixed-noise samples:
            ``[N, H, W, C]``, or ``[N, k, H, W, C]`` shown as N rows of k
            (a translation model's input | output | target).
    """

    def __init__(
        self,
        log_dir,
        scalar_every=50,
        sample_every=None,
        num_samples=64,
        sample_seed=0,
        condition=None,
        labels=None,
        grid=None,
    ):
        super().__init__()
        self.log_dir = log_dir
        self.scalar_every = scalar_every
        self.sample_every = sample_every
        self.num_samples = num_samples
        self.sample_seed = sample_seed
        self.condition = labels if condition is None else condition
        self.grid = grid
        self._writer = None
        self._last_grid_step = -1

    @property
    def writer(self):
        if self._writer is None:
            # Only the chief of a multi-worker job writes; the others run the
            # same steps (a grid may read distributed variables) and discard.
            if distribute.is_chief():
                self._writer = tf.summary.create_file_writer(self.log_dir)
            else:
                self._writer = tf.summary.create_noop_writer()
        return self._writer

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.step.numpy())
        if logs and step % self.scalar_every == 0:
            with self.writer.as_default(step=step):
                for name, value in logs.items():
                    tf.summary.scalar(name, float(np.mean(value)))
        if self.sample_every and self.sample_every > 0 and step % self.sample_every == 0:
            self.write_samples(step)

    def on_epoch_end(self, epoch, logs=None):
        if self.sample_every != -1:
            self.write_samples(int(self.model.step.numpy()))
        self.writer.flush()

    def on_train_end(self, logs=None):
        self.writer.flush()

    def write_samples(self, step):
        """Log the fixed-noise grid at ``step`` (once per step)."""
        if step == self._last_grid_step:
            return
        self._last_grid_step = step
        if self.grid is not None:
            images = np.asarray(self.grid(self.model))
        else:
            images = self.model.generate(
                self.num_samples, seed=self.sample_seed, condition=self.condition
            )
        self._write_grid("samples", images, step, f"step_{step:08d}.png")
        # Grids a model shows besides its samples (StyleGAN: style mixing).
        for name, extra in getattr(self.model, "extra_grids", dict)().items():
            self._write_grid(name, np.asarray(extra), step, f"{name}_step_{step:08d}.png")

    def _write_grid(self, name, images, step, filename):
        columns = None
        if np.ndim(images) == 5:  # rows of k images
            columns = images.shape[1]
            images = images.reshape((-1,) + images.shape[2:])
        grid = image_grid(quantize_to_uint8(images), columns=columns)
        with self.writer.as_default(step=step):
            tf.summary.image(name, grid[None], step=step)
        if distribute.is_chief():
            samples_dir = os.path.join(self.log_dir, "samples")
            os.makedirs(samples_dir, exist_ok=True)
            save_png(os.path.join(samples_dir, filename), grid)


class StopOnNaN(keras.callbacks.Callback):
    """Stop training at the first non-finite reported value.

    Raises ``TrainingDiverged`` (a ``FloatingPointError``) naming the value
    and the step. Place it before the ``Checkpointer`` so that the bad step
    is never saved.
    """

    def on_train_batch_end(self, batch, logs=None):
        for name, value in (logs or {}).items():
            if not math.isfinite(float(np.mean(value))):
                step = int(self.model.step.numpy())
                raise TrainingDiverged(
                    f"{name} is {float(np.mean(value))} at step {step}: training stopped. "
                    "Checkpoints written before this step are intact; rerun the same "
                    "command to resume from the last one, with a lower learning rate "
                    "(--d_learning_rate, --g_learning_rate) or without --mixed_precision."
                )
