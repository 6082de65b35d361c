"""FID measured during training: the curve, and the best checkpoint kept.

``python recipes/dcgan.py --fid_every=1000`` scores the generator every
1,000 steps (and at the last step) with a ``zoo.metrics.FIDCallback`` and
writes, under ``--logdir``:

* ``fid_curve.json``: what was measured (network, sample and real-image
  counts) and one point per evaluation: ``step``, ``train_seconds`` (wall
  time of training up to the step, resumed runs included, as the
  checkpoints count it: the scoring is left out of their clock),
  ``fid_seconds`` (time spent scoring so far), ``seconds`` (their sum: the
  run's wall time) and ``fid``;
* ``best/ckpt-XXXXXXXX.weights.h5``: the whole model at the step with the
  lowest FID so far, which the recipe exports instead of the last step.

A point is written only after the checkpoint of its step, so a killed run
resumes with a curve that ends at or before its checkpoint; a point that
the kill lost (between the checkpoint and the score) is measured again on
resume, and points past the checkpoint (a checkpoint deleted by hand) are
dropped. Scoring uses fixed noise (``seed``), so the curve compares steps,
not noise draws. Steps where the model says its exported generator is not
the one being trained (ProGAN before its final resolution is faded in) are
not scored, the last step included: a run that ends before then has no
curve and exports its last step.
"""

from __future__ import annotations

import json
import os
import shutil
import time

import keras

from zoo.core.errors import ConfigError
from zoo.training import distribute
from zoo.training.checkpoints import atomic_write_json

CURVE_FILE = "fid_curve.json"
BEST_DIR = "best"


