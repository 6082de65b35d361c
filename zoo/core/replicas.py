"""Where a computation runs under ``tf.distribute``, and the collectives that
make N replicas compute what one device computes on the whole batch.

Everything here is a no-op outside a strategy, or with one replica.
"""

import tensorflow as tf

from zoo.core.errors import ConfigError


def replica_id():
    """This replica's index in its sync group (0 outside ``strategy.run``)."""
    context = tf.distribute.get_replica_context()
    if context is None:  # cross-replica context
        return 0
    return context.replica_id_in_sync_group


def num_replicas():
    """Replicas in sync under the current strategy (1 without one)."""
    return tf.distribute.get_strategy().num_replicas_in_sync


def in_multi_worker_mode():
    """Whether the current strategy is a MultiWorkerMirroredStrategy with
    more than one worker (the case Keras reduces specially)."""
    strategy = tf.distribute.get_strategy()
    return isinstance(
        strategy, tf.distribute.MultiWorkerMirroredStrategy
    ) and strategy.extended._in_multi_worker_mode()


def sum_over_replicas(values):
    """All-reduce (sum) a list of tensors across the replicas in sync.

    Differentiable: TensorFlow's gradient of a summing all-reduce is the
    summing all-reduce of the gradients.
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return values
    return context.all_reduce(tf.distribute.ReduceOp.SUM, values)


def global_batch(values):
    """``values`` ``[local_batch, ...]`` of every replica, concatenated in
    replica order: ``[global_batch, ...]`` (``values`` itself on one device).

    Differentiable: the gradient of ``all_gather`` sums the replicas'
    gradients of each slice back onto the replica it came from.
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return values
    return context.all_gather(values, axis=0)


def local_slice(values, local_batch):
    """This replica's rows ``[local_batch, ...]`` of a global-batch tensor
    ``[local_batch * num_replicas, ...]`` (the inverse of ``global_batch``)."""
    start = replica_id() * local_batch
    return values[start : start + local_batch]


def check_global_batch(global_batch_size, replicas=None, what="global batch"):
    """Raise ``ConfigError`` unless ``global_batch_size`` splits evenly over
    the replicas: an uneven split silently mis-weights every loss reduced
    over the global batch (and per-example random draws)."""
    replicas = replicas or num_replicas()
    if global_batch_size is not None and int(global_batch_size) % replicas:
        raise ConfigError(
            f"The {what} of {int(global_batch_size)} does not divide evenly over "
            f"{replicas} replicas; use a multiple of {replicas} (e.g. "
            f"{replicas * max(1, int(global_batch_size) // replicas)})."
        )
