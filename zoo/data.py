"""Training data: load a dataset into memory and stream it as resumable batches.

``load_arrays`` reads one split of a dataset into uint8 arrays. A dataset is
named by one of:

1. a known local name (``KNOWN_DATASETS``: "mnist", "fashion_mnist",
   "cifar10"), looked up in ``data_dir`` then ``$ZOO_DATA_DIR`` (each as the
   folder itself or its ``<name>/`` subfolder), falling back to TFDS;
2. any TFDS name ("celeb_a", "mnist", ...), read with ``tfds.load``;
3. a folder of IDX files (``*-images-idx3-ubyte[.gz]`` + ``*-labels-idx1-ubyte[.gz]``);
4. a folder of image files (searched recursively; class subfolders give labels;
   ``train/`` and ``test/`` subfolders give splits);
5. a .zip of image files, with the same rules as a folder.

``make_dataset`` turns the arrays into an endless stream of float32 batches in
[-1, 1] whose order depends only on (seed, global step), so a resumed run sees
exactly the batches an uninterrupted run would have seen. ``load_dataset``
does both and returns a ``DatasetInfo`` alongside; ``check_image_shape`` and
``steps_per_epoch`` are its checks, for callers that use the first two directly.

Decoded image folders, zips and TFDS datasets are cached as .npz files under
``$ZOO_CACHE_DIR`` (default ``~/.cache/zoo``), in ``data/``.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import gzip
import hashlib
import io
import logging
import os
import re
import struct
import tempfile
import threading
import zipfile
import zlib
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image

log = logging.getLogger(__name__)


class DatasetError(ValueError):
    """Bad or missing data; the message names the problem and the path/name."""


# Files of each known dataset, per split. IDX files may also be gzipped (".gz").
KNOWN_DATASETS: dict = {
    "mnist": {
        "format": "idx",
        "splits": {
            "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
            "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
        },
    },
    "fashion_mnist": {
        "format": "idx",
        "splits": {
            "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
            "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
        },
    },
    # One zip holding cifar10/{train,test}/<class>/<n>.jpg.
    "cifar10": {
        "format": "images",
        "splits": {
            "train": ("cifar10_jpeg_q75.zip",),
            "test": ("cifar10_jpeg_q75.zip",),
        },
    },
}

LOCAL_SPLITS = ("train", "test")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")

# Bump when the decoded result of the same files changes (decoding, resizing).
_CACHE_VERSION = 1


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What ``load_dataset`` loaded; ``image_shape`` is (H, W, C)."""

    name: str
    split: str
    num_examples: int
    image_shape: tuple[int, int, int]
    num_classes: int | None
    steps_per_epoch: int


# --------------------------------------------------------------------------
# Public API


