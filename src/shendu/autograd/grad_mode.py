"""Gradient-recording switches: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

Textbook 6.5.2: the computational graph is recorded only while grad mode is on.
"""
from __future__ import annotations

import functools


class _Mode:
    """Process-wide recording flags (read on every op call, so kept as plain class attributes)."""

    grad_enabled = True
    anomaly = False
    profiler = None  # the active autograd.profile, if any


def is_grad_enabled() -> bool:
    """True when ops record the graph for back-propagation."""
    return _Mode.grad_enabled


class _GradSwitch:
    """Context manager and decorator setting grad mode to ``self._target``."""

    _target = True

    def __enter__(self):
        self._prev = _Mode.grad_enabled
        _Mode.grad_enabled = self._target
        return self

    def __exit__(self, *exc):
        _Mode.grad_enabled = self._prev
        return False

    def __call__(self, fn):
        target = self._target

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = _Mode.grad_enabled
            _Mode.grad_enabled = target
            try:
                return fn(*args, **kwargs)
            finally:
                _Mode.grad_enabled = prev

        return wrapper


class no_grad(_GradSwitch):
    """Disable graph recording (``with sd.no_grad():`` or ``@sd.no_grad()``)."""

    _target = False


class enable_grad(_GradSwitch):
    """Re-enable graph recording inside a ``no_grad`` block."""

    _target = True


class set_grad_enabled(_GradSwitch):
    """Set grad mode to ``mode`` for a block: ``with sd.set_grad_enabled(False): ...``."""

    def __init__(self, mode: bool):
        self._target = bool(mode)


class detect_anomaly:
    """Anomaly mode: every op checks its forward output and backward gradients for NaN/Inf and
    raises an error naming the op that produced the first one (slow; for debugging)."""

    def __init__(self, enabled: bool = True):
        self._target = bool(enabled)

    def __enter__(self):
        self._prev = _Mode.anomaly
        _Mode.anomaly = self._target
        return self

    def __exit__(self, *exc):
        _Mode.anomaly = self._prev
        return False
