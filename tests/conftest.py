"""Shared test setup.

The host CPU is split into two logical devices before TensorFlow starts, so
that MirroredStrategy tests run two real replicas on a machine without GPUs.
"""

from pathlib import Path

import zoo  # noqa: F401  (oneDNN on before TensorFlow loads)
import pytest

from zoo.training import distribute

distribute.split_cpu(2)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REPO = Path(__file__).resolve().parents[1]


def shared_path(*parts):
    """A path under ../shared, or skip the test with the reason."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (the project's ../shared data folder)")
    return path


@pytest.fixture
def mnist_dir():
    return shared_path("datasets", "mnist")


def tensorboard_scalars(folder, tag):
    """``{step: value}`` of the scalar ``tag`` in the TensorBoard event
    files directly in ``folder`` (a failed assertion if there are none)."""
    import tensorflow as tf

    events = sorted(Path(folder).glob("events.out.tfevents.*"))
    assert events, f"no TensorBoard event file in {folder}"
    return {event.step: float(tf.make_ndarray(value.tensor))
            for path in events for event in tf.compat.v1.train.summary_iterator(str(path))
            for value in event.summary.value if value.tag == tag}
