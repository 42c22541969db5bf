"""Matrix products: matmul (1-D, 2-D, batched with broadcasting), dot, outer, einsum.

MatMul rule (textbook 6.5.6): for C = AB with upstream gradient G, grad_A = G B^T and
grad_B = A^T G, summed over broadcast batch dimensions.
Kept whole (~320 lines): the product ops share the batch-broadcasting rules and the einsum parser.
"""
from __future__ import annotations

import re

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_tensor
from ..backend.lowp import AUTOCAST
from ..backend.lowp import bfloat16 as _BF16
from ..backend.lowp import float16 as _F16
from ._arr import norm_dim
from ._arr import sum_to as _st
from ._autocast import to_lowp
from .shape import broadcast_to, reshape, sum_to, transpose, unsqueeze


def _upcast(a) -> bool:
    """bfloat16 anywhere, float16 on the host: no BLAS kernel (NumPy's float16 matmul is ~50x slower than
    float32), so the product is computed in float32 and rounded once to the low-precision dtype."""
    d = a.dtype
    return d == _BF16 or (d == _F16 and isinstance(a, np.ndarray))


def _mm(a, b):
    """a @ b; float16 (host) / bfloat16 compute in float32 and round back (as float32 accumulation on a GPU)."""
    if _upcast(a) or _upcast(b):
        fl = [d for d in (a.dtype, b.dtype) if d.kind == "f"]
        out = a.dtype if a.dtype == b.dtype else np.result_type(np.float32, *fl)
        return (a.astype(np.float32) @ b.astype(np.float32)).astype(out)
    return a @ b


class MatMul(Function):
    def forward(self, a, b):
        try:
            if a.dtype.itemsize == 2 or b.dtype.itemsize == 2:  # float16/bfloat16 (cheap test; _mm checks the kind)
                return _mm(a, b)
            return a @ b
        except ValueError:
            raise ValueError(
                f"matmul: shapes {a.shape} and {b.shape} are not aligned "
                f"(the last dim of the first, {a.shape[-1] if a.ndim else None}, must equal "
                f"the {'only' if b.ndim == 1 else 'second-to-last'} dim of the second, "
                f"{b.shape[-1] if b.ndim == 1 else (b.shape[-2] if b.ndim >= 2 else None)})"
            ) from None

    def backward(self, gy):
        a, b = self.inputs
        na, nb = self.needs_input_grad
        ga = gb = None
        if a.ndim == 1 and b.ndim == 1:
            return (gy * b if na else None, gy * a if nb else None)
        if a.ndim == 1:
            g2 = unsqueeze(gy, -2)  # (..., 1, m)
            if na:
                ga = sum_to(reshape(g2 @ transpose(b), g2.shape[:-2] + (a.shape[0],)), a.shape)
            if nb:
                gb = sum_to(unsqueeze(a, -1) @ g2, b.shape)
            return ga, gb
        if b.ndim == 1:
            g2 = unsqueeze(gy, -1)  # (..., n, 1)
            if na:
                ga = sum_to(g2 @ unsqueeze(b, 0), a.shape)
            if nb:
                gb = sum_to(reshape(transpose(a) @ g2, g2.shape[:-2] + (b.shape[0],)), b.shape)
            return ga, gb
        if na:
            ga = sum_to(gy @ transpose(b), a.shape)
        if nb:
            gb = sum_to(transpose(a) @ gy, b.shape)
        return ga, gb

    def backward_array(self, gy):  # kept: benchmarks/backward_array_shape.py
        xp = self.xp
        a, b = self.inputs[0]._data, self.inputs[1]._data
        na, nb = self.needs_input_grad
        if gy.dtype.itemsize == 2 and (_upcast(gy) or _upcast(a) or _upcast(b)):  # float16 (host)/bfloat16
            f = np.float32
            ga, gb = _matmul_grads(xp, a.astype(f), b.astype(f), gy.astype(f), na, nb)
            return (None if ga is None else ga.astype(a.dtype), None if gb is None else gb.astype(b.dtype))
        return _matmul_grads(xp, a, b, gy, na, nb)


