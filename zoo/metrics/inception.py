"""The Inception-v3 network used for FID, as a Keras model.

This is the TensorFlow graph ``inception-2015-12-05`` (Szegedy et al.,
"Rethinking the Inception Architecture for Computer Vision", CVPR 2016)
that Heusel et al. (2017) used for FID, cut at ``pool_3`` (2048 features),
with an optional port of its 1008-way ``softmax`` head. It is *not*
``keras.applications.InceptionV3``: that network has other weights and
differs in the places below, which is why FID computed with it does not
compare with published numbers.

Quirks of this graph that the port keeps (pytorch-fid's ``FIDInception*``
blocks patch the same ones into torchvision's network):

* every conv is conv (no bias) -> batch norm with beta only (no gamma,
  epsilon 1e-3) -> ReLU; the port folds the batch norm into the conv's
  kernel and bias, since the network is only ever run for inference;
* the average pools inside ``mixed``..``mixed_9`` are 3x3, stride 1, SAME,
  and average over the *valid* pixels only (TF's SAME avg-pool, which is
  what ``AveragePooling2D(padding="same")`` does too);
* the pool branch of the last block, ``mixed_10``, is a 3x3 **max** pool
  (torchvision has an average pool there);
* stride-2 convs and pools are VALID; stride-1 convs are SAME (their
  padding is symmetric because every kernel size is odd);
* ``pool_3`` is an 8x8 average over the final 8x8 map, i.e. a global mean.

Input: float32 NHWC images of 299x299x3 in [-1, 1] (uint8 ``x/127.5 - 1``,
see ``zoo.metrics.preprocess``). Output: pool3 features float32
[N, 2048], and with ``with_logits`` also the 1008-way logits.

Weights come from ``zoo.metrics.inception_weights``; the layer names here
are the TF graph's node scopes with ``/`` written as ``.``.
"""

from __future__ import annotations

import keras

FEATURE_DIM = 2048
NUM_LOGITS = 1008  # ImageNet's 1000 classes plus 8 unused ones in this graph.
INPUT_SIZE = 299


def _conv(x, scope: str, filters: int, kernel, strides: int = 1, padding: str = "same"):
    """Conv + folded batch norm + ReLU, named after the TF graph scope."""
    return keras.layers.Conv2D(
        filters, kernel, strides=strides, padding=padding, activation="relu",
        name=scope.replace("/", "."),
    )(x)


def _concat(scope: str, branches):
    return keras.layers.Concatenate(axis=-1, name=f"{scope}.join")(branches)


def _avg_pool_same(x, scope: str):
    # TF SAME average pooling divides by the number of valid pixels
    # (PyTorch's count_include_pad=False), as the FID graph does.
    name = f"{scope}/pool".replace("/", ".")
    return keras.layers.AveragePooling2D(3, strides=1, padding="same", name=name)(x)


def _block_a(x, scope: str, pool_filters: int):
    """``mixed``, ``mixed_1``, ``mixed_2`` (35x35): 64 + 64 + 96 + pool_filters channels."""
    b0 = _conv(x, f"{scope}/conv", 64, 1)
    b1 = _conv(x, f"{scope}/tower/conv", 48, 1)
    b1 = _conv(b1, f"{scope}/tower/conv_1", 64, 5)
    b2 = _conv(x, f"{scope}/tower_1/conv", 64, 1)
    b2 = _conv(b2, f"{scope}/tower_1/conv_1", 96, 3)
    b2 = _conv(b2, f"{scope}/tower_1/conv_2", 96, 3)
    b3 = _conv(_avg_pool_same(x, f"{scope}/tower_2"), f"{scope}/tower_2/conv", pool_filters, 1)
    return _concat(scope, [b0, b1, b2, b3])


