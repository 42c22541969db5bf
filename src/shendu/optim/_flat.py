"""Flat-vector view of a parameter list for the full-batch methods (Newton, CG, SCG, BFGS, L-BFGS; textbook
8.6), and their common base: one parameter group seen as one vector, state kept on the first parameter, and a
closure evaluated to give the loss and the flat gradient.

The flat vectors live on the parameters' device (their array namespace); only the loss comes back as a float.
"""
from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import enable_grad
from ..backend import namespace_of
from .optimizer import Optimizer


class FlatParams:
    """Gather gradients into one vector, move all parameters along a vector, save/restore their values."""

    def __init__(self, params):
        self.params = list(params)
        self.sizes = [p._data.size for p in self.params]
        self.n = sum(self.sizes)
        self.dtype = np.result_type(*[p._data.dtype for p in self.params])

    @property
    def xp(self):
        """The array namespace of the parameters (looked up each time: ``model.to(device)`` may move them)."""
        return namespace_of(self.params[0]._data)

    def flat_grad(self):
        out = self.xp.zeros(self.n, dtype=self.dtype)
        o = 0
        for p, s in zip(self.params, self.sizes):
            if p.grad is not None:
                out[o:o + s] = p.grad._data.reshape(-1)
            o += s
        return out

    def flat_data(self):
        return self.xp.concatenate([p._data.reshape(-1) for p in self.params]).astype(self.dtype, copy=False)

    def add_(self, step, vec):
        """p <- p + step * vec (vec split over the parameters)."""
        o = 0
        for p, s in zip(self.params, self.sizes):
            d = p._data
            d += (step * vec[o:o + s]).reshape(d.shape).astype(d.dtype, copy=False)
            p._version += 1
            o += s

    def clone(self):
        return [p._data.copy() for p in self.params]

    def set_(self, values):
        copyto = self.xp.copyto
        for p, v in zip(self.params, values):
            copyto(p._data, v)
            p._version += 1

    def evaluate(self, closure):
        """Run the closure (it zeroes grads, computes the loss, calls backward); return (float loss, flat grad)."""
        with enable_grad():
            loss = closure()
        return float(loss), self.flat_grad()

    def directional_evaluate(self, closure, x, t, d):
        """(loss, grad) at x + t d, then restore x."""
        self.add_(t, d)
        f, g = self.evaluate(closure)
        self.set_(x)
        return f, g


class FullBatchOptimizer(Optimizer):
    """Base of the full-batch methods (textbook 8.6): all parameters as one flat vector ``self._flat``
    (``FlatParams``, so a single parameter group), their state in ``self.state[first parameter]``, and
    ``step(closure)`` starting with ``_start`` (closure checked) and ``_loss_and_grad`` (closure run)."""

    _free_shape_state = "*"
    #: what the closure must do, for the error message of a step without one
    _closure_does = "recomputes the loss and its gradients"
    _groups_word = "parameter groups"

    def __init__(self, params, defaults):
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError(f"{type(self).__name__} doesn't support {self._groups_word}")
        self._flat = FlatParams(self.param_groups[0]["params"])

    def _start(self, closure):
        """(flat parameters, the group, the state dict); ValueError when ``closure`` is None."""
        if closure is None:
            raise ValueError(f"{type(self).__name__}.step needs a closure that {self._closure_does}")
        fp = self._flat
        return fp, self.param_groups[0], self.state.setdefault(fp.params[0], {})

    def _loss_and_grad(self, closure):
        """Evaluate the closure (under enable_grad) and flatten the gradient: (the loss as the closure returned
        it, as a float, the flat gradient array)."""
        orig = self._eval_closure(closure)
        return orig, float(orig), self._flat.flat_grad()
