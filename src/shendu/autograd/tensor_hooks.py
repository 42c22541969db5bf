"""Gradient hooks of a Tensor (textbook 6.5.6): ``register_hook`` (see or replace the gradient of a tensor during
backward), ``retain_grad`` (keep ``.grad`` on a non-leaf), ``register_post_accumulate_grad_hook`` (run once a leaf's
``.grad`` holds this backward's total). The engine calls them (``backprop_steps``); ``Tensor`` inherits them.
"""
from __future__ import annotations

import weakref

from .grad_mode import _ModeState, refuse_while_tracing

# How many post-accumulate hooks are registered (the engine hands leaf gradients over early only then).
_POST_HOOKS = [0]


class TensorHooks:
    """The hook registration methods of ``Tensor`` (a mixin: Tensor's slots hold the state)."""

    __slots__ = ()

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if _ModeState.tracing_any:
            refuse_while_tracing("retain_grad()")
        if self._grad_fn is None:
            return
        self._retains_grad = True
        self._out_hooks().append(("retain", _weak(self)))

    def register_hook(self, hook):
        """Register ``hook(grad) -> grad or None`` called with this tensor's gradient during backward.

        Returns a handle whose ``remove()`` unregisters it."""
        if _ModeState.tracing_any:
            refuse_while_tracing("register_hook()")
        if not self._requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not require grad")
        if self._grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            lst = self._hooks
        else:
            lst = self._out_hooks()
        entry = ("hook", hook)
        lst.append(entry)
        return _HookHandle(lst, entry)

    def register_post_accumulate_grad_hook(self, hook):
        """Register ``hook(tensor)`` on a leaf, called after its ``.grad`` got this backward's total.

        Backward hands the gradient over (and calls the hook) as soon as every contribution is in, so
        work such as DistributedDataParallel's bucket all-reduce starts while backward continues.
        Returns a handle whose ``remove()`` unregisters it."""
        if not self._requires_grad or self._grad_fn is not None:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: only a leaf tensor that requires grad "
                f"takes one (this tensor: requires_grad={self._requires_grad}, is_leaf={self._grad_fn is None})"
            )
        if self._hooks is None:
            self._hooks = []
        entry = ("post", hook)
        self._hooks.append(entry)
        _POST_HOOKS[0] += 1
        return _PostHookHandle(self._hooks, entry)

    def _out_hooks(self) -> list:
        fn = self._grad_fn
        hooks = getattr(fn, "_out_hooks", None)
        if hooks is None:
            hooks = {}
            fn._out_hooks = hooks
        return hooks.setdefault(self._out_idx, [])



class _HookHandle:
    __slots__ = ("_lst", "_entry")

    def __init__(self, lst, entry):
        self._lst, self._entry = lst, entry

    def remove(self):
        try:
            self._lst.remove(self._entry)
        except ValueError:
            pass


class _PostHookHandle(_HookHandle):
    __slots__ = ()

    def remove(self):
        if self._entry in self._lst:
            self._lst.remove(self._entry)
            _POST_HOOKS[0] -= 1


def _weak(t):
    return weakref.ref(t)
