"""``sd.onnx.export`` (torch.onnx.export): installs the converters once, walks the module tree in eval mode and
writes the checked ONNX model.
"""
from __future__ import annotations

import io

import numpy as np

from . import convert_activations, convert_layers, convert_models, convert_rnn
from .graph import _CONVERTERS, _EXPORTING, ExportError, _Graph, _host

_INSTALLED = [False]


def _install():
    """Register the built-in converters once; a user's ``register_converter`` (before or after) wins."""
    if _INSTALLED[0]:
        return

    def reg(*classes):
        def deco(fn):
            for c in classes:
                _CONVERTERS.setdefault(c, fn)
            return fn
        return deco

    for family in (convert_layers, convert_activations, convert_rnn, convert_models):
        family.install(reg)
    _INSTALLED[0] = True


def _flat(t):
    if isinstance(t, (tuple, list)):
        r = []
        for v in t:
            r += _flat(v)
        return r
    return [t]


def export(model, args=None, f=None, *pargs, opset_version=17, input_names=None, output_names=None,
           dynamic_axes=None, verbose=False, do_constant_folding=True, export_params=True, **kwargs):
    """Write ``model`` applied to ``args`` (the example input) as an ONNX model to ``f`` (path or file).

    As ``torch.onnx.export``: the model is exported in eval mode (restored afterwards); ``input_names`` /
    ``output_names`` name the graph's values (default "input", "output" / "output_0"...); ``dynamic_axes``
    maps a name to {axis: "dim_name"} or [axes] to leave those axes free (e.g. the batch axis; padding
    'same' and pooling geometry are fixed from the example's spatial size). An RNN is exported with a zero
    initial state; its outputs are (y, h_n) or (y, h_n, c_n). Returns the ``onnx.ModelProto`` (also written to
    ``f``)."""
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError as e:  # pragma: no cover - the extra is not installed
        raise ImportError("shendu.onnx.export needs the onnx package: pip install 'shendu[onnx]' (or onnx)") from e
    from ..autograd import Tensor, no_grad
    from ..autograd.tensor import _wrap
    from ..backend import device_of, to_device
    from ..nn.module import Module
    from ..serialization import atomic_write_bytes

    if pargs:
        raise TypeError(f"shendu.onnx.export: unexpected positional arguments {pargs}; pass options by keyword")
    if kwargs.get("training") not in (None, False) and "EVAL" not in str(kwargs.get("training")):
        raise ExportError("shendu.onnx.export: only eval-mode export is supported (training=TrainingMode.EVAL)")
    if not isinstance(model, Module):
        raise TypeError(f"shendu.onnx.export: model must be an nn.Module, got {type(model).__name__}")
    if isinstance(args, tuple):
        if len(args) != 1:
            raise ExportError(f"shendu.onnx.export: one example input is supported, got a tuple of {len(args)}")
        args = args[0]
    if args is None:
        raise TypeError("shendu.onnx.export: pass an example input (a Tensor of the input's shape)")
    if not isinstance(args, Tensor):
        args = _wrap(np.asarray(args))
    if f is None:
        raise TypeError("shendu.onnx.export: pass f, the output path or a binary file object")
    if not isinstance(opset_version, int) or opset_version < 14:
        raise ValueError(f"shendu.onnx.export: opset_version must be an int >= 14, got {opset_version!r}")
    _install()
    try:
        dev = device_of(next(iter(model.parameters()))._data)
    except StopIteration:
        dev = device_of(args._data)
    x = _wrap(to_device(args._data, dev))
    in_name = (input_names or ["input"])[0]
    g = _Graph(helper, numpy_helper, opset_version)
    modes = [(mm, mm.training) for mm in model.modules()]
    _EXPORTING[0] = True
    try:
        model.eval()
        with no_grad():
            outs, result = g.run(model, in_name, x, "")
    finally:
        _EXPORTING[0] = False
        for mm, t in modes:
            mm.training = t
    outs = outs if isinstance(outs, list) else [outs]
    results = _flat(result)
    if len(outs) != len(results):
        raise ExportError(f"shendu.onnx.export: {len(outs)} graph outputs for {len(results)} model outputs")
    if output_names is None:
        output_names = ["output"] if len(outs) == 1 else [f"output_{i}" for i in range(len(outs))]
    if len(output_names) != len(outs):
        raise ValueError(f"shendu.onnx.export: {len(output_names)} output_names for {len(outs)} outputs")
    dyn = {}
    for k, v in (dynamic_axes or {}).items():
        dyn[k] = dict(v) if isinstance(v, dict) else {int(a): f"{k}_dim{a}" for a in v}
    known = {in_name, *output_names}
    bad = [k for k in dyn if k not in known]
    if bad:
        raise ValueError(f"shendu.onnx.export: dynamic_axes names {bad} are not inputs/outputs {sorted(known)}")

    def vinfo(nm, arr):
        shape = [dyn.get(nm, {}).get(a, s) for a, s in enumerate(arr.shape)]
        return helper.make_tensor_value_info(nm, helper.np_dtype_to_tensor_dtype(arr.dtype), shape)

    xin = _host(x)
    for src, dst in zip(outs, output_names):
        g.nodes.append(helper.make_node("Identity", [src], [dst], name=g.fresh("n_output")))
    graph = helper.make_graph(g.nodes, type(model).__name__, [vinfo(in_name, xin)],
                              [vinfo(nm, _host(r)) for nm, r in zip(output_names, results)], g.inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset_version)],
                              producer_name="shendu")
    proto.ir_version = helper.find_min_ir_version_for(list(proto.opset_import))  # older runtimes load it
    onnx.checker.check_model(proto)
    data = proto.SerializeToString()
    if isinstance(f, (str, bytes)) or hasattr(f, "__fspath__"):
        atomic_write_bytes(f, data)
    elif isinstance(f, io.IOBase) or hasattr(f, "write"):
        f.write(data)
    else:
        raise TypeError(f"shendu.onnx.export: f must be a path or a binary file object, got {type(f).__name__}")
    if verbose:
        print(helper.printable_graph(graph))
    return proto
