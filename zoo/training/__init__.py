"""Training: the resumable ``fit`` loop (phases included), checkpoints,
TensorBoard logging, ``tf.distribute`` strategies and the recipes' command
line (``python recipes/<arch>.py``, ``python -m zoo.train <arch>``)."""

from zoo.training.checkpoints import Checkpointer
from zoo.training.loop import fit_resumable

__all__ = ["Checkpointer", "fit_resumable"]
