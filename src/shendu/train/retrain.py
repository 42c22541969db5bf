"""The two ways to use all the training data after early stopping (textbook 7.8).

Algorithm 7.2 (`early_stopping_retrain`): split train into subtrain/valid, run Alg. 7.1 from a random
theta to get i*, re-initialise theta and train on all the data for i* steps (`match="steps"`, the
number of parameter updates) or for the same number of epochs (`match="epochs"`, passes over the
data; the textbook leaves the choice open).
Algorithm 7.3 (`early_stopping_continue`): run Alg. 7.1 on subtrain/valid (theta <- theta*), set
eps <- J(theta, subtrain), then train on all the data n steps at a time while J(theta, valid) > eps.
This may never terminate, so `max_steps` bounds the continuation.
"""
from __future__ import annotations

import numpy as np

from .callbacks.early_stopping import EarlyStopping
from .loop import evaluate, fit
from .resolve import get_optimizer

__all__ = ["split_train", "early_stopping_retrain", "early_stopping_continue"]

_FOREVER = 10**9


def split_train(data, val_fraction=0.2, seed=None):
    """Random split of (x, y, ...) arrays into ((subtrain...), (valid...)); `seed` None uses sd's global generator."""
    from ..data.dataset import to_numpy

    if not isinstance(data, (tuple, list)) or len(data) < 2:
        raise TypeError("split_train: data must be a tuple (x, y, ...) of arrays")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"split_train: val_fraction must lie in (0, 1), got {val_fraction!r}")
    arrays = [to_numpy(a) for a in data]
    n = len(arrays[0])
    if seed is None:
        from ..backend.random import get_generator

        perm = get_generator().permutation(n)
    else:
        perm = np.random.default_rng(seed).permutation(n)
    n_val = max(1, int(round(n * val_fraction)))
    if n_val >= n:
        raise ValueError(f"split_train: {n} examples are too few for val_fraction={val_fraction}")
    val, sub = perm[:n_val], perm[n_val:]
    return tuple(a[sub] for a in arrays), tuple(a[val] for a in arrays)


def _check_factory(optimizer):
    if not isinstance(optimizer, str) and hasattr(optimizer, "step"):
        raise TypeError("the model is re-initialised, so optimizer must be a name ('adam') or a factory "
                        "params -> optimizer, not an optimizer instance")


def early_stopping_retrain(model_fn, train_data, *, loss, optimizer="adam", lr=None, val_fraction=0.2,
                           match="steps", patience=5, every_n_steps=None, max_epochs=100, batch_size=32,
                           split_seed=None, verbose=0, **fit_kwargs):
    """Algorithm 7.2. model_fn() -> a freshly initialised model. Returns (model, info) where info has
    best_step (i*), best_epoch, best_value, retrain_steps, the retraining History and the first run's
    `early_stopping` callback."""
    if match not in ("steps", "epochs"):
        raise ValueError(f"early_stopping_retrain: match must be 'steps' or 'epochs', got {match!r}")
    _check_factory(optimizer)
    sub, val = split_train(train_data, val_fraction, split_seed)
    first = model_fn()
    es = EarlyStopping(patience=patience, every_n_steps=every_n_steps, restore_best=False)
    fit(first, sub, loss=loss, optimizer=optimizer, lr=lr, epochs=max_epochs, batch_size=batch_size,
        val_data=val, callbacks=[es], verbose=verbose, **fit_kwargs)
    info = {"best_step": es.best_step, "best_epoch": es.best_epoch, "best_value": es.best_value,
            "early_stopping": es}
    model = model_fn()  # re-initialise theta
    h = None
    if match == "steps":
        if es.best_step > 0:
            h = fit(model, train_data, loss=loss, optimizer=optimizer, lr=lr, epochs=_FOREVER, max_steps=es.best_step,
                    batch_size=batch_size, verbose=verbose, **fit_kwargs)
    elif es.best_epoch > 0:
        h = fit(model, train_data, loss=loss, optimizer=optimizer, lr=lr, epochs=es.best_epoch,
                batch_size=batch_size, verbose=verbose, **fit_kwargs)
    info["retrain_steps"] = 0 if h is None else h.trainer.global_step
    info["history"] = h
    return model, info


def early_stopping_continue(model_fn, train_data, *, loss, optimizer="adam", lr=None, val_fraction=0.2,
                            patience=5, every_n_steps=None, max_epochs=100, n_steps=None, max_steps=10_000,
                            batch_size=32, split_seed=None, verbose=0, **fit_kwargs):
    """Algorithm 7.3. Returns (model, info) with target (eps), steps_after (continuation steps),
    reached (whether J(valid) <= eps happened before max_steps) and the `early_stopping` callback.
    n_steps: steps between checks (default: one epoch of the full training set)."""
    _check_factory(optimizer)
    sub, val = split_train(train_data, val_fraction, split_seed)
    model = model_fn()
    opt = get_optimizer(optimizer, model.parameters(), lr=lr)
    es = EarlyStopping(patience=patience, every_n_steps=every_n_steps, restore_best=True)
    fit(model, sub, loss=loss, optimizer=opt, epochs=max_epochs, batch_size=batch_size, val_data=val,
        callbacks=[es], verbose=verbose, **fit_kwargs)
    eps = evaluate(model, sub, loss=loss)["loss"]
    if n_steps is None:
        n_steps = max(1, -(-len(train_data[0]) // batch_size))
    steps = 0
    val_loss = evaluate(model, val, loss=loss)["loss"]
    while val_loss > eps and steps < max_steps:
        k = min(n_steps, max_steps - steps)
        fit(model, train_data, loss=loss, optimizer=opt, epochs=_FOREVER, max_steps=k, batch_size=batch_size,
            verbose=0, **fit_kwargs)
        steps += k
        val_loss = evaluate(model, val, loss=loss)["loss"]
    info = {"target": eps, "steps_after": steps, "reached": bool(val_loss <= eps), "final_val_loss": val_loss,
            "best_step": es.best_step, "early_stopping": es}
    return model, info
