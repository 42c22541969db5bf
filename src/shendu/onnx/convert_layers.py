"""ONNX converters of the layers: Sequential, Identity, Linear/Dense, Conv1d/2d/3d, max/avg/global/adaptive
pooling, BatchNorm (eval statistics), Dropout (identity in eval), Flatten/Unflatten/Reshape and Embedding.
"""
from __future__ import annotations

import numpy as np

from .graph import ExportError, _host


def install(reg):
    """Register the layer converters with ``reg(*classes)`` (a decorator factory)."""
    from .. import nn
    from ..nn.functional.conv import conv_pads
    from ..ops.pool import pool_geometry

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

