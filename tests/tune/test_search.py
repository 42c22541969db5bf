"""shendu.tune search (textbook 11.4.3-11.4.5): spaces, grid, random, TPE/GP, pruning, persistence, parallel."""
import math
import os

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")
from optuna.trial import TrialState  # noqa: E402

from shendu import tune  # noqa: E402

MEM = ":memory:"


def quad(p):
    return (p["x"] - 1.0) ** 2 + 10.0 * (p["y"] + 2.0) ** 2


# --- spaces and grids --------------------------------------------------------------------------
def test_parse_space_kinds_and_errors():
    s = tune.parse_space(["lr=loguniform:1e-4:1e-1", "hidden=int:50:2000:log", "act=categorical:relu,tanh",
                          "bn=bernoulli:0.3", "g=loggrid:1e-5:1e-1:5", "k=grid:1,2,3", "d=fixed:3"])
    assert (s["lr"].kind, s["lr"].low, s["lr"].high, s["lr"].log) == ("loguniform", 1e-4, 1e-1, True)
    assert (s["hidden"].kind, s["hidden"].log) == ("int", True)
    assert s["act"].choices == ("relu", "tanh") and s["bn"].p == 0.3 and s["k"].choices == (1, 2, 3)
    np.testing.assert_allclose(s["g"].choices, [1e-5, 1e-4, 1e-3, 1e-2, 1e-1], rtol=1e-12)  # the book's lr grid
    for bad, msg in [("lr=loguniform:0:1", "LOW > 0"), ("lr=uniform:2:1", "LOW must be < HIGH"),
                     ("lr=normal:0:1", "unknown kind"), ("lr", "expected NAME=KIND"), ("b=bernoulli:2", "p must be"),
                     ("h=int:1.5:3", "int bounds")]:
        with pytest.raises(ValueError, match=msg):
            tune.parse_param(bad)


def test_refine_grid_shifts_at_an_edge_and_zooms_inside():
    # textbook 11.4.3: {-1, 0, 1}; best 1 -> {1, 2, 3}; best 0 -> {-0.1, 0, 0.1}
    assert tune.refine_grid([-1, 0, 1], 1) == [1, 2, 3]
    assert tune.refine_grid([-1, 0, 1], -1) == [-3, -2, -1]
    np.testing.assert_allclose(tune.refine_grid([-1, 0, 1], 0), [-0.1, 0, 0.1], atol=1e-12)
    np.testing.assert_allclose(tune.refine_grid([1e-3, 1e-2, 1e-1], 1e-1), [1e-1, 1, 10], rtol=1e-9)  # log scale
    np.testing.assert_allclose(tune.refine_grid([1e-3, 1e-2, 1e-1], 1e-2), 10.0 ** np.array([-2.1, -2, -1.9]),
                               rtol=1e-9)
    with pytest.raises(ValueError, match="not one of the grid values"):
        tune.refine_grid([0, 1, 2], 5)


def test_grid_5x6_gives_30_trials_each_point_once():
    lrs = [0.1, 0.01, 1e-3, 1e-4, 1e-5]
    hidden = [50, 100, 200, 500, 1000, 2000]  # the book's example grids
    study = tune.grid_search(lambda p: abs(math.log10(p["lr"]) + 3) + abs(math.log(p["hidden"] / 200)),
                             {"lr": lrs, "hidden": hidden}, storage=MEM)
    done = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(done) == 30
    assert {(t.params["lr"], t.params["hidden"]) for t in done} == {(a, b) for a in lrs for b in hidden}
    assert study.best_params == {"lr": 1e-3, "hidden": 200}
    both = tune.grid_search(lambda p: float(p["bn"]) + p["k"], ["bn=bernoulli:0.2", "k=grid:1,2"], storage=MEM)
    assert sorted((t.params["bn"], t.params["k"]) for t in both.trials) == [(False, 1), (False, 2), (True, 1),
                                                                              (True, 2)]


