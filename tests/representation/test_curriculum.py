"""Curriculum learning sampler (textbook 8.7.6): admitted fraction grows per epoch, easiest first, DataLoader use,
stochastic curriculum (Zaremba & Sutskever) with a rising share of hard examples."""
import numpy as np
import pytest

import shendu as sd
from shendu.data import DataLoader, TensorDataset
from shendu.data.curriculum import CurriculumSampler, linear_schedule


def test_admitted_fraction_grows_and_holds_the_easiest_examples():
    diff = np.random.default_rng(0).permutation(100).astype(float)  # example i has difficulty diff[i]
    s = CurriculumSampler(diff, linear_schedule(0.2, 4), generator=0)
    sizes = []
    for epoch in range(6):
        assert len(s) == [20, 40, 60, 80, 100, 100][epoch]
        idx = list(s)
        sizes.append(len(idx))
        assert len(set(idx)) == len(idx)  # a permutation of the admitted set
        assert diff[idx].max() == len(idx) - 1  # exactly the easiest ones
    assert sizes == [20, 40, 60, 80, 100, 100]
    s.set_epoch(0)
    a, b = list(s), list(s)
    assert sorted(a) == sorted(np.argsort(diff)[:20].tolist()) and len(b) == 40


def test_with_dataloader_each_epoch_sees_the_growing_easy_subset():
    x = np.arange(60, dtype=np.float32)[:, None]
    diff = np.abs(x[:, 0] - 30)  # easy: close to 30
    ds = TensorDataset(x, x[:, 0].astype(np.int64))
    loader = DataLoader(
        ds, batch_size=8, sampler=CurriculumSampler(diff, lambda e: min(1.0, 0.25 * (e + 1)), generator=1)
    )
    seen = []
    for _ in range(4):
        assert len(loader) == -(-len(loader.sampler) // 8)
        vals = np.concatenate([b[0].numpy()[:, 0] for b in loader])
        seen.append(vals)
    assert [len(v) for v in seen] == [15, 30, 45, 60]
    assert np.abs(seen[0] - 30).max() <= 7 and sorted(seen[3].tolist()) == list(range(60))


def test_stochastic_curriculum_mixes_in_hard_examples_at_a_rising_rate():
    n = 4000
    diff = np.arange(n, dtype=float)
    hard = lambda idx: (np.asarray(idx) >= n // 2).mean()  # noqa: E731
    s = CurriculumSampler(diff, linear_schedule(0.1, 4), mix=0.2, generator=0)
    shares = [hard(list(s)) for _ in range(5)]
    assert shares[0] == pytest.approx(0.1, abs=0.03)  # 20 % drawn uniformly, half of them hard
    assert all(a < b + 0.02 for a, b in zip(shares, shares[1:])) and shares[-1] == pytest.approx(0.5, abs=0.03)
    plain = CurriculumSampler(diff, linear_schedule(0.1, 4), generator=0)
    assert hard(list(plain)) == 0.0


def test_bad_arguments_name_the_sampler():
    with pytest.raises(ValueError, match="CurriculumSampler: difficulty"):
        CurriculumSampler(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"schedule\(0\) = 0.0"):
        len(CurriculumSampler(np.arange(5.0), lambda e: 0.0))
    with pytest.raises(ValueError, match="mix"):
        CurriculumSampler(np.arange(5.0), mix=2)
    assert len(CurriculumSampler(sd.tensor(np.arange(8.0)), lambda e: 0.01)) == 1


def test_curriculum_weights_weight_the_easy_examples_in_the_cost():
    from shendu.data.curriculum import curriculum_weights
    from shendu.nn.functional import cross_entropy

    diff = np.array([3.0, 0.0, 2.0, 1.0, 5.0, 4.0])
    np.testing.assert_array_equal(curriculum_weights(diff, 0.5, 0.1), np.float32([0.1, 1, 1, 1, 0.1, 0.1]))
    s = CurriculumSampler(diff, linear_schedule(1 / 3, 2))
    w0, w2 = s.example_weights(0), s.example_weights(2)
    assert w0.tolist() == [0, 1, 0, 1, 0, 0] and w2.tolist() == [1] * 6
    logits, y = sd.randn(6, 3), sd.tensor(np.array([0, 1, 2, 0, 1, 2]))
    per = cross_entropy(logits, y, reduction="none")
    weighted = (per * sd.tensor(w0)).sum() / float(w0.sum())
    assert weighted.item() == pytest.approx(per.numpy()[[1, 3]].mean(), rel=1e-6)  # J^(0) sees only the easy ones
    with pytest.raises(ValueError, match="curriculum_weights"):
        curriculum_weights(diff, 0.0)
