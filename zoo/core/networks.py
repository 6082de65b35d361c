"""``Network``: the base class of every generator, discriminator and encoder.

A zoo network is a Functional ``keras.Model`` subclass whose constructor
builds the graph from a few explicit arguments (keras-hub style). Its config
is exactly those arguments: ``Network.get_config`` reads each constructor
parameter back from the attribute of the same name, and ``from_config`` calls
the constructor with them, so ``load_model`` rebuilds the same class. A
subclass only has to store every constructor argument as ``self.<name>``
after ``super().__init__(inputs=..., outputs=...)``; a missing one is a clear
error at ``get_config`` time, not a silently incomplete config.
"""

import inspect

import keras

from zoo.core.errors import ConfigError

_SKIPPED_KINDS = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def square_image_shape(image_shape, owner):
    """``image_shape`` as a tuple of 3 ints ``(H, W, C)`` with ``H == W``;
    a ``ConfigError`` naming ``owner`` (e.g. "DCGAN") and the shape otherwise."""
    image_shape = tuple(int(d) for d in image_shape)
    if len(image_shape) != 3 or image_shape[0] != image_shape[1]:
        raise ConfigError(
            f"{owner} expects square images (H, W, C) with H == W; got {image_shape}."
        )
    return image_shape


class Network(keras.Model):
    """A Functional model configured by its constructor arguments."""

    @classmethod
    def constructor_arguments(cls):
        """Names of ``__init__``'s explicit parameters, in order."""
        parameters = inspect.signature(cls.__init__).parameters
        return [
            name
            for name, parameter in parameters.items()
            if name != "self" and parameter.kind not in _SKIPPED_KINDS
        ]

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        for name in self.constructor_arguments():
            if not hasattr(self, name):
                raise AttributeError(
                    f"{type(self).__name__} must store its constructor argument "
                    f"{name!r} as self.{name} for get_config."
                )
            config[name] = getattr(self, name)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def input_names(network):
    """Names of a network's inputs, in order (``"noise"``, ``"labels"``, ...)."""
    return [tensor.name.split(":")[0] for tensor in network.inputs]


def network_inputs(network, **values):
    """What to call ``network`` with, from named values: the tensor itself
    for a single-input network, else a dict by input name. Values the
    network does not take are ignored (an unconditional discriminator is
    given the condition too); one it takes but is not given is an error."""
    names = input_names(network)
    missing = [name for name in names if values.get(name) is None]
    if missing:
        raise ConfigError(
            f"{network.name} needs input(s) {', '.join(missing)}; got "
            f"{', '.join(k for k, v in values.items() if v is not None) or 'none'}."
        )
    if len(names) == 1:
        return values[names[0]]
    return {name: values[name] for name in names}


def freeze(network):
    """Mark ``network`` frozen (``trainable = False``) and return it: an
    auxiliary network (a content network, a pretrained text encoder, a
    finished stage) that a model uses but no optimizer trains. Its weights
    stay out of every optimizer and out of the trainable state; they are
    saved with the model as non-trainable weights."""
    network.trainable = False
    return network
