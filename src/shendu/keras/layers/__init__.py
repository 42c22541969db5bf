"""Keras-style layers whose input size is inferred: ``Dense(128, activation='relu')`` builds its weights at the
first call (on real data or on a symbolic ``Input``). Each is a shendu ``nn.Module`` using shendu's ops.

TensorLayer's names (text 003) are accepted too: ``Dense(n_units=800, act=..., in_channels=784)``,
``Dropout(keep=0.8)``, ``Input([None, 784])``. By kind: ``base`` (KerasTensor, Input, Layer), ``core`` (Dense,
Activation, Dropout, Flatten), ``normalization`` (BatchNormalization).
"""
from .base import Input, KerasTensor, Layer, _shape_str  # noqa: F401  (_shape_str: keras.model)
from .core import Activation, Dense, Dropout, Flatten  # noqa: F401
from .normalization import BatchNormalization  # noqa: F401

__all__ = ["KerasTensor", "Input", "Layer", "Dense", "Activation", "BatchNormalization", "Dropout", "Flatten"]
