"""The row scatter-add behind every row-gather backward (embedding lookup, W[int array]) equals np.add.at,
with repeated indices, above and below the size where the host switches to a sparse product."""
import numpy as np
import pytest

import shendu as sd
from shendu.ops._arr import add_rows_at


@pytest.mark.parametrize("n, rows, tail", [(7, 5, (3,)), (3000, 200, (8,)), (500, 50, (4, 5))])
def test_add_rows_at_equals_add_at(n, rows, tail):
    rng = np.random.default_rng(n)
    idx = rng.integers(0, rows, n)
    g = rng.standard_normal((n,) + tail)
    want = np.zeros((rows,) + tail)
    np.add.at(want, idx, g)
    got = add_rows_at(np.zeros((rows,) + tail), idx, g)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_gather_rows_backward_matches_torch_on_each_device(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((300, 40))
    idx = rng.integers(0, 300, (30, 20))  # 600 rows x 40 = 24000 elements: the sparse path on the host
    w = sd.tensor(w0, requires_grad=True, device=device)
    (w[sd.tensor(idx, device=device)] ** 2).sum().backward()
    wt = torch.tensor(w0, requires_grad=True)
    (wt[torch.tensor(idx)] ** 2).sum().backward()
    np.testing.assert_allclose(w.grad.cpu().numpy(), wt.grad.numpy(), rtol=1e-12)