def _block_b(x, scope: str):
    """``mixed_3`` (35x35 -> 17x17): 384 + 96 + 288 = 768 channels."""
    b0 = _conv(x, f"{scope}/conv", 384, 3, strides=2, padding="valid")
    b1 = _conv(x, f"{scope}/tower/conv", 64, 1)
    b1 = _conv(b1, f"{scope}/tower/conv_1", 96, 3)
    b1 = _conv(b1, f"{scope}/tower/conv_2", 96, 3, strides=2, padding="valid")
    b2 = keras.layers.MaxPooling2D(3, strides=2, padding="valid", name=f"{scope}.pool")(x)
    return _concat(scope, [b0, b1, b2])


def _block_c(x, scope: str, width: int):
    """``mixed_4``..``mixed_7`` (17x17), factorised 7x7 convs: 768 channels."""
    b0 = _conv(x, f"{scope}/conv", 192, 1)
    b1 = _conv(x, f"{scope}/tower/conv", width, 1)
    b1 = _conv(b1, f"{scope}/tower/conv_1", width, (1, 7))
    b1 = _conv(b1, f"{scope}/tower/conv_2", 192, (7, 1))
    b2 = _conv(x, f"{scope}/tower_1/conv", width, 1)
    b2 = _conv(b2, f"{scope}/tower_1/conv_1", width, (7, 1))
    b2 = _conv(b2, f"{scope}/tower_1/conv_2", width, (1, 7))
    b2 = _conv(b2, f"{scope}/tower_1/conv_3", width, (7, 1))
    b2 = _conv(b2, f"{scope}/tower_1/conv_4", 192, (1, 7))
    b3 = _conv(_avg_pool_same(x, f"{scope}/tower_2"), f"{scope}/tower_2/conv", 192, 1)
    return _concat(scope, [b0, b1, b2, b3])


def _block_d(x, scope: str):
    """``mixed_8`` (17x17 -> 8x8): 320 + 192 + 768 = 1280 channels."""
    b0 = _conv(x, f"{scope}/tower/conv", 192, 1)
    b0 = _conv(b0, f"{scope}/tower/conv_1", 320, 3, strides=2, padding="valid")
    b1 = _conv(x, f"{scope}/tower_1/conv", 192, 1)
    b1 = _conv(b1, f"{scope}/tower_1/conv_1", 192, (1, 7))
    b1 = _conv(b1, f"{scope}/tower_1/conv_2", 192, (7, 1))
    b1 = _conv(b1, f"{scope}/tower_1/conv_3", 192, 3, strides=2, padding="valid")
    b2 = keras.layers.MaxPooling2D(3, strides=2, padding="valid", name=f"{scope}.pool")(x)
    return _concat(scope, [b0, b1, b2])


def _block_e(x, scope: str, pool: str):
    """``mixed_9``, ``mixed_10`` (8x8): 320 + 2*384 + 2*384 + 192 = 2048 channels.

    ``pool`` is "avg" for ``mixed_9`` and "max" for ``mixed_10``: the FID
    graph's quirk.
    """
    b0 = _conv(x, f"{scope}/conv", 320, 1)
    t = _conv(x, f"{scope}/tower/conv", 384, 1)
    b1a = _conv(t, f"{scope}/tower/mixed/conv", 384, (1, 3))
    b1b = _conv(t, f"{scope}/tower/mixed/conv_1", 384, (3, 1))
    t = _conv(x, f"{scope}/tower_1/conv", 448, 1)
    t = _conv(t, f"{scope}/tower_1/conv_1", 384, 3)
    b2a = _conv(t, f"{scope}/tower_1/mixed/conv", 384, (1, 3))
    b2b = _conv(t, f"{scope}/tower_1/mixed/conv_1", 384, (3, 1))
    if pool == "avg":
        p = _avg_pool_same(x, f"{scope}/tower_2")
    else:
        p = keras.layers.MaxPooling2D(3, strides=1, padding="same", name=f"{scope}.tower_2.pool")(x)
    b3 = _conv(p, f"{scope}/tower_2/conv", 192, 1)
    return _concat(scope, [b0, b1a, b1b, b2a, b2b, b3])


