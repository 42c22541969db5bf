"""``Optimizer`` base: parameter groups, per-parameter state, zero_grad, state_dict, step hooks (Textbook 8.3-8.5).

Subclasses implement ``step(closure=None)`` and update ``p._data`` in place with preallocated state arrays.
State is kept per parameter in ``self.state[p]`` (a dict); keys starting with ``_`` are scratch buffers,
not saved. ``state_dict()`` refers to parameters by their index over all groups, as PyTorch does.

Modules: buffers (state helpers, ``required``), hooks (step hooks), base (Optimizer).
"""
from .buffers import required, _scratch, _grad_with_decay, _placed  # noqa: F401
from .hooks import RemovableHandle, _with_step_hooks  # noqa: F401
from .base import Optimizer  # noqa: F401

__all__ = ["Optimizer", "RemovableHandle", "required"]
