"""Shared helper: is a monitored value an improvement (mode min/max/auto, strict, min_delta)."""
from __future__ import annotations

import math

_MAX_HINTS = ("acc", "f1", "precision", "recall", "auc", "ap")


def resolve_mode(monitor, mode, who):
    if mode == "auto":
        base = monitor[4:] if monitor.startswith("val_") else monitor
        return "max" if any(base.startswith(h) or h in base for h in _MAX_HINTS) and "loss" not in base else "min"
    if mode not in ("min", "max"):
        raise ValueError(f"{who}: mode must be 'min', 'max' or 'auto', got {mode!r}")
    return mode


def improved(value, best, mode, min_delta):
    """Strict improvement (textbook Alg. 7.1: v' < v); ties and NaN are not improvements."""
    if value is None or not math.isfinite(value):
        return False
    if best is None:
        return True
    return value < best - min_delta if mode == "min" else value > best + min_delta