def build_fid_inception(with_logits: bool = False) -> keras.Model:
    """Build the FID Inception-v3 (untrained weights).

    Args:
      with_logits: also output the graph's 1008-way ``softmax`` logits
        (only the official TF graph has their weights).

    Returns:
      A ``keras.Model`` from float32 [N, 299, 299, 3] in [-1, 1] to pool3
      float32 [N, 2048], or to ``{"pool3": [N, 2048], "logits": [N, 1008]}``.
    """
    images = keras.Input((INPUT_SIZE, INPUT_SIZE, 3), name="images")
    pool3 = _trunk(images)
    if not with_logits:
        return keras.Model(images, pool3, name="fid_inception_v3")
    logits = keras.layers.Dense(NUM_LOGITS, name="softmax")(pool3)
    return keras.Model(images, {"pool3": pool3, "logits": logits}, name="fid_inception_v3")


def build_fid_inception_features(layer: str) -> keras.Model:
    """The FID Inception cut after ``layer`` (one of ``FEATURE_LAYERS``), on
    images of any size (untrained weights; the layer names are the full
    network's, so ``zoo.metrics.inception_weights`` fills them): float32
    ``[N, H, W, 3]`` in [-1, 1] -> the layer's feature map. SRGAN's offline
    content loss reads it (``zoo.models.srgan``)."""
    if layer not in FEATURE_LAYERS:
        raise ValueError(f"Unknown FID Inception layer {layer!r}; use one of {', '.join(FEATURE_LAYERS)}.")
    images = keras.Input((None, None, 3), name="images")
    return keras.Model(images, _trunk(images, until=layer), name=f"fid_inception_{layer}")


# The network's steps up to pool3, by the name of each step's output: where
# build_fid_inception_features may stop.
_STEPS = (
    ("conv", lambda x: _conv(x, "conv", 32, 3, strides=2, padding="valid")),  # 149
    ("conv_1", lambda x: _conv(x, "conv_1", 32, 3, padding="valid")),  # 147
    ("conv_2", lambda x: _conv(x, "conv_2", 64, 3)),  # 147
    ("pool", lambda x: keras.layers.MaxPooling2D(3, strides=2, name="pool")(x)),  # 73
    ("conv_3", lambda x: _conv(x, "conv_3", 80, 1)),
    ("conv_4", lambda x: _conv(x, "conv_4", 192, 3, padding="valid")),  # 71
    ("pool_1", lambda x: keras.layers.MaxPooling2D(3, strides=2, name="pool_1")(x)),  # 35
    ("mixed", lambda x: _block_a(x, "mixed", 32)),
    ("mixed_1", lambda x: _block_a(x, "mixed_1", 64)),
    ("mixed_2", lambda x: _block_a(x, "mixed_2", 64)),
    ("mixed_3", lambda x: _block_b(x, "mixed_3")),  # 17
    ("mixed_4", lambda x: _block_c(x, "mixed_4", 128)),
    ("mixed_5", lambda x: _block_c(x, "mixed_5", 160)),
    ("mixed_6", lambda x: _block_c(x, "mixed_6", 160)),
    ("mixed_7", lambda x: _block_c(x, "mixed_7", 192)),
    ("mixed_8", lambda x: _block_d(x, "mixed_8")),  # 8
    ("mixed_9", lambda x: _block_e(x, "mixed_9", pool="avg")),
    ("mixed_10", lambda x: _block_e(x, "mixed_10", pool="max")),
)
FEATURE_LAYERS = tuple(name for name, _ in _STEPS)


def _trunk(images, until=None):
    """The network from ``images`` to pool3, or to the output of ``until``."""
    x = images
    for name, step in _STEPS:
        x = step(x)
        if name == until:
            return x
    return keras.layers.GlobalAveragePooling2D(name="pool_3")(x)
