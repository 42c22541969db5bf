"""Coordinate descent and block coordinate descent (Textbook 8.7.2): minimize over one block of parameters
at a time, the others fixed, cycling through the blocks.

``BlockCoordinateDescent(blocks, make_optimizer, inner_steps=1)``: blocks is a list of parameter lists (one
Tensor each gives plain coordinate descent over tensors); ``make_optimizer(block_params)`` builds the inner
optimizer of a block (default: ``Newton`` - exact in one step when the loss is quadratic in the block, e.g. the
textbook's x1 <- x2 / (1 + alpha) sweeps); its state is cleared before each block's turn unless
reset_state=False (the other blocks moved, so stale curvature pairs would mislead L-BFGS).
``step(closure)`` does one sweep; the closure follows the inner
optimizer's contract (Newton: return the loss without backward; others: zero grads, backward, return loss).
"""
from __future__ import annotations

from ..autograd.tensor import Tensor

__all__ = ["BlockCoordinateDescent"]


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
