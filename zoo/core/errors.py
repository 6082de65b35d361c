"""Errors that mean "what was asked for cannot be done", as opposed to bugs.

Each is also the built-in exception callers would expect (``ValueError``,
``RuntimeError``, ``FloatingPointError``), and each message names the
problem and the fix. The recipes' command line prints a ``ZooError`` as one
line and exits with a non-zero code; any other exception is a bug in the zoo
and keeps its traceback.
"""


class ZooError(Exception):
    """Base of the zoo's user-facing errors."""


class ConfigError(ZooError, ValueError):
    """A model, preset, flag or argument that cannot work as given."""


class DatasetError(ZooError, ValueError):
    """Bad or missing data; the message names the problem and the path/name."""


class CheckpointError(ZooError, RuntimeError):
    """A checkpoint that cannot be restored into this model."""


class TrainingDiverged(ZooError, FloatingPointError):
    """A loss or weight became non-finite; the message names the step."""


class MissingFileError(ZooError, FileNotFoundError):
    """A file the zoo needs (weights, a shipped model) is missing or corrupt;
    the message names it and where it comes from."""
