"""``shendu.utils.data`` samplers and DataLoader keywords, ``shendu.nn.utils`` and ``sd.Generator`` vs torch."""
import numpy as np
import pytest

import shendu as sd
from shendu.nn.utils import rnn as R
from shendu.utils import data as D

torch = pytest.importorskip("torch")
TD = torch.utils.data


def _ds(n=10):
    return D.TensorDataset(sd.arange(n), sd.arange(n) * 2)


def _batches(loader):
    return [b[0].tolist() for b in loader]


def test_sequential_and_batch_sampler_match_torch():
    ds, tds = _ds(10), TD.TensorDataset(torch.arange(10))
    for drop_last in (False, True):
        s = D.BatchSampler(D.SequentialSampler(ds), 3, drop_last)
        t = TD.BatchSampler(TD.SequentialSampler(tds), 3, drop_last)
        assert list(s) == list(t) and len(s) == len(t)
        assert _batches(D.DataLoader(ds, batch_sampler=s)) == [[int(i) for i in b] for b in t]


def test_random_samplers_cover_their_indices():
    ds = _ds(10)
    assert sorted(D.RandomSampler(ds)) == list(range(10))
    assert len(list(D.RandomSampler(ds, replacement=True, num_samples=25))) == 25
    assert len(D.RandomSampler(ds, num_samples=25)) == len(TD.RandomSampler(range(10), num_samples=25)) == 25
    counts = np.bincount(list(D.RandomSampler(ds, num_samples=25)), minlength=10)
    assert counts.sum() == 25 and set(counts) == {2, 3}  # two whole permutations, then part of a third (as torch)
    assert sorted(D.SubsetRandomSampler([1, 5, 7])) == [1, 5, 7]
    w = D.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 400)
    draws = np.array(list(w))
    assert set(draws) == {1, 3} and 0.65 < (draws == 3).mean() < 0.85  # p = 0.75
    with pytest.raises(ValueError, match="WeightedRandomSampler"):
        D.WeightedRandomSampler([1.0, 0.0], 2, replacement=False)


def test_seeded_random_sampler_repeats():
    ds = _ds(10)
    a = list(D.RandomSampler(ds, generator=sd.Generator().manual_seed(3)))
    b = list(D.RandomSampler(ds, generator=sd.Generator().manual_seed(3)))
    assert a == b and sorted(a) == list(range(10))


def test_dataloader_with_sampler_and_torch_keywords():
    ds = _ds(10)
    base = D.DataLoader(ds, batch_size=4, shuffle=True, generator=sd.Generator().manual_seed(5))
    same = D.DataLoader(ds, batch_size=4, shuffle=True, generator=sd.Generator().manual_seed(5), num_workers=3,
                        pin_memory=True, persistent_workers=True, worker_init_fn=lambda i: None, timeout=0,
                        prefetch_factor=2)
    assert _batches(base) == _batches(same)  # num_workers>0: same batches, made in worker processes
    assert sorted(sum(_batches(base), [])) == list(range(10))
    sampler = D.SubsetRandomSampler([0, 2, 4, 6, 8])
    loader = D.DataLoader(ds, batch_size=2, sampler=sampler, drop_last=True)
    out = _batches(loader)
    assert len(loader) == len(out) == 2 and all(v % 2 == 0 for b in out for v in b)


