"""Keras-style API on shendu (text 003's TF2/TensorLayer code, text 004's Keras example): layers whose input
size is inferred, functional ``Model(inputs, outputs)`` and ``Sequential``, Keras losses (probabilities unless
``from_logits=True``), Keras optimizers with ``apply_gradients``, ``GradientTape``, ``to_categorical``.

    from shendu.keras.layers import Dense, Input
    x = Input([None, 784]); y = Dense(10, activation='softmax')(Dense(128, activation='relu')(x))
    model = shendu.keras.Model(x, y)
"""
from . import layers, losses, model, models, optimizers, tape, utils  # noqa: F401
from .layers import Activation, BatchNormalization, Dense, Dropout, Flatten, Input, KerasTensor, Layer  # noqa: F401
from .model import Model, Sequential  # noqa: F401
from .tape import GradientTape  # noqa: F401
from .utils import to_categorical  # noqa: F401

optimizers.install()  # apply_gradients on every shendu.optim.Optimizer

__all__ = ["layers", "losses", "models", "optimizers", "utils", "Input", "Layer", "KerasTensor", "Dense",
           "Activation", "BatchNormalization", "Dropout", "Flatten", "Model", "Sequential", "GradientTape",
           "to_categorical"]
