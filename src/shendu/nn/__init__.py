"""Neural-network building blocks (textbook chapter 6): Module, Parameter, containers, layers,
activations, losses and initializers."""
from .containers import ModuleDict, ModuleList, Sequential  # noqa: F401
from .module import Module  # noqa: F401
from .parameter import Parameter  # noqa: F401
from . import functional  # noqa: F401
