"""Saving a trained generator for Keras users and for TF Serving.

``save_generator(model, export_dir)`` writes:

* ``generator.keras``: ``keras.models.load_model`` returns the generator
  class (after ``import zoo``), with identical outputs.
* ``saved_model/``: a TensorFlow SavedModel that needs neither Keras nor the
  zoo to load. Signatures:

  - ``serving_default``: inputs ``noise`` float32 ``[batch, latent_dim]``
    (standard normal), and ``labels`` int32 ``[batch]`` for conditional
    generators; outputs ``images`` float32 ``[batch, H, W, C]`` in
    ``[-1, 1]`` and ``images_uint8`` uint8 ``[batch, H, W, C]`` in
    ``[0, 255]``, ready to encode as PNG.
  - ``sample``: inputs ``num_images`` int32 scalar and ``seed`` int32
    scalar (plus ``labels`` for conditional generators); draws the noise
    itself from the model's prior (``GAN.latent_for_seed(num_images,
    [seed, 0])``: stateless, the same seed gives the same images, equal to
    ``model.generate(num_images, seed=seed)``); same outputs.

* ``metadata.json``: architecture, preset, latent size, latent prior, image
  shape, training step, and whatever the caller adds.
"""

import json
import os
import shutil

import keras
import tensorflow as tf

from zoo.callbacks import _atomic_write_json


def _serving_outputs(images):
    images = tf.cast(images, tf.float32)
    images_uint8 = tf.cast(
        tf.clip_by_value(tf.round((images + 1.0) * 127.5), 0.0, 255.0), tf.uint8
    )
    return {"images": images, "images_uint8": images_uint8}


def _input_specs(generator):
    """Named TensorSpecs of the generator's inputs (batch dimension free)."""
    specs = []
    for tensor in generator.inputs:
        name = tensor.name.split(":")[0]
        specs.append(
            tf.TensorSpec((None,) + tuple(tensor.shape[1:]), tensor.dtype, name=name)
        )
    return specs


def _standard_normal(latent_dim):
    def latent_for_seed(num_images, seed):
        return tf.random.stateless_normal(tf.stack([num_images, latent_dim]), seed=seed)

    return latent_for_seed


def export_saved_model(generator, path, latent_for_seed=None):
    """Write ``generator`` as a SavedModel for TF Serving (see module doc).

    ``latent_for_seed(num_images, seed [2]) -> noise`` is what ``sample``
    draws (pure TensorFlow ops); standard normal if None.
    """
    specs = _input_specs(generator)
    names = [spec.name for spec in specs]
    if "noise" not in names:
        raise ValueError(
            f"The generator must have an input named 'noise'; it has {names}."
        )
    latent_dim = int(specs[names.index("noise")].shape[-1])
    latent_for_seed = latent_for_seed or _standard_normal(latent_dim)
    archive = keras.export.ExportArchive()
    archive.track(generator)

    def run(inputs):
        if len(inputs) == 1:
            return generator(inputs["noise"], training=False)
        return generator(inputs, training=False)

    if names == ["noise"]:

        @tf.function(input_signature=specs)
        def serve(noise):
            return _serving_outputs(run({"noise": noise}))

        @tf.function(
            input_signature=[
                tf.TensorSpec([], tf.int32, name="num_images"),
                tf.TensorSpec([], tf.int32, name="seed"),
            ]
        )
        def sample(num_images, seed):
            noise = latent_for_seed(num_images, tf.stack([seed, 0]))
            return _serving_outputs(run({"noise": noise}))

    elif sorted(names) == ["labels", "noise"]:
        labels_spec = specs[names.index("labels")]

        @tf.function(input_signature=[specs[names.index("noise")], labels_spec])
        def serve(noise, labels):
            return _serving_outputs(run({"noise": noise, "labels": labels}))

        @tf.function(
            input_signature=[
                tf.TensorSpec([], tf.int32, name="num_images"),
                tf.TensorSpec([], tf.int32, name="seed"),
                labels_spec,
            ]
        )
        def sample(num_images, seed, labels):
            noise = latent_for_seed(num_images, tf.stack([seed, 0]))
            return _serving_outputs(run({"noise": noise, "labels": labels}))

    else:
        raise ValueError(
            f"Cannot export a generator with inputs {names}: expected 'noise' "
            "and optionally 'labels'."
        )
    archive.add_endpoint("serving_default", serve)
    archive.add_endpoint("sample", sample)
    archive.write_out(path, verbose=False)


def save_generator(model, export_dir, metadata=None):
    """Save ``model``'s generator as ``.keras`` and as a SavedModel.

    Writes into a temporary folder and renames it into place, so an
    interrupted export never leaves a half-written ``export_dir``.

    Args:
        model: a ``zoo.base.GAN`` (its ``export_generator`` is saved) or a
            generator ``keras.Model``.
        export_dir: destination folder (replaced if it exists).
        metadata: extra JSON-serialisable facts for ``metadata.json``.
    Returns:
        ``export_dir``.
    """
    generator = getattr(model, "export_generator", model)
    export_dir = os.path.abspath(export_dir)
    temp_dir = f"{export_dir}.tmp{os.getpid()}"
    shutil.rmtree(temp_dir, ignore_errors=True)
    os.makedirs(temp_dir)
    generator.save(os.path.join(temp_dir, "generator.keras"))
    export_saved_model(
        generator,
        os.path.join(temp_dir, "saved_model"),
        getattr(model, "latent_for_seed", None),
    )
    info = {
        "architecture": getattr(model, "architecture", None),
        "latent_dim": int(generator.inputs[0].shape[-1]),
        "latent_prior": model.latent_prior() if hasattr(model, "latent_prior") else {"name": "normal"},
        "image_shape": [int(d) for d in generator.outputs[0].shape[1:]],
        "inputs": [spec.name for spec in _input_specs(generator)],
    }
    if hasattr(model, "g_optimizer"):
        info["step"] = int(model.step.numpy())
    info.update(metadata or {})
    _atomic_write_json(os.path.join(temp_dir, "metadata.json"), info)
    if os.path.exists(export_dir):
        old = f"{export_dir}.old{os.getpid()}"
        os.replace(export_dir, old)
        os.replace(temp_dir, export_dir)
        shutil.rmtree(old)
    else:
        os.makedirs(os.path.dirname(export_dir), exist_ok=True)
        os.replace(temp_dir, export_dir)
    return export_dir


def load_metadata(export_dir):
    with open(os.path.join(export_dir, "metadata.json")) as f:
        return json.load(f)
