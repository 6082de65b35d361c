"""What a generator is conditioned on: nothing, a class label, an image, or text.

A ``Condition`` knows, for its kind:

* ``input_name``: the name of the networks' input that takes it (the
  generator's and, for conditional discriminators, the discriminator's);
* ``serving_spec()``: the input of the exported SavedModel's signatures;
* ``grid_values(num)``: the conditions of a sample grid (classes in turn; an
  image or text condition needs examples from the data);
* ``mismatched(values, seed)``: a condition that does *not* match each
  example, the "wrong label / wrong image / wrong text" pair of
  matching-aware discriminators (Reed et al. 2016, GAN-CLS). It is drawn
  over the *global* batch with the same seed on every replica, so N
  replicas pair exactly the examples one device would;
* ``check(values)``: a clear error for user input that cannot be right
  (a label outside the class range, an image of the wrong shape);
* ``describe()``: what ``metadata.json`` records, so tools that load an
  export (``zoo.evaluate``) know what to feed it.

Training batches are ``(images, condition)``: the images are what the
discriminator sees as real (the target), the condition what they are
conditioned on (class labels, the source image, a text embedding).
"""

import numpy as np
import tensorflow as tf
from keras import ops

from zoo.core import replicas
from zoo.core.errors import ConfigError
from zoo.core.networks import input_names


class Condition:
    """No condition: the generator's only input is noise."""

    kind = "none"
    input_name = None
    noun = "no condition"

    def serving_spec(self):
        """``tf.TensorSpec`` of the condition in the exported signatures, or None."""
        return None

    def grid_values(self, num, examples=None):
        """The conditions of a ``num``-image sample grid (None: none needed)."""
        return None

    def mismatched(self, values, seed):
        raise ConfigError("A model without a condition has no mismatched condition.")

    def check(self, values, num=None):
        """``values`` as a tensor of the right dtype; raises ``ConfigError``
        for what cannot be a valid condition."""
        if values is not None:
            raise ConfigError(f"This model takes no condition; got {type(values).__name__}.")
        return None

    def describe(self):
        return {"kind": self.kind}

    def __eq__(self, other):
        return type(other) is type(self) and other.describe() == self.describe()

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in self.describe().items() if k != "kind")
        return f"{type(self).__name__}({fields})"


class ClassCondition(Condition):
    """A class label: int ``[batch]`` in ``[0, num_classes)`` (Mirza &
    Osindero 2014). Grids cycle the classes; the mismatched label of ``y``
    is ``(y + k) mod K`` with ``k`` uniform in ``1..K-1`` (never ``y``)."""

    kind = "class"
    input_name = "labels"
    noun = "class labels"

    def __init__(self, num_classes):
        if int(num_classes) < 2:
            raise ConfigError(f"A class condition needs num_classes >= 2; got {num_classes}.")
        self.num_classes = int(num_classes)

    def serving_spec(self):
        return tf.TensorSpec([None], tf.int32, name="labels")

    def grid_values(self, num, examples=None):
        return np.arange(num, dtype=np.int32) % self.num_classes

    def mismatched(self, values, seed):
        local = ops.shape(values)[0]
        shifts = tf.random.stateless_uniform(
            [local * replicas.num_replicas()], seed=seed, minval=1,
            maxval=self.num_classes, dtype=tf.int32,
        )
        shifts = replicas.local_slice(shifts, local)
        return (ops.cast(values, "int32") + shifts) % self.num_classes

    def check(self, values, num=None):
        if values is None:
            raise ConfigError(
                "This model is class-conditional: train on (images, labels) batches "
                "and pass labels= to generate."
            )
        if tf.is_tensor(values) and not tf.executing_eagerly():
            return ops.cast(values, "int32")
        array = np.asarray(values)
        if array.ndim != 1 or (num is not None and array.shape[0] != num):
            expected = f"({num},)" if num is not None else "[batch]"
            raise ConfigError(f"labels must have shape {expected}, one per image; got {array.shape}.")
        if array.size and (array.min() < 0 or array.max() >= self.num_classes):
            raise ConfigError(
                f"labels must lie in [0, {self.num_classes}); got values from "
                f"{array.min()} to {array.max()}."
            )
        return ops.convert_to_tensor(array.astype("int32"))

    def describe(self):
        return {"kind": self.kind, "num_classes": self.num_classes}


