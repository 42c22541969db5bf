"""optim.SGD / Adagrad / RMSprop / Adam / AdamW steps against shendu.reference (Algorithms 8.1-8.7) in float64
on a quadratic, and the references against the textbook's worked vectors (notes W8)."""
import numpy as np
import pytest

import shendu as sd
from shendu import optim
from shendu.reference import adagrad as RA
from shendu.reference import adam as RM
from shendu.reference import rmsprop as RR
from shendu.reference import sgd as RS

A = np.array([1.0, 3.0, 0.5, 2.0, 0.1, 5.0])
C = np.array([0.3, -1.0, 2.0, 0.0, 1.5, -0.2])
THETA0 = np.array([1.0, -2.0, 0.5, 3.0, -1.0, 0.25])


def grad(theta):
    """Gradient of J(theta) = 1/2 sum(A theta^2) + sum(C theta)."""
    return A * theta + C


def _trajectory(make_opt, steps=6):
    p = sd.nn.Parameter(sd.tensor(THETA0.copy()))
    opt = make_opt([p])
    out = []
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * (sd.tensor(A) * p * p).sum() + (sd.tensor(C) * p).sum()).backward()
        opt.step()
        out.append(p.numpy().copy())
    return np.array(out)


def _reference(step, steps=6):
    theta, state, out = THETA0.copy(), {}, []
    for _ in range(steps):
        theta = step(theta, state)
        out.append(theta.copy())
    return np.array(out)


CASES = {
    "sgd": (lambda ps: optim.SGD(ps, lr=0.1), lambda th, st: RS.sgd_step(th, grad(th), 0.1)),
    "momentum": (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
                 lambda th, st: RS.momentum_step(th, grad(th), st, 0.1, 0.9)),
    "momentum-textbook": (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, momentum_form="textbook"),
                          lambda th, st: RS.momentum_step(th, grad(th), st, 0.1, 0.9)),
    "momentum-damp-wd": (lambda ps: optim.SGD(ps, lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1),
                         lambda th, st: RS.pytorch_sgd_step(th, grad(th), st, 0.05, 0.8, 0.3, 0.1)),
    "nesterov": (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
                 lambda th, st: RS.pytorch_sgd_step(th, grad(th), st, 0.1, 0.9, 0.0, 0.01, nesterov=True)),
    "adagrad": (lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.01, weight_decay=0.02, eps=1e-10),
                lambda th, st: RA.adagrad_step(th, grad(th), st, 0.1, 1e-10, 0.01, 0.02)),
    "rmsprop-8.5": (lambda ps: optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-6, eps_inside_sqrt=True),
                    lambda th, st: RR.rmsprop_step(th, grad(th), st, 0.01, 0.9, 1e-6)),
    "rmsprop-torch": (lambda ps: optim.RMSprop(ps, lr=0.01, alpha=0.95, momentum=0.5, centered=True,
                                               weight_decay=0.1),
                      lambda th, st: RR.pytorch_rmsprop_step(th, grad(th), st, 0.01, 0.95, 1e-8, 0.1, 0.5, True)),
    "adam": (lambda ps: optim.Adam(ps, lr=0.05), lambda th, st: RM.adam_step(th, grad(th), st, 0.05)),
    "adam-wd-amsgrad": (lambda ps: optim.Adam(ps, lr=0.05, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True),
                        lambda th, st: RM.adam_step(th, grad(th), st, 0.05, 0.8, 0.99, 1e-8, 0.1, amsgrad=True)),
    "adamw": (lambda ps: optim.AdamW(ps, lr=0.05, weight_decay=0.1),
              lambda th, st: RM.adam_step(th, grad(th), st, 0.05, weight_decay=0.1, decoupled=True)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_optimizer_steps_match_reference(name):
    make_opt, step = CASES[name]
    np.testing.assert_allclose(_trajectory(make_opt), _reference(step), rtol=1e-12, atol=1e-13)


def test_sgd_textbook_nesterov_matches_algorithm_8_3():
    p = sd.nn.Parameter(sd.tensor(THETA0.copy()))
    opt = optim.SGD([p], lr=0.1, momentum=0.9, nesterov="textbook")

    def closure():
        opt.zero_grad()
        loss = 0.5 * (sd.tensor(A) * p * p).sum() + (sd.tensor(C) * p).sum()
        loss.backward()
        return loss

    got = []
    for _ in range(5):
        opt.step(closure)
        got.append(p.numpy().copy())
    want = _reference(lambda th, st: RS.nesterov_step(th, grad, st, 0.1, 0.9), 5)
    np.testing.assert_allclose(np.array(got), want, rtol=1e-12, atol=1e-13)


def test_pytorch_momentum_is_algorithm_8_2_at_constant_lr():
    a = _reference(lambda th, st: RS.momentum_step(th, grad(th), st, 0.1, 0.9))
    b = _reference(lambda th, st: RS.pytorch_sgd_step(th, grad(th), st, 0.1, 0.9))
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


def _worked(step, steps):
    theta, state, out = np.array([1.0, -2.0]), {}, []
    for _ in range(steps):
        theta = step(theta, state)
        out.append(theta)
    return out


def test_textbook_worked_vectors():
    """Notes W8 (J = 1/2 |theta|^2, theta0 = [1, -2]) for Algorithms 8.2-8.7."""
    g = lambda th: th  # noqa: E731
    m = _worked(lambda th, st: RS.momentum_step(th, g(th), st, 0.1, 0.9), 2)
    np.testing.assert_allclose(m, [[0.9, -1.8], [0.72, -1.44]], rtol=1e-12)
    n = _worked(lambda th, st: RS.nesterov_step(th, g, st, 0.1, 0.9), 2)
    np.testing.assert_allclose(n[1], [0.729, -1.458], rtol=1e-12)
    a = _worked(lambda th, st: RA.adagrad_step(th, g(th), st, 0.1, 1e-7), 2)
    np.testing.assert_allclose(a, [[0.90000001, -1.9], [0.83310354, -1.83112506]], rtol=1e-7)
    r = _worked(lambda th, st: RR.rmsprop_step(th, g(th), st, 0.01, 0.9, 1e-6), 2)
    np.testing.assert_allclose(r, [[0.96837738, -1.96837726], [0.94578824, -1.94560969]], rtol=1e-7)
    rn = _worked(lambda th, st: RR.rmsprop_nesterov_step(th, g, st, 0.01, 0.9, 0.9), 2)
    np.testing.assert_allclose(rn, [[0.96837722, -1.96837722], [0.91766008, -1.91730949]], rtol=1e-7)
    ad = _worked(lambda th, st: RM.adam_step(th, g(th), st), 3)
    np.testing.assert_allclose(ad, [[0.999, -1.999], [0.99800003, -1.99800001], [0.9970001, -1.99700005]], rtol=1e-7)
