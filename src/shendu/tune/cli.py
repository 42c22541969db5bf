"""`shendu tune RECIPE --param NAME=KIND:ARGS ... --trials N --jobs J`: hyperparameter search on a recipe."""
from __future__ import annotations

__all__ = ["run_tune"]


def run_tune(args, print_fn=print):
    """Handler of the CLI's tune command (arguments defined in shendu/cli.py)."""
    from .recipe import tune_recipe
    from .space import parse_space

    if not args.param:
        raise ValueError("give at least one --param NAME=KIND:ARGS, e.g. --param lr=loguniform:1e-4:1e-1")
    if args.trials < 1:
        raise ValueError(f"--trials must be >= 1, got {args.trials}")
    if args.jobs < 1:
        raise ValueError(f"--jobs must be >= 1, got {args.jobs}")
    space = parse_space(args.param)
    from ..recipes import get

    get(args.recipe)  # an unknown recipe: one line
    study = tune_recipe(args.recipe, space, args.trials, n_jobs=args.jobs, sampler=args.sampler, pruner=args.pruner,
                        out=args.out, storage=args.storage, study_name=args.study, seed=args.seed, quick=args.quick,
                        print_fn=print_fn)
    return 0 if study is not None else 1
