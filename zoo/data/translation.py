"""Image-to-image data: paired (source -> target) and unpaired (domain A,
domain B) image sets, and their training streams.

``load_translation(spec, split)`` reads one split of:

* ``emoji:<A>,<B>``: two styles of the emoji in ``<data_dir>/emoji`` (or
  ``$ZOO_DATA_DIR/emoji``), joined by file name: ``openmoji_black`` ->
  ``openmoji_color`` (4,495 line-art -> colour pairs) or ``google`` <->
  ``twitter`` (3,786 emoji drawn by both vendors). Transparent pixels are
  composited onto white; the few emoji drawn in grays become RGB. The split is by emoji (``emoji_split``), the same
  for every style and architecture, so a test emoji is unseen in every style.
* a folder in CycleGAN's layout: ``trainA/ trainB/ testA/ testB/`` image
  folders (unpaired; paired too where the two folders hold the same names);
* a folder in pix2pix's layout: ``train/ val/ test/`` folders of side-by-side
  ``A|B`` images (paired), split down the middle;
* ``cycle_gan/<name>``, a TFDS dataset (``horse2zebra``, ...; downloads once,
  so only where there is a network).

``make_paired_stream`` yields ``(target, source)`` batches (the zoo's
``(images, condition)``: the generator maps the source to the target);
``make_unpaired_stream`` yields ``(domain_b, domain_a)`` batches with each
domain shuffled on its own. Both are pure functions of (seed, step), so a
resumed run sees what an uninterrupted one would. ``degrade`` makes the
source of the inpainting and colourisation tasks from the target itself
(a masked or grayscale copy), drawn reproducibly from the step.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import zlib
from pathlib import Path

import numpy as np
import tensorflow as tf

from zoo.core.errors import DatasetError
from zoo.data.cache import cache_file, read_cache, read_cache_arrays, write_cache
from zoo.data.fingerprints import content_fingerprint
from zoo.data.images import FolderReader, ZipReader, decode_all, resize_array
from zoo.data.sources import IMAGE_SUFFIXES, local_folder
from zoo.data.stream import _check_batch_size, _index_batches

EMOJI_STYLES = {
    "google": "google_64.zip",
    "twitter": "twitter_64.zip",
    "openmoji_color": "openmoji_color_64.zip",
    "openmoji_black": "openmoji_black_64.zip",
}
# Skin-tone modifiers and the emoji variation selector: variants of one emoji.
_VARIANT_CODES = {"1f3fb", "1f3fc", "1f3fd", "1f3fe", "1f3ff", "fe0f"}
TEST_FRACTION = 0.1
DEGRADATIONS = ("grayscale", "mask")


@dataclasses.dataclass
class ImageSet:
    """One domain's images, uint8 ``[N, H, W, 3]``, with their names."""

    images: np.ndarray
    names: list

    def __len__(self):
        return len(self.images)


@dataclasses.dataclass
class TranslationData:
    """Domain A (the source) and domain B (the target) of one split.
    ``paired``: ``a.images[i]`` and ``b.images[i]`` show the same thing."""

    a: ImageSet
    b: ImageSet
    paired: bool
    description: str


# --- The emoji split -----------------------------------------------------------


def emoji_key(file_name):
    """The emoji a file shows, whatever its skin tone or vendor:
    ``"1F44D-1F3FD.png"`` -> ``"1f44d"``."""
    stem = Path(file_name).name.rsplit(".", 1)[0].lower()
    return "-".join(code for code in stem.split("-") if code not in _VARIANT_CODES)


def emoji_split(file_name):
    """``"train"`` or ``"test"`` for an emoji file, by a fixed rule: the
    SHA-256 of its ``emoji_key``, so every skin-tone variant, vendor and
    architecture agrees, and about ``TEST_FRACTION`` of emoji are held out."""
    digest = int(hashlib.sha256(emoji_key(file_name).encode()).hexdigest()[:8], 16)
    return "test" if digest % 1000 < TEST_FRACTION * 1000 else "train"


# --- Loading -------------------------------------------------------------------


def load_translation(spec, split="train", data_dir=None, image_size=None):
    """One split of an image-to-image dataset (see the module doc)."""
    spec = os.fspath(spec)
    if spec.startswith("emoji:"):
        styles = [s.strip() for s in spec[len("emoji:"):].split(",")]
        if len(styles) != 2 or not all(styles):
            raise DatasetError(
                f"emoji datasets are 'emoji:<A>,<B>' with two styles of "
                f"{', '.join(EMOJI_STYLES)}; got {spec!r}"
            )
        return _load_emoji_pair(styles[0], styles[1], split, data_dir, image_size)
    path = Path(spec).expanduser()
    if path.is_dir():
        return _load_folder(path, split, image_size)
    if spec.startswith("cycle_gan/"):
        return _load_tfds_cycle_gan(spec, split, data_dir, image_size)
    raise DatasetError(
        f"unknown image-to-image dataset {spec!r}: use emoji:<A>,<B> (styles "
        f"{', '.join(EMOJI_STYLES)}), a folder with trainA/ trainB/ (CycleGAN's layout) "
        "or train/ of side-by-side A|B images (pix2pix's), or cycle_gan/<name> (TFDS)"
    )


