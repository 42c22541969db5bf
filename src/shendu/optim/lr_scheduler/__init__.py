"""Learning-rate schedules (Textbook 8.3.1 and 8.1.3/8.5 discussion), with PyTorch's ``scheduler.step()`` semantics.

Building a scheduler records ``group["initial_lr"]`` and applies the lr of epoch 0; each ``step()`` advances
``last_epoch`` by one and writes the new lr into every parameter group (call it after ``optimizer.step()``).
PyTorch names: LambdaLR, MultiplicativeLR, StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR,
CosineAnnealingLR, CosineAnnealingWarmRestarts, PolynomialLR, SequentialLR, ChainedScheduler, ReduceLROnPlateau.
Textbook forms: LinearDecayLR (8.3.1: eps_k = (1 - k/tau) eps_0 + (k/tau) eps_tau, constant after tau),
step annealing (StepAnnealingLR = StepLR(gamma=1/factor)), ExponentialDecayLR (alpha_0 e^{-k t}), InverseTimeLR
(alpha_0 tau / max(t, tau)), LinearWarmup (linear ramp from start_factor * lr to lr over warmup_steps).

Modules: base (LRScheduler), decay (step and multiplicative), annealing (cosine, polynomial), textbook
(8.3.1 forms and warmup), combine (sequential, chained), plateau (ReduceLROnPlateau).
"""
from .base import LRScheduler, _LRScheduler  # noqa: F401
from .decay import (  # noqa: F401
    LambdaLR, MultiplicativeLR, StepLR, StepAnnealingLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR)
from .annealing import CosineAnnealingLR, CosineAnnealingWarmRestarts, PolynomialLR  # noqa: F401
from .textbook import LinearDecayLR, ExponentialDecayLR, InverseTimeLR, LinearWarmup  # noqa: F401
from .combine import SequentialLR, ChainedScheduler  # noqa: F401
from .plateau import ReduceLROnPlateau  # noqa: F401

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
           "ExponentialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "PolynomialLR",
           "SequentialLR", "ChainedScheduler", "ReduceLROnPlateau", "StepAnnealingLR", "LinearDecayLR",
           "ExponentialDecayLR", "InverseTimeLR", "LinearWarmup"]
