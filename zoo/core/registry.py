"""Architecture registry: ``zoo.get("dcgan")``, ``zoo.names()``, ``zoo.presets()``.

Each architecture module registers its model class with
``@register("name", presets=PRESETS)``; ``zoo/__init__.py`` imports every
architecture module, so the registry is complete as soon as ``zoo`` is
imported.
"""

from zoo.core.errors import ConfigError

_ARCHITECTURES = {}


def register(name, presets=None):
    """Class decorator: make ``cls`` available as ``zoo.get(name)``, with
    ``presets`` (``{preset name: preset dict}``, kept beside the model in
    its module) as ``cls.presets``."""

    def decorator(cls):
        if name in _ARCHITECTURES and _ARCHITECTURES[name] is not cls:
            raise ConfigError(f"Architecture {name!r} is registered twice.")
        clashes = [p for p in (presets or {}) for other in _ARCHITECTURES.values()
                   if other is not cls and p in other.presets]
        if clashes:
            raise ConfigError(f"Preset names {', '.join(clashes)} are registered twice.")
        _ARCHITECTURES[name] = cls
        cls.architecture = name
        cls.presets = dict(presets or {})
        return cls

    return decorator


def get(name):
    """The model class registered as ``name``; a clear error if unknown."""
    try:
        return _ARCHITECTURES[name]
    except KeyError:
        raise ConfigError(
            f"Unknown architecture {name!r}. Known architectures: {', '.join(names())}."
        ) from None


def names():
    """Sorted names of every registered architecture."""
    return sorted(_ARCHITECTURES)


def presets():
    """``{preset name: architecture name}`` for every registered model."""
    return {preset: name for name in names() for preset in get(name).presets}


def architecture_of_preset(preset):
    """The architecture a preset belongs to; a clear error if unknown."""
    table = presets()
    if preset not in table:
        raise ConfigError(
            f"Unknown preset {preset!r}. Known presets: {', '.join(sorted(table))}."
        )
    return table[preset]
