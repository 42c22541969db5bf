"""Parameter containers (torch.nn.ParameterList, torch.nn.ParameterDict): a list or dict of Parameters
registered on a Module, so ``parameters()`` and the optimizer find every entry of theta (Textbook 6.5)."""
from __future__ import annotations

from ..module import Module


class ParameterList(Module):
    """A list of Parameters, registered so ``parameters()`` finds them (``p[i]``, ``append``, iteration)."""

    def __init__(self, values=None):
        super().__init__()
        for v in values or ():
            self.append(v)

    def append(self, value):
        self.register_parameter(str(len(self._parameters)), value)
        return self

    def extend(self, values):
        for v in values:
            self.append(v)
        return self

    def __getitem__(self, idx):
        return list(self._parameters.values())[idx]

    def __setitem__(self, idx, value):
        self.register_parameter(list(self._parameters)[idx], value)

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())


class ParameterDict(Module):
    """A dict of Parameters, registered so ``parameters()`` finds them."""

    def __init__(self, parameters=None):
        super().__init__()
        for k, v in dict(parameters or {}).items():
            self[k] = v

    def __setitem__(self, key, value):
        self.register_parameter(key, value)

    def __getitem__(self, key):
        return self._parameters[key]

    def __contains__(self, key):
        return key in self._parameters

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def keys(self):
        return self._parameters.keys()

    def values(self):
        return self._parameters.values()

    def items(self):
        return self._parameters.items()
