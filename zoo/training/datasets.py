"""The training data of a recipe, by what the model trains on
(``model.data_kind``):

* ``"images"`` (the default): images, with labels for a class-conditional
  model (``zoo.data.load_arrays``, ``zoo.data.make_dataset``);
* ``"paired"``: ``(target, source)`` pairs (pix2pix), from an image-to-image
  dataset (``zoo.data.translation``) or, with a ``degradation``, from
  images and their degraded copies (inpainting, colourisation);
* ``"unpaired"``: ``(domain B, domain A)`` batches, each domain in its own
  order (CycleGAN, DiscoGAN);
* ``"super_resolution"``: ``(high, low)`` batches of random crops of
  high-resolution images and their downsampled copies (SRGAN;
  ``zoo.data.super_resolution``);
* ``"captions"``: ``(images, {"tokens", "identity"})`` batches of images
  and one of their captions each, as character ids (text-to-image models;
  ``zoo.data.captions``); the sample grid draws fixed captions: held-out
  ones and combinations no training caption has;
* ``"pixels"``: ``(values, values)`` batches of int sub-pixel values, the
  input and the target of a likelihood model (PixelRNN); 2-level models see
  a fixed binarisation (``zoo.models.pixelrnn.binarize``).

``TrainingData`` gives the recipe one interface for all three: how many
steps an epoch has, the stream from a step on (at a phase's resolution and
batch size), and the sample grid TensorBoard shows.
"""

import dataclasses
from typing import Callable

import numpy as np

from zoo import data
from zoo.core.errors import DatasetError
from zoo.data import stacked_mnist, translation


@dataclasses.dataclass
class TrainingData:
    """What a recipe trains on.

    ``stream(batch, start_step, resolution, seed)``; ``steps_per_epoch(batch)``;
    ``grid``: ``model -> images [N, H, W, C]`` (or ``[N, k, H, W, C]`` rows)
    for the sample grid, or None for the model's own fixed-noise grid;
    ``grid_condition``: the conditions of that grid (class labels).
    """

    description: str
    num_examples: int
    image_shape: tuple
    stream: Callable
    steps_per_epoch: Callable
    grid: Callable | None = None
    grid_condition: object = None


def _check_shape(images, image_shape, name, resize):
    _check_example_shape(images.shape[1:], image_shape, name, resize)


def _check_example_shape(example_shape, image_shape, name, resize):
    hint = "" if resize else " (--resize centre-crops and resizes them)"
    actual = tuple(int(d) for d in example_shape)
    if image_shape is not None and actual != tuple(image_shape):
        raise DatasetError(f"{name} images have shape {actual} but the model takes {tuple(image_shape)}{hint}")


def load_training_data(model, dataset, split, data_dir, image_shape, resize, degradation=None):
    """``TrainingData`` for ``model`` from ``dataset`` (see the module doc)."""
    kind = getattr(model, "data_kind", "images")
    size = image_shape[0] if resize else None
    group = getattr(model, "real_batches_per_step", 1)
    if kind == "images":
        return _images(model, dataset, split, data_dir, image_shape, size, group)
    if kind == "paired":
        return _paired(model, dataset, split, data_dir, image_shape, size, degradation)
    if kind == "unpaired":
        return _unpaired(model, dataset, split, data_dir, image_shape, size, group)
    if kind == "captions":
        return _captions(model, dataset, split, data_dir, image_shape, size)
    if kind == "pixels":
        return _pixels(model, dataset, split, data_dir, image_shape, size)
    if kind == "super_resolution":
        return _super_resolution(model, dataset, split, data_dir)
    raise DatasetError(f"unknown data kind {kind!r} of {type(model).__name__}")


def _images(model, dataset, split, data_dir, image_shape, size, group):
    if str(dataset) == stacked_mnist.FRESH:
        return _fresh_stacks(model, split, data_dir, image_shape, size, group)
    if str(dataset).startswith("emoji:") and "," not in str(dataset):
        # One emoji style as an image set (ProGAN's emoji preset), labelled
        # by category for a class-conditional model (BigGAN's).
        emoji = translation.load_emoji(str(dataset)[len("emoji:"):], split, data_dir, size)
        images, labels = emoji.images, None
        if model.condition.kind == "class":
            labels = translation.emoji_categories(emoji.names, data_dir)
    else:
        images, labels = data.load_arrays(dataset, split, data_dir, image_size=size)
    data.check_image_shape(images, image_shape, str(dataset))
    with_labels = model.condition.kind == "class"
    if with_labels and labels is None:
        raise DatasetError(
            f"{type(model).__name__} is class-conditional but {dataset} has no labels: "
            "use a dataset with labels (class subfolders for image folders)."
        )
    if with_labels and labels.max() >= model.num_classes:
        raise DatasetError(
            f"{dataset} has labels up to {labels.max()}, but the model has {model.num_classes} classes."
        )
    resized = {}

    def images_at(resolution):
        if resolution is None or resolution == images.shape[1]:
            return images
        if resolution not in resized:
            from zoo.data.images import resize_array

            resized[resolution] = resize_array(images, resolution)
        return resized[resolution]

    def stream(batch, start_step, resolution=None, seed=0):
        return data.make_dataset(
            images_at(resolution), labels, batch, seed=seed, start_step=start_step,
            with_labels=with_labels, group=group,
        )

    return TrainingData(
        description=f"{dataset} {split}: {len(images)} images {tuple(images.shape[1:])}",
        num_examples=len(images),
        image_shape=tuple(images.shape[1:]),
        stream=stream,
        steps_per_epoch=lambda batch: data.steps_per_epoch(len(images), batch * group),
        # A model with a grid of its own (LAPGAN: every pyramid level) shows it.
        grid=(lambda model: model.training_grid()) if hasattr(model, "training_grid") else None,
        grid_condition=model.condition.grid_values(64) if with_labels else None,
    )


