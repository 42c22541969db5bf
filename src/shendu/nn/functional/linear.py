"""Affine layers: ``linear`` y = x W^T + b as one fused op, and ``bilinear`` (textbook 6.1, 6.5.7).

Weight layout as PyTorch: W has shape (out_features, in_features)."""
from __future__ import annotations

import numpy as np

from ...autograd.function import Function
from ...autograd.tensor import Tensor
from ...backend.lowp import AUTOCAST
from ...ops import einsum, matmul, reshape
from ...ops import sum as _sum
from ...ops._autocast import to_lowp
from ...ops._hostblas import gemm_bias
from ...ops.linalg import _mm
from ._checks import check_tensor

#: Host GEMMs with at most this many rows (and from SMALL_BATCH_MIN_IN in, SMALL_BATCH_MIN_OUT out features on)
#: run as (W x^T)^T: OpenBLAS computes x W^T for few rows markedly slower with x on the left. 1 BLAS thread, 2-core
#: EPYC (Zen 4, OpenBLAS 0.3.31), 2026-11-30, y = x W^T + b, (W x^T)^T copied into y with the bias added
#: against x @ W.T then += b (rows x in -> out): 32x784->512 0.68x, 32x650->2600 0.81x, 32x9216->128 0.70x,
#: 64x784->512 0.85-0.90x, 64x9216->128 0.86-0.95x; but 64x128->384 1.01x, 64x64->64 1.19x, 64x256->10 1.13x,
#: 128 rows 0.94-1.10x, 256 rows 1.07-1.38x. Measure: ``python benchmarks/mlp.py --gemm``.
SMALL_BATCH_ROWS = 64
SMALL_BATCH_MIN_IN = 256
SMALL_BATCH_MIN_OUT = 128


def _small_batch_affine(x, w, b, lead):
    """x W^T (+ b) for a 2-D host x of few rows as (W x^T)^T, copied into a C-ordered y with the bias added in
    the same pass (see SMALL_BATCH_ROWS); ``lead``: the leading shape to give y (None: keep 2-D)."""
    yt = w @ x.T
    y = np.empty((x.shape[0], w.shape[0]), dtype=yt.dtype)
    if b is None:
        np.copyto(y, yt.T)
    else:
        np.add(yt.T, b, out=y, casting="same_kind")
    return y if lead is None else y.reshape(lead + (y.shape[-1],))


class LinearFn(Function):
    """y = x W^T (+ b); dx = g W, dW = g^T x (leading dims flattened), db = sum of g over rows."""

    def forward(self, x, w, b=None):
        lead = None
        if x.ndim > 2:  # one GEMM over all leading dims (NumPy's N-d matmul runs one small GEMM per batch item:
            lead = x.shape[:-1]  # 2-5x slower for word_lm's (35, 20, 650) @ (650, 10000), issue 20)
            x = x.reshape(-1, x.shape[-1])
        if x.dtype.itemsize == 2:
            y = _mm(x, w.T)  # float16/bfloat16: float32 compute
        elif (x.ndim == 2 and x.shape[0] <= SMALL_BATCH_ROWS and x.shape[1] >= SMALL_BATCH_MIN_IN
              and w.shape[0] >= SMALL_BATCH_MIN_OUT and type(x) is np.ndarray):
            return _small_batch_affine(x, w, b, lead)
        elif b is not None and (y := gemm_bias(x, w, b)) is not None:  # the bias added by the GEMM itself
            return y if lead is None else y.reshape(lead + (y.shape[-1],))
        else:
            y = x @ w.T
        if lead is not None:
            y = y.reshape(lead + (y.shape[-1],))
        if b is not None:
            y += b
        return y

    def backward_array(self, gy):
        inputs = self.inputs
        need = self.needs_input_grad
        x = inputs[0]._data
        w = inputs[1]._data
        if gy.dtype.itemsize == 2:
            return self._lowp_backward(gy)
        if gy.ndim == 2:
            g2, x2 = gy, x
            gx = gy @ w if need[0] else None
        else:  # flattened: one GEMM, not one per leading index
            g2 = gy.reshape(-1, gy.shape[-1])
            x2 = x.reshape(-1, x.shape[-1])
            gx = (g2 @ w).reshape(x.shape) if need[0] else None
        gw = g2.T @ x2 if need[1] else None
        if len(inputs) == 2:
            return gx, gw
        gb = None
        if need[2]:  # the column sums as one GEMV: 1.1-1.7x faster than sum(axis=0) from 64 rows on (OpenBLAS)
            m = g2.shape[0]
            gb = self.xp.ones(m, dtype=g2.dtype) @ g2 if m >= 64 else g2.sum(axis=0)
        return gx, gw, gb

    def _lowp_backward(self, gy):
        """float16/bfloat16: the products in float32, rounded once (see ops.linalg._mm)."""
        x, w = self.inputs[0]._data, self.inputs[1]._data
        need = self.needs_input_grad
        g2 = gy.reshape(-1, gy.shape[-1])
        gx = _mm(gy, w) if need[0] else None
        gw = _mm(g2.T, x.reshape(-1, x.shape[-1])) if need[1] else None
        if len(self.inputs) == 2:
            return gx, gw
        return gx, gw, (g2.astype("float32").sum(axis=0).astype(gy.dtype) if need[2] else None)

    def backward(self, gy):
        inputs = self.inputs
        need = self.needs_input_grad
        x, w = inputs[0], inputs[1]
        gx = matmul(gy, w) if need[0] else None
        g2 = gy if gy.ndim == 2 else reshape(gy, (-1, gy.shape[-1]))
        x2 = x if x.ndim == 2 else reshape(x, (-1, x.shape[-1]))
        gw = matmul(g2.transpose(0, 1), x2) if need[1] else None
        if len(inputs) == 2:
            return gx, gw
        gb = _sum(g2, 0) if need[2] else None
        return gx, gw, gb


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """Affine map y = x W^T + b (textbook 6.1). x: (*, in), W: (out, in), b: (out,) -> (*, out)."""
    check_tensor("linear", input)
    check_tensor("linear", weight, "weight")
    if AUTOCAST.dtype is not None:  # amp.autocast: linear runs in the low-precision dtype
        input, weight, bias = to_lowp(input, weight, bias)
    if input.shape[-1:] != weight.shape[1:] or weight.ndim != 2:
        raise ValueError(
            f"linear: input of shape {tuple(input.shape)} does not match weight of shape "
            f"{tuple(weight.shape)} (expected input (*, {weight.shape[-1] if weight.ndim else '?'}))"
        )
    if bias is None:
        return LinearFn()(input, weight)
    if bias.shape != weight.shape[:1]:
        raise ValueError(f"linear: bias of shape {tuple(bias.shape)}, expected ({weight.shape[0]},)")
    return LinearFn()(input, weight, bias)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y_k = x1^T A_k x2 + b_k. x1: (*, in1), x2: (*, in2), A: (out, in1, in2), b: (out,) -> (*, out)."""
    if weight.ndim != 3 or input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2]:
        raise ValueError(
            f"bilinear: inputs {tuple(input1.shape)}, {tuple(input2.shape)} do not match weight "
            f"{tuple(weight.shape)} (expected (*, in1), (*, in2), (out, in1, in2))"
        )
    y = einsum("...i,kij,...j->...k", input1, weight, input2)
    if bias is not None:
        y = y + bias
    return y

