"""Mixed-precision training (textbook 12.1.6: 8-16 bits suffice; training needs more precision than inference).

``autocast(device_type, dtype)`` runs matmul/linear/conv in float16/bfloat16 and softmax, log_softmax,
cross_entropy and mse_loss in float32 (PyTorch's autocast op lists, shortened); parameters stay float32
(master weights) and the casts are differentiable, so their gradients come back in float32.
``GradScaler`` is dynamic loss scaling with PyTorch's names and rules: multiply the loss by S, unscale the
gradients before the step, skip the step when any gradient is inf/NaN and then S *= backoff_factor, grow
S *= growth_factor after ``growth_interval`` finite steps in a row.

    scaler = sd.amp.GradScaler()
    with sd.amp.autocast("cpu", dtype=sd.bfloat16):
        loss = F.cross_entropy(model(x), y)
    scaler.scale(loss).backward(); scaler.step(opt); scaler.update()
"""
from .autocast_mode import autocast, get_autocast_dtype, is_autocast_enabled  # noqa: F401
from .grad_scaler import GradScaler, OptState  # noqa: F401

__all__ = ["GradScaler", "OptState", "autocast", "get_autocast_dtype", "is_autocast_enabled"]