@pytest.mark.parametrize("kw, match", [
    (dict(sampler=[0, 1], shuffle=True), "mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0, 1]], batch_size=2), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0, 1]], drop_last=True), "batch_sampler option is mutually exclusive"),
    (dict(num_workers=-1), "num_workers option should be non-negative"),
])
def test_dataloader_rejects_what_torch_rejects(kw, match):
    with pytest.raises(ValueError, match=match):
        D.DataLoader(_ds(4), **kw)
    with pytest.raises(ValueError, match=match):
        TD.DataLoader(TD.TensorDataset(torch.arange(4)), **kw)


def test_random_split_with_generator():
    ds = _ds(10)
    a = [s.indices.tolist() if hasattr(s.indices, "tolist") else list(s.indices)
         for s in D.random_split(ds, [7, 3], generator=sd.Generator().manual_seed(1))]
    b = [s.indices.tolist() if hasattr(s.indices, "tolist") else list(s.indices)
         for s in D.random_split(ds, [7, 3], generator=sd.Generator().manual_seed(1))]
    assert a == b and sorted(a[0] + a[1]) == list(range(10)) and len(a[1]) == 3
    assert D.get_worker_info() is None and TD.get_worker_info() is None


def test_generator_draws_repeat_and_state_round_trips():
    g = sd.Generator().manual_seed(7)
    assert g.initial_seed() == 7
    state = g.get_state()
    a = sd.randn(3, generator=g).tolist()
    g.set_state(state)
    assert sd.randn(3, generator=g).tolist() == a == sd.randn(3, generator=sd.Generator().manual_seed(7)).tolist()


def _params(m):
    a = [sd.tensor(np.arange(6, dtype=np.float32).reshape(2, 3) - 2, requires_grad=True),
         sd.tensor(np.array([3.0, -4.0], dtype=np.float32), requires_grad=True)]
    t = [torch.tensor(p.numpy(), requires_grad=True) for p in a]
    for ps, _mod in ((a, sd), (t, torch)):
        (sum((p * p * p).sum() for p in ps)).backward()
    return a, t


def test_clip_grad_norm_and_value_match_torch():
    a, t = _params(None)
    ns = sd.nn.utils.clip_grad_norm_(a, 5.0)
    nt = torch.nn.utils.clip_grad_norm_(t, 5.0)
    np.testing.assert_allclose(float(ns), float(nt), rtol=1e-5)
    for p, q in zip(a, t):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5)
    a, t = _params(None)
    sd.nn.utils.clip_grad_value_(a, 2.0)
    torch.nn.utils.clip_grad_value_(t, 2.0)
    for p, q in zip(a, t):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy())


def test_vector_to_parameters_matches_torch():
    ms, mt = sd.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    v = np.arange(8, dtype=np.float32)
    sd.nn.utils.vector_to_parameters(sd.tensor(v), ms.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(v), mt.parameters())
    np.testing.assert_array_equal(ms.weight.numpy(), mt.weight.detach().numpy())
    np.testing.assert_array_equal(ms.bias.numpy(), mt.bias.detach().numpy())
    np.testing.assert_array_equal(sd.nn.utils.parameters_to_vector(ms.parameters()).numpy(), v)
    with pytest.raises(ValueError, match="vector_to_parameters"):
        sd.nn.utils.vector_to_parameters(sd.zeros(5), ms.parameters())


SEQS = [np.random.default_rng(i).standard_normal((n, 2)).astype(np.float32) for i, n in enumerate((2, 4, 3))]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_matches_torch(batch_first, side):
    s = R.pad_sequence([sd.tensor(a) for a in SEQS], batch_first=batch_first, padding_value=-1.0, padding_side=side)
    t = torch.nn.utils.rnn.pad_sequence([torch.tensor(a) for a in SEQS], batch_first=batch_first,
                                        padding_value=-1.0, padding_side=side)
    np.testing.assert_array_equal(s.numpy(), t.numpy())


@pytest.mark.parametrize("enforce_sorted", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_unpack_match_torch(enforce_sorted, batch_first):
    seqs = SEQS if not enforce_sorted else sorted(SEQS, key=len, reverse=True)
    lens = [len(a) for a in seqs]
    TR = torch.nn.utils.rnn
    ps = R.pad_sequence([sd.tensor(a) for a in seqs], batch_first=batch_first)
    pt = TR.pad_sequence([torch.tensor(a) for a in seqs], batch_first=batch_first)
    ks = R.pack_padded_sequence(ps, lens, batch_first=batch_first, enforce_sorted=enforce_sorted)
    kt = TR.pack_padded_sequence(pt, lens, batch_first=batch_first, enforce_sorted=enforce_sorted)
    np.testing.assert_array_equal(ks.data.numpy(), kt.data.numpy())
    assert ks.batch_sizes.tolist() == kt.batch_sizes.tolist()
    if not enforce_sorted:
        assert ks.sorted_indices.tolist() == kt.sorted_indices.tolist()
    us, ls = R.pad_packed_sequence(ks, batch_first=batch_first, total_length=6)
    ut, lt = TR.pad_packed_sequence(kt, batch_first=batch_first, total_length=6)
    np.testing.assert_array_equal(us.numpy(), ut.numpy())
    assert ls.tolist() == lt.tolist()


def test_pack_padded_sequence_errors_like_torch():
    p = R.pad_sequence([sd.tensor(a) for a in SEQS])
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        R.pack_padded_sequence(p, [2, 4, 3])


def test_packed_data_is_differentiable():
    x = sd.tensor(SEQS[1], requires_grad=True)
    k = R.pack_sequence([x, sd.tensor(SEQS[0])])
    (k.data * k.data).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * SEQS[1], rtol=1e-6)