def _emoji_dir(data_dir):
    return local_folder(
        "emoji", data_dir,
        lambda folder: any((folder / EMOJI_STYLES[s]).is_file() for s in ("google", "openmoji_color")),
        f"the emoji zips ({', '.join(EMOJI_STYLES.values())})",
    )


def load_emoji(style, split, data_dir=None, image_size=None):
    """One emoji style's images of ``split`` (``"train"``, ``"test"`` or
    ``"all"``), RGB on white, sorted by name."""
    if style not in EMOJI_STYLES:
        raise DatasetError(f"unknown emoji style {style!r}; known: {', '.join(EMOJI_STYLES)}")
    if split not in ("train", "test", "all"):
        raise DatasetError(f"unknown split {split!r} for the emoji: use train or test")
    path = _emoji_dir(data_dir) / EMOJI_STYLES[style]
    key = cache_file(f"emoji_{style}", split, image_size, ("emoji", content_fingerprint([path])))
    cached = read_cache_arrays(key)
    if cached is not None and "names" in cached:
        return ImageSet(cached["images"], [str(n) for n in cached["names"]])
    with ZipReader(path) as reader:
        members = sorted(
            m for m in reader.names()
            if m.lower().endswith(".png") and (split == "all" or emoji_split(m) == split)
        )
        arrays = decode_all(members, reader, image_size)
    # A few emoji are drawn in shades of gray (Google's family silhouettes):
    # the same artwork in RGB.
    images = np.stack([np.repeat(a, 3, axis=-1) if a.shape[-1] == 1 else a for a in arrays])
    names = [Path(m).name.lower() for m in members]
    write_cache(key, images, None, names=np.array(names))
    return ImageSet(images, names)


# The categories of emoji.json (Unicode's groups), in its order; the class
# labels of a class-conditional model trained on one emoji style.
EMOJI_CATEGORIES = (
    "Smileys & Emotion", "People & Body", "Component", "Animals & Nature", "Food & Drink",
    "Travel & Places", "Activities", "Objects", "Symbols", "Flags",
)


def emoji_categories(names, data_dir=None):
    """The category index (``EMOJI_CATEGORIES``) of each emoji file name,
    from ``emoji.json`` beside the zips: int64 ``[N]``. A skin-tone variant
    has its base emoji's category."""
    import json

    path = _emoji_dir(data_dir) / "emoji.json"
    if not path.is_file():
        raise DatasetError(f"emoji categories need {path} (emoji-datasource's emoji.json)")
    category_of = {}
    for entry in json.loads(path.read_text(encoding="utf-8")):
        # Skin-tone variants of several people (1f468-1f3fb-200d-...) are
        # listed under their base emoji's skin_variations.
        forms = [entry] + list((entry.get("skin_variations") or {}).values())
        for form in forms:
            for key in (form.get("image"), form.get("unified"), form.get("non_qualified")):
                if key:
                    category_of.setdefault(emoji_key(key), EMOJI_CATEGORIES.index(entry["category"]))
    missing = [name for name in names if emoji_key(name) not in category_of]
    if missing:
        raise DatasetError(
            f"{len(missing)} emoji have no category in {path} (e.g. {missing[0]}); "
            "use an emoji-datasource emoji.json that lists them"
        )
    return np.array([category_of[emoji_key(name)] for name in names], np.int64)


def _canonical_name(name):
    # OpenMoji's names can differ from the vendors' by a variation selector.
    return "-".join(code for code in name.rsplit(".", 1)[0].split("-") if code != "fe0f")


def _load_emoji_pair(style_a, style_b, split, data_dir, image_size):
    a, b = (load_emoji(style, split, data_dir, image_size) for style in (style_a, style_b))
    index_b = {_canonical_name(n): i for i, n in enumerate(b.names)}
    keep = [(i, index_b[_canonical_name(n)]) for i, n in enumerate(a.names) if _canonical_name(n) in index_b]
    if not keep:
        raise DatasetError(f"no emoji drawn in both {style_a} and {style_b}")
    ia, ib = (np.array(x) for x in zip(*keep))
    return TranslationData(
        ImageSet(a.images[ia], [a.names[i] for i in ia]),
        ImageSet(b.images[ib], [b.names[i] for i in ib]),
        paired=True,
        description=f"emoji {style_a} -> {style_b} ({split}: {len(keep)} pairs)",
    )


