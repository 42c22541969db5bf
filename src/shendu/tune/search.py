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
"""
from __future__ import annotations

import inspect
import math
import os
import warnings

from optuna import TrialPruned  # raised by TrialContext.report when the pruner stops a trial

from .space import parse_space

__all__ = ["search", "grid_search", "random_search", "TrialContext", "make_sampler", "make_pruner", "open_study",
           "storage_url", "thaw", "promising_pruned", "TrialPruned"]


def _optuna():
    try:
        import optuna
    except ImportError:  # pragma: no cover - optuna is a declared dependency
        raise ImportError("shendu.tune needs optuna: pip install optuna") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _pruned_exc():
    return TrialPruned


SAMPLERS = ("tpe", "gp", "random", "grid", "cmaes", "qmc")
PRUNERS = ("median", "halving", "hyperband", "none")


def make_sampler(name="tpe", seed=None, space=None, n_startup_trials=10):
    """An Optuna sampler by name: 'tpe' (Bergstra 2011), 'gp' (Gaussian process + log EI, Optuna's GPSampler),
    'random' (independent marginals, 11.4.4), 'grid' (the Cartesian product of the space's grid values, 11.4.3),
    'qmc' (Sobol). An Optuna sampler object is returned as it is."""
    optuna = _optuna()
    if not isinstance(name, str):
        return name
    key = name.lower()
    if key == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup_trials)
    if key == "gp":
        return optuna.samplers.GPSampler(seed=seed, n_startup_trials=n_startup_trials)
    if key == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if key == "qmc":
        return optuna.samplers.QMCSampler(seed=seed)
    if key == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed, n_startup_trials=n_startup_trials)
    if key == "grid":
        if space is None:
            raise ValueError("make_sampler('grid'): needs the search space")
        grid = {n: p.grid() for n, p in parse_space(space).items()}
        return optuna.samplers.GridSampler(grid, seed=seed)
    raise ValueError(f"unknown sampler {name!r}; expected one of {', '.join(SAMPLERS)} or an Optuna sampler")


def make_pruner(name="median", n_startup_trials=3, n_warmup_steps=1, min_resource=1, reduction_factor=3):
    """'median' (stop a trial whose intermediate value is worse than the median of earlier trials at the same
    step), 'halving' (asynchronous successive halving), 'hyperband', or 'none'. An Optuna pruner is returned as is."""
    optuna = _optuna()
    if name is None:
        return optuna.pruners.NopPruner()
    if not isinstance(name, str):
        return name
    key = name.lower()
    if key == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=n_startup_trials, n_warmup_steps=n_warmup_steps)
    if key in ("halving", "sha", "successive_halving"):
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=min_resource, reduction_factor=reduction_factor)
    if key == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=min_resource, reduction_factor=reduction_factor)
    if key == "none":
        return optuna.pruners.NopPruner()
    raise ValueError(f"unknown pruner {name!r}; expected one of {', '.join(PRUNERS)} or an Optuna pruner")


def storage_url(storage=None, study_name="study", out=None):
    """The storage of a study: None -> SQLite file ``out/STUDY.db`` (out defaults to runs/tune); a path -> that
    SQLite file; an RDB URL ('sqlite:///x.db', 'postgresql://...', 'mysql://...') as it is; ':memory:' -> None
    (in memory, one process)."""
    if storage == ":memory:":
        return None
    if storage is None:
        out = os.fspath(out) if out is not None else os.path.join("runs", "tune")
        os.makedirs(out, exist_ok=True)
        storage = os.path.join(out, f"{study_name}.db")
    storage = os.fspath(storage)
    if "://" in storage:
        return storage
    d = os.path.dirname(os.path.abspath(storage))
    os.makedirs(d, exist_ok=True)
    return "sqlite:///" + os.path.abspath(storage)


def _sqlite_creator(path):
    """SQLite connections in WAL mode with synchronous=NORMAL: a commit no longer waits for the disk (12 ms each on
    a busy disk, ~10 commits per trial), and a killed process still loses no committed trial (only a power loss
    can drop the last commits). Several processes share the file (busy timeout 60 s)."""
    import sqlite3

    def connect():
        conn = sqlite3.connect(path, timeout=60, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    return connect


def _storage(url):
    optuna = _optuna()
    if url is None:
        return optuna.storages.InMemoryStorage()
    kw = {}
    if url.startswith("sqlite:///"):
        kw["engine_kwargs"] = {"creator": _sqlite_creator(url[len("sqlite:///"):])}
    elif url.startswith("sqlite"):
        kw["engine_kwargs"] = {"connect_args": {"timeout": 60}}
    else:  # several machines: dead workers' trials are found by heartbeat and retried with the same parameters
        kw.update(heartbeat_interval=30, grace_period=120,
                  failed_trial_callback=optuna.storages.RetryFailedTrialCallback(max_retry=2))
    return optuna.storages.RDBStorage(url, **kw)


def open_study(study_name="study", storage=None, out=None, direction="minimize", sampler="tpe", pruner="median",
               seed=None, space=None):
    """Create or load (resume) the study ``study_name`` in ``storage`` (see storage_url)."""
    optuna = _optuna()
    url = storage_url(storage, study_name, out)
    return optuna.create_study(study_name=study_name, storage=_storage(url), direction=direction,
                               sampler=make_sampler(sampler, seed, space), pruner=make_pruner(pruner),
                               load_if_exists=True)


class TrialContext:
    """What an objective gets as its second argument: the trial number, its parameters, ``report`` for pruning,
    and the freeze-thaw checkpoint: ``checkpoint_path`` (where a pruned trial's state is kept) and ``resume_from``
    (the checkpoint of the frozen trial this one thaws, or None)."""

    def __init__(self, trial, params, checkpoint_dir):
        self.trial = trial
        self.number = trial.number
        self.params = params
        self.checkpoint_dir = checkpoint_dir
        self.resume_from = trial.user_attrs.get("resume_from")
        self.thaw_of = trial.user_attrs.get("thaw_of")
        self._state = None

    @property
    def checkpoint_path(self):
        if self.checkpoint_dir is None:
            return None
        return os.path.join(self.checkpoint_dir, f"trial_{self.number}.safetensors")

    def report(self, value, step, state=None):
        """Report an intermediate objective value (e.g. the validation loss after epoch ``step``). A NaN or
        infinite value (a diverging trial) or the pruner's verdict stops the trial: its ``state`` (a dict, or a
        callable returning one, e.g. ``trainer.training_state``) is saved to ``checkpoint_path`` first, so
        ``thaw`` can resume it later."""
        value = float(value)
        diverged = not math.isfinite(value)
        self.trial.report(value if not diverged else float("inf"), int(step))
        if diverged or self.trial.should_prune():
            self.trial.set_user_attr("pruned_at", int(step))
            if diverged:
                self.trial.set_user_attr("diverged", True)
            if state is not None and self.checkpoint_path is not None and not diverged:
                from ..serialization import save

                os.makedirs(self.checkpoint_dir, exist_ok=True)
                save(state() if callable(state) else state, self.checkpoint_path)
                self.trial.set_user_attr("checkpoint", self.checkpoint_path)
            raise _pruned_exc()(f"trial {self.number} pruned at step {step} (value {value:.4g})")

    def set(self, key, value):
        """Store a JSON-able value with the trial (shown in the CSV)."""
        self.trial.set_user_attr(key, value)


def _takes_trial(objective):
    try:
        sig = inspect.signature(objective)
    except (TypeError, ValueError):
        return True
    ps = [p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(ps) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values())


def _wrap_objective(objective, space, checkpoint_dir):
    two = _takes_trial(objective)

    def f(trial):
        params = {n: p.suggest(trial) for n, p in space.items()}
        ctx = TrialContext(trial, params, checkpoint_dir)
        return objective(params, ctx) if two else objective(params)

    return f


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


def promising_pruned(study, k=1):
    """The k pruned trials with a kept checkpoint whose last reported value is best (the candidates to thaw)."""
    from optuna.trial import TrialState

    sign = 1 if study.direction.name == "MINIMIZE" else -1
    cands = [t for t in study.get_trials(states=(TrialState.PRUNED,))
             if t.user_attrs.get("checkpoint") and os.path.exists(t.user_attrs["checkpoint"])
             and t.intermediate_values and not any(u.user_attrs.get("thaw_of") == t.number for u in study.trials)]
    cands.sort(key=lambda t: sign * t.intermediate_values[max(t.intermediate_values)])
    return cands[:k]


def thaw(study, objective, space, trial_number=None, *, pruner="none"):
    """Freeze-thaw (textbook 11.4.5, Swersky 2014): resume a pruned ("frozen") trial from its checkpoint as a new
    trial with the same parameters; the objective sees ``trial.resume_from`` (the checkpoint) and ``trial.thaw_of``.
    trial_number None: the most promising pruned trial. Returns the new FrozenTrial."""
    space = parse_space(space)
    if trial_number is None:
        cands = promising_pruned(study, 1)
        if not cands:
            raise ValueError("thaw: the study has no pruned trial with a checkpoint left to resume")
        frozen = cands[0]
    else:
        frozen = study.trials[trial_number]
        if not frozen.user_attrs.get("checkpoint"):
            raise ValueError(f"thaw: trial {trial_number} has no checkpoint (state {frozen.state.name}); only trials "
                             "pruned by TrialContext.report(..., state=...) keep one")
    ckpt = frozen.user_attrs["checkpoint"]
    study.enqueue_trial(frozen.params, user_attrs={"thaw_of": frozen.number, "resume_from": ckpt})
    old = study.pruner
    study.pruner = make_pruner(pruner)
    try:
        study.optimize(_wrap_objective(objective, space, os.path.dirname(ckpt)), n_trials=1)
    finally:
        study.pruner = old
    return study.trials[-1]