def _matmul_grads(xp, a, b, gy, na, nb):
    """(grad_a, grad_b) of C = a @ b on arrays (NumPy matmul semantics, broadcast batch dims summed)."""
    if a.ndim == 2 and b.ndim == 2:
        return (gy @ b.T if na else None, a.T @ gy if nb else None)
    ga = gb = None
    if a.ndim == 1 and b.ndim == 1:
        return (gy * b if na else None, gy * a if nb else None)
    if a.ndim == 1:
        g2 = gy[..., None, :]
        if na:
            ga = _st((g2 @ xp.swapaxes(b, -1, -2))[..., 0, :], a.shape)
        if nb:
            gb = _st(a[:, None] * g2, b.shape)
        return ga, gb
    if b.ndim == 1:
        g2 = gy[..., :, None]
        if na:
            ga = _st(g2 * b, a.shape)
        if nb:
            gb = _st((xp.swapaxes(a, -1, -2) @ g2)[..., 0], b.shape)
        return ga, gb
    if na:
        ga = _st(gy @ xp.swapaxes(b, -1, -2), a.shape)
    if nb:
        gb = _st(xp.swapaxes(a, -1, -2) @ gy, b.shape)
    return ga, gb


def matmul(a, b):
    """Matrix product with NumPy's matmul semantics (1-D, 2-D and batched)."""
    if not isinstance(a, Tensor):
        a = as_tensor(a)
    if not isinstance(b, Tensor):
        b = as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
    if AUTOCAST.dtype is not None:  # amp.autocast: matmul runs in the low-precision dtype
        a, b = to_lowp(a, b)
    return MatMul()(a, b)


def dot(a, b):
    """Inner product of two 1-D tensors."""
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"dot: expected two 1-D tensors, got shapes {a.shape} and {b.shape}")
    if a.shape != b.shape:
        raise ValueError(f"dot: inconsistent sizes {a.shape[0]} and {b.shape[0]}")
    return MatMul()(a, b)


def outer(a, b):
    """Outer product a b^T of two 1-D tensors."""
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"outer: expected two 1-D tensors, got shapes {a.shape} and {b.shape}")
    return reshape(a, (-1, 1)) * reshape(b, (1, -1))


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _parse_einsum(eq, shapes):
    eq = eq.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
    else:
        lhs, out = eq, None
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: equation {eq!r} names {len(terms)} operands but {len(shapes)} were given")
    used = set(re.sub(r"[^A-Za-z]", "", eq))
    free = [c for c in _LETTERS if c not in used]
    ell_nd = 0
    for t, s in zip(terms, shapes):
        if "..." in t:
            ell_nd = max(ell_nd, len(s) - (len(t) - 3))
    ell = "".join(free[:ell_nd])
    new_terms = []
    for t, s in zip(terms, shapes):
        if "..." in t:
            k = len(s) - (len(t) - 3)
            t = t.replace("...", ell[ell_nd - k :] if k else "")
        if len(t) != len(s):
            raise ValueError(f"einsum: operand with subscripts {t!r} has {len(s)} dimensions")
        new_terms.append(t)
    if out is None:
        counts = {}
        for t in new_terms:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return new_terms, out


def _einsum_kw(xp, n):
    """NumPy's contraction-order search for three or more operands (``optimize=`` is NumPy-only)."""
    return {"optimize": n > 2} if xp is np else {}


def _einsum(xp, eq, *xs):
    """xp.einsum; bfloat16 operands (NumPy's einsum refuses them) are contracted in float32 and rounded back."""
    if any(x.dtype == _BF16 for x in xs):
        return xp.einsum(eq, *[x.astype(np.float32) for x in xs], **_einsum_kw(xp, len(xs))).astype(_BF16)
    return xp.einsum(eq, *xs, **_einsum_kw(xp, len(xs)))


