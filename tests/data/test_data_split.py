"""random_split and KFold (checked against scikit-learn's KFold index sets)."""
import numpy as np
import pytest
from sklearn.model_selection import KFold as SkKFold

from shendu.data import KFold, TensorDataset, random_split


@pytest.mark.parametrize("n,k", [(10, 2), (11, 3), (17, 5), (5, 5)])
def test_kfold_matches_sklearn_without_shuffle(n, k):
    ours = list(KFold(k).split(n))
    ref = list(SkKFold(k).split(np.zeros((n, 1))))
    assert len(ours) == len(ref) == k
    for (tr, va), (rtr, rva) in zip(ours, ref):
        np.testing.assert_array_equal(tr, rtr)
        np.testing.assert_array_equal(va, rva)


@pytest.mark.parametrize("n,k", [(23, 4), (10, 3)])
def test_kfold_shuffled_is_partition_with_sklearn_fold_sizes(n, k):
    folds = list(KFold(k, shuffle=True, seed=0).split(n))
    ref_sizes = [len(v) for _, v in SkKFold(k, shuffle=True, random_state=0).split(np.zeros((n, 1)))]
    assert [len(v) for _, v in folds] == ref_sizes
    all_val = np.concatenate([v for _, v in folds])
    assert sorted(all_val.tolist()) == list(range(n))
    for tr, va in folds:
        assert set(tr.tolist()).isdisjoint(va.tolist()) and len(tr) + len(va) == n
    assert not np.array_equal(folds[0][1], np.arange(len(folds[0][1])))  # really shuffled
    again = list(KFold(k, shuffle=True, seed=0).split(n))
    for (a, b), (c, d) in zip(folds, again):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_kfold_errors_and_len_input():
    with pytest.raises(ValueError, match="n_splits"):
        KFold(1)
    with pytest.raises(ValueError, match="cannot split 3"):
        list(KFold(4).split(3))
    assert len(list(KFold(3).split(np.zeros(9)))) == 3 == KFold(3).get_n_splits()


def test_random_split_lengths_and_fractions():
    ds = TensorDataset(np.arange(10))
    a, b = random_split(ds, [7, 3], seed=0)
    assert len(a) == 7 and len(b) == 3
    assert sorted(np.concatenate([a.indices, b.indices]).tolist()) == list(range(10))
    c, d, e = random_split(ds, [0.5, 0.3, 0.2], seed=1)
    assert [len(c), len(d), len(e)] == [5, 3, 2]
    f, g = random_split(TensorDataset(np.arange(11)), [0.5, 0.5], seed=1)
    assert [len(f), len(g)] == [6, 5]  # remainder goes round-robin
    a2, _ = random_split(ds, [7, 3], seed=0)
    np.testing.assert_array_equal(a.indices, a2.indices)
    assert a[0] == ds[int(a.indices[0])]


def test_random_split_errors():
    ds = TensorDataset(np.arange(10))
    with pytest.raises(ValueError, match="sum to the data set length 10"):
        random_split(ds, [5, 4])
    with pytest.raises(ValueError, match="sum to 1"):
        random_split(ds, [0.5, 0.2])


def test_kfold_shuffled_same_folds_on_every_call():
    kf = KFold(3, shuffle=True)  # seed drawn once at construction
    first, second = list(kf.split(12)), list(kf.split(12))
    for (a, b), (c, d) in zip(first, second):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
