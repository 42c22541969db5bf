"""``shendu.utils``: PyTorch's ``torch.utils`` layout (``shendu.utils.data``), re-exporting shendu's own modules."""
from . import checkpoint, data  # noqa: F401
from ._generator import Generator  # noqa: F401,E402
