"""Higher-order helpers built on the engine: Hessian-vector products, Jacobians, Hessians.

hvp computes H v = d/dtheta (grad f . v) by double back-propagation, without forming H
(textbook 8.6.2, conjugate gradients and Newton-CG need only H v)."""
from __future__ import annotations

from ..backend import namespace_of
from .engine import grad
from .tensor import Tensor, _wrap, as_tensor


def _params(params):
    return [params] if isinstance(params, Tensor) else list(params)


def hvp(f, params, v, create_graph: bool = False):
    """Hessian-vector product of the scalar ``f()`` (a closure) at ``params`` with ``v`` (same structure)."""
    ps = _params(params)
    vs = [v] if isinstance(v, Tensor) else list(v)
    if len(vs) != len(ps):
        raise ValueError(f"hvp: got {len(vs)} vectors for {len(ps)} parameters")
    for p, u in zip(ps, vs):
        if tuple(p.shape) != tuple(u.shape):
            raise ValueError(f"hvp: vector of shape {u.shape} does not match parameter of shape {p.shape}")
    loss = f()
    gs = grad(loss, ps, create_graph=True)
    dot = None
    for g, u in zip(gs, vs):
        term = (g * (u if isinstance(u, Tensor) else as_tensor(u, device=g.device))).sum()  # data: moved to g's device
        dot = term if dot is None else dot + term
    out = grad(dot, ps, create_graph=create_graph, allow_unused=True)
    out = tuple(_wrap(namespace_of(p._data).zeros_like(p._data)) if o is None else o for o, p in zip(out, ps))
    return out[0] if isinstance(params, Tensor) else out


def jacobian(f, x: Tensor):
    """The Jacobian d f(x) / d x as an array of shape f(x).shape + x.shape (one backward per output entry)."""
    y = f(x)
    xp = namespace_of(x._data)  # the Jacobian's rows are gradients, on x's device
    out = xp.zeros(y.shape + x.shape, dtype=y.dtype)
    flat = out.reshape(y._data.size, *x.shape)
    for i in range(y._data.size):
        e = namespace_of(y._data).zeros(y._data.size, dtype=y.dtype)
        e[i] = 1
        (g,) = grad(y, [x], grad_outputs=_wrap(e.reshape(y.shape)), retain_graph=True, allow_unused=True)
        if g is not None:
            flat[i] = g._data
    return _wrap(out)


def hessian(f, params):
    """The full Hessian of the scalar ``f()`` over the flattened ``params`` (n x n), by n Hessian-vector products.

    For small models only (textbook 8.6.1, Newton's method)."""
    ps = _params(params)
    sizes = [p._data.size for p in ps]
    n = sum(sizes)
    xp = namespace_of(ps[0]._data)
    H = xp.zeros((n, n), dtype=ps[0].dtype)
    loss = f()
    gs = grad(loss, ps, create_graph=True)
    flat_g = None
    from ..ops.shape import cat, reshape

    flat_g = cat([reshape(g, (-1,)) for g in gs])
    for i in range(n):
        e = namespace_of(flat_g._data).zeros(n, dtype=flat_g.dtype)
        e[i] = 1
        rows = grad(flat_g, ps, grad_outputs=_wrap(e), retain_graph=True, allow_unused=True)
        H[i] = xp.concatenate(
            [xp.zeros(s, dtype=H.dtype) if r is None else r._data.reshape(-1) for r, s in zip(rows, sizes)]
        )
    return _wrap(H)