class _ExampleCondition(Condition):
    """A condition that is itself an example (image, text embedding):
    grids take real examples, and the mismatched condition of the example
    at global position ``i`` is the one at ``i + 1`` (mod the global batch):
    a different real example, the same on one device or several."""

    def grid_values(self, num, examples=None):
        if examples is None:
            raise ConfigError(
                f"A sample grid of a {self.kind}-conditioned model needs {num} "
                "conditions from the data (pass examples=)."
            )
        return np.asarray(examples)[:num]

    def mismatched(self, values, seed=None):
        local = ops.shape(values)[0]
        everyone = replicas.global_batch(values)
        return replicas.local_slice(ops.roll(everyone, shift=-1, axis=0), local)


class ImageCondition(_ExampleCondition):
    """An image ``[batch, H, W, C]`` in [-1, 1] (pix2pix's source, SRGAN's
    low-resolution input, CycleGAN's other domain). Networks take it as
    ``source``; the SavedModel as ``images``. ``image_shape`` may hold
    ``None`` for sizes a fully convolutional network accepts."""

    kind = "image"
    input_name = "source"
    noun = "source images"

    def __init__(self, image_shape):
        self.image_shape = tuple(None if d is None else int(d) for d in image_shape)
        if len(self.image_shape) != 3:
            raise ConfigError(f"An image condition is (H, W, C); got {image_shape}.")

    def serving_spec(self):
        return tf.TensorSpec((None,) + self.image_shape, tf.float32, name="images")

    def check(self, values, num=None):
        if values is None:
            raise ConfigError("This model is image-conditioned: pass the source images.")
        if tf.is_tensor(values) and not tf.executing_eagerly():
            return ops.cast(values, "float32")
        array = np.asarray(values, dtype=np.float32)
        expected = self.image_shape
        shape_ok = array.ndim == 4 and all(
            e is None or e == a for e, a in zip(expected, array.shape[1:])
        )
        if not shape_ok or (num is not None and array.shape[0] != num):
            batch = num if num is not None else "batch"
            raise ConfigError(
                f"source images must be [{batch}, {', '.join(str(d) for d in expected)}] "
                f"in [-1, 1], one per image; got shape {array.shape}."
            )
        if array.size and (array.min() < -1.0 - 1e-6 or array.max() > 1.0 + 1e-6):
            raise ConfigError(
                "source images must lie in [-1, 1] (uint8 x / 127.5 - 1); got values "
                f"from {array.min():.3g} to {array.max():.3g}."
            )
        return ops.convert_to_tensor(array)

    def describe(self):
        return {"kind": self.kind, "image_shape": list(self.image_shape)}


class TextCondition(_ExampleCondition):
    """A text embedding ``[batch, embedding_dim]`` from a text encoder (Reed
    et al. 2016). Networks take it as ``text_embedding``. The model owning
    the encoder turns raw strings into embeddings (``encode_text``); its
    SavedModel takes raw strings as ``text``."""

    kind = "text"
    input_name = "text_embedding"
    noun = "text embeddings"

    def __init__(self, embedding_dim):
        self.embedding_dim = int(embedding_dim)

    def serving_spec(self):
        return tf.TensorSpec([None], tf.string, name="text")

    def check(self, values, num=None):
        if values is None:
            raise ConfigError("This model is text-conditioned: pass text embeddings.")
        if tf.is_tensor(values) and not tf.executing_eagerly():
            return ops.cast(values, "float32")
        array = np.asarray(values, dtype=np.float32)
        if array.ndim != 2 or array.shape[1] != self.embedding_dim or (
            num is not None and array.shape[0] != num
        ):
            batch = num if num is not None else "batch"
            raise ConfigError(
                f"text embeddings must be [{batch}, {self.embedding_dim}], one per image; "
                f"got {array.shape}."
            )
        return ops.convert_to_tensor(array)

    def describe(self):
        return {"kind": self.kind, "embedding_dim": self.embedding_dim}


def from_description(description):
    """The ``Condition`` that ``describe()`` wrote (e.g. into metadata.json)."""
    description = dict(description or {"kind": "none"})
    kind = description.pop("kind", "none")
    kinds = {"none": Condition, "class": ClassCondition, "image": ImageCondition, "text": TextCondition}
    if kind not in kinds:
        raise ConfigError(f"Unknown condition kind {kind!r}; known: {', '.join(kinds)}.")
    return kinds[kind](**description)


def of_network(network):
    """The condition a network's named inputs imply: ``labels`` (with the
    network's ``num_classes``), ``source`` (image) or ``text_embedding``."""
    names = input_names(network)
    if "labels" in names:
        return ClassCondition(network.num_classes)
    if "source" in names:
        spec = network.inputs[names.index("source")]
        return ImageCondition(tuple(spec.shape[1:]))
    if "text_embedding" in names:
        spec = network.inputs[names.index("text_embedding")]
        return TextCondition(spec.shape[-1])
    return Condition()