def _fresh_stacks(model, split, data_dir, image_shape, size, group):
    """Stacked MNIST drawn afresh at every step from ``split``'s digits
    (``zoo.data.stacked_mnist.make_fresh_stream``)."""
    if model.condition.kind != "none":
        raise DatasetError(
            f"{stacked_mnist.FRESH} has no labels for {type(model).__name__}'s condition: "
            "train an unconditional model on it"
        )
    digits, _ = data.load_arrays("mnist", split, data_dir, image_size=size)
    shape = (*digits.shape[1:3], 3)
    _check_example_shape(shape, image_shape, stacked_mnist.FRESH, size)

    def stream(batch, start_step, resolution=None, seed=0):
        return stacked_mnist.make_fresh_stream(digits, batch, seed=seed, start_step=start_step, group=group)

    return TrainingData(
        description=f"{stacked_mnist.FRESH} {split}: stacks of 3 of {len(digits)} digits drawn "
        f"afresh each step {shape}",
        num_examples=len(digits),
        image_shape=shape,
        stream=stream,
        steps_per_epoch=lambda batch: stacked_mnist.fresh_steps_per_epoch(len(digits), batch * group),
    )


def _single_domain(dataset, split, data_dir, size):
    """Images of one domain for a degradation task: an emoji style
    (``emoji:<style>``) or any dataset ``load_arrays`` reads."""
    spec = str(dataset)
    if spec.startswith("emoji:") and "," not in spec:
        emoji = translation.load_emoji(spec[len("emoji:"):], split, data_dir, size)
        return emoji.images, emoji.names
    images, _ = data.load_arrays(dataset, split, data_dir, image_size=size)
    if images.shape[-1] != 3:
        raise DatasetError(f"{dataset} is grayscale: inpainting and colourisation here need RGB images")
    return images, [f"{i:06d}" for i in range(len(images))]


def _grid_rows(model, source, target):
    """The grid of a translation model: rows ``input | output | target``."""
    return lambda model: model.sample_grid(source, target)


def _paired(model, dataset, split, data_dir, image_shape, size, degradation):
    if degradation:
        images, names = _single_domain(dataset, split, data_dir, size)
        pairs = translation.TranslationData(
            translation.ImageSet(images, names), translation.ImageSet(images, names), True,
            f"{dataset} {split}: {len(images)} images, source = {degradation} copy",
        )
    else:
        pairs = translation.load_translation(dataset, split, data_dir, size)
        if not pairs.paired:
            raise DatasetError(
                f"{pairs.description} is not paired: {type(model).__name__} trains on A|B pairs "
                "(pix2pix's layout, or two emoji styles)"
            )
    _check_shape(pairs.a.images, model.condition.image_shape, f"{dataset} source", size)
    _check_shape(pairs.b.images, image_shape, f"{dataset} target", size)

    def stream(batch, start_step, resolution=None, seed=0):
        return translation.make_paired_stream(
            pairs, batch, seed=seed, start_step=start_step, degradation=degradation
        )

    held_out = _held_out(pairs, dataset, data_dir, size, degradation)
    return TrainingData(
        description=pairs.description,
        num_examples=len(pairs.a),
        image_shape=tuple(pairs.b.images.shape[1:]),
        stream=stream,
        steps_per_epoch=lambda batch: translation.translation_steps_per_epoch(pairs, batch),
        grid=_grid_rows(model, *held_out),
    )


def _held_out(pairs, dataset, data_dir, size, degradation, count=8):
    """``(source, target)`` of up to ``count`` test examples (the training
    ones where the dataset has no test split), float32 in [-1, 1]: the
    fixed inputs of the sample grid."""
    try:
        if degradation:
            images, _ = _single_domain(dataset, "test", data_dir, size)
            test = translation.TranslationData(
                translation.ImageSet(images, []), translation.ImageSet(images, []), True, ""
            )
        else:
            test = translation.load_translation(dataset, "test", data_dir, size)
    except DatasetError:
        test = pairs
    target = test.b.images[:count].astype(np.float32) / 127.5 - 1.0
    if degradation:
        import tensorflow as tf

        source = translation.degrade(target, degradation, tf.constant([0, 0], tf.int64)).numpy()
    else:
        source = test.a.images[:count].astype(np.float32) / 127.5 - 1.0
    return source, target


