"""Each first-order optimizer trains a small nn.Linear network on XOR (Textbook 6.1) to zero error."""
import numpy as np
import pytest

import shendu as sd
from shendu import nn, optim

MAKERS = {
    "sgd-momentum": lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
    "sgd-nesterov": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "adagrad": lambda p: optim.Adagrad(p, lr=0.1),
    "rmsprop": lambda p: optim.RMSprop(p, lr=0.01),
    "rmsprop-nesterov": lambda p: optim.RMSprop(p, lr=0.003, momentum=0.9, nesterov=True),
    "adam": lambda p: optim.Adam(p, lr=0.02),
    "adamw": lambda p: optim.AdamW(p, lr=0.02),
    "nadam": lambda p: optim.NAdam(p, lr=0.02),
    "adadelta": lambda p: optim.Adadelta(p, lr=1.0),
}


@pytest.mark.parametrize("name", list(MAKERS))
def test_xor_is_learned(name):
    sd.manual_seed(1)
    x = sd.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = sd.tensor([[0.0], [1.0], [1.0], [0.0]])
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = MAKERS[name](model.parameters())
    sched = optim.lr_scheduler.StepLR(opt, step_size=300, gamma=0.5)
    for _ in range(600):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        sched.step()
    pred = model(x).numpy()
    assert float(loss) < 0.02, float(loss)
    np.testing.assert_array_equal(pred > 0.5, y.numpy() > 0.5)
