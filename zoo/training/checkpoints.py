"""Checkpoints that resume training with no lost or repeated step.

A checkpoint is the model's whole state: ``ckpt-XXXXXXXX.weights.h5`` (every
network, the global step, the image histories and other model variables,
every optimizer with its slots and counters) plus the seed streams (the
model's and its layers', e.g. Dropout's), which Keras's weights files leave
out. It becomes current only when ``checkpoint.json`` is atomically replaced
to name it, so a run killed mid-write leaves the previous checkpoint
current and intact; non-finite weights are never saved.

In multi-worker training every worker takes part in each save (reading
distributed variables may need collectives), but only the chief keeps
files: the others write into a scratch folder that is deleted at once.
"""

import glob
import json
import os
import re
import shutil
import tempfile
import time
import warnings

import keras
import numpy as np

from zoo.core.errors import CheckpointError, TrainingDiverged
from zoo.training import distribute


MISMATCH_ADVICE = (
    "Was it written by a different model, preset or flags? Pass another "
    "--logdir (or delete that folder) to start afresh."
)


def load_weights_exactly(model, path, what):
    """``model.load_weights(path)``, refusing a file that does not fit every
    variable: Keras only warns when an optimizer's saved state does not fit
    (another optimizer class, loss scaling on or off) and leaves it fresh, a
    resume that would not be exact. ``what`` names the file in the error."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.load_weights(path)
    except Exception as error:  # Keras raises several types for a mismatch
        raise CheckpointError(f"Cannot restore {what}: {error}. {MISMATCH_ADVICE}") from error
    skipped = [str(w.message) for w in caught if "Skipping variable loading" in str(w.message)]
    if skipped:
        raise CheckpointError(
            f"Cannot restore {what} exactly: {skipped[0].splitlines()[0]} {MISMATCH_ADVICE}"
        )
    for warning in caught:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)


def atomic_write_json(path, data):
    """Write ``data`` as JSON to ``path`` via a temporary file and a rename."""
    temp = f"{path}.tmp{os.getpid()}"
    with open(temp, "w") as f:
        json.dump(data, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, path)


def _all_finite(variable):
    value = variable.numpy()
    if not np.issubdtype(value.dtype, np.floating):
        return True
    return bool(np.isfinite(value).all())


def model_optimizers(model):
    """Every optimizer of ``model``: one per role, or Keras's own."""
    optimizers = list(getattr(model, "optimizers", {}).values())
    if not optimizers and isinstance(getattr(model, "optimizer", None), keras.optimizers.Optimizer):
        optimizers = [model.optimizer]
    return optimizers


class Checkpointer(keras.callbacks.Callback):
    """Save and restore a model's whole training state (see the module doc).

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
        # Training time of the runs before this one (restored), and when
        # this one started: checkpoints record the total.
        self._seconds_before = 0.0
        self._started = time.time()

    @property
    def index_path(self):
        return os.path.join(self.directory, self.INDEX)

    def latest(self):
        """The current checkpoint's index entry, or None."""
        if not os.path.exists(self.index_path):
            return None
        with open(self.index_path) as f:
            return json.load(f)

    def describe_latest(self):
        entry = self.latest()
        if entry is None:
            return "none yet"
        return f"step {entry['step']}, {os.path.join(self.directory, entry['weights'])}"

    def restore(self, model):
        """Load the current checkpoint into ``model`` (compiled); return its
        step (0 when there is none)."""
        entry = self.latest()
        if entry is None:
            return 0
        path = os.path.join(self.directory, entry["weights"])
        load_weights_exactly(model, path, f"checkpoint {path} (step {entry['step']})")
        states = model.seed_states()
        saved = entry.get("seed_states", [])
        if len(saved) != len(states):
            raise CheckpointError(
                f"Checkpoint {path} holds {len(saved)} random streams, the model has "
                f"{len(states)}. {MISMATCH_ADVICE}"
            )
        for state, value in zip(states, saved):
            state.assign(np.asarray(value, dtype=state.dtype))
        step = int(model.step.numpy())
        if step != entry["step"]:
            raise CheckpointError(f"Checkpoint {path} holds step {step}, index says {entry['step']}.")
        self._last_saved = step
        self._seconds_before = float(entry.get("seconds", 0.0))
        self._started = time.time()
        return step

    def seconds_trained(self):
        """Wall time of training so far, the resumed runs' included, less
        the time ``exclude`` was told about."""
        return self._seconds_before + time.time() - self._started

    def exclude(self, seconds):
        """Leave ``seconds`` just spent on something else (scoring FID) out
        of the training time that checkpoints record."""
        self._started += seconds

    @staticmethod
    def file_name(step):
        """The weights file of the checkpoint of ``step``."""
        return f"ckpt-{step:08d}.weights.h5"

    def save(self, model):
        step = int(model.step.numpy())
        if step == self._last_saved:
            return
        bad = [v.path for v in model.weights if not _all_finite(v)]
        bad += [
            v.path
            for optimizer in model_optimizers(model)
            for v in optimizer.variables
            if not _all_finite(v)
        ]
        if bad:
            raise TrainingDiverged(
                f"Not saving a checkpoint at step {step}: non-finite values in "
                f"{', '.join(bad[:5])}. The last good checkpoint "
                f"({self.describe_latest()}) is kept."
            )
        name = self.file_name(step)
        if distribute.is_chief():
            os.makedirs(self.directory, exist_ok=True)
            temp = os.path.join(self.directory, f".{name}.tmp{os.getpid()}.weights.h5")
            model.save_weights(temp)
            os.replace(temp, os.path.join(self.directory, name))
            atomic_write_json(
                self.index_path,
                {
                    "step": step,
                    "weights": name,
                    "seed_states": [np.asarray(s.numpy()).tolist() for s in model.seed_states()],
                    "seconds": round(self.seconds_trained(), 1),
                },
            )
            self._prune(name)
        else:
            scratch = tempfile.mkdtemp(prefix="zoo_worker_checkpoint_")
            try:
                model.save_weights(os.path.join(scratch, name))
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        self._last_saved = step

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
