"""Dataset, TensorDataset, Subset and DataLoader."""
import threading

import numpy as np
import pytest

from shendu.data import DataLoader, Dataset, Subset, TensorDataset, default_collate


class ListDataset(Dataset):
    """A generic (not array-backed) data set: sample i = (features, label)."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.full(3, i, dtype=np.float32), i


class CountingTensorDataset(TensorDataset):
    """Records how it is accessed, to prove batching is vectorized."""

    def __init__(self, *arrays):
        super().__init__(*arrays)
        self.getitem_calls = 0
        self.batch_calls = 0

    def __getitem__(self, index):
        self.getitem_calls += 1
        return super().__getitem__(index)

    def get_batch(self, indices):
        self.batch_calls += 1
        return super().get_batch(indices)


def _collect(loader):
    return [tuple(np.asarray(b) for b in batch) for batch in loader]


def test_tensor_dataset_items_and_shape_error():
    x, y = np.arange(12.0).reshape(6, 2), np.arange(6)
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    xi, yi = ds[4]
    np.testing.assert_array_equal(xi, [8.0, 9.0])
    assert yi == 4
    with pytest.raises(ValueError, match=r"\(6, 2\), \(5,\)"):
        TensorDataset(x, np.arange(5))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


def test_loader_vectorized_batches_cover_everything_once():
    x = np.arange(10 * 3, dtype=np.float32).reshape(10, 3)
    y = np.arange(10)
    ds = CountingTensorDataset(x, y)
    loader = DataLoader(ds, batch_size=4, shuffle=True, seed=0, as_tensor=False)
    batches = _collect(loader)
    assert len(loader) == 3 == len(batches)
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    assert ds.getitem_calls == 0 and ds.batch_calls == 3  # no per-sample loop
    labels = np.concatenate([b[1] for b in batches])
    assert sorted(labels.tolist()) == list(range(10))
    assert labels.tolist() != list(range(10))  # shuffled
    for bx, by in batches:  # rows stay aligned with labels
        np.testing.assert_array_equal(bx, x[by])


def test_loader_no_shuffle_order_and_drop_last():
    ds = TensorDataset(np.arange(10))
    loader = DataLoader(ds, batch_size=3, drop_last=True, as_tensor=False)
    assert len(loader) == 3
    assert [b[0].tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert len(DataLoader(ds, batch_size=3)) == 4


def test_shuffle_reproducible_and_differs_between_epochs():
    ds = TensorDataset(np.arange(50))
    a = DataLoader(ds, batch_size=50, shuffle=True, seed=123, as_tensor=False)
    b = DataLoader(ds, batch_size=50, shuffle=True, seed=123, as_tensor=False)
    epoch1a, epoch2a = next(iter(a))[0], next(iter(a))[0]
    epoch1b, epoch2b = next(iter(b))[0], next(iter(b))[0]
    np.testing.assert_array_equal(epoch1a, epoch1b)
    np.testing.assert_array_equal(epoch2a, epoch2b)
    assert not np.array_equal(epoch1a, epoch2a)
    c = DataLoader(ds, batch_size=50, shuffle=True, seed=124, as_tensor=False)
    assert not np.array_equal(next(iter(c))[0], epoch1a)


def test_seedless_loaders_get_different_seeds():
    ds = TensorDataset(np.arange(50))  # seeds are drawn from the global generator when iteration starts (issue 23)
    a, b = (DataLoader(ds, batch_size=50, shuffle=True, as_tensor=False) for _ in range(2))
    assert not np.array_equal(next(iter(a))[0], next(iter(b))[0]) and a.seed != b.seed


def test_generic_dataset_collate_and_transform():
    loader = DataLoader(ListDataset(7), batch_size=3, transform=lambda x: x * 2, as_tensor=False)
    batches = _collect(loader)
    assert len(batches) == 3
    x0, y0 = batches[0]
    assert x0.dtype == np.float32 and y0.dtype == np.int64
    np.testing.assert_array_equal(x0, 2 * np.repeat(np.arange(3.0), 3).reshape(3, 3))
    np.testing.assert_array_equal(batches[-1][1], [6])


def test_custom_collate_fn_gets_samples():
    seen = []

    def collate(samples):
        seen.append(len(samples))
        return np.stack([s[0] for s in samples]), np.array([s[1] for s in samples]) + 100

    ds = TensorDataset(np.arange(6.0).reshape(3, 2), np.arange(3))
    (bx, by), = _collect(DataLoader(ds, batch_size=3, collate_fn=collate, as_tensor=False))
    assert seen == [3]
    np.testing.assert_array_equal(by, [100, 101, 102])


def test_default_collate_rules():
    x, y, w = default_collate([(np.zeros(2, np.float64), 1, 0.5), (np.ones(2, np.float64), 2, 1.5)])
    assert x.dtype == np.float64 and x.shape == (2, 2)
    assert y.dtype == np.int64 and w.dtype == np.float32
    (single,) = default_collate([3, 4])
    np.testing.assert_array_equal(single, [3, 4])
    with pytest.raises(ValueError, match="different shapes"):
        default_collate([(np.zeros(2),), (np.zeros(3),)])
    with pytest.raises(TypeError, match="dict"):
        default_collate([{"a": 1}])


def test_prefetch_matches_plain_and_propagates_errors():
    ds = TensorDataset(np.arange(40).reshape(20, 2), np.arange(20))
    plain = _collect(DataLoader(ds, batch_size=6, shuffle=True, seed=5, as_tensor=False))
    pre = _collect(DataLoader(ds, batch_size=6, shuffle=True, seed=5, prefetch=2, as_tensor=False))
    assert len(plain) == len(pre) == 4
    for a, b in zip(plain, pre):
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u, v)

    def bad_transform(x):
        raise RuntimeError("boom in transform")

    with pytest.raises(RuntimeError, match="boom in transform"):
        list(DataLoader(ds, batch_size=6, transform=bad_transform, prefetch=2, as_tensor=False))


def test_prefetch_thread_stops_after_break():
    ds = TensorDataset(np.arange(1000))
    before = threading.active_count()
    it = iter(DataLoader(ds, batch_size=1, prefetch=2, as_tensor=False))
    next(it)
    it.close()  # what a `break` out of a for loop does when the iterator is dropped
    assert threading.active_count() == before


def test_subset_keeps_vectorized_path():
    ds = CountingTensorDataset(np.arange(10) * 10)
    sub = Subset(ds, [9, 1, 4])
    assert len(sub) == 3 and sub[0] == (90,)
    (batch,), = _collect(DataLoader(sub, batch_size=3, as_tensor=False))
    np.testing.assert_array_equal(batch, [90, 10, 40])
    assert ds.batch_calls == 1
    with pytest.raises(IndexError):
        Subset(ds, [10])
    assert getattr(Subset(ListDataset(3), [0]), "get_batch", None) is None


def test_loader_argument_errors():
    ds = TensorDataset(np.arange(3))
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="prefetch"):
        DataLoader(ds, prefetch=-1)
    with pytest.raises(TypeError, match="__len__"):
        DataLoader(object())


def test_loader_yields_shendu_tensors():
    sd = pytest.importorskip("shendu")
    if not hasattr(sd, "as_tensor") or not hasattr(sd, "Tensor"):
        pytest.skip("shendu core (as_tensor, Tensor) not available yet")
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    ds = TensorDataset(sd.as_tensor(x), np.arange(3))
    bx, by = next(iter(DataLoader(ds, batch_size=3)))
    assert isinstance(bx, sd.Tensor) and isinstance(by, sd.Tensor)
    np.testing.assert_array_equal(bx.numpy(), x)