class Einsum(Function):
    def __init__(self, terms, out):
        self.terms, self.out = terms, out

    def forward(self, *xs):
        xp = self.xp
        eq = ",".join(self.terms) + "->" + self.out
        return xp.asarray(_einsum(xp, eq, *xs))

    def _grad_spec(self, k, shapes):
        term = self.terms[k]
        if len(set(term)) != len(term):
            raise RuntimeError(
                f"einsum: cannot differentiate operand {k} with repeated subscripts {term!r} (a trace/diagonal)"
            )
        avail = set(self.out) | set("".join(t for i, t in enumerate(self.terms) if i != k))
        kept = "".join(c for c in term if c in avail)
        others = [self.out] + [t for i, t in enumerate(self.terms) if i != k]
        eq = ",".join(others) + "->" + kept
        kept_shape = tuple(1 if c not in avail else shapes[k][term.index(c)] for c in term)
        return eq, kept_shape

    def backward(self, gy):
        xs = self.inputs
        shapes = [x.shape for x in xs]
        out = []
        for k in range(len(xs)):
            if not self.needs_input_grad[k]:
                out.append(None)
                continue
            eq, kshape = self._grad_spec(k, shapes)
            terms, o = eq.split("->")
            g = Einsum(terms.split(","), o)(gy, *[x for i, x in enumerate(xs) if i != k])
            out.append(broadcast_to(reshape(g, kshape), shapes[k]))
        return tuple(out)


def einsum(equation, *operands):
    """Einstein summation (``sd.einsum('bij,bjk->bik', a, b)``), differentiable in every operand."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ops = [o if isinstance(o, Tensor) else as_tensor(o) for o in operands]
    terms, out = _parse_einsum(equation, [o.shape for o in ops])
    return Einsum(terms, out)(*ops)


def mm(a, b):
    """Matrix product of two 2-D tensors (n, m) @ (m, p) -> (n, p)."""
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"mm: expected two 2-D tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    return matmul(a, b)


def bmm(a, b):
    """Batched matrix product (B, n, m) @ (B, m, p) -> (B, n, p), no broadcasting (as torch.bmm)."""
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise ValueError(
            f"bmm: expected (B, n, m) and (B, m, p) tensors, got shapes {tuple(a.shape)} and {tuple(b.shape)}"
        )
    return matmul(a, b)


def _tri_mask(x, diagonal, upper):
    from ..backend import namespace_of

    n, m = x.shape[-2:]
    xp = namespace_of(x._data)
    mask = xp.triu(xp.ones((n, m), dtype=bool), diagonal) if upper else xp.tril(xp.ones((n, m), dtype=bool), diagonal)
    return mask


def tril(x, diagonal=0):
    """Lower triangle of the last two dims (elements above ``diagonal`` set to 0)."""
    from .elementwise import where

    return where(_tri_mask(x, diagonal, False), x, 0.0 if x.dtype.kind == "f" else 0)


def triu(x, diagonal=0):
    """Upper triangle of the last two dims (elements below ``diagonal`` set to 0)."""
    from .elementwise import where

    return where(_tri_mask(x, diagonal, True), x, 0.0 if x.dtype.kind == "f" else 0)


def diagonal(x, offset=0, dim1=0, dim2=1):
    """The diagonal of ``x`` over dims (dim1, dim2), appended as the last dim (differentiable)."""
    from .index import getitem
    from .shape import permute

    nd = x.ndim
    d1, d2 = norm_dim(dim1, nd, "diagonal"), norm_dim(dim2, nd, "diagonal")
    rest = [d for d in range(nd) if d not in (d1, d2)]
    y = permute(x, *rest, d1, d2)
    n, m = y.shape[-2:]
    i0, j0 = (0, offset) if offset >= 0 else (-offset, 0)
    k = max(0, min(n - i0, m - j0))
    return getitem(y, (Ellipsis, np.arange(i0, i0 + k), np.arange(j0, j0 + k)))


def diag(x, diagonal=0):
    """1-D input: a square matrix with ``x`` on a diagonal; 2-D input: its diagonal."""
    if x.ndim == 2:
        return globals()["diagonal"](x, diagonal)
    if x.ndim != 1:
        raise ValueError(f"diag: expected a 1-D or 2-D tensor, got shape {tuple(x.shape)}")
    from .creation import zeros
    from .index import index_add

    n = x.shape[0] + abs(diagonal)
    out = zeros(n * n, dtype=x.dtype, device=x.device)
    r = np.arange(x.shape[0]) + max(0, -diagonal)
    c = np.arange(x.shape[0]) + max(0, diagonal)
    from ..autograd.tensor import tensor as _tensor

    return index_add(out, 0, _tensor(r * n + c, device=x.device), x).reshape(n, n)


def trace(x):
    """Sum of the main diagonal of a 2-D tensor."""
    return diagonal(x).sum()
