"""Multi-task learning (textbook 7.7, Fig. 7.2): a shared trunk (generic parameters) feeding named task heads
(task-specific parameters). Losses with weights and missing-label masks: ``shendu.regularize.multitask_loss``."""
from __future__ import annotations

from ..containers import ModuleDict
from ..module import Module


class MultiTask(Module):
    """h = trunk(x); returns {name: head(h)} for every head (textbook 7.7). ``heads``: dict name -> Module.
    ``tasks=`` (a name or list) in ``forward`` runs only those heads."""

    def __init__(self, trunk: Module, heads: dict):
        super().__init__()
        if not isinstance(trunk, Module):
            raise TypeError(f"MultiTask: trunk must be a Module, got {type(trunk).__name__}")
        if not isinstance(heads, (dict, ModuleDict)) or not len(heads):
            raise TypeError(f"MultiTask: heads must be a non-empty dict name -> Module, got {type(heads).__name__}")
        for k, m in heads.items():
            if not isinstance(m, Module):
                raise TypeError(f"MultiTask: head {k!r} must be a Module, got {type(m).__name__}")
        self.trunk = trunk
        self.heads = heads if isinstance(heads, ModuleDict) else ModuleDict(dict(heads))

    def forward(self, x, tasks=None):
        h = self.trunk(x)
        names = list(self.heads.keys()) if tasks is None else ([tasks] if isinstance(tasks, str) else list(tasks))
        for n in names:
            if n not in self.heads:
                raise KeyError(f"MultiTask: no head named {n!r} (heads: {list(self.heads.keys())})")
        return {n: self.heads[n](h) for n in names}