def _unpaired(model, dataset, split, data_dir, image_shape, size, group):
    domains = translation.load_translation(dataset, split, data_dir, size)
    _check_shape(domains.a.images, model.condition.image_shape, f"{dataset} domain A", size)
    _check_shape(domains.b.images, image_shape, f"{dataset} domain B", size)

    def stream(batch, start_step, resolution=None, seed=0):
        return translation.make_unpaired_stream(
            domains, batch, seed=seed, start_step=start_step, group=group
        )

    source, target = _held_out(domains, dataset, data_dir, size, None)
    return TrainingData(
        description=f"{domains.description}, trained unpaired",
        num_examples=min(len(domains.a), len(domains.b)),
        image_shape=tuple(domains.b.images.shape[1:]),
        stream=stream,
        steps_per_epoch=lambda batch: translation.translation_steps_per_epoch(domains, batch * group),
        grid=_grid_rows(model, source, target),
    )


def _captions(model, dataset, split, data_dir, image_shape, size):
    from zoo.data import captions

    data = captions.load_captioned(dataset, split, data_dir, image_size=size, max_length=model.max_length)
    _check_shape(data.images, image_shape, str(dataset), size)

    def stream(batch, start_step, resolution=None, seed=0):
        return captions.make_caption_stream(data, batch, model.max_length, seed=seed, start_step=start_step)

    grid_captions = captions.grid_captions(dataset, data_dir, model.max_length)
    return TrainingData(
        description=data.description,
        num_examples=len(data),
        image_shape=tuple(data.images.shape[1:]),
        stream=stream,
        steps_per_epoch=lambda batch: captions.caption_steps_per_epoch(data, batch),
        grid=lambda model: model.caption_grid(grid_captions),
    )


def pixel_values(model, dataset, split, data_dir, size=None):
    """The int sub-pixel values a likelihood model trains and is scored on:
    the images themselves, or for a 2-level model their fixed binarisation
    (seed 0 for the training split, 1 for the others)."""
    from zoo.models.pixelrnn import binarize

    images, _ = data.load_arrays(dataset, split, data_dir, image_size=size)
    if model.levels == 2:
        images = binarize(images, seed=0 if split == "train" else 1)
    return images


def _pixels(model, dataset, split, data_dir, image_shape, size):
    import tensorflow as tf

    from zoo.data.stream import _index_batches

    values = pixel_values(model, dataset, split, data_dir, size)
    _check_shape(values, image_shape, str(dataset), size)
    with tf.device("/CPU:0"):
        tensor = tf.convert_to_tensor(values)

    def stream(batch, start_step, resolution=None, seed=0):
        steps = data.steps_per_epoch(len(values), batch)
        start_epoch, skip = divmod(int(start_step), steps)
        indices = _index_batches(len(values), batch, steps, True, seed, start_epoch, True).skip(skip)

        def gather(index):
            batch_values = tf.cast(tf.gather(tensor, index), tf.int32)
            return batch_values, batch_values

        stream = indices.map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return stream.apply(tf.data.experimental.assert_cardinality(tf.data.INFINITE_CARDINALITY)).prefetch(
            tf.data.AUTOTUNE
        )

    binarised = ", binarised" if model.levels == 2 else ""
    return TrainingData(
        description=f"{dataset} {split}: {len(values)} images {tuple(values.shape[1:])}{binarised}",
        num_examples=len(values),
        image_shape=tuple(values.shape[1:]),
        stream=stream,
        steps_per_epoch=lambda batch: data.steps_per_epoch(len(values), batch),
        grid=lambda model: model.to_images(model.generate(16, seed=0)),
    )


def _super_resolution(model, dataset, split, data_dir):
    from zoo.data import super_resolution as sr

    images = sr.load_high_resolution(dataset, split, data_dir)
    crop, scale = model.crop_shape[0], model.scale
    sr.check_crop(images, crop, scale)

    def stream(batch, start_step, resolution=None, seed=0):
        return sr.make_super_resolution_stream(images, batch, crop, scale, seed=seed, start_step=start_step)

    # The grid: fixed crops of held-out images (the training ones where the
    # dataset has no test split), the first element of a seed-0 stream.
    try:
        held_out = sr.load_high_resolution(dataset, "test", data_dir)
        sr.check_crop(held_out, crop, scale)
    except DatasetError:  # no usable test split: show training crops
        held_out = images
    target, source = next(iter(sr.make_super_resolution_stream(held_out, 4, crop, scale, seed=0)))
    return TrainingData(
        description=f"{images.description}, {crop}x{crop} crops from {crop // scale}x{crop // scale} (x{scale})",
        num_examples=len(images),
        image_shape=model.crop_shape,
        stream=stream,
        steps_per_epoch=lambda batch: sr.steps_per_epoch(images, batch, crop),
        grid=lambda model: model.sample_grid(source.numpy(), target.numpy()),
    )
