"""The FID Inception port: TorchScript reader, weight conversion and cache, reference features."""

import collections
import pickle
import sys
import types
import zipfile

import numpy as np
import pytest

from conftest import shared_path
from zoo.metrics import inception_weights
from zoo.metrics.inception import FEATURE_DIM, build_fid_inception
from zoo.metrics.torchscript import read_torchscript_tensors

ARCHIVE = ("weights", "fid_inception_2015-12-05_torchscript.pt")


# --- A synthetic TorchScript archive, pickled the way torch.jit.save does it ------------------

class _Storage:
    def __init__(self, key, array):
        self.key, self.array = key, array


def _write_archive(path, monkeypatch, tensors):
    """Write ``tensors`` ({attr: (storage array, offset, size, stride)}) as a TorchScript zip."""
    torch_module = types.ModuleType("torch")
    utils_module = types.ModuleType("torch._utils")
    script_package = types.ModuleType("__torch__")
    script_module = types.ModuleType("__torch__.toy")
    monkeypatch.setitem(sys.modules, "__torch__", script_package)

    class FloatStorage:
        pass

    def _rebuild_tensor_v2(*args):
        raise AssertionError("only pickled, never called")

    class Toy:
        pass

    for obj, module, name in ((FloatStorage, torch_module, "FloatStorage"),
                              (_rebuild_tensor_v2, utils_module, "_rebuild_tensor_v2"),
                              (Toy, script_module, "Toy")):
        obj.__module__, obj.__qualname__ = module.__name__, name
        setattr(module, name, obj)
        monkeypatch.setitem(sys.modules, module.__name__, module)

    class _Tensor:
        def __init__(self, storage, offset, size, stride):
            self.args = (storage, offset, size, stride, False, collections.OrderedDict())

        def __reduce__(self):
            return _rebuild_tensor_v2, self.args

    class _Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, _Storage):
                return ("storage", FloatStorage, obj.key, "cpu", obj.array.size)
            return None

    top, storages = Toy(), []
    for attr, (array, offset, size, stride) in tensors.items():
        storage = _Storage(str(len(storages)), array.astype("<f4"))
        storages.append(storage)
        setattr(top, attr, _Tensor(storage, offset, size, stride))
    with zipfile.ZipFile(path, "w") as archive:
        with archive.open("toy/data.pkl", "w") as f:
            _Pickler(f, protocol=2).dump(top)
        for storage in storages:
            archive.writestr(f"toy/data/{storage.key}", storage.array.tobytes())


def test_reader_rebuilds_strided_tensors(tmp_path, monkeypatch):
    data = np.arange(24, dtype=np.float32)
    _write_archive(tmp_path / "toy.pt", monkeypatch, {
        "plain": (data, 0, (2, 3, 4), (12, 4, 1)),
        "transposed": (data[:6], 0, (3, 2), (1, 3)),  # a [2, 3] tensor's .T
        "offset": (data, 5, (2, 2), (4, 1)),
    })
    tensors = read_torchscript_tensors(tmp_path / "toy.pt")
    assert set(tensors) == {"plain", "transposed", "offset"}
    np.testing.assert_array_equal(tensors["plain"], data.reshape(2, 3, 4))
    np.testing.assert_array_equal(tensors["transposed"], data[:6].reshape(2, 3).T)
    np.testing.assert_array_equal(tensors["offset"], [[5, 6], [9, 10]])
    assert tensors["plain"].dtype == np.float32


def test_reader_refuses_other_globals(tmp_path):
    with zipfile.ZipFile(tmp_path / "evil.pt", "w") as archive:
        archive.writestr("evil/data.pkl", pickle.dumps(collections.Counter("ab"), protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="not allowed"):
        read_torchscript_tensors(tmp_path / "evil.pt")


# --- The real network -------------------------------------------------------------------------

def test_archive_maps_onto_every_conv_of_the_port():
    params = inception_weights.params_from_torchscript(shared_path(*ARCHIVE))
    model = build_fid_inception()
    convs = [layer for layer in model.layers if layer.__class__.__name__ == "Conv2D"]
    assert len(params) == 376 == 4 * len(convs)
    for layer in convs:
        kernel = params[layer.name.replace(".", "/") + "/conv2d_params"]
        assert kernel.shape == tuple(layer.kernel.shape), layer.name
    assert model.output_shape == (None, FEATURE_DIM)


def test_port_matches_reference_features_and_caches_weights(tmp_path, monkeypatch):
    reference = np.load(shared_path("reference", "fid_inception_reference.npz"))
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path))
    inputs = reference["images"].astype(np.float32) / 127.5 - 1.0

    model = inception_weights.load_fid_inception(torchscript_path=shared_path(*ARCHIVE))
    features = model.predict(inputs, batch_size=8, verbose=0)
    assert features.shape == (8, 2048)
    np.testing.assert_allclose(features, reference["features"], rtol=0, atol=1e-3)

    # The converted weights are now cached; a second load reads them, not the archive.
    assert (tmp_path / "fid_inception_pool3.weights.h5").exists()
    again = inception_weights.load_fid_inception(torchscript_path=tmp_path / "missing.pt")
    np.testing.assert_array_equal(again.predict(inputs[:2], verbose=0), model.predict(inputs[:2], verbose=0))


def test_tf_graph_consts_are_read_by_node_name(tmp_path):
    # The official graph keeps every parameter as a float Const node named by its TF scope.
    import tensorflow as tf

    kernel = np.arange(6, dtype=np.float32).reshape(1, 1, 2, 3)
    graph = tf.Graph()
    with graph.as_default():
        tf.constant(kernel, name="conv/conv2d_params")
        tf.constant(np.int32(3), name="pool_3/_reshape/shape")
        tf.raw_ops.Identity(input=tf.constant(1.0, name="x"), name="not_a_const")
    path = tmp_path / "classify_image_graph_def.pb"
    path.write_bytes(graph.as_graph_def().SerializeToString())
    params = inception_weights.params_from_tf_graph(path)
    assert set(params) == {"conv/conv2d_params", "x"}
    np.testing.assert_array_equal(params["conv/conv2d_params"], kernel)


def test_logits_head_is_a_dense_layer_on_pool3():
    reference = np.load(shared_path("reference", "fid_inception_reference.npz"))
    params = inception_weights.params_from_torchscript(shared_path(*ARCHIVE))
    rng = np.random.default_rng(0)
    params["softmax/weights"] = rng.standard_normal((2048, 1008)).astype(np.float32) * 0.01
    params["softmax/biases"] = rng.standard_normal(1008).astype(np.float32)
    model = build_fid_inception(with_logits=True)
    inception_weights.assign_params(model, params)
    out = model.predict(reference["images"][:2].astype(np.float32) / 127.5 - 1.0, verbose=0)
    np.testing.assert_allclose(out["pool3"], reference["features"][:2], atol=1e-3)
    expected = out["pool3"].astype(np.float64) @ params["softmax/weights"] + params["softmax/biases"]
    np.testing.assert_allclose(out["logits"], expected, rtol=1e-4, atol=1e-4)
