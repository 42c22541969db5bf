"""Affine layers: ``linear`` y = x W^T + b as one fused op, and ``bilinear`` (textbook 6.1, 6.5.7).

Weight layout as PyTorch: W has shape (out_features, in_features)."""
from __future__ import annotations

from ...autograd.function import Function
from ...autograd.tensor import Tensor
from ...backend.lowp import AUTOCAST
from ...ops import einsum, matmul, reshape
from ...ops import sum as _sum
from ...ops._autocast import to_lowp
from ...ops.linalg import _mm
from ._checks import check_tensor


class LinearFn(Function):
    """y = x W^T (+ b); dx = g W, dW = g^T x (leading dims flattened), db = sum of g over rows."""

    def forward(self, x, w, b=None):
        lead = None
        if x.ndim > 2:  # one GEMM over all leading dims (NumPy's N-d matmul runs one small GEMM per batch item:
            lead = x.shape[:-1]  # 2-5x slower for word_lm's (35, 20, 650) @ (650, 10000), issue 20)
            x = x.reshape(-1, x.shape[-1])
        y = _mm(x, w.T) if x.dtype.itemsize == 2 else x @ w.T  # float16/bfloat16: float32 compute
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

