"""Read the tensors of a TorchScript archive without PyTorch.

A TorchScript ``.pt`` file is a zip holding ``<root>/data.pkl`` (a pickle
of the module tree whose tensors are persistent references) and one raw
little-endian storage per tensor at ``<root>/data/<key>``. This module
unpickles ``data.pkl`` with a restricted unpickler that knows only the
handful of globals such a file uses, maps each tensor to a NumPy array
read from the zip, and returns the module tree's parameters as a flat
``{"layers.conv.weight": ndarray, ...}`` dict.
"""

from __future__ import annotations

import collections
import pickle
import zipfile
from pathlib import Path

import numpy as np

# The storage classes a TorchScript pickle names, with their element type.
_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _ScriptModule:
    """Stand-in for a pickled ``__torch__.*`` module: keeps its attribute dict."""

    def __init__(self, *args):
        self.state = {}

    def __setstate__(self, state):
        self.state = state


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    """NumPy version of ``torch._utils._rebuild_tensor_v2``: a strided view, copied."""
    itemsize = storage.itemsize
    view = np.lib.stride_tricks.as_strided(
        storage[storage_offset:],
        shape=tuple(size),
        strides=tuple(s * itemsize for s in stride),
    )
    return np.array(view, copy=True)


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals a TorchScript ``data.pkl`` needs.

    Anything else raises ``pickle.UnpicklingError``, so a crafted archive
    cannot run code on load.
    """

    def __init__(self, file, archive: zipfile.ZipFile, root: str):
        super().__init__(file)
        self._archive = archive
        self._root = root

    def find_class(self, module, name):
        if module.startswith("__torch__"):
            return _ScriptModule
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGE_DTYPES:
            return name  # the persistent id carries it; resolved in persistent_load
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch.jit._pickle" and name == "build_intlist":
            return list  # e.g. a conv's ``padding: List[int]``
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed")

    def persistent_load(self, pid):
        # pid = ("storage", storage_type, key, location, numel)
        kind, storage_type, key, _location, numel = pid
        if kind != "storage":
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")
        dtype = np.dtype(_STORAGE_DTYPES[storage_type]).newbyteorder("<")
        raw = self._archive.read(f"{self._root}/data/{key}")
        return np.frombuffer(raw, dtype=dtype, count=numel)


def _flatten(node, prefix, out):
    if isinstance(node, _ScriptModule):
        for name, value in node.state.items():
            _flatten(value, f"{prefix}{name}.", out)
    elif isinstance(node, np.ndarray):
        out[prefix[:-1]] = node


def read_torchscript_tensors(path: str | Path) -> dict[str, np.ndarray]:
    """Return every tensor in a TorchScript archive, keyed by dotted attribute path.

    Args:
      path: the ``.pt`` zip file.

    Returns:
      ``{name: array}`` in the archive's own layout (PyTorch conv weights are
      ``[out, in, kh, kw]``), names relative to the top module, e.g.
      ``"net.layers.mixed_3.conv.weight"``.
    """
    with zipfile.ZipFile(path) as archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl")]
        if len(pickles) != 1:
            raise ValueError(f"{path}: expected one data.pkl, found {pickles}")
        root = pickles[0][: -len("/data.pkl")]
        with archive.open(pickles[0]) as f:
            top = _RestrictedUnpickler(f, archive, root).load()
    tensors: dict[str, np.ndarray] = {}
    _flatten(top, "", tensors)
    return tensors
