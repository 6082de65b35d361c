"""Reading one split of a dataset into memory as uint8 arrays.

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

A derived dataset (``DERIVED_DATASETS``: "stacked_mnist", three MNIST
digits as the channels of one RGB image, ``zoo.data.stacked_mnist``) is
built in memory from a known one, deterministically.

Decoded image folders, zips and TFDS datasets are cached (``zoo.data.cache``).
"""

from __future__ import annotations

import gzip
import os
import re
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import tensorflow as tf

from zoo.core.errors import DatasetError
from zoo.data.cache import cache_file, read_cache, write_cache
from zoo.data.fingerprints import content_fingerprint
from zoo.data.images import FolderReader, ZipReader, crop_and_resize, decode_all, resize_array, stack_images



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
        # ../shared holds CIFAR-10 re-encoded as JPEG at quality 75, so a
        # score against these files is not one against the lossless
        # originals (TFDS's): reports say so (``source_note``).
        "local_copy": "JPEG q75 copy",
        "splits": {
            "train": ("cifar10_jpeg_q75.zip",),
            "test": ("cifar10_jpeg_q75.zip",),
        },
    },
}

# Datasets built in memory from a known one: name -> module with
# load_<name>(split, data_dir, image_size) and source_identity(split, data_dir).
DERIVED_DATASETS = {"stacked_mnist": "zoo.data.stacked_mnist"}

LOCAL_SPLITS = ("train", "test")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


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
    if name in DERIVED_DATASETS:
        return getattr(_derived(name), f"load_{name}")(split, data_dir, image_size)
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
        f"({', '.join([*KNOWN_DATASETS, *DERIVED_DATASETS])}), not an existing file or folder, and not a "
        "TFDS dataset name (see tfds.list_builders(), e.g. 'celeb_a', 'cifar10')"
    )


def source_identity(
    dataset: str | os.PathLike,
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
) -> str:
    """What ``load_arrays(dataset, split, data_dir)`` would read, as a string
    that changes when the source does: the content fingerprint of its files
    (``zoo.data.fingerprints``: the same for a copy of the same bytes), or
    the TFDS name and data_dir.

    Two sources of the same dataset name (the JPEG CIFAR-10 copy in a local
    folder and TFDS's original, say) get different identities, so caches
    keyed by it (``zoo.metrics.real_stats``) never mix them up.
    """
    name = os.fspath(dataset)
    if name in DERIVED_DATASETS:
        return _derived(name).source_identity(split, data_dir)
    if name in KNOWN_DATASETS:
        files = _known_local_files(name, split, data_dir)
        if files:
            return "files:" + content_fingerprint(files)
        return f"tfds:{name}:{None if data_dir is None else os.path.abspath(os.fspath(data_dir))}"
    path = Path(name).expanduser()
    if path.is_file():
        return "files:" + content_fingerprint([path])
    if path.is_dir():
        relative = sorted(child.relative_to(path).as_posix() for child in path.rglob("*") if child.is_file())
        return "folder:" + content_fingerprint([path / name for name in relative], relative)
    return f"tfds:{name}:{None if data_dir is None else os.path.abspath(os.fspath(data_dir))}"


def source_note(
    dataset: str | os.PathLike,
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
) -> str | None:
    """How what ``load_arrays(dataset, split, data_dir)`` reads differs from
    the dataset as published, for reports to print beside its scores:
    ``"JPEG q75 copy"`` where CIFAR-10 is read from the local zip of
    ``../shared``; None where the originals are read (TFDS) or nothing is
    known to differ (MNIST's IDX files, a folder of the user's own)."""
    name = os.fspath(dataset)
    note = KNOWN_DATASETS.get(name, {}).get("local_copy")
    if note is None:
        return None
    return note if _known_local_files(name, split, data_dir) else None


def _known_local_files(name: str, split: str, data_dir) -> list[Path] | None:
    """The local files ``_load_known`` reads for ``split`` of known dataset
    ``name``, or None where it would read TFDS (or fail)."""
    splits = KNOWN_DATASETS[name]["splits"]
    folder = _first_folder_with_any_split(_candidate_dirs(name, data_dir), splits)
    return None if folder is None or split not in splits else _find_split_files(folder, splits[split])


