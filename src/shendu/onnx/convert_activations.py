"""ONNX converters of the activations (ReLU family, sigmoid/tanh, SELU/ELU/CELU, PReLU, hard and smooth variants,
GELU exact and tanh) and of Softmax/LogSoftmax/Softmin.
"""
from __future__ import annotations

import math

import numpy as np

from .graph import _CONVERTERS, _host


def install(reg):
    """Register the activation converters with ``reg(*classes)`` (a decorator factory)."""
    from .. import nn
    from ..nn.functional.activation import SELU_ALPHA, SELU_SCALE

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
