"""``sd.onnx`` (torch.onnx): export a model to an ONNX file that onnxruntime (or any ONNX runtime) can run.

``sd.onnx.export(model, example_input, "model.onnx")`` walks the module tree (not a trace): each supported
layer becomes ONNX nodes with its weights as initializers (host float arrays; a model on a GPU is read
back to the host). Supported: Sequential, Linear/Dense, Conv1d/2d/3d, max/avg/global/adaptive pooling,
BatchNorm (eval statistics), Dropout (identity in eval), the common activations, Flatten/Unflatten/Reshape,
Softmax/LogSoftmax/Softmin, Embedding, RNN/LSTM/GRU (ONNX's RNN/LSTM/GRU ops, gates reordered from
PyTorch's (i, f, g, o) / (r, z, n) to ONNX's (i, o, f, c) / (z, r, h)), and the model zoo (LeNet5,
CifarCNN, VGG, ResNet/BasicBlock). Other modules: ``register_converter(cls)`` (see ``_Graph``).
Requires the ``onnx`` package (``pip install 'shendu[onnx]'``).
"""
from __future__ import annotations

import io
import math

import numpy as np

__all__ = ["export", "is_in_onnx_export", "register_converter", "ExportError"]

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
    from .backend import to_host

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


# --- converters --------------------------------------------------------------------------------------
def _install():
    if _CONVERTERS:
        return
    from . import models, nn
    from .nn.functional.activation import SELU_ALPHA, SELU_SCALE
    from .nn.functional.conv import conv_pads
    from .ops.pool import pool_geometry

    def reg(*classes):
        def deco(fn):
            for c in classes:
                _CONVERTERS[c] = fn
            return fn
        return deco

    @reg(nn.Sequential)
    def _seq(g, m, name, x):
        for k, sub in m._modules.items():
            if sub is None:
                continue
            if isinstance(name, list):
                raise ExportError(f"layer {k} receives a tuple (the output of a recurrent layer); export the "
                                  "recurrent layer on its own or write a module whose forward picks the output")
            name, x = g.run(sub, name, x, k)
        return name, x

    @reg(nn.Identity)
    def _identity(g, m, name, x):
        return g.node("Identity", [name]), x

    @reg(nn.Linear)
    def _linear(g, m, name, x):
        y = m(x)
        if type(m) not in (nn.Linear, nn.Dense):
            raise ExportError("only Linear and Dense are supported")
        if x.ndim == 2:
            ins = [name, g.const("weight", m.weight)] + ([g.const("bias", m.bias)] if m.bias is not None else [])
            out = g.node("Gemm", ins, "linear", transB=1)
        else:
            out = g.node("MatMul", [name, g.const("weight_t", _host(m.weight).T)], "matmul")
            if m.bias is not None:
                out = g.node("Add", [out, g.const("bias", m.bias)], "linear")
        if isinstance(m, nn.Dense) and m._act_name:
            act = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softmax": None,
                   "linear": "Identity"}.get(m._act_name, False)
            if act is False:
                raise ExportError(f"Dense activation {m._act_name!r} is not supported (relu, sigmoid, tanh, softmax)")
            out = g.node("Softmax", [out], axis=-1) if act is None else g.node(act, [out])
        return out, y

    @reg(nn.Conv1d, nn.Conv2d, nn.Conv3d)
    def _conv(g, m, name, x):
        y = m(x)
        nd = m._nd
        pads = conv_pads(m.padding, tuple(x.shape[2:]), m.kernel_size, m.stride, m.dilation, type(m).__name__)
        w = _host(m.weight)
        if m.flip_kernel:
            w = w[(Ellipsis,) + (slice(None, None, -1),) * nd]
        ins = [name, g.const("weight", w)] + ([g.const("bias", m.bias)] if m.bias is not None else [])
        out = g.node("Conv", ins, "conv", kernel_shape=list(m.kernel_size), strides=list(m.stride),
                     dilations=list(m.dilation), group=m.groups,
                     pads=[p[0] for p in pads] + [p[1] for p in pads])
        return out, y

    def _k(v, nd):
        return (v,) * nd if isinstance(v, int) else tuple(v)

    @reg(nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)
    def _maxpool(g, m, name, x):
        if m.return_indices:
            raise ExportError("return_indices=True is not supported")
        y = m(x)
        nd = x.ndim - 2
        k = _k(m.kernel_size, nd)
        s = k if m.stride is None else _k(m.stride, nd)
        d = _k(m.dilation, nd)
        pads, _, _ = pool_geometry(type(m).__name__, tuple(x.shape[2:]), k, s, d, m.padding, m.ceil_mode)
        attrs = dict(kernel_shape=list(k), strides=list(s), pads=[p[0] for p in pads] + [p[1] for p in pads])
        if any(v != 1 for v in d):
            attrs["dilations"] = list(d)
        return g.node("MaxPool", [name], "maxpool", **attrs), y

    @reg(nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)
    def _avgpool(g, m, name, x):
        if m.divisor_override is not None:
            raise ExportError("divisor_override is not supported")
        y = m(x)
        nd = x.ndim - 2
        k = _k(m.kernel_size, nd)
        s = k if m.stride is None else _k(m.stride, nd)
        pads, _, explicit = pool_geometry(type(m).__name__, tuple(x.shape[2:]), k, s, (1,) * nd, m.padding, m.ceil_mode)
        cip = m.count_include_pad
        if cip is None:
            cip = not isinstance(m.padding, str)
        if cip and tuple(pads) != tuple(explicit) and any(e != (0, 0) for e in explicit):
            raise ExportError("ceil_mode overhang together with counted explicit padding is not supported")
        cip = cip and any(e != (0, 0) for e in explicit)
        return g.node("AveragePool", [name], "avgpool", kernel_shape=list(k), strides=list(s),
                      pads=[p[0] for p in pads] + [p[1] for p in pads], count_include_pad=int(cip)), y

    @reg(nn.GlobalAvgPool2d)
    def _gap(g, m, name, x):
        y = m(x)
        op = "GlobalMaxPool" if isinstance(m, nn.GlobalMaxPool2d) else "GlobalAveragePool"
        out = g.node(op, [name])
        return (out if m.keepdim else g.node("Flatten", [out], axis=1)), y

    @reg(nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d)
    def _adaptive(g, m, name, x):
        y = m(x)
        sp, osz = tuple(x.shape[2:]), tuple(y.shape[2:])
        if all(o == 1 for o in osz):
            return g.node("GlobalAveragePool", [name]), y
        if any(i % o for i, o in zip(sp, osz)):
            raise ExportError(f"output size {osz} must divide the input size {sp}")
        k = [i // o for i, o in zip(sp, osz)]
        return g.node("AveragePool", [name], kernel_shape=k, strides=k), y

    @reg(nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
    def _bn(g, m, name, x):
        if not m.track_running_stats:
            raise ExportError("track_running_stats=False normalizes with batch statistics; ONNX export needs "
                              "running statistics")
        y = m(x)
        C = m.num_features
        dt = _host(m.running_mean).dtype
        sc = m.weight if m.affine else np.ones(C, dt)
        b = m.bias if m.affine else np.zeros(C, dt)
        ins = [name, g.const("bn_scale", sc), g.const("bn_bias", b), g.const("bn_mean", m.running_mean),
               g.const("bn_var", m.running_var)]
        return g.node("BatchNormalization", ins, "bn", epsilon=float(m.eps)), y

    @reg(nn.Dropout, nn.AlphaDropout)
    def _dropout(g, m, name, x):
        y = m(x)
        if getattr(m, "mode", "inverted") == "weight_scaling":
            return g.node("Mul", [name, g.const("keep", np.asarray(1.0 - m.p, _host(x).dtype))]), y
        return g.node("Identity", [name]), y

    simple = {nn.ReLU: "Relu", nn.Sigmoid: "Sigmoid", nn.Tanh: "Tanh", nn.Softsign: "Softsign",
              nn.AbsRectification: "Abs", nn.CosineUnit: "Cos"}
    for cls, op in simple.items():
        _CONVERTERS[cls] = (lambda op: lambda g, m, name, x: (g.node(op, [name]), m(x)))(op)

    def _scalar(g, x, v):
        return g.const("c", np.asarray(v, dtype=_host(x).dtype))

    @reg(nn.SELU)
    def _selu(g, m, name, x):
        return g.node("Selu", [name], alpha=float(SELU_ALPHA), gamma=float(SELU_SCALE)), m(x)

    @reg(nn.LeakyReLU)
    def _leaky(g, m, name, x):
        return g.node("LeakyRelu", [name], alpha=float(m.negative_slope)), m(x)

    @reg(nn.ELU)
    def _elu(g, m, name, x):
        if type(m) is nn.CELU:
            return g.node("Celu", [name], alpha=float(m.alpha)), m(x)
        return g.node("Elu", [name], alpha=float(m.alpha)), m(x)

    @reg(nn.PReLU)
    def _prelu(g, m, name, x):
        w = _host(m.weight)
        if w.size > 1:
            w = w.reshape((-1,) + (1,) * (x.ndim - 2))
        return g.node("PRelu", [name, g.const("slope", w)]), m(x)

    @reg(nn.Hardtanh)
    def _hardtanh(g, m, name, x):
        return g.node("Clip", [name, _scalar(g, x, m.min_val), _scalar(g, x, m.max_val)]), m(x)

    @reg(nn.ReLU6)
    def _relu6(g, m, name, x):
        return g.node("Clip", [name, _scalar(g, x, 0.0), _scalar(g, x, 6.0)]), m(x)

    @reg(nn.Hardsigmoid)
    def _hardsigmoid(g, m, name, x):
        return g.node("HardSigmoid", [name], alpha=float(m.slope), beta=float(m.offset)), m(x)

    @reg(nn.Hardswish)
    def _hardswish(g, m, name, x):
        return g.node("HardSwish", [name]), m(x)

    @reg(nn.SiLU)
    def _silu(g, m, name, x):
        return g.node("Mul", [name, g.node("Sigmoid", [name])]), m(x)

    @reg(nn.Mish)
    def _mish(g, m, name, x):
        return g.node("Mul", [name, g.node("Tanh", [g.node("Softplus", [name])])]), m(x)

    @reg(nn.LogSigmoid)
    def _logsigmoid(g, m, name, x):
        return g.node("Neg", [g.node("Softplus", [g.node("Neg", [name])])]), m(x)

    @reg(nn.Softplus)
    def _softplus(g, m, name, x):
        if m.beta == 1:
            return g.node("Softplus", [name]), m(x)
        b = _scalar(g, x, m.beta)
        return g.node("Div", [g.node("Softplus", [g.node("Mul", [name, b])]), b]), m(x)

    @reg(nn.GELU)
    def _gelu(g, m, name, x):
        if m.approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
            x3 = g.node("Mul", [g.node("Mul", [name, name]), name])
            inner = g.node("Mul", [g.node("Add", [name, g.node("Mul", [x3, _scalar(g, x, 0.044715)])]),
                                   _scalar(g, x, math.sqrt(2.0 / math.pi))])
            t = g.node("Add", [g.node("Tanh", [inner]), _scalar(g, x, 1.0)])
        else:  # 0.5 x (1 + erf(x / sqrt 2))
            t = g.node("Add", [g.node("Erf", [g.node("Div", [name, _scalar(g, x, math.sqrt(2.0))])]),
                               _scalar(g, x, 1.0)])
        return g.node("Mul", [g.node("Mul", [name, t]), _scalar(g, x, 0.5)], "gelu"), m(x)

    @reg(nn.Softmax)
    def _softmax(g, m, name, x):
        if type(m) is nn.LogSoftmax:
            return g.node("LogSoftmax", [name], axis=int(m.dim)), m(x)
        if type(m) is nn.Softmin:
            return g.node("Softmax", [g.node("Neg", [name])], axis=int(m.dim)), m(x)
        return g.node("Softmax", [name], axis=int(m.dim)), m(x)

    def _reshape(g, name, keep, tail):
        """Reshape keeping the first ``keep`` dims (0 = copy, so the batch axis may be dynamic)."""
        shape = np.asarray([0] * keep + list(tail), dtype=np.int64)
        return g.node("Reshape", [name, g.const("shape", shape)], "reshape")

    @reg(nn.Flatten)
    def _flatten(g, m, name, x):
        y = m(x)
        nd = x.ndim
        s, e = m.start_dim % nd, m.end_dim % nd
        if s == e:
            return g.node("Identity", [name]), y
        return _reshape(g, name, s, [-1] + list(y.shape[s + 1:])), y

    @reg(nn.Unflatten, nn.Reshape)
    def _unflatten(g, m, name, x):
        y = m(x)
        keep = (m.dim % x.ndim) if isinstance(m, nn.Unflatten) else 1
        return _reshape(g, name, keep, list(y.shape[keep:])), y

    @reg(nn.Embedding)
    def _embedding(g, m, name, x):
        ids = name if _host(x).dtype == np.int64 else g.node("Cast", [name], to=7)
        return g.node("Gather", [g.const("embedding", m.weight), ids], "embedding", axis=0), m(x)

    @reg(nn.RNN, nn.LSTM, nn.GRU)
    def _rnn(g, m, name, x):
        return _rnn_convert(g, m, name, x)

    @reg(models.LeNet5, models.CifarCNN)
    def _features_classifier(g, m, name, x):
        m(x)  # shape checks
        name, x = _child(g, m, "features", name, x)
        return _child(g, m, "classifier", name, x)

    @reg(models.VGG)
    def _vgg(g, m, name, x):
        for attr in ("features", "pool", "classifier"):
            name, x = _child(g, m, attr, name, x)
        return name, x

    @reg(models.ResNet)
    def _resnet(g, m, name, x):
        for attr in ("stem", "layers", "pool", "fc"):
            name, x = _child(g, m, attr, name, x)
        return name, x

    @reg(models.BasicBlock)
    def _block(g, m, name, x):
        y = m(x)
        a, t = _child(g, m, "conv1", name, x)
        a, t = _child(g, m, "bn1", a, t)
        a, t = _child(g, m, "relu", a, t)
        a, t = _child(g, m, "conv2", a, t)
        a, t = _child(g, m, "bn2", a, t)
        s, _ = _child(g, m, "shortcut", name, x)
        return g.node("Relu", [g.node("Add", [a, s])], "block"), y


def _rnn_convert(g, m, name, x):
    """RNN/LSTM/GRU -> one ONNX RNN/LSTM/GRU node per layer (gates reordered); outputs (y, h_n[, c_n])."""
    if m.peephole or m.cell_activation != "tanh":
        raise ExportError(f"{m.mode} with peepholes or cell_activation={m.cell_activation!r} is not supported "
                          "(ONNX's operators use tanh)")
    if m.mode == "RNN" and m.nonlinearity not in ("tanh", "relu"):
        raise ExportError(f"nonlinearity {m.nonlinearity!r} is not supported")
    out = m(x)
    if x.ndim != 3:
        raise ExportError(f"expected a batched 3-D input, got shape {tuple(x.shape)}")
    H, L = m.hidden_size, m.num_layers
    sfxs = ("", "_reverse") if m.bidirectional else ("",)
    G = {"RNN": 1, "LSTM": 4, "GRU": 3}[m.mode]
    order = {"RNN": [0], "LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2]}[m.mode]  # PyTorch gate blocks -> ONNX's
    dt = _host(m.weight_ih_l0).dtype

    def reorder(a):
        blocks = a.reshape((G, H) + a.shape[1:])
        return blocks[order].reshape(a.shape)

    cur = g.node("Transpose", [name], perm=[1, 0, 2]) if m.batch_first else name
    hs, cs = [], []
    for layer in range(L):
        W = np.stack([reorder(_host(getattr(m, f"weight_ih_l{layer}{s}"))) for s in sfxs])
        R = np.stack([reorder(_host(getattr(m, f"weight_hh_l{layer}{s}"))) for s in sfxs])
        if m.bias:
            B = np.stack([np.concatenate([reorder(_host(getattr(m, f"bias_ih_l{layer}{s}"))),
                                          reorder(_host(getattr(m, f"bias_hh_l{layer}{s}")))]) for s in sfxs])
        else:
            B = np.zeros((len(sfxs), 2 * G * H), dt)
        attrs = dict(hidden_size=H, direction="bidirectional" if m.bidirectional else "forward")
        if m.mode == "RNN":
            act = "Relu" if m.nonlinearity == "relu" else "Tanh"
            attrs["activations"] = [act] * len(sfxs)
        if m.mode == "GRU":
            attrs["linear_before_reset"] = int(bool(m.reset_after))
        n_out = 3 if m.mode == "LSTM" else 2
        outs = g.node(m.mode, [cur, g.const("W", W), g.const("R", R), g.const("B", B)], m.mode.lower(),
                      n_out=n_out, **attrs)
        y = outs[0]  # (T, D, B, H) -> (T, B, D*H)
        y = g.node("Transpose", [y], perm=[0, 2, 1, 3])
        cur = g.node("Reshape", [y, g.const("shape", np.asarray([0, 0, -1], np.int64))])
        hs.append(outs[1])
        if m.mode == "LSTM":
            cs.append(outs[2])
    y = g.node("Transpose", [cur], perm=[1, 0, 2]) if m.batch_first else g.node("Identity", [cur])
    h = hs[0] if L == 1 else g.node("Concat", hs, axis=0)
    if m.mode == "LSTM":
        c = cs[0] if L == 1 else g.node("Concat", cs, axis=0)
        return [y, h, c], out
    return [y, h], out


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
    from .autograd import Tensor, no_grad
    from .autograd.tensor import _wrap
    from .backend import device_of, to_device
    from .nn.module import Module
    from .serialization import atomic_write_bytes

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
