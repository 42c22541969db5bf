"""Parts of shendu.distributed that run in one process: the post-accumulate-grad hook DDP's buckets use,
DistributedSampler with explicit ranks, Hogwild on shared memory (forked processes), the mpiexec launcher."""
import numpy as np
import pytest

import shendu as sd
from shendu.utils.data import DistributedSampler


def _mlp(seed=0):
    sd.manual_seed(seed)
    return sd.nn.Sequential(sd.nn.Linear(4, 6), sd.nn.Tanh(), sd.nn.Linear(6, 3))


def test_post_accumulate_grad_hook_fires_during_backward():
    """A leaf's hook runs as soon as its gradient is complete: the last layer's hooks run while the first
    layer has no gradient yet (so DDP's bucket all-reduce overlaps the rest of backward)."""
    m, ref = _mlp(), _mlp()
    x = sd.tensor(np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32))
    seen = []

    def hook(p):
        seen.append((p is m[2].weight, m[0].weight.grad is None, p.grad is not None))

    handles = [
        m[2].weight.register_post_accumulate_grad_hook(hook),
        m[0].weight.register_post_accumulate_grad_hook(hook),
    ]
    (m(x) ** 2).sum().backward()
    (ref(x) ** 2).sum().backward()
    assert seen == [(True, True, True), (False, False, True)]
    for p, q in zip(m.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6)
    for h in handles:
        h.remove()
    seen.clear()
    (m(x) ** 2).sum().backward()
    assert seen == []
    with pytest.raises(RuntimeError, match="only a leaf"):
        (m[0].weight * 2).register_post_accumulate_grad_hook(hook)


def test_post_accumulate_hook_with_a_parameter_used_twice():
    w = sd.tensor(np.ones((3, 3), np.float32), requires_grad=True)
    got = []
    w.register_post_accumulate_grad_hook(lambda p: got.append(p.grad.numpy().copy()))
    x = sd.tensor(np.arange(3, dtype=np.float32))
    ((x @ w).sum() + (w * 2).sum()).backward()
    assert len(got) == 1
    np.testing.assert_allclose(got[0], np.arange(3, dtype=np.float32)[:, None] + 2 + np.zeros((3, 3)))
    (w * 3).sum().backward(inputs=[w])  # a pass restricted to some leaves runs the hook too (accumulated total)
    assert len(got) == 2
    np.testing.assert_allclose(got[1], got[0] + 3)
    sd.autograd.grad((w * 3).sum(), [w])  # autograd.grad accumulates nothing: no hook
    assert len(got) == 2


@pytest.mark.parametrize("n,drop", [(10, False), (11, False), (11, True)])
def test_distributed_sampler_covers_each_example_once(n, drop):
    shards = [DistributedSampler(list(range(n)), num_replicas=3, rank=r, seed=4, drop_last=drop) for r in range(3)]
    for s in shards:
        s.set_epoch(1)
    idx = [i for s in shards for i in s]
    assert all(len(list(s)) == len(s) for s in shards)
    if drop:
        assert len(idx) == 9 and len(set(idx)) == 9
    else:
        assert len(idx) == 12 and set(idx) == set(range(n))
        assert len(idx) - len(set(idx)) == 12 - n  # the padding repeats 12 - n examples
    order1 = [i for s in shards for i in s]
    for s in shards:
        s.set_epoch(2)
    assert [i for s in shards for i in s] != order1
    with pytest.raises(ValueError, match="DistributedSampler"):
        DistributedSampler(list(range(4)), num_replicas=2, rank=2)


def test_distributed_sampler_without_shuffle_is_strided():
    s = DistributedSampler(list(range(7)), num_replicas=2, rank=1, shuffle=False)
    assert list(s) == [1, 3, 5, 0]  # padded with the start: 0..6, 0


def test_hogwild_reaches_the_single_process_loss_on_digits():
    """Two processes updating shared-memory parameters without locks reach the single-process SGD loss
    (same epochs, lr and batch size) within 0.15 (stated tolerance)."""
    from shendu.data.datasets.digits import load_digits
    from shendu.distributed import hogwild

    (x, y), _ = load_digits()
    x = x[:800]
    y = y[:800]
    lossf = sd.nn.functional.cross_entropy

    def mlp():
        sd.manual_seed(1)
        return sd.nn.Sequential(sd.nn.Linear(64, 32), sd.nn.Tanh(), sd.nn.Linear(32, 10)).to("cpu")

    def loss_of(m):
        with sd.no_grad():
            return float(lossf(m(sd.tensor(x, device="cpu")), sd.tensor(y, device="cpu")).numpy())

    sd.manual_seed(1)
    m = sd.nn.Sequential(sd.nn.Linear(64, 32), sd.nn.Tanh(), sd.nn.Linear(32, 10))  # on the default device
    dev = m[0].weight.device
    w0 = m[0].weight.numpy().copy()
    np.testing.assert_array_equal(w0, mlp()[0].weight.numpy())
    st = hogwild(m, x, y, "cross_entropy", num_processes=2, epochs=4, batch_size=32, lr=0.1, timeout=120)
    assert st["steps"] == [4 * 13, 4 * 13]  # 400 examples each, 13 batches of <= 32
    assert m[0].weight.device == dev  # trained in shared host memory, handed back on its device
    assert not np.allclose(m[0].weight.numpy(), w0)
    m = m.to("cpu")
    base = mlp()
    opt = sd.optim.SGD(base.parameters(), lr=0.1)
    g = np.random.default_rng(0)
    for _ in range(4):
        order = g.permutation(len(x))
        for s in range(0, len(x), 32):
            b = order[s:s + 32]
            opt.zero_grad()
            lossf(base(sd.tensor(x[b], device="cpu")), sd.tensor(y[b], device="cpu")).backward()
            opt.step()
    l_h, l_1 = loss_of(m), loss_of(base)
    assert l_h < loss_of(mlp()) * 0.6
    print(f"hogwild loss {l_h:.4f}, one process {l_1:.4f}")
    assert l_h < l_1 + 0.15, (l_h, l_1)


def test_launcher_command_and_errors():
    from shendu.distributed.launch import find_mpiexec, mpiexec_command

    if find_mpiexec() is None:
        pytest.skip("no mpiexec")
    cmd = mpiexec_command(3, ["train.py", "--x"], hosts="a,b")
    assert cmd[1:5] == ["-n", "3", "-hosts", "a,b"] and cmd[-2:] == ["train.py", "--x"]
    with pytest.raises(ValueError, match="-n must be a positive"):
        mpiexec_command(0, ["x.py"])


def test_collectives_need_an_initialized_group():
    import shendu.distributed as dist

    if dist.is_initialized():
        pytest.skip("a process group is already initialized in this process")
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.get_rank()
    with pytest.raises(ValueError, match="backend must be"):
        dist.init_process_group("gloo")
