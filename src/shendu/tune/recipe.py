"""Tune a named recipe (``shendu tune RECIPE --param ...``): each trial builds the recipe with the trial's
parameters, trains it on the training split minus a held-out validation part, and returns the validation error.

A recipe's config keys (epochs, batch_size, lr, seed) are set from parameters of the same name; other parameters
must be listed in the recipe's ``build.tunable`` (e.g. digits-mlp: ``hidden``) and reach ``build(cfg)`` in cfg.
"""
from __future__ import annotations

import os

import numpy as np

from ..train.callbacks.base import Callback

__all__ = ["PruningCallback", "recipe_objective", "tune_recipe"]

_CFG = ("epochs", "batch_size", "lr", "seed")


class PruningCallback(Callback):
    """Reports ``monitor`` after each epoch to a shendu.tune trial (TrialContext); the pruner may stop the run, and
    the full training state is then kept as the trial's checkpoint (freeze-thaw)."""

    def __init__(self, trial, monitor="val_loss"):
        self.ctx = trial
        self.monitor = monitor

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            raise ValueError(f"PruningCallback: {self.monitor!r} is not in the epoch logs {sorted(logs)}")
        v = logs[self.monitor]
        if self.monitor.endswith("accuracy"):
            v = 1.0 - v
        self.ctx.report(v, epoch, state=self.trainer.training_state)


def _val_split(train, frac, seed):
    x, y = train
    perm = np.random.default_rng(seed).permutation(len(x))
    nv = max(1, int(round(len(x) * frac)))
    va, tr = perm[:nv], perm[nv:]
    return (x[tr], y[tr]), (x[va], y[va])


def recipe_objective(name, *, quick=False, val_fraction=0.2, monitor=None):
    """objective(params, trial) -> validation error (1 - val_accuracy; val_loss for recipes without accuracy)."""
    from ..recipes import get, make_config
    from ..recipes.runner import QUICK_STEPS, _build

    recipe = get(name)
    tunable = set(getattr(recipe.build, "tunable", ()))

    def objective(params, trial=None):
        import shendu as sd

        from ..train import fit

        bad = [k for k in params if k not in _CFG and k not in tunable]
        if bad:
            raise ValueError(f"tune: recipe {name!r} has no parameter {bad[0]!r}; tunable: "
                             f"{', '.join(list(_CFG) + sorted(tunable))}")
        cfg = make_config(name, quick=quick, download=False, **{k: params[k] for k in _CFG if k in params})
        cfg.update({k: v for k, v in params.items() if k not in _CFG})
        sd.manual_seed(int(cfg["seed"]))
        s = _build(name, cfg)
        train, val = s.train, s.val
        if val is None:
            if not (isinstance(train, (tuple, list)) and len(train) == 2):
                raise ValueError(f"tune: recipe {name!r} has no validation split and its training data are not "
                                 "(x, y) arrays to hold one out from")
            train, val = _val_split(train, val_fraction, int(cfg["seed"]))
        mon = monitor or ("val_accuracy" if "accuracy" in s.metrics else "val_loss")
        cbs = list(s.callbacks)
        if trial is not None:
            cbs.append(PruningCallback(trial, mon))
        kw = dict(s.fit_kwargs)
        if quick:
            kw["max_steps"] = min(kw.get("max_steps") or QUICK_STEPS, QUICK_STEPS)
        resume = getattr(trial, "resume_from", None)
        h = fit(s.model, train, loss=s.loss, optimizer=s.optimizer, epochs=cfg["epochs"],
                batch_size=cfg["batch_size"], val_data=val, metrics=s.metrics, callbacks=cbs, scheduler=s.scheduler,
                verbose=0, resume_from=resume, **kw)
        v = h.history[mon][-1]
        return 1.0 - v if mon.endswith("accuracy") else v

    return objective


def tune_recipe(name, space, n_trials=20, *, n_jobs=1, sampler="tpe", pruner="median", out=None, storage=None,
                study_name=None, seed=0, quick=False, print_fn=print):
    """Search ``space`` for recipe ``name``; prints the table and the best trial and writes the study (SQLite),
    CSV and PNG plots into ``out`` (default runs/tune/NAME). Returns the optuna.Study."""
    from .results import write_report
    from .search import search

    out = os.fspath(out) if out is not None else os.path.join("runs", "tune", name)
    study_name = study_name or name
    study = search(recipe_objective(name, quick=quick), space, n_trials, sampler=sampler, pruner=pruner,
                   study_name=study_name, storage=storage, out=out, seed=seed, n_jobs=n_jobs)
    write_report(study, out, print_fn=print_fn)
    if print_fn is not None:
        where = storage if storage is not None else os.path.join(out, f"{study_name}.db")
        print_fn(f"study {study_name!r} in {where}; wrote {os.path.join(out, study_name)}.csv and "
                 f"{study_name}_{{history,importance,slices}}.png")
    return study
