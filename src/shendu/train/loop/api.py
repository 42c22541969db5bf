"""Functional `fit` / `evaluate` / `predict` (Keras-style), each a one-off Trainer.
"""
from __future__ import annotations

from .trainer import Trainer


def fit(model, train_data, *, loss, optimizer="adam", epochs=1, batch_size=32, val_data=None, metrics=(),
        callbacks=(), scheduler=None, clip_grad_norm=None, shuffle=True, verbose=1, max_steps=None,
        resume_from=None, lr=None, regularizers=(), constraints=(), distributed=False):
    """Train `model` on `train_data` ((x, y) arrays/Tensors, a Dataset or a DataLoader); returns a History.

    loss: callable (output, target) -> scalar Tensor, or a name ('cross_entropy', 'mse', ...).
    optimizer: an optimizer, a name ('adam', 'sgd', ...; built with `lr`) or a factory params -> optimizer.
    metrics: names ('accuracy', 'top5', 'f1', ...) or callables (y_true, y_pred) -> float, on arrays.
    scheduler: stepped once per epoch (ReduceLROnPlateau gets val_loss). clip_grad_norm: max global L2 norm.
    max_steps: stop after this many optimizer steps in total. resume_from: a checkpoint written by
    ModelCheckpoint (full state); with the same seed the run continues exactly as if uninterrupted.
    regularizers: callables model -> scalar Tensor (``regularize.L2(1e-4)``, ...) added to the training loss of
    every step; the reported training loss includes them (as Keras), val_loss and evaluate() do not.
    constraints: ``regularize.MaxNorm(3)``, ``L2Ball``, ``ProximalL1``, ... (or callables model -> None), applied
    in order after every optimizer step.
    distributed: data-parallel training over the MPI processes of this job (``shendu run -n N script.py``):
    DistributedDataParallel, a DistributedSampler shard per rank (batch_size is per rank), epoch logs averaged
    over ranks, output and checkpoints on rank 0 only (see shendu.distributed.training; textbook 12.1.3).
    """
    trainer = Trainer(model, loss=loss, optimizer=optimizer, metrics=metrics, callbacks=callbacks,
                      scheduler=scheduler, clip_grad_norm=clip_grad_norm, verbose=verbose, lr=lr,
                      regularizers=regularizers, constraints=constraints, distributed=distributed)
    history = trainer.fit(train_data, epochs=epochs, batch_size=batch_size, val_data=val_data, shuffle=shuffle,
                          max_steps=max_steps, resume_from=resume_from)
    history.trainer = trainer
    return history


def evaluate(model, data, *, loss, metrics=(), batch_size=256):
    """{'loss': mean loss, metric: value, ...} of `model` on `data` (eval mode, no graph recorded)."""
    t = Trainer(model, loss=loss, optimizer=_NoOptimizer(), metrics=metrics, verbose=0)
    return t.evaluate(data, batch_size=batch_size)


def predict(model, x, *, batch_size=256):
    """Outputs of `model` on inputs `x` (array, Tensor or DataLoader) as one NumPy array (eval mode; a model on a
    GPU computes there and the outputs are copied to the host)."""
    t = Trainer(model, loss=lambda o, y: o, optimizer=_NoOptimizer(), verbose=0)
    return t.predict(x, batch_size=batch_size)


class _NoOptimizer:
    """Placeholder optimizer for evaluation-only trainers."""

    def step(self):
        raise RuntimeError("evaluation-only Trainer cannot train")

    def zero_grad(self):
        pass
