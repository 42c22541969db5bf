"""Average pooling (textbook 9.3): y = (sum over the window) * (1/divisor); its adjoint spreads each gradient
evenly over the window (the "upsample" rule of mean pooling), also used as the transposed op so that the
double backward is the forward again. Power-average (Lp) pooling is composed from it in
shendu.nn.functional.pool. Reference (window loops): shendu.reference.pool.avg_pool2d, avg_pool2d_backward.
"""
from __future__ import annotations

from ..autograd.function import Function
from ..backend import namespace_of
from ._conv.geometry import out_size
from ._pool_windows import _offsets, _padded, _scatter, _sl


class AvgPoolNd(Function):
    """y = (sum over the window) * div (div: 1/divisor, a scalar or an out-shaped array); ``transpose=True``
    gives the adjoint (gy -> gx). x (N, C, *sp) -> (N, C, *out)."""

    needs_input_values = False

    def __init__(self, k, s, pads, div, x_shape=None, transpose=False):
        self.k, self.s, self.pads, self.div, self.x_shape, self.transpose = k, s, pads, div, x_shape, transpose
        self.d = (1,) * len(k)

    def _fwd(self, x):
        k, s, d, pads = self.k, self.s, self.d, self.pads
        osz = tuple(out_size(x.shape[2 + a], k[a], s[a], 1, *pads[a]) for a in range(len(k)))
        xpd = _padded(x, pads, 0.0, "avgpool")
        offs = _offsets(k)
        out = namespace_of(x).array(xpd[_sl(offs[0], s, d, osz)], dtype=x.dtype)
        for off in offs[1:]:
            out += xpd[_sl(off, s, d, osz)]
        out *= self.div
        return out

    def _bwd(self, g):
        return _scatter(g * self.div, self.k, self.s, self.d, g.shape[2:], self.pads, g.shape[:2] + self.x_shape[2:])

    def forward(self, x):
        if self.transpose:
            return self._bwd(x)
        if self.x_shape is None:
            self.x_shape = x.shape
        return self._fwd(x)

    def backward_array(self, g):
        return self._fwd(g) if self.transpose else self._bwd(g)

    def backward(self, g):
        return AvgPoolNd(self.k, self.s, self.pads, self.div, self.x_shape, not self.transpose)(g)