def _derived(name: str):
    """The module that builds derived dataset ``name`` (imported on first use)."""
    import importlib

    return importlib.import_module(DERIVED_DATASETS[name])


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


def _data_roots(data_dir) -> list[Path]:
    """``data_dir`` and ``$ZOO_DATA_DIR``, where they are set."""
    roots = [os.fspath(data_dir)] if data_dir is not None else []
    if os.environ.get("ZOO_DATA_DIR"):
        roots.append(os.environ["ZOO_DATA_DIR"])
    return [Path(root).expanduser() for root in roots]


def _candidate_dirs(name: str, data_dir) -> list[Path]:
    """Folders that may hold ``name``'s files, most specific first."""
    return [place for root in _data_roots(data_dir) for place in (root / name, root)]


def local_folder(name: str, data_dir, holds, what: str) -> Path:
    """The first folder of ``_candidate_dirs(name, data_dir)`` for which
    ``holds(folder)`` is true; else a ``DatasetError`` saying that ``what``
    (e.g. "the emoji zips (...)") is not where it looked."""
    for folder in _candidate_dirs(name, data_dir):
        if holds(folder):
            return folder
    looked = ", ".join(str(root) for root in _data_roots(data_dir)) or "no --data_dir given"
    raise DatasetError(
        f"{what} are not in {looked}: pass --data_dir pointing at the folder holding {name}/ "
        "(e.g. ../shared/datasets)"
    )


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
        images = resize_array(images, image_size)
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
        members = _list_folder(path)  # the fingerprint hashes the listed images
        fingerprint = content_fingerprint([path / member for member in members], members)
    else:
        # Reading a big zip's directory takes a while: leave it to a cache miss.
        members, fingerprint = None, content_fingerprint([path])
    cache_path = cache_file(path.name, split, image_size, (fingerprint,))
    cached = read_cache(cache_path)
    if cached is not None:
        return cached

    if members is None:
        members = _list_zip(path)
    if not members:
        raise DatasetError(
            f"no images found in {path} (looked for {', '.join(IMAGE_SUFFIXES)})"
        )
    members, labels = _split_and_label(members, split, path)
    reader_class = FolderReader if path.is_dir() else ZipReader
    with reader_class(path) as reader:
        arrays = decode_all(members, reader, image_size)
    images = stack_images(arrays, [reader.describe(m) for m in members])
    write_cache(cache_path, images, labels)
    return images, labels


def _is_image_member(relative: str) -> bool:
    """True for a relative POSIX path that names a (non-hidden) image file."""
    parts = relative.split("/")
    # Hidden files and macOS zip metadata (__MACOSX/._x.jpg) are not images.
    if any(part.startswith(".") or part == "__MACOSX" for part in parts):
        return False
    return relative.lower().endswith(IMAGE_SUFFIXES)


def _list_folder(folder: Path) -> list[str]:
    """Sorted relative POSIX paths of the image files under ``folder``."""
    members = []
    for root, _, files in os.walk(folder):
        for file_name in files:
            relative = (Path(root) / file_name).relative_to(folder).as_posix()
            if _is_image_member(relative):
                members.append(relative)
    return sorted(members)


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



# --------------------------------------------------------------------------
# TFDS


def _load_tfds(name: str, split: str, data_dir, image_size, looked_in: list[Path]):
    """The "image" (and "label", if any) features of a TFDS split, cached after the first load."""
    import tensorflow_datasets as tfds  # heavy and optional: only needed here

    data_dir = None if data_dir is None else os.fspath(data_dir)
    cache_path = cache_file(name, split, image_size, ("tfds", name, data_dir))
    cached = read_cache(cache_path)
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
            image = crop_and_resize(image, image_size)
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
        images = stack_images(images, [f"{name}[{split}] example {i}" for i in range(len(images))])
        labels = np.array(labels, np.int64)
    result = images.astype(np.uint8, copy=False), labels if has_labels else None
    write_cache(cache_path, *result)
    return result

