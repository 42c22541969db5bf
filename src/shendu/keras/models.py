"""``shendu.keras.models``: Model and Sequential (as ``tensorflow.keras.models``)."""
from .model import Model, Sequential  # noqa: F401

__all__ = ["Model", "Sequential"]
