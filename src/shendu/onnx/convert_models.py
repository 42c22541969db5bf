"""ONNX converters of the model zoo (LeNet5, CifarCNN, VGG, ResNet/BasicBlock): each converts its children.
"""
from __future__ import annotations

from .graph import _child


def install(reg):
    """Register the model-zoo converters with ``reg(*classes)`` (a decorator factory)."""
    from .. import models

    @reg(models.LeNet5, models.CifarCNN)
    def _features_classifier(g, m, name, x):
        m(x)  # shape checks
        name, x = _child(g, m, "features", name, x)
        return _child(g, m, "classifier", name, x)

    @reg(models.VGG)
    def _vgg(g, m, name, x):
        for attr in ("features", "pool", "classifier"):
            name, x = _child(g, m, attr, name, x)
        return name, x

    @reg(models.ResNet)
    def _resnet(g, m, name, x):
        for attr in ("stem", "layers", "pool", "fc"):
            name, x = _child(g, m, attr, name, x)
        return name, x

    @reg(models.BasicBlock)
    def _block(g, m, name, x):
        y = m(x)
        a, t = _child(g, m, "conv1", name, x)
        a, t = _child(g, m, "bn1", a, t)
        a, t = _child(g, m, "relu", a, t)
        a, t = _child(g, m, "conv2", a, t)
        a, t = _child(g, m, "bn2", a, t)
        s, _ = _child(g, m, "shortcut", name, x)
        return g.node("Relu", [g.node("Add", [a, s])], "block"), y