def load_arrays(
    dataset: str | os.PathLike,
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    image_size: int | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """All examples of one split in memory.

    Returns images uint8 [N, H, W, C] (C is 1 or 3) and labels int64 [N] or
    None. With ``image_size``, every image whose size differs is centre-cropped
    to a square and resized (antialiased bilinear) to image_size x image_size.
    """
    if image_size is not None:
        if not isinstance(image_size, (int, np.integer)) or image_size < 1:
            raise DatasetError(f"image_size must be a positive int or None, got {image_size!r}")
        image_size = int(image_size)
    name = os.fspath(dataset)
    if name in KNOWN_DATASETS:
        return _load_known(name, split, data_dir, image_size)
    path = Path(name).expanduser()
    if path.exists():
        return _load_path(path, split, image_size)
    if _looks_like_path(name):
        raise DatasetError(f"dataset path not found: {path} (no such file or folder)")
    if _is_tfds_name(name):
        return _load_tfds(name, split, data_dir, image_size, looked_in=[])
    if "/" in name or "\\" in name:
        raise DatasetError(f"dataset path not found: {path} (no such file or folder)")
    raise DatasetError(
        f"unknown dataset {name!r}: not a known local dataset "
        f"({', '.join(KNOWN_DATASETS)}), not an existing file or folder, and not a "
        "TFDS dataset name (see tfds.list_builders(), e.g. 'celeb_a', 'cifar10')"
    )


def make_dataset(
    images: np.ndarray,
    labels: np.ndarray | None,
    batch_size: int,
    *,
    shuffle: bool = True,
    seed: int = 0,
    start_step: int = 0,
    repeat: bool = True,
    with_labels: bool = False,
    group: int = 1,
) -> tf.data.Dataset:
    """Training stream of batches of exactly ``batch_size`` examples.

    ``images`` is uint8 [N, H, W, C]; each element is float32 images
    [batch_size, H, W, C] in [-1, 1], or (images, int64 labels [batch_size])
    when ``with_labels``. Epoch e visits a permutation seeded by (seed, e) and
    drops its last N % (batch_size * group) examples. The element at position
    i of the stream is global step ``start_step + i`` of that sequence, so a
    stream started at ``start_step`` continues an interrupted one with no
    lost or repeated step. Without ``repeat`` the stream ends with the epoch
    that contains ``start_step``.

    With ``group = k > 1`` each element holds k distinct batches, as images
    [batch_size, k, H, W, C] (labels [batch_size, k]): one per discriminator
    update of a model with ``fresh_real_batches`` (its
    ``real_batches_per_step``), and an epoch has N // (batch_size * k) steps.
    """
    _check_arrays(images, labels)
    if not isinstance(group, (int, np.integer)) or group < 1:
        raise DatasetError(f"group must be an int >= 1, got {group!r}")
    steps = steps_per_epoch(len(images), batch_size * group)
    if not isinstance(start_step, (int, np.integer)) or start_step < 0:
        raise DatasetError(f"start_step must be an int >= 0, got {start_step!r}")
    if with_labels and labels is None:
        raise DatasetError("with_labels=True but this dataset has no labels")

    start_epoch, steps_to_skip = divmod(int(start_step), steps)
    index_batches = _index_batches(
        len(images), batch_size * group, steps, shuffle, seed, start_epoch, repeat
    ).skip(steps_to_skip)
    if group > 1:
        index_batches = index_batches.map(lambda indices: tf.reshape(indices, [batch_size, group]))

    # The uint8 arrays live once in host memory (4x smaller than float32);
    # each batch is gathered by index and only then converted to float.
    with tf.device("/CPU:0"):
        images_tensor = tf.convert_to_tensor(images)
        labels_tensor = tf.convert_to_tensor(labels.astype(np.int64)) if with_labels else None

    def gather_batch(indices):
        batch = tf.cast(tf.gather(images_tensor, indices), tf.float32) / 127.5 - 1.0
        if labels_tensor is None:
            return batch
        return batch, tf.gather(labels_tensor, indices)

    stream = index_batches.map(
        gather_batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    # flat_map hides the length; state it so Keras and callers can rely on it.
    length = tf.data.INFINITE_CARDINALITY if repeat else steps - steps_to_skip
    stream = stream.apply(tf.data.experimental.assert_cardinality(length))
    return stream.prefetch(tf.data.AUTOTUNE)


def load_dataset(
    dataset: str | os.PathLike,
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    batch_size: int = 64,
    *,
    image_shape: tuple[int, int, int] | None = None,
    image_size: int | None = None,
    seed: int = 0,
    start_step: int = 0,
    with_labels: bool = False,
    repeat: bool = True,
    group: int = 1,
) -> tuple[tf.data.Dataset, DatasetInfo]:
    """``load_arrays`` + checks + ``make_dataset``.

    ``image_size`` resizes (see ``load_arrays``); ``image_shape`` (H, W, C) is
    only checked, never converted to: a mismatch raises DatasetError.
    """
    _check_batch_size(batch_size)  # fail before a possibly long load
    images, labels = load_arrays(dataset, split, data_dir, image_size)
    name = os.fspath(dataset)
    check_image_shape(images, image_shape, name)
    stream = make_dataset(
        images,
        labels,
        batch_size,
        seed=seed,
        start_step=start_step,
        repeat=repeat,
        with_labels=with_labels,
        group=group,
    )
    info = DatasetInfo(
        name=name,
        split=split,
        num_examples=len(images),
        image_shape=tuple(int(d) for d in images.shape[1:]),
        num_classes=None if labels is None or len(labels) == 0 else int(labels.max()) + 1,
        steps_per_epoch=len(images) // (batch_size * group),
    )
    return stream, info


# --------------------------------------------------------------------------
# Checks


def steps_per_epoch(num_examples: int, batch_size: int) -> int:
    """Full batches per epoch (num_examples // batch_size); raises DatasetError
    for a batch size < 1 or larger than the dataset."""
    _check_batch_size(batch_size)
    if batch_size > num_examples:
        raise DatasetError(
            f"batch_size {batch_size} is larger than the dataset ({num_examples} examples)"
        )
    return num_examples // batch_size


def check_image_shape(images: np.ndarray, image_shape, name: str) -> None:
    """Raises DatasetError unless images [N, H, W, C] have (H, W, C) == image_shape
    (when it is not None); the message names both shapes."""
    if image_shape is None:
        return
    actual = tuple(int(d) for d in images.shape[1:])
    expected = tuple(int(d) for d in image_shape)
    if actual != expected:
        hint = ""
        if actual[:2] == expected[:2]:
            hint = " (grayscale vs RGB: the channel counts differ)"
        elif actual[2:] == expected[2:]:
            hint = " (pass image_size to resize)"
        raise DatasetError(
            f"{name} images have shape {actual} but image_shape {expected} was expected{hint}"
        )


def _check_batch_size(batch_size) -> None:
    """Raises unless batch_size is an int >= 1."""
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise DatasetError(f"batch_size must be an int >= 1, got {batch_size!r}")


def _check_arrays(images: np.ndarray, labels: np.ndarray | None) -> None:
    """Raises unless images is uint8 [N, H, W, C] and labels is None or [N]."""
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 4:
        raise DatasetError(
            "images must be a uint8 array [N, H, W, C], got "
            f"{getattr(images, 'dtype', type(images).__name__)} {getattr(images, 'shape', '')}"
        )
    if labels is not None and np.shape(labels) != (len(images),):
        raise DatasetError(
            f"labels must have shape ({len(images)},) to match images, got {np.shape(labels)}"
        )


def _looks_like_path(name: str) -> bool:
    """True for names that can only mean a file or folder (not a TFDS name)."""
    return (
        os.path.isabs(name)
        or name.startswith(("~", "."))
        or name.lower().endswith((".zip",) + IMAGE_SUFFIXES)
    )


def _is_tfds_name(name: str) -> bool:
    """True if the builder part of ``name`` ("celeb_a/align:2.*") is registered in TFDS."""
    import tensorflow_datasets as tfds  # heavy and optional: only needed here

    builder = re.split(r"[/:]", name, maxsplit=1)[0]
    # Community datasets would need the network to list.
    return builder in tfds.list_builders(with_community_datasets=False)


# --------------------------------------------------------------------------
# Index stream: which examples make up each global step


def _index_batches(
    num_examples: int,
    batch_size: int,
    steps_in_epoch: int,
    shuffle: bool,
    seed: int,
    start_epoch: int,
    repeat: bool,
) -> tf.data.Dataset:
    """int64 [batch_size] example indices per step, from the first step of start_epoch."""
    used = steps_in_epoch * batch_size

    def epoch_batches(epoch):
        order = tf.range(num_examples, dtype=tf.int64)
        if shuffle:
            # Stateless and keyed by the epoch: epoch e's order is the same
            # whether or not epochs before it were ever produced. Philox is
            # named so that CPU and GPU kernels cannot pick different ones.
            order = tf.random.experimental.stateless_shuffle(
                order, seed=tf.stack([tf.constant(seed, tf.int64), epoch]), alg="philox"
            )
        return tf.data.Dataset.from_tensor_slices(
            tf.reshape(order[:used], [steps_in_epoch, batch_size])
        )

    last_epoch = np.iinfo(np.int64).max if repeat else start_epoch + 1
    return tf.data.Dataset.range(start_epoch, last_epoch).flat_map(epoch_batches)


# --------------------------------------------------------------------------
# Known local datasets


def _load_known(name: str, split: str, data_dir, image_size):
    """Load a KNOWN_DATASETS entry from local files, else through TFDS."""
    places = _candidate_dirs(name, data_dir)
    splits = KNOWN_DATASETS[name]["splits"]
    folder = _first_folder_with_any_split(places, splits)
    if folder is None:
        return _load_tfds(name, split, data_dir, image_size, looked_in=places)
    if split not in splits:
        raise DatasetError(
            f"unknown split {split!r} for {name} in {folder}: expected one of {', '.join(splits)}"
        )
    files = _find_split_files(folder, splits[split])
    if files is None:
        wanted = " + ".join(f"{f}[.gz]" for f in splits[split])
        raise DatasetError(f"{name} split {split!r} is missing in {folder}: no {wanted}")
    if KNOWN_DATASETS[name]["format"] == "idx":
        return _load_idx_pair(files[0], files[1], image_size)
    return _load_image_source(files[0], split, image_size)


def _candidate_dirs(name: str, data_dir) -> list[Path]:
    """Folders that may hold ``name``'s files, most specific first."""
    roots = [os.fspath(data_dir)] if data_dir is not None else []
    if os.environ.get("ZOO_DATA_DIR"):
        roots.append(os.environ["ZOO_DATA_DIR"])
    places = []
    for root in roots:
        root = Path(root).expanduser()
        places += [root / name, root]
    return places


def _first_folder_with_any_split(places: list[Path], splits: dict) -> Path | None:
    """The first of ``places`` holding all files of at least one split."""
    for folder in places:
        if any(_find_split_files(folder, files) for files in splits.values()):
            return folder
    return None


def _find_split_files(folder: Path, names: tuple[str, ...]) -> list[Path] | None:
    """Paths of ``names`` in ``folder`` (each as is or gzipped), or None if any is missing."""
    found = []
    for name in names:
        candidates = [folder / name, folder / (name + ".gz")]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            return None
        found.append(path)
    return found


# --------------------------------------------------------------------------
# Paths: IDX folders, image folders, zips


_IDX_NAME = re.compile(
    r"^(?P<prefix>.+?)[-.](?P<kind>images|labels)[-.]idx[13][-.]ubyte(?P<gz>\.gz)?$"
)
# Last word of an IDX file's prefix -> split ("emnist-letters-train" -> train).
_IDX_SPLIT_WORDS = {"train": "train", "t10k": "test", "test": "test"}


def _load_path(path: Path, split: str, image_size):
    """Load an existing path: a .zip of images, a folder of IDX files, or a folder of images."""
    if path.is_file():
        if path.suffix.lower() == ".zip":
            return _load_image_source(path, split, image_size)
        raise DatasetError(
            f"unsupported dataset file {path}: expected a .zip of images or a folder"
        )
    if any(_IDX_NAME.match(p.name) for p in path.iterdir() if p.is_file()):
        return _load_idx_folder(path, split, image_size)
    return _load_image_source(path, split, image_size)


def _load_idx_folder(folder: Path, split: str, image_size):
    """The IDX images (and labels, if present) of ``split`` in ``folder``."""
    if split not in LOCAL_SPLITS:
        raise DatasetError(
            f"unknown split {split!r} for IDX folder {folder}: "
            f"expected one of {', '.join(LOCAL_SPLITS)}"
        )
    files = {}  # (prefix, kind) -> path; an uncompressed copy wins over .gz
    for path in sorted(folder.iterdir()):
        match = _IDX_NAME.match(path.name)
        if not match or _IDX_SPLIT_WORDS.get(re.split(r"[-_.]", match["prefix"])[-1]) != split:
            continue
        key = (match["prefix"], match["kind"])
        if key not in files or not match["gz"]:
            files[key] = path
    prefixes = sorted({prefix for prefix, kind in files if kind == "images"})
    if not prefixes:
        raise DatasetError(f"no {split!r} IDX images file (*-images-idx3-ubyte[.gz]) in {folder}")
    if len(prefixes) > 1:
        raise DatasetError(
            f"several {split!r} IDX image files in {folder} (prefixes {', '.join(prefixes)}): "
            "pass a folder holding one dataset"
        )
    prefix = prefixes[0]
    return _load_idx_pair(files[(prefix, "images")], files.get((prefix, "labels")), image_size)


def _load_idx_pair(images_path: Path, labels_path: Path | None, image_size):
    """uint8 [N, H, W, 1] images and int64 [N] labels (None without a labels file)."""
    images = _read_idx(images_path, ndim=3)[..., np.newaxis]
    labels = None
    if labels_path is not None:
        labels = _read_idx(labels_path, ndim=1).astype(np.int64)
        if len(labels) != len(images):
            raise DatasetError(
                f"{images_path} has {len(images)} images but {labels_path} has {len(labels)} labels"
            )
    if image_size is not None and images.shape[1:3] != (image_size, image_size):
        images = _resize_array(images, image_size)
    return images, labels


def _read_idx(path: Path, ndim: int) -> np.ndarray:
    """A uint8 IDX file (optionally gzipped) as an array with ``ndim`` dims."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as stream:
                raw = stream.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError, zlib.error) as error:
        raise DatasetError(f"corrupt IDX file {path}: {error}") from error
    # Header: two zero bytes, type code 0x08 (uint8), number of dims, then
    # each dim as a big-endian uint32.
    expected_magic = 0x0800 | ndim
    magic = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
    if magic != expected_magic:
        shown = "missing" if magic is None else f"0x{magic:08x}"
        raise DatasetError(
            f"corrupt IDX file {path}: bad magic number {shown}, expected 0x{expected_magic:08x}"
        )
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise DatasetError(f"corrupt IDX file {path}: truncated header ({len(raw)} bytes)")
    dims = struct.unpack(f">{ndim}I", raw[4:header_size])
    expected_size = int(np.prod(dims))
    actual_size = len(raw) - header_size
    if actual_size != expected_size:
        raise DatasetError(
            f"corrupt IDX file {path}: wrong length, header says {dims} = {expected_size} "
            f"bytes of data but the file has {actual_size} (truncated?)"
        )
    return np.frombuffer(raw, np.uint8, offset=header_size).reshape(dims).copy()


# --------------------------------------------------------------------------
# Image folders and zips


def _load_image_source(path: Path, split: str, image_size):
    """Images of ``split`` from a folder or .zip of image files (decoded once, then cached)."""
    if split not in LOCAL_SPLITS:
        raise DatasetError(
            f"unknown split {split!r} for {path}: expected one of {', '.join(LOCAL_SPLITS)}"
        )
    if path.is_dir():
        members, fingerprint = _list_folder(path)  # the fingerprint needs the listing
    else:
        # Reading a big zip's directory takes a while: leave it to a cache miss.
        stat = path.stat()
        members, fingerprint = None, f"{stat.st_size}-{stat.st_mtime_ns}"
    cache_file = _cache_file(path.name, split, image_size, (str(path.resolve()), fingerprint))
    cached = _read_cache(cache_file)
    if cached is not None:
        return cached

    if members is None:
        members = _list_zip(path)
    if not members:
        raise DatasetError(
            f"no images found in {path} (looked for {', '.join(IMAGE_SUFFIXES)})"
        )
    members, labels = _split_and_label(members, split, path)
    reader_class = _FolderReader if path.is_dir() else _ZipReader
    with reader_class(path) as reader:
        arrays = _decode_all(members, reader, image_size)
    images = _stack_images(arrays, [reader.describe(m) for m in members])
    _write_cache(cache_file, images, labels)
    return images, labels


def _is_image_member(relative: str) -> bool:
    """True for a relative POSIX path that names a (non-hidden) image file."""
    parts = relative.split("/")
    # Hidden files and macOS zip metadata (__MACOSX/._x.jpg) are not images.
    if any(part.startswith(".") or part == "__MACOSX" for part in parts):
        return False
    return relative.lower().endswith(IMAGE_SUFFIXES)


def _list_folder(folder: Path) -> tuple[list[str], str]:
    """Sorted relative POSIX paths of the image files under ``folder``, and a
    fingerprint of their names, sizes and modification times."""
    members, stats = [], []
    for root, _, files in os.walk(folder):
        for file_name in files:
            full = Path(root) / file_name
            relative = full.relative_to(folder).as_posix()
            if _is_image_member(relative):
                stat = full.stat()
                members.append(relative)
                stats.append((relative, stat.st_size, stat.st_mtime_ns))
    digest = hashlib.sha256(repr(sorted(stats)).encode()).hexdigest()
    return sorted(members), digest


def _list_zip(path: Path) -> list[str]:
    """Sorted names of the image members of a zip."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError) as error:
        raise DatasetError(f"cannot read zip file {path}: {error}") from error
    return sorted(n for n in names if not n.endswith("/") and _is_image_member(n))


def _split_and_label(
    members: list[str], split: str, source: Path
) -> tuple[list[str], np.ndarray | None]:
    """The members of ``split`` (in order) and their int64 labels [n] or None.

    Folder rules: a lone wrapper folder is stepped into; a level holding
    ``train/`` or ``test/`` folders is split by them; below that, if every
    image sits in a subfolder, the sorted subfolder names are the classes.
    """
    paths = [tuple(member.split("/")) for member in members]
    root: tuple[str, ...] = ()
    split_chosen = False
    while not any(len(p) == len(root) + 1 for p in paths):  # no images at this level yet
        subfolders = sorted({p[len(root)] for p in paths})
        split_folders = [name for name in subfolders if name in LOCAL_SPLITS]
        if split_folders and not split_chosen:
            if split not in split_folders:
                raise DatasetError(
                    f"no {split!r} split in {source}: it only has {', '.join(split_folders)}/"
                )
            step, split_chosen = split, True
        elif len(subfolders) == 1:
            step = subfolders[0]
        else:
            break
        paths = [p for p in paths if p[len(root)] == step]
        root += (step,)
    if not split_chosen and split != "train":
        raise DatasetError(
            f"no {split!r} split in {source}: it has no train/ and test/ subfolders, "
            "so split 'train' (all images) is its only split"
        )

    relative = [p[len(root):] for p in paths]
    selected = ["/".join(p) for p in paths]
    if not all(len(r) >= 2 for r in relative):
        return selected, None
    classes = sorted({r[0] for r in relative})
    class_index = {name: i for i, name in enumerate(classes)}
    return selected, np.array([class_index[r[0]] for r in relative], np.int64)


class _FolderReader:
    """Reads image files below a folder by relative POSIX path."""

    def __init__(self, folder: Path):
        self.folder = folder

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None

    def read(self, member: str) -> bytes:
        return (self.folder / member).read_bytes()

    def describe(self, member: str) -> str:
        return str(self.folder / member)


class _ZipReader:
    """Reads members of a zip file, safely from several threads."""

    def __init__(self, path: Path):
        self.path = path
        self._archive = zipfile.ZipFile(path)
        # One file handle is shared, so reads take turns; decoding, the slow
        # part, still runs in parallel.
        self._lock = threading.Lock()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._archive.close()

    def read(self, member: str) -> bytes:
        with self._lock:
            return self._archive.read(member)

    def describe(self, member: str) -> str:
        return f"{member} in {self.path}"


def _decode_all(members: list[str], reader, image_size, chunk: int = 256) -> list[np.ndarray]:
    """Decoded uint8 [H, W, C] arrays of ``members``, in order."""

    def decode_chunk(start: int) -> list[np.ndarray]:
        arrays = []
        for member in members[start : start + chunk]:
            try:
                data = reader.read(member)
            except (OSError, zipfile.BadZipFile, zlib.error) as error:
                raise DatasetError(
                    f"cannot read image {reader.describe(member)}: {error}"
                ) from error
            arrays.append(_decode_image(data, reader.describe(member), image_size))
        return arrays

    # PIL releases the GIL while decoding, so threads help with big images;
    # chunks keep the per-task overhead small for tiny ones (CIFAR).
    starts = range(0, len(members), chunk)
    with concurrent.futures.ThreadPoolExecutor(min(8, os.cpu_count() or 1)) as pool:
        try:
            return [array for arrays in pool.map(decode_chunk, starts) for array in arrays]
        except BaseException:
            pool.shutdown(cancel_futures=True)  # don't decode the rest after a failure
            raise


def _decode_image(data: bytes, description: str, image_size: int | None) -> np.ndarray:
    """Encoded image bytes -> uint8 [H, W, C], C = 1 for grayscale, else 3."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image_size is not None:
                # JPEG only: decode at a reduced scale that still covers the target.
                image.draft(image.mode, (image_size, image_size))
            image.load()
            image = _to_gray_or_rgb(image)
            if image_size is not None and image.size != (image_size, image_size):
                image = _crop_and_resize_pil(image, image_size)
            array = np.asarray(image, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise DatasetError(f"corrupt or unreadable image {description}: {error}") from error
    return array[:, :, np.newaxis] if array.ndim == 2 else array


def _to_gray_or_rgb(image: Image.Image) -> Image.Image:
    """Mode "L" for grayscale images, "RGB" for all others; transparent
    pixels are composited onto white (their hidden colour is arbitrary)."""
    if image.mode == "P":
        image = image.convert("RGBA")  # keeps a palette's transparency
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        gray = image.mode in ("LA", "La")
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image.convert("RGBA"))
        return image.convert("L" if gray else "RGB")
    if image.mode in ("1", "L", "I", "I;16", "F"):
        return image.convert("L")
    return image.convert("RGB")


def _crop_and_resize_pil(image: Image.Image, size: int) -> Image.Image:
    """Central square crop, then resize to size x size."""
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    square = image.crop((left, top, left + side, top + side))
    # PIL widens the bilinear filter when shrinking, so this is antialiased
    # (the same filter as tf.image.resize(antialias=True) in _crop_and_resize).
    return square.resize((size, size), Image.Resampling.BILINEAR)


def _crop_and_resize(images: tf.Tensor, size: int) -> tf.Tensor:
    """uint8 [..., H, W, C] -> uint8 [..., size, size, C]: central square crop, then
    antialiased bilinear resize."""
    shape = tf.shape(images)
    height, width = shape[-3], shape[-2]
    side = tf.minimum(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = images[..., top : top + side, left : left + side, :]
    resized = tf.image.resize(square, [size, size], method="bilinear", antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)


def _resize_array(images: np.ndarray, size: int, chunk: int = 4096) -> np.ndarray:
    """uint8 [N, H, W, C] -> uint8 [N, size, size, C], in chunks to bound float memory."""
    parts = [
        _crop_and_resize(tf.constant(images[i : i + chunk]), size).numpy()
        for i in range(0, len(images), chunk)
    ]
    return np.concatenate(parts)


def _stack_images(arrays: list[np.ndarray], names: list[str]) -> np.ndarray:
    """[H, W, C] arrays -> uint8 [N, H, W, C]; a set mixing grayscale and RGB becomes RGB."""
    first_size = arrays[0].shape[:2]
    for array, name in zip(arrays, names):
        if array.shape[:2] != first_size:
            raise DatasetError(
                f"images have different sizes (height x width): {names[0]} is "
                f"{first_size[0]}x{first_size[1]} but {name} is {array.shape[0]}x{array.shape[1]}; "
                "pass image_size to resize them all"
            )
    if any(a.shape[2] == 3 for a in arrays):
        arrays = [np.repeat(a, 3, axis=2) if a.shape[2] == 1 else a for a in arrays]
    return np.stack(arrays)


# --------------------------------------------------------------------------
# TFDS


def _load_tfds(name: str, split: str, data_dir, image_size, looked_in: list[Path]):
    """The "image" (and "label", if any) features of a TFDS split, cached after the first load."""
    import tensorflow_datasets as tfds  # heavy and optional: only needed here

    data_dir = None if data_dir is None else os.fspath(data_dir)
    cache_file = _cache_file(name, split, image_size, ("tfds", name, data_dir))
    cached = _read_cache(cache_file)
    if cached is not None:
        return cached
    try:
        examples = tfds.load(name, split=split, data_dir=data_dir)
    except Exception as error:  # TFDS raises many types: registry, network, files, split syntax
        places = ", ".join(str(p) for p in looked_in) or "no local folder given"
        raise DatasetError(
            f"dataset {name!r} (split {split!r}) was not found locally (looked in: {places}) "
            f"nor via TFDS: {type(error).__name__}: {error}"
        ) from error
    spec = examples.element_spec
    if not isinstance(spec, dict) or "image" not in spec:
        features = ", ".join(spec) if isinstance(spec, dict) else str(spec)
        raise DatasetError(f"TFDS dataset {name!r} has no 'image' feature (it has: {features})")
    has_labels = "label" in spec

    def image_and_label(example):
        image = example["image"]
        if image_size is not None:
            image = _crop_and_resize(image, image_size)
        label = tf.cast(example["label"], tf.int64) if has_labels else tf.constant(-1, tf.int64)
        return image, label

    examples = examples.map(image_and_label, num_parallel_calls=tf.data.AUTOTUNE)
    fixed_size = examples.element_spec[0].shape.is_fully_defined()
    if fixed_size:  # batching makes the copy out of TF much cheaper
        examples = examples.batch(1024)
    images, labels = [], []
    for image, label in examples.prefetch(tf.data.AUTOTUNE).as_numpy_iterator():
        images.append(image)
        labels.append(label)
    if not images:
        raise DatasetError(f"TFDS dataset {name!r} split {split!r} is empty")
    if fixed_size:
        images, labels = np.concatenate(images), np.concatenate(labels)
    else:
        images = _stack_images(images, [f"{name}[{split}] example {i}" for i in range(len(images))])
        labels = np.array(labels, np.int64)
    result = images.astype(np.uint8, copy=False), labels if has_labels else None
    _write_cache(cache_file, *result)
    return result


# --------------------------------------------------------------------------
# Cache of decoded arrays


def _cache_file(stem: str, split: str, image_size, identity: tuple) -> Path:
    """Where the decoded arrays of one (source, split, image_size) are cached."""
    key = repr((_CACHE_VERSION, identity, split, image_size))
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{stem}-{split}-{image_size or 'native'}")
    root = Path(os.environ.get("ZOO_CACHE_DIR") or "~/.cache/zoo").expanduser()
    return root / "data" / f"{readable}-{digest}.npz"


def _read_cache(path: Path) -> tuple[np.ndarray, np.ndarray | None] | None:
    """(images, labels) from a cache file, or None if absent or unreadable."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            images = archive["images"]
            labels = archive["labels"] if "labels" in archive.files else None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        log.warning("ignoring unreadable data cache %s: %s", path, error)
        return None
    return images, labels


def _write_cache(path: Path, images: np.ndarray, labels: np.ndarray | None) -> None:
    """Write atomically (temp file + rename), so readers never see half a file.
    A failure only costs the next load a decode, so it is logged, not raised."""
    arrays = {"images": images} if labels is None else {"images": images, "labels": labels}
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=path.parent, prefix=path.name + ".", suffix=".tmp", delete=False
        ) as stream:
            temporary = stream.name
            np.savez(stream, **arrays)
        os.replace(temporary, path)
    except OSError as error:
        log.warning("could not write data cache %s: %s", path, error)
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)
