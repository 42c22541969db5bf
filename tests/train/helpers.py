"""Small self-contained model, loss and optimizer so the training tests do not depend on nn/optim details."""
import numpy as np

import shendu as sd
from shendu.backend import device_of, to_device
from shendu.nn import Module, Parameter


def cross_entropy(logits, target):
    """Mean -log softmax(logits)[target]; logits (N, K), target (N,) int."""
    logp = sd.log_softmax(logits, dim=1)
    return -logp.gather(1, target.reshape(-1, 1)).mean()


def mse(out, target):
    return ((out - target) ** 2).mean()


class MLP(Module):
    """x (N, d_in) -> relu(x W1 + b1) W2 + b2 (N, d_out); weights from sd's global generator."""

    def __init__(self, d_in, d_hidden, d_out):
        super().__init__()
        g = sd.backend.get_generator()
        self.w1 = Parameter(sd.tensor(g.normal(0, 1 / np.sqrt(d_in), (d_in, d_hidden)).astype(np.float32)))
        self.b1 = Parameter(sd.zeros(d_hidden))
        self.w2 = Parameter(sd.tensor(g.normal(0, 1 / np.sqrt(d_hidden), (d_hidden, d_out)).astype(np.float32)))
        self.b2 = Parameter(sd.zeros(d_out))

    def forward(self, x):
        return sd.relu(x @ self.w1 + self.b1) @ self.w2 + self.b2


class SGD:
    """Momentum SGD with a PyTorch-like interface (param_groups, zero_grad, state_dict)."""

    def __init__(self, params, lr=0.1, momentum=0.9):
        self.params = list(params)
        self.param_groups = [{"lr": lr, "momentum": momentum}]
        self.state = {}

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        g = self.param_groups[0]
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            buf = self.state.get(i)
            buf = p.grad._data.copy() if buf is None else g["momentum"] * buf + p.grad._data
            self.state[i] = buf
            p._data = p._data - np.float32(g["lr"]) * buf

    def state_dict(self):
        return {"state": {i: b for i, b in self.state.items()}, "param_groups": [dict(g) for g in self.param_groups]}

    def load_state_dict(self, sdict):
        self.state = {int(i): to_device(np.array(b), device_of(self.params[int(i)]._data))
                      for i, b in sdict["state"].items()}
        self.param_groups = [dict(g) for g in sdict["param_groups"]]


def digits():
    from shendu.data.datasets import load_digits

    return load_digits()
