"""`fit` / `evaluate` / `predict` and the `Trainer` behind them (textbook 8.1.3 minibatch SGD loop, 7.8 early stopping).

One training step is: forward, loss, `optimizer.zero_grad()`, backward, optional global-norm clipping,
`optimizer.step()`. Per batch the loop only adds a float conversion of the loss (NumPy is synchronous)
and, when metrics are asked for, keeps a reference to the output array; metrics are computed once per
epoch from the concatenated arrays (copied to the host once). A batch `(x, y)` calls `model(x)`;
`(x1, ..., xk, y)` calls `model(x1, ..., xk)`. Data are loaded on the host; each batch is moved to the
model's device (that of its first parameter, the CPU if it has none) before the forward pass.

Modules: batches (loaders, batch dtype/device), state (checkpoint training-state checks), penalties
(regularizers and constraints in the loop), trainer (the Trainer), api (functional fit/evaluate/predict).
"""
from .batches import make_loader, model_dtype, _as_tensors, model_device, _to_device  # noqa: F401
from .state import TRAINING_STATE, check_training_state  # noqa: F401
from .trainer import Trainer  # noqa: F401
from .api import fit, evaluate, predict, _NoOptimizer  # noqa: F401

__all__ = ["Trainer", "fit", "evaluate", "predict", "make_loader"]
