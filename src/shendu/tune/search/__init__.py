"""Hyperparameter search on Optuna (textbook 11.4.3-11.4.5): grid, random, TPE and GP search, median and
successive-halving pruning, freeze-thaw resumption of pruned trials, SQLite/RDB persistence, parallel processes.

    from shendu import tune
    def objective(params, trial):            # trial.report(value, step) lets a pruner stop a bad trial early
        return (params["x"] - 2) ** 2
    study = tune.search(objective, ["x=uniform:-5:5"], n_trials=30, sampler="tpe", seed=0)

A study lives in a SQLite file (``out/STUDY.db``, default out ``runs/tune``) unless ``storage`` is an RDB URL
(``postgresql://...``, shared by several machines) or ``":memory:"``. Calling ``search`` again with the same
study resumes it: ``n_trials`` is the total of finished (complete or pruned) trials, and trials a killed search
left running are re-queued with the same parameters, so none is lost.

Modules: study (samplers, pruners, storage), trial (TrialContext, objective wrapping), driver (search, grid,
random), freeze_thaw (promising_pruned, thaw).
"""
from .study import SAMPLERS, PRUNERS, make_sampler, make_pruner, storage_url, open_study  # noqa: F401
from .trial import TrialContext  # noqa: F401
from .driver import search, grid_search, random_search  # noqa: F401
from .freeze_thaw import promising_pruned, thaw  # noqa: F401
from .study import TrialPruned  # noqa: F401

__all__ = ["search", "grid_search", "random_search", "TrialContext", "make_sampler", "make_pruner", "open_study",
           "storage_url", "thaw", "promising_pruned", "TrialPruned"]
