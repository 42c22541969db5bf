"""The search driver (textbook 11.4.3-11.4.5): `search` with resumption of a study and re-queueing of trials
a killed search left running, parallel worker processes, and the grid / random shorthands.
"""
from __future__ import annotations

import math
import os
import warnings

from ..space import parse_space
from .study import _optuna, _storage, make_pruner, make_sampler, storage_url
from .trial import _wrap_objective


def _finished(study):
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))


def _requeue_stale(study):
    """Trials left RUNNING by a killed search (SQLite: one machine) are failed and re-queued with their
    parameters, so a resumed search loses none."""
    from optuna.trial import TrialState

    stale = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    storage = study._storage
    for t in stale:
        storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
        if t.params:
            study.enqueue_trial(t.params, user_attrs={**t.user_attrs, "requeued_from": t.number},
                                skip_if_exists=False)
    return len(stale)


def _worker(rank, url, study_name, sampler, seed, space, objective, checkpoint_dir, n_trials, total, threads,
            pruner, timeout, n_startup_trials):
    """One process of a parallel search: its share of the trials with `threads` BLAS threads. Each process has
    its own sampler seed (seed + rank; a given sampler object is reseeded), so they do not propose the same points."""
    from threadpoolctl import threadpool_limits

    optuna = _optuna()
    samp = make_sampler(sampler, None if seed is None else seed + rank, space, n_startup_trials)
    if samp is sampler:
        samp.reseed_rng()
    study = optuna.load_study(study_name=study_name, storage=_storage(url), sampler=samp, pruner=make_pruner(pruner))
    cb = optuna.study.MaxTrialsCallback(total, states=(optuna.trial.TrialState.COMPLETE,
                                                       optuna.trial.TrialState.PRUNED))
    with threadpool_limits(limits=threads, user_api="blas"):
        study.optimize(_wrap_objective(objective, space, checkpoint_dir), n_trials=n_trials, timeout=timeout,
                       callbacks=[cb], catch=(FloatingPointError, ArithmeticError))


def _cpus():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def search(objective, space, n_trials=None, *, sampler="tpe", pruner="median", direction="minimize",
           study_name="study", storage=None, out=None, seed=None, n_jobs=1, timeout=None, n_startup_trials=None,
           enqueue=()):
    """Minimize (or maximize) ``objective(params)`` or ``objective(params, trial: TrialContext)`` over ``space``.

    space: 'NAME=KIND:ARGS' strings or a dict (see shendu.tune.space). sampler: 'tpe', 'gp', 'random', 'grid',
    'qmc' or an Optuna sampler; pruner: 'median', 'halving', 'hyperband', 'none'. n_trials: total finished trials
    of the study (a resumed study runs only the rest; grid: the grid size). n_jobs: worker processes sharing the
    study's storage, BLAS threads divided between them. enqueue: parameter dicts tried first (known good points).
    Returns the optuna.Study (``study.best_trial``, ...)."""
    optuna = _optuna()
    space = parse_space(space)
    if not space:
        raise ValueError("search: the search space is empty")
    if not (isinstance(n_jobs, int) and n_jobs >= 1):
        raise ValueError(f"search: n_jobs must be an int >= 1, got {n_jobs!r}")
    is_grid = isinstance(sampler, str) and sampler.lower() == "grid"
    if is_grid:
        size = math.prod(len(p.grid()) for p in space.values())
        n_trials = size if n_trials is None else min(n_trials, size)
    if n_trials is None or not (isinstance(n_trials, int) and n_trials >= 1):
        raise ValueError(f"search: n_trials must be an int >= 1, got {n_trials!r}")
    if n_startup_trials is None:
        n_startup_trials = min(10, max(2, n_trials // 4))
    url = storage_url(storage, study_name, out)
    if url is None and n_jobs > 1:
        raise ValueError("search: n_jobs > 1 needs a persistent storage (SQLite file or RDB URL), not ':memory:'")
    study = optuna.create_study(study_name=study_name, storage=_storage(url), direction=direction,
                                sampler=make_sampler(sampler, seed, space, n_startup_trials),
                                pruner=make_pruner(pruner), load_if_exists=True)
    study.set_user_attr("space", {n: _describe(p) for n, p in space.items()})
    if url is not None and url.startswith("sqlite"):
        _requeue_stale(study)
    for params in enqueue:
        study.enqueue_trial(dict(params), skip_if_exists=True)
    checkpoint_dir = None
    if url is not None and url.startswith("sqlite:///"):
        checkpoint_dir = os.path.join(os.path.dirname(url[len("sqlite:///"):]), f"{study_name}_checkpoints")
    elif out is not None:
        checkpoint_dir = os.path.join(os.fspath(out), f"{study_name}_checkpoints")
    remaining = n_trials - _finished(study)
    if remaining <= 0:
        return study
    cb = optuna.study.MaxTrialsCallback(n_trials, states=(optuna.trial.TrialState.COMPLETE,
                                                          optuna.trial.TrialState.PRUNED))
    if n_jobs == 1:
        study.optimize(_wrap_objective(objective, space, checkpoint_dir), n_trials=remaining, timeout=timeout,
                       callbacks=[cb])
        return study
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    jobs = min(n_jobs, remaining)
    threads = max(1, _cpus() // jobs)
    shares = [remaining // jobs + (1 if r < remaining % jobs else 0) for r in range(jobs)]
    procs = [ctx.Process(target=_worker, args=(r, url, study_name, sampler, seed, space, objective, checkpoint_dir,
                                                shares[r], n_trials, threads, pruner, timeout, n_startup_trials))
             for r in range(jobs)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads: the children only use the storage
        for p in procs:
            p.start()
    for p in procs:
        p.join()
    bad = [p.exitcode for p in procs if p.exitcode != 0]
    if bad:
        raise RuntimeError(f"search: {len(bad)} of {jobs} worker processes failed (exit codes {bad})")
    return optuna.load_study(study_name=study_name, storage=_storage(url))


def _describe(p):
    if p.kind in ("loguniform", "uniform"):
        return f"{p.kind}:{p.low:g}:{p.high:g}"
    if p.kind == "int":
        return f"int:{int(p.low)}:{int(p.high)}" + (":log" if p.log else "")
    if p.kind == "bernoulli":
        return f"bernoulli:{p.p:g}"
    return f"{p.kind}:" + ",".join(str(c) for c in p.choices)


def grid_search(objective, grid, **kwargs):
    """Grid search (textbook 11.4.3): every point of the Cartesian product of ``grid`` (a dict name -> values, or
    'NAME=grid:...'/'NAME=loggrid:LOW:HIGH:N' strings) is tried once; n^m trials for m parameters of n values."""
    kwargs.setdefault("pruner", "none")
    return search(objective, grid, sampler="grid", **kwargs)


def random_search(objective, space, n_trials, seed=None, **kwargs):
    """Random search (textbook 11.4.4, Bergstra & Bengio 2012): each parameter drawn independently from its
    marginal (log-uniform, uniform, int, categorical, Bernoulli); reproducible with ``seed``."""
    return search(objective, space, n_trials, sampler="random", seed=seed, **kwargs)
