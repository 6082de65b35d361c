"""Building ``tf.distribute`` strategies by name, and who writes files.

Names (the recipes' ``--strategy`` flag):

* ``default``: TensorFlow's default strategy (one device, the first GPU if
  there is one).
* ``one_device``: ``OneDeviceStrategy`` on ``device`` (e.g. ``/gpu:1``).
* ``mirrored``: ``MirroredStrategy`` over all local GPUs (or ``devices``).
* ``multiworker``: ``MultiWorkerMirroredStrategy``; the cluster comes from the
  ``TF_CONFIG`` environment variable, as TensorFlow documents.
* ``tpu``: ``TPUStrategy``; ``tpu`` is the resolver's address: a TPU name or
  ``grpc://host:port``, or ``local`` on a TPU VM (the default).
"""

import json
import os

import tensorflow as tf

from zoo.core.errors import ConfigError

STRATEGIES = ("default", "one_device", "mirrored", "multiworker", "tpu")


def make_strategy(name="default", tpu="local", devices=None):
    """The ``tf.distribute.Strategy`` called ``name``.

    Args:
        name: one of ``STRATEGIES``.
        tpu: TPU resolver address for ``tpu``.
        devices: device list for ``mirrored`` or ``one_device`` (optional).
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy((devices or ["/cpu:0"])[0])
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices)
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    raise ConfigError(
        f"Unknown strategy {name!r}; choose one of: {', '.join(STRATEGIES)}."
    )


def is_chief():
    """True unless this process is a non-chief worker of a multi-worker job.

    Follows ``TF_CONFIG``: the ``chief`` task, or worker 0 when the cluster
    has no chief, writes checkpoints, logs and exports; the others write to
    scratch directories.
    """
    config = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    task = config.get("task", {})
    task_type, index = task.get("type"), task.get("index", 0)
    if task_type in (None, "chief"):
        return True
    if task_type == "worker" and "chief" not in config.get("cluster", {}):
        return index == 0
    return False


def split_cpu(num_devices):
    """Split the host CPU into ``num_devices`` logical devices (for tests and
    for trying ``mirrored`` on a machine without GPUs). Must run before
    TensorFlow initialises its devices."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * num_devices
    )
    return [f"/cpu:{i}" for i in range(num_devices)]


def describe_hardware():
    """What this process trains on, in words: the CPU model and core count,
    and the GPUs TensorFlow sees (recorded in exports' metadata.json)."""
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    text = f"{cpu}, {os.cpu_count()} cores"
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = [tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus]
        text += ", " + ", ".join(details)
    return text
