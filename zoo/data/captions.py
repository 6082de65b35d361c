"""Captioned images: the data of text-to-image GANs (Reed et al. 2016's
GAN-CLS, StackGAN), images with several captions each.

``load_captioned(spec, split)`` reads one split of:

* ``emoji``: the emoji of ``<data_dir>/emoji`` (or ``$ZOO_DATA_DIR/emoji``)
  drawn by Google, Twitter and OpenMoji (colour), ``EMOJI_CAPTION_STYLES``;
  ``emoji:google`` or ``emoji:google,twitter`` takes those styles only.
  Captions come from ``emoji_captions`` (the names and keyword tags of
  ``emoji.json``, ``openmoji.json`` and ``emojibase_en.json``); an image of
  an emoji none of them describes is dropped. The split is the emoji
  split of ``zoo.data.translation`` (by emoji, for every vendor and skin
  tone), so the test captions describe emoji never seen in training.
  Skin-tone variants take their base emoji's captions with the tone added
  (``"thumbs up, medium skin tone"``).
* a CSV file with a header row holding the columns ``image`` and
  ``caption`` (UTF-8; image paths relative to the CSV's folder; several rows
  with the same image are several captions of that image), or a folder
  holding such a file named ``captions.csv``. With a ``split`` column
  (``train`` / ``test``) the rows say which split an image is in;
  without one a fixed ~10% of the images, chosen by a hash of the image
  path, is the test split and the rest the training split.

``make_caption_stream`` yields ``(images, {"tokens", "identity"})``
batches: the images in [-1, 1], one caption of each image as character ids
(``zoo.core.text.tokenize``) and each image's ``identity`` (the same value,
the same subject: an emoji in every vendor and skin tone, or one image file
of a CSV), which the text encoder's joint-embedding loss needs so that
another picture of the same subject is never counted as a wrong match. The order and the caption drawn for each image are pure functions
of (seed, step), so a resumed run sees what an uninterrupted one would.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import hashlib
import io
import json
import os
import unicodedata
import zlib
from pathlib import Path

import numpy as np
import tensorflow as tf

from zoo.core.errors import DatasetError
from zoo.core.text import tokenize
from zoo.data.images import FolderReader, decode_all, stack_images
from zoo.data.stream import _check_batch_size, _index_batches
from zoo.data.translation import (
    EMOJI_STYLES,
    TEST_FRACTION,
    _canonical_name,
    _emoji_dir,
    emoji_key,
    load_emoji,
)

EMOJI_CAPTION_STYLES = ("google", "twitter", "openmoji_color")
CSV_NAME = "captions.csv"
MAX_CAPTIONS = 8

_TONES = {
    "1f3fb": "light",
    "1f3fc": "medium-light",
    "1f3fd": "medium",
    "1f3fe": "medium-dark",
    "1f3ff": "dark",
}
# Subcategories (emoji.json) and subgroups (openmoji.json) that read badly
# when their words are simply listed.
_SUBCATEGORY_WORDS = {
    "alphanum": "letters and numbers",
    "av-symbol": "audio and video symbol",
    "other-object": "object",
    "other-symbol": "symbol",
    "place-other": "place",
    "plant-other": "plant",
    "skin-tone": "skin tone",
}


@dataclasses.dataclass
class CaptionedImages:
    """Images with their captions.

    ``images``: uint8 ``[N, H, W, 3]``; ``captions``: N lists of at least one
    caption (str) each; ``identity``: int32 ``[N]``, equal for images of the
    same subject (stable across splits); ``names``: N file names or keys;
    ``description``: one line saying what was loaded."""

    images: np.ndarray
    captions: list
    identity: np.ndarray
    names: list
    description: str

    def __len__(self):
        return len(self.images)


# --- Emoji captions ------------------------------------------------------------


def _caption_key(code):
    """The emoji a file name or code sequence shows (``emoji_key``); the
    skin-tone swatches themselves (``1f3fb``...), which ``emoji_key`` strips
    to nothing, keep their own code."""
    return emoji_key(code) or _canonical_name(Path(code).name.lower())


def _has_tone(code):
    codes = Path(code).name.rsplit(".", 1)[0].lower().split("-")
    return any(c in _TONES for c in codes) and bool(emoji_key(code))


def _clean(text):
    """Lower-case ASCII with single spaces: curly quotes become straight,
    accents are dropped ("piñata" -> "pinata")."""
    text = (text or "").replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(text.lower().split())


def _clean_name(name):
    name = _clean(name)
    if name.startswith("flag: "):
        name = "flag of " + name[len("flag: "):]
    return name


def _strip_tones(name):
    """``"couple with heart: person, person, light skin tone"`` ->
    ``"couple with heart: person, person"``."""
    if ":" not in name:
        return name
    head, tail = name.split(":", 1)
    parts = [p.strip() for p in tail.split(",") if p.strip() and not p.strip().endswith("skin tone")]
    return f"{head}: {', '.join(parts)}" if parts else head


def _split_tags(value):
    if isinstance(value, str):
        value = value.split(",")
    return [_clean(tag) for tag in value or () if _clean(tag)]


def _subcategory_words(subcategory):
    subcategory = _clean(subcategory)
    if not subcategory:
        return ""
    return _SUBCATEGORY_WORDS.get(subcategory, subcategory.replace("-", ", "))


def _article(text):
    return "an" if text[:1] in "aeiou" else "a"


def _tone_phrase(file_name):
    codes = Path(file_name).name.rsplit(".", 1)[0].lower().split("-")
    tones = list(dict.fromkeys(_TONES[c] for c in codes if c in _TONES))
    if not tones or not emoji_key(file_name):
        return ""
    if len(tones) == 1:
        return f"{tones[0]} skin tone"
    return f"{' and '.join(tones)} skin tones"


def _truncate(text, max_length):
    if len(text) <= max_length:
        return text
    cut = text[: max_length + 1].rsplit(" ", 1)[0].rstrip(" ,:;")
    return cut if 0 < len(cut) <= max_length else text[:max_length]


def _templates(names, tags, subcategory):
    """The captions of one emoji, best first: its names; name + two tags;
    "a <name> emoji"; "<name> (<subcategory>)"; "an emoji of <tags>"."""
    first = names[0]
    name_words = set(first.replace(":", " ").replace(",", " ").split())
    tags = [
        tag for tag in dict.fromkeys(tags)
        if tag not in names and not set(tag.split()) <= name_words
    ]
    captions = list(names[:3])
    if tags:
        captions.append(", ".join([first] + tags[:2]))
    captions.append(f"an emoji: {first}" if ":" in first else f"{_article(first)} {first} emoji")
    if subcategory:
        captions.append(f"{first} ({subcategory})")
    rest = tags[2:5] if len(tags) >= 5 else tags[-3:]
    if rest:
        listed = rest[0] if len(rest) == 1 else f"{', '.join(rest[:-1])} and {rest[-1]}"
        captions.append(f"an emoji of {listed}")
    return list(dict.fromkeys(captions))[:MAX_CAPTIONS]


def emoji_captions(data_dir=None, *, max_length=128):
    """``emoji_key`` -> its captions: distinct, lower-case ASCII, 2 to 8
    of them (at least 1 where the names are too long), each at most
    ``max_length`` characters; the same every call.

    Built from the names (emojibase's CLDR ``label``, OpenMoji's
    ``annotation``, emoji-datasource's Unicode ``name``; ``"flag: X"``
    reads ``"flag of X"``), the keyword tags (OpenMoji's ``openmoji_tags``
    and ``tags``, emojibase's ``tags``, emoji-datasource's ``short_names``)
    and the subcategory, in these templates: each name;
    ``"<name>, <tag>, <tag>"``; ``"a <name> emoji"`` (``"an emoji: <name>"``
    for a name with a colon);
    ``"<name> (<subcategory>)"``; ``"an emoji of <tag>, <tag> and <tag>"``.
    A skin-tone variant shares its base emoji's key and captions
    (``load_captioned`` adds the tone). The three files are joined on
    ``emoji_key`` (variation selectors and skin tones stripped)."""
    folder = _emoji_dir(data_dir)
    files = ("emoji.json", "openmoji.json", "emojibase_en.json")
    stamps = tuple(
        (name, (folder / name).stat().st_mtime_ns) if (folder / name).is_file() else (name, None)
        for name in files
    )
    if all(stamp is None for _, stamp in stamps):
        raise DatasetError(
            f"emoji captions need {', '.join(files)} beside the emoji zips in {folder}"
        )
    table = _emoji_caption_table(str(folder), stamps, int(max_length))
    return {key: list(captions) for key, captions in table.items()}


def _read_json(path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DatasetError(f"cannot read {path}: {error}") from error


@functools.lru_cache(maxsize=8)
def _emoji_caption_table(folder, stamps, max_length):
    folder = Path(folder)
    # key -> {"base": [...records], "variant": [...]}; a record is
    # (source priority, names, tags, subcategory).
    records = {}

    def add(code, priority, name, tags, subcategory, variant=None):
        if not code:
            return
        key = _caption_key(code)
        variant = _has_tone(code) if variant is None else variant
        name = _clean_name(name)
        if variant:
            name = _strip_tones(name)
        kind = "variant" if variant else "base"
        records.setdefault(key, {"base": [], "variant": []})[kind].append(
            (priority, name, tags, _subcategory_words(subcategory))
        )

    present = {name for name, stamp in stamps if stamp is not None}
    if "emojibase_en.json" in present:
        for entry in _read_json(folder / "emojibase_en.json"):
            add(entry.get("hexcode"), 0, entry.get("label"), _split_tags(entry.get("tags")), "")
            for skin in entry.get("skins") or ():
                add(skin.get("hexcode"), 0, skin.get("label"), _split_tags(entry.get("tags")), "")
    if "openmoji.json" in present:
        for entry in _read_json(folder / "openmoji.json"):
            tags = _split_tags(entry.get("openmoji_tags")) + _split_tags(entry.get("tags"))
            add(entry.get("hexcode"), 1, entry.get("annotation"), tags, entry.get("subgroups"))
    if "emoji.json" in present:
        for entry in _read_json(folder / "emoji.json"):
            # Short names are codes as often as words (clock9, flag-va, u6e80).
            tags = [
                tag.replace("_", " ") for tag in _split_tags(entry.get("short_names"))
                if tag.replace("_", "").isalpha() and not tag.startswith("flag")
            ]
            forms = [entry] + list((entry.get("skin_variations") or {}).values())
            for form in forms:
                codes = (form.get("image"), form.get("unified"), form.get("non_qualified"))
                for key in dict.fromkeys(_caption_key(code) for code in codes if code):
                    # A skin variation's key is mostly its base's, but not
                    # always (1f491's are 1f9d1-200d-2764-200d-1f9d1): it
                    # takes the base entry's words where nothing else names it.
                    add(key, 2, entry.get("name"), tags, entry.get("subcategory"), variant=form is not entry)

    chosen = {}
    for key in sorted(records):
        found = sorted(records[key]["base"] or records[key]["variant"], key=lambda record: record[0])
        names = list(dict.fromkeys(record[1] for record in found if record[1]))
        if names:
            tags = [tag for record in found for tag in record[2] if not (len(tag) <= 2 and tag.isalpha())]
            chosen[key] = (names, list(dict.fromkeys(tags)), found)
    # Tags shared by many emoji name what is drawn ("fruit", "hand");
    # rare ones are mostly slang ("lmao"): the common ones come first.
    frequency = {}
    for _, tags, _ in chosen.values():
        for tag in tags:
            frequency[tag] = frequency.get(tag, 0) + 1
    table = {}
    for key, (names, tags, found) in chosen.items():
        tags = sorted(tags, key=lambda tag: -frequency[tag])  # stable: ties keep their order
        subcategory = next((record[3] for record in found if record[3]), "")
        captions = [c for c in _templates(names, tags, subcategory) if len(c) <= max_length]
        table[key] = captions or [_truncate(names[0], max_length)]
    return table


# --- Loading -------------------------------------------------------------------


def load_captioned(spec, split="train", data_dir=None, image_size=None, max_length=128):
    """One split (``"train"`` or ``"test"``) of a captioned image set (see
    the module doc): images RGB on white, resized to ``image_size`` (a CSV's
    images must otherwise share one size), every caption at most
    ``max_length`` characters. Raises ``DatasetError`` naming the file, row
    and fix for a bad CSV."""
    if split not in ("train", "test"):
        raise DatasetError(f"unknown split {split!r} for captioned images: use train or test")
    if not isinstance(max_length, (int, np.integer)) or max_length < 1:
        raise DatasetError(f"max_length must be an int >= 1, got {max_length!r}")
    spec = os.fspath(spec)
    if spec == "emoji" or spec.startswith("emoji:"):
        styles = EMOJI_CAPTION_STYLES if spec == "emoji" else [s.strip() for s in spec[len("emoji:"):].split(",")]
        unknown = [s for s in styles if s not in EMOJI_STYLES]
        if unknown or not styles:
            raise DatasetError(
                f"unknown emoji style {', '.join(map(repr, unknown)) or '(none)'} in {spec!r}; "
                f"known: {', '.join(EMOJI_STYLES)} (e.g. emoji:google,twitter)"
            )
        return _load_emoji_captioned(list(dict.fromkeys(styles)), split, data_dir, image_size, max_length)
    path = Path(spec).expanduser()
    if path.is_dir() and (path / CSV_NAME).is_file():
        return _load_csv(path / CSV_NAME, split, image_size, max_length)
    if path.is_file() and path.suffix.lower() == ".csv":
        return _load_csv(path, split, image_size, max_length)
    if path.is_dir():
        raise DatasetError(
            f"{path} has no {CSV_NAME}: a captioned image folder holds a {CSV_NAME} with the "
            "columns image,caption (one row per caption)"
        )
    raise DatasetError(
        f"unknown captioned dataset {spec!r}: use emoji (or emoji:<styles>, styles "
        f"{', '.join(EMOJI_CAPTION_STYLES)}), a CSV file with the columns image,caption, "
        f"or a folder holding {CSV_NAME}"
    )


def _load_emoji_captioned(styles, split, data_dir, image_size, max_length):
    table = emoji_captions(data_dir, max_length=max_length)
    ids = {key: index for index, key in enumerate(sorted(table))}
    images, captions, identity, names = [], [], [], []
    for style in styles:
        loaded = load_emoji(style, split, data_dir, image_size)
        keep = []
        for index, name in enumerate(loaded.names):
            key = _caption_key(name)
            if key not in table:
                continue
            keep.append(index)
            tone = _tone_phrase(name)
            base = table[key]
            if tone:
                toned = [f"{c}, {tone}" for c in base if len(c) + len(tone) + 2 <= max_length]
                base = toned or base
            captions.append(list(base))
            identity.append(ids[key])
            names.append(f"{style}/{name}")
        images.append(loaded.images[np.array(keep, dtype=np.int64)])
    if not names:
        raise DatasetError(f"no captioned emoji in the {split} split of {', '.join(styles)}")
    count = len(names)
    description = (
        f"emoji {','.join(styles)} {split}: {count:,} images of {len(set(identity)):,} emoji, "
        f"{sum(map(len, captions)) / count:.1f} captions each"
    )
    return CaptionedImages(
        np.concatenate(images), captions, np.array(identity, np.int32), names, description
    )


def _csv_split(relative):
    digest = int(hashlib.sha256(relative.encode("utf-8")).hexdigest()[:8], 16)
    return "test" if digest % 1000 < TEST_FRACTION * 1000 else "train"


def _read_csv_rows(path):
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DatasetError(
            f"{path} is not UTF-8 (byte {error.start}, line {line}): save it as UTF-8 "
            "(\"CSV UTF-8\" in a spreadsheet)"
        ) from None
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise DatasetError(f"{path} is not a readable CSV file: {error}") from error


def _load_csv(path, split, image_size, max_length):
    rows = _read_csv_rows(path)
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise DatasetError(f"{path} is empty: it needs a header row with the columns image,caption")
    header = [cell.strip().lower() for cell in rows[0]]
    missing = [column for column in ("image", "caption") if column not in header]
    if missing:
        raise DatasetError(
            f"{path} has no {' or '.join(missing)} column (its header is {','.join(header)}): "
            "the first row must name the columns image,caption (and optionally split)"
        )
    column = {name: header.index(name) for name in ("image", "caption", "split") if name in header}
    folder = path.parent
    # relative image path -> [first row, spelling, split, captions]
    found = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank line

        def cell(name, row=row):
            index = column.get(name)
            return row[index].strip() if index is not None and index < len(row) else ""

        image, caption = cell("image"), cell("caption")
        where = f"{path} row {number}"
        if not image:
            raise DatasetError(f"{where} has no image path: fill in its image column")
        file = folder / image
        if not file.is_file():
            raise DatasetError(
                f"{where}: image {image!r} not found ({file}); image paths are relative to "
                f"the CSV's folder {folder}"
            )
        if not caption:
            raise DatasetError(f"{where}: the caption of {image} is empty: describe the image in a few words")
        if "\x00" in caption:
            raise DatasetError(f"{where}: the caption holds a NUL character: write plain text")
        if len(caption) > max_length:
            raise DatasetError(
                f"{where}: the caption has {len(caption)} characters, more than the limit of "
                f"{max_length}: shorten it (or raise max_length)"
            )
        relative = Path(os.path.normpath(image)).as_posix()
        if "split" in column:
            row_split = cell("split").lower()
            if row_split not in ("train", "test"):
                raise DatasetError(f"{where}: split {cell('split')!r} is not train or test")
        else:
            row_split = _csv_split(relative)
        entry = found.setdefault(relative, [number, image, row_split, []])
        if entry[2] != row_split:
            raise DatasetError(
                f"{where} puts {image} in {row_split} but row {entry[0]} puts it in {entry[2]}: "
                "give every row of an image the same split"
            )
        if caption not in entry[3]:
            entry[3].append(caption)
    if not found:
        raise DatasetError(f"{path} has a header but no rows: add one row (image,caption) per caption")
    ids = {relative: index for index, relative in enumerate(sorted(found))}
    chosen = [relative for relative in sorted(found) if found[relative][2] == split]
    if not chosen:
        counts = {s: sum(entry[2] == s for entry in found.values()) for s in ("train", "test")}
        how = (
            f"give some images the split {split}" if "split" in column
            else "add more images, or a split column (train/test) choosing them"
        )
        raise DatasetError(
            f"{path} has no {split} images ({counts['train']} train, {counts['test']} test): {how}"
        )
    with FolderReader(folder) as reader:
        arrays = decode_all([found[r][1] for r in chosen], reader, image_size)
    try:
        images = stack_images(arrays, [found[r][1] for r in chosen])
    except DatasetError as error:
        raise DatasetError(f"{path}: {error}") from None
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    captions = [list(found[r][3]) for r in chosen]
    description = (
        f"{path} {split}: {len(chosen):,} images, "
        f"{sum(map(len, captions)) / len(chosen):.1f} captions each"
    )
    return CaptionedImages(
        images, captions, np.array([ids[r] for r in chosen], np.int32), [found[r][1] for r in chosen], description
    )


# --- The stream ------------------------------------------------------------------


def caption_steps_per_epoch(data, batch_size):
    """Full batches per epoch, ``len(data) // batch_size``; ``DatasetError``
    for a batch larger than the data."""
    _check_batch_size(batch_size)
    if batch_size > len(data):
        raise DatasetError(
            f"batch_size {batch_size} is larger than the dataset ({len(data)} images: {data.description})"
        )
    return len(data) // batch_size


def _check_data(data, max_length):
    images = data.images
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 4:
        raise DatasetError(
            f"images must be a uint8 array [N, H, W, C], got {getattr(images, 'dtype', type(images).__name__)} "
            f"{getattr(images, 'shape', '')}"
        )
    if len(data.captions) != len(images) or np.shape(data.identity) != (len(images),):
        raise DatasetError(
            f"{len(images)} images but {len(data.captions)} caption lists and identity "
            f"{np.shape(data.identity)}: one of each per image"
        )
    for index, captions in enumerate(data.captions):
        if not captions:
            raise DatasetError(f"image {index} ({data.names[index]}) has no caption")
        for caption in captions:
            if not isinstance(caption, str) or not caption.strip():
                raise DatasetError(f"image {index} ({data.names[index]}) has an empty caption")
            if len(caption) > max_length:
                raise DatasetError(
                    f"a caption of image {index} ({data.names[index]}) has {len(caption)} characters, "
                    f"more than max_length {max_length}: {caption!r}"
                )


def _caption_seed(seed):
    return zlib.crc32(f"{seed}:captions".encode()) & 0x7FFFFFFF


def make_caption_stream(data, batch_size, max_length, *, seed=0, start_step=0):
    """An endless stream of ``(images, {"tokens", "identity"})``: images
    float32 ``[batch, H, W, 3]`` in [-1, 1], tokens int32
    ``[batch, max_length]`` (one caption of each image, tokenised in the
    pipeline) and identity int32 ``[batch]``. Each epoch is a new order of
    the images (its last ``N % batch_size`` dropped); the caption of the
    image at position i of step s is drawn from (seed, s, i). Element k of
    the stream is step ``start_step + k``, so a stream started at
    ``start_step`` continues an interrupted one exactly."""
    steps = caption_steps_per_epoch(data, batch_size)
    _check_data(data, max_length)
    if not isinstance(start_step, (int, np.integer)) or start_step < 0:
        raise DatasetError(f"start_step must be an int >= 0, got {start_step!r}")
    counts = np.array([len(c) for c in data.captions], np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    start_epoch, skip = divmod(int(start_step), steps)
    indices = _index_batches(len(data), batch_size, steps, True, seed, start_epoch, True).skip(skip)
    with tf.device("/CPU:0"):
        images = tf.convert_to_tensor(data.images)
        texts = tf.constant([c for captions in data.captions for c in captions], tf.string)
        counts_t, offsets_t = tf.constant(counts), tf.constant(offsets)
        identity = tf.constant(np.asarray(data.identity, np.int32))
    caption_seed = tf.constant(_caption_seed(seed), tf.int64)

    def gather(step, index):
        draws = tf.random.stateless_uniform(
            [batch_size], seed=tf.stack([caption_seed, step]), minval=None, maxval=None,
            dtype=tf.int64, alg="philox",
        )
        pick = tf.gather(offsets_t, index) + tf.math.floormod(draws, tf.gather(counts_t, index))
        batch = tf.cast(tf.gather(images, index), tf.float32) / 127.5 - 1.0
        tokens = tokenize(tf.gather(texts, pick), max_length)
        return batch, {"tokens": tokens, "identity": tf.gather(identity, index)}

    stream = indices.enumerate(start=int(start_step)).map(
        gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    return stream.apply(tf.data.experimental.assert_cardinality(tf.data.INFINITE_CARDINALITY)).prefetch(
        tf.data.AUTOTUNE
    )


# --- Sample grids --------------------------------------------------------------------

# Captions that describe no training image: colours and objects combined
# anew, and a few plain ones. They show what a model makes of words it has
# only seen apart.
NOVEL_CAPTIONS = (
    "a blue apple",
    "a green heart with a smiling face",
    "a purple cat",
    "a red car, happy",
    "a yellow tree",
    "a crying sun",
    "an orange moon and stars",
    "a pink robot face",
)


def grid_captions(spec, data_dir=None, max_length=128, held_out=8):
    """The fixed captions of a text-to-image sample grid: the first caption
    of ``held_out`` test images of distinct subjects (spread over the split;
    the training split's where there is no test split), then
    ``NOVEL_CAPTIONS``."""
    try:
        data = load_captioned(spec, "test", data_dir, max_length=max_length)
    except DatasetError:
        data = load_captioned(spec, "train", data_dir, max_length=max_length)
    chosen, seen = [], set()
    for index in np.linspace(0, len(data) - 1, num=4 * held_out).astype(int):
        if data.identity[index] not in seen and len(chosen) < held_out:
            seen.add(data.identity[index])
            chosen.append(data.captions[index][0])
    return chosen + [c for c in NOVEL_CAPTIONS if len(c) <= max_length]
