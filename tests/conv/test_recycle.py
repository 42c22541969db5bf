"""Recycled host buffers of the training step (shendu.ops._recycle), the host ReLU against a zero row, and the
LeNet step's convolution gradients (issue 20): a buffer is handed out again only when nothing references it,
the ReLU matches NumPy/PyTorch for every size and layout, conv1's input gradient is not computed."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu.autograd.gradcheck import gradcheck
from shendu.ops import _recycle
from shendu.ops._recycle import recycled_empty


def test_recycled_buffer_reused_only_when_unreferenced():
    like = np.zeros(1, np.float32)
    shape = (64, 1024)  # 256 KiB: from the arena
    _recycle.clear_recycled()
    a = recycled_empty(shape, np.float32, like)
    a_ptr = a.ctypes.data
    b = recycled_empty(shape, np.float32, like)
    assert not np.shares_memory(a, b)  # a is still referenced
    view = a.reshape(-1)[10:]  # a view keeps the memory in use after its name is gone
    del a
    c = recycled_empty(shape, np.float32, like)
    assert not np.shares_memory(c, view) and not np.shares_memory(c, b)
    view[:] = 7.0
    c_ptr = c.ctypes.data
    del view, c
    d = recycled_empty((128, 1024), np.float16, like)  # another shape and dtype of the same size
    assert d.ctypes.data in (a_ptr, c_ptr)  # now free: handed out again
    assert d.shape == (128, 1024) and d.dtype == np.float16 and d.flags.c_contiguous and d.flags.writeable
    e = recycled_empty((4, 4), np.float32, like)  # small arrays are not from the arena
    assert e.shape == (4, 4) and e.base is None
    assert recycled_empty(shape, np.float64, like).dtype == np.float64
    _recycle.clear_recycled()


def test_arena_merges_freed_neighbours_and_fits_smaller_arrays():
    like = np.zeros(1, np.float32)
    _recycle.clear_recycled()
    n = 1 << 16  # 256 KiB of float32
    a, b, c = (recycled_empty((n,), np.float32, like) for _ in range(3))
    assert b.ctypes.data == a.ctypes.data + a.nbytes and c.ctypes.data == b.ctypes.data + b.nbytes
    a_ptr = a.ctypes.data
    del b
    _recycle._LOCAL.slot.arena.reclaim()  # b's range is free first, then a's joins it from before
    del a
    ab = recycled_empty((2 * n,), np.float32, like)  # the two freed ranges, merged
    assert ab.ctypes.data == a_ptr and not np.shares_memory(ab, c)
    del ab
    small = recycled_empty((n // 2,), np.float64, like)  # best fit: the freed range before c
    assert small.ctypes.data == a_ptr
    del small, c
    _recycle.clear_recycled()
    a, b, c = (recycled_empty((n,), np.float32, like) for _ in range(3))  # adjacent again, in a new region
    a_ptr = a.ctypes.data
    del a
    _recycle._LOCAL.slot.arena.reclaim()  # now a's range is free first, then b's joins it from after
    del b
    assert recycled_empty((2 * n,), np.float32, like).ctypes.data == a_ptr
    _recycle.clear_recycled()


def test_arena_never_hands_out_memory_in_use():
    """Random sizes, dtypes and lifetimes (some kept only through views, transposes or reshapes): no two arrays
    alive at once share memory, and every array keeps its values."""
    rng = np.random.default_rng(5)
    like = np.zeros(1, np.float32)
    _recycle.clear_recycled()
    alive = []  # (the array kept, the value it must hold)
    for i in range(300):
        dt = (np.float32, np.float64, np.uint8, np.float16)[rng.integers(4)]
        count = int(rng.integers(128 << 10, 3 << 20)) // np.dtype(dt).itemsize
        a = recycled_empty((count,), dt, like)
        for other, _ in alive:
            assert not np.shares_memory(a, other), i
        a[:] = i % 200
        keep = (a, a[1:], a.reshape(-1, 1).T, a[::3])[rng.integers(4)]
        alive.append((keep, i % 200))
        del a
        if len(alive) > 12 or rng.random() < 0.3:
            alive.pop(int(rng.integers(len(alive))))
        for arr, value in alive:
            assert (arr == value).all(), i
    _recycle.clear_recycled()


def test_arena_respects_its_bound_and_clear_keeps_live_arrays(monkeypatch):
    from shendu.ops._tuning import conv_settings

    like = np.zeros(1, np.float32)
    monkeypatch.setattr(conv_settings, "recycle_bytes", 1 << 20)
    _recycle.clear_recycled()
    arrays = [recycled_empty((1 << 16,), np.float32, like) for _ in range(6)]  # 6 x 256 KiB against 1 MiB
    assert _recycle.recycled_bytes() <= 1 << 20
    assert sum(a.base is None for a in arrays) == 2  # the arena holds four; two are made afresh
    for i, a in enumerate(arrays):
        a[:] = i
    _recycle.clear_recycled()
    assert _recycle.recycled_bytes(all_threads=True) == 0
    b = recycled_empty((1 << 16,), np.float32, like)
    b[:] = -1
    for i, a in enumerate(arrays):  # memory of the dropped arena stays with the arrays that use it
        assert (a == i).all()
    _recycle.clear_recycled()


def test_large_workspace_scratch_comes_from_the_arena():
    """Large host scratch (ops._workspace._ws) is not kept per tag: two live requests of one tag get separate
    memory, and once dropped the memory serves any other array."""
    from shendu.ops import _workspace

    _workspace.clear_workspace()
    s1 = _workspace._ws("t", (512, 512), np.float32)
    s2 = _workspace._ws("t", (512, 512), np.float32)
    assert not np.shares_memory(s1, s2)
    assert not any(b.nbytes >= _recycle.MIN_BYTES for b in _workspace.thread_buffers().values())
    p1 = s1.ctypes.data
    del s1
    assert recycled_empty((1 << 18,), np.float32, s2).ctypes.data == p1
    small = _workspace._ws("u", (8, 8), np.float32)  # small scratch stays cached per tag
    assert small.base is not None and any(k[0] == "u" for k in _workspace.thread_buffers())
    _workspace.clear_workspace()


def test_training_steps_keep_a_steady_arena():
    """Conv + batch norm + ReLU + max-pool training: after the first step the arena neither grows nor leaves
    arrays in use between steps (every array of a step is handed back)."""
    from shendu import nn

    sd.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
                          nn.Flatten(), nn.Linear(16 * 8 * 8, 10))
    opt = sd.optim.Adam(model.parameters(), lr=1e-3)
    x = sd.tensor(np.random.default_rng(0).standard_normal((32, 3, 16, 16)).astype(np.float32))
    y = np.arange(32) % 10
    _recycle.clear_recycled()
    sizes = []
    for _ in range(4):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        del loss
        arena = _recycle._LOCAL.slot.arena
        arena.reclaim()
        if type(x._data) is np.ndarray:
            assert not arena.live  # nothing of the step is still in use
        sizes.append(_recycle.recycled_bytes())
    assert sizes[1:] == sizes[:1] * 3
    assert (sizes[0] > 0) == (type(x._data) is np.ndarray)  # device arrays do not use the arena


def test_recycled_outputs_are_not_shared_between_live_tensors():
    """Two convolution outputs alive at once never share memory, and an output kept by the user keeps its
    values through later steps."""
    rng = np.random.default_rng(0)
    x = sd.tensor(rng.standard_normal((64, 6, 14, 14)).astype(np.float32))
    w = sd.tensor(rng.standard_normal((16, 6, 5, 5)).astype(np.float32))
    y1 = F.conv2d(x, w)
    kept = y1.numpy().copy()
    y2 = F.conv2d(x * 2, w)
    np.testing.assert_allclose(y2.numpy(), 2 * kept, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(y1.numpy(), kept)
    del y2
    y3 = F.conv2d(x * 3, w)
    np.testing.assert_array_equal(y1.numpy(), kept)
    np.testing.assert_allclose(y3.numpy(), 3 * kept, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("shape", [(3, 5), (64, 6, 28, 28), (5, 1031), (4097,)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_forward_backward_match_torch(shape, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(dtype)
    x.reshape(-1)[:3] = 0.0  # the derivative at 0 is 0 (as PyTorch)
    g = rng.standard_normal(shape).astype(dtype)
    xt = sd.tensor(x, requires_grad=True)
    y = F.relu(xt)
    y.backward(sd.tensor(g))
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.relu(tx)
    ty.backward(torch.tensor(g))
    assert y.numpy().dtype == dtype and xt.grad.numpy().dtype == dtype
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(xt.grad.numpy(), tx.grad.numpy())


def test_relu_non_contiguous_and_nan():
    x = np.arange(-6000, 6000, dtype=np.float32).reshape(120, 100)
    x[5, 7] = np.nan
    y = F.relu(sd.tensor(x.T)).numpy()  # a transposed (non-contiguous) input
    np.testing.assert_array_equal(y, np.maximum(x.T, 0))
    big = np.full(8192, -1.0, np.float32)
    big[4100] = np.nan
    assert np.isnan(F.relu(sd.tensor(big)).numpy()[4100])


def test_relu_gradcheck_float64():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((9, 600))
    x[np.abs(x) < 1e-3] = 0.5  # away from the kink
    assert gradcheck(F.relu, [sd.tensor(x, requires_grad=True)])


def test_lenet_conv1_input_gradient_not_computed(monkeypatch):
    """The first convolution's input needs no gradient: only conv2's input gradient runs in a LeNet step."""
    from shendu import models
    from shendu.ops._conv import dispatch

    calls = []
    for route, fn in list(dispatch.INPUT_GRAD.items()):
        def counted(w, gy, x_shape, p, _fn=fn):
            calls.append(tuple(x_shape))
            return _fn(w, gy, x_shape, p)
        monkeypatch.setitem(dispatch.INPUT_GRAD, route, counted)
    sd.manual_seed(0)
    model = models.LeNet5()
    x = sd.tensor(np.random.default_rng(3).standard_normal((8, 1, 28, 28)).astype(np.float32))
    F.cross_entropy(model(x), np.arange(8) % 10).backward()
    assert calls == [(8, 6, 14, 14)]
    assert all(p.grad is not None for p in model.parameters())


def test_arena_raises_glibcs_mmap_threshold_once():
    """glibc (Linux) only, in a fresh interpreter: a 1 MiB array is mmapped at first; after the arena's first
    array, a 20 MiB array made outside the arena comes from glibc's heap, not a fresh mmap (which would be faulted
    in page by page every step)."""
    import ctypes
    import subprocess
    import sys

    try:
        ctypes.CDLL(None).mallinfo2  # noqa: B018
    except (OSError, AttributeError):
        pytest.skip("not glibc >= 2.33")
    code = """if True:
        import ctypes, numpy as np
        from shendu.ops._recycle import recycled_empty
        class MI(ctypes.Structure):
            _fields_ = [(n, ctypes.c_size_t) for n in
                        ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
                         "fordblks", "keepcost")]
        libc = ctypes.CDLL(None)
        libc.mallinfo2.restype = MI
        def mmapped_for(n):
            before = libc.mallinfo2().hblkhd
            a = np.empty(n, np.uint8)
            return libc.mallinfo2().hblkhd - before >= n
        first = mmapped_for(1 << 20)  # (glibc's threshold then rises to 1 MiB, by its own rule)
        keep = recycled_empty((1 << 18,), np.float32, np.zeros(1, np.float32))
        print(first, mmapped_for(20 << 20))
    """
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False"]
