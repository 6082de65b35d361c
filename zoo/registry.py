"""Architecture registry: ``zoo.get("dcgan")``, ``zoo.names()``.

Each architecture module registers its ``GAN`` subclass with
``@register("name")``; ``zoo/__init__.py`` imports every architecture module,
so the registry is complete as soon as ``zoo`` is imported.
"""

_ARCHITECTURES = {}


def register(name):
    """Class decorator: make ``cls`` available as ``zoo.get(name)``."""

    def decorator(cls):
        if name in _ARCHITECTURES and _ARCHITECTURES[name] is not cls:
            raise ValueError(f"Architecture {name!r} is registered twice.")
        _ARCHITECTURES[name] = cls
        cls.architecture = name
        return cls

    return decorator


def get(name):
    """The model class registered as ``name``; a clear error if unknown."""
    try:
        return _ARCHITECTURES[name]
    except KeyError:
        raise ValueError(
            f"Unknown architecture {name!r}. Known architectures: "
            f"{', '.join(names())}."
        ) from None


def names():
    """Sorted names of every registered architecture."""
    return sorted(_ARCHITECTURES)
