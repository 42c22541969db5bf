"""Optuna studies for hyperparameter search (textbook 11.4.3-11.4.5): samplers (grid, random, TPE, GP, CMA-ES,
QMC), pruners (median, successive halving, hyperband), SQLite/RDB storage and opening a study.
"""
from __future__ import annotations

import os

from optuna import TrialPruned  # raised by TrialContext.report when the pruner stops a trial

from ..space import parse_space


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
