"""Gradient checking by centered differences (textbook 6.5 and the seeds' gradient-checking section):

    dJ/dtheta_i ~ (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps)

compared with the back-propagated gradient, entry by entry. Use float64 inputs.

Works on any device: the perturbations are written into the tensor's own array (on its device) and
each evaluation is read back with an explicit ``.item()``; the comparison happens on the host.
"""
from __future__ import annotations

import numpy as np

from ..backend import device_of, to_device, to_host
from .engine import grad as _grad
from .grad_mode import enable_grad, no_grad
from .tensor import Tensor, _wrap


class GradcheckError(AssertionError):
    """Raised when an analytic gradient disagrees with the numerical one."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _projected(fn, inputs, seed):
    """L(inputs) = sum_k <out_k, v_k> with fixed random v_k, so one gradient checks the whole Jacobian^T v."""
    rng = np.random.default_rng(seed)
    outs = _as_tuple(fn(*inputs))
    # drawn on the host (the same v on every device), then moved to each output's device
    vs = [to_device(rng.standard_normal(o.shape).astype(o.dtype), device_of(o._data)) if o.dtype.kind == "f" else None
          for o in outs]

    def L(*xs):
        total = None
        for o, v in zip(_as_tuple(fn(*xs)), vs):
            if v is None:
                continue
            term = (o * _wrap(v)).sum()
            total = term if total is None else total + term
        return total

    return L


def numerical_grad(fn, x: Tensor, eps: float = 1e-6, inputs=None, index: int = 0):
    """Centered-difference gradient of the scalar ``fn(*inputs)`` with respect to ``x`` (an array).

    With ``inputs=None``, ``fn`` takes ``x`` alone."""
    inputs = (x,) if inputs is None else tuple(inputs)
    target = inputs[index]
    data = target._data
    g = np.zeros(data.shape, dtype=np.float64)
    flat = data.reshape(-1)
    gflat = g.reshape(-1)
    with no_grad():
        for i in range(flat.size):
            old = flat[i].item()
            flat[i] = old + eps
            fp = _as_tuple(fn(*inputs))[0]._data.sum().item()
            flat[i] = old - eps
            fm = _as_tuple(fn(*inputs))[0]._data.sum().item()
            flat[i] = old
            gflat[i] = (fp - fm) / (2 * eps)
    return g


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True, seed: int = 0) -> bool:
    """Check ``fn``'s back-propagated gradients against centered differences for every input that requires grad.

    ``fn(*inputs)`` may return a tensor or a tuple of tensors of any shape (they are projected
    on fixed random vectors). Raises GradcheckError naming the input, the index and both values."""
    inputs = _as_tuple(inputs)
    for x in inputs:  # the perturbations write into the array: it must be writable and contiguous
        if isinstance(x, Tensor) and x.requires_grad:
            d = x._data
            if not d.flags.c_contiguous or type(d) is np.ndarray and not d.flags.writeable:
                x._data = d.copy()
    L = _projected(fn, inputs, seed)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise ValueError("gradcheck: no input requires grad")
    out = L(*inputs)
    if out is None:
        raise ValueError("gradcheck: fn produced no floating-point output")
    if out.requires_grad:
        analytic = _grad(out, [inputs[i] for i in wrt], allow_unused=True)
    else:  # the function does not depend on its inputs through the graph: its gradient must be 0
        analytic = [None] * len(wrt)
    for k, i in enumerate(wrt):
        num = numerical_grad(L, inputs[i], eps, inputs=inputs, index=i)
        ana = np.zeros_like(num) if analytic[k] is None else to_host(analytic[k]._data).astype(np.float64)
        bad = np.abs(ana - num) > atol + rtol * np.abs(num)
        if bad.any():
            j = np.unravel_index(int(np.argmax(bad)), num.shape) if num.ndim else ()
            msg = (
                f"gradcheck: gradient mismatch for input {i} (shape {inputs[i].shape}) at index {tuple(int(a) for a in j)}: "
                f"analytic {ana[j]:.8g} vs numerical {num[j]:.8g} ({int(bad.sum())} of {bad.size} entries differ)"
            )
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True, seed: int = 1) -> bool:
    """Check second derivatives: gradcheck of (inputs -> gradient of the projected fn, built with create_graph)."""
    inputs = _as_tuple(inputs)
    L = _projected(fn, inputs, seed)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first_grads(*xs):
        with enable_grad():  # numerical_grad evaluates under no_grad; the first gradient needs the graph
            gs = _grad(L(*xs), [xs[i] for i in wrt], create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_grads, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception, seed=seed + 1)
