"""Training phases: a run made of stretches with their own settings.

ProGAN grows its networks 4x4 -> 8x8 -> ... with a fade-in at each new
resolution; StackGAN trains stage I, then stage II with stage I frozen;
SRGAN pre-trains its generator with MSE before the adversarial phase. A
preset lists its phases under ``training["phases"]``, each a dict of
``Phase`` fields; ``zoo.training.fit_resumable`` walks them: before each
phase it calls ``model.enter_phase(phase, start_step)`` (the model reads
``model.phase`` when the train step is traced, and ``model.phase_progress()``
for the fade-in), builds that phase's data stream (its batch size and
resolution), and runs ``fit`` over the phase's steps. The global step says
where a run is, so a killed run resumes mid-phase, and a run killed at a
phase boundary starts the next phase.
"""

import dataclasses

from zoo.core.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Phase:
    """One stretch of training.

    Args:
        steps: train steps in the phase (give this or ``images``).
        images: images shown in the phase (ProGAN counts phases in images,
            e.g. 600k); ``steps = images // batch_size``.
        name: shown in logs and progress messages.
        batch_size: the phase's global batch (default: the run's).
        resolution: the phase's image size; the data stream is resized to
            it (default: the model's).
        fade_in_steps: steps over which ``model.phase_progress()`` ramps
            from 0 to 1 (0: no fade-in, progress is 1 throughout).
        fade_in_images: the fade-in as images shown, like ``images``.
        train: names of what trains in this phase (a model-specific choice,
            e.g. ``("generator",)`` for SRGAN's MSE pre-training); None: all.
        options: anything else the model reads from its phase.
    """

    steps: int | None = None
    images: int | None = None
    name: str = ""
    batch_size: int | None = None
    resolution: int | None = None
    fade_in_steps: int = 0
    fade_in_images: int | None = None
    train: tuple | None = None
    options: dict = dataclasses.field(default_factory=dict)

    def resolved(self, batch_size):
        """This phase with ``steps``, ``batch_size`` and ``fade_in_steps``
        made concrete for a run whose default batch is ``batch_size``."""
        batch = int(self.batch_size or batch_size)
        if batch < 1:
            raise ConfigError(f"Phase {self.name or '?'}: batch size must be >= 1, got {batch}.")
        if (self.steps is None) == (self.images is None):
            raise ConfigError(
                f"Phase {self.name or '?'}: give exactly one of steps and images."
            )
        steps = int(self.steps) if self.steps is not None else int(self.images) // batch
        if steps < 1:
            raise ConfigError(f"Phase {self.name or '?'} has no steps ({steps}).")
        fade = self.fade_in_steps
        if self.fade_in_images is not None:
            fade = int(self.fade_in_images) // batch
        if fade < 0 or fade > steps:
            raise ConfigError(
                f"Phase {self.name or '?'}: fade-in of {fade} steps does not fit in its {steps} steps."
            )
        return dataclasses.replace(
            self, steps=steps, images=None, batch_size=batch, fade_in_steps=int(fade),
            fade_in_images=None, train=None if self.train is None else tuple(self.train),
        )


def from_config(entries, batch_size):
    """``Phase`` objects (resolved for ``batch_size``) from a preset's list of dicts."""
    phases = []
    for index, entry in enumerate(entries):
        entry = dict(entry)
        unknown = set(entry) - {field.name for field in dataclasses.fields(Phase)}
        if unknown:
            raise ConfigError(f"Phase {index}: unknown settings {', '.join(sorted(unknown))}.")
        entry.setdefault("name", f"phase {index + 1}")
        phases.append(Phase(**entry).resolved(batch_size))
    if not phases:
        raise ConfigError("A phased run needs at least one phase.")
    return phases


def boundaries(phases):
    """Global start step of each phase, and the total: ``[0, s1, ..., total]``."""
    starts = [0]
    for phase in phases:
        starts.append(starts[-1] + phase.steps)
    return starts


def locate(phases, step):
    """``(index, start step)`` of the phase global ``step`` falls in; the
    last phase's end (``step == total``) gives ``(len(phases), total)``."""
    starts = boundaries(phases)
    for index in range(len(phases)):
        if starts[index] <= step < starts[index + 1]:
            return index, starts[index]
    return len(phases), starts[-1]
