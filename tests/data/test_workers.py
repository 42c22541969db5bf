"""DataLoader(num_workers > 0): real worker processes give the batches of num_workers=0 for a seeded run,
call worker_init_fn once per worker, expose get_worker_info() inside, name a failing or slow worker in the
error and leave no live child processes behind."""
import multiprocessing as mp
import os
import time

import numpy as np
import pytest

from shendu.data import DataLoader, TensorDataset
from shendu.utils.data import get_worker_info


class _Squares:
    """Sample i = (i-th row, i**2); records the worker info seen while fetching."""

    def __init__(self, n=23):
        self.x = np.arange(n * 3, dtype=np.float64).reshape(n, 3)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        info = get_worker_info()
        wid = -1 if info is None else info.id
        return self.x[i], i * i, wid, os.getpid()


def _arrays(loader):
    return [tuple(np.asarray(f) for f in b) for b in loader]


def _children():
    return [p for p in mp.active_children() if p.name.startswith("shendu-DataLoader-worker")]


def test_two_workers_give_the_batches_of_num_workers_0():
    ds = TensorDataset(np.random.default_rng(0).standard_normal((37, 4)), np.arange(37))
    ref = DataLoader(ds, batch_size=5, shuffle=True, seed=3, as_tensor=False)
    par = DataLoader(ds, batch_size=5, shuffle=True, seed=3, num_workers=2, as_tensor=False)
    for _epoch in range(2):  # the second epoch is reshuffled identically on both sides
        a, b = _arrays(ref), _arrays(par)
        assert len(a) == len(b) == 8
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x[0], y[0])
            np.testing.assert_array_equal(x[1], y[1])
    assert not _children()


def test_worker_info_and_batches_come_from_worker_processes():
    loader = DataLoader(_Squares(), batch_size=4, shuffle=True, seed=1, num_workers=2, as_tensor=False)
    batches = _arrays(loader)
    wids = {int(w) for b in batches for w in b[2]}
    pids = {int(p) for b in batches for p in b[3]}
    assert wids == {0, 1} and os.getpid() not in pids and len(pids) == 2
    order = np.concatenate([b[0][:, 0] // 3 for b in batches]).astype(int)
    assert sorted(order) == list(range(23)) and list(order) != list(range(23))
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), order ** 2)
    assert get_worker_info() is None


def _init(worker_id):
    info = get_worker_info()
    assert info is not None and info.id == worker_id and info.num_workers == 2
    with open(os.path.join(os.environ["SHENDU_TEST_INIT_DIR"], f"w{worker_id}-{os.getpid()}"), "w") as f:
        f.write(str(info.seed))


def test_worker_init_fn_once_per_worker_with_distinct_seeds(tmp_path, monkeypatch):
    monkeypatch.setenv("SHENDU_TEST_INIT_DIR", str(tmp_path))
    loader = DataLoader(_Squares(), batch_size=2, num_workers=2, worker_init_fn=_init, as_tensor=False)
    assert len(_arrays(loader)) == 12
    files = sorted(os.listdir(tmp_path))
    assert [f.split("-")[0] for f in files] == ["w0", "w1"]
    seeds = [int((tmp_path / f).read_text()) for f in files]
    assert seeds[1] == seeds[0] + 1


class _Failing(_Squares):
    def __getitem__(self, i):
        if i == 9:
            raise KeyError("bad sample 9")
        return super().__getitem__(i)


def test_a_raising_worker_is_named_with_its_exception():
    loader = DataLoader(_Failing(), batch_size=3, num_workers=2, as_tensor=False)
    with pytest.raises(RuntimeError, match=r"worker 1 raised.*KeyError.*bad sample 9"):
        list(loader)  # batch 3 (indices 9-11) goes to worker 1
    assert not _children()


class _Slow(_Squares):
    def __getitem__(self, i):
        if i == 4:
            time.sleep(30)
        return super().__getitem__(i)


def test_timeout_names_the_worker_and_stops_it():
    loader = DataLoader(_Slow(), batch_size=2, num_workers=2, timeout=0.5, as_tensor=False)
    with pytest.raises(RuntimeError, match=r"worker 0 timed out.*batch 2"):
        list(loader)
    assert not _children()


def _die(worker_id):
    if worker_id == 1:
        os._exit(3)


def test_a_dying_worker_is_an_error_not_a_hang():
    loader = DataLoader(_Squares(), batch_size=2, num_workers=2, worker_init_fn=_die, as_tensor=False)
    with pytest.raises(RuntimeError, match=r"worker 1 .*exit code 3"):
        list(loader)
    assert not _children()


def test_early_break_and_persistent_workers_leave_no_children():
    loader = DataLoader(_Squares(), batch_size=2, shuffle=True, seed=0, num_workers=2, as_tensor=False)
    for i, _ in enumerate(loader):
        if i == 1:
            break
    assert not _children()
    ref = DataLoader(_Squares(), batch_size=2, shuffle=True, seed=0, as_tensor=False)
    pers = DataLoader(_Squares(), batch_size=2, shuffle=True, seed=0, num_workers=2, persistent_workers=True,
                      as_tensor=False)
    _arrays(ref)
    next(iter(pers))  # an interrupted epoch: its stale batches must not leak into the next one
    pids = []
    for _ in range(2):
        a, b = _arrays(ref), _arrays(pers)
        assert len(a) == len(b) == 12 and len(_children()) == 2
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x[0], y[0])
        pids.append({int(p) for batch in b for p in batch[3]})
    assert pids[0] == pids[1] and os.getpid() not in pids[0]  # the same processes serve both epochs
    del pers
    assert not _children()


def test_tensor_batches_and_invalid_options():
    loader = DataLoader(_Squares(), batch_size=5, num_workers=1)
    b = next(iter(loader))
    np.testing.assert_array_equal(b[0].numpy(), np.arange(15.0).reshape(5, 3))
    del loader, b
    with pytest.raises(ValueError, match="persistent_workers"):
        DataLoader(_Squares(), num_workers=0, persistent_workers=True)
    with pytest.raises(ValueError, match="timeout"):
        DataLoader(_Squares(), num_workers=1, timeout=-1)


class _Noisy(_Squares):
    def __getitem__(self, i):
        return np.random.random(), get_worker_info().id


def test_random_draws_are_seeded_per_worker_from_the_loader_seed():
    def run():
        b = _arrays(DataLoader(_Noisy(), batch_size=4, seed=7, num_workers=2, as_tensor=False))
        return np.concatenate([x[0] for x in b]), np.concatenate([x[1] for x in b])

    (v1, w1), (v2, _) = run(), run()
    np.testing.assert_array_equal(v1, v2)  # reproducible for a seeded loader
    assert not np.array_equal(v1[w1 == 0][:4], v1[w1 == 1][:4])  # workers draw different streams


def _bad_init(worker_id):
    raise ValueError(f"no setup for {worker_id}")


def test_a_failing_worker_init_fn_is_reported():
    loader = DataLoader(_Squares(), batch_size=2, num_workers=2, worker_init_fn=_bad_init, as_tensor=False)
    with pytest.raises(RuntimeError, match=r"worker 0 raised.*worker_init_fn.*ValueError: no setup for 0"):
        list(loader)
    assert not _children()
