"""``shendu.nn.modules.dropout``: PyTorch's ``torch.nn.modules.dropout`` path for the classes of nn.layers.dropout."""
from ..layers.dropout import AlphaDropout, Dropout, Dropout1d, Dropout3d  # noqa: F401
from ..layers.dropout_compat import Dropout2d  # noqa: F401
