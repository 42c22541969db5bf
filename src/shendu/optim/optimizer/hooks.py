"""Step hooks of the optimizers (torch.optim names): ``RemovableHandle`` and the wrapper that runs the pre-
and post-step hooks around every subclass's ``step``.
"""
from __future__ import annotations

import functools

from ...autograd.grad_mode import _ModeState, refuse_while_tracing


class RemovableHandle:
    """Returned by ``register_step_pre_hook``/``register_step_post_hook``: ``handle.remove()`` unregisters the
    hook (also usable as a context manager), as ``torch.utils.hooks.RemovableHandle``."""

    _next_id = 0

    def __init__(self, hooks):
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


def _with_step_hooks(step):
    """Wrap a subclass's ``step`` so the pre hooks run before it and the post hooks after it (once per call, also
    when a subclass's step calls ``super().step``)."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        if _ModeState.tracing_any:
            refuse_while_tracing(f"{type(self).__name__}.step()")
        d = self.__dict__
        pre, post = d.get("_step_pre_hooks"), d.get("_step_post_hooks")
        if (not pre and not post) or d.get("_in_hooked_step"):
            return step(self, *args, **kwargs)
        d["_in_hooked_step"] = True
        try:
            for hook in list(pre.values()) if pre else ():
                r = hook(self, args, kwargs)
                if r is not None:
                    if not (isinstance(r, tuple) and len(r) == 2 and isinstance(r[1], dict)):
                        raise RuntimeError(f"{type(self).__name__}: a step pre hook must return None or a tuple "
                                           f"(new_args, new_kwargs), got {type(r).__name__}")
                    args, kwargs = tuple(r[0]), r[1]
            out = step(self, *args, **kwargs)
            for hook in list(post.values()) if post else ():
                hook(self, args, kwargs)
        finally:
            d["_in_hooked_step"] = False
        return out

    wrapper._shendu_step_hooks = True
    return wrapper
