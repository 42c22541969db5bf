"""gradcheck modes (textbook 11.5-11.9): forward and centered differences, complex step, random projections."""
import math

import numpy as np
import pytest

import shendu as sd
from shendu.autograd import GradcheckError
from shendu.autograd.function import Function
from shendu.autograd.gradcheck import derivative, gradcheck, gradcheck_random_projection, numerical_grad


def cube(x):
    return x ** 3


def test_x_cubed_at_2_book_vector_scalar_formulas():
    # notes part B6: f(x)=x^3 at 2, eps=1e-3: forward 12.006001, centered (+-eps/2) 12.00000025, complex step 12
    assert derivative(cube, 2.0, 1e-3, "forward") == pytest.approx(12.006001, abs=1e-9)
    assert derivative(cube, 2.0, 1e-3, "central") == pytest.approx(12.00000025, abs=1e-9)
    assert derivative(cube, 2.0, 1e-150, "complex") == 12.0
    assert derivative(np.sin, 1.0, 1e-150, "complex") == math.cos(1.0) == 0.5403023058681398


def test_x_cubed_at_2_through_shendu_ops():
    x = sd.tensor(np.array([2.0]), requires_grad=True)
    f = lambda t: (t ** 3).sum()  # noqa: E731
    assert numerical_grad(f, x, 1e-3, mode="forward")[0] == pytest.approx(12.006001, abs=1e-8)
    assert numerical_grad(f, x, 5e-4, mode="central")[0] == pytest.approx(12.00000025, abs=1e-8)  # book eps = 2 eps
    assert numerical_grad(f, x, 1e-150, mode="complex")[0] == 12.0
    assert x.dtype == np.float64 and x.numpy()[0] == 2.0  # the input is restored after the complex step


@pytest.mark.parametrize("mode,rtol", [("central", 1e-3), ("forward", 1e-3), ("complex", 1e-9)])
def test_modes_pass_on_correct_ops(mode, rtol):
    rng = np.random.default_rng(0)
    a = sd.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = sd.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    assert gradcheck(lambda u, v: sd.tanh(u @ v) * sd.exp(u.sum()), [a, b], mode=mode, rtol=rtol, atol=1e-6)


class WrongSquare(Function):
    def forward(self, x):
        return x * x

    def backward(self, gy):
        return gy * self.inputs[0] * 3  # should be 2x


@pytest.mark.parametrize("mode", ["central", "forward", "complex"])
def test_modes_catch_a_wrong_backward(mode):
    x = sd.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(GradcheckError, match=f"mode {mode}"):
        gradcheck(lambda t: WrongSquare.apply(t), [x], mode=mode)


def test_complex_step_needs_no_cancellation():
    # eps = 1e-150 would give 0/garbage with differences; the complex step is exact to rounding
    x = sd.tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)
    g = numerical_grad(lambda t: sd.sin(t).sum(), x, 1e-150, mode="complex")
    np.testing.assert_allclose(g, np.cos([0.3, -1.2, 2.0]), rtol=1e-15, atol=0)
    assert gradcheck(lambda t: sd.sin(t) * t, [x], eps=1e-150, mode="complex", rtol=1e-12, atol=1e-14)


def test_bad_mode_is_rejected():
    x = sd.tensor(np.array([1.0]), requires_grad=True)
    with pytest.raises(ValueError, match="gradcheck: mode must be one of"):
        gradcheck(lambda t: t * 2, [x], mode="backward")


def test_random_projection_cost_is_independent_of_input_size_and_catches_errors():
    calls = {"n": 0}

    def fn(t):
        calls["n"] += 1
        return sd.tanh(t) * t

    x = sd.tensor(np.random.default_rng(1).standard_normal(500), requires_grad=True)
    assert gradcheck_random_projection(fn, [x], n_directions=3)
    assert calls["n"] == 3 * 4  # per direction: projection set-up, analytic pass, two perturbed evaluations
    y = sd.tensor(np.random.default_rng(2).standard_normal(500), requires_grad=True)
    with pytest.raises(GradcheckError, match="directional derivative mismatch"):
        gradcheck_random_projection(lambda t: WrongSquare.apply(t), [y], n_directions=2)