def _as_rgb(array, description):
    if array.shape[-1] != 3:
        raise DatasetError(
            f"{description} is grayscale, but this domain is RGB: convert it to RGB "
            "or remove it"
        )
    return array


def _image_files(folder):
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def _decode_folder(folder, image_size, what):
    files = _image_files(folder)
    if not files:
        raise DatasetError(f"no images in {folder} ({what}); looked for {', '.join(IMAGE_SUFFIXES)}")
    with FolderReader(folder) as reader:
        members = [f.relative_to(folder).as_posix() for f in files]
        arrays = decode_all(members, reader, image_size)
    shapes = {a.shape[:2] for a in arrays}
    if len(shapes) > 1:
        raise DatasetError(
            f"images in {folder} ({what}) have different sizes {sorted(shapes)[:3]}: "
            "resize them all (--resize, image_size=)"
        )
    images = np.stack([_as_rgb(a, str(folder / m)) for a, m in zip(arrays, members)])
    return ImageSet(images, [Path(m).name for m in members])


def _load_folder(path, split, image_size):
    if (path / "trainA").is_dir() or (path / "testA").is_dir() or (path / "trainB").is_dir():
        folders = {side: path / f"{split}{side}" for side in "AB"}
        missing = [str(f) for f in folders.values() if not f.is_dir()]
        if missing:
            raise DatasetError(
                f"{path} is in CycleGAN's layout (trainA/ trainB/ testA/ testB/) but "
                f"{', '.join(missing)} is missing"
            )
        a = _decode_folder(folders["A"], image_size, f"domain A, {split}")
        b = _decode_folder(folders["B"], image_size, f"domain B, {split}")
        if a.images.shape[1:] != b.images.shape[1:]:
            raise DatasetError(
                f"domain A images are {a.images.shape[1:3]} but domain B's are "
                f"{b.images.shape[1:3]}: resize them to one size (--resize)"
            )
        paired = a.names == b.names
        return TranslationData(a, b, paired, f"{path} ({split}: {len(a)} A, {len(b)} B, unpaired)")
    folder = path / split
    if not folder.is_dir():
        splits = [s for s in ("train", "val", "test") if (path / s).is_dir()]
        raise DatasetError(
            f"no {split}/ folder in {path}: an image-to-image folder holds trainA/ trainB/ "
            f"(CycleGAN's layout) or train/ val/ test/ of side-by-side A|B images (pix2pix's)"
            + (f"; it has {', '.join(splits)}/" if splits else "")
        )
    whole = _decode_folder(folder, None, f"side-by-side A|B images, {split}")
    height, width = whole.images.shape[1:3]
    if width != 2 * height:
        raise DatasetError(
            f"images in {folder} are {height}x{width}; pix2pix's layout puts A and B side "
            "by side, so they must be twice as wide as high"
        )
    a, b = whole.images[:, :, :height], whole.images[:, :, height:]
    if image_size is not None and height != image_size:
        a, b = resize_array(a, image_size), resize_array(b, image_size)
    return TranslationData(
        ImageSet(a, whole.names), ImageSet(b, whole.names), True,
        f"{folder} ({len(whole)} A|B pairs)",
    )


def _load_tfds_cycle_gan(spec, split, data_dir, image_size):
    import tensorflow_datasets as tfds

    sides = {}
    for side in "AB":
        name = f"{split}{side}"
        key = cache_file(spec.replace("/", "_"), name, image_size, ("tfds", spec, data_dir))
        cached = read_cache(key)
        if cached is None:
            try:
                examples = tfds.load(spec, split=name, data_dir=data_dir)
            except Exception as error:  # TFDS raises many types
                raise DatasetError(f"cannot load TFDS {spec} split {name}: {type(error).__name__}: {error}") from error
            images = []
            for example in examples.as_numpy_iterator():
                image = example["image"]
                if image_size is not None:
                    image = tf.image.resize(image, [image_size, image_size], antialias=True).numpy()
                images.append(np.clip(np.round(image), 0, 255).astype(np.uint8))
            cached = (np.stack(images), None)
            write_cache(key, *cached)
        sides[side] = ImageSet(cached[0], [f"{i:06d}" for i in range(len(cached[0]))])
    return TranslationData(sides["A"], sides["B"], False, f"TFDS {spec} ({split})")


# --- Degradations: the source of inpainting and colourisation -----------------------


