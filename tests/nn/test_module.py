"""Module, Parameter and containers: registration, traversal, modes, state dicts, dtype, repr (issue 3)."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.bn = nn.BatchNorm1d(8)
        self.drop = nn.Dropout(0.5)
        self.heads = nn.ModuleList([nn.Linear(8, 2), nn.Linear(8, 3)])
        self.extra = nn.ModuleDict({"scale": nn.Lambda(lambda x, s: x * s, weights=[np.ones(2, np.float32)])})
        self.temperature = nn.Parameter(np.array(1.0, np.float32))

    def forward(self, x, head=0, scale=False):
        h = self.drop(F.relu(self.bn(self.fc1(x))))
        y = self.heads[head](h) / self.temperature
        return self.extra["scale"](y) if scale else y


def test_parameters_children_modules():
    m = Net()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["temperature", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "heads.0.weight", "heads.0.bias",
                     "heads.1.weight", "heads.1.bias", "extra.scale.weight0"]
    assert [n for n, _ in m.named_children()] == ["fc1", "bn", "drop", "heads", "extra"]
    assert len(list(m.modules())) == 9
    assert m.num_parameters() == 4 * 8 + 8 + 16 + 8 * 2 + 2 + 8 * 3 + 3 + 2 + 1


def test_call_forwards_keyword_arguments():
    m = Net().eval()
    x = sd.randn(5, 4)
    assert m(x).shape == (5, 2)
    assert m(x, head=1).shape == (5, 3)
    np.testing.assert_allclose(m(x, scale=True).numpy(), m(x).numpy())


def test_train_eval_propagates_and_changes_behaviour():
    m = Net()
    x = sd.randn(16, 4)
    assert all(s.training for s in m.modules())
    m.eval()
    assert not any(s.training for s in m.modules())
    np.testing.assert_array_equal(m(x).numpy(), m(x).numpy())  # deterministic in eval
    m.train()
    assert m.drop.training and m.bn.training
    assert not np.array_equal(m(x).numpy(), m(x).numpy())  # dropout active


def test_zero_grad_and_apply():
    m = Net()
    m(sd.randn(6, 4)).sum().backward()
    assert m.fc1.weight.grad is not None
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen[-1] == "Net" and "Linear" in seen
    m.apply(lambda mod: nn.init.zeros_(mod.weight) if isinstance(mod, nn.Linear) else None)
    assert (m.heads[1].weight.numpy() == 0).all()


def test_state_dict_roundtrip_and_strict_errors():
    a, b = Net(), Net()
    a(sd.randn(8, 4))  # updates BN running stats
    sdict = a.state_dict()
    assert "bn.running_mean" in sdict and "bn.num_batches_tracked" in sdict
    b.load_state_dict(sdict)
    for k, v in b.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), sdict[k].numpy())
    a.eval(), b.eval()
    x = sd.randn(3, 4)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    broken = dict(sdict)
    del broken["fc1.bias"]
    broken["nope"] = sd.zeros(1)
    with pytest.raises(KeyError, match=r"missing keys: \['fc1.bias'\].*unexpected keys: \['nope'\]"):
        b.load_state_dict(broken)
    missing, unexpected = b.load_state_dict(broken, strict=False)
    assert missing == ["fc1.bias"] and unexpected == ["nope"]
    bad = dict(sdict)
    bad["fc1.weight"] = sd.zeros(3, 3)
    with pytest.raises(ValueError, match=r"fc1.weight.*\(3, 3\).*\(8, 4\)"):
        b.load_state_dict(bad)


def test_state_dict_loads_into_torch_model():
    torch = pytest.importorskip("torch")
    m = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    t = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    m(sd.randn(10, 4))
    t.load_state_dict({k: torch.tensor(np.asarray(v.numpy())) for k, v in m.state_dict().items()})
    m.eval(), t.eval()
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(m(sd.tensor(x)).numpy(), t(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_to_dtype():
    m = Net().to(sd.float64)
    assert all(p.dtype == sd.float64 for p in m.parameters())
    assert m.bn.running_var.dtype == sd.float64 and m.bn.num_batches_tracked.dtype == sd.int64
    assert m(sd.randn(4, 4).double()).dtype == sd.float64
    m.float()
    assert m.fc1.weight.dtype == sd.float32


def test_repr_is_readable():
    r = repr(Net())
    assert "(fc1): Linear(in_features=4, out_features=8, bias=True)" in r
    assert "(bn): BatchNorm1d(8, eps=1e-05, momentum=0.1" in r
    assert "(drop): Dropout(p=0.5)" in r
    assert "(0): Linear(in_features=8, out_features=2, bias=True)" in r


def test_sequential_indexing_and_append():
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    s.append(nn.Linear(3, 1))
    assert len(s) == 3 and isinstance(s[-1], nn.Linear) and len(s[:2]) == 2
    assert s(sd.randn(4, 2)).shape == (4, 1)
