"""Unrolled discriminator updates (Metz et al. 2016, "Unrolled Generative
Adversarial Networks"): the discriminator's weights after K updates, as
differentiable tensors, without assigning any variable.

``FunctionalUpdate`` reproduces an optimizer's update rule (SGD, Adam) on
tensors, starting from the optimizer's current slots; ``values_of`` re-applies
a network with given weight values. Random draws made while unrolling (the
seed streams of the model and of its layers) do advance: each unrolled step
draws fresh interpolation weights, augmentations and dropout masks, and the
streams end where K real steps would have left them.
"""

import keras
import tensorflow as tf
from keras import ops

from zoo.core.errors import ConfigError


def values_of(variables, values):
    """Scope in which ``variables`` read as ``values`` and assignments to
    any variable are discarded: a functional re-application of a network."""
    return keras.StatelessScope(
        state_mapping=list(zip(variables, values)), initialize_variables=False
    )


class FunctionalUpdate:
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
        raises ``ConfigError`` if its update cannot be unrolled."""
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        supported = isinstance(optimizer, keras.optimizers.SGD) or (
            type(optimizer) is keras.optimizers.Adam and not optimizer.amsgrad
        )
        options = [name for name in cls.UNSUPPORTED_OPTIONS if getattr(optimizer, name, None)]
        if not supported or options:
            raise ConfigError(
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

