"""``shendu.losses``: Keras loss objects and functions (``sd.losses.CategoricalCrossentropy(from_logits=...)``);
see ``shendu.keras.losses``. PyTorch-style loss modules are in ``shendu.nn``."""
from .keras.losses import *  # noqa: F401,F403
from .keras.losses import __all__  # noqa: F401
