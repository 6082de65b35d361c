"""Saving a trained model for Keras users and for TF Serving.

``save_generator(model, export_dir)`` writes:

* ``generator.keras``: the model's ``export_network`` (the generator, or its
  moving average); ``keras.models.load_model`` returns its class (after
  ``import zoo``), with identical outputs. A two-way image-to-image model
  also writes ``generator_ba.keras`` (B -> A).
* ``saved_model/``: a TensorFlow SavedModel that needs neither Keras nor the
  zoo to load, with the model's ``export_signatures``. For a noise-to-image
  GAN:

  - ``serving_default``: inputs ``noise`` float32 ``[batch, latent_dim]``
    (from the prior ``metadata.json`` names), plus the condition if the
    model has one (``labels`` int32 ``[batch]``; ``images`` float32
    ``[batch, H, W, C]`` in [-1, 1] for an image condition); outputs
    ``images`` float32 ``[batch, H, W, C]`` in ``[-1, 1]`` and
    ``images_uint8`` uint8 ``[batch, H, W, C]`` in ``[0, 255]``, ready to
    encode as PNG. A generator without noise (image-to-image) takes only
    its condition.
  - ``sample`` (models with noise): inputs ``num_images`` int32 scalar and
    ``seed`` int32 scalar (plus the condition); draws the noise itself from
    the model's prior (``latent_for_seed(num_images, [seed, 0])``:
    stateless, the same seed gives the same images, equal to
    ``model.generate(num_images, seed=seed)``); same outputs.

* ``metadata.json``: architecture, condition, latent size and prior, image
  shape, training step, and whatever the caller adds.

A bare Keras generator (not a zoo model) is exported with the same
signatures, from its ``noise`` (and ``labels``) inputs.
"""

import json
import os
import shutil

import keras
import tensorflow as tf

from zoo.core.errors import ConfigError
from zoo.core.model import serving_outputs
from zoo.core.networks import input_names
from zoo.training.checkpoints import atomic_write_json


def _bare_network_signatures(generator):
    """Signatures of a plain Keras generator with a ``noise`` input (and
    optionally ``labels``): standard-normal noise for ``sample``."""
    names = input_names(generator)
    if "noise" not in names:
        raise ConfigError(f"The generator must have an input named 'noise'; it has {names}.")
    if not set(names) <= {"noise", "labels"}:
        raise ConfigError(
            f"Cannot export a generator with inputs {names}: expected 'noise' and optionally 'labels'."
        )
    latent_dim = int(generator.inputs[names.index("noise")].shape[-1])
    noise_spec = tf.TensorSpec([None, latent_dim], tf.float32, name="noise")
    counts = [tf.TensorSpec([], tf.int32, name="num_images"), tf.TensorSpec([], tf.int32, name="seed")]

    def noise_for(num_images, seed):
        return tf.random.stateless_normal(tf.stack([num_images, latent_dim]), seed=tf.stack([seed, 0]))

    if names == ["noise"]:
        return {
            "serving_default": tf.function(
                lambda noise: serving_outputs(generator(noise, training=False)),
                input_signature=[noise_spec],
            ),
            "sample": tf.function(
                lambda num_images, seed: serving_outputs(
                    generator(noise_for(num_images, seed), training=False)
                ),
                input_signature=counts,
            ),
        }
    labels_spec = tf.TensorSpec([None], tf.int32, name="labels")

    def run(noise, labels):
        return serving_outputs(generator({"noise": noise, "labels": labels}, training=False))

    return {
        "serving_default": tf.function(run, input_signature=[noise_spec, labels_spec]),
        "sample": tf.function(
            lambda num_images, seed, labels: run(noise_for(num_images, seed), labels),
            input_signature=counts + [labels_spec],
        ),
    }


def export_saved_model(model, path):
    """Write ``model`` (a zoo model, or a bare Keras generator) as a
    SavedModel for TF Serving (see the module doc)."""
    archive = keras.export.ExportArchive()
    # No archive.track(network): the endpoints capture every variable they
    # use, and tracking the network too stores each weight a second time,
    # under its keras.Variable wrapper (keras-team/keras#23553, open in
    # Keras 3.15): twice the size on disk and in every server's memory.
    # (Tracking is only needed for lookup tables, which no network here has.)
    if hasattr(model, "export_signatures"):
        signatures = model.export_signatures()
    else:
        signatures = _bare_network_signatures(model)
    for name, function in signatures.items():
        archive.add_endpoint(name, function)
    archive.write_out(os.fspath(path), verbose=False)


def save_generator(model, export_dir, metadata=None):
    """Save ``model``'s export network as ``.keras`` and as a SavedModel.

    Writes into a temporary folder and renames it into place, so an
    interrupted export never leaves a half-written ``export_dir``.

    Args:
        model: a ``zoo.core.model.ZooModel`` (its ``export_network`` is
            saved) or a generator ``keras.Model``.
        export_dir: destination folder (replaced if it exists).
        metadata: extra JSON-serialisable facts for ``metadata.json``.
    Returns:
        ``export_dir``.
    """
    network = getattr(model, "export_network", model)
    export_dir = os.path.abspath(os.fspath(export_dir))
    temp_dir = f"{export_dir}.tmp{os.getpid()}"
    shutil.rmtree(temp_dir, ignore_errors=True)
    os.makedirs(temp_dir)
    try:
        _write_export(model, network, temp_dir, metadata)
    except BaseException:
        # A failed export leaves neither a half-written folder nor its scratch copy.
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise
    if os.path.exists(export_dir):
        old = f"{export_dir}.old{os.getpid()}"
        os.replace(export_dir, old)
        os.replace(temp_dir, export_dir)
        shutil.rmtree(old)
    else:
        os.makedirs(os.path.dirname(export_dir), exist_ok=True)
        os.replace(temp_dir, export_dir)
    return export_dir


def _write_export(model, network, temp_dir, metadata):
    """The export's files, written into ``temp_dir``."""
    network.save(os.path.join(temp_dir, "generator.keras"))
    if hasattr(model, "export_generator_ba"):
        # A two-way model's second direction, B -> A.
        model.export_generator_ba.save(os.path.join(temp_dir, "generator_ba.keras"))
    # Networks that score the export rather than generate (a text-to-image
    # model's image encoder, for R-precision).
    for name, extra in getattr(model, "export_extra_networks", dict)().items():
        extra.save(os.path.join(temp_dir, f"{name}.keras"))
    export_saved_model(model, os.path.join(temp_dir, "saved_model"))
    if hasattr(model, "export_metadata"):
        info = model.export_metadata()
    else:
        names = input_names(network)
        info = {
            "architecture": None,
            "latent_dim": int(network.inputs[names.index("noise")].shape[-1]),
            "latent_prior": {"name": "normal"},
            "image_shape": [int(d) for d in network.outputs[0].shape[1:]],
            "inputs": names,
        }
    info.update(metadata or {})
    atomic_write_json(os.path.join(temp_dir, "metadata.json"), info)


def load_metadata(export_dir):
    with open(os.path.join(export_dir, "metadata.json")) as f:
        return json.load(f)
