"""Chapter 8 data handling: shuffle once (8.5), streaming / iterable data sets (8.6), batch size grown during
training (8.7)."""
import numpy as np
import pytest

import shendu as sd
from shendu import nn
from shendu.data import DataLoader, TensorDataset
from shendu.train import fit
from shendu.train.callbacks import BatchSizeScheduler
from shendu.utils.data import IterableDataset


def _order(loader):
    return np.concatenate([b[0].numpy()[:, 0] for b in loader])


def test_shuffle_once_keeps_the_first_permutation():
    x = np.arange(50, dtype=np.float32).reshape(-1, 1)
    loader = DataLoader(TensorDataset(x), batch_size=8, shuffle="once", seed=3)
    e1, e2, e3 = _order(loader), _order(loader), _order(loader)
    assert not np.array_equal(e1, np.arange(50))  # shuffled
    np.testing.assert_array_equal(np.sort(e1), np.arange(50))  # a permutation
    np.testing.assert_array_equal(e1, e2)
    np.testing.assert_array_equal(e1, e3)
    every = DataLoader(TensorDataset(x), batch_size=8, shuffle=True, seed=3)
    assert not np.array_equal(_order(every), _order(every))  # the default reshuffles each epoch
    with pytest.raises(ValueError, match="shuffle must be a bool or 'once'"):
        DataLoader(TensorDataset(x), shuffle="twice")


class _Stream(IterableDataset):
    """Examples drawn fresh from y = 3 x - 1 + noise; counts how many were produced."""

    def __init__(self, n, seed=0):
        self.n, self.seed, self.produced = n, seed, 0

    def __iter__(self):
        rng = np.random.default_rng(self.seed)
        for _ in range(self.n):
            x = rng.normal(size=1).astype(np.float32)
            self.produced += 1
            yield x, (3 * x - 1 + 0.01 * rng.normal(size=1)).astype(np.float32)

    def __len__(self):
        return self.n


def test_streaming_each_example_used_once_and_learned_online():
    stream = _Stream(1000)
    loader = DataLoader(stream, batch_size=10)
    assert len(loader) == 100
    sd.manual_seed(0)
    model = nn.Linear(1, 1)
    hist = fit(model, loader, loss="mse", optimizer="sgd", lr=0.1, epochs=1, verbose=0)
    assert stream.produced == 1000  # one pass: every example seen exactly once
    np.testing.assert_allclose([model.weight.numpy()[0, 0], model.bias.numpy()[0]], [3.0, -1.0], atol=0.05)
    assert hist.history["loss"][-1] < 0.5


def test_generator_stream_batches_in_order_with_short_last_batch():
    gen = ((np.array([i], np.float32), np.int64(i % 2)) for i in range(23))
    batches = list(DataLoader(gen, batch_size=5))
    assert [b[0].shape[0] for b in batches] == [5, 5, 5, 5, 3]
    np.testing.assert_array_equal(np.concatenate([b[0].numpy()[:, 0] for b in batches]), np.arange(23))
    assert batches[0][1].numpy().dtype == np.int64
    gen2 = ((np.array([i], np.float32),) for i in range(23))
    assert len(list(DataLoader(gen2, batch_size=5, drop_last=True))) == 4
    with pytest.raises(ValueError, match="iterable-style"):
        DataLoader(_Stream(5), shuffle=True)
    with pytest.raises(TypeError, match="no length"):
        len(DataLoader(iter([]), batch_size=2))


def test_batch_size_grown_during_training():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5], [0.0]], np.float32)).astype(np.float32)
    seen = []

    class Count(BatchSizeScheduler):
        def on_train_batch_begin(self, step, logs=None):
            seen.append(self.trainer.epoch)

    sched = Count(lambda epoch: 16 * 2 ** epoch, max_batch_size=64)
    sd.manual_seed(0)
    model = nn.Linear(4, 1)
    hist = fit(model, (x, y), loss="mse", optimizer="sgd", lr=0.1, epochs=4, batch_size=8, verbose=0,
               callbacks=[sched])
    assert sched.sizes == [16, 32, 64, 64]
    assert [seen.count(e) for e in range(4)] == [16, 8, 4, 4]  # 256 / batch size steps per epoch
    assert hist.history["loss"][-1] < 0.01
    with pytest.raises(ValueError, match="BatchSizeScheduler"):
        fit(nn.Linear(4, 1), (x, y), loss="mse", epochs=1, verbose=0, callbacks=[BatchSizeScheduler(lambda e: 0)])