def test_random_search_distributions_match_their_definitions():
    stats = pytest.importorskip("scipy.stats")
    space = ["lr=loguniform:1e-4:1e-1", "u=uniform:-1:2", "h=int:50:2000:log", "act=categorical:relu,tanh,sigmoid",
             "bn=bernoulli:0.3"]
    study = tune.random_search(lambda p: 0.0, space, 2000, seed=0, storage=MEM, pruner="none")
    ts = study.trials
    assert len(ts) == 2000
    lr = np.array([t.params["lr"] for t in ts])
    assert stats.kstest(np.log10(lr), stats.uniform(loc=-4, scale=3).cdf).pvalue > 0.01  # 11.2-11.3: 10^u(-4,-1)
    assert stats.kstest([t.params["u"] for t in ts], stats.uniform(loc=-1, scale=3).cdf).pvalue > 0.01
    h = np.array([t.params["h"] for t in ts])
    assert h.min() >= 50 and h.max() <= 2000 and h.dtype.kind == "i"
    # log-uniform integers: log h is uniform on [log 49.5, log 2000.5] up to rounding; KS on the rounded CDF
    lo, hi = math.log(49.5), math.log(2000.5)
    assert stats.kstest(np.log(h + np.random.default_rng(0).uniform(-0.5, 0.5, h.size)),
                        stats.uniform(loc=lo, scale=hi - lo).cdf).pvalue > 0.01
    counts = np.array([sum(t.params["act"] == a for t in ts) for a in ("relu", "tanh", "sigmoid")])
    assert stats.chisquare(counts).pvalue > 0.01
    bn = np.array([t.user_attrs["bn"] for t in ts])
    assert stats.binomtest(int(bn.sum()), bn.size, 0.3).pvalue > 0.01
    # seedable: the same seed gives the same draws
    again = tune.random_search(lambda p: 0.0, space, 20, seed=0, storage=MEM, pruner="none")
    assert [t.params for t in again.trials] == [t.params for t in ts[:20]]


def test_tpe_beats_random_search_on_a_2d_quadratic():
    space = ["x=uniform:-5:5", "y=uniform:-5:5"]
    tpe, rnd = [], []
    for seed in range(5):
        tpe.append(tune.search(quad, space, 40, sampler="tpe", seed=seed, storage=MEM).best_value)
        rnd.append(tune.random_search(quad, space, 40, seed=seed, storage=MEM).best_value)
    assert np.median(tpe) < np.median(rnd) / 2, (tpe, rnd)


@pytest.mark.slow  # GPSampler imports torch (1-2 s)
def test_gp_sampler_runs_and_improves_on_its_random_start():
    study = tune.search(quad, ["x=uniform:-5:5", "y=uniform:-5:5"], 6, sampler="gp", seed=0, storage=MEM,
                        n_startup_trials=3)
    vals = [t.value for t in study.trials]
    assert len(vals) == 6 and isinstance(study.sampler, optuna.samplers.GPSampler)
    assert min(vals[3:]) < min(vals[:3])


# --- pruning and freeze-thaw --------------------------------------------------------------------
def _diverging(p, trial):
    """Loss of gradient descent on 1/2 a w^2 (a = 1): diverges for lr > 2."""
    w = 1.0
    for step in range(20):
        w = w * (1 - p["lr"])
        trial.report(0.5 * w * w, step)
    return 0.5 * w * w


@pytest.mark.parametrize("pruner", ["median", "halving"])
def test_pruning_stops_a_diverging_trial_early(pruner):
    study = tune.search(_diverging, ["lr=uniform:0.01:4"], 5, storage=MEM, sampler="random", pruner=pruner,
                        enqueue=[{"lr": lr} for lr in (0.5, 0.3, 0.8, 0.6, 3.5)])
    assert [t.params["lr"] for t in study.trials] == [0.5, 0.3, 0.8, 0.6, 3.5]
    if pruner == "median":
        assert all(t.state == TrialState.COMPLETE for t in study.trials[:4])
    else:  # successive halving keeps the top 1/3 at each rung: the fastest (lr 0.8) survives
        assert study.trials[2].state == TrialState.COMPLETE
    last = study.trials[-1]
    assert last.state == TrialState.PRUNED
    assert len(last.intermediate_values) < 20  # stopped early