def degrade(target, kind, seed):
    """The source of a restoration task, float32 in [-1, 1]: ``"grayscale"``,
    the luminance (ITU-R BT.601) in all three channels; ``"mask"``, the
    image with one rectangle per example (a quarter to a half of each side,
    anywhere) filled with mid-gray 0. ``seed``: int ``[2]``; the same seed
    gives the same masks."""
    target = tf.convert_to_tensor(target, tf.float32)
    if kind == "grayscale":
        weights = tf.constant([0.299, 0.587, 0.114], tf.float32)
        gray = tf.reduce_sum(target * weights, axis=-1, keepdims=True)
        return tf.repeat(gray, tf.shape(target)[-1], axis=-1)
    if kind == "mask":
        shape = tf.shape(target)
        batch, height, width = shape[0], shape[1], shape[2]
        draws = tf.random.stateless_uniform([batch, 4], seed=seed)
        h = tf.cast(tf.cast(height, tf.float32) * (0.25 + 0.25 * draws[:, 0]), tf.int32)
        w = tf.cast(tf.cast(width, tf.float32) * (0.25 + 0.25 * draws[:, 1]), tf.int32)
        top = tf.cast(draws[:, 2] * tf.cast(height - h + 1, tf.float32), tf.int32)
        left = tf.cast(draws[:, 3] * tf.cast(width - w + 1, tf.float32), tf.int32)
        rows = tf.range(height)[None, :, None]
        cols = tf.range(width)[None, None, :]
        inside = (
            (rows >= top[:, None, None]) & (rows < (top + h)[:, None, None])
            & (cols >= left[:, None, None]) & (cols < (left + w)[:, None, None])
        )
        return tf.where(inside[..., None], tf.zeros_like(target), target)
    raise DatasetError(f"unknown degradation {kind!r}; known: {', '.join(DEGRADATIONS)}")


# --- Streams -----------------------------------------------------------------------


def _to_float(batch):
    return tf.cast(batch, tf.float32) / 127.5 - 1.0


def translation_steps_per_epoch(data, batch_size):
    """Full batches per epoch: of the pairs, or of the smaller domain."""
    _check_batch_size(batch_size)
    count = len(data.a) if data.paired else min(len(data.a), len(data.b))
    if batch_size > count:
        raise DatasetError(f"batch_size {batch_size} is larger than the dataset ({count} examples)")
    return count // batch_size


def _second_seed(seed):
    return zlib.crc32(f"{seed}:domain_b".encode()) & 0x7FFFFFFF


def make_paired_stream(data, batch_size, *, seed=0, start_step=0, degradation=None):
    """``(target, source)`` float32 batches in [-1, 1] from a paired set: the
    target is domain B (or, with ``degradation``, domain A itself, and the
    source its degraded copy, drawn from ``(seed, step)``)."""
    if not data.paired and degradation is None:
        raise DatasetError(f"{data.description} is not paired: a paired model needs A|B pairs")
    steps = translation_steps_per_epoch(data, batch_size)
    start_epoch, skip = divmod(int(start_step), steps)
    indices = _index_batches(len(data.a), batch_size, steps, True, seed, start_epoch, True).skip(skip)
    with tf.device("/CPU:0"):
        sources = tf.convert_to_tensor(data.a.images)
        targets = sources if degradation else tf.convert_to_tensor(data.b.images)

    def gather(step, index):
        target = _to_float(tf.gather(targets, index))
        if degradation:
            source = degrade(target, degradation, tf.stack([tf.constant(seed, tf.int64), step]))
        else:
            source = _to_float(tf.gather(sources, index))
        return target, source

    stream = indices.enumerate(start=int(start_step)).map(
        gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    return stream.apply(tf.data.experimental.assert_cardinality(tf.data.INFINITE_CARDINALITY)).prefetch(
        tf.data.AUTOTUNE
    )


def make_unpaired_stream(data, batch_size, *, seed=0, start_step=0, group=1):
    """``(domain_b, domain_a)`` float32 batches in [-1, 1], each domain in an
    order of its own (seeded by ``seed`` and a hash of it): no batch of A is
    paired with its counterpart in B, as in unpaired training. With
    ``group = k > 1`` each element holds k batches per domain, as
    ``[batch, k, H, W, C]`` (DiscoGAN's three iterations per train step),
    and an epoch has ``min(N_A, N_B) // (batch * k)`` steps."""
    steps = translation_steps_per_epoch(data, batch_size * group)
    start_epoch, skip = divmod(int(start_step), steps)
    streams = []
    for images, domain_seed in ((data.b.images, _second_seed(seed)), (data.a.images, seed)):
        with tf.device("/CPU:0"):
            tensor = tf.convert_to_tensor(images)
        indices = _index_batches(len(images), batch_size * group, steps, True, domain_seed, start_epoch, True)
        if group > 1:
            indices = indices.map(lambda index: tf.reshape(index, [batch_size, group]))
        streams.append(indices.skip(skip).map(
            lambda index, tensor=tensor: _to_float(tf.gather(tensor, index)),
            num_parallel_calls=tf.data.AUTOTUNE, deterministic=True,
        ))
    stream = tf.data.Dataset.zip(tuple(streams))
    return stream.apply(tf.data.experimental.assert_cardinality(tf.data.INFINITE_CARDINALITY)).prefetch(
        tf.data.AUTOTUNE
    )
