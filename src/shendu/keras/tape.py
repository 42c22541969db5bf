"""``GradientTape``: TensorFlow-style recording context over shendu's define-by-run autograd (text 003, code 1.2).

    with sd.GradientTape() as tape:
        loss = loss_fn(model(x), y)
    grads = tape.gradient(loss, model.trainable_weights)
    optimizer.apply_gradients(zip(grads, model.trainable_weights))
"""
from __future__ import annotations

from ..autograd.engine import grad as _grad
from ..autograd.grad_mode import enable_grad
from ..autograd.tensor import Tensor

__all__ = ["GradientTape"]


class GradientTape:
    """Records the ops run inside ``with`` (grad mode on) and differentiates them with ``gradient``.
    A tape that is not ``persistent`` gives one set of gradients and is then released, as in TensorFlow."""

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self.persistent = bool(persistent)
        self._used = False
        self._ctx = None
        self._watched = []

    def __enter__(self):
        self._ctx = enable_grad()
        self._ctx.__enter__()
        return self

    def __exit__(self, *exc):
        ctx, self._ctx = self._ctx, None
        return ctx.__exit__(*exc) if ctx is not None else False

    def watch(self, tensor):
        """Record ops on ``tensor`` (a leaf that does not require grad yet) or on each tensor of a list."""
        for t in tensor if isinstance(tensor, (list, tuple)) else [tensor]:
            if not isinstance(t, Tensor):
                raise TypeError(f"GradientTape.watch: expected a Tensor, got {type(t).__name__}")
            if not t.requires_grad:
                t.requires_grad_(True)
            self._watched.append(t)

    def watched_variables(self):
        return list(self._watched)

    def gradient(self, target, sources, output_gradients=None):
        """d target / d sources in the structure of ``sources`` (a Tensor, list/tuple or dict); None for a
        source the target does not depend on. A non-scalar target is summed, as in TensorFlow."""
        if self._used and not self.persistent:
            raise RuntimeError("GradientTape.gradient: a non-persistent GradientTape can only be used to compute "
                               "one set of gradients; use GradientTape(persistent=True)")
        if not isinstance(target, Tensor):
            raise TypeError(f"GradientTape.gradient: target must be a Tensor, got {type(target).__name__}")
        if isinstance(sources, dict):
            keys, flat = list(sources), list(sources.values())
        else:
            keys, flat = None, [sources] if isinstance(sources, Tensor) else list(sources)
        for i, s in enumerate(flat):
            if not isinstance(s, Tensor):
                raise TypeError(f"GradientTape.gradient: source {i} must be a Tensor, got {type(s).__name__}")
        self._used = True
        live = [s for s in flat if s.requires_grad]
        if output_gradients is None and target.ndim:
            from ..ops.reduce import sum as _sum

            target = _sum(target)
        if not target.requires_grad or not live:
            got = [None] * len(flat)
        else:
            grads = iter(_grad(target, live, grad_outputs=output_gradients, retain_graph=self.persistent,
                               allow_unused=True))
            got = [next(grads) if s.requires_grad else None for s in flat]
        if keys is not None:
            return dict(zip(keys, got))
        return got[0] if isinstance(sources, Tensor) else type(sources)(got) if isinstance(sources, tuple) else got
