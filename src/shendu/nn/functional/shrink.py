"""Thresholding and shrinkage units and the gated linear unit (PyTorch's F.threshold, F.hardshrink,
F.softshrink, F.tanhshrink, F.glu). softshrink is the soft-thresholding operator that L1 regularization
applies to each weight (Textbook 7.1.2, eq. 7.23: sign(w) max(|w| - lambda, 0))."""
from __future__ import annotations

from ...autograd.tensor import Tensor
from ...ops import chunk, sigmoid, where


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """y = x if x > threshold else ``value`` (torch's F.threshold); any shape."""
    return where(input > threshold, input, value)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """y = x if |x| > lambd else 0 (torch's F.hardshrink); any shape."""
    return where(input.abs() > lambd, input, 0.0)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """y = x - lambd sign(x) if |x| > lambd else 0 (soft thresholding, Textbook 7.1.2 eq. 7.23); any shape."""
    return where(input.abs() > lambd, input - input.sign() * lambd, 0.0)


def tanhshrink(input: Tensor) -> Tensor:
    """y = x - tanh(x) (torch's F.tanhshrink); any shape."""
    return input - input.tanh()


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit a * sigmoid(b), with a, b the two halves of ``input`` along ``dim`` (torch's F.glu);
    the size of ``dim`` must be even and halves."""
    if input.shape[dim] % 2:
        raise ValueError(f"glu: dim {dim} of input shape {tuple(input.shape)} must have an even size")
    a, b = chunk(input, 2, dim)
    return a * sigmoid(b)
