"""Weights for the FID Inception-v3 (``zoo.metrics.inception``), converted once and cached.

Two sources hold the same trained parameters:

1. The TorchScript archive ``fid_inception_2015-12-05_torchscript.pt``
   (in the project's ``../shared/weights``, or wherever
   ``$ZOO_FID_TORCHSCRIPT`` points). It is read without PyTorch by
   ``zoo.metrics.torchscript``. It holds the network up to pool3 only.
2. The official TF graph ``inception-2015-12-05.tgz`` (the file TTUR's
   ``fid.py`` downloads), fetched from ``TF_GRAPH_URL`` into the cache when
   there is a network. Its ``classify_image_graph_def.pb`` keeps every
   parameter as a ``Const`` node (``<scope>/conv2d_params``,
   ``<scope>/batchnorm/{beta,moving_mean,moving_variance}``,
   ``softmax/{weights,biases}``), so it also gives the 1008-way logits.
   This path cannot run in the project's offline tests.

Both are turned into one dict keyed by TF graph names, folded into the
Keras model and saved as a Keras weights file in the cache
(``fid_inception_pool3.weights.h5`` or ``..._logits.weights.h5``), which
every later load reads directly.
"""

from __future__ import annotations

import os
import tarfile
import urllib.request
from pathlib import Path

import numpy as np

from zoo.metrics import inception
from zoo.metrics.cache import atomic_path, cache_dir
from zoo.metrics.torchscript import read_torchscript_tensors

TF_GRAPH_URL = "http://download.tensorflow.org/models/image/imagenet/inception-2015-12-05.tgz"
TF_GRAPH_MEMBER = "classify_image_graph_def.pb"
TORCHSCRIPT_NAME = "fid_inception_2015-12-05_torchscript.pt"
BATCH_NORM_EPSILON = 1e-3

# In the TorchScript archive the last two blocks flatten the TF scopes into
# one attribute name ("tower_1_mixed_conv" is "tower_1/mixed/conv").
_BLOCK_E_SCOPES = {
    "conv": "conv",
    "tower_conv": "tower/conv",
    "tower_mixed_conv": "tower/mixed/conv",
    "tower_mixed_conv_1": "tower/mixed/conv_1",
    "tower_1_conv": "tower_1/conv",
    "tower_1_conv_1": "tower_1/conv_1",
    "tower_1_mixed_conv": "tower_1/mixed/conv",
    "tower_1_mixed_conv_1": "tower_1/mixed/conv_1",
    "tower_2_conv": "tower_2/conv",
}
_TORCHSCRIPT_PARAMS = {
    "weight": "conv2d_params",
    "beta": "batchnorm/beta",
    "mean": "batchnorm/moving_mean",
    "var": "batchnorm/moving_variance",
}


def default_torchscript_path() -> Path:
    """``$ZOO_FID_TORCHSCRIPT``, else ``<repo>/../shared/weights/<archive>``."""
    if os.environ.get("ZOO_FID_TORCHSCRIPT"):
        return Path(os.environ["ZOO_FID_TORCHSCRIPT"])
    return Path(__file__).resolve().parents[2].parent / "shared" / "weights" / TORCHSCRIPT_NAME


def params_from_torchscript(path: str | Path) -> dict[str, np.ndarray]:
    """TF-graph-named parameters from the TorchScript archive (no logits).

    Conv kernels are transposed from PyTorch's [out, in, kh, kw] to the TF
    graph's [kh, kw, in, out].
    """
    params = {}
    for name, array in read_torchscript_tensors(path).items():
        parts = name.split(".")
        assert parts[:2] == ["net", "layers"], name
        *module, param = parts[2:]
        if module[0] in ("mixed_9", "mixed_10"):
            module = [module[0], _BLOCK_E_SCOPES[module[1]]]
        if param == "weight":
            array = array.transpose(2, 3, 1, 0)
        params[f"{'/'.join(module)}/{_TORCHSCRIPT_PARAMS[param]}"] = array
    return params


def params_from_tf_graph(graph_def_path: str | Path) -> dict[str, np.ndarray]:
    """Every float ``Const`` node of ``classify_image_graph_def.pb``, by node name."""
    import tensorflow as tf

    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(Path(graph_def_path).read_bytes())
    return {
        node.name: tf.make_ndarray(node.attr["value"].tensor)
        for node in graph_def.node
        if node.op == "Const" and node.attr["dtype"].type == tf.float32.as_datatype_enum
    }


def download_tf_graph() -> Path:
    """Fetch and unpack the official graph into the cache (needs a network)."""
    target = cache_dir() / "inception-2015-12-05" / TF_GRAPH_MEMBER
    if target.exists():
        return target
    with atomic_path(cache_dir() / "inception-2015-12-05.tgz") as tgz:
        urllib.request.urlretrieve(TF_GRAPH_URL, tgz)
    with tarfile.open(cache_dir() / "inception-2015-12-05.tgz") as archive:
        member = archive.extractfile(TF_GRAPH_MEMBER)
        with atomic_path(target) as tmp:
            tmp.write_bytes(member.read())
    return target


def assign_params(model, params: dict[str, np.ndarray]) -> None:
    """Fold each batch norm into its conv and set the model's weights.

    BN(conv(x, W)) with beta only is ``conv(x, W * s) + (beta - mean * s)``
    with ``s = 1 / sqrt(var + 1e-3)`` per output channel.
    """
    for layer in model.layers:
        scope = layer.name.replace(".", "/")
        if layer.__class__.__name__ == "Conv2D":
            kernel = params[f"{scope}/conv2d_params"].astype(np.float64)
            scale = 1.0 / np.sqrt(params[f"{scope}/batchnorm/moving_variance"] + BATCH_NORM_EPSILON)
            bias = params[f"{scope}/batchnorm/beta"] - params[f"{scope}/batchnorm/moving_mean"] * scale
            layer.set_weights([(kernel * scale).astype(np.float32), bias.astype(np.float32)])
        elif layer.__class__.__name__ == "Dense":
            layer.set_weights([params["softmax/weights"], params["softmax/biases"]])


def load_fid_inception(with_logits: bool = False, torchscript_path: str | Path | None = None):
    """The FID Inception with trained weights, converting and caching them on first use.

    Args:
      with_logits: also output the 1008-way logits; needs the official TF
        graph (downloaded), since the TorchScript archive stops at pool3.
      torchscript_path: the archive to convert when nothing is cached;
        default ``default_torchscript_path()``.

    Returns:
      The model of ``inception.build_fid_inception(with_logits)``.
    """
    model = inception.build_fid_inception(with_logits)
    cached = cache_dir() / f"fid_inception_{'logits' if with_logits else 'pool3'}.weights.h5"
    if cached.exists():
        model.load_weights(cached)
        return model
    torchscript_path = Path(torchscript_path or default_torchscript_path())
    if not with_logits and torchscript_path.exists():
        params = params_from_torchscript(torchscript_path)
    else:
        params = params_from_tf_graph(download_tf_graph())
    assign_params(model, params)
    with atomic_path(cached) as tmp:
        model.save_weights(tmp)
    return model


def load_fid_inception_features(layer: str, torchscript_path: str | Path | None = None):
    """``inception.build_fid_inception_features(layer)`` with the trained
    weights of ``load_fid_inception`` (copied layer by layer, by name)."""
    features = inception.build_fid_inception_features(layer)
    full = load_fid_inception(torchscript_path=torchscript_path)
    for target in features.layers:
        if target.weights:
            target.set_weights(full.get_layer(target.name).get_weights())
    return features
