"""Resumable training: ``fit()`` driven so that a killed run continues at the
exact step of its last checkpoint.

The data stream is a pure function of the global step (``zoo.data
.make_dataset(start_step=...)``), the model's step counter, weights, optimizer
state and noise stream are in the checkpoint, and Keras's epochs are aligned
to the global step: a run resumed in the middle of epoch ``e`` first finishes
that epoch's remaining steps with one ``fit`` call, then goes on epoch by
epoch with a second.
"""

from zoo import callbacks as callbacks_lib


def fit_resumable(
    model,
    make_stream,
    *,
    epochs,
    steps_per_epoch,
    checkpoint_dir,
    checkpoint_every=500,
    callbacks=(),
    verbose="auto",
):
    """Train ``model`` (compiled) for ``epochs * steps_per_epoch`` steps in all,
    resuming from the last checkpoint in ``checkpoint_dir`` if there is one.

    Args:
        model: a compiled ``zoo.base.GAN``.
        make_stream: ``start_step -> tf.data.Dataset`` yielding, from its
            first element on, the batches of global steps ``start_step``,
            ``start_step + 1``, ... (infinite).
        epochs: total epochs of the run (not the epochs left).
        steps_per_epoch: steps in one epoch.
        checkpoint_dir: where ``zoo.callbacks.Checkpointer`` keeps state.
        checkpoint_every: steps between checkpoints (and one each epoch end).
        callbacks: further Keras callbacks (loggers, metrics, ...).
        verbose: passed to ``fit`` (``"auto"`` shows a progress bar).
    Returns:
        The global step reached.
    """
    checkpointer = callbacks_lib.Checkpointer(checkpoint_dir, every=checkpoint_every)
    start_step = checkpointer.restore(model)
    total_steps = epochs * steps_per_epoch
    if start_step >= total_steps:
        print(f"Already trained: step {start_step} of {total_steps}.")
        return start_step
    if start_step:
        print(f"Resuming from step {start_step} ({checkpointer._describe_latest()}).")
    # StopOnNaN runs before the checkpointer so that a bad step is never saved.
    all_callbacks = [callbacks_lib.StopOnNaN(), *callbacks, checkpointer]
    epoch, offset = divmod(start_step, steps_per_epoch)
    if offset:
        model.fit(
            make_stream(start_step),
            initial_epoch=epoch,
            epochs=epoch + 1,
            steps_per_epoch=steps_per_epoch - offset,
            callbacks=all_callbacks,
            verbose=verbose,
            shuffle=False,  # the stream is already shuffled, per epoch
        )
        epoch += 1
    if epoch < epochs:
        model.fit(
            make_stream(epoch * steps_per_epoch),
            initial_epoch=epoch,
            epochs=epochs,
            steps_per_epoch=steps_per_epoch,
            callbacks=all_callbacks,
            verbose=verbose,
            shuffle=False,  # the stream is already shuffled, per epoch
        )
    return int(model.step.numpy())
