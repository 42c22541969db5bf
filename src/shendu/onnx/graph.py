"""The ONNX graph under construction and the converter registry of ``sd.onnx.export`` (one dict, here only):
``ExportError``, ``register_converter``, ``is_in_onnx_export`` and ``_Graph`` (nodes, initializers, fresh names).
"""
from __future__ import annotations

import numpy as np

_EXPORTING = [False]
_CONVERTERS: dict = {}


class ExportError(ValueError):
    """A module or setting that ``sd.onnx.export`` cannot express in ONNX."""


def is_in_onnx_export() -> bool:
    """True while ``sd.onnx.export`` runs."""
    return _EXPORTING[0]


def register_converter(cls):
    """Decorator: ``fn(g, module, x_name, x) -> (out_name(s), out)`` converts instances of ``cls``.

    ``x`` is the shendu input tensor (its values and shape are at hand), ``out`` the module's shendu output;
    ``g`` is the ``_Graph`` being built (``g.const``, ``g.node``, ``g.run``)."""
    def deco(fn):
        _CONVERTERS[cls] = fn
        return fn
    return deco


def _host(t):
    from ..backend import to_host

    return np.asarray(to_host(t._data if hasattr(t, "_data") else t))


class _Graph:
    """The ONNX graph under construction: nodes, initializers, fresh names."""

    def __init__(self, helper, numpy_helper, opset):
        self.h, self.nh, self.opset = helper, numpy_helper, opset
        self.nodes, self.inits, self._n = [], [], 0
        self._const_cache = {}

    def fresh(self, hint):
        self._n += 1
        return f"{hint}_{self._n}"

    def const(self, hint, arr, dtype=None):
        """Name of an initializer holding ``arr`` (a host copy of a tensor or an array)."""
        a = _host(arr) if hasattr(arr, "_data") else np.asarray(arr)
        if dtype is not None:
            a = a.astype(dtype)
        a = np.ascontiguousarray(a)
        name = self.fresh(hint)
        self.inits.append(self.nh.from_array(a, name))
        return name

    def node(self, op, inputs, hint=None, n_out=1, **attrs):
        """Append an ``op`` node; returns its output name (a list when ``n_out`` > 1)."""
        outs = [self.fresh(hint or op.lower()) for _ in range(n_out)]
        self.nodes.append(self.h.make_node(op, list(inputs), outs, name=self.fresh("n_" + op), **attrs))
        return outs[0] if n_out == 1 else outs

    def run(self, module, name, x, path):
        """Convert ``module`` applied to the tensor ``x`` (graph value ``name``): (out_name(s), out)."""
        for cls in type(module).__mro__:
            fn = _CONVERTERS.get(cls)
            if fn is not None:
                try:
                    return fn(self, module, name, x)
                except ExportError as e:
                    if str(e).startswith("shendu.onnx.export"):
                        raise
                    raise ExportError(f"shendu.onnx.export: {path or 'model'} ({type(module).__name__}): {e}") from None
        raise ExportError(
            f"shendu.onnx.export: no ONNX converter for {type(module).__name__} at {path or 'the top level'}; "
            f"supported: {', '.join(sorted({c.__name__ for c in _CONVERTERS}))} (add one with "
            "sd.onnx.register_converter)")


def _child(g, module, attr, name, x, path=""):
    m = getattr(module, attr)
    return g.run(m, name, x, attr)


