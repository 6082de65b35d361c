"""Resumable training: ``fit()`` driven so that a killed run continues at the
exact step of its last checkpoint, phase by phase.

The data stream is a pure function of the step (``zoo.data.make_dataset
(start_step=...)``), the model's global step, weights, optimizer state and
random streams are in the checkpoint, and Keras's epochs are aligned to the
global step: a run resumed in the middle of an epoch first finishes that
epoch's remaining steps with one ``fit`` call, then goes on epoch by epoch.

A run is a list of phases (``zoo.core.phases.Phase``; a run without phases
is one phase of ``epochs * steps_per_epoch`` steps). Before a phase's first
step the model is told (``model.enter_phase``), and the phase gets its own
stream (its batch size and resolution); epochs are numbered across phases.
"""

import math

from zoo.core.phases import Phase, boundaries, locate
from zoo.training import callbacks as callbacks_lib
from zoo.training.checkpoints import Checkpointer


def fit_resumable(
    model,
    make_stream,
    *,
    checkpoint_dir,
    epochs=None,
    steps_per_epoch=None,
    phases=None,
    checkpoint_every=500,
    callbacks=(),
    after_checkpoint=(),
    checkpointer=None,
    verbose="auto",
):
    """Train ``model`` (compiled) to the end of its schedule, resuming from
    the last checkpoint in ``checkpoint_dir`` if there is one.

    Either ``epochs`` and ``steps_per_epoch`` (one phase), or ``phases``.

    Args:
        model: a compiled ``zoo.core.model.ZooModel``.
        make_stream: without phases, ``start_step -> tf.data.Dataset``
            yielding the batches of global steps ``start_step``,
            ``start_step + 1``, ... (infinite); with phases,
            ``(phase_index, step_in_phase) -> tf.data.Dataset`` likewise,
            counted from the phase's start.
        checkpoint_dir: where ``zoo.training.checkpoints.Checkpointer`` keeps
            state.
        epochs: total epochs of the run (not the epochs left).
        steps_per_epoch: steps in one epoch: an int, or with phases a
            function ``Phase -> int`` (an epoch of the phase's batch size),
            or None with phases: each phase is one epoch.
        phases: resolved ``Phase`` objects (``zoo.core.phases.from_config``).
        checkpoint_every: steps between checkpoints (and one each epoch end).
        callbacks: further Keras callbacks (loggers, metrics, ...).
        after_checkpoint: callbacks that run after the checkpointer at each
            step (``zoo.training.fid_tracking.FIDTracker``: a scored step
            is checkpointed first).
        checkpointer: the ``Checkpointer`` to use (default: a new one over
            ``checkpoint_dir`` saving every ``checkpoint_every`` steps), for
            callbacks that need it.
        verbose: passed to ``fit`` (``"auto"`` shows a progress bar).
    Returns:
        The global step reached.
    """
    phased = phases is not None
    if phased and epochs is not None:
        raise TypeError("fit_resumable takes epochs or phases, not both: phases say how long they are.")
    if not phased:
        if epochs is None or steps_per_epoch is None:
            raise TypeError("fit_resumable needs epochs and steps_per_epoch, or phases.")
        phases = [Phase(steps=epochs * steps_per_epoch, name="training")]
    # A phase's epochs: steps_per_epoch (an int, or Phase -> int), or the
    # whole phase as one epoch.
    per_epoch = {
        i: (steps_per_epoch(phase) if callable(steps_per_epoch) else steps_per_epoch) or phase.steps
        for i, phase in enumerate(phases)
    }
    starts = boundaries(phases)
    checkpointer = checkpointer or Checkpointer(checkpoint_dir, every=checkpoint_every)
    # The model enters the phase of the checkpoint before restoring it: a
    # model whose state depends on its phase then loads a matching one.
    latest = checkpointer.latest()
    index, begin = locate(phases, latest["step"] if latest else 0)
    if index < len(phases):
        model.enter_phase(phases[index] if phased else None, begin)
    start_step = checkpointer.restore(model)
    total_steps = starts[-1]
    if start_step >= total_steps:
        print(f"Already trained: step {start_step} of {total_steps}.")
        return start_step
    if start_step:
        print(f"Resuming from step {start_step} ({checkpointer.describe_latest()}).")
    # StopOnNaN runs before the checkpointer so that a bad step is never saved.
    all_callbacks = [callbacks_lib.StopOnNaN(), *callbacks, checkpointer, *after_checkpoint]
    # Epochs are numbered across phases: phase i has ceil(steps / per_epoch).
    epochs_before = [0]
    for i, phase in enumerate(phases):
        epochs_before.append(epochs_before[-1] + math.ceil(phase.steps / per_epoch[i]))

    def run(index, first, count, epoch, steps):
        """``count`` epochs of ``steps`` steps from global step ``first``."""
        stream = make_stream(index, first - starts[index]) if phased else make_stream(first)
        model.fit(
            stream,
            initial_epoch=epoch,
            epochs=epoch + count,
            steps_per_epoch=steps,
            callbacks=all_callbacks,
            verbose=verbose,
            shuffle=False,  # the stream is already shuffled, per epoch
        )

    for index, phase in enumerate(phases):
        begin, end = starts[index], starts[index + 1]
        if start_step >= end:
            continue
        if phased:
            print(f"Phase {index + 1}/{len(phases)} ({phase.name}): steps {begin}-{end}.")
        if model.phase is not (phase if phased else None) or model.phase_start_step != begin:
            model.enter_phase(phase if phased else None, begin)
        length = per_epoch[index]
        step = max(start_step, begin)
        while step < end:
            epoch_in_phase = (step - begin) // length
            epoch_start = begin + epoch_in_phase * length
            epoch_end = min(epoch_start + length, end)
            epoch = epochs_before[index] + epoch_in_phase
            if step == epoch_start and epoch_end == epoch_start + length:
                # Whole epochs from here: one fit call for all of them.
                count = (end - step) // length
                run(index, step, count, epoch, length)
                step += count * length
            else:
                # The rest of a resumed epoch, or a phase's short last epoch.
                run(index, step, 1, epoch, epoch_end - step)
                step = epoch_end
    return int(model.step.numpy())
