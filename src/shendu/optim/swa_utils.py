"""Polyak averaging (Textbook 8.7.3): arithmetic mean of the iterates, theta_hat_t = (1/t) sum_i theta_i, and the
exponential moving average theta_hat_t = alpha theta_hat_{t-1} + (1 - alpha) theta_t (8.39) for non-convex problems.

``AveragedModel(model, mode="arithmetic"|"ema", decay=0.999)`` keeps an averaged deep copy (PyTorch's
``torch.optim.swa_utils.AveragedModel``); ``update_parameters(model)`` after each optimizer step; call it to
evaluate the averaged model, or ``with avg.swap_in(model):`` to put the averages into ``model`` temporarily.
"""
from __future__ import annotations

import contextlib
import copy

import numpy as np

from ..backend import CPU, namespace_of, to_device, to_host
from ..nn.module import Module

__all__ = ["AveragedModel", "get_ema_avg_fn", "get_swa_avg_fn", "EMA"]


def get_ema_avg_fn(decay=0.999):
    """avg_fn(avg, current, n) = decay * avg + (1 - decay) * current (PyTorch's ``get_ema_avg_fn``)."""
    def ema(avg, cur, n):
        return decay * avg + (1.0 - decay) * cur
    return ema


def get_swa_avg_fn():
    """avg_fn(avg, current, n) = avg + (current - avg) / (n + 1): the running arithmetic mean."""
    def swa(avg, cur, n):
        return avg + (cur - avg) / (n + 1)
    return swa


class AveragedModel(Module):
    """AveragedModel(model, mode="arithmetic", decay=0.999, avg_fn=None, use_buffers=False).

    avg_fn(avg_array, current_array, n_averaged) -> new array overrides `mode`. With use_buffers=True the
    buffers (e.g. BatchNorm running statistics) are averaged too; otherwise they are copied from the model."""

    def __init__(self, model, mode="arithmetic", decay=0.999, avg_fn=None, use_buffers=False):
        super().__init__()
        if mode not in ("arithmetic", "ema"):
            raise ValueError(f"AveragedModel: mode must be 'arithmetic' or 'ema', got {mode!r}")
        if not 0.0 <= decay <= 1.0:
            raise ValueError(f"AveragedModel: decay must be in [0, 1], got {decay}")
        self.module = copy.deepcopy(model)
        self.mode, self.decay, self.avg_fn, self.use_buffers = mode, float(decay), avg_fn, use_buffers
        first = next(iter(self.module.parameters()), None)
        dev = CPU if first is None else first.device
        self.register_buffer("n_averaged", to_device(np.zeros((), dtype=np.int64), dev))  # on the model's device

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _pairs(self, model):
        def items(m):
            ps = list(m.named_parameters())
            return ps + list(m.named_buffers()) if self.use_buffers else ps

        mine, theirs = items(self.module), dict(items(model))
        if len(mine) != len(theirs) or any(k not in theirs for k, _ in mine):
            raise ValueError("AveragedModel: the model's parameters do not match the averaged copy's "
                             f"({len(theirs)} vs {len(mine)} tensors)")
        return [(a, theirs[k]) for k, a in mine]

    def _count(self):
        """n_averaged as an int: read from the buffer once, then mirrored on the host (no per-update device sync)
        for as long as the buffer keeps its array and version (a load_state_dict replaces them)."""
        nb = self.n_averaged
        if not hasattr(nb, "_data"):
            return int(np.asarray(nb))
        seen = self.__dict__.get("_n_seen")
        if seen is not None and seen[0] is nb._data and seen[1] == nb._version:
            return seen[2]
        return int(to_host(nb._data))

    def update_parameters(self, model):
        """Fold the model's current parameters into the average (the first call copies them)."""
        n = self._count()
        for a, p in self._pairs(model):
            avg, cur = a._data, p._data
            xp = namespace_of(avg)
            if n == 0 or not np.issubdtype(avg.dtype, np.floating):
                xp.copyto(avg, cur)
            elif self.avg_fn is not None:
                xp.copyto(avg, self.avg_fn(avg, cur, n))
            elif self.mode == "ema":
                # avg <- decay * avg + (1 - decay) * cur
                avg *= self.decay
                avg += (1.0 - self.decay) * cur
            else:
                avg += (cur - avg) / (n + 1)
            a._version += 1
        if not self.use_buffers:
            mine = dict(self.module.named_buffers())
            for k, b in model.named_buffers():
                if k in mine:
                    namespace_of(mine[k]._data).copyto(mine[k]._data, b._data)
        nb = self.n_averaged
        if hasattr(nb, "_data"):
            nb._data = namespace_of(nb._data).asarray(n + 1, dtype=np.int64)  # a new array on the buffer's device
            self.__dict__["_n_seen"] = (nb._data, nb._version, n + 1)
        else:
            self.n_averaged = np.asarray(n + 1, dtype=np.int64)

    @contextlib.contextmanager
    def swap_in(self, model):
        """Temporarily put the averaged parameters (and buffers with use_buffers) into `model`; restores on exit."""
        pairs = self._pairs(model)
        saved = [p._data.copy() for _, p in pairs]
        try:
            for a, p in pairs:
                namespace_of(p._data).copyto(p._data, a._data)
                p._version += 1
            yield model
        finally:
            for (_, p), s in zip(pairs, saved):
                namespace_of(p._data).copyto(p._data, s)
                p._version += 1


def EMA(model, decay=0.999, use_buffers=False):
    """Exponential moving average of `model`'s parameters: AveragedModel(model, mode="ema", decay=decay)."""
    return AveragedModel(model, mode="ema", decay=decay, use_buffers=use_buffers)
