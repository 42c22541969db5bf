"""Containers: Sequential, ModuleList, ModuleDict."""
from __future__ import annotations

from collections import OrderedDict

from .module import Module


class Sequential(Module):
    """Apply modules in order: ``Sequential(Linear(2, 2), ReLU(), Linear(2, 1))``."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (OrderedDict, dict)):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __getitem__(self, idx):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            return Sequential(*mods[idx])
        return mods[idx]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self


class ModuleList(Module):
    """A list of sub-modules, registered so their parameters are found."""

    def __init__(self, modules=()):
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def __getitem__(self, idx):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            return ModuleList(mods[idx])
        return mods[idx]

    def __setitem__(self, idx, module):
        key = list(self._modules)[idx]
        self.add_module(key, module)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class ModuleDict(Module):
    """A dict of sub-modules."""

    def __init__(self, modules=None):
        super().__init__()
        for k, m in (modules or {}).items():
            self.add_module(k, m)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __contains__(self, key):
        return key in self._modules

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()


class Lambda(Module):
    """A layer from a function: ``Lambda(fn)`` computes ``fn(*inputs)``; with trainable weights,
    ``Lambda(fn, weights=[w1, w2])`` computes ``fn(*inputs, w1, w2)`` and registers w1, w2 as
    parameters ``weight0``, ``weight1`` (or under the keys of a dict ``weights={'scale': w}``).
    Arrays/tensors that are not Parameters are wrapped as Parameters.

        scale = Lambda(lambda x, s: x * s, weights=[sd.ones(3)])
    """

    def __init__(self, fn, weights=None, name: str | None = None):
        super().__init__()
        if not callable(fn):
            raise TypeError(f"Lambda: fn must be callable, got {type(fn).__name__}")
        from .parameter import Parameter

        object.__setattr__(self, "fn", fn)
        object.__setattr__(self, "_name", name or getattr(fn, "__name__", "fn"))
        items = (
            weights.items() if isinstance(weights, dict) else ((f"weight{i}", w) for i, w in enumerate(weights or ()))
        )
        names = []
        for key, w in items:
            self.register_parameter(key, w if isinstance(w, Parameter) else Parameter(w))
            names.append(key)
        object.__setattr__(self, "_weight_names", tuple(names))

    def forward(self, *inputs, **kwargs):
        ws = [self._parameters[k] for k in self._weight_names]
        return self.fn(*inputs, *ws, **kwargs)

    def extra_repr(self):
        return self._name + (f", weights={list(self._weight_names)}" if self._weight_names else "")
