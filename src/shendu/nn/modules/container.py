"""``shendu.nn.modules.container``: PyTorch's ``torch.nn.modules.container`` path for the classes of nn.containers."""
from ..containers import ModuleDict, ModuleList, Sequential  # noqa: F401
from ..layers.extra import ParameterDict, ParameterList  # noqa: F401,E402