def test_nan_report_prunes_at_once():
    def obj(p, trial):
        trial.report(float("nan"), 0)
        return 0.0

    study = tune.search(obj, ["x=uniform:0:1"], 2, storage=MEM, pruner="none")
    assert all(t.state == TrialState.PRUNED and t.user_attrs["diverged"] for t in study.trials)


def test_freeze_thaw_resumes_a_pruned_trial_from_its_checkpoint(tmp_path):
    import shendu as sd

    def obj(p, trial):
        step, w = 0, 10.0
        if trial.resume_from is not None:
            st = sd.load(trial.resume_from)
            step, w = int(st["step"]) + 1, float(st["w"])
            trial.set("resumed_at", step)
        while step < 10:
            w = w * (1 - p["lr"])
            trial.report(w * w, step, state={"step": step, "w": w})
            step += 1
        return w * w

    # the last lr is slow, so worse than the median: pruned ("frozen")
    study = tune.search(obj, ["lr=uniform:0.01:0.6"], 4, study_name="ft", out=tmp_path, sampler="random",
                        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1),
                        enqueue=[{"lr": lr} for lr in (0.5, 0.4, 0.45, 0.05)])
    frozen = study.trials[3]
    assert frozen.state == TrialState.PRUNED and os.path.exists(frozen.user_attrs["checkpoint"])
    at = frozen.user_attrs["pruned_at"]
    assert tune.promising_pruned(study)[0].number == 3
    t = tune.thaw(study, obj, ["lr=uniform:0.01:0.6"])
    assert t.state == TrialState.COMPLETE and t.user_attrs["thaw_of"] == 3 and t.params == {"lr": 0.05}
    assert t.user_attrs["resumed_at"] == at + 1  # continued from the checkpoint, not from step 0
    assert t.value == pytest.approx((10 * 0.95 ** 10) ** 2)  # same result as an uninterrupted run
    assert tune.promising_pruned(study) == []


# --- persistence and parallel processes ----------------------------------------------------------
def _killed_search(out, marks):
    """A search process that is killed (SIGKILL, no clean-up) in the middle of its fourth trial."""
    import signal

    def obj(p):
        n = len(os.listdir(marks))
        open(os.path.join(marks, f"t{n}"), "w").close()
        if n == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return (p["x"] - 1) ** 2

    tune.search(obj, ["x=uniform:-3:3"], 7, sampler="random", seed=0, study_name="s", out=out)


def test_a_killed_search_resumes_from_sqlite_without_losing_trials(tmp_path):
    import multiprocessing as mp

    marks = tmp_path / "marks"
    marks.mkdir()
    proc = mp.get_context("fork").Process(target=_killed_search, args=(str(tmp_path / "out"), str(marks)))
    proc.start()
    proc.join(120)
    assert proc.exitcode == -9
    db = tmp_path / "out" / "s.db"
    assert db.exists()
    before = optuna.load_study(study_name="s", storage=f"sqlite:///{db}")
    assert [t.state for t in before.trials] == [TrialState.COMPLETE] * 3 + [TrialState.RUNNING]
    lost = before.trials[3].params
    study = tune.search(lambda p: (p["x"] - 1) ** 2, ["x=uniform:-3:3"], 7, sampler="random", seed=0,
                        study_name="s", out=tmp_path / "out")
    done = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(done) == 7
    assert [t.number for t in done[:3]] == [0, 1, 2]
    assert study.trials[3].state == TrialState.FAIL
    assert any(t.params == lost for t in done)  # the interrupted trial was run again with its parameters