class FIDTracker(keras.callbacks.Callback):
    """Score every ``every`` global steps and at ``final_step`` (where the
    model's ``exported_generator_is_trained()``); keep the best.

    Args:
        scorer: a ``zoo.metrics.FIDCallback`` (its ``compute()`` scores its
            model, its ``log()`` writes each score to TensorBoard when it
            has a ``log_dir``); the tracker sets its model.
        log_dir: where ``fid_curve.json`` and ``best/`` go.
        every: steps between evaluations.
        final_step: the run's last step, always scored.
        checkpointer: the run's ``Checkpointer``: a scored step is
            checkpointed first (see the module doc).
        description: what the curve measures, stored in the file
            (``{"network", "num_samples", "num_real", ...}``).
    """

    def __init__(self, scorer, log_dir, every, final_step, checkpointer, description=None):
        super().__init__()
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.scorer = scorer
        self.log_dir = str(log_dir)
        self.every = int(every)
        self.final_step = int(final_step)
        self.checkpointer = checkpointer
        self.description = dict(description or {})
        self.points: list[dict] = []
        self.best: dict | None = None
        self._loaded = False
        self._said_not_yet = False

    @property
    def curve_path(self):
        return os.path.join(self.log_dir, CURVE_FILE)

    def best_weights_path(self):
        """The best checkpoint's weights file, or None before any score."""
        return None if self.best is None else best_weights_file(self.log_dir, {"best": self.best})

    def _load(self, step):
        """Read what an earlier run of this log dir measured, up to ``step``."""
        self._loaded = True
        if not os.path.exists(self.curve_path):
            return
        with open(self.curve_path) as f:
            saved = json.load(f)
        measured = {key: saved.get(key) for key in self.description}
        if measured != self.description:
            changed = ", ".join(f"{key} {measured[key]!r} -> {value!r}"
                                for key, value in self.description.items() if measured[key] != value)
            raise ConfigError(
                f"{self.curve_path} was measured otherwise ({changed}): its FIDs cannot be compared "
                "with these. Resume with the same --fid_every, --fid_samples, --fid_network, --fid_split and "
                "--seed, or use another --logdir."
            )
        self.points = [p for p in saved.get("points", []) if p["step"] <= step]
        best = saved.get("best")
        if best and best["step"] <= step and os.path.exists(best_weights_file(self.log_dir, saved)):
            self.best = best
        elif best:
            print(
                f"FID tracking: the best checkpoint (step {best['step']}) is past the resumed "
                f"step {step} or missing; the best is chosen afresh from here."
            )

    def prepare(self):
        """Load the scoring network and the real images' features now, so
        that what is missing fails before training; the time this takes
        (minutes when the real features are not cached yet) is left out of
        the training clock, as scoring is."""
        started = time.time()
        self.scorer.prepare()
        self.checkpointer.exclude(time.time() - started)

    def on_train_begin(self, logs=None):
        self.catch_up(self.model)

    def catch_up(self, model):
        """Read the curve so far and score the current step if it is due
        and missing: a kill between a checkpoint and its score loses the
        point (also after the last step, when no training is left to run)."""
        self.set_model(model)
        self.scorer.set_model(model)
        step = int(model.step.numpy())
        if not self._loaded:
            self._load(step)
        if step and self._due(step) and not any(p["step"] == step for p in self.points):
            self.evaluate(step)

    def on_train_end(self, logs=None):
        self.close()

    def close(self):
        """Close the scorer's TensorBoard writer (a later score opens a new one)."""
        self.scorer.close()

    def _due(self, step):
        if not (step % self.every == 0 or step == self.final_step):
            return False
        if not self.model.exported_generator_is_trained():
            if not self._said_not_yet:
                self._said_not_yet = True
                print(f"\nFID tracking: step {step} is not scored: the exported generator is not the one "
                      "being trained yet (a progressive model before its final resolution is faded in).")
            return False
        return True

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.step.numpy())
        if self._due(step):
            self.evaluate(step)

    def evaluate(self, step):
        """Checkpoint ``step``, score it, record the point, keep it if best."""
        if self.points and self.points[-1]["step"] >= step:
            return
        self.checkpointer.save(self.model)
        train_seconds = self.checkpointer.seconds_trained()
        started = time.time()
        fid = float(self.scorer.compute())
        spent = time.time() - started
        # Scoring is not training: the checkpoints' clock (what a resumed
        # run starts from) leaves it out, so the curve's minutes are
        # training minutes across resumes too.
        self.checkpointer.exclude(spent)
        fid_seconds = (self.points[-1]["fid_seconds"] if self.points else 0.0) + spent
        point = {
            "step": step,
            "seconds": round(train_seconds + fid_seconds, 1),
            "fid_seconds": round(fid_seconds, 1),
            "train_seconds": round(train_seconds, 1),
            "fid": fid,
        }
        self.points.append(point)
        # Every worker keeps the same record; only the chief writes files.
        if self.best is None or fid < self.best["fid"]:
            self._keep_best(step, fid)
        if distribute.is_chief():
            self._write()
            self.scorer.log(fid, step)
        print(f"\nstep {step}: {self.scorer.metric_name} {fid:.2f} "
              f"({spent:.0f} s to score; best {self.best['fid']:.2f} at step {self.best['step']})")

    def _keep_best(self, step, fid):
        """Copy the checkpoint of ``step`` (just saved) to ``best/``."""
        if not distribute.is_chief():
            self.best = {"step": step, "fid": fid, "weights": self.checkpointer.file_name(step)}
            return
        entry = self.checkpointer.latest()
        source = os.path.join(self.checkpointer.directory, entry["weights"])
        folder = os.path.join(self.log_dir, BEST_DIR)
        os.makedirs(folder, exist_ok=True)
        name = entry["weights"]
        temp = os.path.join(folder, f".{name}.tmp{os.getpid()}")
        shutil.copyfile(source, temp)
        os.replace(temp, os.path.join(folder, name))
        old = self.best_weights_path()
        self.best = {"step": step, "fid": fid, "weights": name}
        self._write()  # name the new file before the old one goes
        if old and os.path.basename(old) != name and os.path.exists(old):
            os.remove(old)

    def _write(self):
        atomic_write_json(
            self.curve_path,
            {**self.description, "metric": self.scorer.metric_name, "every": self.every,
             "points": self.points, "best": self.best},
        )


def best_weights_file(log_dir, curve):
    """The weights file of ``curve``'s best step under ``log_dir``."""
    return os.path.join(str(log_dir), BEST_DIR, curve["best"]["weights"])


def read_curve(log_dir):
    """The ``fid_curve.json`` of a run, or None where none was measured."""
    path = os.path.join(str(log_dir), CURVE_FILE)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)
