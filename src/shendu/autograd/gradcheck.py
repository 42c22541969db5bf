"""Gradient checking (textbook 6.5, 11.5 "compare back-propagated derivatives with numerical ones"), three modes:

    central (11.7):  dJ/dtheta_i ~ (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps)   (the book's epsilon is 2 eps)
    forward (11.6):  dJ/dtheta_i ~ (J(theta + eps e_i) - J(theta)) / eps
    complex (11.8-11.9, complex step): dJ/dtheta_i ~ Im J(theta + i eps e_i) / eps
                     (no cancellation: eps = 1e-150 works; needs ops that accept complex inputs and are
                     complex-analytic)

compared with the back-propagated gradient, entry by entry (m evaluations for m inputs), or along random
directions with `gradcheck_random_projection` (textbook 11.5: f(t) = u^T g(x + t v); 2 evaluations per direction,
whatever the input size). Use float64 inputs.

Works on any device: the perturbations are written into the tensor's own array (on its device) and
each evaluation is read back with an explicit ``.item()``; the comparison happens on the host.
"""
from __future__ import annotations

import numpy as np

from ..backend import device_of, namespace_of, to_device, to_host
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


MODES = ("central", "forward", "complex")


def _check_mode(mode, who):
    if mode not in MODES:
        raise ValueError(f"{who}: mode must be one of {MODES}, got {mode!r}")


def _value(fn, inputs):
    return _as_tuple(fn(*inputs))[0]._data.sum().item()


def numerical_grad(fn, x: Tensor, eps: float = 1e-6, inputs=None, index: int = 0, mode: str = "central"):
    """Finite-difference (or complex-step) gradient of the scalar ``fn(*inputs)`` with respect to ``x``.

    mode "central": (f(x+eps) - f(x-eps)) / (2 eps) (11.7); "forward": (f(x+eps) - f(x)) / eps (11.6);
    "complex": Im f(x + i eps) / eps (11.9). With ``inputs=None``, ``fn`` takes ``x`` alone. Returns float64."""
    _check_mode(mode, "numerical_grad")
    inputs = (x,) if inputs is None else tuple(inputs)
    target = inputs[index]
    data = target._data
    g = np.zeros(data.shape, dtype=np.float64)
    gflat = g.reshape(-1)
    if mode == "complex":
        xp = namespace_of(data)
        ctype = np.complex64 if data.dtype == np.float32 else np.complex128
        work = xp.asarray(data, dtype=ctype).copy()
        target._data = work
        try:
            flat = work.reshape(-1)
            with no_grad():
                for i in range(flat.size):
                    old = flat[i].item()
                    flat[i] = old + 1j * eps
                    try:
                        v = _value(fn, inputs)
                    except (TypeError, ValueError) as e:
                        raise TypeError(f"gradcheck(mode='complex'): fn does not accept complex inputs ({e}); "
                                        "use mode='central'") from None
                    flat[i] = old
                    gflat[i] = complex(v).imag / eps
        finally:
            target._data = data
        return g
    flat = data.reshape(-1)
    with no_grad():
        f0 = _value(fn, inputs) if mode == "forward" else None
        for i in range(flat.size):
            old = flat[i].item()
            flat[i] = old + eps
            fp = _value(fn, inputs)
            if mode == "central":
                flat[i] = old - eps
                fm = _value(fn, inputs)
                flat[i] = old
                gflat[i] = (fp - fm) / (2 * eps)
            else:
                flat[i] = old
                gflat[i] = (fp - f0) / eps
    return g


def derivative(f, x: float, eps: float, mode: str = "central") -> float:
    """Numerical derivative of a scalar Python/NumPy function at ``x`` with the book's formulas (textbook 11.6-11.9).

    central uses the book's +-eps/2 (11.7): (f(x+eps/2) - f(x-eps/2)) / eps; forward (11.6): (f(x+eps) - f(x)) / eps;
    complex (11.9): Im f(x + i eps) / eps. For f(x)=x^3 at 2 with eps=1e-3: 12.006001, 12.00000025; complex with
    eps=1e-150: exactly 12."""
    _check_mode(mode, "derivative")
    if mode == "forward":
        return (f(x + eps) - f(x)) / eps
    if mode == "central":
        return (f(x + eps / 2) - f(x - eps / 2)) / eps
    return complex(f(complex(x, eps))).imag / eps


