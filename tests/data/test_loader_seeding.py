"""Seeding like PyTorch (issue 23 item 5): a loader without its own generator draws each epoch's shuffle order from
the global generator when iteration starts, so ``sd.manual_seed`` called after building the loader fixes it."""
import numpy as np
import pytest

import shendu as sd
from shendu.data import DataLoader, TensorDataset
from shendu.utils.data import DataLoader as UtilsDataLoader
from shendu.utils.data import RandomSampler, SubsetRandomSampler

N = 40


def _order(loader):
    return np.concatenate([np.asarray(b[0].numpy() if hasattr(b[0], "numpy") else b[0]) for b in loader]).tolist()


def _loader(cls=DataLoader, **kw):
    return cls(TensorDataset(np.arange(N)), batch_size=8, **kw)


@pytest.mark.parametrize("cls", [DataLoader, UtilsDataLoader], ids=["data", "utils.data"])
def test_manual_seed_after_building_the_loader_fixes_the_order(cls):
    a = _loader(cls, shuffle=True)
    sd.randn(5, device="cpu")  # draws between building and seeding change nothing
    sd.manual_seed(0)
    first = _order(a)
    b = _loader(cls, shuffle=True)
    sd.manual_seed(0)
    assert _order(b) == first
    sd.manual_seed(0)
    assert _order(a) == first  # the same loader, reseeded: the same epoch again
    sd.manual_seed(1)
    assert _order(_loader(cls, shuffle=True)) != first
    assert sorted(first) == list(range(N)) and first != list(range(N))


def test_seed_is_drawn_when_iteration_starts_and_each_epoch_differs():
    sd.manual_seed(0)
    a = _loader(shuffle=True)
    e1, e2 = _order(a), _order(a)
    assert e1 != e2 and sorted(e1) == sorted(e2)
    sd.manual_seed(0)
    b = _loader(shuffle=True)
    sd.rand(3, device="cpu")  # a draw after building, before iterating (CPU generator, as loaders): order follows
    assert _order(b) != e1
    sd.manual_seed(0)
    c = _loader(shuffle=True)
    assert [_order(c), _order(c)] == [e1, e2]


def test_unshuffled_loader_leaves_the_global_stream_alone():
    sd.manual_seed(0)
    ref = sd.rand(4, device="cpu").numpy()
    sd.manual_seed(0)
    loader = _loader(shuffle=False)
    assert _order(loader) == list(range(N))
    np.testing.assert_array_equal(sd.rand(4, device="cpu").numpy(), ref)


@pytest.mark.parametrize("own", [dict(seed=5), dict(generator=5), dict(generator=np.random.default_rng(5))])
def test_an_explicit_generator_or_seed_keeps_its_own_stream(own):
    sd.manual_seed(0)
    a = _order(_loader(shuffle=True, **own))
    sd.manual_seed(1)
    rebuilt = {k: (np.random.default_rng(5) if isinstance(v, np.random.Generator) else v) for k, v in own.items()}
    assert _order(_loader(shuffle=True, **rebuilt)) == a
    sd.manual_seed(0)
    assert a != _order(_loader(shuffle=True))  # not the global stream's order


def test_random_samplers_follow_the_global_generator_at_iteration():
    ds = TensorDataset(np.arange(N))
    s = RandomSampler(ds)
    sub = SubsetRandomSampler(range(0, N, 2))
    sd.manual_seed(3)
    first, subfirst = list(s), list(sub)
    sd.manual_seed(3)
    assert list(s) == first and list(sub) == subfirst
    assert list(s) != first
    loader = DataLoader(ds, batch_size=8, sampler=RandomSampler(ds))
    sd.manual_seed(3)
    assert _order(loader) == first
    own = RandomSampler(ds, generator=7)
    sd.manual_seed(3)
    a = list(own)
    sd.manual_seed(3)
    assert list(RandomSampler(ds, generator=7)) == a and a != first


def test_checkpoint_resume_replays_the_shuffle_of_a_seedless_loader(tmp_path):
    """The global generator's state (saved in training checkpoints) decides the next epoch's order."""
    from shendu.backend.random import get_generator

    sd.manual_seed(0)
    a = _loader(shuffle=True)
    _order(a)
    state = get_generator().bit_generator.state
    want = _order(a)
    sd.manual_seed(99)
    b = _loader(shuffle=True)
    get_generator().bit_generator.state = state
    assert _order(b) == want
