"""The zoo's trained models, by name.

    import zoo
    zoo.pretrained()                       # {name: {"architecture", "preset", "scores", "path", ...}}
    generator = zoo.load("dcgan_mnist")    # the trained generator, a keras.Model
    images = generator(noise)
    model = zoo.get("dcgan").from_preset("dcgan_mnist", pretrained=True)   # to fine-tune

Shipped models live in ``savedmodels/<name>/`` beside the ``zoo`` package
(``$ZOO_MODELS_DIR`` adds another folder): ``generator.keras``,
``saved_model/`` and ``metadata.json``, with ``scores.json`` (what the model
card reports) where the model was scored. A missing or unreadable file is a
``MissingFileError`` naming it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from zoo.core.errors import MissingFileError


def model_dirs():
    """Folders searched for models, in order: ``$ZOO_MODELS_DIR``, then
    ``savedmodels/`` beside the ``zoo`` package."""
    dirs = []
    if os.environ.get("ZOO_MODELS_DIR"):
        dirs.append(Path(os.environ["ZOO_MODELS_DIR"]).expanduser())
    dirs.append(Path(__file__).resolve().parents[1] / "savedmodels")
    return dirs


def pretrained():
    """``{name: facts}`` of every model that ships (a folder holding
    ``metadata.json`` and ``generator.keras``): its architecture, preset,
    dataset, training step, path and scores."""
    models = {}
    for root in model_dirs():
        if not root.is_dir():
            continue
        for folder in sorted(root.iterdir()):
            metadata_file = folder / "metadata.json"
            if not (metadata_file.is_file() and (folder / "generator.keras").is_file()):
                continue
            if folder.name in models:
                continue  # the first folder wins ($ZOO_MODELS_DIR over the shipped ones)
            metadata = json.loads(metadata_file.read_text())
            scores_file = folder / "scores.json"
            models[folder.name] = {
                "architecture": metadata.get("architecture"),
                "preset": metadata.get("preset"),
                "dataset": metadata.get("dataset"),
                "step": metadata.get("step"),
                "path": str(folder),
                "scores": json.loads(scores_file.read_text()) if scores_file.is_file() else {},
            }
    return models


def load_into(model, name):
    """Copy the trained generator(s) of pretrained model ``name`` into
    ``model`` (built from the same preset): ``generator`` (and its moving
    average), and ``generator_ba`` of a two-way model, a text-to-image
    model's text and image encoders; a model without a generator (PixelRNN)
    gets its exported network. The discriminators
    start fresh: the zoo ships generators."""
    import keras

    trained = load(name)
    folder = Path(pretrained()[name]["path"])
    main = model.generator if hasattr(model, "generator") else model.export_network
    targets = [main] + ([model.ema_generator] if getattr(model, "ema_generator", None) else [])
    extra = []
    if hasattr(trained, "text_encoder") and hasattr(model, "text_encoder"):
        # A text-to-image export holds its text encoder with the generator;
        # the image encoder it was trained with lies beside it.
        trained, extra = trained.generator, [(trained.text_encoder, model.text_encoder)]
        if (folder / "image_encoder.keras").is_file():
            extra.append((keras.models.load_model(folder / "image_encoder.keras", compile=False),
                          model.image_encoder))
    pairs = [(trained, target) for target in targets] + extra
    second = folder / "generator_ba.keras"
    if hasattr(model, "generator_ba") and second.is_file():
        trained_ba = keras.models.load_model(second, compile=False)
        pairs += [(trained_ba, model.generator_ba)]
        if getattr(model, "ema_generator_ba", None) is not None:
            pairs.append((trained_ba, model.ema_generator_ba))
    for source, target in pairs:
        if len(source.weights) != len(target.weights) or any(
            a.shape != b.shape for a, b in zip(source.weights, target.weights)
        ):
            raise MissingFileError(
                f"pretrained {name!r} does not fit this model's {target.name}: build it from "
                f"the same preset ({pretrained()[name]['preset']})"
            )
        target.set_weights(source.get_weights())
    return model


def load(name):
    """The trained generator of model ``name`` (a ``keras.Model``: for an
    image-to-image model, its A -> B generator). ``MissingFileError`` names
    what is missing or unreadable."""
    import keras

    import zoo  # noqa: F401  (registers the networks load_model rebuilds)

    models = pretrained()
    if name not in models:
        places = ", ".join(str(d) for d in model_dirs())
        known = ", ".join(sorted(models)) or "none"
        raise MissingFileError(f"no pretrained model {name!r} in {places}; the zoo ships: {known}")
    path = Path(models[name]["path"]) / "generator.keras"
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as error:  # a truncated or foreign file raises many types
        raise MissingFileError(
            f"{path} could not be read ({type(error).__name__}: {error}); it may be corrupt or "
            "an unfetched Git LFS pointer: fetch or reinstall the model"
        ) from error