def gradcheck(fn, inputs, eps: float = None, atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
              seed: int = 0, mode: str = "central") -> bool:
    """Check ``fn``'s back-propagated gradients against numerical ones for every input that requires grad.

    mode: "central" (11.7, default eps 1e-6), "forward" (11.6, default eps 1e-7, error O(eps): loosen rtol) or
    "complex" (complex step 11.8-11.9, default eps 1e-20; needs ops that take complex dtypes).
    ``fn(*inputs)`` may return a tensor or a tuple of tensors of any shape (they are projected
    on fixed random vectors). Raises GradcheckError naming the input, the index and both values."""
    _check_mode(mode, "gradcheck")
    if eps is None:
        eps = {"central": 1e-6, "forward": 1e-7, "complex": 1e-20}[mode]
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
        num = numerical_grad(L, inputs[i], eps, inputs=inputs, index=i, mode=mode)
        ana = np.zeros_like(num) if analytic[k] is None else to_host(analytic[k]._data).astype(np.float64)
        bad = np.abs(ana - num) > atol + rtol * np.abs(num)
        if bad.any():
            j = np.unravel_index(int(np.argmax(bad)), num.shape) if num.ndim else ()
            msg = (
                f"gradcheck: gradient mismatch for input {i} (shape {inputs[i].shape}) "
                f"at index {tuple(int(a) for a in j)}: "
                f"analytic {ana[j]:.8g} vs numerical {num[j]:.8g} ({int(bad.sum())} of {bad.size} entries differ; "
                f"mode {mode})"
            )
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(
    fn,
    inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 1,
) -> bool:
    """Check second derivatives: gradcheck of (inputs -> gradient of the projected fn, built with create_graph)."""
    inputs = _as_tuple(inputs)
    L = _projected(fn, inputs, seed)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first_grads(*xs):
        with enable_grad():  # numerical_grad evaluates under no_grad; the first gradient needs the graph
            gs = _grad(L(*xs), [xs[i] for i in wrt], create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_grads, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception, seed=seed + 1)


def gradcheck_random_projection(fn, inputs, n_directions: int = 4, eps: float = 1e-6, atol: float = 1e-5,
                                rtol: float = 1e-3, raise_exception: bool = True, seed: int = 0) -> bool:
    """Random-projection gradient check (textbook 11.5): for random u (on the outputs) and directions v (on all
    inputs that require grad), compare d/dt u^T g(x + t v) at t=0 by a centered difference with <grad, v>.

    Each direction costs 2 evaluations whatever the input size (vs 2m entry by entry); several directions make an
    error orthogonal to one of them unlikely to go unseen."""
    inputs = _as_tuple(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise ValueError("gradcheck_random_projection: no input requires grad")
    if not (isinstance(n_directions, int) and n_directions >= 1):
        raise ValueError(f"gradcheck_random_projection: n_directions must be an int >= 1, got {n_directions!r}")
    rng = np.random.default_rng(seed + 12345)
    for d in range(n_directions):
        L = _projected(fn, inputs, seed + d)
        out = L(*inputs)
        if out is None:
            raise ValueError("gradcheck_random_projection: fn produced no floating-point output")
        analytic = _grad(out, [inputs[i] for i in wrt], allow_unused=True) if out.requires_grad else [None] * len(wrt)
        vs = [rng.standard_normal(inputs[i].shape) for i in wrt]
        ana = sum(0.0 if a is None else float((to_host(a._data).astype(np.float64) * v).sum())
                  for a, v in zip(analytic, vs))
        olds = [inputs[i]._data for i in wrt]
        vals = []
        with no_grad():
            for sign in (1.0, -1.0):
                for i, old, v in zip(wrt, olds, vs):
                    inputs[i]._data = old + to_device((sign * eps * v).astype(old.dtype), device_of(old))
                try:
                    vals.append(L(*inputs)._data.item())
                finally:
                    for i, old in zip(wrt, olds):
                        inputs[i]._data = old
        num = (vals[0] - vals[1]) / (2 * eps)
        if abs(ana - num) > atol + rtol * abs(num):
            msg = (f"gradcheck_random_projection: directional derivative mismatch along random direction {d}: "
                   f"analytic {ana:.8g} vs numerical {num:.8g}")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True
