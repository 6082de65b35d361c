"""Train any architecture: ``python -m zoo.train <architecture> [--flags]``.

The same command line as ``python recipes/<architecture>.py`` (see
``zoo.training.recipe``); ``python -m zoo.train --preset=<preset>`` picks the
architecture from the preset.
"""

from zoo.training.recipe import main_any

if __name__ == "__main__":
    main_any()
