"""Hyperparameter search and the chapter's procedures (textbook 11.2-11.4), on Optuna.

    from shendu import tune
    study = tune.search(lambda p: (p["x"] - 2) ** 2, ["x=uniform:-5:5"], n_trials=30, seed=0)
    print(study.best_params)

Search spaces from strings (space.py), grid/random/TPE/GP search with median or successive-halving pruning and
freeze-thaw resumption (search/), tables, CSV and plots (results.py), tuning a named recipe (recipe.py),
cross-validation, learning curves, the learning-rate U-curve and default baselines (procedures.py).
"""
from .advice import CAPACITY_EFFECT, capacity_effect, diagnose
from .hypergrad import hypergradient
from .procedures import baseline, cross_val_score, geometric_sizes, learning_curve, lr_range_test
from .recipe import PruningCallback, recipe_objective, tune_recipe
from .results import best_summary, plot_history, plot_importance, plot_slices, trials_table, write_csv, write_report
from .search import (TrialContext, TrialPruned, grid_search, make_pruner, make_sampler, open_study, promising_pruned,
                     random_search, search, storage_url, thaw)
from .space import Param, grid_values, parse_param, parse_space, refine_grid

__all__ = ["search", "grid_search", "random_search", "thaw", "promising_pruned", "TrialContext", "TrialPruned",
           "make_sampler", "make_pruner", "open_study", "storage_url", "Param", "parse_param", "parse_space",
           "grid_values", "refine_grid", "trials_table", "write_csv", "plot_history", "plot_importance",
           "plot_slices", "write_report", "best_summary", "tune_recipe", "recipe_objective", "PruningCallback",
           "cross_val_score", "learning_curve", "lr_range_test", "baseline", "geometric_sizes", "CAPACITY_EFFECT",
           "capacity_effect", "diagnose", "hypergradient"]
