"""The adaptive-rate methods' shared step (textbook 8.5): the gradient divided by the root of its accumulated
square, with the small constant delta either outside the root (PyTorch's eps) or inside it (the textbook's
Algorithm 8.5, the seeds' AdaGrad, text 003's Adam).
"""
from __future__ import annotations


def rescaled_(xp, g, r, eps, inside, t):
    """t <- g / (sqrt(r) + eps), or g / sqrt(r + eps) when ``inside``, in the scratch array t (r may be t itself;
    g must not be): the per-parameter rescaled gradient of AdaGrad, RMSProp and Adam (textbook Algorithms 8.4,
    8.5, 8.7). All arrays of one shape; returns t."""
    if inside:
        xp.add(r, eps, out=t)
        xp.sqrt(t, out=t)
    else:
        xp.sqrt(r, out=t)
        t += eps
    xp.divide(g, t, out=t)
    return t
