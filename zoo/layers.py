"""Layers shared by the zoo's networks."""

import keras


def batch_norm(name=None, **kwargs):
    """Batch normalisation whose statistics span the *global* batch.

    ``synchronized=True`` all-reduces the batch moments across the replicas of
    a ``tf.distribute`` strategy, so training on N replicas computes exactly
    what one device computes on the whole batch (``tests/test_distribute.py``
    checks this); on one device it is the ordinary layer.
    """
    return keras.layers.BatchNormalization(synchronized=True, name=name, **kwargs)
