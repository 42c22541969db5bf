"""Coordinate descent and block coordinate descent (Textbook 8.7.2): minimize over one block of parameters
at a time, the others fixed, cycling through the blocks. ``CoordinateDescent`` cycles over single scalar
coordinates with exact 1-D Newton steps.

``BlockCoordinateDescent(blocks, make_optimizer, inner_steps=1)``: blocks is a list of parameter lists (one
Tensor each gives plain coordinate descent over tensors); ``make_optimizer(block_params)`` builds the inner
optimizer of a block (default: ``Newton`` - exact in one step when the loss is quadratic in the block, e.g. the
textbook's x1 <- x2 / (1 + alpha) sweeps); its state is cleared before each block's turn unless
reset_state=False (the other blocks moved, so stale curvature pairs would mislead L-BFGS).
``step(closure)`` does one sweep; the closure follows the inner
optimizer's contract (Newton: return the loss without backward; others: zero grads, backward, return loss).
"""
from __future__ import annotations

from ..autograd.engine import grad as _grad
from ..autograd.grad_mode import enable_grad
from ..autograd.tensor import Tensor
from ..backend import namespace_of
from .optimizer import Optimizer

__all__ = ["BlockCoordinateDescent", "CoordinateDescent"]


class BlockCoordinateDescent:
    """One sweep per ``step(closure)`` over the blocks, each minimized by its own inner optimizer."""

    def __init__(self, blocks, make_optimizer=None, inner_steps=1, reset_state=True):
        if make_optimizer is None:
            from .newton import Newton

            make_optimizer = Newton
        blocks = [[b] if isinstance(b, Tensor) else list(b) for b in blocks]
        if not blocks or any(not b for b in blocks):
            raise ValueError("BlockCoordinateDescent: expected a non-empty list of non-empty parameter blocks")
        seen = set()
        for b in blocks:
            for p in b:
                if id(p) in seen:
                    raise ValueError("BlockCoordinateDescent: a parameter appears in two blocks")
                seen.add(id(p))
        self.blocks = blocks
        self.optimizers = [make_optimizer(b) for b in blocks]
        self.inner_steps = inner_steps
        self.reset_state = reset_state
        self.param_groups = [g for o in self.optimizers for g in o.param_groups]

    def step(self, closure):
        """One sweep over all blocks; returns the loss at the start of the sweep."""
        first = None
        for opt in self.optimizers:
            if self.reset_state:  # the other blocks moved: old curvature pairs / momenta describe another problem
                opt.state.clear()
            for _ in range(self.inner_steps):
                loss = opt.step(closure)
                if first is None:
                    first = loss
        return first

    def zero_grad(self, set_to_none=True):
        for o in self.optimizers:
            o.zero_grad(set_to_none)

    def state_dict(self):
        return {"optimizers": [o.state_dict() for o in self.optimizers]}

    def load_state_dict(self, state_dict):
        for o, s in zip(self.optimizers, state_dict["optimizers"]):
            o.load_state_dict(s)


class CoordinateDescent(Optimizer):
    """CoordinateDescent(params, lr=1): one sweep over every scalar coordinate per ``step(closure)``.

    Coordinate i moves by the 1-D Newton step x_i <- x_i - lr g_i / H_ii (the exact coordinate minimizer when
    the loss is quadratic in x_i, e.g. x1 <- x2 / (1 + alpha) in the textbook's example); where H_ii <= 0 it
    takes the gradient step x_i <- x_i - lr g_i. The closure returns the loss without calling backward; it is
    evaluated once per coordinate (plus two backward passes), so this is for small problems."""

    def __init__(self, params, lr=1.0):
        if lr <= 0:
            raise ValueError(f"CoordinateDescent: lr must be > 0, got {lr}")
        super().__init__(params, dict(lr=lr))

    def step(self, closure):
        """One sweep over all coordinates of all parameters; returns the loss at the start of the sweep."""
        if closure is None:
            raise ValueError("CoordinateDescent.step needs a closure that returns the loss (without backward)")
        first = None
        for group in self.param_groups:
            lr = group["lr"]
            for p in group["params"]:
                flat = p._data.reshape(-1)
                for i in range(flat.size):
                    with enable_grad():
                        loss = closure()
                        if first is None:
                            first = loss
                        (g,) = _grad(loss, [p], create_graph=True, allow_unused=True)
                        if g is None:
                            break
                        gi = g.reshape(-1)[i]
                        gval = float(gi._data)
                        (h,) = _grad(gi, [p], allow_unused=True) if gi.requires_grad else (None,)
                    hii = 0.0 if h is None else float(h._data.reshape(-1)[i])
                    flat[i] -= lr * gval / hii if hii > 0 else lr * gval
                    if not namespace_of(flat).shares_memory(flat, p._data):
                        p._data[...] = flat.reshape(p._data.shape)
                    p._version += 1
        return first