def _pid_objective(p):
    from threadpoolctl import threadpool_info

    return float(os.getpid()) + 0 * p["x"], [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_parallel_processes_share_the_sqlite_study(tmp_path):
    def obj(p, trial):
        v, threads = _pid_objective(p)
        trial.set("pid", int(v))
        trial.set("blas_threads", threads)
        return p["x"] ** 2

    study = tune.search(obj, ["x=uniform:-1:1"], 6, sampler="tpe", seed=0, out=tmp_path, study_name="par",
                        n_jobs=2)
    done = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert 6 <= len(done) <= 7  # two processes may both start the last trial
    assert len({t.user_attrs["pid"] for t in done}) == 2 and os.getpid() not in {t.user_attrs["pid"] for t in done}
    assert len({t.params["x"] for t in done}) == len(done)  # the processes' samplers are seeded differently
    cpus = len(os.sched_getaffinity(0))
    assert all(n == max(1, cpus // 2) for t in done for n in t.user_attrs["blas_threads"])
    with pytest.raises(ValueError, match="n_jobs > 1 needs a persistent storage"):
        tune.search(obj, ["x=uniform:-1:1"], 2, storage=MEM, n_jobs=2)


def test_rdb_url_is_used_as_given(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    assert tune.storage_url(url) == url
    tune.search(quad, ["x=uniform:-5:5", "y=uniform:-5:5"], 3, storage=url, study_name="q", sampler="random")
    assert len(optuna.load_study(study_name="q", storage=url).trials) == 3


def test_report_writes_table_csv_and_pngs(tmp_path):
    study = tune.search(quad, ["x=uniform:-5:5", "y=uniform:-5:5"], 12, sampler="random", seed=1, storage=MEM,
                        study_name="rep")
    lines = []
    paths = tune.write_report(study, tmp_path, print_fn=lines.append)
    table = lines[0].splitlines()
    assert table[0].split()[:3] == ["number", "state", "value"] and len(table) == 13
    assert float(table[1].split()[2]) == pytest.approx(study.best_value, rel=1e-3)  # best first
    assert lines[1].startswith(f"best trial {study.best_trial.number}: value")
    import csv

    with open(paths["csv"]) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 12 and {"x", "y", "value"} <= set(rows[0])
    for k in ("history", "importance", "slices"):
        with open(paths[k], "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_freeze_thaw_with_fit_resumes_the_training_state(tmp_path):
    import shendu as sd
    from shendu import nn
    from shendu.train import fit

    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = (x @ np.array([1.0, -1.0, 0.5], np.float32))[:, None]
    epochs_run = {}

    from shendu.train import Callback

    class Count(Callback):
        def on_epoch_end(self, epoch, logs=None):
            epochs_run[self.number] = epochs_run.get(self.number, 0) + 1

    def obj(p, trial):
        sd.manual_seed(0)
        model = nn.Linear(3, 1)
        count = Count()
        count.number = trial.number
        h = fit(model, (x, y), loss="mse", optimizer="sgd", lr=p["lr"], epochs=6, batch_size=16, val_data=(x, y),
                verbose=0, callbacks=[count, tune.PruningCallback(trial, "val_loss")], resume_from=trial.resume_from)
        return h.history["val_loss"][-1]

    space = ["lr=loguniform:1e-4:1e-1"]
    study = tune.search(obj, space, 4, out=tmp_path, study_name="fit", sampler="random",
                        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1),
                        enqueue=[{"lr": v} for v in (0.1, 0.05, 0.08, 1e-4)])
    frozen = study.trials[3]
    assert frozen.state == TrialState.PRUNED
    at = frozen.user_attrs["pruned_at"]  # the epoch whose end pruned it (0-based)
    t = tune.thaw(study, obj, space, 3)
    assert t.state == TrialState.COMPLETE and t.params == {"lr": 1e-4}
    assert epochs_run[t.number] == 6 - (at + 1)  # only the remaining epochs were trained
    sd.manual_seed(0)
    ref = fit(nn.Linear(3, 1), (x, y), loss="mse", optimizer="sgd", lr=1e-4, epochs=6, batch_size=16,
              val_data=(x, y), verbose=0)
    assert t.value == pytest.approx(ref.history["val_loss"][-1], rel=1e-6)  # = the uninterrupted run
