"""A profiler: time spent per op (forward and backward) and per layer (forward).

DESIGN.md, "slow convolution and no way to see why": wrap a few training steps in
``with sd.autograd.profile(model) as prof:`` and ``print(prof.table())``. While active, every
``Function`` call and every node of a backward pass is timed by op class, and, when a model is
given, every sub-module's forward by its qualified name. Outside the context the hooks are
removed and cost nothing.

GPU work is asynchronous: on a device, each timed op and layer waits for its device to finish
(``synchronize``) so its time is the time the work took, not the time it took to launch.
"""
from __future__ import annotations

from collections import defaultdict
from time import perf_counter

import numpy as np

from ..backend import backend_of_device, device_of
from .function import Function
from .grad_mode import _Mode


def _synchronize(out) -> None:
    """Wait for the device that computed ``out`` (a tensor or a tuple of them); nothing on the CPU."""
    t = out[0] if isinstance(out, (tuple, list)) and out else out
    d = getattr(t, "_data", None)
    if d is None or type(d) is np.ndarray:
        return
    dev = device_of(d)
    if dev.type != "cpu":
        backend_of_device(dev).synchronize(dev.index)


class _Stat:
    __slots__ = ("calls", "total")

    def __init__(self):
        self.calls = 0
        self.total = 0.0

    def add(self, dt):
        self.calls += 1
        self.total += dt


class profile:
    """Context manager collecting per-op and per-layer times; see ``table()`` and ``stats()``."""

    def __init__(self, model=None):
        self.model = model
        self.forward = defaultdict(_Stat)  # op name -> stats of its forward calls
        self.backward = defaultdict(_Stat)  # op name -> stats of its backward calls
        self.layers = defaultdict(_Stat)  # module path -> stats of its forward calls
        self._saved = None

    # -- hooks -------------------------------------------------------------------------
    def __enter__(self):
        if _Mode.profiler is not None:
            raise RuntimeError("profile: a profiler is already active (profilers do not nest)")
        _Mode.profiler = self
        call = Function.__call__
        fwd = self.forward

        def timed_call(fn, *inputs):
            t0 = perf_counter()
            try:
                out = call(fn, *inputs)
                if fn.xp is not np:
                    _synchronize(out)
                return out
            finally:
                fwd[type(fn).__name__].add(perf_counter() - t0)

        Function.__call__ = timed_call
        self._saved = [(Function, "__call__", call)]
        if self.model is not None:
            self._hook_layers()
        return self

    def _hook_layers(self):
        from ..nn.module import Module  # imported lazily: autograd sits below nn

        names = {id(m): (n or type(m).__name__) for n, m in self.model.named_modules()}
        call = Module.__call__
        layers = self.layers

        def timed_module_call(m, *args, **kwargs):
            name = names.get(id(m))
            if name is None:
                return call(m, *args, **kwargs)
            t0 = perf_counter()
            try:
                out = call(m, *args, **kwargs)
                _synchronize(out)
                return out
            finally:
                layers[name].add(perf_counter() - t0)

        Module.__call__ = timed_module_call
        self._saved.append((Module, "__call__", call))

    def __exit__(self, *exc):
        for owner, attr, value in reversed(self._saved or []):
            setattr(owner, attr, value)
        self._saved = None
        _Mode.profiler = None
        return False

    def _record_backward(self, fn, dt):  # called by the engine for each node
        self.backward[type(fn).__name__].add(dt)

    # -- reports -----------------------------------------------------------------------
    def stats(self):
        """{op: {"forward_calls", "forward_s", "backward_calls", "backward_s", "total_s"}}."""
        out = {}
        for name in set(self.forward) | set(self.backward):
            f, b = self.forward.get(name, _Stat()), self.backward.get(name, _Stat())
            out[name] = {"forward_calls": f.calls, "forward_s": f.total, "backward_calls": b.calls,
                         "backward_s": b.total, "total_s": f.total + b.total}
        return out

    def table(self, top: int = 20) -> str:
        """A text table of the ``top`` most expensive ops (and layers, when a model was given)."""
        rows = sorted(self.stats().items(), key=lambda kv: -kv[1]["total_s"])[:top]
        lines = [f"{'op':<24}{'fwd calls':>10}{'fwd ms':>10}{'bwd calls':>10}{'bwd ms':>10}{'total ms':>10}"]
        for name, s in rows:
            lines.append(f"{name:<24}{s['forward_calls']:>10}{s['forward_s'] * 1e3:>10.2f}"
                         f"{s['backward_calls']:>10}{s['backward_s'] * 1e3:>10.2f}{s['total_s'] * 1e3:>10.2f}")
        if self.layers:
            lines.append("")
            lines.append(f"{'layer (forward)':<34}{'calls':>10}{'ms':>10}")
            for name, s in sorted(self.layers.items(), key=lambda kv: -kv[1].total)[:top]:
                lines.append(f"{name:<34}{s.calls:>10}{s.total * 1e3:>10.2f}")
        return "\n".join(lines)
