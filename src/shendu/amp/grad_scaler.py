"""``amp.GradScaler``: dynamic loss scaling (PyTorch's names and behaviour; textbook 12.1.6).

float16 gradients underflow; scaling the loss by S (2^16 at first) scales every gradient by S. Before the
optimizer step the gradients are divided by S (``unscale_``); if any is inf/NaN the step is skipped and S is
multiplied by ``backoff_factor``; after ``growth_interval`` finite steps in a row S is multiplied by
``growth_factor``."""
from __future__ import annotations

import enum

import numpy as np

from ..backend import namespace_of
from ..backend.lowp import LOW_PRECISION


class OptState(enum.Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _params(optimizer):
    for g in optimizer.param_groups:
        for p in g["params"]:
            if p.grad is not None:
                yield p


class GradScaler:
    """Dynamic loss scaler: ``scale(loss)``, ``unscale_(opt)``, ``step(opt)`` (skipped on inf/NaN), ``update()``."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True):
        if growth_factor <= 1.0:
            raise ValueError(f"GradScaler: growth_factor must be > 1, got {growth_factor}")
        if not 0.0 < backoff_factor < 1.0:
            raise ValueError(f"GradScaler: backoff_factor must be in (0, 1), got {backoff_factor}")
        if int(growth_interval) < 1:
            raise ValueError(f"GradScaler: growth_interval must be a positive int, got {growth_interval}")
        if init_scale <= 0:
            raise ValueError(f"GradScaler: init_scale must be > 0, got {init_scale}")
        self._device = device
        self._enabled = bool(enabled)
        self._scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0
        self._per_optimizer = {}

    # --- queries ---------------------------------------------------------------------------
    def is_enabled(self) -> bool:
        return self._enabled

    def get_scale(self) -> float:
        return self._scale if self._enabled else 1.0

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def _state(self, optimizer):
        return self._per_optimizer.setdefault(id(optimizer), {"stage": OptState.READY, "found_inf": False})

    # --- the four calls ------------------------------------------------------------------------
    def scale(self, outputs):
        """``outputs`` times the current scale (a tensor, or a list/tuple of tensors)."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        if outputs.dtype in LOW_PRECISION:  # as torch: a float32 0-d scale promotes a float16/bfloat16 loss
            outputs = outputs.float()
        return outputs * self._scale

    def unscale_(self, optimizer) -> None:
        """Divide the optimizer's gradients by the scale in place and record whether any is inf/NaN."""
        if not self._enabled:
            return
        st = self._state(optimizer)
        if st["stage"] is OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if st["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv = 1.0 / self._scale
        found = False
        for p in _params(optimizer):
            g = p.grad._data
            xp = namespace_of(g)
            if g.dtype.itemsize == 2:  # float16/bfloat16 gradients (no float32 master): unscale in float32
                g[...] = (g.astype(np.float32) * np.float32(inv)).astype(g.dtype)
            else:
                g *= g.dtype.type(inv)
            if not found and not bool(xp.isfinite(g).all()):
                found = True
        st["found_inf"] = found
        st["stage"] = OptState.UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """Unscale (unless done) and run ``optimizer.step()`` only if every gradient is finite; returns its result."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        st = self._state(optimizer)
        if st["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if st["stage"] is OptState.READY:
            self.unscale_(optimizer)
        ret = None
        if not st["found_inf"]:
            ret = optimizer.step(*args, **kwargs)
        st["stage"] = OptState.STEPPED
        return ret

    def update(self, new_scale=None) -> None:
        """Back off on inf/NaN (S *= backoff_factor, streak reset), else grow S after ``growth_interval`` steps."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale.item() if hasattr(new_scale, "item") else new_scale)
        else:
            if not self._per_optimizer:
                raise RuntimeError("update(): no inf checks were recorded prior to update (call step() first).")
            found = any(s["found_inf"] for s in self._per_optimizer.values())
            if found:
                self._scale *= self._backoff_factor
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    self._scale *= self._growth_factor
                    self._growth_tracker = 0
        self._per_optimizer = {}

    # --- checkpointing ---------------------------------------------------------------------------
    def state_dict(self) -> dict:
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor, "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict) -> None:
        if not state_dict:
            raise RuntimeError("GradScaler.load_state_dict: the state_dict is empty (was the source scaler disabled?)")
        self._scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])
