"""Load a trained generator from disk and draw uint8 samples from it.

Two formats (see the project README's export section):

* a ``.keras`` file holding the generator, a ``keras.Model`` from
  ``noise`` float32 [N, latent_dim] (and, if conditional, ``labels`` int
  [N]) to images float32 [N, H, W, C] in [-1, 1];
* a SavedModel folder whose ``serving_default`` signature takes ``noise``
  (and ``labels``) and returns a dict with ``images`` in [-1, 1].

The noise is N(0, I) unless ``metadata.json`` in the export folder (written
by ``zoo.export.save_generator``) names another ``latent_prior``: the AAE's
Gaussian mixture, or BigGAN's truncated normal.

``truncation`` samples a truncated generator: StyleGAN's psi on w (its
SavedModel's ``truncated`` signature, or its ``.keras`` generator's
``styles``), or otherwise a threshold on |z| (BigGAN's truncated normal).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Callable

import numpy as np
import tensorflow as tf

from zoo.core.errors import ConfigError
from zoo.metrics.preprocess import quantize_to_uint8


@dataclasses.dataclass
class Sampler:
    """A generator as a function ``(noise [N, latent_dim], labels [N] or None) -> images [N, H, W, C]``."""

    generate: Callable[[np.ndarray, np.ndarray | None], np.ndarray]
    latent_dim: int
    conditional: bool
    latent_prior: dict = dataclasses.field(default_factory=lambda: {"name": "normal"})
    num_classes: int | None = None  # of a conditional generator, when known
    truncates_w: bool = False  # StyleGAN: its generator truncates w itself


def _keras_sampler(model, truncation=None) -> Sampler:
    # A whole GAN: use the generator it serves (its EMA copy where it keeps one).
    model = getattr(model, "export_generator", None) or getattr(model, "generator", model)
    names = [t.name.split(":")[0] for t in model.inputs]
    noise_input = model.inputs[names.index("noise")] if "noise" in names else model.inputs[0]
    conditional = "labels" in names

    def generate(noise, labels):
        if truncation is not None and hasattr(model, "styles"):  # StyleGAN: psi on w
            return np.asarray(model.synthesis(model.styles(noise, truncation), training=False))
        if conditional:
            return np.asarray(model({"noise": noise, "labels": labels}, training=False))
        return np.asarray(model(noise, training=False))

    num_classes = getattr(model, "num_classes", None) if conditional else None
    return Sampler(generate, int(noise_input.shape[-1]), conditional, num_classes=num_classes,
                   truncates_w=hasattr(model, "styles"))


def _saved_model_sampler(path: Path, truncation=None) -> Sampler:
    loaded = tf.saved_model.load(str(path))
    serve = loaded.signatures["serving_default"]
    specs = serve.structured_input_signature[1]
    conditional = "labels" in specs
    truncated = loaded.signatures.get("truncated") if truncation is not None else None

    def generate(noise, labels):
        feeds = {"noise": tf.constant(noise, specs["noise"].dtype)}
        if conditional:
            feeds["labels"] = tf.constant(labels, specs["labels"].dtype)
        if truncated is not None:  # StyleGAN: psi on w
            return truncated(truncation=tf.constant(float(truncation)), **feeds)["images"].numpy()
        return serve(**feeds)["images"].numpy()

    return Sampler(generate, int(specs["noise"].shape[-1]), conditional,
                   truncates_w="truncated" in loaded.signatures)


def _export_metadata(path: Path) -> dict:
    """``metadata.json`` beside ``path`` (a ``generator.keras`` or
    ``saved_model`` in an export folder, or the folder itself), or ``{}``."""
    for folder in (path, path.parent):
        metadata = folder / "metadata.json"
        if metadata.is_file():
            return json.loads(metadata.read_text())
    return {}


def _latent_prior(metadata: dict) -> dict:
    """The export's ``latent_prior``; N(0, I) when it records none."""
    prior = metadata.get("latent_prior", {"name": "normal"})
    # Exports before the prior was recorded: a plain name or nothing.
    return prior if isinstance(prior, dict) else {"name": str(prior)}


def load_sampler(path: str | Path, truncation: float | None = None) -> Sampler:
    """A ``Sampler`` for a ``.keras`` generator file or a SavedModel folder
    (or an export folder holding ``saved_model/``), truncated with
    ``truncation`` (see the module doc)."""
    path = Path(path)
    if path.is_dir() and not (path / "saved_model.pb").is_file() and (path / "saved_model").is_dir():
        path = path / "saved_model"
    if path.is_dir():
        sampler = _saved_model_sampler(path, truncation)
    else:
        import keras

        import zoo  # noqa: F401  (registers the zoo's custom layers for deserialisation)

        sampler = _keras_sampler(keras.models.load_model(path, compile=False), truncation)
    metadata = _export_metadata(path)
    sampler.latent_prior = _latent_prior(metadata)
    if truncation is not None and not sampler.truncates_w:
        from zoo.models.biggan import check_threshold

        check_threshold(truncation)
        sampler.latent_prior = {"name": "truncated_normal", "threshold": float(truncation)}
    condition = metadata.get("condition") or {}
    if condition.get("kind") == "class":
        sampler.num_classes = int(condition["num_classes"])
    return sampler


def draw_latent(rng: np.random.Generator, num: int, latent_dim: int, prior: dict) -> np.ndarray:
    """float32 ``[num, latent_dim]`` from ``prior`` (see ``Sampler.latent_prior``)."""
    normal = rng.standard_normal((num, latent_dim)).astype(np.float32)
    if prior["name"] == "normal":
        return normal
    if prior["name"] == "gaussian_mixture":
        from zoo.models import aae

        components = rng.integers(0, prior["components"], num)
        means = aae.mixture_means(prior["components"], latent_dim)[components]
        return (means + aae.MIXTURE_STDDEV * normal).astype(np.float32)
    if prior["name"] == "truncated_normal":
        # Resample every value beyond the threshold (BigGAN's truncation trick).
        outside = np.abs(normal) > prior["threshold"]
        while outside.any():
            normal[outside] = rng.standard_normal(int(outside.sum())).astype(np.float32)
            outside = np.abs(normal) > prior["threshold"]
        return normal
    raise ConfigError(f"Unknown latent prior {prior!r} in the generator's metadata.json.")


def sample_uint8(sampler: Sampler, num_samples: int, seed: int = 0, batch_size: int = 64,
                 num_classes: int | None = None) -> np.ndarray:
    """``num_samples`` generated images, quantised to uint8 [N, H, W, C].

    Noise comes from ``numpy.random.default_rng(seed)``, N(0, I) or the
    sampler's ``latent_prior``; conditional generators get labels
    ``i % num_classes``, i.e. classes in equal shares, with the class count
    the export records unless ``num_classes`` is given.
    """
    if sampler.conditional:
        num_classes = num_classes or sampler.num_classes
        if not num_classes:
            raise ConfigError(
                "This conditional generator does not record its number of classes "
                "(no metadata.json beside it): pass --num_classes."
            )
    rng = np.random.default_rng(seed)
    noise = draw_latent(rng, num_samples, sampler.latent_dim, sampler.latent_prior)
    labels = (np.arange(num_samples) % num_classes).astype(np.int32) if sampler.conditional else None
    chunks = []
    for start in range(0, num_samples, batch_size):
        batch_labels = None if labels is None else labels[start:start + batch_size]
        chunks.append(quantize_to_uint8(sampler.generate(noise[start:start + batch_size], batch_labels)))
    return np.concatenate(chunks)
