"""What every loss shares (Textbook 6.2.1, cost functions): the reduction 'mean' | 'sum' | 'none' as PyTorch,
shape checks, and targets and class weights moved to the input's device (host arrays are copied over; index
targets are checked on the host when they come from there, with no device-to-host copy)."""
from __future__ import annotations

from ....autograd.tensor import Tensor, array_of, as_tensor
from ....backend import is_host, namespace_of, to_device_of, to_host

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss: Tensor, reduction: str, name: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _check_same(name, input, target):
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(
            f"{name}: input of shape {tuple(input.shape)} and target of shape {tuple(target.shape)} must match"
        )


def _as_target(target, ref: Tensor) -> Tensor:
    if isinstance(target, Tensor):
        return target
    arr = array_of(target)
    if arr.dtype.kind == "f":
        arr = arr.astype(ref._data.dtype)
    return as_tensor(to_device_of(arr, ref))


def _as_weight(weight, ref: Tensor):
    """Class weights as a Tensor on ``ref``'s device (host arrays are copied over; Tensors are used as given)."""
    if weight is None or isinstance(weight, Tensor):
        return weight
    return as_tensor(to_device_of(array_of(weight), ref))


def _min_max(a):
    """(min, max) of a non-empty array as host values: one device-to-host copy for a device array."""
    if is_host(a):
        return a.min(), a.max()
    lo, hi = to_host(namespace_of(a).stack((a.min(), a.max())))
    return lo, hi
