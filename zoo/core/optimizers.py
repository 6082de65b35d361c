"""Optimizer configurations as presets write them, and the learning-rate
schedules the papers use that Keras does not have."""

import keras
from keras import ops

from zoo.core.errors import ConfigError


@keras.saving.register_keras_serializable(package="zoo")
class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Constant, then linear decay to zero (CycleGAN, Zhu et al. 2017,
    section 7.1: "we keep the same learning rate for the first 100 epochs
    and linearly decay the rate to zero over the next 100 epochs").

    ``lr(t) = initial`` for ``t < decay_start_fraction * total_steps``, then
    falling linearly to 0 at ``t = total_steps`` (and 0 after).

    Args:
        initial_learning_rate: the constant rate.
        total_steps: optimizer steps of the whole run. A recipe fills it in
            from the run's length when a preset leaves it None.
        decay_start_fraction: where the decay starts (0.5: the second half).
    """

    def __init__(self, initial_learning_rate, total_steps=None, decay_start_fraction=0.5):
        if not 0.0 <= decay_start_fraction < 1.0:
            raise ConfigError(f"decay_start_fraction must be in [0, 1), got {decay_start_fraction}.")
        self.initial_learning_rate = float(initial_learning_rate)
        self.total_steps = None if total_steps is None else int(total_steps)
        self.decay_start_fraction = float(decay_start_fraction)

    def __call__(self, step):
        if self.total_steps is None:
            raise ConfigError(
                "LinearDecay needs total_steps: the optimizer steps of the whole run "
                "(the recipes fill it in)."
            )
        step = ops.cast(step, "float32")
        start = self.decay_start_fraction * self.total_steps
        remaining = (self.total_steps - step) / max(self.total_steps - start, 1.0)
        return self.initial_learning_rate * ops.clip(remaining, 0.0, 1.0)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "total_steps": self.total_steps,
            "decay_start_fraction": self.decay_start_fraction,
        }


def optimizer_from_config(config, total_steps=None, learning_rate=None):
    """A fresh optimizer from a preset's config (``{"class_name", "config"}``),
    with ``learning_rate`` replacing its rate (a schedule's initial rate) and
    a schedule's ``total_steps``, which presets leave None, set to the run's."""
    config = {"class_name": config["class_name"], "config": dict(config["config"])}
    rate = config["config"].get("learning_rate")
    if isinstance(rate, dict):
        schedule = {**rate, "config": dict(rate["config"])}
        if "total_steps" in schedule["config"] and schedule["config"]["total_steps"] is None:
            schedule["config"]["total_steps"] = total_steps
        if learning_rate is not None:
            schedule["config"]["initial_learning_rate"] = learning_rate
        config["config"]["learning_rate"] = schedule
    elif learning_rate is not None:
        config["config"]["learning_rate"] = learning_rate
    return keras.optimizers.get(config)


def adam(learning_rate, beta_1=0.9, beta_2=0.999, epsilon=None):
    """The config of ``keras.optimizers.Adam`` (what presets and
    ``default_training`` hold); ``epsilon`` None keeps Keras's 1e-7."""
    config = {"learning_rate": learning_rate, "beta_1": beta_1, "beta_2": beta_2}
    if epsilon is not None:
        config["epsilon"] = epsilon
    return {"class_name": "Adam", "config": config}
